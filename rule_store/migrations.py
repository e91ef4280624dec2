"""Schema migrations for the SQLite rule store.

The schema is an ordered list of :class:`Migration`; a database records each one it has applied in its
``schema_version`` table. Opening a store applies the missing ones in a single ``BEGIN IMMEDIATE``
transaction: a crash half-way through an upgrade leaves the database at its old version, and two processes
opening the same new file at once cannot both run migration 1 (the second waits for the write lock, then
finds nothing left to do).

Migrations are frozen once released: a schema change is a new entry at the end of ``MIGRATIONS``, never an
edit of an old one, because existing databases were built from the old text. A step is one SQL statement
(``executescript`` would commit the surrounding transaction) or a callable, for data SQL cannot move.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

MigrationStep = str | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True)
class Migration:
    """One schema version: the steps that take a database from ``version - 1`` to ``version``."""

    version: int
    description: str
    steps: tuple[MigrationStep, ...]


class SchemaVersionError(RuntimeError):
    """The database was written by a newer uno than this one (or its migration history is not ours)."""


# Columns that reads filter or sort on are real columns; the record itself is the ``body`` column (the
# pydantic JSON of the whole record), so adding a field to a record needs no migration.
_V1_CORE_SCHEMA: tuple[MigrationStep, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TEXT NOT NULL
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # ``timestamp`` is UTC ISO-8601 with microseconds and an explicit offset, so text order is time order.
    """CREATE TABLE logs (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        user_id TEXT,
        content_hash TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        processed INTEGER NOT NULL DEFAULT 0 CHECK (processed IN (0, 1)),
        body TEXT NOT NULL,
        UNIQUE (namespace, content_hash)
    )""",
    "CREATE INDEX logs_by_namespace_time ON logs (namespace, timestamp, id)",
    "CREATE INDEX logs_by_time ON logs (timestamp, id)",
    "CREATE INDEX logs_by_user ON logs (user_id, namespace)",
    """CREATE TABLE rules (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        status TEXT NOT NULL,
        cluster_id TEXT,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX rules_by_namespace_status ON rules (namespace, status)",
    "CREATE INDEX rules_by_cluster ON rules (cluster_id)",
    # One row per (rule, source log), rebuilt from ``Rule.evidence`` on every upsert. No foreign key to logs:
    # a rule may cite a log this store never saw, and deleting a log must not silently delete the rule.
    """CREATE TABLE provenance (
        rule_id TEXT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
        log_id TEXT NOT NULL,
        user_id TEXT,
        PRIMARY KEY (rule_id, log_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX provenance_by_log ON provenance (log_id)",
    "CREATE INDEX provenance_by_user ON provenance (user_id)",
    """CREATE TABLE experiences (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        cluster_id TEXT,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX experiences_by_namespace_cluster ON experiences (namespace, cluster_id)",
    """CREATE TABLE preference_pairs (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        cluster_id TEXT,
        source_log_id TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX preference_pairs_by_namespace_cluster ON preference_pairs (namespace, cluster_id)",
    "CREATE INDEX preference_pairs_by_log ON preference_pairs (source_log_id)",
    """CREATE TABLE hindsight (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        cluster_id TEXT,
        source_log_id TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX hindsight_by_namespace_cluster ON hindsight (namespace, cluster_id)",
    "CREATE INDEX hindsight_by_log ON hindsight (source_log_id)",
    "CREATE TABLE clusters (id TEXT PRIMARY KEY, namespace TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX clusters_by_namespace ON clusters (namespace)",
    """CREATE TABLE verdicts (
        log_id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        verdict TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX verdicts_by_namespace_verdict ON verdicts (namespace, verdict)",
    """CREATE TABLE quarantine (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        source TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX quarantine_by_namespace_source ON quarantine (namespace, source)",
)

# An experience cites several logs (a JSON list in its body); user scopes join through this table instead of
# parsing every body. Existing experiences are backfilled from their JSON.
_V2_EXPERIENCE_SOURCES: tuple[MigrationStep, ...] = (
    """CREATE TABLE experience_sources (
        experience_id TEXT NOT NULL REFERENCES experiences (id) ON DELETE CASCADE,
        log_id TEXT NOT NULL,
        PRIMARY KEY (experience_id, log_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX experience_sources_by_log ON experience_sources (log_id)",
    """INSERT OR IGNORE INTO experience_sources (experience_id, log_id)
        SELECT experiences.id, source.value
        FROM experiences, json_each(experiences.body, '$.source_log_ids') AS source""",
)

# The LoRA adapter registry. ``version`` is an INTEGER column so that version 10 sorts after version 9.
# ``adapter_sources`` has no foreign key to logs, like provenance: forgetting a log keeps the link, which is how
# the adapters trained on it are found and marked stale.
_V3_ADAPTERS: tuple[MigrationStep, ...] = (
    """CREATE TABLE adapters (
        id TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        cluster_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        base_model TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX adapters_by_namespace_cluster ON adapters (namespace, cluster_id, kind, version)",
    "CREATE INDEX adapters_by_cluster ON adapters (cluster_id, kind, version)",
    "CREATE INDEX adapters_by_namespace_status ON adapters (namespace, status)",
    """CREATE TABLE adapter_sources (
        adapter_id TEXT NOT NULL REFERENCES adapters (id) ON DELETE CASCADE,
        log_id TEXT NOT NULL,
        PRIMARY KEY (adapter_id, log_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX adapter_sources_by_log ON adapter_sources (log_id)",
)


def _rekey_derived_from_logs(conn: sqlite3.Connection) -> None:
    """Give preference pairs and hindsight examples of non-default namespaces the ids they now derive (their
    namespace joined the hash with per-namespace log ids), so a later build updates them instead of adding twins."""
    from rule_store.records import HindsightExample, PreferencePair

    kinds: tuple[tuple[str, type[PreferencePair] | type[HindsightExample]], ...] = (
        ("preference_pairs", PreferencePair),
        ("hindsight", HindsightExample),
    )
    for table, model in kinds:
        rows = conn.execute(f"SELECT id, body FROM {table} WHERE namespace != 'default'").fetchall()
        for old_id, body in rows:
            record = model.model_validate({**json.loads(body), "id": ""})
            if record.id != old_id:
                conn.execute(
                    f"UPDATE {table} SET id = ?, body = ? WHERE id = ?", (record.id, record.model_dump_json(), old_id)
                )


# Log ids are unique per namespace, not globally: one tenant's ids can neither reveal nor block another's. SQLite
# cannot change a primary key in place, so ``logs`` and ``verdicts`` (one verdict per log) are rebuilt with
# (namespace, id) keys and every row copied; a plain index on the id keeps reads by id alone fast. Existing ids
# were globally unique, so every row fits the new keys.
_V4_TENANT_SCOPED_LOG_IDS: tuple[MigrationStep, ...] = (
    """CREATE TABLE logs_by_namespace (
        id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        user_id TEXT,
        content_hash TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        processed INTEGER NOT NULL DEFAULT 0 CHECK (processed IN (0, 1)),
        body TEXT NOT NULL,
        PRIMARY KEY (namespace, id),
        UNIQUE (namespace, content_hash)
    )""",
    """INSERT INTO logs_by_namespace (id, namespace, user_id, content_hash, timestamp, processed, body)
        SELECT id, namespace, user_id, content_hash, timestamp, processed, body FROM logs""",
    "DROP TABLE logs",
    "ALTER TABLE logs_by_namespace RENAME TO logs",
    "CREATE INDEX logs_by_namespace_time ON logs (namespace, timestamp, id)",
    "CREATE INDEX logs_by_time ON logs (timestamp, id)",
    "CREATE INDEX logs_by_user ON logs (user_id, namespace)",
    "CREATE INDEX logs_by_id ON logs (id)",
    """CREATE TABLE verdicts_by_namespace (
        log_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        verdict TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (namespace, log_id)
    )""",
    """INSERT INTO verdicts_by_namespace (log_id, namespace, verdict, body)
        SELECT log_id, namespace, verdict, body FROM verdicts""",
    "DROP TABLE verdicts",
    "ALTER TABLE verdicts_by_namespace RENAME TO verdicts",
    "CREATE INDEX verdicts_by_namespace_verdict ON verdicts (namespace, verdict)",
    "CREATE INDEX verdicts_by_log ON verdicts (log_id)",
)

# Every change to a rule (by a build, the gate, a person or an API key), oldest first per rule. No foreign key to
# rules: the entry that records a hard delete outlives the rule (``delete_rules`` removes the earlier ones).
_V5_RULE_HISTORY: tuple[MigrationStep, ...] = (
    """CREATE TABLE rule_history (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        rule_id TEXT NOT NULL,
        namespace TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    "CREATE INDEX rule_history_by_rule ON rule_history (rule_id, seq)",
    "CREATE INDEX rule_history_by_namespace ON rule_history (namespace, seq)",
)


def _backfill_edit_cost(conn: sqlite3.Connection) -> None:
    """Compute the edit cost of every stored log from its body (the same rule as ``LogRecord.edit_cost``)."""
    from rule_store.records import LogRecord

    rows = conn.execute("SELECT namespace, id, body FROM logs WHERE body LIKE '%\"edit\"%'").fetchall()
    for namespace, log_id, body in rows:
        cost = LogRecord.model_validate_json(body).edit_cost()
        if cost is not None:
            conn.execute("UPDATE logs SET edit_cost = ? WHERE namespace = ? AND id = ?", (cost, namespace, log_id))


# The user's edit cost per log (Levenshtein distance from the answer to the user's edit; NULL without an edit), a
# column so that ``stats`` sums it in SQL instead of parsing every log.
_V6_EDIT_COST: tuple[MigrationStep, ...] = (
    "ALTER TABLE logs ADD COLUMN edit_cost INTEGER",
    _backfill_edit_cost,
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "logs, rules, provenance, derived records, meta", _V1_CORE_SCHEMA),
    Migration(2, "experience_sources: link experiences to their source logs", _V2_EXPERIENCE_SOURCES),
    Migration(3, "adapters, adapter_sources: the LoRA adapter registry", _V3_ADAPTERS),
    Migration(4, "logs, verdicts: ids unique per namespace", _V4_TENANT_SCOPED_LOG_IDS),
    Migration(5, "rule_history: who changed each rule, when, and what", _V5_RULE_HISTORY),
    Migration(6, "logs.edit_cost: the Levenshtein distance from each answer to the user's edit", _V6_EDIT_COST),
    Migration(7, "preference_pairs, hindsight: ids include a non-default namespace", (_rekey_derived_from_logs,)),
)
LATEST_VERSION = MIGRATIONS[-1].version


def current_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied to this database; 0 for an empty one."""
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").fetchone()
    if has_table is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to the last of ``migrations`` in one transaction; return the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) and outside a transaction: this function
    owns BEGIN/COMMIT. Raises :class:`SchemaVersionError` when the database is newer than ``migrations``.
    """
    _check_ordered(migrations)
    target = migrations[-1].version if migrations else 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = current_version(conn)
        _refuse_newer(version, target)
        for migration in migrations:
            if migration.version > version:
                _apply_one(conn, migration)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return max(version, target)


def _apply_one(conn: sqlite3.Connection, migration: Migration) -> None:
    for step in migration.steps:
        if isinstance(step, str):
            conn.execute(step)
        else:
            step(conn)
    conn.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
        (migration.version, migration.description, datetime.now(UTC).isoformat()),
    )


def _check_ordered(migrations: Sequence[Migration]) -> None:
    _check_versions([m.version for m in migrations])


# Shared with rule_store.postgres_migrations: the same numbering rule and the same refusal of a newer schema.
def _check_versions(versions: list[int]) -> None:
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1, 2, 3, ... without gaps; got {versions}")


def _refuse_newer(version: int, target: int) -> None:
    if version > target:
        raise SchemaVersionError(
            f"database schema is version {version}, but this uno only knows versions up to {target}: "
            "upgrade uno to open this store"
        )
