"""Scale on one machine (issue 13): ``python -m benchmarks.scale_machine [options]``.

Measures, in one run, on simulator logs and the hashing embedder (so the figures are uno's own work, not the
model's; the query embedding is excluded from augment's latency anyway):

* ``add_many`` against raw SQLite ``executemany`` of the same rows, into a plain table and into the store's own
  ``logs`` table (same schema and indexes);
* builds at each ``--build-logs`` size: the first build of 90% of the logs, then the remaining 10% incrementally,
  with the time spent clustering, the store's bytes on disk per log and the process's RSS; at the first size the
  clustering inputs are also clustered by sklearn's exact HDBSCAN, the method used before (same inputs, same run);
* ``augment`` latency (p50/p95 beyond the query embedding) with 1x/3x/10x the evidence per rule on the first
  built store, next to the raw FAISS floor (its two searches alone) of that store;
* synthetic stores of ``--sizes`` active rules replicated from that store (:mod:`benchmarks.scale`), with augment,
  Emb-RAG, the FAISS floor, the RSS increase and the saved index bytes per rule.

Writes ``scale_machine.json`` and ``scale_machine.md`` into ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.embedding import EmbedderStack, make_embedder
from benchmarks.machine import describe_machine, load_average
from benchmarks.quality import QualityConfig, simulate
from benchmarks.rss import release_free_memory, resident_bytes
from benchmarks.run import parse_sizes
from benchmarks.scale import DEFAULT_MAX_LOG_VECTORS, run_evidence_sweep, run_scale
from rule_store.records import LogRecord
from rule_store.sqlite import _INSERT_LOG, _LOG_COLUMNS, SQLiteRuleStore, _log_row
from uno.cluster import ClusteringConfig, fit_clusters
from uno.memory import UnoMemory

DEFAULT_OUT = Path(__file__).parent / "results"
INCREMENT_SHARE = 0.1


def time_add_many(records: Sequence[LogRecord], workdir: Path) -> dict[str, float]:
    """Seconds for ``UnoMemory.add_many`` and for raw ``executemany`` of the same (unique) rows."""
    memory = UnoMemory(workdir / "add-many", embedder=make_embedder("hashing").outer)
    started = time.perf_counter()
    outcome = memory.add_many(records)
    add_many = time.perf_counter() - started
    memory.close()
    unique: dict[tuple[str, str], tuple[Any, ...]] = {}
    for record in records:
        row = _log_row(record, record.content_hash())
        unique.setdefault((row["namespace"], row["content_hash"]), tuple(row[c] for c in _LOG_COLUMNS))
    rows = list(unique.values())
    plain = sqlite3.connect(workdir / "raw-plain.sqlite")
    plain.execute(f"CREATE TABLE logs ({', '.join(_LOG_COLUMNS)}, PRIMARY KEY (id))")
    started = time.perf_counter()
    with plain:
        plain.executemany(_INSERT_LOG, rows)
    raw_plain = time.perf_counter() - started
    plain.close()
    store = SQLiteRuleStore(workdir / "raw-schema.sqlite")
    started = time.perf_counter()
    with store.transaction():
        store._connection().executemany(_INSERT_LOG, rows)
    raw_schema = time.perf_counter() - started
    store.close()
    return {
        "rows": len(rows),
        "inserted": len(outcome.inserted),
        "add_many_seconds": add_many,
        "raw_plain_table_seconds": raw_plain,
        "raw_store_table_seconds": raw_schema,
        "ratio_to_raw_plain": raw_plain / add_many,
        "ratio_to_raw_store_table": raw_schema / add_many,
    }


class ClusterClock:
    """Counts the time ``build`` spends in ``fit_clusters`` and keeps the last inputs (to re-cluster them)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.last: tuple[Any, ...] | None = None

    def wrap(self, inner: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args)
            finally:
                self.seconds += time.perf_counter() - started
                self.last = args

        return timed


