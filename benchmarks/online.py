"""``python -m benchmarks.online``: round-by-round learning from users' edits (the PRELUDE / user-edits protocol).

Simulated users with hidden preferences (the simulator's topics: each user holds their topic's preferences) ask one
query per round. A deterministic stand-in model answers: its plain answer breaks every hidden preference of the
topic, and for each preference the prompt's context asks for (the aspects the injected items are credited with, as
in :mod:`benchmarks.metrics`) it follows the instruction with probability ``follow``. The user then always edits the
answer into the one they want, the model's content with each of their preferences satisfied (the edit cost is the
Levenshtein distance, as in the user-edits papers), sometimes complains in a follow-up naming a broken preference,
and reacts: a like for an answer needing no edit, sometimes a dislike otherwise. Between rounds every method learns
from everything logged so far.

Fairness: the edit undoes instructions the user never asked for. An earlier version only fixed what broke the user's
own preferences, so another topic's "Answer in French" or "Answer with only YES or NO" given to a cooking question
cost nothing (a one-word "YES." needed no edit), which rewarded injecting every neighbour's preferences
(CIPHER-style, with no relevance floor) and was not what a user would accept.

Methods, each on its own store and the same users, queries and random draws (common random numbers):

* **no memory**: the plain answer;
* **uno / rules**, **uno / reflective**: uno with one fixed strategy (:class:`uno.bandit.FixedStrategy`). The
  reflective stand-in drafts with the rules, then a critic fixes each aspect the cluster's stored experiences are
  about, with the same probability;
* **uno / bandit**: uno's per-cluster Thompson-sampling bandit (:class:`uno.bandit.StrategyBandit`) over none / rules /
  reflective, fed :func:`uno.bandit.observed_reward` of each answer (adapters are never accepted offline);
* **CIPHER-style**: :class:`benchmarks.methods.cipher.CipherStyle` refitted each round.

Figures: cumulative edit cost and positive-reaction rate per round, the best fixed uno strategy per topic in
hindsight, and an offline A/B estimate (use (d) of :mod:`uno.reward`): a reaction model trained on the first half of
the rounds predicts the positive-reaction rate of no-memory and uno answers in the second half, beside the observed
rates. Writes ``results/online.{json,md}`` and ``results/online_edit_cost.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks.embedding import EmbedderKind, EmbedderStack, make_embedder
from benchmarks.methods.base import InjectedContext, InjectedItem
from benchmarks.metrics import LogTruth, credited_aspects
from benchmarks.simulator.generate import satisfy_all
from benchmarks.simulator.preferences import PREFERENCES, Preference
from benchmarks.simulator.topics import get_topic
from rule_store.protocol import Scope
from rule_store.records import EditFeedback, FollowupFeedback, LogRecord, Message, ReactionFeedback, edit_distance
from uno.bandit import FixedStrategy, Strategy, StrategyBandit, observed_reward

RESULTS = Path(__file__).resolve().parent / "results"
PLOT = "online_edit_cost.png"
DEFAULT_TOPICS = ("cooking", "python_programming", "travel", "saas_support")
METHODS = ("no-memory", "uno-rules", "uno-reflective", "uno-bandit", "cipher")
NAMES = {
    "no-memory": "no memory",
    "uno-rules": "uno / rules",
    "uno-reflective": "uno / reflective",
    "uno-bandit": "uno / bandit",
    "cipher": "CIPHER-style",
}
FIXED = ("no-memory", "uno-rules", "uno-reflective")


@dataclass(frozen=True)
class OnlineConfig:
    rounds: int = 10
    users_per_topic: int = 3
    topics: tuple[str, ...] = DEFAULT_TOPICS
    follow: float = 0.8  # probability that the stand-in model follows one instruction it was given
    complain: float = 0.5  # probability that a user whose answer needed an edit also complains in a follow-up
    dislike: float = 0.5  # ... and dislikes it
    like: float = 0.8  # probability that a user whose answer needed no edit likes it
    seed: int = 7
    explore: bool = True


@dataclass(frozen=True)
class User:
    user_id: str
    topic: str
    preferences: tuple[Preference, ...]


@dataclass
class Turn:
    """One answer in one method's run: what it cost the user and what they did."""

    round: int
    user: str
    topic: str
    cost: int
    liked: bool
    strategy: str | None = None
    query: str = ""
    answer: str = ""


