"""A HAND-WRITTEN STAND-IN FOR OPENAI'S BATCH API on 127.0.0.1, for tests. It is not OpenAI and
not a model: it plays the Batch API's HTTP protocol (files, batches, file content) and answers
each request line with a reply built by a Python function the test chooses (by default the
scripted "perfect model" of benchmarks/perfect_model_server.py, which builds its reply from the
request, calling no model). It also answers POST /v1/chat/completions the same way, so the
normal API's re-asks go to it too.

    with BatchAPIServer() as server:          # server.base_url -> "http://127.0.0.1:PORT/v1"
        server.statuses = ["validating", "in_progress", "completed"]   # one per retrieve
        server.answer = lambda custom_id, body: {...chat.completion...} or Failure(...)

What it implements (OpenAI's shapes, the fields the client reads):
- POST /v1/files (multipart: purpose, file) -> a file object; the file is kept in memory.
- POST /v1/batches -> a batch, status "validating"; GET /v1/batches/{id} moves it one step along
  `statuses` per call; when it reaches "completed", "expired" or "cancelled" every request line
  (all of them, or the first `expire_after` for "expired"/"cancelled") is answered into an output
  file (200 replies) and an error file (failures, and "batch_expired" for the rest).
- GET /v1/batches?limit=N -> the batches, newest first; GET /v1/files/{id}/content -> the bytes.
- POST /v1/chat/completions -> `answer(None, body)`.
Every request is logged in `requests` as (method, path); `faults` (HTTP statuses) answer the
next requests instead, one each, with an OpenAI-style error body.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import perfect_model_server


@dataclass
class Failure:
    """A request line answered with an error instead of a completion."""

    status: int = 500
    code: str = "server_error"
    message: str = "scripted failure"


def perfect_reply(custom_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """The scripted perfect model's chat.completion for `body` (built from the request)."""
    done = perfect_model_server.answer(
        json.dumps(body).encode(), lambda text: max(1, len(text) // 4), False
    )
    message: dict[str, Any] = {"role": "assistant", "content": done["text"]}
    if done["tool"]:
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_scripted",
                    "type": "function",
                    "function": {"name": done["tool"], "arguments": done["text"]},
                }
            ],
        }
    prompt, completion = done["log"]["prompt_tokens"], done["log"]["completion_tokens"]
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1764450000,
        "model": done["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": done["finish"]}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


Answer = Callable[[str | None, dict[str, Any]], "dict[str, Any] | Failure"]


