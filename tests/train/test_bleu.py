"""Sentence BLEU (the drift guard): hand-computed small cases, CJK tokenisation, and agreement with NLTK."""

from __future__ import annotations

import math
import random

import pytest

from uno.train.bleu import sentence_bleu, tokenize


def test_tokenize_splits_whitespace_and_every_cjk_character() -> None:
    assert tokenize("  Hello,\tworld \n foo ") == ["Hello,", "world", "foo"]
    assert tokenize("我爱Python编程。") == ["我", "爱", "Python", "编", "程", "。"]
    assert tokenize("abc中文def 1,2") == ["abc", "中", "文", "def", "1,2"]
    assert tokenize("すしが好き！") == ["す", "し", "が", "好", "き", "！"]
    assert tokenize("") == [] and tokenize(" \n ") == []


def test_exact_match_scores_one() -> None:
    text = "The capital of France is Paris and the capital of Italy is Rome."
    assert sentence_bleu(text, text) == pytest.approx(1.0)
    assert sentence_bleu(text, "  ".join(text.split())) == pytest.approx(1.0)  # whitespace runs do not matter


def test_one_substituted_word() -> None:
    # hypothesis "the cat sat on a mat" vs "the cat sat on the mat":
    # unigrams 5/6, bigrams 3/5 (the cat, cat sat, sat on), trigrams 2/4, 4-grams 1/3; equal length: no penalty
    expected = (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert sentence_bleu("the cat sat on the mat", "the cat sat on a mat") == pytest.approx(expected, rel=1e-12)


def test_missing_higher_order_matches_are_smoothed_with_method1() -> None:
    # "a b x c d" vs "a b c d e": unigrams 4/5, bigrams 2/4 (a b, c d), trigrams 0/3 -> 0.1/3, 4-grams 0/2 -> 0.1/2
    expected = (4 / 5 * 2 / 4 * (0.1 / 3) * (0.1 / 2)) ** 0.25
    score = sentence_bleu("a b c d e", "a b x c d")
    assert score == pytest.approx(expected, rel=1e-12)
    assert score > 0  # without smoothing a zero precision would make it 0


def test_no_shared_word_scores_zero_as_nltk_does() -> None:
    # NLTK returns 0 before smoothing when not a single unigram matches
    assert sentence_bleu("completely different words here", "nothing in common at all") == 0.0


def test_brevity_penalty_for_a_short_hypothesis() -> None:
    # every precision is 1; c = 4, r = 8: BP = exp(1 - 8/4)
    score = sentence_bleu("one two three four five six seven eight", "one two three four")
    assert score == pytest.approx(math.exp(1 - 8 / 4), rel=1e-12)
    # a longer hypothesis is not penalised: precision alone lowers it
    assert sentence_bleu("one two three four", "one two three four five") == pytest.approx(
        (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25, rel=1e-12
    )


def test_hypothesis_shorter_than_the_ngram_order() -> None:
    # "one two" vs "one two three": p1 = 2/2, p2 = 1/1, no trigram or 4-gram at all -> 0.1/1 each; BP = exp(1 - 3/2)
    expected = math.exp(1 - 3 / 2) * (1 * 1 * 0.1 * 0.1) ** 0.25
    assert sentence_bleu("one two three", "one two") == pytest.approx(expected, rel=1e-12)


def test_repeated_words_are_clipped_to_the_reference_count() -> None:
    # "the the the the" vs "the cat": p1 = 1/4 (clipped), p2 = 0.1/3, p3 = 0.1/2, p4 = 0.1/1; c = 4 > r = 2: no BP
    expected = (1 / 4 * (0.1 / 3) * (0.1 / 2) * (0.1 / 1)) ** 0.25
    assert sentence_bleu("the cat", "the the the the") == pytest.approx(expected, rel=1e-12)


def test_chinese_is_scored_per_character() -> None:
    # 我喜欢吃苹果 vs 我喜欢吃香蕉: six characters each; 4/6, 3/5, 2/4, 1/3
    expected = (4 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert sentence_bleu("我喜欢吃苹果", "我喜欢吃香蕉") == pytest.approx(expected, rel=1e-12)


def test_empty_hypothesis_and_max_n() -> None:
    assert sentence_bleu("some reference", "") == 0.0
    assert sentence_bleu("some reference", "  \n") == 0.0
    # BLEU-2 of the substituted-word example: (5/6 * 3/5) ** (1/2)
    assert sentence_bleu("the cat sat on the mat", "the cat sat on a mat", max_n=2) == pytest.approx(
        (5 / 6 * 3 / 5) ** 0.5, rel=1e-12
    )
    with pytest.raises(ValueError, match="max_n"):
        sentence_bleu("a", "a", max_n=0)


def _random_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """Reference/hypothesis pairs with partial overlap: edited copies, reorderings, unrelated text, Chinese."""
    rng = random.Random(seed)
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "yes", "no", "paris", "rome"]
    characters = list("我喜欢吃苹果香蕉今天很好")
    pairs = []
    for index in range(count):
        alphabet = characters if index % 5 == 0 else words
        joiner = "" if index % 5 == 0 else " "
        reference = [rng.choice(alphabet) for _ in range(rng.randint(0, 14))]
        hypothesis = list(reference)
        for _ in range(rng.randint(0, 5)):
            edit = rng.choice(["drop", "insert", "replace", "swap"])
            position = rng.randrange(len(hypothesis) + 1)
            if edit == "insert" or not hypothesis:
                hypothesis.insert(position, rng.choice(alphabet))
            elif edit == "drop":
                del hypothesis[min(position, len(hypothesis) - 1)]
            elif edit == "replace":
                hypothesis[min(position, len(hypothesis) - 1)] = rng.choice(alphabet)
            else:
                rng.shuffle(hypothesis)
        if index % 7 == 3:
            hypothesis = [rng.choice(alphabet) for _ in range(rng.randint(0, 6))]
        pairs.append((joiner.join(reference), joiner.join(hypothesis)))
    return pairs


def test_agrees_with_nltk_sentence_bleu_method1() -> None:
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    method1 = bleu_score.SmoothingFunction().method1
    pairs = _random_pairs(60, seed=7)
    scores = []
    for reference, hypothesis in pairs:
        expected = bleu_score.sentence_bleu([tokenize(reference)], tokenize(hypothesis), smoothing_function=method1)
        score = sentence_bleu(reference, hypothesis)
        assert score == pytest.approx(float(expected), abs=1e-12), (reference, hypothesis)
        scores.append(score)
    # the sample exercises every regime: zero, smoothed, penalised and perfect scores
    assert 0.0 in scores and 1.0 in scores
    assert any(0 < score < 0.05 for score in scores) and any(0.05 < score < 1 for score in scores)
