"""`cbm score`: score every action of JSONL files in any supported format, in bounded memory.

Exactly one output record per input record, in input order; a record that cannot be read
gets `"error"` and no scores, and the run goes on. Lines are read in chunks; with
`--workers N` the chunks are parsed, encoded and scored in N processes (each with one torch
thread) and written back in order, with at most 2N chunks in flight, so memory stays bounded
whatever the input size. The parent process then only reads and writes: it never loads torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tqdm import tqdm

from cbm.formats import FORMATS, ReadOptions, dumps_line, parse_line, read_lines

if TYPE_CHECKING:
    from cbm.scoring import Overseer

EXIT_OK, EXIT_USAGE, EXIT_FAILED_RECORDS = 0, 2, 3
CHUNK = 128  # records per chunk: the unit of work a process takes; small keeps workers busy
CHUNK_BYTES = 8 << 20  # and at most this much raw input per chunk, so memory stays bounded

Line = tuple[int, bytes | None, int]  # (line number, bytes or None when too large, size)


@dataclass
class Summary:
    records: int = 0
    failed: int = 0
    flagged: int = 0
    actions: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, out: dict[str, Any]) -> None:
        self.records += 1
        if out["error"] is not None:
            self.failed += 1
            if len(self.errors) < 20:
                self.errors.append(out["error"])
        self.flagged += bool(out["flagged"])
        self.actions += len(out["actions"])

    def line(self) -> str:
        rate = self.actions / self.seconds if self.seconds else 0.0
        return (f"cbm score: {self.records} records, {self.records - self.failed} scored, {self.failed} failed, "
                f"{self.flagged} flagged; {self.actions} actions in {self.seconds:.1f} s ({rate:,.0f} actions/s)")


class ScoringUnavailable(RuntimeError):
    """The model could not be loaded (a missing or damaged checkpoint), here or in a worker."""


def load_overseer(overseer_args: dict[str, Any]) -> Overseer:
    """`Overseer.load(**overseer_args)`, with a load failure as ScoringUnavailable (it pickles
    back from worker processes without importing torch into the parent)."""
    from cbm.checkpoint import CheckpointError
    from cbm.scoring import Overseer

    try:
        return Overseer.load(**overseer_args)
    except CheckpointError as exc:
        raise ScoringUnavailable(str(exc)) from None


def score_lines(overseer: Overseer, lines: list[Line], fmt: str, options: ReadOptions,
                source: str | None = None) -> list[dict[str, Any]]:
    """Parse and score one chunk of raw lines; one output dict per line, in order."""
    records = [parse_line(n, raw, size, fmt, options) for n, raw, size in lines]
    out = []
    for result in overseer.score_many(records, batch_size=len(records) or 1):
        record = result.to_json(overseer.top_k)
        if record["error"] is not None and source:
            record["error"] = f"{source}: {record['error']}"
        out.append(record)
    return out


def chunks(sources: list[str], options: ReadOptions, size: int = CHUNK,
           max_bytes: int = CHUNK_BYTES) -> Iterator[tuple[str, list[Line]]]:
    """(source name, up to `size` raw lines or `max_bytes`) over every input in order; `-` is stdin."""
    for source in sources:
        stream: IO[bytes] = sys.stdin.buffer if source == "-" else open(source, "rb")
        try:
            chunk: list[Line] = []
            held = 0
            for line in read_lines(stream, options.max_record_bytes):
                chunk.append(line)
                held += len(line[1] or b"")
                if len(chunk) >= size or held >= max_bytes:
                    yield source, chunk
                    chunk, held = [], 0
            if chunk:
                yield source, chunk
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()


# --- worker processes: one Overseer each, loaded once ----------------------------------------

_worker: Any = None
_worker_error: str | None = None


def _init_worker(overseer_args: dict[str, Any]) -> None:
    global _worker, _worker_error
    try:
        _worker = load_overseer({**overseer_args, "device": "cpu", "threads": 1})
    except ScoringUnavailable as exc:
        _worker_error = str(exc)


def _score_in_worker(lines: list[Line], fmt: str, options: ReadOptions, source: str | None) -> list[dict[str, Any]]:
    if _worker is None:
        raise ScoringUnavailable(_worker_error)
    return score_lines(_worker, lines, fmt, options, source)


def score_stream(sources: list[str], overseer_args: dict[str, Any], fmt: str = "auto", workers: int = 1,
                 options: ReadOptions = ReadOptions(), chunk_size: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Output records for every input line, in order. `overseer_args` go to `Overseer.load`."""
    label = len(sources) > 1
    if workers <= 1:
        overseer = load_overseer(overseer_args)
        for source, lines in chunks(sources, options, chunk_size):
            yield from score_lines(overseer, lines, fmt, options, source if label else None)
        return
    context = get_context("spawn")  # no inherited torch threads or locks
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(overseer_args,)) as pool:
        pending: deque[Future] = deque()
        for source, lines in chunks(sources, options, chunk_size):
            pending.append(pool.submit(_score_in_worker, lines, fmt, options, source if label else None))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


class JsonlSink:
    """Output records as JSONL lines, to a file or stdout."""

    def __init__(self, path: str | None):
        self.stream = open(path, "w", encoding="utf-8") if path else sys.stdout

    def write(self, record: dict[str, Any]) -> None:
        self.stream.write(dumps_line(record))

    def close(self) -> None:
        self.stream.flush()
        if self.stream is not sys.stdout:
            self.stream.close()


