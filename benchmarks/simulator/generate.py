"""The log generator: simulated users with hidden preferences talking to a plain base model.

One log = a topic query, the base model's answer (violating one hidden preference of the topic, or satisfying
all of them) and the user's feedback: a follow-up, an edit, a reaction, a rating or a mix. A configurable share
of logs is noise: satisfied users, small talk, off-topic turns, users who want the opposite, prompt-injection
attempts and feedback about things the base model already does. Every log carries its ground truth in
``metadata``.

Log ``i`` depends only on (seed, i, config): its random stream is seeded from those, so logs are produced one
at a time (a million of them stream to disk in constant memory), a shorter run is a prefix of a longer one, and
the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import Enum, StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from benchmarks.simulator import phrasing
from benchmarks.simulator.preferences import OPPOSITE_OF, PREFERENCES, Preference
from benchmarks.simulator.topics import TOPICS, Exchange, Topic, get_topic

MIN_LOGS: Final = 100
MAX_LOGS: Final = 1_000_000

OutputFormat = Literal["plain", "memorybench", "both"]
PLAIN_FILE: Final = "logs.jsonl"
MEMORYBENCH_FILE: Final = "memorybench.jsonl"
HELD_OUT_FILE: Final = "held_out.jsonl"
CONFIG_FILE: Final = "config.json"


class SimulatorError(RuntimeError):
    """The simulator produced a log whose ground truth does not hold (a bug in a topic or a preference)."""


class NoiseKind(StrEnum):
    SATISFIED = "satisfied"  # the answer was fine: thanks, like, high rating
    SMALL_TALK = "small_talk"  # chit-chat with nothing to learn
    OFF_TOPIC = "off_topic"  # a new, unrelated question
    CONTRADICTING = "contradicting"  # a minority user asks for the opposite of the topic's preference
    ADVERSARIAL = "adversarial"  # prompt injection or poisoning dressed up as feedback
    KNOWN_PREFERENCE = "known_preference"  # asks for something the base model already does


@dataclass(frozen=True)
class NoiseRates:
    """The share of logs of each noise kind; the rest are clean corrective feedback."""

    satisfied: float = 0.12
    small_talk: float = 0.04
    off_topic: float = 0.05
    contradicting: float = 0.05
    adversarial: float = 0.04
    known_preference: float = 0.05

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"noise rate {item.name}={value} is not in [0, 1]")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"noise rates add up to {self.total:.3f}, more than 1")

    @property
    def total(self) -> float:
        return sum(self.rate(kind) for kind in NoiseKind)

    def rate(self, kind: NoiseKind) -> float:
        return float(getattr(self, kind.value))

    def with_overrides(self, overrides: Mapping[str, float]) -> NoiseRates:
        """A copy with some rates changed, e.g. ``{"adversarial": 0.1}``; unknown kinds are an error."""
        known = {kind.value for kind in NoiseKind}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"unknown noise kind(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return replace(self, **overrides)

    def as_dict(self) -> dict[str, float]:
        return {kind.value: self.rate(kind) for kind in NoiseKind}


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 7
    users: int = 50
    noise: NoiseRates = field(default_factory=NoiseRates)
    id_prefix: str = "sim"
    topics: tuple[str, ...] = tuple(topic.name for topic in TOPICS)

    def __post_init__(self) -> None:
        for name in self.topics:
            get_topic(name)
        if not self.topics:
            raise ValueError("the simulator needs at least one topic")
        if self.users < len(self.topics):
            raise ValueError(f"{self.users} users cannot cover {len(self.topics)} topics: use --users >= topics")


# ------------------------------------------------------------------------------------------------------ feedback


@dataclass(frozen=True)
class Followup:
    text: str
    # What the assistant answers in a MemoryBench dialog, and how the user reacts to that answer.
    reply: str
    reply_reaction: str = "none"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "followup", "text": self.text}


@dataclass(frozen=True)
class Edit:
    text: str
    # The user turn that carries the edit in a chat dialog ("Here is how I would have written it: ...").
    turn_text: str
    reply: str
    reply_reaction: str = "like"

    def to_json(self) -> dict[str, Any]:
        return {"kind": "edit", "text": self.text}


@dataclass(frozen=True)
class Reaction:
    value: Literal["like", "love", "dislike", "copy", "none"]
    terminated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": "reaction", "value": self.value, "terminated": self.terminated}


@dataclass(frozen=True)
class Rating:
    value: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "rating", "value": self.value}


FeedbackEvent = Followup | Edit | Reaction | Rating


@dataclass(frozen=True)
class SimulatedLog:
    """One generated interaction with its ground truth."""

    index: int
    id: str
    user_id: str
    topic: str
    query: str
    response: str
    feedback: tuple[FeedbackEvent, ...]
    # The response rewritten to satisfy every hidden preference of the topic.
    golden: str
    metadata: Mapping[str, Any]

    @property
    def noise(self) -> str | None:
        value = self.metadata["noise"]
        return None if value is None else str(value)

    def to_plain(self) -> dict[str, Any]:
        """The plain JSONL record: id, user_id, query, response, feedback, metadata."""
        return {
            "id": self.id,
            "user_id": self.user_id,
            "query": self.query,
            "response": self.response,
            "feedback": [event.to_json() for event in self.feedback],
            "metadata": dict(self.metadata),
        }

    def to_memorybench(self) -> dict[str, Any]:
        """The MemoryBench record: the feedback replayed as a chat plus per-answer implicit feedback."""
        dialog = [{"role": "user", "content": self.query}, {"role": "assistant", "content": self.response}]
        implicit: list[dict[str, Any]] = []
        action = "none"
        for event in self.feedback:
            if isinstance(event, Reaction):
                action = _IMPLICIT_ACTION[event.value] if event.value != "none" else action
            elif isinstance(event, Rating):
                action = "like" if event.value >= 4 else "dislike" if event.value <= 2 else action
            else:
                implicit.append({"round": len(implicit) + 1, "implicit_action": action, "terminated": False})
                user_turn = event.turn_text if isinstance(event, Edit) else event.text
                dialog += [{"role": "user", "content": user_turn}, {"role": "assistant", "content": event.reply}]
                action = event.reply_reaction
        implicit.append({"round": len(implicit) + 1, "implicit_action": action, "terminated": True})
        metadata = self.metadata
        return {
            "test_idx": self.index,
            "dataset_name": self.topic,
            "lang": "en",
            "input_prompt": self.query,
            "dialog": dialog,
            "implicit_feedback": implicit,
            "info": {
                "log_id": self.id,
                "user_id": self.user_id,
                "topic": self.topic,
                "hidden_preferences": list(metadata["preference_ids"]),
                "hidden_aspects": [PREFERENCES[p].aspect for p in metadata["preference_ids"]],
                "violated_preference": metadata["violated_preference_id"],
                "feedback_aspect": metadata["feedback_aspect"],
                "noise": metadata["noise"],
                "golden_answer": self.golden,
            },
        }


_IMPLICIT_ACTION = {"like": "like", "love": "like", "dislike": "dislike", "copy": "copy", "none": "none"}

# How users who got an answer violating their preference react (weights; see ``_corrective``).
CORRECTIVE_STYLES: Final[tuple[tuple[str, float], ...]] = (
    ("followup", 0.36),
    ("edit", 0.16),
    ("dislike+followup", 0.16),
    ("rating+followup", 0.06),
    ("rating+edit", 0.05),
    ("copy+edit", 0.04),
    ("dislike", 0.11),
    ("rating", 0.06),
)


def _weighted(rng: random.Random, options: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in options], weights=[weight for _, weight in options])[0]


def satisfy_all(preferences: Iterable[Preference], text: str) -> str:
    """``text`` rewritten by each preference's ``satisfy`` in turn."""
    for preference in preferences:
        text = preference.satisfy(text)
    return text


