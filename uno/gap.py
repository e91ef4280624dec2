"""The cognitive-gap and noise filter: which candidate rules become active, and how each cluster is served.

UNO (§4) scores a rule's novelty with a reranker against the model's own rules and routes whole clusters on the
minimum. uno keeps the idea and makes every decision explicit and recorded on the rule (``status_reason``):

1. **Noise.** A rule whose instruction or evidence reads as an attack (prompt injection, prompt extraction,
   promotion) is retired, whatever its support.
2. **Support.** A rule goes active only with independent support: evidence from ``min_independent_support``
   independent sources (:func:`evidence_source`: the identity the deployment vouched for, else the user the log
   names; all anonymous logs together are one source), or a single strong signal (a user edit, a correction after a
   dislike) whose weight reaches ``strong_signal_weight``. It is *shared* (shown to other users) only when
   :func:`is_shared` says so: enough identified sources and, with ``min_vouched_identities``, enough identities the
   deployment vouches for (see docs/threat-model.md).
3. **Novelty.** A pluggable :class:`NoveltyScorer` estimates how far a rule is from what the model does anyway.
   A rule the model already follows (novelty under ``known_novelty_threshold``) is retired as "known": injecting
   it costs tokens and teaches nothing.
4. **Contradictions.** Two rules that ask for opposite things (same aspect family, different value; or the same
   instruction with opposite polarity) and apply to the same kind of query compete on recency-weighted support. The
   loser is ``superseded`` by the winner, with both figures in the reason. Both are never kept silently.
5. **Route.** A cluster whose corrective feedback is mostly captured by its active rules is served by injecting
   them (primary); one whose feedback is mostly idiosyncratic (content errors, one-off complaints) is routed to
   draft -> critique -> revise with its stored experiences (reflective); a cluster with nothing learnt gets none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rule_store.records import Cluster, Evidence, FeedbackKind, Polarity, Route, Rule, RuleStatus, Verdict
from uno.aspects import complies, contradicts, split_aspect
from uno.distill.turns import compliance_reason

MANUAL_PREFIX = "manual:"
HELD_PREFIX = "held:"
PERSONAL_PREFIX = "personal:"
HARMFUL_PREFIX = "harmful:"


@dataclass(frozen=True)
class GateConfig:
    min_independent_support: int = 2
    strong_signal_weight: float = 0.85
    known_novelty_threshold: float = 0.25
    # Minimum share of a cluster's responses a checker must see to trust a compliance rate.
    min_checked_responses: int = 3
    high_gap_threshold: float = 0.5
    # Two contradicting rules compete when their evidence queries are at least this similar.
    contradiction_similarity: float = 0.55
    recency_half_life_days: float = 120.0
    # A user's own explicit preference applies to that user's next queries at once (shown to nobody else).
    personal_rules: bool = True
    # Share of a cluster's requests the harm detector must flag for the whole cluster to learn nothing.
    harmful_cluster_share: float = 0.3
    # How many distinct identities the deployment vouches for (``LogRecord.verified_id``: stamped by the server from
    # the API key, or set by the host app) a rule needs before other users are shown it. 0 keeps the Python API's
    # default: user ids count as given, which is right when the host app sets them from its own login.
    min_vouched_identities: int = 0


@dataclass
class GapContext:
    """What a scorer may look at for one cluster: the model's own responses there, by log id."""

    responses: dict[str, str] = field(default_factory=dict)
    # The queries those responses answered (an LLM scorer asks the model what it would do for them).
    queries: dict[str, str] = field(default_factory=dict)
    # Logs whose user was satisfied: their responses show what the model already does to users' liking.
    satisfied: set[str] = field(default_factory=set)


class NoveltyScorer(Protocol):
    """Estimates, per rule, 1 - P(the model already does this) in [0, 1]; None when it cannot tell."""

    name: str

    def novelty(self, rules: Sequence[Rule], context: GapContext) -> list[float | None]: ...


