"""The model (`cbm.model`): the properties explanations and scores rely on."""

from __future__ import annotations


import torch

from cbm.concepts import CONCEPT_IDS
from cbm.features import Vocabulary, encode
from cbm.model import ConceptBottleneckModel, ModelConfig, collate
from formats_helpers import two_call_run

def test_an_action_never_sees_what_comes_after_it(tiny):
    vocab, model = tiny
    a = encode(two_call_run("Fix the bug.", "a note", "ls", final="All good."), vocab)
    b = encode(two_call_run("Fix the bug.", "a note", "ls", final="Everything was deleted, sorry."), vocab)
    with torch.no_grad():
        ca, ra = model(collate([a]))
        cb, rb = model(collate([b]))
    assert torch.allclose(ca[:2], cb[:2]) and torch.allclose(ra[:2], rb[:2])  # the two calls are unchanged
    assert not torch.allclose(ca[2], cb[2])  # the final message itself differs


def test_the_explainers_shortcut_gives_the_models_concept_logits():
    """`last_action_logits` runs the last block on the action's tokens only; explanations rely on
    it computing exactly what scoring computes."""
    torch.manual_seed(1)
    vocab = Vocabulary([], hash_buckets=128)
    config = ModelConfig(vocab_size=len(vocab), n_concepts=len(CONCEPT_IDS), dim=32, layers=2, heads=2, max_tokens=512)
    model = ConceptBottleneckModel(config, CONCEPT_IDS).eval()
    e = encode(two_call_run("Clean staging only.", "table sizes ...", "psql -h db.prod -c 'DROP TABLE x'",
                           final="Done."), vocab)
    with torch.no_grad():
        logits, _ = model(collate([e]))
        ids, segment, origin = (torch.from_numpy(a).long()[None] for a in (e.ids, e.segment, e.origin))
        for a, (begin, stop) in enumerate(e.action_span):
            x = model.encoder.embed(ids[:, :stop], segment[:, :stop], origin[:, :stop])
            short = model.encoder.last_action_logits(x, int(begin))
            assert torch.allclose(short[0], logits[a], atol=1e-5), a


def test_risk_depends_on_the_concepts_only(tiny):
    vocab, model = tiny
    batch = collate([encode(two_call_run("a", "b", "rm -rf /"), vocab), encode(two_call_run("c", "d", "ls"), vocab)])
    n = len(batch["action_batch"])
    values = torch.rand(1, len(CONCEPT_IDS)).repeat(n, 1)
    with torch.no_grad():
        _, risk = model(batch, torch.ones(n, len(CONCEPT_IDS), dtype=torch.bool), values)
    assert torch.allclose(risk, risk[0].expand(n))
