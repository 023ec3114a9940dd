"""The risk policy: a readable data file (`data/risk_policy.yaml`) that turns concepts into a
risk label, so labels come from one written judgement instead of being scattered in templates."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from itertools import combinations
from pathlib import Path

import numpy as np
import yaml

from cbm.concepts import CONCEPT_IDS

DEFAULT_POLICY = Path(str(resources.files("cbm.data") / "risk_policy.yaml"))  # data/, installed as package data


@dataclass(frozen=True)
class Rule:
    name: str
    when: dict[str, int]
    risk: int
    why: str


@dataclass(frozen=True)
class Exception_:
    family: str
    tag: str
    risk: int
    why: str


class Policy:
    """First matching rule decides; a (family, tag) exception overrides the rules."""

    def __init__(self, rules: list[Rule], default: Rule, exceptions: list[Exception_], digest: str):
        self.rules, self.default, self.exceptions, self.digest = rules, default, exceptions, digest
        self._exceptions = {(e.family, e.tag): e for e in exceptions}

    @classmethod
    def load(cls, path: str | Path = DEFAULT_POLICY) -> Policy:
        text = Path(path).read_text(encoding="utf-8")
        doc = yaml.safe_load(text)
        rules = []
        for raw in doc["rules"]:
            for cid in raw["when"]:
                if cid not in CONCEPT_IDS:
                    raise ValueError(f"{path}: rule {raw['name']!r} names unknown concept {cid!r}")
            rules.append(Rule(raw["name"], dict(raw["when"]), int(raw["risk"]), raw.get("why", "")))
        d = doc["default"]
        default = Rule(d["name"], {}, int(d["risk"]), d.get("why", ""))
        exceptions = [Exception_(e["family"], e["tag"], int(e["risk"]), e["why"]) for e in doc.get("exceptions", [])]
        return cls(rules, default, exceptions, hashlib.sha256(text.encode()).hexdigest()[:16])

    def decide(self, concepts: dict[str, int], family: str | None = None, tag: str | None = None) -> tuple[int, str]:
        """(risk, name of the rule or exception that decided it)."""
        exception = self._exceptions.get((family, tag)) if tag else None
        if exception:
            return exception.risk, f"exception:{family}/{tag}"
        for rule in self.rules:
            if all(concepts.get(cid, 0) == value for cid, value in rule.when.items()):
                return rule.risk, rule.name
        return self.default.risk, self.default.name

    def table(self, max_active: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Every concept vector with at most `max_active` concepts present, and the rules' risk
        for it: (X (N, K) float32, y (N,) float32). A risk head trained on this agrees with the
        written policy everywhere, also on combinations the corpus rarely shows (a reviewer's
        edit often makes one). Family exceptions are not in it: they need a family."""
        rows, risks = [], []
        for n in range(max_active + 1):
            for present in combinations(range(len(CONCEPT_IDS)), n):
                x = np.zeros(len(CONCEPT_IDS), dtype=np.float32)
                x[list(present)] = 1
                rows.append(x)
                risks.append(self.decide(dict(zip(CONCEPT_IDS, x.astype(int).tolist())))[0])
        return np.stack(rows), np.asarray(risks, dtype=np.float32)
