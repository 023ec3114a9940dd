"""`cbm app`: start the reviewer web app (Streamlit, headless) and print its URL.

The database and checkpoint reach the Streamlit process as `$CBM_DB` and `$CBM_CHECKPOINT`.
Without a reviewer account (`cbm reviewers add NAME`) it serves only a loopback address, to the
local user; with one, every page asks for a sign-in. On first start with an empty database the
bundled samples (data/samples/*.jsonl, installed with the package) are imported and scored, so the app shows something with
no set-up.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from cbm_app.store import DB_ENV, DEFAULT_DB, IMPORT_DIR_ENV, SIGN_IN_ENV, Store, database_url
from cbm.options import DEFAULT_CHECKPOINT_ENV
from cbm.service import loopback

APP = Path(__file__).resolve().parent  # main.py and views/, run by Streamlit as files
SAMPLES = Path(str(resources.files("cbm.data") / "samples"))  # data/samples, installed as package data
EXIT_USAGE = 2


def import_samples(store: Store, checkpoint: str | None) -> int:
    """Score the bundled samples into an empty store; returns the job id."""
    from cbm.scoring import Overseer

    files = [(path, f"samples/{path.name}") for path in sorted(SAMPLES.glob("*.jsonl"))]
    return store.import_files(files, Overseer.load(checkpoint))


def command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, no file watcher."""
    return [sys.executable, "-m", "streamlit", "run", str(APP / "main.py"),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.address", host, "--server.port", str(port), "--server.fileWatcherType", "none",
            "--client.toolbarMode", "minimal"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm app", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help=f"SQLite file or SQLAlchemy URL, e.g. postgresql://user@host/reviews "
                                     f"(default: ${DB_ENV}, else {DEFAULT_DB} in the current directory)")
    parser.add_argument("--checkpoint", help=f"checkpoint directory (default: ${DEFAULT_CHECKPOINT_ENV}, "
                                             f"else the shipped model)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    parser.add_argument("--import-dir", help="folder whose .jsonl/.json files reviewers may import by path "
                                             "(default: none, uploads only)")
    args = parser.parse_args(argv)
    checkpoint = str(Path(args.checkpoint).resolve()) if args.checkpoint else os.environ.get(DEFAULT_CHECKPOINT_ENV)
    if checkpoint and not (Path(checkpoint) / "config.json").is_file():
        parser.error(f"{checkpoint}: not a checkpoint directory (no config.json)")
    url = database_url(args.db)
    try:
        store = Store(url)
    except (SQLAlchemyError, ImportError) as exc:  # a bad URL, a missing driver, an unreachable server
        shown = make_url(url).render_as_string(hide_password=True)  # the message may reach a shared log
        print(f"cbm app: cannot open the database {shown}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not loopback(args.host) and not store.has_reviewers():
        parser.error(f"{args.host} is not a loopback address and the database has no reviewer account: anyone who "
                     "reached the app could read every trajectory and record verdicts. Make an account with "
                     "`cbm reviewers add NAME` (every page then asks for a sign-in), or listen on 127.0.0.1")
    if store.counts()["trajectories"] == 0 and not store.jobs(1):
        print("cbm app: empty database; importing and scoring the bundled samples", file=sys.stderr)
        import_samples(store, checkpoint)
    env = {**os.environ, DB_ENV: url}
    if args.import_dir:
        if not Path(args.import_dir).is_dir():
            parser.error(f"--import-dir {args.import_dir}: not a folder")
        env[IMPORT_DIR_ENV] = str(Path(args.import_dir).resolve())
    if checkpoint:
        env[DEFAULT_CHECKPOINT_ENV] = checkpoint
    if not loopback(args.host):  # sign-in stays required should every account be disabled while it runs
        env[SIGN_IN_ENV] = "required"
    print(f"cbm app: http://{args.host}:{args.port}  (database {url})", flush=True)
    sys.stderr.flush()
    os.execvpe(sys.executable, command(args.host, args.port), env)  # the server replaces this process
