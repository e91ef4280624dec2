"""``PostgresRuleStore``: the :class:`~rule_store.protocol.RuleStore` for several processes and machines.

The records, the semantics and the schema versions are those of :class:`~rule_store.sqlite.SQLiteRuleStore`
(the conformance suite in :mod:`rule_store.testing` runs unchanged on both). Design choices, and why:

* **Text body plus real columns.** Each record is its pydantic JSON in a ``body`` text column; what reads
  filter, join or sort on is a typed column (``timestamptz``, ``boolean``, ``integer``). ``text`` rather than
  ``jsonb``: see :mod:`rule_store.postgres_migrations` (NaN in adapter metrics, exact round trips).
* **A connection pool, and one pinned connection per open transaction.** ``psycopg_pool.ConnectionPool``
  lends a connection (in autocommit mode) to each statement. ``transaction()`` borrows one for the whole
  block and pins it to the calling thread (a ``threading.local``: a context variable would follow a copied
  context into a worker thread, and a connection must not be used by two threads at once); every call the
  thread makes inside the block uses it, so its writes group, and nested blocks are savepoints (psycopg's
  nested ``Connection.transaction``). Other threads keep drawing their own connections meanwhile and never see
  uncommitted writes.
* **Bulk statements.** A write is a handful of statements whatever its size: rows travel as arrays and are
  expanded by ``unnest`` (``INSERT ... SELECT * FROM unnest(...) ON CONFLICT ...``), so 5,000 logs are one
  insert, not 5,000 round trips. ``add_logs`` checks ids and content hashes of a page in one query, inserts
  with ``ON CONFLICT DO NOTHING RETURNING`` and re-classifies the (rare) rows a concurrent writer committed
  first, so concurrent writers never fail on a unique violation and never drop a conflict silently.
* **Tenancy in every statement.** A scoped read puts ``namespace = %s`` (and the user join) in its WHERE
  clause; nothing is filtered in Python after fetching. Row-level security was considered and not used: it does
  not apply to superusers nor (without ``FORCE``) to the tables' owner, which is the role uno connects as, so it
  would guard nothing in the usual deployment; and the protocol's admin scope (``Scope(namespace=None)``) and
  namespace-less reads by id (``get_logs`` returns the log of every namespace holding the id) need a bypass
  that would itself be a session setting to trust. Explicit conditions keep the one code path the conformance
  suite checks, and ``tests/rule_store/test_postgres_store.py`` checks that scoped reads fetch no other
  tenant's row.
* **Namespace claims in SQL.** An upsert of a globally keyed record (rule, cluster, adapter, ...) only updates
  a stored row of the same namespace (``ON CONFLICT ... DO UPDATE ... WHERE namespace = EXCLUDED.namespace``);
  a row it could not claim raises :class:`~rule_store.sqlite.NamespaceConflictError`, in one statement, so two
  tenants racing for an id cannot move data between them.
* **Build leases are session advisory locks** on a connection of their own, held for the block: PostgreSQL
  drops them when the holder's session ends, so a killed build never leaves a stale lease.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from rule_store.protocol import ALL, AddResult, LeaseHeld, Scope
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
from rule_store.sqlite import (
    NamespaceConflictError,
    StoreClosedError,
    _id_conflict,
    _id_list,
    _latest_by_id,
)

try:
    import psycopg
    from psycopg import sql
    from psycopg.rows import TupleRow
    from psycopg_pool import ConnectionPool
except ModuleNotFoundError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        f"PostgresRuleStore needs the [postgres] extra ({error.name} is not installed): "
        "pip install 'uno-memory[postgres]'",
        name=error.name,
    ) from error

from rule_store.postgres_migrations import advisory_key, apply_migrations, current_version

Conn = psycopg.Connection[TupleRow]
RecordT = TypeVar("RecordT", bound=BaseModel)

# Logs per page of ``add_logs`` (one lookup and one insert each) and of ``iter_logs``.
PAGE_SIZE = 1000
_ITER_PAGE_SIZE = 500
_DEFAULT_POOL_SIZE = 10
_DEFAULT_POOL_TIMEOUT_S = 30.0
_DEFAULT_CONNECT_TIMEOUT_S = 10
# PostgreSQL truncates identifiers longer than this many bytes: refuse such a schema name instead.
_MAX_IDENTIFIER_BYTES = 63


@dataclass(frozen=True)
class _Table:
    """How one kind of record is written: its table, key columns and (column, PostgreSQL type) pairs."""

    name: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    # Set for tables with a global id owned by one namespace: the noun used in NamespaceConflictError.
    claimed_as: str | None = None


_TEXT = "text"
_RULES = _Table(
    "rules", ("id",), (("id", _TEXT), ("namespace", _TEXT), ("status", _TEXT), ("cluster_id", _TEXT), ("body", _TEXT)),
    "rule",
)  # fmt: skip
_EXPERIENCES = _Table(
    "experiences", ("id",), (("id", _TEXT), ("namespace", _TEXT), ("cluster_id", _TEXT), ("body", _TEXT)),
    "experience",
)  # fmt: skip
_FROM_LOG = (("id", _TEXT), ("namespace", _TEXT), ("cluster_id", _TEXT), ("source_log_id", _TEXT), ("body", _TEXT))
_PREFERENCE_PAIRS = _Table("preference_pairs", ("id",), _FROM_LOG, "preference pair")
_HINDSIGHT = _Table("hindsight", ("id",), _FROM_LOG, "hindsight example")
_CLUSTERS = _Table("clusters", ("id",), (("id", _TEXT), ("namespace", _TEXT), ("body", _TEXT)), "cluster")
_QUARANTINE = _Table(
    "quarantine", ("id",), (("id", _TEXT), ("namespace", _TEXT), ("source", _TEXT), ("body", _TEXT)),
    "quarantine record",
)  # fmt: skip
_ADAPTERS = _Table(
    "adapters",
    ("id",),
    (
        ("id", _TEXT), ("namespace", _TEXT), ("cluster_id", _TEXT), ("kind", _TEXT), ("status", _TEXT),
        ("base_model", _TEXT), ("version", "integer"), ("body", _TEXT),
    ),
    "adapter",
)  # fmt: skip
_VERDICTS = _Table(
    "verdicts", ("namespace", "log_id"), (("log_id", _TEXT), ("namespace", _TEXT), ("verdict", _TEXT), ("body", _TEXT))
)
_META = _Table("meta", ("key",), (("key", _TEXT), ("value", _TEXT)))
_LOGS = _Table(
    "logs",
    ("namespace", "id"),
    (
        ("id", _TEXT), ("namespace", _TEXT), ("user_id", _TEXT), ("content_hash", _TEXT),
        ("timestamp", "timestamptz"), ("edit_cost", "integer"), ("body", _TEXT),
    ),
)  # fmt: skip


class PostgresRuleStore(SQLStoreBase):
    """A :class:`~rule_store.protocol.RuleStore` in a PostgreSQL database (optionally in one schema of it).

    ``dsn_or_url`` is a libpq URL (``postgresql://user@host:5432/db``) or key=value string. ``schema`` puts every
    table in that schema (created when missing); without it, tables go where the connection's search_path says
    (usually ``public``). Safe to share between threads, and for many processes to open the same database.
    Lists are ordered by id (byte order); ``iter_logs`` and ``log_ids_for_user`` by timestamp, then id.
    """

    _PARAM = "%s"
    _USER_CONDITIONS = user_conditions("%s")
    _ADD_LOGS_PAGE_SIZE = PAGE_SIZE

    def __init__(
        self,
        dsn_or_url: str,
        *,
        schema: str | None = None,
        pool_size: int = _DEFAULT_POOL_SIZE,
        pool_min_size: int = 1,
        pool_timeout_s: float = _DEFAULT_POOL_TIMEOUT_S,
        application_name: str = "uno",
    ) -> None:
        if not isinstance(dsn_or_url, str) or not dsn_or_url.strip():
            raise ValueError("PostgresRuleStore needs a postgresql:// URL or a libpq connection string")
        if schema is not None and not 0 < len(schema.encode("utf-8")) <= _MAX_IDENTIFIER_BYTES:
            raise ValueError(f"schema name {schema!r} must be 1 to {_MAX_IDENTIFIER_BYTES} bytes long")
        if pool_size < 1 or not 0 <= pool_min_size <= pool_size:
            raise ValueError(
                f"need 0 <= pool_min_size <= pool_size and pool_size >= 1, got {pool_min_size}, {pool_size}"
            )
        self._conninfo = dsn_or_url
        self._schema = schema
        self._local = threading.local()  # .conn: the connection pinned by this thread's open transaction
        options: dict[str, Any] = {"autocommit": True, "application_name": application_name[:_MAX_IDENTIFIER_BYTES]}
        if "connect_timeout" not in _conninfo_params(dsn_or_url):  # else libpq waits out the OS's TCP timeout
            options["connect_timeout"] = _DEFAULT_CONNECT_TIMEOUT_S
        # Migrate on a connection of its own first: an unreachable server or a refused schema fails here, at once,
        # with the driver's message (a pool would keep retrying in the background until its timeout).
        with psycopg.connect(dsn_or_url, **options) as conn:
            self._configure(conn)
            apply_migrations(conn, schema)
        self._pool: ConnectionPool[Conn] | None = ConnectionPool(
            dsn_or_url,
            min_size=pool_min_size,
            max_size=pool_size,
            timeout=pool_timeout_s,
            kwargs=options,
            configure=self._configure,
            name=f"uno-{schema or 'default'}",
            open=False,
        )
        self._pool.open()

    def __repr__(self) -> str:
        return f"PostgresRuleStore({_redacted(self._conninfo)!r}, schema={self._schema!r})"

    def _configure(self, conn: Conn) -> None:
        """Run on each new pooled connection: point its search_path at the store's schema."""
        if self._schema is not None:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self._schema)))

    # ------------------------------------------------------------------------------------------- lifecycle

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema holding the tables, or None for the connection's default."""
        return self._schema

    def close(self) -> None:
        """Close every pooled connection; later calls do nothing."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes: all of them land, or none. Nested calls join the outer one (as savepoints)."""
        pinned: Conn | None = getattr(self._local, "conn", None)
        if pinned is not None:
            with pinned.transaction():
                yield
            return
        with self._pinned() as conn, conn.transaction():
            yield

    @contextmanager
    def _pinned(self) -> Iterator[Conn]:
        """Lend this thread one pooled connection for the block: every statement in it (``_connection``) uses it."""
        with self._open_pool().connection() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @property
    def schema_version(self) -> int:
        with self._connection() as conn:
            return current_version(conn)

    @contextmanager
    def build_lease(self, name: str) -> Iterator[None]:
        """Hold lease ``name`` for every process using this database (and schema); :class:`LeaseHeld` at once
        when anyone else holds it, this process included (a lease is not re-entrant).

        A session advisory lock on a connection of its own, held for the block: the server releases it when the
        block ends or when the session does (the holder died, its host vanished: TCP keepalives below).
        """
        if not isinstance(name, str) or not name:
            raise ValueError("build_lease needs a non-empty lease name")
        self._open_pool()
        key = advisory_key("uno.lease", self._schema or "", name)
        holder = f"uno build, pid {os.getpid()} on {socket.gethostname()}"
        conn = psycopg.connect(
            self._conninfo, autocommit=True, application_name=holder.encode("utf-8")[:_MAX_IDENTIFIER_BYTES].decode(
                "utf-8", "ignore"
            )
        )  # fmt: skip
        try:
            # A session on a host that vanished without closing its socket is dropped after about a minute.
            conn.execute("SET tcp_keepalives_idle = 30")
            conn.execute("SET tcp_keepalives_interval = 10")
            conn.execute("SET tcp_keepalives_count = 3")
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
            if row is None or not row[0]:
                raise LeaseHeld(name, _lease_holder(conn, key))
            try:
                yield
            finally:
                with suppress(psycopg.Error):  # when the session is gone, its lock went with it
                    conn.execute("SELECT pg_advisory_unlock(%s)", [key])
        finally:
            conn.close()

    # ------------------------------------------------------------------------------------------------ logs

    def _add_log_page(self, page: list[LogRecord], offset: int) -> AddResult:
        hashes = [log.content_hash() for log in page]
        stored_by_key, stored_hashes = self._stored_log_keys(page, hashes)
        added: dict[tuple[str, str], LogRecord] = {}  # this page's new logs, for ids repeated within it
        outcomes: dict[int, str] = {}  # position -> "inserted" | "duplicate" | "conflict"
        candidates: list[tuple[int, LogRecord, str]] = []
        for position, (log, content_hash) in enumerate(zip(page, hashes, strict=True), start=offset):
            key = (log.namespace, log.id)
            if key in stored_by_key:
                same = stored_by_key[key] == content_hash or log.restates(self._held_log(key, added))
                outcomes[position] = "duplicate" if same else "conflict"
            elif (log.namespace, content_hash) in stored_hashes:
                outcomes[position] = "duplicate"
            else:
                stored_by_key[key] = content_hash
                stored_hashes.add((log.namespace, content_hash))
                added[key] = log
                candidates.append((position, log, content_hash))
        if candidates:
            written = self._insert_logs([(log, content_hash) for _, log, content_hash in candidates])
            for position, log, content_hash in candidates:
                if (log.namespace, log.id) in written:
                    outcomes[position] = "inserted"
                else:  # a concurrent writer committed this id or content first: judge against what it wrote
                    outcomes[position] = self._judge_against_stored(log, content_hash)
        result = AddResult()
        for position, log in enumerate(page, start=offset):
            outcome = outcomes[position]
            if outcome == "inserted":
                result.inserted.append(log.id)
            elif outcome == "duplicate":
                result.duplicates.append(log.id)
            else:
                result.conflicts.append(_id_conflict(position, log))
        return result

    def _stored_log_keys(
        self, page: list[LogRecord], hashes: list[str]
    ) -> tuple[dict[tuple[str, str], str], set[tuple[str, str]]]:
        """The stored logs sharing a (namespace, id) or a (namespace, content hash) with the page, in one query."""
        namespaces = [log.namespace for log in page]
        rows = self._fetch(
            "SELECT l.namespace, l.id, l.content_hash FROM logs l "
            "JOIN unnest(%b::text[], %b::text[]) AS k (namespace, id) ON l.namespace = k.namespace AND l.id = k.id "
            "UNION "
            "SELECT l.namespace, l.id, l.content_hash FROM logs l "
            "JOIN unnest(%b::text[], %b::text[]) AS h (namespace, content_hash) "
            "ON l.namespace = h.namespace AND l.content_hash = h.content_hash",
            [namespaces, [log.id for log in page], namespaces, hashes],
        )
        by_key = {(namespace, log_id): content_hash for namespace, log_id, content_hash in rows}
        return by_key, {(namespace, content_hash) for namespace, _, content_hash in rows}

    def _insert_logs(self, logs: list[tuple[LogRecord, str]]) -> set[tuple[str, str]]:
        """Insert in one statement; return the (namespace, id) of the rows written (not those a concurrent
        writer's commit made conflict)."""
        rows = [_log_row(log, content_hash) for log, content_hash in logs]
        columns, arrays = _unnest(_LOGS, rows)
        returned = self._fetch(
            f"INSERT INTO logs ({columns}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING "
            "RETURNING namespace, id",
            _columns_of(rows),
        )
        return {(namespace, log_id) for namespace, log_id in returned}

    def _judge_against_stored(self, log: LogRecord, content_hash: str) -> str:
        rows = self._fetch(
            "SELECT content_hash, body FROM logs WHERE namespace = %s AND id = %s", [log.namespace, log.id]
        )
        if rows:
            stored_hash, body = rows[0]
            same = stored_hash == content_hash or log.restates(LogRecord.model_validate_json(body))
            return "duplicate" if same else "conflict"
        return "duplicate"  # its content was stored under another id

    def _held_log(self, key: tuple[str, str], added: dict[tuple[str, str], LogRecord]) -> LogRecord:
        """The log stored (or being added in this page) under (namespace, id)."""
        if key in added:
            return added[key]
        ((body,),) = self._fetch("SELECT body FROM logs WHERE namespace = %s AND id = %s", list(key))
        return LogRecord.model_validate_json(body)

    def update_log(self, log: LogRecord) -> None:
        """Replace a stored log's body (new feedback arrived); unprocessed again, so the next build re-distils it."""
        (checked,) = _checked([log], LogRecord, "update_log")
        row = _log_row(checked, checked.content_hash())
        with self.transaction():
            updated = self._fetch(
                "UPDATE logs SET user_id = %s, content_hash = %s, timestamp = %s, processed = FALSE, edit_cost = %s, "
                "body = %s WHERE namespace = %s AND id = %s RETURNING id",
                [row[2], row[3], row[4], row[5], row[6], checked.namespace, checked.id],
            )
            if not updated:
                raise KeyError(f"no log {checked.id!r} in namespace {checked.namespace!r} to update")

    def iter_logs(self, scope: Scope = ALL, *, processed: bool | None = None) -> Iterator[LogRecord]:
        """All logs in scope, oldest first (ties by id, then namespace), fetched a page at a time.

        No connection is held between pages, so the caller may write to the store while iterating; paging by
        (timestamp, id, namespace) rather than OFFSET keeps that correct.
        """
        where = self._logs_where(scope, processed)
        after: tuple[datetime, str, str] | None = None
        while True:
            page_where = where.copy()
            if after is not None:
                page_where.add("(timestamp, id, namespace) > (%s, %s, %s)", *after)
            rows = self._fetch(
                f"SELECT timestamp, id, namespace, body FROM logs{page_where.sql} "
                "ORDER BY timestamp, id, namespace LIMIT %s",
                [*page_where.params, _ITER_PAGE_SIZE],
            )
            for *_, body in rows:
                yield LogRecord.model_validate_json(body)
            if len(rows) < _ITER_PAGE_SIZE:
                return
            after = (rows[-1][0], rows[-1][1], rows[-1][2])

    def mark_processed(self, ids: Sequence[str], processed: bool = True, *, namespace: str | None = None) -> None:
        """Mark logs (of ``namespace`` only, when given: another tenant may use the same ids) processed."""
        where = _Where().add("id = ANY(%b)", _id_list(ids, "mark_processed"))
        if namespace is not None:
            where.add("namespace = %s", namespace)
        with self.transaction():
            self._fetch(f"UPDATE logs SET processed = %s{where.sql}", [bool(processed), *where.params], rows=False)

    def delete_logs(self, ids: Sequence[str], scope: Scope = ALL) -> list[str]:
        """Delete the logs in scope with these ids, their provenance rows and verdicts; return those deleted.

        One statement: the provenance and verdict deletes are keyed on the (namespace, id) of each log deleted,
        because another tenant may hold logs (and rules citing them) with the same ids. ``adapter_sources`` rows
        stay (an adapter's audit trail; see the SQLite store).
        """
        wanted = _id_list(ids, "delete_logs")
        where = self._scoped("logs", scope).add("logs.id = ANY(%b)", wanted)
        with self.transaction():
            rows = self._fetch(
                f"WITH gone AS (DELETE FROM logs{where.sql} RETURNING namespace, id), "
                "dropped_provenance AS (DELETE FROM provenance p USING gone g, rules r "
                "WHERE p.log_id = g.id AND r.id = p.rule_id AND r.namespace = g.namespace), "
                "dropped_verdicts AS (DELETE FROM verdicts v USING gone g "
                "WHERE v.namespace = g.namespace AND v.log_id = g.id) "
                "SELECT id FROM gone",
                where.params,
            )
        found = {row[0] for row in rows}
        return [log_id for log_id in wanted if log_id in found]

    def _logs_where(self, scope: Scope, processed: bool | None) -> _Where:
        where = self._scoped("logs", scope)
        if processed is not None:
            where.add("processed = %s", processed)
        return where

    # ----------------------------------------------------------------------------------------------- rules

    def upsert_rules(self, rules: Iterable[Rule]) -> None:
        """Insert or replace rules by id, and rewrite each one's provenance rows from its ``evidence``.

        A provenance row takes its user from the evidence, else from the cited log when this store has it (a
        join in the insert, not a lookup per log).
        """
        with self.transaction():
            latest = _latest_by_id(_checked(rules, Rule, "upsert_rules"))
            if not latest:
                return
            self._upsert(_RULES, [_rule_row(rule) for rule in latest])
            self._fetch("DELETE FROM provenance WHERE rule_id = ANY(%b)", [[r.id for r in latest]], rows=False)
            cited = [
                (rule.id, rule.namespace, log_id, user)
                for rule in latest
                for log_id, user in _first_evidence_users(rule).items()
            ]
            if cited:
                self._fetch(
                    "INSERT INTO provenance (rule_id, log_id, user_id) "
                    "SELECT k.rule_id, k.log_id, COALESCE(k.user_id, l.user_id) "
                    "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[]) AS k (rule_id, namespace, log_id, "
                    "user_id) LEFT JOIN logs l ON l.namespace = k.namespace AND l.id = k.log_id",
                    _columns_of(cited),
                    rows=False,
                )

    def add_rule_changes(self, items: Iterable[RuleChange]) -> None:
        """Append history entries in the order given (the identity column numbers them in that order); ids
        already stored, or repeated in ``items``, are skipped."""
        with self.transaction():
            changes = list(_checked(items, RuleChange, "add_rule_changes"))
            if not changes:
                return
            self._fetch(
                "INSERT INTO rule_history (id, rule_id, namespace, at, body) "
                "SELECT k.id, k.rule_id, k.namespace, k.at, k.body "
                "FROM unnest(%b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::text[]) "
                "WITH ORDINALITY AS k (id, rule_id, namespace, at, body, position) "
                "ORDER BY k.position ON CONFLICT (id) DO NOTHING",
                _columns_of([(c.id, c.rule_id, c.namespace, _utc(c.at), c.model_dump_json()) for c in changes]),
                rows=False,
            )

    def rule_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Rules with at least one piece of evidence from these logs, sorted."""
        wanted = _id_list(log_ids, "rule_ids_for_logs")
        rows = self._fetch("SELECT DISTINCT rule_id FROM provenance WHERE log_id = ANY(%b) ORDER BY rule_id", [wanted])
        return [row[0] for row in rows]

    # --------------------------------------------------------------------------------------------- derived

    def upsert_experiences(self, items: Iterable[Experience]) -> None:
        """Insert or replace experiences by id, and rewrite their links to their source logs."""
        with self.transaction():
            latest = _latest_by_id(_checked(items, Experience, "upsert_experiences"))
            rows = [(e.id, e.namespace, e.cluster_id, e.model_dump_json()) for e in latest]
            links = [(e.id, log_id) for e in latest for log_id in sorted(set(e.source_log_ids))]
            self._upsert_with_links(_EXPERIENCES, rows, "experience_sources", "experience_id", links)

    def upsert_preference_pairs(self, items: Iterable[PreferencePair]) -> None:
        with self.transaction():
            latest = _latest_by_id(_checked(items, PreferencePair, "upsert_preference_pairs"))
            self._upsert(_PREFERENCE_PAIRS, [_from_log_row(item) for item in latest])

    def upsert_hindsight(self, items: Iterable[HindsightExample]) -> None:
        with self.transaction():
            latest = _latest_by_id(_checked(items, HindsightExample, "upsert_hindsight"))
            self._upsert(_HINDSIGHT, [_from_log_row(item) for item in latest])

    # -------------------------------------------------------------------------------------------- clusters

    def upsert_clusters(self, items: Iterable[Cluster]) -> None:
        with self.transaction():
            latest = _latest_by_id(_checked(items, Cluster, "upsert_clusters"))
            self._upsert(_CLUSTERS, [(c.id, c.namespace, c.model_dump_json()) for c in latest])

    # -------------------------------------------------------------------------------------------- adapters

    def upsert_adapters(self, items: Iterable[Adapter]) -> None:
        """Insert or replace adapters by id, and rewrite their links to their source logs."""
        with self.transaction():
            latest = _latest_by_id(_checked(items, Adapter, "upsert_adapters"))
            links = [(a.id, log_id) for a in latest for log_id in sorted(set(a.source_log_ids))]
            self._upsert_with_links(
                _ADAPTERS, [_adapter_row(a) for a in latest], "adapter_sources", "adapter_id", links
            )

    def _where_in(self, where: _Where, column: str, values: list[str]) -> None:
        where.add(f"{column} = ANY(%b)", values)

    def adapter_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Adapters trained on any of these logs, sorted (deleted logs included: see ``delete_logs``)."""
        wanted = _id_list(log_ids, "adapter_ids_for_logs")
        rows = self._fetch(
            "SELECT DISTINCT adapter_id FROM adapter_sources WHERE log_id = ANY(%b) ORDER BY adapter_id", [wanted]
        )
        return [row[0] for row in rows]

    # -------------------------------------------------------------------------------------------- verdicts

    def upsert_verdicts(self, items: Iterable[LogVerdict]) -> None:
        """Store one verdict per log, replacing the previous one (keyed by namespace and log id, like logs)."""
        with self.transaction():
            checked = _checked(items, LogVerdict, "upsert_verdicts")
            latest = list({(v.namespace, v.log_id): v for v in checked}.values())
            self._upsert(_VERDICTS, [(v.log_id, v.namespace, v.verdict.value, v.model_dump_json()) for v in latest])

    # ------------------------------------------------------------------------------------------ quarantine

    def add_quarantine(self, items: Iterable[QuarantineRecord]) -> None:
        """Store quarantined inputs; adding the same record (same id) again replaces it."""
        with self.transaction():
            latest = _latest_by_id(_checked(items, QuarantineRecord, "add_quarantine"))
            self._upsert(_QUARANTINE, [(q.id, q.namespace, q.source, q.model_dump_json()) for q in latest])

    # ----------------------------------------------------------------------------------------- meta, stats

    def _write_meta(self, key: str, value: str) -> None:
        self._upsert(_META, [(key, value)])

    # -------------------------------------------------------------------------------------------- plumbing

    def _open_pool(self) -> ConnectionPool[Conn]:
        if self._pool is None:
            raise StoreClosedError(f"{self!r} is closed")
        return self._pool

    @contextmanager
    def _connection(self) -> Iterator[Conn]:
        """The connection this thread's open transaction pinned, else one lent by the pool for the block."""
        pinned: Conn | None = getattr(self._local, "conn", None)
        if pinned is not None:
            self._open_pool()
            yield pinned
            return
        with self._open_pool().connection() as conn:
            yield conn

    def _fetch(self, query: str, params: Sequence[object] = (), *, rows: bool = True) -> list[Any]:
        """Run one statement; its rows (none when ``rows`` is False, for statements that return none)."""
        with self._connection() as conn:
            cursor = conn.execute(query, list(params))
            return cursor.fetchall() if rows else []

    @contextmanager
    def _read_snapshot(self) -> Iterator[None]:
        """Make several reads see one state of the database (inside a write transaction they see its own)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._pinned() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield

    def _get_by_ids(
        self, table: str, key: str, ids: Sequence[str], scope: Scope, model: type[RecordT]
    ) -> list[RecordT]:
        wanted = _id_list(ids, f"get from {table}")
        where = self._scoped(table, scope).add(f"{table}.{key} = ANY(%b)", wanted)
        # Several rows per id only for logs and verdicts read without a namespace (their ids are per namespace).
        bodies: dict[str, list[str]] = {}
        for record_id, body in self._fetch(
            f"SELECT {key}, body FROM {table}{where.sql} ORDER BY namespace", where.params
        ):
            bodies.setdefault(record_id, []).append(body)
        return [model.model_validate_json(body) for i in wanted for body in bodies.get(i, [])]

    def _delete(self, table: str, key: str, ids: Sequence[str], method: str) -> None:
        with self.transaction():
            self._fetch(f"DELETE FROM {table} WHERE {key} = ANY(%b)", [_id_list(ids, method)], rows=False)

    def _upsert(self, table: _Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert or replace ``rows`` (one per key) in one statement. For a table whose ids belong to one
        namespace, a stored row of another namespace is not replaced and raises ``NamespaceConflictError``."""
        if not rows:
            return
        key_positions = [i for i, (name, _) in enumerate(table.columns) if name in table.key]
        rows = sorted(rows, key=lambda row: tuple(row[i] for i in key_positions))  # one lock order: no deadlocks
        columns, arrays = _unnest(table, rows)
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name, _ in table.columns if name not in table.key)
        statement = (
            f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
        )
        if table.claimed_as is None:
            self._fetch(statement, _columns_of(rows), rows=False)
            return
        claimed = self._fetch(
            f"{statement} WHERE {table.name}.namespace = EXCLUDED.namespace RETURNING {table.name}.id",
            _columns_of(rows),
        )
        if len(claimed) < len(rows):
            self._raise_namespace_conflict(table, rows, {row[0] for row in claimed})

    def _raise_namespace_conflict(self, table: _Table, rows: list[tuple[Any, ...]], claimed: set[str]) -> None:
        wanted = {row[0]: row[1] for row in rows if row[0] not in claimed}  # id -> namespace (columns 0 and 1)
        stored = self._fetch(f"SELECT id, namespace FROM {table.name} WHERE id = ANY(%b) ORDER BY id", [list(wanted)])
        record_id, owner = stored[0]
        raise NamespaceConflictError(
            f"{table.claimed_as} {record_id!r} is stored in namespace {owner!r}; it cannot be re-written under "
            f"namespace {wanted[record_id]!r} (ids are global: make them unique per namespace)"
        )

    def _upsert_with_links(
        self, table: _Table, rows: list[tuple[Any, ...]], links_table: str, link_key: str, links: list[tuple[str, str]]
    ) -> None:
        """Upsert records, then replace their rows in ``links_table`` (record id, log id)."""
        if not rows:
            return
        self._upsert(table, rows)
        self._fetch(f"DELETE FROM {links_table} WHERE {link_key} = ANY(%b)", [[row[0] for row in rows]], rows=False)
        if links:
            self._fetch(
                f"INSERT INTO {links_table} ({link_key}, log_id) SELECT * FROM unnest(%b::text[], %b::text[])",
                _columns_of(links),
                rows=False,
            )