@dataclass
class MethodRun:
    key: str
    turns: list[Turn] = field(default_factory=list)
    seconds: float = 0.0


def make_users(config: OnlineConfig) -> list[User]:
    users = []
    for topic_name in config.topics:
        topic = get_topic(topic_name)
        preferences = tuple(PREFERENCES[pid] for pid in topic.preference_ids)
        for number in range(config.users_per_topic):
            users.append(User(f"{topic_name}-{number}", topic_name, preferences))
    return users


def _rng(config: OnlineConfig, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in ("uno-online", config.seed, *parts)))


def plain_answer(user: User, neutral: str) -> str:
    """The stand-in model without instructions: every hidden preference of the topic broken."""
    text = neutral
    for preference in user.preferences:
        text = preference.violate(text)
    return text


def follow(text: str, aspects: set[str], rng: random.Random, probability: float) -> str:
    """The stand-in model given instructions: each asked-for aspect applied with ``probability`` (fixed order)."""
    for preference in PREFERENCES.values():
        if preference.aspect in aspects and rng.random() < probability:
            text = preference.satisfy(text)
    return text


def user_edit(user: User, plain: str) -> str:
    """The answer the user wants: the model's content with each of their preferences satisfied.

    The edit turns any answer into this text, so an instruction the user never asked for (another topic's "Answer
    in French", "Answer with only YES or NO") costs what it takes to undo. Rewriting only what breaks the user's
    own preferences would let such an answer through for free and reward injecting everyone's preferences.
    """
    return satisfy_all(user.preferences, plain)


def aspects_of(context: InjectedContext, truth: dict[str, LogTruth]) -> set[str]:
    return {aspect for item in context.items for aspect in credited_aspects(item, truth)}


class UnoArm:
    """uno answering through ``augment(bandit=...)`` with a fixed strategy or the bandit."""

    def __init__(self, workdir: Path, stack: EmbedderStack, chooser: FixedStrategy | StrategyBandit | None) -> None:
        from uno.memory import UnoMemory

        self.memory = UnoMemory(workdir, embedder=stack.outer)
        self.chooser = chooser

    def answer(
        self, user: User, query: str, plain: str, truth: dict[str, LogTruth], rng: random.Random, p: float
    ) -> tuple[str, str | None, str | None]:
        """(answer, strategy, cluster id)."""
        aug = self.memory.augment(query, user_id=user.user_id, bandit=self.chooser)
        items = tuple(InjectedItem("rule", r.do, tuple(r.provenance), r.aspect) for r in aug.rules)
        text = follow(plain, aspects_of(InjectedContext("", 0, items), truth), rng, p)
        if aug.plan is not None and aug.plan.experience_ids:
            # The critic: the aspects past users' feedback in this cluster was about, fixed with the same odds.
            sources = [
                log_id
                for e in self.memory.store.list_experiences(Scope(namespace=self.memory.namespace))
                if e.id in aug.plan.experience_ids
                for log_id in e.source_log_ids
            ]
            critique = InjectedContext("", 0, (InjectedItem("rule", "", tuple(sources)),))
            text = follow(text, aspects_of(critique, truth), rng, p)
        strategy = aug.strategy.strategy.value if aug.strategy else None
        return text, strategy, aug.cluster_id

    def learn(self, logs: Sequence[LogRecord]) -> None:
        self.memory.add_many(logs)
        self.memory.build()

    def close(self) -> None:
        self.memory.close()


def feedback_for(
    config: OnlineConfig, user: User, answer: str, plain: str, rng: random.Random
) -> tuple[list[Any], int, bool, str | None]:
    """(feedback events, edit cost, liked, aspect of the complaint or edit)."""
    edited = user_edit(user, plain)
    cost = edit_distance(answer, edited)
    if cost == 0:
        liked = rng.random() < config.like
        return ([ReactionFeedback(value="like")] if liked else []), 0, liked, None
    broken = [p for p in user.preferences if not p.check(answer)]
    events: list[Any] = [EditFeedback(text=edited)]
    aspect = broken[0].aspect if broken else None
    if broken and rng.random() < config.complain:
        events.append(FollowupFeedback(text=rng.choice(broken[0].followups)))
    if rng.random() < config.dislike:
        events.append(ReactionFeedback(value="dislike"))
    return events, cost, False, aspect


