"""Reactions as a reward: a calibrated model of P[positive reaction | query, response] (RLUF's P[Love]).

RLUF (Han et al. 2025) trains a reward model on production reactions and optimises a policy against it together
with safety and helpfulness objectives, so that reactions cannot be won by becoming sycophantic or unsafe. uno has
no policy to optimise; it uses the same kind of model to *measure and choose*, never to decide what is learnt:

* :func:`reaction_examples` turns a log's reactions and ratings into soft labels: like / love / copy are positive,
  dislike negative, a rating its place on its scale; a reaction of "none" and a conversation that ended with no
  reaction are weak negatives (RLUF's "every answer that was not loved"), weighted :data:`WEAK_WEIGHT`.
* :class:`ReactionModel` is a logistic regression over the embedder's features of query and response
  and the answer's surface shape (``[q, r, q*r, shape(r)]``), standardised, C chosen by cross-validation on the
  training examples, calibrated with Platt scaling on cross-validation folds (sklearn's ``CalibratedClassifierCV``);
  its parameters are plain numbers, stored as JSON in the store (:class:`ReactionModelRecord`, versioned like
  adapters), so loading it runs no pickle.
* Uses: :meth:`ReactionModel.feedback_weight` (how much a log's feedback moved the predicted reaction),
  reranking ``respond(n=...)``'s candidates, and :func:`ab_estimate` (predicted positive-reaction rate with and
  without uno's injection). The harm and poisoning gate runs before any of them and is never consulted against
  this model: a rule the gate refused is not injected however well its answers would be received.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from rule_store.records import (
    DEFAULT_NAMESPACE,
    EditFeedback,
    LogRecord,
    RatingFeedback,
    ReactionFeedback,
    utcnow,
)

if TYPE_CHECKING:
    from rule_store.protocol import RuleStore
    from uno.embed import Embedder

FloatArray = npt.NDArray[np.float64]

# Weight of a weak signal (a "none" reaction, an ending with no reaction) against a stated reaction or rating.
WEAK_WEIGHT = 0.25
POSITIVE_REACTIONS = frozenset({"like", "love", "copy"})
# Fewer examples of either class than this and no model is trained (3 calibration folds need a few of each).
MIN_PER_CLASS = 6
CALIBRATION_FOLDS = 3
# Inverse regularisation strengths tried (by cross-validation on the training examples only) after standardising.
REGULARISATION_GRID = (0.003, 0.03, 0.3, 3.0)
_META_PREFIX = "reaction_model"


class ReactionModelError(RuntimeError):
    """A reaction model cannot be trained (too few labelled examples) or does not fit this embedder."""


@dataclass(frozen=True)
class ReactionExample:
    """One answer with the reaction it got: ``target`` in [0, 1] (1 = positive), ``weight`` how much it counts."""

    log_id: str
    user_id: str | None
    query: str
    response: str
    target: float
    weight: float


def _turn_label(events: Sequence[ReactionFeedback | RatingFeedback]) -> tuple[float, float] | None:
    """(target, weight) of the stated reactions and ratings on one answer; weak signals only when nothing else."""
    strong: list[float] = []
    weak = False
    for event in events:
        if isinstance(event, RatingFeedback):
            strong.append((event.value - event.scale_min) / (event.scale_max - event.scale_min))
        elif event.value == "dislike":
            strong.append(0.0)
        elif event.value in POSITIVE_REACTIONS:
            strong.append(1.0)
        else:
            weak = True  # "none", with or without ``terminated``
    if strong:
        return float(np.mean(strong)), 1.0
    return (0.0, WEAK_WEIGHT) if weak else None


def reaction_examples(log: LogRecord) -> list[ReactionExample]:
    """One example per assistant turn of ``log`` that got a reaction or a rating (weak signals included)."""
    by_turn: dict[int, list[ReactionFeedback | RatingFeedback]] = {}
    for event in log.feedback:
        if isinstance(event, ReactionFeedback | RatingFeedback):
            by_turn.setdefault(log.target_turn(event), []).append(event)
    examples = []
    for turn, events in sorted(by_turn.items()):
        label = _turn_label(events)
        users = [m.content for m in log.messages[:turn] if m.role == "user"]
        if label is None or not users:
            continue
        examples.append(ReactionExample(log.id, log.user_id, users[-1], log.messages[turn].content, label[0], label[1]))
    return examples


def collect_examples(logs: Iterable[LogRecord]) -> list[ReactionExample]:
    return [example for log in logs for example in reaction_examples(log)]


_LIST_LINE = re.compile(r"\s*(?:[-*\u2022]|\d+[.)])\s")
# Surface features of the response beside the embeddings: how long, how laid out, how emphatic. Sentence embeddings
# barely see length or emoji, which users react to.
SHAPE_FEATURES = ("log_chars", "log_words", "log_lines", "list_lines", "symbols", "exclamations", "questions", "code")


def shape_features(texts: Sequence[str]) -> FloatArray:
    rows = []
    for text in texts:
        words = max(1, len(text.split()))
        lines = text.splitlines() or [""]
        rows.append(
            [
                math.log1p(len(text)),
                math.log1p(len(text.split())),
                math.log1p(len(lines)),
                sum(1 for line in lines if _LIST_LINE.match(line)) / len(lines),
                100.0 * sum(1 for c in text if ord(c) >= 0x2000) / max(1, len(text)),
                text.count("!") / words,
                text.count("?") / words,
                float("```" in text),
            ]
        )
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(SHAPE_FEATURES))


def features(embedder: Embedder, queries: Sequence[str], responses: Sequence[str]) -> FloatArray:
    """``[q, r, q*r, shape(r)]``: the L2-normalised embeddings of request and answer, their product (how the answer
    relates to the request), and the answer's surface shape (:data:`SHAPE_FEATURES`)."""
    if len(queries) != len(responses):
        raise ValueError(f"features: {len(queries)} queries but {len(responses)} responses")
    width = 3 * embedder.dimension + len(SHAPE_FEATURES)
    if not queries:
        return np.zeros((0, width))
    q = np.asarray(embedder.embed(list(queries)), dtype=np.float64)
    r = np.asarray(embedder.embed(list(responses)), dtype=np.float64)
    return np.hstack([q, r, q * r, shape_features(responses)])


