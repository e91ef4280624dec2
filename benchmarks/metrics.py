"""Scoring what methods inject against the simulator's hidden ground truth.

Every injected item is credited with *preference aspects* (``family:value``) and *noise logs*, the same way for
every method:

- A **rule** (uno, CIPHER-style) is credited with the aspect it declares; a rule that declares none is credited
  with the most common ground-truth ``feedback_aspect`` among the logs it was learnt from (ties: alphabetical), and
  with ``(no aspect)`` - always a false positive - when none of them expressed one. The *declared* variant credits
  only declared aspects (no ground truth), so it shows what the method itself can tell.
- A **chunk** of raw log text (RAG, mem0) is credited with its log's ground-truth ``feedback_aspect`` when the chunk
  contains the feedback (a session, or the follow-up / edit message itself); a chunk holding only the query or the
  answer carries no preference.
- An item carries a **noise log** when a log of a noise kind (adversarial, off-topic, small talk, contradicting) is
  among its sources - for chunks, only when the chunk contains that log's feedback, which is where the noise is.

Per query, credited aspects are compared as sets with the query's expected aspects (its topic's hidden
preferences; none for unrelated queries), and true/false positives and negatives are summed over all queries
(micro averages).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from benchmarks.methods.base import InjectedContext, InjectedItem
from benchmarks.simulator import KNOWN_PREFERENCES, NoiseKind, SimulatedLog

KNOWN_ASPECTS = frozenset(preference.aspect for preference in KNOWN_PREFERENCES)
NOISE_KINDS: tuple[str, ...] = (
    NoiseKind.ADVERSARIAL.value,
    NoiseKind.OFF_TOPIC.value,
    NoiseKind.SMALL_TALK.value,
    NoiseKind.CONTRADICTING.value,
)
UNLABELLED = "(no aspect)"


@dataclass(frozen=True)
class LogTruth:
    """The ground truth of one simulated log that scoring needs."""

    feedback_aspect: str | None
    noise: str | None
    topic: str


def ground_truth(logs: Iterable[SimulatedLog]) -> dict[str, LogTruth]:
    """Log id -> what scoring needs from the simulator's metadata."""
    return {log.id: LogTruth(log.metadata["feedback_aspect"], log.noise, log.topic) for log in logs}


def credited_aspects(item: InjectedItem, truth: Mapping[str, LogTruth], *, declared_only: bool = False) -> set[str]:
    """The preference aspects ``item`` puts into the prompt (see the module doc)."""
    if item.kind == "chunk":
        if not item.carries_feedback:
            return set()
        return {aspect for log_id in item.source_log_ids if (aspect := _aspect_of(truth, log_id))}
    if item.declared_aspect:
        return {item.declared_aspect}
    if declared_only:
        return {UNLABELLED}
    votes = Counter(aspect for log_id in item.source_log_ids if (aspect := _aspect_of(truth, log_id)))
    if not votes:
        return {UNLABELLED}
    return {min(votes, key=lambda aspect: (-votes[aspect], aspect))}


def _aspect_of(truth: Mapping[str, LogTruth], log_id: str) -> str | None:
    found = truth.get(log_id)
    return found.feedback_aspect if found else None


def noise_logs(item: InjectedItem, truth: Mapping[str, LogTruth]) -> set[str]:
    """The planted noise logs whose content ``item`` carries into the prompt."""
    if item.kind == "chunk" and not item.carries_feedback:
        return set()
    return {
        log_id
        for log_id in item.source_log_ids
        if (found := truth.get(log_id)) is not None and found.noise in NOISE_KINDS
    }


