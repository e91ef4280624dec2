"""Sentence BLEU (the drift guard, NLTK's ``sentence_bleu`` on our tokens): CJK tokenisation and hand-computed cases
that pin UNO's settings (BLEU-4, uniform weights, brevity penalty, method1 smoothing, 0 without a shared word)."""

from __future__ import annotations

import math

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
