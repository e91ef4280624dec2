"""A MemoryBench harness that needs no judge: local data, any LLM, Rouge-L / METEOR (no synonyms) / token F1.

MemoryBench (THUIR) scores how a system improves from logged user feedback. Its data lives on the Hugging Face hub,
which is not reachable here, so this harness reads the official rows from a local path (JSONL or a JSON array, the
official field names: ``test_idx``, ``dataset_name``, ``input_prompt`` / ``input_chat_messages``, ``dialog``,
``implicit_feedback``, ``info``; string-encoded columns as the hub export has them are decoded), splits them into
train and test per dataset, lets every method learn from the training dialogs, answers each test input with a
user-supplied ``generate(messages) -> str`` and scores the answer against ``info.golden_answer``.

Scores are min-max normalised per dataset with fixed constants, as MemoryBench does, and pooled over all test
samples: the *weighted average* the MemoryBench leaderboard ranks on. MemoryBench's own constants
(``configs/final_evaluate_summary_wo_details.json``) are not available here: :data:`DEFAULT_CONSTANTS` ships only
the fixture datasets' (the metrics' theoretical range) and marks every other entry as a placeholder. Pass
``--constants`` with the official values to compare with published numbers.

Command line::

    python -m benchmarks.memorybench --data DIR_OR_FILE --generate my_module:generate [--out DIR]

``echo_injected_context`` is a deterministic *stand-in* for an LLM (it answers with the injected memory, or the
query when there is none): it exercises the harness, its figures say nothing about answer quality.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.embedding import EmbedderKind, EmbedderStack, make_embedder
from benchmarks.methods.base import Method
from benchmarks.methods.registry import METHOD_KEYS, MethodUnavailable, make_method, parse_method_keys
from benchmarks.simulator import LogGenerator, SimulatorConfig
from benchmarks.simulator.generate import dump_line
from benchmarks.textmetrics import METRICS
from rule_store.records import LogRecord
from uno.ingest import InvalidRecord, parse_record
from uno.ingest.formats import decode_column

Messages = list[dict[str, str]]
Generate = Callable[[Messages], str]
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CONSTANTS = DATA_DIR / "memorybench_constants.json"
FIXTURE = DATA_DIR / "memorybench_fixture.jsonl"
FIXTURE_TOPICS = ("cooking", "saas_support")


class MemoryBenchError(ValueError):
    """Input the harness cannot use, with the file, record and reason."""


# ---------------------------------------------------------------------------------------------------- constants


@dataclass(frozen=True)
class DatasetConstants:
    """The judge-free metric a dataset is scored with and its normalisation range."""

    metric: str
    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise MemoryBenchError(f"unknown metric {self.metric!r}; judge-free metrics: {', '.join(METRICS)}")
        if not self.maximum > self.minimum:
            raise MemoryBenchError(f"normalisation range [{self.minimum}, {self.maximum}] is empty")

    def normalise(self, score: float) -> float:
        return min(1.0, max(0.0, (score - self.minimum) / (self.maximum - self.minimum)))


@dataclass(frozen=True)
class Constants:
    datasets: dict[str, DatasetConstants]
    default: DatasetConstants

    def of(self, dataset: str) -> DatasetConstants:
        return self.datasets.get(dataset, self.default)

    @classmethod
    def load(cls, path: Path = DEFAULT_CONSTANTS) -> Constants:
        """Read ``{"default": {...}, "datasets": {name: {"metric", "min", "max"}}}``."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            entries = {name: _constants(value) for name, value in raw["datasets"].items()}
            return cls(entries, _constants(raw["default"]))
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise MemoryBenchError(f"{path}: not a constants file ({type(error).__name__}: {error})") from error


def _constants(value: dict[str, Any]) -> DatasetConstants:
    return DatasetConstants(str(value["metric"]), float(value["min"]), float(value["max"]))


# ---------------------------------------------------------------------------------------------------- records


