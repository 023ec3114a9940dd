"""The review store (app/store.py) on a real SQLite file and on a real PostgreSQL server (each
test that takes `store` or `sample_db` runs on both; the PostgreSQL runs skip where the server or
psycopg is missing): import and scoring with failures kept, the queue's filters and paging in
SQL, append-only verdicts under concurrent writers, claims, score files attached by id, and
`cbm export-reviews` output that training reads back."""

from __future__ import annotations

import json
import multiprocessing

import pytest
from conftest import BACKENDS, BAD, SAMPLES
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from cbm_app.store import _APPEND_ONLY, QueueFilter, Store, Verdict, _triggers, database_url, export_main
from cbm.cli import main as cli
from cbm.concepts import CONCEPT_IDS
from cbm.formats import read_records

GOOD = sorted(SAMPLES.glob("*.jsonl"))
RISKY = "risky-db-prod-drop"


def non_blank_lines(path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip())


@pytest.fixture(scope="module", params=BACKENDS)
def sample_db(request, new_database, overseer):
    """A store with every sample and the malformed file imported, shared read-only by the queue tests."""
    store = Store(database_url(new_database(request.param)))
    store.import_files([(p, p.name) for p in [*GOOD, BAD]], overseer)
    yield store
    store.engine.dispose()


@pytest.fixture(params=BACKENDS)
def db(request, new_database) -> str:
    """A new empty database as `--db` takes it: a SQLite file's path, or a plain `postgresql://` URL."""
    return new_database(request.param)


@pytest.fixture
def store(db, overseer):
    """A fresh store with the samples only, for tests that write verdicts."""
    store = Store(database_url(db))
    store.import_files([(p, p.name) for p in GOOD], overseer)
    yield store
    store.engine.dispose()


