"""`cbm explain FILE [--id RUN] [--action ID] [--concept C ...] [--set concept=value ...] [--json]`:
one action's explanation (`cbm.explain`) on a terminal, or as JSON.

The terminal text says the verdict, what the action does (its facts, with the characters each
was read from), each concept's contribution as a bar, and the evidence in its context; every
piece of trajectory text is made inert first (`cbm.terminal`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cbm.checkpoint import CheckpointError
from cbm.explain import N_STEPS, Explainer, Explanation, Span
from cbm.formats import INPUT_FORMATS, read_records
from cbm.scoring import Overseer
from cbm.terminal import Style, fact_lines, inert
from cbm.trajectory import Trajectory

EXIT_OK, EXIT_USAGE, EXIT_FAILED_RECORD = 0, 2, 3


def in_context(trajectory: Trajectory, span: Span, style: Style, width: int = 48) -> str:
    """The span inside up to `width` characters of its text on either side, on one line."""
    step = trajectory.steps[span.step]
    text = (step.tool_name or "") if span.field == "tool_name" else step.text
    a, b = max(span.start - width, 0), min(span.end + width, len(text))
    return ("..." if a else "") + inert(text[a:span.start]) + style.mark(inert(span.text), span.score > 0) + \
        inert(text[span.end:b]) + ("..." if b < len(text) else "")


def render(explanation: Explanation, trajectory: Trajectory, style: Style, bars: int = 8) -> str:
    """The explanation as terminal text: verdict, what the action does (its facts, with the
    characters each was read from), contributions as bars, evidence in context."""
    e = explanation
    status = "BLOCK" if e.risk >= e.block_threshold else "FLAGGED" if e.flagged else "not flagged"
    lines = [style.bold(f"{inert(str(e.trajectory_id))}  action {inert(e.action_id)}") +
             f"  (step {e.step}{', ' + inert(e.tool) if e.tool else ''})",
             f"risk {e.risk:.3f}  {style.bold(status)}  (flag >= {e.threshold:.3f}, block >= {e.block_threshold:.3f})",
             f"risk logit {e.risk_logit:+.3f} = baseline {e.baseline_logit:+.3f} (concepts at their training prior)"
             f" + contributions ({e.contribution_method.replace('_', ' ')}"
             + (f", delta {e.contribution_delta:+.1e}" if e.contribution_delta is not None else "") + ")"]
    lines += ["", "what it does (read by parsers):"]
    lines += [f"  - {inert(sentence)}" for sentence in e.summary] or ["  (nothing read)"]
    if e.facts:
        lines += fact_lines(e.facts, trajectory.steps[e.step].text or "", indent="    ")
    if e.implied:
        lines += ["", "concepts the facts set before the risk head (established: raised to the checkpoint's floor; "
                      "ruled out: lowered to 1 - floor):"]
        lines += [f"  - {'establishes' if i.holds else 'rules out'} {c}: {i.why}" for c, i in e.implied.items()]
    ranked = sorted(e.concepts, key=lambda c: -abs(c.contribution))
    scale = max((abs(c.contribution) for c in ranked), default=0) or 1
    lines.append("")
    for c in ranked[:bars]:
        bar = ("+" if c.contribution > 0 else "-") * max(1, round(20 * abs(c.contribution) / scale))
        edit = f"  (set to {c.probability:g}, model {c.predicted:.3f})" if c.edited else ""
        lines.append(f"  {c.id:<28} p={c.probability:.3f}  {c.contribution:+.3f}  {bar}{edit}")
    if len(ranked) > bars:
        lines.append(f"  ... {len(ranked) - bars} more, each {abs(ranked[bars].contribution):.3f} or less")
    if e.check_first:
        first = [e.concept(c) for c in e.check_first[:3]]
        lines.append("check first: " + (", ".join(f"{c.id} (risk expected to move {c.expected_change:.3f})"
                                                  for c in first) if first[0].expected_change > 0 else
                                        ", ".join(c.id for c in first) + f" (no one check moves a risk of {e.risk:.3f}; "
                                        "these move its logit most)"))
    lines += ["", f"evidence: words that raised (+) or lowered (-) each concept's logit, integrated gradients "
                  f"({e.n_steps} steps) against the run with every word removed"]
    for c in (e.concept(cid) for cid in e.explained):
        lines.append(style.bold(f"{c.id}") + f"  p={c.predicted:.3f} (present at {c.threshold:.2f}; "
                     f"{c.baseline_probability:.3f} with every word removed)  contribution {c.contribution:+.3f}")
        for s in c.evidence or []:
            where = f"step {s.step} {s.kind}" + (f" {inert(s.action_id)}" if s.action_id else "") + \
                    (" tool name" if s.field == "tool_name" else "")
            lines.append(f"  {s.score:+.3f}  {where}: {in_context(trajectory, s, style)}")
        if not c.evidence:
            lines.append("  (no word moved it)")
    if e.interventions:
        lines.append("interventions: " + ", ".join(f"{x['concept']}={x['value']:g}" for x in e.interventions))
        lines.append("changed flags: " + (", ".join(
            f"{inert(f['action'])} {'flagged' if f['flagged_before'] else 'clear'} -> "
            f"{'flagged' if f['flagged_after'] else 'clear'} (risk {f['risk_before']:.3f} -> {f['risk_after']:.3f})"
            for f in e.changed_flags) or "none"))
    return "\n".join(lines)


def _edit(text: str) -> tuple[str, float]:
    concept, sep, raw = text.partition("=")
    value = {"true": 1.0, "yes": 1.0, "false": 0.0, "no": 0.0}.get(raw.lower())
    if value is None:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
    if not sep or not concept or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected CONCEPT=VALUE with VALUE 0, 1 or a probability, got {text!r}")
    return concept, value


class RecordFailed(Exception):
    """The record asked for could not be read."""


def select_record(path: str, fmt: str, trajectory_id: str | None, action: str | None) -> Trajectory:
    """The record to explain: the one with `trajectory_id`, else the one holding `action`, else
    the file's only record. Raises LookupError (a usage error) or RecordFailed."""
    chosen: list[Trajectory] = []  # at most two are kept: one to explain, one to say it is ambiguous
    first: Trajectory | None = None
    ids: list[str] = []
    failed = []
    for record in read_records(path, fmt):
        if record.error is not None:
            failed.append(record.error)
            continue
        t = record.trajectory
        first = first or t
        ids.append(str(t.id))
        wanted = t.id == trajectory_id if trajectory_id is not None else action is None or action in t.action_ids
        if wanted and len(chosen) < 2:
            chosen.append(t)
    if trajectory_id is None and not chosen and len(ids) == 1 and not failed:
        return first  # the explainer lists its actions
    if len(chosen) == 1:
        return chosen[0]
    if chosen:
        raise LookupError(f"{path}: several records match; pass --id (records: {_listing(ids)})")
    mine = [f for f in failed if trajectory_id is not None and f.record_id == trajectory_id]
    if mine or failed and (trajectory_id is None or any(f.record_id is None for f in failed)):
        raise RecordFailed("; ".join(str(f) for f in (mine or failed)))
    what = f"id {trajectory_id!r}" if trajectory_id is not None else f"action {action!r}"
    raise LookupError(f"{path}: no record with {what} (records: {_listing(ids) or 'none'})")


