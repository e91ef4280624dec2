"""The shared PostgreSQL store next to the SQLite directory, in one run, on the same logs.

Run: ``python -m benchmarks.scale_out [--logs 2000] [--repeats 5] [--queries 200] [--postgres URL] [--out DIR]``.
Writes ``scale_out.json`` and ``scale_out.md`` to ``--out`` (default benchmarks/results) and prints the JSON.
The PostgreSQL server is ``--postgres``, else ``$UNO_TEST_POSTGRES_URL``, else
``postgresql://postgres@127.0.0.1:5432/test``; each repeat works in a fresh schema, dropped afterwards.

Measured, for each store:

* **ingest**: ``UnoMemory.add_many`` of ``--logs`` logs (the 200 shipped sample logs, repeated with distinct ids and
  queries) in batches of 500, the size of a large REST request; logs per second, median (and best) of the
  repeats, each on an empty store, the stores taking turns within a repeat. Its floor is the raw database doing
  the least that stores those rows (id, namespace and the record's JSON): ``executemany`` in one transaction per
  batch for SQLite, ``COPY`` for PostgreSQL; ``uno / floor`` says what uno's checks, deduplication and indexed
  columns cost on top.
* **augment**: latency of ``UnoMemory.augment`` after a build of the sample logs, over ``--queries`` queries (each
  query's embedding cached, the model-free hashing embedder: what is left is uno and its store), with the default
  ``reload_interval`` (the store's build generation read every 2 s) and with ``reload_interval=0`` (read on every
  call: the worst case, one database round trip per request).

Ratios are PostgreSQL / SQLite of the same figure in the same run. Timings are wall-clock on a machine that may be
shared: the load average is recorded at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.machine import describe_machine, load_average
from rule_store.factory import redact_url
from rule_store.records import LogRecord
from uno.demo import sample_logs_path
from uno.ingest import parse_record

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
STEM = "scale_out"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 500
STORES = ("sqlite", "postgres")


def sample_records() -> list[dict[str, Any]]:
    lines = sample_logs_path().read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def workload(count: int) -> list[LogRecord]:
    """``count`` logs: the sample logs over and over, each copy with its own id and query (no two alike)."""
    sample = sample_records()
    logs = []
    for n in range(count):
        record = dict(sample[n % len(sample)])
        record["id"] = f"{record['id']}-{n}"
        record["query"] = f"{record['query']} (#{n})"
        logs.append(parse_record(record))
    return logs


# ----------------------------------------------------------------------------------------------- stores


@contextmanager
def store_spec(kind: str, postgres: str, root: Path) -> Iterator[str]:
    """A fresh, empty store of ``kind``: a SQLite directory, or a PostgreSQL URL with a new schema."""
    if kind == "sqlite":
        directory = root / f"sqlite-{uuid.uuid4().hex[:8]}"
        yield str(directory)
        return
    schema = f"uno_bench_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{postgres}{'&' if '?' in postgres else '?'}schema={schema}"
    finally:
        _drop_schema(postgres, schema)


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _memory(spec: str, cache: Path, **kwargs: Any) -> Any:
    """An ``UnoMemory`` on ``spec`` with the hashing embedder; a URL's local files go under ``cache``."""
    from rule_store.factory import is_store_url, open_store
    from uno.cluster import ClusteringConfig
    from uno.embed import HashingEmbedder
    from uno.memory import UnoMemory

    embedder = HashingEmbedder(256)
    clustering = ClusteringConfig(similarity_floor=0.25, min_cluster_size=3)
    if is_store_url(spec):
        # A replica's way to choose its local directory: the store given whole, the directory as ``path``.
        return UnoMemory(cache, store=open_store(spec), embedder=embedder, clustering=clustering, **kwargs)
    return UnoMemory(spec, embedder=embedder, clustering=clustering, **kwargs)


# ----------------------------------------------------------------------------------------------- ingest


def time_ingest(spec: str, cache: Path, logs: list[LogRecord]) -> float:
    with _memory(spec, cache) as memory:
        started = time.perf_counter()
        for start in range(0, len(logs), BATCH):
            outcome = memory.add_many(logs[start : start + BATCH])
            if outcome.rejected:
                raise RuntimeError(f"the benchmark's logs were refused: {outcome.rejected[0].reason}")
        seconds = time.perf_counter() - started
        stored = memory.store.count_logs()
    if stored != len(logs):
        raise RuntimeError(f"{stored} logs stored of {len(logs)}")
    return seconds


def _rows(logs: list[LogRecord]) -> list[tuple[str, str, str]]:
    return [(log.id, log.namespace, log.model_dump_json()) for log in logs]