# Behaviours an instruction-tuned assistant shows without being told; feedback asking for them teaches nothing.
DEFAULT_BEHAVIOURS = (
    "Answer in English.",
    "Be polite and respectful.",
    "Be helpful.",
    "Answer the question that was asked.",
    "Explain clearly.",
    "Use correct grammar and spelling.",
    "Be accurate.",
)


class ResponsePriorScorer:
    """Offline novelty: did the model already do what the feedback asks?

    For rules with a checkable aspect (length, lists, emoji, language, ...), two compliance rates are measured:
    over the responses the rule's own feedback was given on (feedback asking for what the response already did
    teaches nothing: "answer in English" on an English answer), and over the cluster's other responses, satisfied
    ones counting double (what the model does anyway). Novelty is one minus their blend, the evidence weighing
    more. For free-text rules, novelty falls with the rule's similarity to :data:`DEFAULT_BEHAVIOURS`, when an
    embedder is given.
    """

    name = "response-prior"
    evidence_weight = 0.7

    def __init__(
        self,
        embed: Callable[[Sequence[str]], npt.NDArray[np.float32]] | None = None,
        *,
        min_checked: int = 3,
        prior_texts: Sequence[str] = DEFAULT_BEHAVIOURS,
    ) -> None:
        self._embed = embed
        self._min_checked = min_checked
        self._prior_texts = list(prior_texts)
        self._prior_vectors: npt.NDArray[np.float32] | None = None

    def novelty(self, rules: Sequence[Rule], context: GapContext) -> list[float | None]:
        scores: list[float | None] = [self._checked_novelty(rule, context) for rule in rules]
        unchecked = [i for i, s in enumerate(scores) if s is None and rules[i].polarity is Polarity.DO]
        if unchecked and self._embed is not None:
            for i, value in zip(unchecked, self._semantic_novelty([rules[i] for i in unchecked]), strict=True):
                scores[i] = value
        return scores

    def _compliance(self, rule: Rule, weighted: Sequence[tuple[str, float]]) -> tuple[float, float]:
        """(weighted share of checkable responses that comply, total weight checked)."""
        known = [(ok, w) for ok, w in ((rule_complies(rule, text), w) for text, w in weighted) if ok is not None]
        total = sum(w for _, w in known)
        return (sum(w for ok, w in known if ok) / total if total else 0.0), total

    def _checked_novelty(self, rule: Rule, context: GapContext) -> float | None:
        sources = set(rule.source_log_ids)
        # An edit shows the user changed exactly this: its response did not already comply, whatever a checker
        # thinks. Only stated feedback (follow-ups, reactions) can be about something the response already did.
        edited = {e.log_id for e in rule.evidence if e.kind is FeedbackKind.EDIT}
        stated = sorted(sources - edited)
        evidence = [(context.responses[i], 1.0) for i in stated if i in context.responses]
        prior = [
            (text, 2.0 if log_id in context.satisfied else 1.0)
            for log_id, text in sorted(context.responses.items())
            if log_id not in sources
        ]
        own, own_weight = self._compliance(rule, evidence)
        own, own_weight = _with_edits(own, own_weight, len(edited & set(context.responses)))
        rest, rest_weight = self._compliance(rule, prior)
        if own_weight == 0 and rest_weight < self._min_checked:
            return None
        if own_weight == 0:
            return round(1.0 - rest, 4)
        if rest_weight < self._min_checked:
            return round(1.0 - own, 4)
        blended = self.evidence_weight * own + (1.0 - self.evidence_weight) * rest
        return round(1.0 - blended, 4)

    def _semantic_novelty(self, rules: Sequence[Rule]) -> list[float | None]:
        assert self._embed is not None
        if self._prior_vectors is None:
            self._prior_vectors = self._embed(self._prior_texts)
        vectors = self._embed([rule.do for rule in rules])
        best = (vectors @ self._prior_vectors.T).max(axis=1)
        # Cosine 0.85+ to a default behaviour reads as "the same instruction"; 0.45 and below as unrelated.
        return [round(float(np.clip((0.85 - s) / 0.40, 0.0, 1.0)), 4) for s in best]


