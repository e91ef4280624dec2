"""Sessions of real logs as uno ``LogRecord``s, one per assistant answer.

Each answer becomes a log whose query is the user message it answered; the user's next turn (when there is one) is
its follow-up feedback, and an oasst answer's emoji counts become one reaction (like when thumbs-up outnumber
thumbs-down, dislike when the reverse). An answer with several replies (oasst branches) yields one log per reply,
each tagged with the gold item id of its follow-up, so a rule's evidence can be judged against the gold label.
The user id is the session (an HH worker session, an oasst tree).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from benchmarks.real.gold import GoldItem
from benchmarks.real.sources import Session, Turn
from rule_store.records import FollowupFeedback, LogRecord, Message, ReactionFeedback

_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


def _reaction(answer: Turn) -> list[ReactionFeedback]:
    up, down = answer.reactions.get("+1", 0), answer.reactions.get("-1", 0)
    if up > down:
        return [ReactionFeedback(value="like")]
    if down > up:
        return [ReactionFeedback(value="dislike")]
    return []


def _log(session: Session, answer: Turn, reply: Turn | None, order: int) -> LogRecord:
    question = answer.parent
    assert question is not None and question.role == "user"
    feedback: list[FollowupFeedback | ReactionFeedback] = list(_reaction(answer))
    metadata = {"source": session.source, "session": session.session_id, "answer": answer.turn_id}
    if reply is not None:
        feedback.append(FollowupFeedback(text=reply.text))
        metadata["item_id"] = GoldItem.from_turns(session, answer, reply).item_id
    return LogRecord(
        user_id=session.session_id,
        timestamp=_EPOCH + timedelta(minutes=order),
        messages=[Message(role="user", content=question.text), Message(role="assistant", content=answer.text)],
        feedback=feedback,
        metadata=metadata,
    )


def session_logs(session: Session, start: int = 0) -> list[LogRecord]:
    """Every answer of the session as a log (one per reply when it has several)."""
    logs: list[LogRecord] = []
    for node in session.turns():
        parent = node.parent
        if node.role != "assistant" or parent is None or parent.role != "user":
            continue  # a few HH transcripts have two assistant turns in a row
        if not node.text.strip() or not parent.text.strip():
            continue
        replies: list[Turn | None] = [r for r in node.replies if r.role == "user" and r.text.strip()]
        for reply in replies or [None]:
            logs.append(_log(session, node, reply, start + len(logs)))
    return logs


def to_logs(sessions: Iterable[Session]) -> list[LogRecord]:
    logs: list[LogRecord] = []
    for session in sessions:
        logs.extend(session_logs(session, len(logs)))
    return logs
