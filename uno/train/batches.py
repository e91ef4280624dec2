"""Token batches for the losses: prompt + completion through the model's own chat template, padded on the right.

The completion is found by rendering the conversation with and without the answer and taking the difference, so
whatever the template adds around an assistant turn (end-of-turn token, trailing newline) is trained on too, and
nothing depends on one model family's markup. Over-long examples lose the start of the prompt, never the answer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rule_store.records import Message
from uno.train.datasets import ClusterData, hindsight_prompt

EXPERT_KINDS = ("expert", "edit_sft", "hindsight")
CRITIC_KINDS = ("critic_sft",)


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    completion_mask: list[int]

    @property
    def completion_ids(self) -> list[int]:
        return [t for t, m in zip(self.input_ids, self.completion_mask, strict=True) if m]


@dataclass
class MicroBatch:
    """One homogeneous step: ``kind`` says which loss; tensors are built lazily by :func:`collate`."""

    kind: str
    rows: list[Encoded]
    # hindsight: the teacher rows (same completions, longer prompts); expert: reference log-probs once computed.
    teacher_rows: list[Encoded] = field(default_factory=list)
    ref_logps: Any = None

    @property
    def tokens(self) -> int:
        return sum(len(r.input_ids) for r in self.rows)


def encode(tokenizer: Any, prompt: Sequence[Message], completion: str, max_length: int) -> Encoded:
    """Token ids of ``prompt`` + ``completion`` and the mask of the completion's tokens, at most ``max_length``."""
    chat = [{"role": m.role, "content": m.content} for m in prompt]
    prompt_ids = _ids(tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=True))
    full_ids = _ids(tokenizer.apply_chat_template([*chat, {"role": "assistant", "content": completion}], tokenize=True))
    if full_ids[: len(prompt_ids)] != prompt_ids:
        # A template that rewrites earlier turns when an answer follows: fall back to prompt + plain answer + eos.
        answer = _ids(tokenizer(completion, add_special_tokens=False)["input_ids"])
        full_ids = prompt_ids + answer + ([tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else [])
    answer_ids = full_ids[len(prompt_ids) :][:max_length]
    prompt_ids = prompt_ids[max(0, len(prompt_ids) - (max_length - len(answer_ids))) :]
    return Encoded(prompt_ids + answer_ids, [0] * len(prompt_ids) + [1] * len(answer_ids))


def _ids(value: Any) -> list[int]:
    """``apply_chat_template`` returns a list, or a BatchEncoding in some tokenizer versions."""
    if hasattr(value, "keys") and "input_ids" in value:
        value = value["input_ids"]
    return [int(t) for t in value]


def collate(rows: Sequence[Encoded], pad_id: int, device: Any = None) -> dict[str, Any]:
    """Right-padded ``input_ids``, ``attention_mask`` and ``completion_mask`` tensors."""
    import torch

    width = max(len(r.input_ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    completion = torch.zeros((len(rows), width), dtype=torch.long)
    for n, row in enumerate(rows):
        size = len(row.input_ids)
        ids[n, :size] = torch.tensor(row.input_ids)
        attention[n, :size] = 1
        completion[n, :size] = torch.tensor(row.completion_mask)
    batch = {"input_ids": ids, "attention_mask": attention, "completion_mask": completion}
    return {k: v.to(device) for k, v in batch.items()} if device is not None else batch


def micro_batches(
    data: ClusterData, kinds: Sequence[str], tokenizer: Any, *, batch_size: int, max_length: int, seed: int
) -> list[MicroBatch]:
    """Every example of the requested kinds, encoded and grouped ``batch_size`` at a time, one kind per batch."""
    rng = random.Random(seed)
    out: list[MicroBatch] = []
    for kind in kinds:
        examples = _examples(data, kind, tokenizer, max_length)
        rng.shuffle(examples)
        for start in range(0, len(examples), batch_size):
            chunk = examples[start : start + batch_size]
            if kind == "expert":
                # DPO batches are [chosen..., rejected...], as TRL stacks them.
                out.append(MicroBatch(kind, [c for c, _ in chunk] + [r for _, r in chunk]))
            elif kind == "hindsight":
                out.append(MicroBatch(kind, [s for s, _ in chunk], teacher_rows=[t for _, t in chunk]))
            else:
                out.append(MicroBatch(kind, [row for row, _ in chunk]))
    return out


def _examples(data: ClusterData, kind: str, tokenizer: Any, max_length: int) -> list[tuple[Encoded, Encoded]]:
    """(row, partner) per example: the rejected answer for DPO, the teacher row for hindsight, itself otherwise."""
    if kind == "expert":
        return [
            (encode(tokenizer, p.prompt, p.chosen, max_length), encode(tokenizer, p.prompt, p.rejected, max_length))
            for p in data.pairs
        ]
    if kind == "edit_sft":
        rows = [encode(tokenizer, p.prompt, p.chosen, max_length) for p in data.edits]
        return [(r, r) for r in rows]
    if kind == "hindsight":
        out = []
        for h in data.hindsight:
            student = encode(tokenizer, h.prompt, h.response, max_length)
            teacher = encode(tokenizer, hindsight_prompt(h.prompt, h.followup), h.response, max_length)
            if student.completion_ids == teacher.completion_ids and student.completion_ids:
                out.append((student, teacher))
        return out
    if kind == "critic_sft":
        rows = [encode(tokenizer, c.prompt, c.target, max_length) for c in data.critic]
        return [(r, r) for r in rows]
    raise ValueError(f"unknown training example kind {kind!r}")


__all__ = ["CRITIC_KINDS", "EXPERT_KINDS", "Encoded", "MicroBatch", "collate", "encode", "micro_batches"]