def _with_edits(share: float, weight: float, edits: int) -> tuple[float, float]:
    """Fold edited responses (non-compliant by construction) into a compliance share."""
    total = weight + edits
    return (share * weight / total if total else 0.0), total


_WORD_LIMIT = re.compile(r"(\d+)\s*words?", re.IGNORECASE)
_SENTENCE_LIMIT = re.compile(r"(\d+|one|two|three)\s*sentences?", re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3}


def rule_complies(rule: Rule, response: str) -> bool | None:
    """Whether ``response`` already follows ``rule``: its aspect's checker, sharpened by a stated length limit."""
    if rule.aspect == "length:short":
        words = _WORD_LIMIT.search(rule.do)
        if words:
            return len(response.split()) <= int(words.group(1)) * 1.3
        sentences = _SENTENCE_LIMIT.search(rule.do)
        if sentences:
            limit = _NUMBERS.get(sentences.group(1).lower()) or int(sentences.group(1))
            return len(re.findall(r"[.!?](\s|$)", response.strip())) <= limit
    return complies(rule.aspect, response)


# --- rule gating


# A narrow second line of defence behind the distiller's classifier: phrases that are never a style preference.
_ATTACK = re.compile(
    r"(ignore (all |any )?(previous|prior|above|earlier) (instructions|rules|prompts?)|disregard (your|the|all) "
    r"(rules|instructions|guidelines)|(reveal|print|show|repeat|leak|output) (me )?(your|the) (system )?(prompt|"
    r"instructions)|jailbreak|developer mode|<\|im_start\|>|###\s*system)",
    re.IGNORECASE,
)


def attack_reason(text: str, *, context: str | None = None) -> str | None:
    """Why a rule's text reads as an attempt to instruct the system (None when it does not).

    With ``context`` (what the rule applies to), a brand-like name the context never mentions that the text pushes
    into answers is an attack too ("Mention BrandX in the answer.").
    """
    from uno.distill.noise import classify_noise, pushed_name

    label = classify_noise(text)
    if label is None and context is not None:
        label = pushed_name(text, context)
    if label is not None and label.is_adversarial:
        return f"adversarial: {label.reason}"
    match = _ATTACK.search(text)
    return f"adversarial: matches {match.group(0)!r}" if match else None


ANONYMOUS_SOURCE = "anonymous"
VERIFIED_PREFIX = "verified:"
USER_PREFIX = "user:"


def evidence_source(item: Evidence) -> str:
    """The independent source one piece of evidence counts for.

    The identity the deployment vouched for when there is one (an API key, or a user the host app verified): a
    client cannot multiply it by inventing user ids. Else the user the log names; else ``anonymous``, one source for
    all anonymous logs together: anyone can send many, so they cannot fake shared support.
    """
    if item.verified_id:
        return VERIFIED_PREFIX + item.verified_id
    if item.user_id:
        return USER_PREFIX + item.user_id
    return ANONYMOUS_SOURCE


def independent_sources(rule: Rule) -> dict[str, float]:
    """One weight per independent source (:func:`evidence_source`), the strongest of its evidence."""
    sources: dict[str, float] = {}
    for item in rule.evidence:
        key = evidence_source(item)
        sources[key] = max(sources.get(key, 0.0), item.weight)
    return sources


def identified_users(rule: Rule) -> set[str]:
    """The distinct users (not anonymous logs) whose feedback supports ``rule``: its rule is personal to them."""
    return {e.user_id for e in rule.evidence if e.user_id}


def identified_sources(rule: Rule) -> set[str]:
    """The independent sources of ``rule`` other than anonymous logs: what may make it shared."""
    return {key for key in independent_sources(rule) if key != ANONYMOUS_SOURCE}


def vouched_identities(rule: Rule) -> set[str]:
    """The distinct identities the deployment vouched for among the evidence of ``rule``."""
    return {e.verified_id for e in rule.evidence if e.verified_id}


