"""The review store: scored trajectories, failed records, import jobs and reviewers' verdicts in
one SQL database (SQLAlchemy Core; a SQLite file by default, any SQLAlchemy URL such as
`postgresql://...`), so nothing a reviewer sees or decides lives only in a browser session.

    store = Store("reviews.sqlite")
    store.import_files([("runs.jsonl", "runs.jsonl")], overseer)      # score and save, failures listed
    rows, total = store.queue(QueueFilter(concepts={"touches_production": 0.4}), limit=25)
    store.add_verdict(Verdict(key, "call_1", "block", "alice", {"user_authorized": 0}, ...))

Reviewers sign in with accounts kept here (`cbm reviewers add NAME`); a password is stored only
as its argon2id hash, and a verdict's reviewer is the signed-in account.

Verdicts are append-only: the latest one on an action supersedes the earlier ones, which stay
as the audit trail (SQLite's and PostgreSQL's triggers refuse UPDATE, DELETE, upserts and
replacing on the table, whoever connects). SQLite runs in WAL mode with a busy timeout and takes
the write lock at the start of each write transaction, so reviewers saving at once wait for each
other instead of failing.

`cbm export-reviews` (`export_main`) writes the verdicts as labelled native JSONL that
`cbm train` reads through `data.extra_train`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from cbm.concepts import CONCEPT_IDS
from cbm.formats import SESSION_FORMATS, dumps_line, parse_record, read_records, to_record
from cbm.trajectory import Label, Trajectory

if TYPE_CHECKING:  # the store itself never loads the model
    from cbm.scoring import TrajectoryScore

DB_ENV = "CBM_DB"
IMPORT_DIR_ENV = "CBM_IMPORT_DIR"  # the one folder reviewers may import from by path
SIGN_IN_ENV = "CBM_SIGN_IN"  # "required": ask for an account even while the store has none (a non-loopback app)
IMPORTABLE = (".jsonl", ".json")
DEFAULT_DB = "reviews.sqlite"
DECISIONS = ("approve", "block", "escalate")
STATUSES = ("open", "claimed", "decided")  # a run with a verdict is decided, else claimed or open
ORDERS = ("riskiest", "least risky", "newest")
DECISION_RISK = {"approve": 0, "block": 1, "escalate": None}  # escalate: the reviewer could not decide
CHUNK = 256
REVIEWER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # shown in the audit trail: plain and short
MIN_PASSWORD = 12
EXIT_OK, EXIT_USAGE = 0, 2


def import_dir() -> Path | None:
    """The one folder whose files reviewers may import by path; None: only uploads."""
    value = os.environ.get(IMPORT_DIR_ENV)
    return Path(value).resolve() if value else None


def importable(name: str, root: Path) -> Path | None:
    """The file `name` (relative to `root`, or absolute) when it is a .jsonl or .json regular
    file inside `root` once links are resolved; None otherwise. One answer for "outside",
    "missing" and "not a file", so the form tells nobody what else exists on the server."""
    try:
        path = (root / name).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or path.suffix.lower() not in IMPORTABLE or not path.is_file():
        return None
    return path




def concept_column(concept: str) -> str:
    return f"concept_{concept}"


metadata = MetaData()

trajectories = Table(
    "trajectories", metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column("id", String(512), nullable=False, index=True),  # the record's own id (not unique across files)
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of `native`: a re-import updates
    Column("source", String(1024), nullable=False, index=True),
    Column("line", Integer),
    Column("native", Text, nullable=False),  # the trajectory as a native JSON record
    Column("text", Text, nullable=False),  # every step's text and tool name, for search
    Column("risk", Float, index=True),  # max over actions; NULL without actions
    Column("flagged", Boolean, nullable=False),
    Column("n_actions", Integer, nullable=False),
    Column("n_flagged", Integer, nullable=False),
    Column("tools", Text, nullable=False),  # JSON list of distinct tool names
    Column("top_concepts", Text, nullable=False),  # JSON: the riskiest action's top concepts
    Column("model_version", String(128), nullable=False),
    Column("imported_at", String(32), nullable=False),
    Index("ix_trajectories_flagged_risk", "flagged", "risk"),
)

actions = Table(
    "actions", metadata,
    Column("trajectory", Integer, ForeignKey("trajectories.key", ondelete="CASCADE"), primary_key=True),
    Column("action", String(512), primary_key=True),
    Column("step", Integer, nullable=False),
    Column("tool", String(512)),
    Column("risk", Float, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("concepts", Text, nullable=False),  # JSON {concept: probability}
    Column("top_concepts", Text, nullable=False),  # JSON [{concept, probability, contribution}]
    Column("facts", Text),  # JSON [{kind, value, span, parser, tags, command}]; NULL: none stored (older row)
    # one column per concept, for filtering: these, and those of concepts other checkpoints' results
    # bring, added when such results are saved (Store._concept_columns)
    *[Column(concept_column(c), Float) for c in CONCEPT_IDS],
    Index("ix_actions_tool_trajectory", "tool", "trajectory"),
)

failures = Table(
    "failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", Integer, index=True),
    Column("source", String(1024), nullable=False),
    Column("line", Integer),
    Column("record_id", String(512)),
    Column("error", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # import | rescore
    Column("files", Text, nullable=False),  # JSON list of source names
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("message", Text),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
)

verdicts = Table(
    "verdicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trajectory", Integer, ForeignKey("trajectories.key"), nullable=False),
    Column("trajectory_id", String(512), nullable=False),
    Column("action", String(512), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("concepts", Text, nullable=False),  # JSON {concept: 0|1}: the reviewer's corrected labels
    Column("note", Text, nullable=False),
    Column("reviewer", String(256), nullable=False),
    Column("created_at", String(32), nullable=False),  # UTC, ISO 8601
    Column("model_version", String(128), nullable=False),
    Column("risk", Float, nullable=False),  # the action's risk with the corrections applied
    Column("flagged", Boolean, nullable=False),
    Column("model_risk", Float, nullable=False),  # the model's own risk, before corrections
    Column("scores", Text, nullable=False),  # JSON: the action's concepts and contributions at review time
    Index("ix_verdicts_trajectory_id", "trajectory", "id"),
)

claims = Table(
    "claims", metadata,  # who works on a run: one claim per run, taken or assigned, released when done with
    Column("trajectory", Integer, ForeignKey("trajectories.key"), primary_key=True),
    Column("reviewer", String(64), nullable=False, index=True),
    Column("assigned_by", String(64)),  # NULL: the reviewer claimed it
    Column("claimed_at", String(32), nullable=False),
)

reviewers = Table(
    "reviewers", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),  # argon2id; the password itself is never stored
    Column("active", Boolean, nullable=False),  # a disabled account cannot sign in; its verdicts stay
    Column("created_at", String(32), nullable=False),
)

# Verdicts are append-only in the database itself, whatever client writes to it: triggers refuse
# UPDATE and DELETE, and so upserts (`INSERT ... ON CONFLICT DO UPDATE` runs the UPDATE triggers).
# SQLite's REPLACE deletes the row it replaces without firing DELETE triggers, so an INSERT with a
# taken id is refused as well; PostgreSQL's TRUNCATE fires no row trigger, so it has a statement one.
_REFUSE = "verdicts are append-only"
_APPEND_ONLY = {  # dialect -> {trigger: statement}, created on open where missing
    "sqlite": {
        **{f"verdicts_no_{op.lower()}": f"CREATE TRIGGER verdicts_no_{op.lower()} BEFORE {op} ON verdicts "
                                        f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END" for op in ("UPDATE", "DELETE")},
        "verdicts_no_replace": ("CREATE TRIGGER verdicts_no_replace BEFORE INSERT ON verdicts "
                                "WHEN EXISTS (SELECT 1 FROM verdicts WHERE id = NEW.id) "
                                f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"),
    },
    "postgresql": {
        "verdicts_append_only": ("CREATE TRIGGER verdicts_append_only BEFORE UPDATE OR DELETE ON verdicts "
                                 "FOR EACH ROW EXECUTE FUNCTION verdicts_append_only()"),
        "verdicts_no_truncate": ("CREATE TRIGGER verdicts_no_truncate BEFORE TRUNCATE ON verdicts "
                                 "FOR EACH STATEMENT EXECUTE FUNCTION verdicts_append_only()"),
    },
}
# restrict_violation: an integrity error to the driver, as SQLite's RAISE(ABORT) is
_POSTGRES_REFUSE = ("CREATE OR REPLACE FUNCTION verdicts_append_only() RETURNS trigger AS $$ BEGIN "
                    f"RAISE EXCEPTION '{_REFUSE}' USING ERRCODE = 'restrict_violation'; END $$ LANGUAGE plpgsql")
_SCHEMA_LOCK = 0x63626D5F73746F72  # PostgreSQL advisory lock id: one process at a time sets up a database's schema


def _triggers(conn: Connection) -> set[str]:
    """The names of the triggers on the verdicts table."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'verdicts'"
    elif conn.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('verdicts') AND NOT tgisinternal"
    else:
        return set()
    return set(conn.exec_driver_sql(sql).scalars())


