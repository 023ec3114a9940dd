"""Word-piece tokenizer that keeps character offsets and sees through identifiers and disguises.

Agents' texts are full of identifiers: `orders-live.prod.acme.internal`, `/var/lib/postgresql`,
`getUserToken`. A model that sees them as opaque words never generalises past the names it was
trained on, so they are split into pieces (`orders`, `live`, `prod`, `acme`, `internal`). Each
piece keeps the (start, end) character span it came from, so an explanation can point at the
exact characters of the original text.

Two disguises are undone here, because a monitor that a base64 string or a Cyrillic `о` defeats
is no monitor: look-alike letters are folded to their Latin twins, and base64 or hex blobs that
decode to readable text contribute the pieces of the decoded text, all pointing at the span of
the blob.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

# Cyrillic and Greek letters that render like Latin ones.
CONFUSABLES = str.maketrans({
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x", "\u0443": "y",
    "\u0456": "i", "\u0455": "s", "\u0458": "j", "\u04bb": "h", "\u0501": "d", "\u051b": "q", "\u051d": "w",
    "\u0410": "a", "\u0415": "e", "\u041e": "o", "\u0420": "p", "\u0421": "c", "\u0425": "x", "\u0406": "i",
    "\u0405": "s", "\u041c": "m", "\u041d": "h", "\u0422": "t", "\u041a": "k", "\u0412": "b",
    "\u03bf": "o", "\u03b1": "a", "\u03c1": "p", "\u03b5": "e", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
})

_WORD = re.compile(r"[A-Za-z0-9]{16,}|[^\W\d_]+|\d+|([^\w\s])\1{3,}|[^\w\s]", re.UNICODE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[^\W\d_]+", re.UNICODE)
_BLOB = re.compile(r"[A-Za-z0-9+/=_-]{16,}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2}){8,}")
MAX_PIECE = 24  # longer pieces (hashes, tokens) are cut: their tail carries no meaning
MAX_RUN = 3  # a rule of `=====` or `-----` is as many pieces as `===`: it says nothing more


class Piece(NamedTuple):
    text: str  # normalised piece: lowercase, look-alikes folded
    start: int  # span in the original text
    end: int


def _normalise(word: str) -> str:
    return unicodedata.normalize("NFKC", word).translate(CONFUSABLES).lower()[:MAX_PIECE]


@lru_cache(maxsize=1 << 16)
def _word_pieces(word: str) -> tuple[tuple[str, int, int], ...]:
    """(piece, start, end) within one word. Words repeat endlessly in agent logs, so this is
    cached: it is most of the tokenizer's work."""
    if len(word) > MAX_RUN and not word[0].isalnum() and word == word[0] * len(word):  # a rule: `=====`
        piece = _normalise(word[0])
        return tuple((piece, i, i + 1) for i in range(MAX_RUN - 1)) + ((piece, MAX_RUN - 1, len(word)),)
    if len(word) >= 16 and not word.isalpha():  # a hash, key or id: its shape is all that matters
        kind = "<hex>" if all(c in "0123456789abcdefABCDEF" for c in word) else "<token>"
        return ((kind, 0, len(word)),)
    if word[0].isdigit():
        return ((word if len(word) <= 5 else "<num>", 0, len(word)),)
    if word[0].isalpha() and len(word) > 1:
        folded = word.translate(CONFUSABLES)  # one character for one: spans stay valid
        return tuple((_normalise(sub.group()), sub.start(), sub.end()) for sub in _CAMEL.finditer(folded))
    return ((_normalise(word), 0, len(word)),)


def _split_words(text: str, offset: int = 0) -> list[Piece]:
    pieces = []
    for match in _WORD.finditer(text):
        start = match.start() + offset
        pieces.extend(Piece(p, start + s, start + e) for p, s, e in _word_pieces(match.group()))
    return pieces


def _decoded(blob: str) -> str | None:
    """The text a base64 or hex blob encodes, if it is mostly readable ASCII."""
    candidates = []
    if _HEX.fullmatch(blob):
        try:
            candidates.append(binascii.unhexlify(blob))
        except binascii.Error:
            pass
    try:
        padded = blob + "=" * (-len(blob) % 4)
        candidates.append(base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True))
    except (binascii.Error, ValueError):
        pass
    for raw in candidates:
        text = raw.decode("ascii", errors="ignore")
        if len(text) >= 6 and len(text) >= 0.9 * len(raw) and sum(c.isprintable() or c.isspace()
                                                                  for c in text) >= 0.95 * len(text):
            return text
    return None


def tokenize(text: str) -> list[Piece]:
    """Pieces of `text` in order, with their character spans. A blob that decodes to readable
    text is replaced by a `<decoded>` marker and the pieces of what it says."""
    pieces: list[Piece] = []
    position = 0
    for blob in _BLOB.finditer(text):
        decoded = _decoded(blob.group())
        if decoded is None:
            continue
        pieces.extend(_split_words(text[position:blob.start()], position))
        pieces.append(Piece("<decoded>", blob.start(), blob.end()))
        pieces.extend(Piece(p.text, blob.start(), blob.end()) for p in _split_words(decoded))
        position = blob.end()
    pieces.extend(_split_words(text[position:], position))
    return pieces
