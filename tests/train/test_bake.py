"""End to end on CPU: a mature cluster is baked into a LoRA adapter, gated, registered, served and forgotten.

The base model is the tiny random-init Llama (its answers are gibberish); the logs teach "answer with only YES or
NO" through user edits and follow-ups; the judge is a code checker behind uno's LLM protocol (tests/train/judges.py).
A few epochs of the Expert loss make the adapter answer YES/NO where the base rambles, so the checker prefers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rule_store.records import AdapterKind, AdapterStatus, Route
from uno import UnoMemory
from uno.embed import HashingEmbedder
from uno.train.config import LoRAShape, TrainConfig
from uno.train.serving import PeftLLM

from .judges import CheckerJudge, yes_no_score

SUBJECTS = [
    "a tomato a fruit", "a whale a fish", "Pluto a planet", "a bat a bird", "glass a liquid", "a peanut a nut",
    "a spider an insect", "coffee a bean", "a koala a bear", "rice a grass", "a banana a berry", "a shark a mammal",
    "the sun a star", "a cucumber a fruit", "a penguin a bird", "a mushroom a plant", "a strawberry a berry",
    "a seahorse a fish", "a potato a root", "an octopus a mollusc", "a dolphin a fish", "a tomato a vegetable",
    "a bee an insect", "a crab a fish",
]  # fmt: skip
NEW_QUERY = "Is a carrot a root? Answer yes or no."


def yes_no_logs() -> list[dict[str, Any]]:
    """24 conversations where the assistant rambled and the user asked for YES/NO and edited the answer to it."""
    logs = []
    for n, subject in enumerate(SUBJECTS):
        logs.append(
            {
                "id": f"log-yn-{n}",
                "user_id": f"user-{n % 6}",
                "messages": [
                    {"role": "user", "content": f"Is {subject}? Answer yes or no."},
                    {
                        "role": "assistant",
                        "content": f"That is a great question! There are many ways to think about whether {subject}.",
                    },
                    {"role": "user", "content": "No, only answer YES or NO."},
                ],
                "feedback": [{"kind": "edit", "text": "YES" if n % 2 == 0 else "NO", "turn": 1}],
            }
        )
    return logs


def fast_config(**overrides: Any) -> TrainConfig:
    """UNO's gate and losses, at a size the tiny model trains in seconds; the drift guard off unless asked."""
    settings: dict[str, Any] = {
        "lora": LoRAShape(r=8, alpha=16, dropout=0.0),
        "epochs": 3,
        "learning_rate": 5e-3,
        "batch_size": 4,
        "grad_accum": 1,
        "max_length": 128,
        "max_new_tokens": 8,
        "min_bleu": 0.0,
        "min_length_ratio": 0.0,
    }
    return TrainConfig(**(settings | overrides))


@pytest.fixture
def memory(tmp_path: Path) -> UnoMemory:
    mem = UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256))
    mem.add_many(yes_no_logs())
    mem.build()
    return mem


def mature_cluster(memory: UnoMemory) -> str:
    return max(memory.store.list_clusters(), key=lambda c: len(c.member_log_ids)).id


