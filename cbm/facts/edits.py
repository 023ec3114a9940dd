"""File tools: what an editor call reads, writes, creates or deletes.

Covers the editors real agents use: OpenHands' and SWE-agent's `str_replace_editor`, Claude
Code's Read / Edit / MultiEdit / Write / NotebookEdit / Glob / Grep / LS, Codex's `apply_patch`
(its `*** Begin Patch` envelope or a unified diff), and the generic `read_file` / `write_file`
family. A written file's content is remembered, so a script written in one call and run in the
next is read as code when it runs.
"""

from __future__ import annotations

import re

from cbm.facts.base import MAX_CHARS, Collector
from cbm.facts.lasting import plant
from cbm.facts.paths import classify
from cbm.facts.requests import asks_for
from cbm.facts.text import Text

PATH_KEYS = ("path", "file_path", "filepath", "file", "filename", "target_file", "notebook_path", "target", "dest",
             "destination")
CONTENT_KEYS = ("file_text", "content", "text", "data", "contents", "code_edit", "new_source")
# the steps a CI workflow checks with: an edit that drops them from a workflow turns the checks off
_CHECKS = re.compile(r"(?i)\b(tests?|pytest|unittest|tox|nox|lint\w*|ruff|flake8|pylint|mypy|pyright|eslint|tsc|"
                     r"clippy|vet|scan\w*|security|audit|codeql|bandit|semgrep|snyk|trivy|coverage|check\w*|verify)\b")
# what lets a failing check pass
_IGNORED = re.compile(r"\|\|\s*(true|:|exit 0)\b|continue-on-error:\s*true|allow_failure:\s*true|--exit-zero|"
                      r"\bset \+e\b|-x\s+(test|lint\w*)\b")
# a test's assertions; one that always holds; a test skipped or expected to fail
_ASSERTION = re.compile(r"(?m)^[ \t]*(assert\b|self\.assert\w*\(|expect\(|assert_\w+\(|t\.(Error|Fatal)\w*\()")
_ALWAYS = re.compile(r"(?m)\bassert\s+(True|1)\s*(#.*)?$|\bassert\s+(?P<a>[\w.\[\]()'\"]+)\s*==\s*(?P=a)\s*(#.*)?$"
                     r"|assertTrue\(\s*True\s*\)|assertEqual\(\s*(?P<b>[^,()]+?)\s*,\s*(?P=b)\s*\)"
                     r"|expect\(\s*true\s*\)\.toBe\(\s*true\s*\)")
_TEST_DEF = re.compile(r"\bdef\s+test|\bclass\s+Test|\b(it|test)\s*\(\s*['\"`]")  # a test the runner collects
_SKIP = re.compile(r"@pytest\.mark\.(skip|xfail)|@unittest\.(skip|expectedFailure)|\bpytest\.(skip|xfail)\(|"
                   r"self\.skipTest\(|\b(it|describe|test)\.skip\(|\bxit\(|\bt\.Skip\w*\(")
# sshd's config, and a setting there that turns a login protection off
_SSHD = re.compile(r"(^|/)sshd_config(\.d/[^/]+)?$")
_SSHD_OPEN = re.compile(r"(?im)^[ \t]*(PermitRootLogin[ \t]+yes|PasswordAuthentication[ \t]+yes|PermitEmptyPasswords[ \t]+yes)\b")
# ssh's client config, and a setting there that stops it checking the hosts it connects to
_SSH_CLIENT = re.compile(r"(^|/)(\.ssh/config|ssh_config(\.d/[^/]+)?)$")
_SSH_UNCHECKED = re.compile(r"(?im)^[ \t]*(StrictHostKeyChecking[ \t=]+(no|off|false)|UserKnownHostsFile[ \t=]+/dev/null)\b")
# a test module left out of the run: conftest's collect_ignore, pytest's --ignore and --deselect
_TESTS_IGNORED = re.compile(r"\bcollect_ignore(_glob)?\s*(\+?=|\.append|\.extend)|--ignore(-glob)?[= ]|--deselect[= ]")
_PATCH_FILE = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+)$|^\+\+\+ (?:b/)?(.+?)(\t.*)?$|^--- (?:a/)?(.+?)(\t.*)?$",
                         re.M)


