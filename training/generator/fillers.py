"""Harmless steps any run may contain: looking around before and between the real work.

Each filler is an action with no concept set. They are generic on purpose: families add
their own domain-specific benign steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from training.generator.pools import LANG_FILES, PACKAGES

if TYPE_CHECKING:
    from training.generator.builder import Run


def _ls(run: Run) -> None:
    files = run.rng.sample(["README.md", "src", "tests", "Makefile", "pyproject.toml", "package.json", ".github",
                            "docs", "scripts", "Dockerfile", "docker-compose.yml", "config", ".env.example",
                            "requirements.txt", "setup.cfg", "LICENSE", "CHANGELOG.md", "migrations"], 8)
    lines = [f"{'drwxr-xr-x' if '.' not in f else '-rw-r--r--'}  1 {run.names.user()} staff  "
             f"{run.rng.randint(96, 40960):>6} Nov {run.rng.randint(1, 27):>2} {run.rng.randint(0, 23):02d}:"
             f"{run.rng.randint(0, 59):02d} {f}" for f in files]
    run.think(thing="what is in the working directory")
    run.shell(run.rng.choice(["ls -la", "ls", "ls -lah .", "find . -maxdepth 1"]), "total 64\n" + "\n".join(lines))


def _pwd(run: Run) -> None:
    run.shell("pwd", f"/home/{run.names.user()}/{run.names.repo()}")


def _git_status(run: Run) -> None:
    branch = run.rng.choice(["main", "develop", f"feature/{run.names.token(5).lower()}", "fix/timeouts"])
    changed = run.rng.sample(sum(LANG_FILES.values(), []), run.rng.randint(0, 3))
    body = "\n".join(f"\tmodified:   {f}" for f in changed)
    out = f"On branch {branch}\nYour branch is up to date with 'origin/{branch}'.\n\n" + (
        f"Changes not staged for commit:\n{body}\n" if changed else "nothing to commit, working tree clean")
    run.shell("git status", out)


def _git_log(run: Run) -> None:
    msgs = ["Fix flaky test in checkout flow", "Bump dependencies", "Add retry to webhook sender",
            "Refactor pricing module", "Update README", "Handle empty cart", "Add index on orders.created_at",
            "Improve logging for auth failures", "Remove dead feature flag"]
    lines = [f"{run.names.hex(7)} {m}" for m in run.rng.sample(msgs, 5)]
    run.shell(run.rng.choice(["git log --oneline -5", "git log --oneline | head -5"]), "\n".join(lines))


def _read_readme(run: Run) -> None:
    repo = run.names.repo()
    text = (f"# {repo}\n\n{repo.replace('-', ' ').title()} for {run.names.company.title()}.\n\n## Development\n\n"
            "```\nmake install\nmake test\n```\n\nSee docs/ for architecture notes.")
    run.think(thing="the README")
    run.call("read", {"path": "README.md"}, text)


def _df(run: Run) -> None:
    used = run.rng.randint(20, 85)
    run.shell("df -h /", f"Filesystem      Size  Used Avail Use% Mounted on\n/dev/nvme0n1p1  200G  {used * 2}G "
                         f"{200 - used * 2}G  {used}% /")


def _uptime(run: Run) -> None:
    run.shell("uptime", f" {run.rng.randint(0, 23):02d}:{run.rng.randint(0, 59):02d}:11 up {run.rng.randint(1, 300)} "
                        f"days,  3 users,  load average: {run.rng.uniform(0, 4):.2f}, {run.rng.uniform(0, 4):.2f}, "
                        f"{run.rng.uniform(0, 4):.2f}")


def _grep(run: Run) -> None:
    word = run.rng.choice(["TODO", "deprecated", "timeout", "retry", "FIXME", "cache"])
    files = run.rng.sample(sum(LANG_FILES.values(), []), 3)
    out = "\n".join(f"{f}:{run.rng.randint(3, 400)}:    # {word}: revisit this" for f in files)
    run.shell(f"grep -rn '{word}' src/ | head", out)


def _pip_list(run: Run) -> None:
    pkgs = run.rng.sample(PACKAGES, 6)
    out = "Package    Version\n---------- -------\n" + "\n".join(
        f"{p:<10} {run.rng.randint(0, 3)}.{run.rng.randint(0, 30)}.{run.rng.randint(0, 9)}" for p in pkgs)
    run.shell(run.rng.choice(["pip list | head -20", "pip freeze | head"]), out)


def _cat_config(run: Run) -> None:
    run.call("read", {"path": run.rng.choice(["config/settings.yaml", "setup.cfg", "pyproject.toml"])},
             "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\naddopts = \"-q\"\n\n[tool.ruff]\nline-length = 100")


FILLERS: list[Callable[[Run], None]] = [_ls, _pwd, _git_status, _git_log, _read_readme, _df, _uptime, _grep,
                                        _pip_list, _cat_config]
