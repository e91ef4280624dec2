"""The training losses, checked against TRL's DPOTrainer on the same batch and against hand computations."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from uno.train.losses import (  # noqa: E402
    dpo_sigmoid_loss,
    expert_loss,
    hindsight_distillation_loss,
    joint_loss,
    reference_sequence_logps,
    sequence_logps,
    sft_nll,
    token_logps,
)

PREFERENCE_PAIRS = [
    {
        "prompt": [{"role": "user", "content": "Answer with only YES or NO. Is Paris the capital of France?"}],
        "chosen": [{"role": "assistant", "content": "YES"}],
        "rejected": [{"role": "assistant", "content": "The capital of France is Paris, as everyone knows."}],
    },
    {
        "prompt": [{"role": "user", "content": "Summarise the email."}],
        "chosen": [{"role": "assistant", "content": "Please keep the answer short and use bullet points."}],
        "rejected": [{"role": "assistant", "content": "No"}],
    },
]


@dataclass
class DpoRun:
    """One DPOTrainer step: the trainer, the batch it saw, the loss it computed and the metrics it logged."""

    trainer: Any
    inputs: dict[str, Any]
    loss: float
    metrics: dict[str, float]


def _randomize_lora_b(model: Any, seed: int) -> None:
    """LoRA's B starts at zero (policy == reference, DPO == ln 2); small random B makes the comparison non-trivial."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))


def _lora_config() -> Any:
    from peft import LoraConfig

    return LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")


