"""What a distiller produces from one log, and the protocol every distiller (heuristic or LLM) follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rule_store.records import Experience, HindsightExample, LogRecord, LogVerdict, PreferencePair, Rule


@dataclass
class Distillation:
    """Everything learnt from one log.

    ``verdict`` says what the feedback amounted to (one reason per feedback span used or ignored, and a signal in
    [-1, 1]); ``rules`` are CANDIDATE rules with their evidence, ``support=1`` and a confidence; ``experiences``
    are reflective notes (failure mode, critique, revision guidance); ``preference_pairs`` come from edits (the
    user's edit is chosen over the response); ``hindsight`` holds (prompt, response, follow-up) for every
    corrective follow-up.
    """

    log_id: str
    verdict: LogVerdict
    rules: list[Rule] = field(default_factory=list)
    experiences: list[Experience] = field(default_factory=list)
    preference_pairs: list[PreferencePair] = field(default_factory=list)
    hindsight: list[HindsightExample] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """Nothing but a verdict: no rule, experience, pair or hindsight example."""
        return not (self.rules or self.experiences or self.preference_pairs or self.hindsight)


@runtime_checkable
class Distiller(Protocol):
    """Turns logs into candidate rules and training material. Must be deterministic for a given log."""

    name: str

    def distill(self, log: LogRecord) -> Distillation: ...

    def distill_many(self, logs: Sequence[LogRecord]) -> list[Distillation]: ...
