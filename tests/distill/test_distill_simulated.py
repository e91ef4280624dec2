"""The distiller against simulated users whose preferences are known: does it find what they said, and only that?

The simulator (``benchmarks/simulator``) writes the expressed preference of each log into its metadata
(``feedback_aspect``) and marks noise (``noise``: satisfied, small talk, off-topic, adversarial...). These tests
read logs of a seed the heuristics were not tuned on, end to end through ingestion, and hold the distiller to
recall and precision floors; a change that makes it guess more, or miss a family, fails here first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.simulator import LogGenerator, SimulatorConfig
from rule_store.records import Verdict
from uno.distill import HeuristicDistiller
from uno.ingest import parse_record

SAMPLE = Path(__file__).resolve().parents[2] / "uno" / "data" / "sample_logs.jsonl"


@dataclass
class Score:
    expressed: int = 0
    found: int = 0
    unexpected: int = 0
    attacks: int = 0
    attacks_caught: int = 0
    false_attacks: int = 0


def _score(rows: Iterator[dict[str, object]]) -> Score:
    distiller = HeuristicDistiller()
    score = Score()
    for row in rows:
        metadata = row["metadata"]
        assert isinstance(metadata, dict)
        result = distiller.distill(parse_record(row, "plain"))
        aspects = {rule.aspect for rule in result.rules}
        expected = metadata["feedback_aspect"]
        if expected:
            score.expressed += 1
            score.found += expected in aspects
        score.unexpected += len(aspects - {expected})
        adversarial = result.verdict.verdict is Verdict.ADVERSARIAL
        if metadata["noise"] == "adversarial":
            score.attacks += 1
            score.attacks_caught += adversarial
        else:
            score.false_attacks += adversarial
    return score


@pytest.fixture(scope="module")
def unseen_seed() -> Score:
    generator = LogGenerator(SimulatorConfig(seed=5))
    return _score(log.to_plain() for log in generator.iter_logs(600))


def test_finds_what_simulated_users_asked_for(unseen_seed: Score) -> None:
    assert unseen_seed.expressed > 300
    # Precision first (uno.distill.turns): polite requests for more content on one answer ("can you go into more
    # detail?", "Could you explain the reasoning?") are not standing preferences on real logs, where they are
    # nearly always follow-up questions; the simulator writes some of its preferences that way.
    assert unseen_seed.found / unseen_seed.expressed >= 0.95


def test_adds_almost_nothing_they_did_not_ask_for(unseen_seed: Score) -> None:
    assert unseen_seed.unexpected <= 6  # 1% of the logs


def test_catches_every_planted_attack_and_accuses_nobody(unseen_seed: Score) -> None:
    assert unseen_seed.attacks > 10
    assert unseen_seed.attacks_caught == unseen_seed.attacks
    assert unseen_seed.false_attacks == 0


def test_the_demo_sample_is_read_exactly() -> None:
    with SAMPLE.open(encoding="utf-8") as handle:
        score = _score(json.loads(line) for line in handle if line.strip())
    # One miss by design: "untyped code won't pass review here, add hints" brings up subjects (review, passing)
    # that the precision-first classifier does not read as a preference about answers.
    assert (score.expressed, score.unexpected) == (130, 0)
    assert score.found >= score.expressed - 1
    assert score.attacks_caught == score.attacks and score.false_attacks == 0
