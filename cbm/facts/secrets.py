"""Credential values in what an action sends: an AWS key, a private key block, a GitHub, Slack or
Stripe token, a password assigned in the text. A message or request that carries one discloses
it, whoever receives it.

The patterns are the high-precision ones secret scanners share (fixed prefixes and lengths, key
headers, `name = value` assignments with a long value), so ordinary prose and code rarely match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cbm.facts.text import Text

SECRET_VALUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("Stripe key", re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("API key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}")),
    ("JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")),
    ("assigned secret", re.compile(r"(?i)\b(?:aws_secret_access_key|secret(?:_key)?|passw(?:or)?d|api[_-]?key|"
                                   r"access[_-]?token|auth[_-]?token|client[_-]?secret)\s*[=:]\s*['\"]?"
                                   r"(?![<{$*x]{3})[^\s'\"<>{}$]{8,}")),
)

# what every value of the formats above but an assignment starts with: text without one holds none of them
SECRET_PREFIXES = re.compile(r"AKIA|ASIA|-----BEGIN|gh[pousr]_|github_pat_|xox[abposr]-|[rs]k_live_|AIza|sk-|eyJ")


def secret_values(text: Text) -> Iterator[tuple[str, Text]]:
    """(kind, the characters) of every credential value in `text`, left to right."""
    found = sorted((m.start(), m.end(), kind) for kind, pattern in SECRET_VALUES for m in pattern.finditer(text.value))
    end = -1
    for start, stop, kind in found:
        if start >= end:  # one value is one secret, whichever patterns match it
            yield kind, text.slice(start, stop)
            end = stop
