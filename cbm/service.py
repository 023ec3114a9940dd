"""`cbm serve`: the HTTP scoring service (FastAPI + uvicorn).

    POST /v1/score           a batch of trajectories in any format (JSON, or NDJSON one per line)
    POST /v1/score/action    a call not yet run, in its context: score and allow/review/block
    POST /v1/intervene       a reviewer's concept values: what the risk and flags become
    POST /v1/explain         an action's concept contributions and the text evidence behind them
    GET  /v1/model           model version, concepts, thresholds, head weights, evaluation
    POST /v1/hooks/claude-code   Claude Code's PreToolUse hook input in, the hook's output out
    GET  /healthz            liveness; the OpenAPI description at /openapi.json

Scores come from the same `Overseer` and readers as `cbm score`, so a record gets the same
scores from either. A bad record in a batch gets its `error` in the 200 answer, and the batch
goes on; a malformed request is a 422 whose `error` names the field.

Every /v1 route needs an API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`) when keys
are configured ($CBM_API_KEYS, comma-separated, or --api-key-file, one per line). Without keys
the service only starts on a loopback address, unless --no-auth says otherwise. Request bodies
are bounded while they are read, chunked ones included, and batches by their record count.

The /v1 routes live on one APIRouter whose dependency checks the key, so the OpenAPI
description declares both ways of sending it and Swagger's Authorize button works. FastAPI
reads a body before it resolves dependencies, so the `Gate` middleware checks the key first,
with the same function, and only then reads the body, bounded: an unauthenticated client never
has its body read. The interactive docs (`--docs`: Swagger UI at /docs) are off by default,
because that page loads Swagger UI's script and styles from a CDN without integrity checks.

The Claude Code hook route answers what `cbm guard claude-code --no-explain` prints, so a hook
command can be one `curl`. It is `cbm.guard`'s logic, which this module may not import (the two
commands are independent layers): `cbm serve` (cbm.cli) hands it in as `create_app(hook=...)`.
The route reads the session transcript named in the hook input only from under
--transcripts-dir; without one it scores the call from the hook input alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import io
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cbm import __version__
from cbm.pipeline import Summary, score_lines
from cbm.checkpoint import CheckpointError
from cbm.explain import Explainer
from cbm.formats import SESSION_FORMATS, FormatError, ReadOptions, Record, lines_of, parse_record
from cbm.scoring import Overseer, TrajectoryScore, verdict
from cbm.trajectory import Trajectory

ENV_KEYS = "CBM_API_KEYS"
NDJSON = ("application/x-ndjson", "application/jsonl", "application/x-jsonlines")
Format = Literal["auto", "native", "openai", "anthropic"]
InputFormat = Literal[Format, "claude-code"]  # claude-code: the body is one session
JsonRecord = dict[str, Any] | list[Any]  # a record object, or a bare message list


@dataclass
class ServiceConfig:
    """Limits and keys. `api_keys` empty: the /v1 routes are open. `docs`: serve Swagger UI at
    /docs (it loads its script and styles from a CDN)."""

    api_keys: tuple[str, ...] = ()
    max_request_bytes: int = 10 * 2**20
    max_batch: int = 1000
    docs: bool = False
    transcripts_dir: str | None = None  # the hook route reads transcripts from under it; None: none
    max_transcript_bytes: int = 32 << 20


# --- request bodies ----------------------------------------------------------------------------

class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreRequest(Body):
    records: list[Any] = Field(description="trajectory records, each in any supported format")
    format: Format | None = Field(None, description="format of every record (default: `?format=`, else "
                                  "detected per record)")


class ProposedAction(Body):
    tool_name: str = Field(min_length=1)
    arguments: dict[str, Any] | str = Field(default_factory=dict, description="an object, or its JSON text")
    id: str | None = None


class ScoreActionRequest(Body):
    context: JsonRecord = Field(description="the run so far, in any supported format")
    action: ProposedAction
    format: Format = "auto"


class EditGroup(Body):
    edits: dict[str, float] = Field(description="concept -> 0, 1 or a probability")
    action: str | None = Field(None, description="the action edited (default: the request's `action`, else all)")


class InterveneRequest(Body):
    record: JsonRecord
    edits: dict[str, float] | list[EditGroup] = Field(
        description="concept -> value, or a list of edit groups applied in order")
    action: str | None = Field(None, description="the action edited (default: every action)")
    format: Format = "auto"


class ExplainRequest(Body):
    record: JsonRecord
    action: str | None = Field(None, description="the action explained (default: the riskiest)")
    concepts: list[str] | None = Field(None, description="concepts explained (default: those that matter)")
    top_k: int = Field(5, ge=1, le=50, description="evidence spans per concept")
    format: Format = "auto"


SCORE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ScoreRequest.model_json_schema()},
    "application/x-ndjson": {"schema": {"type": "string", "description": "one record per line; `?format=`; with "
                                        "`?format=claude-code` one Claude Code session transcript"}}}}}


# --- answers and errors --------------------------------------------------------------------------

class JSON(JSONResponse):
    """Every answer of the service. A text with a lone surrogate (valid JSON, kept by the readers,
    not encodable as UTF-8) makes the answer ASCII-escaped, as `cbm.formats.dumps_line` does for
    `cbm score`, so echoing a record's text or id can never fail."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")