def run_method(
    key: str, config: OnlineConfig, stack: EmbedderStack, workdir: Path, progress: Callable[[str], None]
) -> tuple[MethodRun, list[LogRecord]]:
    from benchmarks.methods.cipher import CipherStyle

    users = make_users(config)
    truth: dict[str, LogTruth] = {}
    logs: list[LogRecord] = []
    record = MethodRun(key)
    started = time.perf_counter()
    uno: UnoArm | None = None
    cipher: CipherStyle | None = None
    if key.startswith("uno-"):
        uno = UnoArm(workdir / key, stack, None)
        if key == "uno-bandit":
            uno.chooser = uno.memory.strategy_bandit(explore=config.explore, seed=config.seed)
        else:
            uno.chooser = FixedStrategy(Strategy.RULES if key == "uno-rules" else Strategy.REFLECTIVE)
    elif key == "cipher":
        cipher = CipherStyle(stack.outer, stack.model)
    for round_number in range(config.rounds):
        new_logs: list[LogRecord] = []
        pulls: list[tuple[str | None, Strategy, LogRecord]] = []
        for user in users:
            rng = _rng(config, round_number, user.user_id)
            exchange = get_topic(user.topic).sample(rng)
            plain = plain_answer(user, exchange.response)
            strategy: str | None = None
            cluster_id: str | None = None
            if uno is not None:
                answer, strategy, cluster_id = uno.answer(user, exchange.query, plain, truth, rng, config.follow)
            elif cipher is not None and logs:
                answer = follow(plain, aspects_of(cipher.context(exchange.query), truth), rng, config.follow)
            else:
                answer = plain
            events, cost, liked, aspect = feedback_for(config, user, answer, plain, rng)
            turn = Turn(round_number, user.user_id, user.topic, cost, liked, strategy, exchange.query, answer)
            record.turns.append(turn)
            log = LogRecord(
                id=f"online-{key}-{round_number:03d}-{user.user_id}",
                user_id=user.user_id,
                messages=[Message(role="user", content=exchange.query), Message(role="assistant", content=answer)],
                feedback=events,
                metadata={"topic": user.topic, "round": round_number},
            )
            truth[log.id] = LogTruth(aspect, None, user.topic)
            new_logs.append(log)
            if strategy is not None:
                pulls.append((cluster_id, Strategy(strategy), log))
        if uno is not None and isinstance(uno.chooser, StrategyBandit):
            for cluster_id, strategy_used, log in pulls:
                # The user-edits protocol observes every edit, an empty one included: no edit is a reward of 1.
                reward = observed_reward(log, accepted=1.0)
                if reward is not None:
                    uno.chooser.update(cluster_id, strategy_used, reward)
        logs.extend(new_logs)
        if uno is not None:
            uno.learn(new_logs)
        elif cipher is not None:
            cipher.fit(logs)
        done = record.turns[-len(users) :]
        progress(f"{key} round {round_number + 1}/{config.rounds}: edit cost {sum(t.cost for t in done)}")
    if uno is not None:
        uno.close()
    record.seconds = round(time.perf_counter() - started, 1)
    return record, logs


def cumulative(values: Sequence[int | float]) -> list[float]:
    out, total = [], 0.0
    for value in values:
        total += value
        out.append(round(total, 4))
    return out


def summarise(runs: dict[str, MethodRun], config: OnlineConfig) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for key, run in runs.items():
        per_round = [sum(t.cost for t in run.turns if t.round == r) for r in range(config.rounds)]
        liked = [sum(t.liked for t in run.turns if t.round == r) for r in range(config.rounds)]
        answers = len(run.turns)
        strategies: dict[str, int] = {}
        for turn in run.turns:
            if turn.strategy:
                strategies[turn.strategy] = strategies.get(turn.strategy, 0) + 1
        methods[key] = {
            "name": NAMES[key],
            "edit_cost_total": sum(per_round),
            "edit_cost_per_round": per_round,
            "cumulative_edit_cost": cumulative(per_round),
            "positive_reaction_rate": round(sum(liked) / answers, 4) if answers else 0.0,
            "positive_reactions_per_round": liked,
            "edit_cost_by_topic": {t: sum(x.cost for x in run.turns if x.topic == t) for t in config.topics},
            "strategies": strategies,
            "seconds": run.seconds,
        }
    best = {topic: min(FIXED, key=lambda k: (methods[k]["edit_cost_by_topic"][topic], k)) for topic in config.topics}
    hindsight = sum(methods[k]["edit_cost_by_topic"][t] for t, k in best.items())
    bandit = methods["uno-bandit"]["edit_cost_total"]
    return {
        "methods": methods,
        "best_fixed_per_topic": best,
        "best_fixed_in_hindsight_cost": hindsight,
        "bandit_vs_hindsight": round(bandit / hindsight, 4) if hindsight else None,
    }


