"""Tolerant JSON parsing of model replies, and the ledger's sums (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from uno.ledger import CallRecord, Ledger, ResponseCache
from uno.llm import JSONParseError, parse_json_object
from uno.llm.parsing import describe_validation_error, validate_reply


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": [1, 2,],}\n```', {"a": [1, 2]}),
        ('<think>{"draft": true}</think>Here it is: {"a": "x}y"} hope that helps', {"a": "x}y"}),
        ("Sure! {'a': True, 'b': None}", {"a": True, "b": None}),
        ('{"quote": "he said \\"stop\\", then left",}', {"quote": 'he said "stop", then left'}),
        ("{“a”: 1}", {"a": 1}),
        ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),
        ('not json {broken} then {"a": 2}', {"a": 2}),
    ],
)
def test_parse_json_object(reply: str, expected: dict[str, object]) -> None:
    assert parse_json_object(reply) == expected


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("", "empty"),
        ("I cannot help with that.", "contains no JSON object"),
        ('{"a": [1, 2', "not closed"),
        ("[1, 2, 3]", "no JSON object"),
        ("{broken}", "could not parse"),
    ],
)
def test_parse_errors_say_what_is_wrong(reply: str, message: str) -> None:
    with pytest.raises(JSONParseError, match=message):
        parse_json_object(reply)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # Slips the hand-written repair (trailing commas, smart quotes, literal_eval) did not mend; json-repair does.
        ('{verdict: "good", score: 9}', {"verdict": "good", "score": 9}),
        ('{"a": 1 "b": 2}', {"a": 1, "b": 2}),
        ('{"a": 1, // the second one\n "b": 2}', {"a": 1, "b": 2}),
        ("{'a': True, \"b\": null}", {"a": True, "b": None}),
    ],
)
def test_json_repair_mends_what_the_old_parser_rejected(reply: str, expected: dict[str, object]) -> None:
    assert parse_json_object(reply) == expected


def test_a_repaired_bare_word_is_still_validated() -> None:
    # json-repair reads a bare word as a string; the schema on top still rejects it where a number is due.
    assert parse_json_object('{"left": one, "right": 2}') == {"left": "one", "right": 2}
    with pytest.raises(ValidationError, match="left"):
        validate_reply('{"left": one, "right": 2}', Pair)


class Pair(BaseModel):
    left: int
    right: int


def test_validation_errors_are_described_for_the_reask() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_reply('{"left": "x"}', Pair)
    assert describe_validation_error(raised.value).splitlines() == [
        "- left: Input should be a valid integer, unable to parse string as an integer",
        "- right: Field required",
    ]


def test_ledger_sums_by_purpose_and_sub_purpose(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "llm.sqlite")
    ledger.record(CallRecord("m", "gap.prior", "h1", tokens_in=10, tokens_out=5, cost_usd=0.01, latency_s=0.5))
    ledger.record(CallRecord("m", "gap.coverage", "h2", tokens_in=3, tokens_out=1, attempts=2))
    ledger.record(CallRecord("m", "gap.coverage", "h2", cached=True, tokens_in=3, tokens_out=1))
    ledger.record(CallRecord("m", "distill", "h3", outcome="error", attempts=5, error="429"))
    ledger.record(CallRecord("m", "gapless", "h4"))
    gap = ledger.usage("gap")
    assert {k: gap[k] for k in ("calls", "ok", "cache_hits", "attempts", "tokens_in", "tokens_out")} == {
        "calls": 2,
        "ok": 2,
        "cache_hits": 1,
        "attempts": 3,
        "tokens_in": 13,
        "tokens_out": 6,
    }
    assert gap["cost_usd"] == 0.01
    assert ledger.usage("distill")["errors"] == 1 and ledger.usage("distill")["cost_usd"] is None
    assert sorted(ledger.usage_by_purpose()) == ["distill", "gap.coverage", "gap.prior", "gapless"]
    assert ledger.usage()["calls"] == 4
    assert [c.purpose for c in Ledger(tmp_path / "llm.sqlite").calls("gap.coverage")] == ["gap.coverage"] * 2


def test_response_cache_forgets_by_source(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "llm.sqlite")
    cache.put("k1", "m", {"text": "a"}, sources=["log-1", "log-2"])
    cache.put("k2", "m", {"text": "b"}, sources=["log-2"])
    cache.put("k3", "m", {"text": "c"})
    assert cache.get("k1") == {"text": "a"} and len(cache) == 3
    assert cache.forget_sources(["log-2"]) == 2
    assert cache.get("k1") is None and cache.get("k3") == {"text": "c"}
    assert cache.forget_sources(["log-1"]) == 0
