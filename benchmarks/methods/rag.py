"""Retrieval-augmented baselines over raw logs, as MemoryBench runs them: BM25 or embedding top-k, over messages
or whole sessions. Every query gets the ``k`` best chunks: like the originals, there is no relevance floor."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from benchmarks.bm25 import BM25
from benchmarks.embedding import TimedEmbedder
from benchmarks.methods.base import FitStats, InjectedContext, InjectedItem
from benchmarks.methods.chunks import Chunk, message_chunks, session_chunk
from rule_store.records import LogRecord
from uno.inject import count_tokens

if TYPE_CHECKING:
    from uno.index import FaissIndex

Granularity = Literal["message", "session"]
Retriever = Literal["bm25", "embedding"]
DEFAULT_K = 5  # MemoryBench's retrieve_k
HEADER = "Excerpts from earlier conversations with users (for reference):"
# Embedding chunks in batches keeps peak memory flat on large runs.
EMBED_BATCH = 512


def make_chunks(logs: Sequence[LogRecord], granularity: Granularity) -> list[Chunk]:
    if granularity == "message":
        return [chunk for log in logs for chunk in message_chunks(log)]
    return [session_chunk(log) for log in logs]


def render_chunks(chunks: Sequence[Chunk]) -> str:
    return "\n\n".join([HEADER, *(chunk.text for chunk in chunks)]) if chunks else ""


def chunk_context(chunks: Sequence[Chunk]) -> InjectedContext:
    text = render_chunks(chunks)
    items = tuple(InjectedItem("chunk", c.text, (c.log_id,), None, c.carries_feedback) for c in chunks)
    return InjectedContext(text=text, tokens=count_tokens(text), items=items)


class BM25Rag:
    """BM25-M / BM25-S: Okapi BM25 (k1=1.5, b=0.75) top-k over message or session chunks."""

    def __init__(self, granularity: Granularity, k: int = DEFAULT_K) -> None:
        self.granularity = granularity
        self.k = k
        self._chunks: list[Chunk] = []
        self._index: BM25 | None = None

    @property
    def name(self) -> str:
        return f"BM25-{self.granularity[0].upper()}"

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        started = time.perf_counter()
        self._chunks = make_chunks(logs, self.granularity)
        self._index = BM25([chunk.text for chunk in self._chunks])
        seconds = time.perf_counter() - started
        return FitStats(logs=len(logs), seconds=seconds, build_seconds=seconds, extra={"chunks": len(self._chunks)})

    def context(self, query: str) -> InjectedContext:
        if self._index is None:
            raise RuntimeError(f"{self.name}: fit() first")
        return chunk_context([self._chunks[position] for position, _ in self._index.top_k(query, self.k)])

    def close(self) -> None:
        self._chunks, self._index = [], None


class EmbeddingRag:
    """Emb-M / Emb-S: exact inner-product (cosine) top-k over message or session chunk embeddings (FAISS)."""

    def __init__(self, granularity: Granularity, embedder: TimedEmbedder, model: TimedEmbedder, k: int = DEFAULT_K):
        self.granularity = granularity
        self.embedder = embedder
        self.model = model
        self.k = k
        self._chunks: list[Chunk] = []
        self._index: FaissIndex | None = None

    @property
    def name(self) -> str:
        return f"Emb-{self.granularity[0].upper()}"

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        from uno.index import FaissIndex

        started = time.perf_counter()
        before = self.model.clock.snapshot()
        self._chunks = make_chunks(logs, self.granularity)
        index = FaissIndex(self.embedder.dimension)
        for start in range(0, len(self._chunks), EMBED_BATCH):
            batch = self._chunks[start : start + EMBED_BATCH]
            index.upsert(
                [str(position) for position in range(start, start + len(batch))],
                self.embedder.embed([chunk.text for chunk in batch]),
            )
        self._index = index
        spent = self.model.clock.since(before)
        seconds = time.perf_counter() - started
        return FitStats(
            logs=len(logs),
            seconds=seconds,
            build_seconds=seconds,
            embed_seconds=spent.seconds,
            embedded_texts=spent.texts,
            extra={"chunks": len(self._chunks)},
        )

    def context(self, query: str) -> InjectedContext:
        if self._index is None:
            raise RuntimeError(f"{self.name}: fit() first")
        hits = self._index.search(self.embedder.embed([query]), self.k)[0]
        return chunk_context([self._chunks[int(label)] for label, _ in hits])

    def close(self) -> None:
        self._chunks, self._index = [], None
