"""The per-cluster strategy bandit (uno.bandit) and augment's strategy report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rule_store.records import EditFeedback, FollowupFeedback, LogRecord
from rule_store.sqlite import SQLiteRuleStore
from tests.core.test_memory_loop import COOKING, LONG_ANSWER, followup
from uno import UnoMemory
from uno.bandit import (
    CONTINUED_REWARD,
    POOLED,
    FixedStrategy,
    Strategy,
    StrategyBandit,
    StrategyChoice,
    answer_reward,
    available_strategies,
    edit_reward,
    observed_reward,
    pull_metadata,
)
from uno.cluster import ClusteringConfig
from uno.embed import HashingEmbedder

ARMS = [Strategy.NONE, Strategy.RULES, Strategy.REFLECTIVE]


def log_with(feedback: list[dict[str, Any]], response: str = "Hello world") -> LogRecord:
    return LogRecord.model_validate(
        {
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": response}],
            "feedback": feedback,
        }
    )


def test_observed_reward_combines_the_signals() -> None:
    assert observed_reward(log_with([{"kind": "reaction", "value": "love"}])) == 1.0
    assert observed_reward(log_with([{"kind": "rating", "value": 2}])) == 0.25
    assert observed_reward(log_with([{"kind": "edit", "text": "Hello world!"}])) == pytest.approx(1 - 1 / 12)
    complaint = log_with([{"kind": "reaction", "value": "like"}, {"kind": "followup", "text": "too long"}])
    assert observed_reward(complaint) == 0.5
    assert observed_reward(complaint, complaint=False) == 1.0
    assert observed_reward(log_with([{"kind": "followup", "text": "thank you, that's perfect!"}])) == 1.0
    assert observed_reward(log_with([{"kind": "followup", "text": "What about Sunday?"}])) is None
    assert observed_reward(log_with([])) is None
    assert observed_reward(log_with([]), accepted=1.0) == 1.0
    assert edit_reward("", "") == 1.0 and edit_reward("abc", "xyz") == 0.0


def test_bandit_learns_the_best_arm_and_keeps_state_per_namespace_and_cluster(tmp_path: Path) -> None:
    with SQLiteRuleStore(tmp_path / "s.sqlite") as store:
        bandit = StrategyBandit(store, "acme", seed=1)
        rewards = {Strategy.NONE: 0.1, Strategy.RULES: 0.9, Strategy.REFLECTIVE: 0.4}
        picks = []
        for _ in range(60):
            choice = bandit.choose("c1", ARMS)
            assert choice.strategy in ARMS and choice.reason
            picks.append(choice.strategy)
            bandit.update("c1", choice.strategy, rewards[choice.strategy])
        assert picks[-20:].count(Strategy.RULES) >= 15
        greedy = StrategyBandit(store, "acme", explore=False)
        choice = greedy.choose("c1", ARMS)
        assert choice.strategy is Strategy.RULES and not choice.explored
        assert "exploration off" in choice.reason
        # Never an arm that is not offered; another tenant starts from nothing.
        assert greedy.choose("c1", [Strategy.NONE, Strategy.REFLECTIVE]).strategy is Strategy.REFLECTIVE
        assert StrategyBandit(store, "other").state("c1").arms == {}
        # A new cluster of the same namespace starts from the pooled prior, not from scratch.
        assert greedy.choose("c2", ARMS).strategy is Strategy.RULES
        assert greedy.state(POOLED).arms[Strategy.RULES].pulls == picks.count(Strategy.RULES)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            bandit.update("c1", Strategy.RULES, 1.5)


def test_fixed_strategy_falls_back_to_rules_then_none() -> None:
    fixed = FixedStrategy(Strategy.REFLECTIVE)
    assert fixed.choose("c", ARMS).strategy is Strategy.REFLECTIVE
    assert fixed.choose("c", [Strategy.NONE, Strategy.RULES]).strategy is Strategy.RULES
    assert fixed.choose("c", [Strategy.NONE]).strategy is Strategy.NONE
    assert available_strategies(False, False, True) == [Strategy.NONE, Strategy.ADAPTER]


def test_augment_reports_the_arm_and_uses_only_what_it_chose(tmp_path: Path) -> None:
    logs = [
        {"user_id": f"cook{n}", "query": query, "response": LONG_ANSWER, "feedback": [followup("too long, shorter")]}
        for n, query in enumerate(COOKING)
    ]
    clustering = ClusteringConfig(similarity_floor=0.25, min_cluster_size=3)
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256), clustering=clustering) as memory:
        memory.add_many(logs)
        memory.build()
        query = "How long should I roast a duck in the oven?"
        plain = memory.augment(query)
        assert plain.rules and plain.strategy is None
        with_rules = memory.augment(query, bandit=FixedStrategy(Strategy.RULES))
        assert with_rules.strategy is not None and with_rules.strategy.strategy is Strategy.RULES
        assert with_rules.rules and with_rules.plan is None
        without = memory.augment(query, bandit=FixedStrategy(Strategy.NONE))
        assert without.rules == [] and without.route.value == "none" and len(without.messages) == 1
        bandit = memory.strategy_bandit(seed=3)
        chosen = memory.augment(query, bandit=bandit)
        assert chosen.strategy is not None and Strategy.RULES in chosen.strategy.available
        bandit.update(chosen.cluster_id, chosen.strategy.strategy, 1.0)
        assert memory.strategy_bandit().state(chosen.cluster_id).arms[chosen.strategy.strategy].pulls == 1


def test_revise_replaces_an_answers_reward_and_can_take_it_back(tmp_path: Path) -> None:
    with SQLiteRuleStore(tmp_path / "s.sqlite") as store:
        bandit = StrategyBandit(store, "acme", optimism=0.0)
        bandit.update("c1", Strategy.RULES, 0.0)
        arm = bandit.state("c1").arms[Strategy.RULES]
        assert (arm.alpha, arm.beta, arm.pulls) == (1.0, 2.0, 1)
        # Later feedback on the same answer revises its reward: still one pull.
        bandit.revise("c1", Strategy.RULES, 0.0, 0.5)
        arm = bandit.state("c1").arms[Strategy.RULES]
        assert (arm.alpha, arm.beta, arm.pulls) == (1.5, 1.5, 1)
        # A forgotten answer's reward is taken back, from the cluster and from the pooled sums.
        bandit.revise("c1", Strategy.RULES, 0.5, None)
        for key in ("c1", POOLED):
            arm = bandit.state(key).arms[Strategy.RULES]
            assert (arm.alpha, arm.beta, arm.pulls) == (1.0, 1.0, 0)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            bandit.revise("c1", Strategy.RULES, None, -0.1)
        with pytest.raises(ValueError, match="optimism"):
            StrategyBandit(store, "acme", optimism=-1.0)


def test_learnt_material_starts_ahead_of_the_plain_prompt(tmp_path: Path) -> None:
    with SQLiteRuleStore(tmp_path / "s.sqlite") as store:
        bandit = StrategyBandit(store, "acme", explore=False)
        assert bandit.posterior("c1", Strategy.NONE).mean == 0.5
        assert bandit.posterior("c1", Strategy.RULES).mean == pytest.approx(2 / 3)
        choice = bandit.choose("c1", [Strategy.NONE, Strategy.RULES])
        assert choice.strategy is Strategy.RULES
        # Two bad rewards overturn the head start.
        bandit.update("c1", Strategy.RULES, 0.0)
        bandit.update("c1", Strategy.RULES, 0.0)
        assert bandit.choose("c1", [Strategy.NONE, Strategy.RULES]).strategy is Strategy.NONE


def conversation(*turns: str, feedback: list[dict[str, Any]] | None = None) -> LogRecord:
    roles = ["user", "assistant"] * len(turns)
    return LogRecord.model_validate(
        {
            "messages": [{"role": r, "content": t} for r, t in zip(roles, turns, strict=False)],
            "feedback": feedback or [],
        }
    )


def test_answer_reward_reads_the_last_answer_and_a_quiet_next_turn() -> None:
    # The stored history's first answer is not uno's: the reward is about the last one.
    log = conversation("hi", "old answer", "and Sunday?", "Open 10 to 4.")
    assert answer_reward(log) is None
    edited = log.model_copy(update={"feedback": [EditFeedback(text="Open 10 to 5.", turn=3)]})
    assert answer_reward(edited) == pytest.approx(1 - 1 / 13)
    went_on = log.model_copy(update={"feedback": [FollowupFeedback(text="And on Monday?", turn=3)]})
    assert answer_reward(went_on) == CONTINUED_REWARD
    complained = log.model_copy(update={"feedback": [FollowupFeedback(text="too long, keep it short", turn=3)]})
    assert answer_reward(complained) == 0.0


def test_feedback_rewards_the_arm_behind_a_logged_answer_and_forget_takes_it_back(tmp_path: Path) -> None:
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256)) as memory:
        choice = StrategyChoice(strategy=Strategy.RULES, reason="test", available=ARMS, explored=False)
        log_id = memory.log_exchange(
            [{"role": "user", "content": "Is the shop open on Sunday?"}],
            "Yes, from 10 to 4.",
            user_id="ana",
            metadata=pull_metadata("c7", choice),
        )
        plain_id = memory.log_exchange([{"role": "user", "content": "Hello?"}], "Hi.", user_id="ana")
        bandit = memory.strategy_bandit()
        assert bandit.state("c7").arms == {}

        memory.feedback(log_id, {"kind": "followup", "text": "too long, keep it short"})
        arm = bandit.state("c7").arms[Strategy.RULES]
        assert arm.pulls == 1 and arm.beta == pytest.approx(2.0)
        memory.feedback(log_id, {"kind": "reaction", "value": "like"})  # revises: (0 + 1) / 2
        arm = bandit.state("c7").arms[Strategy.RULES]
        assert arm.pulls == 1 and arm.alpha == pytest.approx(2.5) and arm.beta == pytest.approx(1.5)
        memory.feedback(plain_id, {"kind": "reaction", "value": "dislike"})  # no arm chose that answer
        assert bandit.state(POOLED).arms[Strategy.RULES].pulls == 1 and Strategy.NONE not in bandit.state(POOLED).arms

        memory.forget(log_ids=[log_id])
        arm = bandit.state("c7").arms[Strategy.RULES]
        assert arm.pulls == 0 and arm.alpha == pytest.approx(2.0) and arm.beta == pytest.approx(1.0)
