"""Training settings. Defaults are UNO's (see ``docs/design.md``, training section) where UNO has one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class LoRAShape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(default=64, ge=1)
    alpha: int = Field(default=128, ge=1)
    dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    # "all-linear" is peft's shorthand; UNO names q/k/v/o/gate/up/down, which is the same set on Llama/Qwen.
    target_modules: str | list[str] = "all-linear"


class LossWeights(BaseModel):
    """The "early ensemble" of the user-edits paper: one weighted sum over every kind of signal a cluster has.

    ``dpo`` and ``sft`` make UNO's Expert (0.5 DPO + 0.5 NLL on the chosen answer). ``edit_sft`` is extra SFT on
    user edits (the best-quality targets there are), ``hindsight`` the self-distillation term on follow-ups.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dpo: float = Field(default=0.5, ge=0.0)
    sft: float = Field(default=0.5, ge=0.0)
    edit_sft: float = Field(default=0.5, ge=0.0)
    hindsight: float = Field(default=0.5, ge=0.0)
    critic_sft: float = Field(default=1.0, ge=0.0)

    def as_dict(self) -> dict[str, float]:
        return self.model_dump()


class TrainConfig(BaseModel):
    """How adapters are trained, when a cluster is worth training, and what an adapter must show to be served."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lora: LoRAShape = Field(default_factory=LoRAShape)
    weights: LossWeights = Field(default_factory=LossWeights)
    beta: float = Field(default=0.1, gt=0.0)
    epochs: int = Field(default=8, ge=1)
    learning_rate: float = Field(default=5e-4, gt=0.0)
    adam_betas: tuple[float, float] = (0.9, 0.98)
    weight_decay: float = Field(default=1e-4, ge=0.0)
    max_grad_norm: float = Field(default=1.0, gt=0.0)
    batch_size: int = Field(default=1, ge=1)
    grad_accum: int = Field(default=8, ge=1)
    max_length: int = Field(default=2048, ge=16)
    hindsight_temperature: float = Field(default=1.0, gt=0.0)
    # "policy": the teacher is the model being trained, as in the paper; "base": the frozen base (adapter off).
    hindsight_teacher: str = Field(default="policy", pattern="^(policy|base)$")
    seed: int = 42
    # --- maturity: which clusters are worth baking
    min_examples: int = Field(default=8, ge=1, description="preference pairs + hindsight triples in the train split")
    min_validation: int = Field(default=3, ge=1, description="held-out logs with feedback rules to judge on")
    max_gap: float = Field(default=0.45, ge=0.0, le=1.0, description="UNO's high-gap threshold")
    # --- validation gate (UNO: win rate >= 0.53 with a BLEU-4 > 0.05 drift guard, answers under 10% of init score 0)
    min_win_rate: float = Field(default=0.53, ge=0.0, le=1.0)
    min_bleu: float = Field(default=0.05, ge=0.0, le=1.0, description="drift guard; 0 switches it off")
    min_length_ratio: float = Field(default=0.1, ge=0.0, le=1.0)
    max_new_tokens: int = Field(default=256, ge=1)
    keep_rejected: bool = Field(default=False, description="keep the weights of adapters the gate rejected")

    @model_validator(mode="after")
    def _some_loss(self) -> TrainConfig:
        if not any(self.weights.as_dict().values()):
            raise ValueError("every loss weight is 0: nothing would be trained")
        return self


__all__ = ["LoRAShape", "LossWeights", "TrainConfig"]
