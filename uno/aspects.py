"""Aspects: coarse keys for what a rule is about, and code that checks whether a response already complies.

A rule's ``aspect`` is ``"family:value"`` ("length:short", "format:prose", "language:fr"). Two rules of one family
with different values contradict each other, except the few pairs listed in :data:`COMPATIBLE` (a family such as
``code`` holds independent habits: fenced blocks and type hints). Where a checker exists, the gap filter can
measure how often the model's own responses already follow a rule: a rule the model follows anyway is not worth
injecting. A checker returns None when the response gives it nothing to check (no amounts for a currency rule, no
function for a type-hint rule), so that such responses count neither for nor against the rule.

The text measurements the checkers rest on (currencies, type hints, contractions, code outside fences) are public:
the edit reader of :mod:`uno.distill.edits` uses the same definitions, so that "the user's edit added type hints"
and "the response has type hints" can never disagree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uno.emojis import has_emoji

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
_HEADING = re.compile(r"^\s*#{1,6}\s+\S|^\s*\*\*[^*\n]{2,60}\*\*\s*$", re.MULTILINE)
_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
_FILLER = re.compile(
    r"\b(great question|good question|i hope (this|that) helps|hope (this|that) helps|let me know if|happy to help"
    r"|feel free to|absolutely!|certainly!|of course!)",
    re.IGNORECASE,
)
_CITATION = re.compile(
    r"(\[\d+\]|\(\w[^()]{0,60}\d{4}\)|https?://|\bsources?:|\baccording to\b|\breferences?:)", re.IGNORECASE
)
_IMPERIAL = re.compile(
    r"\b\d+(\.\d+)?\s*(miles?|mi|feet|foot|ft|inch(es)?|in\.|lbs?|pounds?|ounces?|oz|°f|fahrenheit)\b", re.I
)
_METRIC = re.compile(
    r"\b\d+(\.\d+)?\s*(km|kilomet(er|re)s?|m|met(er|re)s?|cm|mm|kg|g|grams?|l|lit(er|re)s?|ml|°c|celsius)\b",
    re.I,
)
_CONTRACTION = re.compile(r"\b\w+['’](s|re|ve|ll|d|t|m)\b", re.IGNORECASE)
# Words of a casual register; "stuff" and "folks" are casual in an answer, whatever they mean in a query.
_SLANG = re.compile(
    r"\b(?:gonna|wanna|gotta|kinda|sorta|yeah|yep|yup|nope|hey|lol|tbh|btw|imo|basically|stuff|folks|awesome"
    r"|totally|no biggie|pretty much|cool|guys|ok so|super easy)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening))\b", re.IGNORECASE)
_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e|apologies|my apology)\b", re.IGNORECASE)
_DISCLAIMER = re.compile(
    r"\b(?:as an ai|i'?m not an? (?:doctor|lawyer|financial advisor|professional)|consult (?:a|your) (?:doctor"
    r"|professional|lawyer|physician|expert|qualified)|not (?:medical|legal|financial) advice|disclaimer)",
    re.IGNORECASE,
)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*(?:```|~~~)", re.MULTILINE)


@functools.cache
def _language_detector() -> Any:
    """lingua, restricted to the languages a rule can name (uno.distill.catalog.LANGUAGES, 35), in low-accuracy
    mode (trigrams only). Measured on a 600-character text: ~510 us a call, ~80 MB resident, ~0.35 s to load on
    first use (six languages: ~320 us, ~26 MB; high-accuracy mode: ~180 MB for six, same answers on our samples).
    The stop-word votes it replaces took ~55 us but knew six languages, left most short sentences undecided and
    took Italian for French. Neither caller (the gap filter, the edit reader) is on augment's path: both run at
    build time."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    from uno.distill.catalog import LANGUAGES

    codes = {getattr(IsoCode639_1, code.upper(), None) for code, _ in LANGUAGES.values()}
    codes |= {IsoCode639_1.NB, IsoCode639_1.NN}  # lingua's two Norwegians for our "no"
    return (
        LanguageDetectorBuilder.from_iso_codes_639_1(*(code for code in codes if code is not None))
        .with_low_accuracy_mode()
        .with_minimum_relative_distance(0.1)  # too close to call: None
        .build()
    )


