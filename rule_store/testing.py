"""A reusable conformance suite for :class:`~rule_store.protocol.RuleStore` backends.

Subclass :class:`RuleStoreConformance` in a test module and override one fixture, ``store``, that yields an
empty store; every test below then runs against your backend::

    class TestMyStore(RuleStoreConformance):
        @pytest.fixture
        def store(self, tmp_path: Path) -> Iterator[RuleStore]:
            with MyStore(tmp_path / "db") as store:
                yield store

The suite checks what the protocol promises any caller: idempotent writes, content-hash deduplication of logs,
tenant and user scoping on every read, provenance, transactions, exact round trips. What a single backend does
beyond that (savepoints, WAL, crash safety) belongs in that backend's own tests. Every test's docstring has a
"Troubleshooting:" line saying what usually breaks it.

This module imports pytest, so only test code should import it; ``import rule_store`` never does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from rule_store.protocol import ALL, LeaseHeld, RuleStore, Scope
from rule_store.records import (
    Adapter,
    AdapterKind,
    AdapterStatus,
    Cluster,
    EditFeedback,
    Evidence,
    Experience,
    FeedbackKind,
    FollowupFeedback,
    HindsightExample,
    LogRecord,
    LogVerdict,
    Message,
    Polarity,
    PreferencePair,
    QuarantineRecord,
    RatingFeedback,
    ReactionFeedback,
    Route,
    Rule,
    RuleChange,
    RuleChangeAction,
    RuleStatus,
    Verdict,
    rule_diff,
)

# A non-UTC offset and microseconds: a backend that drops either fails the round-trip tests.
EPOCH = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))

# --------------------------------------------------------------------------------------------- sample records


def make_log(n: int, *, namespace: str = "tenant-a", user_id: str | None = "alice") -> LogRecord:
    """A rich log (system prompt, two exchanges, every feedback kind, nested metadata), distinct per ``n``."""
    at = EPOCH + timedelta(minutes=n)
    return LogRecord(
        namespace=namespace,
        user_id=user_id,
        timestamp=at,
        messages=[
            Message(role="system", content="You are a concise assistant."),
            Message(role="user", content=f"Question number {n}: how do I sort a list?"),
            Message(role="assistant", content="Use sorted(items).", name="bot"),
            Message(role="user", content="Shorter please, and in French."),
            Message(role="assistant", content="sorted(items)."),
        ],
        feedback=[
            FollowupFeedback(text="Shorter please, and in French.", turn=2, timestamp=at),
            EditFeedback(text="Utilisez sorted(items).", turn=4, implicit=True),
            ReactionFeedback(value="love", terminated=True),
            RatingFeedback(value=7.5, scale_min=0.0, scale_max=10.0, turn=4),
        ],
        metadata={"session": f"s{n}", "tags": ["a", "b"], "nested": {"depth": 2, "ratio": 0.1}},
    )


def make_rule(
    n: int,
    source: LogRecord,
    *,
    status: RuleStatus = RuleStatus.ACTIVE,
    cluster_id: str | None = None,
) -> Rule:
    """A rule with one piece of evidence from ``source`` (carrying its user), every optional field set."""
    return Rule(
        namespace=source.namespace,
        when=f"the user asks coding question {n}",
        do=f"answer in one line, variant {n}",
        polarity=Polarity.DO if n % 2 == 0 else Polarity.AVOID,
        aspect="length",
        rationale="users edit long answers down",
        evidence=[
            Evidence(
                log_id=source.id,
                quote="Shorter please",
                kind=FeedbackKind.FOLLOWUP,
                user_id=source.user_id,
                weight=0.75,
                timestamp=source.timestamp,
            )
        ],
        support=3,
        confidence=0.625,
        novelty=0.5,
        status=status,
        status_reason="passed the gap filter",
        cluster_id=cluster_id,
        created_at=EPOCH,
        updated_at=EPOCH + timedelta(seconds=1),
    )


def make_experience(n: int, source: LogRecord, *, cluster_id: str | None = "cluster-x") -> Experience:
    return Experience(
        namespace=source.namespace,
        cluster_id=cluster_id,
        failure_mode=f"too verbose {n}",
        critique="The answer explains what was not asked.",
        revision_guidance="Give the call, nothing else.",
        source_log_ids=[source.id],
        created_at=EPOCH,
    )


def make_preference_pair(n: int, source: LogRecord, *, cluster_id: str | None = "cluster-x") -> PreferencePair:
    return PreferencePair(
        namespace=source.namespace,
        prompt=source.prompt_for_turn(source.response_index),
        chosen=f"sorted(items) #{n}",
        rejected="Use sorted(items), which returns a new list ...",
        source_log_id=source.id,
        source="edit",
        margin=0.25,
        cluster_id=cluster_id,
        created_at=EPOCH,
    )


def make_hindsight(n: int, source: LogRecord, *, cluster_id: str | None = "cluster-x") -> HindsightExample:
    return HindsightExample(
        namespace=source.namespace,
        prompt=source.prompt_for_turn(source.response_index),
        response=source.response,
        followup=f"Shorter please ({n})",
        source_log_id=source.id,
        cluster_id=cluster_id,
        created_at=EPOCH,
    )


def make_cluster(n: int, source: LogRecord) -> Cluster:
    return Cluster(
        id=f"cluster-{source.namespace}-{n}",
        namespace=source.namespace,
        label="sorting questions",
        centroid=[0.6, 0.8, 1e-9, -0.125],
        min_similarity=0.35,
        member_log_ids=[source.id],
        rule_ids=["rule-1", "rule-2"],
        gap_score=0.4,
        route=Route.PRIMARY,
        maturity=0.3,
        created_at=EPOCH,
        updated_at=EPOCH,
    )


def make_verdict(n: int, source: LogRecord, *, verdict: Verdict = Verdict.ACTIONABLE) -> LogVerdict:
    return LogVerdict(
        log_id=source.id,
        namespace=source.namespace,
        verdict=verdict,
        reasons=[f"follow-up asks for brevity ({n})"],
        signal=-0.5,
        distiller="heuristic-v1",
        created_at=EPOCH,
    )


def make_quarantine(n: int, source: LogRecord, *, origin: str = "logs.jsonl") -> QuarantineRecord:
    return QuarantineRecord(
        namespace=source.namespace,
        source=origin,
        line=n,
        reason="messages: field required",
        raw='{"oops": ' + str(n) + "}",
        created_at=EPOCH,
    )


def make_adapter(
    n: int,
    source: LogRecord,
    *,
    cluster_id: str | None = None,
    kind: AdapterKind = AdapterKind.EXPERT,
    version: int = 1,
    status: AdapterStatus = AdapterStatus.ACCEPTED,
    sources: list[LogRecord] | None = None,
) -> Adapter:
    """An adapter trained on ``source`` (or on ``sources``), every optional field set; its id is derived."""
    trained_on = [source] if sources is None else sources
    return Adapter(
        namespace=source.namespace,
        cluster_id=cluster_id if cluster_id is not None else f"cluster-{source.namespace}-{n}",
        kind=kind,
        version=version,
        base_model="models/tiny-llama",
        path=f"/var/lib/uno/adapters/{n}/{kind.value}/v{version}",
        source_log_ids=[log.id for log in trained_on],
        status=status,
        status_reason="held-out win rate 0.625 >= 0.55",
        metrics={"train_loss": 1.2345678901234567, "held_out_win_rate": 0.625, "tiny": 1e-9},
        config={"lora": {"r": 8, "alpha": 16, "target_modules": ["q_proj", "v_proj"]}, "lr": 2e-4, "seed": None},
        created_at=EPOCH,
        updated_at=EPOCH + timedelta(seconds=1),
    )


@dataclass(frozen=True)
class RecordKind:
    """How the suite creates, writes, reads and revises one kind of derived record."""

    name: str
    make: Callable[[int, LogRecord], Any]
    upsert: Callable[[RuleStore, list[Any]], None]
    read_all: Callable[[RuleStore, Scope], list[Any]]
    key: Callable[[Any], str]
    # A copy of a record with a non-key field changed, to check that a second upsert replaces the first.
    revise: Callable[[Any], Any]
    # None for kinds the protocol gives no delete method (verdicts go with their log; quarantine stays).
    delete: Callable[[RuleStore, list[str]], None] | None


RECORD_KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        "rules",
        make_rule,
        lambda s, items: s.upsert_rules(items),
        lambda s, scope: s.list_rules(scope),
        lambda r: r.id,
        lambda r: r.model_copy(update={"rationale": "revised"}),
        lambda s, ids: s.delete_rules(ids),
    ),
    RecordKind(
        "experiences",
        make_experience,
        lambda s, items: s.upsert_experiences(items),
        lambda s, scope: s.list_experiences(scope),
        lambda e: e.id,
        lambda e: e.model_copy(update={"critique": "revised"}),
        lambda s, ids: s.delete_experiences(ids),
    ),
    RecordKind(
        "preference_pairs",
        make_preference_pair,
        lambda s, items: s.upsert_preference_pairs(items),
        lambda s, scope: s.list_preference_pairs(scope),
        lambda p: p.id,
        lambda p: p.model_copy(update={"margin": 0.9}),
        lambda s, ids: s.delete_preference_pairs(ids),
    ),
    RecordKind(
        "hindsight",
        make_hindsight,
        lambda s, items: s.upsert_hindsight(items),
        lambda s, scope: s.list_hindsight(scope),
        lambda h: h.id,
        lambda h: h.model_copy(update={"cluster_id": "cluster-y"}),
        lambda s, ids: s.delete_hindsight(ids),
    ),
    RecordKind(
        "clusters",
        make_cluster,
        lambda s, items: s.upsert_clusters(items),
        lambda s, scope: s.list_clusters(scope),
        lambda c: c.id,
        lambda c: c.model_copy(update={"label": "revised"}),
        lambda s, ids: s.delete_clusters(ids),
    ),
    RecordKind(
        "verdicts",
        make_verdict,
        lambda s, items: s.upsert_verdicts(items),
        lambda s, scope: s.list_verdicts(scope),
        lambda v: v.log_id,
        lambda v: v.model_copy(update={"verdict": Verdict.SATISFIED}),
        None,
    ),
    RecordKind(
        "quarantine",
        make_quarantine,
        lambda s, items: s.add_quarantine(items),
        lambda s, scope: s.list_quarantine(scope),
        lambda q: q.id,
        lambda q: q.model_copy(update={"reason": "revised"}),
        None,
    ),
    RecordKind(
        "adapters",
        make_adapter,
        lambda s, items: s.upsert_adapters(items),
        lambda s, scope: s.list_adapters(scope),
        lambda a: a.id,
        lambda a: a.model_copy(update={"status": AdapterStatus.REJECTED, "status_reason": "revised"}),
        lambda s, ids: s.delete_adapters(ids),
    ),
)
DELETABLE_KINDS = tuple(kind for kind in RECORD_KINDS if kind.delete is not None)


def _kind_id(kind: RecordKind) -> str:
    return kind.name


def _exact(records: list[Any]) -> list[str]:
    """Records as their JSON: equal only if every field, datetime offsets included, survived."""
    return [record.model_dump_json() for record in records]


def visible_ids(store: RuleStore, scope: Scope) -> dict[str, set[str]]:
    """Every id that any read method shows for ``scope``: what the tenant-isolation tests compare."""
    seen = {"logs": {log.id for log in store.iter_logs(scope)}}
    for kind in RECORD_KINDS:
        seen[kind.name] = {kind.key(record) for record in kind.read_all(store, scope)}
    return seen


def populate(store: RuleStore, namespace: str, user_id: str, n: int = 0) -> dict[str, set[str]]:
    """One log of ``user_id`` in ``namespace`` and one record of each kind derived from it; returns ids."""
    log = make_log(n, namespace=namespace, user_id=user_id)
    assert store.add_logs([log]).inserted == [log.id]
    ids = {"logs": {log.id}}
    for kind in RECORD_KINDS:
        record = kind.make(n, log)
        kind.upsert(store, [record])
        ids[kind.name] = {kind.key(record)}
    return ids


# --------------------------------------------------------------------------------------------- the suite


class RuleStoreConformance(ABC):
    """Tests every RuleStore backend must pass. Subclass it and override the ``store`` fixture."""

    @abstractmethod
    @pytest.fixture
    def store(self) -> Iterator[RuleStore]:
        """Yield an empty store, and close it afterwards."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the `store` fixture: yield an empty RuleStore from it"
        )

    @pytest.fixture
    def second_handle(self, store: RuleStore) -> Iterator[RuleStore | None]:
        """Another handle on ``store``'s data, opened as another process would (a second connection); ``None``
        when the backend has no such thing (an in-memory store). Override it to run the cross-handle lease test."""
        yield None

    # ----------------------------------------------------------------------------------------- basics

    def test_is_a_rule_store(self, store: RuleStore) -> None:
        """The backend satisfies the protocol and reports a schema version.

        Troubleshooting: a method of ``RuleStore`` is missing or misnamed on the backend class.
        """
        assert isinstance(store, RuleStore)
        assert isinstance(store.schema_version, int)

    def test_new_store_is_empty(self, store: RuleStore) -> None:
        """A fresh store has nothing, and ``stats`` reports every key with a zero.

        Troubleshooting: the fixture must yield an empty store; ``stats`` must include rules_<status> for
        every RuleStatus, verdicts_<verdict> for every Verdict and adapters_<status> for every AdapterStatus,
        zeros included.
        """
        expected = {"logs", "logs_processed", "clusters", "experiences", "preference_pairs", "hindsight"}
        expected |= {"quarantine"} | {f"rules_{s.value}" for s in RuleStatus}
        expected |= {f"verdicts_{v.value}" for v in Verdict}
        expected |= {"adapters"} | {f"adapters_{s.value}" for s in AdapterStatus}
        stats = store.stats()
        assert set(stats) >= expected
        assert all(stats[key] == 0 for key in expected)
        assert all(not ids for ids in visible_ids(store, ALL).values())

    def test_close_is_idempotent(self, store: RuleStore) -> None:
        """Closing twice is fine.

        Troubleshooting: ``close`` must check whether it already closed its connection or file handles.
        """
        store.close()
        store.close()

    # ----------------------------------------------------------------------------------------- round trips

    def test_log_round_trip(self, store: RuleStore) -> None:
        """A log reads back exactly: messages, every feedback kind, metadata, timestamp with its offset.

        Troubleshooting: store the whole record (e.g. ``model_dump_json``) and read it back with
        ``model_validate_json``; do not rebuild it from columns, which loses the feedback union or tz offsets.
        """
        log = make_log(1)
        store.add_logs([log])
        assert _exact(store.get_logs([log.id])) == _exact([log])
        assert _exact(list(store.iter_logs())) == _exact([log])
        assert store.get_logs([log.id]) == [log]

    @pytest.mark.parametrize("kind", RECORD_KINDS, ids=_kind_id)
    def test_record_round_trip(self, store: RuleStore, kind: RecordKind) -> None:
        """Every derived record reads back exactly, every field included.

        Troubleshooting: a field missing from the stored body, floats stored with lost precision, or datetimes
        normalised to UTC on the way in (compare the JSON, offsets included).
        """
        record = kind.make(1, make_log(1))
        kind.upsert(store, [record])
        assert _exact(kind.read_all(store, ALL)) == _exact([record])

    # ----------------------------------------------------------------------------------------- idempotence

    @pytest.mark.parametrize("kind", RECORD_KINDS, ids=_kind_id)
    def test_upsert_is_idempotent_by_id(self, store: RuleStore, kind: RecordKind) -> None:
        """Writing a record twice keeps one; writing a revised record with the same id replaces it.

        Troubleshooting: use INSERT ... ON CONFLICT DO UPDATE (or delete-then-insert) keyed on the record id,
        and handle the same id twice within one batch (the last one wins).
        """
        record = kind.make(1, make_log(1))
        kind.upsert(store, [record])
        kind.upsert(store, [record, record])
        assert _exact(kind.read_all(store, ALL)) == _exact([record])
        revised = kind.revise(record)
        kind.upsert(store, [revised])
        assert _exact(kind.read_all(store, ALL)) == _exact([revised])

    def test_add_logs_is_idempotent_by_id(self, store: RuleStore) -> None:
        """Re-adding a stored log is a duplicate, also once it has gained feedback; the stored one is kept.

        Troubleshooting: check ids before inserting (INSERT OR IGNORE alone does not say which were skipped); a
        stored log that ``update_log`` gave more feedback still matches the log as first added
        (``LogRecord.restates``).
        """
        log = make_log(1)
        assert store.add_logs([log]).inserted == [log.id]
        assert store.add_logs([log]).duplicates == [log.id]
        store.update_log(log.model_copy(update={"feedback": [*log.feedback, ReactionFeedback(value="dislike")]}))
        again = store.add_logs([log])
        assert (again.inserted, again.duplicates, again.conflicts) == ([], [log.id], [])

    def test_same_id_with_other_content_is_a_conflict_not_a_drop(self, store: RuleStore) -> None:
        """A log reusing a stored id (in its namespace) for a different conversation is refused as a conflict,
        with its position and a reason naming the id; the valid logs of the same call are kept.

        Troubleshooting: compare the content of a log whose id is stored; report ``IdConflict``s in
        ``AddResult.conflicts`` instead of counting the log as a duplicate (that would drop it silently), and
        remember the logs added earlier in the same call.
        """
        log = make_log(1)
        store.add_logs([log])
        same_id = make_log(2).model_copy(update={"id": log.id})
        fresh, twin = make_log(3), make_log(4).model_copy(update={"id": make_log(3).id})
        result = store.add_logs([same_id, fresh, twin])
        assert result.inserted == [fresh.id]
        assert result.duplicates == []
        assert [(c.position, c.log_id) for c in result.conflicts] == [(0, log.id), (2, fresh.id)]
        assert all(c.log_id in c.reason and "different" in c.reason for c in result.conflicts)
        assert store.get_logs([log.id]) == [log]
        assert store.get_logs([fresh.id]) == [fresh]

    def test_add_logs_deduplicates_by_content_hash(self, store: RuleStore) -> None:
        """A log with a new id but the content of a stored one (or one earlier in the batch) is a duplicate.

        Troubleshooting: key a unique index on (namespace, content_hash()); the hash ignores id and timestamp;
        remember hashes seen earlier in the same batch.
        """
        first = make_log(1)
        copy = first.model_copy(update={"id": "log-copy", "timestamp": EPOCH + timedelta(days=3)})
        other = make_log(2)
        other_copy = other.model_copy(update={"id": "log-other-copy"})
        result = store.add_logs([first, copy, other, other_copy])
        assert result.inserted == [first.id, other.id]
        assert result.duplicates == ["log-copy", "log-other-copy"]
        assert store.add_logs([copy]).duplicates == ["log-copy"]
        assert store.count_logs() == 2

    def test_same_content_in_two_namespaces_is_kept_twice(self, store: RuleStore) -> None:
        """Deduplication is per namespace: two tenants logging the same conversation both keep it.

        Troubleshooting: the content-hash uniqueness must include the namespace.
        """
        result = store.add_logs([make_log(1, namespace="tenant-a"), make_log(1, namespace="tenant-b")])
        assert len(result.inserted) == 2
        assert result.duplicates == []

    @pytest.mark.parametrize("kind", DELETABLE_KINDS, ids=_kind_id)
    def test_delete_missing_ids_is_fine(self, store: RuleStore, kind: RecordKind) -> None:
        """Deleting ids that do not exist is not an error and deletes nothing else.

        Troubleshooting: do not raise when a DELETE matches no row.
        """
        record = kind.make(1, make_log(1))
        kind.upsert(store, [record])
        assert kind.delete is not None
        kind.delete(store, ["missing-1", "missing-2"])
        kind.delete(store, [])
        assert store.delete_logs(["missing-log"]) == []
        assert _exact(kind.read_all(store, ALL)) == _exact([record])
        kind.delete(store, [kind.key(record), "missing-3"])
        assert kind.read_all(store, ALL) == []

    def test_writes_do_not_mutate_inputs(self, store: RuleStore) -> None:
        """No write method changes the records it is given.

        Troubleshooting: do not fill in or normalise fields on the caller's objects (copy them first).
        """
        log = make_log(1)
        records = {kind.name: kind.make(1, log) for kind in RECORD_KINDS}
        before = {"log": log.model_dump()} | {name: r.model_dump() for name, r in records.items()}
        store.add_logs([log])
        store.add_logs([log])
        for kind in RECORD_KINDS:
            kind.upsert(store, [records[kind.name]])
        after = {"log": log.model_dump()} | {name: r.model_dump() for name, r in records.items()}
        assert after == before

    # ----------------------------------------------------------------------------------------- scoping

    def test_log_ids_are_unique_per_namespace(self, store: RuleStore) -> None:
        """Two tenants may use the same log id: each keeps its own log, and neither can read, update, mark,
        delete, nor block the other's, nor learn that the id is in use elsewhere.

        Troubleshooting: key logs (and verdicts) on (namespace, id); filter every read and write by id on the
        namespace as well; ``mark_processed`` takes the namespace.
        """
        mine = make_log(1, namespace="tenant-a")
        theirs = make_log(2, namespace="tenant-b").model_copy(update={"id": mine.id})
        # Claimed in advance by tenant b: tenant a's log with that id is still added.
        assert store.add_logs([theirs]).inserted == [mine.id]
        result = store.add_logs([mine])
        assert (result.inserted, result.duplicates, result.conflicts) == ([mine.id], [], [])
        in_a, in_b = Scope(namespace="tenant-a"), Scope(namespace="tenant-b")
        assert store.get_logs([mine.id], in_a) == [mine]
        assert store.get_logs([mine.id], in_b) == [theirs]
        assert sorted(log.namespace for log in store.get_logs([mine.id])) == ["tenant-a", "tenant-b"]
        store.update_log(mine.model_copy(update={"feedback": [ReactionFeedback(value="dislike")]}))
        assert store.get_logs([mine.id], in_b) == [theirs]
        store.mark_processed([mine.id], namespace="tenant-a")
        assert [log.id for log in store.iter_logs(in_b, processed=False)] == [mine.id]
        assert store.count_logs(in_a, processed=True) == 1
        store.upsert_verdicts([make_verdict(1, mine), make_verdict(2, theirs)])
        assert [v.namespace for v in store.get_verdicts([mine.id], in_a)] == ["tenant-a"]
        rule_b = make_rule(2, theirs)
        store.upsert_rules([make_rule(1, mine), rule_b])
        assert store.delete_logs([mine.id], in_a) == [mine.id]
        assert store.get_logs([mine.id], in_b) == [theirs]
        assert [v.namespace for v in store.get_verdicts([mine.id])] == ["tenant-b"]
        assert store.rule_sources(rule_b.id) == [theirs.id]
        assert store.stats(in_b)["logs"] == 1

    def test_namespaces_are_isolated_on_every_read(self, store: RuleStore) -> None:
        """A namespace never sees another's records, through any read method.

        Troubleshooting: every read, including get-by-id, joins and counts, must filter on the namespace.
        """
        ids_a = populate(store, "tenant-a", "alice", n=1)
        ids_b = populate(store, "tenant-b", "alice", n=2)
        assert visible_ids(store, Scope(namespace="tenant-a")) == ids_a
        assert visible_ids(store, Scope(namespace="tenant-b")) == ids_b
        assert visible_ids(store, Scope(namespace="tenant-c")) == {name: set() for name in ids_a}
        scope_a = Scope(namespace="tenant-a")
        (log_b,) = ids_b["logs"]
        (rule_b,) = ids_b["rules"]
        (adapter_b,) = ids_b["adapters"]
        assert store.get_logs([log_b], scope_a) == []
        assert store.get_rules([rule_b], scope_a) == []
        assert store.get_adapters([adapter_b], scope_a) == []
        assert store.count_logs(scope_a) == 1
        assert store.log_ids_for_user("alice", namespace="tenant-a") == sorted(ids_a["logs"])
        assert store.delete_logs([log_b], scope_a) == []
        assert store.get_logs([log_b]) != []
        assert store.stats(scope_a)["logs"] == 1
        assert store.stats(scope_a)["rules_active"] == 1
        assert (store.stats(scope_a)["adapters"], store.stats(scope_a)["adapters_accepted"]) == (1, 1)

    def test_user_scope_on_logs(self, store: RuleStore) -> None:
        """A user scope shows that user's logs only, in every log read.

        Troubleshooting: apply ``Scope.user_id`` in get_logs, iter_logs, count_logs and delete_logs.
        """
        alice = [make_log(1, user_id="alice"), make_log(2, user_id="alice")]
        bob = make_log(3, user_id="bob")
        anonymous = make_log(4, user_id=None)
        store.add_logs([*alice, bob, anonymous])
        as_alice = Scope(namespace="tenant-a", user_id="alice")
        assert [log.id for log in store.iter_logs(as_alice)] == [log.id for log in alice]
        assert store.count_logs(as_alice) == 2
        assert store.get_logs([bob.id, anonymous.id], as_alice) == []
        assert store.log_ids_for_user("bob") == [bob.id]
        assert store.delete_logs([bob.id], as_alice) == []
        assert store.count_logs() == 4

    def test_user_scope_on_rules_follows_evidence(self, store: RuleStore) -> None:
        """With a user scope, rules are those with at least one piece of evidence from that user.

        Troubleshooting: keep the evidence's user in the provenance rows and join through them.
        """
        alice_log, bob_log = make_log(1, user_id="alice"), make_log(2, user_id="bob")
        store.add_logs([alice_log, bob_log])
        alice_rule, bob_rule = make_rule(1, alice_log), make_rule(2, bob_log)
        shared = make_rule(3, alice_log)
        shared = shared.model_copy(update={"evidence": [*alice_rule.evidence, *bob_rule.evidence]})
        store.upsert_rules([alice_rule, bob_rule, shared])
        as_bob = Scope(user_id="bob")
        assert {r.id for r in store.list_rules(as_bob)} == {bob_rule.id, shared.id}
        assert store.get_rules([alice_rule.id], as_bob) == []
        assert store.stats(as_bob)["rules_active"] == 2

    def test_user_scope_on_derived_records(self, store: RuleStore) -> None:
        """Experiences, pairs, hindsight, verdicts and adapters belong to the user of the logs they came from.

        Troubleshooting: join through the source log ids to the logs' user_id.
        """
        ids_alice = populate(store, "tenant-a", "alice", n=1)
        ids_bob = populate(store, "tenant-a", "bob", n=2)
        seen = visible_ids(store, Scope(namespace="tenant-a", user_id="bob"))
        for name in ("logs", "rules", "experiences", "preference_pairs", "hindsight", "verdicts", "adapters"):
            assert seen[name] == ids_bob[name], name
        # Clusters and quarantine have no user: a user sees their namespace's.
        assert seen["clusters"] == ids_alice["clusters"] | ids_bob["clusters"]

    # ----------------------------------------------------------------------------------------- provenance

    def test_provenance_is_kept_and_updated(self, store: RuleStore) -> None:
        """rule_sources and rule_ids_for_logs follow each rule's current evidence.

        Troubleshooting: rewrite a rule's provenance rows on every upsert (delete old rows first).
        """
        logs = [make_log(i) for i in range(3)]
        store.add_logs(logs)
        rule = make_rule(1, logs[0])
        second = make_rule(1, logs[1]).evidence[0]
        rule = rule.model_copy(update={"evidence": [*rule.evidence, second]})
        store.upsert_rules([rule])
        assert store.rule_sources(rule.id) == sorted([logs[0].id, logs[1].id])
        assert store.rule_ids_for_logs([logs[1].id]) == [rule.id]
        moved = rule.model_copy(update={"evidence": [make_rule(1, logs[2]).evidence[0]]})
        store.upsert_rules([moved])
        assert store.rule_sources(rule.id) == [logs[2].id]
        assert store.rule_ids_for_logs([logs[0].id, logs[1].id]) == []
        assert store.rule_ids_for_logs([logs[2].id, "missing"]) == [rule.id]
        store.delete_rules([rule.id])
        assert store.rule_sources(rule.id) == []
        assert store.rule_ids_for_logs([logs[2].id]) == []

    def test_delete_logs_drops_their_provenance_and_verdicts(self, store: RuleStore) -> None:
        """Deleting a log removes its provenance rows and verdict, returns what it deleted, keeps the rules.

        Troubleshooting: delete from the provenance and verdict tables by log id in the same transaction.
        """
        kept, gone = make_log(1), make_log(2)
        store.add_logs([kept, gone])
        rule = make_rule(1, kept)
        rule = rule.model_copy(update={"evidence": [*rule.evidence, make_rule(1, gone).evidence[0]]})
        store.upsert_rules([rule])
        store.upsert_verdicts([make_verdict(1, kept), make_verdict(2, gone)])
        assert store.delete_logs([gone.id, "missing", gone.id]) == [gone.id]
        assert store.get_logs([gone.id]) == []
        assert store.rule_sources(rule.id) == [kept.id]
        assert store.rule_ids_for_logs([gone.id]) == []
        assert [v.log_id for v in store.get_verdicts([kept.id, gone.id])] == [kept.id]
        assert [r.id for r in store.list_rules()] == [rule.id]

    # ----------------------------------------------------------------------------------------- logs

    def test_update_log_replaces_content_and_reopens_it(self, store: RuleStore) -> None:
        """Troubleshooting: ``update_log`` must keep the id, replace the body and clear the processed flag."""
        log = make_log(1)
        store.add_logs([log])
        store.mark_processed([log.id])
        more = [*log.feedback, ReactionFeedback(value="dislike")]
        updated = log.model_copy(update={"feedback": more})
        store.update_log(updated)
        (stored,) = store.get_logs([log.id])
        assert stored == updated
        assert [x.id for x in store.iter_logs(processed=False)] == [log.id]
        with pytest.raises(KeyError):
            store.update_log(make_log(2))
        with pytest.raises(KeyError):
            store.update_log(log.model_copy(update={"namespace": "tenant-b"}))

    def test_processed_flag_round_trip(self, store: RuleStore) -> None:
        """mark_processed sets and clears the flag that iter_logs and count_logs filter on.

        Troubleshooting: store the flag in its own column; new logs start unprocessed; ids not stored are
        ignored.
        """
        logs = [make_log(i) for i in range(4)]
        store.add_logs(logs)
        store.mark_processed([logs[1].id, logs[3].id, "missing"])
        assert [log.id for log in store.iter_logs(processed=True)] == [logs[1].id, logs[3].id]
        assert [log.id for log in store.iter_logs(processed=False)] == [logs[0].id, logs[2].id]
        assert store.count_logs(processed=True) == 2
        store.mark_processed([logs[1].id], processed=False)
        assert store.count_logs(processed=False) == 3
        assert store.stats()["logs_processed"] == 1

    def test_iter_logs_is_oldest_first(self, store: RuleStore) -> None:
        """iter_logs orders by the instant of the timestamp (whatever its offset), then by id.

        Troubleshooting: sort on a normalised (e.g. UTC) timestamp, not on the local-time text; page with a
        (timestamp, id) key rather than OFFSET so that writes during iteration do not skip logs.
        """
        base = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
        # 14:00+03:00 is 11:00 UTC: the earliest, although its local-time text sorts last.
        east = make_log(1).model_copy(update={"timestamp": base.astimezone(timezone(timedelta(hours=3)))})
        east = east.model_copy(update={"timestamp": east.timestamp - timedelta(hours=1)})
        tie_b = make_log(2).model_copy(update={"id": "log-b", "timestamp": base})
        tie_a = make_log(3).model_copy(update={"id": "log-a", "timestamp": base})
        later = make_log(4).model_copy(update={"timestamp": base + timedelta(microseconds=1)})
        store.add_logs([later, tie_b, east, tie_a])
        assert [log.id for log in store.iter_logs()] == [east.id, "log-a", "log-b", later.id]
        seen = []
        for log in store.iter_logs(processed=False):
            store.mark_processed([log.id])
            seen.append(log.id)
        assert len(seen) == 4
        assert store.count_logs(processed=False) == 0

    def test_iter_logs_streams_many_logs(self, store: RuleStore) -> None:
        """iter_logs returns every log of a large store exactly once, in order.

        Troubleshooting: page boundaries that skip or repeat logs sharing a timestamp.
        """
        logs = [
            make_log(i).model_copy(update={"id": f"log-{i:05d}", "timestamp": EPOCH + timedelta(seconds=i // 7)})
            for i in range(1_203)
        ]
        store.add_logs(reversed(logs))
        assert [log.id for log in store.iter_logs()] == [log.id for log in logs]

    # ----------------------------------------------------------------------------------------- rules

    def test_list_rules_filters_on_status_and_cluster(self, store: RuleStore) -> None:
        """list_rules filters on one status, several statuses, and a cluster.

        Troubleshooting: accept a single RuleStatus or a sequence of them.
        """
        log = make_log(1)
        active = make_rule(1, log, status=RuleStatus.ACTIVE, cluster_id="c1")
        candidate = make_rule(2, log, status=RuleStatus.CANDIDATE, cluster_id="c1")
        retired = make_rule(3, log, status=RuleStatus.RETIRED, cluster_id="c2")
        store.upsert_rules([active, candidate, retired])
        assert [r.id for r in store.list_rules(status=RuleStatus.ACTIVE)] == [active.id]
        both = store.list_rules(status=[RuleStatus.ACTIVE, RuleStatus.RETIRED])
        assert {r.id for r in both} == {active.id, retired.id}
        assert {r.id for r in store.list_rules(cluster_id="c1")} == {active.id, candidate.id}
        in_c1 = store.list_rules(status=RuleStatus.CANDIDATE, cluster_id="c1")
        assert [r.id for r in in_c1] == [candidate.id]
        assert store.list_rules(status=RuleStatus.SUPERSEDED) == []
        assert [r.id for r in store.get_rules([retired.id, "missing", active.id])] == [retired.id, active.id]

    # ----------------------------------------------------------------------------------------- adapters

    def test_list_adapters_filters_and_orders(self, store: RuleStore) -> None:
        """list_adapters filters on cluster, one or several statuses and kind, ordered by cluster, kind, version.

        Troubleshooting: accept a single AdapterStatus or a sequence of them; sort versions as numbers (10 after
        9), not as text.
        """
        log = make_log(1)
        c1_v10 = make_adapter(1, log, cluster_id="c1", version=10, status=AdapterStatus.CANDIDATE)
        c1_v9 = make_adapter(1, log, cluster_id="c1", version=9, status=AdapterStatus.SUPERSEDED)
        c1_critic = make_adapter(1, log, cluster_id="c1", kind=AdapterKind.CRITIC, status=AdapterStatus.ACCEPTED)
        c0_rejected = make_adapter(0, log, cluster_id="c0", status=AdapterStatus.REJECTED)
        store.upsert_adapters([c1_v10, c1_critic, c0_rejected, c1_v9])
        assert [a.id for a in store.list_adapters()] == [c0_rejected.id, c1_critic.id, c1_v9.id, c1_v10.id]
        assert [a.id for a in store.list_adapters(cluster_id="c1")] == [c1_critic.id, c1_v9.id, c1_v10.id]
        assert [a.id for a in store.list_adapters(status=AdapterStatus.ACCEPTED)] == [c1_critic.id]
        several = store.list_adapters(status=[AdapterStatus.CANDIDATE, AdapterStatus.REJECTED])
        assert [a.id for a in several] == [c0_rejected.id, c1_v10.id]
        assert [a.id for a in store.list_adapters(kind=AdapterKind.CRITIC)] == [c1_critic.id]
        experts_in_c1 = store.list_adapters(cluster_id="c1", kind=AdapterKind.EXPERT, status=AdapterStatus.CANDIDATE)
        assert [a.id for a in experts_in_c1] == [c1_v10.id]
        assert store.list_adapters(status=AdapterStatus.STALE) == []
        assert store.list_adapters(cluster_id="c2") == []

    def test_get_adapters_in_the_order_asked(self, store: RuleStore) -> None:
        """get_adapters returns each stored id once, in the order asked, within the scope.

        Troubleshooting: apply the namespace to get-by-id reads too; skip ids that are not stored.
        """
        log_a, log_b = make_log(1, namespace="tenant-a"), make_log(2, namespace="tenant-b")
        first, second, other = make_adapter(1, log_a), make_adapter(2, log_a), make_adapter(3, log_b)
        store.upsert_adapters([first, second, other])
        wanted = [second.id, "missing", first.id, second.id, other.id]
        assert [a.id for a in store.get_adapters(wanted)] == [second.id, first.id, other.id]
        assert [a.id for a in store.get_adapters(wanted, Scope(namespace="tenant-a"))] == [second.id, first.id]
        assert _exact(store.get_adapters([other.id])) == _exact([other])

    def test_adapter_sources_follow_each_upsert(self, store: RuleStore) -> None:
        """adapter_ids_for_logs follows each adapter's current source_log_ids; delete_adapters drops the links.

        Troubleshooting: replace an adapter's source rows on every upsert (delete its old rows first) and
        delete them with the adapter; sources may name logs the store never saw.
        """
        logs = [make_log(i) for i in range(3)]
        store.add_logs(logs)
        adapter = make_adapter(1, logs[0], sources=[logs[0], logs[1], logs[0]])
        other = make_adapter(2, logs[1])
        store.upsert_adapters([adapter, other])
        assert store.adapter_ids_for_logs([logs[0].id]) == [adapter.id]
        assert store.adapter_ids_for_logs([logs[1].id, "missing"]) == sorted([adapter.id, other.id])
        assert _exact(store.get_adapters([adapter.id])) == _exact([adapter])  # duplicate source kept as given
        retrained = adapter.model_copy(update={"source_log_ids": [logs[2].id, "log-never-stored"]})
        store.upsert_adapters([retrained])
        store.upsert_adapters([retrained])
        assert store.adapter_ids_for_logs([logs[0].id]) == []
        assert store.adapter_ids_for_logs([logs[1].id]) == [other.id]
        assert store.adapter_ids_for_logs([logs[2].id, "log-never-stored"]) == [adapter.id]
        store.delete_adapters([adapter.id])
        assert store.adapter_ids_for_logs([logs[2].id, "log-never-stored"]) == []
        assert [a.id for a in store.list_adapters()] == [other.id]

    def test_delete_logs_keeps_adapter_sources(self, store: RuleStore) -> None:
        """Forgetting a log keeps the links of the adapters trained on it: they are found to be marked stale.

        Troubleshooting: ``delete_logs`` must not delete from the adapter source table.
        """
        kept, forgotten = make_log(1), make_log(2)
        store.add_logs([kept, forgotten])
        adapter = make_adapter(1, kept, sources=[kept, forgotten])
        store.upsert_adapters([adapter])
        assert store.delete_logs([forgotten.id]) == [forgotten.id]
        assert store.adapter_ids_for_logs([forgotten.id]) == [adapter.id]
        assert _exact(store.list_adapters()) == _exact([adapter])

    def test_user_scope_on_adapters_follows_sources(self, store: RuleStore) -> None:
        """With a user scope, adapters are those trained on at least one of that user's (stored) logs.

        Troubleshooting: join the adapter's source links to the logs' user_id, in list, get and stats.
        """
        alice_log, bob_log = make_log(1, user_id="alice"), make_log(2, user_id="bob")
        store.add_logs([alice_log, bob_log])
        alice_only = make_adapter(1, alice_log)
        shared = make_adapter(2, alice_log, sources=[alice_log, bob_log])
        store.upsert_adapters([alice_only, shared])
        as_bob = Scope(namespace="tenant-a", user_id="bob")
        assert [a.id for a in store.list_adapters(as_bob)] == [shared.id]
        assert store.get_adapters([alice_only.id], as_bob) == []
        assert store.stats(as_bob)["adapters"] == 1
        assert {a.id for a in store.list_adapters(Scope(user_id="alice"))} == {alice_only.id, shared.id}
        assert store.list_adapters(Scope(user_id="carol")) == []

    def test_adapter_metrics_keep_non_finite_values(self, store: RuleStore) -> None:
        """A diverged run's metrics (NaN, infinities) read back as they were written, not as nulls or errors.

        Troubleshooting: store the body written by ``model_dump_json`` (Adapter writes NaN and Infinity).
        """
        diverged = make_adapter(1, make_log(1), status=AdapterStatus.REJECTED)
        diverged = diverged.model_copy(update={"metrics": {"train_loss": float("nan"), "grad_norm": float("inf")}})
        store.upsert_adapters([diverged])
        (stored,) = store.get_adapters([diverged.id])
        assert _exact([stored]) == _exact([diverged])
        assert stored.metrics["grad_norm"] == float("inf")
        assert stored.metrics["train_loss"] != stored.metrics["train_loss"]  # NaN

    def test_upsert_adapters_refuses_other_records(self, store: RuleStore) -> None:
        """Anything but an iterable of Adapter is refused with a TypeError naming the method; nothing lands.

        Troubleshooting: check each item's type before writing (a dict or a Rule must not be half-stored).
        """
        log = make_log(1)
        with pytest.raises(TypeError, match=r"upsert_adapters.*Adapter"):
            store.upsert_adapters([make_adapter(1, log), make_rule(1, log)])  # type: ignore[list-item]
        with pytest.raises(TypeError, match=r"upsert_adapters.*Adapter"):
            store.upsert_adapters([{"cluster_id": "c1", "base_model": "m"}])  # type: ignore[list-item]
        with pytest.raises(TypeError, match=r"upsert_adapters.*Adapter"):
            store.upsert_adapters(make_adapter(1, log))  # type: ignore[arg-type]
        assert store.list_adapters() == []
        assert store.adapter_ids_for_logs([log.id]) == []

    # ----------------------------------------------------------------------------------------- transactions

    def test_transaction_rollback_leaves_nothing(self, store: RuleStore) -> None:
        """An exception inside ``transaction()`` undoes every write in it, nested blocks included.

        Troubleshooting: write methods must join the caller's open transaction, not commit their own.
        """
        with pytest.raises(RuntimeError, match="abort"), store.transaction():
            populate(store, "tenant-a", "alice")
            with store.transaction():
                store.set_meta("k", "v")
                store.mark_processed([make_log(0).id])
            raise RuntimeError("abort")
        assert all(not ids for ids in visible_ids(store, ALL).values())
        assert store.get_meta("k") is None
        assert store.stats()["logs"] == 0

    def test_transaction_commits_all_writes(self, store: RuleStore) -> None:
        """Writes in a transaction, nested blocks included, are all there once it ends.

        Troubleshooting: a nested ``transaction()`` must not commit or end the outer one.
        """
        with store.transaction():
            ids = populate(store, "tenant-a", "alice")
            with store.transaction():
                store.set_meta("k", "v")
        assert visible_ids(store, ALL) == ids
        assert store.get_meta("k") == "v"

    def test_failed_batch_leaves_nothing(self, store: RuleStore) -> None:
        """A write whose input fails half-way lands nothing: a batch is atomic.

        Troubleshooting: run each write method in one transaction, and consume the iterable inside it.
        """
        logs = [make_log(i) for i in range(3)]

        def failing_logs() -> Iterator[LogRecord]:
            yield from logs
            raise ValueError("input broke")

        def failing_rules() -> Iterator[Rule]:
            yield make_rule(1, logs[0])
            raise ValueError("input broke")

        def failing_adapters() -> Iterator[Adapter]:
            yield make_adapter(1, logs[0])
            raise ValueError("input broke")

        with pytest.raises(ValueError, match="input broke"):
            store.add_logs(failing_logs())
        with pytest.raises(ValueError, match="input broke"):
            store.upsert_rules(failing_rules())
        with pytest.raises(ValueError, match="input broke"):
            store.upsert_adapters(failing_adapters())
        assert store.count_logs() == 0
        assert store.list_rules() == []
        assert store.rule_ids_for_logs([logs[0].id]) == []
        assert store.list_adapters() == []
        assert store.adapter_ids_for_logs([logs[0].id]) == []

    # ----------------------------------------------------------------------------------------- the rest

    def test_one_verdict_per_log(self, store: RuleStore) -> None:
        """A log's verdict is replaced on re-distillation; verdicts are found by log and filtered by kind.

        Troubleshooting: key verdicts on log_id; ``list_verdicts(verdict=...)`` takes the Verdict's value.
        """
        first, second = make_log(1), make_log(2)
        store.upsert_verdicts([make_verdict(1, first), make_verdict(2, second, verdict=Verdict.SATISFIED)])
        replaced = make_verdict(1, first, verdict=Verdict.ADVERSARIAL)
        store.upsert_verdicts([replaced])
        assert _exact(store.get_verdicts([first.id, "missing"])) == _exact([replaced])
        assert [v.log_id for v in store.list_verdicts(verdict="satisfied")] == [second.id]
        assert [v.log_id for v in store.list_verdicts(verdict=Verdict.ACTIONABLE)] == []
        assert store.stats()["verdicts_adversarial"] == 1

    def test_quarantine_listing(self, store: RuleStore) -> None:
        """Quarantined inputs are listed per namespace and per source; re-adding one does not duplicate it.

        Troubleshooting: key quarantine on its id (derived from source, line and raw text).
        """
        log_a, log_b = make_log(1, namespace="tenant-a"), make_log(1, namespace="tenant-b")
        first = make_quarantine(1, log_a)
        second = make_quarantine(2, log_a, origin="other.jsonl")
        elsewhere = make_quarantine(3, log_b)
        store.add_quarantine([first, second, elsewhere])
        store.add_quarantine([first])
        in_a = Scope(namespace="tenant-a")
        assert {q.id for q in store.list_quarantine(in_a)} == {first.id, second.id}
        assert _exact(store.list_quarantine(in_a, source="logs.jsonl")) == _exact([first])
        assert len(store.list_quarantine()) == 3
        assert store.stats(in_a)["quarantine"] == 2

    def test_meta_round_trip(self, store: RuleStore) -> None:
        """get_meta returns None for an unknown key and the last value set otherwise.

        Troubleshooting: make set_meta an upsert on the key.
        """
        assert store.get_meta("embedder") is None
        store.set_meta("embedder", "all-MiniLM-L6-v2")
        store.set_meta("embedder", "all-MiniLM-L12-v2")
        store.set_meta("empty", "")
        assert store.get_meta("embedder") == "all-MiniLM-L12-v2"
        assert store.get_meta("empty") == ""

    def test_stats_counts(self, store: RuleStore) -> None:
        """stats counts each table in scope, rules and adapters per status, verdicts per verdict.

        Troubleshooting: count with the same scope conditions the list methods use.
        """
        logs = [make_log(i) for i in range(3)]
        store.add_logs(logs)
        store.mark_processed([logs[0].id])
        store.upsert_rules([make_rule(1, logs[0]), make_rule(2, logs[1], status=RuleStatus.CANDIDATE)])
        store.upsert_experiences([make_experience(1, logs[0])])
        store.upsert_preference_pairs([make_preference_pair(1, logs[0]), make_preference_pair(2, logs[1])])
        store.upsert_hindsight([make_hindsight(1, logs[2])])
        store.upsert_clusters([make_cluster(1, logs[0])])
        store.upsert_verdicts([make_verdict(0, logs[0]), make_verdict(1, logs[1], verdict=Verdict.OFF_TOPIC)])
        store.add_quarantine([make_quarantine(1, logs[0])])
        store.upsert_adapters(
            [
                make_adapter(1, logs[0]),
                make_adapter(1, logs[0], version=2, status=AdapterStatus.CANDIDATE),
                make_adapter(2, logs[1], status=AdapterStatus.STALE),
            ]
        )
        stats = store.stats()
        expected = {
            "logs": 3,
            "logs_processed": 1,
            "rules_active": 1,
            "rules_candidate": 1,
            "rules_retired": 0,
            "experiences": 1,
            "preference_pairs": 2,
            "hindsight": 1,
            "clusters": 1,
            "quarantine": 1,
            "verdicts_actionable": 1,
            "verdicts_off_topic": 1,
            "verdicts_satisfied": 0,
            "adapters": 3,
            "adapters_accepted": 1,
            "adapters_candidate": 1,
            "adapters_stale": 1,
            "adapters_rejected": 0,
            "adapters_superseded": 0,
        }
        assert {key: stats[key] for key in expected} == expected
        assert store.stats(Scope(namespace="tenant-b"))["logs"] == 0

    # ----------------------------------------------------------------------------------------- rule history

    def test_rule_history_round_trip_in_write_order(self, store: RuleStore) -> None:
        """History entries read back exactly, in the order written, each once; other rules' entries stay apart.

        Troubleshooting: order by an insertion sequence, not by id or time (two entries may share a timestamp);
        skip an entry whose id is stored already.
        """
        log = make_log(1)
        store.add_logs([log])
        rule = make_rule(1, log)
        edited = rule.model_copy(update={"do": "answer in two lines", "edited": True})
        before, after = rule_diff(rule, edited)
        changes = [
            RuleChange(
                rule_id=rule.id,
                namespace=log.namespace,
                action=RuleChangeAction.CREATED,
                actor="build",
                at=EPOCH,
                after=rule_diff(None, rule)[1],
            ),
            RuleChange(
                rule_id=rule.id,
                namespace=log.namespace,
                action=RuleChangeAction.EDITED,
                actor="user",
                at=EPOCH,
                before=before,
                after=after,
                note="clearer",
            ),
            RuleChange(
                rule_id=rule.id,
                namespace=log.namespace,
                action=RuleChangeAction.PINNED,
                actor="api:ab12",
                at=EPOCH - timedelta(days=1),
            ),
        ]
        other = RuleChange(rule_id="rule-other", namespace=log.namespace, action=RuleChangeAction.CREATED, actor="user")
        store.upsert_rules([rule])
        store.add_rule_changes([changes[0], other])
        store.add_rule_changes(changes[1:])
        store.add_rule_changes([changes[1]])
        assert _exact(store.rule_history(rule.id)) == _exact(changes)
        assert before == {"do": rule.do, "edited": False} and after == {"do": "answer in two lines", "edited": True}
        assert store.rule_history(rule.id, Scope(namespace="tenant-b")) == []
        assert [c.action for c in store.rule_history(rule.id, Scope(user_id="alice"))] == [c.action for c in changes]
        assert store.rule_history(rule.id, Scope(user_id="bob")) == []
        assert store.rule_history("rule-missing") == []

    def test_delete_rules_removes_their_history(self, store: RuleStore) -> None:
        """A hard delete takes the rule's history with it; an entry written afterwards (the deletion) stays.

        Troubleshooting: ``delete_rules`` must delete the rule's history rows in the same transaction.
        """
        log = make_log(1)
        store.add_logs([log])
        kept, gone = make_rule(1, log), make_rule(2, log)
        store.upsert_rules([kept, gone])
        store.add_rule_changes(
            RuleChange(rule_id=r.id, namespace=r.namespace, action=RuleChangeAction.CREATED, actor="build")
            for r in (kept, gone)
        )
        store.delete_rules([gone.id])
        assert store.rule_history(gone.id) == []
        assert len(store.rule_history(kept.id)) == 1
        tombstone = RuleChange(rule_id=gone.id, namespace=gone.namespace, action=RuleChangeAction.DELETED, actor="user")
        store.add_rule_changes([tombstone])
        assert store.rule_history(gone.id) == [tombstone]
        store.delete_rule_history([kept.id, "rule-missing"])
        assert store.rule_history(kept.id) == [] and store.get_rules([kept.id]) == [kept]

    def test_rule_flags_round_trip(self, store: RuleStore) -> None:
        """A manual, pinned, edited rule with no evidence reads back exactly.

        Troubleshooting: store the whole record (its new boolean fields too), and accept rules without evidence.
        """
        rule = Rule(
            namespace="tenant-a",
            when="the user asks for a recipe",
            do="list the ingredients first",
            manual=True,
            pinned=True,
            edited=True,
            status=RuleStatus.ACTIVE,
            confidence=1.0,
        )
        store.upsert_rules([rule])
        assert _exact(store.get_rules([rule.id])) == _exact([rule])
        assert store.rule_sources(rule.id) == []
        assert rule.held

    # ----------------------------------------------------------------------------------------- build leases

    def test_build_lease_is_exclusive_while_held(self, store: RuleStore) -> None:
        """A second holder is refused at once, with a message naming the lease and who holds it.

        Troubleshooting: ``build_lease`` must not be re-entrant (PostgreSQL advisory locks and filelock objects
        are, per session or per object: take each lease on its own connection or lock object) and must not wait.
        """
        with (
            store.build_lease("build:tenant-a"),
            pytest.raises(LeaseHeld) as refused,
            store.build_lease("build:tenant-a"),
        ):
            pytest.fail("a held lease was granted a second time")
        assert refused.value.name == "build:tenant-a"
        assert refused.value.holder
        assert str(refused.value).startswith("another build holds the lease 'build:tenant-a' (")

    def test_build_lease_is_reusable_after_release(self, store: RuleStore) -> None:
        """Released leases, also by a block that raised, can be taken again; other names are independent.

        Troubleshooting: release the lease in a ``finally`` (or the context manager's ``__exit__``) and key it
        by its whole name.
        """
        with store.build_lease("build:tenant-a"), store.build_lease("build:tenant-b"):
            pass
        with pytest.raises(KeyError), store.build_lease("build:tenant-a"):
            raise KeyError("the build failed")
        with store.build_lease("build:tenant-a"), pytest.raises(LeaseHeld), store.build_lease("build:tenant-a"):
            pass
        with store.build_lease("build:tenant-a"):
            pass

    def test_build_lease_holds_across_handles(self, store: RuleStore, second_handle: RuleStore | None) -> None:
        """A lease held through one handle is refused through another one on the same data, until released.

        Troubleshooting: the lease must live where every process sharing the store sees it (a lock file beside
        the database, a database-side lock), not in the handle's memory.
        """
        if second_handle is None:
            pytest.skip(f"{type(self).__name__} has no second handle on one store (override `second_handle`)")
        with store.build_lease("build:tenant-a"):
            refused = pytest.raises(LeaseHeld, match="another build holds the lease 'build:tenant-a'")
            with refused, second_handle.build_lease("build:tenant-a"):
                pass
            with second_handle.build_lease("build:tenant-b"):
                pass
        with second_handle.build_lease("build:tenant-a"):
            pass
