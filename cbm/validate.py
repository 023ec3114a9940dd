"""`cbm validate` and `cbm convert`: check and translate trajectory files record by record.

Both stream their input, report every bad record with its line, id, field and reason, and go
on with the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cbm.formats import FORMATS, INPUT_FORMATS, ReadOptions, Record, dumps_line, read_records, to_record

EXIT_OK, EXIT_USAGE, EXIT_FAILED_RECORDS = 0, 2, 3


@dataclass
class FileSummary:
    """What `cbm validate` found in one file."""

    path: str
    records: int = 0
    failed: int = 0
    actions: int = 0
    labelled_actions: int = 0  # risk known
    fully_labelled_actions: int = 0  # risk and all concepts known
    risky_actions: int = 0
    risky_trajectories: int = 0
    formats: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, record: Record) -> None:
        self.records += 1
        if record.error:
            self.failed += 1
            self.errors.append(str(record.error))
            return
        trajectory = record.trajectory
        self.formats[record.format] += 1
        self.actions += len(trajectory.actions)
        for label in trajectory.labels.values():
            self.labelled_actions += label.risk is not None
            self.fully_labelled_actions += label.risk is not None and label.complete
            self.risky_actions += label.risk == 1
        self.risky_trajectories += trajectory.risk == 1
        for note in trajectory.metadata.get("ingest", []):
            self.notes[note["kind"]] += 1
            step = f" step {note['step']}" if "step" in note else ""
            self.warnings.append(f"line {record.line} (id {trajectory.id!r}){step}: {note['kind']}: {note['detail']}")

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON object; `asdict` alone would rebuild each Counter from its
        (key, count) pairs, counting the pairs."""
        return {**asdict(self), "formats": dict(self.formats), "notes": dict(self.notes)}


def _options(args: argparse.Namespace) -> ReadOptions:
    return ReadOptions(max_record_bytes=args.max_record_bytes, max_text_chars=args.max_text_chars)


def _add_read_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ReadOptions()
    parser.add_argument("--format", default="auto", choices=("auto", *INPUT_FORMATS),
                        help="input format; auto detects it per record (default); claude-code: the file is one "
                             "Claude Code session")
    parser.add_argument("--max-record-bytes", type=int, default=defaults.max_record_bytes,
                        help="a longer line is reported as an error (default %(default)s)")
    parser.add_argument("--max-text-chars", type=int, default=defaults.max_text_chars,
                        help="longer texts are truncated and the cut noted in metadata (default %(default)s)")


def summarise(path: str, fmt: str = "auto", options: ReadOptions = ReadOptions()) -> FileSummary:
    """Read every record of `path` and count what it holds."""
    summary = FileSummary(path=path)
    for record in read_records(path, fmt, options):
        summary.add(record)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm validate", description=__doc__)
    parser.add_argument("files", nargs="+", help="JSONL files, or - for stdin")
    _add_read_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the summaries as JSON")
    parser.add_argument("--quiet", action="store_true", help="list at most 20 errors and warnings per file")
    args = parser.parse_args(argv)
    summaries = []
    for path in args.files:
        if path != "-" and not Path(path).is_file():
            print(f"cbm validate: no such file: {path}", file=sys.stderr)
            return EXIT_USAGE
        summaries.append(summarise(path, args.format, _options(args)))
    if args.json:
        print(json.dumps([s.to_json() for s in summaries], indent=2))
    else:
        _print(summaries, limit=20 if args.quiet else None)
    return EXIT_FAILED_RECORDS if any(s.failed for s in summaries) else EXIT_OK


def _print(summaries: list[FileSummary], limit: int | None) -> None:
    columns = ("records", "failed", "actions", "labelled_actions", "risky_actions", "risky_trajectories")
    headers = ("records", "failed", "actions", "labelled", "risky actions", "risky runs")
    width = max(len(s.path) for s in summaries + [FileSummary(path="file")])
    print(f"{'file':<{width}}  " + "  ".join(f"{h:>13}" for h in headers))
    for s in summaries:
        print(f"{s.path:<{width}}  " + "  ".join(f"{getattr(s, c):>13}" for c in columns))
    if len(summaries) > 1:
        print(f"{'total':<{width}}  " + "  ".join(f"{sum(getattr(s, c) for s in summaries):>13}" for c in columns))
    for s in summaries:
        for kind, items in (("error", s.errors), ("warning", s.warnings)):
            shown = items if limit is None else items[:limit]
            for item in shown:
                print(f"{s.path}: {kind}: {item}")
            if len(shown) < len(items):
                print(f"{s.path}: ... and {len(items) - len(shown)} more {kind}s")


def convert_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm convert", description="Convert trajectories between formats. "
                                     "Bad records are reported on stderr with their line and skipped; "
                                     "the exit code is then 3.")
    parser.add_argument("input", help="JSONL file, or - for stdin")
    parser.add_argument("--to", required=True, choices=FORMATS, help="output format")
    parser.add_argument("--out", help="output file (default, or -: stdout)")
    _add_read_arguments(parser)
    args = parser.parse_args(argv)
    if args.input != "-" and not Path(args.input).is_file():
        print(f"cbm convert: no such file: {args.input}", file=sys.stderr)
        return EXIT_USAGE
    args.out = None if args.out == "-" else args.out
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
    written = failed = 0
    try:
        for record in read_records(args.input, args.format, _options(args)):
            if record.error:
                failed += 1
                print(f"cbm convert: {args.input}: {record.error}", file=sys.stderr)
                continue
            out.write(dumps_line(to_record(record.trajectory, args.to)))
            written += 1
    finally:
        if args.out:
            out.close()
    print(f"cbm convert: {written} written, {failed} failed", file=sys.stderr)
    return EXIT_FAILED_RECORDS if failed else EXIT_OK
