"""A scripted OpenAI-compatible chat server on 127.0.0.1, for driving the real litellm over real HTTP.

Each POST to ``/v1/chat/completions`` is answered by the next queued :class:`Reply`, else by the script (a function
of the request body). The server counts requests and the most requests it had in flight at once. Replies can be
valid JSON, garbage, a 429 or 500, or a hang longer than the client's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: an HTTP status, the assistant's text, a delay before answering, optional logprobs."""

    content: str = "ok"
    status: int = 200
    delay: float = 0.0
    # Per generated token, {candidate: log-probability}; the first key is taken as the generated token.
    logprobs: Sequence[dict[str, float]] | None = None


Script = Callable[[dict[str, Any]], Reply]


def json_reply(payload: Any, **kwargs: Any) -> Reply:
    return Reply(content=json.dumps(payload), **kwargs)


RATE_LIMITED = Reply(status=429, content="slow down")
SERVER_ERROR = Reply(status=500, content="boom")


def hang(seconds: float) -> Reply:
    """A reply that arrives only after ``seconds`` (longer than the client's timeout: it gives up first)."""
    return Reply(delay=seconds, content="too late")


def messages(body: dict[str, Any]) -> list[dict[str, str]]:
    return list(body.get("messages", []))


def system_text(body: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in messages(body) if m["role"] == "system")


def user_text(body: dict[str, Any]) -> str:
    """All user turns of a request, joined."""
    return "\n".join(m["content"] for m in messages(body) if m["role"] == "user")


def is_reask(body: dict[str, Any]) -> bool:
    return any(m["role"] == "assistant" for m in messages(body))


class ScriptedServer:
    """``with ScriptedServer(script) as server: ... server.base_url ...``"""

    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda body: Reply())
        self.queued: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=lambda: self._httpd.serve_forever(poll_interval=0.05), name="scripted-llm", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, before falling back to the script."""
        with self._lock:
            self.queued.extend(replies)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            queued = self.queued.popleft() if self.queued else None
        return queued if queued is not None else self.script(body)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = server._next_reply(body)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._answer(body, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): nothing to answer
                finally:
                    server._done()

            def _answer(self, body: dict[str, Any], reply: Reply) -> None:
                if reply.status != 200:
                    payload: dict[str, Any] = {"error": {"message": reply.content, "type": "scripted", "code": None}}
                else:
                    payload = completion_payload(body, reply)
                data = json.dumps(payload).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def completion_payload(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    prompt_tokens = sum(len(m.get("content", "").split()) for m in messages(body))
    choice: dict[str, Any] = {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": reply.content},
    }
    if reply.logprobs is not None and body.get("logprobs"):
        choice["logprobs"] = {
            "content": [
                {
                    "token": next(iter(step)),
                    "logprob": next(iter(step.values())),
                    "bytes": None,
                    "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in step.items()],
                }
                for step in reply.logprobs
            ]
        }
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(reply.content.split()),
            "total_tokens": prompt_tokens + len(reply.content.split()),
        },
    }


@contextmanager
def scripted(script: Script | None = None) -> Iterator[ScriptedServer]:
    with ScriptedServer(script) as server:
        yield server
