"""The real, human-written logs in ``benchmarks/real/data`` read into one shape: sessions of turns.

Two sources (see ``data/ORIGIN.md`` for where each file comes from and its licence):

* **hh**: Anthropic's HH-RLHF harmless-base test split, red-team conversations by crowdworkers. Lines that share
  their first Human turn are one worker session (one user); their transcripts are merged into one tree of turns, so
  a follow-up that appears on several lines is read once.
* **oasst**: a 100-tree sample of oasst1. Each tree is one session; every prompter reply to an assistant message is
  a follow-up on it; the volunteers' emoji counts on an assistant message are its reactions.

A :class:`Turn` keeps the path of messages that led to it, so a follow-up can be shown (and distilled) against the
answer it replied to.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parent / "data"
HH_FILE = DATA_DIR / "hh-rlhf_harmless-base_test.jsonl.gz"
OASST_FILE = DATA_DIR / "oasst_en_100_tree.jsonl"
LOTTERY_FILE = DATA_DIR / "oasst_prompt_lottery_en_250_text.jsonl"

Source = Literal["hh", "oasst"]
Role = Literal["user", "assistant"]
_HH_SPLIT = re.compile(r"\n\n(Human|Assistant): ")


@dataclass
class Turn:
    """One message in a session, with the messages before it on its branch."""

    turn_id: str
    role: Role
    text: str
    parent: Turn | None = None
    replies: list[Turn] = field(default_factory=list)
    reactions: dict[str, int] = field(default_factory=dict)  # oasst emoji counts on an assistant message

    def path(self) -> list[Turn]:
        """The branch from the session's first message to this one, inclusive."""
        out: list[Turn] = []
        node: Turn | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]


@dataclass
class Session:
    """One user's conversation tree."""

    source: Source
    session_id: str
    root: Turn

    def turns(self) -> Iterator[Turn]:
        stack = [self.root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.replies))

    def followups(self) -> Iterator[tuple[Turn, Turn]]:
        """(assistant answer, the user's next turn) for every user turn that replies to an answer."""
        for node in self.turns():
            if node.role == "assistant":
                for reply in node.replies:
                    if reply.role == "user" and reply.text.strip():
                        yield node, reply


def short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def _hh_turns(transcript: str) -> list[tuple[Role, str]]:
    parts = _HH_SPLIT.split(transcript)
    out: list[tuple[Role, str]] = []
    for index in range(1, len(parts) - 1, 2):
        role: Role = "user" if parts[index] == "Human" else "assistant"
        out.append((role, parts[index + 1].strip()))
    return out


def _child(parent: Turn, role: Role, text: str) -> Turn:
    for reply in parent.replies:
        if reply.role == role and reply.text == text:
            return reply
    node = Turn(f"{parent.turn_id}.{len(parent.replies)}", role, text, parent)
    parent.replies.append(node)
    return node


def load_hh(path: Path = HH_FILE) -> list[Session]:
    """HH-RLHF harmless-base sessions (the ``chosen`` transcript of each line, merged by first Human turn)."""
    sessions: dict[str, Session] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row: dict[str, Any] = json.loads(line)
            turns = _hh_turns(str(row["chosen"]))
            if len(turns) < 2 or turns[0][0] != "user":
                continue
            session_id = "hh-" + short_hash(turns[0][1])
            session = sessions.get(session_id)
            if session is None:
                session = Session("hh", session_id, Turn(f"{session_id}/0", "user", turns[0][1]))
                sessions[session_id] = session
            node = session.root
            for role, text in turns[1:]:
                node = _child(node, role, text)
    return list(sessions.values())


def _oasst_node(message: dict[str, Any], turn_id: str, parent: Turn | None) -> Turn:
    role: Role = "user" if message["role"] == "prompter" else "assistant"
    emojis = {str(k): int(v) for k, v in (message.get("emojis") or {}).items() if not str(k).startswith("_")}
    node = Turn(turn_id, role, str(message["text"]).strip(), parent, reactions=emojis if role == "assistant" else {})
    for index, reply in enumerate(message.get("replies") or []):
        if reply.get("deleted"):
            continue
        node.replies.append(_oasst_node(reply, f"{turn_id}.{index}", node))
    return node


def load_oasst(path: Path = OASST_FILE) -> list[Session]:
    """oasst1 message trees, one session each."""
    sessions: list[Session] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            session_id = "oasst-" + str(row["message_tree_id"])[:8]
            sessions.append(Session("oasst", session_id, _oasst_node(row["prompt"], f"{session_id}/0", None)))
    return sessions


def load_sessions(source: Source) -> list[Session]:
    return load_hh() if source == "hh" else load_oasst()


def load_lottery(path: Path = LOTTERY_FILE) -> list[str]:
    """The 250 oasst lottery prompts: plain requests unrelated to any learnt log."""
    prompts: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            value = json.loads(line)  # each line is a JSON string (the README's {"text": ...} shape also read)
            text = str(value["text"] if isinstance(value, dict) else value).strip()
            if text:
                prompts.append(text)
    return prompts
