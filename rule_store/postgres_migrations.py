"""Schema migrations for the PostgreSQL rule store, numbered and described exactly as the SQLite ones.

Version N means the same thing in both backends (``rule_store.migrations.MIGRATIONS`` is the reference: the
descriptions are taken from it, and a test checks that the numbers match), so ``schema_version`` compares
across them. The SQL differs where PostgreSQL has a better type or statement: ``timestamptz`` instead of ISO
text, ``boolean`` for flags, an identity column for the history sequence, ``ALTER TABLE ... ADD PRIMARY KEY``
instead of rebuilding a table.

Every text column that reads sort or compare on is ``COLLATE "C"``: byte order, as SQLite's default BINARY
collation, so that "ordered by id" means the same on both backends whatever the database's locale is (and C
comparisons are the cheapest). Record bodies stay ``text``, not ``jsonb``: an adapter's metrics may hold NaN
or Infinity, which ``model_dump_json`` writes and JSON (hence ``jsonb``) does not allow, and ``text`` returns
the exact bytes written without re-parsing them; reads never look inside a body (the fields they filter on
are columns).

All migrations run in one transaction under a transaction-level advisory lock keyed by the schema, so two
processes opening a new database at once cannot both run migration 1: the second waits for the first to
commit, then finds nothing left to do. A crash half-way leaves the database at its old version (PostgreSQL's
DDL is transactional).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from rule_store.migrations import MIGRATIONS as SQLITE_MIGRATIONS
from rule_store.migrations import _check_versions, _refuse_newer

Conn = psycopg.Connection[TupleRow]
PgStep = str | Callable[[Conn], None]


@dataclass(frozen=True)
class PgMigration:
    """One schema version on PostgreSQL: the steps that take a database from ``version - 1`` to ``version``."""

    version: int
    description: str
    steps: tuple[PgStep, ...]


def advisory_key(*parts: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``parts`` (sha256, not ``hashtext``: that one is internal to
    PostgreSQL and may change between its versions, and every uno process must derive the same key)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_C = 'TEXT COLLATE "C"'

_V1_CORE_SCHEMA: tuple[PgStep, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL
    )""",
    f"CREATE TABLE meta (key {_C} PRIMARY KEY, value TEXT NOT NULL)",
    f"""CREATE TABLE logs (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        user_id {_C},
        content_hash {_C} NOT NULL,
        timestamp TIMESTAMPTZ NOT NULL,
        processed BOOLEAN NOT NULL DEFAULT FALSE,
        body TEXT NOT NULL,
        UNIQUE (namespace, content_hash)
    )""",
    "CREATE INDEX logs_by_namespace_time ON logs (namespace, timestamp, id)",
    "CREATE INDEX logs_by_time ON logs (timestamp, id)",
    "CREATE INDEX logs_by_user ON logs (user_id, namespace)",
    f"""CREATE TABLE rules (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        status {_C} NOT NULL,
        cluster_id {_C},
        body TEXT NOT NULL
    )""",
    "CREATE INDEX rules_by_namespace_status ON rules (namespace, status)",
    "CREATE INDEX rules_by_cluster ON rules (cluster_id)",
    # No foreign key to logs (as in SQLite): a rule may cite a log this store never saw.
    f"""CREATE TABLE provenance (
        rule_id {_C} NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
        log_id {_C} NOT NULL,
        user_id {_C},
        PRIMARY KEY (rule_id, log_id)
    )""",
    "CREATE INDEX provenance_by_log ON provenance (log_id)",
    "CREATE INDEX provenance_by_user ON provenance (user_id)",
    f"""CREATE TABLE experiences (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        cluster_id {_C},
        body TEXT NOT NULL
    )""",
    "CREATE INDEX experiences_by_namespace_cluster ON experiences (namespace, cluster_id)",
    f"""CREATE TABLE preference_pairs (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        cluster_id {_C},
        source_log_id {_C} NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX preference_pairs_by_namespace_cluster ON preference_pairs (namespace, cluster_id)",
    "CREATE INDEX preference_pairs_by_log ON preference_pairs (source_log_id)",
    f"""CREATE TABLE hindsight (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        cluster_id {_C},
        source_log_id {_C} NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX hindsight_by_namespace_cluster ON hindsight (namespace, cluster_id)",
    "CREATE INDEX hindsight_by_log ON hindsight (source_log_id)",
    f"CREATE TABLE clusters (id {_C} PRIMARY KEY, namespace {_C} NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX clusters_by_namespace ON clusters (namespace)",
    f"""CREATE TABLE verdicts (
        log_id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        verdict {_C} NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX verdicts_by_namespace_verdict ON verdicts (namespace, verdict)",
    f"""CREATE TABLE quarantine (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        source {_C} NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX quarantine_by_namespace_source ON quarantine (namespace, source)",
)

_V2_EXPERIENCE_SOURCES: tuple[PgStep, ...] = (
    f"""CREATE TABLE experience_sources (
        experience_id {_C} NOT NULL REFERENCES experiences (id) ON DELETE CASCADE,
        log_id {_C} NOT NULL,
        PRIMARY KEY (experience_id, log_id)
    )""",
    "CREATE INDEX experience_sources_by_log ON experience_sources (log_id)",
    # Experience bodies hold no NaN, so they parse as jsonb for this one backfill.
    """INSERT INTO experience_sources (experience_id, log_id)
        SELECT experiences.id, source.value
        FROM experiences, jsonb_array_elements_text(experiences.body::jsonb -> 'source_log_ids') AS source (value)
        ON CONFLICT DO NOTHING""",
)

_V3_ADAPTERS: tuple[PgStep, ...] = (
    f"""CREATE TABLE adapters (
        id {_C} PRIMARY KEY,
        namespace {_C} NOT NULL,
        cluster_id {_C} NOT NULL,
        kind {_C} NOT NULL,
        status {_C} NOT NULL,
        base_model TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX adapters_by_namespace_cluster ON adapters (namespace, cluster_id, kind, version)",
    "CREATE INDEX adapters_by_cluster ON adapters (cluster_id, kind, version)",
    "CREATE INDEX adapters_by_namespace_status ON adapters (namespace, status)",
    f"""CREATE TABLE adapter_sources (
        adapter_id {_C} NOT NULL REFERENCES adapters (id) ON DELETE CASCADE,
        log_id {_C} NOT NULL,
        PRIMARY KEY (adapter_id, log_id)
    )""",
    "CREATE INDEX adapter_sources_by_log ON adapter_sources (log_id)",
)

# PostgreSQL changes a primary key in place (SQLite rebuilds the tables).
_V4_TENANT_SCOPED_LOG_IDS: tuple[PgStep, ...] = (
    "ALTER TABLE logs DROP CONSTRAINT logs_pkey",
    "ALTER TABLE logs ADD PRIMARY KEY (namespace, id)",
    "CREATE INDEX logs_by_id ON logs (id)",
    "ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey",
    "ALTER TABLE verdicts ADD PRIMARY KEY (namespace, log_id)",
    "CREATE INDEX verdicts_by_log ON verdicts (log_id)",
)

_V5_RULE_HISTORY: tuple[PgStep, ...] = (
    f"""CREATE TABLE rule_history (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id {_C} NOT NULL UNIQUE,
        rule_id {_C} NOT NULL,
        namespace {_C} NOT NULL,
        at TIMESTAMPTZ NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX rule_history_by_rule ON rule_history (rule_id, seq)",
    "CREATE INDEX rule_history_by_namespace ON rule_history (namespace, seq)",
)


def _backfill_edit_cost(conn: Conn) -> None:
    """Compute the edit cost of every stored log from its body (the same rule as ``LogRecord.edit_cost``)."""
    from rule_store.records import LogRecord

    rows = conn.execute("SELECT namespace, id, body FROM logs WHERE body LIKE %s", ['%"edit"%']).fetchall()
    updates = []
    for namespace, log_id, body in rows:
        cost = LogRecord.model_validate_json(body).edit_cost()
        if cost is not None:
            updates.append((cost, namespace, log_id))
    with conn.cursor() as cursor:
        cursor.executemany("UPDATE logs SET edit_cost = %s WHERE namespace = %s AND id = %s", updates)


_V6_EDIT_COST: tuple[PgStep, ...] = ("ALTER TABLE logs ADD COLUMN edit_cost INTEGER", _backfill_edit_cost)


def _rekey_derived_from_logs(conn: Conn) -> None:
    """Give preference pairs and hindsight examples of non-default namespaces the ids they now derive (see the
    SQLite migration 7)."""
    from rule_store.records import HindsightExample, PreferencePair

    kinds: tuple[tuple[str, type[PreferencePair] | type[HindsightExample]], ...] = (
        ("preference_pairs", PreferencePair),
        ("hindsight", HindsightExample),
    )
    for table, model in kinds:
        rows = conn.execute(f"SELECT id, body FROM {table} WHERE namespace <> 'default'").fetchall()
        updates = []
        for old_id, body in rows:
            record = model.model_validate({**json.loads(body), "id": ""})
            if record.id != old_id:
                updates.append((record.id, record.model_dump_json(), old_id))
        with conn.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET id = %s, body = %s WHERE id = %s", updates)


_STEPS: tuple[tuple[PgStep, ...], ...] = (
    _V1_CORE_SCHEMA,
    _V2_EXPERIENCE_SOURCES,
    _V3_ADAPTERS,
    _V4_TENANT_SCOPED_LOG_IDS,
    _V5_RULE_HISTORY,
    _V6_EDIT_COST,
    (_rekey_derived_from_logs,),
)
MIGRATIONS: tuple[PgMigration, ...] = tuple(
    PgMigration(reference.version, reference.description, steps)
    for reference, steps in zip(SQLITE_MIGRATIONS, _STEPS, strict=True)
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: Conn) -> int:
    """The highest migration applied to the database (in the connection's search_path); 0 for an empty one."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def apply_migrations(conn: Conn, schema: str | None, migrations: Sequence[PgMigration] = MIGRATIONS) -> int:
    """Create ``schema`` if it is missing and bring it up to the last of ``migrations``, in one transaction under
    an advisory lock; return the resulting version.

    ``conn`` must be in autocommit mode, outside a transaction, with its search_path on ``schema``. Raises
    :class:`SchemaVersionError` when the database is newer than ``migrations``.
    """
    versions = [m.version for m in migrations]
    _check_versions(versions)
    target = versions[-1] if versions else 0
    with conn.transaction():
        # Taken before CREATE SCHEMA too: two concurrent CREATE SCHEMA IF NOT EXISTS can both fail on a race.
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_key("uno.migrate", schema or "")])
        if schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        version = current_version(conn)
        _refuse_newer(version, target)
        for migration in migrations:
            if migration.version > version:
                _apply_one(conn, migration)
    return max(version, target)


def _apply_one(conn: Conn, migration: PgMigration) -> None:
    for step in migration.steps:
        if isinstance(step, str):
            conn.execute(step)
        else:
            step(conn)
    conn.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (%s, %s, %s)",
        [migration.version, migration.description, datetime.now(UTC)],
    )