def load_records(path: Path) -> list[dict[str, Any]]:
    """Rows from a JSONL file, a JSON array, or every ``*.jsonl`` / ``*.json`` file of a directory (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".jsonl", ".json"))
        if not files:
            raise MemoryBenchError(f"{path}: no .jsonl or .json file in this directory")
        return [row for file in files for row in load_records(file)]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise MemoryBenchError(f"{path}: cannot read ({error})") from error
    stripped = text.lstrip()
    try:
        rows = json.loads(text) if stripped.startswith("[") else _json_lines(text)
    except json.JSONDecodeError as error:
        raise MemoryBenchError(f"{path}: invalid JSON at line {error.lineno}: {error.msg}") from error
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or "dataset_name" not in row or "test_idx" not in row:
            raise MemoryBenchError(f"{path}: record {number} is not a MemoryBench row (needs dataset_name, test_idx)")
    return list(rows)


def _json_lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def split_records(
    records: Sequence[dict[str, Any]], *, test_fraction: float = 0.2, seed: int = 42
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Train / test per dataset: a seeded shuffle, ``ceil(test_fraction * n)`` rows to test (all to train if n=1)."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_dataset.setdefault(str(record["dataset_name"]), []).append(record)
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for name in sorted(by_dataset):
        rows = sorted(by_dataset[name], key=lambda r: str(r["test_idx"]))
        random.Random(f"{seed}:{name}").shuffle(rows)
        cut = math.ceil(test_fraction * len(rows)) if len(rows) > 1 else 0
        test.extend(rows[:cut])
        train.extend(rows[cut:])
    return train, test


def input_messages(record: dict[str, Any]) -> Messages:
    """The test input: ``input_chat_messages``, else ``input_prompt``, else the dialog's first user turn."""
    chat = decode_column(record.get("input_chat_messages"))
    if isinstance(chat, list) and chat:
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in chat]
    prompt = record.get("input_prompt")
    if isinstance(prompt, str) and prompt.strip():
        return [{"role": "user", "content": prompt}]
    dialog = decode_column(record.get("dialog"))
    if isinstance(dialog, list):
        for message in dialog:
            if isinstance(message, dict) and message.get("role") == "user":
                return [{"role": "user", "content": str(message["content"])}]
    raise MemoryBenchError(f"record {record.get('dataset_name')}_{record.get('test_idx')} has no input")


def golden_answer(record: dict[str, Any]) -> str | None:
    info = record.get("info")
    try:
        info = decode_column(info)
    except ValueError:
        return None
    if isinstance(info, dict):
        answer = info.get("golden_answer", info.get("answer"))
        return None if answer is None else str(answer)
    return None


def training_logs(records: Sequence[dict[str, Any]]) -> tuple[list[LogRecord], dict[str, str]]:
    """The training rows as uno logs, and the rows that are not usable logs (e.g. no answer) with the reason."""
    logs: list[LogRecord] = []
    skipped: dict[str, str] = {}
    for record in records:
        try:
            logs.append(parse_record(record, "memorybench"))
        except InvalidRecord as error:
            skipped[f"{record.get('dataset_name')}_{record.get('test_idx')}"] = str(error)
    return logs, skipped


def with_context(messages: Messages, context: str) -> Messages:
    """The input with the injected context appended to its system message (or as a new one)."""
    if not context:
        return [dict(m) for m in messages]
    out = [dict(m) for m in messages]
    if out and out[0]["role"] == "system":
        out[0]["content"] = f"{out[0]['content']}\n\n{context}"
        return out
    return [{"role": "system", "content": context}, *out]


def echo_injected_context(messages: Messages) -> str:
    """Stand-in for an LLM (deterministic, offline): the injected system text, or the last user turn."""
    systems = [m["content"] for m in messages if m["role"] == "system"]
    if systems:
        return systems[-1]
    users = [m["content"] for m in messages if m["role"] == "user"]
    return users[-1] if users else ""


# ---------------------------------------------------------------------------------------------------- running


