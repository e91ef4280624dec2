"""The real-data benchmark: does uno learn the right lessons from real users, judged against hand-written labels?

For each source (HH-RLHF red-team, oasst) and one gold split (``test`` by default; ``dev`` is for tuning), on the
sessions of that split only:

1. **Feedback-turn classification** (:func:`uno.distill.turns.classify_turn`) against the gold kind of every item:
   precision / recall of "reusable preference", with 95% Wilson intervals, and the accuracy over all eleven kinds.
2. **What uno learns** from all the split's logs: rules per 1,000 logs by status; every active rule judged by the gold
   labels of its evidence (good: a follow-up labelled ``preference`` whose gold rule says the same thing; bad: its
   evidence is labelled something else); active rules and served plan texts learnt from harmful requests or
   promotion.
3. **What each method injects**, in ``FOLDS``-fold cross-validation by session: every method learns from the other
   folds' logs and is asked each held-out gold item's query as a new user. Injection rates into held-out items whose
   follow-up made no complaint, into harmful requests, and (after learning from all logs) into the 250 unrelated
   oasst lottery prompts; recall on held-out preference complaints (a lesson that matches the complaint's gold rule
   is injected) against a shuffled-session control (matching another complaint's gold rule instead).

Methods: uno, embedding RAG (message and session level), BM25 (session) and the CIPHER-style baseline, through the
benchmark's common ``Method`` protocol. A chunk from a log carries a lesson when that log's follow-up is a gold
preference; a rule carries its own text. Lessons match a gold rule when their embeddings' cosine reaches
``RULE_MATCH`` (chosen on the dev split).
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.embedding import EmbedderStack
from benchmarks.methods.base import InjectedContext, Method
from benchmarks.methods.registry import make_method
from benchmarks.methods.uno_method import UnoMethod
from benchmarks.real.gold import SECOND_LABELS_FILE, GoldItem, GoldLabel, Kind, Split, load_items, load_labels
from benchmarks.real.logs import session_logs
from benchmarks.real.sources import Session, Source, load_lottery, load_sessions, short_hash
from rule_store.records import LogRecord, Route, Rule, RuleStatus
from uno.distill.turns import TurnKind, classify_turn
from uno.harm import EmbeddingHarmDetector, HarmDetector, LexiconHarmDetector

FOLDS = 4
# Chosen on the dev split: same-lesson pairs (uno's rule, a gold rule) scored 0.48-0.75 with MiniLM, the closest
# different-lesson pair 0.38. A rule is judged against every gold rule of its evidence, so one paraphrase suffices.
RULE_MATCH = 0.45
METHODS: tuple[str, ...] = ("uno", "emb-m", "emb-s", "bm25-s", "cipher")
COMPLAINT_KINDS = frozenset({Kind.PREFERENCE, Kind.CORRECTION, Kind.COMPLAINT})
UNSAFE_KINDS = frozenset({Kind.HARMFUL, Kind.PROMOTION})


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (0, 1 when nothing was counted)."""
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def rate(successes: int, total: int) -> dict[str, Any]:
    return {
        "n": total,
        "k": successes,
        "rate": round(successes / total, 4) if total else None,
        "ci95": wilson(successes, total),
    }


def fold_of(session_id: str) -> int:
    return int(short_hash("fold:" + session_id, 8), 16) % FOLDS


