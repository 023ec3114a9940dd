"""Calling an ASGI app in process, without sockets or a server: what the service's in-process
tests and the fuzz tests use (Starlette's TestClient needs a package the project does not
install). The app gets the request as uvicorn would send it: the body in `chunk`-byte messages,
then, once the answer is complete, a disconnect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any


class Answer:
    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes):
        self.status, self.body = status, body
        self.headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class InProcess:
    """`client.request("POST", "/v1/score", body, headers)` -> Answer, on one event loop."""

    def __init__(self, app: Callable[..., Any]):
        self.app = app
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", path, None, headers)

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None, **kw: Any) -> Answer:
        """POST `body`: bytes as given, anything else as its JSON encoding."""
        sent = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        return self.request("POST", path, data, sent, **kw)

    def request(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None,
                chunk: int = 65536, content_length: bool = True,
                on_receive: Callable[[], None] | None = None) -> Answer:
        """`on_receive` is called each time the app asks for a piece of the body."""
        return self.loop.run_until_complete(self._request(method, path, body, headers or {}, chunk, content_length,
                                                          on_receive))

    async def _request(self, method: str, path: str, body: bytes | None, headers: Mapping[str, str], chunk: int,
                       content_length: bool, on_receive: Callable[[], None] | None) -> Answer:
        raw_path, _, query = path.partition("?")
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if body is not None and content_length:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": raw_headers, "client": ("127.0.0.1", 50000),
                 "server": ("127.0.0.1", 8000)}
        pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] if body else []
        pieces = pieces or [b""]
        done = asyncio.Event()
        status: list[int] = []
        response_headers: list[tuple[bytes, bytes]] = []
        out = bytearray()

        async def receive() -> dict[str, Any]:
            if on_receive is not None:
                on_receive()
            if pieces:
                piece = pieces.pop(0)
                return {"type": "http.request", "body": piece, "more_body": bool(pieces)}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                response_headers.extend(message.get("headers", []))
            elif message["type"] == "http.response.body":
                out.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.app(scope, receive, send)
        assert status, "the app sent no response"
        return Answer(status[0], response_headers, bytes(out))
