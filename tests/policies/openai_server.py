"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 with scripted behaviours, for tests.

``POST /v1/chat/completions`` calls ``server.responder(request_body) -> Reply``; ``GET /v1/models``
lists one model. The server records every request body and header set, and the largest number of
chat requests it was processing at once. A responder that raises (e.g. a failed ``assert`` on the
request) is recorded in ``server.errors`` and answered with HTTP 400, which the client does not
retry; tests check ``server.errors`` is empty.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-model"


@dataclass
class Reply:
    """What the server sends: a status, a JSON-able body (or raw bytes), headers, after a delay."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Callable[[dict[str, Any]], Reply]


def completion(
    content: str | None = None, tool_calls: Sequence[dict[str, Any]] | None = None
) -> Reply:
    """A chat.completion body with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return Reply(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    )


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """One native tool call; ``arguments`` is the JSON string the model wrote."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An OpenAI-style error body."""
    return Reply({"error": {"message": message, "type": "test"}}, status, headers or {})


def fail_then(failures: Sequence[Reply], then: Responder) -> Responder:
    """Answer the given failure replies first (one per request), then defer to ``then``."""
    queue, lock = list(failures), threading.Lock()

    def respond(request: dict[str, Any]) -> Reply:
        with lock:
            failure = queue.pop(0) if queue else None
        return failure if failure is not None else then(request)

    return respond


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeOpenAIServer

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            return self._send(error(404, f"no route {self.path}"))
        self._send(Reply({"object": "list", "data": [{"id": MODEL, "object": "model"}]}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path != "/v1/chat/completions":
            return self._send(error(404, f"no route {self.path}"))
        self.server.enter(json.loads(raw), dict(self.headers))
        try:
            reply = self.server.responder(json.loads(raw))
        except Exception as exc:  # noqa: BLE001 - reported to the test through server.errors
            self.server.errors.append(exc)
            reply = error(400, f"server-side check failed: {exc!r}")
        if reply.delay:
            self.server.stopping.wait(reply.delay)
        self.server.leave()  # before sending: the client cannot start its next request earlier
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test): nothing to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


class FakeOpenAIServer(ThreadingHTTPServer):
    """Serves on 127.0.0.1 at an ephemeral port in a daemon thread; use as a context manager."""

    daemon_threads = True

    def __init__(self, responder: Responder | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responder: Responder = responder or (lambda request: completion("hello"))
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.errors: list[Exception] = []
        self.active = self.max_active = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def base_url(self) -> str:
        """The API root for OpenAIConfig.base_url."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def enter(self, request: dict[str, Any], headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append(request)
            self.headers.append(headers)
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def replay(scripts: dict[str, list[str]], delay: float = 0.0) -> Responder:
    """Answer each conversation with the next message of the script of its first user message."""

    def respond(request: dict[str, Any]) -> Reply:
        messages = request["messages"]
        first_user = next(m["content"] for m in messages if m["role"] == "user")
        turn = sum(m["role"] == "assistant" for m in messages)
        reply = completion(scripts[first_user][turn])
        reply.delay = delay
        return reply

    return respond
