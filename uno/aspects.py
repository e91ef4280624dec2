"""Aspects: coarse keys for what a rule is about, and code that checks whether a response already complies.

A rule's ``aspect`` is ``"family:value"`` ("length:short", "format:prose", "language:fr"). Two rules of one family
with different values contradict each other. Where a checker exists, the gap filter can measure how often the
model's own responses already follow a rule: a rule the model follows anyway is not worth injecting.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_HEADING = re.compile(r"^\s*#{1,6}\s+\S|^\s*\*\*[^*\n]{2,60}\*\*\s*$", re.MULTILINE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff]")
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_FILLER = re.compile(
    r"\b(great question|good question|i hope (this|that) helps|let me know if|happy to help|feel free to|"
    r"absolutely!|certainly!|of course!)",
    re.IGNORECASE,
)
_CITATION = re.compile(r"(\[\d+\]|\(\w[^()]{0,60}\d{4}\)|https?://|\bsource:|\baccording to\b)", re.IGNORECASE)
_IMPERIAL = re.compile(
    r"\b\d+(\.\d+)?\s*(miles?|mi|feet|foot|ft|inch(es)?|in\.|lbs?|pounds?|ounces?|oz|°f|fahrenheit)\b", re.I
)
_METRIC = re.compile(
    r"\b\d+(\.\d+)?\s*(km|kilomet(er|re)s?|m|met(er|re)s?|cm|mm|kg|g|grams?|l|lit(er|re)s?|ml|°c|celsius)\b",
    re.I,
)
_CONTRACTION = re.compile(r"\b\w+'(s|re|ve|ll|d|t|m)\b", re.IGNORECASE)

_STOPWORDS = {
    "en": {"the", "and", "is", "are", "you", "to", "of", "with", "for", "this", "that", "it", "in"},
    "fr": {"le", "la", "les", "et", "est", "vous", "pour", "avec", "une", "des", "du", "que", "dans"},
    "es": {"el", "la", "los", "las", "y", "es", "para", "con", "una", "del", "que", "en", "por"},
    "de": {"der", "die", "das", "und", "ist", "sie", "mit", "für", "ein", "eine", "nicht", "zu", "den"},
    "it": {"il", "lo", "gli", "e", "è", "per", "con", "una", "che", "di", "del", "non", "della"},
    "pt": {"o", "os", "as", "e", "é", "para", "com", "uma", "que", "não", "do", "da", "em"},
}


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def detect_language(text: str) -> str | None:
    """Best-guess language code from stop words; None when the text is too short to tell."""
    tokens = [w.lower() for w in words(text)]
    if len(tokens) < 4:
        return None
    counts = {lang: sum(t in stop for t in tokens) for lang, stop in _STOPWORDS.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] >= max(2, len(tokens) // 25) else None


def _answer_first(text: str) -> bool:
    first = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0].lower()
    return not re.match(r"(great|good|sure|certainly|absolutely|well|so|there are|it depends|let me|first)", first)


CHECKERS: dict[str, Callable[[str], bool]] = {
    "length:short": lambda t: len(words(t)) <= 80,
    "length:long": lambda t: len(words(t)) >= 150,
    "format:prose": lambda t: not _BULLET.search(t),
    "format:lists": lambda t: bool(_BULLET.search(t)),
    "format:no_headings": lambda t: not _HEADING.search(t),
    "headings:none": lambda t: not _HEADING.search(t),
    "emoji:none": lambda t: not _EMOJI.search(t),
    "answer:yes_no": lambda t: bool(re.match(r"\s*(yes|no)\b[.!]?\s*$", t, re.IGNORECASE)),
    "filler:none": lambda t: not _FILLER.search(t),
    "citations:required": lambda t: bool(_CITATION.search(t)),
    "units:metric": lambda t: not _IMPERIAL.search(t),
    "units:imperial": lambda t: not _METRIC.search(t),
    "tone:formal": lambda t: not _CONTRACTION.search(t) and "!" not in t and not _EMOJI.search(t),
    "tone:neutral": lambda t: "!" not in t,
    "structure:answer_first": _answer_first,
}


def split_aspect(aspect: str | None) -> tuple[str | None, str | None]:
    if not aspect:
        return None, None
    family, _, value = aspect.partition(":")
    return family, value or None


def contradicts(a: str | None, b: str | None) -> bool:
    """Two aspects of one family with different values ask for opposite things."""
    family_a, value_a = split_aspect(a)
    family_b, value_b = split_aspect(b)
    return family_a is not None and family_a == family_b and value_a != value_b


def complies(aspect: str | None, response: str) -> bool | None:
    """Whether ``response`` already follows a rule of this aspect; None when no checker knows."""
    if not aspect:
        return None
    family, value = split_aspect(aspect)
    if family == "language" and value:
        detected = detect_language(response)
        return None if detected is None else detected == value
    checker = CHECKERS.get(aspect)
    return None if checker is None else checker(response)