def _soft_rows(x: FloatArray, targets: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """A soft label t with weight w as a positive row weighted w*t and a negative row weighted w*(1-t)."""
    rows = np.vstack([x, x])
    labels = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    row_weights = np.concatenate([weights * targets, weights * (1.0 - targets)])
    keep = row_weights > 0
    return rows[keep], labels[keep], row_weights[keep]


def _choose_regularisation(z: FloatArray, targets: FloatArray, weights: FloatArray, seed: int) -> float:
    """The C of :data:`REGULARISATION_GRID` with the lowest weighted log-loss in 3-fold CV over the examples."""
    from sklearn.linear_model import LogisticRegression

    order = np.random.default_rng(seed).permutation(len(z))
    folds = np.array_split(order, CALIBRATION_FOLDS)
    losses = []
    for c in REGULARISATION_GRID:
        total, mass = 0.0, 0.0
        for held in folds:
            train = np.setdiff1d(order, held)
            rows, labels, row_weights = _soft_rows(z[train], targets[train], weights[train])
            if len(set(labels.tolist())) < 2:
                continue
            model = LogisticRegression(C=c, max_iter=2000).fit(rows, labels, sample_weight=row_weights)
            p = np.clip(model.predict_proba(z[held])[:, 1], 1e-6, 1 - 1e-6)
            t, w = targets[held], weights[held]
            total += float(np.sum(-w * (t * np.log(p) + (1 - t) * np.log(1 - p))))
            mass += float(np.sum(w))
        losses.append(total / mass if mass else math.inf)
    return REGULARISATION_GRID[int(np.argmin(losses))]


class ReactionModelStatus(StrEnum):
    CURRENT = "current"  # the namespace's model, used by respond and the benchmarks
    SUPERSEDED = "superseded"  # a newer version replaced it
    STALE = "stale"  # trained on logs that were since forgotten; never used


class CalibratedLinear(BaseModel):
    """One fold of the calibrated model: a linear scorer and the Platt sigmoid that maps its score to P."""

    coef: list[float]
    intercept: float
    platt_a: float
    platt_b: float


class ReactionModelRecord(BaseModel):
    """A trained reaction model as stored: its parameters, what it was trained on, and how well it did."""

    namespace: str = DEFAULT_NAMESPACE
    version: int = Field(default=1, ge=1)
    status: ReactionModelStatus = ReactionModelStatus.CURRENT
    status_reason: str = ""
    embedder: str
    dimension: int = Field(ge=1)
    folds: list[CalibratedLinear] = Field(min_length=1)
    regularisation: float = Field(default=1.0, gt=0)
    examples: int = 0
    positives: float = 0.0
    # Labelled answers in the namespace when it was trained: ``build`` retrains once enough new ones arrived.
    labelled_at_training: int = 0
    source_log_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)


