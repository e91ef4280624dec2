"""rule_store: uno's persistence package. It stores logs and what is distilled from them, and knows nothing of LLMs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rule_store.factory import is_store_url, open_store, redact_url
from rule_store.protocol import ALL, AddResult, IdConflict, LeaseHeld, RuleStore, Scope
from rule_store.records import (
    DEFAULT_NAMESPACE,
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
    from rule_store.migrations import SchemaVersionError
    from rule_store.postgres import PostgresRuleStore
    from rule_store.sqlite import NamespaceConflictError, SQLiteRuleStore, StoreClosedError

# The SQLite backend pulls in sqlite_utils, the PostgreSQL one psycopg (an extra): load each on first use so
# `import rule_store` stays light and works without the [postgres] extra.
_LAZY = {
    "PostgresRuleStore": "rule_store.postgres",
    "SQLiteRuleStore": "rule_store.sqlite",
    "NamespaceConflictError": "rule_store.sqlite",
    "StoreClosedError": "rule_store.sqlite",
    "SchemaVersionError": "rule_store.migrations",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rule_store' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ALL",
    "DEFAULT_NAMESPACE",
    "Adapter",
    "AdapterKind",
    "AdapterStatus",
    "AddResult",
    "Cluster",
    "EditFeedback",
    "Evidence",
    "Experience",
    "Feedback",
    "FeedbackKind",
    "FollowupFeedback",
    "HindsightExample",
    "IdConflict",
    "LeaseHeld",
    "LogRecord",
    "LogVerdict",
    "Message",
    "NamespaceConflictError",
    "Polarity",
    "PostgresRuleStore",
    "PreferencePair",
    "QuarantineRecord",
    "RatingFeedback",
    "ReactionFeedback",
    "Route",
    "Rule",
    "RuleChange",
    "RuleChangeAction",
    "RuleStatus",
    "RuleStore",
    "SQLiteRuleStore",
    "SchemaVersionError",
    "Scope",
    "StoreClosedError",
    "Verdict",
    "is_store_url",
    "open_store",
    "redact_url",
]
