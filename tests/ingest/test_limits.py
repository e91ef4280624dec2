"""Bounded, checked input: every entry point refuses what is over ``InputLimits`` or not valid text, naming the
record and the reason, and keeps every valid record given with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rule_store.protocol import Scope
from rule_store.records import FollowupFeedback, LogRecord, Message
from rule_store.sqlite import SQLiteRuleStore
from uno import InputLimits, UnoMemory
from uno.embed import HashingEmbedder
from uno.ingest import InvalidRecord, check_log, ingest_file, ingest_records
from uno.ingest.limits import check_raw_record

SMALL = InputLimits(max_text_chars=100, max_messages=4, max_feedback_events=2, max_metadata_bytes=200)


def plain(query: str, **extra: Any) -> dict[str, Any]:
    return {"query": query, "response": "an answer", **extra}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> SQLiteRuleStore:
    with SQLiteRuleStore(tmp_path / "store" / "uno.sqlite") as opened:
        yield opened  # type: ignore[misc]


@pytest.fixture
def memory(tmp_path: Path) -> UnoMemory:
    with UnoMemory(tmp_path / "memory", embedder=HashingEmbedder(64), limits=SMALL) as opened:
        yield opened  # type: ignore[misc]


# --------------------------------------------------------------------------------------------- the checks


def test_each_limit_names_the_field_and_the_limit() -> None:
    log = LogRecord(
        id="x" * 201,
        messages=[Message(role="user", content="q" * 101), Message(role="assistant", content="a")],
        feedback=[FollowupFeedback(text="f" * 150)] * 3,
        metadata={"blob": "m" * 300},
    )
    with pytest.raises(InvalidRecord) as raised:
        check_log(log, SMALL)
    reasons = {problem.field: problem.message for problem in raised.value.problems}
    assert reasons == {
        "id": "is 201 characters, over the limit of 200",
        "messages[0].content": "is 101 characters, over the limit of 100",
        "feedback": "has 3 events, over the limit of 2",
        "metadata": "is over the limit of 200 bytes as JSON",
    }
    turns = [Message(role="user", content="q"), Message(role="assistant", content="a")] * 3
    with pytest.raises(InvalidRecord, match=r"`messages`: has 6 messages, over the limit of 4"):
        check_log(LogRecord(messages=turns), SMALL)


def test_deep_nesting_and_lone_surrogates_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidRecord, match=r"`metadata`: is nested more than 20 levels deep"):
        check_raw_record(plain("q", metadata=nested(500)))
    check_raw_record(plain("q", metadata=nested(16)))
    with pytest.raises(InvalidRecord, match=r"`feedback\[0\].text`: holds a lone surrogate \(U\+D800 at character 2\)"):
        check_raw_record(plain("q", feedback=[{"kind": "followup", "text": "ab\ud800"}]))


# --------------------------------------------------------------------------------------------- file ingest


def test_a_bad_line_of_any_kind_is_quarantined_with_its_reason_and_the_valid_lines_are_kept(
    store: SQLiteRuleStore, tmp_path: Path
) -> None:
    lines = [
        json.dumps(plain("first")),
        '{"query": "big", "response": "r", "metadata": {"n": ' + "9" * 5000 + "}}",  # over Python's int limit
        json.dumps(plain("long", feedback=["x" * 101])),
        json.dumps(plain("deep", metadata=nested(40))),
        '{"query": "odd \\ud800", "response": "r"}',
        json.dumps(plain("y" * 9000)),  # over the line limit below
        json.dumps(plain("last")),
    ]
    limits = SMALL.model_copy(update={"max_record_bytes": 8192})
    report = ingest_file(write_lines(tmp_path / "mixed.jsonl", lines), store, progress=False, limits=limits)
    assert (report.inserted, report.quarantined) == (2, 5)
    reasons = dict(report.errors)
    assert "Exceeds the limit (4300 digits)" in reasons[2]
    assert reasons[3] == "`feedback[0].text`: is 101 characters, over the limit of 100"
    assert reasons[4] == "`metadata`: is nested more than 20 levels deep"
    assert "lone surrogate" in reasons[5]
    assert reasons[6] == "line is 9,039 bytes, over the limit of 8,192 bytes per record"
    assert sorted(log.query for log in store.iter_logs()) == ["first", "last"]
    assert {q.line: q.reason for q in store.list_quarantine()} == reasons


def test_a_two_megabyte_follow_up_in_a_file_is_quarantined_not_distilled(
    store: SQLiteRuleStore, tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "huge.jsonl", [json.dumps(plain("q", feedback=["z" * 2_000_000])), json.dumps(plain("ok"))]
    )
    report = ingest_file(path, store, progress=False)
    assert report.errors == [(1, "`feedback[0].text`: is 2,000,000 characters, over the limit of 65,536")]
    assert [log.query for log in store.iter_logs()] == ["ok"]
    assert len(store.list_quarantine()[0].raw.encode()) <= 10 * 1024, "the quarantine keeps a bounded excerpt"


def test_a_file_whose_format_changes_after_the_first_line_says_so(store: SQLiteRuleStore, tmp_path: Path) -> None:
    openai = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path = write_lines(tmp_path / "flip.jsonl", [json.dumps(openai), json.dumps(plain("q2")), json.dumps({"what": 1})])
    report = ingest_file(path, store, progress=False)
    reasons = dict(report.errors)
    assert reasons[2] == (
        "the record is in the plain format but the file is openai (told from line 1): a file holds one format; "
        "split it, or ingest with format= named"
    )
    assert "missing field `messages`" in reasons[3], "a record naming no format is read as the file's"
    assert report.inserted == 1


def test_ingest_records_quarantines_unserialisable_records_instead_of_failing(store: SQLiteRuleStore) -> None:
    report = ingest_records([plain("q", metadata=nested(2000)), plain("fine")], store)
    assert report.inserted == 1 and report.errors[0][0] == 1
    assert "nested more than" in report.errors[0][1]


# --------------------------------------------------------------------------------------------- the Python API


def test_add_refuses_what_is_not_a_log_with_a_type_error_naming_what_is_expected(memory: UnoMemory) -> None:
    with pytest.raises(TypeError, match=r"add expects a LogRecord or a dict .* got NoneType"):
        memory.add(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got str \(to log a conversation, use log_exchange"):
        memory.add("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"add_many expects an iterable of logs, got a single dict"):
        memory.add_many(plain("q"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match=r"`messages\[0\].content`: is 101 characters"):
        memory.add(plain("q" * 101))


def test_add_many_keeps_the_valid_records_and_names_each_rejected_one(memory: UnoMemory) -> None:
    memory.add(plain("taken", id="t1"))
    outcome = memory.add_many(
        [
            plain("one"),
            None,  # type: ignore[list-item]
            plain("q" * 101, id="too-long"),
            plain("other content", id="t1"),
            plain("two"),
        ]
    )
    assert [(r.position, r.log_id) for r in outcome.rejected] == [(1, None), (2, "too-long"), (3, "t1")]
    assert "NoneType" in outcome.rejected[0].reason
    assert "over the limit of 100" in outcome.rejected[1].reason
    assert "already stored" in outcome.rejected[2].reason and "different conversation" in outcome.rejected[2].reason
    assert len(outcome.inserted) == 2 and outcome.ids == outcome.inserted
    assert sorted(log.query for log in memory.store.iter_logs()) == ["one", "taken", "two"]
    with pytest.raises(ValueError, match=r"'t1' is already stored .* with a different conversation"):
        memory.add(plain("yet another", id="t1"))


def test_log_exchange_and_feedback_are_bounded(memory: UnoMemory) -> None:
    with pytest.raises(InvalidRecord, match=r"`messages\[0\].content`: holds a lone surrogate"):
        memory.log_exchange([{"role": "user", "content": "hi \ud800"}], "hello")
    with pytest.raises(InvalidRecord, match=r"`metadata`: is nested more than 16 levels deep"):
        memory.log_exchange([{"role": "user", "content": "hi"}], "hello", metadata=nested(30))
    log_id = memory.log_exchange([{"role": "user", "content": "hi"}], "hello")
    with pytest.raises(InvalidRecord, match=r"`text`: is 2,000,000 characters, over the limit of 100"):
        memory.feedback(log_id, {"kind": "followup", "text": "x" * 2_000_000})
    memory.feedback(log_id, {"kind": "reaction", "value": "like"})
    memory.feedback(log_id, {"kind": "reaction", "value": "dislike"})
    with pytest.raises(InvalidRecord, match=r"`feedback`: has 3 events, over the limit of 2"):
        memory.feedback(log_id, {"kind": "rating", "value": 1})
    with pytest.raises(TypeError, match="feedback expects a Feedback record or a dict, got str"):
        memory.feedback(log_id, "too long")  # type: ignore[arg-type]
    (stored,) = memory.store.get_logs([log_id], Scope(namespace=memory.namespace))
    assert [event.kind for event in stored.feedback] == ["reaction", "reaction"]
