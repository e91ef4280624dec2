"""The learning-quality run: simulated logs in, every method fitted, held-out queries scored.

Logs come from :mod:`benchmarks.simulator` (topics x hidden preferences, with planted noise); evaluation queries
are its held-out phrasings plus unrelated questions that should get nothing. Every method sees the same logs, in
the same order, parsed by uno's own ``plain`` format reader.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.embedding import EmbedderStack, model_latencies
from benchmarks.methods.base import FitStats, Method
from benchmarks.methods.registry import MethodUnavailable, make_method
from benchmarks.methods.uno_method import UnoMethod
from benchmarks.metrics import LogTruth, QualityScores, QueryOutcome, ground_truth, percentile_ms, summarize
from benchmarks.rss import PeakRSS
from benchmarks.simulator import HeldOutQuery, LogGenerator, SimulatedLog, SimulatorConfig, held_out_queries
from benchmarks.simulator.generate import write_logs
from rule_store.records import LogRecord
from uno.ingest import parse_record


@dataclass(frozen=True)
class QualityConfig:
    logs: int
    held_out: int
    seed: int
    methods: tuple[str, ...]
    mem0_native_logs: int = 500
    # Logs added after the first build to time an incremental build, as a share of ``logs``.
    incremental_share: float = 0.1


@dataclass
class MethodResult:
    key: str
    name: str
    fit: FitStats
    scores: QualityScores
    peak_rss_increase_mb: float | None
    outcomes: list[QueryOutcome] = field(default_factory=list)


@dataclass
class UnoCosts:
    """uno's write path: storing logs two ways, the first build, an incremental build and a full rebuild."""

    add_many_logs_per_s: float
    ingest_file_logs_per_s: float
    ingest_file_summary: str
    build_seconds: float
    build_report: dict[str, Any]
    incremental_logs: int = 0
    incremental_build_seconds: float | None = None
    full_rebuild_seconds: float | None = None


@dataclass
class QualityRun:
    config: QualityConfig
    queries: list[HeldOutQuery]
    truth: dict[str, LogTruth]
    results: list[MethodResult]
    unavailable: dict[str, str]
    query_embedding_p50_ms: float
    query_embedding_p95_ms: float
    noise_counts: dict[str, int]
    uno: UnoMethod | None = None
    uno_costs: UnoCosts | None = None


def simulate(config: QualityConfig) -> tuple[list[SimulatedLog], list[LogRecord]]:
    simulated = list(LogGenerator(SimulatorConfig(seed=config.seed)).iter_logs(config.logs))
    return simulated, [parse_record(log.to_plain(), "plain") for log in simulated]


def evaluate(
    method: Method, queries: Sequence[HeldOutQuery], truth: dict[str, LogTruth], stack: EmbedderStack
) -> list[QueryOutcome]:
    """Each query's context, scored, with its wall time and the part of it spent embedding."""
    outcomes = []
    for query in queries:
        before = stack.outer.clock.snapshot()
        started = time.perf_counter()
        context = method.context(query.query)
        seconds = time.perf_counter() - started
        outcomes.append(
            QueryOutcome.score(
                query.query,
                query.topic,
                query.expected_aspects,
                context,
                truth,
                seconds=seconds,
                embed_seconds=stack.outer.clock.since(before).seconds,
            )
        )
    return outcomes