_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(os.urandom(16).hex())


def _check_account(name: str, password: str) -> None:
    if not REVIEWER_NAME.fullmatch(name):
        raise ValueError("a reviewer's name is 1 to 64 letters, digits and . _ @ -, starting with a letter or digit")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def database_url(db: str | Path | None = None) -> str:
    """A SQLAlchemy URL from `--db`: a URL (a plain `postgresql://` one uses psycopg 3), otherwise
    a SQLite file path (None: `$CBM_DB`, else `reviews.sqlite` in the current directory)."""
    db = str(db or os.environ.get(DB_ENV) or DEFAULT_DB)
    return driver_url(db) if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"


def driver_url(url: str) -> str:
    """`postgresql://...` (or `postgres://...`) as SQLAlchemy's `postgresql+psycopg://...`, the
    driver the `postgres` extra installs, so a team's URL needs no SQLAlchemy driver syntax."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql+psycopg://{rest}" if sep and scheme in ("postgresql", "postgres") else url


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # a writer takes the lock up front: a read-then-write transaction could not wait for it
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

    return engine


@dataclass
class QueueFilter:
    """What the queue shows. `concepts` maps a concept to the probability at which it counts as
    present (some action of the run must have it); `reviewed` None means either."""

    flagged_only: bool = True
    risk: tuple[float, float] = (0.0, 1.0)
    concepts: dict[str, float] = field(default_factory=dict)
    tools: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    reviewed: bool | None = None
    decisions: tuple[str, ...] = ()  # the latest verdict on the run is one of these
    text: str = ""
    risk_bands: tuple[tuple[float, float], ...] = ()  # [low, high) risk ranges, any of them (allow/review/block)
    statuses: tuple[str, ...] = ()  # open, claimed, decided: any of them
    claimed_by: str | None = None  # only runs this reviewer holds
    order: str = "riskiest"  # one of ORDERS


@dataclass
class Verdict:
    """A reviewer's decision on one action, with the scores it was made against."""

    trajectory: int  # the store's key
    action: str
    decision: str
    reviewer: str
    concepts: dict[str, int]  # corrected concept labels
    note: str
    model_version: str
    risk: float
    flagged: bool
    model_risk: float
    scores: dict[str, Any]

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, got {self.decision!r}")
        if not self.reviewer.strip():
            raise ValueError("a verdict needs the reviewer's name")
        Label(concepts=self.concepts)  # checks ids and 0/1 values