def floor_sqlite(root: Path, logs: list[LogRecord]) -> float:
    """``executemany`` of the rows into a table keyed like uno's, in one transaction (WAL, synchronous=NORMAL)."""
    import sqlite3

    rows = _rows(logs)
    path = root / f"floor-{uuid.uuid4().hex[:8]}.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE logs (id TEXT, namespace TEXT, body TEXT, PRIMARY KEY (namespace, id))")
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO logs VALUES (?, ?, ?)", rows[start : start + BATCH])
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def floor_postgres(url: str, logs: list[LogRecord]) -> float:
    """``COPY`` of the rows into a table keyed like uno's (one transaction per batch, as uno's ``add_many``)."""
    import psycopg
    from psycopg import sql

    rows = _rows(logs)
    schema = f"uno_floor_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            table = sql.Identifier(schema, "logs")
            conn.execute(
                sql.SQL("CREATE TABLE {} (id TEXT, namespace TEXT, body JSONB, PRIMARY KEY (namespace, id))").format(
                    table
                )
            )
            started = time.perf_counter()
            for start in range(0, len(rows), BATCH):
                statement = sql.SQL("COPY {} (id, namespace, body) FROM STDIN").format(table)
                with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows[start : start + BATCH]:
                        copy.write_row(row)
            return time.perf_counter() - started
    finally:
        _drop_schema(url, schema)


# ----------------------------------------------------------------------------------------------- augment


def augment_latencies(spec: str, cache: Path, queries: list[str], reload_interval: float) -> list[float]:
    """Milliseconds per ``augment`` call, each query asked twice: first to warm its embedding, then timed."""
    with _memory(spec, cache, reload_interval=reload_interval) as memory:
        for query in queries:
            memory.augment(query)
        timings = []
        for query in queries:
            started = time.perf_counter()
            memory.augment(query)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def built_store(spec: str, cache: Path) -> int:
    """Add the sample logs and build; the number of active rules."""
    with _memory(spec, cache) as memory:
        memory.add_many(sample_records())
        report = memory.build()
    return int(report.rules_by_status.get("active", 0))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ----------------------------------------------------------------------------------------------- run


def run(logs_count: int, repeats: int, query_count: int, postgres: str) -> dict[str, Any]:
    logs = workload(logs_count)
    queries = [str(record["query"]) for record in sample_records()][:query_count]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="uno-scale-out-") as tmp:
        root = Path(tmp)
        ingest: dict[str, list[float]] = {kind: [] for kind in STORES}
        floor: dict[str, list[float]] = {kind: [] for kind in STORES}
        # The stores take turns within each repeat, so that a load spike of a shared machine hits both alike.
        for repeat in range(repeats):
            for kind in STORES:
                with store_spec(kind, postgres, root) as spec:
                    ingest[kind].append(time_ingest(spec, root / f"cache-{kind}-{repeat}", logs))
                floor[kind].append(floor_sqlite(root, logs) if kind == "sqlite" else floor_postgres(postgres, logs))
        for kind in STORES:
            entry: dict[str, Any] = {
                "ingest_logs_per_s": round(logs_count / statistics.median(ingest[kind]), 1),
                "ingest_best_logs_per_s": round(logs_count / min(ingest[kind]), 1),
                "ingest_seconds": [round(s, 6) for s in ingest[kind]],
                "floor": "executemany" if kind == "sqlite" else "COPY",
                "floor_rows_per_s": round(logs_count / statistics.median(floor[kind]), 1),
                "floor_best_rows_per_s": round(logs_count / min(floor[kind]), 1),
                "floor_seconds": [round(s, 6) for s in floor[kind]],
            }
            entry["ingest_vs_floor"] = round(entry["ingest_logs_per_s"] / entry["floor_rows_per_s"], 3)
            with store_spec(kind, postgres, root) as spec:
                entry["active_rules"] = built_store(spec, root / f"cache-{kind}-build")
                for label, interval in (("default", 2.0), ("every_call", 0.0)):
                    timings = augment_latencies(spec, root / f"cache-{kind}-build", queries, interval)
                    entry[f"augment_ms_{label}"] = _latency(timings)
            results[kind] = entry
    sqlite, pg = results["sqlite"], results["postgres"]
    ratios = {
        "ingest_throughput": round(pg["ingest_logs_per_s"] / sqlite["ingest_logs_per_s"], 3),
        "ingest_throughput_best": round(pg["ingest_best_logs_per_s"] / sqlite["ingest_best_logs_per_s"], 3),
        "augment_p50_default": _ratio(pg, sqlite, "augment_ms_default", "p50"),
        "augment_p95_default": _ratio(pg, sqlite, "augment_ms_default", "p95"),
        "augment_p50_every_call": _ratio(pg, sqlite, "augment_ms_every_call", "p50"),
        "augment_p95_every_call": _ratio(pg, sqlite, "augment_ms_every_call", "p95"),
    }
    return {
        "config": {
            "logs": logs_count,
            "batch": BATCH,
            "repeats": repeats,
            "queries": len(queries),
            "postgres": redact_url(postgres),
            "embedder": "HashingEmbedder(256)",
        },
        "results": results,
        "ratios_postgres_over_sqlite": ratios,
    }