@dataclass
class Answer:
    dataset: str
    test_idx: str
    prediction: str
    golden: str
    scores: dict[str, float]
    primary: float
    normalised: float
    context_tokens: int


@dataclass
class MethodScores:
    key: str
    name: str
    fit_seconds: float
    weighted_average: float
    average: float
    tokens_mean: float
    per_dataset: dict[str, dict[str, float]]
    answers: list[Answer] = field(default_factory=list)


@dataclass
class BenchRun:
    train: int
    test: int
    scored: int
    unscored: list[str]
    skipped_train: dict[str, str]
    constants: dict[str, dict[str, float | str]]
    generator: str
    methods: list[MethodScores]
    unavailable: dict[str, str]


def answer_with(
    method: Method, test: Sequence[dict[str, Any]], generate: Generate, constants: Constants
) -> list[Answer]:
    answers = []
    for record in test:
        golden = golden_answer(record)
        if golden is None:
            continue
        messages = input_messages(record)
        query = next((m["content"] for m in reversed(messages) if m["role"] == "user"), messages[-1]["content"])
        context = method.context(query)
        prediction = generate(with_context(messages, context.text))
        dataset = str(record["dataset_name"])
        chosen = constants.of(dataset)
        scores = {name: metric(prediction, golden) for name, metric in METRICS.items()}
        answers.append(
            Answer(
                dataset=dataset,
                test_idx=str(record["test_idx"]),
                prediction=prediction,
                golden=golden,
                scores=scores,
                primary=scores[chosen.metric],
                normalised=chosen.normalise(scores[chosen.metric]),
                context_tokens=context.tokens,
            )
        )
    return answers


def summarise(key: str, name: str, fit_seconds: float, answers: Sequence[Answer]) -> MethodScores:
    per_dataset: dict[str, dict[str, float]] = {}
    for dataset in sorted({a.dataset for a in answers}):
        rows = [a for a in answers if a.dataset == dataset]
        per_dataset[dataset] = {
            "n": float(len(rows)),
            **{metric: _mean([a.scores[metric] for a in rows]) for metric in METRICS},
            "primary": _mean([a.primary for a in rows]),
            "normalised": _mean([a.normalised for a in rows]),
        }
    return MethodScores(
        key=key,
        name=name,
        fit_seconds=fit_seconds,
        weighted_average=_mean([a.normalised for a in answers]),
        average=_mean([d["normalised"] for d in per_dataset.values()]),
        tokens_mean=_mean([float(a.context_tokens) for a in answers]),
        per_dataset=per_dataset,
        answers=list(answers),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def run_memorybench(
    train: Sequence[dict[str, Any]],
    test: Sequence[dict[str, Any]],
    method_keys: Sequence[str],
    generate: Generate,
    *,
    embedder: EmbedderKind = "minilm",
    stack: EmbedderStack | None = None,
    constants: Constants | None = None,
    workdir: Path | None = None,
    generator_name: str = "",
) -> BenchRun:
    """Fit every method on ``train``'s dialogs and score its answers to ``test``.

    Methods embed with ``stack`` when given (left open), else with a new ``embedder`` stack (closed at the end).
    """
    constants = constants or Constants.load()
    logs, skipped = training_logs(train)
    owned = stack is None
    stack = stack or make_embedder(embedder)
    results: list[MethodScores] = []
    unavailable: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="uno-memorybench-") as scratch:
        base = workdir or Path(scratch)
        for key in method_keys:
            try:
                method = make_method(key, stack, base / key)
            except MethodUnavailable as error:
                unavailable[key] = str(error)
                continue
            try:
                started = time.perf_counter()
                method.fit(logs)
                fit_seconds = time.perf_counter() - started
                results.append(summarise(key, method.name, fit_seconds, answer_with(method, test, generate, constants)))
            finally:
                method.close()
    if owned:
        stack.close()
    scored = {(a.dataset, a.test_idx) for m in results for a in m.answers}
    datasets = sorted({str(r["dataset_name"]) for r in (*train, *test)})
    return BenchRun(
        train=len(train),
        test=len(test),
        scored=len(scored),
        unscored=[f"{r['dataset_name']}_{r['test_idx']}" for r in test if golden_answer(r) is None],
        skipped_train=skipped,
        constants={
            d: {"metric": c.metric, "min": c.minimum, "max": c.maximum} for d in datasets for c in [constants.of(d)]
        },
        generator=generator_name or getattr(generate, "__qualname__", repr(generate)),
        methods=results,
        unavailable=unavailable,
    )


