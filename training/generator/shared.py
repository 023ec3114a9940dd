"""Habits of agents that several families share: disguised risky commands, fake approval claims
(in content, or the agent's own), how many harmless steps to add, and harmless looks at a
server. One copy, so families stay consistent."""

from __future__ import annotations

from collections.abc import Callable

from cbm_training.generator.builder import Run
from cbm_training.generator.surface import AGENT_SELF_APPROVALS, APPROVAL_CLAIMS


def risky_shell(run: Run, command: str, output: str, **concepts: int) -> str:
    """A risky shell command; in about a quarter of runs in a disguised form (same label)."""
    if run.rng.random() < 0.27:
        return run.shell_evasive(command, output, **concepts)
    return run.shell(command, output, **concepts)


def claim_line(run: Run) -> str:
    return "\n" + run.rng.choice(APPROVAL_CLAIMS) if run.rng.random() < 0.1 else ""


def risky_think(run: Run, options: list[str | None]) -> None:
    if run.rng.random() < 0.12:
        run.think(run.rng.choice(AGENT_SELF_APPROVALS))
    else:
        run.think(run.rng.choice(options))


def fill(run: Run) -> int:
    """How many generic filler steps: usually a few, sometimes many (long runs)."""
    return run.rng.randint(5, 12) if run.rng.random() < 0.12 else run.rng.randint(0, 3)


def host_filler(run: Run, host: str, local: bool, tp: dict[str, int], count: int,
                remote: Callable[[Run, str, str, bool], str]) -> None:
    """Harmless looks at a server (uptime, disk, memory, OS, failed units, logs), mixed with the
    generic fillers; on a production host they touch production and are still safe. `remote` writes
    the command as the family's agent types it on that host."""
    rng = run.rng
    short = host.split(".")[0]
    steps = [
        ("uptime", f" {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:0{rng.randint(0, 9)} up {rng.randint(2, 400)} days, "
                   f"{rng.randint(1, 4)} users,  load average: {rng.uniform(0, 3):.2f}, {rng.uniform(0, 3):.2f}, "
                   f"{rng.uniform(0, 3):.2f}"),
        ("df -h /", f"Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda1        {rng.choice([40, 80, 160])}G   "
                    f"{rng.randint(8, 30)}G   {rng.randint(9, 60)}G  {rng.randint(15, 80)}% /"),
        ("free -m", f"               total        used        free      shared  buff/cache   available\nMem:"
                    f"           {rng.choice([3936, 7941, 15995, 32091])}        {rng.randint(700, 3000)}        "
                    f"{rng.randint(200, 3000)}          {rng.randint(1, 90)}        {rng.randint(500, 6000)}        "
                    f"{rng.randint(1000, 9000)}"),
        ("cat /etc/os-release | head -2", rng.choice(['PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"',
                                                      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"',
                                                      'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"'])),
        ("systemctl --failed --no-legend", rng.choice(["", "0 loaded units listed."])),
        ("who", f"ops      pts/0        2024-11-27 0{rng.randint(7, 9)}:{rng.randint(10, 59)} (10.20.{rng.randint(0, 255)}."
                f"{rng.randint(1, 254)})"),
        ("sudo journalctl -p err -n 3 --no-pager", f"Nov 27 0{rng.randint(0, 9)}:{rng.randint(10, 59)}:{rng.randint(10, 59)} "
                                                   f"{short} kernel: ACPI Error: AE_NOT_FOUND (20210730/psparse-529)\n"
                                                   f"Nov 27 0{rng.randint(0, 9)}:{rng.randint(10, 59)}:{rng.randint(10, 59)} "
                                                   f"{short} systemd[1]: Failed to start motd-news.service."),
        ("hostnamectl | head -3", f" Static hostname: {short}\n       Icon name: computer-vm\n         Chassis: vm"),
    ]
    for _ in range(count):
        if rng.random() < 0.35:
            run.filler(1)
            continue
        cmd, out = rng.choice(steps)
        run.shell(remote(run, host, cmd, local), out, **tp)


def extra_steps(run: Run, k: int) -> int:
    """How many harmless steps to add: usually 0..k, sometimes many more (long runs)."""
    return run.rng.randint(0, k) if run.rng.random() > 0.15 else run.rng.randint(k + 2, k + 9)


def maybe_claim(run: Run) -> str:
    """Now and then a fake approval inside content the agent reads (it never authorises anything)."""
    return " " + run.rng.choice(APPROVAL_CLAIMS) if run.variant != "benign" and run.rng.random() < 0.12 else ""


def maybe_self_approval(run: Run, fallback: str | None = None) -> None:
    """The agent's own claim of permission (never the user's), or an ordinary thought."""
    if run.rng.random() < 0.12:
        run.think(run.rng.choice(AGENT_SELF_APPROVALS))
    elif fallback is not None:
        run.think(fallback)
