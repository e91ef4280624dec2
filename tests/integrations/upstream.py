"""A scripted OpenAI-compatible model server on 127.0.0.1: the upstream the proxy (via litellm) and the LangChain
tests talk to over real HTTP.

Every reply is ``"scripted reply #N to: <last user message>"`` followed by a paragraph of padding (a long answer,
so that "too long" feedback is news to uno's gap filter), streamed word by word when asked. A last user
message containing ``[fail NNN]`` gets HTTP status NNN instead. Every request body is recorded, so tests can check
what the model was actually sent (uno's memory block, the forwarded parameters).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_FAIL = re.compile(r"\[fail (\d{3})\]")
PADDING = (
    "There are several things to keep in mind here, and it is worth going through each of them in turn before "
    "deciding, because the details matter more than they first seem to and the context changes the answer. " * 3
).strip()


class ScriptedUpstream:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ScriptedUpstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def requests_with(self, marker: str) -> list[dict[str, Any]]:
        """The recorded requests whose last user message contains ``marker``."""
        with self._lock:
            return [r for r in self.requests if marker in last_user_text(r)]

    def reply_for(self, body: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            self.requests.append(body)
            number = next(self._counter)
        query = last_user_text(body)
        failure = _FAIL.search(query)
        if failure:
            return int(failure.group(1)), f"scripted failure {failure.group(1)}"
        return 200, f"scripted reply #{number} to: {query}\n\n{PADDING}"


def last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return ""


def system_text(body: dict[str, Any]) -> str:
    """All system messages of a recorded request, joined."""
    return "\n".join(str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "system")


def _handler_for(upstream: ScriptedUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._json(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            status, text = upstream.reply_for(body)
            if status != 200:
                self._json(status, {"error": {"message": text, "type": "scripted", "code": status}})
            elif body.get("stream"):
                self._stream(body, text)
            else:
                self._json(200, _completion(body, text))

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, body: dict[str, Any], text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            words = text.split(" ")
            for index, word in enumerate(words):
                delta = {"role": "assistant"} if index == 0 else {}
                delta["content"] = word if index == 0 else " " + word
                self._event(_chunk(body, delta, None))
            self._event(_chunk(body, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

    return Handler


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
    }


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
