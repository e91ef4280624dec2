"""``memory.as_runnable(model)`` is a real LangChain chat model: langchain-tests' standard suites, plus what a
wrapper must pass through (tools, structured output, streaming, callbacks) with uno's memory on every call.

The wrapped model is the in-process scripted chat model (a stand-in for a remote provider); the memory is real
(SQLite, FAISS, the hashing embedder).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.tools import tool
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests
from pydantic import BaseModel, Field

from tests.integrations.data import PLAN_QUERY, trained_memory
from tests.integrations.scripted_chat import ScriptedChatModel
from uno import UnoMemory
from uno.inject import BLOCK_OPEN
from uno.integrations.langchain import UnoChatModel

_MEMORY: dict[str, UnoMemory] = {}


@pytest.fixture(scope="module")
def shared_memory(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with trained_memory(tmp_path_factory.mktemp("lc-standard") / "store") as memory:
        _MEMORY["memory"] = memory
        yield memory
        _MEMORY.clear()


class _WrapperParams:
    """The suites build the model from properties (no fixtures): the memory comes from a module fixture."""

    @pytest.fixture(autouse=True)
    def _memory(self, shared_memory: UnoMemory) -> None:
        pass

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return UnoChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"memory": _MEMORY["memory"], "chat_model": ScriptedChatModel()}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        # A per-call `model=` must reach the wrapped model (the scripted one reports it as its model name).
        return "scripted-2"


@pytest.fixture
def benchmark() -> None:
    """The suites' timing benchmarks need pytest-benchmark, which the project does not install."""
    pytest.skip("pytest-benchmark is not installed: the suites' timing benchmarks (init, stream) are not run")


class TestUnoChatModelUnit(_WrapperParams, ChatModelUnitTests):
    """langchain-tests' standard unit tests for chat models."""


# The suite's async tests need pytest-asyncio's mark; on the class, the sync tests get it too, and warn.
@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore:The test <Function:pytest.PytestWarning")
class TestUnoChatModelIntegration(_WrapperParams, ChatModelIntegrationTests):
    """langchain-tests' standard integration tests, over the scripted model."""


# --- what the wrapper adds and passes through


@pytest.fixture
def memory(tmp_path: Path) -> Any:
    with trained_memory(tmp_path / "store") as trained:
        yield trained


def sent_system(model: ScriptedChatModel) -> str:
    first = model.sent[-1][0]
    return first.text if first.type == "system" else ""


@tool
def lookup_plan(plan_id: int) -> str:
    """Look up a subscription plan by its number."""
    return f"plan {plan_id}"


class Verdict(BaseModel):
    """Whether the request can be done."""

    answer: str = Field(description="YES or NO")
    days: int = Field(description="How many days it takes")


def test_as_runnable_is_a_chat_model_that_injects_the_memory(memory: UnoMemory) -> None:
    scripted = ScriptedChatModel()
    model = memory.as_runnable(scripted)

    answer = model.invoke(PLAN_QUERY)

    assert isinstance(model, BaseChatModel) and isinstance(answer, AIMessage)
    assert BLOCK_OPEN in sent_system(scripted) and "YES or NO" in sent_system(scripted)
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] > 0
    assert memory.store.get_logs([answer.response_metadata["uno"]["log_id"]])[0].response == answer.content


def test_bind_tools_passes_the_tools_to_the_wrapped_model_with_memory(memory: UnoMemory) -> None:
    scripted = ScriptedChatModel()
    bound = memory.as_runnable(scripted).bind_tools([lookup_plan], tool_choice="lookup_plan")

    answer = bound.invoke(f"{PLAN_QUERY} My plan is number 42.")

    assert answer.tool_calls == [{"name": "lookup_plan", "args": {"plan_id": 42}, "id": answer.tool_calls[0]["id"],
                                  "type": "tool_call"}]  # fmt: skip
    assert BLOCK_OPEN in sent_system(scripted), "the memory still reaches a call with tools"
    assert answer.response_metadata["uno"]["rule_ids"]


def test_with_structured_output_uses_the_wrapped_models_binding(memory: UnoMemory) -> None:
    scripted = ScriptedChatModel()
    structured = memory.as_runnable(scripted).with_structured_output(Verdict)

    verdict = structured.invoke(f"{PLAN_QUERY} Within 3 days?")
    raw = memory.as_runnable(scripted).with_structured_output(Verdict, include_raw=True).invoke(PLAN_QUERY)

    assert isinstance(verdict, Verdict) and verdict.days == 3
    assert BLOCK_OPEN in sent_system(scripted)
    assert isinstance(raw, dict) and isinstance(raw["parsed"], Verdict)
    assert raw["raw"].response_metadata["uno"]["route"] == "primary"


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.starts: list[list[list[BaseMessage]]] = []
        self.tokens: list[str] = []
        self.ends = 0

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kw: Any) -> None:
        self.starts.append(messages)

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        self.tokens.append(token)

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.ends += 1


def test_callbacks_see_one_run_with_the_wrapped_models_tokens(memory: UnoMemory) -> None:
    recorder = _Recorder()
    model = memory.as_runnable(ScriptedChatModel())

    chunks = list(model.stream(PLAN_QUERY, config={"callbacks": [recorder]}))

    assert len(recorder.starts) == 1 and recorder.ends == 1
    assert recorder.starts[0][0] == [HumanMessage(PLAN_QUERY)], "callbacks see the app's messages, not uno's block"
    assert "".join(recorder.tokens) == "".join(str(chunk.content) for chunk in chunks)
    assert len(chunks) > 3 and chunks[-1].response_metadata["uno"]["log_id"]


def test_async_stream_and_per_call_user(memory: UnoMemory) -> None:
    model = memory.as_runnable(ScriptedChatModel())

    async def run() -> list[Any]:
        return [chunk async for chunk in model.astream(PLAN_QUERY, config={"configurable": {"user_id": "u-async"}})]

    chunks = asyncio.run(run())

    log_id = chunks[-1].response_metadata["uno"]["log_id"]
    assert memory.store.get_logs([log_id])[0].user_id == "u-async"
