"""The harness's parts on small, exact inputs: BM25, text metrics, scoring, chunking, MemoryBench loading."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from benchmarks.bm25 import BM25, tokenize
from benchmarks.memorybench import (
    FIXTURE,
    Constants,
    DatasetConstants,
    MemoryBenchError,
    echo_injected_context,
    fixture_rows,
    golden_answer,
    input_messages,
    load_generate,
    load_records,
    main,
    run_memorybench,
    split_records,
    training_logs,
    with_context,
)
from benchmarks.methods import CountingLLM, InjectedContext, InjectedItem, message_turns, session_text
from benchmarks.metrics import PRF, UNLABELLED, LogTruth, QueryOutcome, credited_aspects, noise_logs, summarize
from benchmarks.rss import PeakRSS
from benchmarks.textmetrics import meteor, rouge_l, token_f1
from rule_store.records import LogRecord
from uno.ingest import parse_record

REPO = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------------------------------ BM25


def test_bm25_ranks_the_document_sharing_rare_terms_first() -> None:
    index = BM25(["how to roast a chicken", "roast potatoes in the oven", "cancel my subscription plan"])
    ranked = index.top_k("roast chicken", 3)
    assert [position for position, _ in ranked] == [0, 1]
    assert ranked[0][1] > ranked[1][1] > 0
    assert index.top_k("nothing shared", 5) == []


def test_bm25_scores_follow_okapi() -> None:
    index = BM25(["a b", "a c c", "d"], k1=1.5, b=0.75)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    average = (2 + 3 + 1) / 3
    expected = idf * 1 * 2.5 / (1 + 1.5 * (1 - 0.75 + 0.75 * 2 / average))
    assert index.scores("a")[0] == pytest.approx(expected)


def test_bm25_ranks_and_scores_as_rank_bm25_with_lucene_idf() -> None:
    """The reference library, given the same tokens and IDF, agrees on every score (bm25.py says why we keep ours)."""
    from rank_bm25 import BM25Okapi

    class LuceneIdfOkapi(BM25Okapi):  # type: ignore[misc]
        def _calc_idf(self, nd: dict[str, int]) -> None:
            self.idf = {t: math.log(1 + (self.corpus_size - df + 0.5) / (df + 0.5)) for t, df in nd.items()}

    documents = [
        "how to roast a chicken in the oven",
        "roast potatoes in the oven with oil",
        "cancel my subscription plan today",
        "the oven is broken, the chicken is raw",
        "plan a trip to roast 被告 coffee",
    ]
    ours = BM25(documents)
    reference = LuceneIdfOkapi([tokenize(d) for d in documents])
    for query in ["roast chicken", "oven", "the plan", "被告 coffee oil", "nothing shared"]:
        expected = reference.get_scores(sorted(set(tokenize(query))))
        assert ours.scores(query) == {i: pytest.approx(s) for i, s in enumerate(expected) if s > 0}
        order = sorted((i for i, s in enumerate(expected) if s > 0), key=lambda i: (-expected[i], i))
        assert [position for position, _ in ours.top_k(query, 5)] == order


def test_bm25_rejects_bad_parameters_and_tokenizes_cjk_per_character() -> None:
    with pytest.raises(ValueError, match="k1"):
        BM25(["x"], b=2.0)
    assert tokenize("Hello, 被告违约 world") == ["hello", "被", "告", "违", "约", "world"]


# ------------------------------------------------------------------------------------------------------ text metrics


def test_rouge_l_is_the_lcs_f_measure() -> None:
    assert rouge_l("the cat sat", "the cat sat") == 1.0
    assert rouge_l("dog", "the cat sat") == 0.0
    # LCS("a b c d", "a c d e f") = 3 -> P 3/4, R 3/5.
    assert rouge_l("a b c d", "a c d e f") == pytest.approx(2 * 0.75 * 0.6 / (0.75 + 0.6))


def test_rouge_l_equals_rouge_scores_own_tokenizer_on_english() -> None:
    """On ASCII text our tokens are rouge-score's, so scores are MemoryBench's (``evaluate.load("rouge")``)."""
    from rouge_score import rouge_scorer

    reference_scorer = rouge_scorer.RougeScorer(["rougeL"])
    rng = random.Random(3)
    words = ["The", "cat", "sat", "on", "mat,", "a", "dog's", "ran", "3.5", "km", "Paris!", "well-known", "it"]
    for _ in range(80):
        reference = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        prediction = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        expected = reference_scorer.score(reference, prediction)["rougeL"].fmeasure
        assert rouge_l(prediction, reference) == pytest.approx(expected, abs=1e-12), (prediction, reference)


def test_rouge_l_scores_chinese_and_accents_that_rouge_scores_tokenizer_drops() -> None:
    from rouge_score import rouge_scorer

    default = rouge_scorer.RougeScorer(["rougeL"])
    # rouge-score keeps only [a-z0-9]: a Chinese answer has no tokens at all and scores 0
    assert default.score("我喜欢吃苹果", "我喜欢吃香蕉")["rougeL"].fmeasure == 0.0
    # per character: LCS 我喜欢吃 = 4 of 6 each way
    assert rouge_l("我喜欢吃香蕉", "我喜欢吃苹果") == pytest.approx(4 / 6)
    # "año" (year) and "aço" (steel) both become "a o" there, a perfect match; here they are different words
    assert default.score("un año", "un aço")["rougeL"].fmeasure == 1.0
    assert rouge_l("un aço", "un año") == pytest.approx(0.5)


def test_meteor_penalises_fragmentation() -> None:
    same = meteor("a b c d", "a b c d")
    assert same == pytest.approx(1 - 0.5 * (1 / 4) ** 3)
    assert meteor("d c b a", "a b c d") < same
    assert meteor("x", "a b") == 0.0
    assert meteor("", "a b") == meteor("a b", "") == 0.0


def test_meteor_matches_stems_where_exact_matching_did_not() -> None:
    # exact matches only (the old harness): the, running -> P = R = 2/4, 2 chunks: 0.5 * (1 - 0.5 * (2/2)^3)
    exact_only = 0.5 * (1 - 0.5 * (2 / 2) ** 3)
    # NLTK's stem stage also pairs cats/cat: 3 matches in 2 chunks (the cats | running)
    with_stems = 0.75 * (1 - 0.5 * (2 / 3) ** 3)
    assert meteor("the cats were running", "the cat was running") == pytest.approx(with_stems)
    assert with_stems > exact_only


def test_token_f1_normalises_like_squad() -> None:
    assert token_f1("The answer: Paris!", "paris") == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert token_f1("an apple", "apple") == 1.0
    assert token_f1("", "apple") == 0.0


# ------------------------------------------------------------------------------------------------------ scoring

TRUTH = {
    "clean-1": LogTruth("length:short", None, "cooking"),
    "clean-2": LogTruth("length:short", None, "cooking"),
    "clean-3": LogTruth("units:metric", None, "cooking"),
    "attack": LogTruth(None, "adversarial", "cooking"),
    "contrary": LogTruth("length:long", "contradicting", "cooking"),
    "known": LogTruth("language:en", "known_preference", "cooking"),
}


def rule(*sources: str, aspect: str | None = None) -> InjectedItem:
    return InjectedItem("rule", "text", sources, aspect)


def chunk(source: str, *, feedback: bool = True) -> InjectedItem:
    return InjectedItem("chunk", "text", (source,), None, feedback)


def test_rules_count_as_their_declared_aspect_else_their_sources_majority() -> None:
    assert credited_aspects(rule("attack", aspect="format:prose"), TRUTH) == {"format:prose"}
    assert credited_aspects(rule("clean-1", "clean-2", "clean-3"), TRUTH) == {"length:short"}
    assert credited_aspects(rule("clean-1", "clean-3"), TRUTH) == {"length:short"}  # tie: alphabetical
    assert credited_aspects(rule("attack"), TRUTH) == {UNLABELLED}
    assert credited_aspects(rule("clean-1"), TRUTH, declared_only=True) == {UNLABELLED}


def test_chunks_count_only_when_they_hold_the_feedback() -> None:
    assert credited_aspects(chunk("clean-3"), TRUTH) == {"units:metric"}
    assert credited_aspects(chunk("clean-3", feedback=False), TRUTH) == set()
    assert noise_logs(chunk("attack"), TRUTH) == {"attack"}
    assert noise_logs(chunk("attack", feedback=False), TRUTH) == set()
    assert noise_logs(rule("clean-1", "contrary", "known"), TRUTH) == {"contrary"}


def test_prf_is_micro_averaged() -> None:
    prf = PRF.of([(frozenset({"a", "b"}), frozenset({"a", "c"})), (frozenset(), frozenset({"d"}))])
    assert (prf.true_positives, prf.false_positives, prf.false_negatives) == (1, 2, 1)
    assert prf.precision == pytest.approx(1 / 3) and prf.recall == pytest.approx(1 / 2)
    assert PRF.of([]).f1 == 0.0


def test_summary_counts_noise_known_preferences_and_unrelated_queries() -> None:
    def outcome(topic: str | None, expected: set[str], *items: InjectedItem) -> QueryOutcome:
        context = InjectedContext("x", 3, tuple(items))
        return QueryOutcome.score("q", topic, expected, context, TRUTH, seconds=0.002, embed_seconds=0.001)

    outcomes = [
        outcome("cooking", {"length:short", "units:metric"}, rule("clean-1", "clean-2"), chunk("attack")),
        outcome("cooking", {"length:short", "units:metric"}, chunk("known")),
        outcome(None, set(), rule("contrary")),
    ]
    scores = summarize(outcomes, TRUTH)
    assert scores.prf.true_positives == 1 and scores.prf.false_positives == 2
    assert scores.noise_acceptance_rate == 1.0  # both planted noise logs (attack, contrary) reached a context
    assert scores.noise_accepted["adversarial"] == 1 and scores.noise_planted["contradicting"] == 1
    assert scores.noisy_context_rate == pytest.approx(2 / 3)
    assert scores.known_skip_rate == pytest.approx(2 / 3)
    assert scores.unrelated_injection_rate == 1.0
    assert scores.rest_p50_ms == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------------ chunks


def test_message_turns_flag_feedback_in_plain_and_memorybench_logs() -> None:
    plain = parse_record(
        {"query": "q?", "response": "a.", "feedback": [{"kind": "followup", "text": "shorter"}, "thanks"]}, "plain"
    )
    assert [(t.role, t.is_feedback) for t in message_turns(plain)] == [
        ("user", False),
        ("assistant", False),
        ("user", True),
        ("user", True),
    ]
    [row] = [r for r in fixture_rows(30) if len(r["dialog"]) >= 4][:1]
    bench = parse_record(row, "memorybench")
    flags = [(t.role, t.is_feedback) for t in message_turns(bench)]
    assert flags[:3] == [("user", False), ("assistant", False), ("user", True)]
    assert ("assistant", True) not in flags
    assert "user: shorter" in session_text(plain)


# ------------------------------------------------------------------------------------------------------ MemoryBench


def test_fixture_file_is_what_the_simulator_writes() -> None:
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    assert rows == fixture_rows()
    assert {r["dataset_name"] for r in rows} == {"cooking", "saas_support"}


def test_records_load_from_jsonl_json_and_hub_encoded_columns(tmp_path: Path) -> None:
    hub = load_records(REPO / "tests" / "fixtures" / "memorybench_hub.json")
    assert golden_answer(hub[0]) == "An open-ended question."
    assert input_messages(hub[1])[0]["role"] == "system"
    logs, skipped = training_logs(hub)
    assert len(logs) == 2 and not skipped
    assert len(load_records(FIXTURE)) == 30
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.jsonl").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    assert len(load_records(folder)) == 30
    (tmp_path / "bad.jsonl").write_text('{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(MemoryBenchError, match="record 1 is not a MemoryBench row"):
        load_records(tmp_path / "bad.jsonl")


def test_split_is_per_dataset_and_deterministic() -> None:
    rows = load_records(FIXTURE)
    train, test = split_records(rows, test_fraction=0.2, seed=42)
    assert (len(train), len(test)) == (24, 6)
    assert sorted(r["dataset_name"] for r in test) == ["cooking"] * 3 + ["saas_support"] * 3
    assert split_records(rows, seed=42) == (train, test)
    assert split_records(rows, seed=1)[1] != test


def test_constants_normalise_and_validate(tmp_path: Path) -> None:
    constants = Constants.load()
    assert constants.of("WritingPrompts").metric == "meteor"
    assert constants.of("unknown-dataset") == constants.default
    assert DatasetConstants("rouge_l", 0.2, 0.6).normalise(0.4) == pytest.approx(0.5)
    assert DatasetConstants("rouge_l", 0.2, 0.6).normalise(0.9) == 1.0
    with pytest.raises(MemoryBenchError, match="unknown metric"):
        DatasetConstants("bleu", 0.0, 1.0)
    (tmp_path / "c.json").write_text("{}", encoding="utf-8")
    with pytest.raises(MemoryBenchError, match="not a constants file"):
        Constants.load(tmp_path / "c.json")


def test_context_goes_after_the_apps_system_prompt() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}]
    assert with_context(messages, "MEMORY")[0]["content"] == "Be brief.\n\nMEMORY"
    assert with_context(messages[1:], "MEMORY")[0] == {"role": "system", "content": "MEMORY"}
    assert with_context(messages, "") == messages
    assert echo_injected_context(with_context(messages[1:], "MEMORY")) == "MEMORY"


def test_memorybench_run_scores_every_test_row() -> None:
    train, test = split_records(load_records(FIXTURE))
    run = run_memorybench(train, test, ["no-memory", "uno", "bm25-s"], echo_injected_context, embedder="hashing")
    assert [m.key for m in run.methods] == ["no-memory", "uno", "bm25-s"]
    assert run.scored == len(test) == 6
    vanilla = run.methods[0]
    assert all(a.prediction == input_messages(r)[0]["content"] for a, r in zip(vanilla.answers, test, strict=True))
    for method in run.methods:
        assert 0.0 <= method.weighted_average <= 1.0
        assert set(method.per_dataset) == {"cooking", "saas_support"}
    assert run.methods[2].tokens_mean > 0


def test_memorybench_cli_writes_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--methods", "no-memory,bm25-m", "--embedder", "hashing", "--out", str(tmp_path)])
    assert code == 0
    assert "weighted avg" in (tmp_path / "memorybench.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "memorybench.json").read_text(encoding="utf-8"))["test"] == 6
    assert main(["--generate", "no_colon_here"]) == 2
    assert "--generate must look like" in capsys.readouterr().err


def test_generate_is_loaded_by_import_path() -> None:
    assert load_generate("benchmarks.memorybench:echo_injected_context") is echo_injected_context
    with pytest.raises(MemoryBenchError, match="not a callable"):
        load_generate("benchmarks.memorybench:FIXTURE")


# ------------------------------------------------------------------------------------------------------ costs


def test_counting_llm_counts_calls_and_tokens() -> None:
    class EchoLLM:
        model = "echo"

        def complete(self, messages: list[dict[str, str]]) -> str:
            return messages[-1]["content"]

    counted = CountingLLM(EchoLLM())
    assert counted.complete([{"role": "user", "content": "two words"}]) == "two words"
    assert (counted.calls, counted.tokens, counted.model) == (1, 4, "echo")


def test_peak_rss_sees_a_large_allocation() -> None:
    with PeakRSS() as peak:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
        block.sum()
    if peak.increase_mb is None:
        pytest.skip("no /proc/self/statm on this platform")
    assert peak.increase_mb >= 48


def test_log_record_fixture_is_a_log() -> None:
    rows = fixture_rows(3)
    assert all(isinstance(parse_record(r, "memorybench"), LogRecord) for r in rows)
