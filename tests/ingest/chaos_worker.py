"""Run one ingest or build and SIGKILL this process at a chosen point: ``python -m tests.ingest.chaos_worker
STORE ACTION EVENT N [FILE]``.

Events (each counted from 1 within the run): ``commit`` (just after the N-th outermost store transaction
committed), ``before-commit`` (its writes done, not yet committed), ``distilled`` (the N-th distillation batch
returned, nothing of it written), ``index-save`` (just before the N-th FAISS index file set is written). After each
commit the worker appends the number of stored logs to ``STORE/committed.txt`` (fsynced), so the test knows what
was committed before the kill and must survive it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rule_store.sqlite import SQLiteRuleStore
from uno.index import FaissIndex
from uno.ingest import ingest_file
from uno.memory import UnoMemory

BATCH_SIZE = 4


def fast_memory(path: Path) -> UnoMemory:
    """The memory every chaos run uses: real SQLite and FAISS, the model-free hashing embedder."""
    from uno.cluster import ClusteringConfig
    from uno.embed import HashingEmbedder

    clustering = ClusteringConfig(similarity_floor=0.25, min_cluster_size=3)
    return UnoMemory(path, embedder=HashingEmbedder(256), clustering=clustering)


class KillSwitch:
    def __init__(self, event: str, at: int, store_dir: Path) -> None:
        self.event, self.at, self.counts = event, at, dict[str, int]()
        self.ledger = store_dir / "committed.txt"

    def hit(self, event: str) -> None:
        self.counts[event] = self.counts.get(event, 0) + 1
        if event == self.event and self.counts[event] == self.at:
            os.kill(os.getpid(), signal.SIGKILL)

    def note_committed(self, store: SQLiteRuleStore) -> None:
        with self.ledger.open("a", encoding="utf-8") as ledger:
            ledger.write(f"{store.count_logs()}\n")
            ledger.flush()
            os.fsync(ledger.fileno())


def install(switch: KillSwitch) -> None:
    original_transaction = SQLiteRuleStore.transaction

    @contextmanager
    def transaction(self: SQLiteRuleStore) -> Iterator[None]:
        outermost = self._depth == 0
        with original_transaction(self):
            yield
            if outermost:
                switch.hit("before-commit")
        if outermost:
            switch.note_committed(self)
            switch.hit("commit")

    SQLiteRuleStore.transaction = transaction  # type: ignore[method-assign,assignment]

    original_save = FaissIndex.save

    def save(self: FaissIndex, directory: Path, name: str) -> None:
        switch.hit("index-save")
        original_save(self, directory, name)

    FaissIndex.save = save  # type: ignore[method-assign]

    original_distill: Callable[..., Any] = UnoMemory._distill

    def distill(self: UnoMemory, logs: Any, *args: Any, **kwargs: Any) -> Any:
        out = original_distill(self, logs, *args, **kwargs)
        switch.hit("distilled")
        return out

    UnoMemory._distill = distill  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    store_dir, action, event, at = Path(argv[0]), argv[1], argv[2], int(argv[3])
    install(KillSwitch(event, at, store_dir))
    with fast_memory(store_dir) as memory:
        if action == "ingest":
            ingest_file(Path(argv[4]), memory.store, batch_size=BATCH_SIZE, progress=False)
        elif action == "build":
            memory.build()
        else:
            raise SystemExit(f"unknown action {action!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
