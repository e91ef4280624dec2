"""A per-cluster bandit over answering strategies: the user-edits paper's *late ensemble*, online.

Post-Training LLMs with User-Edits Deployment Data (Gao et al.) learns one policy per kind of feedback and, per
round, picks among them by the reward the user's behaviour implies. uno's strategies are not policies but ways of
using what it learnt for a query's cluster (:class:`Strategy`): leave the prompt alone, inject the cluster's rules,
run the reflective draft -> critique -> revise loop, or call the cluster's accepted LoRA adapter. The bandit keeps,
per namespace and cluster, a Beta posterior of each strategy's reward in [0, 1] and picks by Thompson sampling
(``explore=False``: the best posterior mean, no exploration). Leaving the prompt alone starts from a uniform prior;
a strategy that uses learnt material starts ``optimism`` pseudo-successes ahead (Beta(1 + optimism, 1)), because
that material already passed the gate (support, noise, novelty): without it, a new cluster would spend its first
answers re-trying the plain prompt whose edits taught the rules, and a couple of bad rewards still overturn it.
Its state is in the store (``meta``), so every process serving a namespace shares it, and tenants never see each
other's.

Rewards come back by themselves through the proxy and ``as_runnable``: the log of each answer they serve records the
arm that produced it (:func:`pull_metadata`), and :meth:`uno.UnoMemory.feedback` (the user's next turn, which the
proxy links to the answer, or a reaction, rating or edit sent later) credits that arm with the answer's reward
(:func:`credit_feedback`); later feedback on the same answer revises its reward instead of adding a second one,
and ``forget`` takes it back.

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
from typing import TYPE_CHECKING, Any

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
_FLOOR = 1e-6
# Where a log says which arm produced its answer (set by the proxy and ``as_runnable``; see :func:`pull_metadata`).
PULL_KEY = "uno_strategy"
# The reward of an answer the user went on from, in the next turn, without complaint, praise, edit or reaction: as
# in the user-edits protocol, where an answer the user did not edit costs nothing.
CONTINUED_REWARD = 1.0
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

    def details(self) -> dict[str, Any]:
        """What an answer's ``uno`` details say of the choice (the proxy's response, ``as_runnable``'s metadata)."""
        return self.model_dump(mode="json", include={"strategy", "reason", "explored"})


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
        optimism: float = 1.0,
    ) -> None:
        if optimism < 0:
            raise ValueError(f"bandit optimism must be >= 0, got {optimism}")
        self.store = store
        self.pool_weight = pool_weight
        self.optimism = optimism
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

    def prior(self, strategy: Strategy) -> ArmPosterior:
        """Where an arm starts: uniform for the plain prompt, ``optimism`` successes ahead for learnt material."""
        return ArmPosterior() if strategy is Strategy.NONE else ArmPosterior(alpha=1.0 + self.optimism)

    def posterior(self, cluster_id: str | None, strategy: Strategy) -> ArmPosterior:
        """The cluster's posterior of ``strategy``, starting from a prior pooled over the whole namespace: the
        namespace's mean reward of that strategy, worth at most ``pool_weight`` observations. A new cluster thus
        starts where the others ended up instead of re-exploring from scratch (empirical Bayes)."""
        own = self.state(cluster_id).arms.get(strategy) or self.prior(strategy)
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
        return self.revise(cluster_id, strategy, None, reward)

    def revise(self, cluster_id: str | None, strategy: Strategy, old: float | None, new: float | None) -> BanditState:
        """Replace the reward one answer credited to ``strategy`` (``old``, None: none yet) by ``new`` (None: take
        it back, e.g. the log was forgotten). Later feedback on the same answer thus revises its reward instead of
        counting the answer twice."""
        for reward in (old, new):
            if reward is not None and not 0.0 <= reward <= 1.0:
                raise ValueError(f"bandit reward must be in [0, 1], got {reward}")
        d_alpha = (new or 0.0) - (old or 0.0)
        d_beta = (0.0 if new is None else 1.0 - new) - (0.0 if old is None else 1.0 - old)
        d_pulls = (new is not None) - (old is not None)
        with self.store.transaction():
            for key in (POOLED, cluster_id):
                state = self.state(key)
                arm = state.arms.get(strategy) or self.prior(strategy)
                state.arms[strategy] = ArmPosterior(
                    # Taking back what was added cannot go below the prior but for float rounding.
                    alpha=max(arm.alpha + d_alpha, _FLOOR),
                    beta=max(arm.beta + d_beta, _FLOOR),
                    pulls=max(arm.pulls + d_pulls, 0),
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


def observed_reward(
    log: LogRecord, *, complaint: bool | None = None, accepted: float | None = None, turn: int | None = None
) -> float | None:
    """The reward of a log's (first) answer from what the user did: see the module docstring.

    ``complaint``: whether the next turn complained, when the caller classified it (the proxy links it to the
    answer); by default each follow-up on the answer is read by :func:`uno.distill.turns.classify_turn`: a stated
    preference, a correction, a complaint or abuse is 0, praise is 1, anything else (a new question) no signal.
    ``accepted``: the reward of an answer that got no signal at all (None: no reward), e.g. 1.0 where users
    always could edit, as in the user-edits protocol, so that an untouched answer is a zero-cost edit.
    ``turn``: the assistant turn to score (default the log's first answer).
    """
    scores: list[float] = []
    turn = log.response_index if turn is None else turn
    response = log.messages[turn].content
    query = next((m.content for m in reversed(log.messages[:turn]) if m.role == "user"), "")
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
            scores.append(edit_reward(response, event.text))
        elif isinstance(event, FollowupFeedback) and complaint is None:
            reading = _followup_reward(event.text, query, response)
            if reading is not None:
                scores.append(reading)
    if complaint:
        scores.append(0.0)
    return sum(scores) / len(scores) if scores else accepted


def answer_reward(log: LogRecord) -> float | None:
    """The reward the feedback on ``log``'s answer implies so far (:func:`observed_reward`).

    The answer is the log's last assistant turn (what uno served); a next turn that says nothing about it (a new
    question) is :data:`CONTINUED_REWARD`; no feedback at all: None."""
    turn = max(i for i, m in enumerate(log.messages) if m.role == "assistant")
    reward = observed_reward(log, turn=turn)
    if reward is not None:
        return reward
    continued = any(
        isinstance(event, FollowupFeedback) and log.target_turn(event) == turn for event in log.feedback_events()
    )
    return CONTINUED_REWARD if continued else None


def pull_metadata(cluster_id: str | None, choice: StrategyChoice | None) -> dict[str, Any]:
    """What a logged answer records of the arm that produced it (empty when no bandit chose one)."""
    if choice is None:
        return {}
    return {PULL_KEY: {"strategy": choice.strategy.value, "cluster_id": cluster_id}}


def _pull_of(log: LogRecord) -> tuple[str | None, Strategy] | None:
    found = log.metadata.get(PULL_KEY)
    if not isinstance(found, dict):
        return None
    try:
        strategy = Strategy(str(found.get("strategy")))
    except ValueError:
        return None
    cluster_id = found.get("cluster_id")
    return (cluster_id if isinstance(cluster_id, str) else None), strategy


def credit_feedback(
    store: RuleStore, namespace: str, before: LogRecord | None, after: LogRecord | None
) -> float | None:
    """Credit the arm that produced a logged answer with the reward its feedback implies, when that changed.

    ``before`` / ``after``: the log before and after new feedback (``after=None``: the log is being forgotten, so
    its reward is taken back). Logs no bandit chose an arm for are left alone. Returns the new reward.
    """
    either = after or before
    pull = _pull_of(either) if either is not None else None
    if pull is None:
        return None
    old = answer_reward(before) if before is not None else None
    new = answer_reward(after) if after is not None else None
    if old != new:
        StrategyBandit(store, namespace).revise(pull[0], pull[1], old, new)
    return new


__all__ = [
    "CONTINUED_REWARD",
    "NO_CLUSTER",
    "POOLED",
    "PULL_KEY",
    "ArmPosterior",
    "BanditState",
    "FixedStrategy",
    "Strategy",
    "StrategyBandit",
    "StrategyChoice",
    "answer_reward",
    "available_strategies",
    "credit_feedback",
    "edit_reward",
    "observed_reward",
    "pull_metadata",
]
