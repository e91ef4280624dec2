"""Training losses of the LoRA backend: UNO's Expert (DPO + SFT), hindsight self-distillation and their joint sum.

Batch conventions, shared with TRL's DPO batches so the two can be checked against each other:

* a sequence is prompt + completion token ids, right-padded; ``completion_mask`` (B, T) is 1 on completion tokens only
  (not the prompt, not padding);
* an Expert batch stacks ``[chosen..., rejected...]``: 2B rows, the B chosen rows first;
* ``logits[:, t]`` predicts ``input_ids[:, t + 1]``, so token log-probs have T - 1 columns.

Log-probabilities are computed in float32 whatever the model's dtype: bf16 log-softmax loses the small differences
DPO is made of. torch is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor


def token_logps(logits: Tensor, input_ids: Tensor, completion_mask: Tensor) -> Tensor:
    """(B, T-1) log p(input_ids[:, t+1] | tokens ..t), read from ``logits[:, t]``; 0 where that token is prompt/pad."""
    import torch

    _check_sequence_shapes(logits, input_ids, completion_mask)
    next_logits = logits[:, :-1].float()
    next_ids = input_ids[:, 1:].long()
    # log softmax at the label only: the label's logit minus the log partition, without a (B, T, V) log-softmax copy
    label_logits = next_logits.gather(-1, next_ids.unsqueeze(-1)).squeeze(-1)
    logps = label_logits - torch.logsumexp(next_logits, dim=-1)
    return torch.where(completion_mask[:, 1:].bool(), logps, torch.zeros_like(logps))


def sequence_logps(logits: Tensor, input_ids: Tensor, completion_mask: Tensor) -> Tensor:
    """(B,) log-probability of each row's completion: the sum of its :func:`token_logps`."""
    return token_logps(logits, input_ids, completion_mask).sum(dim=-1)


def dpo_sigmoid_loss(
    policy_chosen: Tensor,
    policy_rejected: Tensor,
    ref_chosen: Tensor,
    ref_rejected: Tensor,
    *,
    beta: float = 0.1,
) -> Tensor:
    """DPO's sigmoid loss, mean over pairs of ``-log sigmoid(beta * ((pc - rc) - (pr - rr)))`` (sequence log-probs)."""
    import torch.nn.functional as F

    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def sft_nll(logits: Tensor, input_ids: Tensor, completion_mask: Tensor) -> Tensor:
    """Negative log-likelihood averaged over every completion token of the batch (a token mean, not a row mean)."""
    logps = token_logps(logits, input_ids, completion_mask)
    token_count = completion_mask[:, 1:].sum()
    if int(token_count) == 0:
        raise ValueError("sft_nll: the batch has no completion tokens to score")
    return -logps.sum() / token_count


@dataclass(frozen=True)
class ExpertLoss:
    """One Expert step: the weighted total, its two terms, and DPO's implicit-reward diagnostics (detached floats)."""

    loss: Tensor
    dpo: Tensor
    sft: Tensor
    reward_margin: float
    reward_accuracy: float


