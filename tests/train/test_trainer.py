"""Datasets, batches and the LoRA training loop, on the tiny model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rule_store.records import Cluster, Message, PreferencePair, Route
from uno import UnoMemory
from uno.embed import HashingEmbedder
from uno.train.bake import maturity, wanted_kind
from uno.train.batches import collate, encode, micro_batches
from uno.train.config import LoRAShape, LossWeights, TrainConfig
from uno.train.datasets import ClusterData, cluster_data, critic_messages, hindsight_prompt, split_log_ids
from uno.train.lora import LoRATrainer, NothingToTrainError

from .test_bake import fast_config, mature_cluster, yes_no_logs


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model_dir))


@pytest.fixture
def data(tmp_path: Path) -> ClusterData:
    with UnoMemory(tmp_path / "store", embedder=HashingEmbedder(256)) as memory:
        memory.add_many(yes_no_logs())
        memory.build()
        cluster = next(c for c in memory.store.list_clusters() if c.id == mature_cluster(memory))
        return cluster_data(memory.store, cluster)


def test_split_is_by_log_seeded_and_disjoint() -> None:
    ids = [f"log-{n}" for n in range(20)]
    train, held = split_log_ids(ids)
    assert len(held) == 4 and not set(train) & set(held) and sorted(train + held) == sorted(ids)
    assert split_log_ids(list(reversed(ids))) == (train, held)  # input order does not matter
    assert split_log_ids(ids, seed=7) != (train, held)
    assert split_log_ids(["a", "b"])[1] and split_log_ids(["a"]) == (["a"], [])


def test_cluster_data_keeps_held_out_logs_out_of_training(data: ClusterData) -> None:
    held = set(data.holdout_log_ids)
    assert held and not held & set(data.train_log_ids)
    assert all(p.source_log_id not in held for p in data.pairs + data.edits)
    assert all(h.source_log_id not in held for h in data.hindsight)
    assert {v.log_id for v in data.validation} == held
    assert all("YES or NO" in " ".join(v.rules) for v in data.validation)
    assert data.edits and all(p.source == "edit" for p in data.edits)
    assert data.critic and data.critic[0].target.startswith("1. When ")
    assert data.source_log_ids == sorted(held | set(data.train_log_ids))


def test_critic_prompt_is_the_same_at_training_and_serving(data: ClusterData) -> None:
    example = data.critic[0]
    query = next(m.content for m in example.prompt)
    assert "<request>" in query and "<answer>" in query
    served = critic_messages([Message(role="system", content="app"), Message(role="user", content="Q?")], "A.")
    trained = critic_messages([Message(role="user", content="Q?")], "A.")
    assert served == trained


def test_hindsight_prompt_adds_the_followup_to_the_last_user_turn() -> None:
    prompt = [Message(role="system", content="s"), Message(role="user", content="Is it?")]
    teacher = hindsight_prompt(prompt, "Only YES or NO.")
    assert teacher[0] == prompt[0] and teacher[1].content.startswith("Is it?")
    assert "Only YES or NO." in teacher[1].content and prompt[1].content == "Is it?"  # input untouched


def test_encode_marks_exactly_the_answer(tokenizer: Any) -> None:
    prompt = [Message(role="user", content="Is the sun a star?")]
    row = encode(tokenizer, prompt, "YES", max_length=512)
    answer = tokenizer.decode(row.completion_ids)
    assert answer.startswith("YES") and "<|im_end|>" in answer and "sun" not in answer
    assert tokenizer.decode(row.input_ids).startswith("<|im_start|>user\nIs the sun a star?")
    short = encode(tokenizer, prompt, "YES", max_length=6)
    assert len(short.input_ids) == 6 and short.completion_ids == row.completion_ids[:6]


def test_batches_stack_chosen_before_rejected_and_pad_right(data: ClusterData, tokenizer: Any) -> None:
    batches = micro_batches(data, ["expert", "hindsight"], tokenizer, batch_size=4, max_length=128, seed=0)
    expert = next(b for b in batches if b.kind == "expert")
    half = len(expert.rows) // 2
    assert all(tokenizer.decode(r.completion_ids).strip().startswith(("YES", "NO")) for r in expert.rows[:half])
    assert all("great question" in tokenizer.decode(r.completion_ids) for r in expert.rows[half:])
    hind = next(b for b in batches if b.kind == "hindsight")
    assert all(s.completion_ids == t.completion_ids for s, t in zip(hind.rows, hind.teacher_rows, strict=True))
    assert all(len(t.input_ids) > len(s.input_ids) for s, t in zip(hind.rows, hind.teacher_rows, strict=True))
    tensors = collate(expert.rows, tokenizer.pad_token_id)
    assert tensors["input_ids"].shape[0] == len(expert.rows)
    assert int(tensors["attention_mask"].sum()) == expert.tokens
    assert int(tensors["completion_mask"].sum()) == sum(len(r.completion_ids) for r in expert.rows)


def test_trainer_writes_one_checkpoint_per_epoch_and_learns(
    data: ClusterData, tiny_model_dir: Path, tmp_path: Path
) -> None:
    run = LoRATrainer(device="cpu").train(tiny_model_dir, data, "expert", tmp_path / "out", fast_config(epochs=3))
    assert [Path(c).name for c in run.checkpoints] == ["epoch-0", "epoch-1", "epoch-2"]
    assert all((Path(c) / "adapter_config.json").is_file() for c in run.checkpoints)
    first, last = run.epochs[0].losses, run.epochs[-1].losses
    assert set(first) == {"dpo", "sft", "edit_sft", "hindsight", "reward_accuracy"}
    assert last["sft"] < first["sft"] and last["dpo"] < first["dpo"]
    assert run.tokens > 0 and run.tokens_per_second > 0 and run.trainable_parameters > 0
    assert run.examples["expert"] >= 2


def test_trainer_runs_only_weighted_terms_and_the_base_teacher(
    data: ClusterData, tiny_model_dir: Path, tmp_path: Path
) -> None:
    only_hindsight = LossWeights(dpo=0, sft=0, edit_sft=0, hindsight=1.0)
    config = fast_config(epochs=1, weights=only_hindsight, hindsight_teacher="base")
    run = LoRATrainer(device="cpu").train(tiny_model_dir, data, "expert", tmp_path / "out", config)
    assert set(run.epochs[0].losses) == {"hindsight"} and run.epochs[0].losses["hindsight"] > 0


def test_nothing_to_train_and_unknown_kind(tiny_model_dir: Path, tmp_path: Path) -> None:
    empty = ClusterData(namespace="n", cluster_id="c")
    with pytest.raises(NothingToTrainError, match="cluster c has no"):
        LoRATrainer().train(tiny_model_dir, empty, "expert", tmp_path, fast_config())
    with pytest.raises(ValueError, match="unknown adapter kind"):
        LoRATrainer().train(tiny_model_dir, empty, "oracle", tmp_path, fast_config())


def test_config_refuses_all_zero_weights() -> None:
    with pytest.raises(ValueError, match="every loss weight is 0"):
        TrainConfig(weights=LossWeights(dpo=0, sft=0, edit_sft=0, hindsight=0, critic_sft=0))
    assert TrainConfig().lora == LoRAShape(r=64, alpha=128, dropout=0.05)  # UNO's shape by default
    assert TrainConfig().epochs == 8 and TrainConfig().min_win_rate == 0.53 and TrainConfig().min_bleu == 0.05


def test_which_clusters_get_which_adapter(data: ClusterData) -> None:
    config = TrainConfig()
    cluster = Cluster(id="c", route=Route.PRIMARY, gap_score=0.1)
    assert wanted_kind(cluster, config) == "expert"
    assert wanted_kind(cluster.model_copy(update={"gap_score": 0.5}), config) is None
    assert wanted_kind(cluster.model_copy(update={"route": Route.REFLECTIVE}), config) == "critic"
    assert wanted_kind(cluster.model_copy(update={"route": Route.NONE}), config) is None
    assert maturity(data, wanted_kind(cluster, config), config) is None  # type: ignore[arg-type]
    few = data.model_copy(update={"pairs": data.pairs[:2], "hindsight": data.hindsight[:2]})
    assert "not mature: 2 preference pair(s) + 2 hindsight triple(s)" in str(maturity(few, "expert", config))  # type: ignore[arg-type]
    unjudgeable = data.model_copy(update={"validation": data.validation[:1]})
    assert "1 held-out log(s) with feedback, 3 needed" in str(maturity(unjudgeable, "expert", config))  # type: ignore[arg-type]
    pair = PreferencePair(prompt=[Message(role="user", content="q")], chosen="a", rejected="b", source_log_id="l")
    assert pair.chosen != pair.rejected


def test_dequantized_checkpoints_lose_the_gguf_quantization_note(tmp_path: Path) -> None:
    """A GGUF conversion saved with the loader's quantization_config cannot be fine-tuned; the cache heals it."""
    import json

    from uno.llm.local import _drop_gguf_quantization

    config = {"model_type": "llama", "quantization_config": {"quant_method": "gguf"}, "hidden_size": 8}
    (tmp_path / "config.json").write_text(json.dumps(config))
    _drop_gguf_quantization(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"model_type": "llama", "hidden_size": 8}
    _drop_gguf_quantization(tmp_path)  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]
