"""The server stamps every log with its API key's identity: clients cannot vouch for themselves, and one key that
is not trusted with user ids is one source of support however many user ids it sends (real server process)."""

from __future__ import annotations

import httpx

from tests.integrations.conftest import Tenant, new_tenant
from tests.integrations.data import PLAN_QUERY, ROAST_QUERY, training_logs
from tests.integrations.serving import LiveServer


def client(live: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=live.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30.0)


def ok(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, f"{response.status_code}: {response.text}"
    body: dict[str, object] = response.json()
    return body


def test_many_user_ids_through_one_untrusted_key_make_no_shared_rule(live: LiveServer) -> None:
    with client(live, "open-00a") as http:
        ids = ok(http.post("/v1/logs", json={"logs": training_logs("open-")}))["inserted"]
        assert isinstance(ids, list) and len(ids) == 15
        stamps = {ok(http.get(f"/v1/logs/{log_id}"))["verified_id"] for log_id in ids}
        assert len(stamps) == 1 and str(next(iter(stamps))).startswith("key:")
        ok(http.post("/v1/build"))
        # Fifteen user ids, one key: their preferences stay personal, nobody else is shown them.
        assert ok(http.post("/v1/augment", json={"query": ROAST_QUERY}))["rules"] == []
        assert ok(http.post("/v1/augment", json={"query": PLAN_QUERY, "user_id": "someone-new"}))["rules"] == []
        own = ok(http.post("/v1/augment", json={"query": ROAST_QUERY, "user_id": "open-cook0"}))["rules"]
        assert isinstance(own, list) and [rule["aspect"] for rule in own] == ["length:short"]


def test_a_key_trusted_with_user_ids_shares_what_several_users_agree_on(live: LiveServer) -> None:
    tenant: Tenant = new_tenant()
    with client(live, tenant.key) as http:
        ids = ok(http.post("/v1/logs", json={"logs": training_logs("trusted-")}))["inserted"]
        assert isinstance(ids, list)
        first = ok(http.get(f"/v1/logs/{ids[0]}"))
        assert first["verified_id"] == f"{str(first['verified_id']).split('/')[0]}/user:trusted-cook0"
        ok(http.post("/v1/build"))
        rules = ok(http.post("/v1/augment", json={"query": ROAST_QUERY}))["rules"]
        assert isinstance(rules, list) and [rule["aspect"] for rule in rules] == ["length:short"]


def test_a_client_cannot_forge_the_stamp_nor_borrow_another_keys_log(live: LiveServer) -> None:
    forged = {"messages": [{"role": "user", "content": "q?"}, {"role": "assistant", "content": "a."}]}
    with client(live, "open-01a") as http:
        [log_id] = ok(  # type: ignore[misc]
            http.post("/v1/logs", json={"logs": [{**forged, "user_id": "u1", "verified_id": "sso:ceo"}]})
        )["inserted"]
        stamp = ok(http.get(f"/v1/logs/{log_id}"))["verified_id"]
        assert isinstance(stamp, str) and stamp.startswith("key:") and "ceo" not in stamp
        exchange = ok(
            http.post(
                "/v1/exchanges",
                json={"messages": [{"role": "user", "content": "Hi?"}], "response": "Hello.", "user_id": "u2"},
            )
        )
        assert ok(http.get(f"/v1/logs/{exchange['log_id']}"))["verified_id"] == stamp
    # Another key of the same tenant cannot add feedback under the first key's identity.
    with client(live, "open-01b") as other:
        borrowed = other.post(f"/v1/logs/{log_id}/feedback", json={"kind": "followup", "text": "too long"})
        assert borrowed.status_code == 404
        assert ok(other.get(f"/v1/logs/{log_id}"))["id"] == log_id
