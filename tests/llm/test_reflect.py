"""respond(): one call on the primary route, draft -> critique -> revise on the reflective route."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rule_store.records import Route
from tests.llm.conftest import LLMFactory
from tests.llm.scripts import is_system, reader
from tests.llm.server import Reply, ScriptedServer, user_text
from tests.llm.test_memory_llm import COOKING, LONG_ANSWER
from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.distill.catalog import CATALOG
from uno.embed import HashingEmbedder
from uno.inject import BLOCK_OPEN, REFLECTIVE_NOTE
from uno.ledger import Ledger
from uno.llm import LiteLLM
from uno.reflect import NO_CHANGES, Response

TAX = [
    "When is the federal tax filing deadline for 2019?",
    "When is the federal tax filing deadline for 2020?",
    "When is the federal tax filing deadline for 2021?",
    "When is the federal tax filing deadline for 2022?",
    "When is the federal tax filing deadline for 2023?",
]
TAX_ANSWER = "The federal tax filing deadline is usually at the end of March, unless it falls on a weekend."


def training_logs() -> list[dict[str, Any]]:
    out = [
        {"user_id": f"cook{n}", "query": q, "response": LONG_ANSWER, "feedback": [followup("too long, keep it short")]}
        for n, q in enumerate(COOKING)
    ]
    out += [
        {
            "user_id": f"tax{n}",
            "query": q,
            "response": TAX_ANSWER,
            "feedback": [followup("that's wrong, the deadline is April 15")],
        }
        for n, q in enumerate(TAX)
    ]
    return out


def followup(text: str) -> dict[str, str]:
    return {"kind": "followup", "text": text}


def answering(critique: str = "1. State the correct date, April 15.") -> Any:
    def script(body: dict[str, Any]) -> Reply:
        if is_system(body, "You play a demanding user"):
            return Reply(content=critique)
        if is_system(body, "Revise an answer"):
            return Reply(content="The deadline is April 15.")
        if "<log>" in user_text(body):
            return reader(body)
        return Reply(content="DRAFT: the deadline is in March.")

    return script


@pytest.fixture
def memory(server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path) -> UnoMemory:
    server.script = answering()
    store = tmp_path / "store"
    llm = make_llm(ledger=None, cache=None)
    llm.bind_store(store)
    mem = UnoMemory(
        store,
        llm=llm,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
    )
    mem.add_many(training_logs())
    mem.build()
    routes = {c.route for c in mem.store.list_clusters()}
    assert routes == {Route.PRIMARY, Route.REFLECTIVE}
    server.requests.clear()
    return mem


def test_primary_route_is_one_call_with_the_rules(memory: UnoMemory, server: ScriptedServer) -> None:
    response = memory.respond("How long should I roast a chicken in the oven?", system_prompt="You are a cook.")
    assert isinstance(response, Response)
    assert (response.route, response.llm_calls, server.count) == (Route.PRIMARY, 1, 1)
    assert response.answer == "DRAFT: the deadline is in March."  # whatever the model said
    assert [r.do for r in response.rules] == [CATALOG["short"].do]
    [body] = server.requests
    system = body["messages"][0]["content"]
    assert system.startswith("You are a cook.") and BLOCK_OPEN in system and CATALOG["short"].do in system
    assert response.draft is None and response.critique is None


def test_reflective_route_drafts_critiques_and_revises(memory: UnoMemory, server: ScriptedServer) -> None:
    response = memory.respond("When is the federal tax filing deadline for 2024?")
    assert (response.route, response.llm_calls, server.count) == (Route.REFLECTIVE, 3, 3)
    assert response.draft == "DRAFT: the deadline is in March."
    assert response.critique == "1. State the correct date, April 15."
    assert response.answer == "The deadline is April 15."
    assert response.experience_ids
    draft, critique, revise = server.requests
    assert REFLECTIVE_NOTE not in draft["messages"][0]["content"]
    # The critic sees the cluster's stored experiences (what users said before) and the draft, quoted as data.
    assert "the deadline is April 15" in user_text(critique) and "DRAFT: the deadline is in March." in user_text(
        critique
    )
    assert "1. State the correct date, April 15." in user_text(revise)
    usage = Ledger.for_store(memory.paths.root).usage_by_purpose()
    assert {p: u["calls"] for p, u in usage.items() if p.startswith("respond")} == {
        "respond.critique": 1,
        "respond.draft": 1,
        "respond.revise": 1,
    }


def test_no_revision_when_the_critic_is_satisfied(memory: UnoMemory, server: ScriptedServer) -> None:
    server.script = answering(critique=NO_CHANGES)
    response = memory.respond("When is the federal tax filing deadline for 2024?")
    assert (response.route, response.llm_calls, server.count) == (Route.REFLECTIVE, 2, 2)
    assert response.answer == response.draft


def test_augment_returns_the_same_plan(memory: UnoMemory) -> None:
    augmentation = memory.augment("When is the federal tax filing deadline for 2024?")
    assert augmentation.route is Route.REFLECTIVE and augmentation.plan is not None
    assert augmentation.plan.steps == ["draft", "critique", "revise"]


def test_respond_takes_another_llm(memory: UnoMemory, server: ScriptedServer) -> None:
    other = LiteLLM("openai/other", api_base=server.base_url, api_key="sk-test")
    response = memory.respond("What is a good name for a goldfish?", llm=other)
    assert (response.route, response.llm_calls) == (Route.NONE, 1)
    assert server.requests[0]["messages"] == [{"role": "user", "content": "What is a good name for a goldfish?"}]
    assert Ledger.for_store(memory.paths.root).usage("respond.answer")["calls"] == 1


def test_respond_needs_an_llm(tmp_path: Path) -> None:
    memory = UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256))
    with pytest.raises(ValueError, match="needs an LLM"):
        memory.respond("hi")
