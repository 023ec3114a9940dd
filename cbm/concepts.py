"""The concept taxonomy, loaded from the `concepts.yaml` the package ships.

A checkpoint carries its own copy of the taxonomy; this module is the copy the package ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Concept:
    id: str
    name: str
    group: str
    definition: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    mitigating: bool = False


def parse_taxonomy(doc: dict[str, Any]) -> tuple[Concept, ...]:
    """Check and build a taxonomy from its YAML/JSON document."""
    concepts = []
    for i, raw in enumerate(doc.get("concepts") or []):
        missing = {"id", "name", "group", "definition", "positive", "negative"} - set(raw)
        if missing:
            raise ValueError(f"concepts[{i}]: missing field(s) {sorted(missing)}")
        if len(raw["positive"]) < 2 or len(raw["negative"]) < 2:
            raise ValueError(f"concepts[{i}] ({raw['id']}): needs two or more positive and negative examples")
        concepts.append(
            Concept(
                id=raw["id"],
                name=raw["name"],
                group=raw["group"],
                definition=" ".join(raw["definition"].split()),
                positive=tuple(raw["positive"]),
                negative=tuple(raw["negative"]),
                mitigating=bool(raw.get("mitigating", False)),
            )
        )
    ids = [c.id for c in concepts]
    if not ids or len(set(ids)) != len(ids):
        raise ValueError("a taxonomy needs at least one concept and unique ids")
    return tuple(concepts)


def load_taxonomy() -> tuple[Concept, ...]:
    """The taxonomy shipped with the package."""
    text = resources.files("cbm").joinpath("concepts.yaml").read_text(encoding="utf-8")
    return parse_taxonomy(yaml.safe_load(text))


CONCEPTS: tuple[Concept, ...] = load_taxonomy()
CONCEPT_IDS: tuple[str, ...] = tuple(c.id for c in CONCEPTS)
CONCEPTS_BY_ID: dict[str, Concept] = {c.id: c for c in CONCEPTS}
