"""LLMNoveltyScorer over real HTTP: the model's own prior, yes/no log-probabilities or a judged score."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rule_store.records import Evidence, FeedbackKind, Rule, RuleStatus
from tests.llm.conftest import LLMFactory
from tests.llm.scripts import is_system, reader
from tests.llm.server import Reply, ScriptedServer, json_reply, user_text
from tests.llm.test_memory_llm import SUPPORT, logs
from uno import UnoMemory
from uno.cluster import ClusteringConfig
from uno.distill.catalog import CATALOG
from uno.embed import HashingEmbedder
from uno.gap import GapContext, NoveltyScorer, ResponsePriorScorer
from uno.gap_llm import LLMNoveltyScorer
from uno.ledger import Ledger

PRIOR = ["Answer with only yes or no when the question allows it.", "Mention any cancellation fees."]


def make_rule(do: str, aspect: str | None = None, log_id: str = "log-1") -> Rule:
    return Rule(
        when="the user asks about their plan",
        do=do,
        aspect=aspect,
        evidence=[Evidence(log_id=log_id, quote="q", kind=FeedbackKind.FOLLOWUP)],
    )


def covered(body: dict[str, Any]) -> bool:
    suggestion = user_text(body).split("<suggestion>", 1)[1].split("</suggestion>", 1)[0]
    return "yes or no" in suggestion.lower()


def model(*, logprobs: bool) -> Any:
    """Writes PRIOR for any cluster; says a suggestion is covered when it is about yes/no answers."""

    def script(body: dict[str, Any]) -> Reply:
        if is_system(body, "You are an expert assistant about to answer"):
            return json_reply({"rules": PRIOR})
        if is_system(body, "You check whether a suggestion"):
            yes, no = (0.9, 0.1) if covered(body) else (0.2, 0.8)
            first = (
                {"yes": math.log(yes), "no": math.log(no)} if yes > no else {"no": math.log(no), "yes": math.log(yes)}
            )
            return Reply(content=next(iter(first)), logprobs=[first, {".": -0.01}] if logprobs else None)
        if is_system(body, "You check whether suggestions"):
            listed = json.loads(user_text(body).split("<suggestions>\n", 1)[1].split("\n</suggestions>", 1)[0])
            return json_reply(
                {"scores": [{"id": k, "covered": 9 if "yes or no" in v.lower() else 1} for k, v in listed.items()]}
            )
        return reader(body)

    return script


def test_is_a_novelty_scorer(make_llm: LLMFactory) -> None:
    scorer: NoveltyScorer = LLMNoveltyScorer(make_llm())
    assert scorer.name == "llm-gap"


def test_novelty_from_yes_no_logprobs(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = model(logprobs=True)
    llm = make_llm()
    scorer = LLMNoveltyScorer(llm)
    rules = [make_rule("Answer with only YES or NO."), make_rule("Cite the refund policy."), make_rule("Use a table.")]
    context = GapContext(responses={"log-1": "Sure! It depends.", "log-2": "Yes."})
    assert scorer.novelty(rules, context) == [0.1, 0.8, 0.8]
    assert scorer.logprobs_available is True
    # One prior for the cluster, one one-token call per rule; no judged call.
    assert [c.purpose for c in llm.ledger.calls()] == ["gap.prior", *["gap.coverage"] * 3]
    coverage = [b for b in server.requests if b.get("logprobs")]
    assert len(coverage) == 3 and all(b["max_tokens"] == 1 and b["top_logprobs"] == 5 for b in coverage)
    # Without queries in the context or a store, the rules' situations stand in for the cluster's queries.
    assert "the user asks about their plan" in user_text(server.requests[0])

    before = server.count
    assert scorer.novelty(rules, context) == [0.1, 0.8, 0.8]
    assert server.count == before  # prior cached per cluster, coverage from the response cache


def test_novelty_from_a_judged_score_without_logprobs(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = model(logprobs=False)
    llm = make_llm()
    scorer = LLMNoveltyScorer(llm)
    rules = [make_rule("Answer with only YES or NO."), make_rule("Cite the refund policy."), make_rule("Be brief.")]
    assert scorer.novelty(rules, GapContext()) == [0.1, 0.9, 0.9]
    assert scorer.logprobs_available is False
    # The probe found no log-probabilities: every rule was scored by one judged call.
    assert [c.purpose for c in llm.ledger.calls()] == ["gap.prior", "gap.coverage", "gap.judge"]

    more = [make_rule("Say yes or no first."), make_rule("Add a summary.")]
    assert scorer.novelty(more, GapContext()) == [0.1, 0.9]
    assert [c.purpose for c in llm.ledger.calls()][3:] == ["gap.judge"]  # no probe once known


def test_measured_scores_win_and_queries_come_from_the_store(
    server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path
) -> None:
    server.script = model(logprobs=True)
    memory = UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256))
    ids = memory.add_many(logs()[7:13]).ids  # the subscription questions
    llm = make_llm()
    measured = ResponsePriorScorer(min_checked=1)
    scorer = LLMNoveltyScorer(llm, store=memory.store, measured=measured)
    context = GapContext(responses={log_id: "Sure! " + "Plans can change. " * 30 for log_id in ids})
    short = make_rule(CATALOG["short"].do, "length:short", ids[0])
    yes_no = make_rule("Answer with only YES or NO.", None, ids[1])
    scores = scorer.novelty([short, yes_no], context)
    assert scores == [1.0, 0.1]  # the measured scorer saw the long responses; the LLM judged the free text
    assert [c.purpose for c in llm.ledger.calls()] == ["gap.prior", "gap.coverage"]
    prior_prompt = user_text(server.requests[0])
    assert all(query in prior_prompt for query in SUPPORT)


def test_a_failing_provider_leaves_novelty_unknown(server: ScriptedServer, make_llm: LLMFactory) -> None:
    server.script = lambda body: Reply(status=500)
    scorer = LLMNoveltyScorer(make_llm(max_retries=0))
    assert scorer.novelty([make_rule("Be brief.")], GapContext()) == [None]


def test_plugs_into_the_core_loop(server: ScriptedServer, make_llm: LLMFactory, tmp_path: Path) -> None:
    server.script = model(logprobs=True)
    store = tmp_path / "store"
    llm = make_llm(ledger=None, cache=None)
    llm.bind_store(store)
    memory = UnoMemory(
        store,
        llm=llm,
        embedder=HashingEmbedder(256),
        clustering=ClusteringConfig(similarity_floor=0.25, min_cluster_size=3),
        novelty_scorer=LLMNoveltyScorer(llm),
    )
    memory.add_many(logs()[1:])
    memory.build()
    rules = {r.do: r for r in memory.rules()}
    # The model's own prior already answers yes/no where it can: that rule teaches nothing and is retired.
    assert rules[CATALOG["yes_no"].do].status is RuleStatus.RETIRED
    assert rules[CATALOG["yes_no"].do].novelty == 0.1
    assert rules[CATALOG["short"].do].status is RuleStatus.ACTIVE
    assert rules[CATALOG["short"].do].novelty == 0.8
    usage = Ledger.for_store(store).usage("gap")
    assert usage["calls"] == usage["ok"] > 0
