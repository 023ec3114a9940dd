"""The reviewer app in a real browser: `cbm app` serves it on 127.0.0.1 and headless Chromium
(Playwright) opens the queue, the risky database run, its evidence, corrects a concept, saves a
verdict (checked in the database) and shows a hostile run as inert text. Screenshots of the
queue and the decision view go to reports/screenshots/."""

from __future__ import annotations

import getpass
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

from cbm_app.store import QueueFilter, Store, database_url
from cbm.formats import read_records

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "reports" / "screenshots"
RISKY = "risky-db-prod-drop"
DROP = "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"  # its DROP TABLE on production
HOSTILE_TEXT = "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) <!-- note -->"
HOSTILE = {"id": "hostile-run", "messages": [
    {"role": "user", "content": f"Summarize this page: {HOSTILE_TEXT}"},
    {"role": "assistant", "content": "The page only holds markup."}]}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser at {CHROMIUM}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(directory: Path, *extra: str):
    """`cbm app` on a free port with a new database (the samples import on first start)."""
    port, db = free_port(), directory / "reviews.sqlite"
    with open(directory / "app.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-c", "import sys; from cbm.cli import main; sys.exit(main())",
                                    "app", "--port", str(port), "--db", str(db), *extra], cwd=directory, stdout=log,
                                   stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                if response.read() == b"ok":
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"cbm app did not start: {(directory / 'app.log').read_text()}")
            time.sleep(0.3)
    try:
        yield url, Store(database_url(db))
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser")) as app:
        yield app


@pytest.fixture(scope="module")
def outside():
    """Every request the browser tried to send off this machine (each one is refused)."""
    return []


@pytest.fixture(scope="module")
def page(outside):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1600, "height": 1100})

        def local_only(route) -> None:  # the app must work with no network beyond loopback
            host = urllib.parse.urlsplit(route.request.url).hostname
            if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        page.set_default_timeout(30_000)
        sync_api.expect.set_options(timeout=30_000)  # Streamlit renders asynchronously
        yield page
        browser.close()


def test_review_the_risky_database_run(server, page, overseer):
    url, store = server
    expect = sync_api.expect
    scores = overseer.score(next(r.trajectory for r in read_records(SAMPLES / "database_session.openai.jsonl")))
    riskiest, drop = max(scores.actions, key=lambda a: a.risk), scores.action(DROP)
    page.goto(url)
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has_text=RISKY)
    expect(row.get_by_role("link", name="Open")).to_be_visible()
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text(str(store.count(QueueFilter())))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    row.get_by_role("link", name="Open").click()
    expect(page).to_have_url(re.compile(r"/decision\?t=\d+"))
    risk = page.locator('[data-testid="stMetricValue"]').first
    expect(risk).to_have_text(f"{riskiest.risk:.3f}")  # the riskiest action first
    page.goto(f"{page.url}&a={DROP}")  # a link to the DROP on production
    expect(risk).to_have_text(f"{drop.risk:.3f}")
    for concept in ("Touches production", "Destructive change"):
        expect(page.get_by_role("radiogroup", name=re.compile(f"^{concept} · model"))).to_be_visible()
    expect(page.get_by_role("heading", name="What it does")).to_be_visible()  # the action's facts, first
    expect(page.locator("mark", has_text="DROP TABLE").first).to_be_visible()  # a fact's source characters
    evidence_marks = page.locator('mark[title^="evidence"]')
    expect(evidence_marks.first).to_be_visible()  # the strongest concept's evidence, highlighted in place

    evidence = page.get_by_role("combobox", name="Evidence for concept")
    option = page.get_by_role("option", name="Touches production")
    settled(page)
    for _ in range(5):  # the list opens on ArrowDown once the selectbox has focus
        evidence.focus()
        page.keyboard.press("ArrowDown")
        try:
            option.wait_for(timeout=3000)
            break
        except sync_api.TimeoutError:
            continue
    option.click()
    expect(evidence_marks.filter(has_text="orders-live.prod.acme.internal").first).to_be_visible()
    link = page.locator('a[href^="#step-"]').filter(has_text="orders-live.prod.acme.internal").first
    link.click()  # each piece of evidence leads to its step
    expect(page.locator(f"#step-{drop.step}:target")).to_be_visible()

    # the reviewer disputes every risk concept the model saw in the DROP
    disputed = {c: 0 for c, p in drop.concepts.items() if p >= 0.5 and c != "user_authorized"}
    names = {c.id: c.name for c in overseer.checkpoint.concepts}
    for concept in disputed:
        page.get_by_role("radiogroup", name=re.compile(f"^{names[concept]} · model")) \
            .get_by_role("radio", name="absent").click()
    expected = overseer.intervene(scores, disputed, action=DROP).action(DROP).risk
    expect(risk).to_have_text(f"{expected:.3f}")
    corrected = float(risk.inner_text())
    assert corrected == pytest.approx(expected, abs=5e-4) and corrected < drop.risk
    expect(page.get_by_text(re.compile(rf"^(allow|review|block) {corrected:.3f}$"))).to_be_visible()  # the timeline's
    page.get_by_text(f"action {DROP}").scroll_into_view_if_needed()  # the action under review, evidence marked
    page.get_by_role("heading", name=RISKY).scroll_into_view_if_needed()

    page.get_by_role("button", name=re.compile("^Block")).click()
    expect(page.get_by_text(f"Your verdict on {DROP}: block")).to_be_visible()
    page.get_by_label("Note").fill("dropped a production table during a freeze")
    page.get_by_role("button", name=re.compile("^Save S")).click()
    expect(page.get_by_text(re.compile(r"Verdict \d+ saved"))).to_be_visible()

    [verdict] = store.verdicts()
    assert (verdict["reviewer"], verdict["decision"], verdict["concepts"], verdict["risk"]) == \
        (getpass.getuser(), "block", disputed, pytest.approx(corrected, abs=5e-4))
    assert verdict["trajectory_id"] == RISKY and verdict["note"] == "dropped a production table during a freeze"


