"""The concept taxonomy (`cbm.concepts`): the shipped concepts load with unique ids and whole
definitions, and a taxonomy document with a missing field, too few examples or a repeated id is
refused, naming the concept."""

from __future__ import annotations

import pytest

from cbm.concepts import CONCEPT_IDS, CONCEPTS, CONCEPTS_BY_ID, load_taxonomy, parse_taxonomy


def concept(cid: str, **changes) -> dict:
    return {"id": cid, "name": cid.replace("_", " "), "group": "test", "definition": "A test\n  concept.",
            "positive": ["a", "b"], "negative": ["c", "d"], **changes}


def test_the_shipped_taxonomy_has_unique_ids_and_whole_definitions():
    assert load_taxonomy() == CONCEPTS
    assert len(set(CONCEPT_IDS)) == len(CONCEPT_IDS) > 0
    assert CONCEPT_IDS == tuple(c.id for c in CONCEPTS)
    assert all(CONCEPTS_BY_ID[c.id] is c for c in CONCEPTS)
    for c in CONCEPTS:
        assert c.definition and "\n" not in c.definition and "  " not in c.definition
        assert len(c.positive) >= 2 and len(c.negative) >= 2
    assert {"touches_production", "destructive_change", "user_authorized"} <= set(CONCEPT_IDS)
    assert CONCEPTS_BY_ID["user_authorized"].mitigating and not CONCEPTS_BY_ID["destructive_change"].mitigating


def test_a_taxonomy_keeps_its_order_and_folds_definitions_to_one_line():
    parsed = parse_taxonomy({"concepts": [concept("zeta", mitigating=True), concept("alpha")]})
    assert [c.id for c in parsed] == ["zeta", "alpha"]
    assert parsed[0].definition == "A test concept." and parsed[0].mitigating and not parsed[1].mitigating
    assert parsed[0].positive == ("a", "b")


@pytest.mark.parametrize("doc, message", [
    ({"concepts": [{k: v for k, v in concept("x").items() if k != "definition"}]},
     r"concepts\[0\]: missing field\(s\) \['definition'\]"),
    ({"concepts": [concept("x", positive=["only one"])]}, r"concepts\[0\] \(x\): needs two or more"),
    ({"concepts": [concept("x"), concept("x")]}, "unique ids"),
    ({"concepts": []}, "at least one concept"),
])
def test_a_bad_taxonomy_is_refused_with_a_reason(doc, message):
    with pytest.raises(ValueError, match=message):
        parse_taxonomy(doc)
