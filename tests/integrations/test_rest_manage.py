"""Managing memory by hand over plain HTTP, against the real server process: every operation of the list (add,
edit, delete, retire, restore, pin, unpin, history, search, logs, export/import, forget, stats), tenant-scoped."""

from __future__ import annotations

import hashlib

import httpx

from tests.integrations.conftest import Tenant, new_tenant
from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, training_logs
from tests.integrations.serving import LiveServer
from tests.integrations.test_rest import client_for, error, injected_aspects, ok, train

PASTA_WHEN = "someone asks how long to boil pasta for"
PASTA_QUERY = "How long should I boil pasta for?"


def injected_ids(http: httpx.Client, query: str) -> list[str]:
    return [rule["rule_id"] for rule in ok(http.post("/v1/augment", json={"query": query}))["rules"]]


def test_the_openapi_document_lists_the_management_routes(live: LiveServer) -> None:
    paths = ok(httpx.get(f"{live.base_url}/openapi.json"))["paths"]
    assert set(paths["/v1/rules"]) == {"get", "post"}
    assert set(paths["/v1/rules/{rule_id}"]) == {"get", "patch", "delete"}
    for action in ("retire", "restore", "pin", "unpin"):
        assert "post" in paths[f"/v1/rules/{{rule_id}}/{action}"]
    assert "get" in paths["/v1/rules/{rule_id}/history"]
    assert "post" in paths["/v1/search"] and "get" in paths["/v1/export"] and "post" in paths["/v1/import"]
    assert {"get", "post"} <= set(paths["/v1/logs"])

    # A path served by several routes answers 405 naming all of them, not only the first route's method.
    headers = {"Authorization": "Bearer key-00"}
    refused = httpx.put(f"{live.base_url}/v1/rules/rule-x", headers=headers, json={})
    assert refused.status_code == 405 and refused.headers["allow"] == "DELETE, GET, PATCH"
    assert httpx.options(f"{live.base_url}/v1/logs", headers=headers).headers["allow"] == "GET, POST"


def test_every_rule_operation_over_http_is_recorded_under_the_keys_fingerprint(
    http: httpx.Client, tenant: Tenant
) -> None:
    train(http)
    author = "api:" + hashlib.sha256(tenant.key.encode()).hexdigest()[:12]

    added = ok(http.post("/v1/rules", json={"when": PASTA_WHEN, "do": "Give the time in minutes first."}))
    assert (added["manual"], added["pinned"], added["status"]) == (True, True, "active")
    assert added["id"] in injected_ids(http, PASTA_QUERY)
    assert error(http.post("/v1/rules", json={"when": "x", "do": "give the time in minutes first."}), 409)
    assert error(http.post("/v1/rules", json={"when": "  ", "do": "something"}), 422)
    ok(http.post("/v1/build", json={"full": True}))
    assert ok(http.get(f"/v1/rules/{added['id']}"))["rule"]["status"] == "active"

    short = next(r for r in ok(http.get("/v1/rules"))["rules"] if r["aspect"] == "length:short")
    edited = ok(http.patch(f"/v1/rules/{short['id']}", json={"do": "Answer in at most three sentences."}))
    assert (edited["do"], edited["edited"]) == ("Answer in at most three sentences.", True)
    assert error(http.patch(f"/v1/rules/{short['id']}", json={}), 422)
    assert ok(http.post(f"/v1/rules/{short['id']}/retire", json={"reason": "too strict"}))["status"] == "retired"
    assert "length:short" not in injected_aspects(http, ROAST_QUERY)
    assert ok(http.post(f"/v1/rules/{short['id']}/restore"))["status"] == "active"
    assert injected_aspects(http, ROAST_QUERY) == ["length:short"]
    assert ok(http.post(f"/v1/rules/{short['id']}/pin"))["pinned"] is True
    assert ok(http.post(f"/v1/rules/{short['id']}/unpin"))["pinned"] is False

    changes = ok(http.get(f"/v1/rules/{short['id']}/history"))["changes"]
    assert [c["actor"] for c in changes][:2] == ["build", "gate"]
    by_key = [c["action"] for c in changes if c["actor"] == author]
    assert by_key == ["edited", "retired", "restored", "pinned", "unpinned"]
    edit = next(c for c in changes if c["action"] == "edited")
    assert edit["before"]["do"] == short["do"] and edit["after"]["do"] == "Answer in at most three sentences."

    hits = ok(http.post("/v1/search", json={"query": "Answer in at most three sentences", "k": 2}))["hits"]
    assert len(hits) == 2 and hits[0]["rule"]["id"] == short["id"]
    deleted = ok(http.delete(f"/v1/rules/{short['id']}", params={"reason": "wrong"}))
    assert deleted["id"] == short["id"]
    assert error(http.get(f"/v1/rules/{short['id']}"), 404)
    assert "length:short" not in injected_aspects(http, ROAST_QUERY)
    hits = ok(http.post("/v1/search", json={"query": "Answer in at most three sentences", "k": 10}))["hits"]
    assert short["id"] not in {h["rule"]["id"] for h in hits}
    (tombstone,) = ok(http.get(f"/v1/rules/{short['id']}/history"))["changes"]
    assert (tombstone["action"], tombstone["actor"], tombstone["note"]) == ("deleted", author, "wrong")
    assert error(http.delete(f"/v1/rules/{short['id']}"), 404)
    assert error(http.post("/v1/search", json={"query": "   "}), 422)


