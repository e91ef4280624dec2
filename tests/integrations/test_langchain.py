"""LangChain: ``memory.as_runnable(chat_model)`` and ``UnoRetriever``.

The wrapped chat model talks over real HTTP to the scripted upstream on 127.0.0.1 (and, in the last test, to uno's
own proxy), so what the model was sent is checked on the wire. The memory is real (SQLite, FAISS).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rule_store.records import FollowupFeedback, LogRecord, ReactionFeedback
from tests.integrations.chat_model import LoopbackChatModel
from tests.integrations.conftest import Tenant
from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, ROASTING, UNRELATED_QUERY, training_logs
from tests.integrations.serving import LiveServer
from tests.integrations.upstream import ScriptedUpstream, system_text
from uno import UnoMemory
from uno.inject import BLOCK_OPEN
from uno.integrations.langchain import UnoChatRunnable, UnoRetriever


@pytest.fixture
def model(upstream: ScriptedUpstream) -> LoopbackChatModel:
    return LoopbackChatModel(base_url=upstream.base_url)


def stored(memory: UnoMemory, log_id: Any) -> LogRecord:
    assert isinstance(log_id, str)
    found = memory.store.get_logs([log_id])
    assert found, f"log {log_id} is not stored"
    return found[0]


def uno_details(message: BaseMessage) -> dict[str, Any]:
    details = message.response_metadata["uno"]
    assert isinstance(details, dict)
    return details


def rule_id(memory: UnoMemory, aspect: str) -> str:
    return next(r.id for r in memory.rules() if r.aspect == aspect)


# --- the runnable


def test_invoke_sends_the_memory_to_the_model_and_logs_only_the_users_messages(
    trained: UnoMemory, model: LoopbackChatModel, upstream: ScriptedUpstream
) -> None:
    runnable = trained.as_runnable(model)
    assert isinstance(runnable, UnoChatRunnable)

    answer = runnable.invoke([SystemMessage("You are the support bot."), HumanMessage(PLAN_QUERY)])

    sent = upstream.requests[-1]
    assert sent["messages"][0]["role"] == "system"
    assert sent["messages"][0]["content"].startswith("You are the support bot.\n\n")
    assert BLOCK_OPEN in sent["messages"][0]["content"] and "YES or NO" in sent["messages"][0]["content"]
    assert sent["messages"][-1] == {"role": "user", "content": PLAN_QUERY}
    assert isinstance(answer, AIMessage)
    assert answer.content.startswith("scripted reply #") and PLAN_QUERY in answer.content
    details = uno_details(answer)
    assert details["rule_ids"] == [rule_id(trained, "answer:yes_no")]
    assert details["route"] == "primary"
    log = stored(trained, details["log_id"])
    assert [(m.role, m.content) for m in log.messages] == [
        ("system", "You are the support bot."),
        ("user", PLAN_QUERY),
        ("assistant", answer.content),
    ]
    assert log.metadata == {"source": "langchain", "injected_rule_ids": details["rule_ids"]}


def test_feedback_attaches_to_the_returned_log_id(trained: UnoMemory, model: LoopbackChatModel) -> None:
    answer = trained.as_runnable(model).invoke(ROAST_QUERY)
    log_id = uno_details(answer)["log_id"]

    trained.feedback(log_id, {"kind": "reaction", "value": "dislike"})

    assert stored(trained, log_id).feedback == [ReactionFeedback(value="dislike")]


def test_chain_with_prompt_and_parser_streams_and_logs(
    trained: UnoMemory, model: LoopbackChatModel, upstream: ScriptedUpstream
) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are a cooking assistant."), ("human", "{question}")])
    chain = prompt | trained.as_runnable(model) | StrOutputParser()

    pieces = list(chain.stream({"question": ROAST_QUERY}))

    text = "".join(pieces)
    assert len([p for p in pieces if p]) > 3, "the answer arrives in pieces"
    assert text.startswith("scripted reply #") and ROAST_QUERY in text
    assert "Keep the answer short." in system_text(upstream.requests[-1])
    logs = [log for log in trained.store.iter_logs() if log.metadata.get("source") == "langchain"]
    assert [(m.role, m.content) for m in logs[-1].messages] == [
        ("system", "You are a cooking assistant."),
        ("user", ROAST_QUERY),
        ("assistant", text),
    ]


def test_stream_ends_with_a_chunk_carrying_the_log_id(trained: UnoMemory, model: LoopbackChatModel) -> None:
    chunks = list(trained.as_runnable(model).stream(PLAN_QUERY))

    whole = chunks[0]
    for chunk in chunks[1:]:
        whole = whole + chunk
    assert chunks[-1].content == ""
    details = uno_details(whole)
    assert stored(trained, details["log_id"]).response == whole.content


def test_async_and_batch_calls_each_log_their_own_exchange(trained: UnoMemory, model: LoopbackChatModel) -> None:
    runnable = trained.as_runnable(model)
    questions = [f"{query} (batch {n})" for n, query in enumerate(ROASTING[:3])]

    async def run_async() -> tuple[BaseMessage, list[BaseMessage], list[BaseMessage]]:
        single = await runnable.ainvoke(PLAN_QUERY)
        batch = await runnable.abatch(questions)
        streamed = [chunk async for chunk in runnable.astream(ROAST_QUERY)]
        return single, batch, streamed

    single, async_batch, streamed = asyncio.run(run_async())
    sync_batch = runnable.batch(questions)

    answers = [single, *async_batch, *sync_batch]
    log_ids = [uno_details(answer)["log_id"] for answer in answers] + [uno_details(streamed[-1])["log_id"]]
    for answer in answers:
        assert stored(trained, uno_details(answer)["log_id"]).response == answer.content
    assert len(set(log_ids)) == len(log_ids), "every call is a log of its own"
    assert [stored(trained, uno_details(a)["log_id"]).query for a in sync_batch] == questions


def test_the_users_next_turn_becomes_a_followup_on_the_previous_answer(
    trained: UnoMemory, model: LoopbackChatModel
) -> None:
    runnable = trained.as_runnable(model)
    first = runnable.invoke([HumanMessage(ROAST_QUERY)])
    history = [HumanMessage(ROAST_QUERY), first, HumanMessage("too long, keep it short")]

    second = runnable.invoke(history)
    runnable.invoke(history)  # a retried request: the follow-up is not recorded twice

    first_log = stored(trained, uno_details(first)["log_id"])
    assert first_log.feedback == [FollowupFeedback(text="too long, keep it short", turn=1)]
    assert uno_details(second)["previous_log_id"] == first_log.id
    second_log = stored(trained, uno_details(second)["log_id"])
    # Only what is new since the logged answer: the follow-up counts once, on the first log.
    assert [(m.role, m.content) for m in second_log.messages] == [
        ("user", "too long, keep it short"),
        ("assistant", second.content),
    ]
    assert second_log.metadata["previous_log_id"] == first_log.id


def test_user_id_from_the_config_tags_the_log(trained: UnoMemory, model: LoopbackChatModel) -> None:
    answer = trained.as_runnable(model, user_id="default-user").invoke(
        PLAN_QUERY, config={"configurable": {"user_id": "u-langchain"}}
    )

    assert stored(trained, uno_details(answer)["log_id"]).user_id == "u-langchain"


def test_a_query_unlike_anything_learnt_reaches_the_model_unchanged(
    trained: UnoMemory, model: LoopbackChatModel, upstream: ScriptedUpstream
) -> None:
    answer = trained.as_runnable(model).invoke(UNRELATED_QUERY)

    assert upstream.requests[-1]["messages"] == [{"role": "user", "content": UNRELATED_QUERY}]
    assert uno_details(answer)["route"] == "none" and uno_details(answer)["rule_ids"] == []


def test_record_false_augments_without_logging(trained: UnoMemory, model: LoopbackChatModel) -> None:
    before = trained.store.count_logs()

    answer = trained.as_runnable(model, record=False).invoke(PLAN_QUERY)

    assert uno_details(answer)["log_id"] is None and uno_details(answer)["rule_ids"]
    assert trained.store.count_logs() == before


def test_a_chain_reaches_uno_through_the_live_proxy(live: LiveServer, tenant: Tenant) -> None:
    """LangChain -> uno's OpenAI-compatible proxy (a real server) -> the scripted upstream."""
    with httpx.Client(base_url=live.base_url, headers=tenant.headers, timeout=30.0) as http:
        assert http.post("/v1/logs", json={"logs": training_logs("lc-")}).status_code == 200
        assert http.post("/v1/build").status_code == 200
        model = LoopbackChatModel(base_url=f"{live.base_url}/v1", api_key=tenant.key, model="gpt-4o-mini")
        chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | model

        answer = chain.invoke({"question": PLAN_QUERY})

        proxy = answer.response_metadata["proxy"]
        assert proxy["rule_ids"], "the proxy injected the yes/no rule"
        log = http.get(f"/v1/logs/{proxy['log_id']}").json()
        assert [m["content"] for m in log["messages"]] == [PLAN_QUERY, answer.content]


