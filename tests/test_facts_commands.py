"""One simple command (`cbm.facts.commands`): the program's operation, the options that matter and
the words that are its targets, each pointing at its characters."""

from __future__ import annotations

from facts_helpers import at, of, one, shell

from cbm.facts import facts


def test_rm_deletes_its_targets_with_its_flags():
    step = shell("rm -rf /var/lib/postgresql/data /tmp/cache")
    found = facts(step)
    assert at(step.text, one(found, "operation", "delete")) == "rm"
    assert {f.value for f in of(found, "flag")} == {"recursive", "force"}
    assert {(f.value, f.tags) for f in of(found, "target")} == {
        ("/var/lib/postgresql/data", ("data_directory",)), ("/tmp/cache", ("build_cache_temp",))}


def test_cat_reads_an_account_database():
    step = shell("cat /etc/passwd")
    found = facts(step)
    assert one(found, "operation", "read").tags == ("cat",)
    target = one(found, "target", "/etc/passwd")
    assert "account_database" in target.tags and at(step.text, target) == "/etc/passwd"
