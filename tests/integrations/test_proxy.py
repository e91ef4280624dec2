"""The OpenAI-compatible memory proxy, driven by the official ``openai`` client: only ``base_url`` and ``api_key``
change. The uno server is a real process on 127.0.0.1; it forwards through litellm to the scripted upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.integrations.conftest import Tenant
from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, ROASTING, training_logs
from tests.integrations.serving import LiveServer
from tests.integrations.upstream import ScriptedUpstream, system_text
from uno.inject import BLOCK_OPEN


@pytest.fixture
def client(live: LiveServer, tenant: Tenant) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{live.base_url}/v1", api_key=tenant.key, max_retries=0, timeout=30.0) as sdk:
        yield sdk


@pytest.fixture
def trained_tenant(http: httpx.Client, tenant: Tenant) -> Tenant:
    """The tenant, after uno learnt the rules of ``training_logs`` in it (through the REST API)."""
    assert http.post("/v1/logs", json={"logs": training_logs()}).status_code == 200
    assert http.post("/v1/build").json()["rules_by_status"] == {"active": 3}
    return tenant


def get_log(http: httpx.Client, log_id: Any) -> dict[str, Any]:
    response = http.get(f"/v1/logs/{log_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def turns(log: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in log["messages"]]


def test_completion_is_augmented_answered_and_logged(
    client: OpenAI, http: httpx.Client, trained_tenant: Tenant, upstream: ScriptedUpstream
) -> None:
    question = f"{PLAN_QUERY} (sdk plain)"

    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "You are the support bot."}, {"role": "user", "content": question}],
        user="customer-1",
        temperature=0.2,
        extra_body={"api_base": "http://127.0.0.1:9/v1"},  # not an OpenAI parameter: never forwarded
    )
    completion = raw.parse()

    answer = completion.choices[0].message.content
    assert answer is not None and answer.startswith("scripted reply #") and question in answer
    [sent] = upstream.requests_with(question)
    assert sent["model"] == "scripted" and sent["temperature"] == 0.2
    assert sent["messages"][0]["content"].startswith("You are the support bot.\n\n" + "Earlier users")
    assert BLOCK_OPEN in system_text(sent) and "YES or NO" in system_text(sent)
    details = (completion.model_extra or {})["uno"]
    assert details["rule_ids"] and details["route"] == "primary"
    assert raw.headers["x-uno-log-id"] == details["log_id"]
    log = get_log(http, details["log_id"])
    assert turns(log) == [("system", "You are the support bot."), ("user", question), ("assistant", answer)]
    assert log["user_id"] == "customer-1"
    assert log["metadata"]["model_requested"] == "gpt-4o-mini"
    assert log["metadata"]["injected_rule_ids"] == details["rule_ids"]


def test_streamed_completion_is_relayed_and_logged(
    client: OpenAI, http: httpx.Client, trained_tenant: Tenant, upstream: ScriptedUpstream
) -> None:
    question = f"{ROAST_QUERY} (sdk stream)"

    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 5 and text.startswith("scripted reply #") and question in text
    assert "Keep the answer short." in system_text(upstream.requests_with(question)[0])
    details = (chunks[-1].model_extra or {})["uno"]
    assert chunks[-1].choices == []
    assert turns(get_log(http, details["log_id"])) == [("user", question), ("assistant", text)]


def test_the_users_next_turn_is_feedback_on_the_previous_answer(
    client: OpenAI, http: httpx.Client, trained_tenant: Tenant
) -> None:
    question = f"{ROAST_QUERY} (conversation)"
    history: list[Any] = [{"role": "user", "content": question}]
    first = client.chat.completions.create(model="m", messages=history)
    history += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "way too long. shorter please"},
    ]

    second = client.chat.completions.create(model="m", messages=history)
    client.chat.completions.create(model="m", messages=history)  # a retry records the follow-up once

    first_log = get_log(http, (first.model_extra or {})["uno"]["log_id"])
    assert first_log["feedback"] == [
        {"kind": "followup", "text": "way too long. shorter please", "turn": 1, "timestamp": None, "implicit": False}
    ]
    details = (second.model_extra or {})["uno"]
    assert details["previous_log_id"] == first_log["id"]
    assert turns(get_log(http, details["log_id"])) == [
        ("user", "way too long. shorter please"),
        ("assistant", second.choices[0].message.content),
    ]


def test_conversations_through_the_proxy_teach_uno(
    client: OpenAI, http: httpx.Client, tenant: Tenant, upstream: ScriptedUpstream
) -> None:
    """The whole loop with nothing but the proxy: users complain, a build learns it, the next prompt carries it."""
    for n, question in enumerate(ROASTING):
        history: list[Any] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(model="m", messages=history, user=f"learner-{n}")
        history += [
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "too long, keep it short"},
        ]
        client.chat.completions.create(model="m", messages=history, user=f"learner-{n}")
    assert "Keep the answer short." not in system_text(upstream.requests[-1])

    assert http.post("/v1/build").status_code == 200
    question = "How long should I roast a turkey in the oven?"
    completion = client.chat.completions.create(model="m", messages=[{"role": "user", "content": question}])

    assert "Keep the answer short." in system_text(upstream.requests_with(question)[0])
    [rule_id] = (completion.model_extra or {})["uno"]["rule_ids"]
    sources = http.get(f"/v1/rules/{rule_id}").json()["sources"]
    assert {s["user_id"] for s in sources} == {f"learner-{n}" for n in range(len(ROASTING))}


def test_upstream_failures_become_clear_errors(client: OpenAI, trained_tenant: Tenant) -> None:
    with pytest.raises(openai.BadRequestError) as rejected:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi [fail 400]"}])
    assert "upstream model rejected" in str(rejected.value)
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi [fail 401]"}], stream=True)
    assert failed.value.status_code == 502 and "upstream model failed" in str(failed.value)


def test_bad_requests_and_keys_are_refused(live: LiveServer, client: OpenAI) -> None:
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="m", messages=[])
    with OpenAI(base_url=f"{live.base_url}/v1", api_key="not-a-key", max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.AuthenticationError):
            stranger.models.list()


def test_models_lists_the_upstream_model(client: OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["openai/scripted"]


def test_a_conversation_over_the_input_limits_is_answered_but_neither_read_nor_logged(
    client: OpenAI, http: httpx.Client, tenant: Tenant, upstream: ScriptedUpstream
) -> None:
    pasted = "a pasted document " * 4_000  # 72,000 characters: over the 65,536 of one message uno reads
    question = f"{PLAN_QUERY} (over the limits)"
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"{question}\n{pasted}"}]
    )

    assert question in (completion.choices[0].message.content or "")
    [sent] = upstream.requests_with(question)
    assert BLOCK_OPEN not in system_text(sent), "not augmented"
    details = (completion.model_extra or {})["uno"]
    assert details["log_id"] is None
    length = len(f"{question}\n{pasted}")
    assert details["not_logged"] == (
        f"over the input limits: `messages[0].content`: is {length:,} characters, over the limit of 65,536"
    )
    assert http.get("/v1/stats").json()["logs"] == 0
