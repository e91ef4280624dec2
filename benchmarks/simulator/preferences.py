"""Hidden user preferences that code can check.

A preference answers three questions about a response: does it satisfy me (``check``), what would the base model
have written instead (``violate``), and how would the user rewrite it (``satisfy``, the text of a user edit).
All three are pure functions of the text: the same input always gives the same output, so logs are reproducible
and the ground truth can be verified after the fact.

``violate`` and ``satisfy`` return their input unchanged when it already violates or satisfies the preference, so
they compose: the generator satisfies every other preference of a topic and then violates one.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial

from benchmarks.simulator.textops import (
    BULLET_RE,
    EMOJI_RE,
    FENCE,
    ensure_period,
    is_code_block,
    is_list_block,
    is_list_line,
    is_prose_block,
    join_blocks,
    join_sentences,
    lower_first,
    prose_text,
    split_blocks,
    split_sentences,
    stable_index,
    stable_pick,
    strip_bullet,
    tidy_spaces,
    upper_first,
    word_count,
    words,
)
from benchmarks.simulator.topics import TOPICS
from benchmarks.simulator.translation import ELABORATION, to_english, to_french

MIN_FOLLOWUPS = 8
_ASPECT_RE = re.compile(r"^[a-z_]+:[a-z_]+$")


@dataclass(frozen=True, kw_only=True)
class Preference(ABC):
    """A hidden preference: an id, a ``family:value`` aspect, a check and the two rewrites.

    ``followups`` are things a user writes when a response violates it. ``base_model_follows`` marks preferences
    the base model already honours: feedback about them carries no new information (the gap filter should drop it).
    """

    id: str
    aspect: str
    description: str
    followups: tuple[str, ...]
    base_model_follows: bool = False

    def __post_init__(self) -> None:
        if not _ASPECT_RE.match(self.aspect):
            raise ValueError(f"preference {self.id!r}: aspect {self.aspect!r} is not 'family:value'")
        if len(self.followups) < MIN_FOLLOWUPS:
            raise ValueError(f"preference {self.id!r} needs at least {MIN_FOLLOWUPS} follow-up phrasings")

    @property
    def family(self) -> str:
        return self.aspect.split(":", 1)[0]

    @abstractmethod
    def check(self, response: str) -> bool:
        """True when ``response`` satisfies the preference."""

    def violate(self, response: str) -> str:
        """A version of ``response`` that violates the preference (``response`` itself if it already does)."""
        return response if not self.check(response) else self._violate(response)

    def satisfy(self, response: str) -> str:
        """A version of ``response`` that satisfies the preference (``response`` itself if it already does)."""
        return response if self.check(response) else self._satisfy(response)

    @abstractmethod
    def _violate(self, response: str) -> str: ...

    @abstractmethod
    def _satisfy(self, response: str) -> str: ...


def _map_blocks(text: str, rewrite: Callable[[str], str]) -> str:
    """Apply ``rewrite`` to every prose and list block, never to code."""
    return join_blocks([block if is_code_block(block) else rewrite(block) for block in split_blocks(text)])


def _map_sentences(block: str, rewrite: Callable[[str], str | None]) -> str:
    """Rewrite (or drop, when ``rewrite`` returns None) each sentence of a prose block or item of a list block."""
    if is_list_block(block):
        items = []
        for line in block.split("\n"):
            marker = BULLET_RE.match(line)
            new = rewrite(strip_bullet(line))
            if new and marker:
                items.append(marker.group(0) + new)
        return "\n".join(items)
    kept = [new for sentence in split_sentences(block) if (new := rewrite(sentence))]
    return join_sentences(kept)


def _prose_indices(blocks: list[str]) -> list[int]:
    return [i for i, block in enumerate(blocks) if is_prose_block(block)]


# ------------------------------------------------------------------------------------------------------ length


@dataclass(frozen=True, kw_only=True)
class MaxWords(Preference):
    """At most ``max_words`` words; a violation pads the answer past ``padded_words``."""

    max_words: int = 60
    padded_words: int = 100

    def check(self, response: str) -> bool:
        return word_count(response) <= self.max_words

    def _violate(self, response: str) -> str:
        french = _looks_french(response)
        pool = [fr if french else en for en, fr in ELABORATION]
        start = stable_index(response, len(pool))
        padding: list[str] = []
        total = word_count(response)
        for step in range(len(pool)):
            if total > self.padded_words:
                break
            sentence = pool[(start + step) % len(pool)]
            padding.append(sentence)
            total += word_count(sentence)
        blocks = split_blocks(response)
        if blocks and is_prose_block(blocks[-1]):
            blocks[-1] = join_sentences([blocks[-1], *padding])
        else:
            blocks.append(join_sentences(padding))
        return join_blocks(blocks)

    def _satisfy(self, response: str) -> str:
        # A user trimming an answer first deletes the generic padding, then cuts from the end.
        response = _map_blocks(response, lambda block: _map_sentences(block, _drop_padding))
        if self.check(response):
            return response
        budget = self.max_words
        kept: list[str] = []
        for block in split_blocks(response):
            units = (
                [block]
                if is_code_block(block)
                else block.split("\n")
                if is_list_block(block)
                else split_sentences(block)
            )
            taken = []
            for unit in units:
                size = word_count(unit)
                if size > budget:
                    break
                taken.append(unit)
                budget -= size
            if taken:
                kept.append("\n".join(taken) if is_list_block(block) else join_sentences(taken))
            if len(taken) < len(units):
                break
        if not kept:  # the first sentence alone is too long: cut it
            first = words(prose_text(response))[: self.max_words - 1]
            return ensure_period(" ".join(first))
        return join_blocks(kept)


_PADDING = frozenset(sentence for pair in ELABORATION for sentence in pair)


def _drop_padding(sentence: str) -> str | None:
    return None if sentence in _PADDING else sentence


# ------------------------------------------------------------------------------------------------------ format


@dataclass(frozen=True, kw_only=True)
class ProseOnly(Preference):
    """No bullet or numbered lists: flowing prose."""

    def check(self, response: str) -> bool:
        return not any(
            is_list_line(line)
            for block in split_blocks(response)
            if not is_code_block(block)
            for line in block.split("\n")
        )

    def _violate(self, response: str) -> str:
        blocks = split_blocks(response)
        style = stable_pick(("- ", "* ", "• ", "1. "), response)
        for index in _prose_indices(blocks):
            sentences = split_sentences(blocks[index])
            if len(sentences) >= 2:
                intro, items = sentences[0], sentences[1:]
                blocks[index : index + 1] = [intro, _bullets(items, style)]
                return join_blocks(blocks)
        prose = _prose_indices(blocks)
        if prose:  # a one-sentence answer still becomes a one-item list
            blocks[prose[0]] = "Key points:\n" + _bullets(split_sentences(blocks[prose[0]]), style)
            return join_blocks(blocks)
        return join_blocks([*blocks, _bullets(["See the example above."], style)])

    def _satisfy(self, response: str) -> str:
        merged: list[str] = []
        previous_was_prose = False
        for block in split_blocks(response):
            if is_code_block(block):
                merged.append(block)
                previous_was_prose = False
                continue
            lines = [line for line in block.split("\n") if line.strip()]
            had_list = any(is_list_line(line) for line in lines)
            sentences = [ensure_period(strip_bullet(line)) for line in lines if not line.rstrip().endswith(":")]
            prose = join_sentences(sentences)
            if not prose:
                continue
            if had_list and previous_was_prose:
                merged[-1] = join_sentences([merged[-1], prose])
            else:
                merged.append(prose)
            previous_was_prose = True
        return join_blocks(merged)


def _bullets(items: Iterable[str], style: str) -> str:
    if style == "1. ":
        return "\n".join(f"{number}. {item}" for number, item in enumerate(items, start=1))
    return "\n".join(style + item for item in items)


# ------------------------------------------------------------------------------------------------------ yes / no

_YES_NO_RE = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_NEGATIVE_RE = re.compile(r"\b(?:not|cannot|no|never)\b|n't\b", re.IGNORECASE)
_LEAD_INS = (
    "Here is how that works in your workspace.",
    "Let me explain how this works.",
    "That depends a little on your setup, so here are the details.",
    "Thanks for checking before you start.",
)


@dataclass(frozen=True, kw_only=True)
class YesNoOnly(Preference):
    """Starts with a plain yes or no and stops there (at most ``max_words`` words)."""

    max_words: int = 15

    def check(self, response: str) -> bool:
        return bool(_YES_NO_RE.match(response.strip())) and word_count(response) <= self.max_words

    def _violate(self, response: str) -> str:
        return f"{stable_pick(_LEAD_INS, response)} {response.strip()}"

    def _satisfy(self, response: str) -> str:
        for sentence in split_sentences(prose_text(response)):
            match = _YES_NO_RE.match(sentence)
            if match:
                if word_count(sentence) <= self.max_words:
                    return sentence
                return "Yes." if match.group(1).lower() == "yes" else "No."
        return "No." if _NEGATIVE_RE.search(prose_text(response)) else "Yes."


# ------------------------------------------------------------------------------------------------------ emoji

_EMOJI_BY_KEYWORD: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("python", "function", "code", "list", "dict"), ("🐍", "💻", "🚀")),
    (("run", "km", "protein", "squat", "ride", "walk", "training", "warm"), ("💪", "🏃", "🔥")),
    (("plant", "soil", "prune", "compost", "lawn", "water", "seed"), ("🌱", "🌿", "🌻")),
    (("tasklane", "export", "plan", "integration", "settings", "workspace"), ("✅", "👍", "🙌")),
    (("oven", "bake", "cook", "rice", "pasta", "fry"), ("🍳", "😋", "🔥")),
)
_GENERIC_EMOJI = ("✨", "👍", "😊")


@dataclass(frozen=True, kw_only=True)
class NoEmoji(Preference):
    """No emoji or pictographs anywhere."""

    def check(self, response: str) -> bool:
        return EMOJI_RE.search(response) is None

    def _violate(self, response: str) -> str:
        lowered = response.lower()
        palette = next((emoji for keys, emoji in _EMOJI_BY_KEYWORD if any(k in lowered for k in keys)), _GENERIC_EMOJI)
        first = stable_pick(palette, response)
        last = stable_pick(palette, response[::-1])
        blocks = split_blocks(response)
        writable = [i for i, block in enumerate(blocks) if not is_code_block(block)]
        if not writable:
            return join_blocks([*blocks, first])
        head, tail = writable[0], writable[-1]
        blocks[head] = _decorate_first_unit(blocks[head], first)
        blocks[tail] = blocks[tail].rstrip() + " " + last
        return join_blocks(blocks)

    def _satisfy(self, response: str) -> str:
        return _map_blocks(response, lambda block: tidy_spaces(EMOJI_RE.sub("", block)))


def _decorate_first_unit(block: str, emoji: str) -> str:
    if is_list_block(block):
        lines = block.split("\n")
        lines[0] = f"{lines[0].rstrip()} {emoji}"
        return "\n".join(lines)
    sentences = split_sentences(block)
    sentences[0] = f"{sentences[0]} {emoji}"
    return join_sentences(sentences)


# ------------------------------------------------------------------------------------------------------ filler

_FILLER_RE = re.compile(
    r"\b(?:great|good|excellent|fantastic|what a great) question\b"
    r"|\bhappy to help\b|\bhope (?:this|that) helps\b|\bi hope this (?:helps|answers)\b"
    r"|\blet me know if you have any (?:other|more|further) questions\b|\bfeel free to (?:ask|reach out)\b"
    r"|\bas an ai\b|^(?:absolutely|certainly|of course|sure thing)\s*[!.]",
    re.IGNORECASE,
)
_FILLER_OPENERS = ("Great question!", "What a great question!", "Happy to help!", "Absolutely!", "Of course!")
_FILLER_CLOSERS = (
    "Hope this helps!",
    "Let me know if you have any other questions!",
    "I hope this helps, and feel free to ask if anything is unclear!",
    "Happy to help anytime, so let me know if you have any other questions.",
)


def _is_filler(sentence: str) -> bool:
    return bool(_FILLER_RE.search(sentence.strip()))


@dataclass(frozen=True, kw_only=True)
class NoFiller(Preference):
    """No pleasantries ("Great question!", "Hope this helps!")."""

    def check(self, response: str) -> bool:
        return not any(
            _is_filler(sentence)
            for block in split_blocks(response)
            if not is_code_block(block)
            for sentence in _units(block)
        )

    def _violate(self, response: str) -> str:
        opener = stable_pick(_FILLER_OPENERS, response)
        closer = stable_pick(_FILLER_CLOSERS, response[::-1])
        blocks = split_blocks(response)
        prose = _prose_indices(blocks)
        if not prose:
            return join_blocks([opener, *blocks, closer])
        blocks[prose[0]] = f"{opener} {blocks[prose[0]]}"
        blocks[prose[-1]] = f"{blocks[prose[-1]]} {closer}"
        return join_blocks(blocks)

    def _satisfy(self, response: str) -> str:
        return _map_blocks(response, lambda block: _map_sentences(block, lambda s: None if _is_filler(s) else s))


def _units(block: str) -> list[str]:
    """Sentences of a prose block, items of a list block."""
    if is_list_block(block):
        return [strip_bullet(line) for line in block.split("\n")]
    return split_sentences(block)


# ------------------------------------------------------------------------------------------------------ answer first

_PREAMBLES = (
    "There are several factors to weigh here, and the details depend on your situation.",
    "Before getting to the answer, it helps to understand how this works in general.",
    "This is a common question, and the answer has a few moving parts.",
    "To answer this properly, it is worth looking at the wider context first.",
    "There are a few background points to cover first.",
)
_PREAMBLE_RE = re.compile(
    r"^(?:there are (?:several|many|a few|a number of)\b|before (?:getting|we|answering|diving)\b"
    r"|this is a (?:common|great|good|complex|nuanced|tricky) question\b|to answer this\b"
    r"|it is (?:important|worth|helpful) to (?:consider|look|understand|note)\b|let me\b|when it comes to\b)",
    re.IGNORECASE,
)
_VERDICT_RE = re.compile(
    r"\b(?:yes|no|not|can|cannot|should|must|need|needs|will|is|are|aim|use|keep|plan|usually|generally)\b|\d|€",
    re.IGNORECASE,
)


def _gives_answer(sentence: str) -> bool:
    return not _PREAMBLE_RE.match(sentence) and not _is_filler(sentence) and bool(_VERDICT_RE.search(sentence))


@dataclass(frozen=True, kw_only=True)
class AnswerFirst(Preference):
    """The first sentence carries the answer; context comes after."""

    def check(self, response: str) -> bool:
        for block in split_blocks(response):
            if not is_code_block(block):
                units = _units(block)
                return bool(units) and _gives_answer(units[0])
        return True

    def _violate(self, response: str) -> str:
        count = 1 + stable_index(response, 2)
        start = stable_index(response[::-1], len(_PREAMBLES))
        preamble = " ".join(_PREAMBLES[(start + i) % len(_PREAMBLES)] for i in range(count))
        blocks = split_blocks(response)
        first = next((i for i, block in enumerate(blocks) if not is_code_block(block)), None)
        if first is not None and is_prose_block(blocks[first]):
            blocks[first] = f"{preamble} {blocks[first]}"
        else:
            blocks.insert(first or 0, preamble)
        return join_blocks(blocks)

    def _satisfy(self, response: str) -> str:
        blocks = split_blocks(response)
        for index, block in enumerate(blocks):
            if is_code_block(block):
                continue
            if is_list_block(block):
                blocks.insert(index, "In short, you can follow these steps.")
                return join_blocks(blocks)
            sentences = split_sentences(block)
            while sentences and (_PREAMBLE_RE.match(sentences[0]) or _is_filler(sentences[0])):
                sentences.pop(0)
            answer = next((s for s in sentences if _gives_answer(s)), None)
            if answer is None:
                sentences.insert(0, "In short, you can handle this as described below.")
            else:
                sentences.remove(answer)
                sentences.insert(0, answer)
            blocks[index] = join_sentences(sentences)
            return join_blocks(blocks)
        return response


# ------------------------------------------------------------------------------------------------------ citations

_CITATION_RE = re.compile(
    r"^\s*sources?:\s*\S|\[\d+\]|https?://\S+|\([A-Z][^()]*?,\s*(?:19|20)\d{2}\)", re.IGNORECASE | re.MULTILINE
)
_SOURCE_LINE_RE = re.compile(r"^\s*sources?:.*$", re.IGNORECASE | re.MULTILINE)
_SOURCES: tuple[tuple[str, str], ...] = (
    (r"landlord|tenan|lease", "Shelter, Tenancy deposits and your rights (2024)"),
    (r"overtime|employer|non-compete|employment", "European Commission, Working conditions and working time (2023)"),
    (r"copyright|image|licence", "European Union Intellectual Property Office, Copyright basics (2023)"),
    (r"cancel|refund|delivery|warranty", "European Commission, Your Europe: guarantees and returns (2024)"),
    (r"small claims|court", "European e-Justice Portal, European Small Claims Procedure (2024)"),
    (r"\bwill\b.*\b(?:witness|executor|guardian)", "Citizens Advice, Making a will (2024)"),
    (r"index fund|stock|expense ratio|invest", "European Securities and Markets Authority, Investing basics (2024)"),
    (r"credit card|balance|debt|loan", "European Central Bank, Consumer credit explained (2023)"),
    (r"budget|salary|payday", "OECD, Managing a household budget (2022)"),
    (r"retire|pension", "OECD, Pensions at a Glance (2023)"),
    (r"deposit|notary|property", "European Central Bank, Buying a home: the costs to plan for (2024)"),
    (r"savings|emergency|inflation", "European Banking Authority, Deposit guarantee schemes (2023)"),
    (r"sleep|doctor|vitamin|headache", "NHS, Health A to Z (2024)"),
)
_DEFAULT_SOURCE = "Encyclopaedia Britannica, overview article (2024)"


@dataclass(frozen=True, kw_only=True)
class CitesSource(Preference):
    """Names a source the reader can check."""

    def check(self, response: str) -> bool:
        return _CITATION_RE.search(_prose_with_lines(response)) is not None

    def _violate(self, response: str) -> str:
        def strip_citations(block: str) -> str:
            block = _SOURCE_LINE_RE.sub("", block)
            block = re.sub(r"\s*\[\d+\]|\s*https?://\S+|\s*\([A-Z][^()]*?,\s*(?:19|20)\d{2}\)", "", block)
            return tidy_spaces(block)

        return _map_blocks(response, strip_citations)

    def _satisfy(self, response: str) -> str:
        lowered = response.lower()
        source = next((src for pattern, src in _SOURCES if re.search(pattern, lowered)), _DEFAULT_SOURCE)
        return join_blocks([*split_blocks(response), f"Source: {source}."])


def _prose_with_lines(text: str) -> str:
    """Non-code text with its line breaks kept (a source line is recognised at the start of a line)."""
    return "\n".join(block for block in split_blocks(text) if not is_code_block(block))


# ------------------------------------------------------------------------------------------------------ currency

_EUR_RE = re.compile(r"€\s?\d|\d\s?(?:€|EUR\b|euros?\b)")
_USD_RE = re.compile(r"\$\s?\d|\bUSD\b|\bdollars?\b")


@dataclass(frozen=True, kw_only=True)
class Euros(Preference):
    """Amounts in euros, never dollars."""

    def check(self, response: str) -> bool:
        return _EUR_RE.search(response) is not None and _USD_RE.search(response) is None

    def _violate(self, response: str) -> str:
        text = response.replace("€", "$")
        text = re.sub(r"\beuros\b", "dollars", text)
        text = re.sub(r"\beuro\b", "dollar", text)
        return re.sub(r"\bEUR\b", "USD", text)

    def _satisfy(self, response: str) -> str:
        text = response.replace("US$", "€").replace("$", "€")
        text = re.sub(r"\bdollars\b", "euros", text)
        text = re.sub(r"\bdollar\b", "euro", text)
        return re.sub(r"\bUSD\b", "EUR", text)


# ------------------------------------------------------------------------------------------------------ units

_NUMBER = r"\d+(?:\.\d+)?"
_UNIT_ALTERNATIVES = (
    r"°C|°F|km/h|kg|km|fl oz|ml|mm|cm|m|g|litres?|lbs?|oz|miles?|mph|feet|foot|ft|inch(?:es)?|yards?|quarts?"
    r"|gallons?|cups?"
)
_QUANTITY_RE = re.compile(
    rf"(?<![\w.])(?:(?P<low>{_NUMBER})\s?(?:to|-)\s?)?(?P<value>{_NUMBER})\s?(?P<unit>{_UNIT_ALTERNATIVES})(?![\w/])"
)
_PACE_RE = re.compile(r"(?P<minutes>\d+):(?P<seconds>\d{2}) per (?P<unit>km|mile)\b")
_METRIC_UNITS = frozenset({"°C", "km/h", "kg", "km", "ml", "mm", "cm", "m", "g", "litre", "litres"})
_IMPERIAL_UNITS = frozenset(
    {
        "°F",
        "lb",
        "lbs",
        "oz",
        "fl oz",
        "mile",
        "miles",
        "mph",
        "feet",
        "foot",
        "ft",
        "inch",
        "inches",
        "yard",
        "yards",
        "quart",
        "quarts",
        "gallon",
        "gallons",
        "cup",
        "cups",
    }
)
_SINGULAR = {
    "inches": "inch",
    "miles": "mile",
    "yards": "yard",
    "quarts": "quart",
    "litres": "litre",
    "gallons": "gallon",
    "cups": "cup",
    "feet": "foot",
}


def _round_nicely(value: float, *, metric: bool = False) -> str:
    """A number as a recipe would print it: 355 -> "355", 12.4 -> "12", 3.46 -> "3.5".

    Metric results round more coarsely (414 ml -> "400", 99 g -> "100") because converted-back quantities
    should land on the round numbers a European user writes.
    """
    steps = ((200, 25), (100, 10), (50, 5)) if metric else ((100, 5),)
    for threshold, step in steps:
        if value >= threshold:
            return str(round(value / step) * step)
    if value >= 10:
        return str(round(value))
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text if text != "0" else "0.1"


def _round_temperature(value: float) -> str:
    return str(round(value / 5) * 5) if value >= 20 else str(round(value))


def _to_imperial(value: float, unit: str) -> tuple[str, str]:
    """(number, unit) of a metric quantity in US units."""
    unit = "litres" if unit == "litre" else unit
    if unit == "°C":
        return _round_temperature(value * 9 / 5 + 32), "°F"
    if unit == "g":
        ounces = value / 28.35
        return (_round_nicely(ounces / 16), "lb") if ounces >= 16 else (_round_nicely(ounces), "oz")
    conversions = {
        "kg": (2.2046, "lb"),
        "ml": (1 / 29.57, "fl oz"),
        "litres": (1.057, "quarts"),
        "mm": (1 / 25.4, "inches"),
        "cm": (1 / 2.54, "inches"),
        "m": (1.094, "yards"),
        "km": (0.6214, "miles"),
        "km/h": (0.6214, "mph"),
    }
    factor, target = conversions[unit]
    return _round_nicely(value * factor), target


def _to_metric(value: float, unit: str) -> tuple[str, str]:
    """(number, unit) of a US quantity in metric units."""
    if unit == "°F":
        return _round_temperature((value - 32) * 5 / 9), "°C"
    canonical = {
        "lbs": "lb",
        "mile": "miles",
        "foot": "feet",
        "ft": "feet",
        "inch": "inches",
        "yard": "yards",
        "quart": "quarts",
        "gallon": "gallons",
        "cup": "cups",
    }.get(unit, unit)
    conversions = {
        "lb": (1 / 2.2046, "kg"),
        "oz": (28.35, "g"),
        "fl oz": (29.57, "ml"),
        "quarts": (1 / 1.057, "litres"),
        "gallons": (3.785, "litres"),
        "cups": (240.0, "ml"),
        "inches": (2.54, "cm"),
        "feet": (0.3048, "m"),
        "yards": (0.9144, "m"),
        "miles": (1.609, "km"),
        "mph": (1.609, "km/h"),
    }
    factor, target = conversions[canonical]
    converted = value * factor
    if target == "kg" and converted < 1:  # 1.3 lb is "600 g", not "0.6 kg"
        return _round_nicely(converted * 1000, metric=True), "g"
    return _round_nicely(converted, metric=True), target


def _convert(text: str, units: frozenset[str], convert: Callable[[float, str], tuple[str, str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        unit = match.group("unit")
        if unit not in units:
            return match.group(0)
        number, target = convert(float(match.group("value")), unit)
        if number == "1":
            target = _SINGULAR.get(target, target)
        low = match.group("low")
        if low is None:
            return f"{number} {target}"
        low_number, _ = convert(float(low), unit)
        return f"{low_number} to {number} {target}"

    return _QUANTITY_RE.sub(replace, text)


def _convert_pace(text: str, to_unit: str) -> str:
    factor = 1.609 if to_unit == "mile" else 1 / 1.609

    def replace(match: re.Match[str]) -> str:
        if match.group("unit") == to_unit:
            return match.group(0)
        seconds = round((int(match.group("minutes")) * 60 + int(match.group("seconds"))) * factor)
        return f"{seconds // 60}:{seconds % 60:02d} per {to_unit}"

    return _PACE_RE.sub(replace, text)


def _has_units(text: str, units: frozenset[str], pace_unit: str) -> bool:
    if any(match.group("unit") in units for match in _QUANTITY_RE.finditer(text)):
        return True
    return any(match.group("unit") == pace_unit for match in _PACE_RE.finditer(text))


@dataclass(frozen=True, kw_only=True)
class MetricUnits(Preference):
    """Metric quantities present and no US customary ones (°F, lb, oz, miles, cups...)."""

    def check(self, response: str) -> bool:
        text = prose_text(response)
        imperial = _has_units(text, _IMPERIAL_UNITS, "mile") or re.search(r"\bfahrenheit\b", text, re.IGNORECASE)
        return _has_units(text, _METRIC_UNITS, "km") and not imperial

    def _violate(self, response: str) -> str:
        return _map_blocks(response, lambda b: _convert_pace(_convert(b, _METRIC_UNITS, _to_imperial), "mile"))

    def _satisfy(self, response: str) -> str:
        return _map_blocks(response, lambda b: _convert_pace(_convert(b, _IMPERIAL_UNITS, _to_metric), "km"))


# ------------------------------------------------------------------------------------------------------ tone

_CONTRACTION_RE = re.compile(
    r"\b\w+n['’]t\b|\b(?:i|you|we|they|it|that|there|here|what|who|he|she|let|where|how)['’](?:s|re|ve|ll|d|m)\b",
    re.IGNORECASE,
)
_SLANG_RE = re.compile(
    r"\b(?:gonna|wanna|kinda|sorta|gotta|yeah|yep|nope|hey|lol|tbh|btw|basically|stuff|folks|awesome|totally"
    r"|no biggie|pretty much)\b",
    re.IGNORECASE,
)
_CONTRACTIONS = (
    ("do not", "don't"),
    ("does not", "doesn't"),
    ("did not", "didn't"),
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("cannot", "can't"),
    ("will not", "won't"),
    ("should not", "shouldn't"),
    ("would not", "wouldn't"),
    ("have not", "haven't"),
    ("it is", "it's"),
    ("that is", "that's"),
    ("there is", "there's"),
    ("you are", "you're"),
    ("you will", "you'll"),
    ("you have", "you've"),
    ("they are", "they're"),
    ("we are", "we're"),
)
_EXPANSIONS = {casual: formal for formal, casual in _CONTRACTIONS} | {"i'm": "I am", "let's": "let us"}
_CASUAL_OPENER_RE = re.compile(r"^(?:so,?\s+)?basically,?\s+", re.IGNORECASE)
_CASUAL_CLOSERS = (
    "That's pretty much it, tbh.",
    "Honestly, it's no biggie, folks.",
    "Hope that clears stuff up.",
    "Yeah, that's the gist of it.",
)
_SLANG_REPLACEMENTS = {
    "gonna": "going to",
    "wanna": "want to",
    "kinda": "somewhat",
    "sorta": "somewhat",
    "gotta": "have to",
    "yeah": "yes",
    "yep": "yes",
    "nope": "no",
    "stuff": "matters",
    "folks": "everyone",
    "awesome": "excellent",
    "totally": "entirely",
    "pretty much": "largely",
}


def _same_case(template: str, replacement: str) -> str:
    return upper_first(replacement) if template[:1].isupper() else replacement


_CONTRACTION_PATTERNS = tuple((re.compile(rf"\b{formal}\b", re.IGNORECASE), casual) for formal, casual in _CONTRACTIONS)


def _contract(text: str) -> str:
    for pattern, casual in _CONTRACTION_PATTERNS:
        text = pattern.sub(partial(_cased_replacement, casual), text)
    return text


def _cased_replacement(replacement: str, match: re.Match[str]) -> str:
    return _same_case(match.group(0), replacement)


def _expand(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        key = word.lower().replace("’", "'")
        if key in _EXPANSIONS:
            expanded = _EXPANSIONS[key]
        elif key.endswith("n't"):
            expanded = key[:-3] + " not"
        else:
            stem, _, suffix = key.partition("'")
            expanded = (
                f"{stem} " + {"s": "is", "re": "are", "ve": "have", "ll": "will", "d": "would", "m": "am"}[suffix]
            )
        return _same_case(word, expanded)

    return _CONTRACTION_RE.sub(replace, text)


@dataclass(frozen=True, kw_only=True)
class FormalTone(Preference):
    """A formal register: no contractions, no slang."""

    def check(self, response: str) -> bool:
        text = prose_text(response)
        return _CONTRACTION_RE.search(text) is None and _SLANG_RE.search(text) is None

    def _violate(self, response: str) -> str:
        blocks = split_blocks(response)
        prose = [i for i in _prose_indices(blocks) if not _SOURCE_LINE_RE.match(blocks[i])]
        if not prose:
            return join_blocks([*blocks, stable_pick(_CASUAL_CLOSERS, response)])
        sentences = split_sentences(blocks[prose[0]])
        sentences[0] = "So basically, " + lower_first(sentences[0])
        blocks[prose[0]] = join_sentences(sentences)
        blocks[prose[-1]] = f"{blocks[prose[-1]]} {stable_pick(_CASUAL_CLOSERS, response)}"
        return _map_blocks(join_blocks(blocks), _contract)

    def _satisfy(self, response: str) -> str:
        def formalise(sentence: str) -> str | None:
            sentence = _expand(sentence)
            if _CASUAL_OPENER_RE.match(sentence):
                sentence = upper_first(_CASUAL_OPENER_RE.sub("", sentence))
            if _SLANG_RE.search(sentence) and word_count(sentence) <= 9:
                return None  # a casual aside with nothing in it
            for slang, formal in _SLANG_REPLACEMENTS.items():
                sentence = re.sub(rf"\b{slang}\b", formal, sentence, flags=re.IGNORECASE)
            return tidy_spaces(_SLANG_RE.sub("", sentence))

        return _map_blocks(response, lambda block: _map_sentences(block, formalise))


_RUDE_RE = re.compile(
    r"\b(?:obviously|stupid|dumb|idiot|duh|not rocket science|pretty basic|just google it|as i already said)\b",
    re.IGNORECASE,
)
_RUDE_OPENERS = (
    "Honestly, this is a pretty basic question.",
    "Obviously, the answer is simple.",
    "This is not rocket science.",
    "You could just google it, but fine.",
)


@dataclass(frozen=True, kw_only=True)
class Polite(Preference):
    """Courteous: never condescending."""

    def check(self, response: str) -> bool:
        return _RUDE_RE.search(prose_text(response)) is None

    def _violate(self, response: str) -> str:
        blocks = split_blocks(response)
        return join_blocks([stable_pick(_RUDE_OPENERS, response), *blocks])

    def _satisfy(self, response: str) -> str:
        return _map_blocks(response, lambda block: _map_sentences(block, lambda s: None if _RUDE_RE.search(s) else s))


# ------------------------------------------------------------------------------------------------------ language


# Why two function-word lists and not lingua (uno.aspects.detect_language): this is the simulator's ground truth
# for the French preference, and judging uno with the detector uno itself learns from would hide that detector's
# mistakes. The responses are the simulator's own (English, or phrasebook French from translation.py), which the
# share of each language's function words tells apart.
def _word_set(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_ENGLISH_STOPWORDS = _word_set(
    "the a an and is are of to in for you your it that with on be can this at by or not from as do if will have "
    "has was yes no which when what how about more than so they their there before after each every one should "
    "would could we our my use"
)
_FRENCH_STOPWORDS = _word_set(
    "le la les l de des du d un une et est en pour vous votre vos à au aux que qui qu dans sur pas ne n il elle ce "
    "cette ces avec par plus se s sont être peut très mais ou si y nous je j tout toute tous c car comme aussi leur "
    "leurs son sa ses oui non environ depuis"
)
_LETTERS_RE = re.compile(r"[a-zàâäçéèêëîïôöùûüÿœ]+")


def _stopword_ratios(text: str) -> tuple[float, float]:
    """(English, French) share of stop words among the words of the prose."""
    tokens = _LETTERS_RE.findall(prose_text(text).lower())
    if not tokens:
        return 0.0, 0.0
    english = sum(token in _ENGLISH_STOPWORDS for token in tokens)
    french = sum(token in _FRENCH_STOPWORDS for token in tokens)
    return english / len(tokens), french / len(tokens)


def _looks_french(text: str) -> bool:
    english, french = _stopword_ratios(text)
    return french >= 0.15 and french > english


@dataclass(frozen=True, kw_only=True)
class French(Preference):
    """Written in French."""

    def check(self, response: str) -> bool:
        return _looks_french(response)

    def _violate(self, response: str) -> str:
        return to_english(response)

    def _satisfy(self, response: str) -> str:
        return to_french(response)


@dataclass(frozen=True, kw_only=True)
class English(Preference):
    """Written in English (a text with no prose, only code, counts as English)."""

    def check(self, response: str) -> bool:
        english, french = _stopword_ratios(response)
        if english == french == 0.0:
            return not words(prose_text(response))
        return english >= 0.15 and english >= french

    def _violate(self, response: str) -> str:
        return to_french(response)

    def _satisfy(self, response: str) -> str:
        return to_english(response)


# ------------------------------------------------------------------------------------------------------ code

_DEF_RE = re.compile(r"^(?P<indent>\s*)def (?P<name>\w+)\((?P<params>.*)\)\s*(?P<returns>->\s*.+?)?\s*:\s*$")
_CODE_LINE_RE = re.compile(
    r"^(?:\s{4}\S|def \w+\(|class \w+|import \w|from [\w.]+ import |return\b|for \w+ in |while |if .+:$|try:$"
    r"|except\b|raise\b|print\(|@\w+|\w+ = \S)"
)
_NAME_TYPES = {
    "path": "str",
    "text": "str",
    "name": "str",
    "n": "int",
    "count": "int",
    "attempts": "int",
    "delay": "float",
    "reverse": "bool",
    "flag": "bool",
}


def _split_params(params: str) -> list[str]:
    """Split a parameter list at top-level commas (``dict[str, int]`` stays whole)."""
    parts: list[str] = []
    depth = 0
    current = ""
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
    if current.strip():
        parts.append(current.strip())
    return parts


def _annotation_split(param: str) -> tuple[str, str | None, str | None]:
    """(name, annotation, default) of one parameter."""
    default = None
    depth = 0
    for index, char in enumerate(param):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "=" and depth == 0:
            param, default = param[:index].strip(), param[index + 1 :].strip()
            break
    name, colon, annotation = param.partition(":")
    return name.strip(), (annotation.strip() if colon else None), default


def _is_annotated_def(line: str) -> bool:
    match = _DEF_RE.match(line)
    if match is None:
        return True
    for param in _split_params(match.group("params")):
        name, annotation, _ = _annotation_split(param)
        if annotation is None and name not in ("self", "cls", "*", "/"):
            return False
    return match.group("returns") is not None


def _strip_annotations(line: str) -> str:
    match = _DEF_RE.match(line)
    if match is None:
        return line
    params = []
    for param in _split_params(match.group("params")):
        name, _, default = _annotation_split(param)
        params.append(name if default is None else f"{name}={default}")
    return f"{match.group('indent')}def {match.group('name')}({', '.join(params)}):"


@lru_cache(maxsize=1)
def _annotated_signatures() -> Mapping[str, str]:
    """Bare ``def`` line -> the annotated line it came from, for every snippet the topics can write."""
    table: dict[str, str] = {}
    for topic in TOPICS:
        for intent in topic.intents:
            if intent.code is None:
                continue
            for case in intent.cases:
                for line in intent.code.format(**case).split("\n"):
                    if _DEF_RE.match(line):
                        table[_strip_annotations(line)] = line
    return table


def _annotate(line: str) -> str:
    known = _annotated_signatures().get(line)
    if known is not None:
        return known
    match = _DEF_RE.match(line)
    if match is None:
        return line
    params = []
    for param in _split_params(match.group("params")):
        name, annotation, default = _annotation_split(param)
        if annotation is None and name not in ("self", "cls", "*", "/"):
            annotation = _NAME_TYPES.get(name, "object")
        typed = name if annotation is None else f"{name}: {annotation}"
        params.append(typed if default is None else f"{typed} = {default}")
    returns = match.group("returns") or "-> object"
    return f"{match.group('indent')}def {match.group('name')}({', '.join(params)}) {returns.strip()}:"


def _code_lines_map(text: str, rewrite: Callable[[str], str]) -> str:
    out = []
    for block in split_blocks(text):
        if is_code_block(block):
            block = "\n".join(rewrite(line) for line in block.split("\n"))
        out.append(block)
    return join_blocks(out)


@dataclass(frozen=True, kw_only=True)
class TypeHints(Preference):
    """Every function in a code block annotates its parameters and return type."""

    def check(self, response: str) -> bool:
        return all(
            _is_annotated_def(line)
            for block in split_blocks(response)
            if is_code_block(block)
            for line in block.split("\n")
        )

    def _violate(self, response: str) -> str:
        return _code_lines_map(response, _strip_annotations)

    def _satisfy(self, response: str) -> str:
        return _code_lines_map(response, _annotate)


@dataclass(frozen=True, kw_only=True)
class FencedCode(Preference):
    """Code sits in fenced Markdown code blocks."""

    def check(self, response: str) -> bool:
        return not any(
            _CODE_LINE_RE.match(line)
            for block in split_blocks(response)
            if not is_code_block(block)
            for line in block.split("\n")
        )

    def _violate(self, response: str) -> str:
        lines = [line for line in response.split("\n") if not line.strip().startswith(FENCE)]
        return "\n".join(lines)

    def _satisfy(self, response: str) -> str:
        out = []
        for block in split_blocks(response):
            if is_code_block(block):
                out.append(block)
                continue
            lines = block.split("\n")
            if any(_CODE_LINE_RE.match(line) for line in lines):
                out.append(f"{FENCE}python\n{block}\n{FENCE}")
            else:
                out.append(block)
        return join_blocks(out)


# ------------------------------------------------------------------------------------------------------ opposites


@dataclass(frozen=True, kw_only=True)
class Opposite(Preference):
    """The opposite of another preference: what a contradicting minority of users asks for."""

    of: Preference

    def check(self, response: str) -> bool:
        return not self.of.check(response)

    def _violate(self, response: str) -> str:
        return self.of.satisfy(response)

    def _satisfy(self, response: str) -> str:
        return self.of.violate(response)


# ================================================================================================== the catalogue

_LENGTH_SHORT = MaxWords(
    id="length-short",
    aspect="length:short",
    description="Keep answers short: at most 60 words.",
    followups=(
        "ugh too long",
        "way too long, just give me the short version",
        "tl;dr please",
        "can you keep it to a couple of sentences?",
        "i didnt ask for an essay lol",
        "shorter please",
        "Could you make that much more concise?",
        "wow, a whole novel. i just needed the gist",
        "too much text, summarize pls",
        "Please keep answers brief, two or three lines max.",
    ),
)
_FORMAT_PROSE = ProseOnly(
    id="format-prose",
    aspect="format:prose",
    description="Write prose paragraphs, never bullet or numbered lists.",
    followups=(
        "can u drop the bullet points",
        "no lists please, just write it normally",
        "Please write this as a paragraph instead of bullets.",
        "why is everything a bulleted list",
        "stop with the bullet points, i want normal sentences",
        "could you rephrase that as prose?",
        "I find bullet lists hard to read, plain paragraphs please.",
        "less powerpoint, more paragraph pls",
        "Bullet points again... just talk to me like a person.",
    ),
)
_ANSWER_YES_NO = YesNoOnly(
    id="answer-yes-no",
    aspect="answer:yes_no",
    description="Answer yes/no questions with a plain yes or no and nothing more.",
    followups=(
        "no, only YES or NO",
        "just yes or no please",
        "I asked a yes/no question",
        "yes or no??",
        "skip the explanation, is it a yes or a no",
        "Please just answer yes or no.",
        "tl;dr: yes or no?",
        "i dont need the details, just tell me yes or no",
        "One word answer please: yes or no.",
    ),
)
_EMOJI_NONE = NoEmoji(
    id="emoji-none",
    aspect="emoji:none",
    description="Never use emoji.",
    followups=(
        "please no emojis",
        "can you stop using emoji",
        "lose the emojis, this is for work",
        "why are there emojis everywhere 🙄",
        "No emoji please, it looks unprofessional.",
        "drop the smileys pls",
        "Could you answer without any emoji?",
        "the emojis are a bit much tbh",
        "stop with the emojis, i'm not 12",
    ),
)
_LANGUAGE_FR = French(
    id="language-fr",
    aspect="language:fr",
    description="Answer in French.",
    followups=(
        "answer in french please",
        "en français svp",
        "Could you reply in French?",
        "can u write that in french",
        "je préfère en français, merci",
        "French please, my English is not great",
        "please respond in french next time",
        "pourquoi en anglais ? en français s'il vous plaît",
        "In French, please!",
    ),
)
_UNITS_METRIC = MetricUnits(
    id="units-metric",
    aspect="units:metric",
    description="Use metric units (°C, g, kg, ml, km), never US customary units.",
    followups=(
        "can you use metric? i don't know what ounces or miles are",
        "metric units please",
        "metric please, nobody here uses pounds or fahrenheit",
        "Please use metric units like grams, kilometres and Celsius.",
        "what is that in metric?",
        "ugh, imperial units again. metric pls",
        "I live in Europe, can you convert to metric?",
        "imperial units mean nothing to me, use metric",
        "Could you use metric units instead of pounds and miles?",
    ),
)
_TONE_FORMAL = FormalTone(
    id="tone-formal",
    aspect="tone:formal",
    description="Use a formal register: no contractions, no slang.",
    followups=(
        "please be more professional",
        "this is for a legal matter, can you drop the casual tone?",
        "Could you use a more formal register?",
        "less chatty please, more formal",
        "no slang please",
        "A formal tone would be more appropriate here.",
        "can you write like a lawyer would, not like a text message",
        "why so casual? keep it professional",
        "Please avoid contractions and slang.",
    ),
)
_CITATIONS_REQUIRED = CitesSource(
    id="citations-required",
    aspect="citations:required",
    description="Cite a source the reader can check.",
    followups=(
        "source?",
        "can you cite a source for that",
        "Where does this come from? Please add a reference.",
        "pls include sources",
        "how do i know this is true? cite something",
        "Please always cite your sources.",
        "any references for this?",
        "I need a source I can check.",
        "citation needed lol",
    ),
)
_ANSWER_FIRST = AnswerFirst(
    id="structure-answer-first",
    aspect="structure:answer_first",
    description="Give the answer in the first sentence, then the context.",
    followups=(
        "just give me the answer first",
        "get to the point please",
        "Can you lead with the answer and explain after?",
        "bottom line up front pls",
        "i had to read three sentences before the actual answer",
        "Start with the conclusion next time.",
        "skip the preamble",
        "answer first, context later",
        "so what's the answer? put it at the top",
    ),
)
_FILLER_NONE = NoFiller(
    id="filler-none",
    aspect="filler:none",
    description="No pleasantries or filler such as 'Great question!' or 'Hope this helps!'.",
    followups=(
        "skip the pleasantries",
        "no need for 'great question', just answer",
        "less fluff please",
        "cut the filler",
        "you don't have to say hope this helps every time",
        "Please drop the intro and outro fluff.",
        "just the info, no chit-chat",
        "the 'happy to help' stuff is annoying",
        "Get rid of the filler phrases, please.",
    ),
)
_CURRENCY_EUR = Euros(
    id="currency-eur",
    aspect="currency:eur",
    description="Give amounts in euros, not dollars.",
    followups=(
        "in euros please",
        "I'm in Europe, use € not $",
        "why dollars? i use euros",
        "Please give amounts in euros.",
        "convert that to EUR please",
        "dollars?? i live in germany",
        "Can you use euros instead of dollars?",
        "€ please",
        "all my money is in euros, please use that",
    ),
)
_CODE_TYPE_HINTS = TypeHints(
    id="code-type-hints",
    aspect="code:type_hints",
    description="Annotate every function's parameters and return type in Python code.",
    followups=(
        "please add type hints",
        "can you type-annotate the function?",
        "where are the type annotations?",
        "Please include type hints in the code.",
        "add return types pls",
        "our codebase is mypy strict, needs annotations",
        "untyped code won't pass review here, add hints",
        "could you add the types to the signature",
        "type hints please",
    ),
)

# Preferences the base model already follows: restating them teaches nothing.
_LANGUAGE_EN = English(
    id="language-en",
    aspect="language:en",
    description="Answer in English.",
    base_model_follows=True,
    followups=(
        "please answer in english",
        "english please",
        "Can you keep replying in English?",
        "in english pls",
        "Please make sure to answer in English.",
        "reply in english, thanks",
        "always english for me please",
        "English only, please.",
    ),
)
_TONE_POLITE = Polite(
    id="tone-polite",
    aspect="respect:polite",
    description="Be polite and respectful.",
    base_model_follows=True,
    followups=(
        "please be polite",
        "be nice pls",
        "Please keep a respectful tone.",
        "keep it friendly and polite please",
        "stay courteous please",
        "thanks for being polite, keep it that way",
        "Please always be respectful.",
        "no rudeness please",
    ),
)
_CODE_FENCED = FencedCode(
    id="code-fenced",
    aspect="code:fenced",
    description="Put code in fenced Markdown code blocks.",
    base_model_follows=True,
    followups=(
        "please put the code in a code block",
        "use code blocks pls",
        "Can you format the code as a code block?",
        "wrap the code in backticks please",
        "code in a fenced block please",
        "Please keep code in markdown code fences.",
        "format the snippet properly pls",
        "code block please, it's easier to copy",
    ),
)

# What a contradicting minority asks for: the negation of a topic preference.
_OPPOSITES: tuple[Opposite, ...] = (
    Opposite(
        id="length-long",
        aspect="length:long",
        description="Give long, detailed answers.",
        of=_LENGTH_SHORT,
        followups=(
            "can you go into more detail?",
            "that's too short, please elaborate",
            "more detail please",
            "Could you expand on that a bit?",
            "I'd like a longer, more thorough answer.",
            "that's a bit thin, explain more",
            "need more depth here",
            "Please give me the full explanation, not just a summary.",
        ),
    ),
    Opposite(
        id="format-bullets",
        aspect="format:lists",
        description="Use bullet points.",
        of=_FORMAT_PROSE,
        followups=(
            "can you put that in bullet points?",
            "bullet list please",
            "Could you format this as a list?",
            "too dense, use bullets",
            "a list would be easier to scan",
            "Please use bullet points.",
            "break it into bullets pls",
            "wall of text... bullets please",
        ),
    ),
    Opposite(
        id="answer-explained",
        aspect="answer:explained",
        description="Explain the answer instead of a bare yes or no.",
        of=_ANSWER_YES_NO,
        followups=(
            "don't just say yes, explain why",
            "why though? give me details",
            "Could you explain the reasoning?",
            "a bare yes/no isn't helpful, more details please",
            "yes... and? how do i do it?",
            "Please explain instead of one-word answers.",
            "more context please",
            "what does that mean in practice?",
        ),
    ),
    Opposite(
        id="emoji-some",
        aspect="emoji:use",
        description="Use a few emoji.",
        of=_EMOJI_NONE,
        followups=(
            "add some emojis, it's so dry",
            "can you make it more fun with emoji?",
            "Feel free to use emojis!",
            "more emojis pls 😄",
            "it reads so boring, throw in some emoji",
            "I like emojis, please use them.",
            "a few emojis would be nice",
            "emojis make it easier to read for me 🙂",
        ),
    ),
    Opposite(
        id="units-imperial",
        aspect="units:imperial",
        description="Use US customary units.",
        of=_UNITS_METRIC,
        followups=(
            "can you use fahrenheit?",
            "in pounds and ounces please",
            "imperial units please, I'm in the US",
            "What's that in Fahrenheit?",
            "convert to ounces and pounds pls",
            "Could you give miles instead of km?",
            "I don't do metric, use pounds",
            "US units please",
        ),
    ),
    Opposite(
        id="tone-casual",
        aspect="tone:casual",
        description="Use a relaxed, casual tone.",
        of=_TONE_FORMAL,
        followups=(
            "you can be less stiff, talk normally",
            "why so formal lol",
            "Can you make it more casual?",
            "relax, you're not writing a contract",
            "plain casual english please",
            "too formal, loosen up",
            "Please use a friendlier, more relaxed tone.",
            "talk to me like a friend would",
        ),
    ),
    Opposite(
        id="citations-none",
        aspect="citations:none",
        description="Leave out sources and references.",
        of=_CITATIONS_REQUIRED,
        followups=(
            "no need for sources",
            "skip the citations, I trust you",
            "Please leave out the references.",
            "the source line is just noise",
            "drop the source stuff",
            "I don't need citations.",
            "no references please, keep it clean",
            "lose the citations pls",
        ),
    ),
    Opposite(
        id="structure-context-first",
        aspect="structure:context_first",
        description="Build up the context before giving the answer.",
        of=_ANSWER_FIRST,
        followups=(
            "give me the background before the verdict",
            "Could you explain the context first and then the conclusion?",
            "i prefer the reasoning before the answer",
            "walk me through it first",
            "Please build up to the answer.",
            "context first pls",
            "explain how it works before telling me the answer",
            "less abrupt please, start with some context",
        ),
    ),
    Opposite(
        id="filler-friendly",
        aspect="filler:friendly",
        description="Add friendly pleasantries.",
        of=_FILLER_NONE,
        followups=(
            "you sound like a robot, be friendlier",
            "a bit cold, no? maybe a friendlier tone",
            "Could you be warmer in your replies?",
            "a 'hope this helps' wouldn't hurt",
            "Please be a little more personable.",
            "so curt...",
            "add a friendly intro please",
            "talk like a helpful person, not a manual",
        ),
    ),
    Opposite(
        id="currency-usd",
        aspect="currency:usd",
        description="Give amounts in US dollars.",
        of=_CURRENCY_EUR,
        followups=(
            "can you give amounts in dollars?",
            "USD please",
            "I'm in the US, use dollars",
            "Please convert to US dollars.",
            "$ please, not €",
            "dollars would be easier for me",
            "what is that in USD?",
            "use dollar amounts pls",
        ),
    ),
    Opposite(
        id="code-no-type-hints",
        aspect="code:no_type_hints",
        description="Leave type hints out of code examples.",
        of=_CODE_TYPE_HINTS,
        followups=(
            "drop the type hints, they clutter",
            "no type annotations please",
            "Can you remove the type hints?",
            "just plain python, no typing",
            "the annotations make it hard to read",
            "Please skip type hints in examples.",
            "type hints are overkill here",
            "remove the -> stuff pls",
        ),
    ),
)

TOPIC_PREFERENCES: tuple[Preference, ...] = (
    _LENGTH_SHORT,
    _FORMAT_PROSE,
    _ANSWER_YES_NO,
    _EMOJI_NONE,
    _LANGUAGE_FR,
    _UNITS_METRIC,
    _TONE_FORMAL,
    _CITATIONS_REQUIRED,
    _ANSWER_FIRST,
    _FILLER_NONE,
    _CURRENCY_EUR,
    _CODE_TYPE_HINTS,
)
KNOWN_PREFERENCES: tuple[Preference, ...] = (_LANGUAGE_EN, _TONE_POLITE, _CODE_FENCED)
PREFERENCES: dict[str, Preference] = {p.id: p for p in (*TOPIC_PREFERENCES, *KNOWN_PREFERENCES, *_OPPOSITES)}
# Topic preference id -> the preference a contradicting user asks for instead.
OPPOSITE_OF: dict[str, str] = {p.of.id: p.id for p in _OPPOSITES} | {_LANGUAGE_FR.id: _LANGUAGE_EN.id}


def get_preference(preference_id: str) -> Preference:
    """The preference with this id; a clear error lists the known ids."""
    try:
        return PREFERENCES[preference_id]
    except KeyError:
        raise KeyError(f"unknown preference {preference_id!r}; known: {', '.join(PREFERENCES)}") from None
