"""The SQLite store's build lease against a real second process: refused while it holds it, free once it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rule_store import LeaseHeld, SQLiteRuleStore
from rule_store.lease import lease_files

REPO = Path(__file__).resolve().parents[2]
# Takes the lease, says so on stdout, then holds it until killed.
HOLDER = """
import sys, time
from rule_store.sqlite import SQLiteRuleStore
store = SQLiteRuleStore(sys.argv[1])
with store.build_lease(sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


def _holder(database: Path, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), name], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_lease_held_by_another_process_is_refused_until_that_process_dies(tmp_path: Path) -> None:
    database = tmp_path / "uno.sqlite"
    SQLiteRuleStore(database).close()
    process = _holder(database, "build:acme")
    try:
        with SQLiteRuleStore(database) as store:
            with pytest.raises(LeaseHeld) as refused, store.build_lease("build:acme"):
                pytest.fail("the lease was granted while another process held it")
            assert f"pid {process.pid} on " in refused.value.holder
            with store.build_lease("build:globex"):
                pass
            # A killed holder (no cleanup ran) leaves no stale lease: the OS dropped its lock.
            process.send_signal(signal.SIGKILL)
            process.wait()
            with store.build_lease("build:acme"):
                pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_lease_files_sit_beside_the_database_whatever_the_name(tmp_path: Path) -> None:
    lock, holder = lease_files(tmp_path / "uno.sqlite", "build:../../etc/passwd\n")
    assert lock.parent == holder.parent == tmp_path
    assert lock.name.startswith("uno.sqlite.lease-") and lock.suffix == ".lock"


def test_an_in_memory_store_leases_within_its_process() -> None:
    refused = pytest.raises(LeaseHeld, match=r"another build holds the lease 'build:acme' \(thread ")
    with (
        SQLiteRuleStore(":memory:") as store,
        store.build_lease("build:acme"),
        refused,
        store.build_lease("build:acme"),
    ):
        pass