class Store:
    """The review database. Every method opens its own short transaction, so one Store serves
    the page threads and the background scoring thread alike."""

    def __init__(self, url: str):
        self.url = url = driver_url(url)
        try:
            self.engine = _sqlite_engine(url) if url.startswith("sqlite") else create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ModuleNotFoundError(f"{exc}: the driver for {url.partition('://')[0]} is not installed "
                                      f"(for PostgreSQL: pip install \"cbm-oversight[postgres]\")") from exc
        self.writer = self.engine.execution_options(write=True)
        self._prepare_schema()
        self._concepts: set[str] = set()  # concepts with a column in actions, as last read

    def _prepare_schema(self) -> None:
        """Create what the database lacks: tables, columns added since it was made (NULL in its
        rows) and the append-only triggers. Checked first without a lock (opening a complete
        database writes nothing), then again under the write lock, since other processes may be
        opening the same new database at once."""
        with self.engine.connect() as conn:
            if not self._schema_missing(conn):
                return
        with self.writer.begin() as conn:
            if conn.dialect.name == "postgresql":  # held until commit; DDL is transactional there
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
            if not self._schema_missing(conn):
                return
            metadata.create_all(conn)
            for column in self._missing_columns(conn):
                name, kind = conn.dialect.identifier_preparer.quote(column.name), column.type.compile(conn.dialect)
                conn.exec_driver_sql(f"ALTER TABLE actions ADD COLUMN {name} {kind}")
            triggers = _APPEND_ONLY.get(conn.dialect.name, {})
            missing = [sql for name, sql in triggers.items() if name not in _triggers(conn)]
            if missing and conn.dialect.name == "postgresql":
                conn.exec_driver_sql(_POSTGRES_REFUSE)
            for sql in missing:
                conn.exec_driver_sql(sql)

    @staticmethod
    def _missing_columns(conn: Connection) -> list[Column]:
        """The actions table's columns that the database's table lacks (made by an older version)."""
        present = {c["name"] for c in inspect(conn).get_columns("actions")}
        return [c for c in actions.columns if c.name not in present]

    @staticmethod
    def _schema_missing(conn: Connection) -> bool:
        if not set(metadata.tables) <= set(inspect(conn).get_table_names()):
            return True
        return bool(Store._missing_columns(conn)) or not set(_APPEND_ONLY.get(conn.dialect.name, {})) <= _triggers(conn)

    # --- import and scoring ------------------------------------------------------------------

    def start_job(self, kind: str, files: list[str], total: int) -> int:
        with self.writer.begin() as conn:
            return conn.execute(insert(jobs).values(kind=kind, files=json.dumps(files), status="running", total=total,
                                                    done=0, failed=0, started_at=now())).inserted_primary_key[0]

    def finish_job(self, job: int, status: str, message: str | None = None) -> None:
        with self.writer.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job).values(status=status, message=_printable(message),
                                                                     finished_at=now()))

    def job(self, job: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(jobs).where(jobs.c.id == job)).mappings().one())

    def jobs(self, limit: int = 10) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(jobs).order_by(jobs.c.id.desc()).limit(limit)).mappings()]

    def import_files(self, files: list[tuple[str | Path, str]], overseer, fmt: str = "auto",
                     job: int | None = None) -> int:
        """Score every record of `files` ((path, source name) pairs) and save the results; a
        record that fails is saved as a failure. A `cbm score` output file is checked against
        the loaded model's scores of already-imported trajectories, matched by id. Returns the job id."""
        if job is None:
            job = self.start_job("import", [name for _, name in files], sum(count_records(p, fmt) for p, _ in files))
        try:
            for path, name in files:
                if fmt not in SESSION_FORMATS and is_score_output(path):
                    self._attach_scores(path, name, job, overseer)
                    continue
                results = overseer.score_many(read_records(path, fmt), batch_size=CHUNK)
                for batch in _batches(results, CHUNK):
                    self.save_results([(name, r) for r in batch], overseer.version, job)
        except Exception as exc:
            self.finish_job(job, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self.finish_job(job, "done")
        return job

    def rescore(self, overseer, job: int | None = None) -> int:
        """Score every stored trajectory again with `overseer` (after a checkpoint change)."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(trajectories)).scalar_one()
        job = self.start_job("rescore", [], total) if job is None else job
        try:
            last = 0
            while True:
                with self.engine.connect() as conn:
                    rows = conn.execute(select(trajectories.c.key, trajectories.c.native)
                                        .where(trajectories.c.key > last).order_by(trajectories.c.key)
                                        .limit(CHUNK)).all()
                if not rows:
                    break
                results = list(overseer.score_many([json.loads(r.native) for r in rows], batch_size=CHUNK))
                with self.writer.begin() as conn:
                    for row, result in zip(rows, results):
                        self._put(conn, row.key, self._values(result, overseer.version), result)
                    conn.execute(update(jobs).where(jobs.c.id == job).values(done=jobs.c.done + len(rows)))
                last = rows[-1].key
        except Exception as exc:
            self.finish_job(job, "failed", f"{type(exc).__name__}: {exc}")
            raise
        self.finish_job(job, "done")
        return job

    def save_results(self, items: Iterable[tuple[str, TrajectoryScore]], model_version: str,
                     job: int | None = None) -> tuple[int, int]:
        """Save (source, result) pairs in one transaction: scored trajectories (a trajectory
        already stored, byte for byte, is updated) or failures. Returns (saved, failed)."""
        saved = failed = 0
        with self.writer.begin() as conn:
            for source, result in items:
                problem = result.error if result.error is not None else _unstorable(source, result)
                if problem is not None:
                    conn.execute(insert(failures).values(job=job, source=_printable(source, failures.c.source),
                                                         line=result.line, error=_printable(problem),
                                                         record_id=_printable(result.id, failures.c.record_id),
                                                         created_at=now()))
                    failed += 1
                    continue
                values = self._values(result, model_version)
                native = json.dumps(to_record(result.trajectory, "native"), ensure_ascii=False, sort_keys=True)
                digest = hashlib.sha256(native.encode("utf-8")).hexdigest()
                values.update(id=result.id, digest=digest, source=source, line=result.line, native=native,
                              text=_search_text(result.trajectory))
                key = conn.execute(select(trajectories.c.key).where(trajectories.c.digest == digest)).scalar()
                self._put(conn, key, values, result)
                saved += 1
            if job is not None:
                conn.execute(update(jobs).where(jobs.c.id == job)
                             .values(done=jobs.c.done + saved + failed, failed=jobs.c.failed + failed))
        return saved, failed

    @staticmethod
    def _values(result: TrajectoryScore, model_version: str) -> dict[str, Any]:
        riskiest = max(result.actions, key=lambda a: a.risk, default=None)
        return {"risk": result.risk, "flagged": bool(result.flagged), "n_actions": len(result.actions),
                "n_flagged": sum(a.flagged for a in result.actions),
                "tools": json.dumps(sorted({a.tool for a in result.actions if a.tool})),
                "top_concepts": json.dumps(riskiest.top_concepts(3) if riskiest else []),
                "model_version": model_version, "imported_at": now()}

    def _concept_columns(self, conn: Connection, wanted: Iterable[str] = ()) -> set[str]:
        """The concepts with a column in actions, read again when one `wanted` is not among them
        (another process may have added it)."""
        if not self._concepts or not set(wanted) <= self._concepts:
            prefix = concept_column("")
            self._concepts = {c["name"].removeprefix(prefix) for c in inspect(conn).get_columns("actions")
                              if c["name"].startswith(prefix)}
        return self._concepts

    def _add_concept_columns(self, conn: Connection, concepts: set[str]) -> None:
        """Columns for the concepts of the results being saved (the loaded checkpoint's, which may
        differ from the ones the store was made with); `conn` holds the write lock."""
        missing = concepts - self._concept_columns(conn, concepts)
        for concept in sorted(missing):
            name = conn.dialect.identifier_preparer.quote(concept_column(concept))
            exists = " IF NOT EXISTS" if conn.dialect.name == "postgresql" else ""  # SQLite: checked under its lock
            conn.exec_driver_sql(f"ALTER TABLE actions ADD COLUMN{exists} {name} {Float().compile(conn.dialect)}")
        self._concepts |= missing

    def _where(self, conn: Connection, filters: QueueFilter) -> list:
        return _conditions(filters, self._concept_columns(conn, filters.concepts))

    def _put(self, conn: Connection, key: int | None, values: dict[str, Any], result: TrajectoryScore) -> int:
        """Insert or update one trajectory row and replace its action rows."""
        if key is None:
            key = conn.execute(insert(trajectories).values(**values)).inserted_primary_key[0]
        else:
            conn.execute(update(trajectories).where(trajectories.c.key == key).values(**values))
            conn.execute(delete(actions).where(actions.c.trajectory == key))
        if result.actions:
            concepts = {c for a in result.actions for c in a.concepts}
            self._add_concept_columns(conn, concepts)
            rows = [_action_row(key, a.id, a.step, a.tool, a.risk, a.flagged, a.concepts, a.top_concepts(3),
                                [f.to_json() for f in a.facts], concepts) for a in result.actions]
            conn.execute(insert(table("actions", *[column(name) for name in rows[0]])), rows)
        return key

    def _attach_scores(self, path: str | Path, source: str, job: int, overseer) -> None:
        """A `cbm score` output, checked rather than trusted: each record's trajectory (the latest
        imported with its id) is scored again by the loaded model, and the record is accepted
        only when its every action's risk and flag are the model's; what is stored is then the
        model's own result. A hand-edited file can therefore neither lower a risk nor break a
        page; every mismatch is a failure that says what differs."""
        for chunk in _batches(_score_lines(path), CHUNK):
            checked = []  # (line, record, key, result, problem): read and scored before the write lock is taken
            for line, record, problem in chunk:
                key = result = None
                if problem is None:
                    with self.engine.connect() as conn:
                        key = conn.execute(select(trajectories.c.key).where(trajectories.c.id == record["id"])
                                           .order_by(trajectories.c.key.desc()).limit(1)).scalar()
                        problem = _attach_problem(conn, key, record)
                        native = None if problem else conn.execute(
                            select(trajectories.c.native).where(trajectories.c.key == key)).scalar()
                if problem is None:
                    result = overseer.score(json.loads(native))
                    problem = _score_mismatch(record, result, overseer.version)
                checked.append((line, record, key, result, problem))
            failed = sum(problem is not None for *_, problem in checked)
            with self.writer.begin() as conn:
                for line, record, key, result, problem in checked:
                    if problem is None:
                        self._put(conn, key, self._values(result, overseer.version), result)
                    else:
                        conn.execute(insert(failures).values(
                            job=job, source=_printable(source, failures.c.source), line=line,
                            record_id=_printable(record.get("id") if record else None, failures.c.record_id),
                            error=_printable(problem), created_at=now()))
                conn.execute(update(jobs).where(jobs.c.id == job)
                             .values(done=jobs.c.done + len(checked), failed=jobs.c.failed + failed))

    def failures(self, limit: int = 500, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Failed records, newest first, and how many there are."""
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(failures)).scalar_one()
            rows = conn.execute(select(failures).order_by(failures.c.id.desc()).limit(limit).offset(offset)).mappings()
            return [dict(r) for r in rows], total

    # --- the queue ---------------------------------------------------------------------------

    def queue(self, filters: QueueFilter | None = None, limit: int = 25, offset: int = 0) -> list[dict[str, Any]]:
        """One page of matching trajectories, riskiest first, with the latest verdict on each.
        Filtering, sorting and paging all run in SQL."""
        filters = filters or QueueFilter()
        t = trajectories
        columns = [t.c.key, t.c.id, t.c.source, t.c.line, t.c.risk, t.c.flagged, t.c.n_actions, t.c.n_flagged,
                   t.c.tools, t.c.top_concepts, t.c.model_version, _latest_decision().label("verdict"),
                   claims.c.reviewer.label("claimed_by"), claims.c.assigned_by]
        order = {"riskiest": (t.c.risk.desc().nulls_last(), t.c.key), "least risky": (t.c.risk.asc().nulls_last(), t.c.key),
                 "newest": (t.c.key.desc(),)}[filters.order]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).select_from(t.outerjoin(claims, claims.c.trajectory == t.c.key))
                                .where(*self._where(conn, filters)).order_by(*order).limit(limit)
                                .offset(offset)).mappings()
            return [{**r, "tools": json.loads(r["tools"]), "top_concepts": json.loads(r["top_concepts"]),
                     "status": "decided" if r["verdict"] else "claimed" if r["claimed_by"] else "open"} for r in rows]

    def count(self, filters: QueueFilter | None = None) -> int:
        """How many trajectories match."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(trajectories.outerjoin(
                claims, claims.c.trajectory == trajectories.c.key)).where(*self._where(conn, filters or QueueFilter()))
            ).scalar_one()

    def counts(self) -> dict[str, int]:
        """Trajectories, flagged ones, reviewed ones, verdicts and failed records in the store."""
        with self.engine.connect() as conn:
            def one(stmt) -> int:
                return conn.execute(stmt).scalar_one()

            return {"trajectories": one(select(func.count()).select_from(trajectories)),
                    "flagged": one(select(func.count()).select_from(trajectories)
                                   .where(trajectories.c.flagged)),
                    "reviewed": one(select(func.count(func.distinct(verdicts.c.trajectory)))),
                    "verdicts": one(select(func.count()).select_from(verdicts)),
                    "failures": one(select(func.count()).select_from(failures))}

    def sources(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(trajectories.c.source).distinct().order_by(trajectories.c.source)).scalars())

    def tools(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(actions.c.tool).where(actions.c.tool.is_not(None)).distinct()
                                     .order_by(actions.c.tool)).scalars())

    def trajectory(self, key: int) -> dict[str, Any] | None:
        """The stored row (native JSON included), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(trajectories).where(trajectories.c.key == key)).mappings().first()
        return dict(row) if row else None

    def actions(self, key: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(actions).where(actions.c.trajectory == key).order_by(actions.c.step)).mappings()
            return [{**r, "concepts": json.loads(r["concepts"]), "top_concepts": json.loads(r["top_concepts"]),
                     "facts": None if r["facts"] is None else json.loads(r["facts"])} for r in rows]

    # --- verdicts ----------------------------------------------------------------------------

    def add_verdict(self, verdict: Verdict) -> int:
        """Append a verdict (never updates one); returns its id."""
        with self.writer.begin() as conn:
            trajectory_id = conn.execute(select(trajectories.c.id)
                                         .where(trajectories.c.key == verdict.trajectory)).scalar()
            if trajectory_id is None:
                raise KeyError(f"no trajectory with key {verdict.trajectory}")
            values = {**verdict.__dict__, "concepts": json.dumps(verdict.concepts, sort_keys=True),
                      "scores": json.dumps(verdict.scores), "trajectory_id": trajectory_id, "created_at": now()}
            return conn.execute(insert(verdicts).values(**values)).inserted_primary_key[0]

    def verdicts(self, key: int | None = None) -> list[dict[str, Any]]:
        """Every verdict (of one trajectory), newest first: the audit trail."""
        stmt = select(verdicts).order_by(verdicts.c.id.desc())
        if key is not None:
            stmt = stmt.where(verdicts.c.trajectory == key)
        with self.engine.connect() as conn:
            return [{**r, "concepts": json.loads(r["concepts"]), "scores": json.loads(r["scores"])}
                    for r in conn.execute(stmt).mappings()]

    # --- claims: who works on which run ----------------------------------------------------------

    def claim(self, key: int, reviewer: str) -> str:
        """Take run `key` for `reviewer` unless another reviewer holds it; returns who holds it
        now. The claim is one row keyed by the run, so of two reviewers (or processes) claiming at
        once exactly one gets it."""
        try:
            with self.writer.begin() as conn:
                conn.execute(insert(claims).values(trajectory=key, reviewer=reviewer, claimed_at=now()))
            return reviewer
        except IntegrityError:
            holder = self.claimed_by(key)
            if holder is None:  # released in between, or no such run
                if self.trajectory(key) is None:
                    raise KeyError(f"no trajectory with key {key}") from None
                return self.claim(key, reviewer)
            return holder

    def assign(self, key: int, reviewer: str, by: str) -> None:
        """Give run `key` to `reviewer`, taking it from whoever held it."""
        with self.writer.begin() as conn:
            conn.execute(delete(claims).where(claims.c.trajectory == key))
            conn.execute(insert(claims).values(trajectory=key, reviewer=reviewer, assigned_by=by, claimed_at=now()))

    def release(self, key: int, reviewer: str) -> bool:
        """Give back run `key` if `reviewer` holds it; whether it was theirs."""
        with self.writer.begin() as conn:
            return bool(conn.execute(delete(claims).where((claims.c.trajectory == key)
                                                          & (claims.c.reviewer == reviewer))).rowcount)

    def claimed_by(self, key: int) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(claims.c.reviewer).where(claims.c.trajectory == key)).scalar()

    def adjacent(self, key: int, forward: bool = True, filters: QueueFilter | None = None) -> int | None:
        """The run after (or before) run `key` in the queue's riskiest-first order, among those
        `filters` match; None at either end."""
        t = trajectories
        with self.engine.connect() as conn:
            risk = conn.execute(select(t.c.risk).where(t.c.key == key)).scalar()
            if risk is None:
                return None
            beyond = ((t.c.risk < risk) | ((t.c.risk == risk) & (t.c.key > key))) if forward else \
                ((t.c.risk > risk) | ((t.c.risk == risk) & (t.c.key < key)))
            order = (t.c.risk.desc(), t.c.key) if forward else (t.c.risk.asc(), t.c.key.desc())
            return conn.execute(select(t.c.key).select_from(t.outerjoin(claims, claims.c.trajectory == t.c.key))
                                .where(beyond, *self._where(conn, replace(filters or QueueFilter(), order="riskiest")))
                                .order_by(*order).limit(1)).scalar()

    def next_item(self, reviewer: str, after: int | None = None, filters: QueueFilter | None = None) -> int | None:
        """The run `reviewer` should look at next: their own undecided runs first, then the
        riskiest unclaimed open run, which is claimed for them (so two reviewers moving on at
        once get different runs). `after`, the run just done, is skipped. None: nothing left."""
        base = filters or QueueFilter()
        skip = [after] if after is not None else []
        for mine in (True, False):
            for _ in range(20):  # another reviewer may claim the run first: take the next one
                query = replace(base, statuses=("claimed",) if mine else ("open",),
                                claimed_by=reviewer if mine else None, order="riskiest")
                rows = [r for r in self.queue(query, limit=len(skip) + 1) if r["key"] not in skip]
                if not rows:
                    break
                key = rows[0]["key"]
                if mine or self.claim(key, reviewer) == reviewer:
                    return key
                skip.append(key)
        return None

    # --- reviewers' accounts ------------------------------------------------------------------

    def add_reviewer(self, name: str, password: str) -> None:
        """A new account; ValueError for a taken or malformed name, or a short password."""
        _check_account(name, password)
        with self.writer.begin() as conn:
            if conn.execute(select(reviewers.c.name).where(reviewers.c.name == name)).first() is not None:
                raise ValueError(f"a reviewer named {name} exists already")
            conn.execute(insert(reviewers).values(name=name, password_hash=_HASHER.hash(password), active=True,
                                                  created_at=now()))

    def set_password(self, name: str, password: str) -> None:
        """A new password for an existing account (which is active again)."""
        _check_account(name, password)
        with self.writer.begin() as conn:
            done = conn.execute(update(reviewers).where(reviewers.c.name == name)
                                .values(password_hash=_HASHER.hash(password), active=True)).rowcount
        if not done:
            raise KeyError(f"no reviewer named {name}")

    def disable_reviewer(self, name: str) -> None:
        """The account can no longer sign in, and a session signed in with it ends at its next
        step; its verdicts stay in the audit trail."""
        with self.writer.begin() as conn:
            if not conn.execute(update(reviewers).where(reviewers.c.name == name).values(active=False)).rowcount:
                raise KeyError(f"no reviewer named {name}")

    def reviewers(self) -> list[dict[str, Any]]:
        """Every account: name, active, created_at (never the hash)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(reviewers.c.name, reviewers.c.active, reviewers.c.created_at)
                                .order_by(reviewers.c.name)).mappings()
            return [dict(r) for r in rows]

    def has_reviewers(self) -> bool:
        """Whether any account was made (disabled ones included): then every page asks for a sign-in."""
        with self.engine.connect() as conn:
            return conn.execute(select(reviewers.c.name).limit(1)).first() is not None

    def active_reviewer(self, name: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(reviewers.c.name).where((reviewers.c.name == name) & reviewers.c.active)
                                ).first() is not None

    def sign_in(self, name: str, password: str) -> bool:
        """Whether `password` is that of the active account `name`. An unknown name costs the
        same hash check as a wrong password, so timing does not tell which names exist."""
        with self.engine.connect() as conn:
            stored = conn.execute(select(reviewers.c.password_hash).where((reviewers.c.name == name)
                                                                          & reviewers.c.active)).scalar()
        try:
            _HASHER.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        if stored is None:
            return False
        if _HASHER.check_needs_rehash(stored):  # the hashing parameters were raised since it was set
            with self.writer.begin() as conn:
                conn.execute(update(reviewers).where(reviewers.c.name == name)
                             .values(password_hash=_HASHER.hash(password)))
        return True

    # --- export ------------------------------------------------------------------------------

    def reviewed(self, model_version: str | None = None) -> Iterator[Trajectory]:
        """Reviewed trajectories with one label per reviewed action, from its latest verdict
        (among verdicts made against `model_version`, or all when None). The labels replace the
        source's: they say exactly what reviewers decided."""
        stmt = select(verdicts.c.trajectory, verdicts.c.action, verdicts.c.decision, verdicts.c.concepts,
                      verdicts.c.reviewer).order_by(verdicts.c.trajectory, verdicts.c.id)
        if model_version is not None:
            stmt = stmt.where(verdicts.c.model_version == model_version)
        with self.engine.connect() as conn:
            latest: dict[int, dict[str, Label]] = {}
            for v in conn.execute(stmt):
                latest.setdefault(v.trajectory, {})[v.action] = Label(
                    risk=DECISION_RISK[v.decision], concepts=json.loads(v.concepts), source=f"review:{v.reviewer}")
        for key, labels in latest.items():
            trajectory = parse_record(json.loads(self.trajectory(key)["native"]), "native")
            trajectory.labels = labels
            yield trajectory

    def latest_model_version(self) -> str | None:
        """The model version of the newest verdict."""
        with self.engine.connect() as conn:
            return conn.execute(select(verdicts.c.model_version).order_by(verdicts.c.id.desc()).limit(1)).scalar()


