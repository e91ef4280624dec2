"""An ``uno ingest`` killed with SIGKILL part-way through a file leaves a sound store, and re-running completes it."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rule_store.sqlite import SQLiteRuleStore
from tests.ingest.helpers import write_plain_logs
from uno.paths import StorePaths

UNO = Path(sys.executable).with_name("uno")
LINES = 60_000
BATCH = 250
# Kill once this many logs are committed: several batches in, far from the end of the file.
KILL_AFTER_LOGS = 2_000


def committed_logs(database: Path) -> int:
    if not database.exists():
        return 0
    with SQLiteRuleStore(database) as store:
        return store.count_logs()


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.timeout(120)
def test_killed_ingest_leaves_whole_batches_and_resumes_without_duplicates(tmp_path: Path) -> None:
    generated = write_plain_logs(tmp_path / "big.jsonl", LINES)
    store_dir = tmp_path / "store"
    database = StorePaths.resolve(store_dir).database
    command = [str(UNO), "--store", str(store_dir), "ingest", str(generated.path), "--batch-size", str(BATCH)]

    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as stderr:
        process = subprocess.Popen([*command, "--no-progress"], stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + 60
        while committed_logs(database) < KILL_AFTER_LOGS:
            assert process.poll() is None, f"ingest ended before it could be killed: {errors.read_text()!r}"
            assert time.monotonic() < deadline, "ingest made no progress"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    expected_by_query = {e.query: e for e in generated.valid.values()}
    with SQLiteRuleStore(database) as store:
        survivors = list(store.iter_logs())  # each row is re-validated as a LogRecord on the way out
    assert KILL_AFTER_LOGS <= len(survivors) < len(generated.valid), "the kill did not land mid-file"
    for log in survivors:
        assert expected_by_query[log.query].matches(log), log.id

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(generated.valid) - len(survivors)} inserted, {len(survivors)} duplicates" in resumed.stdout
    with SQLiteRuleStore(database) as store:
        assert store.count_logs() == len(generated.valid)
        assert {log.query for log in store.iter_logs()} == set(expected_by_query)
        assert {q.line for q in store.list_quarantine()} == set(generated.bad)
