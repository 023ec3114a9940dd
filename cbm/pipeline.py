"""The scoring pipeline: input lines in, one output record per line out, in input order and in
bounded memory, whatever the input size.

    chunks        raw lines of every input, up to CHUNK lines or CHUNK_BYTES at a time
    score_lines   one chunk parsed and scored by one `Overseer`
    ScoredStream  every chunk scored here, or in N worker processes (one torch thread each, at
                  most 2N chunks in flight, written back in order); the parent process then only
                  reads and writes and never loads torch
    sinks         JSONL, or Parquet whose concept columns are the loaded checkpoint's
    write_all     records to a sink, counted into a `Summary`
    run           all of it: what `cbm score` runs

`cbm.distributed` spreads the same work over devices with Lightning. The overseer is loaded once
per process from a checkpoint path and `ScoringOptions`, and nothing changes it afterwards.
"""

from __future__ import annotations

import heapq
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

from cbm.facts import Fact, describe
from cbm.formats import Line, ReadOptions, dumps_line, lines_of, parse_line
from cbm.options import default_checkpoint

if TYPE_CHECKING:
    from cbm.checkpoint import Checkpoint
    from cbm.scoring import Overseer, ScoringOptions

CHUNK = 128  # records per chunk: the unit of work a process takes; small keeps workers busy
CHUNK_BYTES = 8 << 20  # and at most this much raw input per chunk, so memory stays bounded

KEEP_FLAGGED = 10  # flagged runs the end-of-run summary lists


@dataclass
class Summary:
    records: int = 0
    failed: int = 0
    flagged: int = 0
    actions: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    riskiest: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)  # a heap of flagged runs

    def add(self, out: dict[str, Any]) -> None:
        self.records += 1
        if out["error"] is not None:
            self.failed += 1
            if len(self.errors) < 20:
                self.errors.append(out["error"])
        self.flagged += bool(out["flagged"])
        self.actions += len(out["actions"])
        if out["flagged"]:
            item = (out["risk"], -self.records, out)
            (heapq.heappush if len(self.riskiest) < KEEP_FLAGGED else heapq.heappushpop)(self.riskiest, item)

    def flagged_runs(self) -> list[dict[str, Any]]:
        """The riskiest flagged runs (at most KEEP_FLAGGED), riskiest first: id, risk, and of the
        riskiest action its id, tool, the concepts that raised its risk and what it does."""
        runs = []
        for risk, _, out in sorted(self.riskiest, reverse=True):
            action = max(out["actions"], key=lambda a: a["risk"])
            facts = [Fact.from_json(f) for f in action.get("facts") or []]
            runs.append({"id": out["id"], "risk": risk, "action": action["id"], "tool": action["tool"],
                         "concepts": [c["concept"] for c in action["top_concepts"] if c["contribution"] > 0],
                         "does": describe(facts)[:2]})
        return runs

    def line(self) -> str:
        rate = self.actions / self.seconds if self.seconds else 0.0
        return (f"cbm score: {self.records} records, {self.records - self.failed} scored, {self.failed} failed, "
                f"{self.flagged} flagged; {self.actions} actions in {self.seconds:.1f} s ({rate:,.0f} actions/s)")


class ScoringUnavailable(RuntimeError):
    """The model could not be loaded (a missing or damaged checkpoint), here or in a worker."""


def load_checkpoint(path: str | Path | None) -> tuple[Checkpoint, Path]:
    """(the checkpoint at `path`, its path; None: the shipped default), with a load failure as
    ScoringUnavailable (it pickles back from worker processes without importing torch into the parent)."""
    from cbm import checkpoint as ckpt

    path = default_checkpoint() if path is None else Path(path)
    try:
        return ckpt.load(path), path
    except ckpt.CheckpointError as exc:
        raise ScoringUnavailable(str(exc)) from None


def load_overseer(path: str | Path | None, options: ScoringOptions) -> Overseer:
    """`Overseer.load(path, options)`, with a load failure as ScoringUnavailable."""
    from cbm.checkpoint import CheckpointError
    from cbm.scoring import Overseer

    try:
        return Overseer.load(path, options)
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


def chunks(sources: list[str], options: ReadOptions, fmt: str = "auto", size: int = CHUNK,
           max_bytes: int = CHUNK_BYTES) -> Iterator[tuple[str, list[Line]]]:
    """(source name, up to `size` raw records or `max_bytes`) over every input in order; `-` is
    stdin. A record is a line, or with a session format (`claude-code`) a whole input."""
    for source in sources:
        stream: IO[bytes] = sys.stdin.buffer if source == "-" else open(source, "rb")
        try:
            chunk: list[Line] = []
            held = 0
            for line in lines_of(stream, fmt, options, source):
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