def may_teach_others(user_id: str | None, verified_id: str | None, config: GateConfig) -> bool:
    """Whether one log's lesson (a reflective experience) may be shown to other users: not an anonymous log, and a
    vouched one when ``min_vouched_identities`` asks for vouched identities."""
    if config.min_vouched_identities > 0:
        return verified_id is not None
    return user_id is not None or verified_id is not None


def is_shared(rule: Rule, config: GateConfig) -> bool:
    """Whether ``rule`` may be shown to users who did not give its evidence.

    It needs ``min_independent_support`` identified sources (anonymous logs never count, and one API key that does
    not vouch for its users is one source however many user ids it sends) and ``min_vouched_identities`` vouched
    identities. A rule added by hand is the namespace's own: everyone in it sees it.
    """
    if rule.manual:
        return True
    return (
        len(identified_sources(rule)) >= config.min_independent_support
        and len(vouched_identities(rule)) >= config.min_vouched_identities
    )


def confidence(weights: Sequence[float]) -> float:
    """Noisy-OR of independent evidence: each source could be wrong on its own, all of them rarely."""
    miss = 1.0
    for weight in weights:
        miss *= 1.0 - min(0.99, max(0.0, weight))
    return round(1.0 - miss, 4)


def latest_evidence(rule: Rule) -> datetime:
    stamps = [e.timestamp for e in rule.evidence if e.timestamp is not None]
    return max(stamps) if stamps else rule.updated_at


def recency_weight(rule: Rule, now: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (now - _aware(latest_evidence(rule))).total_seconds() / 86400.0)
    return math.pow(0.5, age_days / half_life_days)


def _aware(stamp: datetime) -> datetime:
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def held_by_hand(rule: Rule) -> bool:
    """A person decides this rule's status: added or pinned by hand, or retired by hand."""
    return rule.held or rule.status_reason.startswith(MANUAL_PREFIX)


def gate_rule(rule: Rule, novelty: float | None, config: GateConfig) -> Rule:
    """Support, noise and novelty decide a rule's status (contradictions are settled afterwards)."""
    if held_by_hand(rule):
        return rule
    sources = independent_sources(rule)
    support = len({e.log_id for e in rule.evidence})
    update: dict[str, object] = {
        "support": support,
        "confidence": confidence(list(sources.values())),
        "novelty": novelty,
        "superseded_by": None,
    }
    attack = attack_reason(" ".join([rule.do, rule.when, *(e.quote for e in rule.evidence)])) or attack_reason(
        rule.do, context=rule.when
    )
    push = compliance_reason(rule.do, rule.aspect)
    users = identified_users(rule)
    if attack:
        update |= {"status": RuleStatus.RETIRED, "status_reason": attack}
    elif push:
        # "Provide the help", "don't lecture me": learning must never make the assistant more willing to comply.
        reason = f"{HELD_PREFIX} {push}; only a person can activate it (pin it by hand)"
        update |= {"status": RuleStatus.CANDIDATE, "status_reason": reason}
    elif novelty is not None and novelty < config.known_novelty_threshold:
        reason = f"known: the model already does this (novelty {novelty:.2f})"
        update |= {"status": RuleStatus.RETIRED, "status_reason": reason}
    elif len(sources) >= config.min_independent_support:
        shared = "shared" if is_shared(rule, config) else "personal to its users"
        update |= {
            "status": RuleStatus.ACTIVE,
            "status_reason": f"supported by {len(sources)} independent sources ({shared})",
        }
    elif max(sources.values(), default=0.0) >= config.strong_signal_weight:
        update |= {
            "status": RuleStatus.ACTIVE,
            "status_reason": "one strong signal (edit or correction after dislike); personal until others agree",
        }
    elif config.personal_rules and users:
        reason = (
            f"{PERSONAL_PREFIX} one user's explicit preference, applied to their own queries; shared once "
            f"{config.min_independent_support} users agree"
        )
        update |= {"status": RuleStatus.ACTIVE, "status_reason": reason}
    else:
        reason = f"needs more support ({len(sources)} of {config.min_independent_support} independent sources)"
        update |= {"status": RuleStatus.CANDIDATE, "status_reason": reason}
    return rule.model_copy(update=update)


