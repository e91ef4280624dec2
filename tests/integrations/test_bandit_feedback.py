"""The proxy and ``as_runnable`` feed the strategy bandit (uno.bandit) by themselves: the arm that produced an answer
is kept with its log, and the feedback on that answer (the user's next turn, a reaction sent later) rewards it in the
store. The proxy is a real uno server process on 127.0.0.1 forwarding to the scripted upstream; ``as_runnable``
wraps the in-process scripted chat model around a real memory (SQLite, FAISS, the hashing embedder)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from openai import OpenAI

from rule_store.sqlite import SQLiteRuleStore
from tests.integrations.conftest import BANDIT_TENANTS
from tests.integrations.data import ROAST_QUERY, trained_memory, training_logs
from tests.integrations.scripted_chat import ScriptedChatModel
from tests.integrations.serving import LiveServer
from uno.bandit import PULL_KEY, ArmPosterior, Strategy, StrategyBandit
from uno.integrations.langchain import UnoChatModel

COMPLAINT = "way too long. shorter please"
KEY, NAMESPACE = next(iter(BANDIT_TENANTS.items()))


@pytest.fixture
def bandit_http(bandit_live: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=bandit_live.base_url, headers=headers, timeout=30.0) as client:
        yield client


def arm_in_store(store_dir: Path, namespace: str, cluster_id: str | None, strategy: str) -> ArmPosterior | None:
    """The bandit's state as the server stored it, read from its SQLite file."""
    with SQLiteRuleStore(store_dir / "uno.sqlite") as store:
        return StrategyBandit(store, namespace).state(cluster_id).arms.get(Strategy(strategy))


def test_feedback_through_the_proxy_rewards_the_arm_that_answered(
    bandit_live: LiveServer, bandit_http: httpx.Client
) -> None:
    assert bandit_http.post("/v1/logs", json={"logs": training_logs()}).status_code == 200
    assert bandit_http.post("/v1/build").json()["rules_by_status"] == {"active": 3}
    with OpenAI(base_url=f"{bandit_live.base_url}/v1", api_key=KEY, max_retries=0, timeout=30.0) as client:
        history: list[Any] = [{"role": "user", "content": ROAST_QUERY}]
        first = client.chat.completions.create(model="m", messages=history, user="cook-9")
        details = (first.model_extra or {})["uno"]
        chosen = details["strategy"]
        assert chosen["strategy"] in {"rules", "reflective", "none"} and chosen["reason"]
        log = bandit_http.get(f"/v1/logs/{details['log_id']}").json()
        pull = log["metadata"][PULL_KEY]
        assert pull["strategy"] == chosen["strategy"]
        cluster_id = pull["cluster_id"]
        before = arm_in_store(bandit_live.store, NAMESPACE, cluster_id, chosen["strategy"])
        pulls_before = before.pulls if before else 0

        # The user's next turn complains: the proxy links it to the answer and the arm gets reward 0.
        history += [
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": COMPLAINT},
        ]
        second = client.chat.completions.create(model="m", messages=history, user="cook-9")
    after = arm_in_store(bandit_live.store, NAMESPACE, cluster_id, chosen["strategy"])
    assert after is not None and after.pulls == pulls_before + 1
    assert before is None or after.beta == pytest.approx(before.beta + 1.0)

    # A reaction sent later through the REST API revises that answer's reward (one pull still): (0 + 1) / 2.
    response = bandit_http.post(f"/v1/logs/{details['log_id']}/feedback", json={"kind": "reaction", "value": "like"})
    assert response.status_code == 200, response.text
    revised = arm_in_store(bandit_live.store, NAMESPACE, cluster_id, chosen["strategy"])
    assert revised is not None and revised.pulls == after.pulls
    assert revised.alpha == pytest.approx(after.alpha + 0.5) and revised.beta == pytest.approx(after.beta - 0.5)
    # The second answer is a pull of its own, waiting for its feedback.
    assert PULL_KEY in bandit_http.get(f"/v1/logs/{(second.model_extra or {})['uno']['log_id']}").json()["metadata"]


def test_feedback_through_as_runnable_rewards_the_arm_that_answered(tmp_path: Path) -> None:
    with trained_memory(tmp_path / "store") as memory:
        model = UnoChatModel(memory=memory, chat_model=ScriptedChatModel(), strategy_bandit=True, user_id="cook-9")
        first = model.invoke([HumanMessage(ROAST_QUERY)])
        details = first.response_metadata["uno"]
        chosen = Strategy(details["strategy"]["strategy"])
        pull = memory.get_log(details["log_id"]).metadata[PULL_KEY]
        bandit = memory.strategy_bandit()
        assert pull["strategy"] == chosen.value and chosen not in bandit.state(pull["cluster_id"]).arms

        second = model.invoke([HumanMessage(ROAST_QUERY), AIMessage(first.text), HumanMessage(COMPLAINT)])
        arm = bandit.state(pull["cluster_id"]).arms[chosen]
        assert arm.pulls == 1 and arm.beta == pytest.approx(bandit.prior(chosen).beta + 1.0)

        # Feedback the app sends on the second answer rewards the arm behind that one.
        again = second.response_metadata["uno"]
        pull_2 = memory.get_log(again["log_id"]).metadata[PULL_KEY]
        before = bandit.state(pull_2["cluster_id"]).arms.get(Strategy(pull_2["strategy"]))
        memory.feedback(again["log_id"], {"kind": "reaction", "value": "like"})
        after = bandit.state(pull_2["cluster_id"]).arms[Strategy(pull_2["strategy"])]
        assert after.pulls == (before.pulls if before else 0) + 1
        assert after.alpha == pytest.approx((before or bandit.prior(Strategy(pull_2["strategy"]))).alpha + 1.0)

        # Exploration off: the best posterior mean, said so.
        greedy = UnoChatModel(memory=memory, chat_model=ScriptedChatModel(), strategy_bandit=True, explore=False)
        reason = greedy.invoke([HumanMessage(ROAST_QUERY)]).response_metadata["uno"]["strategy"]["reason"]
        assert "exploration off" in reason or reason == "the only strategy available"
