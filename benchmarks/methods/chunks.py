"""Log text as retrieval-augmented baselines index it: per message, or per whole session.

MemoryBench's RAG baselines chunk training dialogs at two granularities: each message (``bm25_message``,
``embedder_message``) or each dialog (``bm25_dialog``, ``embedder_dialog``). A message-level chunk carries a log's
feedback only when it *is* the feedback (a later user turn, a follow-up or an edit); a session chunk always does.
"""

from __future__ import annotations

from dataclasses import dataclass

from rule_store.records import EditFeedback, FollowupFeedback, LogRecord, RatingFeedback, ReactionFeedback

EDIT_LEAD = "Here is how I would have written it: "


@dataclass(frozen=True)
class Chunk:
    log_id: str
    text: str
    carries_feedback: bool


@dataclass(frozen=True)
class Turn:
    role: str
    text: str
    is_feedback: bool


def message_turns(log: LogRecord) -> list[Turn]:
    """Every non-system message, then each explicit follow-up or edit, flagged when it is the user's feedback."""
    turns: list[Turn] = []
    answered = False
    for index, message in enumerate(log.messages):
        if message.role == "system" or not message.content.strip():
            continue
        turns.append(Turn(message.role, message.content, message.role == "user" and answered))
        answered = answered or (message.role == "assistant" and index > log.query_index)
    for event in log.feedback:
        if isinstance(event, FollowupFeedback):
            turns.append(Turn("user", event.text, True))
        elif isinstance(event, EditFeedback) and event.text.strip():
            turns.append(Turn("user", EDIT_LEAD + event.text, True))
    return turns


def message_chunks(log: LogRecord) -> list[Chunk]:
    """One chunk per message and per explicit follow-up or edit, in conversation order."""
    return [Chunk(log.id, turn.text, turn.is_feedback) for turn in message_turns(log)]


def session_text(log: LogRecord) -> str:
    """The whole log as one text: the conversation, then its explicit feedback events."""
    lines = [f"{message.role}: {message.content}" for message in log.messages if message.role != "system"]
    for event in log.feedback:
        if isinstance(event, FollowupFeedback):
            lines.append(f"user: {event.text}")
        elif isinstance(event, EditFeedback):
            lines.append(f"user: {EDIT_LEAD}{event.text}")
        elif isinstance(event, ReactionFeedback) and event.value != "none":
            lines.append(f"user reaction: {event.value}")
        elif isinstance(event, RatingFeedback):
            lines.append(f"user rating: {event.value:g}/{event.scale_max:g}")
    return "\n".join(lines)


def session_chunk(log: LogRecord) -> Chunk:
    return Chunk(log.id, session_text(log), log.has_feedback)
