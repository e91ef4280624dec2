"""A per-cluster bandit over answering strategies: the user-edits paper's *late ensemble*, online.

Post-Training LLMs with User-Edits Deployment Data (Gao et al.) learns one policy per kind of feedback and, per
round, picks among them by the reward the user's behaviour implies. uno's strategies are not policies but ways of
using what it learnt for a query's cluster (:class:`Strategy`): leave the prompt alone, inject the cluster's rules,
run the reflective draft -> critique -> revise loop, or call the cluster's accepted LoRA adapter. The bandit keeps,
per namespace and cluster, a Beta posterior of each strategy's reward in [0, 1] and picks by Thompson sampling
(``explore=False``: the best posterior mean, no exploration). Its state is in the store (``meta``), so every process
serving a namespace shares it, and tenants never see each other's.

The reward the app observes afterwards (:func:`observed_reward`): a like / love / copy is 1 and a dislike 0, a rating
its place on its scale, an edit ``1 - edit cost / length`` (an untouched answer scores 1), a complaint in the next
turn 0 and praise 1; several signals on one answer are averaged. The bandit only chooses *how* learnt material is
used: rules the harm or poisoning gate refused are never among the choices.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from rule_store.records import (
    EditFeedback,
    FollowupFeedback,
    LogRecord,
    RatingFeedback,
    ReactionFeedback,
    edit_distance,
    utcnow,
)

if TYPE_CHECKING:
    from rule_store.protocol import RuleStore

_META_PREFIX = "strategy_bandit"
# State for queries that matched no cluster, and the namespace-wide sums every cluster's prior is drawn from.
NO_CLUSTER = "(none)"
POOLED = "(all clusters)"


class Strategy(StrEnum):
    NONE = "none"  # the prompt as the app sent it
    RULES = "rules"  # inject the cluster's rules
    REFLECTIVE = "reflective"  # draft -> critique -> revise with the cluster's experiences
    ADAPTER = "adapter"  # the cluster's accepted LoRA adapter answers


class ArmPosterior(BaseModel):
    """Beta(alpha, beta) over one strategy's reward, from a uniform prior; fractional rewards count fractionally."""

    alpha: float = Field(default=1.0, gt=0)
    beta: float = Field(default=1.0, gt=0)
    pulls: int = Field(default=0, ge=0)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)


class BanditState(BaseModel):
    namespace: str
    cluster_id: str
    arms: dict[Strategy, ArmPosterior] = Field(default_factory=dict)
    updated_at: datetime = Field(default_factory=utcnow)


class StrategyChoice(BaseModel):
    """What ``augment`` reports when a bandit chose the strategy: the arm and why."""

    strategy: Strategy
    reason: str
    available: list[Strategy]
    explored: bool = Field(description="chosen by a posterior sample (Thompson sampling) rather than the best mean")


class StrategyBandit:
    """Thompson sampling over :class:`Strategy` per (namespace, cluster); state in ``store``'s meta table."""

    def __init__(
        self,
        store: RuleStore,
        namespace: str,
        *,
        explore: bool = True,
        seed: int | None = None,
        pool_weight: float = 4.0,
    ) -> None:
        self.store = store
        self.pool_weight = pool_weight
        self.namespace = namespace
        self.explore = explore
        self._rng = random.Random(seed)

    def _key(self, cluster_id: str | None) -> str:
        return f"{_META_PREFIX}:{self.namespace}:{cluster_id or NO_CLUSTER}"

    def state(self, cluster_id: str | None) -> BanditState:
        body = self.store.get_meta(self._key(cluster_id))
        if body is None:
            return BanditState(namespace=self.namespace, cluster_id=cluster_id or NO_CLUSTER)
        return BanditState.model_validate_json(body)

    def posterior(self, cluster_id: str | None, strategy: Strategy) -> ArmPosterior:
        """The cluster's posterior of ``strategy``, starting from a prior pooled over the whole namespace: the
        namespace's mean reward of that strategy, worth at most ``pool_weight`` observations. A new cluster thus
        starts where the others ended up instead of re-exploring from scratch (empirical Bayes)."""
        own = self.state(cluster_id).arms.get(strategy, ArmPosterior())
        pooled = self.state(POOLED).arms.get(strategy)
        if pooled is None or pooled.pulls == 0:
            return own
        weight = min(self.pool_weight, float(pooled.pulls - own.pulls))
        mean = (pooled.alpha - own.alpha) / max(pooled.alpha + pooled.beta - own.alpha - own.beta, 1e-9)
        if weight <= 0:
            return own
        mean = min(max(mean, 0.0), 1.0)
        return ArmPosterior(alpha=own.alpha + weight * mean, beta=own.beta + weight * (1 - mean), pulls=own.pulls)

    def choose(self, cluster_id: str | None, available: Sequence[Strategy]) -> StrategyChoice:
        """The strategy for the next query of ``cluster_id`` among ``available`` (never an unavailable one)."""
        if not available:
            raise ValueError("choose: no strategy is available")
        posteriors = {s: self.posterior(cluster_id, s) for s in available}
        if len(available) == 1:
            only = available[0]
            return StrategyChoice(
                strategy=only, reason="the only strategy available", available=list(available), explored=False
            )
        if self.explore:
            draws = {s: self._rng.betavariate(p.alpha, p.beta) for s, p in posteriors.items()}
            best = max(available, key=lambda s: draws[s])
            greedy = max(available, key=lambda s: posteriors[s].mean)
            reason = f"Thompson sample {draws[best]:.2f} highest; " + ", ".join(
                f"{s.value}: mean {p.mean:.2f} over {p.pulls}" for s, p in posteriors.items()
            )
            return StrategyChoice(strategy=best, reason=reason, available=list(available), explored=best != greedy)
        best = max(available, key=lambda s: (posteriors[s].mean, -list(Strategy).index(s)))
        reason = "best posterior mean (exploration off); " + ", ".join(
            f"{s.value}: {p.mean:.2f} over {p.pulls}" for s, p in posteriors.items()
        )
        return StrategyChoice(strategy=best, reason=reason, available=list(available), explored=False)

    def update(self, cluster_id: str | None, strategy: Strategy, reward: float) -> BanditState:
        """Add one observed reward in [0, 1] for ``strategy`` on ``cluster_id``."""
        if not 0.0 <= reward <= 1.0:
            raise ValueError(f"bandit reward must be in [0, 1], got {reward}")
        with self.store.transaction():
            for key in (POOLED, cluster_id):
                state = self.state(key)
                arm = state.arms.get(strategy, ArmPosterior())
                state.arms[strategy] = ArmPosterior(
                    alpha=arm.alpha + reward, beta=arm.beta + 1.0 - reward, pulls=arm.pulls + 1
                )
                state.updated_at = utcnow()
                self.store.set_meta(self._key(key), state.model_dump_json())
        return state