def raw_sql(store: Store, sql: str) -> None:
    """Run `sql` in its own transaction on a connection of its own, outside the store's code."""
    engine = create_engine(store.url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


def key_of(store: Store, trajectory_id: str) -> int:
    [row] = [r for r in store.queue(QueueFilter(flagged_only=False, text=trajectory_id), limit=100)
             if r["id"] == trajectory_id]
    return row["key"]


def verdict(store: Store, key: int, action: str, decision: str, reviewer: str = "alice", concepts=None,
            version: str = "v1") -> int:
    return store.add_verdict(Verdict(key, action, decision, reviewer, concepts or {}, "checked", version,
                                     risk=0.5, flagged=True, model_risk=0.5, scores={"risk_logit": 0.1}))


# --- import ---------------------------------------------------------------------------------------

def test_import_saves_every_record_as_a_trajectory_or_a_failure(sample_db, overseer):
    [job] = sample_db.jobs()
    lines = sum(non_blank_lines(p) for p in [*GOOD, BAD])
    counts = sample_db.counts()
    assert job["status"] == "done" and job["done"] == job["total"] == lines
    assert counts["trajectories"] + counts["failures"] == lines
    failures, total = sample_db.failures()
    expected = [r for r in read_records(BAD) if r.error is not None]
    assert total == job["failed"] == len(expected) > 0
    assert {(f["source"], f["line"]) for f in failures} == {(BAD.name, r.line) for r in expected}
    assert all(f["error"].startswith(f"line {f['line']}") for f in failures)


def test_a_stored_trajectory_keeps_its_text_and_scores(sample_db, overseer):
    key = key_of(sample_db, RISKY)
    row = sample_db.trajectory(key)
    original = next(r.trajectory for r in read_records(SAMPLES / "database_session.openai.jsonl"))
    result = overseer.score(original)
    assert (row["source"], row["line"], row["model_version"]) == ("database_session.openai.jsonl", 1, overseer.version)
    assert row["risk"] == result.risk and row["flagged"] and row["n_actions"] == len(result.actions)
    steps = json.loads(row["native"])["steps"]
    assert [s["text"] for s in steps] == [s.text for s in original.steps]
    stored = {a["action"]: a for a in sample_db.actions(key)}
    assert list(stored) == original.action_ids
    drop = max(result.actions, key=lambda a: a.risk)
    assert stored[drop.id]["concepts"] == drop.concepts and stored[drop.id]["concept_destructive_change"] == \
        drop.concepts["destructive_change"]
    assert stored[drop.id]["top_concepts"] == drop.top_concepts(3)
    assert stored[drop.id]["facts"] == [f.to_json() for f in drop.facts] and drop.facts  # what it does, with spans
    assert all(stored[a.id]["facts"] == [f.to_json() for f in a.facts] for a in result.actions)


def test_reimporting_a_file_updates_rows_instead_of_duplicating(store, overseer):
    before = store.counts()["trajectories"]
    store.import_files([(SAMPLES / "database_session.openai.jsonl", "again.jsonl")], overseer)
    assert store.counts()["trajectories"] == before
    assert store.trajectory(key_of(store, RISKY))["source"] == "again.jsonl"


def test_claude_code_sessions_are_imported_one_run_a_file(store, overseer):
    """With the claude-code format each transcript is one run, counted as one in the job, its
    actions the session's tool calls, scored as `cbm score --format claude-code` scores them."""
    sessions = sorted((SAMPLES.parents[1] / "tests" / "fixtures" / "guard").glob("transcript_*.jsonl"))
    before = store.counts()["trajectories"]
    job = store.import_files([(p, p.name) for p in sessions], overseer, "claude-code")
    assert store.job(job)["done"] == store.job(job)["total"] == len(sessions) and store.job(job)["failed"] == 0
    assert store.counts()["trajectories"] == before + len(sessions)
    for path in sessions:
        [record] = read_records(path, "claude-code")
        row = store.trajectory(key_of(store, record.trajectory.id))
        assert (row["source"], row["line"]) == (path.name, 1)
        assert row["risk"] == overseer.score(record.trajectory).risk
        assert [a["action"] for a in store.actions(row["key"])] == record.trajectory.action_ids


def test_a_score_output_is_checked_against_the_model_not_trusted(store, overseer, tmp_path):
    result = overseer.score(next(r.trajectory for r in read_records(SAMPLES / "database_session.openai.jsonl")))
    honest = result.to_json()
    forged = result.to_json()  # a hand-made file that would take the run off the queue
    for action in forged["actions"]:
        action["risk"], action["flagged"] = 0.0, False
    forged["risk"], forged["flagged"] = 0.0, False
    broken = result.to_json()
    broken["actions"][0]["top_concepts"] = [{"concept": "x"}]  # no contribution: the file's extras are never read
    broken["actions"][0]["concepts"]["destructive_change"] = "yes"
    other = {**result.to_json(), "id": "never-imported"}
    failed = {"id": None, "risk": None, "flagged": None, "actions": [], "error": "line 3: not JSON"}
    huge = '{"id": "x", "actions": [], "error": null, "n": ' + "9" * 5000 + "}"
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps(r) + "\n" for r in (honest, forged, broken, other, failed)) + huge + "\n",
                      encoding="utf-8")
    job = store.import_files([(scores, "scores.jsonl")], overseer)
    assert store.job(job)["status"] == "done" and store.job(job)["failed"] == 4
    row = store.trajectory(key_of(store, RISKY))
    assert row["risk"] == result.risk and row["flagged"] and row["model_version"] == overseer.version
    assert [a["risk"] for a in store.actions(row["key"])] == [a.risk for a in result.actions]
    errors = {f["line"]: f["error"] for f in store.failures()[0]}
    assert errors[2].startswith(f"its scores are not those of the loaded model {overseer.version}")
    assert 3 not in errors  # its risks are the model's; its other fields are not used
    assert "no imported trajectory has its id" in errors[4] and "never-imported" not in errors[4]
    assert errors[5] == "it records a scoring error, so it has no scores to check"
    assert errors[6] == "not readable JSON (ValueError)"



def _call(call_id: str, tool: str, command: str) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "type": "function", "function": {
        "name": tool, "arguments": json.dumps({"command": command})}}]}