def test_train_bakes_gates_and_routes(memory: UnoMemory, tiny_model_dir: Path) -> None:
    judge = CheckerJudge()
    report = memory.train(tiny_model_dir, judge=judge, config=fast_config(), kinds=["expert"])

    by_status = {o.status: o for o in report.outcomes}
    assert set(by_status) == {"accepted", "skipped"}
    skipped = by_status["skipped"]
    assert "not mature" in skipped.reason and "8 needed" in skipped.reason
    accepted = by_status["accepted"]
    assert accepted.cluster_id == mature_cluster(memory)
    assert accepted.reason.startswith("accepted: win rate 1.000")
    assert accepted.metrics["validation_items"] >= 3 and accepted.metrics["win_rate"] >= 0.53
    assert accepted.examples["pairs"] >= 8 and accepted.examples["hindsight"] >= 8
    assert judge.calls == accepted.metrics["validation_items"] * (1 + 3)  # base + every epoch, per held-out item

    [adapter] = memory.adapters(status=AdapterStatus.ACCEPTED)
    assert adapter.id == accepted.adapter_id and adapter.kind is AdapterKind.EXPERT and adapter.version == 1
    assert adapter.status_reason == accepted.reason
    assert adapter.base_model == str(tiny_model_dir.resolve())
    assert adapter.path is not None and (Path(adapter.path) / "adapter_config.json").is_file()
    assert not list(Path(adapter.path).parent.glob("epoch-*"))  # only the best epoch's weights are kept
    cluster = next(c for c in memory.store.list_clusters() if c.id == adapter.cluster_id)
    assert set(adapter.source_log_ids) <= set(cluster.member_log_ids) and len(adapter.source_log_ids) >= 11

    augmentation = memory.augment(NEW_QUERY)
    assert augmentation.cluster_id == adapter.cluster_id
    assert augmentation.adapter is not None and augmentation.adapter.name == adapter.name
    assert augmentation.adapter.path == adapter.path and augmentation.adapter.win_rate == 1.0
    assert memory.augment(NEW_QUERY, base_model="some/other-model").adapter is None
    assert memory.augment("Write a haiku about the autumn sea.").adapter is None

    # Served locally with peft: the adapter answers YES/NO where the base model rambles.
    local = PeftLLM(tiny_model_dir, max_tokens=8)
    chat = [{"role": "user", "content": NEW_QUERY}]
    assert yes_no_score(local.with_adapter(augmentation.adapter).complete(chat, cache=False).text) == 10
    assert yes_no_score(local.with_adapter(None).complete(chat, cache=False).text) < 10
    response = memory.respond(NEW_QUERY, llm=local, max_tokens=8)
    assert response.adapter == adapter.name and response.llm_calls == 1
    assert yes_no_score(response.answer) == 10


def test_default_drift_guard_rejects_with_its_reason(memory: UnoMemory, tiny_model_dir: Path) -> None:
    """The adapter wins every judgement, but shares no 4-gram with the base: UNO's BLEU guard rejects it."""
    report = memory.train(tiny_model_dir, judge=CheckerJudge(), config=fast_config(min_bleu=0.05), kinds=["expert"])

    [outcome] = [o for o in report.outcomes if o.status != "skipped"]
    assert outcome.status == "rejected"
    assert "win rate 0.000" in outcome.reason and "without the BLEU guard 1.000" in outcome.reason
    assert "BLEU drift guard (> 0.05) zeroed" in outcome.reason
    [adapter] = memory.adapters()
    assert adapter.status is AdapterStatus.REJECTED and adapter.status_reason == outcome.reason
    assert adapter.path is None
    assert not (memory.paths.root / "adapters").exists() or not list(
        (memory.paths.root / "adapters").rglob("*.safetensors")
    )
    assert memory.augment(NEW_QUERY).adapter is None


def test_forget_marks_adapter_stale_and_deletes_weights(memory: UnoMemory, tiny_model_dir: Path) -> None:
    memory.train(tiny_model_dir, judge=CheckerJudge(), config=fast_config(), kinds=["expert"])
    [adapter] = memory.adapters(status=AdapterStatus.ACCEPTED)
    assert adapter.path is not None
    weights = Path(adapter.path)

    report = memory.forget(log_ids=[adapter.source_log_ids[0]])

    assert report.adapters_staled == 1
    [stale] = memory.adapters()
    assert stale.status is AdapterStatus.STALE and stale.path is None
    assert "1 forgotten log" in stale.status_reason
    assert not weights.exists()
    assert memory.augment(NEW_QUERY).adapter is None
    # forgetting an unrelated log later does not touch it again
    assert memory.forget(log_ids=["log-yn-unknown"]).adapters_staled == 0