_LINGUA_CODES = {"nb": "no", "nn": "no"}


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def detect_language(text: str) -> str | None:
    """Best-guess ISO 639-1 code of a language rules can name; None when the text is too short or too close to call."""
    if len(words(text)) < 4 and len(text.strip()) < 16:  # 16 characters: unspaced scripts (Japanese) have no words
        return None
    language = _language_detector().detect_language_of(text)
    if language is None:
        return None
    code = str(language.iso_code_639_1.name.lower())
    return _LINGUA_CODES.get(code, code)


# ----------------------------------------------------------------------------------------------- measurements

CURRENCIES = ("eur", "usd", "gbp")
_CURRENCY_MARKS: dict[str, re.Pattern[str]] = {
    "eur": re.compile(r"€\s?\d|\d\s?€|\b\d[\d,.]*\s?(?:eur|euros?)\b|\beur\s?\d", re.IGNORECASE),
    "usd": re.compile(r"(?<![£€\w])\$\s?\d|\b\d[\d,.]*\s?(?:usd|(?:us )?dollars?)\b|\busd\s?\d", re.IGNORECASE),
    "gbp": re.compile(r"£\s?\d|\b\d[\d,.]*\s?(?:gbp|pounds? sterling|quid)\b|\bgbp\s?\d", re.IGNORECASE),
}


def currency_amounts(text: str) -> dict[str, int]:
    """How many amounts of each currency the text gives: ``{"eur": 2, "usd": 0, "gbp": 0}``."""
    return {code: len(pattern.findall(text)) for code, pattern in _CURRENCY_MARKS.items()}


def _currency_checker(code: str) -> Callable[[str], bool | None]:
    def check(text: str) -> bool | None:
        amounts = currency_amounts(text)
        if not any(amounts.values()):
            return None
        return amounts[code] > 0 and all(n == 0 for other, n in amounts.items() if other != code)

    return check


_DEF = re.compile(
    r"^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\((?P<params>(?:[^()\n]|\([^()\n]*\))*)\)[ \t]*(?P<returns>->[^:\n]+)?:",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Signature:
    """One Python ``def`` line: how many of its parameters are annotated, and whether it declares a return type."""

    params: int
    annotated: int
    returns: bool

    @property
    def fully_typed(self) -> bool:
        return self.annotated == self.params and self.returns

    @property
    def untyped(self) -> bool:
        return self.annotated == 0 and not self.returns


def _top_level_params(params: str) -> list[str]:
    parts: list[str] = []
    depth, current = 0, ""
    for char in params:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [p for p in parts if p and p not in ("self", "cls", "*", "/") and not p.startswith(("self:", "cls:"))]


def signatures(text: str) -> list[Signature]:
    """Every ``def`` of the text (inside or outside code fences), with its annotations counted."""
    found = []
    for match in _DEF.finditer(text):
        params = _top_level_params(match.group("params"))
        annotated = sum(":" in p.split("=", 1)[0] for p in params)
        found.append(Signature(len(params), annotated, match.group("returns") is not None))
    return found


def _type_hints(text: str) -> bool | None:
    found = signatures(text)
    return None if not found else all(s.fully_typed for s in found)


def _no_type_hints(text: str) -> bool | None:
    found = signatures(text)
    return None if not found else all(s.untyped for s in found)


_CODE_LINE = re.compile(
    r"^(?:def \w+\(|class \w+[(:]|import \w|from [\w.]+ import |return\b|print\(|for \w+ in .+:$|while .+:$"
    r"|if .+:$|@\w+|\w+ = \S|\s{4}\S.*[()=:]\s*$)"
)


def code_outside_fences(text: str) -> int:
    """Lines that look like code but sit outside any fenced code block."""
    count, fenced = 0, False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _CODE_LINE.match(line):
            count += 1
    return count


def _fenced(text: str) -> bool | None:
    loose = code_outside_fences(text)
    if loose:
        return False
    return True if _FENCE.search(text) else None


def slang_words(text: str) -> int:
    """Casual words ("gonna", "basically", "stuff", "tbh") in the text."""
    return len(_SLANG.findall(text))


def casual_markers(text: str) -> int:
    """Contractions plus casual words: how chatty the register is."""
    return len(_CONTRACTION.findall(text)) + slang_words(text)


def _answer_first(text: str) -> bool:
    first = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0].lower()
    return not re.match(r"(great|good|sure|certainly|absolutely|well|so|there are|it depends|let me|first)", first)


