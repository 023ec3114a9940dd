"""Batched inference (`cbm.predict`): logits per trajectory, in input order, the same whatever the
batch size, and the encoder's concept logits equal to the whole model's."""

from __future__ import annotations

import json

import numpy as np

from cbm.concepts import CONCEPT_IDS
from cbm.features import encode
from cbm.formats import parse_record
from cbm.predict import cpu_threads, predict_concept_logits, predict_logits


def run(n_calls: int, command: str):
    messages = [{"role": "user", "content": "Tidy up."}]
    for i in range(n_calls):
        messages.append({"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "type": "function",
                         "function": {"name": "bash", "arguments": json.dumps({"command": f"{command} {i}"})}}]})
    return parse_record({"id": f"run-{n_calls}", "messages": messages})


def test_logits_come_back_per_trajectory_in_order_whatever_the_batch(tiny):
    vocab, model = tiny
    encoded = [encode(run(n, command), vocab) for n, command in ((3, "ls"), (1, "rm -rf /srv"), (5, "cat notes"))]
    one = predict_logits(model, encoded, batch_size=1)
    together = predict_logits(model, encoded, batch_size=3)
    assert [c.shape for c, _ in one] == [(3, len(CONCEPT_IDS)), (1, len(CONCEPT_IDS)), (5, len(CONCEPT_IDS))]
    assert [r.shape for _, r in one] == [(3,), (1,), (5,)]
    for (c1, r1), (c3, r3) in zip(one, together):
        np.testing.assert_allclose(c1, c3, atol=1e-5)
        np.testing.assert_allclose(r1, r3, atol=1e-5)
    for concepts, (c, _) in zip(predict_concept_logits(model, encoded, batch_size=2), one):
        np.testing.assert_allclose(concepts, c, atol=1e-5)


def test_cpu_threads():
    assert cpu_threads(3) == 3 and cpu_threads("2") == 2
    assert cpu_threads("auto") >= 1
