"""The records uno keeps: the contract between every stage of the pipeline.

They live in ``rule_store`` (not ``uno``) so that the persistence package can be imported and tested on its own,
without any model or LLM code. ``uno`` re-exports them.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

DEFAULT_NAMESPACE = "default"


def utcnow() -> datetime:
    return datetime.now(UTC)


def stable_hash(*parts: object, length: int = 16) -> str:
    """A short, deterministic id for content (sha256 of its canonical JSON)."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


class Record(BaseModel):
    """Base of every stored record: strict about unknown fields so typos in input are reported, not ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def edit_distance(before: str, after: str) -> int:
    """Levenshtein distance in characters (insertions, deletions and substitutions cost 1), by rapidfuzz."""
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(before, after))


# --- messages


Role = Literal["system", "user", "assistant", "tool"]


class Message(Record):
    role: Role
    content: str
    name: str | None = None


# --- feedback


class FeedbackKind(StrEnum):
    FOLLOWUP = "followup"
    EDIT = "edit"
    REACTION = "reaction"
    RATING = "rating"


ReactionValue = Literal["like", "love", "dislike", "copy", "none"]


class _FeedbackBase(Record):
    # Index in ``LogRecord.messages`` of the assistant turn this feedback is about; None means the first one.
    turn: int | None = Field(default=None, ge=0)
    timestamp: datetime | None = None
    # True when the signal was observed rather than stated (MemoryBench's implicit_feedback, a copy event).
    implicit: bool = False


class FollowupFeedback(_FeedbackBase):
    """A natural-language message the user sent after the answer."""

    kind: Literal[FeedbackKind.FOLLOWUP] = FeedbackKind.FOLLOWUP
    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("follow-up text is blank")
        return value


class EditFeedback(_FeedbackBase):
    """The user's corrected version of the response."""

    kind: Literal[FeedbackKind.EDIT] = FeedbackKind.EDIT
    text: str


class ReactionFeedback(_FeedbackBase):
    """like / love / dislike / copy / none, optionally ending the conversation (``terminated``)."""

    kind: Literal[FeedbackKind.REACTION] = FeedbackKind.REACTION
    value: ReactionValue
    terminated: bool = False


class RatingFeedback(_FeedbackBase):
    """A number on a stated scale (default 1-5)."""

    kind: Literal[FeedbackKind.RATING] = FeedbackKind.RATING
    value: float
    scale_min: float = 1.0
    scale_max: float = 5.0

    @model_validator(mode="after")
    def _value_on_scale(self) -> RatingFeedback:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"rating scale is empty: [{self.scale_min}, {self.scale_max}]")
        if not self.scale_min <= self.value <= self.scale_max:
            raise ValueError(f"rating {self.value} is outside its scale [{self.scale_min}, {self.scale_max}]")
        return self

    @property
    def normalized(self) -> float:
        """The rating mapped to [0, 1]."""
        return (self.value - self.scale_min) / (self.scale_max - self.scale_min)


Feedback = Annotated[
    FollowupFeedback | EditFeedback | ReactionFeedback | RatingFeedback,
    Field(discriminator="kind"),
]
FEEDBACK_ADAPTER: TypeAdapter[Feedback] = TypeAdapter(Feedback)


# --- logs


