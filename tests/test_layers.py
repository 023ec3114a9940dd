"""The layers of the code base (pyproject.toml's import-linter contract): core, pipeline,
commands, then training/ and app/, with no import cycle inside a package."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cbm

from conftest import ROOT


def _contract() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_the_import_contract_holds():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    proc = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


def test_every_module_of_cbm_has_a_layer():
    """A new module must be placed: the contract only checks the modules it names."""
    named = {m.strip() for layer in _contract()["layers"]["layers"] for m in layer.replace(":", "|").split("|")}
    modules = {f"cbm.{m.name}" for m in pkgutil.iter_modules(cbm.__path__)}
    assert modules - named == set(), "add these to a layer in pyproject.toml"
    assert {m for m in named if m.startswith("cbm.")} - modules == set()
