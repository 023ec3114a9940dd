"""Scoring speed and memory: `python -m cbm_training.bench scoring [--n 2000] [--memory-gb 1]`.

Prints, for the checkpoint given (default: the shipped model):
  - batch throughput of `cbm score` (actions/s) with 1 and 2 worker processes, on freshly
    generated trajectories in all three formats (`--input FILE` to use your own);
  - facts extraction speed (`cbm.facts`) on one core: every action of the input, and 1 KB commands;
  - a proposed action scored in context (`Overseer.score_action`), p50/p99 latency in process;
  - with `--memory-gb G`: peak resident memory of a `cbm score --workers W` process tree
    (sampled from /proc every 50 ms) while it scores a G GB file: ordinary trajectories plus
    log dumps of several MB each, so the file reaches its size without hours of scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from cbm.pipeline import run
from cbm.formats import read_records
from cbm.scoring import Overseer, ScoringOptions
from cbm_training.generate import GeneratorConfig, generate


def make_input(directory: Path, n: int, seed: int) -> Path:
    generate(GeneratorConfig(n=n, seed=seed), directory / "corpus", workers=1)
    path = directory / "input.jsonl"
    with open(path, "wb") as out:
        for split in ("train", "val", "test", "heldout"):
            out.write((directory / "corpus" / f"{split}.jsonl").read_bytes())
    return path


def throughput(path: Path, checkpoint: str | None, workers: int) -> dict:
    summary = run([str(path)], os.devnull, checkpoint, ScoringOptions(), workers=workers, quiet=True)
    return {"workers": workers, "records": summary.records, "actions": summary.actions,
            "seconds": round(summary.seconds, 2), "actions_per_s": round(summary.actions / summary.seconds)}


def facts_speed(path: Path, kilobyte_commands: int = 500) -> dict:
    """Facts extraction alone, one core: every action of the input (each run read in one pass,
    as scoring does), then shell commands of about 1 KB made by chaining the input's commands."""
    from cbm.facts import facts, run_facts
    from cbm.trajectory import Step

    runs = [r.trajectory for r in read_records(path) if r.error is None]
    start = time.perf_counter()
    actions = sum(len(run_facts(t)) for t in runs)
    seconds = time.perf_counter() - start
    commands = [s.arguments.get("command") for t in runs for s in t.steps
                if s.kind == "tool_call" and s.arguments and isinstance(s.arguments.get("command"), str)]
    long, current = [], ""
    for c in commands:
        current = f"{current} && {c}" if current else c
        if len(current) >= 1000:
            long.append(current[:1024])
            current = ""
        if len(long) >= kilobyte_commands:
            break
    steps = [Step("tool_call", json.dumps({"command": c}), tool_name="bash", arguments={"command": c}) for c in long]
    start = time.perf_counter()
    for step in steps:
        facts(step)
    long_seconds = time.perf_counter() - start
    return {"actions": actions, "seconds": round(seconds, 2), "actions_per_s": round(actions / max(seconds, 1e-9)),
            "kb_commands": len(steps), "kb_actions_per_s": round(len(steps) / max(long_seconds, 1e-9))}


def action_latency(path: Path, checkpoint: str | None, calls: int) -> dict:
    """Each call: a run cut just before one of its actions, plus that action as the proposal."""
    torch.set_num_threads(1)
    overseer = Overseer.load(checkpoint, threads=1)
    cases = []
    for record in read_records(path):
        t = record.trajectory
        for i, step in enumerate(t.steps):
            if step.kind == "tool_call":
                context = type(t)(t.id, t.steps[:i], {})
                cases.append((context, {"tool_name": step.tool_name, "arguments": step.text, "id": step.call_id}))
        if len(cases) >= calls:
            break
    cases = cases[:calls]
    for context, action in cases[:10]:  # warm-up
        overseer.score_action(context, action)
    times = []
    for context, action in cases:
        start = time.perf_counter()
        overseer.score_action(context, action)
        times.append((time.perf_counter() - start) * 1000)
    return {"calls": len(times), "p50_ms": round(float(np.percentile(times, 50)), 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2), "mean_ms": round(statistics.mean(times), 2)}


