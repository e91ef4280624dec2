"""Property-based fuzzing of every importer and of ``add``/``add_many``: whatever a batch holds, its valid records
are all kept, and each refused one is named (line or position) with a reason. Nothing else escapes.

Examples are few and derived deterministically (``derandomize``), so the run is the same on every machine and
cheap on CI's two cores.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rule_store.protocol import Scope
from rule_store.records import LogRecord
from rule_store.sqlite import MEMORY, SQLiteRuleStore
from uno import InputLimits, UnoMemory
from uno.embed import HashingEmbedder
from uno.ingest import Format, FormatDetectionError, InvalidRecord, ingest_file, ingest_records, parse_record

FUZZ = settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
LIMITS = InputLimits(max_text_chars=300, max_metadata_depth=6, max_metadata_bytes=2_000)

# Text of every kind (hypothesis leaves out lone surrogates: they are added as a mutation below).
text = st.text(min_size=1, max_size=40).filter(str.strip)
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
# Numbers at the edges of what parsers convert (32/64-bit ints, dates' range, floats' range), rarely drawn otherwise.
boundary_number = st.sampled_from([-1, 2**31, 2**53 + 1, 2**63, 10**20, 1e308, -1e308, 5e-324])
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
feedback_item = st.one_of(
    text.map(lambda t: {"kind": "followup", "text": t}),
    text.map(lambda t: {"kind": "edit", "text": t}),
    st.sampled_from(["like", "love", "dislike", "copy", "thumbs_up"]).map(lambda v: {"kind": "reaction", "value": v}),
    st.integers(1, 5).map(lambda v: {"kind": "rating", "value": v}),
)


# --------------------------------------------------------------------------------------------- valid records
# Each valid record carries its index in its first user turn, so that no two valid records of a batch are the
# same log: every one of them must be inserted.


def valid_plain(n: int, draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {"query": f"{n}: {draw(text)}", "response": draw(text)}
    if draw(st.booleans()):
        record["feedback"] = draw(st.lists(feedback_item, max_size=3))
    if draw(st.booleans()):
        record["metadata"] = draw(st.dictionaries(st.text(max_size=8), json_leaf, max_size=3))
    return record


def valid_openai(n: int, draw: st.DrawFn) -> dict[str, Any]:
    messages = [{"role": "user", "content": f"{n}: {draw(text)}"}, {"role": "assistant", "content": draw(text)}]
    if draw(st.booleans()):
        messages.insert(0, {"role": "system", "content": draw(text)})
    return {"messages": messages, "feedback": draw(st.lists(feedback_item, max_size=2))}


def valid_memorybench(n: int, draw: st.DrawFn) -> dict[str, Any]:
    dialog = [{"role": "user", "content": f"{n}: {draw(text)}"}, {"role": "assistant", "content": draw(text)}]
    return {"test_idx": n, "dataset_name": "fuzz", "dialog": json.dumps(dialog), "implicit_feedback": []}


def valid_openwebui(n: int, draw: st.DrawFn) -> dict[str, Any]:
    """A rated answer with the chat snapshot: a message tree, maybe a regenerated sibling and a continuation."""
    tree = {
        "q1": {"id": "q1", "parentId": None, "role": "user", "content": f"{n}: {draw(text)}"},
        "a1": {"id": "a1", "parentId": "q1", "role": "assistant", "content": draw(text)},
    }
    if draw(st.booleans()):
        tree["a1b"] = {"id": "a1b", "parentId": "q1", "role": "assistant", "content": draw(text)}
    if draw(st.booleans()):
        tree["q2"] = {"id": "q2", "parentId": "a1", "role": "user", "content": draw(text)}
        tree["a2"] = {"id": "a2", "parentId": "q2", "role": "assistant", "content": draw(text)}
    body = {"title": draw(text), "history": {"messages": tree, "currentId": draw(st.sampled_from(sorted(tree)))}}
    # Open WebUI's snapshot nests the chat row's ``chat`` under ``chat``; the flat shape is read too.
    chat = {"id": f"chat-{n}", "chat": body} if draw(st.booleans()) else body
    data: dict[str, Any] = {"rating": draw(st.sampled_from([1, -1, 0, "1", "-1"]))}
    if draw(st.booleans()):
        data["details"] = {"rating": draw(st.integers(1, 10))}
    if draw(st.booleans()):
        data["comment"] = draw(text | st.just(""))
    if draw(st.booleans()):
        data |= {"reason": draw(text), "tags": draw(st.lists(text, max_size=2))}
    return {
        "id": f"fb-{n}",
        "user_id": draw(st.none() | st.sampled_from(["u-anna", "u-ben"])),
        "type": "rating",
        "data": data,
        "meta": {"message_id": "a1", "chat_id": f"chat-{n}"},
        "snapshot": {"chat": chat},
        "created_at": draw(st.integers(0, 2_000_000_000)),
    }


_langfuse_score = st.one_of(
    st.sampled_from([0, 1]).map(
        lambda v: {"name": "user-feedback", "source": "API", "dataType": "NUMERIC", "value": v}
    ),
    st.sampled_from(["thumbs_up", "thumbs_down", "love", "meh"]).map(
        lambda v: {"name": "thumbs", "source": "API", "dataType": "CATEGORICAL", "stringValue": v}
    ),
    st.floats(allow_nan=False).map(lambda v: {"name": "quality", "source": "EVAL", "dataType": "NUMERIC", "value": v}),
    st.just("sc-id-only"),
)


def valid_langfuse(n: int, draw: st.DrawFn) -> dict[str, Any]:
    """A trace whose prompt is a string, chat messages or an object holding them, or only in a generation."""
    query, answer = f"{n}: {draw(text)}", draw(text)
    question: list[dict[str, Any]] = [{"role": "user", "content": query}]
    if draw(st.booleans()):
        question.insert(0, {"role": "system", "content": draw(text)})
    prompt = draw(st.sampled_from([query, question, {"messages": question}, {"query": query}]))
    reply = draw(
        st.sampled_from(
            [answer, {"role": "assistant", "content": answer}, {"choices": [{"message": {"content": answer}}]}]
        )
    )
    trace: dict[str, Any] = {"id": f"tr-{n}", "input": prompt, "output": reply, "observations": []}
    if draw(st.booleans()):  # no text on the trace itself: the generation observation has the conversation
        generation = {"id": f"ob-{n}", "type": "GENERATION", "input": prompt, "output": reply}
        trace |= {"input": None, "output": None, "observations": [generation]}
    scores: list[Any] = draw(st.lists(_langfuse_score, max_size=3))
    if scores and isinstance(scores[0], dict) and draw(st.booleans()):
        scores[0] = {**scores[0], "comment": draw(text)}
    if draw(st.booleans()):
        trace |= {"userId": "u-dora", "timestamp": "2025-02-03T10:00:00.000Z", "tags": draw(st.lists(text, max_size=2))}
    return trace | {"scores": scores}


VALID: dict[Format, Callable[[int, st.DrawFn], dict[str, Any]]] = {
    Format.PLAIN: valid_plain,
    Format.OPENAI: valid_openai,
    Format.MEMORYBENCH: valid_memorybench,
    Format.OPENWEBUI: valid_openwebui,
    Format.LANGFUSE: valid_langfuse,
}

# --------------------------------------------------------------------------------------------- invalid records
# Mutations that make a valid record invalid in every format (so the property does not depend on detection).


def _is_openwebui(record: dict[str, Any]) -> bool:
    return "snapshot" in record


def _is_langfuse(record: dict[str, Any]) -> bool:
    return "observations" in record


def _drop_answer(record: dict[str, Any]) -> object:
    if "response" in record:
        return {k: v for k, v in record.items() if k != "response"}
    if "messages" in record:
        return {**record, "messages": [m for m in record["messages"] if m["role"] != "assistant"]}
    if _is_openwebui(record):  # the rated answer is gone from the snapshot
        return {**record, "snapshot": {"chat": {"history": {"messages": {}}}}}
    if _is_langfuse(record):
        return {**record, "output": None, "observations": []}
    return {**record, "dialog": "[]"}


def _with_followup(record: dict[str, Any], followup: str) -> object:
    if "test_idx" in record:  # MemoryBench keeps unknown columns as metadata: the follow-up goes in the dialog
        dialog = [*json.loads(record["dialog"]), {"role": "user", "content": followup}]
        return {**record, "dialog": json.dumps(dialog)}
    if _is_openwebui(record):  # the rating's comment is the follow-up
        return {**record, "data": {**record["data"], "comment": followup}}
    if _is_langfuse(record):  # a user feedback score's comment is the follow-up
        score = {"name": "user-feedback", "source": "API", "value": 1, "comment": followup}
        return {**record, "scores": [*record["scores"], score]}
    return {**record, "feedback": [{"kind": "followup", "text": followup}]}


def _oversized(record: dict[str, Any]) -> object:
    return _with_followup(record, "x" * (LIMITS.max_text_chars + 1))


def _deep_metadata(record: dict[str, Any]) -> object:
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(40):
        deep = {"k": deep}
    if _is_openwebui(record):  # Open WebUI has no free metadata: the annotation's details are the nearest
        return {**record, "data": {**record["data"], "details": deep}}
    key = "info" if "test_idx" in record else "metadata"  # Langfuse traces carry `metadata` too
    return {**record, key: deep}


def _lone_surrogate(record: dict[str, Any]) -> object:
    return _with_followup(record, "bad \ud800 text")


def _bad_feedback(record: dict[str, Any]) -> object:
    if "test_idx" in record:
        return {**record, "implicit_feedback": [{"round": 7, "implicit_action": "like"}]}
    if _is_openwebui(record):  # thumbs are 1 or -1, the slider 1-10
        bad = {"details": {"rating": 11}} if "details" in record["data"] else {"rating": "5"}
        return {**record, "data": {**record["data"], **bad}}
    if _is_langfuse(record):
        return {**record, "scores": [{"name": "user-feedback", "source": "API", "value": "high"}]}
    return {**record, "feedback": [{"kind": "applause"}]}


MUTATIONS: list[Callable[[dict[str, Any]], object]] = [
    _drop_answer,
    _oversized,
    _deep_metadata,
    _lone_surrogate,
    _bad_feedback,
    lambda _record: None,
    lambda _record: ["not", "an", "object"],
    lambda record: json.dumps(record),  # a record encoded twice: a string, not an object
]


@st.composite
def batches(draw: st.DrawFn, fmt: Format) -> list[tuple[bool, object]]:
    """(is valid, record) pairs: a mix of valid records and mutated ones, in any order."""
    size = draw(st.integers(1, 8))
    out: list[tuple[bool, object]] = []
    for n in range(size):
        record = VALID[fmt](n, draw)
        if draw(st.booleans()):
            out.append((True, record))
        else:
            out.append((False, draw(st.sampled_from(MUTATIONS))(record)))
    return out


def _store() -> SQLiteRuleStore:
    return SQLiteRuleStore(MEMORY)


# --------------------------------------------------------------------------------------------- properties


@pytest.mark.parametrize("fmt", list(Format), ids=str)
@FUZZ
@given(data=st.data())
def test_ingest_records_keeps_every_valid_record_and_names_every_refused_one(fmt: Format, data: st.DataObject) -> None:
    batch = data.draw(batches(fmt))
    with _store() as store:
        report = ingest_records([record for _, record in batch], store, limits=LIMITS, batch_size=3)  # type: ignore[misc]
        valid_positions = {n for n, (ok, _) in enumerate(batch, start=1) if ok}
        assert report.inserted == len(valid_positions) == store.count_logs()
        assert {line for line, _ in report.errors} == set(range(1, len(batch) + 1)) - valid_positions
        assert all(reason.strip() for _, reason in report.errors)
        assert {(q.line, q.reason) for q in store.list_quarantine()} == set(report.errors)


@pytest.mark.parametrize("fmt", list(Format), ids=str)
@FUZZ
@given(data=st.data())
def test_ingest_file_keeps_every_valid_line_and_quarantines_every_bad_one(
    fmt: Format, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    batch = data.draw(batches(fmt))
    broken = ['{"query": ', "[1, 2", '{"n": ' + "7" * 4400 + "}", "\x00"]  # not JSON, or an int of 4,400 digits
    garbage = data.draw(st.lists(st.sampled_from(broken), max_size=2))
    lines = [json.dumps(record, ensure_ascii=True) for _, record in batch] + garbage
    path = tmp_path_factory.mktemp("fuzz") / "logs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with _store() as store:
        report = ingest_file(path, store, format=fmt, progress=False, limits=LIMITS, batch_size=3)
        valid_lines = {n for n, (ok, _) in enumerate(batch, start=1) if ok}
        assert report.inserted == len(valid_lines) == store.count_logs()
        assert {line for line, _ in report.errors} == set(range(1, len(lines) + 1)) - valid_lines
        assert all(reason.strip() for _, reason in report.errors)


_namespaces = (f"fuzz-{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with UnoMemory(tmp_path_factory.mktemp("memory"), embedder=HashingEmbedder(32), limits=LIMITS) as opened:
        yield opened


@FUZZ
@given(data=st.data())
def test_add_many_keeps_every_valid_record_and_names_every_rejected_one(memory: UnoMemory, data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from(list(Format)))
    batch = data.draw(batches(fmt))
    namespace = next(_namespaces)
    outcome = memory.add_many([record for _, record in batch], namespace=namespace)  # type: ignore[misc]
    valid = [n for n, (ok, _) in enumerate(batch) if ok]
    assert len(outcome.inserted) == len(valid) == memory.store.count_logs(Scope(namespace=namespace))
    assert [r.position for r in outcome.rejected] == [n for n in range(len(batch)) if n not in valid]
    assert all(r.reason.strip() for r in outcome.rejected)
    for position, (ok, record) in enumerate(batch):
        if not ok:
            with pytest.raises((TypeError, ValueError)):
                memory.add(record, namespace=namespace)  # type: ignore[arg-type]
        elif position == valid[0]:
            assert memory.add(record, namespace=namespace) == outcome.ids[0], "adding a stored log is idempotent"


FIELDS = [
    *("query", "response", "feedback", "messages", "metadata", "id", "test_idx", "dialog", "dataset_name"),
    *("data", "meta", "snapshot", "created_at", "input", "output", "observations", "scores", "timestamp"),
]


@FUZZ
@given(value=json_value | st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=5))
def test_every_importer_answers_any_json_with_a_log_or_a_reason(value: object) -> None:
    for fmt in [*Format, None]:
        try:
            log = parse_record(value, fmt)
        except (InvalidRecord, FormatDetectionError) as error:
            assert str(error).strip()
        else:
            assert isinstance(log, LogRecord)


def _places(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place in a JSON value: each key of its objects and each item of its arrays, outermost first."""
    children: list[tuple[str | int, object]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    return [place for key, child in children for place in [(*prefix, key), *_places(child, (*prefix, key))]]


def _replaced(value: Any, place: tuple[str | int, ...], new: object) -> Any:
    if not place:
        return new
    copied = dict(value) if isinstance(value, dict) else list(value)
    copied[place[0]] = _replaced(value[place[0]], place[1:], new)  # type: ignore[index]
    return copied


@pytest.mark.parametrize("fmt", list(Format), ids=str)
@FUZZ
@given(data=st.data())
def test_every_importer_answers_a_record_with_any_field_replaced_with_a_log_or_a_reason(
    fmt: Format, data: st.DataObject
) -> None:
    """A valid record with one place in it (a field, a nested one, an item) replaced by any JSON value: each
    place in turn, so the few examples reach every field of every format."""
    record = data.draw(st.composite(lambda draw: VALID[fmt](0, draw))())
    for place in _places(record):
        value = data.draw(boundary_number | json_value, label=".".join(map(str, place)))
        try:
            log = parse_record(_replaced(record, place, value), fmt)
        except InvalidRecord as error:
            assert str(error).strip()
        else:
            assert isinstance(log, LogRecord)


def test_the_fuzz_batches_do_hold_both_kinds(tmp_path: Path) -> None:
    """Guard against a generator that only ever makes one kind of record (the properties would hold vacuously)."""
    seen: set[bool] = set()

    @FUZZ
    @given(batch=batches(Format.PLAIN))
    def collect(batch: list[tuple[bool, object]]) -> None:
        seen.update(ok for ok, _ in batch)

    collect()
    assert seen == {True, False}
