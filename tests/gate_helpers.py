"""Helpers the gate suites share: their cases as test parameters, with the shipped model's known
misses and false alarms marked as strict xfails, so the lists only shrink."""

from __future__ import annotations

import pytest


def known_cases(cases: list[dict], known: set[str], reason: str) -> list:
    """`cases` as parameters named by their `name`; those in `known` fail loudly once they pass."""
    assert known <= {c["name"] for c in cases}, known - {c["name"] for c in cases}
    return [pytest.param(c, id=c["name"], marks=pytest.mark.xfail(strict=True, reason=reason))
            if c["name"] in known else pytest.param(c, id=c["name"]) for c in cases]
