"""`cbm score`: score every action of JSONL files in any supported format, in bounded memory.

Exactly one output record per input record, in input order; a record that cannot be read
gets `"error"` and no scores, and the run goes on. Lines are read in chunks; with
`--workers N` the chunks are parsed, encoded and scored in N processes (each with one torch
thread) and written back in order, with at most 2N chunks in flight, so memory stays bounded
whatever the input size. The parent process then only reads and writes: it never loads torch.
The work is `cbm.pipeline`'s (`cbm.distributed`'s for `--engine lightning`); this is the command.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from cbm.formats import INPUT_FORMATS, ReadOptions
from cbm.options import ScoringOptions, default_checkpoint
from cbm.pipeline import KEEP_FLAGGED, ScoringUnavailable, Summary, run
from cbm.terminal import inert

EXIT_OK, EXIT_USAGE, EXIT_FAILED_RECORDS = 0, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm score", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", default=["-"], metavar="INPUT",
                        help="JSONL files in any supported format, or Claude Code session transcripts with "
                             "--format claude-code; `-` or none: stdin")
    parser.add_argument("--format", default="auto", choices=("auto", *INPUT_FORMATS),
                        help="input format (default: per record); claude-code: each file is one session")
    parser.add_argument("--out", help="output file: Parquet when it ends in .parquet, else JSONL (default, or `-`: "
                                      "JSONL on stdout)")
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
    args.out = None if args.out == "-" else args.out  # `-` is stdout, as it is stdin for the inputs
    for path in args.inputs:
        if path != "-" and not Path(path).is_file():
            parser.error(f"{path}: no such file")
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        parser.error("--threshold is a calibrated risk in [0, 1]")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.top_k < 0:
        parser.error("--top-k must be 0 or more")
    if args.out and not Path(args.out).resolve().parent.is_dir():
        parser.error(f"--out {args.out}: its folder does not exist")
    options = ReadOptions(max_record_bytes=args.max_record_bytes)
    scoring = ScoringOptions(threshold=args.threshold, top_k=args.top_k)
    try:
        if args.engine == "lightning":
            from cbm.distributed import predict

            summary = predict(args.inputs, args.out, args.checkpoint, scoring, args.format, args.devices,
                              args.accelerator, options, quiet=args.quiet)
            if summary is None:  # a non-zero rank: rank 0 reports
                return EXIT_OK
        else:
            summary = run(args.inputs, args.out, args.checkpoint, scoring, args.format, args.workers, options,
                          args.quiet)
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
        if sys.stderr.isatty() and (args.out is not None or sys.stdout.isatty()):  # a person reads it
            # (no list when the scores themselves are piped on, or when stderr goes to a log)
            print(report(summary, args), file=sys.stderr)
    return EXIT_FAILED_RECORDS if summary.failed else EXIT_OK


def report(summary: Summary, args: argparse.Namespace) -> str:
    """What to look at: the riskiest flagged runs, each with its band, the concepts that raised
    its riskiest action and what that action does; then the commands that go further."""
    checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
    try:
        block = float(json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))["block_threshold"])
    except (OSError, ValueError, KeyError, TypeError):
        block = 1.0
    if not summary.flagged:
        return "Nothing flagged."
    lines = [f"Flagged runs, riskiest first ({min(summary.flagged, KEEP_FLAGGED)} of {summary.flagged}):"]
    for run in summary.flagged_runs():
        band = "block" if run["risk"] >= block else "review"
        lines.append(f"  {inert(str(run['id']))}  {band} {run['risk']:.3f}  {inert(run['action'])} "
                     f"({inert(run['tool'] or 'message')}): {', '.join(run['concepts']) or 'no concept'}")
        lines += [f"      {inert(sentence)}" for sentence in run["does"]]
    files = [a for a in args.inputs if a != "-"]
    where = shlex.quote(files[0]) if len(files) == 1 else "FILE"
    where += f" --format {args.format}" if args.format != "auto" else ""
    lines += ["Next:", f"  cbm explain {where} --id {shlex.quote(inert(str(summary.flagged_runs()[0]['id'])))}"
                       "   why the riskiest run was flagged",
              "  cbm app   review and decide in the browser (its Import page takes the input files)"]
    return "\n".join(lines)
