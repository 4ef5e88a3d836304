"""A scripted OpenAI-compatible server on 127.0.0.1, for recording hand-written replies and
injecting faults. Every reply it sends is written by hand in the tests; it is not a model.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: status, headers and body; `drop` closes the socket without a reply."""

    body: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    cut_after: int | None = None  # send the full content-length, then only this many bytes
    trickle: float = 0.0  # send the body one byte at a time, this many seconds apart
    trickle_headers: float = 0.0  # send endless header lines, this many seconds apart


class ScriptedServer:
    """Answers POST /v1/chat/completions with the next queued `Reply`; 500 once none is left."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        # When set, answers every request instead of the queue (a test's hand-written rules).
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(Reply(body={"object": "list", "data": [{"id": "scripted"}]}))

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                try:
                    request = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    request = {"raw": raw.decode("utf-8", "replace")}
                server.requests.append(request)
                reply = (
                    server.responder(request)
                    if server.responder is not None
                    else server.replies.popleft()
                    if server.replies
                    else Reply(
                        status=500, body={"error": {"message": "scripted server: no reply queued"}}
                    )
                )
                time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                data = (
                    reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                )
                if reply.trickle_headers:  # a status line, then header lines that never end
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for number in range(100_000):
                        time.sleep(reply.trickle_headers)
                        self.wfile.write(f"x-trickle-{number}: a\r\n".encode())
                    return
                self.send_response(reply.status)
                headers = {"content-type": "application/json", **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if reply.cut_after is not None:
                    self.wfile.write(data[: reply.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if reply.trickle:
                    for byte in data:
                        self.wfile.write(bytes((byte,)))
                        time.sleep(reply.trickle)
                    return
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the client hung up (timeouts, cut replies): expected in fault tests

        self._httpd = Server((host, port), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def completion(
    arguments: dict[str, Any] | str,
    *,
    name: str = "ArticleExtraction",
    prompt_tokens: int = 900,
    completion_tokens: int = 300,
    finish_reason: str = "tool_calls",
    model: str = "gpt-4o-mini",
) -> dict[str, Any]:
    """A chat.completion body whose single tool call carries `arguments`."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": "chatcmpl-handwritten",
        "object": "chat.completion",
        "created": 1756300000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_handwritten",
                            "type": "function",
                            "function": {"name": name, "arguments": text},
                        }
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_body(message: str, kind: str = "server_error") -> dict[str, Any]:
    """An OpenAI-style error body."""
    return {"error": {"message": message, "type": kind, "code": None}}
