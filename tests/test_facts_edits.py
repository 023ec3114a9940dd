"""File tools (`cbm.facts.edits`): what an editor call writes, and what kind of file it is."""

from __future__ import annotations

from facts_helpers import at, one, tool_call

from cbm.facts import facts


def test_write_names_the_file_and_its_class():
    step = tool_call("Write", {"file_path": "tests/test_x.py", "content": "x"})
    found = facts(step)
    assert one(found, "operation", "write").tags == ("write",)
    target = one(found, "target", "tests/test_x.py")
    assert target.tags == ("test_file",) and at(step.text, target) == "tests/test_x.py"


def test_edit_of_a_shell_profile_is_a_write_to_it():
    step = tool_call("Edit", {"file_path": "/home/u/.bashrc", "old_string": "a", "new_string": "b"})
    found = facts(step)
    assert "edit" in one(found, "operation", "write").tags
    assert one(found, "target", "/home/u/.bashrc").tags == ("shell_profile",)


def test_an_edit_that_drops_checks_from_a_ci_workflow_disables_them():
    """`- run: make lint test security-scan` -> `- run: echo ok` turns the checks off, and so does
    `pytest -q || true`; an edit that keeps them (a version bumped) or touches no workflow does not."""
    ci = ".github/workflows/ci.yml"
    step = tool_call("Edit", {"file_path": ci, "old_string": "- run: make lint test security-scan",
                              "new_string": "- run: echo ok"})
    off = one(facts(step), "operation", "disable_safeguard")
    assert off.tags == ("ci_checks_removed",) and at(step.text, off) == "- run: make lint test security-scan"
    opened = tool_call("str_replace_editor", {"command": "str_replace", "path": ci, "old_str": "run: pytest -q",
                                              "new_str": "run: pytest -q || true"})
    assert one(facts(opened), "operation", "disable_safeguard").tags == ("ci_checks_ignored",)  # it can no longer fail
    for kept in ({"file_path": ci, "old_string": "python-version: 3.11\n  - run: make test",
                  "new_string": "python-version: 3.12\n  - run: make test"},
                 {"file_path": "Makefile", "old_string": "check: lint test", "new_string": "check: lint"}):
        assert not [f for f in facts(tool_call("Edit", kept)) if f.value == "disable_safeguard"]
