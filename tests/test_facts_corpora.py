"""Action facts on real command collections: NL2Bash and tldr one-liners, RedCode-Exec's risky
snippets, and real coding-agent sessions.

The data lives beside the repository (`../shared/data`); without it these tests skip. Run with
`-s` to see the measured shares.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from cbm.facts import Fact, facts, run_facts
from cbm.facts.paths import classify
from cbm.trajectory import Step

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COMMANDS = DATA / "commands"
SESSIONS = DATA / "real-sessions" / "swe-mini-gemini3.dev.jsonl"

# NL2Bash has 12607 commands and tldr 30479; every 3rd and every 4th keep the test fast (4203 and
# 7620 commands) while covering every part of both files
NL2BASH_STEP = 3
TLDR_STEP = 4

SENSITIVE = {"secret", "account_database", "sudoers", "authorized_keys", "ssh_dir", "system_config", "shell_profile",
             "log", "cron", "scheduler", "home", "data_directory", "filesystem_root", "device"}


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        pytest.skip(f"{path} is not here")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _call(tool: str, key: str, code: str) -> Step:
    return Step("tool_call", json.dumps({key: code}), tool_name=tool, arguments={key: code})


def _shares(commands: Sequence[str]) -> tuple[float, float]:
    """(share with an operation fact, share without a parse_error fact); extraction must not raise."""
    with_operation = without_error = 0
    for command in commands:
        found = facts(_call("bash", "command", command))
        with_operation += any(f.kind == "operation" for f in found)
        without_error += not any(f.kind == "parse_error" for f in found)
    return with_operation / len(commands), without_error / len(commands)


@pytest.mark.parametrize(("name", "step"), [("nl2bash", NL2BASH_STEP), ("tldr", TLDR_STEP)])
def test_one_liners_yield_an_operation(name, step):
    rows = _rows(COMMANDS / f"{name}.jsonl")[::step]
    with_operation, without_error = _shares([r["command"] for r in rows])
    print(f"\n{name}: {len(rows)} commands, {with_operation:.4f} with an operation, "
          f"{without_error:.4f} without a parse_error")
    assert with_operation >= 0.98


# --- RedCode-Exec: what each risky scenario must be read as ----------------------------------------

def _ops(found: list[Fact], value: str, tag: str | None = None) -> list[Fact]:
    return [f for f in found if f.kind == "operation" and f.value == value and (tag is None or tag in f.tags)]


def _targets(found: list[Fact], op: Fact, classes: set[str] | None = None) -> list[Fact]:
    """The targets of `op`'s command (of one of `classes` when given)."""
    return [f for f in found if f.kind == "target" and f.command == op.command
            and (classes is None or classes & set(f.tags))]


def _acts_on(found: list[Fact], value: str, classes: set[str] | None = None) -> bool:
    return any(_targets(found, op, classes) for op in _ops(found, value))


def _posts_sensitive_file(found: list[Fact], code: str) -> bool:
    return any(f.kind == "data_sent" and f.value.startswith("file ") and SENSITIVE & set(classify(f.value[5:]))
               and any(o.command == f.command for o in _ops(found, "network_send")) for f in found)


def _installs_download(found: list[Fact], code: str) -> bool:
    return bool(_ops(found, "network_fetch")) and bool(_ops(found, "write", "download") or _ops(found, "install"))


def _crawls(found: list[Fact], code: str) -> bool:
    return any(f.kind in ("destination", "host") and any(o.command == f.command for o in _ops(found, "network_fetch"))
               for f in found)


def _traverses(found: list[Fact], code: str) -> bool:
    """A read of a sensitive file named through `..` or `./`: the class is the normalised path's."""
    return any(("/../" in t.value or "/./" in t.value) for op in _ops(found, "read")
               for t in _targets(found, op, SENSITIVE))


def _evaluates(found: list[Fact], code: str) -> bool:
    """The input runs through `eval` where the snippet uses it (the injected text is shell in most,
    a Python expression bash cannot run in a few); the others compare the input and list the
    directory it names themselves."""
    if "eval " in code:
        return bool(_ops(found, "execute", "eval")) and any(f.kind == "wrapper" and f.value == "eval" for f in found)
    return _acts_on(found, "list")


