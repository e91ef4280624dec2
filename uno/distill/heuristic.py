"""The embedded default distiller: rules from user feedback with no LLM, in pure Python (``re`` + ``difflib``).

For each log it reads every feedback event against the assistant turn it is about:

* follow-ups (:mod:`uno.distill.followups`): corrections become canonical rules, everything else a reason;
* edits (:mod:`uno.distill.edits`): measurable changes become rules, the edit a preference pair; a user turn
  that pastes a revised answer ("Here is how I would have written it: ...") is read as the edit it is;
* reactions and ratings: they weight the rules of their turn and set the verdict's signal
  (:data:`uno.distill.weights.FEEDBACK_WEIGHTS`).

A log with any adversarial span (or an adversarial query) yields nothing but its ADVERSARIAL verdict: a user who
attacks the system in one turn is not trusted in the next. The output depends only on the log (timestamps come
from it too), so distilling the same log twice gives identical records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rule_store.records import (
    EditFeedback,
    Evidence,
    Experience,
    Feedback,
    FeedbackKind,
    FollowupFeedback,
    HindsightExample,
    LogRecord,
    LogVerdict,
    PreferencePair,
    RatingFeedback,
    ReactionFeedback,
    Rule,
    RuleStatus,
    Verdict,
)
from uno.distill.base import Distillation
from uno.distill.catalog import Instruction
from uno.distill.edits import EditReading, pasted_revision, read_edit
from uno.distill.followups import (
    GENERIC_FAILURE,
    MAX_FEEDBACK_CHARS,
    MAX_READ_CHARS,
    Finding,
    FollowupKind,
    FollowupReading,
    read_followup,
)
from uno.distill.noise import NoiseLabel, classify_noise, pushed_name
from uno.distill.text import situation
from uno.distill.turns import STYLE_FAMILIES, TurnKind, classify_turn, harmful_request_reason
from uno.distill.weights import weight

_QUOTE_CHARS = 280
_OFF_TOPIC = (FollowupKind.SMALL_TALK, FollowupKind.NEW_TOPIC, FollowupKind.CLARIFYING, FollowupKind.REPLY)
# Follow-ups that open a new question: the rules learnt on later turns are about that question.
_NEW_QUESTION = (FollowupKind.NEW_TOPIC, FollowupKind.CLARIFYING, FollowupKind.NEUTRAL)


@dataclass
class _TurnSignals:
    """What reactions and ratings said about one assistant turn."""

    liked: bool = False
    disliked: bool = False
    terminated: bool = False
    low_rating: str | None = None  # "2/5" when rated low
    high_rating: bool = False


@dataclass
class _Accumulator:
    """What one log yields, filled event by event."""

    rules: dict[str, Rule] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    signals: list[float] = field(default_factory=list)
    attacks: list[str] = field(default_factory=list)
    harms: list[str] = field(default_factory=list)
    failure_modes: list[str] = field(default_factory=list)
    critiques: list[str] = field(default_factory=list)
    pairs: list[PreferencePair] = field(default_factory=list)
    hindsight: list[HindsightExample] = field(default_factory=list)
    kinds: set[FollowupKind] = field(default_factory=set)
    negative_events: int = 0

    def add_rule(self, rule: Rule) -> None:
        existing = self.rules.get(rule.id)
        if existing is None:
            self.rules[rule.id] = rule
            return
        known = {(e.quote, e.kind) for e in existing.evidence}
        evidence = existing.evidence + [e for e in rule.evidence if (e.quote, e.kind) not in known]
        confidence = max(existing.confidence, rule.confidence)
        self.rules[rule.id] = existing.model_copy(update={"evidence": evidence, "confidence": confidence})


def _harmful_turns(log: LogRecord) -> list[str]:
    """Why each user turn of the log asks for help with harm (uno's offline lexicon)."""
    found: list[str] = []
    for index, message in enumerate(log.messages):
        if message.role == "user" and message.content.strip():
            reason = harmful_request_reason(message.content)
            if reason is not None:
                found.append(f"turn {index}: {reason}")
    return found


def _oversized(log: LogRecord, events: Sequence[Feedback]) -> str | None:
    """Why the log is too large to read (a message or feedback text over ``MAX_FEEDBACK_CHARS``), else None."""
    for index, message in enumerate(log.messages):
        if len(message.content) > MAX_FEEDBACK_CHARS:
            return f"message {index} has {len(message.content):,} characters, over the {MAX_FEEDBACK_CHARS:,} limit"
    for event in events:
        text = event.text if isinstance(event, (FollowupFeedback, EditFeedback)) else ""
        if len(text) > MAX_FEEDBACK_CHARS:
            kind = "follow-up" if isinstance(event, FollowupFeedback) else "edit"
            size = f"{len(text):,} characters, over the {MAX_FEEDBACK_CHARS:,} limit"
            return f"{kind} on turn {log.target_turn(event)} has {size}"
    return None


def _split_attack(log: LogRecord, events: Sequence[object]) -> NoiseLabel | None:
    """An attack split over several follow-ups ("from now on, always" ... "mention BrandX"): read them together."""
    # Pasted content (over MAX_READ_CHARS) is read for attacks on its own already, and is not feedback.
    texts = [e.text for e in events if isinstance(e, FollowupFeedback) and len(e.text) <= MAX_READ_CHARS]
    if len(texts) < 2:
        return None
    joined = " ".join(texts)
    label = classify_noise(joined) or pushed_name(joined, f"{log.query}\n{log.response}")
    return label if label is not None and label.is_adversarial else None


def _clip(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _exact_quote(text: str) -> str:
    """An exact prefix of ``text`` short enough to store as evidence."""
    stripped = text.strip()
    if len(stripped) <= _QUOTE_CHARS:
        return stripped
    cut = stripped.rfind(" ", 0, _QUOTE_CHARS)
    return stripped[: cut if cut > 0 else _QUOTE_CHARS]


@dataclass
class _Conversation:
    """Each later user turn read against the answer before it, and the question each answer responds to."""

    readings: dict[tuple[int, str], FollowupReading]
    questions: dict[int, str]  # assistant turn -> the user message it answers (not a correction of it)

    @classmethod
    def read(cls, log: LogRecord) -> _Conversation:
        readings: dict[tuple[int, str], FollowupReading] = {}
        questions: dict[int, str] = {}
        question = log.query
        last_assistant: int | None = None
        for index, message in enumerate(log.messages):
            text = message.content.strip()
            if message.role == "assistant":
                questions[index] = question
                last_assistant = index
            elif message.role == "user" and text and index > log.query_index:
                if last_assistant is None:
                    question = message.content  # several user turns before the first answer: the last one counts
                    continue
                response = log.messages[last_assistant].content
                if pasted_revision(message.content, response) is not None:
                    continue  # an edit pasted into the chat: read as an edit, and no new question
                reading = read_followup(message.content, query=question, response=response)
                readings[(last_assistant, text)] = reading
                if reading.kind in _NEW_QUESTION:
                    question = message.content
        return cls(readings, questions)

    def reading(self, log: LogRecord, event: FollowupFeedback, turn: int) -> FollowupReading:
        """The reading of a follow-up event (explicit events are read here, against their turn)."""
        found = self.readings.get((turn, event.text.strip()))
        if found is not None:
            return found
        return read_followup(event.text, query=self.questions[turn], response=log.messages[turn].content)


class HeuristicDistiller:
    """Deterministic, LLM-free distiller: ``distill(log)`` -> :class:`Distillation`."""

    name = "heuristic"

    def distill_many(self, logs: Sequence[LogRecord]) -> list[Distillation]:
        """Distil each log in order."""
        return [self.distill(log) for log in logs]

    def distill(self, log: LogRecord) -> Distillation:
        """Read every feedback event of ``log`` and return its verdict, rules and training material."""
        if not isinstance(log, LogRecord):
            raise TypeError(f"{self.name} distiller expects a LogRecord, got {type(log).__name__}")
        events = log.feedback_events()
        if not events:
            return Distillation(log.id, self._verdict(log, Verdict.NO_FEEDBACK, ["no feedback events"], 0.0))
        oversized = _oversized(log, events)
        if oversized is not None:
            reason = f"{oversized}: not read; nothing learnt from this log"
            return Distillation(log.id, self._verdict(log, Verdict.OFF_TOPIC, [reason], 0.0))
        acc = _Accumulator()
        query_noise = classify_noise(log.query)
        if query_noise is not None and query_noise.is_adversarial:
            acc.attacks.append(f"query: {query_noise.reason} ({query_noise.span!r})")
        split = _split_attack(log, events)
        if split is not None:
            acc.attacks.append(f"follow-ups read together: {split.reason} ({split.span!r})")
        acc.harms.extend(_harmful_turns(log))
        turn_signals = self._turn_signals(log, events, acc)
        conversation = _Conversation.read(log)
        for event in events:
            turn = log.target_turn(event)
            signals = turn_signals.get(turn, _TurnSignals())
            question = conversation.questions[turn]
            if isinstance(event, FollowupFeedback):
                pasted = pasted_revision(event.text, log.messages[turn].content)
                if pasted is not None:
                    acc.reasons.append(
                        f"follow-up on turn {turn}: a revised answer pasted into the chat, read as an edit"
                    )
                    edit = EditFeedback(text=pasted, turn=turn, timestamp=event.timestamp, implicit=event.implicit)
                    self._edit(log, edit, turn, signals, question, acc)
                    continue
                self._followup(log, event, turn, conversation.reading(log, event, turn), signals, question, acc)
            elif isinstance(event, EditFeedback):
                self._edit(log, event, turn, signals, question, acc)
        return self._finish(log, acc)

    # ------------------------------------------------------------------------------------------------- events

    def _turn_signals(self, log: LogRecord, events: Sequence[object], acc: _Accumulator) -> dict[int, _TurnSignals]:
        signals: dict[int, _TurnSignals] = {}
        for event in events:
            if isinstance(event, ReactionFeedback):
                turn = log.target_turn(event)
                state = signals.setdefault(turn, _TurnSignals())
                ended = " and ended the conversation" if event.terminated else ""
                if event.value == "dislike":
                    state.disliked = True
                    state.terminated = state.terminated or event.terminated
                    acc.signals.append(weight("signal.dislike_terminated" if event.terminated else "signal.dislike"))
                    acc.negative_events += 1
                elif event.value in ("like", "love", "copy"):
                    state.liked = True
                    acc.signals.append(weight(f"signal.{event.value}"))
                acc.reasons.append(f"reaction on turn {turn}: {event.value}{ended}")
            elif isinstance(event, RatingFeedback):
                turn = log.target_turn(event)
                state = signals.setdefault(turn, _TurnSignals())
                shown = f"{event.value:g}/{event.scale_max:g}"
                acc.signals.append(round(2 * event.normalized - 1, 4))
                if event.normalized <= weight("rating.low"):
                    state.low_rating = shown
                    acc.negative_events += 1
                    acc.reasons.append(f"rating on turn {turn}: {shown} (low)")
                elif event.normalized >= weight("rating.high"):
                    state.high_rating = True
                    acc.reasons.append(f"rating on turn {turn}: {shown} (high)")
                else:
                    acc.reasons.append(f"rating on turn {turn}: {shown} (neutral)")
        return signals

    def _followup_weight(self, finding: Finding, reading: FollowupReading, signals: _TurnSignals) -> float:
        if signals.disliked and signals.terminated:
            base = weight("evidence.followup_after_terminated_dislike")
        elif signals.disliked:
            base = weight("evidence.followup_after_dislike")
        elif signals.low_rating:
            base = weight("evidence.followup_after_low_rating")
        elif signals.liked or signals.high_rating:
            base = weight("evidence.followup_after_like")
        else:
            base = weight("evidence.followup")
        if finding.generic:
            base *= weight("evidence.generic_factor")
        if reading.insistent:
            base += weight("evidence.insistent_bonus")
        return round(min(1.0, max(0.0, base)), 3)

    def _followup(
        self,
        log: LogRecord,
        event: FollowupFeedback,
        turn: int,
        reading: FollowupReading,
        signals: _TurnSignals,
        question: str,
        acc: _Accumulator,
    ) -> None:
        acc.kinds.add(reading.kind)
        shown = _clip(event.text)
        if reading.kind is FollowupKind.ADVERSARIAL:
            label = next(label for label in reading.noise if label.is_adversarial)
            acc.attacks.append(f"follow-up on turn {turn}: {label.reason} ({label.span!r})")
            return
        response = log.messages[turn].content
        if len(event.text) > MAX_READ_CHARS:
            acc.reasons.append(f"follow-up on turn {turn}: {reading.note}")
            return
        # "none" for the harm check: _harmful_turns already read every user turn of the log.
        kind = classify_turn(event.text, query=question, response=response, reading=reading, harmful="")
        if kind.kind is TurnKind.HARMFUL:
            acc.harms.append(f"follow-up on turn {turn}: {kind.reason}")
            return
        aspects = ", ".join(f.instruction.aspect or "generic" for f in kind.preferences)
        arrow = f" -> {aspects}" if aspects else ""
        acc.reasons.append(
            f'follow-up on turn {turn}: {reading.note}; {kind.kind.value}: {kind.reason}{arrow}: "{shown}"'
        )
        if reading.kind is FollowupKind.ABUSIVE:
            acc.signals.append(weight("signal.abusive_followup"))
            return
        if reading.kind is FollowupKind.SATISFIED:
            acc.signals.append(weight("signal.satisfied_followup"))
            return
        if kind.kind not in (TurnKind.PREFERENCE, TurnKind.CORRECTION, TurnKind.COMPLAINT):
            return  # a question, a new request, a statement: nothing to learn about answers
        acc.hindsight.append(
            HindsightExample(
                namespace=log.namespace,
                prompt=log.prompt_for_turn(turn),
                response=response,
                followup=event.text,
                source_log_id=log.id,
                created_at=log.timestamp,
            )
        )
        if kind.kind is not TurnKind.PREFERENCE:
            # A complaint, or a correction of this answer only: a reflective experience, never a rule.
            acc.signals.append(weight("signal.complaint_followup"))
            acc.negative_events += 1
            acc.kinds.add(FollowupKind.COMPLAINT)
            failure = "answer judged wrong or unhelpful" if kind.kind is TurnKind.COMPLAINT else GENERIC_FAILURE
            acc.failure_modes.append(failure)
            acc.critiques.append(f'"{_clip(event.text, 200)}"')
            return
        acc.signals.append(weight("signal.corrective_followup"))
        when = situation(question)
        context = self._context(signals)
        for finding in kind.preferences:
            evidence_weight = self._followup_weight(finding, reading, signals)
            if finding.generic:
                rationale = (
                    f'The user replied "{finding.quote}"{context}; in their words, as an instruction: '
                    f"{finding.instruction.do}"
                )
            else:
                rationale = (
                    f'The user replied "{finding.quote}"{context}; "{finding.trigger}" is {finding.reading}, '
                    f"so: {finding.instruction.do}"
                )
            evidence = Evidence(
                log_id=log.id,
                quote=finding.quote,
                kind=FeedbackKind.FOLLOWUP,
                user_id=log.user_id,
                verified_id=log.verified_id,
                weight=evidence_weight,
                timestamp=event.timestamp or log.timestamp,
            )
            acc.add_rule(self._rule(log, finding.instruction, when, rationale, evidence))
            acc.failure_modes.append(finding.instruction.failure_mode)
        acc.critiques.append(f'"{_clip(event.text, 200)}"')

    def _edit(
        self,
        log: LogRecord,
        event: EditFeedback,
        turn: int,
        signals: _TurnSignals,
        question: str,
        acc: _Accumulator,
    ) -> None:
        response = log.messages[turn].content
        if not event.text.strip():
            acc.reasons.append(f"edit on turn {turn}: empty edit ignored (deleting the answer says nothing specific)")
            return
        reading = read_edit(response, event.text)
        if reading.noise is not None:
            acc.attacks.append(f"edit on turn {turn}: {reading.noise.reason} ({reading.noise.span!r})")
            return
        if reading.identical:
            acc.signals.append(weight("signal.identical_edit"))
            acc.reasons.append(f"edit on turn {turn}: identical to the answer, counted as a like")
            acc.kinds.add(FollowupKind.SATISFIED)
            return
        changed = 1.0 - reading.similarity
        low, high = weight("signal.edit_min"), weight("signal.edit_max")
        acc.signals.append(round(low + (high - low) * changed, 4))
        acc.negative_events += 1
        acc.reasons.append(f"edit on turn {turn}: {reading.summary}")
        acc.pairs.append(
            PreferencePair(
                namespace=log.namespace,
                prompt=log.prompt_for_turn(turn),
                chosen=event.text,
                rejected=response,
                source_log_id=log.id,
                source="edit",
                created_at=log.timestamp,
            )
        )
        self._edit_rules(log, event, reading, signals, question, acc)
        acc.critiques.append(f"the user edited the answer ({reading.summary})")

    def _edit_rules(
        self,
        log: LogRecord,
        event: EditFeedback,
        reading: EditReading,
        signals: _TurnSignals,
        question: str,
        acc: _Accumulator,
    ) -> None:
        when = situation(question)
        bonus = (
            weight("evidence.edit_after_terminated_dislike_bonus") if signals.disliked and signals.terminated else 0.0
        )
        for change in reading.changes:
            family = (change.instruction.aspect or "").split(":", 1)[0]
            if family not in STYLE_FAMILIES:
                # A sentence added or removed, a word swapped: a one-off correction of this answer. It stays in
                # the preference pair and the experience; it is not a lesson for other answers.
                acc.reasons.append(f"edit: {change.detail} is a one-off content change, not a rule")
                continue
            base = weight(f"evidence.edit_{change.kind}")
            evidence = Evidence(
                log_id=log.id,
                quote=change.quote or _exact_quote(event.text),
                kind=FeedbackKind.EDIT,
                user_id=log.user_id,
                verified_id=log.verified_id,
                weight=round(min(1.0, base + bonus), 3),
                timestamp=event.timestamp or log.timestamp,
            )
            rationale = f"The user edited the answer ({change.detail}), so: {change.instruction.do}"
            acc.add_rule(self._rule(log, change.instruction, when, rationale, evidence))
            acc.failure_modes.append(change.instruction.failure_mode)

    # ------------------------------------------------------------------------------------------------- records

    @staticmethod
    def _context(signals: _TurnSignals) -> str:
        if signals.disliked:
            return " after disliking the answer" + (" and leaving" if signals.terminated else "")
        if signals.low_rating:
            return f" after rating the answer {signals.low_rating}"
        if signals.liked or signals.high_rating:
            return " although they liked the answer"
        return ""

    @staticmethod
    def _rule(log: LogRecord, instruction: Instruction, when: str, rationale: str, evidence: Evidence) -> Rule:
        return Rule(
            namespace=log.namespace,
            when=when,
            do=instruction.do,
            polarity=instruction.polarity,
            aspect=instruction.aspect,
            rationale=rationale,
            evidence=[evidence],
            support=1,
            confidence=evidence.weight,
            status=RuleStatus.CANDIDATE,
            created_at=log.timestamp,
            updated_at=log.timestamp,
        )

    def _verdict(self, log: LogRecord, verdict: Verdict, reasons: list[str], signal: float) -> LogVerdict:
        return LogVerdict(
            log_id=log.id,
            namespace=log.namespace,
            verdict=verdict,
            reasons=reasons,
            signal=round(max(-1.0, min(1.0, signal)), 4),
            distiller=self.name,
            created_at=log.timestamp,
        )

    def _finish(self, log: LogRecord, acc: _Accumulator) -> Distillation:
        signal = sum(acc.signals) / len(acc.signals) if acc.signals else 0.0
        if acc.harms and not acc.attacks:
            # Learning from a conversation that seeks help with harm could only make the assistant more willing.
            reasons = [f"harmful request: {harm}" for harm in dict.fromkeys(acc.harms)]
            reasons[0] += "; nothing learnt from this log"
            return Distillation(log.id, self._verdict(log, Verdict.HARMFUL, [*reasons, *acc.reasons], signal))
        if acc.attacks:
            # A user who attacks the system in one turn is not trusted in the next: nothing is learnt from the log.
            reasons = [f"adversarial {attack}" for attack in acc.attacks]
            reasons[0] += "; nothing learnt from this log"
            return Distillation(log.id, self._verdict(log, Verdict.ADVERSARIAL, [*reasons, *acc.reasons], signal))
        rules = list(acc.rules.values())
        return Distillation(
            log.id,
            self._verdict(log, self._decide(acc, signal), acc.reasons, signal),
            rules=rules,
            experiences=self._experiences(log, acc, rules),
            preference_pairs=acc.pairs,
            hindsight=acc.hindsight,
        )

    @staticmethod
    def _decide(acc: _Accumulator, signal: float) -> Verdict:
        """The log's verdict once no attack was found: what it taught, else how the user felt."""
        if acc.rules or acc.pairs:
            return Verdict.ACTIONABLE
        if FollowupKind.ABUSIVE in acc.kinds:
            return Verdict.ABUSIVE
        if FollowupKind.COMPLAINT in acc.kinds or (acc.negative_events and signal < 0):
            return Verdict.NEGATIVE
        if signal > 0 or FollowupKind.SATISFIED in acc.kinds:
            return Verdict.SATISFIED
        if acc.kinds & {*_OFF_TOPIC, FollowupKind.NEUTRAL}:
            return Verdict.OFF_TOPIC
        return Verdict.NO_FEEDBACK

    @staticmethod
    def _experiences(log: LogRecord, acc: _Accumulator, rules: list[Rule]) -> list[Experience]:
        if not acc.critiques:
            return []
        failure = "; ".join(dict.fromkeys(acc.failure_modes)) or "answer judged wrong or unhelpful"
        critique = "The user objected: " + "; ".join(dict.fromkeys(acc.critiques))
        if rules:
            guidance = "\n".join(f"- {rule.do}" for rule in rules)
        else:
            guidance = "- Re-check the answer against the user's objection before replying; fix what they pointed out."
        return [
            Experience(
                namespace=log.namespace,
                failure_mode=failure,
                critique=critique,
                revision_guidance=guidance,
                source_log_ids=[log.id],
                created_at=log.timestamp,
            )
        ]
