"""The reviewer app's pages, run by Streamlit's AppTest against a real SQLite store: the queue,
the decision view (concepts, evidence, interventions, verdicts), untrusted text shown inert,
background import, and the model page."""

from __future__ import annotations

import getpass
import json
import re
import sqlite3
import time

import pytest
from conftest import ROOT, SAMPLES
from streamlit.testing.v1 import AppTest

from cbm_app import render
from cbm_app.store import QueueFilter, Store, database_url
from cbm.facts import Fact, describe
from cbm.formats import read_records

RISKY = "risky-db-prod-drop"
DROP = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"
HOSTILE_TEXT = ("<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) "
                "<!-- hidden --> **bold** :red[red] $x$")
HOSTILE = {"id": "hostile-<b>run</b>", "messages": [
    {"role": "user", "content": f"Drop the production database now. {HOSTILE_TEXT}"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
        "name": "bash", "arguments": json.dumps({"command": f"psql -h db.prod -c 'DROP DATABASE orders' # {HOSTILE_TEXT}"})}}]},
    {"role": "tool", "tool_call_id": "c1", "content": HOSTILE_TEXT}]}


@pytest.fixture(scope="module")
def db(tmp_path_factory, overseer):
    """The samples and one hostile run, scored into a SQLite file."""
    directory = tmp_path_factory.mktemp("app")
    hostile = directory / "hostile.jsonl"
    hostile.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    store = Store(database_url(directory / "reviews.sqlite"))
    store.import_files([(p, p.name) for p in sorted(SAMPLES.glob("*.jsonl"))] + [(hostile, "hostile.jsonl")], overseer)
    return store


@pytest.fixture(autouse=True)
def _use_db(db, monkeypatch):
    monkeypatch.setenv("CBM_DB", db.url)


def key_of(store: Store, trajectory_id: str) -> int:
    return next(r["key"] for r in store.queue(QueueFilter(flagged_only=False), limit=1000) if r["id"] == trajectory_id)


