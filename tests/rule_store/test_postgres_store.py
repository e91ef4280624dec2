"""What PostgresRuleStore promises beyond the conformance suite: migrations (idempotent, concurrent, refused
when newer, upgrades), tenancy enforced in SQL, bulk writes, concurrent writers, and build leases across
processes, released when their holder is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rule_store.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from rule_store.migrations import SchemaVersionError
from rule_store.protocol import LeaseHeld, Scope
from rule_store.records import EditFeedback, LogRecord, Message, stable_hash
from rule_store.testing import RECORD_KINDS, make_log, make_preference_pair, make_rule, make_verdict, populate

psycopg = pytest.importorskip("psycopg")

from rule_store import postgres_migrations as pg_migrations  # noqa: E402 - needs psycopg
from rule_store.postgres import PostgresRuleStore  # noqa: E402
from rule_store.sqlite import NamespaceConflictError, StoreClosedError  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
# How long a wait for another session (a lock taken, a killed holder's session ending) may last before the test
# gives up: a bound on a wait, not a measured time.
WAIT_LIMIT_S = 60.0


def simple_log(log_id: str, user_id: str = "alice", namespace: str = "tenant-a", text: str = "") -> LogRecord:
    return LogRecord(
        id=log_id,
        namespace=namespace,
        user_id=user_id,
        messages=[Message(role="user", content=f"q {log_id} {text}"), Message(role="assistant", content="a")],
    )


@pytest.fixture
def url_schema(postgres_schema: tuple[str, str]) -> tuple[str, str]:
    return postgres_schema


@pytest.fixture
def store(url_schema: tuple[str, str]) -> Iterator[PostgresRuleStore]:
    url, schema = url_schema
    with PostgresRuleStore(url, schema=schema, pool_size=6) as opened:
        yield opened


def raw_connection(url: str, schema: str) -> Any:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute(psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(schema)))
    return conn


def wait_until(condition: Any, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after WAIT_LIMIT_S."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


# ----------------------------------------------------------------------------------------------- migrations


def test_versions_mean_what_they_mean_on_sqlite() -> None:
    assert [(m.version, m.description) for m in pg_migrations.MIGRATIONS] == [
        (m.version, m.description) for m in SQLITE_MIGRATIONS
    ]


def test_new_store_records_every_migration(store: PostgresRuleStore, url_schema: tuple[str, str]) -> None:
    assert store.schema_version == pg_migrations.LATEST_VERSION == SQLITE_MIGRATIONS[-1].version
    with raw_connection(*url_schema) as conn:
        rows = conn.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert rows == [(m.version, m.description) for m in SQLITE_MIGRATIONS]


def test_reopening_is_idempotent_and_keeps_data(url_schema: tuple[str, str]) -> None:
    url, schema = url_schema
    with PostgresRuleStore(url, schema=schema) as store:
        store.add_logs([simple_log("kept")])
    for _ in range(2):
        with PostgresRuleStore(url, schema=schema) as store:
            assert store.schema_version == pg_migrations.LATEST_VERSION
            assert [log.id for log in store.iter_logs()] == ["kept"]
    with raw_connection(url, schema) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (len(SQLITE_MIGRATIONS),)


def test_concurrent_opens_of_a_new_schema_migrate_once(url_schema: tuple[str, str]) -> None:
    """Four stores opening one new schema at once: the advisory lock lets one migrate; the others find it done."""
    url, schema = url_schema
    start = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            start.wait()
            with PostgresRuleStore(url, schema=schema, pool_size=1) as store:
                versions.append(store.schema_version)
        except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_LIMIT_S)
    assert errors == []
    assert versions == [pg_migrations.LATEST_VERSION] * 4
    with raw_connection(url, schema) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_version").fetchone() == (7, 7)


def test_refuses_a_database_newer_than_the_code(url_schema: tuple[str, str]) -> None:
    url, schema = url_schema
    PostgresRuleStore(url, schema=schema).close()
    with raw_connection(url, schema) as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'from the future', now())")
    with pytest.raises(SchemaVersionError, match=r"version 99.*upgrade uno"):
        PostgresRuleStore(url, schema=schema)


def test_a_failing_migration_leaves_the_database_at_its_old_version(url_schema: tuple[str, str]) -> None:
    url, schema = url_schema
    broken = pg_migrations.PgMigration(2, "half-broken", ("CREATE TABLE added_first (x int)", "THIS IS NOT SQL"))
    with raw_connection(url, schema) as conn:
        assert pg_migrations.apply_migrations(conn, schema, pg_migrations.MIGRATIONS[:1]) == 1
        with pytest.raises(psycopg.errors.SyntaxError):
            pg_migrations.apply_migrations(conn, schema, [pg_migrations.MIGRATIONS[0], broken])
        assert pg_migrations.current_version(conn) == 1
        assert conn.execute("SELECT to_regclass('added_first')").fetchone() == (None,)


def test_upgrades_a_version_3_database(url_schema: tuple[str, str]) -> None:
    """A schema built by migrations 1-3 (global log ids, no edit costs, pair ids without the namespace) keeps
    its data through 4-7: logs re-keyed per namespace, edit costs backfilled, pairs re-keyed."""
    url, schema = url_schema
    edited = make_log(1, namespace="tenant-a")  # carries an EditFeedback
    plain = simple_log("plain", namespace="tenant-b")
    assert any(isinstance(event, EditFeedback) for event in edited.feedback)
    pair = make_preference_pair(1, edited, cluster_id=None)
    old_pair_id = "pair-" + stable_hash(pair.source_log_id, pair.chosen, pair.rejected)
    with raw_connection(url, schema) as conn:
        assert pg_migrations.apply_migrations(conn, schema, pg_migrations.MIGRATIONS[:3]) == 3
        for processed, log in enumerate([edited, plain]):
            conn.execute(
                "INSERT INTO logs (id, namespace, user_id, content_hash, timestamp, processed, body) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [log.id, log.namespace, log.user_id, log.content_hash(), log.timestamp, bool(processed),
                 log.model_dump_json()],
            )  # fmt: skip
            verdict = make_verdict(processed, log)
            conn.execute(
                "INSERT INTO verdicts (log_id, namespace, verdict, body) VALUES (%s, %s, %s, %s)",
                [log.id, log.namespace, verdict.verdict.value, verdict.model_dump_json()],
            )
        conn.execute(
            "INSERT INTO preference_pairs (id, namespace, cluster_id, source_log_id, body) VALUES (%s, %s, %s, %s, %s)",
            [old_pair_id, pair.namespace, None, pair.source_log_id,
             pair.model_copy(update={"id": old_pair_id}).model_dump_json()],
        )  # fmt: skip

    with PostgresRuleStore(url, schema=schema) as store:
        assert store.schema_version == pg_migrations.LATEST_VERSION
        assert store.get_logs([edited.id, plain.id]) == [edited, plain]
        assert [log.id for log in store.iter_logs(processed=True)] == [plain.id]
        assert [p.id for p in store.list_preference_pairs()] == [pair.id] != [old_pair_id]
        stats = store.stats()
        assert (stats["logs_edited"], stats["edit_cost_total"]) == (1, edited.edit_cost())
        reused = edited.model_copy(update={"namespace": "tenant-b"})
        assert store.add_logs([reused]).inserted == [reused.id]
        assert store.get_logs([edited.id], Scope(namespace="tenant-a")) == [edited]


def test_schema_names_are_checked_and_quoted(postgres_url: str) -> None:
    with pytest.raises(ValueError, match="1 to 63 bytes"):
        PostgresRuleStore(postgres_url, schema="x" * 64)
    from rule_store.testing_postgres import temporary_schema

    with temporary_schema(postgres_url, prefix='Odd "Name"') as schema:
        with PostgresRuleStore(postgres_url, schema=schema) as store:
            store.add_logs([simple_log("quoted")])
        with PostgresRuleStore(postgres_url, schema=schema) as store:
            assert store.count_logs() == 1


# ----------------------------------------------------------------------------------------------- lifecycle


def test_close_is_idempotent_and_later_calls_fail_clearly(url_schema: tuple[str, str]) -> None:
    url, schema = url_schema
    store = PostgresRuleStore(url, schema=schema)
    store.close()
    store.close()
    with pytest.raises(StoreClosedError, match="closed"):
        store.count_logs()
    with pytest.raises(StoreClosedError, match="closed"):
        store.add_logs([simple_log("x")])
    with pytest.raises(StoreClosedError, match="closed"), store.build_lease("build:x"):
        pass


def test_an_unreachable_server_fails_at_open_with_the_reason() -> None:
    with pytest.raises(psycopg.OperationalError, match=r"127\.0\.0\.1"):
        PostgresRuleStore("postgresql://postgres:s3cret@127.0.0.1:1/test")


def test_repr_hides_the_password(url_schema: tuple[str, str]) -> None:
    url, schema = url_schema
    with_password = url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    if with_password == url:
        pytest.skip("the test URL is not of the form postgresql://postgres@host/db")
    with PostgresRuleStore(with_password, schema=schema) as store:  # trust auth ignores the password
        assert "s3cret" not in repr(store)


def test_import_rule_store_does_not_load_psycopg() -> None:
    code = "import sys, rule_store, rule_store.sqlite; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------------------------- tenancy


def test_scoped_reads_fetch_no_row_of_another_tenant(store: PostgresRuleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every row the database sends back for a tenant-a read is tenant-a's: the namespace is filtered in SQL,
    not in Python after fetching. Tenant b holds a record of every kind, one log under the same id as a's."""
    populate(store, "tenant-a", "alice", n=1)
    ids_b = populate(store, "tenant-b", "alice", n=2)
    (log_b,) = ids_b["logs"]
    shared = make_log(5, namespace="tenant-a").model_copy(update={"id": log_b})
    assert store.add_logs([shared]).inserted == [log_b]
    fetched: list[Any] = []
    original = store._fetch

    def recording_fetch(query: str, params: Any = (), *, rows: bool = True) -> list[Any]:
        result = original(query, params, rows=rows)
        fetched.extend(result)
        return result

    monkeypatch.setattr(store, "_fetch", recording_fetch)
    in_a = Scope(namespace="tenant-a")
    every_id = sorted({i for ids in ids_b.values() for i in ids})
    for kind in RECORD_KINDS:
        assert kind.read_all(store, in_a), kind.name
    assert [log.namespace for log in store.iter_logs(in_a)] == ["tenant-a", "tenant-a"]
    store.get_logs(every_id, in_a)
    store.get_rules(every_id, in_a)
    store.get_adapters(every_id, in_a)
    store.get_verdicts(every_id, in_a)
    store.log_ids_for_user("alice", namespace="tenant-a")
    store.stats(in_a)
    store.rule_history(sorted(ids_b["rules"])[0], in_a)
    bodies = [cell for row in fetched for cell in row if isinstance(cell, str) and cell.startswith("{")]
    assert bodies, "the reads fetched no record bodies"
    assert {json.loads(body)["namespace"] for body in bodies} == {"tenant-a"}
    assert store.delete_logs(every_id, in_a) == [log_b]
    assert store.get_logs([log_b], Scope(namespace="tenant-b")) != []