class ParquetSink:
    """Output records as Parquet rows (nested actions, each with its facts and summary), written in
    row groups as they come."""

    def __init__(self, path: str, concept_ids: list[str], rows_per_group: int = 4096):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        top = pa.struct([("concept", pa.string()), ("probability", pa.float64()), ("contribution", pa.float64())])
        fact = pa.struct([("kind", pa.string()), ("value", pa.string()), ("span", pa.list_(pa.int32())),
                          ("parser", pa.string()), ("tags", pa.list_(pa.string())), ("command", pa.int32())])
        action = pa.struct([("id", pa.string()), ("tool", pa.string()), ("risk", pa.float64()), ("flagged", pa.bool_()),
                            ("concepts", pa.struct([(c, pa.float64()) for c in concept_ids])),
                            ("top_concepts", pa.list_(top)), ("facts", pa.list_(fact)),
                            ("summary", pa.list_(pa.string()))])
        self.schema = pa.schema([("id", pa.string()), ("risk", pa.float64()), ("flagged", pa.bool_()),
                                 ("actions", pa.list_(action)), ("error", pa.string())])
        self.writer = pq.ParquetWriter(path, self.schema)
        self.rows: list[dict[str, Any]] = []
        self.rows_per_group = rows_per_group

    def write(self, record: dict[str, Any]) -> None:
        self.rows.append(record)
        if len(self.rows) >= self.rows_per_group:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(self.pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", default=["-"], metavar="INPUT",
                        help="JSONL files in any supported format; `-` or none: stdin")
    parser.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="input format (default: per record)")
    parser.add_argument("--out", help="output file: Parquet when it ends in .parquet, else JSONL (default: JSONL on stdout)")
    parser.add_argument("--checkpoint", help="checkpoint directory (default: the shipped model, or $CBM_CHECKPOINT)")
    parser.add_argument("--threshold", type=float, help="flag threshold on calibrated risk (default: the checkpoint's)")
    parser.add_argument("--workers", type=int, default=1, help="scoring processes (default 1)")
    parser.add_argument("--top-k", type=int, default=3, help="top concepts listed per action (default 3)")
    parser.add_argument("--engine", choices=("local", "lightning"), default="local",
                        help="local: this process and --workers; lightning: Trainer.predict over --devices (DDP)")
    parser.add_argument("--devices", default="auto", help="lightning engine: devices (e.g. 2, or auto)")
    parser.add_argument("--accelerator", default="auto", help="lightning engine: cpu, gpu or auto")
    parser.add_argument("--max-record-bytes", type=int, default=ReadOptions.max_record_bytes)
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    args = parser.parse_args(argv)
    for path in args.inputs:
        if path != "-" and not Path(path).is_file():
            parser.error(f"{path}: no such file")
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        parser.error("--threshold is a calibrated risk in [0, 1]")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.out and not Path(args.out).resolve().parent.is_dir():
        parser.error(f"--out {args.out}: its folder does not exist")
    options = ReadOptions(max_record_bytes=args.max_record_bytes)
    overseer_args = {"path": args.checkpoint, "threshold": args.threshold, "top_k": args.top_k}
    try:
        if args.engine == "lightning":
            from cbm.distributed import predict

            summary = predict(args.inputs, args.out, overseer_args, args.format, args.devices, args.accelerator,
                              options, quiet=args.quiet)
            if summary is None:  # a non-zero rank: rank 0 reports
                return EXIT_OK
        else:
            summary = run(args.inputs, args.out, overseer_args, args.format, args.workers, options, args.quiet)
    except ScoringUnavailable as exc:
        print(f"cbm score: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # an output that cannot be written, an input that vanished
        print(f"cbm score: {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    if not args.quiet:
        for error in summary.errors:
            print(f"  failed: {error}", file=sys.stderr)
        if summary.failed > len(summary.errors):
            print(f"  ... and {summary.failed - len(summary.errors)} more (see the output's error fields)",
                  file=sys.stderr)
        print(summary.line(), file=sys.stderr)
    return EXIT_FAILED_RECORDS if summary.failed else EXIT_OK


def write_all(records: Iterable[dict[str, Any]], out: str | None, progress: tqdm | None = None) -> Summary:
    """Write output records to `out` (Parquet when it ends in .parquet, else JSONL; None:
    stdout) and count them. The summary's `seconds` is left for the caller, who knows the start."""
    from cbm.concepts import CONCEPT_IDS

    summary = Summary()
    sink = ParquetSink(out, list(CONCEPT_IDS)) if out and out.endswith(".parquet") else JsonlSink(out)
    try:
        for record in records:
            sink.write(record)
            summary.add(record)
            if progress is not None:
                progress.update(1)
    finally:
        sink.close()
    return summary


def run(inputs: list[str], out: str | None, overseer_args: dict[str, Any], fmt: str = "auto", workers: int = 1,
        options: ReadOptions = ReadOptions(), quiet: bool = False) -> Summary:
    """Score `inputs` into `out` (None: stdout); returns the summary."""
    start = time.perf_counter()
    with tqdm(unit=" records", disable=quiet or not sys.stderr.isatty(), file=sys.stderr) as bar:
        summary = write_all(score_stream(inputs, overseer_args, fmt, workers, options), out, bar)
    summary.seconds = time.perf_counter() - start
    return summary