# The topics produce a few thousand distinct answers, so the verified rewrites below are memoised: a million logs
# cost little more than the distinct answers they contain. The caches are bounded, so memory stays flat.
_CACHE_SIZE: Final = 32_768


@lru_cache(maxsize=_CACHE_SIZE)
def satisfying_answer(preference_ids: tuple[str, ...], text: str) -> str:
    """``text`` rewritten to satisfy every preference, verified."""
    preferences = [PREFERENCES[pid] for pid in preference_ids]
    rewritten = satisfy_all(preferences, text)
    broken = [p.id for p in preferences if not p.check(rewritten)]
    if broken:
        raise SimulatorError(f"the rewritten answer still breaks {broken}: {rewritten!r}")
    return rewritten


@lru_cache(maxsize=_CACHE_SIZE)
def violating_answer(preference_ids: tuple[str, ...], target_id: str, text: str) -> str:
    """``text`` with every preference but ``target_id`` satisfied and ``target_id`` violated, verified."""
    target = PREFERENCES[target_id]
    others = [PREFERENCES[pid] for pid in preference_ids if pid != target_id]
    rewritten = target.violate(satisfy_all(others, text))
    if target.check(rewritten):
        raise SimulatorError(f"violating {target_id} did not violate it: {rewritten!r}")
    broken = [p.id for p in others if not p.check(rewritten)]
    if broken:
        raise SimulatorError(f"violating {target_id} also broke {broken}: {rewritten!r}")
    return rewritten