def _latest_decision():
    """The latest verdict's decision on the outer query's trajectory."""
    return (select(verdicts.c.decision).where(verdicts.c.trajectory == trajectories.c.key)
            .order_by(verdicts.c.id.desc()).limit(1).scalar_subquery())


def _conditions(filters: QueueFilter, concept_columns: set[str]) -> list:
    """The WHERE clauses of `filters`; a concept without a column (no stored result has it) matches nothing."""
    t = trajectories
    where = []
    if filters.flagged_only:
        where.append(t.c.flagged)
    lo, hi = filters.risk
    if (lo, hi) != (0.0, 1.0):
        where.append(t.c.risk.between(lo, hi))
    # uncorrelated IN subqueries: each runs once, not once per trajectory
    for concept, present in filters.concepts.items():
        value = column(concept_column(concept), Float)
        where.append(t.c.key.in_(select(actions.c.trajectory).where(value >= present))
                     if concept in concept_columns else false())
    if filters.tools:
        where.append(t.c.key.in_(select(actions.c.trajectory).where(actions.c.tool.in_(filters.tools))))
    if filters.sources:
        where.append(t.c.source.in_(filters.sources))
    if filters.reviewed is not None:
        reviewed = t.c.key.in_(select(verdicts.c.trajectory))
        where.append(reviewed if filters.reviewed else ~reviewed)
    if filters.decisions:
        where.append(_latest_decision().in_(filters.decisions))
    if filters.risk_bands:
        where.append(or_(*[(t.c.risk >= lo) & (t.c.risk < hi) for lo, hi in filters.risk_bands]))
    if filters.statuses:
        decided = t.c.key.in_(select(verdicts.c.trajectory))
        status = {"decided": decided, "claimed": ~decided & claims.c.reviewer.is_not(None),
                  "open": ~decided & claims.c.reviewer.is_(None)}
        where.append(or_(*[status[s] for s in filters.statuses]))
    if filters.claimed_by is not None:
        where.append(claims.c.reviewer == filters.claimed_by)
    if filters.text.strip():
        q = filters.text.strip()
        where.append(t.c.text.icontains(q, autoescape=True) | t.c.id.icontains(q, autoescape=True)
                     | t.c.source.icontains(q, autoescape=True))
    return where


