"""What :class:`~rule_store.sqlite.SQLiteRuleStore` and :class:`~rule_store.postgres.PostgresRuleStore` share.

The two stores run the same SQL for every read that filters by scope, lists records or counts them; they
differ in the driver's placeholder (``?`` or ``%s``) and in a few primitives each backend defines for itself:
``_fetch`` (run one statement), ``transaction`` and ``_read_snapshot`` (how statements group), ``_logs_where``
(how a boolean is bound), ``_get_by_ids`` and ``_delete`` (``IN (...)`` chunks or ``= ANY(array)``). Writes,
connections, migrations, leases and backups stay in each backend's module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import islice
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar

from pydantic import BaseModel

from rule_store.protocol import ALL, AddResult, Scope
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
    Verdict,
)

RecordT = TypeVar("RecordT", bound=BaseModel)

# How a ``Scope.user_id`` applies to each table, with ``?`` for the user id (``user_conditions`` puts in the
# driver's placeholder). Records with no user of their own belong to the user whose logs they were derived
# from; clusters and quarantine are shared by a namespace and have no user dimension. An adapter is a
# namespace-level artefact, but a user scope sees only the adapters its logs went into: that is what "which of
# my data is baked into weights?" asks.
_USER_CONDITIONS: dict[str, str] = {
    "logs": "logs.user_id = ?",
    "rules": "EXISTS (SELECT 1 FROM provenance p WHERE p.rule_id = rules.id AND p.user_id = ?)",
    # Log ids are unique per namespace: each join to ``logs`` matches the record's namespace too.
    "experiences": (
        "EXISTS (SELECT 1 FROM experience_sources s JOIN logs l ON l.id = s.log_id "
        "AND l.namespace = experiences.namespace WHERE s.experience_id = experiences.id AND l.user_id = ?)"
    ),
    "preference_pairs": (
        "EXISTS (SELECT 1 FROM logs l WHERE l.id = preference_pairs.source_log_id "
        "AND l.namespace = preference_pairs.namespace AND l.user_id = ?)"
    ),
    "hindsight": (
        "EXISTS (SELECT 1 FROM logs l WHERE l.id = hindsight.source_log_id "
        "AND l.namespace = hindsight.namespace AND l.user_id = ?)"
    ),
    "verdicts": (
        "EXISTS (SELECT 1 FROM logs l WHERE l.id = verdicts.log_id AND l.namespace = verdicts.namespace "
        "AND l.user_id = ?)"
    ),
    "adapters": (
        "EXISTS (SELECT 1 FROM adapter_sources s JOIN logs l ON l.id = s.log_id "
        "AND l.namespace = adapters.namespace WHERE s.adapter_id = adapters.id AND l.user_id = ?)"
    ),
    "rule_history": "EXISTS (SELECT 1 FROM provenance p WHERE p.rule_id = rule_history.rule_id AND p.user_id = ?)",
}


def user_conditions(placeholder: str) -> dict[str, str]:
    """The user conditions with ``placeholder`` for the user id (the only ``?`` in each condition)."""
    return {table: condition.replace("?", placeholder) for table, condition in _USER_CONDITIONS.items()}


@dataclass
class _Where:
    """A WHERE clause assembled from conditions, with its parameters in order."""

    conditions: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, condition: str, *params: object) -> _Where:
        self.conditions.append(condition)
        self.params.extend(params)
        return self

    def copy(self) -> _Where:
        return _Where(list(self.conditions), list(self.params))

    @property
    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


class SQLStoreBase:
    """The reads (and the deletes by id) that both SQL stores run alike; a subclass sets ``_PARAM`` and
    ``_USER_CONDITIONS`` and defines the primitives below that raise ``NotImplementedError``."""

    # The driver's placeholder, and the user conditions written with it.
    _PARAM: ClassVar[str]
    _USER_CONDITIONS: ClassVar[dict[str, str]]
    # Logs per page of ``add_logs`` (each page is one ``_add_log_page``).
    _ADD_LOGS_PAGE_SIZE: ClassVar[int]

    # -------------------------------------------------------------------------- primitives of each backend

    def close(self) -> None:
        raise NotImplementedError

    def _add_log_page(self, page: list[LogRecord], offset: int) -> AddResult:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _read_snapshot(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _fetch(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        raise NotImplementedError

    def _logs_where(self, scope: Scope, processed: bool | None) -> _Where:
        raise NotImplementedError

    def _get_by_ids(
        self, table: str, key: str, ids: Sequence[str], scope: Scope, model: type[RecordT]
    ) -> list[RecordT]:
        raise NotImplementedError

    def _delete(self, table: str, key: str, ids: Sequence[str], method: str) -> None:
        raise NotImplementedError

    def _where_in(self, where: _Where, column: str, values: list[str]) -> None:
        """Add the condition ``column`` is one of ``values`` to ``where``."""
        raise NotImplementedError

    def _write_meta(self, key: str, value: str) -> None:
        """Insert or replace one meta row (called inside ``transaction()``)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------ logs

    def add_logs(self, logs: Iterable[LogRecord]) -> AddResult:
        """Insert logs that are new by id *and* by content hash (within their namespace); report the rest.

        A log whose id its namespace already holds is a duplicate when it says the same (the stored log may have
        gained feedback since), else a conflict: reported with the reason, not written. ``logs`` may be a
        generator of any length: it is consumed in pages, all inside one transaction.
        """
        result = AddResult()
        with self.transaction():
            pages = _pages(_checked(logs, LogRecord, "add_logs"), self._ADD_LOGS_PAGE_SIZE)
            for number, page in enumerate(pages):
                result += self._add_log_page(page, number * self._ADD_LOGS_PAGE_SIZE)
        return result

    def get_logs(self, ids: Sequence[str], scope: Scope = ALL) -> list[LogRecord]:
        """The logs with these ids that are in scope, in the order asked (each once per namespace holding it)."""
        return self._get_by_ids("logs", "id", ids, scope, LogRecord)

    def count_logs(self, scope: Scope = ALL, *, processed: bool | None = None) -> int:
        where = self._logs_where(scope, processed)
        return int(self._fetch(f"SELECT COUNT(*) FROM logs{where.sql}", where.params)[0][0])

    def log_ids_for_user(self, user_id: str, namespace: str | None = None) -> list[str]:
        """Ids of this user's logs, oldest first."""
        where = self._scoped("logs", Scope(namespace=namespace, user_id=user_id))
        return [row[0] for row in self._fetch(f"SELECT id FROM logs{where.sql} ORDER BY timestamp, id", where.params)]

    # ----------------------------------------------------------------------------------------------- rules

    def get_rules(self, ids: Sequence[str], scope: Scope = ALL) -> list[Rule]:
        return self._get_by_ids("rules", "id", ids, scope, Rule)

    def list_rules(
        self,
        scope: Scope = ALL,
        *,
        status: RuleStatus | Sequence[RuleStatus] | None = None,
        cluster_id: str | None = None,
    ) -> list[Rule]:
        where = self._scoped("rules", scope)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            self._where_in(where, "status", [RuleStatus(s).value for s in statuses])
        if cluster_id is not None:
            where.add(f"cluster_id = {self._PARAM}", cluster_id)
        return self._list("rules", where, Rule)

    def delete_rules(self, ids: Sequence[str]) -> None:
        """Delete rules by id; their provenance rows go with them (foreign key cascade), and their history."""
        with self.transaction():
            self._delete("rules", "id", ids, "delete_rules")
            self.delete_rule_history(ids)

    def delete_rule_history(self, rule_ids: Sequence[str]) -> None:
        """Drop every history entry of these rules."""
        self._delete("rule_history", "rule_id", rule_ids, "delete_rule_history")

    def rule_history(self, rule_id: str, scope: Scope = ALL) -> list[RuleChange]:
        """A rule's history in scope, in the order it was written."""
        where = self._scoped("rule_history", scope).add(f"rule_history.rule_id = {self._PARAM}", rule_id)
        return self._list("rule_history", where, RuleChange, order_by="seq")

    def rule_sources(self, rule_id: str) -> list[str]:
        """The log ids a rule was derived from, sorted."""
        rows = self._fetch(f"SELECT log_id FROM provenance WHERE rule_id = {self._PARAM} ORDER BY log_id", [rule_id])
        return [row[0] for row in rows]

    # --------------------------------------------------------------------------------------------- derived

    def list_experiences(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[Experience]:
        return self._list("experiences", self._in_cluster("experiences", scope, cluster_id), Experience)

    def delete_experiences(self, ids: Sequence[str]) -> None:
        self._delete("experiences", "id", ids, "delete_experiences")

    def list_preference_pairs(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[PreferencePair]:
        return self._list("preference_pairs", self._in_cluster("preference_pairs", scope, cluster_id), PreferencePair)

    def delete_preference_pairs(self, ids: Sequence[str]) -> None:
        self._delete("preference_pairs", "id", ids, "delete_preference_pairs")

    def list_hindsight(self, scope: Scope = ALL, *, cluster_id: str | None = None) -> list[HindsightExample]:
        return self._list("hindsight", self._in_cluster("hindsight", scope, cluster_id), HindsightExample)

    def delete_hindsight(self, ids: Sequence[str]) -> None:
        self._delete("hindsight", "id", ids, "delete_hindsight")

    # -------------------------------------------------------------------------------------------- clusters

    def list_clusters(self, scope: Scope = ALL) -> list[Cluster]:
        """Clusters of the scope's namespace: they are shared by its users, so ``user_id`` does not apply."""
        return self._list("clusters", self._scoped("clusters", scope), Cluster)

    def delete_clusters(self, ids: Sequence[str]) -> None:
        self._delete("clusters", "id", ids, "delete_clusters")

    # -------------------------------------------------------------------------------------------- adapters

    def get_adapters(self, ids: Sequence[str], scope: Scope = ALL) -> list[Adapter]:
        """The adapters with these ids that are in scope, in the order asked (each once)."""
        return self._get_by_ids("adapters", "id", ids, scope, Adapter)

    def list_adapters(
        self,
        scope: Scope = ALL,
        *,
        cluster_id: str | None = None,
        status: AdapterStatus | Sequence[AdapterStatus] | None = None,
        kind: AdapterKind | None = None,
    ) -> list[Adapter]:
        """Adapters in scope, ordered by cluster_id, kind, version (numerically), then id."""
        where = self._in_cluster("adapters", scope, cluster_id)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            self._where_in(where, "status", [AdapterStatus(s).value for s in statuses])
        if kind is not None:
            where.add(f"kind = {self._PARAM}", AdapterKind(kind).value)
        return self._list("adapters", where, Adapter, order_by="cluster_id, kind, version, id")

    def delete_adapters(self, ids: Sequence[str]) -> None:
        """Delete adapters by id; their source links go with them (foreign key cascade)."""
        self._delete("adapters", "id", ids, "delete_adapters")

    # -------------------------------------------------------------------------------- verdicts, quarantine

    def get_verdicts(self, log_ids: Sequence[str], scope: Scope = ALL) -> list[LogVerdict]:
        """The verdicts of these logs in scope (give the namespace: log ids are unique only within one)."""
        return self._get_by_ids("verdicts", "log_id", log_ids, scope, LogVerdict)

    def list_verdicts(self, scope: Scope = ALL, *, verdict: str | None = None) -> list[LogVerdict]:
        where = self._scoped("verdicts", scope)
        if verdict is not None:
            where.add(f"verdict = {self._PARAM}", Verdict(verdict).value)
        return self._list("verdicts", where, LogVerdict, order_by="log_id")

    def list_quarantine(self, scope: Scope = ALL, *, source: str | None = None) -> list[QuarantineRecord]:
        """Quarantined inputs of the scope's namespace (they have no user, so ``user_id`` does not apply)."""
        where = self._scoped("quarantine", scope)
        if source is not None:
            where.add(f"source = {self._PARAM}", source)
        return self._list("quarantine", where, QuarantineRecord)

    # ----------------------------------------------------------------------------------------- meta, stats

    def get_meta(self, key: str) -> str | None:
        rows = self._fetch(f"SELECT value FROM meta WHERE key = {self._PARAM}", [key])
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"set_meta({key!r}): value must be a str, got {type(value).__name__}")
        with self.transaction():
            self._write_meta(key, value)

    def stats(self, scope: Scope = ALL) -> dict[str, int]:
        """Counts in scope, read from one snapshot (``_read_snapshot``).

        Keys: logs, logs_processed, rules_<status>, clusters, experiences, preference_pairs, hindsight,
        quarantine, verdicts_<verdict>, adapters, adapters_<status> (every status and verdict, zeros included).
        """
        with self._read_snapshot():
            counts = {
                "logs": self.count_logs(scope),
                "logs_processed": self.count_logs(scope, processed=True),
            }
            where = self._logs_where(scope, None).copy().add("edit_cost IS NOT NULL")
            edited, total = self._fetch(f"SELECT COUNT(*), SUM(edit_cost) FROM logs{where.sql}", where.params)[0]
            counts["logs_edited"], counts["edit_cost_total"] = int(edited), int(total or 0)
            counts.update(self._count_by("rules", "status", scope, [s.value for s in RuleStatus]))
            for table in ("clusters", "experiences", "preference_pairs", "hindsight", "quarantine"):
                where = self._scoped(table, scope)
                counts[table] = int(self._fetch(f"SELECT COUNT(*) FROM {table}{where.sql}", where.params)[0][0])
            counts.update(self._count_by("verdicts", "verdict", scope, [v.value for v in Verdict]))
            where = self._scoped("adapters", scope)
            counts["adapters"] = int(self._fetch(f"SELECT COUNT(*) FROM adapters{where.sql}", where.params)[0][0])
            counts.update(self._count_by("adapters", "status", scope, [s.value for s in AdapterStatus]))
        return counts

    def _count_by(self, table: str, column: str, scope: Scope, values: list[str]) -> dict[str, int]:
        where = self._scoped(table, scope)
        counts = {f"{table}_{value}": 0 for value in values}
        for value, count in self._fetch(
            f"SELECT {column}, COUNT(*) FROM {table}{where.sql} GROUP BY {column}", where.params
        ):
            counts[f"{table}_{value}"] = int(count)
        return counts

    # -------------------------------------------------------------------------------------------- plumbing

    def _scoped(self, table: str, scope: Scope) -> _Where:
        where = _Where()
        if scope.namespace is not None:
            where.add(f"{table}.namespace = {self._PARAM}", scope.namespace)
        if scope.user_id is not None and table in self._USER_CONDITIONS:
            where.add(self._USER_CONDITIONS[table], scope.user_id)
        return where

    def _in_cluster(self, table: str, scope: Scope, cluster_id: str | None) -> _Where:
        where = self._scoped(table, scope)
        if cluster_id is not None:
            where.add(f"{table}.cluster_id = {self._PARAM}", cluster_id)
        return where

    def _list(self, table: str, where: _Where, model: type[RecordT], order_by: str = "id") -> list[RecordT]:
        rows = self._fetch(f"SELECT body FROM {table}{where.sql} ORDER BY {order_by}", where.params)
        return [model.model_validate_json(body) for (body,) in rows]


def _checked(items: Iterable[object], model: type[RecordT], method: str) -> Iterator[RecordT]:
    """Yield ``items``, failing clearly on the first that is not a ``model`` (a dict, another record kind)."""
    if isinstance(items, BaseModel):
        raise TypeError(f"{method} expects an iterable of {model.__name__}, got a single {type(items).__name__}")
    for position, item in enumerate(items):
        if not isinstance(item, model):
            raise TypeError(f"{method}: item #{position} is a {type(item).__name__}, expected {model.__name__}")
        yield item


def _pages(items: Iterable[RecordT], size: int) -> Iterator[list[RecordT]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page