# ------------------------------------------------------------------------------------------------------ generator


class _Draw(Enum):
    """Sentinel: draw the noise kind from the configured rates."""

    DRAW = "draw"


DRAW: Final = _Draw.DRAW


class LogGenerator:
    """Produces log ``index`` for a configuration, deterministically and independently of other logs."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.topics: tuple[Topic, ...] = tuple(get_topic(name) for name in self.config.topics)
        self._users, self._contrarians = self._assign_users()

    def _assign_users(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Users belong to one topic each; the last user of a topic with four or more is a contrarian."""
        ids = [f"user-{number:04d}" for number in range(1, self.config.users + 1)]
        random.Random(f"uno-simulator-users:{self.config.seed}").shuffle(ids)
        regular: dict[str, list[str]] = {topic.name: [] for topic in self.topics}
        for position, user in enumerate(ids):
            regular[self.topics[position % len(self.topics)].name].append(user)
        contrarians = {name: users[-1:] if len(users) >= 4 else [] for name, users in regular.items()}
        for name, users in regular.items():
            if contrarians[name]:
                users.remove(contrarians[name][0])
        return regular, contrarians

    def draw_noise(self, rng: random.Random) -> NoiseKind | None:
        roll = rng.random()
        for kind in NoiseKind:
            roll -= self.config.noise.rate(kind)
            if roll < 0:
                return kind
        return None

    def log(self, index: int, *, noise: NoiseKind | _Draw | None = DRAW, log_id: str | None = None) -> SimulatedLog:
        """Log ``index``; ``noise`` forces a noise kind (None forces a clean log) instead of drawing one."""
        rng = random.Random(f"uno-simulator:{self.config.seed}:{index}")
        # Draw even when forced so that the rest of the log's random stream does not depend on ``noise``.
        drawn = self.draw_noise(rng)
        kind = drawn if noise is DRAW else noise
        topic = rng.choice(self.topics)
        exchange = topic.sample(rng)
        preferences = [PREFERENCES[pid] for pid in topic.preference_ids]
        try:
            golden = satisfying_answer(topic.preference_ids, exchange.response)
        except SimulatorError as error:
            raise SimulatorError(f"log {index} ({topic.name}/{exchange.intent}): {error}") from None
        pool = self._contrarians[topic.name] if kind is NoiseKind.CONTRADICTING else []
        user = rng.choice(pool or self._users[topic.name])

        builder = _FeedbackBuilder(rng, preferences, exchange, golden, index)
        if kind is None:
            outcome = builder.corrective()
        elif kind is NoiseKind.SATISFIED:
            outcome = builder.satisfied()
        elif kind is NoiseKind.CONTRADICTING:
            outcome = builder.contradicting()
        elif kind is NoiseKind.KNOWN_PREFERENCE:
            outcome = builder.known_preference([PREFERENCES[pid] for pid in topic.known_preference_ids])
        else:
            outcome = builder.distraction(kind)

        expressed = outcome.expressed
        metadata = {
            "topic": topic.name,
            "intent": exchange.intent,
            "preference_ids": list(topic.preference_ids),
            "violated_preference_id": outcome.violated.id if outcome.violated else None,
            "expressed_preference_id": expressed.id if expressed else None,
            "feedback_aspect": expressed.aspect if expressed else None,
            "noise": kind.value if kind else None,
            "feedback_style": outcome.style,
            "seed": self.config.seed,
            "index": index,
        }
        return SimulatedLog(
            index=index,
            id=log_id or f"{self.config.id_prefix}-{index:07d}",
            user_id=user,
            topic=topic.name,
            query=phrasing.decorate_query(exchange.query, rng),
            response=outcome.response,
            feedback=outcome.feedback,
            golden=golden,
            metadata=metadata,
        )

    def iter_logs(self, n: int, start: int = 0) -> Iterator[SimulatedLog]:
        """Logs ``start`` .. ``start + n - 1``, one at a time."""
        if n < 0:
            raise ValueError(f"cannot generate {n} logs")
        for index in range(start, start + n):
            yield self.log(index)


