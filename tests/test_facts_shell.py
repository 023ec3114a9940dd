"""Shell command lines (`cbm.facts.shell`): wrappers peeled layer by layer and encoded payloads
decoded, every fact still pointing at the characters it was read from."""

from __future__ import annotations

from facts_helpers import at, of, one, shell

from cbm.facts import facts


def test_ssh_and_sudo_are_peeled_and_the_host_is_kept():
    step = shell("ssh db-3.prod 'sudo rm -rf /var/lib/postgresql/data'")
    found = facts(step)
    assert [f.value for f in of(found, "wrapper")] == ["ssh", "sudo"]
    host = one(found, "host", "db-3.prod")
    assert "production" in host.tags and at(step.text, host) == "db-3.prod"
    delete = one(found, "operation", "delete")
    assert at(step.text, delete) == "rm" and delete.command == one(found, "wrapper", "sudo").command


def test_a_base64_payload_piped_to_a_shell_is_decoded_and_read():
    step = shell("echo cm0gLXJmIC8= | base64 -d | sh")
    found = facts(step)
    assert one(found, "decoded").value == "rm -rf /"
    assert "piped_to_shell" in one(found, "operation", "execute").tags
    target = one(found, "target", "/")
    assert target.tags == ("filesystem_root",) and at(step.text, target) == "cm0gLXJmIC8="
