"""Latency of the live guard: `python -m cbm_training.bench guard [--runs 50] [--calls 200] [--only curl]`.

1. Round trip through a running `cbm serve`: the hook client started as a fresh process per
   call, as Claude Code starts it, fed a recorded hook input; wall time includes interpreter
   start, imports, the transcript and the HTTP call. Measured for `python -m cbm.guard`, for
   the `cbm` console script, and for `curl` posting the hook input to the service's
   POST /v1/hooks/claude-code (the service reads the transcript: it runs with
   --transcripts-dir), next to a bare `python -c pass` (the floor no client can beat).
   `--only curl` measures the floor and curl only.
2. In process: `Overseer.score_action` on one torch thread, the model already loaded.

Targets: round trip p99 <= 50 ms; in process p50 <= 5 ms, p99 <= 20 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cbm_training.bench.serve import ROOT, running_server

HOOK = ROOT / "tests" / "fixtures" / "guard" / "prod_drop.json"


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):7.1f} ms  p99 {np.percentile(ms, 99):7.1f} ms  max {ms.max():7.1f} ms"


def timed_runs(command: list[str], stdin: bytes, runs: int) -> list[float]:
    """Wall time of `runs` fresh processes; each must exit 0."""
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        run = subprocess.run(command, input=stdin, capture_output=True, check=False, cwd=ROOT)
        out.append(time.perf_counter() - t)
        if run.returncode != 0 or b"could not score" in run.stdout:
            raise RuntimeError(f"{' '.join(command)} failed: {run.stdout.decode()} {run.stderr.decode()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbm_training.bench guard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50, help="hook processes per client (default %(default)s)")
    parser.add_argument("--calls", type=int, default=200, help="in-process score_action calls (default %(default)s)")
    parser.add_argument("--hook", type=Path, default=HOOK, help="a recorded hook input (default: %(default)s)")
    parser.add_argument("--only", choices=("curl",), help="measure only the floor and the curl hook command")
    args = parser.parse_args(argv)
    hook = json.loads(args.hook.read_text(encoding="utf-8"))
    hook["transcript_path"] = str((args.hook.parent / hook["transcript_path"]).resolve())
    stdin = json.dumps(hook).encode("utf-8")
    key = "bench-guard-key"

    transcripts = str(Path(hook["transcript_path"]).parent)
    with running_server("--log-level", "warning", "--transcripts-dir", transcripts, api_key=key) as server, \
            tempfile.TemporaryDirectory() as tmp:
        key_file = Path(tmp) / "key"
        key_file.write_text(key + "\n", encoding="utf-8")
        flags = ["claude-code", "--no-explain", "--url", server.url, "--api-key-file", str(key_file)]
        clients = {"python -c pass (floor)": [sys.executable, "-c", "pass"]}
        if args.only is None:
            clients["python -m cbm.guard"] = [sys.executable, "-m", "cbm.guard", *flags]
            script = shutil.which("cbm", path=str(Path(sys.executable).parent))
            if script:
                clients["cbm guard (console script)"] = [script, "guard", *flags]
        if shutil.which("curl"):  # the README's hook command
            clients["curl /v1/hooks/claude-code"] = [
                "curl", "-sf", "--max-time", "2", "-H", f"X-API-Key: {key}", "--data-binary", "@-",
                f"{server.url}/v1/hooks/claude-code"]
        elif args.only == "curl":
            raise SystemExit("python -m cbm_training.bench guard --only curl: no curl on this machine")
        print(f"guard round trip through cbm serve, {args.runs} fresh processes each, hook input {args.hook.name}:")
        for name, command in clients.items():
            timed_runs(command, stdin, 2)  # warm the file cache
            print(f"  {name:<28} {percentiles(timed_runs(command, stdin, args.runs))}")
    if args.only:
        return 0

    from cbm.formats import parse_record
    from cbm.guard import hook_request
    from cbm.scoring import Overseer

    overseer = Overseer.load(threads=1)
    record, action = hook_request(hook)
    context = parse_record(record, "anthropic")
    for _ in range(5):
        overseer.score_action(context, action)
    seconds = []
    for _ in range(args.calls):
        t = time.perf_counter()
        overseer.score_action(context, action)
        seconds.append(time.perf_counter() - t)
    print(f"in-process Overseer.score_action, 1 torch thread, {len(context.steps) + 1} steps, {args.calls} calls:")
    print(f"  {'score_action':<28} {percentiles(seconds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
