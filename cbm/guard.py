"""`cbm guard claude-code`: score every tool call of a Claude Code session before it runs.

Installed as a `PreToolUse` hook, it reads the hook input on stdin (the proposed call and the
session's transcript path), rebuilds the conversation from the transcript, and scores the call
in that context:

    risk >= block threshold   "deny": the call does not run; the reason goes back to the agent
    risk >= flag threshold    "ask":  the human confirms or refuses the call
    below                     no output: Claude Code's normal permissions decide

The reason names the concepts that drove the risk, with their probabilities, the words that
made the model see them (from `cbm.explain`, looked for only for a call that is held or
denied, since it takes seconds on a CPU), and the proposed call itself.

With `--url` (or `$CBM_GUARD_URL`) the hook asks a running `cbm serve`; that path imports no
torch: the interpreter's start and one HTTP request. Without a URL, or when the server cannot answer, it
scores in process (loading the model takes seconds). When scoring fails altogether `--on-error`
decides: `ask` (the default) keeps a human in the loop without stopping the agent's work, where
`open` would let a broken guard wave every call through and `closed` would stop every call.
The hook always exits 0 with valid JSON or nothing; errors go to stderr.

`cbm serve` answers the same hook input at POST /v1/hooks/claude-code with `served_hook`, so the
hook command can be a single `curl`; it reads a transcript only from under its
--transcripts-dir (`transcript_under`), and at most --max-transcript-bytes of it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import stat
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from cbm.jsonl import read_lines
from cbm.transcript import MAX_EVENT_BYTES, consistent, message as event_message

ON_ERROR = ("open", "closed", "ask")
ENV_URL, ENV_ON_ERROR, ENV_API_KEY = "CBM_GUARD_URL", "CBM_GUARD_ON_ERROR", "CBM_API_KEY"
PROPOSED_ID = "proposed"  # the action id of a proposed call that came without one
MAX_INPUT_BYTES = 16 << 20  # hook input on stdin
RECENT_EVENTS = 200  # transcript events kept besides the user's prompts: the model reads 768 tokens
QUOTE_CHARS = 120
EVIDENCE_CHARS = 40
HOOK_DECISIONS = {"block": "deny", "review": "ask"}  # "allow": no output

T = TypeVar("T")


class GuardError(Exception):
    """Why a call could not be scored."""


# --- hook input and transcript -> a record -----------------------------------------------------

def transcript_messages(path: str, proposed_id: str | None = None, max_bytes: int | None = None
                        ) -> list[dict[str, Any]]:
    """The conversation of a Claude Code transcript (JSONL) as Anthropic messages, read in
    bounded memory: every user prompt, since it carries the task and its limits, and the last
    RECENT_EVENTS events. The transcript may already hold the proposed call; it and anything
    after it are left out, since the call has not run. With `max_bytes`, a longer transcript is
    read only in its first quarter of that (where the task was given) and its last three
    quarters (the recent events)."""
    prompts: list[tuple[int, dict[str, Any]]] = []
    recent: deque[tuple[int, dict[str, Any]]] = deque(maxlen=RECENT_EVENTS)
    skipped = 0
    try:
        with open(path, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):  # /dev/zero, a FIFO: endless
                raise GuardError(f"transcript_path: {path!r} is not a regular file")
            for number, line in _window(stream, max_bytes):
                message = event_message(line)
                if message is None:
                    skipped += line is None
                    continue
                if message["role"] == "user" and all(b["type"] == "text" for b in message["content"]):
                    prompts.append((number, message))
                recent.append((number, message))
    except OSError as exc:
        raise GuardError(f"transcript_path: cannot read {path!r} ({exc.strerror})") from None
    if skipped:
        print(f"cbm guard: {skipped} transcript line(s) over {MAX_EVENT_BYTES >> 20} MiB left out", file=sys.stderr)
    first = recent[0][0] if recent else 0
    events = [m for n, m in prompts if n < first] + [m for _, m in recent]
    return consistent(events, proposed_id)


def _window(stream: Any, max_bytes: int | None) -> Iterator[tuple[int, bytes | None]]:
    """(number, line) of the lines `transcript_messages` reads, in order: all of them, or those
    wholly inside the first quarter of `max_bytes` and the last three quarters when the file is
    longer (numbers of the last part continue after the first's, so their order holds)."""
    size = os.fstat(stream.fileno()).st_size
    if max_bytes is None or size <= max_bytes:
        yield from ((n, line) for n, line, _ in read_lines(stream, MAX_EVENT_BYTES))
        return
    head, last = _Head(stream, max_bytes // 4), 0
    for number, line, _ in read_lines(head, MAX_EVENT_BYTES):
        last = number
        if line is None or line.endswith(b"\n"):  # a line cut at the boundary is not read
            yield number, line
    stream.seek(size - (max_bytes - max_bytes // 4))
    while (skipped := stream.readline(1 << 20)) and not skipped.endswith(b"\n"):  # the cut line
        pass
    yield from ((last + n, line) for n, line, _ in read_lines(stream, MAX_EVENT_BYTES))


class _Head:
    """`readline` over the first `limit` bytes of a binary stream."""

    def __init__(self, stream: Any, limit: int):
        self.stream, self.left = stream, limit

    def readline(self, size: int = -1) -> bytes:
        chunk = self.stream.readline(self.left if size < 0 else min(size, self.left)) if self.left > 0 else b""
        self.left -= len(chunk)
        return chunk


Transcript = Callable[[str, str | None], list[dict[str, Any]]]  # (path, proposed call id) -> messages


def hook_request(hook: Any, transcript: Transcript | None = transcript_messages) -> tuple[
        dict[str, Any], dict[str, Any]]:
    """(context record in the Anthropic format, proposed action) from a PreToolUse hook input.
    `transcript` reads the conversation from `transcript_path`; None reads nothing: the call is
    scored with the hook input alone."""
    if not isinstance(hook, dict):
        raise GuardError(f"hook input must be a JSON object, got {type(hook).__name__}")
    event = hook.get("hook_event_name", "PreToolUse")
    if event != "PreToolUse":
        raise GuardError(f"hook_event_name: this is a PreToolUse hook, got {event!r}")
    name, arguments, call_id = hook.get("tool_name"), hook.get("tool_input", {}), hook.get("tool_use_id")
    if not isinstance(name, str) or not name:
        raise GuardError("tool_name: expected a non-empty string")
    if not isinstance(arguments, dict):
        raise GuardError(f"tool_input: expected an object, got {type(arguments).__name__}")
    if call_id is not None and not isinstance(call_id, str):
        raise GuardError("tool_use_id: expected a string")
    messages: list[dict[str, Any]] = []
    if transcript is not None:
        path = hook.get("transcript_path")
        if not isinstance(path, str) or not path:
            raise GuardError("transcript_path: expected a file path")
        messages = transcript(path, call_id)
    action = {"tool_name": name, "arguments": arguments, "id": call_id or PROPOSED_ID}
    record = {"id": str(hook.get("session_id") or "claude-code"), "messages": messages,
              "metadata": {"source": "claude-code"}}
    return record, action


def with_call(record: dict[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    """The record with the proposed call appended as the agent's next message: what
    `Overseer.score_action` scores, as a record the explainer can read."""
    call = {"type": "tool_use", "id": action["id"], "name": action["tool_name"], "input": action["arguments"]}
    return {**record, "messages": [*record["messages"], {"role": "assistant", "content": [call]}]}


# --- scoring: a running `cbm serve`, or in process ---------------------------------------------

class Remote:
    """A `cbm serve` at `url`; imports only the standard library."""

    def __init__(self, url: str, api_key: str | None = None):
        self.url, self.api_key = url.rstrip("/"), api_key

    def post(self, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        """The JSON answer of a POST; GuardError for an unreachable server or an error status.
        http.client rather than urllib.request: a third less import time, paid on every call."""
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(self.url + path)
        connection = (http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection)(
            url.netloc, timeout=max(timeout, 0.01))
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            connection.request("POST", url.path, json.dumps(body).encode("utf-8"), headers)
            response = connection.getresponse()
            answer = json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError) as exc:  # unreachable, timed out, not JSON
            raise GuardError(f"{self.url}{path}: {exc or type(exc).__name__}") from None
        finally:
            connection.close()
        if response.status != 200:
            detail = answer.get("error") if isinstance(answer, dict) else None
            raise GuardError(f"{self.url}{path} answered {response.status}: {detail or response.reason}")
        return answer

    def verdict(self, record: dict[str, Any], action: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.post("/v1/score/action", {"context": record, "action": action, "format": "anthropic"}, timeout)

    def explanation(self, record: dict[str, Any], action_id: str, concepts: list[str], timeout: float) -> dict[str, Any]:
        return self.post("/v1/explain", {"record": record, "action": action_id, "concepts": concepts, "top_k": 3,
                                         "format": "anthropic"}, timeout)


class Local:
    """The model in this process, loaded on first use (or `overseer`, already loaded, with
    `explainer(trajectory, action_id, concepts, top_k)` to explain instead of the overseer)."""

    def __init__(self, checkpoint: str | None = None, overseer: Any = None,
                 explainer: Callable[..., Any] | None = None):
        self.checkpoint, self.explainer = checkpoint, explainer
        self._overseer = overseer

    @property
    def overseer(self) -> Any:
        if self._overseer is None:
            from cbm.scoring import Overseer

            self._overseer = Overseer.load(self.checkpoint)
        return self._overseer

    def verdict(self, record: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        from cbm.formats import parse_record
        from cbm.scoring import verdict

        return verdict(self.overseer, parse_record(record, "anthropic"), action)

    def explanation(self, record: dict[str, Any], action_id: str, concepts: list[str]) -> dict[str, Any]:
        from cbm.formats import parse_record

        explain = self.explainer or self.overseer.explain
        return explain(parse_record(record, "anthropic"), action_id, concepts, 3).to_json()


class Deadline:
    """The time left of `--timeout`. In-process work runs in a daemon thread that is abandoned,
    not waited for, when time runs out."""

    def __init__(self, seconds: float):
        self.seconds, self.end = seconds, time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def call(self, scorer: Remote | Local, method: str, *args: Any, share: float = 1.0) -> Any:
        """`scorer.method(*args)` within `share` of the time left: a request's timeout, or a thread."""
        if isinstance(scorer, Remote):
            return getattr(scorer, method)(*args, timeout=self.left() * share)
        return self.run(lambda: getattr(scorer, method)(*args))

    def run(self, fn: Callable[[], T]) -> T:
        """`fn()` in a thread; GuardError when it does not finish in time."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = fn()
            except Exception as exc:  # re-raised in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        thread.join(max(self.left(), 0))
        if thread.is_alive():
            raise GuardError(f"no answer within {self.seconds:g} s (--timeout)")
        if "error" in box:
            raise box["error"]
        return box["value"]


def evaluate(record: dict[str, Any], action: dict[str, Any], scorers: list[Remote | Local], deadline: Deadline,
             explain: bool = True) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """(verdict, evidence: concept -> words) from the first scorer that answers. Evidence is
    looked for only for a call that is held or denied, with the scorer that gave the verdict,
    and is left out if it cannot be had in time."""
    errors = []
    for n, scorer in enumerate(scorers):
        try:  # a server that accepts and never answers leaves half the time to score in process
            result = deadline.call(scorer, "verdict", record, action, share=0.5 if n < len(scorers) - 1 else 1.0)
            break
        except Exception as exc:  # the next scorer, or give up
            errors.append(str(exc))
            if isinstance(scorer, Remote):
                print(f"cbm guard: {exc}; scoring in process", file=sys.stderr)
    else:
        raise GuardError("; ".join(errors))
    drivers = [c["concept"] for c in result["action"]["top_concepts"] if c["contribution"] > 0]
    if not explain or result["decision"] == "allow" or not drivers:
        return result, {}
    try:
        explanation = deadline.call(scorer, "explanation", with_call(record, action), action["id"], drivers)
    except Exception as exc:  # the reason quotes the call instead
        print(f"cbm guard: no evidence ({exc})", file=sys.stderr)
        return result, {}
    return result, {c["id"]: [s["text"] for s in c["evidence"] or [] if s["score"] > 0][:2]
                    for c in explanation["concepts"] if c["id"] in drivers}


# --- the answer -------------------------------------------------------------------------------

def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """Untrusted text as one short printable line: whitespace collapsed, other unprintable
    characters escaped, cut to `limit` characters."""
    text = " ".join(text.split())
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def reason(result: dict[str, Any], action: dict[str, Any], evidence: dict[str, list[str]]) -> str:
    """One paragraph: risk against the threshold crossed, the concepts that drove it with their
    probabilities and the words behind them, the call, and for a call held for a person the
    concepts to check first."""
    scored, thresholds = result["action"], result["thresholds"]
    level = "block" if result["decision"] == "block" else "flag"
    drivers = []
    for c in scored["top_concepts"]:
        if c["contribution"] <= 0:
            continue
        words = ", ".join(f'"{quote(w, EVIDENCE_CHARS)}"' for w in evidence.get(c["concept"], []))
        drivers.append(f"{c['concept']} (p={c['probability']:.2f}{'; from ' + words if words else ''})")
    arguments = action["arguments"]
    shown = arguments["command"] if isinstance(arguments.get("command"), str) else json.dumps(arguments, ensure_ascii=False)
    check = [c["concept"] for c in result.get("check_first", [])] if result["decision"] == "review" else []
    return (f"cbm oversight: risk {scored['risk']:.2f} is at or above the {level} threshold "
            f"{thresholds[level]:.2f}" + (f", driven by {'; '.join(drivers)}" if drivers else "") +
            f". Proposed {quote(action['tool_name'], 40)}: {quote(shown)}"
            + (f". To decide, check first: {', '.join(check)}" if check else ""))


def hook_output(permission: str, text: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": permission,
                                   "permissionDecisionReason": text}}


def on_error(mode: str, error: str) -> dict[str, Any] | None:
    """The answer when the call could not be scored."""
    print(f"cbm guard: {error}", file=sys.stderr)
    error = quote(error, 400)
    if mode == "closed":
        return hook_output("deny", f"cbm oversight could not score this call, and the guard fails closed: {error}")
    if mode == "ask":
        return hook_output("ask", f"cbm oversight could not score this call ({error}); please decide.")
    return None


def hook_answer(raw: bytes, scorers: list[Remote | Local], deadline: Deadline, *, explain: bool = True,
                mode: str = "ask", transcript: Transcript | None = transcript_messages) -> dict[str, Any] | None:
    """The hook's answer (None: no opinion) to the raw hook input, from the first scorer that
    answers; any failure is answered by `mode` (--on-error), never by an exception."""
    try:
        if len(raw) > MAX_INPUT_BYTES:
            raise GuardError(f"hook input over {MAX_INPUT_BYTES >> 20} MiB")
        try:
            hook = json.loads(raw)
        except ValueError as exc:
            raise GuardError(f"hook input is not JSON ({exc})") from None
        record, action = deadline.run(lambda: hook_request(hook, transcript))  # reading the transcript is timed too
        result, evidence = evaluate(record, action, scorers, deadline, explain=explain)
    except Exception as exc:  # any failure is answered by --on-error, never by a traceback
        return on_error(mode, str(exc) or type(exc).__name__)
    permission = HOOK_DECISIONS.get(result["decision"])
    return hook_output(permission, reason(result, action, evidence)) if permission else None


def claude_code(args: argparse.Namespace, stdin: Any) -> dict[str, Any] | None:
    """The hook's answer (None: no opinion) for the hook input on `stdin`."""
    deadline = Deadline(args.timeout)
    try:
        raw = stdin.read(MAX_INPUT_BYTES + 1)
        scorers: list[Remote | Local] = [Local(args.checkpoint)]
        if args.url:
            scorers.insert(0, Remote(args.url, read_key(args.api_key_file)))
    except Exception as exc:
        return on_error(args.on_error, str(exc) or type(exc).__name__)
    return hook_answer(raw, scorers, deadline, explain=not args.no_explain, mode=args.on_error)


# --- the same hook answered by `cbm serve` (POST /v1/hooks/claude-code) -------------------------

MAX_TRANSCRIPT_BYTES = 32 << 20  # what the service reads of one transcript


def served_hook(raw: bytes, overseer: Any, explainer: Callable[..., Any] | None = None, *, explain: bool = False,
                mode: str = "ask", transcripts_dir: str | None = None,
                max_transcript_bytes: int = MAX_TRANSCRIPT_BYTES, timeout: float = 20.0) -> dict[str, Any] | None:
    """`hook_answer` scored by a service's loaded model (`explainer(trajectory, action_id,
    concepts, top_k)` explains, else the overseer does). The service reads a transcript only from
    under `transcripts_dir`, at most `max_transcript_bytes` of it; without one it scores the
    call from the hook input alone."""
    transcript = None if transcripts_dir is None else functools.partial(
        transcript_under, os.path.realpath(transcripts_dir), max_transcript_bytes)
    return hook_answer(raw, [Local(overseer=overseer, explainer=explainer)], Deadline(timeout), explain=explain,
                       mode=mode, transcript=transcript)


def transcript_under(root: str, max_bytes: int | None, path: str, proposed_id: str | None = None
                     ) -> list[dict[str, Any]]:
    """`transcript_messages` of `path` if it is an absolute path to a regular file under `root`
    (a resolved path), links resolved. A path outside, missing or not a regular file gets one
    answer, so that it tells nothing about the files of the machine that reads it."""
    refused = GuardError("transcript_path: not a transcript this service reads (a regular file under its "
                         "--transcripts-dir)")
    try:
        real = os.path.realpath(path) if os.path.isabs(path) else None
        if real is None or os.path.commonpath([root, real]) != root:
            raise refused
        if not stat.S_ISREG(os.stat(real).st_mode):  # checked before opening: opening a FIFO waits for a writer
            raise refused
        return transcript_messages(real, proposed_id, max_bytes)
    except (OSError, ValueError, GuardError):  # ValueError: a NUL in the path
        raise refused from None


def read_key(path: str | None) -> str | None:
    """The API key: the first non-blank line of `path`, else `$CBM_API_KEY`."""
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                keys = [line.strip() for line in f if line.strip()]
        except OSError as exc:
            raise GuardError(f"--api-key-file: cannot read {path!r} ({exc.strerror})") from None
        if not keys:
            raise GuardError(f"--api-key-file: {path!r} holds no key")
        return keys[0]
    return os.environ.get(ENV_API_KEY) or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbm guard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="agent", required=True, metavar="AGENT")
    hook = sub.add_parser("claude-code", help="Claude Code PreToolUse hook: hook input on stdin, decision on stdout",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hook.add_argument("--url", default=os.environ.get(ENV_URL), help=f"a running `cbm serve` (default ${ENV_URL}); "
                      "without it, or when it cannot answer, the model runs in process")
    hook.add_argument("--api-key-file", help=f"file holding the service's API key (default ${ENV_API_KEY})")
    hook.add_argument("--checkpoint", help="checkpoint for in-process scoring (default $CBM_CHECKPOINT or the shipped one)")
    env_mode = os.environ.get(ENV_ON_ERROR, "ask")
    hook.add_argument("--on-error", choices=ON_ERROR, default=env_mode if env_mode in ON_ERROR else "ask",
                      help=f"when a call cannot be scored: open (no opinion), closed (deny) or ask the human "
                      f"(default ${ENV_ON_ERROR}, else ask)")
    hook.add_argument("--timeout", type=float, default=20.0, help="seconds to answer in (default %(default)s)")
    hook.add_argument("--no-explain", action="store_true",
                      help="name concepts but look for no word evidence (evidence takes seconds on a CPU)")
    args = parser.parse_args(argv)
    if env_mode not in ON_ERROR:
        print(f"cbm guard: ${ENV_ON_ERROR}={env_mode!r} is not one of {', '.join(ON_ERROR)}; using "
              f"{args.on_error}", file=sys.stderr)
    answer = claude_code(args, sys.stdin.buffer)
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    if threading.active_count() > 1:  # an abandoned in-process scorer: do not wait for it
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
