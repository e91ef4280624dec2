"""The public surface is what __all__ says, and importing it stays light."""

import subprocess
import sys

import rule_store
import uno


def test_uno_all_is_pinned() -> None:
    assert sorted(uno.__all__) == [
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
        "LLM",
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


def test_every_public_name_resolves() -> None:
    for name in uno.__all__:
        assert getattr(uno, name) is not None, name
    for name in rule_store.__all__:
        assert getattr(rule_store, name) is not None, name


def test_rule_store_all_is_pinned() -> None:
    assert sorted(rule_store.__all__) == [
        "ALL", "Adapter", "AdapterKind", "AdapterStatus", "AddResult", "Cluster", "DEFAULT_NAMESPACE",
        "EditFeedback", "Evidence", "Experience", "Feedback",
        "FeedbackKind", "FollowupFeedback", "HindsightExample", "IdConflict", "LeaseHeld", "LogRecord", "LogVerdict",
        "Message", "NamespaceConflictError", "Polarity", "PostgresRuleStore", "PreferencePair", "QuarantineRecord",
        "RatingFeedback",
        "ReactionFeedback", "Route", "Rule", "RuleChange", "RuleChangeAction", "RuleStatus", "RuleStore",
        "SQLiteRuleStore", "SchemaVersionError",
        "Scope", "StoreClosedError", "Verdict", "is_store_url", "open_store", "redact_url",
    ]  # fmt: skip


def test_import_uno_is_light() -> None:
    code = (
        "import sys, uno; heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'sklearn', 'litellm', "
        "'transformers', 'sqlite_utils', 'peft', 'trl') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_rule_store_does_not_import_uno_or_llm_code() -> None:
    code = (
        "import sys, rule_store.sqlite, rule_store.testing; "
        "print(sorted(m for m in sys.modules if m.startswith(('uno', 'litellm', 'torch'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