@dataclass(frozen=True)
class _Outcome:
    response: str
    feedback: tuple[FeedbackEvent, ...]
    style: str
    violated: Preference | None = None
    expressed: Preference | None = None


class _FeedbackBuilder:
    """Builds the response and feedback of one log from its random stream."""

    def __init__(
        self,
        rng: random.Random,
        preferences: Sequence[Preference],
        exchange: Exchange,
        golden: str,
        index: int,
    ) -> None:
        self.rng = rng
        self.preferences = preferences
        self.exchange = exchange
        self.golden = golden
        self.index = index

    def violating(self, target: Preference) -> str:
        """The neutral answer with every other preference satisfied and ``target`` violated (verified)."""
        ids = tuple(p.id for p in self.preferences)
        try:
            return violating_answer(ids, target.id, self.exchange.response)
        except SimulatorError as error:
            raise SimulatorError(f"log {self.index} ({self.exchange.topic}/{self.exchange.intent}): {error}") from None

    def edit_of(self, response: str) -> Edit:
        text = satisfying_answer(tuple(p.id for p in self.preferences), response)
        return Edit(text, self.rng.choice(phrasing.EDIT_LEADS) + text, self.rng.choice(phrasing.EDIT_REPLIES))

    def followup(self, preference: Preference, reply: str, reply_reaction: str = "like") -> Followup:
        return Followup(phrasing.vary(self.rng.choice(preference.followups), self.rng), reply, reply_reaction)

    def corrective(self) -> _Outcome:
        target = self.rng.choice(self.preferences)
        response = self.violating(target)
        style = _weighted(self.rng, CORRECTIVE_STYLES)
        low = self.rng.choice((1, 2))
        events: list[FeedbackEvent]
        if style == "followup":
            events = [self.followup(target, self.golden)]
        elif style == "edit":
            events = [self.edit_of(response)]
        elif style == "dislike+followup":
            events = [Reaction("dislike"), self.followup(target, self.golden)]
        elif style == "rating+followup":
            events = [Rating(low), self.followup(target, self.golden)]
        elif style == "rating+edit":
            events = [Rating(low), self.edit_of(response)]
        elif style == "copy+edit":
            events = [Reaction("copy"), self.edit_of(response)]
        elif style == "dislike":
            events = [Reaction("dislike", terminated=self.rng.random() < 0.5)]
        else:
            events = [Rating(low)]
        stated = "followup" in style or "edit" in style
        return _Outcome(response, tuple(events), style, violated=target, expressed=target if stated else None)

    def satisfied(self) -> _Outcome:
        thanks = Followup(
            phrasing.vary(self.rng.choice(phrasing.SATISFIED_FOLLOWUPS), self.rng),
            self.rng.choice(phrasing.SATISFIED_REPLIES),
        )
        options: dict[str, list[FeedbackEvent]] = {
            "like": [Reaction("like")],
            "love": [Reaction("love")],
            "copy": [Reaction("copy")],
            "like+terminated": [Reaction("like", terminated=True)],
            "followup": [thanks],
            "like+followup": [Reaction("like"), thanks],
            "rating": [Rating(5)],
            "rating+followup": [Rating(4), thanks],
            "copy+rating": [Reaction("copy"), Rating(5)],
            "love+followup": [Reaction("love"), thanks],
        }
        style = self.rng.choice(list(options))
        return _Outcome(self.golden, tuple(options[style]), style)

    def contradicting(self) -> _Outcome:
        target = self.rng.choice(self.preferences)
        opposite = PREFERENCES[OPPOSITE_OF[target.id]]
        # What the contrarian wants is exactly the answer violating the topic's preference.
        wanted = self.violating(target)
        style = _weighted(self.rng, (("followup", 0.55), ("dislike+followup", 0.2), ("edit", 0.25)))
        events: list[FeedbackEvent]
        if style == "edit":
            lead = self.rng.choice(phrasing.EDIT_LEADS)
            events = [Edit(wanted, lead + wanted, self.rng.choice(phrasing.EDIT_REPLIES))]
        else:
            events = [self.followup(opposite, wanted)]
            if style == "dislike+followup":
                events.insert(0, Reaction("dislike"))
        return _Outcome(self.golden, tuple(events), style, expressed=opposite)

    def known_preference(self, known: Sequence[Preference]) -> _Outcome:
        preference = self.rng.choice(known)
        if not preference.check(self.golden):
            raise SimulatorError(f"log {self.index}: the base answer breaks known preference {preference.id}")
        followup = self.followup(preference, self.golden, "none")
        liked = self.rng.random() < 0.25
        events: tuple[FeedbackEvent, ...] = (Reaction("like"), followup) if liked else (followup,)
        return _Outcome(self.golden, events, "like+followup" if liked else "followup", expressed=preference)

    def distraction(self, kind: NoiseKind) -> _Outcome:
        """Small talk, off-topic and adversarial turns: the answer may or may not have been right."""
        target = self.rng.choice([*self.preferences, None])
        response = self.golden if target is None else self.violating(target)
        rng = self.rng
        events: list[FeedbackEvent]
        if kind is NoiseKind.SMALL_TALK:
            text, reply = rng.choice(phrasing.SMALL_TALK)
            events = [Followup(phrasing.vary(text, rng), reply)]
            style = "followup"
        elif kind is NoiseKind.OFF_TOPIC:
            question, answer = rng.choice(phrasing.OFF_TOPIC)
            events = [Followup(phrasing.vary(rng.choice(phrasing.OFF_TOPIC_LEADS) + question, rng), answer)]
            style = "followup"
        else:
            style = _weighted(rng, (("followup", 0.6), ("dislike+followup", 0.2), ("edit", 0.2)))
            if style == "edit":
                poisoned = f"{response}\n\n{rng.choice(phrasing.ADVERSARIAL_EDIT_INJECTIONS)}"
                events = [
                    Edit(
                        poisoned,
                        rng.choice(phrasing.EDIT_LEADS) + poisoned,
                        rng.choice(phrasing.ADVERSARIAL_REPLIES),
                        "none",
                    )
                ]
            else:
                events = [
                    Followup(rng.choice(phrasing.ADVERSARIAL_FOLLOWUPS), rng.choice(phrasing.ADVERSARIAL_REPLIES))
                ]
        if style == "followup" and rng.random() < 0.3 and kind is not NoiseKind.ADVERSARIAL:
            events.insert(0, Reaction("like"))
            style = "like+followup"
        elif style == "dislike+followup":
            events.insert(0, Reaction("dislike"))
        return _Outcome(response, tuple(events), style, violated=target)