class BatchAPIServer:
    """The stand-in for OpenAI's Batch API described in this module's docstring."""

    def __init__(self) -> None:
        self.answer: Answer = perfect_reply
        self.statuses: list[str] = ["validating", "in_progress", "finalizing", "completed"]
        self.expire_after: int = 0  # "expired"/"cancelled": requests answered before the end
        self.batch_errors: list[dict[str, Any]] = []  # "failed": the errors the batch reports
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.steps: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []
        self.queries: list[str] = []  # each request's query string
        self.chat_bodies: list[dict[str, Any]] = []  # bodies sent to /v1/chat/completions
        self.garbage_output = False  # the output file starts with a line that is not JSON
        # HTTP statuses to answer the next requests with instead (e.g. [429, 503]), one each.
        self.faults: list[int] = []
        self._lock = threading.RLock()
        self._count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: Any, status: int = 200, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(body).encode()
                self.send_response(status)
                kind = "application/octet-stream" if raw is not None else "application/json"
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _fault(self) -> bool:
                if not server.faults:
                    return False
                status = server.faults.pop(0)
                self._send({"error": {"message": f"scripted HTTP {status}"}}, status)
                return True

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.queries.append(self.path.partition("?")[2])
                server.requests.append(("GET", path))
                if self._fault():
                    return
                parts = path.strip("/").split("/")
                if parts[-1] == "batches":
                    newest = sorted(server.batches.values(), key=lambda b: -b["created_at"])
                    self._send({"object": "list", "data": newest, "has_more": False})
                elif len(parts) >= 3 and parts[-2] == "batches" and parts[-1] in server.batches:
                    self._send(server.step(parts[-1]))
                elif parts[-1] == "content" and parts[-2] in server.files:
                    self._send(None, raw=server.files[parts[-2]])
                else:
                    self._send({"error": {"message": f"no route {path}"}}, 404)

            def do_POST(self) -> None:
                path = self.path.split("?")[0]
                server.queries.append(self.path.partition("?")[2])
                server.requests.append(("POST", path))
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self._fault():
                    return
                if path.endswith("/files"):
                    self._send(server.upload(self.headers.get("content-type", ""), raw))
                elif path.endswith("/batches"):
                    self._send(server.create(json.loads(raw)))
                elif path.endswith("/chat/completions"):
                    server.chat_bodies.append(json.loads(raw))
                    reply = server.answer(None, server.chat_bodies[-1])
                    if isinstance(reply, Failure):
                        self._send({"error": {"message": reply.message}}, reply.status)
                    else:
                        self._send(reply)
                else:
                    self._send({"error": {"message": f"no route {path}"}}, 404)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._count += 1
            return f"{prefix}-{self._count}"

    def upload(self, content_type: str, raw: bytes) -> dict[str, Any]:
        """Keep an uploaded file; its file object."""
        message = BytesParser(policy=default_policy).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
        )
        data, name, purpose = b"", "upload", ""
        for part in message.iter_parts():
            field = part.get_param("name", header="content-disposition")
            if field == "file":
                data = part.get_payload(decode=True) or b""
                name = part.get_filename() or name
            elif field == "purpose":
                purpose = (part.get_payload(decode=True) or b"").decode()
        file_id = self._id("file")
        self.files[file_id] = data
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": 1764450000,
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    def create(self, request: dict[str, Any]) -> dict[str, Any]:
        """A new batch for an uploaded file, status "validating"."""
        batch_id = self._id("batch")
        lines = self.files[request["input_file_id"]].decode().splitlines()
        self.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request["endpoint"],
            "input_file_id": request["input_file_id"],
            "completion_window": request["completion_window"],
            "status": self.statuses[0],
            "created_at": 1764450000 + len(self.batches),
            "metadata": request.get("metadata"),
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
        }
        self.steps[batch_id] = 0
        return self.batches[batch_id]

    def step(self, batch_id: str) -> dict[str, Any]:
        """The batch one status further along; its files written when it ends."""
        batch = self.batches[batch_id]
        with self._lock:
            self.steps[batch_id] = min(self.steps[batch_id] + 1, len(self.statuses) - 1)
            status = self.statuses[self.steps[batch_id]]
            if status != batch["status"] and status in ("completed", "expired", "cancelled"):
                self._finish(batch, status)
            elif status == "failed":
                batch["errors"] = {"object": "list", "data": self.batch_errors}
            batch["status"] = status
        return batch

    def _finish(self, batch: dict[str, Any], status: str) -> None:
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].decode().splitlines()]
        answered = len(lines) if status == "completed" else self.expire_after
        output, failures = [], []
        for number, line in enumerate(lines):
            key = line["custom_id"]
            reply = (
                self.answer(key, line["body"])
                if number < answered
                else Failure(
                    0,
                    "batch_expired",
                    "This request could not be executed before the completion window expired.",
                )
            )
            if isinstance(reply, Failure) and reply.status == 0:
                failures.append(
                    {
                        "id": f"req-{number}",
                        "custom_id": key,
                        "response": None,
                        "error": {"code": reply.code, "message": reply.message},
                    }
                )
            elif isinstance(reply, Failure):
                body = {"error": {"message": reply.message, "type": reply.code, "code": None}}
                failures.append(
                    {
                        "id": f"req-{number}",
                        "custom_id": key,
                        "error": None,
                        "response": {"status_code": reply.status, "body": body},
                    }
                )
            else:
                output.append(
                    {
                        "id": f"req-{number}",
                        "custom_id": key,
                        "error": None,
                        "response": {"status_code": 200, "request_id": f"r{number}", "body": reply},
                    }
                )
        if output:
            data = "".join(json.dumps(x) + "\n" for x in output).encode()
            if self.garbage_output:
                data = b"<html>Bad Gateway</html>\n" + data
            batch["output_file_id"] = self._id("file")
            self.files[batch["output_file_id"]] = data
        if failures:
            batch["error_file_id"] = self._id("file")
            self.files[batch["error_file_id"]] = "".join(
                json.dumps(x) + "\n" for x in failures
            ).encode()
        done = sum(1 for _ in output)
        batch["request_counts"] = {
            "total": len(lines),
            "completed": done,
            "failed": len(lines) - done,
        }

    @property
    def base_url(self) -> str:
        """The server's /v1 URL."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def count(self, method: str, suffix: str) -> int:
        """How many requests of `method` went to a path ending with `suffix`."""
        return sum(1 for m, p in self.requests if m == method and p.endswith(suffix))

    def __enter__(self) -> BatchAPIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