def expert_loss(
    policy_logits: Tensor,
    ref_logps: Tensor,
    input_ids: Tensor,
    completion_mask: Tensor,
    *,
    beta: float = 0.1,
    dpo_weight: float = 0.5,
    sft_weight: float = 0.5,
) -> ExpertLoss:
    """UNO's Expert loss: ``dpo_weight`` * DPO (sigmoid) + ``sft_weight`` * NLL of the chosen completions.

    ``policy_logits`` and ``input_ids`` hold 2B rows ``[chosen..., rejected...]``; ``ref_logps`` (2B,) are the reference
    model's sequence log-probs of the same rows (for a LoRA policy: the base model, adapter disabled), chosen first.
    The implicit reward of a row is ``beta * (policy - reference)``; the margin is the mean chosen-minus-rejected
    reward and the accuracy the fraction of pairs whose chosen reward is higher.
    """
    rows = input_ids.shape[0]
    if rows % 2 != 0:
        raise ValueError(f"expert_loss: expected [chosen..., rejected...] rows, got an odd count {rows}")
    if tuple(ref_logps.shape) != (rows,):
        raise ValueError(f"expert_loss: ref_logps must have shape ({rows},), got {tuple(ref_logps.shape)}")
    policy_token_logps = token_logps(policy_logits, input_ids, completion_mask)
    policy_chosen, policy_rejected = policy_token_logps.sum(dim=-1).chunk(2)
    ref_chosen, ref_rejected = ref_logps.detach().float().chunk(2)
    dpo = dpo_sigmoid_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=beta)

    chosen_token_logps = policy_token_logps[: rows // 2]
    chosen_token_count = completion_mask[: rows // 2, 1:].sum()
    if int(chosen_token_count) == 0:
        raise ValueError("expert_loss: the chosen completions have no tokens to score")
    sft = -chosen_token_logps.sum() / chosen_token_count

    chosen_rewards = beta * (policy_chosen.detach() - ref_chosen)
    rejected_rewards = beta * (policy_rejected.detach() - ref_rejected)
    return ExpertLoss(
        loss=dpo_weight * dpo + sft_weight * sft,
        dpo=dpo,
        sft=sft,
        reward_margin=float((chosen_rewards - rejected_rewards).mean()),
        reward_accuracy=float((chosen_rewards > rejected_rewards).float().mean()),
    )


def reference_sequence_logps(
    peft_model: Any, input_ids: Tensor, attention_mask: Tensor, completion_mask: Tensor
) -> Tensor:
    """Sequence log-probs under the reference of a freshly added LoRA adapter: the base model, adapter disabled."""
    import torch

    with torch.no_grad(), peft_model.disable_adapter():
        logits = peft_model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
    return sequence_logps(logits, input_ids, completion_mask)


def hindsight_distillation_loss(
    student_logits: Tensor,
    student_input_ids: Tensor,
    student_mask: Tensor,
    teacher_logits: Tensor,
    teacher_input_ids: Tensor,
    teacher_mask: Tensor,
    *,
    temperature: float = 1.0,
) -> Tensor:
    """Self-distillation from hindsight: mean over response tokens of KL(teacher || student) over the vocabulary.

    From "Aligning Language Models from User Interactions": the teacher is the same model, its context extended with
    the user's follow-up, scoring the response the student gave. Both sequences end with the same logged response
    tokens, marked by the masks; the teacher's context is longer, so the tokens sit at different positions and are
    matched by order within each row. At each response token the next-token distributions that predict it,
    ``softmax(logits / temperature)``, are compared. The teacher is detached: only the student learns. No
    ``temperature ** 2`` factor is applied.
    """
    import torch

    if not temperature > 0:
        raise ValueError(f"hindsight_distillation_loss: temperature must be positive, got {temperature}")
    _check_sequence_shapes(student_logits, student_input_ids, student_mask)
    _check_sequence_shapes(teacher_logits, teacher_input_ids, teacher_mask)
    if student_logits.shape[0] != teacher_logits.shape[0] or student_logits.shape[-1] != teacher_logits.shape[-1]:
        raise ValueError(
            "hindsight_distillation_loss: student and teacher need the same batch size and vocabulary, got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    student_targets = _response_targets(student_input_ids, student_mask, "student")
    teacher_targets = _response_targets(teacher_input_ids, teacher_mask, "teacher")
    _check_same_responses(student_targets, teacher_targets)

    # rows of predicting positions in row-major order: row by row, positions ascending, so the two sides align
    student_rows = student_logits[:, :-1][student_mask[:, 1:].bool()].float() / temperature
    teacher_rows = teacher_logits.detach()[:, :-1][teacher_mask[:, 1:].bool()].float() / temperature
    student_log_probs = torch.log_softmax(student_rows, dim=-1)
    teacher_log_probs = torch.log_softmax(teacher_rows, dim=-1)
    per_token_kl = (teacher_log_probs.exp() * (teacher_log_probs - student_log_probs)).sum(dim=-1)
    return per_token_kl.mean()


def joint_loss(terms: Mapping[str, Tensor], weights: Mapping[str, float]) -> Tensor:
    """The user-edits paper's "early ensemble": ``sum(weights[k] * terms[k])`` over the terms present.

    A weight for an absent term is ignored (one config can serve batches that lack a term); a term without a weight,
    a negative or non-finite weight, or no terms at all are errors.
    """
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"joint_loss: weight {name!r} must be finite and non-negative, got {weight}")
    unweighted = [name for name in terms if name not in weights]
    if unweighted:
        raise ValueError(f"joint_loss: no weight given for term(s) {', '.join(map(repr, unweighted))}")
    if not terms:
        raise ValueError("joint_loss: no loss terms given")
    weighted = [weights[name] * term for name, term in terms.items()]
    total = weighted[0]
    for part in weighted[1:]:
        total = total + part
    return total


def _check_sequence_shapes(logits: Tensor, input_ids: Tensor, mask: Tensor) -> None:
    if logits.dim() != 3 or tuple(logits.shape[:2]) != tuple(input_ids.shape) or input_ids.shape != mask.shape:
        raise ValueError(
            f"expected logits (B, T, V) with input_ids and mask (B, T), got {tuple(logits.shape)}, "
            f"{tuple(input_ids.shape)} and {tuple(mask.shape)}"
        )
    if input_ids.shape[1] < 2:
        raise ValueError("sequences need at least two tokens: a context token and a predicted one")


def _response_targets(input_ids: Tensor, mask: Tensor, side: str) -> list[list[int]]:
    """Each row's response token ids in order; a response token at position 0 would have no predicting position."""
    flags = mask.bool()
    if bool(flags[:, 0].any()):
        row = int(flags[:, 0].nonzero()[0, 0])
        raise ValueError(f"hindsight_distillation_loss: {side} row {row} marks position 0 as response (no context)")
    return [input_ids[row][flags[row]].tolist() for row in range(input_ids.shape[0])]


def _check_same_responses(student: list[list[int]], teacher: list[list[int]]) -> None:
    for row, (student_ids, teacher_ids) in enumerate(zip(student, teacher, strict=True)):
        if len(student_ids) != len(teacher_ids):
            raise ValueError(
                f"hindsight_distillation_loss: row {row} marks {len(student_ids)} student response tokens but "
                f"{len(teacher_ids)} teacher ones"
            )
        if student_ids != teacher_ids:
            raise ValueError(
                f"hindsight_distillation_loss: row {row} has different student and teacher response tokens"
            )
    if not any(student):
        raise ValueError("hindsight_distillation_loss: the batch has no response tokens")


__all__ = [
    "ExpertLoss",
    "dpo_sigmoid_loss",
    "expert_loss",
    "hindsight_distillation_loss",
    "joint_loss",
    "reference_sequence_logps",
    "sequence_logps",
    "sft_nll",
    "token_logps",
]
