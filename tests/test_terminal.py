"""Untrusted text on a terminal (`cbm.terminal`): escapes shown instead of run, cuts that never
let a raw control byte through, colour only on a real terminal, and facts as an aligned table."""

from __future__ import annotations

from cbm.facts import Fact
from cbm.terminal import FACT_COLUMNS, Style, clip, fact_lines, inert


def test_inert_shows_every_character_that_could_drive_a_terminal():
    assert inert("rm -rf /tmp/x") == "rm -rf /tmp/x"
    assert inert("a\x1b[2Jb\r\nc\u202ed\u200be\x07") == "a\\x1b[2Jb\\r\\nc\\u202ed\\u200be\\x07"
    assert inert("caf\u00e9 \u4e2d") == "caf\u00e9 \u4e2d"  # printable text stays as it is


def test_clip_cuts_the_escaped_text():
    assert clip("short", 10) == "short"
    assert clip("x" * 20, 10) == "xxxxxxx..."
    cut = clip("\x1b" * 10, 8)
    assert len(cut) == 8 and cut.startswith("\\x1b") and cut.endswith("...") and "\x1b" not in cut  # no raw byte


def test_style_colours_only_a_terminal():
    assert Style(tty=False).mark("prod", positive=True) == "[[prod]]" and Style(tty=False).bold("b") == "b"
    assert Style(tty=True).mark("prod", positive=True) == "\x1b[1;31mprod\x1b[0m"
    assert Style(tty=True).mark("ok", positive=False) == "\x1b[1;34mok\x1b[0m"


def test_fact_lines_align_the_facts_and_quote_their_source():
    text = 'rm -rf /srv/\x1b[2Jdata'
    facts = [Fact(kind="operation", value="delete", span=(0, 2), parser="bashlex"),
             Fact(kind="target", value="/srv/\x1b[2Jdata", span=(7, len(text)), parser="bashlex",
                  tags=("data_directory",))]
    header, *rows = fact_lines(facts, text)
    assert header.split() == list(FACT_COLUMNS)
    assert rows[0].split()[:3] == ["operation", "delete", "bashlex"] and rows[0].endswith('"rm"')
    assert '"/srv/\\x1b[2Jdata"' in rows[1] and "data_directory" in rows[1] and "\x1b" not in rows[1]
    assert header.index("value") == rows[0].index("delete") == rows[1].index("/srv/")
    assert fact_lines([], text) == ["  (no facts)"]