class ReactionModel:
    """P[positive reaction | query, response] over an embedder's features; see the module docstring."""

    def __init__(self, record: ReactionModelRecord, embedder: Embedder) -> None:
        if record.embedder != embedder.name or record.dimension != embedder.dimension:
            raise ReactionModelError(
                f"reaction model v{record.version} was trained on embedder {record.embedder} "
                f"({record.dimension} dimensions), not {embedder.name} ({embedder.dimension})"
            )
        self.record = record
        self.embedder = embedder
        self._coef = np.array([fold.coef for fold in record.folds], dtype=np.float64)
        self._intercept = np.array([fold.intercept for fold in record.folds], dtype=np.float64)
        self._platt = np.array([[fold.platt_a, fold.platt_b] for fold in record.folds], dtype=np.float64)

    @classmethod
    def fit(
        cls,
        examples: Sequence[ReactionExample],
        embedder: Embedder,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        version: int = 1,
        regularisation: float | None = None,
        seed: int = 0,
    ) -> ReactionModel:
        """Train on ``examples``: soft labels become a positive and a negative row weighted by the target;
        ``regularisation`` (C) is chosen by cross-validation on ``examples`` when not given."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        positive = sum(e.weight * e.target for e in examples)
        negative = sum(e.weight * (1.0 - e.target) for e in examples)
        pos_rows = sum(1 for e in examples if e.target > 0)
        neg_rows = sum(1 for e in examples if e.target < 1)
        if min(pos_rows, neg_rows) < MIN_PER_CLASS:
            raise ReactionModelError(
                f"a reaction model needs at least {MIN_PER_CLASS} positive and {MIN_PER_CLASS} negative answers; "
                f"got {pos_rows} and {neg_rows}"
            )
        x = features(embedder, [e.query for e in examples], [e.response for e in examples])
        targets = np.array([e.target for e in examples])
        weights = np.array([e.weight for e in examples])
        # Standardise, then shrink the embedding block so that its ~1,000 columns weigh as much in the penalty as
        # the few shape columns; the scaling is folded back into the stored coefficients.
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
        block = np.ones(x.shape[1])
        embedded = x.shape[1] - len(SHAPE_FEATURES)
        block[:embedded] = math.sqrt(len(SHAPE_FEATURES) / embedded)
        z = (x - mean) / std * block
        c = regularisation if regularisation is not None else _choose_regularisation(z, targets, weights, seed)
        rows, labels, row_weights = _soft_rows(z, targets, weights)
        estimator = LogisticRegression(C=c, max_iter=2000, random_state=seed)
        calibrated = CalibratedClassifierCV(estimator, method="sigmoid", cv=CALIBRATION_FOLDS)
        calibrated.fit(rows, labels.astype(int), sample_weight=row_weights)
        folds = []
        for fold in calibrated.calibrated_classifiers_:
            coef = fold.estimator.coef_[0] * block / std
            folds.append(
                CalibratedLinear(
                    coef=[float(v) for v in coef],
                    intercept=float(fold.estimator.intercept_[0] - coef @ mean),
                    platt_a=float(fold.calibrators[0].a_),
                    platt_b=float(fold.calibrators[0].b_),
                )
            )
        record = ReactionModelRecord(
            namespace=namespace,
            version=version,
            embedder=embedder.name,
            dimension=embedder.dimension,
            folds=folds,
            regularisation=c,
            examples=len(examples),
            positives=round(positive / (positive + negative), 4),
            labelled_at_training=len(examples),
            source_log_ids=sorted({e.log_id for e in examples}),
        )
        return cls(record, embedder)

    def predict_features(self, x: FloatArray) -> FloatArray:
        scores = x @ self._coef.T + self._intercept  # (n, folds)
        logits = np.clip(self._platt[:, 0] * scores + self._platt[:, 1], -50.0, 50.0)
        return np.asarray(np.mean(1.0 / (1.0 + np.exp(logits)), axis=1), dtype=np.float64)

    def predict(self, queries: Sequence[str], responses: Sequence[str]) -> FloatArray:
        """P[positive reaction] of each (query, response)."""
        return self.predict_features(features(self.embedder, queries, responses))

    def score(self, query: str, response: str) -> float:
        return float(self.predict([query], [response])[0])

    def feedback_weight(self, log: LogRecord) -> float:
        """How much the log's feedback moved the predicted reaction, in [0, 1].

        An edit: how much more the user's version is predicted to be liked than the answer. A reaction or a
        rating: how far it was from what the model predicted (a surprise teaches more). Otherwise 0.
        """
        edits = [f for f in log.feedback if isinstance(f, EditFeedback) and f.text.strip()]
        if edits:
            before = [log.messages[log.target_turn(e)].content for e in edits]
            after = [e.text for e in edits]
            p = self.predict([log.query] * (2 * len(edits)), before + after)
            return float(np.clip(np.max(p[len(edits) :] - p[: len(edits)]), 0.0, 1.0))
        examples = reaction_examples(log)
        if not examples:
            return 0.0
        p = self.predict([e.query for e in examples], [e.response for e in examples])
        return float(max(e.weight * abs(e.target - pi) for e, pi in zip(examples, p, strict=True)))


@dataclass(frozen=True)
class ABEstimate:
    """Predicted positive-reaction rate of the same queries answered without and with uno's injection."""

    queries: int
    without: float
    with_uno: float

    @property
    def lift(self) -> float:
        return self.with_uno - self.without


