"""Run every benchmark and write the report: ``python -m benchmarks.run [--quick] [options]``.

1. Learning quality on simulated logs: uno and every baseline fitted on the same logs, scored on held-out queries
   (precision / recall / F1 of injected preferences, noise acceptance, known-preference skips, tokens, cost).
2. ``augment`` latency against store size (synthetic stores replicated from the one uno built), next to embedding
   RAG on the same index.
3. uno's write path: ``add_many`` / ``ingest_file`` throughput, first build, incremental build, full rebuild.
4. The MemoryBench harness on its fixture with the stand-in generator (proves the harness; not a quality result).

Writes ``report.md``, ``results.json`` and PNG plots to ``--out`` (default ``benchmarks/results``) and prints the
figures as it goes. ``--quick`` is a small configuration for tests; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.embedding import EmbedderStack, make_embedder
from benchmarks.machine import describe_machine, load_average
from benchmarks.memorybench import (
    FIXTURE,
    Constants,
    echo_injected_context,
    load_records,
    run_memorybench,
    split_records,
    to_json,
)
from benchmarks.methods.registry import METHOD_KEYS, parse_method_keys
from benchmarks.quality import MethodResult, QualityConfig, QualityRun, measure_rebuilds, run_quality
from benchmarks.report import write_report
from benchmarks.scale import DEFAULT_MAX_LOG_VECTORS, ScalePoint, run_scale
from benchmarks.simulator import NoiseRates, SimulatorConfig

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
FULL = {"logs": 3000, "queries": 300, "sizes": "1000,10000,100000", "scale_queries": 200, "mem0_native_logs": 500}
QUICK = {"logs": 300, "queries": 60, "sizes": "1000", "scale_queries": 40, "mem0_native_logs": 300}


def parse_sizes(text: str) -> list[int]:
    """``"1000,10000"`` -> ``[1000, 10000]``; ``""`` -> no scale run."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be comma-separated integers, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small configuration (tests, smoke runs)")
    parser.add_argument("--logs", type=int, help=f"simulated logs (default {FULL['logs']}, quick {QUICK['logs']})")
    parser.add_argument("--queries", type=int, help=f"held-out queries (default {FULL['queries']})")
    parser.add_argument("--sizes", type=parse_sizes, help=f"store sizes in rules (default {FULL['sizes']})")
    parser.add_argument("--scale-queries", type=int, help="queries timed per store size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--methods", default="all", help=f"comma-separated: {', '.join(METHOD_KEYS)}")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--mem0-native-logs", type=int, help="logs mem0 ingests with its per-insert save")
    parser.add_argument(
        "--max-log-vectors", type=int, default=DEFAULT_MAX_LOG_VECTORS, help="cap on a synthetic store's log index"
    )
    parser.add_argument("--no-rebuild", action="store_true", help="skip the incremental build and full rebuild")
    parser.add_argument("--no-memorybench", action="store_true", help="skip the MemoryBench fixture run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def _method_json(result: MethodResult) -> dict[str, Any]:
    s, fit = result.scores, result.fit
    if result.key == "uno":
        ingest = fit.logs / fit.ingest_seconds if fit.ingest_seconds else 0.0
    elif result.key == "mem0":
        seconds = fit.extra.get("native_seconds", 0.0)
        ingest = fit.extra.get("native_logs", 0.0) / seconds if seconds else 0.0
    else:
        ingest = 0.0
    return {
        "key": result.key,
        "name": result.name,
        "precision": s.prf.precision,
        "recall": s.prf.recall,
        "f1": s.prf.f1,
        "true_positives": s.prf.true_positives,
        "false_positives": s.prf.false_positives,
        "false_negatives": s.prf.false_negatives,
        "precision_declared": s.prf_declared.precision,
        "recall_declared": s.prf_declared.recall,
        "f1_declared": s.prf_declared.f1,
        "unrelated_injection_rate": s.unrelated_injection_rate,
        "noise_acceptance_rate": s.noise_acceptance_rate,
        "noise_accepted": s.noise_accepted,
        "noise_planted": s.noise_planted,
        "noisy_context_rate": s.noisy_context_rate,
        "known_skip_rate": s.known_skip_rate,
        "tokens_mean": s.tokens_mean,
        "tokens_p95": s.tokens_p95,
        "items_mean": s.items_mean,
        "latency": {
            "p50": s.latency_p50_ms,
            "p95": s.latency_p95_ms,
            "rest_p50": s.rest_p50_ms,
            "rest_p95": s.rest_p95_ms,
            "embed_p50": s.embed_p50_ms,
        },
        "fit": asdict(fit),
        "llm_calls_per_log": fit.llm_calls / fit.logs if fit.logs else 0.0,
        "llm_tokens_per_log": fit.llm_tokens / fit.logs if fit.logs else 0.0,
        "ingest_logs_per_s": ingest,
        "peak_rss_increase_mb": result.peak_rss_increase_mb,
        "by_topic_f1": s.by_topic_f1,
    }


def _scale_json(point: ScalePoint) -> dict[str, Any]:
    return {**asdict(point), "rest_ratio": point.rest_ratio}


def collect(
    machine: dict[str, Any],
    args: argparse.Namespace,
    run: QualityRun,
    scale: Sequence[ScalePoint],
    bench: dict[str, Any] | None,
    started: float,
    dimension: int,
) -> dict[str, Any]:
    simulator = SimulatorConfig(seed=args.seed)
    return {
        "machine": machine,
        "config": {
            "quick": args.quick,
            "logs": run.config.logs,
            "held_out": run.config.held_out,
            "seed": run.config.seed,
            "methods": list(run.config.methods),
            "embedder": args.embedder,
            "dimension": dimension,
            "sizes": list(args.sizes),
            "scale_queries": args.scale_queries,
            "max_log_vectors": args.max_log_vectors,
            "mem0_native_logs": run.config.mem0_native_logs,
            "simulator": {"users": simulator.users, "topics": list(simulator.topics), "noise": NoiseRates().as_dict()},
        },
        "noise_counts": run.noise_counts,
        "query_embedding_ms": {"p50": run.query_embedding_p50_ms, "p95": run.query_embedding_p95_ms},
        "methods": [_method_json(result) for result in run.results],
        "unavailable": run.unavailable,
        "uno_costs": asdict(run.uno_costs) if run.uno_costs else None,
        "scale": [_scale_json(point) for point in scale],
        "memorybench": bench,
        "runtime_seconds": time.perf_counter() - started,
        "load_average_at_end": load_average(),
    }


def _parse(argv: Sequence[str] | None) -> tuple[argparse.Namespace, tuple[str, ...]]:
    """The options, with the preset's values filled in for the ones not given, and the method keys."""
    parser = build_parser()
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    args.logs = args.logs or preset["logs"]
    args.queries = args.queries or preset["queries"]
    args.sizes = args.sizes if args.sizes is not None else parse_sizes(str(preset["sizes"]))
    args.scale_queries = args.scale_queries or preset["scale_queries"]
    args.mem0_native_logs = args.mem0_native_logs if args.mem0_native_logs is not None else preset["mem0_native_logs"]
    try:
        return args, parse_method_keys(args.methods)
    except ValueError as error:
        parser.error(str(error))


def _memorybench(methods: Sequence[str], stack: EmbedderStack, workdir: Path) -> dict[str, Any]:
    """The MemoryBench harness on its fixture with the stand-in generator."""
    train, test = split_records(load_records(FIXTURE))
    bench_run = run_memorybench(
        train,
        test,
        methods,
        echo_injected_context,
        stack=stack,
        constants=Constants.load(),
        workdir=workdir,
        generator_name="benchmarks.memorybench:echo_injected_context (stand-in, not an LLM)",
    )
    for scores in bench_run.methods:
        print(f"  {scores.name:<13} weighted average {scores.weighted_average:.3f}")
    return to_json(bench_run)


def _measure(
    args: argparse.Namespace, methods: tuple[str, ...], stack: EmbedderStack, workdir: Path
) -> tuple[QualityRun, list[ScalePoint], dict[str, Any] | None]:
    config = QualityConfig(args.logs, args.queries, args.seed, methods, mem0_native_logs=args.mem0_native_logs)
    print("Learning quality:")
    run = run_quality(config, stack, workdir)
    scale: list[ScalePoint] = []
    try:
        if run.uno is not None and args.sizes:
            print("augment latency against store size:")
            queries = [q.query for q in run.queries[: args.scale_queries]]
            scale = run_scale(
                run.uno.memory, stack, queries, args.sizes, seed=args.seed, max_log_vectors=args.max_log_vectors
            )
        if not args.no_rebuild:
            print("uno rebuilds:")
            measure_rebuilds(run)
    finally:
        if run.uno is not None:
            run.uno.close()
    bench = None
    if not args.no_memorybench:
        print("MemoryBench harness (fixture, stand-in generator):")
        bench = _memorybench(methods, stack, workdir / "memorybench")
    return run, scale, bench


def main(argv: Sequence[str] | None = None) -> int:
    args, methods = _parse(argv)
    started = time.perf_counter()
    machine = describe_machine(list(sys.argv[1:] if argv is None else argv))
    print(f"uno benchmarks on {machine['cpu']} ({machine['cores']} cores, {machine['memory_gib']} GiB)")
    stack = make_embedder(args.embedder)
    try:
        with tempfile.TemporaryDirectory(prefix="uno-bench-") as scratch:
            run, scale, bench = _measure(args, methods, stack, Path(scratch))
    finally:
        stack.close()
    results = collect(machine, args, run, scale, bench, started, stack.outer.dimension)
    paths = write_report(results, args.out)
    print(f"Wrote {', '.join(str(p) for p in paths.values())} in {results['runtime_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