def _bytes_under(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure_build(logs: int, stack: EmbedderStack, workdir: Path, *, seed: int, exact: bool) -> dict[str, Any]:
    """First build of 90% of ``logs`` simulator logs, then an incremental build of the rest."""
    # Patched where build looks it up: uno.memory imported it by name.
    module: Any = importlib.import_module("uno.memory")
    _, records = simulate(QualityConfig(logs=logs, held_out=0, seed=seed, methods=()))
    cut = int(len(records) * (1 - INCREMENT_SHARE))
    clock = ClusterClock()
    original = module.fit_clusters
    module.fit_clusters = clock.wrap(original)
    try:
        memory = UnoMemory(workdir / f"build-{logs}", embedder=stack.outer)
        memory.add_many(records[:cut])
        release_free_memory()
        rss_before = resident_bytes() or 0
        started = time.perf_counter()
        first = memory.build()
        first_seconds = time.perf_counter() - started
        first_cluster = clock.seconds
        fit_inputs = clock.last
        memory.add_many(records[cut:])
        started = time.perf_counter()
        incremental = memory.build()
        incremental_seconds = time.perf_counter() - started
        rss_after = resident_bytes() or 0
    finally:
        module.fit_clusters = original
    out: dict[str, Any] = {
        "logs": len(records),
        "first_logs": cut,
        "first_seconds": first_seconds,
        "first_cluster_seconds": first_cluster,
        "first_cluster_share": first_cluster / first_seconds if first_seconds else 0.0,
        "clustered_logs": len(fit_inputs[1]) if fit_inputs else 0,
        "clusters": first.clusters,
        "incremental_seconds": incremental_seconds,
        "incremental_reclustered": incremental.reclustered,
        "incremental_share": incremental_seconds / first_seconds if first_seconds else 0.0,
        "rss_increase_mb": (rss_after - rss_before) / 2**20,
        "database_bytes_per_log": _bytes_under(memory.paths.root) / len(records),
        "index_bytes_per_log": _bytes_under(memory.paths.index_dir) / len(records),
    }
    if exact and fit_inputs is not None:
        namespace, ids, queries, feedback, config = fit_inputs
        exact_config = ClusteringConfig(**{**asdict(config), "graph_above": 10**12})
        started = time.perf_counter()
        fit_clusters(namespace, ids, queries, feedback, exact_config)
        out["exact_hdbscan_seconds"] = time.perf_counter() - started
    out["memory"] = memory
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    stack = make_embedder("hashing")
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": describe_machine(), "config": {k: str(v) for k, v in vars(args).items()}}
    with tempfile.TemporaryDirectory(prefix="uno-scale-machine-") as scratch:
        workdir = Path(scratch)
        _, add_records = simulate(QualityConfig(logs=args.add_logs, held_out=0, seed=args.seed, methods=()))
        results["add_many"] = time_add_many(add_records, workdir)
        print("add_many", results["add_many"], flush=True)
        builds = []
        memory: UnoMemory | None = None
        for number, logs in enumerate(args.build_logs):
            point = measure_build(logs, stack, workdir, seed=args.seed, exact=number == 0 and args.exact)
            built = point.pop("memory")
            if memory is None:
                memory = built
            else:
                built.close()
            print("build", point, flush=True)
            builds.append(point)
        results["builds"] = builds
        assert memory is not None
        _, held = simulate(QualityConfig(logs=args.queries, held_out=0, seed=args.seed + 1, methods=()))
        queries = [record.query for record in held]
        sweep = run_evidence_sweep(memory, stack, queries, args.factors)
        results["evidence"] = [asdict(point) for point in sweep]
        for step in sweep:
            print(f"evidence x{step.factor}: augment p50 {step.uno.rest_p50_ms:.3f} ms", flush=True)
        scale = (
            run_scale(memory, stack, queries, args.sizes, seed=args.seed, max_log_vectors=args.max_log_vectors)
            if args.sizes
            else []
        )
        results["synthetic"] = [{**asdict(point), "rest_ratio": point.rest_ratio} for point in scale]
        memory.close()
    stack.close()
    results["runtime_seconds"] = time.perf_counter() - started
    results["load_average_at_end"] = load_average()
    return results


def render(results: dict[str, Any]) -> str:
    """The report section (also embedded in report.md by :mod:`benchmarks.report`)."""
    lines = ["## Scale on one machine (issue 13)", ""]
    machine = results.get("machine", {})
    lines.append(
        f"`python -m benchmarks.scale_machine` on {machine.get('cores', '?')} cores ({machine.get('cpu', '?')}), "
        "hashing embedder, simulator logs; ratios are from this one run "
        f"(load average at the end: {results.get('load_average_at_end')}), absolute times noisy on a shared machine."
    )
    add = results["add_many"]
    lines += [
        "",
        f"**add_many** of {add['rows']:,} logs: {add['add_many_seconds']:.2f} s; raw `executemany` of the same rows "
        f"into the store's own table {add['raw_store_table_seconds']:.2f} s "
        f"(add_many at {add['ratio_to_raw_store_table']:.0%} of it), into a plain table "
        f"{add['raw_plain_table_seconds']:.2f} s ({add['ratio_to_raw_plain']:.0%}).",
        "",
        "| logs | first build (90%) | of which clustering | exact HDBSCAN on the same input | +10% incremental | "
        "incremental / first | store bytes per log | index bytes per log |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for build in results["builds"]:
        exact = build.get("exact_hdbscan_seconds")
        lines.append(
            f"| {build['logs']:,} | {build['first_seconds']:.1f} s | {build['first_cluster_seconds']:.1f} s "
            f"({build['first_cluster_share']:.0%}, {build['clustered_logs']:,} learnt logs) | "
            f"{f'{exact:.1f} s' if exact is not None else '-'} | {build['incremental_seconds']:.1f} s | "
            f"{build['incremental_share']:.0%} | {build['database_bytes_per_log']:,.0f} | "
            f"{build['index_bytes_per_log']:,.0f} |"
        )
    lines += [
        "",
        "**augment against evidence per rule** (the first store above; ms beyond the query embedding, wall clock "
        "and the process's CPU time; augment and the FAISS floor timed query by query, interleaved, after one "
        "untimed pass). The wall-clock p95 is the shared machine's scheduler (a preempted query waits a time "
        "slice; the bare FAISS floor has the same tail); the CPU time is what a query costs:",
        "",
        "| evidence per rule | evidence items | summarise at build | augment p50 / p95 (wall) | "
        "FAISS floor p50 / p95 (wall) | augment CPU p50 / p95 | floor CPU p50 | CPU p50 / floor | CPU p95 / p50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for point in results["evidence"]:
        uno, floor = point["uno"], point["floor"]
        lines.append(
            f"| {point['factor']}x | {point['evidence_items']:,} | {point['summarise_seconds']:.3f} s | "
            f"{uno['rest_p50_ms']:.3f} / {uno['rest_p95_ms']:.3f} | {floor['p50_ms']:.3f} / {floor['p95_ms']:.3f} | "
            f"{_cpu(uno)} | {floor.get('cpu_p50_ms', 0.0):.3f} | {_ratio(uno, floor)} | {_tail(uno)} |"
        )
    if results.get("synthetic"):
        lines += [
            "",
            "**Synthetic stores** (replicated from the first store; ms beyond the query embedding):",
            "",
            "| active rules | log vectors (uncapped) | augment p50 / p95 (wall) | FAISS floor p50 (wall) | "
            "augment CPU p50 / p95 | CPU p50 / floor | Emb-RAG p50 | RSS increase per rule (peak / steady) | "
            "saved index bytes per rule | per log vector |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for point in results["synthetic"]:
            rss = point["rss_increase_mb"]
            steady = point.get("rss_steady_mb")
            per_rule = f"{rss * 2**20 / point['rules']:,.0f} B" if rss is not None else "-"
            if steady is not None:
                per_rule += f" / {steady * 2**20 / point['rules']:,.0f} B"
            index_bytes = point.get("index_bytes") or 0
            lines.append(
                f"| {point['rules']:,} | {point['log_vectors']:,} ({point['log_vectors_uncapped']:,}) | "
                f"{point['uno']['rest_p50_ms']:.3f} / {point['uno']['rest_p95_ms']:.3f} | "
                f"{point['floor']['p50_ms']:.3f} | {_cpu(point['uno'])} | {_ratio(point['uno'], point['floor'])} | "
                f"{point['rag']['rest_p50_ms']:.3f} | {per_rule} | {index_bytes / point['rules']:,.0f} B | "
                f"{index_bytes / max(1, point['log_vectors'] + point['clusters']):,.0f} B |"
            )
    return "\n".join(lines) + "\n"


def _cpu(latency: dict[str, float]) -> str:
    return f"{latency.get('cpu_p50_ms', 0.0):.3f} / {latency.get('cpu_p95_ms', 0.0):.3f}"


def _ratio(uno: dict[str, float], floor: dict[str, float]) -> str:
    """augment's CPU p50 over the floor's (wall-clock p50s for results written before CPU time was measured)."""
    mine, base = uno.get("cpu_p50_ms", 0.0), floor.get("cpu_p50_ms", 0.0)
    if not (mine and base):
        mine, base = uno["rest_p50_ms"], floor["p50_ms"]
    return f"{mine / base:.1f}" if base else "-"


def _tail(latency: dict[str, float]) -> str:
    p50, p95 = latency.get("cpu_p50_ms", 0.0), latency.get("cpu_p95_ms", 0.0)
    return f"{p95 / p50:.1f}" if p50 else "-"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_machine", description=__doc__)
    parser.add_argument("--build-logs", type=parse_sizes, default=[10_000], help="simulator logs per build")
    parser.add_argument("--add-logs", type=int, default=10_000, help="logs for add_many against executemany")
    parser.add_argument("--factors", type=parse_sizes, default=[1, 3, 10], help="evidence multipliers")
    parser.add_argument("--sizes", type=parse_sizes, default=[10_000, 100_000], help="synthetic store sizes")
    parser.add_argument("--queries", type=int, default=200, help="queries timed per point")
    parser.add_argument(
        "--max-log-vectors",
        type=int,
        default=DEFAULT_MAX_LOG_VECTORS,
        help="cap on a synthetic store's learnt-log vectors (see benchmarks.scale)",
    )
    parser.add_argument("--no-exact", dest="exact", action="store_false", help="skip sklearn's exact HDBSCAN")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale_machine.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (args.out / "scale_machine.md").write_text(render(results), encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "measure_build", "render", "time_add_many"]