def _run_dpo(model_dir: Path, output_dir: Path, loss_type: list[str], loss_weights: list[float]) -> DpoRun:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        output_dir=str(output_dir),
        loss_type=loss_type,
        loss_weights=loss_weights,
        beta=0.1,
        per_device_train_batch_size=2,
        max_steps=1,
        learning_rate=0.0,
        bf16=False,
        gradient_checkpointing=False,
        use_cpu=True,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    # TRL wraps the base model with this config, so the reference is the base model with the adapter disabled
    # (handing it a ready PeftModel instead makes TRL copy the adapter into a "ref" adapter: reference == policy).
    trainer = DPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        args=args,
        train_dataset=Dataset.from_list(PREFERENCE_PAIRS),
        processing_class=AutoTokenizer.from_pretrained(model_dir),
        peft_config=_lora_config(),
    )
    _randomize_lora_b(trainer.model, seed=1)
    captured: list[tuple[dict[str, Any], float]] = []
    compute_loss = trainer.compute_loss

    def capturing_compute_loss(model: Any, inputs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        loss = compute_loss(model, inputs, *args, **kwargs)
        captured.append(({key: value.clone() for key, value in inputs.items()}, float(loss.detach())))
        return loss

    trainer.compute_loss = capturing_compute_loss
    trainer.train()
    assert len(captured) == 1
    inputs, loss = captured[0]
    return DpoRun(trainer, inputs, loss, metrics=trainer.state.log_history[0])


@pytest.fixture(scope="module")
def expert_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DpoRun:
    return _run_dpo(tiny_model_dir, tmp_path_factory.mktemp("dpo-expert"), ["sigmoid", "sft"], [0.5, 0.5])


@pytest.fixture(scope="module")
def sigmoid_run(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DpoRun:
    return _run_dpo(tiny_model_dir, tmp_path_factory.mktemp("dpo-sigmoid"), ["sigmoid"], [1.0])


def _policy_and_reference(run: DpoRun) -> tuple[Any, Any]:
    """Policy logits and reference sequence log-probs of the captured batch (the adapter disabled by hand)."""
    model, inputs = run.trainer.model, run.inputs
    with torch.no_grad():
        logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
        with model.disable_adapter():
            ref_logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
    return logits, sequence_logps(ref_logits, inputs["input_ids"], inputs["completion_mask"])


# --- equality with TRL ------------------------------------------------------------------------------------------------


def test_batch_has_prompt_padding_and_unequal_completions(expert_run: DpoRun) -> None:
    mask, attention = expert_run.inputs["completion_mask"], expert_run.inputs["attention_mask"]
    assert mask.shape[0] == 4
    assert len(set(mask.sum(dim=1).tolist())) > 1
    assert bool((attention == 0).any())  # right padding present
    assert bool(((attention == 1) & (mask == 0)).any())  # prompt tokens present


def test_expert_loss_equals_trl_sigmoid_plus_sft(expert_run: DpoRun) -> None:
    logits, ref_logps = _policy_and_reference(expert_run)
    inputs = expert_run.inputs
    result = expert_loss(logits, ref_logps, inputs["input_ids"], inputs["completion_mask"])

    assert abs(float(result.dpo) - math.log(2)) > 1e-3, "policy equals the reference: the check would be trivial"
    assert float(result.loss) == pytest.approx(expert_run.loss, abs=1e-5)
    assert float(result.loss) == pytest.approx(0.5 * float(result.dpo) + 0.5 * float(result.sft), abs=1e-6)
    assert result.reward_margin == pytest.approx(expert_run.metrics["rewards/margins"], abs=1e-5)
    assert result.reward_accuracy == pytest.approx(expert_run.metrics["rewards/accuracies"], abs=1e-6)


def test_dpo_sigmoid_loss_equals_trl_sigmoid(sigmoid_run: DpoRun) -> None:
    logits, ref_logps = _policy_and_reference(sigmoid_run)
    inputs = sigmoid_run.inputs
    policy_chosen, policy_rejected = sequence_logps(logits, inputs["input_ids"], inputs["completion_mask"]).chunk(2)
    ref_chosen, ref_rejected = ref_logps.chunk(2)

    loss = dpo_sigmoid_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1)

    assert abs(float(loss) - math.log(2)) > 1e-3
    assert float(loss) == pytest.approx(sigmoid_run.loss, abs=1e-5)


def test_token_logps_equal_trl_fused_head(expert_run: DpoRun) -> None:
    model, inputs = expert_run.trainer.model, expert_run.inputs
    labels = inputs["input_ids"].masked_fill(inputs["completion_mask"] == 0, -100)
    with torch.no_grad():
        trl_logps = model(
            input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=labels, fused_lm_head=True
        ).log_probs
        logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits

    ours = token_logps(logits, inputs["input_ids"], inputs["completion_mask"])

    assert ours.shape == trl_logps.shape
    torch.testing.assert_close(ours, trl_logps, atol=1e-5, rtol=0)


def test_reference_sequence_logps_disables_the_adapter(expert_run: DpoRun) -> None:
    model, inputs = expert_run.trainer.model, expert_run.inputs
    _, by_hand = _policy_and_reference(expert_run)
    args = (inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"])

    reference = reference_sequence_logps(model, *args)

    torch.testing.assert_close(reference, by_hand)
    with torch.no_grad():
        policy = sequence_logps(model(input_ids=args[0], attention_mask=args[1]).logits, args[0], args[2])
    assert not torch.allclose(reference, policy, atol=1e-3)  # the adapter is back on afterwards


# --- hindsight self-distillation --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_lm(tiny_model_dir: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.eval()
    return model, AutoTokenizer.from_pretrained(tiny_model_dir)


def _hindsight_pair(
    tokenizer: Any, prompt: str, response: str, follow_up: str
) -> tuple[list[int], int, list[int], int]:
    """Student = prompt + response; teacher = prompt, response, the user's follow-up + the same response.

    Returns (student ids, student prompt length, teacher ids, teacher prompt length).
    """
    response_ids = [*tokenizer.encode(response, add_special_tokens=False), tokenizer.eos_token_id]
    student_prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
    )
    teacher_prompt = tokenizer.apply_chat_template(
        [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": response},
            {"role": "user", "content": follow_up},
        ],
        add_generation_prompt=True,
        tokenize=False,
    )
    student_prompt_ids = tokenizer.encode(student_prompt, add_special_tokens=False)
    teacher_prompt_ids = tokenizer.encode(teacher_prompt, add_special_tokens=False)
    return (
        student_prompt_ids + response_ids,
        len(student_prompt_ids),
        teacher_prompt_ids + response_ids,
        len(teacher_prompt_ids),
    )


def _padded_batch(rows: list[tuple[list[int], int]], pad_id: int) -> tuple[Any, Any, Any]:
    """Right-padded (input_ids, attention_mask, response mask) from (ids, prompt length) rows."""
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    response = torch.zeros((len(rows), width), dtype=torch.long)
    for row, (ids, prompt_length) in enumerate(rows):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
        response[row, prompt_length : len(ids)] = 1
    return input_ids, attention, response


def _logits(model: Any, input_ids: Any, attention_mask: Any) -> Any:
    with torch.no_grad():
        return model(input_ids=input_ids, attention_mask=attention_mask).logits


def _log_softmax_by_hand(logits: list[float], temperature: float) -> list[float]:
    scaled = [value / temperature for value in logits]
    peak = max(scaled)
    log_partition = peak + math.log(math.fsum(math.exp(value - peak) for value in scaled))
    return [value - log_partition for value in scaled]


def _kl_by_hand(teacher_logits: Any, teacher_prompt: int, student_logits: Any, student_prompt: int, count: int,
                temperature: float) -> list[float]:  # fmt: skip
    """KL(teacher || student) at each of ``count`` response tokens of one unpadded row, in float64 Python math."""
    values = []
    for index in range(count):
        teacher_row = teacher_logits[teacher_prompt + index - 1].double().tolist()
        student_row = student_logits[student_prompt + index - 1].double().tolist()
        log_p_teacher = _log_softmax_by_hand(teacher_row, temperature)
        log_p_student = _log_softmax_by_hand(student_row, temperature)
        values.append(math.fsum(math.exp(lt) * (lt - ls) for lt, ls in zip(log_p_teacher, log_p_student, strict=True)))
    return values


def _one_row(model: Any, tokenizer: Any, prompt: str, response: str, follow_up: str) -> dict[str, Any]:
    student_ids, student_prompt, teacher_ids, teacher_prompt = _hindsight_pair(tokenizer, prompt, response, follow_up)
    student = torch.tensor([student_ids])
    teacher = torch.tensor([teacher_ids])
    return {
        "student_ids": student,
        "student_prompt": student_prompt,
        "student_logits": _logits(model, student, torch.ones_like(student)),
        "teacher_ids": teacher,
        "teacher_prompt": teacher_prompt,
        "teacher_logits": _logits(model, teacher, torch.ones_like(teacher)),
        "count": len(student_ids) - student_prompt,
    }


def _row_mask(row: dict[str, Any], side: str) -> Any:
    mask = torch.zeros_like(row[f"{side}_ids"])
    mask[0, row[f"{side}_prompt"] :] = 1
    return mask


def _row_kl_by_hand(row: dict[str, Any], temperature: float) -> list[float]:
    return _kl_by_hand(
        row["teacher_logits"][0],
        row["teacher_prompt"],
        row["student_logits"][0],
        row["student_prompt"],
        row["count"],
        temperature,
    )


def _row_loss(row: dict[str, Any], temperature: float = 1.0, *, student_logits: Any = None) -> Any:
    return hindsight_distillation_loss(
        row["student_logits"] if student_logits is None else student_logits,
        row["student_ids"],
        _row_mask(row, "student"),
        row["teacher_logits"],
        row["teacher_ids"],
        _row_mask(row, "teacher"),
        temperature=temperature,
    )


@pytest.fixture(scope="module")
def hindsight_row(tiny_lm: tuple[Any, Any]) -> dict[str, Any]:
    model, tokenizer = tiny_lm
    return _one_row(
        model,
        tokenizer,
        "Write the reply in a formal tone.",
        "Thanks, that was helpful! Hi there :)",
        "No emoji, please, and keep it formal.",
    )


def test_hindsight_equals_float64_hand_computation(hindsight_row: dict[str, Any]) -> None:
    assert hindsight_row["teacher_prompt"] > hindsight_row["student_prompt"]  # positions differ between the two
    by_hand = _row_kl_by_hand(hindsight_row, temperature=1.0)

    loss = _row_loss(hindsight_row)

    assert math.fsum(by_hand) / len(by_hand) > 1e-4  # the follow-up changes the distributions
    assert float(loss) == pytest.approx(math.fsum(by_hand) / len(by_hand), abs=1e-5)


def test_hindsight_temperature_scales_both_distributions(hindsight_row: dict[str, Any]) -> None:
    by_hand = _row_kl_by_hand(hindsight_row, temperature=2.0)

    warm = _row_loss(hindsight_row, temperature=2.0)

    assert float(warm) == pytest.approx(math.fsum(by_hand) / len(by_hand), abs=1e-5)
    assert float(warm) != pytest.approx(float(_row_loss(hindsight_row)), abs=1e-5)
    # softmax(2z / 2) == softmax(z): doubling every logit and the temperature changes nothing
    doubled = dict(hindsight_row, student_logits=2 * hindsight_row["student_logits"])
    doubled["teacher_logits"] = 2 * hindsight_row["teacher_logits"]
    torch.testing.assert_close(_row_loss(doubled, temperature=2.0), _row_loss(hindsight_row))
    with pytest.raises(ValueError, match="temperature"):
        _row_loss(hindsight_row, temperature=0.0)


def test_hindsight_gradient_reaches_the_student_only(hindsight_row: dict[str, Any]) -> None:
    student_logits = hindsight_row["student_logits"].clone().requires_grad_(True)
    teacher_logits = hindsight_row["teacher_logits"].clone().requires_grad_(True)
    row = dict(hindsight_row, teacher_logits=teacher_logits)

    _row_loss(row, student_logits=student_logits).backward()

    assert teacher_logits.grad is None
    assert student_logits.grad is not None
    prompt = hindsight_row["student_prompt"]
    assert float(student_logits.grad[0, prompt - 1 : -1].abs().sum()) > 0  # the positions predicting the response
    assert float(student_logits.grad[0, : prompt - 1].abs().sum()) == 0  # prompt-predicting positions untouched
    assert float(student_logits.grad[0, -1].abs().sum()) == 0  # the last position predicts nothing


def test_hindsight_is_zero_when_teacher_equals_student(hindsight_row: dict[str, Any]) -> None:
    mask = _row_mask(hindsight_row, "student")
    ids, logits = hindsight_row["student_ids"], hindsight_row["student_logits"]

    loss = hindsight_distillation_loss(logits, ids, mask, logits, ids, mask)

    assert abs(float(loss)) < 1e-7


def test_hindsight_batch_with_padding_is_the_token_mean(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    rows = [
        _one_row(model, tokenizer, "Answer with only YES or NO.", "NO", "Explain why, briefly."),
        _one_row(
            model,
            tokenizer,
            "Summarise the email in two sentences and end with a question.",
            "The capital of Italy is Rome. Could you also translate it into German?",
            "Too long. Only give me the number.",
        ),
    ]
    assert rows[0]["count"] != rows[1]["count"]
    pad = tokenizer.pad_token_id
    student_ids, student_attention, student_mask = _padded_batch(
        [(row["student_ids"][0].tolist(), row["student_prompt"]) for row in rows], pad
    )
    teacher_ids, teacher_attention, teacher_mask = _padded_batch(
        [(row["teacher_ids"][0].tolist(), row["teacher_prompt"]) for row in rows], pad
    )
    assert bool((student_attention == 0).any()) and bool((teacher_attention == 0).any())

    loss = hindsight_distillation_loss(
        _logits(model, student_ids, student_attention),
        student_ids,
        student_mask,
        _logits(model, teacher_ids, teacher_attention),
        teacher_ids,
        teacher_mask,
    )

    per_token = [value for row in rows for value in _row_kl_by_hand(row, temperature=1.0)]
    assert float(loss) == pytest.approx(math.fsum(per_token) / len(per_token), abs=1e-5)
    row_mean = sum(math.fsum(_row_kl_by_hand(row, 1.0)) / row["count"] for row in rows) / 2
    assert abs(row_mean - float(loss)) > 1e-6  # a token mean, not a mean of row means


def test_hindsight_rejects_mismatched_responses(hindsight_row: dict[str, Any]) -> None:
    def doubled(tensor: Any) -> Any:
        return torch.cat([tensor, tensor]).clone()

    student_logits, teacher_logits = doubled(hindsight_row["student_logits"]), doubled(hindsight_row["teacher_logits"])
    student_ids, teacher_ids = doubled(hindsight_row["student_ids"]), doubled(hindsight_row["teacher_ids"])
    student_mask = doubled(_row_mask(hindsight_row, "student"))
    teacher_mask = doubled(_row_mask(hindsight_row, "teacher"))
    assert float(
        hindsight_distillation_loss(
            student_logits, student_ids, student_mask, teacher_logits, teacher_ids, teacher_mask
        )
    ) == pytest.approx(float(_row_loss(hindsight_row)), abs=1e-6)

    short_teacher_mask = teacher_mask.clone()
    short_teacher_mask[1, hindsight_row["teacher_prompt"]] = 0
    with pytest.raises(ValueError, match="row 1"):
        hindsight_distillation_loss(
            student_logits, student_ids, student_mask, teacher_logits, teacher_ids, short_teacher_mask
        )

    other_teacher_ids = teacher_ids.clone()
    other_teacher_ids[0, -2] = (int(other_teacher_ids[0, -2]) + 1) % student_logits.shape[-1]
    with pytest.raises(ValueError, match="row 0"):
        hindsight_distillation_loss(
            student_logits, student_ids, student_mask, teacher_logits, other_teacher_ids, teacher_mask
        )


# --- the simpler pieces -----------------------------------------------------------------------------------------------


def test_token_logps_mask_prompt_and_padding(expert_run: DpoRun) -> None:
    inputs = expert_run.inputs
    logits, _ = _policy_and_reference(expert_run)
    next_token_mask = inputs["completion_mask"][:, 1:].bool()

    logps = token_logps(logits.to(torch.bfloat16), inputs["input_ids"], inputs["completion_mask"])

    assert logps.dtype == torch.float32
    assert logps.shape == (4, inputs["input_ids"].shape[1] - 1)
    assert bool((logps[~next_token_mask] == 0).all())
    assert bool((logps[next_token_mask] < 0).all())
    full = torch.log_softmax(logits.to(torch.bfloat16).double()[:, :-1], dim=-1)
    expected = full.gather(-1, inputs["input_ids"][:, 1:].unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(logps[next_token_mask].double(), expected[next_token_mask], atol=1e-5, rtol=0)


def test_sft_nll_equals_a_hand_loop(expert_run: DpoRun) -> None:
    inputs = expert_run.inputs
    logits, _ = _policy_and_reference(expert_run)
    ids, mask = inputs["input_ids"], inputs["completion_mask"]
    nll = []
    for row in range(ids.shape[0]):
        for position in range(1, ids.shape[1]):
            if mask[row, position]:
                log_probs = _log_softmax_by_hand(logits[row, position - 1].double().tolist(), 1.0)
                nll.append(-log_probs[int(ids[row, position])])

    assert float(sft_nll(logits, ids, mask)) == pytest.approx(math.fsum(nll) / len(nll), abs=1e-5)
    with pytest.raises(ValueError, match="no completion tokens"):
        sft_nll(logits, ids, torch.zeros_like(mask))


def test_dpo_sigmoid_loss_is_ln2_at_the_reference_and_falls_with_the_margin() -> None:
    reference_chosen, reference_rejected = torch.tensor([-12.0, -30.0]), torch.tensor([-15.0, -9.0])
    at_reference = dpo_sigmoid_loss(reference_chosen, reference_rejected, reference_chosen, reference_rejected)
    assert float(at_reference) == pytest.approx(math.log(2), abs=1e-7)

    losses = []
    for margin in [0.0, 1.0, 3.0, 10.0, 40.0]:
        loss = dpo_sigmoid_loss(reference_chosen + margin, reference_rejected, reference_chosen, reference_rejected)
        assert float(loss) == pytest.approx(math.log1p(math.exp(-0.1 * margin)), abs=1e-6)
        losses.append(float(loss))
    assert losses == sorted(losses, reverse=True) and len(set(losses)) == len(losses)
    raised_rejected = dpo_sigmoid_loss(reference_chosen, reference_rejected + 5, reference_chosen, reference_rejected)
    assert float(raised_rejected) > math.log(2)


def test_expert_loss_rewards_margin_and_accuracy() -> None:
    generator = torch.Generator().manual_seed(3)
    input_ids = torch.randint(0, 11, (4, 6), generator=generator)
    completion_mask = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 0], [0, 0, 1, 1, 0, 0]])
    logits = torch.randn(4, 6, 11, generator=generator)
    policy = sequence_logps(logits, input_ids, completion_mask)
    beta = 0.2
    rewards = torch.tensor([0.3, -0.1, 0.1, 0.2])  # chosen 0.3, -0.1; rejected 0.1, 0.2
    ref_logps = policy - rewards / beta

    result = expert_loss(logits, ref_logps, input_ids, completion_mask, beta=beta, dpo_weight=0.25, sft_weight=2.0)

    assert result.reward_margin == pytest.approx(((0.3 - 0.1) + (-0.1 - 0.2)) / 2, abs=1e-5)
    assert result.reward_accuracy == 0.5
    expected_dpo = (math.log1p(math.exp(-0.2)) + math.log1p(math.exp(0.3))) / 2
    assert float(result.dpo) == pytest.approx(expected_dpo, abs=1e-5)
    torch.testing.assert_close(result.sft, sft_nll(logits[:2], input_ids[:2], completion_mask[:2]))
    assert float(result.loss) == pytest.approx(0.25 * expected_dpo + 2.0 * float(result.sft), abs=1e-5)
    with pytest.raises(ValueError, match="odd"):
        expert_loss(logits[:3], ref_logps[:3], input_ids[:3], completion_mask[:3])
    with pytest.raises(ValueError, match="ref_logps"):
        expert_loss(logits, ref_logps[:2], input_ids, completion_mask)


