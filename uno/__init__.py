"""uno: make any LLM application learn from its own user logs.

>>> from uno import UnoMemory
>>> memory = UnoMemory("./.uno")                       # SQLite + FAISS files in one directory
>>> memory.ingest_file("logs.jsonl")                   # plain, OpenAI chat or MemoryBench JSONL
>>> memory.build()                                     # distil, embed, cluster, gate, index
>>> memory.augment("Is the store open on Sunday?").messages   # ready for any chat LLM

Everything heavy (torch, sentence-transformers, FAISS, scikit-learn) is imported on first use, so
``import uno`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rule_store.protocol import RuleStore, Scope
from rule_store.records import (
    Adapter,
    AdapterKind,
    AdapterStatus,
    Cluster,
    EditFeedback,
    Evidence,
    Experience,
    Feedback,
    FeedbackKind,
    FollowupFeedback,
    HindsightExample,
    LogRecord,
    LogVerdict,
    Message,
    Polarity,
    PreferencePair,
    QuarantineRecord,
    RatingFeedback,
    ReactionFeedback,
    Route,
    Rule,
    RuleChange,
    RuleChangeAction,
    RuleStatus,
    Verdict,
)

if TYPE_CHECKING:
    from uno.bandit import Strategy, StrategyBandit, StrategyChoice
    from uno.cluster import ClusteringConfig
    from uno.demo import sample_logs_path
    from uno.distill.base import Distillation, Distiller
    from uno.distill.heuristic import HeuristicDistiller
    from uno.distill.llm import LLMDistiller
    from uno.embed import CachedEmbedder, Embedder, HashingEmbedder, SentenceTransformerEmbedder
    from uno.gap import GateConfig, NoveltyScorer, ResponsePriorScorer
    from uno.gap_llm import LLMNoveltyScorer
    from uno.index import FaissIndex, VectorIndex
    from uno.ingest.limits import InputLimits
    from uno.inject import AdapterRoute, Augmentation, InjectedRule, ReflectivePlan
    from uno.ledger import Ledger
    from uno.llm import LLM, LiteLLM, TransformersLLM
    from uno.memory import (
        BuildReport,
        ForgetReport,
        ImportReport,
        InvalidImport,
        RuleExistsError,
        SearchHit,
        UnoMemory,
    )
    from uno.reflect import Response
    from uno.reward import ReactionModel
    from uno.train.bake import TrainReport
    from uno.train.config import TrainConfig
    from uno.train.serving import PeftLLM

__version__ = "0.1.0"

# public name -> module that defines it; imported on first attribute access (PEP 562)
_LAZY = {
    "UnoMemory": "uno.memory",
    "BuildReport": "uno.memory",
    "ForgetReport": "uno.memory",
    "SearchHit": "uno.memory",
    "ImportReport": "uno.memory",
    "InvalidImport": "uno.memory",
    "RuleExistsError": "uno.memory",
    "Augmentation": "uno.inject",
    "InjectedRule": "uno.inject",
    "ReflectivePlan": "uno.inject",
    "ClusteringConfig": "uno.cluster",
    "GateConfig": "uno.gap",
    "NoveltyScorer": "uno.gap",
    "ResponsePriorScorer": "uno.gap",
    "Distiller": "uno.distill.base",
    "Distillation": "uno.distill.base",
    "HeuristicDistiller": "uno.distill.heuristic",
    "Embedder": "uno.embed",
    "CachedEmbedder": "uno.embed",
    "HashingEmbedder": "uno.embed",
    "SentenceTransformerEmbedder": "uno.embed",
    "VectorIndex": "uno.index",
    "FaissIndex": "uno.index",
    "LLM": "uno.llm",
    "LiteLLM": "uno.llm",
    "TransformersLLM": "uno.llm",
    "Ledger": "uno.ledger",
    "LLMDistiller": "uno.distill.llm",
    "LLMNoveltyScorer": "uno.gap_llm",
    "Response": "uno.reflect",
    "AdapterRoute": "uno.inject",
    "TrainConfig": "uno.train.config",
    "TrainReport": "uno.train.bake",
    "PeftLLM": "uno.train.serving",
    "InputLimits": "uno.ingest.limits",
    "ReactionModel": "uno.reward",
    "Strategy": "uno.bandit",
    "StrategyBandit": "uno.bandit",
    "StrategyChoice": "uno.bandit",
    "sample_logs_path": "uno.demo",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'uno' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "LLM",
    "Adapter",
    "AdapterKind",
    "AdapterRoute",
    "AdapterStatus",
    "Augmentation",
    "BuildReport",
    "CachedEmbedder",
    "Cluster",
    "ClusteringConfig",
    "Distillation",
    "Distiller",
    "EditFeedback",
    "Embedder",
    "Evidence",
    "Experience",
    "FaissIndex",
    "Feedback",
    "FeedbackKind",
    "FollowupFeedback",
    "ForgetReport",
    "GateConfig",
    "HashingEmbedder",
    "HeuristicDistiller",
    "HindsightExample",
    "ImportReport",
    "InjectedRule",
    "InputLimits",
    "InvalidImport",
    "LLMDistiller",
    "LLMNoveltyScorer",
    "Ledger",
    "LiteLLM",
    "LogRecord",
    "LogVerdict",
    "Message",
    "NoveltyScorer",
    "PeftLLM",
    "Polarity",
    "PreferencePair",
    "QuarantineRecord",
    "RatingFeedback",
    "ReactionFeedback",
    "ReactionModel",
    "ReflectivePlan",
    "Response",
    "ResponsePriorScorer",
    "Route",
    "Rule",
    "RuleChange",
    "RuleChangeAction",
    "RuleExistsError",
    "RuleStatus",
    "RuleStore",
    "Scope",
    "SearchHit",
    "SentenceTransformerEmbedder",
    "Strategy",
    "StrategyBandit",
    "StrategyChoice",
    "TrainConfig",
    "TrainReport",
    "TransformersLLM",
    "UnoMemory",
    "VectorIndex",
    "Verdict",
    "__version__",
    "sample_logs_path",
]
