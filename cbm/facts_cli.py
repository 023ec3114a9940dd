"""`cbm facts FILE [--id RUN] [--action ID] [--json]`: what each action of a file does, read by the
parsers of `cbm.facts` (no model is loaded), with the characters each fact was read from.

Every action of every run is printed: its id, tool and text on one line, the sentences a
reviewer reads, then the facts as a table (kind, value, tags, parser, the quoted source
characters). `--json` prints one object per action per line instead:
`{"trajectory", "action", "tool", "facts", "summary"}`. Untrusted text is printed inert: control
characters and escape sequences are shown as escapes, never sent to the terminal. A record
that cannot be read is reported on stderr with its line and reason, and the rest still print
(with `--id`, only a record that has that id, or has none while no run matches).
Exit codes: 0 ok, 2 usage error (no such file, no run or action matches), 3 some records failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cbm.facts import Fact, describe, run_facts
from cbm.formats import INPUT_FORMATS, read_records
from cbm.terminal import Style, clip, fact_lines, inert
from cbm.trajectory import Step, Trajectory

EXIT_OK, EXIT_USAGE, EXIT_FAILED_RECORDS = 0, 2, 3
TEXT_WIDTH = 120  # characters of an action's text shown on its line


def action_json(trajectory: Trajectory, step: Step, found: list[Fact]) -> dict[str, Any]:
    """One action's facts as `cbm facts --json` prints them."""
    return {"trajectory": trajectory.id, "action": step.action_id, "tool": step.tool_name,
            "facts": [f.to_json() for f in found], "summary": describe(found)}


def action_lines(step: Step, found: list[Fact], style: Style) -> list[str]:
    """One action as terminal lines: id, tool and text, the sentences, the facts table."""
    tool = inert(step.tool_name or "message to the user")
    lines = [style.bold(f"  action {inert(str(step.action_id))}") + f"  {tool}",
             f"    {clip(step.text or '', TEXT_WIDTH)}"]
    lines += [f"    - {inert(sentence)}" for sentence in describe(found)]
    lines += fact_lines(found, step.text or "", indent="      ")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm facts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="a JSONL file in any supported format, or - for stdin")
    parser.add_argument("--id", dest="trajectory_id", help="only the run with this id")
    parser.add_argument("--action", help="only the action with this id")
    parser.add_argument("--json", action="store_true", help="one JSON object per action per line")
    parser.add_argument("--format", default="auto", choices=("auto", *INPUT_FORMATS), help="input format (default auto)")
    args = parser.parse_args(argv)
    if args.file != "-" and not Path(args.file).is_file():
        print(f"cbm facts: no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    style = Style(sys.stdout.isatty() and not args.json)
    runs = actions = failed = 0
    unknown: list[str] = []  # with --id: failed records without an id, reported if no run matches

    def fail(error: Any) -> None:
        nonlocal failed
        failed += 1
        print(f"cbm facts: {args.file}: {inert(str(error))}", file=sys.stderr, flush=True)

    for record in read_records(args.file, args.format):
        if record.error is not None:
            if args.trajectory_id is None or record.error.record_id == args.trajectory_id:
                fail(record.error)
            elif record.error.record_id is None:
                unknown.append(str(record.error))
            continue
        trajectory = record.trajectory
        if args.trajectory_id is not None and trajectory.id != args.trajectory_id:
            continue
        runs += 1
        found = run_facts(trajectory)
        lines: list[str] = []
        for step in trajectory.steps:
            if step.action_id is None or args.action is not None and step.action_id != args.action:
                continue
            actions += 1
            if args.json:
                lines.append(json.dumps(action_json(trajectory, step, found[step.action_id]), ensure_ascii=True))
            else:
                lines += action_lines(step, found[step.action_id], style)
        if lines and not args.json:
            lines.insert(0, style.bold(f"run {inert(str(trajectory.id))}") + f"  (line {record.line})")
            lines.append("")
        if lines:
            print("\n".join(lines), flush=True)
    if not runs:
        for error in unknown:  # one of them may be the run asked for
            fail(error)
    if failed:
        return EXIT_FAILED_RECORDS
    if args.trajectory_id is not None and not runs:
        print(f"cbm facts: {args.file}: no run with id {inert(repr(args.trajectory_id))}", file=sys.stderr)
        return EXIT_USAGE
    if args.action is not None and not actions:
        where = f" in run {inert(repr(args.trajectory_id))}" if args.trajectory_id is not None else ""
        print(f"cbm facts: {args.file}: no action {inert(repr(args.action))}{where}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
