"""The scoring pipeline (`cbm.pipeline`): input read in bounded chunks, and Parquet output whose
concept columns are the loaded checkpoint's. `cbm score` as a whole is in test_batch.py."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
from conftest import SAMPLES

from cbm.formats import ReadOptions
from cbm.options import ScoringOptions
from cbm.pipeline import ScoredStream, chunks, write_all


def test_parquet_concept_columns_are_the_loaded_checkpoints(tmp_path, overseer):
    """The stream reports the concepts of the checkpoint it loaded, and the Parquet schema is
    made from the list it is given, in its order: no other list of concepts is read."""
    with ScoredStream([str(SAMPLES / "database_session.openai.jsonl")], None, ScoringOptions(threads=None)) as stream:
        concepts = stream.concept_ids
        records = list(stream)
    assert concepts == overseer.concept_ids
    out = tmp_path / "reversed.parquet"
    write_all(records, str(out), concepts[::-1])
    action = pq.read_schema(out).field("actions").type.value_type
    assert [f.name for f in action.field("concepts").type] == concepts[::-1]
    assert pq.read_table(out).to_pylist() == json.loads(json.dumps(records))


def test_chunks_bound_the_raw_bytes_held(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "pad": "x" * 1000}) + "\n" for i in range(50)))
    got = list(chunks([str(path)], ReadOptions(), size=1000, max_bytes=5000))
    assert all(sum(len(line[1]) for line in lines) < 5000 + 1100 for _, lines in got)
    assert [line[0] for _, lines in got for line in lines] == list(range(1, 51))