class LogRecord(Record):
    """One logged interaction: a multi-turn conversation plus the feedback it received.

    By default the first user turn is the query, the first assistant turn the response and every later user turn
    a follow-up on the assistant turn before it (as UNO reads MemoryBench dialogs). Explicit ``feedback`` events can
    point at any assistant turn through ``turn``.
    """

    id: str = ""
    namespace: str = Field(default=DEFAULT_NAMESPACE, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, max_length=200)
    # An identity the deployment vouches for (see docs/threat-model.md): the server stamps it from the request's
    # API key, replacing whatever a client sent; through the Python API the host app may set it from its own login.
    # Support for a shared rule is counted by it when set; it is not part of the content hash.
    verified_id: str | None = Field(default=None, min_length=1, max_length=300)
    timestamp: datetime = Field(default_factory=utcnow)
    messages: list[Message] = Field(min_length=2)
    feedback: list[Feedback] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_shape(self) -> LogRecord:
        roles = [m.role for m in self.messages]
        if "user" not in roles:
            raise ValueError("log has no user message")
        first_user = roles.index("user")
        if "assistant" not in roles[first_user:]:
            raise ValueError("log has no assistant message after the first user message")
        for event in self.feedback:
            if event.turn is not None:
                if event.turn >= len(self.messages):
                    raise ValueError(f"feedback points at turn {event.turn}, but the log has {len(roles)} messages")
                if roles[event.turn] != "assistant":
                    raise ValueError(f"feedback points at turn {event.turn}, which is a {roles[event.turn]} turn")
        if not self.id:
            # validate_assignment would re-enter this validator: write the field directly.
            object.__setattr__(self, "id", "log-" + self.content_hash())
        return self

    def content_hash(self) -> str:
        """Hash of what the log says (not when or under which id): re-ingesting the same content is a no-op."""
        return stable_hash(
            self.namespace,
            self.user_id,
            [(m.role, m.content) for m in self.messages],
            [FEEDBACK_ADAPTER.dump_python(f, mode="json", exclude={"timestamp"}) for f in self.feedback],
        )

    def restates(self, stored: LogRecord) -> bool:
        """Whether this log says what ``stored`` says: the same user and messages, and only feedback ``stored``
        already has. A stored log gains feedback over time, so re-sending it as first written is no conflict."""
        if (self.user_id, _turns(self)) != (stored.user_id, _turns(stored)):
            return False
        held = {_feedback_key(event) for event in stored.feedback}
        return all(_feedback_key(event) in held for event in self.feedback)

    @property
    def query_index(self) -> int:
        return next(i for i, m in enumerate(self.messages) if m.role == "user")

    @property
    def response_index(self) -> int:
        start = self.query_index
        return next(i for i, m in enumerate(self.messages) if i > start and m.role == "assistant")

    @property
    def query(self) -> str:
        return self.messages[self.query_index].content

    @property
    def response(self) -> str:
        return self.messages[self.response_index].content

    @property
    def system_prompt(self) -> str | None:
        first = self.messages[0]
        return first.content if first.role == "system" else None

    def feedback_events(self) -> list[Feedback]:
        """Explicit feedback plus the follow-ups implied by later user turns, each pointing at its assistant turn."""
        events: list[Feedback] = list(self.feedback)
        explicit_followups = {f.text.strip() for f in self.feedback if isinstance(f, FollowupFeedback)}
        last_assistant: int | None = None
        for index, message in enumerate(self.messages):
            if message.role == "assistant":
                last_assistant = index
            elif message.role == "user" and last_assistant is not None:
                text = message.content.strip()
                if text and text not in explicit_followups:
                    events.append(FollowupFeedback(text=message.content, turn=last_assistant))
        return events

    def target_turn(self, event: Feedback) -> int:
        """The assistant turn an event is about."""
        return self.response_index if event.turn is None else event.turn

    def prompt_for_turn(self, turn: int) -> list[Message]:
        """The conversation up to (not including) an assistant turn: what the model saw when it answered."""
        return list(self.messages[:turn])

    @property
    def has_feedback(self) -> bool:
        return bool(self.feedback_events())

    def edit_cost(self) -> int | None:
        """The user's edit cost: the Levenshtein distance from each edited answer to the user's version, summed
        over the log's edits (the metric of the user-edits papers); None when the log has no edit."""
        edits = [f for f in self.feedback if isinstance(f, EditFeedback)]
        if not edits:
            return None
        return sum(edit_distance(self.messages[self.target_turn(e)].content, e.text) for e in edits)


def _tenant(namespace: str) -> tuple[str, ...]:
    """The namespace as part of a derived id. Log ids are unique per namespace only, so an id derived from a log
    id must include it, or two tenants' records could share an id; left out for the default namespace, so the
    ids of records stored before log ids were per namespace stay the same."""
    return () if namespace == DEFAULT_NAMESPACE else (namespace,)


def _turns(log: LogRecord) -> list[tuple[str, str]]:
    return [(message.role, message.content) for message in log.messages]


def _feedback_key(event: Feedback) -> str:
    return FEEDBACK_ADAPTER.dump_json(event, exclude={"timestamp"}).decode()