def ab_estimate(
    model: ReactionModel, queries: Sequence[str], without: Sequence[str], with_uno: Sequence[str]
) -> ABEstimate:
    """RLUF's offline check: the mean predicted P[positive] of each arm's answers to the same queries."""
    if not len(queries) == len(without) == len(with_uno):
        raise ValueError("ab_estimate needs one answer per query in each arm")
    if not queries:
        return ABEstimate(0, 0.0, 0.0)
    a = model.predict(queries, without)
    b = model.predict(queries, with_uno)
    return ABEstimate(len(queries), round(float(a.mean()), 4), round(float(b.mean()), 4))


def rerank(model: ReactionModel, query: str, candidates: Sequence[str]) -> list[tuple[str, float]]:
    """Candidates best first by predicted P[positive] (ties keep their order)."""
    scores = model.predict([query] * len(candidates), list(candidates)) if candidates else np.zeros(0)
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    return [(candidates[i], round(float(scores[i]), 4)) for i in order]


# ------------------------------------------------------------------------------------------------ persistence


def _latest_key(namespace: str) -> str:
    return f"{_META_PREFIX}:{namespace}:latest"


def _version_key(namespace: str, version: int) -> str:
    return f"{_META_PREFIX}:{namespace}:v{version}"


def latest_record(store: RuleStore, namespace: str) -> ReactionModelRecord | None:
    """The namespace's newest reaction model record, whatever its status."""
    latest = store.get_meta(_latest_key(namespace))
    if latest is None:
        return None
    body = store.get_meta(_version_key(namespace, int(latest)))
    return None if body is None else ReactionModelRecord.model_validate_json(body)


