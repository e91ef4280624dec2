"""The ledger records each LLM call for the namespace whose work made it, so a tenant sees only its own costs:
through a real build (LiteLLM over HTTP, calls fanned out on uno's event-loop thread), by hand, and on a ledger
file written before the column existed."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.llm.conftest import LLMFactory
from tests.llm.scripts import reader
from tests.llm.server import ScriptedServer
from tests.llm.test_memory_llm import COOKING, LONG_ANSWER, followup
from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.embed import HashingEmbedder
from uno.ledger import CallRecord, Ledger, calls_for_namespace
from uno.llm import run_sync


def test_a_build_records_its_llm_calls_for_its_namespace(
    server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path
) -> None:
    server.script = reader
    store = tmp_path / "store"
    llm = make_llm(ledger=None, cache=None)
    memory = UnoMemory(
        store,
        llm=llm,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
    )
    for namespace, users in (("acme", COOKING[:4]), ("globex", COOKING[4:])):
        memory.add_many(
            [
                {"user_id": f"{namespace}{n}", "query": q, "response": LONG_ANSWER, "feedback": [followup("too long")]}
                for n, q in enumerate(users)
            ],
            namespace=namespace,
        )
        memory.build(namespace=namespace)

    ledger = Ledger.for_store(store)
    acme, globex = ledger.usage(namespace="acme"), ledger.usage(namespace="globex")
    assert acme["calls"] >= 4 and globex["calls"] >= 3, "each build's distillations are its own namespace's"
    assert acme["calls"] + globex["calls"] == ledger.usage()["calls"] == server.count, "no call is left unowned"
    assert {c.namespace for c in ledger.calls()} == {"acme", "globex"}
    assert sum(p["calls"] for p in ledger.timeline(namespace="acme", bucket="hour")) == acme["calls"]


def test_run_sync_carries_the_callers_namespace_to_the_loop_thread(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "llm.sqlite")

    async def call() -> None:
        await asyncio.sleep(0)
        ledger.record(CallRecord(model="m", purpose="distill", prompt_hash="h"))

    with calls_for_namespace("acme"):
        run_sync(call())
    run_sync(call())

    assert [c.namespace for c in ledger.calls()] == ["acme", None]
    assert ledger.usage(namespace="acme")["calls"] == 1


def test_the_timeline_sums_calls_tokens_and_cost_per_day_and_hour(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "llm.sqlite")
    noon = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
    for when, tokens, cost in (
        (noon, 100, 0.01),
        (noon + timedelta(minutes=5), 50, None),
        (noon - timedelta(days=1), 7, 0.5),
    ):
        ledger.record(
            CallRecord(
                model="m",
                purpose="p",
                prompt_hash="h",
                tokens_in=tokens,
                tokens_out=1,
                cost_usd=cost,
                created_at=when,
                namespace="acme",
            )
        )
    ledger.record(CallRecord(model="m", purpose="p", prompt_hash="h", cached=True, created_at=noon, namespace="acme"))
    ledger.record(CallRecord(model="m", purpose="p", prompt_hash="h", tokens_in=10**6, created_at=noon, namespace="b"))

    days = ledger.timeline(namespace="acme")
    assert days == [
        {
            "start": "2026-03-01T00:00:00+00:00",
            "calls": 1,
            "cache_hits": 0,
            "tokens_in": 7,
            "tokens_out": 1,
            "cost_usd": 0.5,
        },
        {
            "start": "2026-03-02T00:00:00+00:00",
            "calls": 2,
            "cache_hits": 1,
            "tokens_in": 150,
            "tokens_out": 2,
            "cost_usd": 0.01,
        },
    ]
    assert [h["start"] for h in ledger.timeline(namespace="acme", bucket="hour")] == [
        "2026-03-01T12:00:00+00:00",
        "2026-03-02T12:00:00+00:00",
    ]
    assert ledger.timeline(namespace="acme", limit=1) == days[1:], "the latest periods"
    assert ledger.usage_by_purpose(namespace="b")["p"]["tokens_in"] == 10**6
    assert ledger.timeline(namespace="nobody") == []


def test_a_ledger_written_before_namespaces_gains_the_column_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "llm.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE llm_calls (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, model TEXT NOT "
            "NULL, purpose TEXT NOT NULL, prompt_hash TEXT NOT NULL, outcome TEXT NOT NULL, cached INTEGER NOT NULL, "
            "attempts INTEGER NOT NULL, tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, cost_usd REAL, "
            "latency_s REAL NOT NULL, error TEXT)"
        )
        conn.execute(
            "INSERT INTO llm_calls (created_at, model, purpose, prompt_hash, outcome, cached, attempts, tokens_in, "
            "tokens_out, cost_usd, latency_s) VALUES ('2026-01-01T00:00:00+00:00', 'm', 'distill', 'h', 'ok', 0, 1, "
            "5, 1, NULL, 0.1)"
        )
    conn.close()

    ledger = Ledger(path)
    ledger.record(CallRecord(model="m", purpose="distill", prompt_hash="h2", tokens_in=3, namespace="acme"))

    assert ledger.usage()["tokens_in"] == 8, "the old row is kept"
    assert ledger.usage(namespace="acme")["tokens_in"] == 3, "and belongs to no tenant"
    assert [c.namespace for c in ledger.calls()] == [None, "acme"]