def big_file(path: Path, source: Path, gigabytes: float) -> int:
    """Ordinary records from `source`, one in ten followed by a multi-MB log dump, up to the size."""
    lines = source.read_bytes().splitlines()
    target, written, i = int(gigabytes * 2**30), 0, 0
    rng = np.random.default_rng(0)
    with open(path, "wb") as out:
        while written < target:
            obj = json.loads(lines[i % len(lines)])
            obj["id"] = f"{obj.get('id', 'run')}-{i}"
            chunk = json.dumps(obj).encode() + b"\n"
            if i % 10 == 0:
                dump = "\n".join(f"2026-11-27T10:{k % 60:02d}:00Z INFO worker-{k % 97} processed batch {k} "
                                 f"rows={rng.integers(1e6)}" for k in range(60_000))
                chunk += json.dumps({"id": f"dump-{i}", "messages": [
                    {"role": "user", "content": "Why is the nightly job slow?"},
                    {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "type": "function",
                     "function": {"name": "bash", "arguments": json.dumps({"command": "cat /var/log/job.log"})}}]},
                    {"role": "tool", "tool_call_id": f"c{i}", "content": dump},
                    {"role": "assistant", "content": "The log shows steady progress; no errors."}]}).encode() + b"\n"
            out.write(chunk)
            written += len(chunk)
            i += 1
    return written


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def peak_memory(path: Path, checkpoint: str | None, workers: int) -> dict:
    command = [sys.executable, "-m", "cbm.cli", "score", str(path), "--out", os.devnull, "--workers", str(workers)]
    if checkpoint:
        command += ["--checkpoint", checkpoint]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(0.05)
    return {"input_gb": round(path.stat().st_size / 2**30, 3), "workers": workers, "peak_rss_mb": round(peak),
            "seconds": round(time.perf_counter() - start, 1), "exit": proc.returncode,
            "summary": proc.stderr.read().strip().splitlines()[-1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbm_training.bench scoring", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="checkpoint directory (default: the shipped model)")
    parser.add_argument("--input", help="JSONL to score (default: --n generated trajectories)")
    parser.add_argument("--n", type=int, default=2000, help="generated trajectories (default %(default)s)")
    parser.add_argument("--calls", type=int, default=300, help="proposed actions timed (default %(default)s; 0: none)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--memory-gb", type=float, default=0.0, help="also measure peak memory on a file this big")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    figures: dict = {"cpus": os.cpu_count(), "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.input) if args.input else make_input(Path(tmp), args.n, seed=1)
        figures["batch"] = [throughput(path, args.checkpoint, w) for w in args.workers]
        for row in figures["batch"]:
            print(f"batch  workers={row['workers']}: {row['actions']} actions ({row['records']} records) in "
                  f"{row['seconds']} s = {row['actions_per_s']:,} actions/s (process start and model load included)")
        figures["facts"] = f = facts_speed(path)
        print(f"facts  one core: {f['actions']} actions in {f['seconds']} s = {f['actions_per_s']:,} actions/s; "
              f"{f['kb_commands']} commands of 1 KB: {f['kb_actions_per_s']:,} actions/s")
        if args.calls:  # --calls 0 leaves the latency out
            figures["action"] = a = action_latency(path, args.checkpoint, args.calls)
            print(f"action in context: {a['calls']} calls, p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms")
        if args.memory_gb:
            big = Path(tmp) / "big.jsonl"
            big_file(big, path, args.memory_gb)
            figures["memory"] = peak_memory(big, args.checkpoint, max(args.workers))
            m = figures["memory"]
            print(f"memory: {m['input_gb']} GB input, workers={m['workers']}: peak RSS {m['peak_rss_mb']} MB "
                  f"(process tree), {m['seconds']} s; {m['summary']}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")
    return 0
