"""What LLM calls cost, and the responses worth not paying for twice.

Both live in one SQLite file beside the store (``<store>/llm.sqlite``), apart from ``rule_store``, which knows
nothing of LLMs:

* :class:`Ledger` gets one row per call an :class:`uno.llm.LLM` makes: model, purpose ("distill", "judge",
  "gap.prior", "respond.draft", ...), a hash of the prompt (never the prompt itself), tokens in and out, cost when
  the provider's price is known, latency, attempts, and whether the reply was usable. ``usage()`` sums them, so a
  benchmark can report calls and tokens per ingested log.
* :class:`ResponseCache` keeps validated replies keyed by model + prompt hash. Each entry may name the logs its
  prompt quoted (``sources``), so forgetting a user's logs can drop the cached replies that quote them.
"""

from __future__ import annotations

import contextvars
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

LLM_DB_NAME = "llm.sqlite"

Outcome = Literal["ok", "invalid", "error"]
Bucket = Literal["hour", "day"]

_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    model TEXT NOT NULL,
    purpose TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    outcome TEXT NOT NULL,
    cached INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    cost_usd REAL,
    latency_s REAL NOT NULL,
    error TEXT,
    namespace TEXT
);
CREATE INDEX IF NOT EXISTS llm_calls_purpose ON llm_calls (purpose);
"""
# Ledgers written before calls were recorded per namespace lack the column: added on open (older rows stay NULL,
# which no tenant sees).
_LEDGER_UPGRADES = {"namespace": "ALTER TABLE llm_calls ADD COLUMN namespace TEXT"}
_LEDGER_INDEXES = "CREATE INDEX IF NOT EXISTS llm_calls_namespace ON llm_calls (namespace, created_at);"

# The namespace whose work is calling the LLM (set by ``UnoMemory`` around build, train and respond), so the ledger
# can answer per tenant. A context variable, because the LLM object is shared by every namespace of a memory.
_CALLING_NAMESPACE: contextvars.ContextVar[str | None] = contextvars.ContextVar("uno_ledger_namespace", default=None)

_CACHE_SCHEMA = """
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS llm_cache_sources (
    key TEXT NOT NULL REFERENCES llm_cache (key) ON DELETE CASCADE,
    source TEXT NOT NULL,
    PRIMARY KEY (key, source)
);
CREATE INDEX IF NOT EXISTS llm_cache_sources_source ON llm_cache_sources (source);
"""


def llm_db_path(root: str | os.PathLike[str]) -> Path:
    """Where a store directory keeps its ledger and response cache."""
    return Path(root) / LLM_DB_NAME


class _Database:
    """One SQLite connection shared by threads behind a lock (calls are short: a row in, a row out)."""

    def __init__(self, path: str | os.PathLike[str] | None, schema: str) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            ":memory:" if self.path is None else str(self.path), check_same_thread=False, isolation_level=None
        )
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if self.path is not None:
            # WAL lets a benchmark read usage while a build in another process writes calls.
            self._conn.execute("PRAGMA journal_mode = WAL")
        with self._lock:
            self._conn.executescript(schema)

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class CallRecord:
    """One LLM call as the ledger keeps it. ``cached`` calls were answered from the response cache."""

    model: str
    purpose: str
    prompt_hash: str
    outcome: Outcome = "ok"
    cached: bool = False
    attempts: int = 1
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # The tenant the call was made for; None takes the one of :func:`calls_for_namespace` in force, if any.
    namespace: str | None = None


@contextmanager
def calls_for_namespace(namespace: str) -> Iterator[None]:
    """Record the LLM calls made inside this block (in this context) as made for ``namespace``."""
    token = _CALLING_NAMESPACE.set(namespace)
    try:
        yield
    finally:
        _CALLING_NAMESPACE.reset(token)


_USAGE_KEYS = ("calls", "ok", "invalid", "errors", "cache_hits", "attempts", "tokens_in", "tokens_out")


class Ledger:
    """Token and cost accounting, one row per call. ``path=None`` keeps it in memory (until bound to a store)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._db = _Database(path, _LEDGER_SCHEMA)
        with self._db.cursor() as cur:
            columns = {row[1] for row in cur.execute("PRAGMA table_info(llm_calls)")}
            for column, statement in _LEDGER_UPGRADES.items():
                if column not in columns:
                    _add_column(cur, statement)
            cur.execute(_LEDGER_INDEXES)

    @classmethod
    def for_store(cls, root: str | os.PathLike[str]) -> Ledger:
        """The ledger of the store directory ``root`` (``<root>/llm.sqlite``)."""
        return cls(llm_db_path(root))

    @property
    def path(self) -> Path | None:
        return self._db.path

    def record(self, call: CallRecord) -> None:
        with self._db.cursor() as cur:
            cur.execute(
                "INSERT INTO llm_calls (created_at, model, purpose, prompt_hash, outcome, cached, attempts, "
                "tokens_in, tokens_out, cost_usd, latency_s, error, namespace) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call.created_at.isoformat(),
                    call.model,
                    call.purpose,
                    call.prompt_hash,
                    call.outcome,
                    int(call.cached),
                    call.attempts,
                    call.tokens_in,
                    call.tokens_out,
                    call.cost_usd,
                    round(call.latency_s, 6),
                    call.error,
                    call.namespace if call.namespace is not None else _CALLING_NAMESPACE.get(),
                ),
            )

    def usage(self, purpose: str | None = None, *, exact: bool = False, namespace: str | None = None) -> dict[str, Any]:
        """Totals over the calls recorded for ``purpose`` (and its sub-purposes: "gap" covers "gap.prior").

        ``calls`` counts requests that reached the model (whatever came back); ``cache_hits`` those answered from
        the cache. ``attempts`` includes retries. Tokens, cost and latency are summed over real calls only;
        ``cost_usd`` is None when no call had a known price. ``exact=True`` leaves sub-purposes out.
        ``namespace``: only the calls made for that tenant.
        """
        where, args = _filter(purpose, exact=exact, namespace=namespace)
        with self._db.cursor() as cur:
            row = cur.execute(
                "SELECT "
                "COALESCE(SUM(cached = 0), 0), "
                "COALESCE(SUM(cached = 0 AND outcome = 'ok'), 0), "
                "COALESCE(SUM(cached = 0 AND outcome = 'invalid'), 0), "
                "COALESCE(SUM(cached = 0 AND outcome = 'error'), 0), "
                "COALESCE(SUM(cached = 1), 0), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN attempts ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN tokens_in ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN tokens_out ELSE 0 END), 0), "
                "SUM(CASE WHEN cached = 0 THEN cost_usd END), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN latency_s ELSE 0 END), 0.0) "
                f"FROM llm_calls {where}",
                args,
            ).fetchone()
        out: dict[str, Any] = {key: int(value) for key, value in zip(_USAGE_KEYS, row[:8], strict=True)}
        out["cost_usd"] = None if row[8] is None else round(float(row[8]), 8)
        out["latency_s"] = round(float(row[9]), 6)
        return out

    def usage_by_purpose(self, *, namespace: str | None = None) -> dict[str, dict[str, Any]]:
        """``usage()`` for each purpose recorded (exact purposes, sub-purposes apart)."""
        where, args = _filter(None, namespace=namespace)
        with self._db.cursor() as cur:
            purposes = [
                row[0] for row in cur.execute(f"SELECT DISTINCT purpose FROM llm_calls {where} ORDER BY purpose", args)
            ]
        return {purpose: self.usage(purpose, exact=True, namespace=namespace) for purpose in purposes}

    def timeline(
        self, *, namespace: str | None = None, bucket: Bucket = "day", limit: int = 366
    ) -> list[dict[str, Any]]:
        """Calls, tokens and cost per hour or day (UTC), oldest first: the latest ``limit`` periods with calls.

        Each entry: ``start`` (ISO time of the period), ``calls``, ``cache_hits``, ``tokens_in``, ``tokens_out``,
        ``cost_usd`` (None when no call in it had a known price). Real calls only, as in :meth:`usage`.
        """
        # created_at is ISO 8601 in UTC, so a prefix of it is the period: 13 characters an hour, 10 a day.
        width = {"hour": 13, "day": 10}[bucket]
        where, args = _filter(None, namespace=namespace)
        with self._db.cursor() as cur:
            rows = cur.execute(
                f"SELECT substr(created_at, 1, {width}) AS period, "
                "COALESCE(SUM(cached = 0), 0), COALESCE(SUM(cached = 1), 0), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN tokens_in ELSE 0 END), 0), "
                "COALESCE(SUM(CASE WHEN cached = 0 THEN tokens_out ELSE 0 END), 0), "
                "SUM(CASE WHEN cached = 0 THEN cost_usd END) "
                f"FROM llm_calls {where} GROUP BY period ORDER BY period DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        suffix = ":00:00+00:00" if bucket == "hour" else "T00:00:00+00:00"
        return [
            {
                "start": period + suffix,
                "calls": int(calls),
                "cache_hits": int(hits),
                "tokens_in": int(tokens_in),
                "tokens_out": int(tokens_out),
                "cost_usd": None if cost is None else round(float(cost), 8),
            }
            for period, calls, hits, tokens_in, tokens_out, cost in reversed(rows)
        ]

    def calls(self, purpose: str | None = None, *, namespace: str | None = None) -> list[CallRecord]:
        """The recorded calls, oldest first."""
        where, args = _filter(purpose, namespace=namespace)
        with self._db.cursor() as cur:
            rows = cur.execute(
                "SELECT model, purpose, prompt_hash, outcome, cached, attempts, tokens_in, tokens_out, cost_usd, "
                f"latency_s, error, created_at, namespace FROM llm_calls {where} ORDER BY id",
                args,
            ).fetchall()
        return [
            CallRecord(
                model=r[0],
                purpose=r[1],
                prompt_hash=r[2],
                outcome=r[3],
                cached=bool(r[4]),
                attempts=r[5],
                tokens_in=r[6],
                tokens_out=r[7],
                cost_usd=r[8],
                latency_s=r[9],
                error=r[10],
                created_at=datetime.fromisoformat(r[11]),
                namespace=r[12],
            )
            for r in rows
        ]

    def close(self) -> None:
        self._db.close()


def _add_column(cur: sqlite3.Cursor, statement: str) -> None:
    try:
        cur.execute(statement)
    except sqlite3.OperationalError as error:
        if "duplicate column" not in str(error):  # another process upgraded the file first: nothing to do
            raise


def _filter(purpose: str | None, *, exact: bool = False, namespace: str | None = None) -> tuple[str, tuple[str, ...]]:
    clauses: list[str] = []
    args: list[str] = []
    if purpose is not None and exact:
        clauses.append("purpose = ?")
        args.append(purpose)
    elif purpose is not None:
        escaped = purpose.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("(purpose = ? OR purpose LIKE ? ESCAPE '\\')")
        args += [purpose, escaped + ".%"]
    if namespace is not None:
        clauses.append("namespace = ?")
        args.append(namespace)
    return ("WHERE " + " AND ".join(clauses), tuple(args)) if clauses else ("", ())


class ResponseCache:
    """Validated LLM replies by key (model + prompt hash). ``path=None`` keeps them in memory."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self._db = _Database(path, _CACHE_SCHEMA)

    @classmethod
    def for_store(cls, root: str | os.PathLike[str]) -> ResponseCache:
        """The response cache of the store directory ``root`` (``<root>/llm.sqlite``)."""
        return cls(llm_db_path(root))

    @property
    def path(self) -> Path | None:
        return self._db.path

    def get(self, key: str) -> dict[str, Any] | None:
        with self._db.cursor() as cur:
            row = cur.execute("SELECT payload FROM llm_cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        payload = json.loads(row[0])
        return payload if isinstance(payload, dict) else None

    def put(self, key: str, model: str, payload: dict[str, Any], *, sources: Iterable[str] = ()) -> None:
        """Store ``payload`` (JSON-serialisable) under ``key``; ``sources`` are the log ids its prompt quoted."""
        with self._db.cursor() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO llm_cache (key, model, payload, created_at) VALUES (?, ?, ?, ?)",
                (key, model, json.dumps(payload, ensure_ascii=False), datetime.now(UTC).isoformat()),
            )
            cur.executemany(
                "INSERT OR IGNORE INTO llm_cache_sources (key, source) VALUES (?, ?)",
                [(key, source) for source in sorted(set(sources))],
            )

    def forget_sources(self, sources: Sequence[str]) -> int:
        """Drop every cached reply whose prompt quoted one of these logs; return how many were dropped."""
        if not sources:
            return 0
        with self._db.cursor() as cur:
            marks = ",".join("?" * len(sources))
            keys = [
                row[0]
                for row in cur.execute(
                    f"SELECT DISTINCT key FROM llm_cache_sources WHERE source IN ({marks})", tuple(sources)
                )
            ]
            cur.executemany("DELETE FROM llm_cache WHERE key = ?", [(k,) for k in keys])
        return len(keys)

    def clear(self) -> None:
        with self._db.cursor() as cur:
            cur.execute("DELETE FROM llm_cache")

    def __len__(self) -> int:
        with self._db.cursor() as cur:
            return int(cur.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0])

    def close(self) -> None:
        self._db.close()


__all__ = [
    "LLM_DB_NAME",
    "Bucket",
    "CallRecord",
    "Ledger",
    "Outcome",
    "ResponseCache",
    "calls_for_namespace",
    "llm_db_path",
]
