"""benchmarks.reward (held-out reactions) and benchmarks.online (round-by-round edits) on tiny runs."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import online, report, reward
from tests.reward.test_reward import labelled_logs, log_of
from uno.embed import HashingEmbedder
from uno.reward import collect_examples


def test_reward_evaluation_cross_validates_by_user() -> None:
    logs = [log_of(record) for record in labelled_logs(80)]
    result = reward.evaluate(collect_examples(logs), HashingEmbedder(64))
    assert (result["answers"], result["users"], result["clear_labels"]) == (80, 7, 80)
    assert result["auc"] is not None and result["auc"] > 0.9
    assert result["log_loss"] < result["log_loss_constant"] and result["brier"] < result["brier_constant"]
    assert reward.reward_table({"simulator": result, "oasst": result})[2].startswith("| simulator | 80 (7) |")


def test_simulator_edits_get_a_feedback_weight() -> None:
    weights = reward.edit_weights(reward.simulator_logs(300, seed=3), HashingEmbedder(64))
    assert weights["correction"]["edits"] > 20
    assert all(0.0 <= v["mean_weight"] <= 1.0 for v in weights.values())


def test_online_run_reports_every_method_round_by_round(tmp_path: Path) -> None:
    config = online.OnlineConfig(rounds=3, users_per_topic=2, topics=("cooking", "saas_support"))
    result = online.run(config, embedder_kind="hashing", progress=lambda _: None)
    methods = result["methods"]
    assert list(methods) == list(online.METHODS)
    first_round = {m["edit_cost_per_round"][0] for m in methods.values()}
    assert len(first_round) == 1  # nothing learnt yet, same queries and draws: the same cost for everyone
    for data in methods.values():
        assert data["cumulative_edit_cost"][-1] == data["edit_cost_total"] == sum(data["edit_cost_per_round"])
    # The plain answer breaks every hidden preference: always edited, never liked.
    assert methods["no-memory"]["positive_reaction_rate"] == 0.0
    assert methods["uno-rules"]["edit_cost_total"] < methods["no-memory"]["edit_cost_total"]
    assert sum(methods["uno-bandit"]["strategies"].values()) == 3 * 4
    assert result["best_fixed_in_hindsight_cost"] <= methods["uno-rules"]["edit_cost_total"]
    markdown = online.render(result)
    assert "| uno / bandit |" in markdown
    assert online.plot(result, tmp_path / online.PLOT).stat().st_size > 0
    # The benchmark report gets a section from online.json (and says what was not measured).
    section = "\n".join(report._reactions_online(None, json.loads(json.dumps(result))))
    assert "| uno / bandit |" in section and "python -m benchmarks.reward" in section
