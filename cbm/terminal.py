"""Untrusted text on a terminal: `inert` escapes what could drive it, `Style` colours only a
real terminal, and `fact_lines` prints an action's facts (`cbm.facts`) with the characters each
was read from. Light on purpose: `cbm facts` prints with it and never loads the model.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cbm.facts import Fact

_UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, format (bidi, zero-width), unassigned, line breaks


def inert(text: str) -> str:
    """Untrusted text made safe to print on one line: every control, format, private-use,
    unassigned or line-breaking character is shown as its escape (`\\x1b`, `\\n`, `\\u202e`), so
    a trajectory cannot move the cursor, recolour, reorder or rewrite the terminal."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in _UNSAFE else ch
                   for ch in text)


def clip(text: str, width: int) -> str:
    """`text` made inert and cut to at most `width` characters, `...` marking a cut. The cut is
    made on the escaped text, so it never splits an escape into raw bytes."""
    text = inert(text)
    return text if len(text) <= width else text[:max(width - 3, 0)] + "..."


class Style:
    """Bold colour on a terminal; [[brackets]] and no escape codes anywhere else."""

    def __init__(self, tty: bool):
        self.tty = tty

    def mark(self, text: str, positive: bool) -> str:
        if not self.tty:
            return f"[[{text}]]"
        return f"\x1b[1;{31 if positive else 34}m{text}\x1b[0m"

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.tty else text


FACT_COLUMNS = ("kind", "value", "tags", "parser", "source")
_WIDTHS = {"kind": 12, "value": 48, "tags": 48, "parser": 12, "source": 60}


def fact_lines(facts: Sequence[Fact], text: str, indent: str = "  ") -> list[str]:
    """The facts as an aligned table: kind, value, tags, parser and the quoted source characters
    `text[span]` (the step's original text). Every cell is inert and cut to its column's width."""
    if not facts:
        return [f"{indent}(no facts)"]
    rows = [FACT_COLUMNS]
    for f in facts:
        start, end = f.span
        rows.append((clip(f.kind, _WIDTHS["kind"]), clip(f.value, _WIDTHS["value"]),
                     clip(", ".join(f.tags), _WIDTHS["tags"]), clip(f.parser, _WIDTHS["parser"]),
                     '"' + clip(text[start:end], _WIDTHS["source"] - 2) + '"'))
    widths = [max(len(row[i]) for row in rows) for i in range(len(FACT_COLUMNS))]
    return [indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
