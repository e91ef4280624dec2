"""``uno demo``: the whole loop on the project's own sample logs, offline, in well under a minute.

Ingest ~200 realistic logs (follow-ups, edits, reactions, ratings and planted noise), build, then show for a few
new queries the augmented prompt, the rules chosen and the logs they came from.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from uno.inject import Augmentation


def sample_logs_path() -> Path:
    """The 200 realistic logs shipped with uno (plain JSONL): what `uno demo` and the README's examples ingest."""
    return Path(str(resources.files("uno") / "data" / "sample_logs.jsonl"))


def sample_manifest() -> dict[str, Any]:
    text = (resources.files("uno") / "data" / "sample_manifest.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def demo_queries(manifest: dict[str, Any]) -> list[str]:
    return [str(item["query"]) for item in manifest.get("demo_queries", [])]


@dataclass
class DemoResult:
    store: Path
    seconds: float
    stats: dict[str, Any]
    augmentations: list[Augmentation] = field(default_factory=list)


def run_demo(
    store: Path | None = None,
    *,
    queries: list[str] | None = None,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    """Run the loop on the sample logs. ``store=None`` uses a fresh temporary directory, removed afterwards."""
    from uno.memory import UnoMemory

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="uno-demo-")) if store is None else store
    try:
        with UnoMemory(workdir, progress=False) as memory:
            report = memory.ingest_file(sample_logs_path())
            echo(_heading("1. ingest"))
            echo(report.summary() if hasattr(report, "summary") else str(report))
            echo(_heading("2. build: distil -> embed -> cluster -> gate -> index"))
            built = memory.build()
            echo(built.model_dump_json(indent=2, exclude={"namespace"}))
            result = DemoResult(store=workdir, seconds=0.0, stats=memory.stats())
            echo(_heading("3. augment new queries"))
            for query in queries or demo_queries(sample_manifest()):
                augmentation = memory.augment(query, explain=True)
                result.augmentations.append(augmentation)
                echo(_render(augmentation))
        result.seconds = round(time.perf_counter() - started, 2)
        echo(_heading(f"done in {result.seconds:.1f} s"))
        return result
    finally:
        if store is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _heading(text: str) -> str:
    return f"\n=== {text} " + "=" * max(3, 72 - len(text))


def _render(aug: Augmentation) -> str:
    lines = [f"\n>>> {aug.query}", f"route: {aug.route.value}   injected tokens: {aug.tokens}"]
    if not aug.rules:
        lines.append("nothing learnt applies: the prompt is left unchanged")
        return "\n".join(lines)
    for rule in aug.rules:
        lines.append(
            f"  * {rule.do}  [score {rule.score:.2f}, support {rule.support}, confidence {rule.confidence:.2f}]"
        )
        lines.append(f"      from logs: {', '.join(rule.provenance[:6])}{' ...' if len(rule.provenance) > 6 else ''}")
    if aug.plan is not None:
        lines.append(f"  reflective plan: {' -> '.join(aug.plan.steps)}; failure modes: {aug.plan.failure_modes}")
    block = aug.system_block or ""
    lines.append("  system block sent to the model:")
    lines.extend("    | " + line for line in block.splitlines())
    return "\n".join(lines)
