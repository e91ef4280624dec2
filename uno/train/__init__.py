"""Optional training backend (``pip install 'uno-memory[train]'``): bake mature clusters into LoRA adapters.

Importing this package is cheap; torch, transformers, peft and trl load only when a model is built or trained.
Entry points: :meth:`uno.UnoMemory.train` (or ``uno train``), :class:`LoRATrainer` (the default :class:`Trainer`),
:class:`PeftLLM` (a local model that applies adapters), :func:`register_vllm_adapter` (vLLM runtime LoRA loading).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Baker": "uno.train.bake",
    "ClusterOutcome": "uno.train.bake",
    "TrainReport": "uno.train.bake",
    "resolve_base_model": "uno.train.bake",
    "ClusterData": "uno.train.datasets",
    "cluster_data": "uno.train.datasets",
    "LoRAShape": "uno.train.config",
    "LossWeights": "uno.train.config",
    "TrainConfig": "uno.train.config",
    "LoRATrainer": "uno.train.lora",
    "Trainer": "uno.train.lora",
    "TrainingRun": "uno.train.lora",
    "GateResult": "uno.train.validate",
    "PeftLLM": "uno.train.serving",
    "register_vllm_adapter": "uno.train.serving",
    "unregister_vllm_adapter": "uno.train.serving",
    "build_tiny_model": "uno.train.tiny",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'uno.train' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
