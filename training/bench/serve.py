"""Load test of `cbm serve`: `python -m cbm_training.bench serve [--seconds 60] [--clients 16]`.

Starts the service on a free 127.0.0.1 port with an API key, runs N client threads for a fixed
time (each on a keep-alive connection), then prints requests/s, p50/p99 latency per route,
errors (a non-200 answer, or an answer that differs from the one given before the load:
concurrent requests share one model), and the server's resident memory at start, middle and
end. Each client's requests mix the three routes: every `--explain-every`-th is a
`/v1/explain` of the risky database run's DROP (slow: it attributes every concept that matters,
one explanation at a time), every `--batch-every`-th a `/v1/score` batch of every bundled
sample, and the rest `/v1/score/action` calls in that run's context. Start to middle includes
the warm-up of the concurrent request threads; growth from middle to end under a steady load
would be a leak. Zero errors are expected.

`running_server` and `call` are what the service and guard tests use to talk to a real server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(str(resources.files("cbm.data") / "samples"))
RISKY_RUN, RISKY_CALL = "risky-db-prod-drop", "call_Nf8dH2qZ5vL1kW7tB4xM9cGs"


@dataclass
class Server:
    url: str
    host: str
    port: int
    process: subprocess.Popen
    log: Path  # the server's stderr

    def rss_mib(self) -> float:
        """Resident memory of the server process (VmRSS), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(*args: str, api_key: str | None = None, startup_s: float = 120) -> Iterator[Server]:
    """`cbm serve ARGS` on a free 127.0.0.1 port, with `api_key` in a key file, until the block ends."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        command = [sys.executable, "-m", "cbm.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args]
        if api_key is not None:
            key_file = Path(tmp) / "keys"
            key_file.write_text(api_key + "\n", encoding="utf-8")
            command += ["--api-key-file", str(key_file)]
        log = Path(tmp) / "server.log"
        env = {k: v for k, v in os.environ.items() if k != "CBM_API_KEYS"}
        with open(log, "wb") as err:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=ROOT)
        server = Server(f"http://127.0.0.1:{port}", "127.0.0.1", port, process, log)
        try:
            deadline = time.monotonic() + startup_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"cbm serve exited with {process.returncode}: {log.read_text()}")
                try:
                    if call(server.url, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cbm serve did not answer within {startup_s} s: {log.read_text()}")
                time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def call(url: str, path: str, body: Any = None, key: str | None = None, headers: dict[str, str] | None = None,
         connection: http.client.HTTPConnection | None = None, timeout: float = 60) -> tuple[int, Any]:
    """(status, decoded JSON or text) of a GET (no body) or a POST of `body` (JSON, or bytes as given)."""
    host = url.split("//", 1)[1]
    conn = connection or http.client.HTTPConnection(host, timeout=timeout)
    sent = dict(headers or {})
    if key is not None:
        sent.setdefault("Authorization", f"Bearer {key}")
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        sent.setdefault("Content-Type", "application/json")
    try:
        conn.request("GET" if body is None else "POST", path, data, sent)
        response = conn.getresponse()
        raw = response.read()
    finally:
        if connection is None:
            conn.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode("utf-8", "replace")


def sample_records() -> list[dict[str, Any]]:
    """Every record of the bundled samples, as decoded JSON."""
    return [json.loads(line) for path in sorted(SAMPLES.glob("*.jsonl")) for line in path.open(encoding="utf-8")
            if line.strip()]


def proposed_drop() -> dict[str, Any]:
    """A `/v1/score/action` body: the risky database run up to its DROP on production, and that call."""
    with open(SAMPLES / "database_session.openai.jsonl", encoding="utf-8") as f:
        record = next(r for r in map(json.loads, f) if r["id"] == RISKY_RUN)
    at = next(i for i, m in enumerate(record["messages"])
              if any(c["id"] == RISKY_CALL for c in m.get("tool_calls") or []))
    call_ = next(c for c in record["messages"][at]["tool_calls"] if c["id"] == RISKY_CALL)
    context = {k: v for k, v in record.items() if k != "labels"}  # labels name actions after the cut
    return {"context": {**context, "messages": record["messages"][:at]},
            "action": {"tool_name": call_["function"]["name"], "arguments": call_["function"]["arguments"],
                       "id": RISKY_CALL}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cbm_training.bench serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="load duration (default %(default)s)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads (default %(default)s)")
    parser.add_argument("--batch-every", type=int, default=10,
                        help="every Nth request of a client is a /v1/score batch (default %(default)s)")
    parser.add_argument("--explain-every", type=int, default=100,
                        help="every Nth request of a client is a /v1/explain, before --batch-every (default "
                        "%(default)s; 0: none)")
    parser.add_argument("--checkpoint", help="checkpoint directory (default: the shipped model)")
    args = parser.parse_args(argv)
    key = "bench-" + os.urandom(8).hex()
    action_body, batch_body = proposed_drop(), {"records": sample_records()}
    explain_body = {"record": next(r for r in batch_body["records"] if r.get("id") == RISKY_RUN),
                    "action": RISKY_CALL, "top_k": 3}
    bodies = {"/v1/score/action": action_body, "/v1/score": batch_body, "/v1/explain": explain_body}
    latencies: dict[str, list[float]] = {path: [] for path in bodies}

    def route(n: int) -> str:
        """The route of a client's n-th request (n from 1)."""
        if args.explain_every and n % args.explain_every == 0:
            return "/v1/explain"
        return "/v1/score" if n % args.batch_every == 0 else "/v1/score/action"

    errors: list[str] = []
    lock = threading.Lock()
    extra = ["--log-level", "warning"] + (["--checkpoint", args.checkpoint] if args.checkpoint else [])
    with running_server(*extra, api_key=key) as server:
        reference = {path: call(server.url, path, body, key)[1] for path, body in bodies.items()}
        rss = {"start": server.rss_mib()}
        stop = time.monotonic() + args.seconds

        def client(index: int) -> None:
            conn = http.client.HTTPConnection(f"{server.host}:{server.port}", timeout=300)
            # clients start at different points of the mix, so their explanations and batches do
            # not all arrive at once (explanations queue: they run one at a time)
            n = index * max(args.explain_every, args.batch_every) // args.clients
            while time.monotonic() < stop:
                n += 1
                path = route(n)
                body = bodies[path]
                t = time.perf_counter()
                try:
                    status, answer = call(server.url, path, body, key, connection=conn)
                except OSError as exc:
                    status, answer = None, str(exc)
                    conn.close()
                    conn = http.client.HTTPConnection(f"{server.host}:{server.port}", timeout=300)
                elapsed = time.perf_counter() - t
                with lock:
                    latencies[path].append(elapsed)
                    if status != 200:
                        errors.append(f"{path}: {status} {str(answer)[:200]}")
                    elif answer != reference[path]:
                        errors.append(f"{path}: the answer changed under load")
            conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        start = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(args.seconds / 2)
        rss["middle"] = server.rss_mib()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        rss["end"] = server.rss_mib()
    total = sum(len(v) for v in latencies.values())
    print(f"cbm serve under load: {args.clients} clients for {wall:.1f} s, {total} requests, {total / wall:.1f} req/s, "
          f"{len(errors)} errors (" + (f"every {args.explain_every}th request of a client /v1/explain, "
                                       if args.explain_every else "no /v1/explain, ") +
          f"every {args.batch_every}th /v1/score, the rest /v1/score/action)")
    for path, values in latencies.items():
        if values:
            ms = np.asarray(values) * 1000
            print(f"  {path:<18} {len(values):>6} requests  {len(values) / wall:6.1f} req/s  "
                  f"p50 {np.percentile(ms, 50):8.1f} ms  p99 {np.percentile(ms, 99):8.1f} ms")
    print("  server RSS: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in rss.items()))
    for error in errors[:5]:
        print(f"  error: {error}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