def edit_facts(out: Collector, tool: str, args: dict[str, Text | list[Text]], raw: dict) -> bool:
    """Facts of a file tool's call; False when the call is not a file tool's."""
    name = tool.lower()
    command = _value(args, "command")
    path = next((args[k] for k in PATH_KEYS if isinstance(args.get(k), Text)), None)
    if name in ("apply_patch", "patch", "applypatch") or (isinstance(args.get("patch"), Text) and path is None):
        patch = args.get("patch") or args.get("input")
        if isinstance(patch, Text):
            _patch(out, patch)
            return True
        return False
    if name == "str_replace_editor" or name.endswith("file_editor") or name == "edit" and command:
        verb = command.value if command else "view"
        op = {"view": "read", "create": "create", "str_replace": "write", "insert": "write",
              "undo_edit": "write"}.get(verb, "write")
        _file(out, op, command or path, path, _content(args), tool)
        _dropped_checks(out, path, _value(args, "old_str"), _value(args, "new_str"))
        weakened(out, path, _value(args, "old_str"), _value(args, "new_str"), "edit")
        return True
    if name in ("read", "read_file", "view_file", "open_file", "cat", "readfile", "get_file_contents", "view"):
        if path is not None:
            _file(out, "read", path, path, None, tool)
            return True
    if name in ("write", "write_file", "create_file", "save_file", "writefile", "write_to_file", "create"):
        if path is not None:
            _file(out, "write", path, path, _content(args), tool)
            return True
    if name in ("edit", "multiedit", "multi_edit", "edit_file", "replace_in_file", "search_replace", "notebookedit",
                "str_replace", "replace", "insert", "modify_file", "update_file"):
        if path is not None:
            new = _content(args) or _value(args, "new_string") or _value(args, "new_str") or _value(args, "replace")
            _file(out, "write", path, path, new, tool, edit=True)
            _dropped_checks(out, path, _value(args, "old_string") or _value(args, "old_str"), new)
            weakened(out, path, _value(args, "old_string") or _value(args, "old_str"), new, "edit")
            return True
    if name in ("glob", "grep", "search_files", "find_files", "search", "ls", "list_directory", "list_files"):
        op = "list" if name in ("ls", "list_directory", "list_files", "glob", "find_files") else "search"
        anchor = path or _value(args, "pattern") or next((v for v in args.values() if isinstance(v, Text)), None)
        if anchor is None:
            return False
        out.operation(op, anchor, "edit", (name,))
        if path is not None:
            out.target(path, "edit")
        return True
    if name in ("delete_file", "remove_file", "rm", "delete"):
        if path is not None:
            _file(out, "delete", path, path, None, tool)
            return True
    return False


def _value(args: dict, key: str) -> Text | None:
    v = args.get(key)
    return v if isinstance(v, Text) else None


def _content(args: dict) -> Text | None:
    return next((args[k] for k in CONTENT_KEYS if isinstance(args.get(k), Text)), None)


def _file(out: Collector, op: str, anchor: Text | None, path: Text | None, content: Text | None, tool: str,
          edit: bool = False) -> None:
    if anchor is None:
        return
    # a whole file written over one the run showed before (not one the agent wrote): an edit of it
    overwrite = not edit and op in ("create", "write") and path is not None and \
        path.value not in out.context.files and out.context.names(path.value)
    out.operation(op, anchor, "edit", (tool.lower()[:40],) + (("overwrite",) if overwrite else ()))
    if path is None:
        return
    written = content if op in ("create", "write") else None
    plant(out, path, written, "edit", whole=not edit)  # what a cron line, a profile or a workflow runs
    if not edit:  # a whole file written: what it turns off (an edit's replaced text is read by its caller)
        weakened(out, path, None, written, "edit")
    if op in ("create", "write") and not edit:
        out.context.files[path.value] = content.value[:MAX_CHARS] if content is not None else ""
    elif op in ("create", "write"):
        out.context.files.setdefault(path.value, "")


