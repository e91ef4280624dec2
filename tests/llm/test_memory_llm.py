"""UnoMemory.build with a real LiteLLM over HTTP: one call per log with feedback, none for the rest, nothing lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rule_store.protocol import Scope
from rule_store.records import RuleStatus
from tests.llm.conftest import LLMFactory
from tests.llm.scripts import failing_on, first_query, log_payload, reader
from tests.llm.server import ScriptedServer
from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.distill.catalog import CATALOG
from uno.embed import HashingEmbedder
from uno.ledger import Ledger

COOKING = [
    "How long should I roast a whole chicken in the oven?",
    "How long should I roast a chicken breast in the oven?",
    "How long do I roast chicken thighs in the oven?",
    "How long should I roast a small chicken in the oven at 200C?",
    "How long to roast a stuffed chicken in the oven?",
    "How long should I roast chicken legs in the oven?",
    "How long should I roast a chicken at 180C in the oven?",
]
SUPPORT = [
    "Can I cancel my subscription plan at any time?",
    "Can I pause my subscription plan at any time?",
    "Can I change my subscription plan at any time?",
    "Can I downgrade my subscription plan at any time?",
    "Can I upgrade my subscription plan at any time?",
    "Can I transfer my subscription plan at any time?",
]
QUIET = [
    "What is a good name for a goldfish?",
    "How many legs does a spider have?",
    "Which planet is closest to the sun?",
    "What colour is a ripe banana?",
    "How do you say hello in Italian?",
    "What is the boiling point of water?",
    "Who painted the Mona Lisa?",
]
LONG_ANSWER = "Great question! Roasting times depend on many things. Preheat the oven and check the temperature. " * 8
PLAN_ANSWER = "Sure! There are several things to consider about your plan, billing cycles and refunds. " * 3


def logs() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    shorter = ["too long, keep it short", "way too long, shorter please", "too long, get to the point"]
    for n, query in enumerate(COOKING):
        text = shorter[n % 3] if n else "FAILME too long, keep it short"  # the first one's call keeps failing
        out.append({"user_id": f"cook{n}", "query": query, "response": LONG_ANSWER, "feedback": [followup(text)]})
    for n, query in enumerate(SUPPORT):
        text = ["no, only yes or no", "just say yes or no"][n % 2]
        out.append({"user_id": f"sub{n}", "query": query, "response": PLAN_ANSWER, "feedback": [followup(text)]})
    for n, query in enumerate(QUIET):
        out.append({"user_id": f"quiet{n}", "query": query, "response": "An answer."})
    return out


def followup(text: str) -> dict[str, str]:
    return {"kind": "followup", "text": text}


def called_queries(server: ScriptedServer, start: int = 0) -> list[str]:
    payloads = [log_payload(body) for body in server.requests[start:]]
    return [first_query(p) for p in payloads if p is not None]


def distill_calls(server: ScriptedServer) -> int:
    """Requests that were distillations (a build also asks the LLM's harm verdict on clustered requests)."""
    return sum(log_payload(body) is not None for body in server.requests)


def test_build_makes_one_call_per_log_with_feedback_and_keeps_failed_logs(
    server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path
) -> None:
    failing = {"on": True}
    server.script = failing_on("FAILME", failing, reader)
    store = tmp_path / "store"
    llm = make_llm(ledger=None, cache=None)
    llm.bind_store(store)
    memory = UnoMemory(
        store,
        llm=llm,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
    )
    memory.add_many(logs())
    assert memory.store.count_logs() == 20

    report = memory.build()

    with_feedback = COOKING + SUPPORT
    queries = called_queries(server)
    # Every log with feedback was sent exactly once, the failing one twice (its call and the re-ask); no other.
    assert sorted(set(queries)) == sorted(with_feedback)
    assert queries.count(COOKING[0]) == 2
    assert len(queries) == len(with_feedback) + 1 == distill_calls(server)
    assert (report.distilled_logs, report.pending_logs) == (19, 1)
    usage = Ledger.for_store(store).usage("distill")
    assert (usage["calls"], usage["ok"], usage["invalid"], usage["errors"]) == (14, 12, 2, 0)
    assert usage["tokens_in"] > 0 and usage["tokens_out"] > 0
    pending = list(memory.store.iter_logs(Scope(), processed=False))
    assert [log.query for log in pending] == [COOKING[0]]

    active = {r.do: r for r in memory.rules(status=RuleStatus.ACTIVE)}
    assert set(active) == {CATALOG["short"].do, CATALOG["yes_no"].do}
    assert active[CATALOG["short"].do].support == len(COOKING) - 1
    augmented = memory.augment("How long should I roast a chicken in the oven?")
    assert [r.do for r in augmented.rules] == [CATALOG["short"].do]

    # The provider recovers: the next build makes exactly one call, for the pending log.
    failing["on"] = False
    before = server.count
    report = memory.build()
    assert called_queries(server, before) == [COOKING[0]]
    assert (report.distilled_logs, report.pending_logs) == (1, 0)
    assert {r.do: r.support for r in memory.rules(status=RuleStatus.ACTIVE)}[CATALOG["short"].do] == len(COOKING)

    # Nothing left to distil: no distillation call at all.
    before = distill_calls(server)
    assert memory.build().distilled_logs == 0
    assert distill_calls(server) == before
    assert Ledger.for_store(store).usage("distill")["calls"] == 15


def test_build_without_an_llm_stays_offline(tmp_path: Path) -> None:
    memory = UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256))
    memory.add_many(logs())
    report = memory.build()
    assert (report.distilled_logs, report.pending_logs) == (20, 0)
    assert not (tmp_path / "store" / "llm.sqlite").exists()


def test_full_rebuild_replays_from_the_cache(server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path) -> None:
    server.script = reader
    store = tmp_path / "store"
    llm = make_llm(ledger=None, cache=None)
    llm.bind_store(store)
    memory = UnoMemory(store, llm=llm, embedder=HashingEmbedder(256))
    memory.add_many(logs()[1:])  # without the failing log
    memory.build()
    calls = distill_calls(server)
    assert calls == len(SUPPORT) + len(COOKING) - 1
    report = memory.build(full=True)
    assert report.distilled_logs == 19
    assert distill_calls(server) == calls  # every distillation came from the response cache
    assert Ledger.for_store(store).usage("distill")["cache_hits"] == calls