class FixedStrategy:
    """Always one strategy when the cluster offers it; else rules, else none (for A/B arms and benchmarks)."""

    def __init__(self, strategy: Strategy) -> None:
        self.strategy = strategy

    def choose(self, cluster_id: str | None, available: Sequence[Strategy]) -> StrategyChoice:
        for candidate in (self.strategy, Strategy.RULES, Strategy.NONE):
            if candidate in available:
                why = "fixed strategy" if candidate is self.strategy else f"fixed {self.strategy.value} not offered"
                return StrategyChoice(strategy=candidate, reason=why, available=list(available), explored=False)
        raise ValueError("choose: no strategy is available")


def available_strategies(has_rules: bool, has_plan: bool, has_adapter: bool) -> list[Strategy]:
    """What a query's cluster offers: leaving the prompt alone always, the rest when learnt material exists."""
    found = [Strategy.NONE]
    if has_rules:
        found.append(Strategy.RULES)
    if has_plan:
        found.append(Strategy.REFLECTIVE)
    if has_adapter:
        found.append(Strategy.ADAPTER)
    return found


def edit_reward(response: str, edited: str) -> float:
    """1 - edit cost / length of the longer text: 1 for an untouched answer, 0 for a full rewrite."""
    longest = max(len(response), len(edited))
    return 1.0 if longest == 0 else 1.0 - edit_distance(response, edited) / longest


def _followup_reward(text: str, query: str, response: str) -> float | None:
    from uno.distill.turns import TurnKind, classify_turn

    kind = classify_turn(text, query=query, response=response).kind
    if kind in (TurnKind.PREFERENCE, TurnKind.CORRECTION, TurnKind.COMPLAINT, TurnKind.ABUSE):
        return 0.0
    return 1.0 if kind is TurnKind.PRAISE else None


def observed_reward(log: LogRecord, *, complaint: bool | None = None, accepted: float | None = None) -> float | None:
    """The reward of a log's (first) answer from what the user did: see the module docstring.

    ``complaint``: whether the next turn complained, when the caller classified it (the proxy links it to the
    answer); by default each follow-up on the answer is read by :func:`uno.distill.turns.classify_turn`: a stated
    preference, a correction, a complaint or abuse is 0, praise is 1, anything else (a new question) no signal.
    ``accepted``: the reward of an answer that got no signal at all (None: no reward), e.g. 1.0 where users
    always could edit, as in the user-edits protocol, so that an untouched answer is a zero-cost edit.
    """
    scores: list[float] = []
    turn = log.response_index
    for event in log.feedback_events():
        if log.target_turn(event) != turn:
            continue
        if isinstance(event, ReactionFeedback):
            if event.value == "dislike":
                scores.append(0.0)
            elif event.value != "none":
                scores.append(1.0)
        elif isinstance(event, RatingFeedback):
            scores.append((event.value - event.scale_min) / (event.scale_max - event.scale_min))
        elif isinstance(event, EditFeedback):
            scores.append(edit_reward(log.response, event.text))
        elif isinstance(event, FollowupFeedback) and complaint is None:
            reading = _followup_reward(event.text, log.query, log.response)
            if reading is not None:
                scores.append(reading)
    if complaint:
        scores.append(0.0)
    return sum(scores) / len(scores) if scores else accepted


__all__ = [
    "NO_CLUSTER",
    "POOLED",
    "ArmPosterior",
    "BanditState",
    "FixedStrategy",
    "Strategy",
    "StrategyBandit",
    "StrategyChoice",
    "available_strategies",
    "edit_reward",
    "observed_reward",
]
