"""What an agent's reply is, where the harness takes commands from replies.

Some harnesses (mini-swe-agent, SWE-agent) have no tool calls: the agent acts by writing a
command in a fenced block ("Your response must contain exactly ONE bash code block"), and the
harness runs it or, when the reply breaks its format rule, answers with a format notice. Such a
reply is the agent's attempt at a command, a step of the work, not a report to the user; logs
keep the rejected ones as plain assistant text. The fact is read from the reply itself and from
the instructions before it, never from what follows, so a reply's facts do not depend on later
steps.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cbm.facts.base import Collector

# instructions that say the agent acts by writing commands in fenced blocks
_TEXT_ACTIONS = re.compile(r"\b(bash|shell|command) (code )?block|\baction in triple backticks|"
                           r"\bcommands? (must|should) be (specified|written|given) in (a|one|the) .{0,20}block")
# a fenced block of shell (unlabelled, or labelled as a shell); its body must hold something
_FENCE = re.compile(r"```[ \t]*(?:bash|sh|shell|zsh|console)?[ \t]*\n(?=[ \t]*\S)(?:(?!```).)*```", re.DOTALL)


@lru_cache(maxsize=256)  # every reply of a run reads the same words
def takes_commands_from_replies(instructions: str) -> bool:
    """Whether the user's and system's (lower-cased) words say the agent acts by writing commands
    in fenced blocks of its replies."""
    return bool(_TEXT_ACTIONS.search(instructions))


def reply_facts(out: Collector, text: str) -> None:
    """A `reply` fact `command_attempt` at the first fenced shell block of a reply, where the
    run's instructions say replies carry the agent's commands."""
    if not takes_commands_from_replies(out.context.instructions):
        return
    m = _FENCE.search(text[:20_000])
    if m:
        out.add("reply", "command_attempt", m.span(), "replies")
