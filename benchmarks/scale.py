"""``augment`` latency against store size, on synthetic stores grown from a real one.

Distilling a million logs is far too slow for a benchmark run, so large stores are *replicated* from the store uno
built in the quality run. Copy 0 is that store's read model itself; every further copy ``c`` adds each of its
clusters, active rules and learnt logs again under new ids (suffix ``#c``), with every vector (cluster centroid,
learnt-log query, rule) perturbed by Gaussian noise and re-normalised (``sigma`` = 0.3 of the unit norm, cosine
~0.96 to the original), so copies are near but distinct neighbours. The last copy keeps only as many rules as are
needed to reach the target exactly. The proportions of the real store (rules per cluster, learnt logs per rule) are
kept, so the index sizes grow as they would in a store that large: every learnt log is one more vector in uno's log
index. Where that would pass ``max_log_vectors`` (memory), every copy keeps the same fixed subset of its learnt logs
instead, and all of its clusters and rules; ``ScalePoint.log_vectors`` against ``log_vectors_uncapped`` says by how
much.

The synthetic read model is assembled directly, copy by copy (a copy's vectors are added to the FAISS indexes
before the next copy is made, so temporary memory stays small even with millions of vectors), and installed as the
memory's view; ``augment`` then runs unchanged. It is what ``UnoMemory._make_view`` would build for the replicated
store: each copy's lookups (rules per cluster and per learnt log, experiences per cluster) are the original's under
the copy's ids. The rule index, which only ``search`` uses, is left out.

Baseline at the same size: embedding RAG over the *same* learnt-log vectors (the same FAISS index object: exact
below 20,000 vectors, HNSW above, as uno chooses), top-5, with the retrieved sessions' text assembled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmarks.embedding import EmbedderStack
from benchmarks.methods.chunks import Chunk, session_text
from benchmarks.methods.rag import DEFAULT_K, render_chunks
from benchmarks.metrics import percentile_ms
from benchmarks.rss import PeakRSS, release_free_memory, resident_bytes
from rule_store.protocol import Scope
from rule_store.records import Cluster, Rule, RuleStatus, stable_hash
from uno.inject import count_tokens
from uno.memory import UnoMemory, _NamespaceView
from uno.read_model import learnt_log_index

Vectors = npt.NDArray[np.float32]
DEFAULT_SIGMA = 0.3
COPY_SEPARATOR = "#"
# uno's log index holds one vector per learnt log: at the real proportions a 100k-rule store can need millions of
# them. Above this many, each copy keeps only a fixed subset of its learnt logs (see the module doc).
DEFAULT_MAX_LOG_VECTORS = 1_000_000


@dataclass(frozen=True)
class Latency:
    """Wall-clock percentiles, and the same beyond the query embedding (``rest``) in wall and in CPU time.

    On a shared machine the wall-clock tail is mostly the scheduler: a query preempted for one time slice takes
    10-20 ms whatever it does (the raw FAISS floor shows the same tail). The process's CPU time per query
    (``time.process_time``: every thread, FAISS's included) is what the query itself costs; ratios to the floor
    are taken on it. Embedding time is measured in wall time and subtracted from both.
    """

    p50_ms: float
    p95_ms: float
    rest_p50_ms: float
    rest_p95_ms: float
    embed_p50_ms: float
    cpu_p50_ms: float = 0.0
    cpu_p95_ms: float = 0.0

    @classmethod
    def of(cls, totals: Sequence[float], embeds: Sequence[float], cpus: Sequence[float] | None = None) -> Latency:
        rest = [max(0.0, t - e) for t, e in zip(totals, embeds, strict=True)]
        cpu_rest = [max(0.0, c - e) for c, e in zip(cpus, embeds, strict=True)] if cpus is not None else []
        return cls(
            percentile_ms(totals, 50),
            percentile_ms(totals, 95),
            percentile_ms(rest, 50),
            percentile_ms(rest, 95),
            percentile_ms(embeds, 50),
            percentile_ms(cpu_rest, 50),
            percentile_ms(cpu_rest, 95),
        )


@dataclass(frozen=True)
class ScalePoint:
    """Latency of uno's ``augment`` and of embedding-RAG search on one synthetic store size."""

    rules: int
    copies: int
    clusters: int
    log_vectors: int
    # What the log index would hold at the real store's proportions (equal to log_vectors unless capped).
    log_vectors_uncapped: int
    assemble_seconds: float
    index_build_seconds: float
    uno: Latency
    rag: Latency
    uno_mean_rules: float
    rss_increase_mb: float | None
    # The two FAISS searches under augment (clusters, learnt logs) alone, on the same store and query vectors.
    floor: Latency | None = None
    # What saving the store's vector indexes writes (centroids and learnt logs), in bytes.
    index_bytes: int | None = None
    # Resident memory added by the store once assembled and measured (the peak above includes assembly).
    rss_steady_mb: float | None = None

    @property
    def rest_ratio(self) -> float:
        """uno's latency beyond query embedding over embedding-RAG's, at p50."""
        return self.uno.rest_p50_ms / self.rag.rest_p50_ms if self.rag.rest_p50_ms else math.inf


@dataclass
class BaseStore:
    """The real read model that copies are made of, with the vectors behind it."""

    view: _NamespaceView
    clusters: list[Cluster]
    centroids: Vectors
    rule_ids: list[str]
    log_ids: list[str]
    log_vectors: Vectors
    log_texts: dict[str, str]
    log_positions: dict[str, int]

    @classmethod
    def of(cls, memory: UnoMemory, stack: EmbedderStack) -> BaseStore:
        namespace = memory.namespace
        view = memory._view(namespace)
        if not view.rules:
            raise ValueError("the store has no active rule to replicate: build it from logs with feedback first")
        # The view keeps clusters without their centroids (they live in its FAISS index): read them from the store.
        stored = {c.id: c for c in memory.store.list_clusters(Scope(namespace=namespace))}
        clusters = sorted((stored[i] for i in view.clusters if i in stored), key=lambda c: c.id)
        log_ids = sorted(view.rules_by_log)
        logs = {log.id: log for log in memory.store.get_logs(log_ids, Scope(namespace=namespace))}
        log_ids = [i for i in log_ids if i in logs]
        return cls(
            view=view,
            clusters=clusters,
            centroids=np.stack([np.asarray(c.centroid, dtype=np.float32) for c in clusters]),
            rule_ids=sorted(view.rules),
            log_ids=log_ids,
            log_vectors=stack.outer.embed([logs[i].query for i in log_ids]),
            log_texts={i: session_text(logs[i]) for i in log_ids},
            log_positions={log_id: position for position, log_id in enumerate(log_ids)},
        )


def _perturbed(vectors: Vectors, sigma: float, rng: np.random.Generator) -> Vectors:
    noise = rng.standard_normal(vectors.shape).astype(np.float32) * np.float32(sigma / math.sqrt(vectors.shape[1]))
    moved = vectors + noise
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return moved.astype(np.float32)


def _copy_id(identifier: str, copy: int) -> str:
    return identifier if copy == 0 else f"{identifier}{COPY_SEPARATOR}{copy}"


def _base_id(identifier: str) -> str:
    return identifier.split(COPY_SEPARATOR, 1)[0]


def replicate(
    base: BaseStore,
    rules: int,
    sigma: float,
    seed: int,
    max_log_vectors: int = DEFAULT_MAX_LOG_VECTORS,
    compact_above: int | None = None,
) -> tuple[_NamespaceView, int]:
    """A read model with exactly ``rules`` active rules (see the module doc) and the number of copies used."""
    from uno.index import FaissIndex

    if rules < 1:
        raise ValueError(f"a store needs at least one rule, got {rules}")
    rng = np.random.default_rng(seed)
    per_copy = len(base.rule_ids)
    copies = math.ceil(rules / per_copy)
    logs_per_copy = max(1, min(len(base.log_ids), max_log_vectors // copies))
    # A fixed subset (by a hash of the id, so it is spread over clusters), the same in every copy.
    copied_logs = sorted(sorted(base.log_ids, key=lambda i: stable_hash(i))[:logs_per_copy])
    dimension = base.log_vectors.shape[1]
    # Same build generation as the real view: uno keeps a view whose generation matches the store's.
    view = _NamespaceView(centroid_index=FaissIndex(dimension), generation=base.view.generation)
    assert view.centroid_index is not None
    log_ids: list[str] = []
    log_vectors: list[Vectors] = []
    rule_matrix = np.stack([base.view.rule_vectors[i] for i in base.rule_ids]).astype(np.float32)
    for copy in range(copies):
        kept_rules = base.rule_ids[: rules - copy * per_copy] if copy == copies - 1 else base.rule_ids
        kept = set(kept_rules)
        move: Callable[[Vectors], Vectors] = (lambda v: v) if copy == 0 else (lambda v: _perturbed(v, sigma, rng))
        rule_vectors = move(rule_matrix)
        for position, rule_id in enumerate(base.rule_ids):
            if rule_id not in kept:
                continue
            rule: Rule = base.view.rules[rule_id]
            new_id = _copy_id(rule_id, copy)
            cluster_id = _copy_id(rule.cluster_id, copy) if rule.cluster_id else None
            view.rules[new_id] = rule.model_copy(update={"id": new_id, "cluster_id": cluster_id})
            view.summaries[new_id] = base.view.summaries[rule_id]
            view.rule_vectors[new_id] = rule_vectors[position]
        for cluster in base.clusters:
            new_id = _copy_id(cluster.id, copy)
            view.clusters[new_id] = base.view.clusters[cluster.id].model_copy(update={"id": new_id})
            members = [_copy_id(r, copy) for r in base.view.rules_by_cluster.get(cluster.id, []) if r in kept]
            if members:
                view.rules_by_cluster[new_id] = members
            if cluster.id in base.view.experiences_by_cluster:
                view.experiences_by_cluster[new_id] = base.view.experiences_by_cluster[cluster.id]
        view.centroid_index.upsert([_copy_id(c.id, copy) for c in base.clusters], move(base.centroids))
        learnt = []
        for log_id in copied_logs:
            linked = [_copy_id(r, copy) for r in base.view.rules_by_log[log_id] if r in kept]
            if linked:
                view.rules_by_log[_copy_id(log_id, copy)] = linked
                learnt.append(log_id)
        full = len(learnt) == len(base.log_ids)
        vectors = base.log_vectors if full else base.log_vectors[[base.log_positions[i] for i in learnt]]
        log_ids.extend(_copy_id(i, copy) for i in learnt)
        log_vectors.append(move(vectors))
    # Built whole, as build() builds it (exact, or quantised from ``compact_above`` learnt logs on).
    view.log_index = learnt_log_index(log_ids, np.concatenate(log_vectors), dimension, compact_above)
    return view, copies


def run_scale(
    memory: UnoMemory,
    stack: EmbedderStack,
    queries: Sequence[str],
    sizes: Sequence[int],
    *,
    seed: int,
    sigma: float = DEFAULT_SIGMA,
    max_log_vectors: int = DEFAULT_MAX_LOG_VECTORS,
    log: Callable[[str], None] = print,
) -> list[ScalePoint]:
    """Measure every size in ``sizes`` (number of active rules); the memory's own view is restored afterwards."""
    if not queries:
        raise ValueError("the scale benchmark needs at least one query")
    base = BaseStore.of(memory, stack)
    stack.outer.embed(list(queries))  # query vectors come from the cache: what remains is augment's own work
    namespace = memory.namespace
    original = memory._view(namespace)
    points = []
    try:
        for size in sizes:
            release_free_memory()
            with PeakRSS() as peak:
                started = time.perf_counter()
                view, copies = replicate(base, size, sigma, seed + size, max_log_vectors, memory.compact_logs_above)
                assembled = time.perf_counter() - started
                index_seconds = _build_indexes(view, stack, queries[0])
                memory._views[namespace] = view
                uno_latency, floor, mean_rules = time_augment_and_floor(memory, stack, view, queries)
                if memory._views.get(namespace) is not view:
                    raise RuntimeError("uno replaced the synthetic read model while it was being measured")
                rag_latency = _time_rag(view, base, stack, queries)
                # What stays resident once the store is assembled (a serving process loads it without the
                # assembly's temporary float vectors, which the peak includes).
                release_free_memory()
                now = resident_bytes()
                steady = (now - peak.start_bytes) / 2**20 if now is not None and peak.start_bytes is not None else None
            index_bytes = saved_index_bytes(view)
            point = ScalePoint(
                rules=len(view.rules),
                copies=copies,
                clusters=len(view.clusters),
                log_vectors=len(view.log_index) if view.log_index is not None else 0,
                log_vectors_uncapped=_uncapped_log_vectors(base, size),
                assemble_seconds=assembled,
                index_build_seconds=index_seconds,
                uno=uno_latency,
                rag=rag_latency,
                uno_mean_rules=mean_rules,
                rss_increase_mb=peak.increase_mb,
                rss_steady_mb=steady,
                floor=floor,
                index_bytes=index_bytes,
            )
            log(
                f"  {point.rules:>9,} rules | {point.clusters:>7,} clusters | {point.log_vectors:>9,} log vectors | "
                f"uno augment p50 {point.uno.rest_p50_ms:.2f} ms (+{point.uno.embed_p50_ms:.2f} ms embedding) | "
                f"Emb-RAG p50 {point.rag.rest_p50_ms:.2f} ms | ratio {point.rest_ratio:.2f} | "
                f"FAISS floor p50 {floor.p50_ms:.2f} ms"
            )
            points.append(point)
            del view
    finally:
        memory._views[namespace] = original
    return points


def _uncapped_log_vectors(base: BaseStore, rules: int) -> int:
    """Learnt logs a store of ``rules`` rules would index at the real store's proportions."""
    per_copy = len(base.rule_ids)
    full_copies, last = divmod(rules, per_copy)
    kept = set(base.rule_ids[:last])
    partial = sum(1 for i in base.log_ids if any(r in kept for r in base.view.rules_by_log[i]))
    return full_copies * len(base.log_ids) + partial


def _build_indexes(view: _NamespaceView, stack: EmbedderStack, query: str) -> float:
    """FAISS builds its search structure on the first search: do that outside the timed queries."""
    vector = stack.outer.embed([query])
    started = time.perf_counter()
    for index in (view.centroid_index, view.log_index):
        if index is not None and len(index):
            index.search(vector, 1)
    return time.perf_counter() - started


def time_augment_and_floor(
    memory: UnoMemory, stack: EmbedderStack, view: _NamespaceView, queries: Sequence[str]
) -> tuple[Latency, Latency, float]:
    """``augment`` and the raw FAISS floor (:func:`faiss_floor_once`) query by query, interleaved, so a change of
    load on a shared machine moves both alike; after one untimed pass over the queries (the steady state a
    serving process is in). Returns augment's latency, the floor's and the mean number of injected rules."""
    vectors = stack.outer.embed(list(queries))
    for query in queries:
        memory.augment(query)
    totals, embeds, cpus, injected = [], [], [], []
    floor_totals, floor_cpus = [], []
    for query, row in zip(queries, vectors, strict=True):
        before = stack.outer.clock.snapshot()
        started, cpu = time.perf_counter(), time.process_time()
        augmentation = memory.augment(query)
        cpus.append(time.process_time() - cpu)
        totals.append(time.perf_counter() - started)
        embeds.append(stack.outer.clock.since(before).seconds)
        injected.append(len(augmentation.rules))
        started, cpu = time.perf_counter(), time.process_time()
        faiss_floor_once(view, row, memory.match_top)
        floor_cpus.append(time.process_time() - cpu)
        floor_totals.append(time.perf_counter() - started)
    zeros = [0.0] * len(queries)
    return Latency.of(totals, embeds, cpus), Latency.of(floor_totals, zeros, floor_cpus), float(np.mean(injected))


def _time_rag(view: _NamespaceView, base: BaseStore, stack: EmbedderStack, queries: Sequence[str]) -> Latency:
    assert view.log_index is not None
    totals, embeds = [], []
    for query in queries:
        before = stack.outer.clock.snapshot()
        started = time.perf_counter()
        hits = view.log_index.search(stack.outer.embed([query]), DEFAULT_K)[0]
        chunks = [Chunk(log_id, base.log_texts[_base_id(log_id)], True) for log_id, _ in hits]
        count_tokens(render_chunks(chunks))
        totals.append(time.perf_counter() - started)
        embeds.append(stack.outer.clock.since(before).seconds)
    return Latency.of(totals, embeds)


def faiss_floor_once(view: _NamespaceView, vector: Vectors, match_top: int) -> None:
    """The raw FAISS floor under ``augment`` for one query vector: its two searches (nearest clusters, nearest
    learnt logs) and nothing else, on the same indexes."""
    query = vector[None, :]
    for index, k in ((view.centroid_index, match_top), (view.log_index, 5)):
        if index is not None and len(index):
            index.search(query, k)


def saved_index_bytes(view: _NamespaceView) -> int:
    """Bytes on disk of the view's centroid and learnt-log indexes, saved as ``build`` saves them."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="uno-scale-") as scratch:
        for kind, index in (("centroids", view.centroid_index), ("logs", view.log_index)):
            if index is not None:
                index.save(Path(scratch), kind)
        return sum(path.stat().st_size for path in Path(scratch).rglob("*") if path.is_file())


@dataclass(frozen=True)
class EvidencePoint:
    """``augment`` on one real store whose rules carry ``factor`` times their evidence."""

    factor: int
    evidence_items: int
    summarise_seconds: float
    uno: Latency
    floor: Latency


def inflate_evidence(rules: Sequence[Rule], factor: int) -> list[Rule]:
    """Each rule with its evidence repeated ``factor`` times, from as many more logs (ids suffixed ``~n``) of the
    same users: support, visibility and ranking are unchanged, only the history behind each rule grows."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}")
    out = []
    for rule in rules:
        extra = [
            item.model_copy(update={"log_id": f"{item.log_id}~{copy}"})
            for copy in range(1, factor)
            for item in rule.evidence
        ]
        out.append(rule.model_copy(update={"evidence": [*rule.evidence, *extra]}))
    return out


def run_evidence_sweep(
    memory: UnoMemory, stack: EmbedderStack, queries: Sequence[str], factors: Sequence[int]
) -> list[EvidencePoint]:
    """``augment`` latency (beyond the query embedding) with 1x, 3x, 10x ... the evidence per rule, next to the
    raw FAISS floor of the same store. The read model is summarised from the inflated rules as ``build`` does;
    the memory's own view is restored afterwards."""
    import dataclasses

    from uno.read_model import summarise_rules

    namespace = memory.namespace
    original = memory._view(namespace)
    active = memory.store.list_rules(Scope(namespace=namespace), status=RuleStatus.ACTIVE)
    points = []
    try:
        for factor in factors:
            inflated = inflate_evidence(active, factor)
            started = time.perf_counter()
            summaries = summarise_rules(inflated, memory.gate)
            summarise_seconds = time.perf_counter() - started
            view = dataclasses.replace(original, summaries=summaries)
            memory._views[namespace] = view
            uno_latency, floor, _ = time_augment_and_floor(memory, stack, view, queries)
            points.append(
                EvidencePoint(
                    factor=factor,
                    evidence_items=sum(len(rule.evidence) for rule in inflated),
                    summarise_seconds=summarise_seconds,
                    uno=uno_latency,
                    floor=floor,
                )
            )
    finally:
        memory._views[namespace] = original
    return points
