"""``LoRATrainer``: the default :class:`uno.train.Trainer`, a plain torch loop over a peft LoRA adapter.

Why not TRL's trainers: an Expert adapter mixes four losses over three batch shapes (DPO pairs, SFT rows, hindsight
student/teacher rows), which no single TRL trainer takes. The loop also computes the DPO reference log-probs once,
before the first step (the reference, the base with the adapter disabled, never changes), where TRL's DPOTrainer
runs a second forward pass on every step by default. ``tests/train/test_losses.py`` checks that the Expert loss
equals TRL's on the same batch; ``benchmarks/train_throughput.py`` compares the speed.

Schedule and optimiser are UNO's: AdamW (0.9, 0.98), weight decay 1e-4, clip 1.0, cosine decay without warmup,
a checkpoint of the adapter after every epoch (the validation gate picks the best).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from uno.train.batches import CRITIC_KINDS, EXPERT_KINDS, MicroBatch, collate, micro_batches
from uno.train.config import TrainConfig
from uno.train.datasets import ClusterData


class EpochStats(BaseModel):
    epoch: int
    steps: int
    tokens: int
    seconds: float
    losses: dict[str, float] = Field(default_factory=dict, description="mean unweighted loss per term")


class TrainingRun(BaseModel):
    """What a trainer produced: one adapter checkpoint per epoch, and how training went."""

    kind: str
    base_model: str
    checkpoints: list[str]
    epochs: list[EpochStats]
    trainable_parameters: int
    examples: dict[str, int]

    @property
    def tokens(self) -> int:
        return sum(e.tokens for e in self.epochs)

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.epochs)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


@runtime_checkable
class Trainer(Protocol):
    """Trains one adapter of ``kind`` ("expert" or "critic") for a cluster; writes ``output_dir/epoch-N``."""

    def train(
        self,
        base_model: str | Path,
        data: ClusterData,
        kind: str,
        output_dir: Path,
        config: TrainConfig,
        *,
        progress: bool = False,
    ) -> TrainingRun: ...


class NothingToTrainError(ValueError):
    """The cluster has no example of any kind this adapter trains on."""


class LoRATrainer:
    """Train a LoRA adapter with uno's joint losses. ``device``: "cpu", "cuda" or None (cuda when available)."""

    def __init__(self, device: str | None = None) -> None:
        self.device = device

    def train(
        self,
        base_model: str | Path,
        data: ClusterData,
        kind: str,
        output_dir: Path,
        config: TrainConfig,
        *,
        progress: bool = False,
    ) -> TrainingRun:
        import torch

        kinds = _kinds(kind, config)
        torch.manual_seed(config.seed)
        model, tokenizer, device = self._load(base_model, config)
        batches = micro_batches(
            data, kinds, tokenizer, batch_size=config.batch_size, max_length=config.max_length, seed=config.seed
        )
        if not batches:
            raise NothingToTrainError(f"cluster {data.cluster_id} has no {'/'.join(kinds)} examples")
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        _precompute_reference(model, batches, pad_id, device)
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            params, lr=config.learning_rate, betas=config.adam_betas, weight_decay=config.weight_decay
        )
        steps_per_epoch = math.ceil(len(batches) / config.grad_accum)
        total = steps_per_epoch * config.epochs
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
        )
        output_dir.mkdir(parents=True, exist_ok=True)
        rng = random.Random(config.seed)
        bar = _progress(total, f"train {kind} {data.cluster_id}", progress)
        checkpoints: list[str] = []
        history: list[EpochStats] = []
        for epoch in range(config.epochs):
            order = list(batches)
            rng.shuffle(order)
            stats = _run_epoch(model, order, pad_id, device, config, optimizer, scheduler, bar, params)
            stats.epoch = epoch
            history.append(stats)
            target = output_dir / f"epoch-{epoch}"
            model.save_pretrained(str(target))
            checkpoints.append(str(target))
        bar.close()
        return TrainingRun(
            kind=kind,
            base_model=str(base_model),
            checkpoints=checkpoints,
            epochs=history,
            trainable_parameters=sum(p.numel() for p in params),
            examples={k: sum(1 for b in batches if b.kind == k) for k in kinds},
        )

    def _load(self, base_model: str | Path, config: TrainConfig) -> tuple[Any, Any, Any]:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # bf16 only where the hardware has it: on CPUs without AMX it is ~15x slower than fp32.
        dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
        tokenizer = AutoTokenizer.from_pretrained(str(base_model))
        base: Any = AutoModelForCausalLM.from_pretrained(str(base_model), dtype=dtype)
        lora = LoraConfig(
            r=config.lora.r,
            lora_alpha=config.lora.alpha,
            lora_dropout=config.lora.dropout,
            target_modules=config.lora.target_modules,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(base, lora).to(device)
        model.config.use_cache = False
        return model, tokenizer, device


def _kinds(kind: str, config: TrainConfig) -> list[str]:
    weights = config.weights.as_dict()
    if kind == "expert":
        wanted = {"expert": weights["dpo"] + weights["sft"], "edit_sft": weights["edit_sft"]}
        wanted["hindsight"] = weights["hindsight"]
        return [k for k in EXPERT_KINDS if wanted[k] > 0]
    if kind == "critic":
        return list(CRITIC_KINDS) if weights["critic_sft"] > 0 else []
    raise ValueError(f"unknown adapter kind {kind!r} (expected 'expert' or 'critic')")


def _precompute_reference(model: Any, batches: Sequence[MicroBatch], pad_id: int, device: Any) -> None:
    """Sequence log-probs of the DPO rows under the base model (adapter disabled), once for the whole run."""
    import torch

    from uno.train.losses import sequence_logps

    was_training = model.training
    model.eval()
    with torch.no_grad(), model.disable_adapter():
        for batch in batches:
            if batch.kind == "expert":
                tensors = collate(batch.rows, pad_id, device)
                logits = model(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]).logits
                batch.ref_logps = sequence_logps(logits, tensors["input_ids"], tensors["completion_mask"]).detach()
    model.train(was_training)


