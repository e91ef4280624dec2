"""Reading a user's edit of an answer: which measurable changes did they make, and what do they imply?

The response and the edit are compared line by line (lists, headings, tables), sentence by sentence (what was
added or removed: greetings, sign-offs, apologies, facts) and word by word (length, word choice). Style changes
give canonical rules from :mod:`uno.distill.catalog`; added or deleted content gives specific, low-confidence
rules; the edit itself always becomes a preference pair (edit over response) in the distiller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from uno.aspects import detect_language
from uno.distill.catalog import CATALOG, LANGUAGES, Instruction, language_instruction, word_limit
from uno.distill.noise import NoiseLabel, classify_noise
from uno.distill.text import sentence_texts

_LIST_LINE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+\S", re.MULTILINE)
_NUMBERED_LINE = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)
_HEADING = re.compile(r"^\s*#{1,6}\s+\S|\*\*[^*\n]{1,80}\*\*|__[^_\n]{1,80}__", re.MULTILINE)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*```", re.MULTILINE)
_EMOJI = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff]")
_HYPE = re.compile(
    r"\b(?:amazing|awesome|fantastic|incredible|super|exciting|absolutely|wonderful|thrilled|delighted|love)\b", re.I
)
_IMPERIAL = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:miles?|mi|feet|foot|ft|inch(?:es)?|lbs?|pounds?|ounces?|oz|°\s?f|fahrenheit|cups?"
    r"|gallons?|quarts?|pints?|mph)\b",
    re.IGNORECASE,
)
_METRIC = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:km|kilomet(?:er|re)s?|met(?:er|re)s?|cm|mm|kg|g|grams?|kilograms?|l|lit(?:er|re)s?|ml"
    r"|°\s?c|celsius|km/h)\b",
    re.IGNORECASE,
)
# Boilerplate sentences: (catalogue name, pattern, label)
_BOILERPLATE: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "no_greeting",
        re.compile(r"^(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening))\b", re.I),
        "greeting removed",
    ),
    (
        "no_filler",
        re.compile(
            r"\b(?:great|good|excellent|fantastic|wonderful|interesting|what a (?:great|good)) question\b"
            r"|^(?:absolutely|certainly|sure|of course|great)[!,.]\s*$|^(?:absolutely|certainly|of course)!",
            re.I,
        ),
        "filler praise removed",
    ),
    (
        "no_signoff",
        re.compile(
            r"\b(?:i hope (?:this|that|it) helps|hope (?:this|that|it) helps|let me know if|feel free to"
            r"|happy to help|(?:good|best of) luck|happy (?:cooking|coding|baking|writing|travels)|cheers|enjoy!"
            r"|don't hesitate to|any (?:other|more|further) questions)",
            re.I,
        ),
        "sign-off removed",
    ),
    (
        "no_apology",
        re.compile(r"\b(?:i'm sorry|i am sorry|sorry|i apologi[sz]e|my apologies|apologies)\b", re.I),
        "apology removed",
    ),
    (
        "no_disclaimers",
        re.compile(
            r"\b(?:as an ai|i'm not an? (?:doctor|lawyer|financial advisor|professional)|consult (?:a|your)"
            r" (?:doctor|professional|lawyer|physician|expert)|please note that|it'?s important to note"
            r"|disclaimer|this is not (?:medical|legal|financial) advice)",
            re.I,
        ),
        "disclaimer removed",
    ),
)
_TOKEN = re.compile(r"\S+")
_WORDISH = re.compile(r"^[\w'-]+$")
_WORD_CHARS = re.compile(r"\w[\w'-]*")
_NICE_LENGTHS = (10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000)
_CODES = {code: name for name, (code, _) in LANGUAGES.items() if name.isascii() and " " not in name}

_LANGUAGE_SAMPLE = 600
MIN_WORDS_FOR_LENGTH = 20
MUCH_SHORTER = 0.5
SHORTER = 0.75
LONGER = 1.5
NOVEL_SHARE = 0.5  # a sentence with at least this share of words absent from the other text is new content
MAX_CONTENT_RULES = 2  # more added/deleted sentences than this is a rewrite, not a targeted fix
MAX_WORDING_RULES = 3
GIST_WORDS = 12


@dataclass(frozen=True)
class EditChange:
    """One change the user made and the instruction it implies."""

    instruction: Instruction
    kind: str  # "style" (measurable, generalises) | "content" (a sentence added/removed) | "wording"
    detail: str
    quote: str  # the text the rule rests on: a removed sign-off, an added sentence...


@dataclass(frozen=True)
class EditReading:
    """The comparison of an answer with the user's edit: the changes found and what they imply."""

    identical: bool
    changes: tuple[EditChange, ...]
    words_before: int
    words_after: int
    similarity: float  # SequenceMatcher ratio over words, 1.0 = unchanged
    noise: NoiseLabel | None  # an attack the edit introduced
    summary: str


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _nice(n: int) -> int:
    return min(_NICE_LENGTHS, key=lambda nice: (abs(nice - n), nice))


