"""``python -m benchmarks.train_throughput`` on the tiny model, 4 pairs, 1 repeat: the whole code path in seconds.

Nothing here asserts a timing; the checks are that every side trained on the same tokens for the same number of
steps, and that the result files hold what the script measured.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pytest

from benchmarks.train_throughput import (
    CONFIGS,
    SIDES,
    main,
    parse_models,
    synthetic_pairs,
    trainable_copy,
)

pytest.importorskip("peft", reason="the training benchmark needs the [train] extra")
pytest.importorskip("trl", reason="the training benchmark needs the [train] extra")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PAIRS = 4


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("train-throughput")
    assert main(["--models", "tiny", "--repeats", "1", "--pairs", str(PAIRS), "--out", str(out)]) == 0
    return out, json.loads((out / "train_throughput.json").read_text(encoding="utf-8"))


def _tokens_by_hand(model_dir: Path, epochs: int) -> int:
    """Prompt + answer tokens of every chosen and rejected row, through the chat template, per epoch."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    total = 0
    for pair in synthetic_pairs(PAIRS, CONFIGS["tiny"].seed):
        chat = [{"role": m.role, "content": m.content} for m in pair.prompt]
        for answer in (pair.chosen, pair.rejected):
            ids = tokenizer.apply_chat_template([*chat, {"role": "assistant", "content": answer}], tokenize=True)
            total += len(ids["input_ids"] if hasattr(ids, "keys") else ids)
    return total * epochs


def test_every_side_trained_on_the_same_tokens_and_steps(tiny_run: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from uno.train.tiny import build_tiny_model

    _, results = tiny_run
    (model,) = results["models"]
    config = model["config"]
    assert model["model"] == "tiny" and config["pairs"] == PAIRS
    sides = model["sides"]
    assert set(sides) == set(SIDES)
    tokens = {side: [run["tokens"] for run in sides[side]["runs"]] for side in SIDES}
    # build_tiny_model is deterministic: the same tokenizer the script trained with
    expected = _tokens_by_hand(build_tiny_model(tmp_path / "tiny"), config["epochs"])
    assert tokens == {side: [expected] for side in SIDES}
    assert model["same_tokens"] is True and model["same_optimizer_steps"] is True
    micro_batches = math.ceil(PAIRS / config["batch_size"])
    steps = math.ceil(micro_batches / config["grad_accum"]) * config["epochs"]
    assert {sides[side]["optimizer_steps"] for side in SIDES} == {steps}
    assert model["token_lengths"]["longest_row"] < config["max_length"]  # nothing truncated on either side


def test_reference_pass_is_timed_where_it_exists_and_both_sides_optimise_the_same_loss(
    tiny_run: tuple[Path, dict[str, Any]],
) -> None:
    _, results = tiny_run
    sides = results["models"][0]["sides"]
    for side in SIDES:
        (run,) = sides[side]["runs"]
        assert run["train_seconds"] > 0 and run["train_cpu_seconds"] > 0
        assert run["tokens_per_second"] == pytest.approx(run["tokens"] / run["train_seconds"], rel=1e-3)
    assert sides["uno"]["runs"][0]["reference_seconds"] > 0
    assert sides["trl_precompute"]["runs"][0]["reference_seconds"] > 0
    assert sides["trl"]["runs"][0]["reference_seconds"] == 0  # TRL's default runs the reference inside each step
    # one micro-batch per step, same seed, same objective: the same mean 0.5 DPO + 0.5 SFT loss
    losses = [sides[side]["mean_loss_median"] for side in SIDES]
    assert max(losses) - min(losses) < 1e-3, losses


def test_ratios_are_computed_from_the_medians(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    _, results = tiny_run
    model = results["models"][0]
    sides, ratios = model["sides"], model["ratios"]
    for other in ("trl", "trl_precompute"):
        by_hand = sides["uno"]["tokens_per_second_median"] / sides[other]["tokens_per_second_median"]
        assert ratios[f"uno_over_{other}_tokens_per_second"] == pytest.approx(by_hand, abs=1e-3)
        by_hand = sides[other]["total_seconds_median"] / sides["uno"]["total_seconds_median"]
        assert ratios[f"{other}_over_uno_total_seconds"] == pytest.approx(by_hand, abs=1e-3)


def test_writes_the_json_the_markdown_and_the_plot(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    out, results = tiny_run
    machine = results["machine"]
    assert machine["device_type"] in ("cpu", "cuda") and machine["device"]
    assert {"torch", "transformers", "peft", "trl"} <= set(machine["packages"])
    assert (out / "train_throughput.png").read_bytes().startswith(PNG_MAGIC)
    report = (out / "train_throughput.md").read_text(encoding="utf-8")
    uno = results["models"][0]["sides"]["uno"]
    assert "## tiny" in report and "## Method" in report
    assert f"| uno LoRATrainer (reference once) | {uno['train_seconds_median']:.2f} |" in report
    assert f"{uno['tokens']:,}" in report


def test_parse_models_accepts_known_names_only() -> None:
    assert parse_models("tiny, smollm2") == ["tiny", "smollm2"]
    with pytest.raises(argparse.ArgumentTypeError, match="gpt2"):
        parse_models("tiny,gpt2")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_models(" , ")


def test_synthetic_pairs_are_seeded_and_sized() -> None:
    first, again, other = synthetic_pairs(8, 1), synthetic_pairs(8, 1), synthetic_pairs(8, 2)
    assert [p.model_dump(exclude={"created_at"}) for p in first] == [
        p.model_dump(exclude={"created_at"}) for p in again
    ]
    assert [p.chosen for p in first] != [p.chosen for p in other]
    for pair in first:
        assert 24 <= len(pair.prompt[0].content.split()) <= 48
        assert 15 <= len(pair.chosen.split()) <= 60 and 15 <= len(pair.rejected.split()) <= 60


def test_trainable_copy_drops_the_quantization_config_and_links_the_weights(tmp_path: Path) -> None:
    source = tmp_path / "dequantized"
    source.mkdir()
    config = {"model_type": "llama", "quantization_config": {"quant_method": "gguf"}, "vocab_size": 7}
    (source / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (source / "model.safetensors").write_bytes(b"weights")

    copy = trainable_copy(source, tmp_path / "copy")

    assert json.loads((copy / "config.json").read_text(encoding="utf-8")) == {"model_type": "llama", "vocab_size": 7}
    assert (copy / "model.safetensors").is_symlink()
    assert (copy / "model.safetensors").read_bytes() == b"weights"
    assert "quantization_config" in json.loads((source / "config.json").read_text(encoding="utf-8"))


def test_from_json_re_renders_the_same_report_without_training(
    tiny_run: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    out, _ = tiny_run

    assert main(["--from-json", str(out / "train_throughput.json"), "--out", str(tmp_path)]) == 0

    for name in ("train_throughput.md", "train_throughput.json"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (out / name).read_text(encoding="utf-8")
    assert (tmp_path / "train_throughput.png").read_bytes().startswith(PNG_MAGIC)
