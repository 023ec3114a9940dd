"""Facts as sentences a reviewer reads: "deletes recursively, forced: /var/lib/postgresql/data
(data directory) on db-3.prod (production)". One sentence per command; a command that only
wraps another (`ssh host`, `sudo`) lends its host and wrapper to the next one.
"""

from __future__ import annotations

from collections.abc import Sequence

from cbm.facts.base import Fact

VERBS = {
    "read": "reads", "list": "lists", "search": "searches", "write": "writes", "append": "appends to",
    "copy": "copies", "move": "moves", "delete": "deletes", "truncate": "truncates", "drop": "drops",
    "create": "creates", "chmod": "changes permissions of", "chown": "changes the owner of", "kill": "kills",
    "install": "installs", "execute": "runs", "execute_download": "runs downloaded code",
    "network_fetch": "fetches from the network", "network_send": "sends over the network",
    "reverse_shell": "opens a reverse shell", "tunnel": "opens a tunnel", "schedule": "schedules",
    "stop_service": "stops a service", "start_service": "starts a service", "user_change": "changes users or roles",
    "force_push": "force-pushes", "push": "pushes", "branch_protection": "changes branch protection",
    "infra_destroy": "destroys infrastructure", "infra_scale": "scales infrastructure",
    "infra_apply": "applies infrastructure changes", "disable_safeguard": "disables a safeguard",
    "decode": "decodes", "print": "prints", "navigate": "opens", "change_directory": "changes directory",
    "define": "defines", "git": "runs git", "container": "runs a container", "build": "builds", "test": "runs tests",
    "deploy": "deploys", "message": "sends a message", "query": "queries", "other": "runs",
}
ADVERBS = {"recursive": "recursively", "force": "forced", "no_preserve_root": "without root protection",
           "no_verify": "skipping hooks", "auto_approve": "auto-approved", "privileged": "privileged",
           "cascade": "cascading", "hard": "hard", "all": "all", "if_exists": "if it exists",
           "detached": "detached", "host_network": "on the host network", "mount_root": "mounting the host root"}
_SKIP_TAGS = {"redirect", "json"}
REPLIES = {"command_attempt": "proposes a command in a fenced block, which this harness runs from replies: "
                              "a step of the work, not a report to the user",
           "report": "reports to the user and ends the run: nothing runs, nothing is sent"}


def _label(f: Fact) -> str:
    tags = [t.replace("_", " ") for t in f.tags if t not in _SKIP_TAGS and not t.startswith("scheme:")]
    return f"{f.value} ({', '.join(tags)})" if tags else f.value


def describe(facts: Sequence[Fact]) -> list[str]:
    """One sentence per command of the action, in order (a reply: what the reply is)."""
    sentences = [REPLIES.get(f.value, f.value) for f in facts if f.kind == "reply"]
    groups: dict[int, list[Fact]] = {}
    for f in facts:
        if f.kind == "reply":
            continue
        groups.setdefault(f.command, []).append(f)
    carried: list[Fact] = []
    for _, group in sorted(groups.items()):
        ops = [f for f in group if f.kind == "operation"]
        if not ops and not any(f.kind in ("parse_error", "cut") for f in group):
            carried.extend(f for f in group if f.kind in ("host", "destination", "wrapper", "decoded"))
            continue
        group = carried + group
        carried = []
        sentences.append(_sentence(group))
    if carried:
        sentences.append(_sentence(carried))
    return [s for s in sentences if s]


def _sentence(group: list[Fact]) -> str:
    by = {k: [f for f in group if f.kind == k] for k in ("operation", "flag", "target", "scope", "host",
                                                           "destination", "data_sent", "package", "cloud",
                                                           "wrapper", "decoded", "parse_error", "cut", "provenance")}
    verbs = list(dict.fromkeys(VERBS.get(f.value, f.value) for f in by["operation"]))
    head = " and ".join(verbs) if verbs else "does something"
    adverbs = list(dict.fromkeys(ADVERBS.get(f.value, f.value) for f in by["flag"]))
    if adverbs:
        head += " " + ", ".join(adverbs)
    parts = [head]
    objects = [_label(f) for f in by["target"] + by["package"]][:6]
    if objects:
        parts[0] += ": " + ", ".join(objects)
    if by["cloud"]:
        parts.append("[" + ", ".join(f.value for f in by["cloud"]) + "]")
    if by["scope"]:
        parts.append("scope " + ", ".join(f.value.replace("_", " ") for f in by["scope"]))
    if by["host"]:
        parts.append("on " + ", ".join(_label(f) for f in by["host"]))
    if by["destination"]:
        parts.append("to " + ", ".join(_label(f) for f in by["destination"]))
    if by["data_sent"]:
        parts.append("sending " + ", ".join(f.value for f in by["data_sent"]))
    wrappers = [f.value for f in by["wrapper"]]
    if wrappers:
        parts.append("via " + ", ".join(dict.fromkeys(wrappers)))
    if by["decoded"]:
        parts.append("after decoding")
    for value, why in (("injected", "named only by text addressed to the agent in content it read"),
                       ("credential", "a credential copied from content it read")):
        named = list(dict.fromkeys(f.tags[0] for f in by["provenance"] if f.value == value))
        if named:
            parts.append(f"({', '.join(named)}: {why})")
    notes = [f.value for f in by["parse_error"] + by["cut"]]
    if notes:
        parts.append("(" + "; ".join(notes) + ")")
    return " ".join(parts)