# ------------------------------------------------------------------------------------------------ helpers


def _utc(moment: datetime) -> datetime:
    """An aware datetime: naive means UTC (as in the SQLite store)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _conninfo_params(conninfo: str) -> dict[str, Any]:
    """The parameters of a connection string or URL (empty when it does not parse: psycopg will say why)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return {}


def _redacted(conninfo: str) -> str:
    """The connection string without its password, for messages."""
    from psycopg.conninfo import make_conninfo

    params = _conninfo_params(conninfo)
    if not params:
        return "<unparsable connection string>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def _unnest(table: _Table, rows: list[tuple[Any, ...]]) -> tuple[str, str]:
    """The column list and the ``unnest(...)`` array arguments of a bulk insert into ``table``."""
    columns = ", ".join(name for name, _ in table.columns)
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in table.columns)
    return columns, arrays


def _columns_of(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows as one list per column: the arrays ``unnest`` turns back into rows."""
    return [list(column) for column in zip(*rows, strict=True)]


def _log_row(log: LogRecord, content_hash: str) -> tuple[Any, ...]:
    """A log as the columns of ``_LOGS``."""
    return (
        log.id, log.namespace, log.user_id, content_hash, _utc(log.timestamp), log.edit_cost(), log.model_dump_json()
    )  # fmt: skip


def _rule_row(rule: Rule) -> tuple[Any, ...]:
    return (rule.id, rule.namespace, rule.status.value, rule.cluster_id, rule.model_dump_json())


def _from_log_row(item: PreferencePair | HindsightExample) -> tuple[Any, ...]:
    return (item.id, item.namespace, item.cluster_id, item.source_log_id, item.model_dump_json())


def _adapter_row(adapter: Adapter) -> tuple[Any, ...]:
    return (
        adapter.id, adapter.namespace, adapter.cluster_id, adapter.kind.value, adapter.status.value,
        adapter.base_model, adapter.version, adapter.model_dump_json(),
    )  # fmt: skip


def _first_evidence_users(rule: Rule) -> dict[str, str | None]:
    """Each cited log once, with the first user its evidence names (None: the insert takes the log's own)."""
    users: dict[str, str | None] = {}
    for evidence in rule.evidence:
        if users.get(evidence.log_id) is None:
            users[evidence.log_id] = evidence.user_id
    return users


def _lease_holder(conn: Conn, key: int) -> str:
    """Who holds the advisory lock ``key``: the holder session's application name (uno puts its pid and host
    there), server pid and start; "holder unknown" when it just let go or this role may not see it."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    row = conn.execute(
        "SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = %s::bigint::oid "
        "AND l.objid = %s::bigint::oid "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [unsigned >> 32, unsigned & 0xFFFF_FFFF],
    ).fetchone()
    if row is None:
        return "holder unknown"
    application, pid, since = row
    started = since.astimezone(UTC).isoformat(timespec="seconds") if since is not None else "an unknown time"
    return f"{application or 'an unnamed session'}, server pid {pid}, since {started}"


__all__ = ["PostgresRuleStore"]