def test_logs_export_import_and_forget_over_http(live: LiveServer) -> None:
    source, copy = new_tenant(), new_tenant()
    with client_for(live, source) as mine, client_for(live, copy) as other:
        ids = train(mine, prefix="exp-")
        manual = ok(mine.post("/v1/rules", json={"when": PASTA_WHEN, "do": "Give the time in minutes first."}))
        page = ok(mine.get("/v1/logs", params={"limit": 5, "offset": 10}))
        assert page["total"] == len(ids) and [log["id"] for log in page["logs"]] == ids[10:15]
        assert [log["user_id"] for log in ok(mine.get("/v1/logs", params={"user_id": "exp-cook1"}))["logs"]] == [
            "exp-cook1"
        ]

        exported = ok(mine.get("/v1/export"))
        assert exported["namespace"] == source.namespace
        assert {line["type"] for line in exported["records"]} == {"log", "rule", "verdict", "rule_change"}
        # The ids are global: importing the same records under another tenant of this store is refused.
        assert source.namespace not in str(error(other.post("/v1/import", json=exported), 409))
        assert ok(other.get("/v1/stats"))["logs"] == 0
        bad = error(other.post("/v1/import", json={"records": [{"type": "rule", "record": {"when": ""}}]}), 422)
        assert bad["details"][0]["loc"] == "body.records[0]"

        ok(mine.post("/v1/forget", json={"user_id": "exp-hike0"}))
        assert ok(mine.get("/v1/stats"))["logs"] == len(ids) - 1
        assert manual["id"] in injected_ids(mine, PASTA_QUERY)
        assert injected_aspects(mine, PLAN_QUERY) == ["answer:yes_no"]


def test_import_into_a_fresh_tenant_round_trips(live: LiveServer) -> None:
    first, second = new_tenant(), new_tenant()
    with client_for(live, first) as one:
        ok(one.post("/v1/logs", json={"logs": training_logs("rt-")}))
        ok(one.post("/v1/build"))
        ok(one.post("/v1/rules", json={"when": PASTA_WHEN, "do": "Give the time in minutes first."}))
        exported = ok(one.get("/v1/export"))
        rules = sorted((r["id"], r["status"], r["do"]) for r in ok(one.get("/v1/rules"))["rules"])
        # Free the ids (forget every user's logs, delete the rules) so another tenant may take them.
        for rule_id, _, _ in rules:
            ok(one.delete(f"/v1/rules/{rule_id}"))
        users = sorted({log["user_id"] for log in training_logs("rt-")})
        for user in users:
            ok(one.post("/v1/forget", json={"user_id": user}))
    with client_for(live, second) as two:
        report = ok(two.post("/v1/import", json=exported))
        assert (report["logs"], report["rules"]) == (len(training_logs()), len(rules))
        assert sorted((r["id"], r["status"], r["do"]) for r in ok(two.get("/v1/rules"))["rules"]) == rules
        assert injected_aspects(two, PLAN_QUERY) == ["answer:yes_no"]