# --- rules


class Polarity(StrEnum):
    DO = "do"
    AVOID = "avoid"


class RuleStatus(StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


class Evidence(Record):
    """Where a rule came from: one log and the feedback span that implied it."""

    log_id: str
    quote: str = ""
    kind: FeedbackKind
    user_id: str | None = None
    # The vouched-for identity of the cited log (``LogRecord.verified_id``), copied by the distiller.
    verified_id: str | None = None
    # How strongly this piece of evidence supports the rule, in [0, 1] (an edit or a dislike weighs more).
    weight: float = Field(default=1.0, ge=0.0, le=1.0)
    timestamp: datetime | None = None


class Rule(Record):
    """A semi-structured, actionable lesson: "when <situation>, do/avoid <instruction>"."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    when: str = Field(min_length=1)
    do: str = Field(min_length=1)
    polarity: Polarity = Polarity.DO
    # A coarse key for what the rule is about ("length", "format.lists", "language"): rules with the same aspect
    # and opposite directions contradict each other.
    aspect: str | None = None
    rationale: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    support: int = Field(default=0, ge=0)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    novelty: float | None = Field(default=None, ge=0.0, le=1.0)
    status: RuleStatus = RuleStatus.CANDIDATE
    status_reason: str = ""
    superseded_by: str | None = None
    cluster_id: str | None = None
    # Written by a person (``add_rule``), not learnt: no evidence needed, never gated, retired or superseded by a
    # build, kept by ``build(full=True)`` and by ``forget``.
    manual: bool = False
    # Held by a person: a build keeps its status and text (learnt rules are still deleted when their logs are).
    pinned: bool = False
    # Its ``when``/``do`` were edited by hand: a build no longer rewrites them.
    edited: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _fill_id(self) -> Rule:
        if not self.id:
            object.__setattr__(self, "id", "rule-" + stable_hash(self.namespace, self.key))
        return self

    @property
    def key(self) -> str:
        """What makes two rules the same rule: the normalised instruction and its polarity."""
        return f"{self.polarity.value}:{' '.join(self.do.lower().split())}"

    @property
    def text(self) -> str:
        return f"When {self.when}: {self.do}"

    @property
    def source_log_ids(self) -> list[str]:
        return sorted({e.log_id for e in self.evidence})

    @property
    def source_user_ids(self) -> list[str | None]:
        return sorted({e.user_id for e in self.evidence}, key=lambda u: u or "")

    @property
    def held(self) -> bool:
        """Whether a person decides this rule's status and text, not the build's gate."""
        return self.manual or self.pinned


class RuleChangeAction(StrEnum):
    CREATED = "created"  # learnt by a build, or added by hand
    UPDATED = "updated"  # a build changed its evidence, support or text
    STATUS = "status"  # the gate changed its status
    EDITED = "edited"  # a person changed its text or fields
    RETIRED = "retired"
    RESTORED = "restored"
    PINNED = "pinned"
    UNPINNED = "unpinned"
    DELETED = "deleted"  # hard delete: the rule and its earlier history are gone; this entry says who and when
    IMPORTED = "imported"


class RuleChange(Record):
    """One entry of a rule's history: what changed, who or what changed it, when, and the fields before/after.

    ``actor`` is "build", "gate", "user", "forget", "import" or "api:<key fingerprint>" (never a key itself).
    ``before``/``after`` hold only the fields that changed (all tracked fields on creation; none on deletion, so
    a deleted rule's text does not outlive it).
    """

    id: str = ""
    rule_id: str = Field(min_length=1)
    namespace: str = DEFAULT_NAMESPACE
    action: RuleChangeAction
    actor: str = Field(min_length=1, max_length=200)
    at: datetime = Field(default_factory=utcnow)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    note: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _fill_id(self) -> RuleChange:
        if not self.id:
            payload = (
                self.namespace,
                self.rule_id,
                self.action.value,
                self.actor,
                self.at.isoformat(),
                self.before,
                self.after,
            )
            object.__setattr__(self, "id", "chg-" + stable_hash(*payload, length=20))
        return self


# --- experience


class Experience(Record):
    """Reflective experience: what went wrong in a response and how to revise it."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    cluster_id: str | None = None
    failure_mode: str
    critique: str
    revision_guidance: str
    source_log_ids: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _fill_id(self) -> Experience:
        if not self.id:
            object.__setattr__(
                self,
                "id",
                "exp-" + stable_hash(self.namespace, self.failure_mode, sorted(self.source_log_ids)),
            )
        return self


class PreferencePair(Record):
    """A DPO pair: for ``prompt``, ``chosen`` is better than ``rejected`` (by ``margin`` where it was judged)."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    prompt: list[Message] = Field(min_length=1)
    chosen: str
    rejected: str
    source_log_id: str
    source: Literal["edit", "revision", "reaction"] = "edit"
    margin: float | None = None
    cluster_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _fill_id(self) -> PreferencePair:
        if self.chosen == self.rejected:
            raise ValueError("chosen and rejected are identical: not a preference")
        if not self.id:
            key = (*_tenant(self.namespace), self.source_log_id, self.chosen, self.rejected)
            object.__setattr__(self, "id", "pair-" + stable_hash(*key))
        return self


class HindsightExample(Record):
    """(prompt, response, follow-up) for hindsight self-distillation: the teacher sees the follow-up."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    prompt: list[Message] = Field(min_length=1)
    response: str
    followup: str
    source_log_id: str
    cluster_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _fill_id(self) -> HindsightExample:
        if not self.id:
            key = (*_tenant(self.namespace), self.source_log_id, self.response, self.followup)
            object.__setattr__(self, "id", "hind-" + stable_hash(*key))
        return self


# --- clusters


class Route(StrEnum):
    PRIMARY = "primary"  # inject the cluster's rules
    REFLECTIVE = "reflective"  # draft -> critique -> revise with the cluster's experiences
    NONE = "none"  # nothing learnt: leave the prompt alone


class Cluster(Record):
    id: str
    namespace: str = DEFAULT_NAMESPACE
    label: str = ""
    # Mean of the members' L2-normalised *query* embeddings, re-normalised: new queries are matched against it.
    centroid: list[float] = Field(default_factory=list)
    # Cosine similarity below which a query is out of distribution for this cluster.
    min_similarity: float = 0.0
    member_log_ids: list[str] = Field(default_factory=list)
    rule_ids: list[str] = Field(default_factory=list)
    gap_score: float | None = Field(default=None, ge=0.0, le=1.0)
    route: Route = Route.NONE
    # How settled the cluster is, in [0, 1]: grows with members, active rules and preference pairs.
    maturity: float = Field(default=0.0, ge=0.0, le=1.0)
    # Why nothing learnt in this cluster is served ("harmful: 7 of 9 requests ..."); empty when it is served.
    blocked: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --- verdicts


class Verdict(StrEnum):
    """What a log's feedback amounts to, decided at distillation time."""

    ACTIONABLE = "actionable"  # corrective feedback: rules were (or could be) learnt
    SATISFIED = "satisfied"  # the user was happy: a positive example, no rule
    NO_FEEDBACK = "no_feedback"
    OFF_TOPIC = "off_topic"  # small talk or a new topic: ignored
    ADVERSARIAL = "adversarial"  # tries to instruct the system or extract its prompt: never a rule
    ABUSIVE = "abusive"  # insults with nothing actionable
    NEGATIVE = "negative"  # disliked or rated low, but nothing says why
    HARMFUL = "harmful"  # the conversation seeks help with harm: nothing is learnt from it


class LogVerdict(Record):
    """The outcome of distilling one log: its verdict, the reasons, and how it weights its rules."""

    log_id: str
    namespace: str = DEFAULT_NAMESPACE
    verdict: Verdict
    # Why each feedback span was used or ignored, e.g. "adversarial: 'ignore previous instructions'".
    reasons: list[str] = Field(default_factory=list)
    # Overall sentiment of the feedback in [-1, 1]: a dislike or a low rating is negative, a like positive.
    signal: float = Field(default=0.0, ge=-1.0, le=1.0)
    distiller: str = ""
    created_at: datetime = Field(default_factory=utcnow)


# --- quarantine


class QuarantineRecord(Record):
    """An input line or record that could not be ingested, with why."""

    id: str = ""
    namespace: str = DEFAULT_NAMESPACE
    source: str
    line: int | None = None
    reason: str
    raw: str
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _fill_id(self) -> QuarantineRecord:
        if not self.id:
            object.__setattr__(self, "id", "bad-" + stable_hash(self.namespace, self.source, self.line, self.raw))
        return self


# --- adapters


class AdapterKind(StrEnum):
    EXPERT = "expert"  # answers in the cluster's learnt style
    CRITIC = "critic"  # critiques drafts for the cluster's reflective route


class AdapterStatus(StrEnum):
    CANDIDATE = "candidate"  # trained, not yet validated
    ACCEPTED = "accepted"  # passed the held-out gate; served
    REJECTED = "rejected"  # failed the gate (the reason is in ``status_reason``)
    SUPERSEDED = "superseded"  # a newer accepted version of the same (cluster, kind, base_model) replaced it
    STALE = "stale"  # trained on logs that were since forgotten; never served


# Serving names travel in URLs and runtime-LoRA requests (vLLM's ``lora_name``): keep them to a safe alphabet.
_ADAPTER_NAME = re.compile(r"[A-Za-z0-9._-]+")
_ADAPTER_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Adapter(Record):
    """A LoRA adapter trained on one cluster's logs: where its weights are, what it applies to, and its state.

    Non-finite metrics (a diverged loss) are written as ``NaN``/``Infinity`` so that they read back as they were
    rather than as ``null``.
    """

    model_config = ConfigDict(ser_json_inf_nan="constants")

    id: str = ""
    namespace: str = Field(default=DEFAULT_NAMESPACE, min_length=1, max_length=200)
    cluster_id: str = Field(min_length=1)
    kind: AdapterKind = AdapterKind.EXPERT
    version: int = Field(default=1, ge=1)
    # What the adapter applies to: a model directory or a model name.
    base_model: str = Field(min_length=1)
    # The serving name, e.g. for runtime LoRA loading; derived from kind, cluster and version when empty.
    name: str = Field(default="", max_length=200)
    # Directory holding the peft adapter files; None once the weights were deleted.
    path: str | None = None
    source_log_ids: list[str] = Field(default_factory=list)
    status: AdapterStatus = AdapterStatus.CANDIDATE
    status_reason: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if value and _ADAPTER_NAME.fullmatch(value) is None:
            raise ValueError(f"adapter name {value!r} may only contain letters, digits, '.', '_' and '-'")
        return value

    @model_validator(mode="after")
    def _fill_id_and_name(self) -> Adapter:
        # validate_assignment would re-enter this validator: write the fields directly.
        if not self.id:
            key = stable_hash(self.namespace, self.cluster_id, self.kind.value, self.base_model, self.version)
            object.__setattr__(self, "id", "adp-" + key)
        if not self.name:
            raw = f"uno-{self.kind.value}-{self.cluster_id[-8:]}-v{self.version}"
            object.__setattr__(self, "name", _ADAPTER_NAME_UNSAFE.sub("-", raw))
        return self


# --- rule history helpers

# The fields a rule's history follows (confidence and novelty move with support; evidence is counted, not copied).
RULE_HISTORY_FIELDS = (
    "when",
    "do",
    "polarity",
    "aspect",
    "rationale",
    "status",
    "status_reason",
    "superseded_by",
    "support",
    "evidence",
    "manual",
    "pinned",
    "edited",
)


def _history_view(rule: Rule) -> dict[str, Any]:
    data = rule.model_dump(mode="json", include=set(RULE_HISTORY_FIELDS) - {"evidence"})
    data["evidence"] = len(rule.evidence)
    return {name: data[name] for name in RULE_HISTORY_FIELDS}


def rule_diff(before: Rule | None, after: Rule | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tracked fields that differ between two versions of a rule, as (before, after) dicts.

    A creation (``before`` None) reports every tracked field of ``after``; a deletion reports nothing.
    """
    if after is None:
        return {}, {}
    new = _history_view(after)
    if before is None:
        return {}, new
    old = _history_view(before)
    changed = [name for name in RULE_HISTORY_FIELDS if old[name] != new[name]]
    return {n: old[n] for n in changed}, {n: new[n] for n in changed}
