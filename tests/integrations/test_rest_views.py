"""The read routes the dashboard uses (clusters, quarantine, adapters, the LLM ledger, a rule's verdicts) over
plain HTTP against the live server: each answers inside the key's tenant only, and the page itself is served."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from rule_store.records import Adapter, AdapterStatus, QuarantineRecord
from rule_store.sqlite import SQLiteRuleStore
from tests.integrations.conftest import Tenant, new_tenant
from tests.integrations.data import PACKING, ROASTING, SUBSCRIPTION
from tests.integrations.serving import LiveServer
from tests.integrations.test_rest import client_for, error, ok, train
from uno.ledger import CallRecord, Ledger, llm_db_path
from uno.paths import StorePaths


def test_clusters_show_route_gap_size_rules_and_their_requests(live: LiveServer, http: httpx.Client) -> None:
    train(http)
    listed = ok(http.get("/v1/clusters"))
    rules = {r["id"]: r["aspect"] for r in ok(http.get("/v1/rules"))["rules"]}

    assert listed["total"] == 3
    by_rule = {rules[c["rule_ids"][0]]: c for c in listed["clusters"]}
    assert set(by_rule) == {"length:short", "answer:yes_no", "format:lists"}
    for aspect, queries in (("length:short", ROASTING), ("answer:yes_no", SUBSCRIPTION), ("format:lists", PACKING)):
        cluster = by_rule[aspect]
        assert cluster["size"] == len(queries) and cluster["route"] == "primary" and cluster["blocked"] == ""
        assert cluster["representative_queries"] and set(cluster["representative_queries"]) <= set(queries)
    assert [c["size"] for c in listed["clusters"]] == [6, 6, 3], "largest first"
    assert ok(http.get("/v1/clusters", params={"limit": 1, "offset": 2}))["clusters"][0]["size"] == 3
    with client_for(live, new_tenant()) as other:
        assert ok(other.get("/v1/clusters")) == {"total": 0, "clusters": []}


def test_a_rule_shows_the_verdict_of_each_log_it_came_from(http: httpx.Client) -> None:
    train(http)
    rule = next(r for r in ok(http.get("/v1/rules"))["rules"] if r["aspect"] == "format:lists")
    sources = ok(http.get(f"/v1/rules/{rule['id']}"))["sources"]
    assert [s["verdict"] for s in sources] == ["actionable"] * 3
    assert all("format:lists" in " ".join(s["verdict_reasons"]) for s in sources)


def test_quarantine_and_adapters_are_the_tenants_own(live: LiveServer, http: httpx.Client, tenant: Tenant) -> None:
    other = new_tenant()
    with SQLiteRuleStore(StorePaths.resolve(live.store).database) as store:
        store.add_quarantine(
            [
                QuarantineRecord(
                    namespace=tenant.namespace, source="a.jsonl", line=3, reason="missing field `response`", raw="{}"
                ),
                QuarantineRecord(namespace=other.namespace, source="b.jsonl", line=1, reason="invalid JSON", raw="x"),
            ]
        )
        store.upsert_adapters(
            [
                Adapter(
                    namespace=tenant.namespace,
                    cluster_id="clu-1",
                    base_model="smollm2",
                    status=AdapterStatus.REJECTED,
                    status_reason="win rate 0.41 < 0.53",
                    metrics={"win_rate": 0.41},
                ),
                Adapter(namespace=other.namespace, cluster_id="clu-2", base_model="smollm2"),
            ]
        )

    quarantine = ok(http.get("/v1/quarantine"))
    assert quarantine["total"] == 1
    assert (quarantine["records"][0]["line"], quarantine["records"][0]["reason"]) == (3, "missing field `response`")
    adapters = ok(http.get("/v1/adapters"))
    assert [(a["cluster_id"], a["status"], a["metrics"]) for a in adapters["adapters"]] == [
        ("clu-1", "rejected", {"win_rate": 0.41})
    ]
    assert ok(http.get("/v1/adapters", params={"status": "accepted"}))["total"] == 0
    with client_for(live, other) as client:
        assert [q["source"] for q in ok(client.get("/v1/quarantine"))["records"]] == ["b.jsonl"]
        assert [a["cluster_id"] for a in ok(client.get("/v1/adapters"))["adapters"]] == ["clu-2"]


def test_the_ledger_reports_only_the_calls_made_for_the_tenant(
    live: LiveServer, http: httpx.Client, tenant: Tenant
) -> None:
    other = new_tenant()
    ledger = Ledger(llm_db_path(StorePaths.resolve(live.store).root))
    when = datetime(2026, 5, 4, 9, 15, tzinfo=UTC)
    for namespace, tokens, cost in (
        (tenant.namespace, 120, 0.002),
        (tenant.namespace, 30, None),
        (other.namespace, 999, 9.0),
    ):
        ledger.record(
            CallRecord(
                model="m",
                purpose="distill",
                prompt_hash="h",
                tokens_in=tokens,
                tokens_out=5,
                cost_usd=cost,
                created_at=when,
                namespace=namespace,
            )
        )
    ledger.close()

    report = ok(http.get("/v1/ledger", params={"bucket": "hour"}))
    assert (report["totals"]["calls"], report["totals"]["tokens_in"], report["totals"]["cost_usd"]) == (2, 150, 0.002)
    assert report["by_purpose"]["distill"]["tokens_out"] == 10
    assert report["periods"] == [
        {
            "start": "2026-05-04T09:00:00Z",
            "calls": 2,
            "cache_hits": 0,
            "tokens_in": 150,
            "tokens_out": 10,
            "cost_usd": 0.002,
        }
    ]
    assert error(http.get("/v1/ledger", params={"bucket": "week"}), 422)["details"][0]["loc"] == "query.bucket"
    with client_for(live, new_tenant()) as nobody:
        assert ok(nobody.get("/v1/ledger"))["totals"]["calls"] == 0


def test_the_read_routes_need_a_key_and_the_dashboard_page_is_served(live: LiveServer) -> None:
    for path in ("/v1/clusters", "/v1/quarantine", "/v1/adapters", "/v1/ledger"):
        assert httpx.get(f"{live.base_url}{path}").status_code == 401
    paths = ok(httpx.get(f"{live.base_url}/openapi.json"))["paths"]
    assert {"/v1/clusters", "/v1/quarantine", "/v1/adapters", "/v1/ledger"} <= set(paths)

    page = httpx.get(f"{live.base_url}/ui", follow_redirects=True)
    assert page.status_code == 200 and 'src="app.js"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = httpx.get(f"{live.base_url}/ui/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert ".innerHTML" not in script.text, "users' text is never parsed as HTML"
    assert httpx.get(f"{live.base_url}/ui/missing.js").status_code == 404
