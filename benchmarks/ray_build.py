"""Builds on Ray against the in-process build (issue 14): ``python -m benchmarks.ray_build [options]``.

One run, on the same ``--logs`` simulator logs and the packaged embedder (all-MiniLM-L6-v2, each store with its
own fresh embedding cache): the first build in process, then on a local Ray instance with 1 worker and with 2.
Ray's start-up (``ray.init``) is timed apart from the build; the build time on Ray includes starting the worker
actors and loading the model in each of them, since every build on a fresh instance pays that. The driver loads
sentence-transformers once before anything is timed, so no build pays that import.

Each Ray build's rules (ids and statuses) and clusters (members) are compared with the in-process build's.
Writes ``ray_build.json`` and ``ray_build.md`` into ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from benchmarks.machine import describe_machine, load_average
from benchmarks.quality import QualityConfig, simulate
from rule_store.protocol import Scope
from rule_store.records import LogRecord
from uno.embed import SentenceTransformerEmbedder
from uno.executor import RayExecutor
from uno.memory import UnoMemory
from uno.progress import silence_library_bars

DEFAULT_OUT = Path(__file__).parent / "results"


def _decisions(memory: UnoMemory) -> dict[str, Any]:
    scope = Scope(namespace=memory.namespace)
    return {
        "rules": sorted((r.id, r.status.value) for r in memory.store.list_rules(scope)),
        "clusters": sorted(tuple(c.member_log_ids) for c in memory.store.list_clusters(scope)),
    }


class StageClock:
    """Seconds a build spends in the two stages an executor spreads: distillation and embedding."""

    METHODS: ClassVar[dict[str, str]] = {"distil": "_distill", "embed": "_embed_map"}

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.METHODS, 0.0)
        self._originals: dict[str, Any] = {stage: getattr(UnoMemory, name) for stage, name in self.METHODS.items()}

    def __enter__(self) -> StageClock:
        for stage, name in self.METHODS.items():
            setattr(UnoMemory, name, self._timed(stage, self._originals[stage]))
        return self

    def __exit__(self, *exc: object) -> None:
        for stage, name in self.METHODS.items():
            setattr(UnoMemory, name, self._originals[stage])

    def _timed(self, stage: str, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        return timed


def measure(records: Sequence[LogRecord], workdir: Path, workers: int | None) -> dict[str, Any]:
    """One first build of ``records`` in a new store: in process (``workers=None``) or on ``workers`` Ray CPUs."""
    name = "in-process" if workers is None else f"ray-{workers}"
    executor = None if workers is None else RayExecutor(workers=workers)
    startup = 0.0
    if executor is not None:
        executor.start()
        startup = executor.startup_seconds
    clock = StageClock()
    try:
        with UnoMemory(workdir / name) as memory:
            memory.add_many(records)
            started = time.perf_counter()
            with clock:
                report = memory.build(executor=executor or "local")
            seconds = time.perf_counter() - started
            decisions = _decisions(memory)
    finally:
        if executor is not None:
            executor.close()
    point = {
        "executor": name,
        "workers": workers or 0,
        "build_seconds": seconds,
        "distil_seconds": clock.seconds["distil"],
        "embed_seconds": clock.seconds["embed"],
        "ray_startup_seconds": startup,
        "actors": executor.actors_created if executor is not None else 0,
        "report": report.model_dump(exclude={"seconds"}),
    }
    print(name, {k: v for k, v in point.items() if k != "report"}, flush=True)
    return {**point, "decisions": decisions}


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    machine = describe_machine()
    machine["command"] = " ".join(["python -m benchmarks.ray_build", *sys.argv[1:]])
    results: dict[str, Any] = {"machine": machine, "config": {k: str(v) for k, v in vars(args).items()}}
    _, records = simulate(QualityConfig(logs=args.logs, held_out=0, seed=args.seed, methods=()))
    silence_library_bars()
    SentenceTransformerEmbedder().embed(["warm the driver's import"])  # not timed: every build would share it
    with tempfile.TemporaryDirectory(prefix="uno-ray-build-") as scratch:
        points = [measure(records, Path(scratch), workers) for workers in (None, *args.workers)]
    base = points[0]
    for point in points:
        point["ratio_to_in_process"] = point["build_seconds"] / base["build_seconds"]
        point["same_rules"] = point["decisions"]["rules"] == base["decisions"]["rules"]
        point["same_clusters"] = point["decisions"]["clusters"] == base["decisions"]["clusters"]
        point["same_report"] = point["report"] == base["report"]
        point["rules"] = len(point["decisions"]["rules"])
        point["clusters"] = len(point["decisions"]["clusters"])
    for point in points:
        del point["decisions"]
    results["logs"] = len(records)
    results["builds"] = points
    results["runtime_seconds"] = time.perf_counter() - started
    results["load_average_at_end"] = load_average()
    return results


def render(results: dict[str, Any]) -> str:
    """The report section (also embedded in report.md by :mod:`benchmarks.report`)."""
    machine = results["machine"]
    lines = [
        "## Builds on Ray (issue 14)",
        "",
        f"`{machine['command']}` on {machine['cores']} cores ({machine['cpu']}), load average "
        f"{machine.get('load_average_at_start')} at the start and {results.get('load_average_at_end')} at the end: "
        f"the first build of {results['logs']:,} simulator logs with the packaged embedder, in process and on a "
        "local Ray instance. Ray's start-up is timed apart; the Ray build time includes starting its worker actors "
        "and loading the model in each. Only distillation and embedding are spread over workers; the rest (clustering, "
        "gating, indexing, the store's writes) runs in the calling process either way.",
        "",
        "| executor | build (s) | vs in-process | distil (s) | embed (s) | rest (s) | Ray start-up (s) | actors | "
        "rules | clusters | same rules | same clusters |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for point in results["builds"]:
        rest = point["build_seconds"] - point["distil_seconds"] - point["embed_seconds"]
        lines.append(
            f"| {point['executor']} | {point['build_seconds']:.1f} | {point['ratio_to_in_process']:.2f}x | "
            f"{point['distil_seconds']:.1f} | {point['embed_seconds']:.1f} | {rest:.1f} | "
            f"{point['ray_startup_seconds']:.1f} | {point['actors']} | {point['rules']} | {point['clusters']} | "
            f"{'yes' if point['same_rules'] else 'NO'} | {'yes' if point['same_clusters'] else 'NO'} |"
        )
    if results.get("note"):
        lines += ["", str(results["note"])]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ray_build", description=__doc__)
    parser.add_argument("--logs", type=int, default=2_000, help="simulator logs per build")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Ray CPUs, one build each")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    results = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ray_build.json").write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (args.out / "ray_build.md").write_text(render(results), encoding="utf-8")
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "measure", "render"]
