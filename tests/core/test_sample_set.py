"""Issue 3's acceptance checks on the bundled sample logs, with the real packaged embedder (offline)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rule_store.protocol import Scope
from rule_store.records import RuleStatus
from uno import UnoMemory
from uno.demo import sample_logs_path, sample_manifest

pytestmark = pytest.mark.slow

ATTACK = re.compile(r"ignore (all |any )?previous|system prompt|brandx|you are now|developer mode", re.IGNORECASE)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return sample_manifest()


@pytest.fixture(scope="module")
def samples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in sample_logs_path().read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UnoMemory]:
    mem = UnoMemory(tmp_path_factory.mktemp("sample") / "store")
    report = mem.ingest_file(sample_logs_path())
    assert report.inserted == 200 and report.quarantined == 0
    mem.build()
    yield mem
    mem.close()


def injected_aspects(memory: UnoMemory, query: str) -> set[str | None]:
    return {r.aspect for r in memory.augment(query).rules}


def test_queries_like_the_logs_get_what_their_feedback_implies(memory: UnoMemory, manifest: dict[str, Any]) -> None:
    expected_total = found = wrong = 0
    for item in manifest["demo_queries"]:
        expected = set(item["expected_aspects"])
        got = injected_aspects(memory, item["query"]) - {None}
        expected_total += len(expected)
        found += len(got & expected)
        wrong += len(got - expected)
    recall = found / expected_total
    precision = found / max(1, found + wrong)
    assert recall >= 0.5, f"recall {recall:.2f}"
    assert precision >= 0.8, f"precision {precision:.2f}"


def test_unrelated_queries_get_nothing(memory: UnoMemory, manifest: dict[str, Any]) -> None:
    unrelated = [q["query"] for q in manifest["demo_queries"] if not q["expected_aspects"]]
    unrelated += ["What is the capital of Peru?", "Write a haiku about the sea.", "Explain TCP slow start."]
    for query in unrelated:
        aug = memory.augment(query)
        assert aug.rules == [], (query, [r.do for r in aug.rules])
        assert aug.messages == [{"role": "user", "content": query}]


def test_planted_noise_never_reaches_a_prompt(
    memory: UnoMemory, manifest: dict[str, Any], samples: list[dict[str, Any]]
) -> None:
    planted = set(manifest["planted"]["adversarial"]) | set(manifest["planted"]["off_topic"])
    queries = [q["query"] for q in manifest["demo_queries"]] + [row["query"] for row in samples]
    for query in queries:
        aug = memory.augment(query)
        for rule in aug.rules:
            assert not planted & set(rule.provenance), (query, rule.do, rule.provenance)
        assert not ATTACK.search(" ".join(m["content"] for m in aug.messages)), query
    for rule in memory.rules(status=RuleStatus.ACTIVE):
        assert not planted & set(rule.source_log_ids), rule.do


def test_adversarial_feedback_is_recorded_with_its_reason(memory: UnoMemory, manifest: dict[str, Any]) -> None:
    verdicts = {v.log_id: v for v in memory.store.get_verdicts(manifest["planted"]["adversarial"])}
    assert verdicts and all(v.verdict.value == "adversarial" for v in verdicts.values())
    assert all(any("adversarial" in reason for reason in v.reasons) for v in verdicts.values())


def test_forget_a_user_removes_their_contribution_and_nothing_else(
    tmp_path: Path, samples: list[dict[str, Any]]
) -> None:
    mem = UnoMemory(tmp_path / "store")
    mem.ingest_file(sample_logs_path())
    mem.build()
    counts: dict[str, int] = {}
    for row in samples:
        counts[row["user_id"]] = counts.get(row["user_id"], 0) + 1
    user = max(counts, key=lambda u: counts[u])
    before_rules = {r.id: r for r in mem.rules()}
    before_logs = {log.id for log in mem.store.iter_logs()}
    theirs = set(mem.store.log_ids_for_user(user))

    report = mem.forget(user_id=user)

    assert report.logs_deleted == len(theirs) == counts[user]
    assert {log.id for log in mem.store.iter_logs()} == before_logs - theirs
    after_rules = {r.id: r for r in mem.rules()}
    for rule_id, rule in before_rules.items():
        own = {e.log_id for e in rule.evidence} & theirs
        if own == {e.log_id for e in rule.evidence}:
            assert rule_id not in after_rules, "a rule supported only by the forgotten user survived"
        elif not own:
            assert after_rules[rule_id].evidence == rule.evidence, "an unrelated rule lost evidence"
        else:
            assert {e.log_id for e in after_rules[rule_id].evidence} == {e.log_id for e in rule.evidence} - theirs
    scope = Scope(user_id=user)
    assert mem.store.list_preference_pairs(scope) == []
    assert mem.store.list_hindsight(scope) == []
    assert mem.store.list_experiences(scope) == []
    for cluster in mem.store.list_clusters():
        assert not theirs & set(cluster.member_log_ids)


def test_augment_loads_no_model_after_the_first(memory: UnoMemory) -> None:
    memory.augment("warm up")
    embedder = memory.embedder
    inner = getattr(embedder, "inner", embedder)
    model_before = getattr(inner, "_model", None)
    for _ in range(3):
        memory.augment("What's the right way to water orchids?")
    assert getattr(inner, "_model", None) is model_before
