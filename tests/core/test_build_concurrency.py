"""A build distils before it takes the memory's write lock: writes of the same process go on meanwhile, and a log
that gains feedback while it is being distilled is left pending for the next build, not marked done."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from rule_store.protocol import Scope
from rule_store.records import LogRecord
from uno.distill.base import Distillation
from uno.distill.heuristic import HeuristicDistiller
from uno.embed import HashingEmbedder
from uno.memory import BuildReport, UnoMemory


class HeldDistiller(HeuristicDistiller):
    """The offline distiller, held at the start of each ``distill_many`` until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def distill_many(self, logs: Sequence[LogRecord]) -> list[Distillation]:
        self.entered.set()
        assert self.release.wait(timeout=30), "the test never released the distiller"
        return super().distill_many(logs)


def test_writes_go_on_while_a_build_distils_and_a_log_changed_meanwhile_stays_pending(tmp_path: Path) -> None:
    distiller = HeldDistiller()
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(64), distiller=distiller) as memory:
        first = memory.add({"user_id": "u1", "query": "Is the shop open?", "response": "Great question! Yes."})
        reports: list[BuildReport] = []
        build = threading.Thread(target=lambda: reports.append(memory.build()))
        build.start()
        assert distiller.entered.wait(timeout=30)

        writer = threading.Thread(
            target=lambda: (
                memory.add({"user_id": "u2", "query": "Do you deliver?", "response": "Sure."}),
                memory.feedback(first, {"kind": "followup", "text": "only say yes or no"}),
            )
        )
        writer.start()
        writer.join(timeout=30)
        assert not writer.is_alive(), "a write waited for the build's distillation"
        distiller.release.set()
        build.join(timeout=60)
        assert not build.is_alive()

        (report,) = reports
        assert (report.distilled_logs, report.pending_logs) == (0, 1)
        pending = {log.id for log in memory.store.iter_logs(Scope(namespace="default"), processed=False)}
        assert first in pending and len(pending) == 2, "the changed log and the new one are still to distil"
        assert memory.build().distilled_logs == 2
        assert memory.store.count_logs(processed=False) == 0
