"""Imports from where logs already live: Open WebUI's feedback export and Langfuse traces with their scores.

The fixture files follow each tool's published shapes (Open WebUI's feedback records with the chat snapshot;
Langfuse's ``TraceWithFullDetails``); each holds good records and bad ones that must be quarantined with a reason.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rule_store.records import FollowupFeedback, RatingFeedback, ReactionFeedback
from rule_store.sqlite import SQLiteRuleStore
from uno.ingest import Format, InvalidRecord, detect_format, ingest_file, parse_record
from uno.ingest.reader import Layout, iter_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OPENWEBUI = FIXTURES / "openwebui_feedback.json"
LANGFUSE = FIXTURES / "langfuse_traces.jsonl"


def records(path: Path) -> list[dict[str, Any]]:
    layout = Layout.JSON if path.suffix == ".json" else Layout.JSONL
    return [item.value for item in iter_source(path, layout) if isinstance(item.value, dict)]


def reason(obj: dict[str, Any], format: str) -> str:
    with pytest.raises(InvalidRecord) as caught:
        parse_record(obj, format)
    return str(caught.value)


# ----------------------------------------------------------------------------------------------------- open webui


def test_openwebui_export_ingests_rated_answers_and_quarantines_the_rest(store: SQLiteRuleStore) -> None:
    report = ingest_file(OPENWEBUI, store, progress=False)

    assert (report.format, report.lines, report.inserted, report.quarantined) == ("openwebui", 5, 2, 3)
    assert report.errors == [
        (3, "`meta.message_id`: message 'gone' is not in the snapshot's history"),
        (4, "`data.rating`: expected 1 (thumbs up) or -1 (thumbs down), got '5'"),
        (5, "`snapshot.chat`: expected the chat object, got null"),
    ]
    assert len(store.list_quarantine()) == 3
    assert ingest_file(OPENWEBUI, store, progress=False).inserted == 0, "re-importing adds nothing"


def test_openwebui_log_is_the_rated_branch_with_thumbs_score_and_comment(store: SQLiteRuleStore) -> None:
    ingest_file(OPENWEBUI, store, progress=False)
    log = store.get_logs(["openwebui-fb-0001"])[0]

    # The branch through the rated answer m2 up to the chat's current message; the regenerated sibling is left out.
    assert [(m.role, m.content) for m in log.messages][2:] == [
        ("user", "and a duck?"),
        ("assistant", "About two hours at 180C."),
    ]
    assert log.messages[0].content == "How long should I roast a whole chicken?"
    assert all("90 minutes" not in m.content for m in log.messages)
    assert log.user_id == "u-anna" and log.timestamp.isoformat() == "2025-01-01T10:00:50+00:00"
    assert log.feedback == [
        ReactionFeedback(value="dislike", turn=1),
        RatingFeedback(value=3, scale_min=1, scale_max=10, turn=1),
        FollowupFeedback(text="too long, keep it short", turn=1),
    ]
    assert log.metadata == {
        "source": "openwebui",
        "feedback_id": "fb-0001",
        "chat_id": "chat-1",
        "message_id": "m2",
        "model_id": "llama3.1:8b",
        "reason": "Don't like the style",
        "tags": ["cooking"],
        "title": "Roasting",
    }
    liked = store.get_logs(["openwebui-fb-0002"])[0]
    assert liked.feedback == [
        ReactionFeedback(value="like", turn=1),
        RatingFeedback(value=9, scale_min=1, scale_max=10, turn=1),
    ], "an empty comment is not feedback"


def test_openwebui_refuses_a_rating_on_a_user_turn_and_a_parent_cycle() -> None:
    good = records(OPENWEBUI)[0]
    on_question = copy.deepcopy(good)
    on_question["meta"]["message_id"] = "m1"
    assert "message 'm1' is not an assistant answer" in reason(on_question, "openwebui")

    looped = copy.deepcopy(good)
    looped["snapshot"]["chat"]["chat"]["history"]["messages"]["m1"]["parentId"] = "m2"
    assert "the messages' parents form a cycle" in reason(looped, "openwebui")

    out_of_scale = copy.deepcopy(good)
    out_of_scale["data"]["details"]["rating"] = 11
    assert "`data.details.rating`: 11 is outside Open WebUI's 1-10 scale" in reason(out_of_scale, "openwebui")


def test_openwebui_reads_a_snapshot_whose_chat_holds_the_history_directly() -> None:
    good = records(OPENWEBUI)[1]
    flat = copy.deepcopy(good)
    flat["snapshot"]["chat"] = flat["snapshot"]["chat"]["chat"]

    assert parse_record(flat, "openwebui").messages == parse_record(good, "openwebui").messages


def test_openwebui_creation_time_past_the_datetime_range_is_refused_with_a_reason() -> None:
    """Found by the fuzz: a ``created_at`` past year 9999 escaped as an OverflowError/ValueError, which stopped a
    whole file ingest instead of quarantining the one record."""
    good = records(OPENWEBUI)[0]
    for seconds in (2**63, 10**12 * 300):
        assert "`created_at`: Input should be less than or equal to" in reason(
            {**good, "created_at": seconds}, "openwebui"
        )
    assert parse_record({**good, "created_at": 253_402_300_799}, "openwebui").timestamp.year == 9999


# ----------------------------------------------------------------------------------------------------- langfuse


def test_langfuse_export_ingests_traces_and_quarantines_the_rest(store: SQLiteRuleStore) -> None:
    report = ingest_file(LANGFUSE, store, progress=False)

    assert (report.format, report.lines, report.inserted, report.quarantined) == ("langfuse", 5, 3, 2)
    assert report.errors[0] == (
        4,
        "`input`: no conversation to read: the trace's input (number) and output (null) are not text or chat "
        "messages, and no generation observation has them",
    )
    assert report.errors[1][0] == 5 and report.errors[1][1].startswith("`scores[0].value`: ")


def test_langfuse_user_scores_become_feedback_and_the_others_metadata(store: SQLiteRuleStore) -> None:
    ingest_file(LANGFUSE, store, progress=False)
    french, shop, refund = store.get_logs(["langfuse-tr-001", "langfuse-tr-002", "langfuse-tr-003"])

    assert [(m.role, m.content) for m in french.messages] == [
        ("user", "Explique-moi la photosynthèse"),
        ("assistant", "Photosynthesis is the process by which plants turn light into energy."),
    ]
    assert french.user_id == "u-dora" and french.timestamp.isoformat() == "2025-02-03T10:00:00+00:00"
    assert french.feedback == [
        ReactionFeedback(value="dislike", turn=1),
        FollowupFeedback(text="please answer in French", turn=1),
    ]
    assert french.metadata["other_scores"] == [
        {
            "name": "hallucination",
            "value": 0.2,
            "string_value": None,
            "source": "EVAL",
            "unused": "source EVAL is not an end user's feedback",
        }
    ]
    assert [m.role for m in shop.messages] == ["system", "user", "assistant"]
    assert shop.feedback == [ReactionFeedback(value="like", turn=2)]
    assert shop.metadata["other_scores"][0]["source"] == "ANNOTATION"
    # No text on the trace itself: the generation observation's chat messages and OpenAI-style output.
    assert [(m.role, m.content) for m in refund.messages][1:] == [
        ("user", "What is your refund policy?"),
        ("assistant", "Refunds within 30 days, no questions asked."),
    ]
    assert refund.feedback == [
        ReactionFeedback(value="dislike", turn=2),
        FollowupFeedback(text="use bullet points", turn=2),
    ]


def test_langfuse_score_without_a_known_meaning_is_kept_not_guessed() -> None:
    trace = records(LANGFUSE)[0]
    trace["scores"] = [{"name": "stars", "source": "API", "dataType": "NUMERIC", "value": 4}, "sc-id-only"]

    log = parse_record(trace, "langfuse")

    assert log.feedback == []
    assert [score["unused"] for score in log.metadata["other_scores"]] == [
        "a value with no known meaning (not a thumbs or boolean score)",
        "a score id without its value",
    ]


@pytest.mark.parametrize(
    "output",
    [{"content": [1]}, {"content": [{"type": "text", "text": 3}]}, {"choices": [{"message": {"content": [None]}}]}],
    ids=["number part", "text part without text", "completion of a null part"],
)
def test_langfuse_output_of_parts_that_are_not_text_is_refused_with_a_reason(
    output: dict[str, Any], tmp_path: Path, store: SQLiteRuleStore
) -> None:
    """Found by the fuzz: content parts that are not text escaped as a ValueError, which stopped a whole file ingest
    instead of quarantining the one trace. The trace is read from its generation instead when that has text."""
    trace = {"id": "tr-x", "input": "Hello?", "output": output, "observations": [], "scores": []}
    assert "`input`: no conversation to read" in reason(trace, "langfuse")

    generation = {"type": "GENERATION", "input": "Hello?", "output": [{"type": "text", "text": "Hi!"}]}
    log = parse_record({**trace, "observations": [generation]}, "langfuse")
    assert [m.content for m in log.messages] == ["Hello?", "Hi!"]

    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps(trace) + "\n" + LANGFUSE.read_text().splitlines()[0] + "\n")
    report = ingest_file(path, store, progress=False)
    assert (report.inserted, [line for line, _ in report.errors]) == (1, [1])


def test_langfuse_api_page_reads_as_one_record_per_trace(tmp_path: Path, store: SQLiteRuleStore) -> None:
    page = tmp_path / "traces.json"
    page.write_text(json.dumps({"data": records(LANGFUSE)[:3], "meta": {"page": 1, "totalItems": 3}}))

    report = ingest_file(page, store, progress=False)

    assert (report.format, report.inserted, report.quarantined) == ("langfuse", 3, 0)


# ----------------------------------------------------------------------------------------------------- detection


def test_formats_are_detected_from_their_keys() -> None:
    assert {detect_format(r) for r in records(OPENWEBUI)} == {Format.OPENWEBUI}
    assert {detect_format(r) for r in records(LANGFUSE)} == {Format.LANGFUSE}
    # The existing formats keep their detection.
    assert detect_format({"id": "1", "query": "q", "response": "r"}) == Format.PLAIN
    assert detect_format({"id": "1", "messages": [], "metadata": {}}) == Format.OPENAI


def test_uno_ingest_reads_both_exports(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from uno.cli import main

    store = str(tmp_path / "store")
    result = CliRunner().invoke(main, ["--store", store, "ingest", str(OPENWEBUI), str(LANGFUSE), "--json"])

    assert result.exit_code == 0, result.output
    reports = json.loads(result.output)
    summary = [(r["format"], r["inserted"], r["quarantined"]) for r in reports]
    assert summary == [("openwebui", 2, 3), ("langfuse", 3, 2)]
