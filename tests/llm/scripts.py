"""Scripts for the scripted server: a rule-of-thumb "model" that answers uno's prompts the way an LLM would.

The server side reads the request the real client sent (the quoted <log> block, the system prompt) and answers
from fixed rules, so tests can assert exactly what uno asked and how it used the answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.llm.server import Reply, Script, json_reply, system_text, user_text

_LOG_BLOCK = re.compile(r"<log>\n(.*)\n</log>", re.DOTALL)


def log_payload(body: dict[str, Any]) -> dict[str, Any] | None:
    """The quoted log of a distillation request (None for other requests)."""
    found = _LOG_BLOCK.search(user_text(body))
    return json.loads(found.group(1)) if found else None


def is_distill(body: dict[str, Any]) -> bool:
    return log_payload(body) is not None


def feedback_texts(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(item id, text) for each written feedback item (follow-up text or edited answer)."""
    out = []
    for item in payload["feedback"]:
        text = item.get("text") or item.get("edited_answer")
        if text:
            out.append((item["id"], text))
    return out


def first_query(payload: dict[str, Any]) -> str:
    return str(next(turn["text"] for turn in payload["conversation"] if turn["role"] == "user"))


def rule(item_id: str, evidence: str, do: str, **extra: Any) -> dict[str, Any]:
    return {"feedback_id": item_id, "evidence": evidence, "when": "the user asks a question", "do": do, **extra}


def experience(failure: str, critique: str, guidance: str) -> dict[str, str]:
    return {"failure_mode": failure, "critique": critique, "revision_guidance": guidance}


def read_feedback(payload: dict[str, Any]) -> dict[str, Any]:
    """What the scripted model makes of a log's feedback."""
    rules: list[dict[str, Any]] = []
    verdict = "off_topic"
    critique = None
    for item_id, text in feedback_texts(payload):
        lowered = text.lower()
        if "too long" in lowered or "shorter" in lowered:
            verdict = "actionable"
            rules.append(rule(item_id, text.split(",")[0], "Keep answers brief.", canonical="short"))
        elif "yes or no" in lowered:
            verdict = "actionable"
            rules.append(rule(item_id, "yes or no", "Answer with only yes or no.", canonical="yes_no"))
        elif "deadline is" in lowered:
            verdict = "actionable"
            year = re.search(r"\d{4}", first_query(payload))
            topic = year.group(0) if year else "this year"
            rules.append(rule(item_id, "the deadline is", f"Check the official filing deadline for {topic}."))
            critique = experience("wrong date", f"The user said: {text}", "Verify dates against the official calendar.")
        elif "thanks" in lowered or "perfect" in lowered:
            verdict = "satisfied"
    reply: dict[str, Any] = {"verdict": verdict, "reasons": [f"read as {verdict}"], "rules": rules}
    if critique:
        reply["experience"] = critique
    return reply


def harm_verdicts(body: dict[str, Any]) -> Reply | None:
    """The harm check's answer (nothing in these tests is harmful); None for other requests."""
    text = user_text(body)
    if "<requests>\n" not in text:
        return None
    quoted = json.loads(text.split("<requests>\n", 1)[1].split("\n</requests>", 1)[0])
    return json_reply({"verdicts": [{"index": item["index"], "harmful": False} for item in quoted]})


def reader(body: dict[str, Any]) -> Reply:
    """Answer a distillation request from the feedback it quotes, a harm check with "fine"; else a plain answer."""
    harm = harm_verdicts(body)
    if harm is not None:
        return harm
    payload = log_payload(body)
    if payload is None:
        return Reply(content="A plain answer.")
    return json_reply(read_feedback(payload))


def failing_on(marker: str, failing: dict[str, bool], fallback: Script) -> Script:
    """A script that answers garbage to requests quoting ``marker`` while ``failing["on"]`` is true."""

    def script(body: dict[str, Any]) -> Reply:
        if failing["on"] and marker in user_text(body):
            return Reply(content="I'm sorry, I cannot produce JSON today {")
        return fallback(body)

    return script


def is_system(body: dict[str, Any], start: str) -> bool:
    return system_text(body).startswith(start)
