"""Builds on a real local Ray (2 CPUs, one session for the module): the same rules and clusters as in-process."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import uno.embed
from rule_store.protocol import Scope
from uno import UnoMemory
from uno.cli import main
from uno.demo import sample_logs_path
from uno.distill.base import Distillation
from uno.distill.heuristic import HeuristicDistiller
from uno.embed import CachedEmbedder, HashingEmbedder, SentenceTransformerEmbedder
from uno.executor import RayExecutor, UnsendableError, embed_on

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def ray_session() -> Iterator[None]:
    """One local Ray for the module: builds with executor='ray' join it instead of starting their own."""
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        yield
    finally:
        ray.shutdown()


def sample_lines() -> list[str]:
    return sample_logs_path().read_text(encoding="utf-8").splitlines()


def dated(lines: list[str]) -> str:
    """The lines with a fixed time on every feedback event (else each store stamps them when it ingests them)."""
    out = []
    for line in lines:
        record = json.loads(line)
        for event in record.get("feedback", []):
            event.setdefault("timestamp", "2026-01-05T10:00:00Z")
        out.append(json.dumps(record))
    return "\n".join(out) + "\n"


def snapshot(memory: UnoMemory) -> dict[str, Any]:
    """What a build decided: every rule (text, status, evidence, cluster) and every cluster, without timestamps."""
    scope = Scope(namespace=memory.namespace)
    moments = {"created_at", "updated_at"}
    rules = [r.model_dump(mode="json", exclude=moments) for r in memory.store.list_rules(scope)]
    clusters = [c.model_dump(mode="json", exclude=moments) for c in memory.store.list_clusters(scope)]
    return {"rules": sorted(rules, key=lambda r: r["id"]), "clusters": sorted(clusters, key=lambda c: c["id"])}


def assert_same_build(local: dict[str, Any], on_ray: dict[str, Any]) -> None:
    # Exactly equal, floats included: the hashing embedder gives a text the same vector in any batch, on any worker.
    assert on_ray["rules"] == local["rules"]
    assert on_ray["clusters"] == local["clusters"]


def test_a_ray_build_learns_what_an_in_process_build_learns(tmp_path: Path) -> None:
    lines = sample_lines()
    first, later = tmp_path / "first.jsonl", tmp_path / "later.jsonl"
    first.write_text(dated(lines[:150]), encoding="utf-8")
    later.write_text(dated(lines[150:]), encoding="utf-8")
    snapshots: dict[str, list[dict[str, Any]]] = {}
    reports: dict[str, list[dict[str, Any]]] = {}
    executor = RayExecutor()  # joins the module's session; its workers serve both builds
    try:
        for where, runner in (("local", "local"), ("ray", executor)):
            with UnoMemory(tmp_path / where, embedder=CachedEmbedder(HashingEmbedder(384))) as memory:
                memory.ingest_file(first)
                first_build = memory.build(executor=runner)
                after_first = snapshot(memory)
                memory.ingest_file(later)  # the rest comes in: an incremental build
                later_build = memory.build(executor=runner)
                snapshots[where] = [after_first, snapshot(memory)]
                reports[where] = [r.model_dump(exclude={"seconds"}) for r in (first_build, later_build)]
    finally:
        executor.close()

    assert reports["ray"] == reports["local"]
    assert [r["distilled_logs"] for r in reports["local"]] == [150, 50]
    assert reports["local"][1]["rules_by_status"]["active"] > 0 and reports["local"][1]["clusters"] > 0
    for local, on_ray in zip(snapshots["local"], snapshots["ray"], strict=True):
        assert_same_build(local, on_ray)
    # One actor per CPU, created by the first build and reused by the second.
    assert executor.actors_created == 2


def test_uno_build_executor_ray_gives_the_in_process_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The hashing embedder keeps the test fast; the packaged model on workers is the next test's.
    monkeypatch.setattr(uno.embed, "default_embedder", lambda cache_path=None: CachedEmbedder(HashingEmbedder(384)))
    runner = CliRunner()
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    ingested = runner.invoke(main, ["--store", str(local), "ingest", "--no-progress", str(sample_logs_path())])
    assert ingested.exit_code == 0, ingested.output
    shutil.copytree(local, on_ray)  # the same logs, the same ids and feedback times

    outputs = {}
    for store, extra in ((local, []), (on_ray, ["--executor", "ray"])):
        built = runner.invoke(main, ["--store", str(store), "build", "--json", "--quiet", *extra])
        assert built.exit_code == 0, built.output
        outputs[store] = json.loads(built.stdout.strip().splitlines()[-1])

    assert outputs[local]["distilled_logs"] == outputs[on_ray]["distilled_logs"] == 200
    assert {k: v for k, v in outputs[on_ray].items() if k != "seconds"} == {
        k: v for k, v in outputs[local].items() if k != "seconds"
    }
    with UnoMemory(local) as a, UnoMemory(on_ray) as b:
        assert_same_build(snapshot(a), snapshot(b))
        query = "How do I water orchids?"
        assert [r.rule_id for r in b.augment(query).rules] == [r.rule_id for r in a.augment(query).rules]
    # The executor the spec made was closed with the build: the module's session is still up, with no actor left.
    assert ray.is_initialized()


def test_workers_load_the_model_once_and_the_driver_cache_keeps_their_vectors(tmp_path: Path) -> None:
    # The packaged model's vectors depend a little (~1e-7) on the other texts of the batch they are encoded in
    # (padding changes the float rounding), as they do in process between one call and chunks of 500.
    texts = [line[:200] for line in sample_lines()[:120]]
    cached = CachedEmbedder(SentenceTransformerEmbedder(), tmp_path / "embeddings.sqlite")
    executor = RayExecutor()
    seen: list[int] = []
    try:
        # One batch per call: one actor (a second one would load the model again on this small machine).
        first = embed_on(executor, cached, texts[:80], seen.append, batch_size=100)
        actors = executor.actors_created
        second = embed_on(executor, cached, texts[40:], seen.append, batch_size=100)  # half of it is cached
    finally:
        executor.close()
        cached.close()

    expected = SentenceTransformerEmbedder().embed(texts)
    np.testing.assert_allclose(first, expected[:80], atol=1e-5)
    np.testing.assert_allclose(second, expected[40:], atol=1e-5)
    assert actors == executor.actors_created == 1  # the second call reused the actor and its loaded model
    assert sum(seen) == 80 + 80


class LockedDistiller(HeuristicDistiller):
    """A distiller holding a lock: it cannot be pickled, so it cannot go to workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def distill_many(self, logs: Any) -> list[Distillation]:
        with self.lock:
            return super().distill_many(logs)