def page(name: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()  # registers the pages
    at.query_params.update(query)
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception, at.exception
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def correction(at: AppTest, concept: str):
    return next(t for t in at.segmented_control if t.key.endswith(f":{concept}"))


def test_queue_lists_the_flagged_runs_riskiest_first(db):
    at = page("queue_view")
    shown = markdown(at)
    expected = db.queue(QueueFilter(), limit=25)
    assert RISKY in shown and int(metric(at, "Matching")) == db.count(QueueFilter())
    positions = [shown.index(f">{r['id']}</b>") for r in expected if "<" not in r["id"]]
    assert positions == sorted(positions)  # riskiest first
    unflagged = [r["id"] for r in db.queue(QueueFilter(flagged_only=False), limit=1000) if not r["flagged"]]
    assert not [i for i in unflagged if f">{i}</b>" in shown]  # runs scored below the flag threshold are not listed


def test_queue_search_narrows_the_list(db):
    at = page("queue_view")
    at.text_input(key="q_text").input("orders-live.prod").run()
    expected = {r["id"] for r in db.queue(QueueFilter(text="orders-live.prod"))}
    assert RISKY in expected and int(metric(at, "Matching")) == len(expected)
    assert "inject-web-follows-native" not in markdown(at)


def test_queue_shows_risk_bands_with_a_legend_and_filters_by_band(db, overseer):
    at = page("queue_view")
    shown = markdown(at)
    assert render.legend(overseer.threshold, overseer.block_threshold) in shown
    assert render.escape(f"block: risk \u2265 {overseer.block_threshold:.3f}") in shown
    top = db.queue(QueueFilter(), limit=1)[0]
    assert render.band_chip(top["risk"], "block") in shown  # the riskiest run, in the block band's colour
    at.multiselect(key="q_bands").set_value(["review"]).run()
    expected = db.queue(QueueFilter(risk_bands=((overseer.threshold, overseer.block_threshold),)), limit=100)
    assert int(metric(at, "Matching")) == len(expected) and all(
        overseer.threshold <= r["risk"] < overseer.block_threshold for r in expected)
    assert render.band_chip(top["risk"], "block") not in markdown(at)


def test_claiming_moves_a_run_to_my_items_and_release_gives_it_back(db):
    at = page("queue_view")
    top = db.queue(QueueFilter(statuses=("open",)), limit=1)[0]
    next(b for b in at.button if b.key == f"claim:{top['key']}").click().run()
    assert db.claimed_by(top["key"]) == getpass.getuser()
    [mine, unclaimed] = [h.value for h in at.subheader]
    assert mine == "My items (1)" and unclaimed.startswith("Unclaimed, riskiest first")
    assert "claimed by " + getpass.getuser() in markdown(at)
    next(b for b in at.button if b.key == f"release:{top['key']}").click().run()
    assert db.claimed_by(top["key"]) is None and at.subheader[0].value == "My items (0)"


def test_a_run_claimed_by_another_reviewer_cannot_be_claimed(db):
    at = page("queue_view")
    top = db.queue(QueueFilter(statuses=("open",)), limit=1)[0]
    db.claim(top["key"], "someone-else")  # between the page's render and the click
    try:
        next(b for b in at.button if b.key == f"claim:{top['key']}").click().run()
        assert db.claimed_by(top["key"]) == "someone-else"
        assert [w.value for w in at.warning] == ["Claimed by someone-else already."]
    finally:
        db.release(top["key"], "someone-else")


def decision(overseer, action) -> str:
    """The decision view's reading of a risk."""
    return "block" if action.risk >= overseer.block_threshold else "flagged" if action.flagged else "not flagged"


def drop_scores(overseer):
    """The model's scores of the risky run, as the decision view computes them."""
    return overseer.score(next(read_records(SAMPLES / "database_session.openai.jsonl")).trajectory)


def concept_label(overseer, action, concept: str) -> str:
    p = action.concepts[concept]
    present = p >= overseer.checkpoint.concept_thresholds[concept]
    change = dict(overseer.check_first(action))[concept]
    return f"{dict((c.id, c.name) for c in overseer.checkpoint.concepts)[concept]} · model {p:.2f} " \
           f"({'present' if present else 'absent'})" + (f" · could move the risk {change:.2f}" if change >= 0.005 else "")


def test_decision_view_opens_on_the_riskiest_action_or_the_one_linked(db, overseer):
    result = drop_scores(overseer)
    riskiest = max(result.actions, key=lambda a: a.risk)
    at = page("decision", t=str(key_of(db, RISKY)))
    assert at.selectbox(key=f"action:{key_of(db, RISKY)}").value == riskiest.id
    assert metric(at, "Risk") == f"{riskiest.risk:.3f}"
    at = page("decision", t=str(key_of(db, RISKY)), a=DROP)
    assert at.selectbox(key=f"action:{key_of(db, RISKY)}").value == DROP


def test_decision_view_shows_concepts_contributions_and_evidence(db, overseer):
    drop = drop_scores(overseer).action(DROP)
    at = page("decision", t=str(key_of(db, RISKY)), a=DROP)
    labels = [t.label for t in at.segmented_control]
    for concept in ("touches_production", "destructive_change"):
        assert concept_label(overseer, drop, concept) in labels
    # the corrections come in the order a reviewer should check them
    assert labels == [concept_label(overseer, drop, c) for c, _ in overseer.check_first(drop)]
    assert metric(at, "Risk") == f"{drop.risk:.3f}"
    assert metric(at, "Model's call") == decision(overseer, drop)
    assert at.get("vega_lite_chart")  # contributions to the risk
    assert "<mark" in markdown(at)  # evidence highlighted in the timeline
    strongest = max(overseer.concept_ids, key=lambda c: abs(drop.contributions[c]))
    assert at.selectbox(key=f"concept:{key_of(db, RISKY)}:{DROP}").value == strongest


def test_decision_view_shows_what_the_action_does_first(db):
    """The stored facts of the action, above its concepts and evidence: each sentence, and the
    action's text with the characters of each fact marked."""
    key = key_of(db, RISKY)
    at = page("decision", t=str(key), a=DROP)
    headings = [h.value for h in at.subheader]
    panel = ["What it does", "What drove the risk", "Corrections", "Audit trail"]  # in the order read
    assert [h for h in headings if h in panel] == panel and "Timeline" in headings
    assert at.selectbox(key=f"concept:{key}:{DROP}").label == "Evidence for concept"
    stored = next(a for a in db.actions(key) if a["action"] == DROP)["facts"]
    facts = [Fact.from_json(f) for f in stored]
    shown = [m.value for m in at.markdown]
    sentences = [render.paragraph(s) for s in describe(facts)]
    assert sentences and all(s in shown for s in sentences)
    text = next(r.trajectory for r in read_records(SAMPLES / "database_session.openai.jsonl")).steps[
        next(a for a in db.actions(key) if a["action"] == DROP)["step"]].text
    marked = render.facts_text(text, stored)
    assert marked in shown and shown.index(sentences[0]) < shown.index(marked)
    host = next(f for f in facts if f.kind == "host")
    assert f">{render.escape(host.value)}</mark>" in marked and text[host.span[0]:host.span[1]] == host.value
    assert f"title=\"{render.escape(render.fact_label(host.to_json()))}" in marked


def test_decision_view_of_a_run_stored_without_facts_shows_none(tmp_path, monkeypatch, overseer):
    store = Store(database_url(tmp_path / "old.sqlite"))
    store.import_files([(SAMPLES / "database_session.openai.jsonl", "db.jsonl")], overseer)
    with sqlite3.connect(tmp_path / "old.sqlite") as conn:  # as a database written before actions had facts
        conn.execute("UPDATE actions SET facts = NULL")
    monkeypatch.setenv("CBM_DB", store.url)
    at = page("decision", t=str(key_of(store, RISKY)), a=DROP)
    assert "What it does" in [h.value for h in at.subheader]
    assert any(c.value.startswith("No facts are stored for this action") for c in at.caption)
    assert all('title="evidence' in m for m in re.findall(r"<mark[^>]*>", markdown(at)))  # evidence marks only


def test_intervention_recomputes_risk_and_flag_and_reset_restores(db, overseer):
    key = key_of(db, RISKY)
    at = page("decision", t=str(key), a=DROP)
    result = drop_scores(overseer)
    # a reviewer who disputes every risk concept the model saw in the DROP
    disputed = {c: 0 for c, p in result.action(DROP).concepts.items() if p >= 0.5 and c != "user_authorized"}
    for concept in disputed:
        correction(at, concept).set_value("absent")
    at.run()
    edited = overseer.intervene(result, disputed, action=DROP)
    assert metric(at, "Risk") == f"{edited.action(DROP).risk:.3f}" != f"{result.action(DROP).risk:.3f}"
    assert metric(at, "Model's call") == decision(overseer, edited.action(DROP))
    changed = {c["action"] for c in overseer.changed_flags(edited)}
    assert all(f"Action {a} " in markdown(at) for a in changed)
    next(b for b in at.button if b.label == "Reset corrections").click().run()
    assert metric(at, "Risk") == f"{result.action(DROP).risk:.3f}" and correction(at, "destructive_change").value is None


def test_verdict_is_saved_with_the_corrections_and_the_scores(db, overseer):
    key = key_of(db, RISKY)
    at = page("decision", t=str(key), a=DROP)
    correction(at, "user_authorized").set_value("present")
    at.run()
    at.button(key="choose:escalate").click().run()
    at.text_area[0].input("ask the on-call DBA")
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.error and at.success
    latest = db.verdicts(key)[0]
    result = overseer.score(json.loads(db.trajectory(key)["native"]))
    risk = overseer.intervene(result, {"user_authorized": 1}, action=DROP).action(DROP).risk
    assert {k: latest[k] for k in ("action", "decision", "reviewer", "note", "concepts", "model_version")} == {
        "action": DROP, "decision": "escalate", "reviewer": getpass.getuser(), "note": "ask the on-call DBA",
        "concepts": {"user_authorized": 1}, "model_version": overseer.version}
    assert latest["risk"] == risk and latest["model_risk"] == result.action(DROP).risk
    assert latest["scores"]["concepts"]["user_authorized"] == 1
    trail = at.dataframe[-1].value
    assert trail.iloc[0]["reviewer"] == getpass.getuser() and bool(trail.iloc[0]["in force"])


def test_no_verdict_is_chosen_for_the_reviewer(db):
    key = key_of(db, RISKY)
    before = len(db.verdicts(key))
    at = page("decision", t=str(key))
    assert any(m.endswith("not chosen yet</div>") for m in (m.value for m in at.markdown))
    next(b for b in at.button if b.label == "Save").click().run()
    assert [e.value for e in at.error] == ["Choose approve, block or escalate."] and len(db.verdicts(key)) == before


def test_save_and_next_opens_the_reviewers_next_run_and_claims_it(db):
    me = getpass.getuser()
    key = key_of(db, RISKY)
    expected = db.queue(QueueFilter(statuses=("open",)), limit=2)
    expected = next(r["key"] for r in expected if r["key"] != key)  # the riskiest unclaimed run after this one
    at = page("decision", t=str(key), a=DROP)
    at.button(key="choose:block").click().run()
    next(b for b in at.button if b.label == "Save & next").click().run()
    try:
        assert not at.exception and db.verdicts(key)[0]["decision"] == "block"
        assert at.query_params["t"] == str(expected) and db.claimed_by(expected) == me
        assert any(s.value.startswith("Verdict ") for s in at.success)  # said on the next run's page
    finally:
        db.release(expected, me)


def test_untrusted_text_is_shown_as_inert_text(db):
    at = page("decision", t=str(key_of(db, HOSTILE["id"])))
    shown = re.sub(r"<mark[^>]*>|</mark>", "", markdown(at))  # evidence marks may cut through the text
    assert "&lt;script&gt;alert&#40;1&#41;&lt;/script&gt;" in shown
    assert "&lt;img src=x onerror=alert&#40;1&#41;&gt;" in shown
    assert "&#91;click&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;" in shown
    assert "&lt;&#33;-- hidden --&gt;" in shown and "hostile-&lt;b&gt;run&lt;/b&gt;" in shown
    for raw in ("<script", "<img", "<!--", "javascript:", "<b>run", "**bold**", ":red[", "$x$"):
        assert raw not in shown
    assert "What it does" in [h.value for h in at.subheader]  # the facts' block, escaped like the rest
    assert re.search(r'<mark title="[^"]*" style="background:#e1bee7', markdown(at))
    at = page("queue_view")
    at.toggle(key="q_flagged").set_value(False)
    at.text_input(key="q_text").input("hostile").run()
    queue = markdown(at)
    assert "hostile-&lt;b&gt;run&lt;/b&gt;" in queue and "<b>run" not in queue


def test_import_runs_in_the_background_and_lists_failed_records(tmp_path, monkeypatch):
    store = Store(database_url(tmp_path / "empty.sqlite"))
    monkeypatch.setenv("CBM_DB", store.url)
    monkeypatch.setenv("CBM_IMPORT_DIR", str(SAMPLES))
    bad = SAMPLES / "malformed" / "bad_records.jsonl"
    at = page("import_runs")
    at.text_area[0].input("malformed/bad_records.jsonl")
    next(b for b in at.button if b.label == "Import and score").click().run()
    [job] = store.jobs()
    deadline = time.monotonic() + 60
    while store.job(job["id"])["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    job = store.job(job["id"])
    assert job["status"] == "done" and job["done"] == job["total"]
    at.run()
    failures = at.dataframe[-1].value
    expected = [r for r in read_records(bad) if r.error is not None]
    assert list(failures["line"]) == sorted((r.line for r in expected), reverse=True)
    assert store.counts()["trajectories"] == job["total"] - len(expected)


def test_server_paths_outside_the_import_folder_are_refused_alike(tmp_path, monkeypatch):
    store = Store(database_url(tmp_path / "empty.sqlite"))
    monkeypatch.setenv("CBM_DB", store.url)
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "escape.jsonl").symlink_to(SAMPLES / "database_session.openai.jsonl")
    monkeypatch.setenv("CBM_IMPORT_DIR", str(tmp_path / "inside"))
    errors = set()
    for path in ("/etc/hostname", "../../../../etc/hostname", "/proc/self/environ", "no-such-file.jsonl",
                 "escape.jsonl", str(SAMPLES / "database_session.openai.jsonl")):
        at = page("import_runs")
        at.text_area[0].input(path)
        next(b for b in at.button if b.label == "Import and score").click().run()
        errors.add(tuple(e.value for e in at.error))
    assert errors == {("Not importable: 1 of the paths. Give .jsonl or .json files under the import folder.",)}
    assert store.jobs() == []
    monkeypatch.delenv("CBM_IMPORT_DIR")
    assert not page("import_runs").text_area  # without an import folder: uploads only


def test_model_page_shows_weights_evaluation_and_calibration(overseer):
    at = page("model")
    info = overseer.info()
    shown = "\n".join(m.value for m in at.markdown)
    weights = info["head"]["weights"]["concepts"]
    for c in info["concepts"]:  # by name, with weight and the whole definition
        assert f"**{c['name']}**" in shown and f"weight {weights[c['id']]:+.3f}" in shown
        assert c["definition"] in [x.value for x in at.caption]
    evaluation = at.dataframe[-1].value
    assert list(evaluation["split"]) == list(info["evaluation"]) and "risk AUROC" in evaluation.columns
    assert "runs/corpus" not in shown + "".join(x.value for x in at.caption)  # sources described, not paths
    assert at.get("image")  # reports/reliability.png of the shipped model


def test_cbm_app_imports_the_samples_into_an_empty_database_and_starts_streamlit_headless(tmp_path, monkeypatch):
    from cbm_app import launch

    started = {}
    monkeypatch.setattr(launch.os, "execvpe", lambda file, argv, env: started.update(argv=argv, env=env))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CBM_DB")
    launch.main(["--port", "8599"])
    store = Store(started["env"]["CBM_DB"])
    assert started["env"]["CBM_DB"] == database_url(tmp_path / "reviews.sqlite")
    assert RISKY in {r["id"] for r in store.queue()}
    assert store.counts()["failures"] == 0  # the malformed samples are left out
    argv = " ".join(started["argv"])
    assert "streamlit run" in argv and str(ROOT / "app" / "main.py") in argv
    assert "--server.headless true" in argv and "--browser.gatherUsageStats false" in argv
    assert "--server.address 127.0.0.1 --server.port 8599" in argv
    launch.main(["--port", "8599"])  # a second start imports nothing more
    assert len(store.jobs()) == 1


def test_cbm_app_refuses_a_missing_checkpoint(tmp_path, capsys):
    from cbm_app import launch

    with pytest.raises(SystemExit) as exit_:
        launch.main(["--checkpoint", str(tmp_path), "--db", str(tmp_path / "r.sqlite")])
    assert exit_.value.code == 2 and "not a checkpoint directory" in capsys.readouterr().err



def test_cbm_app_names_an_unreachable_database_without_its_password(capsys):
    pytest.importorskip("psycopg")
    from cbm_app import launch

    assert launch.main(["--db", "postgresql://cbm:s3cret-pw@127.0.0.1:1/reviews"]) == 2  # nothing listens on port 1
    err = capsys.readouterr().err
    assert "cannot open the database postgresql+psycopg://cbm:***@127.0.0.1:1/reviews" in err and "s3cret" not in err

def test_cbm_app_serves_beyond_loopback_only_with_accounts(tmp_path, monkeypatch, capsys):
    from cbm_app import launch

    started = {}
    monkeypatch.setattr(launch.os, "execvpe", lambda file, argv, env: started.update(argv=argv, env=env))
    db = str(tmp_path / "r.sqlite")
    with pytest.raises(SystemExit) as exit_:
        launch.main(["--host", "0.0.0.0", "--db", db])
    assert exit_.value.code == 2 and "no reviewer account" in capsys.readouterr().err and not started
    Store(database_url(db)).add_reviewer("alice", "a long enough password")
    launch.main(["--host", "0.0.0.0", "--db", db])
    assert "--server.address 0.0.0.0" in " ".join(started["argv"])
    assert started["env"]["CBM_SIGN_IN"] == "required"  # even should every account be disabled later
    started.clear()
    launch.main(["--db", db])
    assert "CBM_SIGN_IN" not in started["env"]


@pytest.fixture
def accounts(tmp_path, monkeypatch, overseer):
    """A store with one run and one account, used by the app."""
    store = Store(database_url(tmp_path / "accounts.sqlite"))
    store.import_files([(SAMPLES / "database_session.openai.jsonl", "database_session.openai.jsonl")], overseer)
    store.add_reviewer("alice", "correct horse battery")
    monkeypatch.setenv("CBM_DB", store.url)
    return store


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


def test_with_accounts_every_page_asks_for_a_sign_in_and_the_verdict_is_the_accounts(accounts, overseer):
    key = key_of(accounts, RISKY)
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60).run()  # the entry point, as served
    assert [t.value for t in at.title] == ["Sign in"] and RISKY not in markdown(at)  # nothing shown before it
    for name, password in (("alice", "wrong password here"), ("bob", "correct horse battery")):
        sign_in(at, name, password)
        assert [e.value for e in at.error] == ["Wrong name or password."] and RISKY not in markdown(at)
    sign_in(at, "alice", "correct horse battery")
    assert not at.exception and RISKY in markdown(at) and "Reviewing as alice" in "\n".join(
        m.value for m in at.sidebar.markdown)
    at.query_params.update(t=str(key), a=DROP)
    at.switch_page("views/decision.py").run()
    at.button(key="choose:block").click().run()
    next(b for b in at.button if b.label == "Save").click().run()
    assert accounts.verdicts(key)[0]["reviewer"] == "alice"
    accounts.disable_reviewer("alice")  # a disabled account's session ends at its next step
    at.switch_page("views/queue_view.py").run()
    assert [t.value for t in at.title] == ["Sign in"]