def _listing(names: list[str], limit: int = 20) -> str:
    return ", ".join(inert(n) for n in names[:limit]) + (", ..." if len(names) > limit else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm explain", description="Explain one action's risk: each concept's "
                                     "contribution, and the text that made the model see each concept.")
    parser.add_argument("file", help="a JSONL file in any supported format, or - for stdin")
    parser.add_argument("--action", help="action id (default: the riskiest action)")
    parser.add_argument("--id", dest="trajectory_id", help="trajectory id, when the file holds several")
    parser.add_argument("--concept", action="append", help="explain this concept (repeatable; default: the "
                        "concepts that matter for the risk)")
    parser.add_argument("--top-k", type=int, default=5, help="evidence spans per concept (default %(default)s)")
    parser.add_argument("--n-steps", type=int, default=N_STEPS, help="integration steps (default %(default)s)")
    parser.add_argument("--set", dest="edits", action="append", type=_edit, default=[], metavar="CONCEPT=VALUE",
                        help="a reviewer's value for a concept on every action (repeatable); shows what flips")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.add_argument("--checkpoint", help="checkpoint directory (default: $CBM_CHECKPOINT or the shipped one)")
    parser.add_argument("--format", default="auto", choices=("auto", *INPUT_FORMATS), help="input format (default auto)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads for the attribution, one large batch (default: every core, %(default)s)")
    args = parser.parse_args(argv)
    if args.file != "-" and not Path(args.file).is_file():
        print(f"cbm explain: no such file: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        overseer = Overseer.load(args.checkpoint)
    except CheckpointError as exc:
        print(f"cbm explain: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        trajectory = select_record(args.file, args.format, args.trajectory_id, args.action)
        result = overseer.score(trajectory)
        action = args.action or (max(result.actions, key=lambda a: a.risk).id if result.actions else None)
        unknown = [c for c, _ in args.edits if c not in overseer.concept_ids]
        if unknown:
            raise LookupError(f"unknown concept(s) {', '.join(map(inert, unknown))} "
                              f"(concepts: {', '.join(overseer.concept_ids)})")
        if args.edits:
            result = overseer.intervene(result, dict(args.edits))
        explanation = Explainer(overseer, args.n_steps, args.threads).explain(result, action, args.concept, args.top_k)
    except RecordFailed as exc:
        print(f"cbm explain: {args.file}: {exc}", file=sys.stderr)
        return EXIT_FAILED_RECORD
    except (LookupError, ValueError) as exc:
        print(f"cbm explain: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(explanation.to_json(), indent=2, ensure_ascii=True))
    else:
        print(render(explanation, trajectory, Style(sys.stdout.isatty())))
    return EXIT_OK