def _action_row(key: int, action: str, step: int, tool: str | None, risk: float, flagged: bool,
                concepts: dict[str, float], top: list[dict[str, Any]],
                facts: list[dict[str, Any]] | None, columns: Iterable[str]) -> dict[str, Any]:
    return {"trajectory": key, "action": action, "step": step, "tool": tool, "risk": risk, "flagged": bool(flagged),
            "concepts": json.dumps(concepts), "top_concepts": json.dumps(top),
            "facts": None if facts is None else json.dumps(facts),
            **{concept_column(c): concepts.get(c) for c in sorted(columns)}}


def _attach_problem(conn: Connection, key: int | None, record: dict[str, Any]) -> str | None:
    """Why a `cbm score` output record cannot be checked against a stored trajectory, or None."""
    if record.get("error") is not None:
        return "it records a scoring error, so it has no scores to check"
    if key is None:
        return "no imported trajectory has its id: import its input file first"
    stored = set(conn.execute(select(actions.c.action).where(actions.c.trajectory == key)).scalars())
    given = [a.get("id") for a in record["actions"] if isinstance(a, dict)]
    if len(given) != len(record["actions"]) or set(given) != stored:
        return "its actions are not the stored trajectory's"
    for i, a in enumerate(record["actions"]):
        if isinstance(a.get("risk"), bool) or not isinstance(a.get("risk"), (int, float)) or not 0 <= a["risk"] <= 1:
            return f"actions[{i}]: needs a risk between 0 and 1"
    return None