def _init_worker(path: str | Path | None, options: ScoringOptions) -> None:
    global _worker, _worker_error
    try:
        _worker = load_overseer(path, options.in_worker())
    except ScoringUnavailable as exc:
        _worker_error = str(exc)


def _loaded_worker() -> Overseer:
    if _worker is None:
        raise ScoringUnavailable(_worker_error)
    return _worker


def _worker_concepts() -> list[str]:
    return list(_loaded_worker().concept_ids)


def _score_in_worker(lines: list[Line], fmt: str, options: ReadOptions, source: str | None) -> list[dict[str, Any]]:
    return score_lines(_loaded_worker(), lines, fmt, options, source)


class ScoredStream:
    """Output records for every input line of `sources`, in order, scored by the checkpoint at
    `path` with `options`: here, or in `workers` processes. A context manager: entering loads the
    model (ScoringUnavailable when it cannot be) and sets `concept_ids`, the loaded checkpoint's
    concepts in its order; leaving stops the workers."""

    def __init__(self, sources: list[str], path: str | Path | None, options: ScoringOptions, fmt: str = "auto",
                 workers: int = 1, read_options: ReadOptions = ReadOptions(), chunk_size: int = CHUNK):
        self.sources, self.path, self.options, self.fmt = sources, path, options, fmt
        self.workers, self.read_options, self.chunk_size = workers, read_options, chunk_size
        self.overseer: Overseer | None = None
        self.pool: ProcessPoolExecutor | None = None
        self.concept_ids: list[str] = []

    def __enter__(self) -> ScoredStream:
        if self.workers <= 1:
            self.overseer = load_overseer(self.path, self.options)
            self.concept_ids = list(self.overseer.concept_ids)
            return self
        context = get_context("spawn")  # no inherited torch threads or locks
        self.pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                        initargs=(self.path, self.options))
        try:
            self.concept_ids = self.pool.submit(_worker_concepts).result()
        except BaseException:
            self.pool.shutdown(cancel_futures=True)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=exc[0] is not None)
            self.pool = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        label = len(self.sources) > 1
        parts = chunks(self.sources, self.read_options, self.fmt, self.chunk_size)
        if self.pool is None:
            if self.overseer is None:
                raise RuntimeError("enter the stream (with ScoredStream(...) as stream) before reading it")
            for source, lines in parts:
                yield from score_lines(self.overseer, lines, self.fmt, self.read_options, source if label else None)
            return
        pending: deque[Future] = deque()
        for source, lines in parts:
            pending.append(self.pool.submit(_score_in_worker, lines, self.fmt, self.read_options,
                                            source if label else None))
            if len(pending) >= 2 * self.workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


# --- sinks ------------------------------------------------------------------------------------

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
    """Output records as Parquet rows (nested actions, each with its facts, summary and the concepts its facts set), written in
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
                            ("summary", pa.list_(pa.string())),
                            ("implied", pa.list_(pa.struct([("concept", pa.string()), ("why", pa.string()),
                                                            ("holds", pa.bool_()),
                                                            ("spans", pa.list_(pa.list_(pa.int32())))])))])
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


def write_all(records: Iterable[dict[str, Any]], out: str | None, concept_ids: list[str],
              progress: tqdm | None = None) -> Summary:
    """Write output records to `out` (Parquet when it ends in .parquet, with a column per concept
    of `concept_ids`, the loaded checkpoint's; else JSONL; None: stdout) and count them. The
    summary's `seconds` is left for the caller, who knows the start."""
    summary = Summary()
    sink = ParquetSink(out, list(concept_ids)) if out and out.endswith(".parquet") else JsonlSink(out)
    try:
        for record in records:
            sink.write(record)
            summary.add(record)
            if progress is not None:
                progress.update(1)
    finally:
        sink.close()
    return summary


def run(inputs: list[str], out: str | None, path: str | Path | None, options: ScoringOptions, fmt: str = "auto",
        workers: int = 1, read_options: ReadOptions = ReadOptions(), quiet: bool = False) -> Summary:
    """Score `inputs` with the checkpoint at `path` (None: the shipped default) into `out` (None:
    stdout); returns the summary."""
    start = time.perf_counter()
    with tqdm(unit=" records", disable=quiet or not sys.stderr.isatty(), file=sys.stderr) as bar, \
            ScoredStream(inputs, path, options, fmt, workers, read_options) as stream:
        summary = write_all(stream, out, stream.concept_ids, bar)
    summary.seconds = time.perf_counter() - start
    return summary