def _word_set(text: str) -> frozenset[str]:
    """Lower-cased words without punctuation or markdown; emojis and bullets are not words."""
    return frozenset(w.lower() for w in _WORD_CHARS.findall(text))


def _unmatched(source: list[str], target: str) -> list[str]:
    """Sentences of ``source`` whose words are mostly absent from ``target``: really added or removed content.

    Word containment rather than sentence alignment, so that merging list items into one sentence (or splitting a
    sentence into items) does not read as content added and removed.
    """
    target_words = _word_set(target)
    out: list[str] = []
    for sentence in source:
        own = _word_set(sentence)
        if own and len(own - target_words) / len(own) >= NOVEL_SHARE:
            out.append(sentence)
    return out


_MARKERS = re.compile(r"^\s*(?:[-*•+]|\d+[.)]|#{1,6})\s+")


def _gist(sentence: str) -> str:
    """The first words of a sentence, without list or heading markers."""
    words = _MARKERS.sub("", sentence).strip().rstrip(".!?;:").split()
    head = " ".join(words[:GIST_WORDS])
    return head + ("..." if len(words) > GIST_WORDS else "")


def _style(response: str, edit: str) -> list[EditChange]:
    """Format and tone changes that can be measured on the two texts."""
    changes: list[EditChange] = []

    def add(name: str, detail: str, quote: str = "") -> None:
        changes.append(EditChange(CATALOG[name], "style", detail, quote))

    lists_before, lists_after = len(_LIST_LINE.findall(response)), len(_LIST_LINE.findall(edit))
    if lists_before >= 2 and lists_after == 0:
        add("prose", f"bullet list of {lists_before} items rewritten as prose")
    elif lists_before == 0 and lists_after >= 2:
        numbered = len(_NUMBERED_LINE.findall(edit)) >= 2
        add("numbered" if numbered else "lists", f"prose rewritten as a list of {lists_after} items")
    emoji_before, emoji_after = len(_EMOJI.findall(response)), len(_EMOJI.findall(edit))
    if emoji_before and not emoji_after:
        add("no_emoji", f"{emoji_before} emoji(s) removed")
    elif emoji_after and not emoji_before:
        add("emoji", f"{emoji_after} emoji(s) added")
    headings_before, headings_after = len(_HEADING.findall(response)), len(_HEADING.findall(edit))
    if headings_before and not headings_after:
        add("no_markdown", f"{headings_before} heading(s)/bold span(s) removed")
    elif headings_after >= 2 and not headings_before:
        add("markdown", f"{headings_after} heading(s) added")
    tables_before, tables_after = len(_TABLE_ROW.findall(response)), len(_TABLE_ROW.findall(edit))
    if tables_before >= 2 and tables_after == 0:
        add("no_table", "table removed")
    elif tables_after >= 2 and tables_before == 0:
        add("table", "table added")
    if len(_FENCE.findall(edit)) >= 2 and not _FENCE.search(response):
        add("code_block", "code put in a fenced block")
    bangs_before, bangs_after = response.count("!"), edit.count("!")
    hype_before, hype_after = len(_HYPE.findall(response)), len(_HYPE.findall(edit))
    if (bangs_before >= 2 and bangs_after == 0) or (hype_before - hype_after >= 2 and hype_after == 0):
        add("neutral", f"exclamation marks {bangs_before}->{bangs_after}, hype words {hype_before}->{hype_after}")
    if _IMPERIAL.search(response) and not _IMPERIAL.search(edit) and _METRIC.search(edit):
        add("metric", "imperial units converted to metric")
    elif _METRIC.search(response) and not _METRIC.search(edit) and _IMPERIAL.search(edit):
        add("imperial", "metric units converted to imperial")
    # The first few hundred characters tell the language as well as the whole text does, at a fraction of the cost.
    before_language = detect_language(response[:_LANGUAGE_SAMPLE])
    after_language = detect_language(edit[:_LANGUAGE_SAMPLE])
    if before_language and after_language and before_language != after_language and after_language in _CODES:
        instruction = language_instruction(_CODES[after_language])
        changes.append(EditChange(instruction, "style", f"translated from {before_language} to {after_language}", ""))
    return changes