def _score_mismatch(record: dict[str, Any], result: TrajectoryScore, model: str) -> str | None:
    """Where the file's scores differ from the loaded model's, or None."""
    ours = {a.id: a for a in result.actions}
    for a in record["actions"]:
        mine = ours[a["id"]]
        if abs(a["risk"] - mine.risk) > 1e-5 or bool(a.get("flagged")) != mine.flagged:
            return (f"its scores are not those of the loaded model {model} (first difference: an action with risk "
                    f"{a['risk']:.6g} in the file, {mine.risk:.6g} by the model); nothing attached")
    return None


def _score_lines(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line, record, problem) for each non-blank line of a `cbm score` output."""
    with open(path, encoding="utf-8") as stream:
        for number, text in enumerate(stream, 1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, None, f"not JSON ({exc.msg} at column {exc.colno})"
                continue
            except (ValueError, RecursionError) as exc:  # an integer too long to convert, deep nesting
                yield number, None, f"not readable JSON ({type(exc).__name__})"
                continue
            if not isinstance(record, dict) or not {"id", "actions", "error"} <= set(record) \
                    or not isinstance(record["id"], (str, type(None))) or not isinstance(record["actions"], list):
                yield number, None, "not a `cbm score` output record (id, actions, error)"
                continue
            yield number, record, None


def is_score_output(path: str | Path) -> bool:
    """True when the file's first record is a `cbm score` output (actions + error, no messages or steps)."""
    with open(path, encoding="utf-8", errors="replace") as stream:
        for text in stream:
            if text.strip():
                try:
                    record = json.loads(text)
                except json.JSONDecodeError:
                    return False
                return isinstance(record, dict) and {"actions", "error"} <= set(record) \
                    and not {"messages", "steps"} & set(record)
    return False


