"""The demo's sample logs: ~200 generated logs that read like a real app's, with planted noise.

``python -m benchmarks.simulator sample`` regenerates ``uno/data/sample_logs.jsonl`` and
``uno/data/sample_manifest.json`` exactly. The sample is generated, not hand-written: a fixed seed, a fixed
noise plan (how many adversarial, off-topic... logs, shuffled into place) and one curation rule, no two logs
with the same query or the same follow-up, so the 200 lines read as 200 different conversations.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Final

from benchmarks.simulator.generate import (
    LogGenerator,
    NoiseKind,
    SimulatedLog,
    SimulatorConfig,
    dump_line,
    held_out_queries,
)
from benchmarks.simulator.preferences import PREFERENCES
from benchmarks.simulator.topics import TOPICS

SAMPLE_SEED: Final = 7
SAMPLE_SIZE: Final = 200
SAMPLE_USERS: Final = 30
SAMPLE_COMMAND: Final = "python -m benchmarks.simulator sample"
# How many logs of each noise kind the sample plants; the rest are clean corrective feedback.
SAMPLE_NOISE_PLAN: Final[dict[NoiseKind, int]] = {
    NoiseKind.SATISFIED: 20,
    NoiseKind.ADVERSARIAL: 7,
    NoiseKind.OFF_TOPIC: 7,
    NoiseKind.CONTRADICTING: 5,
    NoiseKind.SMALL_TALK: 5,
    NoiseKind.KNOWN_PREFERENCE: 6,
}
DEMO_TOPIC_QUERIES: Final = 7
DEMO_UNRELATED_QUERIES: Final = 2
LOGS_FILE: Final = "sample_logs.jsonl"
MANIFEST_FILE: Final = "sample_manifest.json"
DEFAULT_DATA_DIR: Final = Path(__file__).resolve().parents[2] / "uno" / "data"
_MAX_ATTEMPTS: Final = 200


def _feedback_texts(log: SimulatedLog) -> list[str]:
    return [event["text"].lower() for event in log.to_plain()["feedback"] if event["kind"] == "followup"]


def build_sample_logs() -> list[SimulatedLog]:
    """The sample's logs, in file order."""
    generator = LogGenerator(SimulatorConfig(seed=SAMPLE_SEED, users=SAMPLE_USERS, id_prefix="demo"))
    plan: list[NoiseKind | None] = [kind for kind, count in SAMPLE_NOISE_PLAN.items() for _ in range(count)]
    plan += [None] * (SAMPLE_SIZE - len(plan))
    random.Random(f"uno-sample-plan:{SAMPLE_SEED}").shuffle(plan)

    logs: list[SimulatedLog] = []
    seen_queries: set[str] = set()
    seen_followups: set[str] = set()
    index = 0
    for position, kind in enumerate(plan, start=1):
        for _ in range(_MAX_ATTEMPTS):
            log = generator.log(index, noise=kind, log_id=f"demo-{position:04d}")
            index += 1
            followups = _feedback_texts(log)
            if log.query.lower() in seen_queries or any(text in seen_followups for text in followups):
                continue
            seen_queries.add(log.query.lower())
            seen_followups.update(followups)
            logs.append(log)
            break
        else:
            raise RuntimeError(f"no unique log for sample position {position} after {_MAX_ATTEMPTS} attempts")
    return logs


def build_manifest(logs: list[SimulatedLog]) -> dict[str, Any]:
    """What the demo should find in the sample: per-topic aspects, planted noise and demo queries."""
    topics: dict[str, Any] = {}
    for topic in TOPICS:
        topics[topic.name] = {
            "description": topic.description,
            "preference_ids": list(topic.preference_ids),
            "expected_aspects": [PREFERENCES[pid].aspect for pid in topic.preference_ids],
            "records": sum(log.topic == topic.name for log in logs),
        }
    planted = {kind.value: [log.id for log in logs if log.noise == kind.value] for kind in SAMPLE_NOISE_PLAN}
    return {
        "description": "Simulated user logs for the uno demo. Regenerate with the command below; do not edit.",
        "command": SAMPLE_COMMAND,
        "seed": SAMPLE_SEED,
        "records": len(logs),
        "users": len({log.user_id for log in logs}),
        "noise_plan": {kind.value: count for kind, count in SAMPLE_NOISE_PLAN.items()},
        "topics": topics,
        "planted": planted,
        "known_preferences": {pid: pref.aspect for pid, pref in PREFERENCES.items() if pref.base_model_follows},
        "demo_queries": [query.to_json() for query in _demo_queries()],
    }


def _demo_queries() -> list[Any]:
    """One held-out query for each of the first topics met, plus unrelated queries that should get nothing."""
    chosen = []
    topics_seen: set[str] = set()
    unrelated = 0
    for query in held_out_queries(200, SAMPLE_SEED):
        if query.topic is None:
            if unrelated < DEMO_UNRELATED_QUERIES:
                chosen.append(query)
                unrelated += 1
        elif query.topic not in topics_seen and len(topics_seen) < DEMO_TOPIC_QUERIES:
            chosen.append(query)
            topics_seen.add(query.topic)
    return chosen


def write_sample(data_dir: Path = DEFAULT_DATA_DIR) -> tuple[Path, Path]:
    """Write the sample logs and their manifest into ``data_dir``; returns both paths."""
    logs = build_sample_logs()
    data_dir.mkdir(parents=True, exist_ok=True)
    logs_path, manifest_path = data_dir / LOGS_FILE, data_dir / MANIFEST_FILE
    with logs_path.open("w", encoding="utf-8", newline="\n") as handle:
        for log in logs:
            handle.write(dump_line(log.to_plain()))
    manifest = json.dumps(build_manifest(logs), indent=2, ensure_ascii=False) + "\n"
    manifest_path.write_text(manifest, encoding="utf-8", newline="\n")
    return logs_path, manifest_path