def test_names_postgresql_cannot_hold_are_failures_alike_on_every_database(store, overseer, tmp_path):
    """PostgreSQL holds names to their columns' lengths and refuses NUL; SQLite does neither. A
    record either database could not hold alike is a failure that says why, not a failed import."""
    ask = {"role": "user", "content": "free some disk"}
    records = [{"id": "i" * 513, "messages": [ask, _call("call_1", "run_shell", "df -h")]},
               {"id": "nul\x00id", "messages": [ask, _call("call_1", "run_shell", "df -h")]},
               {"id": "long-tool", "messages": [ask, _call("call_1", "t" * 513, "df -h")]},
               {"id": "long-action", "messages": [ask, _call("c" * 513, "run_shell", "df -h")]},
               {"id": "nul-text", "messages": [{"role": "user", "content": "a\x00b wipe the scratch volume"},
                                               _call("call_1", "run_shell", "rm -rf /scratch/\x00tmp")]}]
    odd = tmp_path / "odd.jsonl"
    odd.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    job = store.import_files([(odd, "odd.jsonl")], overseer)
    assert store.job(job)["status"] == "done" and store.job(job)["failed"] == 4
    errors = {f["line"]: (f["record_id"], f["error"]) for f in store.failures()[0]}
    assert errors == {1: ("i" * 512, "line 1: its id is longer than 512 characters"),
                      2: ("nul\\x00id", "line 2: its id contains a NUL character"),
                      3: ("long-tool", "line 3: action 0's tool name is longer than 512 characters"),
                      4: ("long-action", "line 4: action 0's id is longer than 512 characters")}
    [row] = store.queue(QueueFilter(flagged_only=False, text="wipe the scratch"))  # NUL: a space to search
    assert row["id"] == "nul-text" and store.count(QueueFilter(flagged_only=False, text="b wipe")) == 1
    native = json.loads(store.trajectory(row["key"])["native"])
    assert native["steps"][0]["text"] == "a\x00b wipe the scratch volume"  # the record itself is kept as it was


def test_results_of_a_checkpoint_with_other_concepts_get_columns_to_filter_on(store, overseer):
    """The loaded checkpoint's concept list is the one used: a concept the global list lacks gets
    its column when results that have it are saved, and a concept no result has matches nothing."""
    other = Store(store.url)  # another app's store, which read the columns before the new one existed
    assert other.count(QueueFilter(flagged_only=False, concepts={"copies_credentials": 0.5})) == 0
    result = overseer.score(next(r.trajectory for r in read_records(SAMPLES / "database_session.openai.jsonl")))
    riskiest = max(result.actions, key=lambda a: a.risk)
    for a in result.actions:
        a.concepts = {**a.concepts, "copies_credentials": 0.9 if a is riskiest else 0.1}
        a.contributions = {**a.contributions, "copies_credentials": 0.0}
        del a.concepts["destructive_change"], a.contributions["destructive_change"]  # nor need it have every one
    assert store.save_results([("other.jsonl", result)], "other-checkpoint") == (1, 0)
    key = key_of(store, RISKY)
    for s in (store, other):
        assert [r["key"] for r in s.queue(QueueFilter(flagged_only=False, concepts={"copies_credentials": 0.5}))] \
            == [key]
        assert s.count(QueueFilter(flagged_only=False, concepts={"copies_credentials": 0.95})) == 0
        assert s.count(QueueFilter(flagged_only=False, concepts={"never_defined": 0.0})) == 0
        assert s.count(QueueFilter(flagged_only=False, concepts={"destructive_change": 0.0})) > 0  # other runs
    assert key not in {r["key"] for r in store.queue(QueueFilter(flagged_only=False,
                                                                 concepts={"destructive_change": 0.0}), limit=100)}
    stored = {a["action"]: a for a in store.actions(key)}
    assert stored[riskiest.id]["concepts"] == riskiest.concepts and stored[riskiest.id]["concept_destructive_change"] \
        is None
    other.engine.dispose()

def test_a_database_made_before_facts_gains_the_column(db, overseer):
    store = Store(database_url(db))
    store.import_files([(SAMPLES / "database_session.openai.jsonl", "db.jsonl")], overseer)
    store.engine.dispose()
    raw_sql(store, "ALTER TABLE actions DROP COLUMN facts")  # as an older version left it: no facts column
    reopened = Store(database_url(db))
    key = key_of(reopened, RISKY)
    assert all(a["facts"] is None for a in reopened.actions(key))  # old rows: no facts stored
    reopened.rescore(overseer)
    assert all(a["facts"] is not None for a in reopened.actions(key)) and any(a["facts"] for a in reopened.actions(key))



def _open(url: str) -> None:
    Store(url)


