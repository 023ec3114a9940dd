"""Review store speed: `python -m cbm_training.bench app [--n 10000] [--db URL] [--browser]`.

Fills a fresh store (a temporary SQLite file by default) with `--n` scored trajectories, some
claimed by reviewers and some decided, and times what the reviewer app asks of it: saving
scores, the queue's first and a deep page under each filter (a reviewer's own items and the
unclaimed runs included), the match count, and one trajectory's rows. The trajectories are the
bundled samples scored once by the shipped model, copied with distinct text and random
scores: query cost depends on row counts and sizes, not on how the scores were made.

With `--browser`, it also starts `cbm app` on that store and times the queue page in Debian's
Chromium (`/usr/bin/chromium`, through Playwright): from opening the page to its "To do" lists
shown, as a reviewer waits for it, both in a new tab (an empty cache: Streamlit's front end starts
too) and coming back to it from the Model page of the open app, once that page is shown.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from importlib import resources
from pathlib import Path

import torch

from cbm_app.store import CHUNK, QueueFilter, Store, Verdict, database_url
from cbm.formats import read_records
from cbm.scoring import Overseer, TrajectoryScore

SAMPLES = Path(str(resources.files("cbm.data") / "samples"))


def copies(results: list[TrajectoryScore], n: int, threshold: float, seed: int):
    """`n` results: the samples' in turn, each with a new id, a distinct first text and random scores."""
    rng = random.Random(seed)
    for i in range(n):
        base = results[i % len(results)]
        steps = [replace(s) for s in base.trajectory.steps]
        steps[0] = replace(steps[0], text=f"{steps[0].text} (copy {i})")
        trajectory = replace(base.trajectory, id=f"{base.id}-{i}", steps=steps)
        actions = []
        for a in base.actions:
            risk = round(rng.betavariate(0.25, 15), 6)
            concepts = {c: round(rng.random() ** 3, 6) for c in a.concepts}
            actions.append(replace(a, risk=risk, flagged=risk >= threshold, concepts=concepts))
        yield replace(base, id=trajectory.id, trajectory=trajectory, actions=actions, line=i + 1,
                      risk=max(a.risk for a in actions), flagged=any(a.flagged for a in actions))