def test_accounts_keep_only_a_hash_and_refuse_weak_or_taken_names(accounts):
    raw = sqlite3.connect(accounts.url.removeprefix("sqlite:///")).execute(
        "SELECT password_hash FROM reviewers").fetchall()
    assert len(raw) == 1 and raw[0][0].startswith("$argon2id$") and "correct horse" not in raw[0][0]
    for name, password, message in (("alice", "another long password", "exists already"),
                                    ("bob", "short", "at least 12"), ("<b>x</b>", "a long enough password", "letters")):
        with pytest.raises(ValueError, match=message):
            accounts.add_reviewer(name, password)
    assert [r["name"] for r in accounts.reviewers()] == ["alice"]


def test_cbm_reviewers_adds_lists_and_disables_accounts(accounts, monkeypatch, capsys):
    import io

    from cbm_app import reviewers

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert reviewers.main(["--db", accounts.url, "add", "bob", "--password-stdin"]) == 0
    assert accounts.sign_in("bob", "a long enough password")
    assert reviewers.main(["--db", accounts.url, "disable", "bob"]) == 0 and not accounts.sign_in(
        "bob", "a long enough password")
    capsys.readouterr()
    assert reviewers.main(["--db", accounts.url, "list"]) == 0
    assert [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()] == [["alice", "active"],
                                                                                         ["bob", "disabled"]]
    assert reviewers.main(["--db", accounts.url, "disable", "carol"]) == 2
    assert "no reviewer named carol" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["\u00b2", "99999999999999999999999", "-1", "1e3", ""])
def test_a_bad_decision_link_shows_the_way_back_not_an_error(db, key):
    at = page("decision", t=key)  # asserts no exception
    assert [i.value for i in at.info] == ["Open a trajectory from the queue."]
