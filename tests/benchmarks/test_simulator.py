"""The simulated-user environment: reproducible, ground truth that holds, formats that downstream code accepts."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.simulator import (
    KNOWN_PREFERENCES,
    OPPOSITE_OF,
    PREFERENCES,
    TOPIC_PREFERENCES,
    TOPICS,
    LogGenerator,
    NoiseKind,
    NoiseRates,
    SimulatedLog,
    SimulatorConfig,
    held_out_queries,
    write_logs,
    write_sample,
)
from benchmarks.simulator.cli import main
from benchmarks.simulator.generate import MEMORYBENCH_FILE, PLAIN_FILE, Edit, Followup
from benchmarks.simulator.preferences import Opposite, Preference
from benchmarks.simulator.sample import DEFAULT_DATA_DIR, LOGS_FILE, MANIFEST_FILE, SAMPLE_NOISE_PLAN
from rule_store.records import FEEDBACK_ADAPTER, LogRecord, Message

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def logs_5000() -> list[SimulatedLog]:
    return list(LogGenerator(SimulatorConfig(seed=11)).iter_logs(5000))


def to_log_record(line: dict[str, Any]) -> LogRecord:
    """The plain record mapped onto the contract: [user query, assistant response] plus its feedback events."""
    return LogRecord(
        id=line["id"],
        user_id=line["user_id"],
        messages=[Message(role="user", content=line["query"]), Message(role="assistant", content=line["response"])],
        feedback=[FEEDBACK_ADAPTER.validate_python(event) for event in line["feedback"]],
        metadata=line["metadata"],
    )


# ------------------------------------------------------------------------------------------------------ reproducible


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    config = SimulatorConfig(seed=3)
    first = write_logs(tmp_path / "a", 300, config, output_format="both", held_out=20)
    second = write_logs(tmp_path / "b", 300, config, output_format="both", held_out=20)
    for name in ("plain", "memorybench", "held_out", "config"):
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert len(first["plain"].read_text(encoding="utf-8").splitlines()) == 300


def test_different_seed_writes_different_logs(tmp_path: Path) -> None:
    a = write_logs(tmp_path / "a", 100, SimulatorConfig(seed=1))["plain"].read_text(encoding="utf-8")
    b = write_logs(tmp_path / "b", 100, SimulatorConfig(seed=2))["plain"].read_text(encoding="utf-8")
    queries_a = [json.loads(line)["query"] for line in a.splitlines()]
    queries_b = [json.loads(line)["query"] for line in b.splitlines()]
    assert sum(x != y for x, y in zip(queries_a, queries_b, strict=True)) > 80


def test_a_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    generator = LogGenerator(SimulatorConfig(seed=5))
    short = [log.to_plain() for log in generator.iter_logs(50)]
    long = [log.to_plain() for log in LogGenerator(SimulatorConfig(seed=5)).iter_logs(120)]
    assert long[:50] == short


def test_logs_are_streamed_not_built_in_memory() -> None:
    stream = LogGenerator().iter_logs(1_000_000)
    first = next(stream)
    assert first.index == 0 and next(stream).index == 1


# ------------------------------------------------------------------------------------------------------ preferences


def _responses_for(preference: Preference) -> list[str]:
    """Every neutral answer (all details) and its all-preferences-satisfied version, for topics where it applies."""
    inner = preference.of if isinstance(preference, Opposite) else preference
    topics = [t for t in TOPICS if inner.id in t.preference_ids or inner.id in t.known_preference_ids]
    if preference.id == "language-en":  # contradicting travel users ask for English too
        topics.append(next(t for t in TOPICS if "language-fr" in t.preference_ids))
    responses = []
    for topic in topics:
        prefs = [PREFERENCES[pid] for pid in topic.preference_ids]
        for intent in topic.intents:
            for case in intent.cases:
                neutral = intent.render(case, range(len(intent.details)))
                golden = neutral
                for pref in prefs:
                    golden = pref.satisfy(golden)
                responses += [neutral, golden]
    return responses


@pytest.mark.parametrize("preference_id", sorted(PREFERENCES))
def test_check_accepts_satisfy_and_rejects_violate(preference_id: str) -> None:
    preference = PREFERENCES[preference_id]
    responses = _responses_for(preference)
    assert len(responses) >= 40
    for response in responses:
        satisfied, violated = preference.satisfy(response), preference.violate(response)
        assert preference.check(satisfied), f"{preference_id} rejects its own satisfy():\n{satisfied}"
        assert not preference.check(violated), f"{preference_id} accepts its own violate():\n{violated}"
        assert preference.satisfy(satisfied) == satisfied  # already satisfied: left alone
        assert preference.violate(violated) == violated


def test_preference_catalogue_is_complete() -> None:
    assert len(TOPIC_PREFERENCES) >= 12
    assert {p.base_model_follows for p in TOPIC_PREFERENCES} == {False}
    assert all(p.base_model_follows for p in KNOWN_PREFERENCES)
    for preference in PREFERENCES.values():
        family, _, value = preference.aspect.partition(":")
        assert family and value, preference.id
        assert len(set(preference.followups)) >= 8, preference.id
    for preference_id, opposite_id in OPPOSITE_OF.items():
        assert PREFERENCES[opposite_id].family == PREFERENCES[preference_id].family
        assert PREFERENCES[opposite_id].aspect != PREFERENCES[preference_id].aspect
    assert set(OPPOSITE_OF) == {p.id for p in TOPIC_PREFERENCES}


def test_specific_checks_match_their_descriptions() -> None:
    prefs = PREFERENCES
    assert prefs["answer-yes-no"].check("No.") and not prefs["answer-yes-no"].check("Well, it depends.")
    assert not prefs["emoji-none"].check("Done ✅") and prefs["emoji-none"].check("Done at 200 °C.")
    assert not prefs["format-prose"].check("Steps:\n\n- one\n- two")
    assert prefs["units-metric"].check("Bake at 180 °C.") and not prefs["units-metric"].check("Bake at 350 °F.")
    assert prefs["units-metric"].satisfy("Bake at 350 °F for 20 minutes.") == "Bake at 175 °C for 20 minutes."
    assert not prefs["filler-none"].check("Great question! It is 4.")
    assert prefs["currency-eur"].satisfy("It costs $40.") == "It costs €40."
    assert not prefs["tone-formal"].check("You can't do that.")
    assert prefs["tone-formal"].satisfy("So basically, you can't do that. That's pretty much it, tbh.") == (
        "You cannot do that."
    )
    assert prefs["citations-required"].check("It is legal.\n\nSource: Citizens Advice (2024).")
    typed = prefs["code-type-hints"].satisfy("```python\ndef load_settings(path):\n    return {}\n```")
    assert "def load_settings(path: Path) -> dict[str, Any]:" in typed
    assert prefs["language-fr"].check("Réservez votre hôtel plusieurs mois à l'avance pour cette période.")


# ------------------------------------------------------------------------------------------------------ topics


def test_topics_have_enough_variety_and_valid_preferences() -> None:
    assert len(TOPICS) >= 8
    for topic in TOPICS:
        assert len(set(topic.query_templates)) >= 25, topic.name
        assert 1 <= len(topic.preference_ids) <= 3, topic.name
        for preference_id in (*topic.preference_ids, *topic.known_preference_ids):
            assert preference_id in PREFERENCES, (topic.name, preference_id)
        assert all(PREFERENCES[pid].base_model_follows for pid in topic.known_preference_ids)


# ------------------------------------------------------------------------------------------------------ ground truth


def test_every_log_carries_ground_truth_that_holds(logs_5000: list[SimulatedLog]) -> None:
    for log in logs_5000[:2000]:
        meta = log.metadata
        topic_prefs = [PREFERENCES[pid] for pid in meta["preference_ids"]]
        violated = meta["violated_preference_id"]
        for pref in topic_prefs:
            assert pref.check(log.response) == (pref.id != violated), (log.id, pref.id)
        assert all(pref.check(log.golden) for pref in topic_prefs)
        expressed = meta["expressed_preference_id"]
        assert meta["feedback_aspect"] == (PREFERENCES[expressed].aspect if expressed else None)
        edits = [event for event in log.feedback if isinstance(event, Edit)]
        if meta["noise"] is None:
            assert violated is not None
            assert expressed in (violated, None)
            for edit in edits:
                assert all(pref.check(edit.text) for pref in topic_prefs), log.id
        elif meta["noise"] == NoiseKind.CONTRADICTING:
            assert violated is None
            assert expressed in {OPPOSITE_OF[p] for p in meta["preference_ids"]}
            for edit in edits:
                assert PREFERENCES[expressed].check(edit.text), log.id
        elif meta["noise"] == NoiseKind.KNOWN_PREFERENCE:
            assert PREFERENCES[expressed].base_model_follows and PREFERENCES[expressed].check(log.response)
        elif meta["noise"] == NoiseKind.SATISFIED:
            assert violated is None and not edits
            assert not any(getattr(e, "value", None) == "dislike" for e in log.feedback)
        else:
            assert expressed is None


def test_followups_vary_and_every_clean_feedback_kind_occurs(logs_5000: list[SimulatedLog]) -> None:
    clean = [log for log in logs_5000 if log.noise is None]
    styles = Counter(log.metadata["feedback_style"] for log in clean)
    assert set(styles) == {
        "followup",
        "edit",
        "dislike+followup",
        "rating+followup",
        "rating+edit",
        "copy+edit",
        "dislike",
        "rating",
    }
    followups = {e.text for log in clean for e in log.feedback if isinstance(e, Followup)}
    assert len(followups) > 300
    terminated = [e for log in clean for e in log.feedback if getattr(e, "terminated", False)]
    assert terminated and all(getattr(e, "value", None) == "dislike" for e in terminated)


def test_noise_rates_are_within_tolerance(logs_5000: list[SimulatedLog]) -> None:
    rates = NoiseRates()
    counts = Counter(log.noise for log in logs_5000)
    n = len(logs_5000)
    for kind in NoiseKind:
        p = rates.rate(kind)
        tolerance = 4 * math.sqrt(n * p * (1 - p))
        assert abs(counts[kind.value] - n * p) <= tolerance, (kind, counts[kind.value], n * p)
    assert abs(counts[None] - n * (1 - rates.total)) <= 4 * math.sqrt(n * rates.total * (1 - rates.total))


def test_configured_noise_rates_are_honoured() -> None:
    noise = NoiseRates().with_overrides({"adversarial": 0.3, "satisfied": 0.0})
    logs = list(LogGenerator(SimulatorConfig(seed=2, noise=noise)).iter_logs(1000))
    counts = Counter(log.noise for log in logs)
    assert counts["satisfied"] == 0
    assert 240 <= counts["adversarial"] <= 360
    with pytest.raises(ValueError, match="unknown noise kind"):
        NoiseRates().with_overrides({"sarcasm": 0.1})
    with pytest.raises(ValueError, match="more than 1"):
        NoiseRates(satisfied=0.9, adversarial=0.2)


def test_contradicting_users_are_a_minority_of_users(logs_5000: list[SimulatedLog]) -> None:
    contrarians = {log.user_id for log in logs_5000 if log.noise == NoiseKind.CONTRADICTING}
    everyone = {log.user_id for log in logs_5000}
    assert 0 < len(contrarians) <= len(everyone) // 4
    assert all(log.noise == NoiseKind.CONTRADICTING for log in logs_5000 if log.user_id in contrarians)


# ------------------------------------------------------------------------------------------------------ formats


def test_plain_records_validate_as_log_records(logs_5000: list[SimulatedLog]) -> None:
    for log in logs_5000[:1000]:
        plain = log.to_plain()
        assert set(plain) == {"id", "user_id", "query", "response", "feedback", "metadata"}
        record = to_log_record(json.loads(json.dumps(plain)))
        assert record.query == log.query and record.response == log.response
        assert len(record.feedback) == len(log.feedback)


def test_memorybench_records_have_the_benchmark_shape(logs_5000: list[SimulatedLog]) -> None:
    for log in logs_5000[:1000]:
        record = json.loads(json.dumps(log.to_memorybench()))
        assert {"test_idx", "dataset_name", "lang", "input_prompt", "dialog", "implicit_feedback", "info"} <= set(
            record
        )
        assert record["lang"] == "en" and record["dataset_name"] == log.topic
        assert record["input_prompt"] == record["dialog"][0]["content"] == log.query
        roles = [turn["role"] for turn in record["dialog"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2), roles
        rounds = record["implicit_feedback"]
        assert [r["round"] for r in rounds] == list(range(1, len(roles) // 2 + 1))
        assert [r["terminated"] for r in rounds] == [False] * (len(rounds) - 1) + [True]
        assert {r["implicit_action"] for r in rounds} <= {"like", "dislike", "copy", "none"}
        assert record["info"]["hidden_preferences"] == log.metadata["preference_ids"]
        assert record["info"]["noise"] == log.noise


def test_held_out_queries_use_unseen_phrasings_and_include_unrelated_ones() -> None:
    queries = held_out_queries(300, seed=4)
    assert queries == held_out_queries(300, seed=4)
    unrelated = [q for q in queries if q.topic is None]
    assert 30 <= len(unrelated) <= 100 and all(q.expected_aspects == () for q in unrelated)
    training = {
        template.format(**case)
        for topic in TOPICS
        for intent in topic.intents
        for case, template in itertools.product(intent.cases, intent.training_queries)
    }
    for query in queries:
        if query.topic is not None:
            topic = next(t for t in TOPICS if t.name == query.topic)
            assert query.expected_aspects == tuple(PREFERENCES[p].aspect for p in topic.preference_ids)
            assert query.query not in training


# ------------------------------------------------------------------------------------------------------ CLI


def test_cli_writes_both_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--n", "100", "--seed", "9", "--out", str(tmp_path), "--format", "both"]) == 0
    assert len((tmp_path / PLAIN_FILE).read_text(encoding="utf-8").splitlines()) == 100
    assert len((tmp_path / MEMORYBENCH_FILE).read_text(encoding="utf-8").splitlines()) == 100
    assert "wrote 100 logs" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--n", "99"], "between 100 and 1,000,000"),
        (["--n", "2000000"], "between 100 and 1,000,000"),
        (["--n", "100", "--noise", "sarcasm=0.1"], "unknown noise kind"),
        (["--n", "100", "--noise", "adversarial"], "KIND=RATE"),
    ],
)
def test_cli_rejects_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    with pytest.raises(SystemExit):
        main([*arguments, "--out", str(tmp_path)])
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.simulator", "--n", "100", "--out", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / PLAIN_FILE).exists()


# ------------------------------------------------------------------------------------------------------ sample


def test_committed_sample_is_exactly_what_the_generator_writes(tmp_path: Path) -> None:
    logs_path, manifest_path = write_sample(tmp_path)
    assert logs_path.read_bytes() == (DEFAULT_DATA_DIR / LOGS_FILE).read_bytes()
    assert manifest_path.read_bytes() == (DEFAULT_DATA_DIR / MANIFEST_FILE).read_bytes()


def test_sample_reads_like_a_demo_dataset() -> None:
    lines = [json.loads(line) for line in (DEFAULT_DATA_DIR / LOGS_FILE).read_text(encoding="utf-8").splitlines()]
    manifest = json.loads((DEFAULT_DATA_DIR / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert 150 <= len(lines) <= 250 and manifest["records"] == len(lines)
    records = [to_log_record(line) for line in lines]
    assert len({r.id for r in records}) == len(records)
    assert 25 <= len({r.user_id for r in records}) <= 35
    assert len({r.query.lower() for r in records}) == len(records)
    assert len({line["metadata"]["topic"] for line in lines}) >= 6
    kinds = Counter(line["metadata"]["noise"] for line in lines)
    assert kinds["adversarial"] >= 5 and kinds["off_topic"] >= 5
    assert kinds["satisfied"] >= 5 and kinds["contradicting"] >= 3
    by_id = {line["id"]: line for line in lines}
    for kind in SAMPLE_NOISE_PLAN:
        planted = manifest["planted"][kind.value]
        assert planted and all(by_id[log_id]["metadata"]["noise"] == kind.value for log_id in planted)
    feedback_kinds = {event["kind"] for line in lines for event in line["feedback"]}
    assert feedback_kinds == {"followup", "edit", "reaction", "rating"}
    demo = manifest["demo_queries"]
    assert 6 <= len(demo) <= 10
    assert any(q["topic"] is None and q["expected_aspects"] == [] for q in demo)
    for query in demo:
        if query["topic"] is not None:
            assert query["expected_aspects"] == manifest["topics"][query["topic"]]["expected_aspects"]