def timed(fn, repeat: int) -> tuple[float, float]:
    """(median, max) milliseconds of `repeat` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbm_training.bench app", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="scored trajectories (default 10000)")
    parser.add_argument("--verdicts", type=int, default=1_000, help="verdicts on random runs (default 1000)")
    parser.add_argument("--db", help="SQLAlchemy URL of an empty database (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per query (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--browser", action="store_true", help="also time the queue page in Chromium")
    parser.add_argument("--loads", type=int, default=10, help="timed page loads with --browser (default 10)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    overseer = Overseer.load(threads=1)
    results = [r for path in sorted(SAMPLES.glob("*.jsonl")) for r in overseer.score_many(read_records(path))]
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or database_url(Path(tmp) / "bench.sqlite")
        store = Store(url)
        start = time.perf_counter()
        batch = []
        for result in copies(results, args.n, overseer.threshold, args.seed):
            batch.append(("bench.jsonl", result))
            if len(batch) == CHUNK:
                store.save_results(batch, overseer.version)
                batch = []
        store.save_results(batch, overseer.version)
        seconds = time.perf_counter() - start
        counts = store.counts()
        actions = sum(len(r.actions) for r in copies(results, args.n, overseer.threshold, args.seed))
        print(f"saved {counts['trajectories']} trajectories ({actions} actions) in {seconds:.1f} s "
              f"({counts['trajectories'] / seconds:,.0f}/s); {counts['flagged']} flagged")

        rng = random.Random(args.seed)
        keys = [r["key"] for r in store.queue(QueueFilter(flagged_only=False), limit=args.n)]
        for _ in range(args.verdicts):
            store.add_verdict(Verdict(rng.choice(keys), "call", rng.choice(("approve", "block", "escalate")), "bench",
                                      {}, "", overseer.version, 0.5, True, 0.5, {}))
        for key in rng.sample(keys, min(len(keys), args.verdicts)):  # runs in reviewers' hands
            store.claim(key, rng.choice(REVIEWERS))

        deep = (counts["flagged"] // 25 - 1) * 25
        cases = {
            "queue, first page": QueueFilter(),
            "concept present": QueueFilter(concepts={"destructive_change": 0.65, "touches_production": 0.4}),
            "risk range": QueueFilter(risk=(0.3, 0.6)),
            "tool": QueueFilter(tools=("execute_sql",)),
            "source file": QueueFilter(sources=("bench.jsonl",)),
            "not reviewed": QueueFilter(reviewed=False),
            "latest verdict block": QueueFilter(decisions=("block",)),
            "text search": QueueFilter(flagged_only=False, text="orders-live.prod"),
            "my items": QueueFilter(statuses=("claimed",), claimed_by=REVIEWERS[0]),
            "unclaimed, riskiest first": QueueFilter(statuses=("open",), order="riskiest"),
        }
        print(f"\n{'query (25 rows)':<26} {'page ms':>9} {'max':>7} {'count ms':>9} {'matches':>8}")
        for name, filters in cases.items():
            page, page_max = timed(lambda f=filters: store.queue(f, limit=25), args.repeat)
            count, _ = timed(lambda f=filters: store.count(f), args.repeat)
            print(f"{name:<26} {page:>9.1f} {page_max:>7.1f} {count:>9.1f} {store.count(filters):>8}")
        page, page_max = timed(lambda: store.queue(QueueFilter(), limit=25, offset=deep), args.repeat)
        print(f"{'queue, last page':<26} {page:>9.1f} {page_max:>7.1f}")
        key = keys[len(keys) // 2]
        one, _ = timed(lambda: (store.trajectory(key), store.actions(key), store.verdicts(key)), args.repeat)
        print(f"{'one trajectory + audit':<26} {one:>9.1f}")
        if args.browser:
            print(queue_page(url, args.loads))
    return 0


REVIEWERS = ("alice", "bob", "carol", "dave", "erin")


def queue_page(url: str, loads: int) -> str:
    """Median and max seconds from opening the queue page to its lists shown, in Chromium."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = subprocess.Popen([sys.executable, "-m", "cbm.cli", "app", "--db", url, "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "LOGNAME": REVIEWERS[0], "USER": REVIEWERS[0]})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                if app.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench app: cbm app did not start")
                time.sleep(0.3)
        opened, returned = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])

            def lists_shown(page) -> None:
                page.get_by_role("heading", name="Unclaimed, riskiest first").wait_for(timeout=60_000)
                page.get_by_role("button", name="Claim").first.wait_for(timeout=60_000)

            for i in range(loads + 1):  # the first load warms Streamlit's caches (model, store): not timed
                page = browser.new_page(viewport={"width": 1600, "height": 1100})
                start = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/")
                lists_shown(page)
                if i:
                    opened.append(time.perf_counter() - start)
                    # back to the queue from another page of the open app, as a reviewer moves all day
                    page.get_by_role("link", name="Model").click()
                    page.get_by_role("heading", name="Unclaimed, riskiest first").wait_for(state="detached")
                    page.get_by_role("heading", name="Calibration").wait_for(timeout=60_000)  # the Model page shown
                    page.wait_for_timeout(500)  # and read for a moment, its tables drawn, before going back
                    start = time.perf_counter()
                    page.get_by_role("link", name="Queue").click()
                    lists_shown(page)
                    returned.append(time.perf_counter() - start)
                page.close()
            browser.close()
    finally:
        app.terminate()
        app.wait(10)
    return (f"\nqueue page in Chromium ({loads} loads, after one warm-up), to the To do lists shown:\n"
            f"  opened in a new tab:               median {statistics.median(opened):.2f} s, max {max(opened):.2f} s\n"
            f"  back to it from another app page:  median {statistics.median(returned):.2f} s, "
            f"max {max(returned):.2f} s")
