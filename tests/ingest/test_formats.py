"""The three input formats: what each accepts, what it builds, and how precisely it reports bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rule_store.records import (
    EditFeedback,
    FollowupFeedback,
    LogRecord,
    RatingFeedback,
    ReactionFeedback,
)
from uno.ingest import Format, FormatDetectionError, InvalidRecord, apply_scope, detect_format, parse_record
from uno.ingest.formats import decode_column, implicit_feedback_turns


def reason(obj: object, format: str | None = None, **kwargs: Any) -> str:
    with pytest.raises(InvalidRecord) as caught:
        parse_record(obj, format, **kwargs)
    return str(caught.value)


# ----------------------------------------------------------------------------------------------------- plain


def test_plain_builds_system_query_response_and_feedback() -> None:
    log = parse_record(
        {
            "id": "p1",
            "user_id": "alice",
            "namespace": "acme",
            "timestamp": "2025-03-01T09:00:00Z",
            "system": "Be brief.",
            "query": "How long to boil an egg?",
            "response": "Nine minutes.",
            "feedback": [
                {"kind": "followup", "text": "Soft-boiled, please."},
                {"kind": "edit", "text": "Six minutes."},
                {"kind": "reaction", "value": "love", "terminated": True},
                {"kind": "rating", "value": 4},
            ],
            "metadata": {"app": "kitchen"},
        },
        "plain",
    )
    assert (log.id, log.user_id, log.namespace) == ("p1", "alice", "acme")
    assert log.timestamp.isoformat() == "2025-03-01T09:00:00+00:00"
    assert [(m.role, m.content) for m in log.messages] == [
        ("system", "Be brief."),
        ("user", "How long to boil an egg?"),
        ("assistant", "Nine minutes."),
    ]
    assert log.feedback == [
        FollowupFeedback(text="Soft-boiled, please."),
        EditFeedback(text="Six minutes."),
        ReactionFeedback(value="love", terminated=True),
        RatingFeedback(value=4),
    ]
    assert log.metadata == {"app": "kitchen"}


def test_plain_tolerates_unambiguous_shorthands() -> None:
    log = parse_record(
        {
            "id": 17,
            "query": "q",
            "response": "r",
            "feedback": [
                "A bare string is a follow-up.",
                {"type": "Reaction", "value": "Thumbs_Up"},
                {"kind": "reaction", "value": "thumbs-down"},
                {"kind": "follow-up", "text": "hyphenated kind"},
                {"kind": "rating", "value": " 7.5 ", "scale": ["0", "10"]},
                {"kind": "rating", "value": 3, "scale_min": 1, "scale_max": 3},
            ],
        }
    )
    assert log.id == "17"
    assert log.feedback == [
        FollowupFeedback(text="A bare string is a follow-up."),
        ReactionFeedback(value="like"),
        ReactionFeedback(value="dislike"),
        FollowupFeedback(text="hyphenated kind"),
        RatingFeedback(value=7.5, scale_min=0, scale_max=10),
        RatingFeedback(value=3, scale_min=1, scale_max=3),
    ]


def test_plain_single_feedback_item_is_a_list_of_one() -> None:
    log = parse_record({"query": "q", "response": "r", "feedback": {"kind": "edit", "text": "better"}}, "plain")
    assert log.feedback == [EditFeedback(text="better")]


def test_plain_without_id_gets_a_content_id_independent_of_time() -> None:
    first = parse_record({"query": "q", "response": "r", "timestamp": "2025-01-01T00:00:00Z"}, "plain")
    second = parse_record({"query": "q", "response": "r", "timestamp": "2026-01-01T00:00:00Z"}, "plain")
    assert first.id == second.id
    assert first.id.startswith("log-")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"query": "q"}, "missing field `response`"),
        ({"response": "r"}, "missing field `query`"),
        ({"query": "q", "response": "  "}, "`response`: is blank"),
        ({"query": 3, "response": "r"}, "`query`: Input should be a valid string (got number)"),
        ({"query": "q", "response": "r", "respnse": "typo"}, "unknown field `respnse`"),
        (
            {
                "query": "q",
                "response": "r",
                "feedback": [{"kind": "edit", "text": "x"}, {"kind": "rating", "value": 7}],
            },
            "`feedback[1].value`: rating 7 is outside its scale [1, 5]",
        ),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "rating", "value": 0.5, "scale": [1, 10]}]},
            "`feedback[0].value`: rating 0.5 is outside its scale [1, 10]",
        ),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "rating", "value": 3, "scale": [5, 1]}]},
            "`feedback[0].scale`: rating scale is empty: [5, 1]",
        ),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "rating", "value": True}]},
            "`feedback[0].value`: expected a number, got a boolean",
        ),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "rating", "value": "four"}]},
            "`feedback[0].value`: Input should be a valid number, unable to parse string as a number (got 'four')",
        ),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "smile"}]},
            "`feedback[0].kind`: unknown feedback kind 'smile' (expected one of followup, edit, reaction, rating)",
        ),
        ({"query": "q", "response": "r", "feedback": [{"text": "no kind"}]}, "missing field `feedback[0].kind`"),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "reaction", "value": "meh"}]},
            "`feedback[0].value`: Input should be 'like', 'love', 'dislike', 'copy' or 'none' (got 'meh')",
        ),
        (
            {"query": "q", "response": "r", "feedback": [42]},
            "`feedback[0]`: a feedback item must be an object or a string, got number",
        ),
        ({"query": "q", "response": "r", "feedback": ["  "]}, "`feedback[0].text`: follow-up text is blank"),
        (
            {"query": "q", "response": "r", "feedback": [{"kind": "edit", "text": "x", "turn": 0}]},
            "feedback points at turn 0, which is a user turn",
        ),
    ],
)
def test_plain_reports_the_field_and_the_problem(record: dict[str, Any], expected: str) -> None:
    assert reason(record, "plain") == expected


def test_every_problem_of_a_record_is_reported_at_once() -> None:
    text = reason({"query": "q", "feedback": [{"kind": "rating", "value": 9}, {"kind": "smile"}]}, "plain")
    assert "missing field `response`" in text
    assert "`feedback[0].value`: rating 9 is outside its scale [1, 5]" in text
    assert "`feedback[1].kind`: unknown feedback kind 'smile'" in text


def test_a_record_that_is_not_an_object_is_rejected() -> None:
    assert reason(["q", "r"], "plain") == "expected a JSON object, got array"


# ----------------------------------------------------------------------------------------------------- openai


def test_openai_string_and_content_part_messages() -> None:
    log = parse_record(
        {
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
                        {"type": "input_text", "text": "One sentence."},
                    ],
                },
                {"role": "assistant", "content": "A cat."},
            ],
            "feedback": [{"kind": "reaction", "value": "like", "turn": 2}],
            "user_id": "u1",
        },
        "openai",
    )
    assert [(m.role, m.content) for m in log.messages] == [
        ("system", "Be brief."),
        ("user", "What is this?\nOne sentence."),
        ("assistant", "A cat."),
    ]
    assert log.feedback == [ReactionFeedback(value="like", turn=2)]
    assert log.user_id == "u1"


def test_openai_tool_calls_are_accepted_and_tools_kept_in_metadata() -> None:
    log = parse_record(
        {
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function"}]},
                {"role": "tool", "tool_call_id": "c1", "content": "18C"},
                {"role": "assistant", "content": "18C and cloudy.", "weight": 1},
            ],
            "tools": [{"type": "function", "function": {"name": "weather"}}],
        }
    )
    assert [m.role for m in log.messages] == ["user", "assistant", "tool", "assistant"]
    assert log.messages[1].content == ""
    assert log.metadata == {"tools": [{"type": "function", "function": {"name": "weather"}}]}


def test_later_user_turns_become_followups_on_the_previous_answer() -> None:
    log = parse_record(
        {
            "messages": [
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "a1"},
                {"role": "user", "content": "shorter"},
                {"role": "assistant", "content": "a2"},
            ]
        }
    )
    assert log.feedback_events() == [FollowupFeedback(text="shorter", turn=1)]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"messages": "hello"}, "`messages`: Input should be a valid list (got 'hello')"),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "robot", "content": "a"}]},
            "`messages[1].role`: Input should be 'system', 'user', 'assistant' or 'tool' (got 'robot')",
        ),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": 5}]},
            "`messages[1].content`: Input should be a valid string (got number)",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text"}]}, {"role": "assistant", "content": "a"}]},
            "`messages[0].content`: text part 0 has no string `text` (got null)",
        ),
        ({"messages": [{"role": "user", "content": "q"}]}, "`messages`: List should have at least 2 items"),
        (
            {"messages": [{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}]},
            "log has no assistant message after the first user message",
        ),
        (
            {"messages": [{"role": "user", "content": "q", "mood": "x"}, {"role": "assistant", "content": "a"}]},
            "unknown field `messages[0].mood`",
        ),
    ],
)
def test_openai_reports_the_field_and_the_problem(record: dict[str, Any], expected: str) -> None:
    assert expected in reason(record, "openai")


def test_an_exported_log_reads_back_unchanged() -> None:
    original = LogRecord(
        namespace="acme",
        user_id="u",
        messages=[
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q", "name": "alice"},
            {"role": "assistant", "content": "a"},
        ],
        feedback=[
            RatingFeedback(value=7.5, scale_min=0, scale_max=10, turn=2, implicit=True),
            ReactionFeedback(value="copy", terminated=True),
            EditFeedback(text="better", timestamp="2025-01-01T00:00:00Z"),
        ],
        metadata={"k": [1, 2]},
    )
    again = parse_record(json.loads(original.model_dump_json()))
    assert again == original


# ----------------------------------------------------------------------------------------------------- memorybench


def bench_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "test_idx": 12,
        "dataset_name": "NFCats",
        "lang": "en",
        "input_prompt": "q",
        "dialog": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "more detail"},
            {"role": "assistant", "content": "a2"},
        ],
        "implicit_feedback": [
            {"round": 1, "implicit_action": "dislike", "terminated": False},
            {"round": 2, "implicit_action": "like", "terminated": True},
        ],
        "info": {"golden_answer": "g"},
    }
    row.update(overrides)
    return row


def test_memorybench_row_becomes_a_dialog_with_implicit_reactions() -> None:
    log = parse_record(bench_row(), "memorybench")
    assert log.id == "NFCats_12"
    assert [m.content for m in log.messages] == ["q", "a1", "more detail", "a2"]
    assert log.feedback == [
        ReactionFeedback(value="dislike", terminated=False, implicit=True, turn=1),
        ReactionFeedback(value="like", terminated=True, implicit=True, turn=3),
    ]
    assert log.metadata == {
        "dataset_name": "NFCats",
        "test_idx": 12,
        "lang": "en",
        "info": {"golden_answer": "g"},
    }
    assert log.feedback_events()[-1] == FollowupFeedback(text="more detail", turn=1)


def test_memorybench_string_encoded_columns_json_and_python_literals() -> None:
    row = bench_row()
    encoded = bench_row(
        dialog=repr(row["dialog"]),
        implicit_feedback=json.dumps(row["implicit_feedback"]),
        info=repr(row["info"]),
    )
    assert parse_record(encoded, "memorybench").model_dump(exclude={"timestamp"}) == parse_record(
        row, "memorybench"
    ).model_dump(exclude={"timestamp"})


def test_memorybench_zero_based_rounds_map_to_the_same_answers() -> None:
    one_based = parse_record(bench_row(), "memorybench")
    zero_based = parse_record(
        bench_row(
            implicit_feedback=[
                {"round": 0, "implicit_action": "dislike", "terminated": False},
                {"round": 1, "implicit_action": "like", "terminated": True},
            ]
        ),
        "memorybench",
    )
    assert zero_based.feedback == one_based.feedback


def test_round_numbering_rule() -> None:
    answers = [1, 3, 5]
    assert implicit_feedback_turns([1, 2, 3], answers) == [1, 3, 5]
    assert implicit_feedback_turns([0, 1, 2], answers) == [1, 3, 5]
    assert implicit_feedback_turns([2], answers) == [3]
    assert implicit_feedback_turns([4], answers) == [None]


def test_memorybench_bookkeeping_keys_are_ignored_and_extra_columns_kept() -> None:
    dialog = bench_row()["dialog"]
    dialog[0] = {**dialog[0], "origin_content": "q"}
    log = parse_record(bench_row(dialog=dialog, dialog_bm25=[{"role": "user", "content": "q"}]), "memorybench")
    assert log.messages[0].content == "q"
    assert log.metadata["extra"] == {"dialog_bm25": [{"role": "user", "content": "q"}]}


def test_memorybench_without_dialog_uses_an_answer_found_in_the_input() -> None:
    log = parse_record(
        bench_row(
            dialog="[]",
            implicit_feedback=[],
            input_prompt=None,
            input_chat_messages=[
                {"role": "user", "content": "Name a colour."},
                {"role": "assistant", "content": "Blue."},
            ],
        ),
        "memorybench",
    )
    assert [m.content for m in log.messages] == ["Name a colour.", "Blue."]
    predicted = parse_record(bench_row(dialog=[], implicit_feedback=[], response="an answer"), "memorybench")
    assert [m.role for m in predicted.messages] == ["user", "assistant"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"dialog": [], "implicit_feedback": []}, "`dialog`: is empty and the input has no assistant answer"),
        ({"dialog": "[{'role': 'user'", "implicit_feedback": []}, "`dialog`: is a string that is neither JSON"),
        (
            {"implicit_feedback": [{"round": 3, "implicit_action": "like"}]},
            "`implicit_feedback[0].round`: round 3 has no assistant answer (the dialog has 2)",
        ),
        (
            {"implicit_feedback": [{"round": 1, "implicit_action": "meh"}]},
            "`implicit_feedback[0].implicit_action`: Input should be 'like', 'love', 'dislike', 'copy' or 'none'",
        ),
        ({"test_idx": None}, "`test_idx`: Input should be a valid string (got null)"),
        ({"dataset_name": None}, "`dataset_name`: Input should be a valid string (got null)"),
    ],
)
def test_memorybench_reports_the_field_and_the_problem(overrides: dict[str, Any], expected: str) -> None:
    assert expected in reason(bench_row(**overrides), "memorybench")


def test_memorybench_missing_columns_are_named() -> None:
    text = reason({"dialog": []}, "memorybench")
    assert "missing field `test_idx`" in text
    assert "missing field `dataset_name`" in text


def test_decode_column() -> None:
    assert decode_column('[{"a": 1}]') == [{"a": 1}]
    assert decode_column("[{'a': True}]") == [{"a": True}]
    assert decode_column([1]) == [1]
    with pytest.raises(ValueError, match="neither JSON nor a Python literal"):
        decode_column("[oops")


# ----------------------------------------------------------------------------------------------------- detection, scope


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"messages": [], "query": "q"}, Format.OPENAI),
        ({"test_idx": 1}, Format.MEMORYBENCH),
        ({"dialog": []}, Format.MEMORYBENCH),
        ({"query": "q", "response": "r"}, Format.PLAIN),
    ],
)
def test_detect_format_from_keys(keys: dict[str, Any], expected: Format) -> None:
    assert detect_format(keys) is expected


def test_undetectable_record_names_its_keys() -> None:
    with pytest.raises(FormatDetectionError, match=r"\(completion, prompt\)"):
        detect_format({"prompt": "p", "completion": "c"})


def test_ingest_namespace_and_user_fill_in_but_never_override() -> None:
    log = parse_record({"query": "q", "response": "r"}, "plain", namespace="acme", user_id="u1")
    assert (log.namespace, log.user_id) == ("acme", "u1")
    same = parse_record({"query": "q", "response": "r", "namespace": "acme"}, "plain", namespace="acme")
    assert same.namespace == "acme"
    text = reason(
        {"query": "q", "response": "r", "namespace": "other", "user_id": "u2"}, "plain", namespace="acme", user_id="u1"
    )
    assert "`namespace`: record is in namespace 'other' but the ingest targets 'acme'" in text
    assert "`user_id`: record belongs to user 'u2' but the ingest is for 'u1'" in text


def test_apply_scope_recomputes_content_ids() -> None:
    log = LogRecord(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    moved = apply_scope(log, namespace="acme")
    assert moved.namespace == "acme"
    assert moved.id == "log-" + moved.content_hash() != log.id
    named = apply_scope(log.model_copy(update={"id": "mine"}), namespace="acme")
    assert named.id == "mine"
    with pytest.raises(InvalidRecord, match="namespace 'acme' but the ingest targets 'zeta'"):
        apply_scope(moved, namespace="zeta")