CHECKERS: dict[str, Callable[[str], bool | None]] = {
    "length:short": lambda t: len(words(t)) <= 80,
    "length:long": lambda t: len(words(t)) >= 150,
    "format:prose": lambda t: not _BULLET.search(t),
    "format:lists": lambda t: bool(_BULLET.search(t)),
    "format:no_headings": lambda t: not _HEADING.search(t),
    "headings:none": lambda t: not _HEADING.search(t),
    "table:use": lambda t: len(_TABLE_ROW.findall(t)) >= 2,
    "table:none": lambda t: len(_TABLE_ROW.findall(t)) < 2,
    "emoji:none": lambda t: not has_emoji(t),
    "emoji:use": has_emoji,
    "answer:yes_no": lambda t: bool(re.match(r"\s*(yes|no)\b[.!]?\s*$", t, re.IGNORECASE)),
    "filler:none": lambda t: not _FILLER.search(t),
    "filler:friendly": lambda t: bool(_FILLER.search(t)),
    "greeting:none": lambda t: not _GREETING.match(t),
    "apology:none": lambda t: not _APOLOGY.search(t),
    "disclaimers:none": lambda t: not _DISCLAIMER.search(t),
    "citations:required": lambda t: bool(_CITATION.search(t)),
    "citations:none": lambda t: not _CITATION.search(t),
    "units:metric": lambda t: not _IMPERIAL.search(t),
    "units:imperial": lambda t: not _METRIC.search(t),
    "currency:eur": _currency_checker("eur"),
    "currency:usd": _currency_checker("usd"),
    "currency:gbp": _currency_checker("gbp"),
    "code:type_hints": _type_hints,
    "code:no_type_hints": _no_type_hints,
    "code:fenced": _fenced,
    "tone:formal": lambda t: not _CONTRACTION.search(t) and "!" not in t and not has_emoji(t),
    "tone:casual": lambda t: casual_markers(t) > 0,
    "tone:neutral": lambda t: "!" not in t,
    "structure:answer_first": _answer_first,
}

# Values of one family that do not exclude each other: fenced code can have type hints or not, and a plain
# "yes" is also an answer without explanation.
COMPATIBLE: frozenset[frozenset[str]] = frozenset(
    {
        frozenset({"code:fenced", "code:type_hints"}),
        frozenset({"code:fenced", "code:no_type_hints"}),
        frozenset({"answer:yes_no", "answer:bare"}),
    }
)


def split_aspect(aspect: str | None) -> tuple[str | None, str | None]:
    if not aspect:
        return None, None
    family, _, value = aspect.partition(":")
    return family, value or None


def contradicts(a: str | None, b: str | None) -> bool:
    """Two aspects of one family with different values ask for opposite things (unless :data:`COMPATIBLE`)."""
    family_a, value_a = split_aspect(a)
    family_b, value_b = split_aspect(b)
    if family_a is None or family_a != family_b or value_a == value_b:
        return False
    return frozenset({a, b}) not in COMPATIBLE


def complies(aspect: str | None, response: str) -> bool | None:
    """Whether ``response`` already follows a rule of this aspect; None when no checker knows or can tell."""
    if not aspect:
        return None
    family, value = split_aspect(aspect)
    if family == "language" and value:
        detected = detect_language(response)
        return None if detected is None else detected == value
    checker = CHECKERS.get(aspect)
    return None if checker is None else checker(response)
