"""Reading JSONL lines in bounded memory (`cbm.jsonl`): each non-blank line with its number and
size, and a line over the limit reported by its size without being held in memory."""

from __future__ import annotations

import io

from cbm.jsonl import read_lines


def test_blank_lines_are_skipped_and_numbers_count_every_line():
    data = b'{"a": 1}\n\n   \n{"b": 2}\r\n{"c": 3}'
    assert list(read_lines(io.BytesIO(data), limit=100)) == [
        (1, b'{"a": 1}\n', 9), (4, b'{"b": 2}\r\n', 10), (5, b'{"c": 3}', 8)]


def test_a_line_over_the_limit_is_none_with_its_whole_size_and_the_next_line_is_read():
    long = b"x" * 5000 + b"\n"
    data = b"short\n" + long + b"after\n"
    assert list(read_lines(io.BytesIO(data), limit=100)) == [(1, b"short\n", 6), (2, None, 5001), (3, b"after\n", 6)]


def test_a_line_exactly_at_the_limit_is_kept():
    assert list(read_lines(io.BytesIO(b"abcd\n"), limit=5)) == [(1, b"abcd\n", 5)]
    assert list(read_lines(io.BytesIO(b"abcdef\n"), limit=5)) == [(1, None, 7)]
