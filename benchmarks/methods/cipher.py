"""A CIPHER-style baseline (Gao et al. 2024, PRELUDE): a preference per past context, retrieved by similarity.

CIPHER asks an LLM to infer the latent preference behind each user edit, stores (context embedding, preference)
and, for a new context, gives the LLM the preferences of the ``k`` nearest stored contexts. Here uno's offline
:class:`~uno.distill.HeuristicDistiller` stands in for the LLM's inference (the instructions it distils from a
log are that log's inferred preferences), the context is the log's query, and the ``k`` preferences are joined
(exact duplicates dropped) instead of being merged by an LLM. No noise filter, no cluster, no relevance floor:
what the method adds over RAG is only the inference step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.embedding import TimedEmbedder
from benchmarks.methods.base import FitStats, InjectedContext, InjectedItem
from rule_store.records import LogRecord, Polarity, Rule
from uno.inject import count_tokens

if TYPE_CHECKING:
    from uno.distill.base import Distiller
    from uno.index import FaissIndex

DEFAULT_K = 5
HEADER = "Preferences users showed on similar requests:"


@dataclass(frozen=True)
class InferredPreference:
    text: str
    aspect: str | None


def preference_text(rule: Rule) -> str:
    """The rule's instruction, marked as something to avoid when its polarity says so and its words do not."""
    avoid = rule.polarity is Polarity.AVOID and not rule.do.lower().startswith(("avoid", "do not", "don't", "never"))
    return f"Avoid: {rule.do}" if avoid else rule.do


class CipherStyle:
    """k-nearest logs (by query embedding) -> their inferred preferences."""

    name = "CIPHER-style"

    def __init__(
        self, embedder: TimedEmbedder, model: TimedEmbedder, *, k: int = DEFAULT_K, distiller: Distiller | None = None
    ) -> None:
        self.embedder = embedder
        self.model = model
        self.k = k
        self._distiller = distiller
        self._preferences: dict[str, list[InferredPreference]] = {}
        self._index: FaissIndex | None = None

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        from uno.distill.heuristic import HeuristicDistiller
        from uno.index import FaissIndex

        distiller = self._distiller or HeuristicDistiller()
        started = time.perf_counter()
        before = self.model.clock.snapshot()
        self._preferences = {}
        queries: dict[str, str] = {}
        for log, distilled in zip(logs, distiller.distill_many(logs), strict=True):
            inferred = [InferredPreference(preference_text(rule), rule.aspect) for rule in distilled.rules]
            if inferred:
                self._preferences[log.id] = inferred
                queries[log.id] = log.query
        distilled_at = time.perf_counter()
        index = FaissIndex(self.embedder.dimension)
        if queries:
            ids = sorted(queries)
            index.upsert(ids, self.embedder.embed([queries[i] for i in ids]))
        self._index = index
        spent = self.model.clock.since(before)
        seconds = time.perf_counter() - started
        return FitStats(
            logs=len(logs),
            seconds=seconds,
            build_seconds=seconds,
            embed_seconds=spent.seconds,
            embedded_texts=spent.texts,
            notes=["preferences inferred by uno's HeuristicDistiller (stand-in for CIPHER's LLM call)"],
            extra={"logs_with_preferences": len(queries), "distil_seconds": distilled_at - started},
        )

    def context(self, query: str) -> InjectedContext:
        if self._index is None:
            raise RuntimeError(f"{self.name}: fit() first")
        # Identical preferences from several neighbours are injected once, with all of their sources.
        merged: dict[str, tuple[InferredPreference, list[str]]] = {}
        for log_id, _ in self._index.search(self.embedder.embed([query]), self.k)[0]:
            for preference in self._preferences[log_id]:
                key = " ".join(preference.text.lower().split())
                merged.setdefault(key, (preference, []))[1].append(log_id)
        if not merged:
            return InjectedContext(text="", tokens=0)
        items = [InjectedItem("rule", pref.text, tuple(sources), pref.aspect) for pref, sources in merged.values()]
        text = "\n".join([HEADER, *(f"- {item.text}" for item in items)])
        return InjectedContext(text=text, tokens=count_tokens(text), items=tuple(items))

    def close(self) -> None:
        self._preferences, self._index = {}, None
