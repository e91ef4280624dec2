"""Support that cannot be faked cheaply: anonymous logs are one source together, one API key that is not trusted with
user ids is one source, and with ``min_vouched_identities`` a shared rule needs that many vouched identities.

Real SQLite and FAISS with the hashing embedder; the gate functions are checked directly as well.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rule_store.records import Evidence, FeedbackKind, LogRecord, Rule, RuleStatus
from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.embed import HashingEmbedder
from uno.gap import GateConfig, evidence_source, independent_sources, is_shared, may_teach_others

ROASTS = [
    "How long should I roast a chicken?",
    "How long should I roast a duck?",
    "How long to roast pork?",
    "How long should I roast a turkey?",
    "How long should I roast beef?",
    "How long should I roast a leg of lamb?",
]
ANSWER = "Great question! Roasting times depend on many things. Preheat the oven and season the meat well. " * 6
NEW_QUERY = "How long should I roast a goose?"


def memory(path: Path, gate: GateConfig | None = None) -> UnoMemory:
    return UnoMemory(
        path,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
        gate=gate,
    )


def log(n: int, user: str | None, verified: str | None = None) -> LogRecord:
    fields: dict[str, Any] = {
        "user_id": user,
        "verified_id": verified,
        "messages": [{"role": "user", "content": ROASTS[n % len(ROASTS)]}, {"role": "assistant", "content": ANSWER}],
        "feedback": [{"kind": "followup", "text": "too long, keep it short"}],
    }
    return LogRecord.model_validate(fields)


def rule_from(*sources: tuple[str | None, str | None]) -> Rule:
    evidence = [
        Evidence(log_id=f"log-{n}", kind=FeedbackKind.FOLLOWUP, user_id=user, verified_id=verified, weight=0.6)
        for n, (user, verified) in enumerate(sources)
    ]
    return Rule(when="the user asks", do="Keep the answer short.", aspect="length:short", evidence=evidence)


def test_anonymous_logs_are_one_source_and_never_shared() -> None:
    rule = rule_from((None, None), (None, None), (None, None))
    assert set(independent_sources(rule)) == {"anonymous"}
    assert not is_shared(rule, GateConfig())
    assert not may_teach_others(None, None, GateConfig())


def test_one_key_is_one_source_however_many_user_ids_it_sends() -> None:
    rule = rule_from(*((f"u{n}", "key:abc") for n in range(10)))
    assert {evidence_source(e) for e in rule.evidence} == {"verified:key:abc"}
    assert not is_shared(rule, GateConfig())
    vouched = rule_from(*((f"u{n}", f"key:abc/user:u{n}") for n in range(2)))
    assert is_shared(vouched, GateConfig())


def test_by_default_the_python_api_counts_user_ids_as_given() -> None:
    assert is_shared(rule_from(("u1", None), ("u2", None)), GateConfig())
    assert not is_shared(rule_from(("u1", None), ("u2", None)), GateConfig(min_vouched_identities=1))


def test_two_anonymous_logs_never_make_a_shared_active_rule(tmp_path: Path) -> None:
    mem = memory(tmp_path / "s")
    mem.add_many([log(0, None), log(1, None), log(2, None), log(3, None)])
    mem.build()
    assert not [r for r in mem.rules(status=RuleStatus.ACTIVE) if is_shared(r, mem.gate)]
    assert mem.augment(NEW_QUERY, user_id="someone").rules == []


def test_n_logs_from_one_unverified_key_make_no_shared_rule(tmp_path: Path) -> None:
    mem = memory(tmp_path / "s")
    mem.add_many([log(n, f"client-user-{n}", "key:0123456789abcdef") for n in range(6)])
    mem.build()
    assert not [r for r in mem.rules(status=RuleStatus.ACTIVE) if is_shared(r, mem.gate)]
    assert mem.augment(NEW_QUERY, user_id="someone").rules == []
    assert mem.augment(NEW_QUERY).rules == []


def test_k_vouched_identities_make_a_shared_rule_and_fewer_do_not(tmp_path: Path) -> None:
    gate = GateConfig(min_vouched_identities=3)
    few = memory(tmp_path / "few", gate)
    # Five users, but the host app vouches for only two of them.
    few.add_many([log(n, f"u{n}", f"sso:u{n}" if n < 2 else None) for n in range(5)])
    few.build()
    assert few.augment(NEW_QUERY, user_id="someone").rules == []
    assert [r.aspect for r in few.augment(NEW_QUERY, user_id="u0").rules] == ["length:short"]

    enough = memory(tmp_path / "enough", gate)
    enough.add_many([log(n, f"u{n}", f"sso:u{n}") for n in range(3)])
    enough.build()
    assert [r.aspect for r in enough.augment(NEW_QUERY, user_id="someone").rules] == ["length:short"]


def test_log_exchange_records_the_identity_the_host_app_vouches_for(tmp_path: Path) -> None:
    mem = memory(tmp_path / "s")
    log_id = mem.log_exchange([{"role": "user", "content": "Hi?"}], "Hello.", user_id="u1", verified_id="sso:u1")
    [stored] = mem.store.get_logs([log_id])
    assert stored.verified_id == "sso:u1"
