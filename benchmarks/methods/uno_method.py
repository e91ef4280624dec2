"""uno itself, through its public API: ``add_many`` + ``build`` to learn, ``augment`` to inject."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.embedding import TimedEmbedder
from benchmarks.methods.base import FitStats, InjectedContext, InjectedItem
from rule_store.records import LogRecord
from uno.inject import count_tokens

if TYPE_CHECKING:
    from uno.memory import BuildReport, UnoMemory


class CountingLLM:
    """Wraps any LLM object and counts calls to its methods, with the tokens of the text going in and out.

    Tokens are :func:`uno.inject.count_tokens` of every string argument (and of message ``content`` fields) and of
    string results, so the figure is comparable with the injected-token counts, not with a provider's bill.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls = 0
        self.tokens = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute) or name.startswith("_"):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.tokens += sum(_text_tokens(value) for value in (*args, *kwargs.values()))
            result = attribute(*args, **kwargs)
            self.tokens += _text_tokens(result)
            return result

        return counted


def _text_tokens(value: object) -> int:
    if isinstance(value, str):
        return count_tokens(value)
    if isinstance(value, dict):
        content = value.get("content")
        return count_tokens(content) if isinstance(content, str) else 0
    if isinstance(value, list | tuple):
        return sum(_text_tokens(item) for item in value)
    text = getattr(value, "text", None) or getattr(value, "content", None)
    return count_tokens(text) if isinstance(text, str) else 0


class UnoMethod:
    """uno with its default pipeline (offline heuristic distiller unless an LLM is given)."""

    name = "uno"

    def __init__(
        self,
        embedder: TimedEmbedder,
        model: TimedEmbedder,
        workdir: Path,
        *,
        llm: Any | None = None,
    ) -> None:
        self.embedder = embedder
        self.model = model
        self.workdir = workdir
        self.llm = CountingLLM(llm) if llm is not None else None
        self._memory: UnoMemory | None = None
        self.build_report: BuildReport | None = None

    @property
    def memory(self) -> UnoMemory:
        if self._memory is None:
            raise RuntimeError("uno: fit() first")
        return self._memory

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        from uno.memory import UnoMemory

        memory = UnoMemory(self.workdir, embedder=self.embedder, llm=self.llm)
        self._memory = memory
        before = self.model.clock.snapshot()
        started = time.perf_counter()
        memory.add_many(logs)
        stored = time.perf_counter()
        self.build_report = memory.build()
        built = time.perf_counter()
        spent = self.model.clock.since(before)
        stats = memory.stats()
        return FitStats(
            logs=len(logs),
            seconds=built - started,
            ingest_seconds=stored - started,
            build_seconds=built - stored,
            embed_seconds=spent.seconds,
            embedded_texts=spent.texts,
            llm_calls=self.llm.calls if self.llm else 0,
            llm_tokens=self.llm.tokens if self.llm else 0,
            notes=[f"distiller: {memory.distiller.name}"],
            extra={
                "rules_active": float(stats.get("rules_active", 0)),
                "rules_total": float(sum(v for k, v in stats.items() if k.startswith("rules_"))),
                "clusters": float(stats.get("clusters", 0)),
            },
        )

    def context(self, query: str) -> InjectedContext:
        augmentation = self.memory.augment(query)
        block = augmentation.system_block or ""
        items = tuple(InjectedItem("rule", rule.do, tuple(rule.provenance), rule.aspect) for rule in augmentation.rules)
        return InjectedContext(text=block, tokens=count_tokens(block), items=items)

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
            self._memory = None
