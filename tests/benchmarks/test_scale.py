"""Synthetic stores for the latency benchmark: exact sizes, distinct ids, the cap on the log index, and augment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.embedding import EmbedderStack, make_embedder
from benchmarks.quality import QualityConfig, simulate
from benchmarks.scale import COPY_SEPARATOR, BaseStore, inflate_evidence, replicate, run_evidence_sweep, run_scale
from uno.memory import UnoMemory


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[UnoMemory, EmbedderStack]]:
    stack = make_embedder("hashing")
    _, records = simulate(QualityConfig(logs=300, held_out=0, seed=7, methods=()))
    memory = UnoMemory(tmp_path_factory.mktemp("store"), embedder=stack.outer)
    memory.add_many(records)
    memory.build()
    yield memory, stack
    memory.close()
    stack.close()


def test_replicas_have_the_exact_rule_count_and_distinct_ids(built: tuple[UnoMemory, EmbedderStack]) -> None:
    memory, stack = built
    base = BaseStore.of(memory, stack)
    size = 3 * len(base.rule_ids) + 2
    view, copies = replicate(base, size, sigma=0.3, seed=1)
    assert copies == 4 and len(view.rules) == size
    assert len(view.clusters) == copies * len(base.clusters)
    assert all(rule.id == rule_id for rule_id, rule in view.rules.items())
    assert {r.split(COPY_SEPARATOR)[0] for r in view.rules} == set(base.rule_ids)
    assert view.generation == base.view.generation
    assert view.log_index is not None and len(view.log_index) <= copies * len(base.log_ids)
    for rule_ids in view.rules_by_cluster.values():
        assert all(r in view.rules for r in rule_ids)


def test_the_log_index_is_capped_but_clusters_and_rules_are_kept(built: tuple[UnoMemory, EmbedderStack]) -> None:
    memory, stack = built
    base = BaseStore.of(memory, stack)
    size = 5 * len(base.rule_ids)
    view, copies = replicate(base, size, sigma=0.3, seed=1, max_log_vectors=50)
    assert view.log_index is not None and len(view.log_index) <= 50
    assert len(view.rules) == size and len(view.clusters) == copies * len(base.clusters)


def test_augment_runs_on_the_synthetic_store_and_the_real_view_comes_back(
    built: tuple[UnoMemory, EmbedderStack],
) -> None:
    memory, stack = built
    real = memory._view(memory.namespace)
    queries = ["How long should I roast a chicken?", "Can I cancel my subscription?"]
    [point] = run_scale(memory, stack, queries, [200], seed=3, log=lambda _: None)
    assert point.rules == 200 and point.uno.p50_ms >= 0 and point.rag.p50_ms >= 0
    assert point.log_vectors == point.log_vectors_uncapped
    assert memory._view(memory.namespace) is real


def test_inflated_evidence_keeps_who_supports_each_rule(built: tuple[UnoMemory, EmbedderStack]) -> None:
    from rule_store.records import RuleStatus
    from uno.gap import identified_users

    memory, _ = built
    rules = memory.rules(status=RuleStatus.ACTIVE)
    inflated = inflate_evidence(rules, 3)
    for rule, bigger in zip(rules, inflated, strict=True):
        assert len(bigger.evidence) == 3 * len(rule.evidence)
        assert identified_users(bigger) == identified_users(rule)
        assert len(bigger.source_log_ids) == 3 * len(rule.source_log_ids)


def test_the_evidence_sweep_times_augment_and_the_floor_and_restores_the_view(
    built: tuple[UnoMemory, EmbedderStack],
) -> None:
    memory, stack = built
    real = memory._view(memory.namespace)
    queries = ["How long should I roast a chicken?", "Can I cancel my subscription?"]
    before = [memory.augment(q).model_dump() for q in queries]
    points = run_evidence_sweep(memory, stack, queries, [1, 3])
    assert [p.factor for p in points] == [1, 3]
    assert points[1].evidence_items == 3 * points[0].evidence_items
    assert all(p.uno.rest_p50_ms >= 0 and p.floor.p50_ms > 0 for p in points)
    assert memory._view(memory.namespace) is real
    assert [memory.augment(q).model_dump() for q in queries] == before


def test_add_many_is_timed_against_raw_executemany_of_the_same_rows(tmp_path: Path) -> None:
    from benchmarks.scale_machine import time_add_many

    _, records = simulate(QualityConfig(logs=60, held_out=0, seed=2, methods=()))
    timing = time_add_many(records, tmp_path)
    assert timing["rows"] == timing["inserted"] <= 60
    assert timing["add_many_seconds"] > 0 and timing["raw_store_table_seconds"] > 0
