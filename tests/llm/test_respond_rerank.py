"""respond(n=...): n candidate answers, reranked by the namespace's reaction model (uno.reward)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.llm.conftest import LLMFactory
from tests.llm.server import Reply, ScriptedServer
from tests.reward.test_reward import BAD, GOOD, labelled_logs
from uno import UnoMemory
from uno.embed import HashingEmbedder


def alternating() -> Any:
    answers = itertools.cycle([BAD, GOOD + " (candidate)", BAD + " again"])

    def script(body: dict[str, Any]) -> Reply:
        return Reply(content=next(answers))

    return script


def test_candidates_are_reranked_by_predicted_reaction(
    server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path
) -> None:
    server.script = alternating()
    llm = make_llm(ledger=None, cache=None)
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(64)) as memory:
        memory.reaction_retrain_after = 20
        memory.add_many(labelled_logs(60))
        memory.build()
        assert memory.reaction_model() is not None
        response = memory.respond("Is the shop open on day 77?", llm=llm, n=3)
        assert response.llm_calls == 3
        assert response.answer == GOOD + " (candidate)"
        assert sorted(response.candidates) == sorted([BAD, GOOD + " (candidate)", BAD + " again"])
        assert response.candidate_scores == sorted(response.candidate_scores, reverse=True)
        single = memory.respond("Is the shop open on day 78?", llm=llm)
        assert single.llm_calls == 1 and single.candidates == []
        with pytest.raises(ValueError, match="n must be"):
            memory.respond("Is the shop open?", llm=llm, n=0)


def test_without_a_reaction_model_the_first_candidate_wins(
    server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path
) -> None:
    server.script = alternating()
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(64)) as memory:
        response = memory.respond("Is the shop open?", llm=make_llm(ledger=None, cache=None), n=2)
        assert response.answer == BAD and response.candidate_scores == []
        assert response.candidates == [BAD, GOOD + " (candidate)"]