def test_a_global_id_is_not_moved_between_tenants(store: PostgresRuleStore) -> None:
    rule = make_rule(1, make_log(1, namespace="tenant-a"))
    store.upsert_rules([rule])
    moved = rule.model_copy(update={"namespace": "tenant-b", "rationale": "stolen"})
    with pytest.raises(NamespaceConflictError, match=rf"rule '{rule.id}' is stored in namespace 'tenant-a'"):
        store.upsert_rules([make_rule(2, make_log(2, namespace="tenant-b")), moved])
    assert store.get_rules([rule.id]) == [rule]
    assert store.list_rules(Scope(namespace="tenant-b")) == []  # the batch's other rule did not land either


# ----------------------------------------------------------------------------------------------- bulk writes


def test_bulk_add_logs_is_a_few_statements(store: PostgresRuleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 logs in one call: all stored, in a handful of statements per 1,000 (not one per log)."""
    logs = [simple_log(f"bulk-{i:05d}", user_id=f"user-{i % 7}") for i in range(5_000)]
    statements: list[str] = []
    original = store._fetch

    def counting_fetch(query: str, params: Any = (), *, rows: bool = True) -> list[Any]:
        statements.append(query)
        return original(query, params, rows=rows)

    monkeypatch.setattr(store, "_fetch", counting_fetch)
    result = store.add_logs(logs)
    assert result.inserted == [log.id for log in logs]
    assert len(statements) <= 2 * 5  # one lookup and one insert per page of 1,000
    monkeypatch.undo()
    assert store.count_logs() == 5_000
    assert store.count_logs(Scope(user_id="user-3")) == len([i for i in range(5_000) if i % 7 == 3])
    again = store.add_logs([*logs[:10], simple_log("bulk-00000", text="other content")])
    assert (len(again.inserted), len(again.duplicates), [c.position for c in again.conflicts]) == (0, 10, [10])


def test_bulk_upsert_rules_writes_provenance_in_bulk(store: PostgresRuleStore, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = [make_log(i) for i in range(300)]
    store.add_logs(logs)
    rules = [make_rule(i, log) for i, log in enumerate(logs)]
    statements: list[str] = []
    original = store._fetch

    def counting_fetch(query: str, params: Any = (), *, rows: bool = True) -> list[Any]:
        statements.append(query)
        return original(query, params, rows=rows)

    monkeypatch.setattr(store, "_fetch", counting_fetch)
    store.upsert_rules(rules)
    assert len(statements) == 3  # upsert, clear provenance, insert provenance
    monkeypatch.undo()
    assert store.rule_ids_for_logs([log.id for log in logs]) == sorted(rule.id for rule in rules)
    assert len(store.list_rules(Scope(user_id="alice"))) == 300


# ----------------------------------------------------------------------------------------------- concurrency


def _waiting_on_a_lock(url: str, application_name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
            [application_name],
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize("second_says", ["the same", "something else"])
def test_a_log_committed_by_a_concurrent_writer_is_judged_not_lost(
    url_schema: tuple[str, str], second_says: str
) -> None:
    """The second writer checks before the first commits, then its insert waits on the first's row: once that
    commits, the log is reported as a duplicate (same content) or a conflict (same id, other content)."""
    url, schema = url_schema
    first = simple_log("contested")
    second = first if second_says == "the same" else simple_log("contested", text="else")
    with PostgresRuleStore(url, schema=schema) as writer, PostgresRuleStore(
        url, schema=schema, application_name="uno-second-writer"
    ) as racer:  # fmt: skip
        results: list[Any] = []
        with writer.transaction():
            assert writer.add_logs([first]).inserted == [first.id]
            thread = threading.Thread(target=lambda: results.append(racer.add_logs([second])))
            thread.start()
            wait_until(lambda: _waiting_on_a_lock(url, "uno-second-writer"), "the second writer to wait on the first")
        thread.join(timeout=WAIT_LIMIT_S)
        (result,) = results
        if second_says == "the same":
            assert (result.inserted, result.duplicates, result.conflicts) == ([], [first.id], [])
        else:
            assert (result.inserted, result.duplicates, [c.log_id for c in result.conflicts]) == ([], [], [first.id])
        assert racer.get_logs([first.id]) == [first]


def test_another_thread_never_reads_an_open_transaction(store: PostgresRuleStore) -> None:
    writing, committed = threading.Event(), threading.Event()
    seen: list[int] = []

    def reader() -> None:
        writing.wait()
        seen.append(store.count_logs())
        committed.wait()
        seen.append(store.count_logs())

    thread = threading.Thread(target=reader)
    thread.start()
    with store.transaction():
        store.add_logs([simple_log("pending")])
        writing.set()
        wait_until(lambda: len(seen) == 1, "the reader's first count")
    committed.set()
    thread.join(timeout=WAIT_LIMIT_S)
    assert seen == [0, 1]


def test_threads_sharing_a_store_lose_nothing(store: PostgresRuleStore) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(prefix: str) -> None:
        try:
            start.wait()
            for batch in range(10):
                logs = [simple_log(f"{prefix}-{batch}-{i}", user_id=prefix) for i in range(20)]
                with store.transaction():
                    store.add_logs(logs)
                    rule = make_rule(batch, logs[0]).model_copy(update={"id": f"rule-{prefix}-{batch}"})
                    store.upsert_rules([rule])
                    store.set_meta(f"last-{prefix}", str(batch))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_LIMIT_S)
    assert errors == []
    assert store.count_logs() == 800
    assert store.count_logs(Scope(user_id="t2")) == 200
    assert len(store.list_rules()) == 40
    assert {store.get_meta(f"last-t{n}") for n in range(4)} == {"9"}


# ----------------------------------------------------------------------------------------------- build leases

_LEASE_HOLDER_CHILD = """
import sys, time
from rule_store.postgres import PostgresRuleStore

store = PostgresRuleStore(sys.argv[1], schema=sys.argv[2])
with store.build_lease(sys.argv[3]):
    print("held", flush=True)
    time.sleep(600)
"""


def _start_lease_holder(url: str, schema: str, name: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _LEASE_HOLDER_CHILD, url, schema, name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if line.strip() != "held":
        child.kill()
        _, errors = child.communicate(timeout=WAIT_LIMIT_S)
        pytest.fail(f"the lease holder did not start: {errors}")
    return child


def _lease_free(store: PostgresRuleStore, name: str) -> bool:
    try:
        with store.build_lease(name):
            return True
    except LeaseHeld:
        return False


@pytest.mark.slow
def test_a_lease_held_by_another_process_is_refused_and_freed_when_it_is_killed(
    store: PostgresRuleStore, url_schema: tuple[str, str]
) -> None:
    url, schema = url_schema
    child = _start_lease_holder(url, schema, "build:tenant-a")
    try:
        with pytest.raises(LeaseHeld) as refused, store.build_lease("build:tenant-a"):
            pytest.fail("a lease held by another process was granted")
        assert f"pid {child.pid}" in refused.value.holder
        with store.build_lease("build:tenant-b"):
            pass
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=WAIT_LIMIT_S)
        assert child.returncode == -signal.SIGKILL
        # The server ends the killed client's session when it reads the closed socket: wait for that, no longer.
        wait_until(lambda: _lease_free(store, "build:tenant-a"), "the killed holder's lease to be released")
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate(timeout=WAIT_LIMIT_S)


def test_leases_of_two_schemas_are_independent(url_schema: tuple[str, str], postgres_url: str) -> None:
    from rule_store.testing_postgres import temporary_schema

    url, schema = url_schema
    with (
        temporary_schema(postgres_url) as other_schema,
        PostgresRuleStore(url, schema=schema) as first,
        PostgresRuleStore(url, schema=other_schema) as second,
        first.build_lease("build:tenant-a"),
        second.build_lease("build:tenant-a"),
        pytest.raises(LeaseHeld, match="server pid"),
        first.build_lease("build:tenant-a"),
    ):
        pytest.fail("a held lease was granted again")