def test_joint_loss_is_the_weighted_sum() -> None:
    sft, hindsight = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)

    total = joint_loss({"sft": sft, "hindsight": hindsight}, {"sft": 0.5, "hindsight": 2.0, "critic": 7.0})
    total.backward()

    assert float(total.detach()) == pytest.approx(0.5 * 2.0 + 2.0 * 3.0)
    assert float(sft.grad) == pytest.approx(0.5) and float(hindsight.grad) == pytest.approx(2.0)


def test_joint_loss_rejects_unweighted_terms_and_bad_weights() -> None:
    term = torch.tensor(1.0)
    with pytest.raises(ValueError, match="'hindsight'"):
        joint_loss({"sft": term, "hindsight": term}, {"sft": 1.0})
    with pytest.raises(ValueError, match=r"'sft'.*-0\.5"):
        joint_loss({"sft": term}, {"sft": -0.5})
    with pytest.raises(ValueError, match="'critic'"):
        joint_loss({"sft": term}, {"sft": 1.0, "critic": -1.0})
    with pytest.raises(ValueError, match="no loss terms"):
        joint_loss({}, {"sft": 1.0})


# --- training sanity --------------------------------------------------------------------------------------------------


def test_a_few_optimizer_steps_reduce_the_expert_loss(tiny_model_dir: Path, expert_run: DpoRun) -> None:
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir), _lora_config())
    inputs = expert_run.inputs
    ids, attention, mask = inputs["input_ids"], inputs["attention_mask"], inputs["completion_mask"]
    ref_logps = reference_sequence_logps(model, ids, attention, mask)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)

    history = []
    for _ in range(6):
        result = expert_loss(model(input_ids=ids, attention_mask=attention).logits, ref_logps, ids, mask)
        optimizer.zero_grad()
        result.loss.backward()
        optimizer.step()
        history.append(result)

    assert history[0].dpo.item() == pytest.approx(math.log(2), abs=1e-6)  # a fresh adapter is the reference
    losses = [result.loss.item() for result in history]
    assert all(later < earlier for earlier, later in pairwise(losses)), losses
    assert losses[-1] < losses[0] - 0.1
    assert history[-1].dpo.item() < math.log(2)
    assert history[-1].reward_margin > 0 and history[-1].reward_accuracy == 1.0


def test_importing_the_modules_does_not_import_torch() -> None:
    code = "import sys, uno.train.losses, uno.train.bleu; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
