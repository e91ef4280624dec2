"""A stand-in for vLLM's runtime LoRA endpoints, run as a subprocess on 127.0.0.1 (``python -m tests.train.vllm_stub``).

It answers ``POST /v1/load_lora_adapter`` and ``POST /v1/unload_lora_adapter`` as vLLM does (200, a 400 for a name
already loaded, a 404 for an unknown name on unload), fails with a 500 for any ``lora_path`` containing "explode",
and lists the requests it got at ``GET /requests``. It prints its port on the first line of stdout once listening.
:class:`VllmStub` starts it and stops it by PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def _error(message: str, code: int) -> dict[str, Any]:
    # vLLM's ErrorResponse shape
    return {"object": "error", "message": message, "type": "InvalidUserInput", "param": None, "code": code}


class _State:
    def __init__(self) -> None:
        self.loaded: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []

    def load(self, body: dict[str, Any]) -> tuple[int, Any]:
        name, path = body.get("lora_name"), body.get("lora_path")
        if not name or not path:
            return 400, _error("Both 'lora_name' and 'lora_path' must be provided.", 400)
        if "explode" in path:
            return 500, _error(f"could not read adapter at {path}", 500)
        if name in self.loaded:
            return 400, _error(f"The lora adapter '{name}' has already been loaded.", 400)
        self.loaded[name] = path
        return 200, f"Success: LoRA adapter '{name}' added successfully."

    def unload(self, body: dict[str, Any]) -> tuple[int, Any]:
        name = body.get("lora_name")
        if name not in self.loaded:
            return 404, _error(f"The lora adapter '{name}' cannot be found.", 404)
        del self.loaded[name]
        return 200, f"Success: LoRA adapter '{name}' removed successfully."


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/requests":
                self._answer(200, state.requests)
            else:
                self._answer(404, _error("not found", 404))

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.requests.append({"path": self.path, "body": body, "authorization": self.headers.get("authorization")})
            routes = {"/v1/load_lora_adapter": state.load, "/v1/unload_lora_adapter": state.unload}
            route = routes.get(self.path)
            self._answer(*(route(body) if route else (404, _error("not found", 404))))

        def _answer(self, status: int, payload: Any) -> None:
            # vLLM answers a successful load/unload with plain text, errors with JSON
            is_text = isinstance(payload, str)
            data = (payload if is_text else json.dumps(payload)).encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain" if is_text else "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    # A single-threaded server: requests are handled, and recorded, one at a time without a lock.
    server = HTTPServer(("127.0.0.1", 0), _handler(_State()))
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.05)


class VllmStub:
    """``with VllmStub() as stub: ... stub.base_url ... stub.requests() ...``; the subprocess is stopped by PID."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict[str, Any]]:
        recorded: list[dict[str, Any]] = httpx.get(f"http://127.0.0.1:{self.port}/requests", timeout=5).json()
        return recorded

    def __enter__(self) -> VllmStub:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.train.vllm_stub"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    main()
