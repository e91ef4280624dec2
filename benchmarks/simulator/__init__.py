"""A simulated-user environment: users with hidden, code-checkable preferences and controlled noise.

Example::

    from benchmarks.simulator import LogGenerator, held_out_queries

    log = LogGenerator().log(0)
    log.metadata["topic"], log.metadata["violated_preference_id"]  # the ground truth travels with the log
    held_out_queries(5, seed=7)[0].expected_aspects  # what a learner should inject for this query

``python -m benchmarks.simulator --n 1000 --seed 7 --out DIR --format both`` writes plain and MemoryBench JSONL;
``python -m benchmarks.simulator sample`` regenerates the demo's ``uno/data/sample_logs.jsonl``.
"""

from benchmarks.simulator.generate import (
    HeldOutQuery,
    LogGenerator,
    NoiseKind,
    NoiseRates,
    SimulatedLog,
    SimulatorConfig,
    SimulatorError,
    held_out_queries,
    write_logs,
)
from benchmarks.simulator.preferences import (
    KNOWN_PREFERENCES,
    OPPOSITE_OF,
    PREFERENCES,
    TOPIC_PREFERENCES,
    Preference,
    get_preference,
)
from benchmarks.simulator.sample import build_manifest, build_sample_logs, write_sample
from benchmarks.simulator.topics import TOPICS, Topic, get_topic

__all__ = [
    "KNOWN_PREFERENCES",
    "OPPOSITE_OF",
    "PREFERENCES",
    "TOPICS",
    "TOPIC_PREFERENCES",
    "HeldOutQuery",
    "LogGenerator",
    "NoiseKind",
    "NoiseRates",
    "Preference",
    "SimulatedLog",
    "SimulatorConfig",
    "SimulatorError",
    "Topic",
    "build_manifest",
    "build_sample_logs",
    "get_preference",
    "get_topic",
    "held_out_queries",
    "write_logs",
    "write_sample",
]