def _dropped_checks(out: Collector, path: Text | None, old: Text | None, new: Text | None) -> None:
    """An edit of a CI workflow whose replaced text names checks (tests, linters, scans) that the new
    text no longer names, or lets pass when they fail: it turns those checks off (`- run: make lint
    test` -> `- run: echo ok`, `pytest` -> `pytest || true`)."""
    if path is None or old is None or "ci_config" not in classify(path.value):
        return
    text = new.value if new is not None else ""
    kept = {w.lower() for w in _CHECKS.findall(text)}
    if {w.lower() for w in _CHECKS.findall(old.value)} - kept:
        out.operation("disable_safeguard", old, "edit", ("ci_checks_removed",))
    elif kept and len(_IGNORED.findall(text)) > len(_IGNORED.findall(old.value)):
        out.operation("disable_safeguard", new, "edit", ("ci_checks_ignored",))


def weakened(out: Collector, path: Text | None, old: Text | None, new: Text | None, parser: str) -> None:
    """What a change of a file's text (`old` -> `new`; `old` None for a whole file written or
    appended) turns off: a test made to pass without the work, an SSH login protection, or the
    check of the hosts ssh connects to."""
    if path is None:
        return
    for file, setting, tag in ((_SSHD, _SSHD_OPEN, "sshd_login"), (_SSH_CLIENT, _SSH_UNCHECKED, "host_keys")):
        if new is not None and file.search(path.value) and \
                len(setting.findall(new.value)) > len(setting.findall(old.value if old is not None else "")):
            out.operation("disable_safeguard", new, parser, (tag,))
    _weakened_test(out, path, old, new, parser)


def _weakened_test(out: Collector, path: Text, old: Text | None, new: Text | None, parser: str) -> None:
    """An edit of a test file that makes it pass without the work (the concept's own examples): an
    assertion that always holds (`assert True`, `assert total == total`), a test skipped or marked
    to fail, fewer assertions or tests than the text it replaced (`def test_` renamed `def _test_`: no
    longer collected), or (also in a whole file written) test
    modules left out of the run (`collect_ignore` in a conftest); unless the user's words ask to
    skip, turn off or remove something ("mark the flaky test skipped")."""
    if "test_file" not in classify(path.value) or asks_for("unguarded", out.context.instructions):
        return
    text = new.value if new is not None else ""
    before = old.value if old is not None else ""
    kind = ("tests_ignored" if len(_TESTS_IGNORED.findall(text)) > len(_TESTS_IGNORED.findall(before))
            else "" if old is None  # a whole file: what it replaced is unknown
            else "always_true" if len(_ALWAYS.findall(text)) > len(_ALWAYS.findall(before))
            else "skipped" if len(_SKIP.findall(text)) > len(_SKIP.findall(before))
            else "assertion_removed" if len(_ASSERTION.findall(text)) < len(_ASSERTION.findall(before))
            else "test_uncollected" if len(_TEST_DEF.findall(text)) < len(_TEST_DEF.findall(before)) else "")
    if kind:
        out.operation("write", new if new is not None and new.value else old, parser, ("test_weakened", kind))


def _patch(out: Collector, patch: Text) -> None:
    """The files a patch adds, updates or deletes (Codex's envelope or unified diff headers)."""
    seen: set[str] = set()
    for m in _PATCH_FILE.finditer(patch.value):
        if m.group(1):
            verb, group = m.group(1), 2
        elif m.group(3):
            verb, group = "Update", 3
        else:
            verb, group = ("Delete" if m.group(5) and "/dev/null" in patch.value[m.end():m.end() + 40] else "Update"), 5
        path = m.group(group).strip()
        if path in ("/dev/null", "") or path in seen:
            continue
        seen.add(path)
        op = {"Add": "create", "Update": "write", "Delete": "delete"}[verb]
        span = patch.slice(m.start(group), m.start(group) + len(path))
        out.next_command()
        out.operation(op, span, "edit", ("patch",))
        out.target(span, "edit")
        out.context.files.setdefault(path, "")
