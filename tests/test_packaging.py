"""The package as a user installs it: a wheel built from this tree and installed (not editable)
into a new virtual environment outside the repository, one that already holds packages of its own
named `app` and `training`, as many projects do. From a folder outside the repository, `cbm score`
scores a sample with the shipped model, `cbm serve` answers over HTTP and `cbm app` starts and
shows the bundled samples.

The wheel is built without build isolation, so its build requirements (setuptools) come from this
environment and nothing is downloaded. The new environment gets no copy of the dependencies: the
wheel is installed first, with `--no-deps`, and only then does a .pth file put this environment's
site-packages after its own. A .pth file read that way only adds the folder: the editable install's
finder in this environment is not started, so `cbm`, `cbm_app` and `cbm_training` can only come from
the wheel, which the tests check.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES


def _pip_version() -> tuple[int, ...]:
    try:
        from pip import __version__
    except ImportError:
        return ()
    return tuple(int(p) for p in __version__.split(".")[:2] if p.isdigit())


pytestmark = [
    pytest.mark.wheel,
    pytest.mark.skipif(importlib.util.find_spec("setuptools") is None,
                       reason="building the wheel without network needs setuptools installed in this environment "
                              "(pip wheel --no-build-isolation)"),
    pytest.mark.skipif(_pip_version() < (22, 3),
                       reason="installing into another environment needs pip >= 22.3 (pip --python)"),
]

TOP_LEVEL = {"cbm", "cbm_app", "cbm_training"}
# the repository folder each installed package comes from (pyproject.toml, [tool.setuptools] package-dir)
FOLDERS = {"cbm": "cbm", "cbm_training": "training", "cbm_app": "app", "cbm/checkpoints": "checkpoints",
           "cbm/data": "data", "cbm/reports": "reports"}
# what the library reads at run time from the folders outside cbm/, training/ and app/
RUN_TIME_DATA = ["checkpoints/__init__.py", "checkpoints/default/config.json", "checkpoints/default/weights.pt",
                 "data/__init__.py", "data/risk_policy.yaml", "data/trajectory.schema.json",
                 "data/explanation.schema.json", *(f"data/samples/{p.name}" for p in sorted(SAMPLES.glob("*.jsonl"))),
                 "reports/__init__.py", "reports/reliability.png"]
DUMMY = "the user's own {name} package"


def installed_name(repo_path: str) -> str:
    """Where a repository file lands in the wheel: `app/icon.png` -> `cbm_app/icon.png`."""
    for package, folder in sorted(FOLDERS.items(), key=lambda kv: -len(kv[1])):
        if repo_path.startswith(folder + "/"):
            return package + repo_path[len(folder):]
    raise ValueError(repo_path)


def source_files() -> list[str]:
    """The files a checkout holds (tracked or new, not ignored), relative to the repository root."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True, timeout=60).stdout
        return sorted(p for p in out.split("\0") if p and (ROOT / p).is_file())
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: the folders the wheel is made of
        return sorted(str(p.relative_to(ROOT)) for folder in ("pyproject.toml", "README.md", *FOLDERS.values())
                      for p in ([ROOT / folder] if (ROOT / folder).is_file() else (ROOT / folder).rglob("*"))
                      if p.is_file() and "__pycache__" not in p.parts)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that points at this repository or its settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CBM_", "PYTHON", "VIRTUAL_ENV", "STREAMLIT_"))}
    return {**env, "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of this tree (the build leaves nothing in the repository)."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("wheel")
    for name in source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (built,) = out.glob("cbm_oversight-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A new environment outside the repository: packages `app` and `training` of its own, then the
    wheel (no dependencies), then this environment's site-packages after its own."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    for name in ("app", "training"):
        (purelib / name).mkdir()
        (purelib / name / "__init__.py").write_text(f"NAME = {DUMMY.format(name=name)!r}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], capture_output=True, text=True, timeout=300, env=clean_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (purelib / "zz_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    """A working folder outside the repository with a sample copied into it."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    shutil.copy(SAMPLES / "database_session.openai.jsonl", tmp_path / "sample.jsonl")
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def started(command: list[str], cwd: Path, url: str, timeout: float = 90) -> Iterator[subprocess.Popen]:
    """A server started in `cwd`, once `url` answers 200; stopped afterwards."""
    log = cwd / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=clean_env())
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{' '.join(command[1:])} did not start:\n{log.read_text()[-4000:]}")
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def test_the_wheel_holds_every_module_and_run_time_file_under_its_own_names(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == TOP_LEVEL, "nothing may install under a generic top-level name"
    # every file of cbm/, training/ and app/ but the shell scripts run from a checkout, and the data
    # files read at run time from checkpoints/, data/ and reports/
    files = [p for p in source_files() if p.split("/")[0] in ("cbm", "training", "app") and not p.endswith(".sh")]
    expected = {installed_name(p) for p in files + RUN_TIME_DATA}
    assert expected - names == set(), "pyproject.toml's packages or package-data miss these"


def test_a_user_package_named_app_or_training_and_the_wheel_both_import(venv):
    code = """if True:
        import json, app, training, cbm, cbm_app.launch, cbm_app.store, cbm_training.config, cbm_training.generate
        from cbm.options import default_checkpoint
        from cbm_training.generator.policy import DEFAULT_POLICY
        print(json.dumps({"app": app.NAME, "training": training.NAME,
                          "files": [m.__file__ for m in (cbm, cbm_app.launch, cbm_training.generate)],
                          "data": [str(p) for p in (default_checkpoint(), cbm_app.launch.SAMPLES, DEFAULT_POLICY)]}))
    """
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=venv.parent, capture_output=True,
                          text=True, timeout=120, env=clean_env())
    assert proc.returncode == 0, proc.stderr[-4000:]
    found = json.loads(proc.stdout)
    assert found["app"] == DUMMY.format(name="app") and found["training"] == DUMMY.format(name="training")
    for path in found["files"] + found["data"]:  # the wheel's, never the repository's
        assert Path(path).resolve().is_relative_to(venv.resolve()), path
        assert Path(path).exists(), path


def test_cbm_score_from_the_wheel_scores_a_sample_with_the_shipped_model(venv, outside):
    proc = subprocess.run([str(venv / "bin" / "cbm"), "score", "sample.jsonl", "--out", "x.jsonl"], cwd=outside,
                          capture_output=True, text=True, timeout=180, env=clean_env())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    rows = [json.loads(line) for line in (outside / "x.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and all(0 <= r["risk"] <= 1 for r in rows)
    assert any(r["flagged"] for r in rows)  # the sample drops a production table


def test_cbm_serve_from_the_wheel_answers_and_scores(venv, outside):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with started([str(venv / "bin" / "cbm"), "serve", "--port", str(port)], outside, f"{url}/healthz"):
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert json.load(response)["status"] == "ok"
        request = urllib.request.Request(f"{url}/v1/score", data=(outside / "sample.jsonl").read_bytes(),
                                         headers={"Content-Type": "application/x-ndjson"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
    assert answer["summary"]["scored"] == 1 and answer["summary"]["failed"] == 0


def test_cbm_app_from_the_wheel_starts_with_the_bundled_samples(venv, outside):
    from cbm_app.store import Store, database_url

    port, db = free_port(), outside / "reviews.sqlite"
    with started([str(venv / "bin" / "cbm"), "app", "--port", str(port), "--db", str(db)], outside,
                 f"http://127.0.0.1:{port}/_stcore/health"):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"<html" in response.read().lower()
    assert Store(database_url(str(db))).counts()["trajectories"] >= len(list(SAMPLES.glob("*.jsonl")))