# ------------------------------------------------------------------------------------------------------ held out


@dataclass(frozen=True)
class HeldOutQuery:
    """A query for evaluation: which topic it belongs to (None: unrelated) and the aspects it should get."""

    query: str
    topic: str | None
    expected_aspects: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "topic": self.topic, "expected_aspects": list(self.expected_aspects)}


def held_out_queries(n: int, seed: int, *, unrelated_fraction: float = 0.2) -> list[HeldOutQuery]:
    """``n`` evaluation queries phrased with the held-out templates, plus unrelated ones that should get nothing."""
    if not 0.0 <= unrelated_fraction <= 1.0:
        raise ValueError(f"unrelated_fraction={unrelated_fraction} is not in [0, 1]")
    rng = random.Random(f"uno-simulator-held-out:{seed}")
    queries = []
    for _ in range(n):
        if rng.random() < unrelated_fraction:
            queries.append(HeldOutQuery(rng.choice(phrasing.UNRELATED_QUERIES), None, ()))
            continue
        topic = rng.choice(TOPICS)
        exchange = topic.sample(rng, held_out=True)
        aspects = tuple(PREFERENCES[pid].aspect for pid in topic.preference_ids)
        queries.append(HeldOutQuery(exchange.query, topic.name, aspects))
    return queries


