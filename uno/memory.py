"""``UnoMemory``: the front door. Logs in, experience out.

Data flows one way::

    add / ingest_file ──► store (logs, no model call)
    build ──► distil ──► embed ──► cluster ──► gate ──► index (FAISS, swapped atomically)
    augment(query) ──► embed query ──► nearest clusters (with an out-of-distribution cutoff) ──► rules ──► prompt

``augment`` is the hot path: one cached query embedding and two FAISS searches over an in-memory read model that
``build`` replaces whole, so readers never see a half-built state and never call an LLM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from rule_store.protocol import AddResult, RuleStore, Scope
from rule_store.records import (
    DEFAULT_NAMESPACE,
    FEEDBACK_ADAPTER,
    Adapter,
    AdapterKind,
    AdapterStatus,
    Cluster,
    EditFeedback,
    Evidence,
    Experience,
    Feedback,
    FollowupFeedback,
    LogRecord,
    LogVerdict,
    Message,
    Polarity,
    RatingFeedback,
    ReactionFeedback,
    Route,
    Rule,
    RuleChange,
    RuleChangeAction,
    RuleStatus,
    Verdict,
    rule_diff,
    stable_hash,
)
from uno.aspects import contradicts, split_aspect
from uno.bandit import credit_feedback
from uno.cluster import (
    ClusteringConfig,
    calibrate_cutoffs,
    centroid,
    describe_requests,
    fit_clusters,
    make_cluster,
    normalize,
)
from uno.distill.turns import STYLE_FAMILIES
from uno.executor import IN_PROCESS, Executor, distill_on, embed_on, executor_for, runs_on_workers
from uno.gap import (
    HARMFUL_PREFIX,
    MANUAL_PREFIX,
    GapContext,
    GateConfig,
    NoveltyScorer,
    ResponsePriorScorer,
    attack_reason,
    gate_rule,
    held_by_hand,
    identified_users,
    is_shared,
    may_teach_others,
    route_cluster,
    settle_contradictions,
)
from uno.harm import EmbeddingHarmDetector
from uno.ingest.limits import DEFAULT_LIMITS, InputLimits
from uno.inject import (
    DEFAULT_BUDGET_TOKENS,
    AdapterRoute,
    Augmentation,
    InjectedRule,
    ReflectivePlan,
    build_messages,
    count_tokens,
    fit_budget_counted,
    render_block,
)
from uno.ledger import calls_for_namespace
from uno.paths import StorePaths
from uno.progress import REWARD_STAGE, Advance, embedding_stage, stage
from uno.read_model import (
    RuleSummary,
    full_provenance,
    learnt_log_index,
    load_log_index,
    save_log_index,
    slim_rules,
    summarise_rules,
    without_members,
)

if TYPE_CHECKING:
    from uno.bandit import FixedStrategy, StrategyBandit, StrategyChoice
    from uno.distill.base import Distillation, Distiller
    from uno.embed import Embedder
    from uno.harm import HarmDetector
    from uno.index import CompactIndex, FaissIndex
    from uno.ingest import IngestReport
    from uno.label_llm import LLMClusterLabeller
    from uno.llm import LLM
    from uno.reward import ReactionModel
    from uno.train.bake import TrainReport
    from uno.train.config import TrainConfig
    from uno.train.lora import Trainer

log = logging.getLogger("uno")
Vectors = npt.NDArray[np.float32]
# With progress bars on, distillation and embedding run in batches this big (each batch advances the bar).
_PROGRESS_BATCH = 500


class BuildReport(BaseModel):
    namespace: str
    distilled_logs: int = 0
    # Logs the distiller could not process this time (kept, retried by the next build).
    pending_logs: int = 0
    new_rules: int = 0
    rules_by_status: dict[str, int] = Field(default_factory=dict)
    clusters: int = 0
    clusters_by_route: dict[str, int] = Field(default_factory=dict)
    reclustered: bool = False
    seconds: float = 0.0


class ForgetReport(BaseModel):
    namespace: str
    logs_deleted: int = 0
    rules_deleted: int = 0
    rules_rescored: int = 0
    experiences_deleted: int = 0
    preference_pairs_deleted: int = 0
    hindsight_deleted: int = 0
    adapters_staled: int = 0
    reaction_model_staled: bool = False


class SearchHit(BaseModel):
    rule: Rule
    score: float


class ImportReport(BaseModel):
    namespace: str
    logs: int = 0
    duplicate_logs: int = 0
    rules: int = 0
    verdicts: int = 0
    rule_changes: int = 0


class RuleExistsError(ValueError):
    """A rule added by hand says what a stored rule already says (same instruction and polarity)."""


class InvalidImport(ValueError):
    """Lines of an import that cannot be read back; nothing was imported. ``problems`` lists (line, reason)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        shown = "; ".join(f"line {line}: {reason}" for line, reason in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} invalid line(s), nothing imported: {shown}{more}")


# The score a user's own (not yet shared) preference is offered at on any of their queries: below a rule of a
# closely matched cluster, above a loosely matched one.
PERSONAL_SIMILARITY = 0.7


@dataclass
class _NamespaceView:
    """The read model ``augment`` serves from; replaced whole by ``build`` and ``forget``."""

    clusters: dict[str, Cluster] = field(default_factory=dict)
    centroid_index: FaissIndex | None = None
    log_index: FaissIndex | CompactIndex | None = None
    rule_index: FaissIndex | None = None
    rules: dict[str, Rule] = field(default_factory=dict)
    rules_by_cluster: dict[str, list[str]] = field(default_factory=dict)
    rules_by_log: dict[str, list[str]] = field(default_factory=dict)
    # Active rules not yet shared, by the users whose own feedback they came from: applied to all their queries.
    personal_by_user: dict[str, list[str]] = field(default_factory=dict)
    experiences_by_cluster: dict[str, list[Experience]] = field(default_factory=dict)
    rule_vectors: dict[str, Vectors] = field(default_factory=dict)
    # What augment needs from each active rule's evidence, summarised at build time (uno.read_model).
    summaries: dict[str, RuleSummary] = field(default_factory=dict)
    # Accepted LoRA adapters by cluster (newest version first).
    adapters_by_cluster: dict[str, list[Adapter]] = field(default_factory=dict)
    # Active rules added by hand, with the vector of their ``when``: offered to the queries that read alike.
    manual_when: dict[str, Vectors] = field(default_factory=dict)
    # The store's build generation this view was made from, and when that was last compared.
    generation: str | None = None
    checked_at: float = 0.0


@dataclass
class _LogFacts:
    """What clustering and gating need to know about one log."""

    log: LogRecord
    verdict: Verdict
    rule_ids: list[str]