def list_records(store: RuleStore, namespace: str) -> list[ReactionModelRecord]:
    """Every version trained in the namespace, oldest first."""
    latest = store.get_meta(_latest_key(namespace))
    out = []
    for version in range(1, int(latest) + 1 if latest else 1):
        body = store.get_meta(_version_key(namespace, version))
        if body is not None:
            out.append(ReactionModelRecord.model_validate_json(body))
    return out


def save_record(store: RuleStore, record: ReactionModelRecord) -> None:
    """Store ``record`` as its namespace's newest version; the previous current version becomes superseded."""
    with store.transaction():
        previous = latest_record(store, record.namespace)
        if previous is not None and previous.version != record.version:
            if previous.version > record.version:
                raise ReactionModelError(
                    f"reaction model v{record.version} is older than the stored v{previous.version}"
                )
            if previous.status is ReactionModelStatus.CURRENT:
                replaced = previous.model_copy(
                    update={"status": ReactionModelStatus.SUPERSEDED, "status_reason": f"v{record.version} replaced it"}
                )
                store.set_meta(_version_key(previous.namespace, previous.version), replaced.model_dump_json())
        store.set_meta(_version_key(record.namespace, record.version), record.model_dump_json())
        store.set_meta(_latest_key(record.namespace), str(record.version))


def load_current(store: RuleStore, namespace: str, embedder: Embedder) -> ReactionModel | None:
    """The namespace's current model, or None when there is none (or it is stale, or for another embedder)."""
    record = latest_record(store, namespace)
    if record is None or record.status is not ReactionModelStatus.CURRENT:
        return None
    if record.embedder != embedder.name or record.dimension != embedder.dimension:
        return None
    return ReactionModel(record, embedder)


def mark_stale(store: RuleStore, namespace: str, forgotten_log_ids: Iterable[str]) -> bool:
    """Mark the current model stale when it was trained on any forgotten log; whether it was."""
    record = latest_record(store, namespace)
    if record is None or record.status is not ReactionModelStatus.CURRENT:
        return False
    gone = set(record.source_log_ids) & set(forgotten_log_ids)
    if not gone:
        return False
    stale = record.model_copy(
        update={
            "status": ReactionModelStatus.STALE,
            "status_reason": f"trained on {len(gone)} forgotten log(s); the next build retrains without them",
            "source_log_ids": [],
        }
    )
    store.set_meta(_version_key(namespace, record.version), stale.model_dump_json())
    return True


def retrain_if_due(
    store: RuleStore, namespace: str, embedder: Embedder, *, min_new: int, logs: Iterable[LogRecord]
) -> ReactionModelRecord | None:
    """Train and store a new version when ``min_new`` labelled answers arrived since the last one (or the last one
    is stale); None when nothing was trained (not due, or too few of either class). ``logs``: the namespace's."""
    examples = collect_examples(logs)
    previous = latest_record(store, namespace)
    trained_on = (
        0 if previous is None or previous.status is ReactionModelStatus.STALE else previous.labelled_at_training
    )
    if len(examples) - trained_on < min_new:
        return None
    version = 1 if previous is None else previous.version + 1
    try:
        model = ReactionModel.fit(examples, embedder, namespace=namespace, version=version)
    except ReactionModelError:
        return None
    save_record(store, model.record)
    return model.record


__all__ = [
    "WEAK_WEIGHT",
    "ABEstimate",
    "ReactionExample",
    "ReactionModel",
    "ReactionModelError",
    "ReactionModelRecord",
    "ReactionModelStatus",
    "ab_estimate",
    "collect_examples",
    "features",
    "latest_record",
    "list_records",
    "load_current",
    "mark_stale",
    "reaction_examples",
    "rerank",
    "retrain_if_due",
    "save_record",
]