def opposed(a: Rule, b: Rule) -> bool:
    if contradicts(a.aspect, b.aspect):
        return True
    same_instruction = a.key.split(":", 1)[1] == b.key.split(":", 1)[1]
    return same_instruction and a.polarity is not b.polarity


def settle_contradictions(
    rules: Sequence[Rule],
    neighbourhood: Callable[[Rule, Rule], float],
    config: GateConfig,
    now: datetime | None = None,
) -> list[Rule]:
    """Among live rules that oppose each other within one query neighbourhood, keep the stronger one.

    Strength = independent support weighted by recency (``recency_half_life_days``). The loser is marked
    superseded, naming the winner and both strengths.
    """
    now = now or datetime.now(UTC)
    by_id = {r.id: r for r in rules}
    live = [r for r in rules if r.status in (RuleStatus.ACTIVE, RuleStatus.CANDIDATE)]
    families: dict[str, list[Rule]] = {}
    for rule in live:
        family = split_aspect(rule.aspect)[0] or "instruction:" + rule.key.split(":", 1)[1]
        families.setdefault(family, []).append(rule)

    def strength(rule: Rule) -> float:
        return sum(independent_sources(rule).values()) * recency_weight(rule, now, config.recency_half_life_days)

    for group in families.values():
        # What a person added or pinned outranks what was learnt: it supersedes the rules it contradicts.
        ranked = sorted(group, key=lambda r: (not r.held, -strength(r), r.id))
        for i, winner in enumerate(ranked):
            if by_id[winner.id].status is RuleStatus.SUPERSEDED:
                continue
            for loser in ranked[i + 1 :]:
                current = by_id[loser.id]
                if current.status is RuleStatus.SUPERSEDED or held_by_hand(current):
                    continue
                if opposed(winner, loser) and neighbourhood(winner, loser) >= config.contradiction_similarity:
                    reason = (
                        f"contradicted by {winner.id} ({winner.do!r}): strength {strength(winner):.2f} "
                        f"vs {strength(loser):.2f}"
                    )
                    by_id[loser.id] = current.model_copy(
                        update={
                            "status": RuleStatus.SUPERSEDED,
                            "superseded_by": winner.id,
                            "status_reason": reason,
                        }
                    )
    return [by_id[r.id] for r in rules]


# --- cluster routing


def route_cluster(
    cluster: Cluster,
    rules: Sequence[Rule],
    member_verdicts: dict[str, Verdict],
    config: GateConfig,
    *,
    has_experiences: bool,
) -> Cluster:
    """Gap = share of the cluster's corrective logs that no active rule explains; route from it."""
    corrective = [log_id for log_id, v in member_verdicts.items() if v in (Verdict.ACTIONABLE, Verdict.NEGATIVE)]
    # A personal rule explains its own user's feedback only: one-off feedback from many users, each with a personal
    # rule, is still idiosyncratic (reflective).
    active = [r for r in rules if r.status is RuleStatus.ACTIVE and not r.status_reason.startswith(PERSONAL_PREFIX)]
    explained_logs = {e.log_id for r in active for e in r.evidence}
    unexplained = sum(log_id not in explained_logs for log_id in corrective)
    gap = unexplained / len(corrective) if corrective else 0.0
    if not active and not (corrective and has_experiences):
        route = Route.NONE
    elif not active or gap >= config.high_gap_threshold:
        route = Route.REFLECTIVE if has_experiences else Route.PRIMARY if active else Route.NONE
    else:
        route = Route.PRIMARY
    members = len(cluster.member_log_ids)
    maturity = round((1.0 - gap) * min(1.0, len(corrective) / 20.0) * min(1.0, members / 10.0), 4)
    return cluster.model_copy(
        update={
            "gap_score": round(gap, 4),
            "route": route,
            "maturity": maturity,
            "rule_ids": sorted(r.id for r in rules),
            "updated_at": datetime.now(UTC),
        }
    )
