"""Several ``uno serve`` replicas on ONE store, as `Running at scale` in the README deploys them.

Two real ``uno serve`` processes (127.0.0.1, free ports, stopped by PID) share a store (a SQLite directory, or a
PostgreSQL schema with each replica's FAISS files in a cache directory of its own), and a third process runs
``uno build``. Logs go in concurrently through both replicas (REST, and the OpenAI-compatible proxy driven by the
``openai`` SDK): none is lost. Two tenants never see each other's data through either replica. While a build
holds the tenant's lease, another build is refused (``uno build`` exits 3, REST answers 409) with the message
saying so; once the third process has built, both replicas serve the new rules (they reload on the store's
generation change).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from openai import OpenAI

from rule_store import open_store
from tests.integrations.data import PLAN_QUERY, training_logs
from tests.integrations.serving import UNO, LiveServer
from tests.integrations.upstream import ScriptedUpstream, system_text
from uno.demo import sample_logs_path
from uno.paths import CACHE_DIR_ENV, StorePaths

pytestmark = pytest.mark.slow

ACME, GLOBEX = ("sk-acme", "acme"), ("sk-globex", "globex")
UPSTREAM_KEY_ENV = "UNO_TEST_UPSTREAM_KEY"
# How long a replica may take to notice a build (it checks every 2 s, then re-embeds when its cache is cold), and
# to start (it loads the embedding model): generous, for a loaded machine. Not timings under test: upper bounds.
RELOAD_WAIT_S = 300.0
START_WAIT_S = 600.0
PROXY_CHATS = 6


@pytest.fixture(params=["sqlite", "postgres"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """What every process is given as ``--store``: a SQLite directory, or a PostgreSQL URL with a fresh schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "store")
        return
    from rule_store.testing_postgres import drop_schema, require_postgres, unique_schema_name

    url = require_postgres()
    schema = unique_schema_name("uno_replicas")
    yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    drop_schema(url, schema)


def _serve(spec: str, name: str, root: Path, upstream: ScriptedUpstream) -> LiveServer:
    command = [
        str(UNO),
        "--store",
        spec,
        "serve",
        "--port",
        "{port}",
        "--api-key",
        f"{ACME[0]}={ACME[1]}",
        "--api-key",
        f"{GLOBEX[0]}={GLOBEX[1]}",
        "--vouch-users",
        "--upstream",
        "openai/scripted",
        "--upstream-base",
        upstream.base_url,
        "--upstream-key-env",
        UPSTREAM_KEY_ENV,
        "--log-level",
        "warning",
    ]
    # Each replica has its own local cache (it matters only for a PostgreSQL store): an empty one at start.
    env = {UPSTREAM_KEY_ENV: "scripted", CACHE_DIR_ENV: str(root / f"cache-{name}"), "UNO_API_KEYS": ""}
    return LiveServer(command, env, root / f"serve-{name}.log", root)


@pytest.fixture
def replicas(store_spec: str, tmp_path: Path, upstream: ScriptedUpstream) -> Iterator[list[LiveServer]]:
    servers = [_serve(store_spec, name, tmp_path, upstream) for name in ("a", "b")]
    try:
        yield [server.wait_ready(timeout_s=START_WAIT_S) for server in servers]
    finally:
        for server in servers:
            server.stop()


