"""Small builders for the distillation tests: real LogRecords, nothing mocked."""

from __future__ import annotations

from datetime import UTC, datetime

from rule_store.records import EditFeedback, Feedback, LogRecord, Message, RatingFeedback, ReactionFeedback

QUERY = "Is it safe to eat raw cookie dough?"
RESPONSE = (
    "Great question! Raw cookie dough carries some risks:\n"
    "- Raw eggs may contain salmonella\n"
    "- Raw flour can carry E. coli\n"
    "So it is best to bake it first. I hope this helps! 😊"
)
WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def conversation(*turns: str, query: str = QUERY, response: str = RESPONSE) -> list[Message]:
    """query, response, then alternating user follow-ups and assistant replies."""
    messages = [Message(role="user", content=query), Message(role="assistant", content=response)]
    for index, text in enumerate(turns):
        messages.append(Message(role="user" if index % 2 == 0 else "assistant", content=text))
    return messages


def followup_log(
    text: str,
    *feedback: Feedback,
    query: str = QUERY,
    response: str = RESPONSE,
    user_id: str | None = "user-1",
    namespace: str = "default",
) -> LogRecord:
    """A log whose single follow-up is ``text`` (about the first answer)."""
    return LogRecord(
        namespace=namespace,
        user_id=user_id,
        timestamp=WHEN,
        messages=conversation(text, query=query, response=response),
        feedback=list(feedback),
    )


def feedback_log(*feedback: Feedback, query: str = QUERY, response: str = RESPONSE) -> LogRecord:
    """A log with only explicit feedback events (no follow-up message)."""
    return LogRecord(
        user_id="user-1", timestamp=WHEN, messages=conversation(query=query, response=response), feedback=list(feedback)
    )


def edit_log(edit: str, *, query: str = QUERY, response: str = RESPONSE, extra: tuple[Feedback, ...] = ()) -> LogRecord:
    return feedback_log(EditFeedback(text=edit), *extra, query=query, response=response)


def dislike(terminated: bool = False) -> ReactionFeedback:
    return ReactionFeedback(value="dislike", terminated=terminated)


def reaction(value: str) -> ReactionFeedback:
    return ReactionFeedback.model_validate({"value": value})


def rating(value: float, scale_max: float = 5.0) -> RatingFeedback:
    return RatingFeedback(value=value, scale_max=scale_max)
