from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integrations.data import trained_memory
from tests.integrations.serving import ARTIFACTS, LiveServer, launch_test_server, launch_uno_serve
from tests.integrations.upstream import ScriptedUpstream
from uno import UnoMemory

# The live server knows these keys; each test that writes to it takes a tenant of its own.
TENANTS = {f"key-{n:02d}": f"tenant-{n:02d}" for n in range(40)}
# Keys the live server does not trust to send real user ids (a key shipped in a client app): two per tenant.
UNVOUCHED = {f"open-{n:02d}{side}": f"open-tenant-{n:02d}" for n in range(2) for side in "ab"}
SERVE_KEY, SERVE_NAMESPACE = "sk-acme", "acme"
# The server whose proxy runs the strategy bandit, and its keys.
BANDIT_TENANTS = {f"bandit-key-{n}": f"bandit-tenant-{n}" for n in range(2)}
# The server fixtures; a test using one has its process launched right after collection.
SERVERS = ("live", "served", "bandit_live")
_SESSION_START = time.time()


@dataclass(frozen=True)
class Tenant:
    key: str
    namespace: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class _Background:
    """The scripted upstream and the uno server processes of the session.

    A server takes seconds to start (imports, the embedding model), so each is launched as soon as collection
    shows a selected test needs it: its start-up overlaps with the tests that run first. Fixtures wait for it.
    """

    def __init__(self) -> None:
        self._root: Path | None = None
        self._upstream: ScriptedUpstream | None = None
        self._servers: dict[str, LiveServer] = {}

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="uno-integrations-"))
        return self._root

    def upstream(self) -> ScriptedUpstream:
        if self._upstream is None:
            self._upstream = ScriptedUpstream().start()
        return self._upstream

    def server(self, name: str) -> LiveServer:
        if name not in self._servers:
            (self.root / name).mkdir()
            self._servers[name] = self._launch(name, self.root / name)
        return self._servers[name]

    def _launch(self, name: str, root: Path) -> LiveServer:
        if name == "live":
            return launch_test_server(
                root, TENANTS | UNVOUCHED, upstream_base=self.upstream().base_url, vouch_users=list(TENANTS)
            )
        if name == "served":
            return launch_uno_serve(root, SERVE_KEY, SERVE_NAMESPACE, self.upstream().base_url)
        if name == "bandit_live":
            return launch_test_server(
                root, BANDIT_TENANTS, upstream_base=self.upstream().base_url, strategy_bandit=True
            )
        raise KeyError(f"no server named {name!r}")

    def stop(self) -> None:
        for server in self._servers.values():
            server.stop()
        if self._upstream is not None:
            self._upstream.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


_background = _Background()


def pytest_collection_finish(session: pytest.Session) -> None:
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ())}
    for name in SERVERS:
        if name in wanted:
            _background.server(name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _background.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the folder of the dashboard's screenshots, so a CI log says where to look."""
    shots = [shot for shot in ARTIFACTS.glob("*.png") if shot.stat().st_mtime >= _SESSION_START]
    if shots:
        terminalreporter.write_line(f"dashboard screenshots ({len(shots)}): {ARTIFACTS}")


@pytest.fixture(scope="session")
def upstream() -> ScriptedUpstream:
    """The scripted OpenAI-compatible model on 127.0.0.1."""
    return _background.upstream()


@pytest.fixture(scope="session")
def live(upstream: ScriptedUpstream) -> LiveServer:
    """One uno server (REST + proxy to the scripted upstream) for the session; tenants keep tests apart."""
    return _background.server("live").wait_ready()


@pytest.fixture(scope="session")
def served(upstream: ScriptedUpstream) -> LiveServer:
    """``uno serve`` itself, with the default embedder, for key ``SERVE_KEY``."""
    return _background.server("served").wait_ready(timeout_s=180)


@pytest.fixture(scope="session")
def bandit_live(upstream: ScriptedUpstream) -> LiveServer:
    """A server like ``live`` whose proxy lets the strategy bandit choose (keys ``BANDIT_TENANTS``)."""
    return _background.server("bandit_live").wait_ready()


_unused = itertools.count()


def new_tenant() -> Tenant:
    """A tenant of the live server that no other test uses."""
    n = next(_unused)
    if n >= len(TENANTS):
        raise RuntimeError("more tenants wanted than the live server has keys: add keys to TENANTS")
    return Tenant(key=f"key-{n:02d}", namespace=f"tenant-{n:02d}")


@pytest.fixture
def tenant() -> Tenant:
    return new_tenant()


@pytest.fixture
def http(live: LiveServer, tenant: Tenant) -> Iterator[httpx.Client]:
    """Plain HTTP to the live server, as ``tenant``."""
    with httpx.Client(base_url=live.base_url, headers=tenant.headers, timeout=30.0) as client:
        yield client


@pytest.fixture
def trained(tmp_path: Path) -> Iterator[UnoMemory]:
    """An in-process memory that learnt the three rules of ``training_logs``."""
    with trained_memory(tmp_path / "store") as memory:
        yield memory
