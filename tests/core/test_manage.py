"""Managing memory by hand from Python, on a real store (SQLite, FAISS, the hashing embedder): add, edit, delete,
retire, restore, pin and unpin rules, each change in the rule's history; search, logs, export/import, backup/restore.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rule_store.records import RuleChangeAction, RuleStatus
from tests.integrations.data import ROAST_QUERY, fast_memory, plain, trained_memory, training_logs
from uno import UnoMemory
from uno.memory import InvalidImport, RuleExistsError

PASTA_WHEN = "someone asks how long to boil pasta for"
PASTA_QUERY = "How long should I boil pasta for?"


def aspects(memory: UnoMemory, query: str) -> list[str | None]:
    return [rule.aspect for rule in memory.augment(query).rules]


def injected_ids(memory: UnoMemory, query: str) -> list[str]:
    return [rule.rule_id for rule in memory.augment(query).rules]


def actions(memory: UnoMemory, rule_id: str) -> list[RuleChangeAction]:
    return [change.action for change in memory.rule_history(rule_id)]


@pytest.fixture
def memory(tmp_path: Path) -> UnoMemory:
    with trained_memory(tmp_path / "store") as trained:
        yield trained


def test_a_manual_rule_is_injected_survives_full_builds_and_keeps_its_history(memory: UnoMemory) -> None:
    rule = memory.add_rule(PASTA_WHEN, "Give the time in minutes first.", aspect="format:time_first")
    assert (rule.manual, rule.pinned, rule.status) == (True, True, RuleStatus.ACTIVE)
    assert rule.id in injected_ids(memory, PASTA_QUERY)
    assert [hit.rule.id for hit in memory.search("time in minutes", k=1)] == [rule.id]
    with pytest.raises(RuleExistsError):
        memory.add_rule("another situation", "give the time in minutes first.")

    memory.add_many([plain("late", "How long to boil pasta al dente?", "About ten minutes.", "thanks")])
    memory.build(full=True)
    memory.build()
    after = memory.get_rule(rule.id)
    assert (after.status, after.when, after.manual) == (RuleStatus.ACTIVE, PASTA_WHEN, True)
    assert rule.id in injected_ids(memory, PASTA_QUERY)
    history = memory.rule_history(rule.id)
    assert history[0].action is RuleChangeAction.CREATED and history[0].actor == "user"
    assert history[0].after["do"] == "Give the time in minutes first." and history[0].after["manual"] is True
    # A full build neither retires nor rewrites it: no status change is recorded by the gate.
    assert all(c.actor == "user" or c.action is not RuleChangeAction.STATUS for c in history)


def test_edit_retire_restore_pin_unpin_delete_each_recorded(memory: UnoMemory) -> None:
    short = next(r for r in memory.rules(status=RuleStatus.ACTIVE) if r.aspect == "length:short")
    assert [c.action for c in memory.rule_history(short.id)][:2] == [RuleChangeAction.CREATED, RuleChangeAction.STATUS]
    assert {c.actor for c in memory.rule_history(short.id)} == {"build", "gate"}

    edited = memory.edit_rule(short.id, do="Answer in at most three sentences.", by="alice")
    assert (edited.do, edited.edited, edited.id) == ("Answer in at most three sentences.", True, short.id)
    assert memory.augment(ROAST_QUERY).rules[0].do == "Answer in at most three sentences."
    memory.build(full=True)
    assert memory.get_rule(short.id).do == "Answer in at most three sentences."

    retired = memory.retire_rule(short.id, reason="too strict", by="alice")
    assert retired.status is RuleStatus.RETIRED and short.id not in injected_ids(memory, ROAST_QUERY)
    memory.build(full=True)
    assert memory.get_rule(short.id).status is RuleStatus.RETIRED
    restored = memory.restore_rule(short.id, by="alice")
    assert restored.status is RuleStatus.ACTIVE and short.id in injected_ids(memory, ROAST_QUERY)

    pinned = memory.pin_rule(short.id, by="bob")
    assert pinned.pinned and pinned.status is RuleStatus.ACTIVE
    memory.build(full=True)
    assert memory.get_rule(short.id).pinned
    unpinned = memory.unpin_rule(short.id, by="bob")
    assert not unpinned.pinned and unpinned.status is RuleStatus.ACTIVE  # the gate decided again: still supported

    history = memory.rule_history(short.id)
    by_hand = [(c.action, c.actor) for c in history if c.actor in {"alice", "bob"}]
    assert by_hand == [
        (RuleChangeAction.EDITED, "alice"),
        (RuleChangeAction.RETIRED, "alice"),
        (RuleChangeAction.RESTORED, "alice"),
        (RuleChangeAction.PINNED, "bob"),
        (RuleChangeAction.UNPINNED, "bob"),
    ]
    edit = next(c for c in history if c.action is RuleChangeAction.EDITED)
    assert edit.before["do"] == short.do and edit.after["do"] == "Answer in at most three sentences."
    assert [c.at for c in history] == sorted(c.at for c in history)

    deleted = memory.delete_rule(short.id, reason="wrong", by="carol")
    assert deleted.id == short.id
    assert short.id not in injected_ids(memory, ROAST_QUERY)
    assert short.id not in {hit.rule.id for hit in memory.search("short answers", k=10)}
    with pytest.raises(KeyError):
        memory.get_rule(short.id)
    assert memory.store.rule_sources(short.id) == []
    (tombstone,) = memory.rule_history(short.id)
    assert (tombstone.action, tombstone.actor, tombstone.before, tombstone.after) == (
        RuleChangeAction.DELETED,
        "carol",
        {},
        {},
    )


def test_a_pinned_personal_rule_is_held_through_full_builds_for_its_user(tmp_path: Path) -> None:
    with fast_memory(tmp_path / "store") as memory:
        memory.add_many(training_logs())
        memory.add(plain("solo", "Which wine goes with roast lamb?", "Many wines work.", "answer in French please"))
        memory.build()
        wine = [r for r in memory.rules() if any(e.user_id == "solo" for e in r.evidence)]
        assert wine
        memory.pin_rule(wine[0].id)
        memory.build(full=True)
        assert memory.get_rule(wine[0].id).status is RuleStatus.ACTIVE
        # Pinning holds its status; it does not widen who sees it (still that one user's preference).
        assert wine[0].id in {hit.rule.id for hit in memory.search(wine[0].do, k=5, user_id="solo")}
        assert wine[0].id not in {hit.rule.id for hit in memory.search(wine[0].do, k=5, user_id="someone-else")}


def test_search_returns_k_visible_hits_when_k_exist(tmp_path: Path) -> None:
    with fast_memory(tmp_path / "store") as memory:
        memory.add_many(training_logs())
        # Personal rules of single users, close to the query: other users must not see them, nor lose hits to them.
        memory.add_many(
            plain(f"solo{n}", f"Tell me about topic {n}", "Here is a long answer.", f"answer in {lang} please")
            for n, lang in enumerate(["French", "German", "Spanish"])
        )
        memory.build()
        shared = [r for r in memory.rules(status=RuleStatus.ACTIVE) if len({e.user_id for e in r.evidence}) >= 2]
        assert len(shared) == 3
        personal = [r for r in memory.rules(status=RuleStatus.ACTIVE) if r not in shared]
        assert personal, "the personal rules this test is about were not learnt"
        hits = memory.search("answer in French please", k=3, user_id="stranger")
        assert len(hits) == 3 and {h.rule.id for h in hits} == {r.id for r in shared}
        assert len(memory.search("answer in French please", k=50, user_id="stranger")) == 3
        from uno.integrations.langchain import UnoRetriever

        documents = UnoRetriever(memory=memory, k=3, user_id="stranger").invoke("answer in French please")
        assert {document.id for document in documents} == {r.id for r in shared}
        with pytest.raises(ValueError, match="non-empty"):
            memory.search("  ")


def test_logs_are_listed_in_pages(memory: UnoMemory) -> None:
    total = memory.count_logs()
    assert total == len(training_logs())
    first, rest = memory.logs(limit=5), memory.logs(offset=5, limit=100)
    assert len(first) == 5 and len(first) + len(rest) == total
    assert memory.get_log(first[0].id) == first[0]
    assert [log.user_id for log in memory.logs(user_id="cook1")] == ["cook1"]
    with pytest.raises(KeyError):
        memory.get_log("log-missing")


def test_export_import_round_trips_rules_manual_edits_and_verdicts(memory: UnoMemory, tmp_path: Path) -> None:
    manual = memory.add_rule(PASTA_WHEN, "Give the time in minutes first.")
    short = next(r for r in memory.rules() if r.aspect == "length:short")
    memory.edit_rule(short.id, when="someone asks about roasting times")
    retired = next(r for r in memory.rules() if r.aspect == "format:lists")
    memory.retire_rule(retired.id, reason="not wanted")
    lines = [json.loads(json.dumps(line)) for line in memory.export_records()]

    with fast_memory(tmp_path / "copy", namespace="copy") as copy:
        report = copy.import_records(lines)
        assert (report.logs, report.rules) == (len(training_logs()), len(memory.rules()))

        def summary(m: UnoMemory) -> list[tuple[str, str, str, str, bool, bool]]:
            return [(r.id, r.status.value, r.when, r.do, r.manual, r.edited) for r in m.rules()]

        assert summary(copy) == summary(memory)
        assert [v.verdict for v in copy.store.list_verdicts()] == [v.verdict for v in memory.store.list_verdicts()]
        assert copy.store.count_logs(processed=False) == 0
        assert manual.id in injected_ids(copy, PASTA_QUERY)
        assert actions(copy, short.id)[-1] is RuleChangeAction.IMPORTED
        assert RuleChangeAction.EDITED in actions(copy, short.id)
        with pytest.raises(InvalidImport, match="line 2"):
            copy.import_records([lines[0], {"type": "rule", "record": {"when": ""}}], namespace="other")
        assert copy.count_logs(namespace="other") == 0


def test_backup_and_restore_the_whole_store(memory: UnoMemory, tmp_path: Path) -> None:
    kept = memory.add_rule(PASTA_WHEN, "Give the time in minutes first.")
    backup = memory.backup(tmp_path / "backups" / "uno.sqlite")
    memory.delete_rule(kept.id)
    memory.forget(user_id="cook0")
    assert kept.id not in injected_ids(memory, PASTA_QUERY)
    memory.restore(backup)
    assert memory.get_rule(kept.id).manual
    assert kept.id in injected_ids(memory, PASTA_QUERY)
    assert memory.count_logs() == len(training_logs())
    assert memory.augment(ROAST_QUERY).rules
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match=r"not an SQLite database|not an uno store"):
        memory.restore(tmp_path / "junk.sqlite")


def test_forget_keeps_manual_rules_and_drops_history_quoting_the_forgotten(memory: UnoMemory) -> None:
    manual = memory.add_rule(PASTA_WHEN, "Give the time in minutes first.")
    packing = next(r for r in memory.rules() if r.aspect == "format:lists")
    report = memory.forget(user_id="hike0")
    assert report.rules_rescored >= 1
    history = memory.rule_history(packing.id)
    assert (history[0].action, history[0].actor) == (RuleChangeAction.UPDATED, "forget")
    assert all(c.actor in {"forget", "gate"} and c.action is not RuleChangeAction.CREATED for c in history)
    assert memory.get_rule(packing.id).support == 2
    assert memory.get_rule(manual.id).status is RuleStatus.ACTIVE


def test_a_manual_rule_supersedes_the_learnt_rule_it_contradicts(memory: UnoMemory) -> None:
    short = next(r for r in memory.rules(status=RuleStatus.ACTIVE) if r.aspect == "length:short")
    long = memory.add_rule(
        "How long should I roast a chicken in the oven?", "Explain every step in detail.", aspect="length:long"
    )
    superseded = memory.get_rule(short.id)
    assert (superseded.status, superseded.superseded_by) == (RuleStatus.SUPERSEDED, long.id)
    memory.build(full=True)
    assert memory.get_rule(long.id).status is RuleStatus.ACTIVE
    assert memory.get_rule(short.id).status is RuleStatus.SUPERSEDED
    assert [rule.rule_id for rule in memory.augment(ROAST_QUERY).rules] == [long.id]
    memory.retire_rule(long.id)
    assert memory.get_rule(short.id).status is RuleStatus.ACTIVE  # the gate decides again without it
    assert RuleChangeAction.STATUS in actions(memory, short.id)