@dataclass(frozen=True)
class QueryOutcome:
    """What one method injected for one held-out query, and how long it took."""

    query: str
    topic: str | None
    expected: frozenset[str]
    credited: frozenset[str]
    credited_declared: frozenset[str]
    noise: frozenset[str]
    tokens: int
    items: int
    seconds: float
    embed_seconds: float

    @classmethod
    def score(
        cls,
        query: str,
        topic: str | None,
        expected: Iterable[str],
        context: InjectedContext,
        truth: Mapping[str, LogTruth],
        *,
        seconds: float,
        embed_seconds: float,
    ) -> QueryOutcome:
        credited: set[str] = set()
        declared: set[str] = set()
        noise: set[str] = set()
        for item in context.items:
            credited |= credited_aspects(item, truth)
            declared |= credited_aspects(item, truth, declared_only=True)
            noise |= noise_logs(item, truth)
        return cls(
            query,
            topic,
            frozenset(expected),
            frozenset(credited),
            frozenset(declared),
            frozenset(noise),
            context.tokens,
            len(context.items),
            seconds,
            embed_seconds,
        )


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @classmethod
    def of(cls, pairs: Iterable[tuple[frozenset[str], frozenset[str]]]) -> PRF:
        """Micro-averaged precision / recall / F1 over (expected, injected) aspect sets."""
        tp = fp = fn = 0
        for expected, injected in pairs:
            tp += len(expected & injected)
            fp += len(injected - expected)
            fn += len(expected - injected)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, tp, fp, fn)


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds, dtype=np.float64) * 1000.0, q)) if seconds else 0.0


@dataclass
class QualityScores:
    """A method's figures over all held-out queries (see the module doc for how items are credited)."""

    queries: int
    prf: PRF
    prf_declared: PRF
    # Share of unrelated queries (expected: nothing) that got any preference injected.
    unrelated_injection_rate: float
    # Share of planted noise logs whose content reached at least one query's context, overall and per kind.
    noise_acceptance_rate: float
    noise_accepted: dict[str, int]
    noise_planted: dict[str, int]
    # Share of queries whose context carried at least one noise log.
    noisy_context_rate: float
    # Share of queries whose context carried no known preference (one the base model already follows).
    known_skip_rate: float
    tokens_mean: float
    tokens_p95: float
    items_mean: float
    latency_p50_ms: float
    latency_p95_ms: float
    rest_p50_ms: float
    rest_p95_ms: float
    embed_p50_ms: float
    by_topic_f1: dict[str, float] = field(default_factory=dict)


def summarize(outcomes: Sequence[QueryOutcome], truth: Mapping[str, LogTruth]) -> QualityScores:
    """Aggregate one method's per-query outcomes."""
    planted = Counter(t.noise for t in truth.values() if t.noise in NOISE_KINDS)
    reached = set().union(*(o.noise for o in outcomes)) if outcomes else set()
    accepted = Counter(truth[log_id].noise for log_id in reached)
    unrelated = [o for o in outcomes if o.topic is None]
    topics = sorted({o.topic for o in outcomes if o.topic is not None})
    rest = [max(0.0, o.seconds - o.embed_seconds) for o in outcomes]
    tokens = [o.tokens for o in outcomes]
    return QualityScores(
        queries=len(outcomes),
        prf=PRF.of((o.expected, o.credited) for o in outcomes),
        prf_declared=PRF.of((o.expected, o.credited_declared) for o in outcomes),
        unrelated_injection_rate=_share(bool(o.credited) for o in unrelated),
        noise_acceptance_rate=len(reached) / sum(planted.values()) if planted else 0.0,
        noise_accepted={kind: accepted.get(kind, 0) for kind in NOISE_KINDS},
        noise_planted={kind: planted.get(kind, 0) for kind in NOISE_KINDS},
        noisy_context_rate=_share(bool(o.noise) for o in outcomes),
        known_skip_rate=_share(not (o.credited & KNOWN_ASPECTS) for o in outcomes),
        tokens_mean=float(np.mean(tokens)) if tokens else 0.0,
        tokens_p95=float(np.percentile(tokens, 95)) if tokens else 0.0,
        items_mean=float(np.mean([o.items for o in outcomes])) if outcomes else 0.0,
        latency_p50_ms=percentile_ms([o.seconds for o in outcomes], 50),
        latency_p95_ms=percentile_ms([o.seconds for o in outcomes], 95),
        rest_p50_ms=percentile_ms(rest, 50),
        rest_p95_ms=percentile_ms(rest, 95),
        embed_p50_ms=percentile_ms([o.embed_seconds for o in outcomes], 50),
        by_topic_f1={
            topic: PRF.of((o.expected, o.credited) for o in outcomes if o.topic == topic).f1 for topic in topics
        },
    )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0