def test_a_distiller_that_cannot_reach_the_workers_is_named(tmp_path: Path) -> None:
    with UnoMemory(tmp_path, embedder=HashingEmbedder(), distiller=LockedDistiller()) as memory:
        memory.ingest_file(sample_logs_path())
        with pytest.raises(UnsendableError) as raised:
            memory.build(executor="ray")

        assert str(raised.value) == (
            "the distiller 'heuristic' cannot be sent to ray workers (cannot pickle '_thread.lock' object): "
            "build with executor='local', or give it state that pickles"
        )
        assert memory.rules() == []
        assert memory.count_logs() == 200
        assert len(list(memory.store.iter_logs(Scope(namespace=memory.namespace), processed=False))) == 200


def test_distillations_come_back_in_the_order_of_the_logs(tmp_path: Path) -> None:
    with UnoMemory(tmp_path, embedder=HashingEmbedder()) as memory:
        memory.ingest_file(sample_logs_path())
        logs = list(memory.store.iter_logs(Scope(namespace=memory.namespace)))[:60]
    executor = RayExecutor()
    try:
        parts = executor.map_batches(HeuristicDistiller().distill_many, logs, batch_size=7)
    finally:
        executor.close()

    assert [d.log_id for part in parts for d in part] == [log.id for log in logs]
    assert len(parts) == 9
