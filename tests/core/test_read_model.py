"""The read model summarises evidence at build time: augment gives the same answers without ever reading evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rule_store.protocol import Scope
from rule_store.records import RuleStatus
from tests.core.test_memory_loop import COOKING, LONG_ANSWER, followup, make_memory, plain, sample_logs
from uno import UnoMemory
from uno.gap import identified_users
from uno.read_model import PROVENANCE_CAP, full_provenance

QUERIES = [
    "How long should I roast a duck in the oven?",
    "Can I cancel my subscription plan today?",
    "How long should I roast a whole chicken in the oven?",
    "Explain quantum entanglement to a physicist",
]


def many_sources() -> list[dict[str, Any]]:
    """More cooking logs asking for shorter answers than one injected rule cites by default, some anonymous."""
    logs = []
    for n in range(2 * PROVENANCE_CAP):
        query = f"{COOKING[n % len(COOKING)]} (batch {n})"
        logs.append(plain(f"extra{n}", query, LONG_ANSWER, followup("too long, keep it short")))
    logs.append({"query": COOKING[0], "response": LONG_ANSWER, "feedback": [followup("too long, shorter please")]})
    return logs


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> UnoMemory:
    mem = make_memory(tmp_path_factory.mktemp("read-model") / "store")
    mem.add_many(sample_logs() + many_sources())
    mem.build()
    return mem


def users_of(memory: UnoMemory) -> list[str | None]:
    rules = memory.rules(status=RuleStatus.ACTIVE)
    return [None, "stranger", *sorted({u for r in rules for u in identified_users(r)})]


def answers(memory: UnoMemory, users: list[str | None], *, explain: bool = False) -> list[dict[str, Any]]:
    return [
        memory.augment(query, user_id=user, explain=explain).model_dump(mode="json")
        for query in QUERIES
        for user in users
    ]


def test_each_summary_says_what_the_rules_evidence_says(memory: UnoMemory) -> None:
    view = memory._view(memory.namespace)
    min_support = memory.gate.min_independent_support
    stored = memory.rules(status=RuleStatus.ACTIVE)
    assert stored and set(view.summaries) == {r.id for r in stored}
    assert any(len(r.source_log_ids) > PROVENANCE_CAP for r in stored)
    for rule in stored:
        summary = view.summaries[rule.id]
        supporters = identified_users(rule)
        for user in users_of(memory):
            assert summary.visible_to(user) == ((user in supporters) or len(supporters) >= min_support)
            assert summary.cited(user) == full_provenance(rule, user)[:PROVENANCE_CAP]
        assert summary.source_count == len(rule.source_log_ids)
    # The view holds no evidence and no member lists: their size does not grow with history.
    assert all(not rule.evidence for rule in view.rules.values())
    assert all(not c.member_log_ids and not c.centroid for c in view.clusters.values())


def test_augment_reads_no_rule_or_log_from_the_store(memory: UnoMemory, monkeypatch: pytest.MonkeyPatch) -> None:
    users = users_of(memory)
    before = answers(memory, users)
    assert any(a["rules"] for a in before)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("augment read rules, logs or evidence from the store")

    for method in (
        "get_rules",
        "list_rules",
        "iter_rules",
        "get_logs",
        "iter_logs",
        "get_verdicts",
        "rule_ids_for_logs",
    ):
        if hasattr(memory.store, method):
            monkeypatch.setattr(memory.store, method, refuse)
    assert answers(memory, users) == before


def test_explain_cites_every_source_log_and_the_default_a_capped_prefix(memory: UnoMemory) -> None:
    query = "How long should I roast a duck in the oven?"
    for user in (None, "extra3"):
        quiet = {r.rule_id: r for r in memory.augment(query, user_id=user).rules}
        loud = {r.rule_id: r for r in memory.augment(query, user_id=user, explain=True).rules}
        assert quiet.keys() == loud.keys() and quiet
        stored = {r.id: r for r in memory.store.get_rules(sorted(loud), Scope(namespace=memory.namespace))}
        for rule_id, injected in loud.items():
            assert injected.provenance == full_provenance(stored[rule_id], user)
            assert quiet[rule_id].provenance == injected.provenance[:PROVENANCE_CAP]
    widest = max(memory.augment(query, explain=True).rules, key=lambda r: len(r.provenance))
    assert len(widest.provenance) > PROVENANCE_CAP


def test_search_returns_each_rule_with_its_evidence(memory: UnoMemory) -> None:
    hits = memory.search("keep answers short")
    assert hits and all(hit.rule.evidence for hit in hits)


def test_a_view_loaded_by_another_process_answers_the_same(memory: UnoMemory, tmp_path: Path) -> None:
    users = users_of(memory)
    other = make_memory(memory.paths.root)
    try:
        assert answers(other, users, explain=True) == answers(memory, users, explain=True)
        loaded, built = other._view(other.namespace), memory._view(memory.namespace)
        assert loaded.summaries == built.summaries
    finally:
        other.close()
