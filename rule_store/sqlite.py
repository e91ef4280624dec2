"""``SQLiteRuleStore``: the embedded, single-file :class:`~rule_store.protocol.RuleStore`.

Design choices, and why:

* **JSON body plus indexed columns.** Each record is stored whole, as its pydantic JSON
  (``model_dump_json``), in a ``body`` column and read back with ``model_validate_json``: every field
  (datetimes, the feedback union, nested evidence) round-trips exactly, and a new optional field on a record
  needs no migration. The few values that reads filter, join or sort on (namespace, user_id, status,
  cluster_id, timestamp, source log ids) are copied into indexed columns, written from the same record in the
  same statement, so they cannot drift from the body.
* **Provenance and source links are tables, not JSON.** ``provenance (rule_id, log_id, user_id)``,
  ``experience_sources`` and ``adapter_sources`` make "rules from these logs", "rules of this user" and
  "forget this log" joins.
* **WAL, synchronous=NORMAL.** Readers never block the writer nor the writer them, so a server and a CLI can
  share one file; NORMAL is crash-safe in WAL mode (a power cut may lose the last commits, never corrupts).
* **One connection, one lock, explicit transactions.** The connection is in autocommit mode and every write
  runs in ``BEGIN IMMEDIATE``: taking the write lock up front makes a writer wait (busy timeout) instead of
  failing half-way with "database is locked". Threads share the connection (``check_same_thread=False``)
  behind a re-entrant lock that a transaction holds until it ends, so another thread never sees, nor joins,
  uncommitted writes. Other processes open their own connection and SQLite serialises their writes.
* **Nested transactions are savepoints.** ``transaction()`` inside ``transaction()`` joins the outer one:
  nothing is committed before the outermost block ends; an inner block that raises undoes only its writes.
* **Log ids are unique per namespace** (schema version 4): two tenants may use the same log id, and neither can
  learn nor block the other's ids. Records derived from a log carry its namespace, so every join from them to
  ``logs`` matches the namespace as well as the id. A log id stored with different content in the same
  namespace is a conflict (reported, never silently dropped). Other record ids (rules, clusters, adapters, ...)
  are derived by uno and stay global; writing one under another namespace raises
  :class:`NamespaceConflictError` instead of moving data between tenants.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import sqlite_utils
from pydantic import BaseModel

from rule_store.lease import LocalLeases, file_lease
from rule_store.migrations import LATEST_VERSION, apply_migrations, current_version
from rule_store.protocol import ALL, AddResult, IdConflict, Scope
from rule_store.records import (
    Adapter,
    Cluster,
    Experience,
    HindsightExample,
    LogRecord,
    LogVerdict,
    PreferencePair,
    QuarantineRecord,
    Rule,
    RuleChange,
)
from rule_store.sql_common import SQLStoreBase, _checked, _Where, user_conditions

MEMORY = ":memory:"
# Rows per round trip of ``iter_logs`` and ``add_logs``; ids per ``IN (...)`` (well under SQLite's limit).
PAGE_SIZE = 500
_IDS_PER_QUERY = 500
_DEFAULT_BUSY_TIMEOUT_S = 30.0

RecordT = TypeVar("RecordT", bound=BaseModel)


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


IdentifiedT = TypeVar("IdentifiedT", bound=_Identified)


class StoreClosedError(RuntimeError):
    """A method was called on a store after ``close()``."""


class NamespaceConflictError(ValueError):
    """A record id that is already stored under one namespace was written under another."""


class SQLiteRuleStore(SQLStoreBase):
    """A :class:`~rule_store.protocol.RuleStore` in one SQLite file (or ``":memory:"``).

    Safe to share between threads, and for several processes to open the same file. Lists are ordered by id;
    ``iter_logs`` and ``log_ids_for_user`` by timestamp, then id. Naive datetimes are taken to be UTC.
    """

    _PARAM = "?"
    _USER_CONDITIONS = user_conditions("?")
    _ADD_LOGS_PAGE_SIZE = PAGE_SIZE

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout_s: float = _DEFAULT_BUSY_TIMEOUT_S) -> None:
        self._path = MEMORY if str(path) == MEMORY else str(Path(path).expanduser())
        self._lock = threading.RLock()
        self._depth = 0  # transaction nesting of the thread holding ``_lock``
        self._conn: sqlite3.Connection | None = _connect(self._path, busy_timeout_s)
        try:
            apply_migrations(self._conn)
        except BaseException:
            self._conn.close()
            raise
        self._db = sqlite_utils.Database(self._conn, recursive_triggers=False, execute_plugins=False)
        # Only this object sees an in-memory database: its leases need no lock file.
        self._local_leases = LocalLeases() if self._path == MEMORY else None

    def __repr__(self) -> str:
        return f"SQLiteRuleStore({self._path!r})"

    # ------------------------------------------------------------------------------------------- lifecycle

    @property
    def path(self) -> str:
        """The database file, or ``":memory:"``."""
        return self._path

    def close(self) -> None:
        """Close the connection; later calls do nothing."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them land, or none. Nested calls join the outer one (as savepoints)."""
        with self._lock:
            conn = self._connection()
            if self._depth == 0:
                conn.execute("BEGIN IMMEDIATE")
                self._depth = 1
                try:
                    yield
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                finally:
                    self._depth = 0
            else:
                savepoint = f"uno_nested_{self._depth}"
                conn.execute(f"SAVEPOINT {savepoint}")
                self._depth += 1
                try:
                    yield
                    conn.execute(f"RELEASE {savepoint}")
                except BaseException:
                    # A failed COMMIT-time constraint can already have ended the transaction.
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO {savepoint}")
                        conn.execute(f"RELEASE {savepoint}")
                    raise
                finally:
                    self._depth -= 1

    def build_lease(self, name: str) -> AbstractContextManager[None]:
        """Lease ``name`` for every process sharing this file (an OS lock on a file beside the database, dropped
        by the OS if the holder dies); ``LeaseHeld`` at once when it is held. See :mod:`rule_store.lease`."""
        self._connection()  # a closed store refuses, like every other method
        if self._local_leases is not None:
            return self._local_leases.lease(name)
        return file_lease(self._path, name)

    @property
    def schema_version(self) -> int:
        with self._lock:
            return current_version(self._connection())

    # ------------------------------------------------------------------------------------------------ logs

    def _add_log_page(self, page: list[LogRecord], offset: int) -> AddResult:
        hashes = [log.content_hash() for log in page]
        stored_by_key: dict[tuple[str, str], str] = {
            (namespace, log_id): content_hash
            for log_id, namespace, content_hash in self._select_in(
                "id, namespace, content_hash", "logs", "id", [log.id for log in page]
            )
        }
        stored_hashes = {
            (namespace, content_hash)
            for namespace, content_hash in self._select_in("namespace, content_hash", "logs", "content_hash", hashes)
        }
        added: dict[tuple[str, str], LogRecord] = {}  # this page's new logs, for ids repeated within it
        result = AddResult()
        rows: list[dict[str, Any]] = []
        for position, (log, content_hash) in enumerate(zip(page, hashes, strict=True), start=offset):
            key = (log.namespace, log.id)
            if key in stored_by_key:
                if stored_by_key[key] == content_hash or log.restates(self._held_log(key, added)):
                    result.duplicates.append(log.id)
                else:
                    result.conflicts.append(_id_conflict(position, log))
                continue
            if (log.namespace, content_hash) in stored_hashes:
                result.duplicates.append(log.id)
                continue
            stored_by_key[key] = content_hash
            added[key] = log
            stored_hashes.add((log.namespace, content_hash))
            rows.append(_log_row(log, content_hash))
            result.inserted.append(log.id)
        if rows:
            # One prepared statement for the page (sqlite-utils' insert_all rebuilds SQL and JSON-checks every value).
            self._connection().executemany(_INSERT_LOG, [tuple(row[c] for c in _LOG_COLUMNS) for row in rows])
        return result

    def _held_log(self, key: tuple[str, str], added: dict[tuple[str, str], LogRecord]) -> LogRecord:
        """The log stored (or being added in this page) under (namespace, id)."""
        if key in added:
            return added[key]
        (body,) = self._fetch("SELECT body FROM logs WHERE namespace = ? AND id = ?", list(key))[0]
        return LogRecord.model_validate_json(body)

    def update_log(self, log: LogRecord) -> None:
        """Replace a stored log's body (new feedback arrived); unprocessed again, so the next build re-distils it."""
        (checked,) = _checked([log], LogRecord, "update_log")
        with self.transaction():
            rows = self._fetch("SELECT 1 FROM logs WHERE namespace = ? AND id = ?", [checked.namespace, checked.id])
            if not rows:
                raise KeyError(f"no log {checked.id!r} in namespace {checked.namespace!r} to update")
            row = _log_row(checked, checked.content_hash())
            self._execute(
                "UPDATE logs SET user_id = ?, content_hash = ?, timestamp = ?, processed = 0, edit_cost = ?, body = ? "
                "WHERE namespace = ? AND id = ?",
                [
                    row["user_id"],
                    row["content_hash"],
                    row["timestamp"],
                    row["edit_cost"],
                    row["body"],
                    checked.namespace,
                    checked.id,
                ],
            )

    def iter_logs(self, scope: Scope = ALL, *, processed: bool | None = None) -> Iterator[LogRecord]:
        """All logs in scope, oldest first (ties by id), fetched a page at a time.

        No lock is held between pages, so the caller may write to the store while iterating (for instance mark
        each log processed); paging by (timestamp, id) rather than OFFSET keeps that correct.
        """
        where = self._logs_where(scope, processed)
        after: tuple[str, str] | None = None
        while True:
            page_where = where.copy()
            if after is not None:
                page_where.add("(timestamp, id) > (?, ?)", *after)
            rows = self._fetch(
                f"SELECT timestamp, id, body FROM logs{page_where.sql} ORDER BY timestamp, id LIMIT ?",
                [*page_where.params, PAGE_SIZE],
            )
            for _, _, body in rows:
                yield LogRecord.model_validate_json(body)
            if len(rows) < PAGE_SIZE:
                return
            after = (rows[-1][0], rows[-1][1])

    def mark_processed(self, ids: Sequence[str], processed: bool = True, *, namespace: str | None = None) -> None:
        """Mark logs (of ``namespace`` only, when given: another tenant may use the same ids) processed."""
        in_namespace = " AND namespace = ?" if namespace is not None else ""
        with self.transaction():
            for chunk in _chunks(_id_list(ids, "mark_processed"), _IDS_PER_QUERY):
                self._execute(
                    f"UPDATE logs SET processed = ? WHERE id IN ({_marks(chunk)}){in_namespace}",
                    [int(processed), *chunk, *([namespace] if namespace is not None else [])],
                )

    def delete_logs(self, ids: Sequence[str], scope: Scope = ALL) -> list[str]:
        """Delete the logs in scope with these ids, their provenance rows and verdicts; return those deleted.

        Rules citing the logs stay (their evidence still names them): re-scoring them is the caller's call.
        ``adapter_sources`` rows stay too: weights cannot unlearn a log, so an adapter keeps the ids of what it
        was trained on as an audit trail, and the forget flow finds the adapters to mark stale through them.
        """
        wanted = _id_list(ids, "delete_logs")
        with self.transaction():
            by_namespace: dict[str, list[str]] = {}
            for namespace, log_id in self._select_in("namespace, id", "logs", "id", wanted, scope):
                by_namespace.setdefault(namespace, []).append(log_id)
            for namespace, found in sorted(by_namespace.items()):
                # Only this namespace's rows: another tenant may hold logs (and rules citing them) with these ids.
                for chunk in _chunks(sorted(found), _IDS_PER_QUERY):
                    marks = _marks(chunk)
                    self._execute(f"DELETE FROM logs WHERE namespace = ? AND id IN ({marks})", [namespace, *chunk])
                    self._execute(
                        f"DELETE FROM provenance WHERE log_id IN ({marks}) "
                        "AND rule_id IN (SELECT id FROM rules WHERE namespace = ?)",
                        [*chunk, namespace],
                    )
                    self._execute(
                        f"DELETE FROM verdicts WHERE namespace = ? AND log_id IN ({marks})", [namespace, *chunk]
                    )
                    # Not adapter_sources: an adapter's links to its training logs outlive them (see above).
        found_ids = {log_id for ids_found in by_namespace.values() for log_id in ids_found}
        return [log_id for log_id in wanted if log_id in found_ids]

    def _logs_where(self, scope: Scope, processed: bool | None) -> _Where:
        where = self._scoped("logs", scope)
        if processed is not None:
            where.add("processed = ?", int(processed))
        return where

    # ----------------------------------------------------------------------------------------------- rules

    def upsert_rules(self, rules: Iterable[Rule]) -> None:
        """Insert or replace rules by id, and rewrite each one's provenance rows from its ``evidence``.

        A provenance row takes its user from the evidence, else from the cited log when this store has it.
        """
        latest = _latest_by_id(_checked(rules, Rule, "upsert_rules"))
        if not latest:
            return
        with self.transaction():
            self._claim_ids("rules", "id", {r.id: r.namespace for r in latest}, "rule")
            self._upsert_rows("rules", "id", [_rule_row(rule) for rule in latest])
            rule_ids = [rule.id for rule in latest]
            for chunk in _chunks(rule_ids, _IDS_PER_QUERY):
                self._execute(f"DELETE FROM provenance WHERE rule_id IN ({_marks(chunk)})", chunk)
            cited = sorted({e.log_id for rule in latest for e in rule.evidence})
            users_by_namespace: dict[str, dict[str, str | None]] = {}
            for namespace, log_id, user_id in self._select_in("namespace, id, user_id", "logs", "id", cited):
                users_by_namespace.setdefault(namespace, {})[log_id] = user_id
            rows = [
                row for rule in latest for row in _provenance_rows(rule, users_by_namespace.get(rule.namespace, {}))
            ]
            if rows:
                self._db.table("provenance").insert_all(rows, batch_size=300)

    def add_rule_changes(self, items: Iterable[RuleChange]) -> None:
        """Append history entries in the order given; ids already stored are skipped."""
        changes = list(_checked(items, RuleChange, "add_rule_changes"))
        if not changes:
            return
        with self.transaction():
            for change in changes:
                self._execute(
                    "INSERT OR IGNORE INTO rule_history (id, rule_id, namespace, at, body) VALUES (?, ?, ?, ?, ?)",
                    [change.id, change.rule_id, change.namespace, _utc_iso(change.at), change.model_dump_json()],
                )

    def rule_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Rules with at least one piece of evidence from these logs, sorted."""
        rows = self._select_in("DISTINCT rule_id", "provenance", "log_id", _id_list(log_ids, "rule_ids_for_logs"))
        return sorted({row[0] for row in rows})

    # --------------------------------------------------------------------------------------------- derived

    def upsert_experiences(self, items: Iterable[Experience]) -> None:
        """Insert or replace experiences by id, and rewrite their links to their source logs."""
        latest = _latest_by_id(_checked(items, Experience, "upsert_experiences"))
        if not latest:
            return
        with self.transaction():
            self._claim_ids("experiences", "id", {e.id: e.namespace for e in latest}, "experience")
            self._upsert_rows("experiences", "id", [_derived_row(item, item.cluster_id) for item in latest])
            ids = [item.id for item in latest]
            for chunk in _chunks(ids, _IDS_PER_QUERY):
                self._execute(f"DELETE FROM experience_sources WHERE experience_id IN ({_marks(chunk)})", chunk)
            links = [
                {"experience_id": item.id, "log_id": log_id}
                for item in latest
                for log_id in sorted(set(item.source_log_ids))
            ]
            if links:
                self._db.table("experience_sources").insert_all(links, batch_size=400)

    def upsert_preference_pairs(self, items: Iterable[PreferencePair]) -> None:
        latest = _latest_by_id(_checked(items, PreferencePair, "upsert_preference_pairs"))
        rows = [{**_derived_row(item, item.cluster_id), "source_log_id": item.source_log_id} for item in latest]
        self._claim_and_upsert("preference_pairs", "id", rows, "preference pair")

    def upsert_hindsight(self, items: Iterable[HindsightExample]) -> None:
        latest = _latest_by_id(_checked(items, HindsightExample, "upsert_hindsight"))
        rows = [{**_derived_row(item, item.cluster_id), "source_log_id": item.source_log_id} for item in latest]
        self._claim_and_upsert("hindsight", "id", rows, "hindsight example")

    # -------------------------------------------------------------------------------------------- clusters

    def upsert_clusters(self, items: Iterable[Cluster]) -> None:
        latest = _latest_by_id(_checked(items, Cluster, "upsert_clusters"))
        rows = [{"id": c.id, "namespace": c.namespace, "body": c.model_dump_json()} for c in latest]
        self._claim_and_upsert("clusters", "id", rows, "cluster")

    # -------------------------------------------------------------------------------------------- adapters

    def upsert_adapters(self, items: Iterable[Adapter]) -> None:
        """Insert or replace adapters by id, and rewrite their links to their source logs."""
        latest = _latest_by_id(_checked(items, Adapter, "upsert_adapters"))
        if not latest:
            return
        with self.transaction():
            self._claim_ids("adapters", "id", {a.id: a.namespace for a in latest}, "adapter")
            self._upsert_rows("adapters", "id", [_adapter_row(adapter) for adapter in latest])
            ids = [adapter.id for adapter in latest]
            for chunk in _chunks(ids, _IDS_PER_QUERY):
                self._execute(f"DELETE FROM adapter_sources WHERE adapter_id IN ({_marks(chunk)})", chunk)
            links = [
                {"adapter_id": adapter.id, "log_id": log_id}
                for adapter in latest
                for log_id in sorted(set(adapter.source_log_ids))
            ]
            if links:
                self._db.table("adapter_sources").insert_all(links, batch_size=400)

    def _where_in(self, where: _Where, column: str, values: list[str]) -> None:
        where.add(f"{column} IN ({_marks(values)})", *values)

    def adapter_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Adapters trained on any of these logs, sorted (deleted logs included: see ``delete_logs``)."""
        wanted = _id_list(log_ids, "adapter_ids_for_logs")
        rows = self._select_in("DISTINCT adapter_id", "adapter_sources", "log_id", wanted)
        return sorted({row[0] for row in rows})

    # -------------------------------------------------------------------------------------------- verdicts

    def upsert_verdicts(self, items: Iterable[LogVerdict]) -> None:
        """Store one verdict per log, replacing the previous one."""
        latest = list({(v.namespace, v.log_id): v for v in _checked(items, LogVerdict, "upsert_verdicts")}.values())
        if not latest:
            return
        rows = [
            {
                "log_id": v.log_id,
                "namespace": v.namespace,
                "verdict": v.verdict.value,
                "body": v.model_dump_json(),
            }
            for v in latest
        ]
        with self.transaction():
            # Keyed by (namespace, log_id), like the logs they judge: no claim across namespaces to check.
            self._db.table("verdicts").upsert_all(rows, pk=("namespace", "log_id"), batch_size=100)

    # ------------------------------------------------------------------------------------------ quarantine

    def add_quarantine(self, items: Iterable[QuarantineRecord]) -> None:
        """Store quarantined inputs; adding the same record (same id) again replaces it."""
        latest = _latest_by_id(_checked(items, QuarantineRecord, "add_quarantine"))
        rows = [{"id": q.id, "namespace": q.namespace, "source": q.source, "body": q.model_dump_json()} for q in latest]
        self._claim_and_upsert("quarantine", "id", rows, "quarantine record")

    # ----------------------------------------------------------------------------------------- meta, stats

    def _write_meta(self, key: str, value: str) -> None:
        self._upsert_rows("meta", "key", [{"key": key, "value": value}])

    # ------------------------------------------------------------------------------------- backup, restore

    def backup(self, destination: str | os.PathLike[str]) -> Path:
        """Copy the whole database to ``destination`` with SQLite's online backup API (readers and writers of
        this store may keep going). Written through a scratch file, so a failed backup leaves no partial file."""
        target = Path(destination).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(target.name + ".partial")
        scratch.unlink(missing_ok=True)
        copy = sqlite3.connect(scratch)
        try:
            with self._lock:
                self._connection().backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        except BaseException:
            copy.close()
            scratch.unlink(missing_ok=True)
            raise
        copy.close()
        os.replace(scratch, target)
        return target

    def restore(self, source: str | os.PathLike[str]) -> None:
        """Replace this store's whole content with the backup at ``source`` (online backup API, one step).

        The source is checked first: it must be an uno store this version can open (newer ones are refused).
        Raises ``ValueError`` naming the reason when it is not.
        """
        origin = Path(source).expanduser()
        if not origin.is_file():
            raise ValueError(f"no backup file at {origin}")
        with closing(sqlite3.connect(f"file:{origin}?mode=ro", uri=True)) as backup:
            try:
                version = current_version(backup)
            except sqlite3.DatabaseError as error:
                raise ValueError(f"{origin} is not an SQLite database ({error})") from None
            if version == 0:
                raise ValueError(f"{origin} is not an uno store (it has no schema_version table)")
            if version > LATEST_VERSION:
                raise ValueError(f"{origin} was written by a newer uno (schema {version}): upgrade uno to restore it")
            with self._lock:
                if self._depth:
                    raise RuntimeError("restore cannot run inside a transaction")
                backup.backup(self._connection())
        apply_migrations(self._connection())

    # -------------------------------------------------------------------------------------------- plumbing

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreClosedError(f"{self!r} is closed")
        return self._conn

    def _fetch(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            self._connection()
            return self._db.execute(sql, list(params)).fetchall()

    def _execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a write statement: only ever called inside ``transaction()``."""
        self._connection().execute(sql, list(params))

    @contextmanager
    def _read_snapshot(self) -> Iterator[None]:
        """Make several reads see one state of the database (inside a write transaction they already do)."""
        with self._lock:
            conn = self._connection()
            if self._depth > 0:
                yield
                return
            conn.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                conn.execute("COMMIT")

    def _select_in(
        self,
        columns: str,
        table: str,
        key: str,
        ids: Sequence[str],
        scope: Scope | None = None,
        *,
        order_by: str | None = None,
    ) -> list[Any]:
        """``SELECT columns FROM table WHERE key IN ids``, chunk by chunk, within ``scope`` if given."""
        rows: list[Any] = []
        order = f" ORDER BY {order_by}" if order_by else ""
        for chunk in _chunks(sorted(set(ids)), _IDS_PER_QUERY):
            where = self._scoped(table, scope) if scope is not None else _Where()
            where.add(f"{table}.{key} IN ({_marks(chunk)})", *chunk)
            rows.extend(self._fetch(f"SELECT {columns} FROM {table}{where.sql}{order}", where.params))
        return rows

    def _get_by_ids(
        self, table: str, key: str, ids: Sequence[str], scope: Scope, model: type[RecordT]
    ) -> list[RecordT]:
        wanted = _id_list(ids, f"get from {table}")
        # Several rows per id only for logs and verdicts read without a namespace (their ids are per namespace).
        bodies: dict[str, list[str]] = {}
        for record_id, body in self._select_in(f"{key}, body", table, key, wanted, scope, order_by="namespace"):
            bodies.setdefault(record_id, []).append(body)
        return [model.model_validate_json(body) for i in wanted for body in bodies.get(i, [])]

    def _delete(self, table: str, key: str, ids: Sequence[str], method: str) -> None:
        with self.transaction():
            for chunk in _chunks(_id_list(ids, method), _IDS_PER_QUERY):
                self._execute(f"DELETE FROM {table} WHERE {key} IN ({_marks(chunk)})", chunk)

    def _upsert_rows(self, table: str, key: str, rows: list[dict[str, Any]]) -> None:
        self._db.table(table).upsert_all(rows, pk=key, batch_size=100)

    def _claim_and_upsert(self, table: str, key: str, rows: list[dict[str, Any]], kind: str) -> None:
        if not rows:
            return
        with self.transaction():
            self._claim_ids(table, key, {row[key]: row["namespace"] for row in rows}, kind)
            self._upsert_rows(table, key, rows)

    def _claim_ids(self, table: str, key: str, namespaces: dict[str, str], kind: str) -> None:
        """Refuse to re-write a stored id under another namespace (that would move data between tenants)."""
        stored = self._select_in(f"{key}, namespace", table, key, list(namespaces))
        for record_id, owner in stored:
            if owner != namespaces[record_id]:
                raise NamespaceConflictError(
                    f"{kind} {record_id!r} is stored in namespace {owner!r}; it cannot be re-written under "
                    f"namespace {namespaces[record_id]!r} (ids are global: make them unique per namespace)"
                )


# ------------------------------------------------------------------------------------------------ helpers


def _connect(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    """Open a connection in autocommit mode (we issue BEGIN/COMMIT ourselves) with the store's pragmas."""
    if path != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if path != MEMORY:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"could not switch {path} to WAL mode (it stays in {mode!r} mode)")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _utc_iso(moment: datetime) -> str:
    """UTC ISO-8601, microseconds and offset: fixed width, so text order is time order. Naive means UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


_LOG_COLUMNS = ("id", "namespace", "user_id", "content_hash", "timestamp", "processed", "edit_cost", "body")
_INSERT_LOG = f"INSERT INTO logs ({', '.join(_LOG_COLUMNS)}) VALUES ({', '.join('?' * len(_LOG_COLUMNS))})"


def _log_row(log: LogRecord, content_hash: str) -> dict[str, Any]:
    return {
        "id": log.id,
        "namespace": log.namespace,
        "user_id": log.user_id,
        "content_hash": content_hash,
        "timestamp": _utc_iso(log.timestamp),
        "processed": 0,
        "edit_cost": log.edit_cost(),
        "body": log.model_dump_json(),
    }


def _id_conflict(position: int, log: LogRecord) -> IdConflict:
    return IdConflict(
        position=position,
        log_id=log.id,
        reason=(
            f"log id {log.id!r} is already stored in namespace {log.namespace!r} with a different conversation: "
            "not added (give this log another id, or none to derive one from its content)"
        ),
    )


def _rule_row(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "namespace": rule.namespace,
        "status": rule.status.value,
        "cluster_id": rule.cluster_id,
        "body": rule.model_dump_json(),
    }


def _adapter_row(adapter: Adapter) -> dict[str, Any]:
    return {
        "id": adapter.id,
        "namespace": adapter.namespace,
        "cluster_id": adapter.cluster_id,
        "kind": adapter.kind.value,
        "status": adapter.status.value,
        "base_model": adapter.base_model,
        "version": adapter.version,
        "body": adapter.model_dump_json(),
    }


def _derived_row(item: Experience | PreferencePair | HindsightExample, cluster_id: str | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "namespace": item.namespace,
        "cluster_id": cluster_id,
        "body": item.model_dump_json(),
    }


def _provenance_rows(rule: Rule, log_users: dict[str, str | None]) -> list[dict[str, Any]]:
    """One row per cited log; its user is the first evidence user given for that log, else the log's own."""
    users: dict[str, str | None] = {}
    for evidence in rule.evidence:
        if users.get(evidence.log_id) is None:
            users[evidence.log_id] = evidence.user_id
    return [
        {"rule_id": rule.id, "log_id": log_id, "user_id": user if user is not None else log_users.get(log_id)}
        for log_id, user in users.items()
    ]


def _latest_by_id(items: Iterable[IdentifiedT]) -> list[IdentifiedT]:
    """One record per id, the last one given winning (as if they had been upserted one by one)."""
    return list({item.id: item for item in items}.values())


def _id_list(ids: Sequence[str], method: str) -> list[str]:
    """The ids, each once, in the order given; a bare string is refused (it would read as its characters)."""
    if isinstance(ids, str):
        raise TypeError(f"{method}: ids must be a sequence of ids, not the single string {ids!r}")
    return list(dict.fromkeys(ids))


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