def _boilerplate(removed: list[str]) -> tuple[list[EditChange], set[str]]:
    """Greetings, filler praise, sign-offs, apologies and disclaimers among the removed sentences."""
    changes: list[EditChange] = []
    explained: set[str] = set()
    for name, pattern, label in _BOILERPLATE:
        hits = [s for s in removed if pattern.search(s)]
        if hits:
            changes.append(EditChange(CATALOG[name], "style", label, hits[0]))
            explained.update(hits)
    return changes, explained


def _length(before: int, after: int, boilerplate_words: int) -> list[EditChange]:
    base = before - boilerplate_words
    if base < MIN_WORDS_FOR_LENGTH or after == 0:
        return []
    ratio = after / base
    detail = f"edited from {before} to {after} words ({after / before:.0%} of the original)"
    if ratio <= MUCH_SHORTER:
        return [EditChange(word_limit(_nice(after), "about"), "style", detail, "")]
    if ratio <= SHORTER:
        return [EditChange(CATALOG["short"], "style", detail, "")]
    if ratio >= LONGER and after - base >= 15:
        return [EditChange(CATALOG["long"], "style", detail, "")]
    return []


def _wording(before: list[str], after: list[str], matcher: SequenceMatcher[str]) -> list[EditChange]:
    """Small word swaps ("utilize" -> "use", "1889" -> "1887")."""
    swaps: list[EditChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
            continue
        old = " ".join(w.strip(".,!?;:\"'()") for w in before[i1:i2]).strip()
        new = " ".join(w.strip(".,!?;:\"'()") for w in after[j1:j2]).strip()
        if not old or not new or old.lower() == new.lower():
            continue
        if not all(_WORDISH.match(w) for w in (old + " " + new).split()):
            continue
        instruction = Instruction("wording", None, f'Write "{new}" instead of "{old}".', "word choice")
        swaps.append(EditChange(instruction, "wording", f"{old!r} -> {new!r}", f"{old} -> {new}"))
    return swaps if len(swaps) <= MAX_WORDING_RULES else []


def read_edit(response: str, edit: str) -> EditReading:
    """Compare an answer with the user's edit of it."""
    before_words, after_words = _words(response), _words(edit)
    if before_words == after_words:
        return EditReading(True, (), len(before_words), len(after_words), 1.0, None, "edit identical to the answer")
    matcher = SequenceMatcher(None, before_words, after_words)
    similarity = matcher.ratio()
    before_sentences, after_sentences = sentence_texts(response), sentence_texts(edit)
    removed = _unmatched(before_sentences, edit)
    added = _unmatched(after_sentences, response)
    noise = classify_noise(" ".join(added)) if added else None
    if noise is not None and not noise.is_adversarial:
        noise = None  # an insult typed into an edit is not an attack; the edit still tells us what they wanted
    changes = _style(response, edit)
    boilerplate, explained = _boilerplate(removed)
    if any(c.instruction.name == "no_markdown" for c in changes):
        explained.update(sentence for sentence in removed if _HEADING.match(sentence))
    changes += boilerplate
    boilerplate_words = sum(len(_words(s)) for s in explained)
    length = _length(len(before_words), len(after_words), boilerplate_words)
    changes += length
    rewrite = similarity < 0.3
    if not rewrite and not any(c.instruction.name.startswith("language_") for c in changes):
        content_removed = [s for s in removed if s not in explained]
        if content_removed and len(content_removed) <= MAX_CONTENT_RULES and not length:
            for sentence in content_removed:
                do = f'Do not include "{_gist(sentence)}".'
                changes.append(
                    EditChange(
                        Instruction("content_removed", None, do, "unwanted content"),
                        "content",
                        "sentence removed",
                        sentence,
                    )
                )
        if added and len(added) <= MAX_CONTENT_RULES:
            for sentence in added:
                do = f'Include "{_gist(sentence)}".'
                changes.append(
                    EditChange(
                        Instruction("content_added", None, do, "missing content"), "content", "sentence added", sentence
                    )
                )
        if not added and not removed:
            changes += _wording(before_words, after_words, matcher)
    labels = [c.detail for c in changes] or ["reworded"]
    summary = f"edited from {len(before_words)} to {len(after_words)} words: " + "; ".join(labels)
    return EditReading(False, tuple(changes), len(before_words), len(after_words), round(similarity, 4), noise, summary)