def test_hostile_text_is_visible_and_inert(server, page, overseer, tmp_path):
    url, store = server
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    store.import_files([(path, "hostile.jsonl")], overseer)
    [row] = store.queue(QueueFilter(flagged_only=False, text="hostile-run"))
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{url}/decision?t={row['key']}")
    user_step = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Summarize this page")
    expect = sync_api.expect
    expect(user_step.last).to_be_visible()
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    text = user_step.last.inner_text()
    for fragment in ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
                     "<!-- note -->"):
        assert fragment in text
    assert dialogs == []
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert page.locator('a[href^="javascript"]').count() == 0


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """`cbm app` over a store with two reviewer accounts: every page asks for a sign-in."""
    directory = tmp_path_factory.mktemp("team")
    store = Store(database_url(directory / "reviews.sqlite"))
    for name in ("alice", "bob"):
        store.add_reviewer(name, f"{name}'s long password")
    with running_app(directory) as app:
        yield app


def settled(page) -> None:
    """Wait until the app has finished its rerun: no status widget (shown while it runs) and no
    element left stale from the run before, so that a control of the previous page, still drawn
    while the next one loads, never takes a key meant for the new one."""
    page.wait_for_timeout(300)
    sync_api.expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0)
    sync_api.expect(page.locator('[data-testid="stElementContainer"][data-stale="true"]')).to_have_count(0)


def press_until_checked(page, radio, tries: int = 3) -> None:
    """Focus `radio` and press Enter until it is checked. A rerun that ends as the key goes down
    can redraw the control and drop the key; pressing only while unchecked never toggles it back."""
    for _ in range(tries):
        if radio.get_attribute("aria-checked") != "true":
            radio.focus()
            page.keyboard.press("Enter")
        try:
            sync_api.expect(radio).to_have_attribute("aria-checked", "true", timeout=10_000)
            return
        except AssertionError:
            settled(page)
    sync_api.expect(radio).to_have_attribute("aria-checked", "true")


def sign_in(page, url: str, name: str, path: str = "") -> None:
    """Open `path` in a new session and sign in there with the keyboard."""
    page.goto(f"{url}/{path}")
    sync_api.expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(f"{name}'s long password")
    page.keyboard.press("Enter")
    sync_api.expect(page.get_by_text(f"Reviewing as {name}")).to_be_visible()