def count_records(path: str | Path, fmt: str = "auto") -> int:
    """Non-blank lines, or 1 for a session file: the progress bar's total."""
    if fmt in SESSION_FORMATS:
        return 1
    with open(path, "rb") as stream:
        return sum(1 for line in stream if line.strip())


def _search_text(trajectory: Trajectory) -> str:
    # NUL: refused in PostgreSQL's text, and the end of the string to SQLite's LIKE
    return "\n".join(f"{s.tool_name or ''} {s.text}" for s in trajectory.steps).replace("\x00", " ")


def _unstorable(source: str, result: TrajectoryScore) -> str | None:
    """Why a scored trajectory's names cannot be stored alike on every database, or None:
    PostgreSQL holds a name to its column's length (SQLite ignores it) and refuses NUL characters."""
    names = [("its id", result.id, trajectories.c.id), ("the source's name", source, trajectories.c.source)]
    for i, a in enumerate(result.actions):
        names += [(f"action {i}'s id", a.id, actions.c.action), (f"action {i}'s tool name", a.tool, actions.c.tool)]
    for what, value, column in names:
        if value is not None and "\x00" in value:
            return f"line {result.line}: {what} contains a NUL character"
        if value is not None and len(value) > column.type.length:
            return f"line {result.line}: {what} is longer than {column.type.length} characters"
    return None