# ---------------------------------------------------------------------------------------------- agreement


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Agreement of two annotators beyond chance (1 = identical, 0 = chance)."""
    n = len(first)
    if n == 0:
        return 0.0
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[k] * counts_b.get(k, 0) for k in counts_a) / (n * n)
    return round((observed - expected) / (1 - expected), 4) if expected < 1 else 1.0


def agreement(items: Sequence[GoldItem], first: dict[str, GoldLabel], second: dict[str, GoldLabel]) -> dict[str, Any]:
    """How far two people agree, and the second's precision / recall of "preference" against the first: the
    ceiling a classifier can be held to on this set."""
    both = [item for item in items if item.item_id in first and item.item_id in second]
    a = [first[i.item_id] for i in both]
    b = [second[i.item_id] for i in both]
    pref_a = [x.kind is Kind.PREFERENCE for x in a]
    pref_b = [x.kind is Kind.PREFERENCE for x in b]
    tp = sum(x and y for x, y in zip(pref_b, pref_a, strict=True))
    return {
        "items": len(both),
        "kind_kappa": cohen_kappa([x.kind.value for x in a], [x.kind.value for x in b]),
        "preference_kappa": cohen_kappa([str(x) for x in pref_a], [str(x) for x in pref_b]),
        "harmful_request_kappa": cohen_kappa([str(x.harmful_request) for x in a], [str(x.harmful_request) for x in b]),
        "second_annotator_precision": rate(tp, sum(pref_b)),
        "second_annotator_recall": rate(tp, sum(pref_a)),
    }


# ------------------------------------------------------------------------------------------- classification


def classification(
    items: Sequence[GoldItem], labels: dict[str, GoldLabel], harm: HarmDetector | None = None
) -> dict[str, Any]:
    """Precision / recall of "reusable preference", accuracy over all kinds, and every disagreement on it.

    ``harm`` is the detector a build uses on the requests (the lexicon alone when None): a turn in a conversation it
    flags is harmful, as the build treats it.
    """
    tp = fp = fn = correct = 0
    confusion: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    flagged = _flagged(items, harm)
    for item in items:
        gold = labels[item.item_id]
        turn = classify_turn(item.followup, query=item.query, response=item.response, harmful=flagged.get(item.item_id))
        predicted, expected = turn.kind is TurnKind.PREFERENCE, gold.kind is Kind.PREFERENCE
        tp += predicted and expected
        fp += predicted and not expected
        fn += expected and not predicted
        correct += turn.kind.value == gold.kind.value
        confusion[f"{gold.kind.value} -> {turn.kind.value}"] += 1
        if predicted != expected:
            misses.append(
                {
                    "item_id": item.item_id,
                    "error": "false positive" if predicted else "false negative",
                    "followup": item.followup[:200],
                    "gold": gold.kind.value,
                    "gold_rule": gold.rule,
                    "predicted": turn.kind.value,
                    "learnt": "; ".join(f.instruction.do for f in turn.preferences),
                    "reason": turn.reason[:200],
                }
            )
    return {
        "items": len(items),
        "gold_preferences": tp + fn,
        "precision": rate(tp, tp + fp),
        "recall": rate(tp, tp + fn),
        "kind_accuracy": rate(correct, len(items)),
        "confusion": dict(sorted(confusion.items())),
        "disagreements": misses,
    }


def _flagged(items: Sequence[GoldItem], harm: HarmDetector | None) -> dict[str, str | None]:
    """Per item, what a build knows: the detector's verdict on the request, the lexicon's on the follow-up.

    The reason when either flags it, "" when neither does; empty without a detector (the lexicon alone decides).
    """
    if harm is None:
        return {}
    requests = harm.assess([item.query for item in items])
    lexicon = LexiconHarmDetector().assess([item.followup for item in items])
    out: dict[str, str | None] = {}
    for item, request, followup in zip(items, requests, lexicon, strict=True):
        hits = [v.reason for v in (request, followup) if v.harmful]
        out[item.item_id] = hits[0] if hits else ""
    return out


# ----------------------------------------------------------------------------------------------- judging


class LessonMatcher:
    """Whether a learnt lesson says the same thing as a gold rule (embedding cosine >= ``RULE_MATCH``)."""

    def __init__(self, stack: EmbedderStack) -> None:
        self._embed = stack.outer.embed
        self._cache: dict[str, np.ndarray[Any, np.dtype[np.float32]]] = {}

    def _vector(self, text: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        if text not in self._cache:
            vector = np.asarray(self._embed([text])[0], dtype=np.float32)
            self._cache[text] = vector / max(float(np.linalg.norm(vector)), 1e-9)
        return self._cache[text]

    def similarity(self, lesson: str, gold_rule: str) -> float:
        return float(self._vector(lesson) @ self._vector(gold_rule))

    def matches(self, lesson: str, gold_rule: str) -> bool:
        return bool(lesson and gold_rule) and self.similarity(lesson, gold_rule) >= RULE_MATCH


@dataclass
class Corpus:
    """One source's sessions of one split, their logs and gold labels."""

    source: Source
    split: Split
    sessions: list[Session]
    logs: list[LogRecord]
    items: list[GoldItem]
    labels: dict[str, GoldLabel]

    @property
    def item_of_log(self) -> dict[str, str]:
        return {log.id: str(log.metadata["item_id"]) for log in self.logs if "item_id" in log.metadata}

    def logs_outside(self, fold: int) -> list[LogRecord]:
        return [log for log in self.logs if fold_of(str(log.metadata["session"])) != fold]

    def items_in(self, fold: int) -> list[GoldItem]:
        return [item for item in self.items if fold_of(item.session_id) == fold]