def ab_check(
    runs: dict[str, MethodRun], logs: dict[str, list[LogRecord]], config: OnlineConfig, stack: EmbedderStack
) -> dict[str, Any]:
    """Use (d): a reaction model trained on the first half of the rounds (every method's logs) predicts the
    second half's positive-reaction rate of no-memory and uno answers; the observed rates beside it."""
    from uno.reward import ReactionModel, ReactionModelError, ab_estimate, collect_examples

    half = config.rounds // 2
    train = [log for key in logs for log in logs[key] if log.metadata["round"] < half]
    try:
        model = ReactionModel.fit(collect_examples(train), stack.outer)
    except ReactionModelError as error:
        return {"skipped": str(error)}
    without = [t for t in runs["no-memory"].turns if t.round >= half]
    with_uno = [t for t in runs["uno-rules"].turns if t.round >= half]
    estimate = ab_estimate(model, [t.query for t in without], [t.answer for t in without], [t.answer for t in with_uno])
    return {
        "trained_on_answers": model.record.examples,
        "queries": estimate.queries,
        "predicted_without": estimate.without,
        "predicted_with_uno": estimate.with_uno,
        "observed_without": round(sum(t.liked for t in without) / len(without), 4),
        "observed_with_uno": round(sum(t.liked for t in with_uno) / len(with_uno), 4),
    }


