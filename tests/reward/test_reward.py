"""The reaction model (uno.reward), the edit cost per log, and how build / forget / respond use them."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rule_store.migrations import MIGRATIONS, apply_migrations
from rule_store.protocol import Scope
from rule_store.records import LogRecord, edit_distance
from rule_store.sqlite import SQLiteRuleStore
from uno import UnoMemory
from uno.embed import HashingEmbedder
from uno.reward import (
    WEAK_WEIGHT,
    ReactionModel,
    ReactionModelError,
    ReactionModelStatus,
    ab_estimate,
    collect_examples,
    latest_record,
    list_records,
    load_current,
    reaction_examples,
    rerank,
    save_record,
)

GOOD = "Yes. The shop opens at nine."
BAD = "Great question!!! Well, there are many things to consider here, and honestly it depends on a lot of factors."


def plain(n: int, response: str, feedback: list[dict[str, Any]], user: str = "u") -> dict[str, Any]:
    return {
        "user_id": f"{user}{n % 7}",
        "query": f"Is the shop open on day {n}?",
        "response": response,
        "feedback": feedback,
    }


def labelled_logs(count: int) -> list[dict[str, Any]]:
    out = []
    for n in range(count):
        if n % 2:
            out.append(plain(n, GOOD + f" ({n})", [{"kind": "reaction", "value": "like" if n % 3 else "love"}]))
        else:
            out.append(plain(n, BAD + f" ({n})", [{"kind": "reaction", "value": "dislike"}]))
    return out


def log_of(record: dict[str, Any]) -> LogRecord:
    return LogRecord.model_validate(
        {
            "user_id": record["user_id"],
            "messages": [
                {"role": "user", "content": record["query"]},
                {"role": "assistant", "content": record["response"]},
            ],
            "feedback": record["feedback"],
        }
    )


def test_edit_distance_is_levenshtein() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance("same", "same") == 0


def test_edit_cost_sums_the_edits_and_is_none_without_one() -> None:
    edited = log_of(plain(1, "Hello world", [{"kind": "edit", "text": "Hello, world!"}]))
    assert edited.edit_cost() == 2
    assert log_of(plain(1, "Hello", [{"kind": "reaction", "value": "like"}])).edit_cost() is None


def test_reaction_labels() -> None:
    like = reaction_examples(log_of(plain(1, GOOD, [{"kind": "reaction", "value": "copy"}])))
    assert [(e.target, e.weight) for e in like] == [(1.0, 1.0)]
    rated = reaction_examples(log_of(plain(1, GOOD, [{"kind": "rating", "value": 2}])))
    assert [(e.target, e.weight) for e in rated] == [(0.25, 1.0)]
    weak = reaction_examples(log_of(plain(1, GOOD, [{"kind": "reaction", "value": "none", "terminated": True}])))
    assert [(e.target, e.weight) for e in weak] == [(0.0, WEAK_WEIGHT)]
    # A stated reaction outweighs a "none" on the same answer; a follow-up alone is no reaction.
    mixed = reaction_examples(
        log_of(plain(1, GOOD, [{"kind": "reaction", "value": "none"}, {"kind": "reaction", "value": "dislike"}]))
    )
    assert [(e.target, e.weight) for e in mixed] == [(0.0, 1.0)]
    assert reaction_examples(log_of(plain(1, GOOD, [{"kind": "followup", "text": "too long"}]))) == []


def test_model_learns_calibrated_reactions_and_round_trips_through_the_store(tmp_path: Path) -> None:
    embedder = HashingEmbedder(64)
    examples = collect_examples(log_of(r) for r in labelled_logs(60))
    model = ReactionModel.fit(examples, embedder, namespace="acme")
    p_good, p_bad = model.predict(["Is the shop open on day 99?"] * 2, [GOOD, BAD])
    assert p_good > 0.7 > 0.3 > p_bad
    assert rerank(model, "Is it open?", [BAD, GOOD])[0][0] == GOOD
    estimate = ab_estimate(model, ["q1", "q2"], [BAD, BAD], [GOOD, GOOD])
    assert estimate.lift > 0.4
    with SQLiteRuleStore(tmp_path / "s.sqlite") as store:
        save_record(store, model.record)
        loaded = load_current(store, "acme", embedder)
        assert loaded is not None
        np.testing.assert_allclose(loaded.predict(["q"], [GOOD]), model.predict(["q"], [GOOD]))
        assert load_current(store, "other", embedder) is None  # tenants do not share models
        assert load_current(store, "acme", HashingEmbedder(32)) is None  # another embedder's features
        second = ReactionModel.fit(examples, embedder, namespace="acme", version=2)
        save_record(store, second.record)
        assert [r.status for r in list_records(store, "acme")] == [
            ReactionModelStatus.SUPERSEDED,
            ReactionModelStatus.CURRENT,
        ]


def test_too_few_of_a_class_is_a_clear_error() -> None:
    examples = collect_examples(log_of(r) for r in labelled_logs(60) if r["feedback"][0]["value"] != "dislike")
    with pytest.raises(ReactionModelError, match="negative"):
        ReactionModel.fit(examples, HashingEmbedder(64))


def test_feedback_weight_prefers_an_edit_that_moves_the_prediction() -> None:
    model = ReactionModel.fit(collect_examples(log_of(r) for r in labelled_logs(60)), HashingEmbedder(64))
    helpful = log_of(plain(1, BAD, [{"kind": "edit", "text": GOOD}]))
    useless = log_of(plain(1, GOOD, [{"kind": "edit", "text": GOOD + " "}]))
    assert model.feedback_weight(helpful) > 0.4 > model.feedback_weight(useless)
    assert model.feedback_weight(log_of(plain(1, GOOD, [{"kind": "followup", "text": "ok"}]))) == 0.0


def test_build_trains_forget_marks_stale_and_stats_report_edit_cost(tmp_path: Path) -> None:
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(64)) as memory:
        memory.reaction_retrain_after = 40
        memory.add_many(labelled_logs(30))
        memory.build()
        assert memory.reaction_model() is None  # 30 new reactions: not due yet
        memory.add_many(labelled_logs(60)[30:])
        memory.add(plain(99, "Hello world", [{"kind": "edit", "text": "Hello, world!"}], user="editor"))
        memory.build()
        model = memory.reaction_model()
        assert model is not None and model.record.version == 1 and model.record.examples == 60
        stats = memory.stats()
        assert (stats["logs_edited"], stats["edit_cost_total"], stats["edit_cost_mean"]) == (1, 2, 2.0)
        report = memory.forget(user_id="u1")
        assert report.reaction_model_staled
        assert memory.reaction_model() is None
        record = latest_record(memory.store, memory.namespace)
        assert record is not None and record.status is ReactionModelStatus.STALE and not record.source_log_ids


def test_migration_backfills_edit_cost_of_existing_logs(tmp_path: Path) -> None:
    db_path = tmp_path / "old.sqlite"
    raw = sqlite3.connect(db_path, isolation_level=None)
    apply_migrations(raw, MIGRATIONS[:3])
    log = log_of(plain(1, "Hello world", [{"kind": "edit", "text": "Hello, world!"}]))
    raw.execute(
        "INSERT INTO logs (id, namespace, user_id, content_hash, timestamp, processed, body) VALUES (?,?,?,?,?,0,?)",
        (
            log.id,
            log.namespace,
            log.user_id,
            log.content_hash(),
            "2024-05-17T07:31:15.123456+00:00",
            log.model_dump_json(),
        ),
    )
    raw.close()
    with SQLiteRuleStore(db_path) as store:
        assert store.stats(Scope(namespace=log.namespace))["edit_cost_total"] == 2


def test_dpo_pairs_are_oriented_and_filtered_by_predicted_reaction(tmp_path: Path) -> None:
    from rule_store.records import Cluster, Message, PreferencePair
    from uno.train.datasets import REACTION_MARGIN, cluster_data, rank_pairs_by_reaction

    model = ReactionModel.fit(collect_examples(log_of(r) for r in labelled_logs(60)), HashingEmbedder(64))
    prompt = [Message(role="user", content="Is the shop open on day 99?")]

    def pair(chosen: str, rejected: str, source: str, log_id: str) -> PreferencePair:
        return PreferencePair.model_validate(
            {"prompt": prompt, "chosen": chosen, "rejected": rejected, "source": source, "source_log_id": log_id}
        )

    backwards = pair(BAD, GOOD, "revision", "l1")  # a judged revision the reaction model predicts disliked
    close = pair(GOOD, GOOD + " Truly.", "revision", "l2")  # within the margin: no clear winner
    edit_ok = pair(GOOD, BAD, "edit", "l3")
    edit_against = pair(BAD, GOOD, "edit", "l4")  # the user's edit, predicted far less liked than what it replaced
    ranked = rank_pairs_by_reaction([backwards, close, edit_ok, edit_against], model)

    assert [p.source_log_id for p in ranked] == ["l1", "l3"]
    turned = ranked[0]
    assert (turned.chosen, turned.rejected) == (GOOD, BAD) and turned.margin is not None
    assert turned.margin >= REACTION_MARGIN
    assert ranked[1] == edit_ok  # an edit is never turned round, only dropped when contradicted
    assert rank_pairs_by_reaction([], model) == []

    # cluster_data applies it to the cluster's pairs when given the namespace's model.
    with SQLiteRuleStore(tmp_path / "s.sqlite") as store:
        ids = ["l1", "l2", "l3", "l4"]
        store.add_logs([log_of(plain(n, BAD, [])).model_copy(update={"id": i}) for n, i in enumerate(ids)])
        cluster = Cluster(id="clu-shop", label="shop", centroid=[1.0, 0.0], member_log_ids=ids)
        store.upsert_clusters([cluster])
        store.upsert_preference_pairs(
            p.model_copy(update={"cluster_id": cluster.id}) for p in (backwards, close, edit_ok, edit_against)
        )
        everything = cluster_data(store, cluster)
        assert {p.source_log_id for p in everything.pairs} | set(everything.holdout_log_ids) == set(ids)
        # Dropped pairs no longer shape the adapter: their logs leave the split too.
        kept = cluster_data(store, cluster, reaction_model=model)
        assert {p.source_log_id for p in kept.pairs} | set(kept.holdout_log_ids) == {"l1", "l3"}
        assert kept.pairs and all(p.chosen == GOOD for p in kept.pairs)
