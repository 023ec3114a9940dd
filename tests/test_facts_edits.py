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
