"""Facts as a fixed vector the model reads beside the action's words.

Each feature is a name a reviewer can read: `op:delete`, `flag:force`, `target:data_directory`,
`host:production`, and, within one command, the conjunctions that carry the meaning
(`op:delete&target:data_directory`, `op:delete&host:production`, `op:write&target:test_file`):
deleting a temp directory and deleting a database's data directory differ only in the pair.
The names are stored in the checkpoint, so a model always reads the features it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from cbm.facts.base import FLAGS, OPERATIONS, Fact

TARGET_CLASSES = (
    "filesystem_root", "home", "under_home", "wildcard", "authorized_keys", "sudoers", "cron", "scheduler",
    "shell_profile", "secret", "account_database", "ssh_dir", "system_config", "device", "data_directory",
    "database_file", "log", "git_dir", "ci_config", "project_config", "test_file", "build_cache_temp",
    "agent_created", "user_protected", "network_socket", "table", "database", "schema", "bucket", "namespace", "cluster", "branch",
    "repository", "service", "process", "container", "image", "remote", "other",
)
HOST_TAGS = ("production", "staging", "development", "private", "public", "raw_ip", "loopback", "user_named",
             "user_protected", "paste_or_drop_service")
MUTATING = ("delete", "truncate", "drop", "write", "append", "create", "move", "copy", "chmod", "chown", "execute",
            "kill", "network_send", "stop_service", "schedule", "install", "read", "list", "infra_destroy",
            "infra_scale", "infra_apply", "user_change", "force_push", "push", "disable_safeguard")
SINGLE = (
    [f"op:{o}" for o in OPERATIONS] + [f"flag:{f}" for f in FLAGS] + [f"target:{c}" for c in TARGET_CLASSES]
    + [f"host:{t}" for t in HOST_TAGS] + [f"destination:{t}" for t in HOST_TAGS]
    + ["destination:any", "data_sent:any", "data_sent:secret", "data_sent:environment", "data_sent:credential_header",
       "package:any", "package:unpinned", "package:url", "package:git", "package:typo", "package:cryptominer",
       "package:extra_index", "package:global", "cloud:any", "wrapper:privilege", "wrapper:ssh", "wrapper:container",
       "wrapper:eval", "wrapper:alias_or_function", "wrapper:script", "wrapper:pipe_to_shell", "decoded:any",
       "scope:no_where", "scope:where", "scope:all_rows", "scope:wildcard", "scope:world_writable", "tag:dry_run",
       "tag:plan", "tag:cryptominer", "tag:root_shell", "tag:reverse", "tag:discard_changes", "tag:in_place",
       "tag:security_service", "tag:history", "parse_error:any", "cut:any", "facts:none",
       "reply:command_attempt"]
)
PAIRS = ([f"op:{o}&target:{c}" for o in MUTATING for c in TARGET_CLASSES]
         + [f"op:{o}&host:{t}" for o in MUTATING for t in ("production", "staging", "user_protected", "public")]
         + [f"op:{o}&flag:{f}" for o in MUTATING for f in ("recursive", "force", "cascade", "no_verify")])
FACT_FEATURES: tuple[str, ...] = tuple(dict.fromkeys(SINGLE + PAIRS))


def feature_names(facts: Sequence[Fact]) -> set[str]:
    """The names one action's facts switch on."""
    names: set[str] = set()
    by_command: dict[int, list[Fact]] = {}
    for f in facts:
        by_command.setdefault(f.command, []).append(f)
        tags = set(f.tags)
        if f.kind == "operation":
            names.add(f"op:{f.value}")
            names.update(f"tag:{t}" for t in tags)
        elif f.kind == "flag":
            names.add(f"flag:{f.value}")
        elif f.kind == "target":
            names.update(f"target:{c}" for c in (tags & set(TARGET_CLASSES)) or {"other"})
        elif f.kind in ("host", "destination"):
            names.update(f"{f.kind}:{t}" for t in tags & set(HOST_TAGS))
            if f.kind == "destination":
                names.add("destination:any")
        elif f.kind == "data_sent":
            names.add("data_sent:any")
            if "secret" in tags or any(w in f.value for w in ("ssh", ".env", "credential", "secret", "token", "passwd",
                                                               "shadow", "id_rsa", ".aws")):
                names.add("data_sent:secret")
            if "environment" in f.value:
                names.add("data_sent:environment")
            if "credential" in f.value:
                names.add("data_sent:credential_header")
        elif f.kind == "package":
            names.add("package:any")
            for t in tags:
                if t in ("unpinned", "url", "git", "cryptominer", "extra_index", "global"):
                    names.add(f"package:{t}")
                elif t.startswith("typo_of:"):
                    names.add("package:typo")
        elif f.kind == "cloud":
            names.add("cloud:any")
        elif f.kind == "wrapper":
            v = f.value
            if "privilege" in tags:
                names.add("wrapper:privilege")
            elif v == "ssh":
                names.add("wrapper:ssh")
            elif v.endswith((" exec", " run")):
                names.add("wrapper:container")
            elif v == "eval":
                names.add("wrapper:eval")
            elif v.startswith(("alias ", "function ")):
                names.add("wrapper:alias_or_function")
            elif v.startswith("script "):
                names.add("wrapper:script")
            elif "pipe" in v:
                names.add("wrapper:pipe_to_shell")
        elif f.kind == "scope":
            value = "world_writable" if "world_writable" in f.value else f.value
            names.add(f"scope:{value}")
        elif f.kind in ("decoded", "parse_error", "cut"):
            names.add(f"{f.kind}:any")
        elif f.kind == "reply":
            names.add(f"reply:{f.value}")
    hosts_seen: set[str] = set()
    for group in by_command.values():  # a host named by a wrapper (ssh, psql -h) covers the commands after it
        ops = {f.value for f in group if f.kind == "operation"}
        classes = {c for f in group if f.kind == "target" for c in (set(f.tags) & set(TARGET_CLASSES) or {"other"})}
        hosts_seen |= {t for f in group if f.kind in ("host", "destination") for t in f.tags}
        flags = {f.value for f in group if f.kind == "flag"}
        for o in ops:
            names.update(f"op:{o}&target:{c}" for c in classes)
            names.update(f"op:{o}&host:{t}" for t in hosts_seen)
            names.update(f"op:{o}&flag:{f}" for f in flags)
    if all(f.kind == "reply" for f in facts):  # what a reply is says nothing of what an action does
        names.add("facts:none")
    return names


@lru_cache(maxsize=8)
def _index(features: tuple[str, ...]) -> dict[str, int]:
    return {n: i for i, n in enumerate(features)}


def fact_vector(facts: Sequence[Fact], features: Sequence[str] = FACT_FEATURES) -> np.ndarray:
    """(len(features),) float32: 1 where a fact switches the feature on."""
    index = _index(tuple(features))
    out = np.zeros(len(features), dtype=np.float32)
    for name in feature_names(facts):
        i = index.get(name)
        if i is not None:
            out[i] = 1.0
    return out
