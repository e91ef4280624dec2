"""What SQLiteRuleStore promises beyond the conformance suite: pragmas, migrations, isolation between
connections, savepoints, concurrent writers, and surviving a writer killed mid-transaction."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rule_store.migrations import (
    LATEST_VERSION,
    MIGRATIONS,
    Migration,
    SchemaVersionError,
    apply_migrations,
    current_version,
)
from rule_store.protocol import Scope
from rule_store.records import AdapterStatus, Evidence, FeedbackKind, LogRecord, Message, Rule, stable_hash
from rule_store.sqlite import NamespaceConflictError, SQLiteRuleStore, StoreClosedError
from rule_store.testing import make_adapter, make_experience, make_log, make_preference_pair, make_rule, make_verdict

REPO_ROOT = Path(__file__).resolve().parents[2]


def simple_log(log_id: str, user_id: str = "alice", namespace: str = "tenant-a") -> LogRecord:
    return LogRecord(
        id=log_id,
        namespace=namespace,
        user_id=user_id,
        messages=[Message(role="user", content=f"q {log_id}"), Message(role="assistant", content="a")],
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "uno.sqlite"


# ----------------------------------------------------------------------------------------------- pragmas


def test_file_store_runs_in_wal_mode_with_its_pragmas(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        conn = store._conn  # white-box: synchronous and foreign_keys are per-connection settings
        assert conn is not None
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    # WAL is a property of the file: a fresh connection sees it.
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_close_is_idempotent_and_later_calls_fail_clearly(db_path: Path) -> None:
    store = SQLiteRuleStore(db_path)
    store.close()
    store.close()
    with pytest.raises(StoreClosedError, match="closed"):
        store.count_logs()
    with pytest.raises(StoreClosedError, match="closed"):
        store.add_logs([simple_log("x")])


# ----------------------------------------------------------------------------------------------- migrations


def test_new_store_records_every_migration(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        assert store.schema_version == LATEST_VERSION == len(MIGRATIONS)
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert rows == [(m.version, m.description) for m in MIGRATIONS]


def test_reopening_keeps_data_and_version(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        store.add_logs([simple_log("kept")])
    with SQLiteRuleStore(db_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert [log.id for log in store.iter_logs()] == ["kept"]


def test_upgrades_a_version_1_database(db_path: Path) -> None:
    """A database built by migration 1 alone, with data written the v1 way, upgrades on open: migration 2
    backfills the experience -> log links, so user scopes see experiences written before it existed."""
    db_path.parent.mkdir(parents=True)
    log = make_log(1, user_id="alice")
    experience = make_experience(1, log)
    raw = sqlite3.connect(db_path, isolation_level=None)
    assert apply_migrations(raw, MIGRATIONS[:1]) == 1
    raw.execute(
        "INSERT INTO logs (id, namespace, user_id, content_hash, timestamp, body) VALUES (?, ?, ?, ?, ?, ?)",
        (
            log.id,
            log.namespace,
            log.user_id,
            log.content_hash(),
            "2024-05-17T07:31:15.123456+00:00",
            log.model_dump_json(),
        ),
    )
    raw.execute(
        "INSERT INTO experiences (id, namespace, cluster_id, body) VALUES (?, ?, ?, ?)",
        (experience.id, experience.namespace, experience.cluster_id, experience.model_dump_json()),
    )
    assert current_version(raw) == 1
    raw.close()

    with SQLiteRuleStore(db_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.get_logs([log.id]) == [log]
        assert store.list_experiences(Scope(user_id="alice")) == [experience]
        assert store.list_experiences(Scope(user_id="bob")) == []


def test_upgrades_a_version_2_database(db_path: Path) -> None:
    """A database built by migrations 1-2 (before adapters), with data written the v2 way, gains the adapter
    registry on open and keeps its data; its logs can then be cited by adapters and forgotten."""
    db_path.parent.mkdir(parents=True)
    log = make_log(1, user_id="alice")
    experience = make_experience(1, log)
    raw = sqlite3.connect(db_path, isolation_level=None)
    assert apply_migrations(raw, MIGRATIONS[:2]) == 2
    raw.execute(
        "INSERT INTO logs (id, namespace, user_id, content_hash, timestamp, body) VALUES (?, ?, ?, ?, ?, ?)",
        (
            log.id,
            log.namespace,
            log.user_id,
            log.content_hash(),
            "2024-05-17T07:31:15.123456+00:00",
            log.model_dump_json(),
        ),
    )
    raw.execute(
        "INSERT INTO experiences (id, namespace, cluster_id, body) VALUES (?, ?, ?, ?)",
        (experience.id, experience.namespace, experience.cluster_id, experience.model_dump_json()),
    )
    raw.execute("INSERT INTO experience_sources (experience_id, log_id) VALUES (?, ?)", (experience.id, log.id))
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert current_version(raw) == 2
    assert not tables & {"adapters", "adapter_sources"}
    raw.close()

    with SQLiteRuleStore(db_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.get_logs([log.id]) == [log]
        assert store.list_experiences(Scope(user_id="alice")) == [experience]
        assert store.stats()["adapters"] == 0
        adapter = make_adapter(1, log)
        store.upsert_adapters([adapter])
        assert store.list_adapters(Scope(user_id="alice")) == [adapter]
        assert store.delete_logs([log.id]) == [log.id]
        assert store.adapter_ids_for_logs([log.id]) == [adapter.id]


def test_upgrades_a_version_3_database_to_log_ids_per_namespace(db_path: Path) -> None:
    """A database with global log ids (migrations 1-3) keeps every log, verdict and processed flag when its logs
    and verdicts are re-keyed on (namespace, id); afterwards another namespace may reuse an id."""
    db_path.parent.mkdir(parents=True)
    logs = [make_log(1, namespace="tenant-a"), make_log(2, namespace="tenant-b")]
    raw = sqlite3.connect(db_path, isolation_level=None)
    assert apply_migrations(raw, MIGRATIONS[:3]) == 3
    for processed, log in enumerate(logs):
        raw.execute(
            "INSERT INTO logs (id, namespace, user_id, content_hash, timestamp, processed, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (log.id, log.namespace, log.user_id, log.content_hash(), f"2024-05-17T07:3{processed}:00.000000+00:00",
             processed, log.model_dump_json()),
        )  # fmt: skip
        verdict = make_verdict(processed, log)
        raw.execute(
            "INSERT INTO verdicts (log_id, namespace, verdict, body) VALUES (?, ?, ?, ?)",
            (log.id, log.namespace, verdict.verdict.value, verdict.model_dump_json()),
        )
    # A pair written before its id included the namespace.
    pair = make_preference_pair(1, logs[0], cluster_id=None)
    old_pair_id = "pair-" + stable_hash(pair.source_log_id, pair.chosen, pair.rejected)
    old_body = pair.model_copy(update={"id": old_pair_id}).model_dump_json()
    raw.execute(
        "INSERT INTO preference_pairs (id, namespace, cluster_id, source_log_id, body) VALUES (?, ?, ?, ?, ?)",
        (old_pair_id, pair.namespace, None, pair.source_log_id, old_body),
    )
    raw.close()

    with SQLiteRuleStore(db_path) as store:
        assert store.schema_version == LATEST_VERSION
        assert store.get_logs([log.id for log in logs]) == logs
        assert [log.id for log in store.iter_logs(processed=True)] == [logs[1].id]
        assert [v.log_id for v in store.get_verdicts([log.id for log in logs])] == [log.id for log in logs]
        assert [p.id for p in store.list_preference_pairs()] == [pair.id] != [old_pair_id]
        reused = logs[0].model_copy(update={"namespace": "tenant-b"})
        assert store.add_logs([reused]).inserted == [reused.id]
        assert store.get_logs([reused.id], Scope(namespace="tenant-a")) == [logs[0]]
    with sqlite3.connect(db_path) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        plan = " ".join(row[-1] for row in check.execute("EXPLAIN QUERY PLAN SELECT body FROM logs WHERE id = 'x'"))
        assert "logs_by_id" in plan, plan


def test_refuses_a_database_newer_than_the_code(db_path: Path) -> None:
    SQLiteRuleStore(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("INSERT INTO schema_version VALUES (99, 'from the future', '2030-01-01')")
    with pytest.raises(SchemaVersionError, match=r"version 99.*upgrade uno"):
        SQLiteRuleStore(db_path)


def test_a_failing_migration_leaves_the_database_at_its_old_version(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    broken = Migration(2, "half-broken", ("CREATE TABLE added_first (x)", "THIS IS NOT SQL"))
    raw = sqlite3.connect(db_path, isolation_level=None)
    apply_migrations(raw, MIGRATIONS[:1])
    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(raw, [MIGRATIONS[0], broken])
    assert current_version(raw) == 1
    tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "added_first" not in tables
    raw.close()


def test_migrations_must_be_numbered_without_gaps() -> None:
    raw = sqlite3.connect(":memory:", isolation_level=None)
    with pytest.raises(ValueError, match="without gaps"):
        apply_migrations(raw, [MIGRATIONS[1]])


# ----------------------------------------------------------------------------------------------- transactions


def test_second_connection_sees_committed_data_only(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as writer, SQLiteRuleStore(db_path) as reader:
        with writer.transaction():
            writer.add_logs([simple_log("one")])
            # WAL: the reader is not blocked by the open write transaction, and does not see it.
            assert reader.count_logs() == 0
        assert reader.count_logs() == 1
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("SELECT id FROM logs").fetchall() == [("one",)]


def test_interrupted_transaction_leaves_nothing(db_path: Path) -> None:
    class Interrupted(Exception):
        pass

    with SQLiteRuleStore(db_path) as store:
        log = make_log(1)
        with pytest.raises(Interrupted), store.transaction():
            store.add_logs([log])
            store.upsert_rules([make_rule(1, log)])
            store.upsert_verdicts([make_verdict(1, log)])
            store.mark_processed([log.id])
            raise Interrupted
        with SQLiteRuleStore(db_path) as other:
            assert set(other.stats().values()) == {0}
        # The store is still usable after the rollback.
        assert store.add_logs([log]).inserted == [log.id]


def test_failed_inner_block_undoes_only_its_own_writes(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        with store.transaction():
            store.add_logs([simple_log("outer")])
            with pytest.raises(KeyError), store.transaction():
                store.add_logs([simple_log("inner")])
                raise KeyError("inner")
            store.set_meta("after", "yes")
        assert [log.id for log in store.iter_logs()] == ["outer"]
        assert store.get_meta("after") == "yes"


def test_another_thread_never_reads_an_open_transaction(db_path: Path) -> None:
    """The connection is shared: without the lock, a reader thread would see the writer's uncommitted rows."""
    with SQLiteRuleStore(db_path) as store:
        writing, committed = threading.Event(), threading.Event()
        seen: list[tuple[int, bool]] = []

        def reader() -> None:
            writing.wait()
            count = store.count_logs()
            seen.append((count, committed.is_set()))

        thread = threading.Thread(target=reader)
        thread.start()
        with store.transaction():
            store.add_logs([simple_log("pending")])
            writing.set()
            time.sleep(0.2)
            committed.set()
        thread.join(timeout=10)
        assert seen == [(1, True)]