def _run_epoch(
    model: Any,
    order: Sequence[MicroBatch],
    pad_id: int,
    device: Any,
    config: TrainConfig,
    optimizer: Any,
    scheduler: Any,
    bar: Any,
    params: list[Any],
) -> EpochStats:
    import torch

    model.train()
    started = time.perf_counter()
    sums: dict[str, list[float]] = {}
    tokens = steps = 0
    for n, batch in enumerate(order, start=1):
        loss, terms = _batch_loss(model, batch, pad_id, device, config)
        (loss / config.grad_accum).backward()
        tokens += batch.tokens
        for name, value in terms.items():
            sums.setdefault(name, []).append(value)
        if n % config.grad_accum == 0 or n == len(order):
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            steps += 1
            bar.update(1)
    return EpochStats(
        epoch=0,
        steps=steps,
        tokens=tokens,
        seconds=round(time.perf_counter() - started, 4),
        losses={name: round(sum(v) / len(v), 6) for name, v in sorted(sums.items())},
    )


def _batch_loss(
    model: Any, batch: MicroBatch, pad_id: int, device: Any, config: TrainConfig
) -> tuple[Any, dict[str, float]]:
    """The weighted loss of one micro-batch and its unweighted terms (for the epoch report)."""
    import torch

    from uno.train.losses import expert_loss, hindsight_distillation_loss, sft_nll

    weights = config.weights
    tensors = collate(batch.rows, pad_id, device)
    logits = model(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]).logits
    if batch.kind == "expert":
        out = expert_loss(
            logits,
            batch.ref_logps,
            tensors["input_ids"],
            tensors["completion_mask"],
            beta=config.beta,
            dpo_weight=weights.dpo,
            sft_weight=weights.sft,
        )
        terms = {"dpo": float(out.dpo.detach()), "sft": float(out.sft.detach()), "reward_accuracy": out.reward_accuracy}
        return out.loss, terms
    if batch.kind == "hindsight":
        teacher = collate(batch.teacher_rows, pad_id, device)
        adapter_off = model.disable_adapter() if config.hindsight_teacher == "base" else nullcontext()
        with torch.no_grad(), adapter_off:
            teacher_logits = model(input_ids=teacher["input_ids"], attention_mask=teacher["attention_mask"]).logits
        loss = hindsight_distillation_loss(
            logits,
            tensors["input_ids"],
            tensors["completion_mask"],
            teacher_logits,
            teacher["input_ids"],
            teacher["completion_mask"],
            temperature=config.hindsight_temperature,
        )
        return weights.hindsight * loss, {"hindsight": float(loss.detach())}
    loss = sft_nll(logits, tensors["input_ids"], tensors["completion_mask"])
    weight = weights.edit_sft if batch.kind == "edit_sft" else weights.critic_sft
    return weight * loss, {batch.kind: float(loss.detach())}


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", disable=not enabled)


__all__ = ["EpochStats", "LoRATrainer", "NothingToTrainError", "Trainer", "TrainingRun"]
