"""Chaos: SIGKILL at ten chosen points of an ingest and a build (in a subprocess), then check that the store is
sound, that what a reopened memory serves from its FAISS files agrees with the store, that nothing committed
before the kill is lost, and that re-running the ingest or the build recovers the result of an uninterrupted run.

The kill points are deterministic (the worker counts commits, index writes and distillations), so each run
exercises the same states; ``test_crash.py`` covers a kill at an arbitrary moment of a large ingest.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from rule_store.protocol import Scope
from rule_store.records import RuleStatus
from tests.ingest.chaos_worker import BATCH_SIZE, fast_memory
from tests.integrations.data import training_logs
from uno.ingest import ingest_file
from uno.memory import UnoMemory
from uno.paths import StorePaths

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = Scope(namespace="default")
BAD_LINES = ['{"query": "no answer"}', "not json at all"]

# (action, event, N): ten points where the process dies.
KILL_POINTS = [
    ("ingest", "commit", 1),  # one batch committed
    ("ingest", "before-commit", 2),  # the second batch written, not committed
    ("ingest", "commit", 3),
    ("build", "distilled", 1),  # distilled, nothing written yet
    ("build", "before-commit", 1),  # rules and verdicts written, not committed
    ("build", "commit", 1),  # rules committed; clusters not yet
    ("build", "before-commit", 2),  # clusters written, not committed
    ("build", "index-save", 2),  # store committed, FAISS files half written
    ("build", "commit", 2),  # committed, FAISS files not yet written
    ("build", "before-commit", 3),  # everything but the processed flags
]


@pytest.fixture(scope="module")
def logs_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chaos") / "logs.jsonl"
    lines = [json.dumps(record) for record in training_logs()]
    lines[5:5] = BAD_LINES
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(logs_file: Path, tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """The rules an uninterrupted ingest and build learn."""
    with fast_memory(tmp_path_factory.mktemp("reference")) as memory:
        ingest_file(logs_file, memory.store, batch_size=BATCH_SIZE, progress=False)
        memory.build()
        return rule_summary(memory)


def rule_summary(memory: UnoMemory) -> set[tuple[str, str]]:
    return {(rule.do, rule.status.value) for rule in memory.store.list_rules(NAMESPACE)}


def kill_at(store_dir: Path, action: str, event: str, at: int, logs_file: Path) -> None:
    command = [sys.executable, "-m", "tests.ingest.chaos_worker", str(store_dir), action, event, str(at)]
    done = subprocess.run([*command, str(logs_file)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, f"the kill point was not reached: {done.returncode} {done.stderr}"


def assert_sound(database: Path) -> None:
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


def assert_index_agrees_with_store(memory: UnoMemory) -> None:
    """What a memory serves (its FAISS files when their generation is the store's, else rebuilt from the store)
    is exactly the store's active rules and clusters."""
    view = memory._view(NAMESPACE.namespace or "")  # the read model augment uses
    active = {rule.id for rule in memory.store.list_rules(NAMESPACE, status=RuleStatus.ACTIVE)}
    assert set(view.rules) == active
    assert set(view.rule_index.ids() if view.rule_index else []) == active
    clusters = {cluster.id for cluster in memory.store.list_clusters(NAMESPACE)}
    assert set(view.centroid_index.ids() if view.centroid_index else []) <= clusters


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(("action", "event", "at"), KILL_POINTS, ids=[f"{a}-{e}-{n}" for a, e, n in KILL_POINTS])
def test_a_kill_at_any_point_loses_nothing_committed_and_the_rerun_recovers(
    action: str, event: str, at: int, logs_file: Path, reference: set[tuple[str, str]], tmp_path: Path
) -> None:
    store_dir = tmp_path / "store"
    if action == "build":
        with fast_memory(store_dir) as memory:
            ingest_file(logs_file, memory.store, batch_size=BATCH_SIZE, progress=False)

    kill_at(store_dir, action, event, at, logs_file)

    database = StorePaths.resolve(store_dir).database
    assert_sound(database)
    ledger = store_dir / "committed.txt"
    committed = [int(n) for n in ledger.read_text().split()] if ledger.exists() else []
    with fast_memory(store_dir) as memory:
        stored = memory.store.count_logs()
        assert stored >= max(committed, default=0), "a committed batch was lost"
        if action == "ingest":
            assert stored == max(committed, default=0), "an uncommitted batch was half written"
        assert_index_agrees_with_store(memory)

        if action == "ingest":
            rerun = ingest_file(logs_file, memory.store, batch_size=BATCH_SIZE, progress=False)
            assert rerun.quarantined == len(BAD_LINES)
        memory.build()
        assert memory.store.count_logs() == len(training_logs())
        assert memory.store.count_logs(processed=False) == 0
        assert rule_summary(memory) == reference
    assert_sound(database)
    with fast_memory(store_dir) as reopened:  # loads the FAISS files the recovery build wrote
        assert_index_agrees_with_store(reopened)
        assert rule_summary(reopened) == reference
