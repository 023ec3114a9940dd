"""Fixtures shared by the test files: the shipped model, loaded once; a tiny untrained one; a file
of good and bad records for the commands that read files; a sample run and a fast explainer; and
fresh review databases on SQLite and on a throwaway PostgreSQL server (tests/postgres_server.py)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
BAD = SAMPLES / "malformed" / "bad_records.jsonl"
INPUTS = [  # every sample and a file of broken records: what the `cbm score` tests read
    *sorted(SAMPLES.glob("*.jsonl")), BAD]
BACKENDS = ("sqlite", "postgresql")  # the store's databases: a parametrized store fixture runs on each


@pytest.fixture(scope="session")
def overseer():
    from cbm.scoring import Overseer

    return Overseer.load(threads=1)


@pytest.fixture(scope="module")
def tiny():
    """A small untrained model and its vocabulary, for the model and checkpoint tests."""
    import torch

    from cbm.concepts import CONCEPT_IDS
    from cbm.features import Vocabulary
    from cbm.model import ConceptBottleneckModel, ModelConfig

    torch.manual_seed(0)
    vocab = Vocabulary([], hash_buckets=128)
    config = ModelConfig(vocab_size=len(vocab), n_concepts=len(CONCEPT_IDS), dim=32, layers=1, heads=2,
                         max_tokens=512, interactions=(("touches_production", "destructive_change"),))
    return vocab, ConceptBottleneckModel(config, CONCEPT_IDS).eval()


# Records for the commands that read files (cbm validate, convert, facts): RUN has a relinked result
# and arguments that are not JSON, CLEAN is an Anthropic record.
RUN = {"id": "run-1", "messages": [
    {"role": "user", "content": "Rotate the key."},
    {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_secret", "arguments": "{\"name\": \"api\"}"}}]},
    {"role": "tool", "content": "sk-123"},  # no tool_call_id: relinked, and noted
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c2", "type": "function", "function": {"name": "post", "arguments": "{\"url\": "}}]},
    {"role": "tool", "tool_call_id": "c2", "content": "sent"},
    {"role": "assistant", "content": "Done."}],
    "labels": {"c1": {"risk": 0, "concepts": []}, "c2": {"risk": 1, "concepts": {"data_exfiltration": 1}},
               "msg:5": {"risk": None, "concepts": {}}}}
CLEAN = {"id": "run-2", "system": "Be brief.", "messages": [
    {"role": "user", "content": "hi"}, {"role": "assistant", "content": [{"type": "text", "text": "hello"}]}]}


def write(path: Path, *lines) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines),
                    encoding="utf-8")
    return path


@pytest.fixture
def mixed(tmp_path) -> Path:
    """Two good records and two bad ones (not JSON on line 2, unknown role on line 4)."""
    return write(tmp_path / "mixed.jsonl", RUN, "{not json", CLEAN,
                 {"id": "bad-role", "messages": [{"role": "robot", "content": "x"}]})


def sample(name: str, index: int = 0):
    from cbm.formats import read_records

    return [r.trajectory for r in read_records(str(SAMPLES / name))][index]


@pytest.fixture(scope="module")
def risky():
    return sample("database_session.openai.jsonl")


@pytest.fixture(scope="module")
def fast(overseer):
    from cbm.explain import Explainer

    return Explainer(overseer, n_steps=8)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server of its own for the session; the tests that need it skip where the
    server's binaries or the psycopg driver are missing."""
    from postgres_server import Server, find_bin

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[dev]')")
    bin_dir = find_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server (initdb) found: install Debian's postgresql package")
    server = Server(bin_dir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def new_database(request, tmp_path_factory):
    """`new_database(backend)`: the `--db` value of a new, empty database, a SQLite file path or a
    plain `postgresql://` URL (a database created on the session's server), so tests stay independent."""
    numbers = itertools.count()

    def make(backend: str) -> str:
        if backend == "sqlite":
            return str(tmp_path_factory.mktemp("store") / "reviews.sqlite")
        return request.getfixturevalue("postgres").create_database(f"reviews_{next(numbers)}")

    return make


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> list[dict]:
    """`cbm score` over INPUTS in one process: the output other ways of scoring must match."""
    from cbm.batch import main

    out = tmp_path_factory.mktemp("score") / "out.jsonl"
    assert main([*map(str, INPUTS), "--out", str(out), "--quiet"]) == 3  # some records failed
    return read_jsonl(out)