def _latency(timings: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(timings, 0.5), 3),
        "p95": round(percentile(timings, 0.95), 3),
        "mean": round(statistics.fmean(timings), 3),
    }


def _ratio(pg: dict[str, Any], sqlite: dict[str, Any], key: str, stat: str) -> float:
    return round(float(pg[key][stat]) / float(sqlite[key][stat]), 3)


def render(report: dict[str, Any]) -> str:
    config, results, ratios = report["config"], report["results"], report["ratios_postgres_over_sqlite"]
    sqlite, pg = results["sqlite"], results["postgres"]
    machine = report["machine"]
    lines = [
        "# Scale-out: PostgreSQL next to SQLite",
        "",
        f"`python -m benchmarks.scale_out` on {machine['cpu']} ({machine['cores']} cores), "
        f"load average {machine['load_average_at_start']} at start, {report['load_average_at_end']} at end; "
        f"PostgreSQL at `{config['postgres']}`, commit `{machine['commit']}`, {machine['date']}.",
        "",
        f"Ingest: {config['logs']} logs (the shipped sample logs, repeated with distinct ids) through "
        f"`UnoMemory.add_many` in batches of {config['batch']}, median (and best) of {config['repeats']} runs on "
        "empty stores, the two stores taking turns. "
        f"Augment: {config['queries']} queries after a build of the sample logs, embeddings cached "
        f"({config['embedder']}).",
        "",
        "| | SQLite | PostgreSQL | PostgreSQL / SQLite |",
        "|---|---:|---:|---:|",
        f"| ingest, logs/s | {sqlite['ingest_logs_per_s']:,.0f} | {pg['ingest_logs_per_s']:,.0f} "
        f"| {ratios['ingest_throughput']:.2f} |",
        f"| ingest, logs/s, best run | {sqlite['ingest_best_logs_per_s']:,.0f} | {pg['ingest_best_logs_per_s']:,.0f} "
        f"| {ratios['ingest_throughput_best']:.2f} |",
        f"| raw floor, rows/s | {sqlite['floor_rows_per_s']:,.0f} ({sqlite['floor']}) "
        f"| {pg['floor_rows_per_s']:,.0f} ({pg['floor']}) | |",
        f"| ingest / floor | {sqlite['ingest_vs_floor']:.2f} | {pg['ingest_vs_floor']:.2f} | |",
    ]
    for label, title in (("default", "reload_interval 2 s"), ("every_call", "generation read on every call")):
        key = f"augment_ms_{label}"
        for stat in ("p50", "p95"):
            lines.append(
                f"| augment {stat}, ms ({title}) | {sqlite[key][stat]:.3f} | {pg[key][stat]:.3f} "
                f"| {ratios[f'augment_{stat}_{label}']:.2f} |"
            )
    lines += [
        f"| active rules after the build | {sqlite['active_rules']} | {pg['active_rules']} | |",
        "",
        "Reading it: `ingest / floor` is the share of the ingest time the database itself needs at least; the rest "
        "is uno's work per record (validation against the input limits, content hashes, the id and content "
        "lookups that make adds idempotent, the indexed columns). With the default `reload_interval` a replica reads "
        "the store's build generation once every 2 s, so the store behind `augment` hardly shows; read on every "
        "call, each `augment` pays one database round trip, which on a loaded machine waits for the database "
        "process to be scheduled.",
        "",
        "Timings are wall-clock on a shared machine (see the load average); the ratios compare figures taken in the "
        "same run. Raw figures per repeat are in [scale_out.json](scale_out.json).",
        "",
    ]
    return "\n".join(lines)


def _git_head() -> str | None:
    """The commit, asked of git: ``describe_machine`` reads ``.git`` itself, which a worktree's is not."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=DEFAULT_OUT, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--logs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("UNO_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for name in ("logs", "repeats", "queries"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    machine = describe_machine(argv)
    machine["command"] = " ".join(["python -m benchmarks.scale_out", *(sys.argv[1:] if argv is None else argv)])
    machine["commit"] = machine["commit"] or _git_head()
    report: dict[str, Any] = {"machine": machine}
    report |= run(args.logs, args.repeats, args.queries, args.postgres)
    report["load_average_at_end"] = load_average()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{STEM}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{STEM}.md").write_text(render(report), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