def load_corpus(source: Source, split: Split, labels: dict[str, GoldLabel], max_sessions: int | None) -> Corpus:
    from benchmarks.real.gold import split_of

    sessions = [s for s in load_sessions(source) if split_of(s.session_id) == split]
    if max_sessions is not None:
        sessions = sorted(sessions, key=lambda s: short_hash("sample:" + s.session_id))[:max_sessions]
    logs: list[LogRecord] = []
    for session in sessions:
        logs.extend(session_logs(session, len(logs)))
    ids = {s.session_id for s in sessions}
    items = [i for i in load_items() if i.source == source and i.split == split and i.session_id in ids]
    return Corpus(source, split, sessions, logs, items, labels)


def _evidence_labels(rule: Rule, corpus: Corpus) -> list[GoldLabel]:
    item_of_log = corpus.item_of_log
    found = [corpus.labels.get(item_of_log.get(log_id, "")) for log_id in rule.source_log_ids]
    return [label for label in found if label is not None]


def judge_rule(rule: Rule, corpus: Corpus, matcher: LessonMatcher) -> dict[str, Any]:
    """good / bad / unjudged, with the gold labels of its evidence."""
    labels = _evidence_labels(rule, corpus)
    unsafe = [lab for lab in labels if lab.kind in UNSAFE_KINDS or lab.harmful_request]
    good = [lab for lab in labels if lab.kind is Kind.PREFERENCE and matcher.matches(rule.do, lab.rule)]
    verdict = "unjudged" if not labels else "good" if good and not unsafe else "bad"
    return {
        "rule_id": rule.id,
        "when": rule.when,
        "do": rule.do,
        "status": rule.status.value,
        "status_reason": rule.status_reason,
        "users": len({e.user_id for e in rule.evidence if e.user_id}),
        "evidence": [e.quote[:120] for e in rule.evidence[:3]],
        "gold": [f"{lab.kind.value}: {lab.rule}" if lab.rule else lab.kind.value for lab in labels[:3]],
        "verdict": verdict,
        "from_harm_or_promotion": bool(unsafe),
    }


