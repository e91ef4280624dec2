"""Real uno servers for the tests: uvicorn in a subprocess on 127.0.0.1, stopped by PID.

``app_from_env`` is the factory the subprocess runs (``uvicorn --factory``): the server of ``uno serve`` with the
fast hashing embedder, so tests are quick and deterministic. One test runs ``uno serve`` itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from fastapi import FastAPI

from tests.integrations.data import fast_memory
from uno.server import Upstream, create_app

REPO = Path(__file__).resolve().parents[2]
UNO = Path(sys.executable).with_name("uno")
# Where the dashboard's browser test saves its screenshots (git-ignored; the run's summary names the folder).
ARTIFACTS = Path(os.environ.get("UNO_TEST_ARTIFACTS", REPO / "build" / "test-artifacts"))
STORE_ENV = "UNO_TEST_STORE"
KEYS_ENV = "UNO_TEST_KEYS"
UPSTREAM_ENV = "UNO_TEST_UPSTREAM_BASE"
MAX_BODY_ENV = "UNO_TEST_MAX_BODY"
# Keys trusted to send their users' real ids (JSON list); all keys when unset: the tests play a trusted backend.
VOUCH_ENV = "UNO_TEST_VOUCH_USERS"
# "1": the proxy runs the strategy bandit (uno.bandit).
BANDIT_ENV = "UNO_TEST_STRATEGY_BANDIT"


def app_from_env() -> FastAPI:
    upstream_base = os.environ.get(UPSTREAM_ENV)
    upstream = Upstream("openai/scripted", api_base=upstream_base, api_key="scripted") if upstream_base else None
    keys = json.loads(os.environ[KEYS_ENV])
    vouched = os.environ.get(VOUCH_ENV)
    return create_app(
        fast_memory(Path(os.environ[STORE_ENV])),
        api_keys=keys,
        vouch_users=json.loads(vouched) if vouched is not None else list(keys),
        upstream=upstream,
        max_body_bytes=int(os.environ.get(MAX_BODY_ENV, str(256 * 1024))),
        warm_up=True,
        strategy_bandit=os.environ.get(BANDIT_ENV) == "1",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """A server process on 127.0.0.1: started with ``command`` (``{port}`` filled in), ready once ``health_path``
    answers 200 (or, with ``health_path=None``, once the port accepts connections)."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        log_path: Path,
        store: Path,
        health_path: str | None = "/health",
    ) -> None:
        self.store = store
        self._health_path = health_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [part.format(port=self.port) for part in command],
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 90.0) -> LiveServer:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout_s}s:\n{self.output()}")

    def _answers(self) -> bool:
        if self._health_path is None:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", self.port)) == 0
        try:
            return httpx.get(f"{self.base_url}{self._health_path}", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def output(self) -> str:
        if not self._log.closed:  # stop() closed it (a server that never got ready is stopped first)
            self._log.flush()
        return self._log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        """Terminate (uvicorn shuts down cleanly on SIGTERM), then kill if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def launch_test_server(
    root: Path,
    keys: dict[str, str],
    *,
    upstream_base: str | None = None,
    vouch_users: Sequence[str] | None = None,
    strategy_bandit: bool = False,
) -> LiveServer:
    """The factory app under uvicorn, in its own process, on a store under ``root`` (not waited for).

    ``vouch_users``: the keys trusted to send real user ids (default: all of them). ``strategy_bandit``: the proxy
    lets the bandit choose the strategy."""
    env = {STORE_ENV: str(root / "store"), KEYS_ENV: json.dumps(keys)}
    if strategy_bandit:
        env[BANDIT_ENV] = "1"
    if vouch_users is not None:
        env[VOUCH_ENV] = json.dumps(list(vouch_users))
    if upstream_base is not None:
        env[UPSTREAM_ENV] = upstream_base
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.integrations.serving:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--log-level",
        "warning",
    ]
    return LiveServer(command, env, root / "server.log", root / "store")


def launch_uno_serve(root: Path, key: str, namespace: str, upstream_base: str) -> LiveServer:
    """``uno serve`` as the README documents it (default embedder, proxy to the upstream), not waited for."""
    command = [
        str(UNO),
        "--store",
        str(root / "store"),
        "serve",
        "--port",
        "{port}",
        "--api-key",
        f"{key}={namespace}",
        "--vouch-users",
        "--upstream",
        "openai/scripted",
        "--upstream-base",
        upstream_base,
        "--upstream-key-env",
        "UNO_TEST_UPSTREAM_KEY",
        "--log-level",
        "warning",
    ]
    return LiveServer(command, {"UNO_TEST_UPSTREAM_KEY": "scripted"}, root / "serve.log", root / "store")
