"""How integrations log conversations (``uno.integrations.conversation``), on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rule_store.records import FollowupFeedback, Message
from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, fast_memory
from uno import UnoMemory
from uno.inject import BLOCK_OPEN
from uno.integrations.conversation import ConversationRecorder, merge_system_prompt, strip_memory_block


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[UnoMemory]:
    """An empty store: logging needs nothing learnt."""
    with fast_memory(tmp_path / "store") as opened:
        yield opened


def user(text: str) -> Message:
    return Message(role="user", content=text)


def assistant(text: str) -> Message:
    return Message(role="assistant", content=text)


def system(text: str) -> Message:
    return Message(role="system", content=text)


def turns(memory: UnoMemory, log_id: str | None) -> list[tuple[str, str]]:
    assert log_id is not None
    [log] = memory.store.get_logs([log_id])
    return [(m.role, m.content) for m in log.messages]


def test_strip_memory_block_removes_exactly_what_uno_injected(trained: UnoMemory) -> None:
    block = trained.augment(PLAN_QUERY).system_block
    assert block is not None and BLOCK_OPEN in block

    assert strip_memory_block(merge_system_prompt("You are the support bot.", block)) == "You are the support bot."
    assert strip_memory_block(block) == ""
    assert strip_memory_block("No block here, <uno_learned_feedback> mentioned alone.") == (
        "No block here, <uno_learned_feedback> mentioned alone."
    )


def test_a_block_sent_back_by_the_app_is_not_stored(trained: UnoMemory) -> None:
    recorder = ConversationRecorder(trained, source="test")
    block = trained.augment(PLAN_QUERY).system_block
    assert block is not None

    exchange = recorder.begin([system(merge_system_prompt("Be brief.", block)), user(PLAN_QUERY)])
    log_id = recorder.finish(exchange, "No.")

    assert turns(trained, log_id) == [("system", "Be brief."), ("user", PLAN_QUERY), ("assistant", "No.")]


def test_each_log_holds_what_is_new_and_the_reply_is_feedback_on_the_answer_before(memory: UnoMemory) -> None:
    recorder = ConversationRecorder(memory, source="test")
    history = [system("Be helpful."), user(ROAST_QUERY)]
    first_id = recorder.finish(recorder.begin(history, user_id="u1"), "Roast it for about two hours.")
    history += [assistant("Roast it for about two hours."), user("too long, keep it short")]

    second = recorder.begin(history, user_id="u1")
    second_id = recorder.finish(second, "Two hours.")

    assert second.previous_log_id == first_id and second.followup == "too long, keep it short"
    [first_log] = memory.store.get_logs([first_id or ""])
    assert first_log.feedback == [FollowupFeedback(text="too long, keep it short", turn=2)]
    assert turns(memory, second_id) == [
        ("system", "Be helpful."),
        ("user", "too long, keep it short"),
        ("assistant", "Two hours."),
    ]
    # Another user with the same words is another conversation.
    assert recorder.begin(history, user_id="u2").previous_log_id is None


def test_history_uno_did_not_log_is_stored_whole_so_its_feedback_counts_once(memory: UnoMemory) -> None:
    recorder = ConversationRecorder(memory, source="test")
    history = [user(ROAST_QUERY), assistant("A very long answer."), user("shorter please")]

    exchange = recorder.begin(history)
    log_id = recorder.finish(exchange, "Short answer.")

    assert exchange.previous_log_id is None
    [log] = memory.store.get_logs([log_id or ""])
    assert [(m.role, m.content) for m in log.messages] == [
        ("user", ROAST_QUERY),
        ("assistant", "A very long answer."),
        ("user", "shorter please"),
        ("assistant", "Short answer."),
    ]
    assert [(e.turn, getattr(e, "text", None)) for e in log.feedback_events()] == [(1, "shorter please")]


def test_tool_calls_and_empty_answers_are_not_logs(memory: UnoMemory) -> None:
    recorder = ConversationRecorder(memory, source="test")
    first = recorder.begin([user("What's the weather in Paris?")])
    assert recorder.finish(first, "") is None, "a pure tool call has no text to learn from"

    history = [
        user("What's the weather in Paris?"),
        assistant(""),  # the tool call
        Message(role="tool", content='{"temp": 21}'),
    ]
    log_id = recorder.finish(recorder.begin(history), "It is 21 degrees.")

    assert turns(memory, log_id) == [
        ("user", "What's the weather in Paris?"),
        ("tool", '{"temp": 21}'),
        ("assistant", "It is 21 degrees."),
    ]


def test_a_forgotten_log_gets_no_feedback(memory: UnoMemory) -> None:
    recorder = ConversationRecorder(memory, source="test")
    first_id = recorder.finish(recorder.begin([user(PLAN_QUERY)], user_id="gone"), "Yes.")
    memory.forget(user_id="gone")

    exchange = recorder.begin([user(PLAN_QUERY), assistant("Yes."), user("thanks")], user_id="gone")

    assert exchange.previous_log_id is None
    assert memory.store.get_logs([first_id or ""]) == []
