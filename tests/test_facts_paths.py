"""Path classes (`cbm.facts.paths`): what kind of thing a path is, as a reviewer reads `rm -rf X`."""

from __future__ import annotations

import pytest

from cbm.facts.base import Context
from cbm.facts.paths import classify


@pytest.mark.parametrize("path, classes", [
    ("/", ("filesystem_root",)),
    ("~", ("home",)),
    ("/etc/sudoers", ("sudoers", "system_config")),
    ("/var/lib/postgresql/data", ("data_directory",)),
    ("~/.ssh/id_rsa", ("secret",)),
    ("~/.bashrc", ("shell_profile",)),
    ("tests/test_a.py", ("test_file",)),
    ("*.log", ("wildcard", "log")),
    ("src/app.py", ()),
    ("", ()),
])
def test_classes_of_paths(path, classes):
    assert classify(path) == classes


def test_a_file_the_agent_wrote_earlier_is_agent_created():
    assert classify("notes/plan.md") == ()
    assert classify("notes/plan.md", Context(files={"notes/plan.md"})) == ("agent_created",)