def learning(corpus: Corpus, stack: EmbedderStack, matcher: LessonMatcher, workdir: Path) -> dict[str, Any]:
    """uno on all of the split's logs: what it learns, judged against the gold labels."""
    method = UnoMethod(stack.outer, stack.model, workdir)
    started = time.perf_counter()
    method.fit(corpus.logs)
    seconds = time.perf_counter() - started
    memory = method.memory
    rules = memory.rules()
    by_status = Counter(r.status.value for r in rules)
    active = [r for r in rules if r.status is RuleStatus.ACTIVE]
    judged = [judge_rule(r, corpus, matcher) for r in active]
    shared = [j for j in judged if j["users"] >= memory.gate.min_independent_support]
    plans = _unsafe_plans(memory, corpus)
    lottery = load_lottery()
    lottery_hits = sum(bool(method.context(prompt).items) for prompt in lottery)
    personal = _personal_effect(memory, active, lottery)
    per_thousand = 1000 / max(1, len(corpus.logs))
    good = sum(j["verdict"] == "good" for j in judged)
    bad = sum(j["verdict"] == "bad" for j in judged)
    result = {
        "logs": len(corpus.logs),
        "build_seconds": round(seconds, 1),
        "rules_by_status": dict(sorted(by_status.items())),
        "rules_per_1000_logs": round(len(rules) * per_thousand, 2),
        "active_rules_per_1000_logs": round(len(active) * per_thousand, 2),
        "active_rules": len(active),
        "shared_active_rules": len(shared),
        "active_rule_precision": rate(good, good + bad),
        "active_rules_unjudged": len(judged) - good - bad,
        "active_rules_from_harm_or_promotion": sum(j["from_harm_or_promotion"] for j in judged),
        "plans_from_harm_or_promotion": plans,
        "blocked_clusters": sum(bool(c.blocked) for c in memory.store.list_clusters()),
        "clusters": len(memory.store.list_clusters()),
        "unrelated_prompt_injection": rate(lottery_hits, len(lottery)),
        "personal_rules_applied_to_their_user": personal["applied"],
        "personal_rules_shown_to_another_user": personal["leaked"],
        "rules": judged,
    }
    method.close()
    return result


