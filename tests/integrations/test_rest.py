"""The REST API over plain HTTP, against a real server process on 127.0.0.1: the whole loop, bad input, tenancy,
and several clients at once."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from rule_store.protocol import Scope
from rule_store.sqlite import SQLiteRuleStore
from tests.integrations.conftest import Tenant, new_tenant
from tests.integrations.data import PACKING, PLAN_QUERY, ROAST_QUERY, UNRELATED_QUERY, training_logs
from tests.integrations.serving import LiveServer
from uno.paths import StorePaths


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    return response.json()


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body: dict[str, Any] = response.json()["error"]
    assert body["message"]
    return body


def train(http: httpx.Client, prefix: str = "") -> list[str]:
    ids: list[str] = ok(http.post("/v1/logs", json={"logs": training_logs(prefix)}))["inserted"]
    assert ok(http.post("/v1/build"))["rules_by_status"] == {"active": 3}
    return ids


def injected_aspects(http: httpx.Client, query: str) -> list[str]:
    return [rule["aspect"] for rule in ok(http.post("/v1/augment", json={"query": query}))["rules"]]


def client_for(live: LiveServer, tenant: Tenant) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, headers=tenant.headers, timeout=30.0)


def test_health_needs_no_key_and_the_openapi_document_lists_the_routes(live: LiveServer) -> None:
    assert ok(httpx.get(f"{live.base_url}/health"))["status"] == "ok"
    paths = ok(httpx.get(f"{live.base_url}/openapi.json"))["paths"]
    for path in ("/v1/logs", "/v1/logs/{log_id}/feedback", "/v1/rules/{rule_id}/retire", "/v1/chat/completions"):
        assert path in paths


def test_logs_and_feedback_in_rules_out(http: httpx.Client, tenant: Tenant) -> None:
    ids = train(http)
    again = ok(http.post("/v1/logs", json={"logs": training_logs()}))
    assert again["inserted"] == [] and again["duplicates"] == ids

    exchange = ok(
        http.post(
            "/v1/exchanges",
            json={"messages": [{"role": "user", "content": ROAST_QUERY}], "response": "Roast it for 2 hours."},
        )
    )
    feedback = ok(http.post(f"/v1/logs/{exchange['log_id']}/feedback", json={"kind": "rating", "value": 2}))
    assert feedback == {"log_id": exchange["log_id"], "feedback_events": 1}
    assert ok(http.get(f"/v1/logs/{exchange['log_id']}"))["feedback"][0]["value"] == 2

    rules = ok(http.get("/v1/rules", params={"status": "active"}))
    assert rules["total"] == 3
    assert {r["aspect"] for r in rules["rules"]} == {"length:short", "answer:yes_no", "format:lists"}
    short = next(r for r in rules["rules"] if r["aspect"] == "length:short")
    detail = ok(http.get(f"/v1/rules/{short['id']}"))
    assert len(detail["sources"]) == 6 and {s["user_id"] for s in detail["sources"]} == {f"cook{n}" for n in range(6)}
    assert detail["source_log_ids"] == sorted(s["log_id"] for s in detail["sources"])
    assert injected_aspects(http, ROAST_QUERY) == ["length:short"]
    assert injected_aspects(http, UNRELATED_QUERY) == []
    stats = ok(http.get("/v1/stats"))
    assert stats["logs"] == 16 and stats["rules_active"] == 3 and stats["namespace"] == tenant.namespace


def test_a_retired_rule_is_no_longer_injected_and_stays_retired(http: httpx.Client) -> None:
    train(http)
    rule = next(r for r in ok(http.get("/v1/rules"))["rules"] if r["aspect"] == "answer:yes_no")

    retired = ok(http.post(f"/v1/rules/{rule['id']}/retire", json={"reason": "legal wants full answers"}))

    assert retired["status"] == "retired"
    assert retired["status_reason"].startswith("manual: retired by api:")
    assert retired["status_reason"].endswith(": legal wants full answers")
    assert injected_aspects(http, PLAN_QUERY) == []
    ok(http.post("/v1/build", json={"full": True}))
    assert ok(http.get(f"/v1/rules/{rule['id']}"))["rule"]["status"] == "retired"
    assert injected_aspects(http, PLAN_QUERY) == []


def test_forget_removes_a_users_logs_and_what_only_they_taught(http: httpx.Client) -> None:
    train(http)
    packing = PACKING[0].replace("weekend", "two day")
    assert injected_aspects(http, packing) == ["format:lists"]

    first = ok(http.post("/v1/forget", json={"user_id": "hike0"}))
    rest = [ok(http.post("/v1/forget", json={"user_id": user})) for user in ("hike1", "hike2")]

    assert first["logs_deleted"] == 1 and first["rules_deleted"] == 0 and first["rules_rescored"] == 1
    assert sum(r["rules_deleted"] for r in rest) == 1
    assert "format:lists" not in {r["aspect"] for r in ok(http.get("/v1/rules"))["rules"]}
    assert "format:lists" not in injected_aspects(http, packing)
    assert ok(http.get("/v1/stats"))["logs"] == 12


def test_bad_input_gets_a_clear_4xx(live: LiveServer, http: httpx.Client) -> None:
    invalid = error(
        http.post("/v1/logs", json={"logs": [{"query": "q", "response": "r"}, {"query": "only a question"}]}), 422
    )
    assert invalid["details"] == [{"loc": "body.logs[1]", "message": "missing field `response`"}]
    assert ok(http.get("/v1/stats"))["logs"] == 0, "all or nothing: the valid record was not stored either"

    assert "stauts" in error(http.get("/v1/rules", params={"stauts": "active"}), 422)["message"]
    assert error(http.post("/v1/augment", json={"query": ""}), 422)["details"][0]["loc"] == "body.query"
    assert error(http.post("/v1/augment", json={"query": "q", "explain": "yes"}), 422)["details"][0]["loc"] == (
        "body.explain"
    )
    assert error(http.post("/v1/augment", json={"qeury": "typo"}), 422)["type"] == "invalid_request"
    assert error(http.post("/v1/augment", content=b"{not json", headers={"content-type": "application/json"}), 422)
    kinds = error(http.post("/v1/logs/log-missing/feedback", json={"kind": "applause"}), 422)["message"]
    assert "followup, edit, reaction, rating" in kinds
    assert error(http.post("/v1/logs/log-missing/feedback", json={"kind": "reaction", "value": "like"}), 404)
    assert error(http.get("/v1/rules/rule-missing"), 404)["type"] == "not_found"
    assert error(http.post("/v1/forget", json={}), 422)["message"].endswith("(there is no 'forget everything')")
    assert error(http.put("/v1/augment", json={"query": "q"}), 405)
    too_big = error(http.post("/v1/augment", json={"query": "x" * 300_000}), 413)
    assert "limit" in too_big["message"]

    anonymous = error(httpx.post(f"{live.base_url}/v1/augment", json={"query": "q"}), 401)
    assert "Authorization: Bearer" in anonymous["message"]
    wrong = httpx.get(f"{live.base_url}/v1/stats", headers={"Authorization": "Bearer nope"})
    assert error(wrong, 401)["message"] == "unknown API key" and wrong.headers["www-authenticate"] == "Bearer"


def test_a_key_never_reaches_another_tenants_data(live: LiveServer) -> None:
    owner, intruder = new_tenant(), new_tenant()
    with client_for(live, owner) as mine, client_for(live, intruder) as theirs:
        log_ids = train(mine, prefix="owner-")
        rule = ok(mine.get("/v1/rules"))["rules"][0]

        assert error(theirs.get(f"/v1/logs/{log_ids[0]}"), 404)
        assert error(theirs.get(f"/v1/rules/{rule['id']}"), 404)
        assert error(theirs.post(f"/v1/rules/{rule['id']}/retire"), 404)
        assert error(theirs.post(f"/v1/logs/{log_ids[0]}/feedback", json={"kind": "rating", "value": 1}), 404)
        assert ok(theirs.post("/v1/forget", json={"log_ids": log_ids}))["logs_deleted"] == 0
        planted = {"namespace": owner.namespace, "query": "q", "response": "r"}
        assert "namespace" in error(theirs.post("/v1/logs", json={"logs": [planted]}), 422)["message"]
        # Log ids are per tenant: the owner's id is free here, so its use elsewhere can neither be probed nor blocked.
        reused = ok(theirs.post("/v1/logs", json={"logs": [{"id": log_ids[0], "query": "q", "response": "r"}]}))
        assert reused["inserted"] == [log_ids[0]]
        ok(theirs.post("/v1/forget", json={"log_ids": [log_ids[0]]}))
        assert injected_aspects(theirs, PLAN_QUERY) == []
        assert ok(theirs.get("/v1/rules"))["total"] == 0 and ok(theirs.get("/v1/stats"))["logs"] == 0

        assert ok(mine.get(f"/v1/rules/{rule['id']}"))["rule"]["status"] == "active"
        untouched = ok(mine.get(f"/v1/logs/{log_ids[0]}"))["feedback"]
        assert [(f["kind"], f["text"]) for f in untouched] == [("followup", "too long, keep it short")]
        assert ok(mine.get("/v1/stats"))["logs"] == len(log_ids)


def test_concurrent_clients_ingest_and_augment_without_errors_or_lost_records(live: LiveServer, tenant: Tenant) -> None:
    with client_for(live, tenant) as http:
        trained_ids = train(http)

    def thread_client(worker: int) -> list[str]:
        """One client in its own thread: ingest a batch, augment, repeat."""
        inserted: list[str] = []
        with client_for(live, tenant) as client:
            for round_ in range(8):
                logs = [
                    {
                        "user_id": f"w{worker}",
                        "query": f"worker {worker} round {round_} item {i}: opening hours?",
                        "response": "We open at nine.",
                    }
                    for i in range(3)
                ]
                inserted += ok(client.post("/v1/logs", json={"logs": logs}))["inserted"]
                assert injected_aspects(client, PLAN_QUERY) == ["answer:yes_no"]
        return inserted

    async def async_clients() -> list[str]:
        """Concurrent requests from an async client: logged exchanges, augmentations and one rebuild."""
        async with httpx.AsyncClient(base_url=live.base_url, headers=tenant.headers, timeout=30.0) as client:

            async def exchange(n: int) -> str:
                body = {"messages": [{"role": "user", "content": f"async question {n}?"}], "response": f"answer {n}"}
                response = await client.post("/v1/exchanges", json=body)
                log_id: str = ok(response)["log_id"]
                return log_id

            async def augment() -> None:
                response = await client.post("/v1/augment", json={"query": ROAST_QUERY})
                assert [r["aspect"] for r in ok(response)["rules"]] == ["length:short"]

            async def build() -> None:
                ok(await client.post("/v1/build"))

            results = await asyncio.gather(*(exchange(n) for n in range(12)), *(augment() for _ in range(12)), build())
            return [r for r in results if isinstance(r, str)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        threads = [pool.submit(thread_client, worker) for worker in range(4)]
        exchanged = asyncio.run(async_clients())
        ingested = [log_id for future in threads for log_id in future.result(timeout=120)]

    written = ingested + exchanged
    assert len(written) == len(set(written)) == 4 * 8 * 3 + 12
    with SQLiteRuleStore(StorePaths.resolve(live.store).database) as store:
        stored = store.get_logs(written, Scope(namespace=tenant.namespace))
        assert sorted(log.id for log in stored) == sorted(written), "every record is in the store"
        assert store.count_logs(Scope(namespace=tenant.namespace)) == len(trained_ids) + len(written)


def test_log_ids_are_per_tenant_so_none_can_be_probed_or_claimed_in_advance(live: LiveServer) -> None:
    first, second = new_tenant(), new_tenant()
    with client_for(live, first) as mine, client_for(live, second) as theirs:
        # The second tenant claims ids before the first uses them, and probes an id the first holds.
        claimed = [{"id": f"order-{n}", "query": f"claimed {n}", "response": "r"} for n in range(3)]
        assert ok(theirs.post("/v1/logs", json={"logs": claimed}))["inserted"] == ["order-0", "order-1", "order-2"]
        batch = [{"id": f"order-{n}", "query": f"my question {n}", "response": "my answer"} for n in range(4)]
        assert ok(mine.post("/v1/logs", json={"logs": batch}))["inserted"] == [f"order-{n}" for n in range(4)]
        held = {"id": "order-3", "query": "probe", "response": "r"}
        fresh = {"id": "order-99", "query": "probe 2", "response": "r"}
        answers = [theirs.post("/v1/logs", json={"logs": [record]}) for record in (held, fresh)]
        assert [a.status_code for a in answers] == [200, 200], "an id held by another tenant answers like a free one"
        assert ok(mine.get("/v1/logs/order-0"))["messages"][0]["content"] == "my question 0"
        assert ok(theirs.get("/v1/logs/order-0"))["messages"][0]["content"] == "claimed 0"
        ok(mine.post("/v1/logs/order-1/feedback", json={"kind": "followup", "text": "too long"}))
        assert ok(theirs.get("/v1/logs/order-1"))["feedback"] == []
        assert ok(theirs.post("/v1/forget", json={"log_ids": ["order-2"]}))["logs_deleted"] == 1
        assert ok(mine.get("/v1/logs/order-2"))["messages"][0]["content"] == "my question 2"
        # Within one tenant, reusing an id for a different log is a conflict with the reason; re-sending is not.
        again = ok(mine.post("/v1/logs", json={"logs": batch[:1]}))
        assert (again["inserted"], again["duplicates"]) == ([], ["order-0"])
        clash = error(mine.post("/v1/logs", json={"logs": [{**batch[0], "query": "something else"}]}), 409)
        assert clash["details"][0]["loc"] == "body.logs[0]" and "'order-0'" in clash["details"][0]["message"]
        assert ok(mine.get("/v1/stats"))["logs"] == 4 and ok(theirs.get("/v1/stats"))["logs"] == 4


def test_oversized_or_malformed_input_gets_a_4xx_with_the_reason(http: httpx.Client) -> None:
    log_id = ok(http.post("/v1/logs", json={"logs": [{"query": "q", "response": "r"}]}))["ids"][0]
    # This server takes bodies of up to 256 KiB: a 2 MB follow-up is refused before it is read, and one that fits
    # the body is refused by the input limit on text, both with the reason.
    two_mb = error(http.post(f"/v1/logs/{log_id}/feedback", json={"kind": "followup", "text": "x" * 2_000_000}), 413)
    assert "larger than the limit" in two_mb["message"]
    long = error(http.post(f"/v1/logs/{log_id}/feedback", json={"kind": "followup", "text": "x" * 100_000}), 422)
    assert long["details"] == [{"loc": "body.text", "message": "is 100,000 characters, over the limit of 65,536"}]
    assert ok(http.get(f"/v1/logs/{log_id}"))["feedback"] == []

    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(300):
        deep = {"a": deep}
    nested = error(http.post("/v1/logs", json={"logs": [{"query": "q2", "response": "r", "metadata": deep}]}), 422)
    assert nested["details"] == [{"loc": "body.logs[0]", "message": "`metadata`: is nested more than 20 levels deep"}]
    surrogate = b'{"messages": [{"role": "user", "content": "hi \\ud800"}], "response": "ok"}'
    lone = error(http.post("/v1/exchanges", content=surrogate, headers={"content-type": "application/json"}), 422)
    assert lone["details"][0]["loc"] == "body.messages[0].content" and "lone surrogate" in lone["details"][0]["message"]
    deep_exchange = {"messages": [{"role": "user", "content": "hi"}], "response": "ok", "metadata": deep}
    assert "nested more than 16" in error(http.post("/v1/exchanges", json=deep_exchange), 422)["message"]
    long_id = error(http.post("/v1/forget", json={"log_ids": ["x" * 5_000]}), 422)
    assert long_id["details"][0]["loc"] == "body.log_ids[0]"
    assert ok(http.get("/v1/stats"))["logs"] == 1
