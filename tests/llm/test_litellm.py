"""LiteLLM over real HTTP against the scripted server: retries, timeouts, re-asks, cache, ledger, concurrency."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from tests.llm.conftest import LLMFactory
from tests.llm.server import RATE_LIMITED, SERVER_ERROR, Reply, ScriptedServer, hang, is_reask, json_reply
from uno.ledger import Ledger
from uno.llm import LLM, LLMCallError, LLMOutputError, run_sync

HELLO = [{"role": "user", "content": "Say hello."}]


class Verdict(BaseModel):
    verdict: str
    score: int = Field(ge=1, le=10)


def test_is_an_llm(make_llm: LLMFactory) -> None:
    assert isinstance(make_llm(), LLM)


def test_complete_records_tokens_and_latency(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(content="hello there"))
    llm = make_llm()
    completion = llm.complete(HELLO, purpose="respond")
    assert completion.text == "hello there"
    assert (completion.tokens_in, completion.tokens_out) == (2, 2)
    usage = llm.ledger.usage("respond")
    assert usage | {"latency_s": 0} == {
        "calls": 1,
        "ok": 1,
        "invalid": 0,
        "errors": 0,
        "cache_hits": 0,
        "attempts": 1,
        "tokens_in": 2,
        "tokens_out": 2,
        "cost_usd": None,  # litellm has no price for a local model
        "latency_s": 0,
    }
    assert usage["latency_s"] > 0


def test_rate_limit_is_retried_with_backoff(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(RATE_LIMITED, RATE_LIMITED, Reply(content="finally"))
    llm = make_llm(backoff_base=0.05, backoff_max=1.0)
    started = time.perf_counter()
    assert llm.complete(HELLO).text == "finally"
    # Two waits: 0.05 * [0.5, 1] then 0.1 * [0.5, 1].
    assert time.perf_counter() - started >= 0.075
    assert server.count == 3
    [call] = llm.ledger.calls()
    assert (call.outcome, call.attempts) == ("ok", 3)


def test_server_errors_until_retries_run_out(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = lambda body: SERVER_ERROR
    llm = make_llm(max_retries=2)
    with pytest.raises(LLMCallError, match="after 3 attempts") as raised:
        llm.complete(HELLO, purpose="distill")
    assert raised.value.attempts == 3
    assert server.count == 3
    assert llm.ledger.usage("distill") | {"latency_s": 0} == {
        "calls": 1,
        "ok": 0,
        "invalid": 0,
        "errors": 1,
        "cache_hits": 0,
        "attempts": 3,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": None,
        "latency_s": 0,
    }


def test_a_bad_request_is_not_retried(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(status=400, content="no such parameter"))
    llm = make_llm()
    with pytest.raises(LLMCallError, match="after 1 attempt:"):
        llm.complete(HELLO)
    assert server.count == 1


def test_a_hang_past_the_timeout_is_retried(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(hang(3.0), Reply(content="quick now"))
    llm = make_llm(timeout=0.3)
    started = time.perf_counter()
    assert llm.complete(HELLO).text == "quick now"
    assert time.perf_counter() - started < 2.5
    assert server.count == 2
    assert llm.ledger.calls()[0].attempts == 2


def test_structured_reasks_once_with_the_error(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(content='Sure! {"verdict": "good", "score": 11'), json_reply({"verdict": "good", "score": 9}))
    llm = make_llm()
    assert llm.structured(HELLO, Verdict, purpose="judge") == Verdict(verdict="good", score=9)
    first, second = server.requests
    assert first["response_format"] == {"type": "json_object"}
    assert "JSON schema" in first["messages"][0]["content"]
    assert is_reask(second) and not is_reask(first)
    assert "not closed" in second["messages"][-1]["content"]
    assert [c.outcome for c in llm.ledger.calls("judge")] == ["invalid", "ok"]


def test_structured_tolerates_fences_and_trailing_commas(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(content='<think>hmm</think>\n```json\n{"verdict": "fine", "score": 7,}\n```\nDone.'))
    assert make_llm().structured(HELLO, Verdict) == Verdict(verdict="fine", score=7)
    assert server.count == 1


def test_structured_gives_up_after_one_reask(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = lambda body: json_reply({"verdict": "good", "score": 42})
    llm = make_llm()
    with pytest.raises(LLMOutputError, match="score") as raised:
        llm.structured(HELLO, Verdict)
    assert json.loads(raised.value.raw)["score"] == 42
    assert server.count == 2
    assert llm.ledger.usage()["invalid"] == 2


def test_identical_calls_hit_the_cache(server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path) -> None:
    server.script = lambda body: json_reply({"verdict": "good", "score": 8})
    llm = make_llm()
    first = llm.structured(HELLO, Verdict, sources=["log-1"])
    assert llm.structured(HELLO, Verdict) == first
    assert llm.complete(HELLO).text == llm.complete(HELLO).text
    assert server.count == 2  # one structured, one plain
    # The cache is on disk: a new client over the same file makes no request either.
    again = make_llm()
    assert again.structured(HELLO, Verdict) == first
    assert server.count == 2
    usage = Ledger(tmp_path / "llm.sqlite").usage()
    assert (usage["calls"], usage["cache_hits"]) == (2, 3)
    # Forgetting a log drops the replies whose prompt quoted it.
    assert llm.cache is not None and llm.cache.forget_sources(["log-1"]) == 1
    again.structured(HELLO, Verdict)
    assert server.count == 3


def test_invalid_replies_are_not_cached(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(content="nope"), Reply(content="still nope"))
    server.script = lambda body: json_reply({"verdict": "ok", "score": 5})
    llm = make_llm()
    with pytest.raises(LLMOutputError):
        llm.structured(HELLO, Verdict)
    assert llm.structured(HELLO, Verdict).score == 5
    assert server.count == 3


def test_cache_off_asks_every_time(server: ScriptedServer, make_llm: LLMFactory) -> None:
    llm = make_llm(use_cache=False)
    llm.complete(HELLO)
    llm.complete(HELLO)
    assert server.count == 2


def test_async_calls_respect_the_concurrency_bound(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = lambda body: Reply(content=body["messages"][-1]["content"], delay=0.15)
    llm = make_llm(max_concurrency=3)

    async def fan_out() -> list[str]:
        calls = [llm.acomplete([{"role": "user", "content": f"q{n}"}]) for n in range(9)]
        return [c.text for c in await asyncio.gather(*calls)]

    assert run_sync(fan_out()) == [f"q{n}" for n in range(9)]
    assert server.max_in_flight == 3


def test_sync_calls_from_threads_respect_the_bound(server: ScriptedServer, make_llm: LLMFactory) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server.script = lambda body: Reply(content="x", delay=0.1)
    llm = make_llm(max_concurrency=2, use_cache=False)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: llm.complete([{"role": "user", "content": str(n)}]), range(6)))
    assert server.max_in_flight == 2


def test_async_retries_and_reask(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(RATE_LIMITED, Reply(content="{bad json"), json_reply({"verdict": "v", "score": 3}))
    llm = make_llm()
    assert run_sync(llm.astructured(HELLO, Verdict)).score == 3
    assert server.count == 3
    assert [(c.outcome, c.attempts) for c in llm.ledger.calls()] == [("invalid", 2), ("ok", 1)]


def test_async_retries_run_out_and_each_wait_is_logged(
    server: ScriptedServer, make_llm: LLMFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # The retry loop is tenacity's (sync and async alike): the same stop, wait and attempt count as the old loop.
    server.script = lambda body: SERVER_ERROR
    llm = make_llm(max_retries=2, backoff_base=0.01)
    with caplog.at_level("INFO", logger="uno.llm"), pytest.raises(LLMCallError, match="after 3 attempts") as raised:
        run_sync(llm.acomplete(HELLO, purpose="distill"))
    assert raised.value.attempts == 3 and server.count == 3
    assert [(c.outcome, c.attempts) for c in llm.ledger.calls()] == [("error", 3)]
    waits = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(waits) == 2 and "(attempt 1)" in waits[0] and "(attempt 2)" in waits[1]


def test_logprobs_are_read(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(Reply(content="yes", logprobs=[{"yes": -0.1, "no": -2.5}]))
    completion = make_llm().complete(HELLO, logprobs=5, max_tokens=1)
    assert server.requests[0]["logprobs"] is True and server.requests[0]["top_logprobs"] == 5
    assert completion.top_logprobs == ({"yes": -0.1, "no": -2.5},)


def test_schema_mode_falls_back_when_refused(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.queue(
        Reply(status=400, content="response_format json_schema is not supported"),
        json_reply({"verdict": "v", "score": 2}),
    )
    llm = make_llm(structured_mode="json_schema")
    assert llm.structured(HELLO, Verdict).score == 2
    assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert server.requests[1]["response_format"] == {"type": "json_object"}
    assert llm.structured_mode == "json_object"


def test_model_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from uno.llm import LiteLLM

    monkeypatch.delenv("UNO_LLM_MODEL", raising=False)
    with pytest.raises(ValueError, match="UNO_LLM_MODEL"):
        LiteLLM()
    monkeypatch.setenv("UNO_LLM_MODEL", "openai/from-env")
    assert LiteLLM().model == "openai/from-env"


def test_bind_store_moves_ledger_and_cache_to_the_store(server: ScriptedServer, tmp_path: Path) -> None:
    from uno.llm import LiteLLM

    llm = LiteLLM("openai/scripted", api_base=server.base_url, api_key="sk-test")
    assert llm.ledger.path is None and llm.cache is None
    llm.bind_store(tmp_path / "store")
    llm.complete(HELLO, purpose="respond")
    assert (tmp_path / "store" / "llm.sqlite").is_file()
    assert Ledger.for_store(tmp_path / "store").usage("respond")["calls"] == 1
