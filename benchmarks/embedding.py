"""The embedders a benchmark run shares, with clocks that split model time from everything else.

Every method that embeds (uno, embedding RAG, the CIPHER-style baseline, mem0) gets the same stack, so vectors are
identical across methods and each distinct text reaches the model once::

    outer (TimedEmbedder) -> CachedEmbedder (in memory) -> model (TimedEmbedder) -> MiniLM or hashing

``model.clock`` counts only real model work (cache misses): what a method's fit spent embedding. ``outer.clock``
counts every embed call including cache hits: subtracted from a query's wall time, it leaves the part of
``augment`` / ``context`` beyond query embedding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from uno.embed import CachedEmbedder, Embedder, HashingEmbedder, SentenceTransformerEmbedder

EmbedderKind = Literal["minilm", "hashing"]
FloatMatrix = npt.NDArray[np.float32]
HASHING_DIMENSION = 384
# Large enough that a run of a few thousand logs never evicts: every text is embedded once per run.
CACHE_ITEMS = 500_000


@dataclass
class EmbedClock:
    """Seconds spent inside ``embed`` calls, how many calls and how many texts."""

    seconds: float = 0.0
    calls: int = 0
    texts: int = 0

    def snapshot(self) -> EmbedClock:
        return EmbedClock(self.seconds, self.calls, self.texts)

    def since(self, earlier: EmbedClock) -> EmbedClock:
        return EmbedClock(self.seconds - earlier.seconds, self.calls - earlier.calls, self.texts - earlier.texts)


class TimedEmbedder:
    """An :class:`uno.embed.Embedder` that times the embedder it wraps."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.clock = EmbedClock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        started = time.perf_counter()
        vectors = self.inner.embed(texts)
        self.clock.seconds += time.perf_counter() - started
        self.clock.calls += 1
        self.clock.texts += len(texts)
        return vectors


@dataclass
class EmbedderStack:
    """The shared embedder (``outer``) and the clock-carrying layers around the cache."""

    kind: EmbedderKind
    outer: TimedEmbedder
    cache: CachedEmbedder
    model: TimedEmbedder

    def close(self) -> None:
        self.cache.close()


def make_embedder(kind: EmbedderKind) -> EmbedderStack:
    """The packaged all-MiniLM-L6-v2 (``minilm``) or the model-free hashing embedder (``hashing``, for fast tests)."""
    if kind == "minilm":
        base: Embedder = SentenceTransformerEmbedder()
    elif kind == "hashing":
        base = HashingEmbedder(HASHING_DIMENSION)
    else:
        raise ValueError(f"unknown embedder {kind!r}: use minilm or hashing")
    model = TimedEmbedder(base)
    cache = CachedEmbedder(model, None, memory_items=CACHE_ITEMS)
    return EmbedderStack(kind=kind, outer=TimedEmbedder(cache), cache=cache, model=model)


def model_latencies(stack: EmbedderStack, texts: Sequence[str]) -> list[float]:
    """Seconds the model takes to embed each text alone (no cache): the query-embedding part of a read."""
    stack.model.inner.embed(["warm-up"])
    out = []
    for text in texts:
        started = time.perf_counter()
        stack.model.inner.embed([text])
        out.append(time.perf_counter() - started)
    return out
