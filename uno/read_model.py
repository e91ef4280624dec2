"""What ``augment`` knows about each rule, summarised once at build time so a query never walks evidence.

A rule's evidence grows with the app's history (one item per log that taught it). ``augment`` needs only three things
from it: whether the rule may be shown to the asking user, which users support it, and a few source logs to cite.
:func:`summarise_rules` computes those when the read model is made (after a build, or when another process's build
is loaded), by calling the gate's own support functions (:func:`uno.gap.is_shared`), so the read path and the
gate can never disagree. The read model then keeps each rule *without* its evidence (:func:`without_evidence`) and
each cluster without its member list and float-list centroid (:func:`without_members`): a query costs O(candidates)
whatever the history, and the resident read model no longer grows with evidence per rule.

The full provenance of a rule (every source log) is read from the store only when asked for (``explain=True``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from rule_store.records import Cluster, Rule
from uno.gap import GateConfig, identified_users, is_shared

if TYPE_CHECKING:
    from uno.index import CompactIndex, FaissIndex

# Source logs an injected rule cites by default; ``augment(explain=True)`` lists them all.
PROVENANCE_CAP = 8


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """The evidence-derived facts ``augment`` needs about one active rule.

    ``shared``: supported by enough identified users to be shown to everyone. ``users``: the identified users whose
    feedback supports it, kept only for a rule that is not shared (who alone may see it). ``provenance``: its first
    ``PROVENANCE_CAP`` source logs (sorted ids), for anonymous queries. ``own_provenance``: the same, per identified
    user, from that user's own evidence only (a user is never shown other users' logs).
    """

    shared: bool
    users: frozenset[str]
    provenance: tuple[str, ...]
    own_provenance: dict[str, tuple[str, ...]]
    source_count: int

    def visible_to(self, user_id: str | None) -> bool:
        """Shared rules for everyone; a rule supported by fewer identified users only for those users.

        Anonymous evidence never makes a rule visible to others: anyone can send anonymous logs.
        """
        return self.shared or (user_id is not None and user_id in self.users)

    def cited(self, user_id: str | None) -> list[str]:
        """The source logs to cite for ``user_id`` (all users' when ``None``), at most ``PROVENANCE_CAP``."""
        if user_id is None:
            return list(self.provenance)
        return list(self.own_provenance.get(user_id, ()))


def summarise(rule: Rule, config: GateConfig, cap: int = PROVENANCE_CAP) -> RuleSummary:
    """One pass over ``rule``'s evidence (build time only); shared exactly when the gate says so (:func:`is_shared`)."""
    users = identified_users(rule)
    shared = is_shared(rule, config)
    own: dict[str, set[str]] = {}
    for item in rule.evidence:
        if item.user_id:
            own.setdefault(item.user_id, set()).add(item.log_id)
    sources = rule.source_log_ids
    return RuleSummary(
        shared=shared,
        users=frozenset() if shared else frozenset(users),
        provenance=tuple(sources[:cap]),
        own_provenance={user: tuple(sorted(logs)[:cap]) for user, logs in sorted(own.items())},
        source_count=len(sources),
    )


def summarise_rules(rules: Iterable[Rule], config: GateConfig, cap: int = PROVENANCE_CAP) -> dict[str, RuleSummary]:
    return {rule.id: summarise(rule, config, cap) for rule in rules}


def full_provenance(rule: Rule, user_id: str | None) -> list[str]:
    """Every source log of ``rule`` (only ``user_id``'s own when given): the ``explain=True`` answer."""
    return sorted({e.log_id for e in rule.evidence if user_id is None or e.user_id == user_id})


def without_evidence(rule: Rule) -> Rule:
    """The rule as the read model keeps it: everything but the evidence list (summarised instead)."""
    return rule.model_copy(update={"evidence": []}) if rule.evidence else rule


def without_members(cluster: Cluster) -> Cluster:
    """The cluster as the read model keeps it: its members and centroid live in the FAISS indexes, not here."""
    return cluster.model_copy(update={"member_log_ids": [], "centroid": []})


def slim_rules(rules: Sequence[Rule]) -> dict[str, Rule]:
    return {rule.id: without_evidence(rule) for rule in rules}


def learnt_log_index(
    ids: Sequence[str], vectors: npt.NDArray[np.float32], dimension: int, compact_above: int | None = None
) -> FaissIndex | CompactIndex:
    """The index of learnt-log queries behind augment's neighbour step, built whole at build time: exact, or from
    ``compact_above`` learnt logs on (``None``: never) 4-bit scalar-quantised codes (:class:`uno.index.CompactIndex`,
    about a ninth of the bytes per log, at approximate scores)."""
    from uno.index import CompactIndex, FaissIndex

    if compact_above is not None and len(ids) >= max(compact_above, CompactIndex.MIN_VECTORS):
        return CompactIndex.build(ids, vectors)
    index = FaissIndex(dimension)
    if len(ids):
        index.upsert(ids, vectors)
    return index


def save_log_index(index: FaissIndex | CompactIndex, directory: Path, name: str) -> None:
    """Save under ``name`` and retire the other kind's save, so a loader finds only the current one."""
    from uno.index import CompactIndex, retire_saved

    index.save(directory, name)
    retire_saved(directory, name, compact=not isinstance(index, CompactIndex))


def load_log_index(directory: Path, name: str) -> FaissIndex | CompactIndex | None:
    """What :func:`save_log_index` saved last (a compact index memory-mapped); ``None`` when nothing was."""
    from uno.index import CompactIndex, FaissIndex

    compact = CompactIndex.load(directory, name)
    return compact if compact is not None else FaissIndex.load(directory, name)


__all__ = [
    "PROVENANCE_CAP",
    "RuleSummary",
    "full_provenance",
    "learnt_log_index",
    "load_log_index",
    "save_log_index",
    "slim_rules",
    "summarise",
    "summarise_rules",
    "without_evidence",
    "without_members",
]