def _uno(spec: str, namespace: str, *args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", CACHE_DIR_ENV: str(cache)}
    return subprocess.run(
        [str(UNO), "--store", spec, "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _client(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=120.0)


def _post_logs(server: LiveServer, key: str, logs: list[dict[str, Any]]) -> list[str]:
    with _client(server, key) as http:
        response = http.post("/v1/logs", json={"logs": logs})
    assert response.status_code == 200, response.text
    inserted: list[str] = response.json()["inserted"]
    return inserted


def _chat(server: LiveServer, key: str, question: str) -> tuple[str, str | None]:
    with OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0, timeout=120.0) as sdk:
        completion = sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": question}])
    logged = (completion.model_extra or {})["uno"]["log_id"]
    return completion.choices[0].message.content or "", logged


def _add_concurrently(replicas: list[LiveServer]) -> tuple[set[str], set[str]]:
    """acme: the training logs one by one and proxy chats; globex: the shipped sample logs in batches; all at
    once, alternating replicas. Returns the log ids each tenant's calls stored."""
    sample = [json.loads(line) for line in sample_logs_path().read_text(encoding="utf-8").splitlines() if line]
    jobs: list[tuple[str, Callable[[], list[str]]]] = []
    for n, log in enumerate(training_logs("replica-")):
        jobs.append(("acme", lambda n=n, log=log: _post_logs(replicas[n % 2], ACME[0], [log])))
    for n in range(0, len(sample), 20):
        jobs.append(("globex", lambda n=n: _post_logs(replicas[n // 20 % 2], GLOBEX[0], sample[n : n + 20])))
    for n in range(PROXY_CHATS):
        jobs.append(("acme", lambda n=n: _logged_chat(replicas[n % 2], f"Which plan suits a team of {n + 2}?")))
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [(tenant, pool.submit(job)) for tenant, job in jobs]
        stored: dict[str, set[str]] = {"acme": set(), "globex": set()}
        for tenant, future in futures:
            stored[tenant].update(future.result())
    assert len(stored["globex"]) == len(sample)
    assert len(stored["acme"]) == len(training_logs()) + PROXY_CHATS
    return stored["acme"], stored["globex"]


def _logged_chat(server: LiveServer, question: str) -> list[str]:
    answer, log_id = _chat(server, ACME[0], question)
    assert question in answer
    assert log_id is not None
    return [log_id]


def _rule_aspects(server: LiveServer, key: str, query: str) -> list[str]:
    with _client(server, key) as http:
        response = http.post("/v1/augment", json={"query": query})
    assert response.status_code == 200, response.text
    return [rule["aspect"] for rule in response.json()["rules"]]


def _wait_for_rules(server: LiveServer) -> list[str]:
    """acme's rules for PLAN_QUERY once this replica has picked up the build (it polls the store's generation)."""
    deadline = time.monotonic() + RELOAD_WAIT_S
    aspects = _rule_aspects(server, ACME[0], PLAN_QUERY)
    while not aspects and time.monotonic() < deadline:
        time.sleep(0.5)
        aspects = _rule_aspects(server, ACME[0], PLAN_QUERY)
    return aspects


def test_replicas_share_one_store_without_losing_or_leaking_data(
    replicas: list[LiveServer], store_spec: str, tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    acme_ids, globex_ids = _add_concurrently(replicas)

    # Nothing lost: each replica counts every log of the tenant, whichever replica stored it.
    for server in replicas:
        with _client(server, ACME[0]) as acme, _client(server, GLOBEX[0]) as globex:
            assert acme.get("/v1/stats").json()["logs"] == len(acme_ids)
            assert globex.get("/v1/stats").json()["logs"] == len(globex_ids)
            # Tenants apart: a log id of one is "not found" for the other, on either replica.
            for log_id in sorted(acme_ids)[:5]:
                assert acme.get(f"/v1/logs/{log_id}").status_code == 200
                assert globex.get(f"/v1/logs/{log_id}").status_code == 404
            for log_id in sorted(globex_ids)[:5]:
                assert globex.get(f"/v1/logs/{log_id}").status_code == 200
                assert acme.get(f"/v1/logs/{log_id}").status_code == 404
    assert not acme_ids & globex_ids

    # One build at a time: while a build of acme holds the lease (this test process), a third process's
    # `uno build` and a replica's REST build are both refused, saying so.
    database = StorePaths.resolve(store_spec).spec
    with open_store(database) as store, store.build_lease("build:acme"):
        refused = _uno(store_spec, "acme", "build", cache=tmp_path / "cache-builder")
        assert refused.returncode == 3, refused.stderr
        assert "another build holds the lease 'build:acme' (" in refused.stderr
        assert f"pid {os.getpid()} on " in refused.stderr  # the holder: this test's process
        with _client(replicas[1], ACME[0]) as acme:
            conflict = acme.post("/v1/build")
        assert conflict.status_code == 409
        assert conflict.json()["error"]["message"].startswith("another build holds the lease 'build:acme' (")

    # Nothing is served before the build; after the third process built, both replicas serve the new rule.
    assert _rule_aspects(replicas[0], ACME[0], PLAN_QUERY) == []
    built = _uno(store_spec, "acme", "build", "--json", cache=tmp_path / "cache-builder")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["rules_by_status"].get("active", 0) >= 3
    for server in replicas:
        assert "answer:yes_no" in _wait_for_rules(server)
        # globex learnt nothing from acme: none of acme's rules reach it, on any replica.
        with _client(server, GLOBEX[0]) as globex:
            rules = globex.get("/v1/rules").json()
        assert rules["total"] == 0, "globex never built: it has no rules, acme's included"
        assert _rule_aspects(server, GLOBEX[0], PLAN_QUERY) == []
    # The proxy of replica b (neither replica built) injects the rule too.
    question = f"{PLAN_QUERY} (via replica b)"
    answer, _ = _chat(replicas[1], ACME[0], question)
    assert question in answer
    assert "YES or NO" in system_text(upstream.requests_with(question)[0])