class UnoMemory:
    """Learn from user logs; inject what was learnt into prompts.

    Args:
        path: directory of the store (SQLite database and FAISS files), or a ``postgresql://`` URL of a store that
            several processes share (this process's FAISS files then go in a local cache directory, see
            :mod:`uno.paths`); default ``$UNO_STORE`` or ``./.uno``. With ``store=``, the local directory.
        namespace: the tenant every call uses unless it names another. Namespaces never see each other's data.
        embedder: any :class:`uno.embed.Embedder`; default the packaged all-MiniLM-L6-v2, cached by content hash.
        distiller: default :class:`uno.distill.llm.LLMDistiller` when ``llm`` is given, else the offline
            :class:`uno.distill.HeuristicDistiller`.
        llm: any :class:`uno.llm.LLM` (e.g. ``LiteLLM("openai/gpt-4o-mini")``): used by ``build`` to distil and
            by ``respond``; never by ``augment``.
        novelty_scorer: default :class:`uno.gap.ResponsePriorScorer`.
        harm_detector: flags requests that seek help with harm; a cluster of them learns nothing. Default
            :class:`uno.harm.EmbeddingHarmDetector` (a shipped classifier head over the embedder, plus a lexicon).
        store: another :class:`rule_store.RuleStore` backend instead of the SQLite file under ``path``.
        limits: :class:`uno.InputLimits` on every input (text sizes, turns, feedback events, metadata); a record
            over them is refused with the field and the limit named.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        embedder: Embedder | None = None,
        distiller: Distiller | None = None,
        novelty_scorer: NoveltyScorer | None = None,
        harm_detector: HarmDetector | None = None,
        llm: LLM | None = None,
        store: RuleStore | None = None,
        clustering: ClusteringConfig | None = None,
        gate: GateConfig | None = None,
        budget_tokens: int = DEFAULT_BUDGET_TOKENS,
        log_similarity: float = 0.62,
        progress: bool = False,
        reload_interval: float = 2.0,
        match_top: int = 3,
        match_tolerance: float = 0.08,
        limits: InputLimits | None = None,
    ) -> None:
        self.paths = StorePaths.resolve(path).ensure()
        # Bounds on every record that comes in (add, log_exchange, feedback, ingest, the server's routes).
        self.limits = limits or DEFAULT_LIMITS
        if store is None:
            from rule_store.factory import open_store

            # A PostgreSQL URL opens the shared store (``self.paths`` is then this process's local cache).
            store = open_store(self.paths.spec)
        self.store: RuleStore = store
        self.namespace = namespace
        self.clustering = clustering or ClusteringConfig()
        self.gate = gate or GateConfig()
        self.budget_tokens = budget_tokens
        self.log_similarity = log_similarity
        self.progress = progress
        # A query draws on up to ``match_top`` clusters whose cutoff it passes, within ``match_tolerance`` of the best.
        self.match_top = match_top
        self.match_tolerance = match_tolerance
        # How often (seconds) augment checks whether another process rebuilt the store.
        self.reload_interval = reload_interval
        self._embedder = embedder
        self.llm = llm
        if llm is not None:
            # Calls made for this store are counted in, and cached under, its own ledger (<store>/llm.sqlite).
            llm.bind_store(self.paths.root)
        self._distiller = distiller
        self._novelty_scorer = novelty_scorer
        self._harm_detector = harm_detector
        self._write_lock = threading.RLock()
        # One build at a time; it takes ``_write_lock`` only once its logs are distilled.
        self._build_lock = threading.Lock()
        self._views: dict[str, _NamespaceView] = {}
        # ``build`` retrains the reaction model (uno.reward) once this many new reactions or ratings arrived.
        self.reaction_retrain_after = 50
        # From this many learnt logs on, the log index holds 4-bit codes (uno.index.CompactIndex, ~200 bytes a log
        # instead of ~1,800) at approximate scores; None keeps it exact (see benchmarks/results/scale_machine.md).
        self.compact_logs_above: int | None = None

    # --- components

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from uno.embed import default_embedder

            self._embedder = default_embedder(cache_path=self.paths.embedding_cache)
        return self._embedder

    @property
    def distiller(self) -> Distiller:
        """The configured distiller; else one LLM call per log with feedback when an LLM is set; else offline."""
        if self._distiller is None:
            if self.llm is not None:
                from uno.distill.llm import LLMDistiller

                self._distiller = LLMDistiller(self.llm, progress=self.progress)
            else:
                from uno.distill.heuristic import HeuristicDistiller

                self._distiller = HeuristicDistiller()
        return self._distiller

    @property
    def harm_detector(self) -> HarmDetector:
        """The offline harm detector over this store's embedder (the lexicon alone for an unknown embedder); with an
        LLM, the LLM's verdict is added to it (either one flags a request)."""
        if self._harm_detector is None:
            offline = EmbeddingHarmDetector(self.embedder)
            if self.llm is not None:
                from uno.harm_llm import LLMHarmDetector

                self._harm_detector = LLMHarmDetector(self.llm, offline)
            else:
                self._harm_detector = offline
        return self._harm_detector

    @property
    def novelty_scorer(self) -> NoveltyScorer:
        """Offline compliance prior; with an LLM, UNO's "without-feedback rules" scorer backed by that prior."""
        if self._novelty_scorer is None:
            measured = ResponsePriorScorer(self.embedder.embed, min_checked=self.gate.min_checked_responses)
            if self.llm is not None:
                from uno.gap_llm import LLMNoveltyScorer

                self._novelty_scorer = LLMNoveltyScorer(self.llm, store=self.store, measured=measured)
            else:
                self._novelty_scorer = measured
        return self._novelty_scorer

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> UnoMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ns(self, namespace: str | None) -> str:
        return namespace or self.namespace

    # --- writes

    def add(self, log: LogRecord | dict[str, Any], *, namespace: str | None = None) -> str:
        """Store one log (a ``LogRecord`` or a plain-format dict) and return its id. No model call.

        Raises ``TypeError`` for anything else, ``InvalidRecord``/``FormatDetectionError`` (``ValueError``s) naming
        each problem of an invalid record or one over ``limits``, and ``ValueError`` when the id is already stored
        with different content.
        """
        record = self._coerce(log, namespace, "add")
        outcome = self.add_many([record], namespace=namespace)
        if outcome.rejected:
            raise ValueError(outcome.rejected[0].reason)
        return outcome.ids[0]

    def add_many(self, logs: Iterable[LogRecord | dict[str, Any]], *, namespace: str | None = None) -> AddOutcome:
        """Store logs; every valid one is kept even when others in the batch are not.

        Each refused record (invalid, over ``limits``, of the wrong type, or reusing a stored id for different
        content) is reported in ``AddOutcome.rejected`` with its position and the reason; it is never dropped
        silently.
        """
        from uno.ingest import FormatDetectionError, InvalidRecord

        if isinstance(logs, str | bytes | dict | LogRecord):
            raise TypeError(f"add_many expects an iterable of logs, got a single {type(logs).__name__} (use add())")
        accepted: list[tuple[int, LogRecord]] = []
        rejected: list[Rejection] = []
        for position, item in enumerate(logs):
            try:
                accepted.append((position, self._coerce(item, namespace, "add_many")))
            except (InvalidRecord, FormatDetectionError, TypeError) as error:
                rejected.append(Rejection(position=position, log_id=_given_id(item), reason=str(error)))
        with self._write_lock:
            result = self.store.add_logs(record for _, record in accepted)
        conflicted = {conflict.position for conflict in result.conflicts}
        for conflict in result.conflicts:
            position = accepted[conflict.position][0]
            rejected.append(Rejection(position=position, log_id=conflict.log_id, reason=conflict.reason))
        ids = [record.id for index, (_, record) in enumerate(accepted) if index not in conflicted]
        return AddOutcome(result, ids, sorted(rejected, key=lambda r: r.position))

    def _coerce(self, item: object, namespace: str | None, method: str) -> LogRecord:
        """``item`` as a log of the namespace, within ``self.limits``; ``TypeError`` when it is not a log."""
        from uno.ingest import apply_scope, check_log, detect_format, parse_record
        from uno.ingest.limits import check_raw_record

        ns = self._ns(namespace)
        if isinstance(item, LogRecord):
            return apply_scope(check_log(item, self.limits), namespace=ns)
        if not isinstance(item, dict):
            hint = " (to log a conversation, use log_exchange(messages, response))" if isinstance(item, str) else ""
            raise TypeError(
                f"{method} expects a LogRecord or a dict in the plain, openai or memorybench format, "
                f"got {type(item).__name__}{hint}"
            )
        check_raw_record(item, self.limits)
        return check_log(parse_record(item, detect_format(item), namespace=ns), self.limits)

    def log_exchange(
        self,
        messages: Sequence[dict[str, Any] | Message],
        response: str,
        *,
        user_id: str | None = None,
        namespace: str | None = None,
        log_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        verified_id: str | None = None,
    ) -> str:
        """Record a conversation your app just had (the prompt messages and the model's answer) as a log.

        Returns its id, to attach feedback later with :meth:`feedback`. uno's own memory block is not stored: pass
        the messages as the user wrote them, not the augmented ones. ``verified_id``: an identity your app vouches
        for (its logged-in user), which ``GateConfig.min_vouched_identities`` counts (see docs/threat-model.md).
        """
        from uno.ingest import check_log
        from uno.ingest.limits import check_messages

        turns = [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]
        transcript = [*turns, Message(role="assistant", content=response)]
        check_messages(transcript, self.limits)  # before the record: its id hashes the (valid) text
        record = check_log(
            LogRecord(
                id=log_id or "",
                namespace=self._ns(namespace),
                user_id=user_id,
                verified_id=verified_id,
                messages=transcript,
                metadata=metadata or {},
            ),
            self.limits,
        )
        with self._write_lock:
            result = self.store.add_logs([record])
        if result.conflicts:
            raise ValueError(result.conflicts[0].reason)
        return record.id

    def feedback(self, log_id: str, event: Feedback | dict[str, Any], *, namespace: str | None = None) -> LogRecord:
        """Attach one feedback event (follow-up, edit, reaction, rating) to a stored log; the next build learns it."""
        from uno.ingest import check_feedback, check_log

        if not isinstance(event, dict | FollowupFeedback | EditFeedback | ReactionFeedback | RatingFeedback):
            raise TypeError(f"feedback expects a Feedback record or a dict, got {type(event).__name__}")
        parsed = check_feedback(
            FEEDBACK_ADAPTER.validate_python(event) if isinstance(event, dict) else event, self.limits
        )
        with self._write_lock:
            found = self.store.get_logs([log_id], Scope(namespace=self._ns(namespace)))
            if not found:
                raise KeyError(f"no log {log_id!r} in namespace {self._ns(namespace)!r}")
            updated = LogRecord.model_validate({**found[0].model_dump(), "feedback": [*found[0].feedback, parsed]})
            with self.store.transaction():
                self.store.update_log(check_log(updated, self.limits))  # e.g. one event too many
                # The strategy bandit arm that produced this answer (proxy, as_runnable) gets its revised reward.
                credit_feedback(self.store, self._ns(namespace), found[0], updated)
        return updated

    def ingest_file(
        self, path: str | os.PathLike[str], *, format: str | None = None, namespace: str | None = None
    ) -> IngestReport:
        """Import a JSONL/JSON log file (plain, OpenAI chat or MemoryBench; detected unless named).

        Bad lines are quarantined with their line number and reason; every valid record is kept.
        """
        from uno.ingest import ingest_file

        with self._write_lock:
            return ingest_file(
                Path(path),
                self.store,
                format=format,
                namespace=self._ns(namespace),
                progress=self.progress,
                limits=self.limits,
            )

    # --- build

    def build(
        self, *, full: bool = False, namespace: str | None = None, executor: str | Executor = "local"
    ) -> BuildReport:
        """Distil, embed, cluster, gate and index what is new. ``full=True`` re-distils and re-clusters everything.

        ``executor`` says where distillation and embedding run: ``"local"`` (this process), ``"ray"`` (a Ray
        instance on this machine) or ``"ray://HOST:PORT"`` (a Ray cluster); see :mod:`uno.executor`. The store is
        written by this process either way, and the results are the same.
        """
        started = datetime.now(UTC)
        ns = self._ns(namespace)
        # The lease keeps builds of this namespace in other processes (replicas, `uno build`) out meanwhile.
        with (
            self._build_lock,
            self.store.build_lease(f"build:{ns}"),
            calls_for_namespace(ns),
            executor_for(executor) as runner,
        ):
            pending = list(self.store.iter_logs(Scope(namespace=ns), processed=None if full else False))
            # Distilling is the long part (one LLM call per log): it runs before the write lock is taken, so the
            # adds, exchanges and feedback of this process go on meanwhile. No store transaction is open either.
            distillations = self._distill(pending, runner)
            with self._write_lock:
                # A log that gained feedback (or was forgotten) while it was distilled is left for the next build.
                distillations = self._still_current(ns, pending, distillations)
                new_rules = self._merge_distillations(ns, distillations, replace=full)
                report = self._refresh(ns, recluster=full, executor=runner)
                # A distiller leaves out the logs it could not process (an LLM timeout, invalid JSON): they stay
                # pending and the next build retries them. Nothing is lost because a call failed.
                done = {d.log_id for d in distillations}
                self.store.mark_processed([log.id for log in pending if log.id in done], namespace=ns)
            self._retrain_reaction_model(ns, pending)
        report.distilled_logs = len(done)
        report.pending_logs = len(pending) - len(done)
        report.new_rules = new_rules
        report.seconds = round((datetime.now(UTC) - started).total_seconds(), 3)
        return report

    def _still_current(
        self, ns: str, distilled: Sequence[LogRecord], distillations: list[Distillation]
    ) -> list[Distillation]:
        """The distillations of logs that are stored as they were distilled."""
        stored = self.store.get_logs([log.id for log in distilled], Scope(namespace=ns))
        now = {log.id: log.content_hash() for log in stored}
        unchanged = {log.id for log in distilled if now.get(log.id) == log.content_hash()}
        return [d for d in distillations if d.log_id in unchanged]

    def _retrain_reaction_model(self, ns: str, pending: Sequence[LogRecord]) -> None:
        """Retrain the reaction model (uno.reward) once ``reaction_retrain_after`` new reactions or ratings arrived."""
        from uno.reward import reaction_examples, retrain_if_due

        if any(reaction_examples(log) for log in pending):
            logs = self.store.iter_logs(Scope(namespace=ns))
            # A retraining embeds each rated request and answer: the bar counts them (a second pass over the logs).
            texts = 2 * sum(len(reaction_examples(log)) for log in logs) if self.progress else 0
            with embedding_stage(REWARD_STAGE, self.embedder, texts, enabled=self.progress) as embedder:
                logs = self.store.iter_logs(Scope(namespace=ns))
                retrain_if_due(self.store, ns, embedder, min_new=self.reaction_retrain_after, logs=logs)

    def _distill(self, logs: Sequence[LogRecord], executor: Executor = IN_PROCESS) -> list[Distillation]:
        if logs and runs_on_workers(executor, self.distiller):
            return distill_on(executor, self.distiller, logs, progress=self.progress)
        if not self.progress:
            return self.distiller.distill_many(logs) if logs else []
        out: list[Distillation] = []
        with stage("distil", len(logs), enabled=True, unit="log") as advance:
            for start in range(0, len(logs), _PROGRESS_BATCH):
                batch = logs[start : start + _PROGRESS_BATCH]
                out.extend(self.distiller.distill_many(batch))
                advance(len(batch))
        return out

    def _merge_distillations(self, ns: str, distillations: Sequence[Distillation], *, replace: bool) -> int:
        """Fold new candidate rules into stored ones (same id = same instruction: evidence is merged)."""
        redistilled = {d.log_id for d in distillations}
        incoming: dict[str, Rule] = {}
        for item in distillations:
            for rule in item.rules:
                rule = rule.model_copy(update={"namespace": ns})
                if rule.id in incoming:
                    rule = _merge_evidence(incoming[rule.id], rule.evidence)
                incoming[rule.id] = rule
        stored_ids = set(self.store.rule_ids_for_logs(sorted(redistilled))) if replace else set()
        existing = {r.id: r for r in self.store.get_rules(sorted(set(incoming) | stored_ids), Scope(namespace=ns))}
        merged: list[Rule] = []
        for rule_id in sorted(set(incoming) | set(existing)):
            old = existing.get(rule_id)
            new = incoming.get(rule_id)
            if old is not None and replace and not old.held:
                old = old.model_copy(update={"evidence": [e for e in old.evidence if e.log_id not in redistilled]})
            if old is None:
                assert new is not None
                merged.append(new)
            else:
                merged.append(_merge_evidence(old, new.evidence if new else []))
        kept = [r for r in merged if r.evidence or r.held]
        dropped = [r.id for r in merged if not (r.evidence or r.held)]
        with self.store.transaction():
            self.store.upsert_rules(kept)
            self.store.delete_rules(dropped)
            self.store.add_rule_changes(
                [
                    *_changes(existing, kept, actor="build"),
                    *(_tombstone(ns, i, "build", "no evidence left after re-distillation") for i in dropped),
                ]
            )
            self.store.upsert_verdicts(d.verdict.model_copy(update={"namespace": ns}) for d in distillations)
            self.store.upsert_experiences(
                e.model_copy(update={"namespace": ns}) for d in distillations for e in d.experiences
            )
            self.store.upsert_preference_pairs(
                p.model_copy(update={"namespace": ns}) for d in distillations for p in d.preference_pairs
            )
            self.store.upsert_hindsight(
                h.model_copy(update={"namespace": ns}) for d in distillations for h in d.hindsight
            )
        return len(set(incoming) - set(existing))

    def _log_facts(self, ns: str, rules: Sequence[Rule]) -> dict[str, _LogFacts]:
        rules_by_log: dict[str, list[str]] = {}
        for rule in rules:
            for log_id in rule.source_log_ids:
                rules_by_log.setdefault(log_id, []).append(rule.id)
        logs = list(self.store.iter_logs(Scope(namespace=ns)))
        verdicts = {v.log_id: v.verdict for v in self.store.get_verdicts([log.id for log in logs], Scope(namespace=ns))}
        return {
            log.id: _LogFacts(log, verdicts.get(log.id, Verdict.NO_FEEDBACK), sorted(rules_by_log.get(log.id, [])))
            for log in logs
        }

    def _refresh(self, ns: str, *, recluster: bool, executor: Executor = IN_PROCESS) -> BuildReport:
        """Everything after distillation: cluster, gate, route, index. Also run after ``forget``."""
        rules = self.store.list_rules(Scope(namespace=ns))
        # Rules already retired as attacks do not shape the clusters.
        facts = self._log_facts(ns, [r for r in rules if not r.status_reason.startswith("adversarial")])
        log_ids = sorted(facts)
        with stage("embed", len(log_ids) + len(rules), enabled=self.progress, unit="text") as advance:
            query_vectors = self._embed_map([facts[i].log.query for i in log_ids], advance, executor)
            qvec = {log_id: query_vectors[n] for n, log_id in enumerate(log_ids)}
            rule_vec = self._rule_vectors(rules, advance, executor)
        with stage("cluster", 3, enabled=self.progress, unit="step") as advance:
            old_clusters = self.store.list_clusters(Scope(namespace=ns))
            clusters, reclustered = self._cluster(ns, facts, qvec, rule_vec, old_clusters, force=recluster)
            advance(1)
            clusters = _labelled(clusters, facts, qvec, self._cluster_labeller())
            advance(1)
            harmful_logs = self._harmful_logs(clusters, rules, facts, qvec)
            clusters = [_blocked_if_harmful(c, harmful_logs, self.gate) for c in clusters]
            advance(1)
        with stage("gate", len(rules), enabled=self.progress, unit="rule") as advance:
            home = _home_clusters(clusters, rules)
            gated = _generalised(self._gate(rules, clusters, facts, qvec, home, advance), clusters, self.gate)
            gated = _retire_harmful(gated, clusters, harmful_logs)
        with stage("index", 3, enabled=self.progress, unit="step") as advance:
            cluster_of_log = {m: c.id for c in clusters for m in c.member_log_ids}
            # An experience of anonymous (or, when vouching is required, unvouched) logs joins no cluster: a
            # cluster's plan is shown to all its users, and anyone can send anonymous logs.
            experiences = [
                e.model_copy(
                    update={
                        "cluster_id": _majority(cluster_of_log, e.source_log_ids) if self._teaches(e, facts) else None
                    }
                )
                for e in self.store.list_experiences(Scope(namespace=ns))
            ]
            routed = self._route(clusters, gated, facts, experiences)
            self._write_results(ns, gated, routed, old_clusters, experiences, cluster_of_log, before=rules)
            advance(1)
            view = self._make_view(routed, gated, qvec, rule_vec, experiences)
            view.adapters_by_cluster = self._accepted_adapters(ns)
            view.generation = self.store.get_meta(_generation_key(ns))
            self._views[ns] = view
            advance(1)
            self._save_view(ns)
            advance(1)
        return BuildReport(
            namespace=ns,
            rules_by_status=_count(r.status.value for r in gated),
            clusters=len(routed),
            clusters_by_route=_count(c.route.value for c in routed),
            reclustered=reclustered,
        )

    def _teaches(self, experience: Experience, facts: dict[str, _LogFacts]) -> bool:
        logs = [facts[i].log for i in experience.source_log_ids if i in facts]
        return any(may_teach_others(log.user_id, log.verified_id, self.gate) for log in logs)

    def _cluster_labeller(self) -> LLMClusterLabeller | None:
        if self.llm is None:
            return None
        from uno.label_llm import LLMClusterLabeller

        return LLMClusterLabeller(self.llm)

    def _harmful_logs(
        self, clusters: list[Cluster], rules: list[Rule], facts: dict[str, _LogFacts], qvec: dict[str, Vectors]
    ) -> dict[str, str]:
        """Why each clustered or rule-bearing log's request seeks help with harm (only the flagged ones)."""
        wanted = sorted({m for c in clusters for m in c.member_log_ids} | set(_evidence_logs(rules)))
        wanted = [log_id for log_id in wanted if log_id in facts]
        texts = [facts[log_id].log.query for log_id in wanted]
        detector = self.harm_detector
        if isinstance(detector, EmbeddingHarmDetector) and wanted:
            # The queries are embedded already: the classifier head reads those vectors.
            verdicts = detector.assess_embedded(texts, np.stack([qvec[log_id] for log_id in wanted]))
        else:
            verdicts = detector.assess(texts)
        return {log_id: v.reason for log_id, v in zip(wanted, verdicts, strict=True) if v.harmful}

    def _embed_map(
        self, texts: Sequence[str], advance: Advance | None = None, executor: Executor = IN_PROCESS
    ) -> Vectors:
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        if not executor.in_process:
            return normalize(embed_on(executor, self.embedder, texts, advance or (lambda n: None)))
        if advance is None or not self.progress:
            return normalize(self.embedder.embed(list(texts)))
        # In chunks only when a bar shows it: one call batches best, and is what runs without a terminal.
        parts: list[Vectors] = []
        for start in range(0, len(texts), _PROGRESS_BATCH):
            chunk = list(texts[start : start + _PROGRESS_BATCH])
            parts.append(normalize(self.embedder.embed(chunk)))
            advance(len(chunk))
        return np.concatenate(parts)

    def _rule_vectors(
        self, rules: Sequence[Rule], advance: Advance | None = None, executor: Executor = IN_PROCESS
    ) -> dict[str, Vectors]:
        vectors = self._embed_map([r.do for r in rules], advance, executor)
        return {rule.id: vectors[n] for n, rule in enumerate(rules)}

    def _cluster(
        self,
        ns: str,
        facts: dict[str, _LogFacts],
        qvec: dict[str, Vectors],
        rule_vec: dict[str, Vectors],
        old: list[Cluster],
        *,
        force: bool,
    ) -> tuple[list[Cluster], bool]:
        """Re-fit when asked, when there is no clustering yet, or when too many new logs fit no cluster."""
        learnt = [i for i, f in sorted(facts.items()) if f.rule_ids]
        clustered = {m for c in old for m in c.member_log_ids if m in facts}
        if not force and old:
            kept = self._assign_incrementally(ns, old, facts, qvec, clustered)
            placed = {m for c in kept for m in c.member_log_ids}
            unplaced = [i for i in learnt if i not in placed]
            if len(unplaced) <= max(10, len(placed) // 5):
                return kept, False
        if not learnt:
            return [], True
        feedback = np.stack([normalize(np.mean([rule_vec[r] for r in facts[i].rule_ids], axis=0)) for i in learnt])
        fit = fit_clusters(ns, learnt, np.stack([qvec[i] for i in learnt]), feedback, self.clustering)
        attached = self._attach_unlearnt(ns, fit.clusters, facts, qvec)
        return attached, True

    def _assign_incrementally(
        self,
        ns: str,
        old: list[Cluster],
        facts: dict[str, _LogFacts],
        qvec: dict[str, Vectors],
        clustered: set[str],
    ) -> list[Cluster]:
        members = {c.id: [m for m in c.member_log_ids if m in facts] for c in old}
        centers = np.stack([normalize(np.asarray(c.centroid, dtype=np.float32)) for c in old])
        for log_id in sorted(set(facts) - clustered):
            sims = centers @ qvec[log_id]
            best = int(np.argmax(sims))
            if sims[best] >= old[best].min_similarity:
                members[old[best].id].append(log_id)
        out: list[Cluster] = []
        vectors: list[Vectors] = []
        for cluster in old:
            ids = members[cluster.id]
            learnt = [i for i in ids if facts[i].rule_ids]
            if not learnt:
                continue
            rebuilt = make_cluster(ns, learnt, np.stack([qvec[i] for i in learnt]), self.clustering)
            out.append(
                rebuilt.model_copy(
                    update={"id": cluster.id, "member_log_ids": sorted(ids), "created_at": cluster.created_at}
                )
            )
            vectors.append(np.stack([qvec[i] for i in learnt]))
        return calibrate_cutoffs(out, vectors, self.clustering)

    def _attach_unlearnt(
        self, ns: str, clusters: list[Cluster], facts: dict[str, _LogFacts], qvec: dict[str, Vectors]
    ) -> list[Cluster]:
        """Logs without rules (satisfied users, no feedback) join the cluster they ask like: the gap filter's prior."""
        if not clusters:
            return clusters
        centers = np.stack([np.asarray(c.centroid, dtype=np.float32) for c in clusters])
        extra: dict[int, list[str]] = {}
        for log_id, fact in sorted(facts.items()):
            if fact.rule_ids:
                continue
            sims = centers @ qvec[log_id]
            best = int(np.argmax(sims))
            if sims[best] >= clusters[best].min_similarity:
                extra.setdefault(best, []).append(log_id)
        return [
            c.model_copy(update={"member_log_ids": sorted([*c.member_log_ids, *extra.get(n, [])])})
            for n, c in enumerate(clusters)
        ]

    def _gate(
        self,
        rules: list[Rule],
        clusters: list[Cluster],
        facts: dict[str, _LogFacts],
        qvec: dict[str, Vectors],
        home: dict[str, str | None],
        advance: Advance | None = None,
    ) -> list[Rule]:
        contexts = {c.id: _gap_context(c.member_log_ids, facts) for c in clusters}
        by_context: dict[str | None, list[Rule]] = {}
        for rule in rules:
            by_context.setdefault(home.get(rule.id), []).append(rule)
        gated: list[Rule] = []
        for cluster_id, whole_group in by_context.items():
            # A person decides the status of held rules: they are not scored (no novelty call for them).
            gated.extend(r.model_copy(update={"cluster_id": cluster_id}) for r in whole_group if held_by_hand(r))
            group = [r for r in whole_group if not held_by_hand(r)]
            if not group:
                continue
            context = contexts[cluster_id] if cluster_id else _gap_context(_evidence_logs(group), facts)
            scores = self.novelty_scorer.novelty(group, context)
            gated.extend(
                gate_rule(r, s, self.gate).model_copy(update={"cluster_id": cluster_id})
                for r, s in zip(group, scores, strict=True)
            )
            if advance is not None:
                advance(len(group))
        where = {r.id: _mean_query(r, qvec) for r in gated}
        # A rule added by hand cites no log: its own 'when' says which requests it is about.
        unplaced = [r for r in gated if r.manual and where[r.id] is None]
        for rule, vector in zip(unplaced, self._embed_map([r.when for r in unplaced]), strict=True):
            where[rule.id] = vector
        cluster_of_log = {m: c.id for c in clusters for m in c.member_log_ids}
        homes = {r.id: {cluster_of_log[i] for i in r.source_log_ids if i in cluster_of_log} for r in gated}

        def neighbourhood(a: Rule, b: Rule) -> float:
            """1 when the two rules have evidence in a common cluster, else how alike their queries are."""
            if homes[a.id] & homes[b.id]:
                return 1.0
            va, vb = where[a.id], where[b.id]
            return float(va @ vb) if va is not None and vb is not None else 0.0

        return settle_contradictions(gated, neighbourhood, self.gate)

    def _route(
        self, clusters: list[Cluster], rules: list[Rule], facts: dict[str, _LogFacts], experiences: list[Experience]
    ) -> list[Cluster]:
        sources = {log_id for e in experiences for log_id in e.source_log_ids}
        rules_of_cluster = _rules_by_cluster(clusters, rules)
        routed = []
        for cluster in clusters:
            members = set(cluster.member_log_ids)
            cluster_rules = rules_of_cluster.get(cluster.id, [])
            verdicts = {m: facts[m].verdict for m in members}
            decided = route_cluster(
                cluster, cluster_rules, verdicts, self.gate, has_experiences=bool(members & sources)
            )
            routed.append(decided.model_copy(update={"route": Route.NONE}) if cluster.blocked else decided)
        return routed

    def _write_results(
        self,
        ns: str,
        rules: list[Rule],
        clusters: list[Cluster],
        old: list[Cluster],
        experiences: list[Experience],
        cluster_of_log: dict[str, str],
        *,
        before: Sequence[Rule] = (),
    ) -> None:
        """Rules, clusters and the cluster of every experience, pair and hindsight example, in one transaction."""
        scope = Scope(namespace=ns)
        with self.store.transaction():
            self.store.upsert_rules(rules)
            self.store.add_rule_changes(_changes({r.id: r for r in before}, rules, actor="gate"))
            self.store.delete_clusters([c.id for c in old if c.id not in {n.id for n in clusters}])
            self.store.upsert_clusters(clusters)
            self.store.upsert_experiences(experiences)
            self.store.upsert_preference_pairs(
                p.model_copy(update={"cluster_id": cluster_of_log.get(p.source_log_id)})
                for p in self.store.list_preference_pairs(scope)
            )
            self.store.upsert_hindsight(
                h.model_copy(update={"cluster_id": cluster_of_log.get(h.source_log_id)})
                for h in self.store.list_hindsight(scope)
            )
            self.store.set_meta(_generation_key(ns), f"{datetime.now(UTC).isoformat()}/{os.getpid()}/{id(self)}")

    # --- read model

    def _make_view(
        self,
        clusters: list[Cluster],
        rules: list[Rule],
        qvec: dict[str, Vectors],
        rule_vec: dict[str, Vectors],
        experiences: list[Experience],
    ) -> _NamespaceView:
        from uno.index import FaissIndex

        dim = self.embedder.dimension
        active = {r.id: r for r in rules if r.status is RuleStatus.ACTIVE}
        view = _NamespaceView(
            clusters={c.id: c for c in clusters},
            rules=active,
            rule_vectors={i: rule_vec[i] for i in active if i in rule_vec},
        )
        view.centroid_index = FaissIndex(dim)
        if clusters:
            view.centroid_index.upsert(
                [c.id for c in clusters],
                np.stack([np.asarray(c.centroid, dtype=np.float32) for c in clusters]),
            )
        _link(view, clusters, list(active.values()), experiences, self.gate)
        self._link_manual(view, list(active.values()))
        learnt_logs = sorted(i for i in view.rules_by_log if i in qvec)
        vectors = np.stack([qvec[i] for i in learnt_logs]) if learnt_logs else np.zeros((0, dim), np.float32)
        view.log_index = learnt_log_index(learnt_logs, vectors, dim, self.compact_logs_above)
        view.rule_index = FaissIndex(dim)
        if active:
            view.rule_index.upsert(list(active), np.stack([rule_vec[i] for i in active]))
        return view

    def _index_name(self, ns: str, kind: str) -> str:
        return f"{stable_hash(ns, length=12)}.{kind}"

    def _generation_file(self, ns: str) -> Path:
        return self.paths.index_dir / f"{stable_hash(ns, length=12)}.generation"

    def _save_view(self, ns: str) -> None:
        """Write the FAISS files, then (atomically) which build generation they belong to."""
        view = self._views[ns]
        for kind, index in (("centroids", view.centroid_index), ("rules", view.rule_index)):
            if index is not None:
                index.save(self.paths.index_dir, self._index_name(ns, kind))
        if view.log_index is not None:
            save_log_index(view.log_index, self.paths.index_dir, self._index_name(ns, "logs"))
        marker = self._generation_file(ns)
        scratch = marker.with_suffix(f".tmp{os.getpid()}")
        scratch.write_text(view.generation or "", encoding="utf-8")
        os.replace(scratch, marker)

    def _view(self, ns: str) -> _NamespaceView:
        """The current read model; reloaded when another process (or instance) has built since."""
        view = self._views.get(ns)
        now = time.monotonic()
        if view is not None and now - view.checked_at < self.reload_interval:
            return view
        with self._write_lock:
            view = self._views.get(ns)
            current = self.store.get_meta(_generation_key(ns))
            if view is None or view.generation != current:
                view = self._load_view(ns, current)
                self._views[ns] = view
            view.checked_at = now
        return view

    def _load_view(self, ns: str, generation: str | None) -> _NamespaceView:
        """Rebuild the read model from the store and the saved FAISS files (no embedding when they are current)."""
        from uno.index import FaissIndex

        scope = Scope(namespace=ns)
        clusters = self.store.list_clusters(scope)
        rules = self.store.list_rules(scope, status=RuleStatus.ACTIVE)
        experiences = self.store.list_experiences(scope)
        marker = self._generation_file(ns)
        saved = marker.read_text(encoding="utf-8") if marker.exists() else None
        indexes = {
            kind: FaissIndex.load(self.paths.index_dir, self._index_name(ns, kind)) for kind in ("centroids", "rules")
        }
        log_index = load_log_index(self.paths.index_dir, self._index_name(ns, "logs"))
        if generation is None or saved != generation or log_index is None or any(i is None for i in indexes.values()):
            facts = self._log_facts(ns, rules)
            learnt = sorted(i for i, f in facts.items() if f.rule_ids)
            vectors = self._embed_map([facts[i].log.query for i in learnt])
            qvec = dict(zip(learnt, vectors, strict=True))
            view = self._make_view(clusters, rules, qvec, self._rule_vectors(rules), experiences)
            view.adapters_by_cluster = self._accepted_adapters(ns)
            view.generation = generation
            self._views[ns] = view
            if generation is not None:
                self._save_view(ns)
            return view
        view = _NamespaceView(
            clusters={c.id: c for c in clusters},
            centroid_index=indexes["centroids"],
            log_index=log_index,
            rule_index=indexes["rules"],
            rules={r.id: r for r in rules},
            rule_vectors=self._rule_vectors(rules),
            adapters_by_cluster=self._accepted_adapters(ns),
            generation=generation,
        )
        _link(view, clusters, rules, experiences, self.gate)
        self._link_manual(view, rules)
        return view

    def _link_manual(self, view: _NamespaceView, rules: Sequence[Rule]) -> None:
        """Rules added by hand cite no log: they join the cluster their ``when`` falls in (if it passes that
        cluster's cutoff), and are offered to any query that reads like their ``when``."""
        manual = [r for r in rules if r.manual and r.status is RuleStatus.ACTIVE]
        if not manual:
            return
        vectors = self._embed_map([r.when for r in manual])
        blocked = {c.id for c in view.clusters.values() if c.blocked}
        for rule, vector in zip(manual, vectors, strict=True):
            view.manual_when[rule.id] = vector
            if view.centroid_index is None or len(view.centroid_index) == 0:
                continue
            cluster_id, sim = view.centroid_index.search(vector[None, :], 1)[0][0]
            cluster = view.clusters.get(cluster_id)
            if cluster is not None and cluster_id not in blocked and sim >= cluster.min_similarity:
                members = view.rules_by_cluster.setdefault(cluster_id, [])
                if rule.id not in members:
                    members.append(rule.id)

    def _accepted_adapters(self, ns: str) -> dict[str, list[Adapter]]:
        out: dict[str, list[Adapter]] = {}
        for adapter in self.store.list_adapters(Scope(namespace=ns), status=AdapterStatus.ACCEPTED):
            if adapter.path:
                out.setdefault(adapter.cluster_id, []).append(adapter)
        return {k: sorted(v, key=lambda a: -a.version) for k, v in out.items()}

    # --- reads

    def augment(
        self,
        query: str,
        *,
        user_id: str | None = None,
        namespace: str | None = None,
        system_prompt: str | None = None,
        explain: bool = False,
        budget_tokens: int | None = None,
        max_rules: int = 8,
        base_model: str | None = None,
        bandit: StrategyBandit | FixedStrategy | None = None,
    ) -> Augmentation:
        """Messages for ``query`` with what was learnt from similar conversations, quoted as data.

        No LLM call and no model load after the first. A query like nothing learnt gets its messages unchanged.
        With ``user_id``, rules learnt from a single other user's feedback are not shown (their personal taste),
        and provenance lists only that user's own logs. When the query's cluster has an accepted LoRA adapter
        (see :meth:`train`), ``Augmentation.adapter`` names it; ``base_model`` limits that to adapters of one base.
        With a ``bandit`` (:meth:`strategy_bandit`), it picks how the cluster's material is used (none / rules /
        reflective / adapter) and ``Augmentation.strategy`` says which and why.
        """
        view = self._view(self._ns(namespace))
        vector = self._embed_map([query])[0]
        notes: list[str] = []
        matched = self._match_clusters(view, vector, notes)
        candidates = self._candidate_rules(view, vector, matched, user_id, notes)
        ranked = sorted(candidates.values(), key=lambda c: (-c.score, c.rule.id))
        kept = self._dedupe(view, ranked, notes, limit=max_rules)
        full = self._full_rules(self._ns(namespace), [c.rule.id for c in kept]) if explain else {}
        chosen = [_injected(c, view.summaries[c.rule.id], user_id, explain, full.get(c.rule.id)) for c in kept]
        route, cluster_id, similarity = Route.NONE, None, None
        if matched:
            top, similarity = matched[0]
            cluster_id, route = top.id, top.route
        elif chosen:
            route = Route.PRIMARY
        adapter = _adapter_route(view, matched[0][0], base_model, notes) if matched else None
        plan = self._plan(view, cluster_id) if cluster_id and (route is Route.REFLECTIVE or bandit) else None
        strategy = None
        if bandit is not None:
            strategy, chosen, plan, route, adapter = _choose_strategy(bandit, cluster_id, chosen, plan, route, adapter)
        injected, block, tokens = fit_budget_counted(chosen, budget_tokens or self.budget_tokens, plan)
        if len(injected) < len(chosen):
            notes.append(f"token budget kept {len(injected)} of {len(chosen)} rules")
        if not injected and plan is not None and plan.failure_modes:
            # A reflective cluster may have experiences but no rule worth injecting: the plan alone still helps.
            block = render_block([], plan)
            tokens = count_tokens(block)
            if tokens > (budget_tokens or self.budget_tokens):
                block, tokens = "", 0
        if not block:
            route, plan = Route.NONE, None
        return Augmentation(
            query=query,
            messages=build_messages(query, block, system_prompt),
            rules=injected,
            route=route,
            cluster_id=cluster_id,
            cluster_similarity=similarity,
            tokens=tokens,
            plan=plan,
            adapter=adapter,
            explanation=notes if explain else None,
            strategy=strategy,
        )

    def _match_clusters(self, view: _NamespaceView, vector: Vectors, notes: list[str]) -> list[tuple[Cluster, float]]:
        if view.centroid_index is None or len(view.centroid_index) == 0:
            notes.append("no clusters learnt yet")
            return []
        hits = view.centroid_index.search(vector[None, :], self.match_top)[0]
        passing = []
        for cluster_id, sim in hits:
            cluster = view.clusters.get(cluster_id)
            if cluster is None:
                continue
            ok = sim >= cluster.min_similarity
            notes.append(
                f"cluster {cluster_id} ({cluster.route.value}): similarity {sim:.3f}, "
                f"cutoff {cluster.min_similarity:.3f} -> {'match' if ok else 'out of distribution'}"
            )
            if ok:
                passing.append((cluster, sim))
        if passing:
            best = passing[0][1]
            passing = [(c, s) for c, s in passing if s >= best - self.match_tolerance]
        return passing

    def _candidate_rules(
        self,
        view: _NamespaceView,
        vector: Vectors,
        matched: list[tuple[Cluster, float]],
        user_id: str | None,
        notes: list[str],
    ) -> dict[str, _Candidate]:
        """Visible active rules of the matched clusters and of the nearest learnt logs, each at its best score."""
        found: dict[str, _Candidate] = {}

        def offer(rule_id: str, sim: float, cluster_id: str | None, why: str) -> None:
            rule = view.rules.get(rule_id)
            if rule is None or not view.summaries[rule_id].visible_to(user_id):
                return
            score = round(sim * (0.5 + 0.5 * rule.confidence), 4)
            if rule_id not in found or found[rule_id].score < score:
                found[rule_id] = _Candidate(rule, score, cluster_id, sim, why)

        for cluster, sim in matched:
            for rule_id in view.rules_by_cluster.get(cluster.id, []):
                offer(rule_id, sim, cluster.id, "in matched cluster")
        if user_id is not None:
            for rule_id in view.personal_by_user.get(user_id, []):
                offer(rule_id, PERSONAL_SIMILARITY, view.rules[rule_id].cluster_id, "your own stated preference")
        for rule_id, when in view.manual_when.items():
            sim = float(when @ vector)
            if sim >= self.log_similarity:
                offer(rule_id, sim, view.rules[rule_id].cluster_id, "added by hand for requests like this")
        if view.log_index is not None and len(view.log_index) > 0:
            for log_id, sim in view.log_index.search(vector[None, :], 5)[0]:
                if sim < self.log_similarity:
                    continue
                for rule_id in view.rules_by_log.get(log_id, []):
                    offer(rule_id, sim * 0.95, view.rules[rule_id].cluster_id, "learnt from a log asking alike")
        if not found:
            notes.append("no active rule is relevant")
        return found

    def _dedupe(
        self, view: _NamespaceView, ranked: list[_Candidate], notes: list[str], *, limit: int
    ) -> list[_Candidate]:
        """Best first: no two rules on one aspect (or contradicting ones), no near-paraphrases, at most ``limit``."""
        kept: list[_Candidate] = []
        vectors: list[Vectors] = []
        for candidate in ranked:
            if len(kept) == limit:
                break
            rule = candidate.rule
            clash = next(
                (
                    k.rule
                    for k in kept
                    if rule.aspect and (k.rule.aspect == rule.aspect or contradicts(k.rule.aspect, rule.aspect))
                ),
                None,
            )
            if clash is not None:
                notes.append(f"skipped {rule.id}: {clash.id} on {clash.aspect} ranks higher")
                continue
            vec = view.rule_vectors.get(rule.id)
            if vec is not None and any(float(vec @ v) >= 0.9 for v in vectors):
                notes.append(f"skipped {rule.id}: paraphrase of a rule already chosen")
                continue
            kept.append(candidate)
            if vec is not None:
                vectors.append(vec)
        return kept

    def _plan(self, view: _NamespaceView, cluster_id: str) -> ReflectivePlan:
        experiences = view.experiences_by_cluster.get(cluster_id, [])[:5]
        return ReflectivePlan(
            cluster_id=cluster_id,
            failure_modes=sorted({e.failure_mode for e in experiences})[:5],
            critique_checklist=[e.revision_guidance for e in experiences][:5],
            experience_ids=[e.id for e in experiences],
        )

    def search(
        self, query: str, *, k: int = 10, namespace: str | None = None, user_id: str | None = None
    ) -> list[SearchHit]:
        """Active rules whose instruction is closest to ``query`` (semantic search over the rule index)."""
        if not query.strip():
            raise ValueError("search needs a non-empty query")
        if k < 1:
            raise ValueError(f"search needs k >= 1, got {k}")
        view = self._view(self._ns(namespace))
        if view.rule_index is None or len(view.rule_index) == 0:
            return []
        vector = self._embed_map([query])[0][None, :]
        size = len(view.rule_index)
        wanted = k
        while True:
            # Rules hidden from this user (others' personal ones) are dropped after the nearest-neighbour search:
            # ask for more until k are visible or the index is exhausted.
            hits = view.rule_index.search(vector, min(wanted, size))[0]
            shown = [(i, s) for i, s in hits if i in view.rules and view.summaries[i].visible_to(user_id)]
            if len(shown) >= k or wanted >= size:
                break
            wanted = min(size, wanted * 4)
        shown = shown[:k]
        # A hit is returned whole, with its evidence: the view keeps rules without it, the store has it.
        full = self._full_rules(self._ns(namespace), [i for i, _ in shown])
        return [SearchHit(rule=full.get(i, view.rules[i]), score=round(s, 4)) for i, s in shown]

    def _full_rules(self, ns: str, rule_ids: Sequence[str]) -> dict[str, Rule]:
        """These rules with their evidence, from the store (only for ``explain`` and ``search``)."""
        return {r.id: r for r in self.store.get_rules(list(rule_ids), Scope(namespace=ns))} if rule_ids else {}

    def rules(
        self, *, namespace: str | None = None, status: RuleStatus | None = None, user_id: str | None = None
    ) -> list[Rule]:
        return self.store.list_rules(Scope(namespace=self._ns(namespace), user_id=user_id), status=status)

    def stats(self, *, namespace: str | None = None) -> dict[str, Any]:
        ns = self._ns(namespace)
        counts: dict[str, Any] = dict(self.store.stats(Scope(namespace=ns)))
        clusters = self.store.list_clusters(Scope(namespace=ns))
        counts["clusters_by_route"] = _count(c.route.value for c in clusters)
        edited = counts.get("logs_edited", 0)
        counts["edit_cost_mean"] = round(counts.get("edit_cost_total", 0) / edited, 2) if edited else None
        counts["namespace"] = ns
        return counts

    # --- managing memory by hand (every change is recorded in the rule's history, with who made it)

    def get_rule(self, rule_id: str, *, namespace: str | None = None) -> Rule:
        """One rule of the namespace; ``KeyError`` when there is none."""
        ns = self._ns(namespace)
        found = self.store.get_rules([rule_id], Scope(namespace=ns))
        if not found:
            raise KeyError(f"no rule {rule_id!r} in namespace {ns!r}")
        return found[0]

    def add_rule(
        self,
        when: str,
        do: str,
        *,
        polarity: Polarity | str = Polarity.DO,
        aspect: str | None = None,
        rationale: str = "",
        pinned: bool = True,
        by: str = "user",
        namespace: str | None = None,
    ) -> Rule:
        """Add a rule by hand ("when <situation>: <do>"), active at once and shared by the whole namespace.

        It needs no evidence, and no build retires, supersedes, rewrites or drops it (``build(full=True)`` and
        ``forget`` included); it supersedes learnt rules it contradicts. Raises :class:`RuleExistsError` when the
        namespace already has a rule with this instruction (edit or pin that one instead).
        """
        ns = self._ns(namespace)
        rule = Rule(
            namespace=ns,
            when=_text(when, "when"),
            do=_text(do, "do"),
            polarity=Polarity(polarity),
            aspect=aspect or None,
            rationale=rationale,
            confidence=1.0,
            status=RuleStatus.ACTIVE,
            status_reason=f"{MANUAL_PREFIX} added by {by}",
            manual=True,
            pinned=pinned,
            edited=False,
        )
        with self._write_lock:
            # Rule ids hash the namespace too: a rule of another namespace never clashes (nor is probed) here.
            if self.store.get_rules([rule.id], Scope(namespace=ns)):
                raise RuleExistsError(
                    f"rule {rule.id!r} already says this: edit, pin or restore it instead of adding it again"
                )
            with self.store.transaction():
                self.store.upsert_rules([rule])
                self.store.add_rule_changes([_change(rule, RuleChangeAction.CREATED, by, before={})])
            self._refresh(ns, recluster=False)
        return self.get_rule(rule.id, namespace=ns)

    def edit_rule(
        self,
        rule_id: str,
        *,
        when: str | None = None,
        do: str | None = None,
        polarity: Polarity | str | None = None,
        aspect: str | None = None,
        rationale: str | None = None,
        by: str = "user",
        namespace: str | None = None,
    ) -> Rule:
        """Change a rule's text or fields (``None`` leaves a field as it is; ``aspect=""`` clears it).

        Its id and evidence stay; later builds no longer rewrite its text.
        """
        update: dict[str, Any] = {}
        if when is not None:
            update["when"] = _text(when, "when")
        if do is not None:
            update["do"] = _text(do, "do")
        if polarity is not None:
            update["polarity"] = Polarity(polarity)
        if aspect is not None:
            update["aspect"] = aspect or None
        if rationale is not None:
            update["rationale"] = rationale
        if not update:
            raise ValueError("edit_rule: give at least one of when, do, polarity, aspect, rationale")
        return self._change_rule(rule_id, {**update, "edited": True}, RuleChangeAction.EDITED, by, namespace)

    def retire_rule(
        self, rule_id: str, *, reason: str = "", by: str | None = None, namespace: str | None = None
    ) -> Rule:
        """Retire a rule by hand (``by`` says who or through what): no longer injected; builds keep it so."""
        how = f" by {by}" if by else ""
        status_reason = f"{MANUAL_PREFIX} retired{how}" + (f": {reason}" if reason else "")
        update = {"status": RuleStatus.RETIRED, "status_reason": status_reason, "superseded_by": None}
        return self._change_rule(rule_id, update, RuleChangeAction.RETIRED, by or "user", namespace, note=reason)

    def restore_rule(self, rule_id: str, *, by: str = "user", namespace: str | None = None) -> Rule:
        """Undo a retirement (or a supersession): a rule added or pinned by hand is active again; a learnt one goes
        back to the gate, which decides its status on the spot as a build would."""
        current = self.get_rule(rule_id, namespace=namespace)
        if current.held:
            update: dict[str, Any] = {
                "status": RuleStatus.ACTIVE,
                "status_reason": f"{MANUAL_PREFIX} restored by {by}",
                "superseded_by": None,
            }
        else:
            update = {"status": RuleStatus.CANDIDATE, "status_reason": f"restored by {by}", "superseded_by": None}
        return self._change_rule(rule_id, update, RuleChangeAction.RESTORED, by, namespace)

    def pin_rule(self, rule_id: str, *, by: str = "user", namespace: str | None = None) -> Rule:
        """Hold a rule active: builds no longer change its status or text (a learnt rule still goes when every
        log it came from is forgotten)."""
        update = {
            "pinned": True,
            "status": RuleStatus.ACTIVE,
            "status_reason": f"{MANUAL_PREFIX} pinned by {by}",
            "superseded_by": None,
        }
        return self._change_rule(rule_id, update, RuleChangeAction.PINNED, by, namespace)

    def unpin_rule(self, rule_id: str, *, by: str = "user", namespace: str | None = None) -> Rule:
        """Release a pin: a learnt rule goes back to the gate; a rule added by hand stays active (it is still
        the namespace's own)."""
        current = self.get_rule(rule_id, namespace=namespace)
        update: dict[str, Any] = {"pinned": False}
        if not current.manual:
            update |= {"status": RuleStatus.CANDIDATE, "status_reason": f"unpinned by {by}"}
        return self._change_rule(rule_id, update, RuleChangeAction.UNPINNED, by, namespace)

    def delete_rule(self, rule_id: str, *, reason: str = "", by: str = "user", namespace: str | None = None) -> Rule:
        """Delete a rule for good, with its provenance and history; it vanishes from augment and search at once.

        One history entry stays: who deleted it and when (not what it said). A build may learn the same
        instruction again from its logs; retire it instead to keep it off for good. Returns the deleted rule.
        """
        ns = self._ns(namespace)
        with self._write_lock:
            rule = self.get_rule(rule_id, namespace=ns)
            with self.store.transaction():
                self.store.delete_rules([rule_id])
                self.store.add_rule_changes([_tombstone(ns, rule_id, by, reason)])
            self._refresh(ns, recluster=False)
        return rule

    def rule_history(self, rule_id: str, *, namespace: str | None = None) -> list[RuleChange]:
        """Every recorded change of a rule, oldest first; ``KeyError`` when the namespace never had it."""
        ns = self._ns(namespace)
        history = self.store.rule_history(rule_id, Scope(namespace=ns))
        if not history and not self.store.get_rules([rule_id], Scope(namespace=ns)):
            raise KeyError(f"no rule {rule_id!r} in namespace {ns!r}")
        return history

    def _change_rule(
        self,
        rule_id: str,
        update: dict[str, Any],
        action: RuleChangeAction,
        by: str,
        namespace: str | None,
        *,
        note: str = "",
    ) -> Rule:
        """Apply a change made by hand, record it, and re-gate and re-index the namespace."""
        ns = self._ns(namespace)
        with self._write_lock:
            before = self.get_rule(rule_id, namespace=ns)
            after = Rule.model_validate({**before.model_dump(), **update, "updated_at": datetime.now(UTC)})
            with self.store.transaction():
                self.store.upsert_rules([after])
                self.store.add_rule_changes([_change(after, action, by, previous=before, note=note)])
            self._refresh(ns, recluster=False)
        return self.get_rule(rule_id, namespace=ns)

    # --- logs

    def get_log(self, log_id: str, *, namespace: str | None = None) -> LogRecord:
        """One stored log; ``KeyError`` when the namespace has none with this id."""
        ns = self._ns(namespace)
        found = self.store.get_logs([log_id], Scope(namespace=ns))
        if not found:
            raise KeyError(f"no log {log_id!r} in namespace {ns!r}")
        return found[0]

    def logs(
        self,
        *,
        namespace: str | None = None,
        user_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[LogRecord]:
        """Stored logs, oldest first, ``limit`` of them from ``offset`` (``count_logs`` gives the total)."""
        if limit < 1 or offset < 0:
            raise ValueError(f"logs: limit must be >= 1 and offset >= 0 (got {limit}, {offset})")
        scope = Scope(namespace=self._ns(namespace), user_id=user_id)
        return list(islice(self.store.iter_logs(scope), offset, offset + limit))

    def count_logs(self, *, namespace: str | None = None, user_id: str | None = None) -> int:
        return self.store.count_logs(Scope(namespace=self._ns(namespace), user_id=user_id))

    # --- export / import, backup / restore

    def export_records(self, *, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """The namespace as JSON-ready lines: its logs (with whether a build saw them), rules (manual edits, pins
        and retirements included), verdicts and rule history. :meth:`import_records` reads them back."""
        scope = Scope(namespace=self._ns(namespace))
        processed = {log.id for log in self.store.iter_logs(scope, processed=True)}
        for log in self.store.iter_logs(scope):
            yield {"type": "log", "processed": log.id in processed, "record": log.model_dump(mode="json")}
        rules = self.store.list_rules(scope)
        for rule in rules:
            yield {"type": "rule", "record": rule.model_dump(mode="json")}
        for verdict in self.store.list_verdicts(scope):
            yield {"type": "verdict", "record": verdict.model_dump(mode="json")}
        for rule in rules:
            for change in self.store.rule_history(rule.id, scope):
                yield {"type": "rule_change", "record": change.model_dump(mode="json")}

    def import_records(
        self, lines: Iterable[dict[str, Any]], *, namespace: str | None = None, by: str = "import"
    ) -> ImportReport:
        """Read back what :meth:`export_records` wrote (into this namespace), then re-cluster and re-index.

        All or nothing: when any line is invalid, nothing is stored and ``InvalidImport`` lists each bad line.
        """
        ns = self._ns(namespace)
        parsed = _parse_export(lines, ns)
        report = ImportReport(namespace=ns)
        with self._write_lock:
            with self.store.transaction():
                added = self.store.add_logs(parsed.logs)
                self.store.mark_processed([log.id for log in parsed.logs if log.id in parsed.processed])
                self.store.upsert_rules(parsed.rules)
                self.store.upsert_verdicts(parsed.verdicts)
                self.store.add_rule_changes(parsed.changes)
                self.store.add_rule_changes(
                    _change(r, RuleChangeAction.IMPORTED, by, before={}, after={}) for r in parsed.rules
                )
            report.logs, report.duplicate_logs = len(added.inserted), len(added.duplicates)
            report.rules, report.verdicts, report.rule_changes = (
                len(parsed.rules),
                len(parsed.verdicts),
                len(parsed.changes),
            )
            if parsed.rules or added.inserted:
                self._refresh(ns, recluster=True)
        return report

    def backup(self, destination: str | os.PathLike[str]) -> Path:
        """Copy the whole store (every namespace) to one SQLite file, online: serving may go on meanwhile."""
        backup = getattr(self.store, "backup", None)
        if not callable(backup):
            raise TypeError(f"{type(self.store).__name__} has no backup(): back up its database with its own tools")
        target: Path = backup(destination)
        return target

    def restore(self, source: str | os.PathLike[str]) -> None:
        """Replace the whole store (every namespace) with a backup made by :meth:`backup`; the indexes follow."""
        restore = getattr(self.store, "restore", None)
        if not callable(restore):
            raise TypeError(f"{type(self.store).__name__} has no restore(): restore its database with its own tools")
        with self._write_lock:
            restore(source)
            self._views.clear()

    # --- forget

    def forget(
        self,
        *,
        user_id: str | None = None,
        log_ids: Sequence[str] | None = None,
        namespace: str | None = None,
    ) -> ForgetReport:
        """Delete logs (a user's, or by id) and everything derived only from them; re-score what remains."""
        if user_id is None and not log_ids:
            raise ValueError("forget needs user_id or log_ids (there is deliberately no 'forget everything')")
        ns = self._ns(namespace)
        report = ForgetReport(namespace=ns)
        with self._write_lock:
            scope = Scope(namespace=ns)
            targets = set(log_ids or [])
            if user_id is not None:
                targets |= set(self.store.log_ids_for_user(user_id, ns))
            targets = {log.id for log in self.store.get_logs(sorted(targets), scope)}
            if not targets:
                return report
            forgotten = self.store.get_logs(sorted(targets), scope)
            forgotten_texts = [log.query for log in forgotten]
            with self.store.transaction():
                self._forget_derived(ns, targets, report)
                report.reaction_model_staled = _stale_reaction_model(self.store, ns, targets)
                for log in forgotten:  # the strategy bandit forgets the rewards these answers gave
                    credit_feedback(self.store, ns, log, None)
                report.logs_deleted = len(self.store.delete_logs(sorted(targets), scope))
            self._forget_embeddings(forgotten_texts)
            self._forget_llm_cache(sorted(targets))
            self._refresh(ns, recluster=False)
        return report

    def _forget_derived(self, ns: str, targets: set[str], report: ForgetReport) -> None:
        scope = Scope(namespace=ns)
        affected = self.store.get_rules(self.store.rule_ids_for_logs(sorted(targets)), scope)
        keep: list[Rule] = []
        drop: list[str] = []
        for rule in affected:
            remaining = [e for e in rule.evidence if e.log_id not in targets]
            if remaining or rule.manual:
                keep.append(rule.model_copy(update={"evidence": remaining}))
            else:
                drop.append(rule.id)
        self.store.delete_rules(drop)
        # Earlier history entries may quote what the forgotten logs said (a rule's first 'when'): they go too.
        self.store.delete_rule_history([r.id for r in keep])
        self.store.upsert_rules(keep)
        note = "evidence from forgotten logs removed, and the history that may quote them"
        self.store.add_rule_changes(
            [
                *(_change(r, RuleChangeAction.UPDATED, "forget", note=note, before={}, after={}) for r in keep),
                *(_tombstone(ns, i, "forget", "every source log was forgotten") for i in drop),
            ]
        )
        report.rules_deleted, report.rules_rescored = len(drop), len(keep)
        exp_drop, exp_keep = [], []
        for exp in self.store.list_experiences(scope):
            left = [i for i in exp.source_log_ids if i not in targets]
            if len(left) < len(exp.source_log_ids):
                (exp_keep.append(exp.model_copy(update={"source_log_ids": left})) if left else exp_drop.append(exp.id))
        self.store.delete_experiences(exp_drop)
        self.store.upsert_experiences(exp_keep)
        report.experiences_deleted = len(exp_drop)
        pairs = [p.id for p in self.store.list_preference_pairs(scope) if p.source_log_id in targets]
        self.store.delete_preference_pairs(pairs)
        report.preference_pairs_deleted = len(pairs)
        hind = [h.id for h in self.store.list_hindsight(scope) if h.source_log_id in targets]
        self.store.delete_hindsight(hind)
        report.hindsight_deleted = len(hind)
        report.adapters_staled = self._stale_adapters(ns, targets)

    def _stale_adapters(self, ns: str, targets: set[str]) -> int:
        """Adapters trained on forgotten logs are never served again, and their weights are deleted: the weights
        may encode what was forgotten. The record stays, with the reason, as an audit trail."""
        import shutil

        staled = []
        for adapter in self.store.get_adapters(self.store.adapter_ids_for_logs(sorted(targets)), Scope(namespace=ns)):
            if adapter.status is AdapterStatus.STALE:
                continue
            if adapter.path:
                shutil.rmtree(Path(adapter.path).parent, ignore_errors=True)
            gone = len(set(adapter.source_log_ids) & targets)
            staled.append(
                adapter.model_copy(
                    update={
                        "status": AdapterStatus.STALE,
                        "status_reason": f"trained on {gone} forgotten log(s); weights deleted, retrain to replace",
                        "path": None,
                        "updated_at": datetime.now(UTC),
                    }
                )
            )
        self.store.upsert_adapters(staled)
        return len(staled)

    def _forget_llm_cache(self, log_ids: Sequence[str]) -> None:
        """Cached LLM replies quote the logs they were about: drop them with the logs."""
        from uno.ledger import ResponseCache, llm_db_path

        if llm_db_path(self.paths.root).exists():
            ResponseCache.for_store(self.paths.root).forget_sources(log_ids)

    def _forget_embeddings(self, texts: Sequence[str]) -> None:
        forget = getattr(self.embedder, "forget", None)
        if callable(forget):
            forget(list(texts))

    # --- training (optional: pip install 'uno-memory[train]')

    def train(
        self,
        base_model: str | os.PathLike[str],
        *,
        judge: LLM | None = None,
        namespace: str | None = None,
        clusters: Sequence[str] | None = None,
        kinds: Sequence[str] = ("expert", "critic"),
        config: TrainConfig | None = None,
        trainer: Trainer | None = None,
        force: bool = False,
    ) -> TrainReport:
        """Bake mature clusters into LoRA adapters for ``base_model`` and keep those that beat it on held-out logs.

        ``base_model``: a transformers checkpoint directory, a GGUF file, or "smollm2" (the bundled model). The
        held-out answers are judged by ``judge`` (default: this memory's ``llm``). Every outcome, trained or not, is
        in the report with its reason; accepted adapters are then reported by :meth:`augment` for their cluster.
        """
        from uno.train.bake import Baker, resolve_base_model
        from uno.train.config import TrainConfig

        chosen_judge = judge or self.llm
        if chosen_judge is None:
            raise ValueError("train needs a judge LLM for the validation gate: pass judge=... or UnoMemory(llm=...)")
        chosen_judge.bind_store(self.paths.root)
        ns = self._ns(namespace)
        baker = Baker(
            self.store,
            self.paths.root / "adapters",
            ns,
            base_model=resolve_base_model(base_model),
            judge=chosen_judge,
            config=config or TrainConfig(),
            trainer=trainer,
            progress=self.progress,
            reaction_model=self.reaction_model(namespace=ns),
        )
        with self._write_lock, calls_for_namespace(ns):
            report = baker.run(clusters, kinds=kinds, force=force)
            self.store.set_meta(_generation_key(ns), f"{datetime.now(UTC).isoformat()}/{os.getpid()}/{id(self)}/train")
            view = self._views.get(ns)
            if view is not None:
                view.adapters_by_cluster = self._accepted_adapters(ns)
                view.generation = self.store.get_meta(_generation_key(ns))
        return report

    def adapters(
        self, *, namespace: str | None = None, status: AdapterStatus | None = None, cluster_id: str | None = None
    ) -> list[Adapter]:
        """The adapter registry: every version trained in this namespace, with its status and reason."""
        return self.store.list_adapters(Scope(namespace=self._ns(namespace)), status=status, cluster_id=cluster_id)

    def strategy_bandit(
        self, *, namespace: str | None = None, explore: bool = True, seed: int | None = None
    ) -> StrategyBandit:
        """The namespace's per-cluster bandit over strategies (uno.bandit), for ``augment(bandit=...)``; feed it
        rewards with ``bandit.update(aug.cluster_id, aug.strategy.strategy, observed_reward(log))``."""
        from uno.bandit import StrategyBandit

        return StrategyBandit(self.store, self._ns(namespace), explore=explore, seed=seed)

    def reaction_model(self, *, namespace: str | None = None) -> ReactionModel | None:
        """The namespace's current reaction model (uno.reward), trained by ``build``; None until there is one."""
        from uno.reward import load_current

        return load_current(self.store, self._ns(namespace), self.embedder)

    # --- generation helpers (they call an LLM; augment never does)

    def respond(self, query: str, *, llm: LLM | None = None, **kwargs: Any) -> Any:
        """Answer ``query`` with an LLM: plain augmented generation for primary clusters, draft -> critique ->
        revise for reflective ones (see :func:`uno.reflect.respond`)."""
        from uno.reflect import respond

        chosen = llm or self.llm
        if chosen is None:
            raise ValueError("respond needs an LLM: pass llm=... here or to UnoMemory(llm=...)")
        with calls_for_namespace(self._ns(kwargs.get("namespace"))):
            return respond(self, query, chosen, **kwargs)

    def as_runnable(self, chat_model: Any, **kwargs: Any) -> Any:
        """A LangChain chat model that augments the input, calls ``chat_model`` and logs the exchange.

        Needs the ``[langchain]`` extra; without it this raises ``uno.extras.MissingExtraError`` naming the
        ``pip install`` that adds it."""
        from uno.extras import require

        require("langchain_core", extra="langchain", feature="UnoMemory.as_runnable")
        from uno.integrations.langchain import as_runnable

        return as_runnable(self, chat_model, **kwargs)

    # --- async twins

    async def aadd(self, log: LogRecord | dict[str, Any], *, namespace: str | None = None) -> str:
        return await asyncio.to_thread(self.add, log, namespace=namespace)

    async def aadd_many(
        self, logs: Iterable[LogRecord | dict[str, Any]], *, namespace: str | None = None
    ) -> AddOutcome:
        return await asyncio.to_thread(self.add_many, list(logs), namespace=namespace)

    async def abuild(
        self, *, full: bool = False, namespace: str | None = None, executor: str | Executor = "local"
    ) -> BuildReport:
        return await asyncio.to_thread(self.build, full=full, namespace=namespace, executor=executor)

    async def aaugment(self, query: str, **kwargs: Any) -> Augmentation:
        return await asyncio.to_thread(lambda: self.augment(query, **kwargs))

    async def asearch(self, query: str, **kwargs: Any) -> list[SearchHit]:
        return await asyncio.to_thread(lambda: self.search(query, **kwargs))

    async def aforget(self, **kwargs: Any) -> ForgetReport:
        return await asyncio.to_thread(lambda: self.forget(**kwargs))


@dataclass
class Rejection:
    """A record ``add_many`` refused: its position in the input, its id when it gave one, and why."""

    position: int
    log_id: str | None
    reason: str


@dataclass
class AddOutcome:
    """Which of the given logs were new, which were already stored, and which were refused (with why)."""

    result: AddResult
    # The id of each stored log (new or duplicate), in input order.
    ids: list[str]
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def inserted(self) -> list[str]:
        return self.result.inserted

    @property
    def duplicates(self) -> list[str]:
        return self.result.duplicates

    @property
    def inserted_or_duplicate(self) -> list[str]:
        return self.ids


# --- helpers


def _given_id(item: object) -> str | None:
    """The id a refused record names, if any (for the rejection report)."""
    if isinstance(item, LogRecord):
        return item.id
    if isinstance(item, dict):
        given = item.get("id")
        return str(given) if isinstance(given, str | int) and not isinstance(given, bool) else None
    return None


def _text(value: str, name: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"a rule's {name!r} must not be empty")
    return value.strip()


def _change(
    rule: Rule,
    action: RuleChangeAction,
    actor: str,
    *,
    previous: Rule | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> RuleChange:
    """A history entry for ``rule``; before/after default to the tracked fields that differ from ``previous``."""
    diff_before, diff_after = rule_diff(previous, rule)
    return RuleChange(
        rule_id=rule.id,
        namespace=rule.namespace,
        action=action,
        actor=actor,
        before=diff_before if before is None else before,
        after=diff_after if after is None else after,
        note=note[:1000],
    )


def _changes(previous: dict[str, Rule], rules: Iterable[Rule], *, actor: str) -> list[RuleChange]:
    """History entries for what a build or the gate changed: new rules, and tracked fields that moved."""
    out = []
    for rule in rules:
        old = previous.get(rule.id)
        if old is None:
            out.append(_change(rule, RuleChangeAction.CREATED, actor))
            continue
        before, after = rule_diff(old, rule)
        if before or after:
            action = RuleChangeAction.STATUS if "status" in after else RuleChangeAction.UPDATED
            out.append(_change(rule, action, actor, before=before, after=after))
    return out


def _tombstone(namespace: str, rule_id: str, actor: str, note: str = "") -> RuleChange:
    return RuleChange(
        rule_id=rule_id, namespace=namespace, action=RuleChangeAction.DELETED, actor=actor, note=note[:1000]
    )


@dataclass
class _ParsedExport:
    logs: list[LogRecord] = field(default_factory=list)
    processed: set[str] = field(default_factory=set)
    rules: list[Rule] = field(default_factory=list)
    verdicts: list[LogVerdict] = field(default_factory=list)
    changes: list[RuleChange] = field(default_factory=list)


_EXPORT_TYPES: dict[str, type[BaseModel]] = {
    "log": LogRecord,
    "rule": Rule,
    "verdict": LogVerdict,
    "rule_change": RuleChange,
}


def _parse_export(lines: Iterable[dict[str, Any]], namespace: str) -> _ParsedExport:
    """Validate every exported line (all of them, to report every problem), moved into ``namespace``."""
    parsed = _ParsedExport()
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        kind = line.get("type") if isinstance(line, dict) else None
        model = _EXPORT_TYPES.get(kind) if isinstance(kind, str) else None
        body = line.get("record") if isinstance(line, dict) else None
        if model is None or not isinstance(body, dict):
            problems.append((number, f"expected {{'type': one of {sorted(_EXPORT_TYPES)}, 'record': {{...}}}}"))
            continue
        moved = {**body, "namespace": namespace}
        if model is RuleChange:
            moved["id"] = ""  # derived again: a history entry's id includes its namespace
        try:
            record = model.model_validate(moved)
        except ValueError as error:
            problems.append((number, f"invalid {kind}: {' '.join(str(error).split())[:300]}"))
            continue
        if isinstance(record, LogRecord):
            parsed.logs.append(record)
            if line.get("processed") is True:
                parsed.processed.add(record.id)
        elif isinstance(record, Rule):
            parsed.rules.append(record)
        elif isinstance(record, LogVerdict):
            parsed.verdicts.append(record)
        elif isinstance(record, RuleChange):
            parsed.changes.append(record)
    if problems:
        raise InvalidImport(problems)
    return parsed


def _merge_evidence(rule: Rule, extra: Sequence[Evidence]) -> Rule:
    seen = {(e.log_id, e.quote) for e in rule.evidence}
    evidence = list(rule.evidence) + [e for e in extra if (e.log_id, e.quote) not in seen]
    return rule.model_copy(update={"evidence": evidence, "updated_at": datetime.now(UTC)})


def _labelled(
    clusters: Sequence[Cluster],
    facts: dict[str, _LogFacts],
    qvec: dict[str, Vectors],
    labeller: LLMClusterLabeller | None = None,
) -> list[Cluster]:
    """Describe each cluster by its most typical requests (those that taught it something first); with an LLM,
    by what they have in common (the offline description stands when the LLM fails)."""
    out = []
    for cluster in clusters:
        members = [m for m in cluster.member_log_ids if m in facts and m in qvec]
        learnt = [m for m in members if facts[m].rule_ids] or members
        if not learnt:
            out.append(cluster)
            continue
        vectors = np.stack([qvec[m] for m in learnt])
        queries = [facts[m].log.query for m in learnt]
        label = describe_requests(queries, vectors, [facts[m].log.user_id for m in learnt])
        if labeller is not None:
            order = np.argsort(-(vectors @ centroid(vectors)), kind="stable")
            label = labeller.describe([queries[int(i)] for i in order]) or label
        out.append(cluster.model_copy(update={"label": label}))
    return out


def _generalised(rules: Sequence[Rule], clusters: Sequence[Cluster], config: GateConfig) -> list[Rule]:
    """A shared rule applies to its cluster's kind of request, not to its first log's query.

    A personal rule keeps its own user's request: the cluster's description quotes other users' requests, which its
    one user must not be shown.
    """
    labels = {c.id: c.label for c in clusters}
    out = []
    for rule in rules:
        label = labels.get(rule.cluster_id or "")
        if label and not (rule.held or rule.edited) and rule.support >= 2 and is_shared(rule, config):
            rule = rule.model_copy(update={"when": label})
        out.append(rule)
    return out


def _blocked_if_harmful(cluster: Cluster, harmful_logs: dict[str, str], config: GateConfig) -> Cluster:
    """A cluster whose requests seek help with harm serves nothing: no rules, no reflective plan."""
    members = cluster.member_log_ids
    flagged = [m for m in members if m in harmful_logs]
    if not members or len(flagged) / len(members) < config.harmful_cluster_share:
        return cluster.model_copy(update={"blocked": ""})
    example = harmful_logs[flagged[0]]
    reason = f"{HARMFUL_PREFIX} {len(flagged)} of {len(members)} requests seek help with harm (e.g. {example})"
    return cluster.model_copy(update={"blocked": reason})


def _retire_harmful(rules: Sequence[Rule], clusters: Sequence[Cluster], harmful_logs: dict[str, str]) -> list[Rule]:
    """Retire every rule learnt in a blocked cluster or mostly from harmful requests, saying what blocked it."""
    blocked = {c.id: c.blocked for c in clusters if c.blocked}
    cluster_of_log = {m: c.id for c in clusters for m in c.member_log_ids}
    out = []
    for rule in rules:
        if held_by_hand(rule):
            out.append(rule)
            continue
        sources = rule.source_log_ids
        flagged = [i for i in sources if i in harmful_logs]
        homes = {cluster_of_log[i] for i in sources if cluster_of_log.get(i) in blocked}
        if homes:
            reason = f"{HARMFUL_PREFIX} learnt in a blocked cluster ({blocked[sorted(homes)[0]]})"
        elif sources and 2 * len(flagged) >= len(sources):
            example = harmful_logs[flagged[0]]
            reason = (
                f"{HARMFUL_PREFIX} {len(flagged)} of {len(sources)} source requests seek help with harm ({example})"
            )
        else:
            out.append(rule)
            continue
        out.append(rule.model_copy(update={"status": RuleStatus.RETIRED, "status_reason": reason}))
    return out


def _choose_strategy(
    bandit: StrategyBandit | FixedStrategy,
    cluster_id: str | None,
    chosen: list[InjectedRule],
    plan: ReflectivePlan | None,
    route: Route,
    adapter: AdapterRoute | None,
) -> tuple[StrategyChoice, list[InjectedRule], ReflectivePlan | None, Route, AdapterRoute | None]:
    """Let the bandit pick among what the cluster offers, and keep only what that strategy uses."""
    from uno.bandit import Strategy, available_strategies

    has_plan = plan is not None and bool(plan.failure_modes)
    choice = bandit.choose(cluster_id, available_strategies(bool(chosen), has_plan, adapter is not None))
    if choice.strategy is Strategy.NONE:
        return choice, [], None, Route.NONE, None
    if choice.strategy is Strategy.RULES:
        return choice, chosen, None, Route.PRIMARY, None
    if choice.strategy is Strategy.REFLECTIVE:
        return choice, chosen, plan, Route.REFLECTIVE, None
    return choice, chosen, plan if route is Route.REFLECTIVE else None, route, adapter


def _stale_reaction_model(store: RuleStore, ns: str, targets: set[str]) -> bool:
    from uno.reward import mark_stale

    return mark_stale(store, ns, targets)


def _generation_key(ns: str) -> str:
    return f"generation:{ns}"


def _rules_by_cluster(clusters: Sequence[Cluster], rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    """Each cluster's rules: those with evidence from at least one of its members (one pass over the evidence)."""
    cluster_of_log = {m: c.id for c in clusters for m in c.member_log_ids}
    out: dict[str, list[Rule]] = {}
    for rule in rules:
        for cluster_id in sorted({cluster_of_log[i] for i in rule.source_log_ids if i in cluster_of_log}):
            out.setdefault(cluster_id, []).append(rule)
    return out


def _link(
    view: _NamespaceView,
    clusters: Sequence[Cluster],
    rules: Sequence[Rule],
    experiences: Sequence[Experience],
    config: GateConfig,
) -> None:
    """Fill the read model's lookups: rules per cluster, per log and per user (personal), experiences per cluster.

    A blocked cluster (harmful requests) gets neither rules nor experiences, so it never yields a plan; nor does an
    experience whose text reads as an attack (a plan is shown to every user of its cluster).
    """
    blocked = {c.id for c in clusters if c.blocked}
    for cluster_id, members in _rules_by_cluster(clusters, rules).items():
        if cluster_id not in blocked:
            view.rules_by_cluster[cluster_id] = [r.id for r in members]
    for rule in rules:
        for log_id in rule.source_log_ids:
            view.rules_by_log.setdefault(log_id, []).append(rule.id)
        users = identified_users(rule)
        # Only a preference about the form of answers follows its user everywhere ("answer in French"); any
        # other personal rule applies where it was learnt (its cluster, logs asking alike). It keeps following
        # the users who taught it once others agree and it is shared: their own edits teach them at once.
        if split_aspect(rule.aspect)[0] in STYLE_FAMILIES:
            for user in sorted(users):
                view.personal_by_user.setdefault(user, []).append(rule.id)
    for exp in experiences:
        if exp.cluster_id and exp.cluster_id not in blocked and not _carries_attack(exp):
            view.experiences_by_cluster.setdefault(exp.cluster_id, []).append(exp)
    # Queries read the summaries, never the evidence: the view keeps neither evidence nor cluster members.
    view.summaries = summarise_rules(rules, config)
    view.rules = slim_rules(rules)
    view.clusters = {c.id: without_members(c) for c in clusters}


def _carries_attack(exp: Experience) -> bool:
    """Whether an experience's text reads as an attack: the reflective route quotes it to the critic of others."""
    return attack_reason(" ".join([exp.failure_mode, exp.critique, exp.revision_guidance])) is not None


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for value in values:
        out[value] = out.get(value, 0) + 1
    return dict(sorted(out.items()))


def _majority(cluster_of_log: dict[str, str], log_ids: Sequence[str]) -> str | None:
    votes = _count(cluster_of_log[i] for i in log_ids if i in cluster_of_log)
    return max(votes, key=lambda k: (votes[k], k)) if votes else None


def _home_clusters(clusters: Sequence[Cluster], rules: Sequence[Rule]) -> dict[str, str | None]:
    cluster_of_log = {m: c.id for c in clusters for m in c.member_log_ids}
    return {rule.id: _majority(cluster_of_log, rule.source_log_ids) for rule in rules}


def _evidence_logs(rules: Sequence[Rule]) -> list[str]:
    return sorted({log_id for r in rules for log_id in r.source_log_ids})


def _gap_context(log_ids: Iterable[str], facts: dict[str, _LogFacts]) -> GapContext:
    context = GapContext()
    for log_id in log_ids:
        fact = facts.get(log_id)
        if fact is None:
            continue
        context.responses[log_id] = fact.log.response
        context.queries[log_id] = fact.log.query
        if fact.verdict is Verdict.SATISFIED:
            context.satisfied.add(log_id)
    return context


def _mean_query(rule: Rule, qvec: dict[str, Vectors]) -> Vectors | None:
    vectors = [qvec[i] for i in rule.source_log_ids if i in qvec]
    return normalize(np.mean(vectors, axis=0)) if vectors else None


@dataclass(frozen=True)
class _Candidate:
    """A rule offered for a query, before dedup and budget decide whether it is injected."""

    rule: Rule
    score: float
    cluster_id: str | None
    similarity: float
    source: str


def _adapter_route(
    view: _NamespaceView, cluster: Cluster, base_model: str | None, notes: list[str]
) -> AdapterRoute | None:
    """The newest accepted adapter of the cluster's route kind (expert: primary, critic: reflective)."""
    kind = AdapterKind.CRITIC if cluster.route is Route.REFLECTIVE else AdapterKind.EXPERT
    for adapter in view.adapters_by_cluster.get(cluster.id, []):
        if adapter.kind is kind and (base_model is None or adapter.base_model == base_model):
            notes.append(f"adapter {adapter.name} ({kind.value}, version {adapter.version}) serves {cluster.id}")
            return AdapterRoute(
                adapter_id=adapter.id,
                name=adapter.name,
                kind=adapter.kind.value,
                cluster_id=adapter.cluster_id,
                version=adapter.version,
                base_model=adapter.base_model,
                path=adapter.path,
                win_rate=adapter.metrics.get("win_rate"),
            )
    return None


def _injected(
    candidate: _Candidate, summary: RuleSummary, user_id: str | None, explain: bool, full: Rule | None = None
) -> InjectedRule:
    """With ``full`` (the rule with its evidence, read only to explain), every source log is cited."""
    rule = candidate.rule
    provenance = full_provenance(full, user_id) if full is not None else summary.cited(user_id)
    why = (
        f"{candidate.source} (similarity {candidate.similarity:.3f}); {rule.status_reason}; "
        f"confidence {rule.confidence:.2f}"
    )
    return InjectedRule(
        rule_id=rule.id,
        text=rule.text,
        when=rule.when,
        do=rule.do,
        polarity=rule.polarity.value,
        aspect=rule.aspect,
        score=candidate.score,
        cluster_id=candidate.cluster_id,
        cluster_similarity=round(candidate.similarity, 4),
        support=rule.support,
        confidence=rule.confidence,
        novelty=rule.novelty,
        provenance=provenance,
        why=why if explain else None,
    )


__all__ = [
    "AddOutcome",
    "BuildReport",
    "ForgetReport",
    "ImportReport",
    "InvalidImport",
    "LogVerdict",
    "RuleExistsError",
    "SearchHit",
    "UnoMemory",
]