def _printable(text: str | None, column: Column | None = None) -> str | None:
    """`text` for a failure's row: NUL characters written out, cut to the column's length."""
    if text is None:
        return None
    text = text.replace("\x00", "\\x00")
    return text[:column.type.length] if column is not None else text


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


# --- cbm export-reviews --------------------------------------------------------------------------

def export(store: Store, out: str | Path, all_versions: bool = False) -> tuple[int, int, str | None]:
    """Write reviewed trajectories as labelled native JSONL; returns (trajectories, labelled
    actions, the model version exported, None for all)."""
    version = None if all_versions else store.latest_model_version()
    n_trajectories = n_actions = 0
    with open(out, "w", encoding="utf-8") as stream:
        for trajectory in store.reviewed(version):
            stream.write(dumps_line(to_record(trajectory, "native")))
            n_trajectories += 1
            n_actions += len(trajectory.labels)
    return n_trajectories, n_actions, version


def export_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cbm export-reviews",
        description="Write reviewed trajectories as labelled native JSONL, one label per reviewed action from its "
                    "latest verdict: block -> risk 1, approve -> risk 0, escalate -> risk unknown; concepts are the "
                    "reviewer's corrections (the others unknown); source review:<reviewer>. Train on it with "
                    "`cbm train --set data.extra_train=[FILE]`.")
    parser.add_argument("--db", help=f"SQLite file or SQLAlchemy URL (default: ${DB_ENV}, else {DEFAULT_DB})")
    parser.add_argument("--out", required=True, help="output FILE.jsonl")
    parser.add_argument("--all-versions", action="store_true",
                        help="use verdicts made against any model version (default: only the version of the "
                             "newest verdict, so labels judged against older scores are left out)")
    args = parser.parse_args(argv)
    url = database_url(args.db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        parser.error(f"{args.db or url}: no such database")
    n_trajectories, n_actions, version = export(Store(url), args.out, args.all_versions)
    print(f"cbm export-reviews: {n_trajectories} trajectories, {n_actions} labelled actions "
          f"({'all model versions' if version is None else 'model version ' + version}) -> {args.out}",
          file=sys.stderr)
    return EXIT_OK
