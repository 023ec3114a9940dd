"""What scoring returns (`cbm.results`): results as a pandas table, a row per action and per
failure."""

from __future__ import annotations

from conftest import SAMPLES

from cbm.concepts import CONCEPT_IDS
from cbm.formats import loads
from cbm.scoring import to_pandas

DB_SAMPLES = SAMPLES / "database_session.openai.jsonl"


def test_to_pandas_has_a_row_per_action_and_per_failure(overseer):
    results = list(overseer.score_many(loads(DB_SAMPLES.read_text() + "{bad\n")))
    frame = to_pandas(results)
    n_actions = sum(len(r.actions) for r in results)
    assert len(frame) == n_actions + 1
    assert set(CONCEPT_IDS) <= set(frame.columns)
    assert frame["error"].notna().sum() == 1
    assert frame.loc[frame["error"].isna(), "risk"].between(0, 1).all()