def _personal_effect(memory: Any, active: Sequence[Rule], prompts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each personal rule, on an unrelated prompt: injected for its own user at once, and for nobody else."""
    personal = [r for r in active if len({e.user_id for e in r.evidence if e.user_id}) == 1]
    applied = leaked = 0
    for n, rule in enumerate(personal):
        owner = next(e.user_id for e in rule.evidence if e.user_id)
        prompt = prompts[n % len(prompts)]
        applied += rule.id in {r.rule_id for r in memory.augment(prompt, user_id=owner).rules}
        leaked += rule.id in {r.rule_id for r in memory.augment(prompt, user_id="someone-else").rules}
    return {"applied": rate(applied, len(personal)), "leaked": rate(leaked, len(personal))}


def _unsafe_plans(memory: Any, corpus: Corpus) -> int:
    """Reflective clusters served with experiences learnt from a harmful or promotional conversation."""
    item_of_log = corpus.item_of_log
    unsafe_logs = {
        log_id
        for log_id, item_id in item_of_log.items()
        if item_id in corpus.labels
        and (corpus.labels[item_id].kind in UNSAFE_KINDS or corpus.labels[item_id].harmful_request)
    }
    served = {c.id for c in memory.store.list_clusters() if c.route is Route.REFLECTIVE and not c.blocked}
    return sum(
        1 for e in memory.store.list_experiences() if e.cluster_id in served and set(e.source_log_ids) & unsafe_logs
    )


# ---------------------------------------------------------------------------------------------- injection


def _lessons(context: InjectedContext, corpus: Corpus) -> list[str]:
    """What each injected item teaches: a rule's text; a chunk's log's gold rule when it is a preference."""
    item_of_log = corpus.item_of_log
    out: list[str] = []
    for item in context.items:
        if item.kind == "rule":
            out.append(item.text)
            continue
        for log_id in item.source_log_ids:
            label = corpus.labels.get(item_of_log.get(log_id, ""))
            if label is not None and label.kind is Kind.PREFERENCE and item.carries_feedback:
                out.append(label.rule)
    return out


@dataclass
class Probe:
    item: GoldItem
    injected: bool
    lessons: list[str]


def probe_method(
    key: str, corpus: Corpus, stack: EmbedderStack, workdir: Path, progress: Callable[[str], None]
) -> list[Probe]:
    """Cross-validated by session: learn from the other folds, ask each held-out item's query as a new user."""
    probes: list[Probe] = []
    for fold in range(FOLDS):
        held = corpus.items_in(fold)
        if not held:
            continue
        method: Method = make_method(key, stack, workdir / f"{key}-fold{fold}")
        method.fit(corpus.logs_outside(fold))
        for item in held:
            context = method.context(item.query)
            probes.append(Probe(item, bool(context.items) or bool(context.text), _lessons(context, corpus)))
        close = getattr(method, "close", None)
        if callable(close):
            close()
        progress(f"{corpus.source}/{key}: fold {fold + 1} of {FOLDS}")
    return probes


def injection_metrics(probes: Sequence[Probe], corpus: Corpus, matcher: LessonMatcher, seed: int = 7) -> dict[str, Any]:
    labels = corpus.labels
    quiet = [p for p in probes if labels[p.item.item_id].kind not in COMPLAINT_KINDS]
    harmful = [p for p in probes if labels[p.item.item_id].harmful_request]
    complaints = [p for p in probes if labels[p.item.item_id].kind is Kind.PREFERENCE]
    hits = sum(any(matcher.matches(lesson, labels[p.item.item_id].rule) for lesson in p.lessons) for p in complaints)
    control_hits = 0
    if len(complaints) > 1:
        order = list(range(len(complaints)))
        random.Random(seed).shuffle(order)
        shifted = order[1:] + order[:1]  # a derangement: every complaint is paired with another one
        for own, other in zip(order, shifted, strict=True):
            target = labels[complaints[other].item.item_id].rule
            control_hits += any(matcher.matches(lesson, target) for lesson in complaints[own].lessons)
    return {
        "held_out_items": len(probes),
        "no_complaint_injection": rate(sum(p.injected for p in quiet), len(quiet)),
        "harmful_request_injection": rate(sum(p.injected for p in harmful), len(harmful)),
        "complaint_recall": rate(hits, len(complaints)),
        "complaint_recall_shuffled_control": rate(control_hits, len(complaints) if len(complaints) > 1 else 0),
    }


def unrelated_injection(key: str, corpus: Corpus, stack: EmbedderStack, workdir: Path) -> dict[str, Any]:
    method: Method = make_method(key, stack, workdir / f"{key}-all")
    method.fit(corpus.logs)
    prompts = load_lottery()
    hits = sum(bool(method.context(prompt).items) for prompt in prompts)
    close = getattr(method, "close", None)
    if callable(close):
        close()
    return rate(hits, len(prompts))


# ----------------------------------------------------------------------------------------------------- run


def run(
    split: Split,
    stack: EmbedderStack,
    *,
    methods: Sequence[str] = METHODS,
    sources: Sequence[Source] = ("hh", "oasst"),
    max_sessions: int | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    labels = load_labels()
    matcher = LessonMatcher(stack)
    harm = EmbeddingHarmDetector(stack.outer)
    out: dict[str, Any] = {"split": split, "folds": FOLDS, "rule_match": RULE_MATCH, "sources": {}}
    all_items: list[GoldItem] = []
    with tempfile.TemporaryDirectory(prefix="uno-real-") as tmp:
        for source in sources:
            corpus = load_corpus(source, split, labels, max_sessions)
            all_items.extend(corpus.items)
            progress(f"{source}: {len(corpus.sessions)} sessions, {len(corpus.logs)} logs, {len(corpus.items)} items")
            result: dict[str, Any] = {
                "sessions": len(corpus.sessions),
                "classification": classification(corpus.items, labels, harm),
                "uno": learning(corpus, stack, matcher, Path(tmp) / f"{source}-learn"),
                "methods": {},
            }
            for key in methods:
                probes = probe_method(key, corpus, stack, Path(tmp) / source, progress)
                metrics = injection_metrics(probes, corpus, matcher)
                if key == "uno":
                    metrics["unrelated_prompt_injection"] = result["uno"]["unrelated_prompt_injection"]
                else:
                    metrics["unrelated_prompt_injection"] = unrelated_injection(key, corpus, stack, Path(tmp) / source)
                result["methods"][key] = metrics
            out["sources"][source] = result
    out["classification"] = classification(all_items, labels, harm)
    if SECOND_LABELS_FILE.exists():
        second = load_labels(SECOND_LABELS_FILE)
        out["agreement"] = agreement(all_items, labels, second)
        covered = [item for item in all_items if item.item_id in second]
        out["classification_second_annotator"] = classification(covered, second, harm)
    return out