# ----------------------------------------------------------------------------------------------- concurrency


def _write_batches(store: SQLiteRuleStore, prefix: str, batches: int, size: int) -> None:
    for batch in range(batches):
        logs = [simple_log(f"{prefix}-{batch}-{i}", user_id=prefix) for i in range(size)]
        with store.transaction():
            store.add_logs(logs)
            store.upsert_rules([make_rule(batch, logs[0]).model_copy(update={"id": f"rule-{prefix}-{batch}"})])


def _run_in_threads(targets: list[tuple[SQLiteRuleStore, str]], batches: int, size: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def work(store: SQLiteRuleStore, prefix: str) -> None:
        try:
            start.wait()
            _write_batches(store, prefix, batches, size)
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=work, args=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


def test_two_threads_sharing_a_store_lose_nothing(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        _run_in_threads([(store, "t1"), (store, "t2")], batches=20, size=10)
        assert store.count_logs() == 400
        assert store.count_logs(Scope(user_id="t1")) == 200
        assert len(store.list_rules()) == 40


def test_two_threads_with_their_own_connections_lose_nothing(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as first, SQLiteRuleStore(db_path) as second:
        _run_in_threads([(first, "t1"), (second, "t2")], batches=20, size=10)
        assert first.count_logs() == second.count_logs() == 400
        assert len(second.list_rules()) == 40


def test_iter_logs_holds_no_lock_between_pages(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        store.add_logs(simple_log(f"log-{i:04d}") for i in range(700))
        pages = store.iter_logs()
        next(pages)
        writer = threading.Thread(target=lambda: store.add_logs([simple_log("while-iterating")]))
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive()
        assert sum(1 for _ in pages) == 700  # the 699 left plus the one added meanwhile, which sorts last


# ----------------------------------------------------------------------------------------------- input checks


def test_derived_ids_are_owned_by_one_namespace(db_path: Path) -> None:
    """Log ids are per namespace (see the conformance suite); the ids uno derives for other records are global,
    and one cannot be re-written under another namespace."""
    with SQLiteRuleStore(db_path) as store:
        store.add_logs([simple_log("shared-id", namespace="tenant-a")])
        assert store.add_logs([simple_log("shared-id", namespace="tenant-b")]).inserted == ["shared-id"]
        rule = make_rule(1, make_log(1, namespace="tenant-a"))
        store.upsert_rules([rule])
        with pytest.raises(NamespaceConflictError, match=rule.id):
            store.upsert_rules([rule.model_copy(update={"namespace": "tenant-b"})])
        assert store.get_rules([rule.id]) == [rule]
        adapter = make_adapter(1, make_log(1, namespace="tenant-a"))
        store.upsert_adapters([adapter])
        with pytest.raises(NamespaceConflictError, match=rf"adapter '{adapter.id}'.*'tenant-a'"):
            store.upsert_adapters([adapter.model_copy(update={"namespace": "tenant-b"})])
        assert store.list_adapters() == [adapter]


def test_bad_input_is_refused_with_the_reason(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        with pytest.raises(TypeError, match=r"add_logs: item #1 is a dict, expected LogRecord"):
            store.add_logs([simple_log("fine"), {"id": "not-a-record"}])  # type: ignore[list-item]
        with pytest.raises(TypeError, match="single LogRecord"):
            store.add_logs(simple_log("one"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not the single string"):
            store.get_logs("log-1")
        with pytest.raises(ValueError, match="not a valid Verdict"):
            store.list_verdicts(verdict="thrilled")
        with pytest.raises(ValueError, match="not a valid AdapterStatus"):
            store.list_adapters(status="thrilled")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not a valid AdapterKind"):
            store.list_adapters(kind="teacher")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not the single string"):
            store.adapter_ids_for_logs("log-1")
        assert store.count_logs() == 0


def test_provenance_takes_the_user_from_the_log_when_evidence_has_none(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        log = simple_log("from-bob", user_id="bob")
        store.add_logs([log])
        evidence = [Evidence(log_id=log.id, kind=FeedbackKind.EDIT)]
        rule = Rule(namespace=log.namespace, when="always", do="be brief", evidence=evidence)
        store.upsert_rules([rule])
        assert [r.id for r in store.list_rules(Scope(user_id="bob"))] == [rule.id]


def test_adapter_reads_use_their_indexes(db_path: Path) -> None:
    """The forget flow looks adapters up by log id, and serving lists them by namespace and status: neither may
    scan its table."""
    with SQLiteRuleStore(db_path) as store:
        conn = store._conn  # white-box: query plans are the backend's business
        assert conn is not None

        def plan(sql: str) -> str:
            return " | ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"]))

        assert "adapter_sources_by_log" in plan("SELECT adapter_id FROM adapter_sources WHERE log_id IN (?)")
        assert "adapters_by_namespace_status" in plan(
            f"SELECT body FROM adapters WHERE namespace = ? AND status = '{AdapterStatus.ACCEPTED.value}'"
        )


def test_naive_timestamps_are_taken_as_utc(db_path: Path) -> None:
    with SQLiteRuleStore(db_path) as store:
        noon_utc = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
        naive_eleven = simple_log("naive").model_copy(update={"timestamp": datetime(2024, 1, 1, 11, 59)})
        aware_noon = simple_log("aware").model_copy(update={"timestamp": noon_utc})
        store.add_logs([aware_noon, naive_eleven])
        assert [log.id for log in store.iter_logs()] == ["naive", "aware"]
        assert store.get_logs(["naive"])[0].timestamp == datetime(2024, 1, 1, 11, 59)


# ----------------------------------------------------------------------------------------------- crash safety

# The child writes batches of BATCH_SIZE logs plus one rule citing them, each batch in one transaction, and
# prints the batch number once it is committed. Logs are built inside the transaction so that nearly all of
# the child's time is spent in one.
BATCH_SIZE = 200
_WRITER_CHILD = f"""
import sys
from rule_store.records import Evidence, LogRecord, Message, Rule
from rule_store.sqlite import SQLiteRuleStore

store = SQLiteRuleStore(sys.argv[1])
prefix, batches = sys.argv[2], int(sys.argv[3])

def batch_logs(batch):
    for i in range({BATCH_SIZE}):
        yield LogRecord(
            id=f"{{prefix}}-{{batch}}-{{i}}",
            user_id=prefix,
            messages=[Message(role="user", content=f"q {{prefix}} {{batch}} {{i}}"),
                      Message(role="assistant", content="a")],
        )

batch = 0
while batches < 0 or batch < batches:
    with store.transaction():
        store.add_logs(batch_logs(batch))
        store.upsert_rules([Rule(
            id=f"rule-{{prefix}}-{{batch}}", when="w", do=f"batch {{batch}}",
            evidence=[Evidence(log_id=f"{{prefix}}-{{batch}}-{{i}}", kind="edit") for i in range(5)],
        )])
        store.set_meta("last_batch_" + prefix, str(batch))
    print(batch, flush=True)
    batch += 1
"""


def _start_writer(db_path: Path, prefix: str, batches: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER_CHILD, str(db_path), prefix, str(batches)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stored_batches(store: SQLiteRuleStore, prefix: str) -> Counter[int]:
    """Logs per batch number, for one writer."""
    return Counter(int(log_id.split("-")[1]) for log_id in store.log_ids_for_user(prefix))


@pytest.mark.slow
def test_writer_killed_mid_batch_leaves_only_whole_committed_batches(db_path: Path) -> None:
    SQLiteRuleStore(db_path).close()
    child = _start_writer(db_path, "k", batches=-1)
    assert child.stdout is not None
    printed, committed_at = [], []
    for line in child.stdout:
        printed.append(int(line))
        committed_at.append(time.monotonic())
        if len(printed) == 3:
            break
    # Half a batch after a commit, the child is most likely in the middle of the next transaction.
    time.sleep((committed_at[2] - committed_at[0]) / 4)
    child.send_signal(signal.SIGKILL)
    remaining, errors = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, errors
    printed += [int(line) for line in remaining.split()]

    with SQLiteRuleStore(db_path) as store:
        conn = store._conn  # white-box: integrity_check has no place in the RuleStore protocol
        assert conn is not None
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = _stored_batches(store, "k")
        # Every printed batch is there, whole. At most one more is: committed just before the kill, unprinted.
        assert set(printed) <= set(stored) <= set(printed) | {max(printed) + 1}
        assert set(stored.values()) == {BATCH_SIZE}
        assert sorted(r.id for r in store.list_rules()) == sorted(f"rule-k-{b}" for b in stored)
        assert all(len(store.rule_sources(f"rule-k-{b}")) == 5 for b in stored)
        assert store.get_meta("last_batch_k") == str(max(stored))


@pytest.mark.slow
def test_two_processes_writing_one_file_lose_nothing(db_path: Path) -> None:
    SQLiteRuleStore(db_path).close()
    children = {prefix: _start_writer(db_path, prefix, batches=4) for prefix in ("p1", "p2")}
    for child in children.values():
        out, errors = child.communicate(timeout=120)
        assert child.returncode == 0, errors
        assert out.split() == ["0", "1", "2", "3"]
    with SQLiteRuleStore(db_path) as store:
        for prefix in children:
            assert _stored_batches(store, prefix) == Counter(dict.fromkeys(range(4), BATCH_SIZE))
        assert len(store.list_rules()) == 8
