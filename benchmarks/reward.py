"""``python -m benchmarks.reward``: does uno's reaction model predict held-out reactions better than a constant?

Two corpora, each in ``FOLDS``-fold cross-validation *by user* (a simulated user, an oasst tree): every answer is
scored by a :class:`uno.reward.ReactionModel` trained on the other folds only, so no user's reactions help predict
their own, and nothing (regularisation, features, weights) is tuned on the held-out folds: the model runs with its
defaults.

* **simulator**: the simulated logs' reactions and ratings (``benchmarks.simulator``);
* **oasst**: the real oasst trees in ``benchmarks/real/data``, where an answer's emoji counts become like / dislike
  (``benchmarks/real/logs.py``).

Figures: ROC AUC on the answers with a clear label (a constant scores 0.5), and log-loss and Brier score of the
soft targets against the constant predictor that says each fold's training positive rate. Use (a) of the model is
measured on the simulator: the mean :meth:`~uno.reward.ReactionModel.feedback_weight` of edits by what the edit
really was (a genuine correction, a contrarian's, an adversarial one). Writes ``results/reward.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.embedding import EmbedderKind, make_embedder
from benchmarks.real.sources import short_hash
from rule_store.records import EditFeedback, LogRecord
from uno.embed import Embedder
from uno.reward import ReactionExample, ReactionModel, collect_examples, features

RESULTS = Path(__file__).resolve().parent / "results"
FOLDS = 5
EPSILON = 1e-6


def fold_of(user_id: str | None) -> int:
    return int(short_hash("reward-fold:" + (user_id or ""), 8), 16) % FOLDS


def _log_loss(targets: np.ndarray, weights: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    losses = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    return float(np.sum(weights * losses) / np.sum(weights))


def _brier(targets: np.ndarray, weights: np.ndarray, p: np.ndarray) -> float:
    return float(np.sum(weights * (p - targets) ** 2) / np.sum(weights))


def _auc(targets: np.ndarray, weights: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    clear = (weights >= 1.0) & (targets != 0.5)
    labels = (targets[clear] > 0.5).astype(int)
    if len(set(labels.tolist())) < 2:
        return None
    return float(roc_auc_score(labels, p[clear]))


def cross_validated(
    examples: Sequence[ReactionExample], embedder: Embedder
) -> tuple[np.ndarray, np.ndarray, list[ReactionModel]]:
    """(model predictions, constant predictions, the fold models) for every example, each from the other folds."""
    x = features(embedder, [e.query for e in examples], [e.response for e in examples])
    folds = np.array([fold_of(e.user_id) for e in examples])
    targets = np.array([e.target for e in examples])
    weights = np.array([e.weight for e in examples])
    model_p = np.zeros(len(examples))
    constant_p = np.zeros(len(examples))
    models = []
    for fold in range(FOLDS):
        held = folds == fold
        if not held.any():
            continue
        train = [e for e, h in zip(examples, held, strict=True) if not h]
        model = ReactionModel.fit(train, embedder, seed=fold)
        models.append(model)
        model_p[held] = model.predict_features(x[held])
        constant_p[held] = np.sum(weights[~held] * targets[~held]) / np.sum(weights[~held])
    return model_p, constant_p, models


def evaluate(examples: Sequence[ReactionExample], embedder: Embedder) -> dict[str, Any]:
    model_p, constant_p, _ = cross_validated(examples, embedder)
    targets = np.array([e.target for e in examples])
    weights = np.array([e.weight for e in examples])
    clear = (weights >= 1.0) & (targets != 0.5)
    return {
        "answers": len(examples),
        "users": len({e.user_id for e in examples}),
        "clear_labels": int(clear.sum()),
        "positive_rate": round(float(np.sum(weights * targets) / np.sum(weights)), 4),
        "auc": _round(_auc(targets, weights, model_p)),
        "auc_constant": 0.5,
        "log_loss": round(_log_loss(targets, weights, model_p), 4),
        "log_loss_constant": round(_log_loss(targets, weights, constant_p), 4),
        "brier": round(_brier(targets, weights, model_p), 4),
        "brier_constant": round(_brier(targets, weights, constant_p), 4),
    }


def _round(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 4)


def simulator_logs(n: int, seed: int) -> list[LogRecord]:
    from benchmarks.simulator.generate import LogGenerator, SimulatorConfig
    from uno.ingest import parse_record

    generator = LogGenerator(SimulatorConfig(seed=seed))
    return [parse_record(log.to_plain(), "plain") for log in generator.iter_logs(n)]


def edit_weights(logs: Sequence[LogRecord], embedder: Embedder) -> dict[str, dict[str, Any]]:
    """Use (a): mean feedback weight of the held-out edits by what they really were, from the other folds' model."""
    examples = collect_examples(logs)
    by_fold: dict[int, ReactionModel] = {}
    for fold in range(FOLDS):
        train = [e for e in examples if fold_of(e.user_id) != fold]
        by_fold[fold] = ReactionModel.fit(train, embedder, seed=fold)
    groups: dict[str, list[float]] = defaultdict(list)
    for log in logs:
        if not any(isinstance(f, EditFeedback) for f in log.feedback):
            continue
        kind = str(log.metadata.get("noise") or "correction")
        groups[kind].append(by_fold[fold_of(log.user_id)].feedback_weight(log))
    return {k: {"edits": len(v), "mean_weight": round(float(np.mean(v)), 4)} for k, v in sorted(groups.items())}