# ---------------------------------------------------------------------------------------------------- output


def markdown(run: BenchRun) -> str:
    """The run as a markdown section: one row per method, one column per dataset, then the weighted average."""
    datasets = sorted({d for m in run.methods for d in m.per_dataset})
    head = ["method", *(f"{d} ({run.constants[d]['metric']})" for d in datasets), "weighted avg (min-max)", "tokens"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in run.methods:
        cells = [m.name, *(f"{m.per_dataset[d]['primary']:.3f}" for d in datasets)]
        lines.append("| " + " | ".join([*cells, f"{m.weighted_average:.3f}", f"{m.tokens_mean:.0f}"]) + " |")
    notes = [
        f"Generator: `{run.generator}`. Train rows: {run.train} ({len(run.skipped_train)} not usable as logs); "
        f"test rows: {run.test}, scored: {run.scored}.",
        "Normalisation: " + "; ".join(f"{d} [{c['min']}, {c['max']}]" for d, c in sorted(run.constants.items())) + ".",
    ]
    notes += [f"{key}: not run ({reason})." for key, reason in sorted(run.unavailable.items())]
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def to_json(run: BenchRun, *, with_answers: bool = False) -> dict[str, Any]:
    data = asdict(run)
    if not with_answers:
        for method in data["methods"]:
            method.pop("answers")
    return data


# ---------------------------------------------------------------------------------------------------- fixture


def fixture_rows(n: int = 30, seed: int = 11) -> list[dict[str, Any]]:
    """A small MemoryBench-format set from the simulator: two datasets (topics), golden answers in ``info``."""
    config = SimulatorConfig(seed=seed, users=8, topics=FIXTURE_TOPICS, id_prefix="mb")
    return [log.to_memorybench() for log in LogGenerator(config).iter_logs(n)]


def write_fixture(path: Path = FIXTURE, n: int = 30, seed: int = 11) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(dump_line(row) for row in fixture_rows(n, seed)), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------- CLI


def load_generate(spec: str) -> Generate:
    """``package.module:function`` -> that callable (it must take a list of messages and return a string)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise MemoryBenchError(f"--generate must look like package.module:function, got {spec!r}")
    function = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(function):
        raise MemoryBenchError(f"{spec}: not a callable")
    generate: Generate = function
    return generate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memorybench", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=FIXTURE, help="MemoryBench rows: file or directory")
    parser.add_argument("--test", type=Path, help="test rows, when --data holds only the training split")
    parser.add_argument("--generate", default="benchmarks.memorybench:echo_injected_context")
    parser.add_argument("--methods", default="all", help=f"comma-separated: {', '.join(METHOD_KEYS)}")
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--constants", type=Path, default=DEFAULT_CONSTANTS)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="directory for memorybench.md and memorybench.json")
    args = parser.parse_args(argv)
    try:
        records = load_records(args.data)
        if args.test is not None:
            train, test = records, load_records(args.test)
        else:
            train, test = split_records(records, test_fraction=args.test_fraction, seed=args.seed)
        run = run_memorybench(
            train,
            test,
            parse_method_keys(args.methods),
            load_generate(args.generate),
            embedder=args.embedder,
            constants=Constants.load(args.constants),
            generator_name=args.generate,
        )
    except (MemoryBenchError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    text = markdown(run)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "memorybench.md").write_text(text, encoding="utf-8")
        (args.out / "memorybench.json").write_text(json.dumps(to_json(run), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
