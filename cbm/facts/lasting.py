"""What a file that runs again later will run, and whether the user's words ask for it.

A line written to a shell profile runs at every login, an alias's body whenever its name is
typed, a crontab line on its schedule, a script in `/etc/cron.daily` every day, and a systemd
unit's `ExecStart` whenever the unit starts. The commands such content holds are read as shell,
with their spans in the written text, whichever tool wrote it (Write, Edit, `echo >>`, `tee`,
a heredoc): a cron line that pipes a download to a shell runs downloaded code, a unit whose
`ExecStart` opens `/dev/tcp` opens a reverse shell.

A lasting change is `requested` when one sentence of the user's words asks for something that
lasts and names what the change runs or where it goes: "make the report run nightly" names
`/etc/cron.d/report`, "start redis on boot" names `redis-server`, "add an alias gs for git
status" names `alias gs='git status'`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from cbm.facts.base import Collector
from cbm.facts.paths import classify, normalise
from cbm.facts.requests import requested
from cbm.facts.text import Text

# where written content runs again later, as commands (an authorized key is not a command)
RUNS_LATER = ("shell_profile", "cron", "scheduler")
# a crontab line: five time fields or an @keyword, then (in the system's crontabs) a user, then the command
_CRON_LINE = re.compile(r"(?m)^[ \t]*(?:@[a-z]+[ \t]+|(?:[\w*/,-]+[ \t]+){5})(\S.*)$")
_SYSTEM_CRONTAB = re.compile(r"^/etc/(crontab|cron\.d/.+|anacrontab)$")
_CRON_USER = re.compile(r"[a-z_][\w.-]*[ \t]+")
_CRON_SCRIPT = re.compile(r"^/etc/cron\.(hourly|daily|weekly|monthly)/.+")  # a whole script, run by run-parts
_UNIT = re.compile(r"\.(service|timer|socket|path)$")
_EXEC_LINE = re.compile(r"(?m)^[ \t]*Exec\w*[ \t]*=[ \t]*[-@:+!]*(\S.*)$")  # ExecStart=-/usr/bin/x: prefixes
_ALIAS = re.compile(r"\balias[ \t]+[\w.:-]+=(['\"])(.+?)\1")  # a planted alias's body runs when its name is typed


def runs(path: str, content: Text) -> list[Text]:
    """The commands `content`, written to `path`, will run later: nothing where the path is no
    place whose content runs (see `RUNS_LATER`)."""
    p = normalise(path)
    classes = classify(p)
    if "cron" in classes and not _CRON_SCRIPT.match(p):
        return cron_commands(content, system=bool(_SYSTEM_CRONTAB.match(p)))
    if "scheduler" in classes and _UNIT.search(p):
        return [content.slice(m.start(1), m.end(1)) for m in _EXEC_LINE.finditer(content.value)]
    if {"cron", "scheduler", "shell_profile"} & set(classes):  # a script: cron.daily, init.d, rc.local, a profile
        bodies = [content.slice(m.start(2), m.end(2)) for m in _ALIAS.finditer(content.value)] \
            if "shell_profile" in classes else []
        return [content] + bodies
    return []


# a CI workflow's step: GitHub Actions' `run: cmd` or `run: |` and its indented block, GitLab's `script: cmd`
_CI_RUN = re.compile(r"(?m)^([ \t]*(?:-[ \t]+)?)(?:run|script):[ \t]*(?:([|>][-+]?)[ \t]*$|(\S.*)$)")


def ci_steps(path: str, content: Text) -> list[Text]:
    """The commands a CI workflow written to `path` runs on the CI's machines, with its secrets
    (`${{ secrets.NPM_TOKEN }}`): nothing where the path is no CI configuration."""
    if "ci_config" not in classify(normalise(path)):
        return []
    text, found = content.value, []
    for m in _CI_RUN.finditer(text):
        if m.group(3):
            found.append(content.slice(m.start(3), m.end(3)))
            continue
        indent, start = len(m.group(1)), m.end() + 1  # the block: the lines indented past its key
        end = start
        for line in re.finditer(r"(?m)^([ \t]*)(\S.*)?$", text[start:]):
            if line.group(2) and len(line.group(1)) <= indent:
                break
            end = start + line.end()
        if end > start:
            found.append(content.slice(start, end))
    return found


def cron_commands(content: Text, system: bool = False) -> list[Text]:
    """The command of each crontab line; a system crontab's lines name a user first."""
    found = []
    for m in _CRON_LINE.finditer(content.value):
        user = _CRON_USER.match(content.value, m.start(1)) if system else None
        found.append(content.slice(user.end() if user else m.start(1), m.end(1)))
    return found


def plant(out: Collector, target: Text, content: Text | None, parser: str, whole: bool = True) -> None:
    """The written `target` (`requested` where the user's words ask for what its content will run),
    then those commands, read as shell; a CI workflow's steps only where the whole file is written
    (an edit's fragment of one is read by the model as it is)."""
    commands = runs(target.value, content) if content is not None else []
    out.target(target, parser, requested("lasting", out.context.instructions, names(target.value, commands))
               if commands else ())
    for command in commands + (ci_steps(target.value, content) if content is not None and whole else []):
        out.parse("shell", command)


def names(path: str, commands: Iterable[Text] = ()) -> list[str]:
    """What a lasting change is called: its file's name without the extension (`report` for
    `/etc/cron.d/report`, `worker` for `worker.service`; a profile's or crontab's own name says
    nothing) and the words of the commands it runs."""
    stem = posixpath.basename(path.rstrip("/")).lstrip(".").split(".")[0]
    return [stem, *(c.value for c in commands)]
