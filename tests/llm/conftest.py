from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.llm.server import ScriptedServer
from uno.ledger import Ledger, ResponseCache
from uno.llm import LiteLLM

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

LLMFactory = Callable[..., LiteLLM]


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


@pytest.fixture
def make_llm(server: ScriptedServer, tmp_path: Path) -> LLMFactory:
    """A real LiteLLM pointed at the scripted server, with tiny backoff and a ledger + cache under tmp_path."""

    def build(**overrides: Any) -> LiteLLM:
        options: dict[str, Any] = {
            "api_base": server.base_url,
            "api_key": "sk-test",
            "timeout": 2.0,
            "backoff_base": 0.001,
            "backoff_max": 0.01,
            "max_retries": 3,
            "ledger": Ledger(tmp_path / "llm.sqlite"),
            "cache": ResponseCache(tmp_path / "llm.sqlite"),
        }
        options.update(overrides)
        return LiteLLM("openai/scripted", **options)

    return build
