"""Scoring spread over several processes by Lightning (`cbm.distributed`, `cbm score --engine
lightning`): the same output as one process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import INPUTS, ROOT, read_jsonl


def test_lightning_ddp_over_two_cpu_processes_gives_the_same_output(tmp_path, scored):
    out = tmp_path / "ddp.jsonl"
    proc = subprocess.run([sys.executable, "-m", "cbm.cli", "score", *map(str, INPUTS), "--out", str(out), "--quiet",
                           "--engine", "lightning", "--accelerator", "cpu", "--devices", "2"],
                          capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]
    assert read_jsonl(out) == scored
    assert not Path(f"{out}.parts").exists()