def run(
    config: OnlineConfig,
    *,
    embedder_kind: EmbedderKind = "hashing",
    progress: Callable[[str], None] = print,
    seeds: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Every method on ``seeds`` (default: ``config.seed``), each seed a fresh replication (its own queries, draws
    and stores); the figures add the seeds up, and ``per_seed`` keeps each seed's totals. One seed is one draw of
    a noisy process (the stand-in model misses an instruction one time in five): the hindsight ratio of a single
    seed moves by several points with the bandit's own random draws."""
    stack = make_embedder(embedder_kind)
    started = time.perf_counter()
    runs: dict[str, MethodRun] = {key: MethodRun(key) for key in METHODS}
    logs: dict[str, list[LogRecord]] = {key: [] for key in METHODS}
    per_seed: list[dict[str, Any]] = []
    chosen = list(seeds) if seeds else [config.seed]
    try:
        with tempfile.TemporaryDirectory(prefix="uno-online-") as tmp:
            for seed in chosen:
                one = replace(config, seed=seed)
                seed_runs: dict[str, MethodRun] = {}
                for key in METHODS:
                    seed_runs[key], seed_logs = run_method(key, one, stack, Path(tmp) / str(seed), progress)
                    runs[key].turns.extend(seed_runs[key].turns)
                    runs[key].seconds = round(runs[key].seconds + seed_runs[key].seconds, 1)
                    logs[key].extend(seed_logs)
                summary = summarise(seed_runs, one)
                per_seed.append(
                    {
                        "seed": seed,
                        "edit_cost_total": {k: m["edit_cost_total"] for k, m in summary["methods"].items()},
                        "best_fixed_in_hindsight_cost": summary["best_fixed_in_hindsight_cost"],
                        "bandit_vs_hindsight": summary["bandit_vs_hindsight"],
                    }
                )
        result = {
            "config": {
                **config.__dict__,
                "seeds": chosen,
                "topics": list(config.topics),
                "embedder": stack.outer.name,
            },
            **summarise(runs, config),
            "per_seed": per_seed,
            "ab_estimate": ab_check(runs, logs, config, stack),
        }
    finally:
        stack.close()
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def render(result: dict[str, Any]) -> str:
    config = result["config"]
    methods = result["methods"]
    rows = [
        "| method | edit cost (total) | vs no memory | positive reactions | strategies chosen | seconds |",
        "|---|--:|--:|--:|---|--:|",
    ]
    base = methods["no-memory"]["edit_cost_total"] or 1
    for data in methods.values():
        chosen = ", ".join(f"{k} {v}" for k, v in sorted(data["strategies"].items())) or "-"
        rows.append(
            f"| {data['name']} | {data['edit_cost_total']} | {data['edit_cost_total'] / base:.0%} | "
            f"{data['positive_reaction_rate']:.0%} | {chosen} | {data['seconds']} |"
        )
    best = ", ".join(f"{t}: {NAMES[k]}" for t, k in result["best_fixed_per_topic"].items())
    ab = result["ab_estimate"]
    ab_line = (
        f"skipped: {ab['skipped']}"
        if "skipped" in ab
        else (
            f"predicted positive-reaction rate without uno {ab['predicted_without']:.0%}, with uno (rules) "
            f"{ab['predicted_with_uno']:.0%}; observed {ab['observed_without']:.0%} and {ab['observed_with_uno']:.0%} "
            f"({ab['queries']} queries of the second half; model trained on {ab['trained_on_answers']} answers of "
            "the first half)"
        )
    )
    seeds = config.get("seeds") or [config["seed"]]
    per_seed = [
        "| seed | no memory | uno / rules | uno / reflective | uno / bandit | CIPHER-style | best fixed in hindsight "
        "| bandit / hindsight |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|",
        *(
            f"| {s['seed']} | "
            + " | ".join(str(s["edit_cost_total"][k]) for k in METHODS)
            + f" | {s['best_fixed_in_hindsight_cost']} | "
            + (f"{s['bandit_vs_hindsight']:.0%}" if s["bandit_vs_hindsight"] is not None else "n/a")
            + " |"
            for s in result.get("per_seed", [])
        ),
    ]
    lines = [
        "# Online learning from edits: cumulative edit cost per round",
        "",
        f"Generated by `python -m benchmarks.online` ({config['rounds']} rounds, {len(config['topics'])} topics x "
        f"{config['users_per_topic']} users, the stand-in model follows an instruction with probability "
        f"{config['follow']}, embedder {config['embedder']}, seeds {', '.join(map(str, seeds))}, added up; "
        f"{result['seconds']} s).",
        "",
        *rows,
        "",
        "Each seed (its own queries, random draws and stores):",
        "",
        *per_seed,
        "",
        f"Best fixed strategy per topic in hindsight ({best}): total edit cost "
        f"{result['best_fixed_in_hindsight_cost']}; the bandit's is {result['bandit_vs_hindsight']:.0%} of it."
        if result["bandit_vs_hindsight"] is not None
        else "Best fixed strategy in hindsight: no edit cost at all.",
        "",
        f"Offline A/B estimate (uno.reward.ab_estimate): {ab_line}.",
        "",
        f"![Cumulative edit cost per round]({PLOT})",
        "",
        "Method: the user edits every answer into the one they want: the model's content with each of their hidden "
        "preferences satisfied, so an instruction they never asked for (another topic's) also costs what it takes "
        "to undo (edit cost = Levenshtein distance to the edit); a like for an answer needing no edit (probability "
        f"{config['like']}), a dislike ({config['dislike']}) and a complaint naming a broken preference "
        f"({config['complain']}) otherwise. Every method answers the same queries with the same random draws.",
    ]
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for data in result["methods"].values():
        series = data["cumulative_edit_cost"]
        axis.plot(range(1, len(series) + 1), series, marker="o", label=data["name"])
    axis.set_xlabel("round")
    axis.set_ylabel("cumulative edit cost (characters)")
    axis.set_title("Cumulative user edit cost per round (lower is better)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.online", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=OnlineConfig.rounds)
    parser.add_argument("--users-per-topic", type=int, default=OnlineConfig.users_per_topic)
    parser.add_argument("--follow", type=float, default=OnlineConfig.follow)
    parser.add_argument(
        "--seeds", default="7,11,13", help="comma-separated seeds, each a replication; the figures add them up"
    )
    parser.add_argument("--no-explore", action="store_true", help="the bandit picks its best mean, no sampling")
    parser.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    config = OnlineConfig(
        rounds=args.rounds,
        users_per_topic=args.users_per_topic,
        follow=args.follow,
        explore=not args.no_explore,
    )
    seeds = [int(part) for part in args.seeds.split(",") if part.strip()]
    result = run(config, embedder_kind=args.embedder, seeds=seeds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "online.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    plot(result, args.out / PLOT)
    (args.out / "online.md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
