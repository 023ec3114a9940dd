"""Reading JSONL lines in bounded memory. Kept apart from `cbm.formats` (which loads every
reader and the taxonomy) so that the live guard's client can use it and still start fast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


def read_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, bytes or None when over `limit`, size) of each non-blank line, reading at
    most `limit` + 1 bytes of a line into memory. `cbm.formats.parse_line` turns one into a
    Record; the two are separate so that parsing can run in worker processes."""
    number = 0
    while True:
        chunk = stream.readline(limit + 1)
        if not chunk:
            return
        number += 1
        if len(chunk) <= limit or chunk.endswith(b"\n"):
            if chunk.strip():
                yield number, chunk, len(chunk)
            continue
        size = len(chunk)
        while chunk and not chunk.endswith(b"\n"):
            chunk = stream.readline(1 << 20)
            size += len(chunk)
        yield number, None, size