# --- the retriever


def test_retriever_returns_rules_as_documents(trained: UnoMemory) -> None:
    documents = UnoRetriever(memory=trained, k=3).invoke(ROAST_QUERY)

    assert len(documents) == 3
    rules = {r.id: r for r in trained.rules()}
    for document in documents:
        rule = rules[document.metadata["rule_id"]]
        assert document.id == rule.id
        assert document.page_content == rule.text
        assert document.metadata["source_log_ids"] == rule.source_log_ids
        assert document.metadata["status"] == "active"


def test_retriever_in_augment_mode_returns_what_augment_injects(trained: UnoMemory) -> None:
    retriever = UnoRetriever(memory=trained, search_type="augment")

    documents = retriever.invoke(ROAST_QUERY)

    injected = trained.augment(ROAST_QUERY).rules
    assert [d.metadata["rule_id"] for d in documents] == [r.rule_id for r in injected]
    assert [d.metadata["aspect"] for d in documents] == ["length:short"]
    assert retriever.invoke(UNRELATED_QUERY) == []


def test_retriever_takes_k_and_user_per_call(trained: UnoMemory) -> None:
    retriever = UnoRetriever(memory=trained, k=3)
    one = retriever.invoke(PLAN_QUERY, k=1)
    mine = retriever.invoke(PLAN_QUERY, user_id="sub0")

    assert len(one) == 1
    for document in mine:
        logs = trained.store.get_logs(document.metadata["source_log_ids"])
        assert {log.user_id for log in logs} <= {"sub0"}, "a user sees only their own logs as provenance"


_STANDARD_MEMORY: dict[str, UnoMemory] = {}


# The suite's one async test needs pytest-asyncio's mark; on the class, the sync tests get it too, and warn.
@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The test <Function:pytest.PytestWarning")
class TestUnoRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' standard retriever suite."""

    @pytest.fixture(autouse=True)
    def _memory(self, trained: UnoMemory) -> None:
        # The suite builds retrievers from properties, which cannot take fixtures.
        _STANDARD_MEMORY["memory"] = trained

    @property
    def retriever_constructor(self) -> type[UnoRetriever]:
        return UnoRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": _STANDARD_MEMORY["memory"], "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return ROAST_QUERY