def test_with_an_account_a_link_leads_to_its_page_after_the_sign_in(team, page):
    url, store = team
    key = next(r["key"] for r in store.queue(QueueFilter(flagged_only=False), limit=100) if r["id"] == RISKY)
    expect = sync_api.expect
    page.goto(f"{url}/decision?t={key}&a={DROP}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.get_by_role("heading", name=RISKY).count() == 0 and "Queue" not in page.locator(
        '[data-testid="stSidebar"]').all_inner_texts()
    page.get_by_label("Name").fill("alice")
    page.get_by_role("textbox", name="Password").fill("wrong password, twice")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong name or password.")).to_be_visible()
    page.get_by_role("textbox", name="Password").fill("alice's long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=RISKY)).to_be_visible()  # the linked decision, once signed in
    expect(page.get_by_text("Reviewing as alice")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Block")).click()
    expect(page.get_by_text(f"Your verdict on {DROP}: block")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Save S")).click()
    expect(page.get_by_text(re.compile(r"Verdict \d+ saved"))).to_be_visible()
    assert [(v["reviewer"], v["action"]) for v in store.verdicts() if v["reviewer"] == "alice"] == [("alice", DROP)]


def test_a_reviewer_works_five_runs_with_the_keyboard_alone(team, page, overseer):
    """Claim and open (N on the queue), read the facts, correct one concept, block (B), save and
    open the next run (N): five times, then check the database."""
    url, store = team
    expect = sync_api.expect
    sign_in(page, url, "bob")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    settled(page)
    page.keyboard.press("n")  # review next: claims the riskiest unclaimed run and opens it
    done = []
    for i in range(5):
        expect(page).to_have_url(re.compile(r"/decision\?t=\d+"))
        key = int(re.search(r"t=(\d+)", page.url).group(1))
        expect(page.get_by_role("heading", name=store.trajectory(key)["id"], exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="What it does")).to_be_visible()  # the facts come first
        assert store.claimed_by(key) == "bob"
        # the explanation is computed after the first paint: wait for it before using the page
        expect(page.get_by_text(re.compile("^(Amber text raised|No text span stands out)"))).to_be_visible()
        settled(page)
        absent = page.get_by_role("radiogroup", name=re.compile("· model")).first.get_by_role("radio", name="absent")
        press_until_checked(page, absent)  # one concept set absent, from the keyboard
        # the rerun that applies the correction has run once "Reset corrections" can be pressed
        expect(page.get_by_role("button", name="Reset corrections")).to_be_enabled()
        if i == 0:
            page.screenshot(path=str(SCREENSHOTS / "decision.png"))
        settled(page)
        page.keyboard.press("b")
        expect(page.get_by_text(re.compile(r"Your verdict on .*: block"))).to_be_visible()
        settled(page)
        page.keyboard.press("n")  # save & next
        expect(page).not_to_have_url(re.compile(rf"t={key}(&|$)"))
        done.append(key)
    verdicts = [v for v in store.verdicts() if v["reviewer"] == "bob"]
    assert sorted(v["trajectory"] for v in verdicts) == sorted(done) and len(set(done)) == 5
    assert all(v["decision"] == "block" and len(v["concepts"]) == 1 and set(v["concepts"].values()) == {0}
               for v in verdicts), [(v["decision"], v["concepts"]) for v in verdicts]
    risks = [store.trajectory(k)["risk"] for k in done]
    assert risks == sorted(risks, reverse=True)  # riskiest first
    sign_in(page, url, "bob")  # a new session: the queue shows bob's work as decided
    page.get_by_role("radio", name="All runs").click()
    expect(page.get_by_text("decided: block").first).to_be_visible()
    settled(page)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))


def test_nothing_is_requested_from_outside_the_machine(server, page, outside):
    url, _ = server
    for path in ("", "decision?t=1", "import", "model"):
        page.goto(f"{url}/{path}")
        sync_api.expect(page.locator('[data-testid="stSidebarNav"]')).to_be_visible()
        page.wait_for_timeout(500)
    assert outside == []  # no font, icon or script from the internet, on any page so far