def test_retrain_is_skipped_when_up_to_date_and_supersedes_when_forced(memory: UnoMemory, tiny_model_dir: Path) -> None:
    config = fast_config()
    memory.train(tiny_model_dir, judge=CheckerJudge(), config=config, kinds=["expert"])
    [first] = memory.adapters(status=AdapterStatus.ACCEPTED)

    again = memory.train(tiny_model_dir, judge=CheckerJudge(), config=config, kinds=["expert"])
    assert [o.status for o in again.outcomes if o.status != "skipped"] == ["up to date"]

    forced = memory.train(tiny_model_dir, judge=CheckerJudge(), config=config, kinds=["expert"], force=True)
    assert [o.status for o in forced.outcomes if o.status != "skipped"] == ["accepted"]
    versions = {a.version: a for a in memory.adapters()}
    assert versions[1].status is AdapterStatus.SUPERSEDED and versions[1].path is None
    assert versions[1].id == first.id and "superseded by" in versions[1].status_reason
    assert versions[2].status is AdapterStatus.ACCEPTED
    assert memory.augment(NEW_QUERY).adapter is not None
    assert memory.augment(NEW_QUERY).adapter.version == 2  # type: ignore[union-attr]


def test_judge_failures_leave_the_adapter_unvalidated_and_the_logs_intact(
    memory: UnoMemory, tiny_model_dir: Path
) -> None:
    """A judge that times out on every answer (after its retry): nothing is scored 0 by default, nothing is lost."""
    logs_before = memory.store.count_logs()
    judge = CheckerJudge(fail_on="")
    report = memory.train(tiny_model_dir, judge=judge, config=fast_config(), kinds=["expert"])

    [outcome] = [o for o in report.outcomes if o.status != "skipped"]
    assert outcome.status == "rejected"
    assert outcome.reason.startswith("not validated: 0 judged held-out item(s)")
    assert "could not be judged" in outcome.reason
    assert judge.calls >= 2 * outcome.examples["validation"]  # every failing call was retried once
    assert memory.store.count_logs() == logs_before


def test_train_needs_a_judge_and_a_real_base_model(memory: UnoMemory, tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a judge"):
        memory.train(tiny_model_dir)
    with pytest.raises(FileNotFoundError, match="not a transformers checkpoint"):
        memory.train(tmp_path / "nowhere", judge=CheckerJudge())
    with pytest.raises(KeyError, match="no cluster clu-missing"):
        memory.train(tiny_model_dir, judge=CheckerJudge(), clusters=["clu-missing"])


def test_critic_adapter_for_a_reflective_cluster(memory: UnoMemory, tiny_model_dir: Path) -> None:
    """A reflective cluster gets a Critic (the "reverse user"); respond then drafts, critiques with it, revises."""
    cluster = next(c for c in memory.store.list_clusters() if c.id == mature_cluster(memory))
    memory.store.upsert_clusters([cluster.model_copy(update={"route": Route.REFLECTIVE, "gap_score": 0.6})])
    # The gate threshold at 0 accepts whatever the critic does: this test is about the plumbing, not the win.
    report = memory.train(tiny_model_dir, judge=CheckerJudge(), config=fast_config(min_win_rate=0.0))

    [outcome] = [o for o in report.outcomes if o.cluster_id == cluster.id]
    assert outcome.kind == "critic" and outcome.status == "accepted"
    assert outcome.examples["critic"] >= 8 and "final_critic_sft" in outcome.metrics
    [adapter] = memory.adapters(cluster_id=cluster.id)
    assert adapter.kind is AdapterKind.CRITIC

    memory._views.clear()  # read the registry back as another process would
    augmentation = memory.augment(NEW_QUERY)
    assert augmentation.route is Route.REFLECTIVE
    assert augmentation.adapter is not None and augmentation.adapter.kind == "critic"
    response = memory.respond(NEW_QUERY, llm=PeftLLM(tiny_model_dir, max_tokens=8), max_tokens=8)
    assert response.adapter == adapter.name and response.route is Route.REFLECTIVE
    assert response.draft is not None and response.critique is not None and response.llm_calls in (2, 3)