# ------------------------------------------------------------------------------------------------------ writing


def dump_line(record: Mapping[str, Any]) -> str:
    """One JSONL line; the same record always gives the same bytes."""
    return json.dumps(record, ensure_ascii=False) + "\n"


def write_logs(
    out_dir: Path,
    n: int,
    config: SimulatorConfig | None = None,
    *,
    output_format: OutputFormat = "plain",
    held_out: int = 0,
) -> dict[str, Path]:
    """Stream ``n`` logs to ``out_dir`` (logs.jsonl and/or memorybench.jsonl) and return the files written."""
    if output_format not in ("plain", "memorybench", "both"):
        raise ValueError(f"unknown output format {output_format!r}: use plain, memorybench or both")
    generator = LogGenerator(config)
    config = generator.config
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if output_format in ("plain", "both"):
        paths["plain"] = out_dir / PLAIN_FILE
    if output_format in ("memorybench", "both"):
        paths["memorybench"] = out_dir / MEMORYBENCH_FILE
    handles = {name: path.open("w", encoding="utf-8", newline="\n") for name, path in paths.items()}
    try:
        for log in generator.iter_logs(n):
            if "plain" in handles:
                handles["plain"].write(dump_line(log.to_plain()))
            if "memorybench" in handles:
                handles["memorybench"].write(dump_line(log.to_memorybench()))
    finally:
        for handle in handles.values():
            handle.close()
    if held_out:
        paths["held_out"] = out_dir / HELD_OUT_FILE
        with paths["held_out"].open("w", encoding="utf-8", newline="\n") as handle:
            for query in held_out_queries(held_out, config.seed):
                handle.write(dump_line(query.to_json()))
    paths["config"] = out_dir / CONFIG_FILE
    settings = {
        "seed": config.seed,
        "n": n,
        "users": config.users,
        "format": output_format,
        "noise": config.noise.as_dict(),
        "topics": list(config.topics),
        "held_out": held_out,
    }
    paths["config"].write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    return paths