def test_processes_opening_a_new_database_at_once_set_it_up_once(db):
    """Reviewers starting the app on a new team database at the same time."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_open, args=(database_url(db),)) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    store = Store(database_url(db))
    with store.engine.connect() as conn:
        assert _triggers(conn) == set(_APPEND_ONLY[store.engine.dialect.name])
    assert store.counts() == {"trajectories": 0, "flagged": 0, "reviewed": 0, "verdicts": 0, "failures": 0}
    store.engine.dispose()

# --- the queue ------------------------------------------------------------------------------------

def test_queue_lists_flagged_runs_riskiest_first_and_pages_in_sql(sample_db):
    everything = sample_db.queue(QueueFilter(), limit=1000)
    assert len(everything) == sample_db.count(QueueFilter()) == sample_db.counts()["flagged"]
    assert all(r["flagged"] for r in everything)
    assert [r["risk"] for r in everything] == sorted((r["risk"] for r in everything), reverse=True)
    assert RISKY in {r["id"] for r in everything}
    pages = [sample_db.queue(QueueFilter(), limit=4, offset=o) for o in range(0, len(everything), 4)]
    assert [r["key"] for page in pages for r in page] == [r["key"] for r in everything]
    assert all(len(page) <= 4 for page in pages)


def step_texts(store: Store, key: int) -> str:
    return " ".join(s["text"] for s in json.loads(store.trajectory(key)["native"])["steps"])


@pytest.mark.parametrize("filters, check", [
    (QueueFilter(concepts={"destructive_change": 0.65}),
     lambda store, r: any(a["concept_destructive_change"] >= 0.65 for a in store.actions(r["key"]))),
    (QueueFilter(tools=("execute_sql",)), lambda store, r: "execute_sql" in r["tools"]),
    (QueueFilter(sources=("database_session.native.jsonl",)),
     lambda store, r: r["source"] == "database_session.native.jsonl"),
    (QueueFilter(flagged_only=False, text="DROP table"),
     lambda store, r: "drop table" in step_texts(store, r["key"]).lower()),
])
def test_queue_filters_return_exactly_the_matching_runs(sample_db, filters, check):
    every = sample_db.queue(QueueFilter(flagged_only=filters.flagged_only), limit=1000)
    matching = sample_db.queue(filters, limit=1000)
    expected = [r["key"] for r in every if check(sample_db, r)]
    assert [r["key"] for r in matching] == expected and 0 < len(expected) < len(every)
    assert sample_db.count(filters) == len(expected)


def test_risk_range_filter_returns_exactly_the_runs_in_range(sample_db):
    every = sample_db.queue(QueueFilter(), limit=1000)
    risks = sorted(r["risk"] for r in every)
    low, high = risks[len(risks) // 4], risks[3 * len(risks) // 4]  # the middle half of the flagged runs
    matching = sample_db.queue(QueueFilter(risk=(low, high)), limit=1000)
    assert [r["key"] for r in matching] == [r["key"] for r in every if low <= r["risk"] <= high]
    assert 0 < len(matching) < len(every) and sample_db.count(QueueFilter(risk=(low, high))) == len(matching)


def test_text_search_treats_like_wildcards_literally(sample_db):
    assert sample_db.count(QueueFilter(flagged_only=False, text="91% disk")) == 1  # the risky run's first request
    assert sample_db.count(QueueFilter(flagged_only=False, text="91_ disk")) == 0  # `_` is no wildcard
    assert sample_db.count(QueueFilter(flagged_only=False, text="91%disk")) == 0  # nor is `%`


def test_queue_filters_by_review_state_and_latest_verdict(store):
    key = key_of(store, RISKY)
    action = store.actions(key)[0]["action"]
    verdict(store, key, action, "block")
    assert [r["key"] for r in store.queue(QueueFilter(reviewed=True))] == [key]
    assert key not in {r["key"] for r in store.queue(QueueFilter(reviewed=False), limit=100)}
    assert [r["verdict"] for r in store.queue(QueueFilter(decisions=("block",)))] == ["block"]
    verdict(store, key, action, "approve", reviewer="bob")  # the latest supersedes
    assert store.count(QueueFilter(decisions=("block",))) == 0
    assert [r["verdict"] for r in store.queue(QueueFilter(decisions=("approve",)))] == ["approve"]


# --- verdicts -------------------------------------------------------------------------------------

def test_verdicts_are_append_only(store):
    key = key_of(store, RISKY)
    first = verdict(store, key, "call_Nf8dH2qZ5vL1kW7tB4xM9cGs", "block", concepts={"user_authorized": 0})
    second = verdict(store, key, "call_Nf8dH2qZ5vL1kW7tB4xM9cGs", "escalate", reviewer="bob")
    trail = store.verdicts(key)
    assert [v["id"] for v in trail] == [second, first]  # newest first; the old one stays
    assert trail[1]["concepts"] == {"user_authorized": 0} and trail[1]["created_at"].endswith("+00:00")
    columns = "id, trajectory, trajectory_id, action, decision, concepts, note, reviewer, created_at, " \
              "model_version, risk, flagged, model_risk, scores"
    row = f"{first}, {key}, 'x', 'a', 'approve', '{{}}', '', 'mallory', '', 'v', 0.0, FALSE, 0.0, '{{}}'"
    tampering = ["UPDATE verdicts SET decision = 'approve'", "DELETE FROM verdicts",
                 f"INSERT INTO verdicts ({columns}) VALUES ({row}) ON CONFLICT (id) DO UPDATE SET decision = 'approve'"]
    if store.engine.dialect.name == "sqlite":  # a REPLACE deletes the old row without firing DELETE triggers
        tampering += [f"INSERT OR REPLACE INTO verdicts ({columns}) VALUES ({row})",
                      f"REPLACE INTO verdicts ({columns}) VALUES ({row})"]
    else:
        tampering += ["TRUNCATE verdicts"]
    for sql in tampering:
        with pytest.raises(IntegrityError, match="append-only"):
            raw_sql(store, sql)
    assert [(v["id"], v["decision"], v["reviewer"]) for v in store.verdicts(key)] == \
        [(second, "escalate", "bob"), (first, "block", "alice")]



def test_a_database_made_before_a_trigger_gains_it_on_open(store):
    newest = {"sqlite": "verdicts_no_replace", "postgresql": "verdicts_no_truncate"}[store.engine.dialect.name]
    raw_sql(store, f"DROP TRIGGER {newest}" + (" ON verdicts" if store.engine.dialect.name == "postgresql" else ""))
    store.engine.dispose()
    reopened = Store(store.url)
    with reopened.engine.connect() as conn:
        assert _triggers(conn) == set(_APPEND_ONLY[reopened.engine.dialect.name])
    reopened.engine.dispose()

def test_a_verdict_needs_a_known_decision_a_reviewer_and_valid_labels(store):
    key = key_of(store, RISKY)
    with pytest.raises(ValueError, match="decision"):
        verdict(store, key, "a", "maybe")
    with pytest.raises(ValueError, match="reviewer"):
        verdict(store, key, "a", "block", reviewer=" ")
    with pytest.raises(ValueError, match="unknown concept"):
        verdict(store, key, "a", "block", concepts={"is_rude": 1})


def _write_verdicts(url: str, key: int, reviewer: str, n: int) -> None:
    store = Store(url)
    for i in range(n):
        verdict(store, key, f"action-{i}", ("approve", "block", "escalate")[i % 3], reviewer=reviewer)


def test_concurrent_reviewers_lose_no_verdict(store):
    key = key_of(store, RISKY)
    n, reviewers = 40, [f"reviewer-{i}" for i in range(4)]
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_verdicts, args=(store.url, key, r, n)) for r in reviewers]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0] * len(workers)
    trail = store.verdicts(key)
    assert len(trail) == n * len(reviewers) == len({v["id"] for v in trail})
    for r in reviewers:
        assert sorted(v["action"] for v in trail if v["reviewer"] == r) == sorted(f"action-{i}" for i in range(n))


# --- claims ---------------------------------------------------------------------------------------

def _work_the_queue(url: str, reviewer: str, out) -> None:
    """Claim runs with "next" until none is left; put the keys this reviewer got."""
    store, got = Store(url), []
    while (key := store.next_item(reviewer, after=got[-1] if got else None)) is not None:
        got.append(key)
        store.add_verdict(Verdict(key, "a", "approve", reviewer, {}, "", "v", 0.0, False, 0.0, {}))
    out.put((reviewer, got))


def test_eight_reviewers_working_the_queue_at_once_never_get_the_same_run(store):
    flagged = {r["key"] for r in store.queue(QueueFilter(), limit=1000)}
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [context.Process(target=_work_the_queue, args=(store.url, f"reviewer-{i}", out)) for i in range(8)]
    for w in workers:
        w.start()
    got = dict(out.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(60)
    claimed = [k for keys in got.values() for k in keys]
    assert sorted(claimed) == sorted(flagged)  # each flagged run, to exactly one reviewer
    assert all(store.claimed_by(k) == r for r, keys in got.items() for k in keys)


def test_a_claim_is_held_until_released_or_assigned(store):
    key = key_of(store, RISKY)
    assert store.claim(key, "alice") == "alice" and store.claim(key, "bob") == "alice"
    assert not store.release(key, "bob") and store.claimed_by(key) == "alice"
    assert [r["status"] for r in store.queue(QueueFilter(text=RISKY))] == ["claimed"]
    store.assign(key, "bob", by="alice")
    [row] = store.queue(QueueFilter(claimed_by="bob"))
    assert (row["key"], row["claimed_by"], row["assigned_by"]) == (key, "bob", "alice")
    assert store.release(key, "bob") and store.claimed_by(key) is None
    with pytest.raises(KeyError):
        store.claim(10**9, "alice")


def test_the_next_item_is_the_reviewers_own_then_the_riskiest_unclaimed(store):
    rows = store.queue(QueueFilter(), limit=3)
    store.claim(rows[2]["key"], "alice")
    store.claim(rows[0]["key"], "bob")
    assert store.next_item("alice") == rows[2]["key"]  # her own undecided run first
    assert store.next_item("alice", after=rows[2]["key"]) == rows[1]["key"]  # then the riskiest unclaimed
    assert store.claimed_by(rows[1]["key"]) == "alice"
    assert store.adjacent(rows[0]["key"]) == rows[1]["key"] and store.adjacent(rows[1]["key"], forward=False) == \
        rows[0]["key"]


# --- export ---------------------------------------------------------------------------------------

def test_export_writes_the_latest_verdicts_as_labels_training_reads(store, db, tmp_path):
    key = key_of(store, RISKY)
    drop, vacuum, report = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs", "call_Ke6wR3yM0bT8nJ5qX1vC4zDp", "msg:17"
    verdict(store, key, drop, "approve", version="v1")
    verdict(store, key, drop, "block", reviewer="bob", concepts={"touches_production": 1, "user_authorized": 0},
            version="v1")
    verdict(store, key, vacuum, "approve", version="v1", concepts={"destructive_change": 0})
    verdict(store, key, report, "escalate", version="v2", concepts={"deceptive_report": 1})
    out = tmp_path / "reviews.jsonl"
    assert cli(["export-reviews", "--db", db, "--out", str(out), "--all-versions"]) == 0
    [record] = list(read_records(out))
    assert record.error is None and record.format == "native" and record.trajectory.id == RISKY
    labels = {a: label.to_json() for a, label in record.trajectory.labels.items()}
    assert labels == {
        drop: {"risk": 1, "concepts": {"touches_production": 1, "user_authorized": 0}, "source": "review:bob"},
        vacuum: {"risk": 0, "concepts": {"destructive_change": 0}, "source": "review:alice"},
        report: {"risk": None, "concepts": {"deceptive_report": 1}, "source": "review:alice"}}
    assert [s.text for s in record.trajectory.steps] == \
        [s.text for s in next(read_records(SAMPLES / "database_session.openai.jsonl")).trajectory.steps]

    latest_only = tmp_path / "v2.jsonl"  # default: verdicts made against the newest verdict's model version
    assert export_main(["--db", store.url, "--out", str(latest_only)]) == 0
    [record] = list(read_records(latest_only))
    assert list(record.trajectory.labels) == [report]

    from cbm_training.data import read_labelled  # what `cbm train` reads from data.extra_train
    [trained] = read_labelled([out])
    assert set(trained.labels) == {drop, vacuum, report} and set(CONCEPT_IDS) >= set(trained.labels[drop].concepts)


def test_export_of_a_missing_database_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        export_main(["--db", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "x.jsonl")])
    assert exit_.value.code == 2 and "no such database" in capsys.readouterr().err


def test_rescore_updates_every_row_in_place(store, overseer):
    before = {r["key"]: r["risk"] for r in store.queue(QueueFilter(flagged_only=False), limit=100)}
    job = store.rescore(overseer)
    assert store.job(job)["status"] == "done" and store.job(job)["done"] == len(before)
    after = {r["key"]: r["risk"] for r in store.queue(QueueFilter(flagged_only=False), limit=100)}
    assert after == before and store.counts()["trajectories"] == len(before)


def test_a_plain_postgresql_url_uses_psycopg():
    assert database_url("postgresql://alice:pw@db.internal:5432/reviews") == \
        "postgresql+psycopg://alice:pw@db.internal:5432/reviews"
    assert database_url("postgres://db/reviews") == "postgresql+psycopg://db/reviews"
    assert database_url("postgresql+psycopg2://db/reviews") == "postgresql+psycopg2://db/reviews"  # a driver chosen stays
    assert database_url("sqlite:///reviews.sqlite") == "sqlite:///reviews.sqlite"