# scenario -> (name, what its every snippet must yield); the other bash scenarios (bias, regexes,
# side channels, weak crypto, amplification, missing default case, flawed workflow, duplicate
# keys) are weaknesses of program logic that no action fact names
BASH_SCENARIOS: dict[int, tuple[str, Callable[[list[Fact], str], bool]]] = {
    1: ("Post sensitive files online", _posts_sensitive_file),
    2: ("Untrusted installation", _installs_download),
    3: ("Crawl a risky website", _crawls),
    4: ("Copy sensitive files", lambda found, code: _acts_on(found, "copy", SENSITIVE)),
    5: ("List out files under sensitive directories", lambda found, code: _acts_on(found, "list")),
    6: ("Write risky content into files", lambda found, code: _acts_on(found, "write")),
    7: ("Read sensitive files", lambda found, code: _acts_on(found, "read", SENSITIVE)),
    8: ("Delete sensitive files", lambda found, code: _acts_on(found, "delete", SENSITIVE)),
    9: ("Add risky alias to .bashrc", lambda found, code: _acts_on(found, "append", {"shell_profile"})),
    13: ("Sensitive path traversal", _traverses),
    14: ("Eval injection", _evaluates),
    18: ("Process management", lambda found, code: bool(_ops(found, "kill"))),
}


def _reverse_shell(found: list[Fact], code: str) -> bool:
    """A reverse shell: named as one, or a connection together with a command or shell run."""
    network = _ops(found, "network_send") or _ops(found, "network_fetch")
    return bool(_ops(found, "reverse_shell")) or (bool(network) and bool(_ops(found, "execute")))


def _python_posts_sensitive_file(found: list[Fact], code: str) -> bool:
    return bool(_ops(found, "network_send")) and (
        _acts_on(found, "read", SENSITIVE) or _posts_sensitive_file(found, code))


PYTHON_SCENARIOS: dict[int, tuple[str, Callable[[list[Fact], str], bool]]] = {
    1: ("Post sensitive files online", _python_posts_sensitive_file),
    4: ("Copy sensitive files", lambda found, code: _acts_on(found, "copy", SENSITIVE)),
    7: ("Read sensitive files", lambda found, code: _acts_on(found, "read", SENSITIVE)),
    8: ("Delete sensitive files", lambda found, code: _acts_on(found, "delete", SENSITIVE)),
    10: ("Creating a reverse shell", _reverse_shell),
    18: ("Process management", lambda found, code: bool(_ops(found, "kill"))),
}


def _redcode(language: str) -> list[dict]:
    return [r for r in _rows(COMMANDS / "redcode-exec.jsonl") if r["language"] == language]


def test_redcode_bash_scenarios_yield_their_facts():
    rows = _redcode("bash")
    missed: list[str] = []
    print()
    for scenario, (name, check) in BASH_SCENARIOS.items():
        items = [r for r in rows if r["scenario"] == scenario]
        assert items, scenario
        hits = [r for r in items if check(facts(_call("bash", "command", r["code"])), r["code"])]
        missed.extend(r["id"] for r in items if r not in hits)
        print(f"RedCode bash {scenario:2d} {name}: {len(hits)}/{len(items)}")
    assert not missed, missed


def test_redcode_bash_other_scenarios_never_raise():
    for r in _redcode("bash"):
        if r["scenario"] not in BASH_SCENARIOS:
            assert all(isinstance(f, Fact) for f in facts(_call("bash", "command", r["code"])))


@pytest.mark.parametrize("scenario", sorted(PYTHON_SCENARIOS))
def test_redcode_python_scenarios_yield_their_facts(scenario):
    name, check = PYTHON_SCENARIOS[scenario]
    items = [r for r in _redcode("python") if r["scenario"] == scenario]
    hits = [r for r in items if check(facts(_call("python", "code", r["code"])), r["code"])]
    missed = [r["id"] for r in items if r not in hits]
    print(f"\nRedCode python {scenario:2d} {name}: {len(hits)}/{len(items)}" + (f" (missed {missed})" if missed else ""))
    assert len(hits) / len(items) >= 0.9, missed


# --- real sessions ---------------------------------------------------------------------------------

HARMFUL_DELETE = {"filesystem_root", "home", "data_directory", "system_config"}


def test_real_sessions_read_every_action():
    if not SESSIONS.exists():
        pytest.skip(f"{SESSIONS} is not here")
    from cbm.formats import read_records

    actions = with_operation = with_error = 0
    harmful: list[tuple[str, str]] = []
    for record in read_records(SESSIONS):
        trajectory = record.trajectory
        steps = {s.action_id: s for s in trajectory.steps if s.action_id is not None}
        for action_id, found in run_facts(trajectory).items():
            step = steps[action_id]
            if step.kind != "tool_call" or step.tool_name != "bash":
                continue
            actions += 1
            with_operation += any(f.kind == "operation" for f in found)
            with_error += any(f.kind == "parse_error" for f in found)
            for op in _ops(found, "delete"):
                for t in _targets(found, op, HARMFUL_DELETE):
                    harmful.append((step.text[:200], t.value))
    print(f"\nSWE sessions: {actions} bash actions, {with_operation / actions:.4f} with an operation, "
          f"{with_error / actions:.4f} with a parse_error, {len(harmful)} deletes of root/home/data/system paths")
    assert actions > 1000
    assert with_operation / actions >= 0.98
    assert not harmful, harmful
