"""The native format (`cbm.formats.native`): what is written reads back as an equal trajectory."""

from __future__ import annotations

import pytest
from formats_helpers import openai_record, read, reread, roundtrip_records

from cbm.formats import ReadOptions

RECORDS = range(len(roundtrip_records()))


@pytest.mark.parametrize("index", RECORDS)
def test_native_round_trip_gives_an_equal_trajectory(index):
    original = read(roundtrip_records()[index])
    again = reread(original, "native")
    assert again == original
    assert reread(again, "native") == original


def test_native_round_trip_keeps_truncation():
    original = read(openai_record(), options=ReadOptions(max_text_chars=5))
    assert reread(original, "native") == original
    assert all(len(s.text) <= 5 for s in original.steps)
