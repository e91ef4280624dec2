"""The ``RuleStore`` protocol: what any persistence backend for uno must do.

Scoping: every read takes an optional ``namespace`` (the tenant boundary) and ``user_id``; a backend must apply
whichever the caller gives and never return a record outside them. A record with no user of its own belongs to
the users of the logs it was derived from (rules through their evidence, adapters through ``source_log_ids``);
clusters and quarantine belong to their whole namespace. Upserts are idempotent by id and never mutate
their inputs. Deleting ids that do not exist is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rule_store.records import (
    Adapter,
    AdapterKind,
    AdapterStatus,
    Cluster,
    Experience,
    HindsightExample,
    LogRecord,
    LogVerdict,
    PreferencePair,
    QuarantineRecord,
    Rule,
    RuleChange,
    RuleStatus,
)


@dataclass(frozen=True)
class Scope:
    """Who is asking. ``None`` means "not restricted on this key"."""

    namespace: str | None = None
    user_id: str | None = None


ALL = Scope()


class LeaseHeld(RuntimeError):
    """``build_lease`` found the lease held by someone else (another process, or another holder in this one)."""

    def __init__(self, name: str, holder: str) -> None:
        self.name = name
        self.holder = holder
        super().__init__(f"another build holds the lease {name!r} ({holder})")


@dataclass(frozen=True)
class IdConflict:
    """A log that ``add_logs`` refused: its id is already stored, in its namespace, with different content."""

    # Index of the log in the ``add_logs`` input (0-based).
    position: int
    log_id: str
    reason: str


@dataclass
class AddResult:
    """What an ``add_logs`` call did.

    A log whose id is stored with the same content is a duplicate (re-adding is idempotent); one whose id is
    stored with *different* content is a conflict, reported with its reason and not written.
    """

    inserted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[IdConflict] = field(default_factory=list)

    def __iadd__(self, other: AddResult) -> AddResult:
        self.inserted.extend(other.inserted)
        self.duplicates.extend(other.duplicates)
        self.conflicts.extend(other.conflicts)
        return self


@runtime_checkable
class RuleStore(Protocol):
    """Persistence for logs and everything distilled from them."""

    # --- lifecycle
    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes: all of them land, or none (nested calls join the outer transaction)."""
        ...

    @property
    def schema_version(self) -> int: ...

    def build_lease(self, name: str) -> AbstractContextManager[None]:
        """Hold an exclusive, cross-process lease named ``name`` for the block; raise :class:`LeaseHeld` at once
        (never wait) if another holder, in this process or any other sharing the store, has it. A second call
        with the same name while the first is held is refused too: a lease is not re-entrant."""
        ...

    # --- logs
    def add_logs(self, logs: Iterable[LogRecord]) -> AddResult:
        """Insert logs that are new by id *and* by content hash; report the rest as duplicates, or as conflicts
        when the id is stored in the same namespace with a different conversation. Ids are unique per
        namespace: the same id in two namespaces is two logs."""
        ...

    def update_log(self, log: LogRecord) -> None:
        """Replace a stored log's content (new feedback arrived) and mark it unprocessed; its id and namespace stay.

        Raises ``KeyError`` when no log with that id exists in the log's namespace.
        """
        ...

    def get_logs(self, ids: Sequence[str], scope: Scope = ALL) -> list[LogRecord]:
        """The logs with these ids in scope, in the order asked; without a namespace in ``scope``, an id several
        namespaces hold returns each of their logs."""
        ...

    def iter_logs(self, scope: Scope = ALL, *, processed: bool | None = None) -> Iterator[LogRecord]:
        """All logs in scope, oldest first; ``processed`` filters on whether ``mark_processed`` saw them."""
        ...

    def count_logs(self, scope: Scope = ALL, *, processed: bool | None = None) -> int: ...

    def mark_processed(self, ids: Sequence[str], processed: bool = True, *, namespace: str | None = None) -> None:
        """Mark these logs processed (only ``namespace``'s when given: log ids are unique per namespace)."""
        ...

    def delete_logs(self, ids: Sequence[str], scope: Scope = ALL) -> list[str]:
        """Delete logs (and their provenance rows); return the ids that were deleted.

        Adapters keep their links to deleted logs, so ``adapter_ids_for_logs`` still finds what was trained on them.
        """
        ...

    def log_ids_for_user(self, user_id: str, namespace: str | None = None) -> list[str]: ...

    # --- rules (provenance rule <- logs is kept from ``Rule.evidence``)
    def upsert_rules(self, rules: Iterable[Rule]) -> None: ...

    def get_rules(self, ids: Sequence[str], scope: Scope = ALL) -> list[Rule]: ...

    def list_rules(
        self,
        scope: Scope = ALL,
        *,
        status: RuleStatus | Sequence[RuleStatus] | None = None,
        cluster_id: str | None = None,
    ) -> list[Rule]: ...

    def delete_rules(self, ids: Sequence[str]) -> None:
        """Hard delete: the rules, their provenance rows and their history entries."""
        ...

    def rule_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Rules with at least one piece of evidence from these logs."""
        ...

    def rule_sources(self, rule_id: str) -> list[str]:
        """The log ids a rule was derived from."""
        ...

    # --- rule history (who changed a rule, when, and what)
    def add_rule_changes(self, items: Iterable[RuleChange]) -> None:
        """Append history entries; an entry whose id is stored already is not added again."""
        ...

    def delete_rule_history(self, rule_ids: Sequence[str]) -> None:
        """Drop every history entry of these rules (forgetting logs drops what the entries may quote of them)."""
        ...

    def rule_history(self, rule_id: str, scope: Scope = ALL) -> list[RuleChange]:
        """A rule's history in scope, in the order it was written.

        With a ``user_id``, only while the rule is in that user's scope (it cites one of their logs).
        """
        ...

    # --- experiences, preference pairs, hindsight examples
    def upsert_experiences(self, items: Iterable[Experience]) -> None: ...

    def list_experiences(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[Experience]: ...

    def delete_experiences(self, ids: Sequence[str]) -> None: ...

    def upsert_preference_pairs(self, items: Iterable[PreferencePair]) -> None: ...

    def list_preference_pairs(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[PreferencePair]: ...

    def delete_preference_pairs(self, ids: Sequence[str]) -> None: ...

    def upsert_hindsight(self, items: Iterable[HindsightExample]) -> None: ...

    def list_hindsight(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[HindsightExample]: ...

    def delete_hindsight(self, ids: Sequence[str]) -> None: ...

    # --- clusters
    def upsert_clusters(self, items: Iterable[Cluster]) -> None: ...

    def list_clusters(self, scope: Scope = ALL) -> list[Cluster]: ...

    def delete_clusters(self, ids: Sequence[str]) -> None: ...

    # --- verdicts (one per log, replaced on re-distillation)
    def upsert_verdicts(self, items: Iterable[LogVerdict]) -> None: ...

    def get_verdicts(self, log_ids: Sequence[str], scope: Scope = ALL) -> list[LogVerdict]: ...

    def list_verdicts(self, scope: Scope = ALL, *, verdict: str | None = None) -> list[LogVerdict]: ...

    # --- quarantine
    def add_quarantine(self, items: Iterable[QuarantineRecord]) -> None: ...

    def list_quarantine(self, scope: Scope = ALL, *, source: str | None = None) -> list[QuarantineRecord]: ...

    # --- adapters (LoRA registry; provenance adapter <- logs)
    def upsert_adapters(self, items: Iterable[Adapter]) -> None:
        """Insert or replace adapters by id, and rewrite each one's links to its ``source_log_ids``."""
        ...

    def get_adapters(self, ids: Sequence[str], scope: Scope = ALL) -> list[Adapter]:
        """The adapters with these ids that are in scope, in the order asked (each once).

        With a ``user_id``, an adapter is in scope when at least one of its stored source logs is that user's.
        """
        ...

    def list_adapters(
        self,
        scope: Scope = ALL,
        *,
        cluster_id: str | None = None,
        status: AdapterStatus | Sequence[AdapterStatus] | None = None,
        kind: AdapterKind | None = None,
    ) -> list[Adapter]:
        """Adapters in scope, ordered by cluster_id, kind, version (then id)."""
        ...

    def adapter_ids_for_logs(self, log_ids: Sequence[str]) -> list[str]:
        """Adapters trained on any of these logs, sorted; deleted logs still count (the links are an audit trail)."""
        ...

    def delete_adapters(self, ids: Sequence[str]) -> None:
        """Delete adapter records and their source links (the weights on disk are the caller's to remove)."""
        ...

    # --- metadata
    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def stats(self, scope: Scope = ALL) -> dict[str, int]:
        """Counts per table in scope (logs, rules by status, clusters, adapters and adapters by status, ...)."""
        ...
