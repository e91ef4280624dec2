from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integrations.data import trained_memory
from tests.integrations.serving import LiveServer, start_test_server
from tests.integrations.upstream import ScriptedUpstream
from uno import UnoMemory

# The live server knows these keys; each test that writes to it takes a tenant of its own.
TENANTS = {f"key-{n:02d}": f"tenant-{n:02d}" for n in range(40)}


@dataclass(frozen=True)
class Tenant:
    key: str
    namespace: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture(scope="session")
def upstream() -> Iterator[ScriptedUpstream]:
    server = ScriptedUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live(upstream: ScriptedUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One uno server (REST + proxy to the scripted upstream) for the session; tenants keep tests apart."""
    root = tmp_path_factory.mktemp("live")
    server = start_test_server(root / "store", TENANTS, root / "server.log", upstream_base=upstream.base_url)
    yield server
    server.stop()


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
