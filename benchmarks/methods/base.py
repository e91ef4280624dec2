"""What every benchmarked method implements, and what it reports.

A method learns from logs (``fit``) and, for a new query, returns the context it would put into the prompt
(``context``). It never sees the simulator's ground truth: it reports *where* each injected item came from (source
log ids, and for rules the aspect the rule itself declares), and the scorer (:mod:`benchmarks.metrics`) looks the
ground truth up. That keeps the scoring identical for every method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from rule_store.records import LogRecord

ItemKind = Literal["rule", "chunk"]


@dataclass(frozen=True)
class InjectedItem:
    """One thing a method put into the prompt.

    ``rule``: a learnt instruction (uno, CIPHER-style), with the aspect it declares (None when it declares none)
    and the logs it was learnt from. ``chunk``: raw log text (RAG, mem0), from one log; ``carries_feedback`` says
    whether the chunk contains that log's feedback (a follow-up, an edit) or only its query / answer.
    """

    kind: ItemKind
    text: str
    source_log_ids: tuple[str, ...]
    declared_aspect: str | None = None
    carries_feedback: bool = True


@dataclass(frozen=True)
class InjectedContext:
    """The text a method adds to the prompt for one query, its size and its items."""

    text: str
    tokens: int
    items: tuple[InjectedItem, ...] = ()


EMPTY_CONTEXT = InjectedContext(text="", tokens=0)


@dataclass
class FitStats:
    """What learning from the logs cost.

    ``ingest_seconds``: storing the logs; ``build_seconds``: everything after (distil, embed, cluster, index).
    ``embed_seconds`` / ``embedded_texts``: model time spent on cache misses inside ``fit`` (the embedding cache is
    shared by all methods of a run, so a text embedded by an earlier method is free for a later one).
    ``llm_calls`` / ``llm_tokens``: calls to a language model while learning (0 for the offline methods).
    """

    logs: int
    seconds: float
    ingest_seconds: float = 0.0
    build_seconds: float = 0.0
    embed_seconds: float = 0.0
    embedded_texts: int = 0
    llm_calls: int = 0
    llm_tokens: int = 0
    notes: list[str] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)


class Method(Protocol):
    """A memory / retrieval method under test."""

    @property
    def name(self) -> str:
        """Short label used in tables and plots."""
        ...

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        """Learn from ``logs`` (called once)."""
        ...

    def context(self, query: str) -> InjectedContext:
        """What would be injected into the prompt for ``query``."""
        ...

    def close(self) -> None:
        """Release files and memory."""
        ...


class NoMemory:
    """The vanilla baseline: injects nothing."""

    name = "no memory"

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        return FitStats(logs=len(logs), seconds=0.0)

    def context(self, query: str) -> InjectedContext:
        return EMPTY_CONTEXT

    def close(self) -> None:
        return None