def run_quality(
    config: QualityConfig, stack: EmbedderStack, workdir: Path, *, log: Callable[[str], None] = print
) -> QualityRun:
    """Fit every method on the same simulated logs and score it on the held-out queries.

    The uno method is kept open in the result (``run.uno``) for the scale and rebuild measurements; close it.
    """
    simulated, records = simulate(config)
    truth = ground_truth(simulated)
    queries = held_out_queries(config.held_out, config.seed)
    texts = [q.query for q in queries]
    # Warm the model and the cache: every method then reads query vectors from the cache, and the model's own
    # per-query embedding time is measured once, here.
    stack.outer.embed(texts)
    embedding = model_latencies(stack, texts)
    run = QualityRun(
        config=config,
        queries=queries,
        truth=truth,
        results=[],
        unavailable={},
        query_embedding_p50_ms=percentile_ms(embedding, 50),
        query_embedding_p95_ms=percentile_ms(embedding, 95),
        noise_counts=dict(Counter(log.noise or "clean" for log in simulated)),
    )
    log(
        f"{len(records)} logs, {len(queries)} held-out queries; query embedding p50 {run.query_embedding_p50_ms:.1f} ms"
    )
    for key in config.methods:
        try:
            method = make_method(key, stack, workdir / key, mem0_native_logs=config.mem0_native_logs)
        except MethodUnavailable as error:
            run.unavailable[key] = str(error)
            log(f"  {key}: unavailable: {error}")
            continue
        with PeakRSS() as peak:
            fit = method.fit(records)
            outcomes = evaluate(method, queries, truth, stack)
        scores = summarize(outcomes, truth)
        run.results.append(MethodResult(key, method.name, fit, scores, peak.increase_mb, outcomes))
        log(
            f"  {method.name:<13} F1 {scores.prf.f1:.3f} (P {scores.prf.precision:.3f} R {scores.prf.recall:.3f}) | "
            f"noise accepted {scores.noise_acceptance_rate:.1%} | known skipped {scores.known_skip_rate:.1%} | "
            f"{scores.tokens_mean:.0f} tokens/query | fit {fit.seconds:.1f} s | "
            f"context p50 {scores.rest_p50_ms:.2f} ms + embedding"
        )
        if isinstance(method, UnoMethod):
            run.uno = method
            run.uno_costs = _uno_costs(method, fit, config, stack, workdir)
        else:
            method.close()
    return run


def _uno_costs(
    method: UnoMethod, fit: FitStats, config: QualityConfig, stack: EmbedderStack, workdir: Path
) -> UnoCosts:
    """Ingest through ``ingest_file`` too (a separate store), next to ``add_many``'s figure from the fit."""
    from uno.memory import UnoMemory

    files = write_logs(workdir / "plain", config.logs, SimulatorConfig(seed=config.seed))
    with UnoMemory(workdir / "uno-ingest-file", embedder=stack.outer) as other:
        report = other.ingest_file(files["plain"], format="plain")
    return UnoCosts(
        add_many_logs_per_s=fit.logs / fit.ingest_seconds if fit.ingest_seconds else 0.0,
        ingest_file_logs_per_s=report.inserted / report.elapsed if report.elapsed else 0.0,
        ingest_file_summary=report.summary(),
        build_seconds=fit.build_seconds,
        build_report=method.build_report.model_dump() if method.build_report else {},
    )


def measure_rebuilds(run: QualityRun, log: Callable[[str], None] = print) -> None:
    """After the other measurements (this changes uno's store): an incremental build after adding more logs, then
    a full rebuild of everything."""
    if run.uno is None or run.uno_costs is None:
        return
    config = run.config
    extra = max(1, round(config.logs * config.incremental_share))
    generator = LogGenerator(SimulatorConfig(seed=config.seed))
    more = [parse_record(log.to_plain(), "plain") for log in generator.iter_logs(extra, start=config.logs)]
    memory = run.uno.memory
    memory.add_many(more)
    started = time.perf_counter()
    memory.build()
    run.uno_costs.incremental_logs = extra
    run.uno_costs.incremental_build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    memory.build(full=True)
    run.uno_costs.full_rebuild_seconds = time.perf_counter() - started
    log(
        f"  uno: +{extra} logs -> incremental build {run.uno_costs.incremental_build_seconds:.1f} s; "
        f"full rebuild of {config.logs + extra} logs {run.uno_costs.full_rebuild_seconds:.1f} s"
    )