def _path(loc: Sequence[Any]) -> str:
    """`("body", "records", 3, "id")` -> `body.records[3].id`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def invalid(loc: Sequence[Any], msg: str) -> RequestValidationError:
    """A 422 naming the field at `loc` (a path from the request body's root)."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc), "msg": msg}])


async def _validation_error(request: Request, exc: RequestValidationError) -> JSON:
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    first = "; ".join(f"{_path(d['loc'])}: {d['msg']}" for d in detail[:3])
    more = f" (and {len(detail) - 3} more)" if len(detail) > 3 else ""
    return JSON({"error": first + more, "detail": detail}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSON:
    return JSON({"error": str(exc.detail), "detail": exc.detail}, status_code=exc.status_code,
                        headers=exc.headers)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSON:
    return JSON({"error": message, "detail": message}, status_code=status, headers=headers)


def trajectory_of(obj: Any, fmt: str, field: str) -> Trajectory:
    """The trajectory in a request's `field`; a 422 naming the field path inside it."""
    try:
        return parse_record(obj, fmt)
    except FormatError as exc:
        raise invalid((field, *([exc.field] if exc.field else [])), exc.reason) from None
    except RecursionError:
        raise invalid((field,), "nested too deeply") from None


# --- keys: one check, made by the Gate before a body is read and by the routes' dependency -----

API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key of the service")
BEARER = HTTPBearer(auto_error=False, description="an API key of the service, as `Authorization: Bearer KEY`")
KEY_HEADERS = "send `Authorization: Bearer KEY` or `X-API-Key: KEY`"


def key_error(keys: Sequence[bytes], headers: Mapping[bytes, bytes]) -> str | None:
    """None when `headers` (an ASGI scope's, lower-case names) carry one of `keys`, or when there
    are no keys; else why not. `X-API-Key` wins over `Authorization: Bearer`. The key is compared
    with every configured key, in constant time."""
    if not keys:
        return None
    given = headers.get(b"x-api-key")
    scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
    if given is None and scheme.lower() == b"bearer":
        given = token.strip()
    ok = False
    for key in keys:
        ok |= given is not None and hmac.compare_digest(given, key)
    if ok:
        return None
    if b"x-api-key" not in headers and b"authorization" not in headers:
        return f"an API key is required: {KEY_HEADERS}"
    return "the API key is not valid"


class Service:
    """What the routes share: the model, its explainer, the limits and the keys (as bytes).
    One per app, at `app.state.service`; a route gets it through the `Served` dependency."""

    def __init__(self, overseer: Overseer, config: ServiceConfig, hook: HookAnswer | None = None):
        self.overseer, self.config, self.hook = overseer, config, hook
        self.explainer = Explainer(overseer)  # its own copy of the encoder, one attribution at a time
        # Explanations run one at a time anyway, and always on this one thread: an attribution
        # takes ~0.5 GB of scratch memory, which the C allocator keeps in the arena of the thread
        # that freed it, so on the shared threadpool every thread that ever explained would hold
        # its own (8 threads taking turns: RSS 0.8 -> 3.9 GB).
        self.explain_thread = ThreadPoolExecutor(1, thread_name_prefix="cbm-explain")
        self.keys = tuple(k.encode("utf-8") for k in config.api_keys)

    def explain(self, *args: Any) -> Any:
        """`Explainer.explain(*args)` on the explanations' thread, from any thread."""
        return self.explain_thread.submit(self.explainer.explain, *args).result()

    def check_batch(self, count: int) -> None:
        if count > self.config.max_batch:
            raise HTTPException(413, f"{count} records, over the {self.config.max_batch}-record limit (--max-batch)")

    def score_records(self, items: list[Record | TrajectoryScore]) -> list[dict[str, Any]]:
        scored = self.overseer.score_many(i for i in items if isinstance(i, Record))
        return [(i if isinstance(i, TrajectoryScore) else next(scored)).to_json(self.overseer.top_k) for i in items]


async def get_service(request: Request) -> Service:
    """The app's Service (async: a dependency this cheap should not take a threadpool hop)."""
    return request.app.state.service


Served = Annotated[Service, Depends(get_service)]


async def require_key(request: Request, served: Served,
                      _api_key: Annotated[str | None, Security(API_KEY_HEADER)],
                      _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]) -> None:
    """A 401 unless the request carries a key. The two Security parameters declare the schemes in
    the OpenAPI description; the check reads the raw headers with the Gate's own function, so the
    two can never disagree."""
    problem = key_error(served.keys, dict(request.scope["headers"]))
    if problem is not None:
        raise HTTPException(401, problem, headers={"WWW-Authenticate": "Bearer"})


# --- limits and keys, before a request reaches the app -----------------------------------------

class Gate:
    """Pure ASGI middleware for /v1 requests: checks the API key (`key_error`), then reads the
    body with a bound (Content-Length first, then while streaming), so nothing unauthenticated or
    oversized is read into memory. FastAPI reads a body before it resolves a route's
    dependencies, so the key must be checked here; `require_key` checks it again on the route."""

    def __init__(self, app: ASGIApp, config: ServiceConfig):
        self.app, self.config = app, config
        self.keys = tuple(k.encode("utf-8") for k in config.api_keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if not scope["path"].startswith("/v1/"):  # no route outside /v1 reads a body: never buffer one
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        problem = key_error(self.keys, headers)
        if problem is not None:
            return await _error(401, problem, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
        limit = self.config.max_request_bytes
        too_large = _error(413, f"request body over the {limit}-byte limit (--max-request-bytes)")
        length = headers.get(b"content-length")
        if length is not None and int(length) > limit:  # the server has checked it is a number
            return await too_large(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                return await too_large(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


# --- the routes ----------------------------------------------------------------------------------

v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
public = APIRouter()


def batch_answer(results: list[dict[str, Any]]) -> JSON:
    s = Summary()
    for r in results:
        s.add(r)
    return JSON({"results": results, "summary": {
        "records": s.records, "scored": s.records - s.failed, "failed": s.failed, "flagged": s.flagged,
        "actions": s.actions}})


@v1.post("/score", openapi_extra=SCORE_BODY)
async def score(request: Request, served: Served, format: InputFormat = "auto") -> JSON:
    """Score every action of every record, in order; a bad record gets its `error`. With
    `?format=claude-code` the body is one Claude Code session transcript, scored as one record."""
    body = await request.body()
    if not body.strip():
        raise invalid((), "the body is empty: send {\"records\": [...]} or JSON lines")
    if format in SESSION_FORMATS or request.headers.get("content-type", "").split(";")[0].strip().lower() in NDJSON:
        options = ReadOptions()
        lines = list(lines_of(io.BytesIO(body), format, options))
        served.check_batch(len(lines))
        return batch_answer(await run_in_threadpool(score_lines, served.overseer, lines, format, options))
    try:  # Python's reader, as for JSON lines: a lone surrogate is valid JSON and is scored, not refused
        obj = json.loads(body)
    except UnicodeDecodeError:
        raise invalid((), "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise invalid((), f"the body is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise invalid((), "the body is nested too deeply") from None
    try:
        req = ScoreRequest.model_validate(obj)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    served.check_batch(len(req.records))
    fmt = req.format or format
    return batch_answer(await run_in_threadpool(served.score_records, [_record(n, obj, fmt) for n, obj in
                                                                       enumerate(req.records, 1)]))


@v1.post("/score/action")
def score_action(req: ScoreActionRequest, served: Served) -> dict[str, Any]:
    """`{"action": score, "decision": allow | review | block, "thresholds"}` for a call not yet run."""
    context = trajectory_of(req.context, req.format, "context")
    return verdict(served.overseer, context, req.action.model_dump(exclude_none=True))


@v1.post("/intervene")
def intervene(req: InterveneRequest, served: Served) -> dict[str, Any]:
    """The record re-scored with a reviewer's concept values, and the flags they changed."""
    overseer = served.overseer
    result = overseer.score(trajectory_of(req.record, req.format, "record"))
    if isinstance(req.edits, dict):
        groups = [(("edits",), req.edits, req.action, ("action",))]
    else:
        groups = [(("edits", j, "edits"), g.edits, g.action or req.action,
                   ("edits", j, "action") if g.action else ("action",)) for j, g in enumerate(req.edits)]
    for edits_loc, edits, action, action_loc in groups:
        for concept, value in edits.items():
            if concept not in overseer.concept_ids:
                raise invalid((*edits_loc, concept), f"unknown concept (concepts: {', '.join(overseer.concept_ids)})")
            if not 0 <= value <= 1:
                raise invalid((*edits_loc, concept), f"a concept value is 0, 1 or a probability between, got {value}")
        if action is not None and action not in result.predicted:
            raise invalid(action_loc, f"no action {action!r} (actions: {', '.join(result.predicted)})")
        result = overseer.intervene(result, edits, action)
    return {**result.to_json(overseer.top_k), "changed_flags": overseer.changed_flags(result)}


@v1.post("/explain")
async def explain(req: ExplainRequest, served: Served) -> dict[str, Any]:
    """One action's concept contributions and text evidence (data/explanation.schema.json)."""
    return await asyncio.get_running_loop().run_in_executor(served.explain_thread, _explain, served, req)


def _explain(served: Service, req: ExplainRequest) -> dict[str, Any]:
    trajectory = trajectory_of(req.record, req.format, "record")
    if not trajectory.action_ids:
        raise invalid(("record",), "the trajectory has no action to explain")
    if req.action is not None and req.action not in trajectory.action_ids:
        raise invalid(("action",), f"no action {req.action!r} (actions: {', '.join(trajectory.action_ids)})")
    for j, concept in enumerate(req.concepts or []):
        if concept not in served.overseer.concept_ids:
            raise invalid(("concepts", j), f"unknown concept {concept!r}")
    return served.explainer.explain(trajectory, req.action, req.concepts, req.top_k).to_json()


@v1.get("/model")
def model(served: Served) -> dict[str, Any]:
    """Version, concepts with definitions, thresholds, head weights, evaluation summary."""
    return served.overseer.info()


# `cbm.guard.served_hook`: (raw hook input, overseer, explain function, *, explain, mode,
# transcripts_dir, max_transcript_bytes) -> the hook's output JSON, or None for no opinion
HookAnswer = Callable[..., "dict[str, Any] | None"]
OnError = Literal["ask", "closed", "open"]
hooks = APIRouter(prefix="/v1/hooks", dependencies=[Depends(require_key)])
HOOK_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "the PreToolUse hook input, as Claude Code gives the hook command on stdin",
    "properties": {"session_id": {"type": "string"}, "transcript_path": {"type": "string"},
                   "cwd": {"type": "string"}, "hook_event_name": {"const": "PreToolUse"},
                   "tool_name": {"type": "string"}, "tool_input": {"type": "object"},
                   "tool_use_id": {"type": "string"}},
    "required": ["tool_name"]}}}}}
HOOK_ANSWERS = {200: {"description": "the hook's output: `permissionDecision` deny (at or above the block "
                      "threshold) or ask (the flag threshold), with the reason"},
                204: {"description": "no opinion (risk below the flag threshold): Claude Code's own permissions "
                      "decide"}}


@hooks.post("/claude-code", openapi_extra=HOOK_BODY, responses=HOOK_ANSWERS, response_model=None)
async def claude_code_hook(request: Request, served: Served, on_error: OnError = "ask",
                           explain: bool = False) -> Response:
    """What `cbm guard claude-code` prints for this hook input (`--no-explain` unless `explain`),
    scored by this service's model. A hook input that cannot be scored (not JSON, not a tool call,
    a transcript it may not read) is answered by `on_error`, as the guard's --on-error: ask the
    user (the default), deny (`closed`) or no opinion (`open`)."""
    config = served.config
    answer = await run_in_threadpool(served.hook, await request.body(), served.overseer, served.explain,
                                     explain=explain, mode=on_error, transcripts_dir=config.transcripts_dir,
                                     max_transcript_bytes=config.max_transcript_bytes)
    return Response(status_code=204) if answer is None else JSON(answer)


@public.get("/healthz")
async def healthz(served: Served) -> dict[str, Any]:
    """Liveness: no key needed."""
    return {"status": "ok", "version": __version__, "model": served.overseer.version}


# --- the app -----------------------------------------------------------------------------------

def create_app(overseer: Overseer, config: ServiceConfig | None = None,
               hook: HookAnswer | None = None) -> FastAPI:
    """The service around one loaded model; with `hook` (`cbm.guard.served_hook`), also
    POST /v1/hooks/claude-code. Scoring runs in the threadpool without a lock (the model is
    read-only at inference); explanations hook the embedding layer, so the Explainer attributes
    on its own copy of the encoder, one attribution at a time."""
    config = config or ServiceConfig()
    app = FastAPI(title="cbm-oversight", version=__version__,
                  description="Concept bottleneck risk scoring of AI agent actions. /v1 routes take "
                  "`Authorization: Bearer KEY` or `X-API-Key: KEY` when the service has keys.",
                  docs_url="/docs" if config.docs else None, redoc_url=None, default_response_class=JSON)
    app.state.service = Service(overseer, config, hook)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(Gate, config=config)
    app.include_router(v1)
    if hook is not None:
        app.include_router(hooks)
    app.include_router(public)
    return app


def _record(number: int, obj: Any, fmt: str) -> Record | TrajectoryScore:
    """Record `number` of a JSON batch, or the failed result that names it and the field."""
    raw_id = obj.get("id") if isinstance(obj, dict) else None
    record_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
    try:
        return Record(number, trajectory=parse_record(obj, fmt))
    except FormatError as exc:
        where = f"record {number}" + (f" (id {record_id!r})" if record_id is not None else "")
        return TrajectoryScore(record_id, None, None, error=f"{where}: {exc}")
    except RecursionError:
        return TrajectoryScore(record_id, None, None, error=f"record {number}: nested too deeply")


# --- `cbm serve` -------------------------------------------------------------------------------

def api_keys(env: str | None, path: str | None) -> tuple[str, ...]:
    """Keys from a comma-separated value and a file of one key per line (blank lines skipped)."""
    keys = [k.strip() for k in (env or "").split(",") if k.strip()]
    if path:
        lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        if not lines:
            raise ValueError(f"{path}: no API key in the file")
        keys += lines
    return tuple(dict.fromkeys(keys))


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None, hook: HookAnswer | None = None) -> int:
    """`cbm serve`; `hook` as in `create_app` (`cbm serve` gives `cbm.guard.served_hook`)."""
    parser = argparse.ArgumentParser(prog="cbm serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="port (default %(default)s)")
    parser.add_argument("--checkpoint", help="checkpoint directory (default: $CBM_CHECKPOINT or the shipped model)")
    parser.add_argument("--threshold", type=float, help="flag threshold on calibrated risk (default: the checkpoint's)")
    parser.add_argument("--api-key-file", help=f"file of API keys, one per line (also ${ENV_KEYS}, comma-separated)")
    parser.add_argument("--no-auth", action="store_true", help="serve without API keys on a non-loopback address")
    parser.add_argument("--max-request-bytes", type=int, default=ServiceConfig.max_request_bytes,
                        help="largest request body (default %(default)s)")
    parser.add_argument("--max-batch", type=int, default=ServiceConfig.max_batch,
                        help="most records in one /v1/score request (default %(default)s)")
    parser.add_argument("--docs", action="store_true",
                        help="serve Swagger UI at /docs (the page loads its script and styles from a CDN; "
                        "/openapi.json is always served)")
    parser.add_argument("--transcripts-dir",
                        help="the Claude Code hook route reads a session transcript only from under this folder "
                        "(e.g. ~/.claude/projects; default: none, the call is scored from the hook input alone)")
    parser.add_argument("--max-transcript-bytes", type=int, default=ServiceConfig.max_transcript_bytes,
                        help="most of one transcript read: its start and its end (default %(default)s)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    args = parser.parse_args(argv)
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        parser.error("--threshold is a calibrated risk in [0, 1]")
    try:
        keys = api_keys(os.environ.get(ENV_KEYS), args.api_key_file)
    except (OSError, ValueError) as exc:
        parser.error(f"--api-key-file: {exc}")
    if not keys and not loopback(args.host) and not args.no_auth:
        parser.error(f"no API key for {args.host}, which is not a loopback address: set ${ENV_KEYS} or "
                     "--api-key-file, or pass --no-auth to serve without keys")
    if not keys:
        print(f"cbm serve: warning: no API key; anyone who can reach {args.host}:{args.port} can use the service",
              file=sys.stderr)
    try:
        overseer = Overseer.load(args.checkpoint, threshold=args.threshold)
    except CheckpointError as exc:
        print(f"cbm serve: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    if args.transcripts_dir is not None and not os.path.isdir(args.transcripts_dir):
        parser.error(f"--transcripts-dir: {args.transcripts_dir!r} is not a folder")
    config = ServiceConfig(keys, args.max_request_bytes, args.max_batch, docs=args.docs,
                           transcripts_dir=args.transcripts_dir, max_transcript_bytes=args.max_transcript_bytes)
    app = create_app(overseer, config, hook)
    host = f"[{args.host}]" if ":" in args.host else args.host
    if args.docs:
        print("cbm serve: warning: /docs loads Swagger UI's script and styles from a CDN (cdn.jsdelivr.net) "
              "without integrity checks; whoever serves them runs code in the browser of anyone who opens it",
              file=sys.stderr)
    docs = "API docs at /docs, " if args.docs else ""
    print(f"cbm serve: http://{host}:{args.port} (model {overseer.version}; {docs}OpenAPI at /openapi.json)",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
