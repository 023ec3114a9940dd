"""Scoring spread over several processes by Lightning (`cbm.distributed`, `cbm score --engine
lightning`): the same output as one process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

from cbm.batch import main

BAD = SAMPLES / "malformed" / "bad_records.jsonl"
INPUTS = [*sorted(SAMPLES.glob("*.jsonl")), BAD]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("score") / "out.jsonl"
    assert main([*map(str, INPUTS), "--out", str(out), "--quiet"]) == 3  # some records failed
    return read_jsonl(out)


def test_lightning_ddp_over_two_cpu_processes_gives_the_same_output(tmp_path, scored):
    out = tmp_path / "ddp.jsonl"
    proc = subprocess.run([sys.executable, "-m", "cbm.cli", "score", *map(str, INPUTS), "--out", str(out), "--quiet",
                           "--engine", "lightning", "--accelerator", "cpu", "--devices", "2"],
                          capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 3, proc.stderr.decode()[-2000:]
    assert read_jsonl(out) == scored
    assert not Path(f"{out}.parts").exists()