def run(*, logs: int = 2000, seed: int = 7, embedder_kind: EmbedderKind = "minilm") -> dict[str, Any]:
    from benchmarks.real.logs import to_logs
    from benchmarks.real.sources import load_oasst

    stack = make_embedder(embedder_kind)
    started = time.perf_counter()
    try:
        simulated = simulator_logs(logs, seed)
        oasst = to_logs(load_oasst())
        result: dict[str, Any] = {
            "config": {"logs": logs, "seed": seed, "embedder": stack.outer.name, "folds": FOLDS},
            "simulator": evaluate(collect_examples(simulated), stack.outer),
            "oasst": evaluate(collect_examples(oasst), stack.outer),
            "edit_weights": edit_weights(simulated, stack.outer),
        }
    finally:
        stack.close()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def render(result: dict[str, Any]) -> str:
    config = result["config"]
    lines = [
        "# Reaction model: held-out reactions (RLUF's P[Love], uno.reward)",
        "",
        f"Generated by `python -m benchmarks.reward` ({config['logs']} simulated logs, seed {config['seed']}, "
        f"embedder {config['embedder']}, {config['folds']}-fold cross-validation by user; {result['seconds']} s). "
        "Every answer is scored by a model trained on the other users' folds; nothing is tuned on held-out folds.",
        "",
        *reward_table(result),
        "",
        "AUC is over answers with a clear label (a like / love / copy / dislike, or a rating off its midpoint); "
        "log-loss and Brier over every labelled answer with its soft target and weight (weak signals count "
        "0.25). The constant predictor says the training folds' positive rate.",
        "",
        "## Use (a): how much an edit moved the predicted reaction",
        "",
        "| edit | edits | mean feedback weight |",
        "|---|--:|--:|",
        *(f"| {kind} | {v['edits']} | {v['mean_weight']:.3f} |" for kind, v in result["edit_weights"].items()),
        "",
        "`ReactionModel.feedback_weight`: predicted P[positive] of the user's edited answer minus that of the "
        "original (clipped at 0), from the model of the other folds.",
    ]
    return "\n".join(lines) + "\n"


def reward_table(result: dict[str, Any]) -> list[str]:
    rows = [
        "| corpus | answers (users) | positive rate | AUC | log-loss (constant) | Brier (constant) |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name in ("simulator", "oasst"):
        r = result[name]
        auc = "n/a" if r["auc"] is None else f"{r['auc']:.3f}"
        rows.append(
            f"| {name} | {r['answers']} ({r['users']}) | {r['positive_rate']:.2f} | {auc} | "
            f"{r['log_loss']:.3f} ({r['log_loss_constant']:.3f}) | {r['brier']:.3f} ({r['brier_constant']:.3f}) |"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reward", description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=2000, help="simulated logs (default 2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    result = run(logs=args.logs, seed=args.seed, embedder_kind=args.embedder)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reward.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "reward.md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
