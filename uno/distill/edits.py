"""Reading a user's edit of an answer: which measurable changes did they make, and what do they imply?

The response and the edit are compared line by line (lists, headings, tables, code), sentence by sentence (what
was added, removed or moved: greetings, sign-offs, a source line, a preamble before the answer, facts) and word by
word (length, register, currency, units, word choice). Style changes give canonical rules from
:mod:`uno.distill.catalog`; a sentence added or deleted that no style change explains gives a specific,
low-confidence rule; the edit itself always becomes a preference pair (edit over response) in the distiller.

Every detector says which added or removed sentences it accounts for, so that one change is read once: the
preamble deleted to put the answer first is not also "a shorter answer" nor a rule "Do not include 'There are
several factors...'".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from uno.aspects import CURRENCIES, casual_markers, currency_amounts, detect_language, signatures, slang_words
from uno.distill.catalog import CATALOG, LANGUAGES, Instruction, language_instruction, word_limit
from uno.distill.noise import NoiseLabel, classify_noise, pushed_name
from uno.distill.text import sentence_texts
from uno.emojis import count_emoji

_LIST_LINE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+\S", re.MULTILINE)
_NUMBERED_LINE = re.compile(r"^\s*\d+[.)]\s+\S", re.MULTILINE)
_HEADING = re.compile(r"^\s*#{1,6}\s+\S|\*\*[^*\n]{1,80}\*\*|__[^_\n]{1,80}__", re.MULTILINE)
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)
_FENCE = re.compile(r"^\s*```", re.MULTILINE)
_HYPE = re.compile(
    r"\b(?:amazing|awesome|fantastic|incredible|super|exciting|absolutely|wonderful|thrilled|delighted|love)\b", re.I
)
_IMPERIAL = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:miles?|mi|feet|foot|ft|inch(?:es)?|yards?|lbs?|pounds?|(?:fl\.? )?oz|ounces?"
    r"|fluid ounces?|°\s?f|fahrenheit|cups?|gallons?|quarts?|pints?|mph)\b",
    re.IGNORECASE,
)
_METRIC = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:km|kilomet(?:er|re)s?|met(?:er|re)s?|m|cm|mm|kg|g|grams?|kilograms?|l|lit(?:er|re)s?|ml"
    r"|°\s?c|celsius|km/h)\b",
    re.IGNORECASE,
)
_CITATION = re.compile(
    r"^\s*(?:sources?|references?|citations?)\s*:\s*\S|\[\d+\]|https?://\S+|\([A-Z][^()]{2,80}?,\s*(?:1[89]|20)\d{2}\)",
    re.IGNORECASE | re.MULTILINE,
)
_YES_NO_START = re.compile(r"^\W*(?:yes|no)\b", re.IGNORECASE)
# "do not" where the answer had "don't": the edit spells contractions out (a formal register).
_EXPANDED = re.compile(
    r"\b(?:do|does|did|is|are|was|were|can|could|should|would|will|have|has)\s+not\b|\bcannot\b"
    r"|\b(?:it|that|there|you|they|we|i)\s+(?:is|are|am|will|have)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_DEF_LINE = re.compile(r"\bdef \w+\s*\(")
_CODE_BLOCK = re.compile(r"^\s*```.*?^\s*```[^\n]*$", re.MULTILINE | re.DOTALL)

_FILLER = re.compile(
    r"\b(?:great|good|excellent|fantastic|wonderful|interesting|what a (?:great|good)) question\b"
    r"|^(?:absolutely|certainly|sure|of course|great)[!,.]\s*$|^(?:absolutely|certainly|of course)!",
    re.IGNORECASE,
)
_SIGNOFF = re.compile(
    r"\b(?:i hope (?:this|that|it) helps|hope (?:this|that|it) helps|let me know if|feel free to"
    r"|happy to help|(?:good|best of) luck|happy (?:cooking|coding|baking|writing|travels)|cheers|enjoy!"
    r"|don't hesitate to|any (?:other|more|further) questions)",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening))\b", re.IGNORECASE)
# Boilerplate sentences: (catalogue name when removed, pattern, label)
_BOILERPLATE: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("no_greeting", _GREETING, "greeting removed"),
    ("no_filler", _FILLER, "filler praise removed"),
    ("no_signoff", _SIGNOFF, "sign-off removed"),
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
# Sentences that only lead up to the answer: "There are several factors...", "Let me explain how this works."
_PREAMBLE = re.compile(
    r"^(?:there are (?:several|many|a few|a number of|some)\b|before (?:getting|we|answering|diving|i answer)\b"
    r"|this is a (?:common|great|good|complex|nuanced|tricky|frequent|popular) question\b|to answer this\b"
    r"|it(?: is|'s) (?:important|worth|helpful|useful) to (?:consider|look|understand|note|start)\b|let me\b"
    r"|when it comes to\b|in general\b|generally speaking\b|it depends\b|that depends\b|first,? (?:some|a bit of)"
    r"|here is how\b|here's how\b|thanks for (?:checking|asking)\b|so,? basically\b|well,)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\S+")
_WORDISH = re.compile(r"^[\w'-]+$")
_WORD_CHARS = re.compile(r"\w[\w'-]*")
_NICE_LENGTHS = (10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000)
_CODES = {code: name for name, (code, _) in LANGUAGES.items() if name.isascii() and " " not in name}

_LANGUAGE_SAMPLE = 600
MIN_WORDS_FOR_LANGUAGE = 8
MIN_WORDS_FOR_LENGTH = 20
MUCH_SHORTER = 0.5
SHORTER = 0.75
LONGER = 1.5
NOVEL_SHARE = 0.5  # a sentence with at least this share of words absent from the other text is new content
REWRITE = 0.3  # below this word-sequence similarity the edit is a new answer, not a revision of this one
SAME_SENTENCE = 0.7  # two sentences sharing this share of their words are one sentence, perhaps reworded
MAX_CONTENT_RULES = 2  # more added/deleted sentences than this is a rewrite, not a targeted fix
MAX_WORDING_RULES = 3
MAX_LEAD_SENTENCES = 3  # a preamble longer than this is content, not a lead-in
YES_NO_WORDS = 15  # a plain "Yes." / "No, ..." answer is at most this long
GIST_WORDS = 12
# Changes that rewrite words throughout the text: word swaps are theirs, not separate rules.
_WORD_LEVEL = frozenset(
    {"formal", "casual", "metric", "imperial", "type_hints", "no_type_hints", "prose", "lists", "numbered", *CURRENCIES}
)


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


@dataclass
class _Diff:
    """The two texts, sentence by sentence, and what the detectors have found and accounted for so far."""

    response: str
    edit: str
    before: list[str]  # sentences of the response
    after: list[str]  # sentences of the edit
    removed: list[str]  # sentences of the response mostly absent from the edit
    added: list[str]  # sentences of the edit mostly absent from the response
    similarity: float
    changes: list[EditChange] = field(default_factory=list)
    explained: set[str] = field(default_factory=set)  # removed or added sentences a style change accounts for

    def add(self, name: str, detail: str, quote: str = "", *, explains: list[str] | None = None) -> None:
        self.changes.append(EditChange(CATALOG[name], "style", detail, quote))
        self.explained.update(explains or ())

    def found(self, *names: str) -> bool:
        return any(change.instruction.name in names for change in self.changes)


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
        if all(word.isdigit() for word in own):
            continue  # nothing, or the "1." of a numbered list: a marker, not a sentence
        if len(own - target_words) / len(own) >= NOVEL_SHARE:
            out.append(sentence)
    return out


def _same_sentence(a: str, b: str) -> bool:
    words_a, words_b = _word_set(a), _word_set(b)
    return bool(words_a and words_b) and len(words_a & words_b) / max(len(words_a), len(words_b)) >= SAME_SENTENCE


_MARKERS = re.compile(r"^\s*(?:[-*•+]|\d+[.)]|#{1,6})\s+")


def _gist(sentence: str) -> str:
    """The first words of a sentence, without list or heading markers."""
    words = _MARKERS.sub("", sentence).strip().rstrip(".!?;:").split()
    head = " ".join(words[:GIST_WORDS])
    return head + ("..." if len(words) > GIST_WORDS else "")


def _is_boilerplate(sentence: str) -> bool:
    return any(pattern.search(sentence) for _, pattern, _ in _BOILERPLATE)


# ----------------------------------------------------------------------------------------------- layout


def _layout(diff: _Diff) -> None:
    """Lists, emojis, headings, tables and code fences added or taken away."""
    response, edit = diff.response, diff.edit
    lists_before, lists_after = len(_LIST_LINE.findall(response)), len(_LIST_LINE.findall(edit))
    if lists_before >= 2 and lists_after == 0:
        diff.add("prose", f"bullet list of {lists_before} items rewritten as prose")
    elif lists_before == 0 and lists_after >= 2:
        numbered = len(_NUMBERED_LINE.findall(edit)) >= 2
        diff.add("numbered" if numbered else "lists", f"prose rewritten as a list of {lists_after} items")
    emoji_before, emoji_after = count_emoji(response), count_emoji(edit)
    if emoji_before and not emoji_after:
        diff.add("no_emoji", f"{emoji_before} emoji(s) removed")
    elif emoji_after and not emoji_before:
        diff.add("emoji", f"{emoji_after} emoji(s) added")
    headings_before, headings_after = len(_HEADING.findall(response)), len(_HEADING.findall(edit))
    if headings_before and not headings_after:
        headings = [sentence for sentence in diff.removed if _HEADING.match(sentence)]
        diff.add("no_markdown", f"{headings_before} heading(s)/bold span(s) removed", explains=headings)
    elif headings_after >= 2 and not headings_before:
        diff.add("markdown", f"{headings_after} heading(s) added")
    tables_before, tables_after = len(_TABLE_ROW.findall(response)), len(_TABLE_ROW.findall(edit))
    if tables_before >= 2 and tables_after == 0:
        diff.add("no_table", "table removed")
    elif tables_after >= 2 and tables_before == 0:
        diff.add("table", "table added")
    if len(_FENCE.findall(edit)) >= 2 and not _FENCE.search(response):
        diff.add("code_block", "code put in a fenced block")


def _boilerplate(diff: _Diff) -> None:
    """Greetings, filler praise, sign-offs, apologies and disclaimers deleted (or, for pleasantries, added)."""
    for name, pattern, label in _BOILERPLATE:
        hits = [s for s in diff.removed if pattern.search(s)]
        if hits:
            diff.add(name, label, hits[0], explains=hits)
    added = [s for s in diff.added if _FILLER.search(s) or _SIGNOFF.search(s) or _GREETING.search(s)]
    if added and not diff.found("no_filler", "no_signoff", "no_greeting"):
        diff.add("friendly", "friendly opening or closing added", added[0], explains=added)


def _tone(diff: _Diff) -> None:
    """Exclamation marks and hype words toned down, and the register made formal or casual."""
    # Exclamation marks inside deleted boilerplate ("Great question!") went with it: they say nothing on tone.
    kept = "\n".join(s for s in diff.before if s not in diff.explained)
    bangs_before, bangs_after = kept.count("!"), diff.edit.count("!")
    hype_before, hype_after = len(_HYPE.findall(kept)), len(_HYPE.findall(diff.edit))
    if (bangs_before >= 2 and bangs_after == 0) or (hype_before - hype_after >= 2 and hype_after == 0):
        diff.add("neutral", f"exclamation marks {bangs_before}->{bangs_after}, hype words {hype_before}->{hype_after}")
    if diff.similarity < REWRITE:
        return  # a rewrite changes every word: nothing to say about the register
    casual_before, casual_after = casual_markers(diff.response), casual_markers(diff.edit)
    expanded_before, expanded_after = len(_EXPANDED.findall(diff.response)), len(_EXPANDED.findall(diff.edit))
    slangy = any(slang_words(s) for s in diff.removed)
    # Formal: every contraction and casual word gone, and spelt out or cut ("Hope that clears stuff up.").
    if casual_before and not casual_after and (expanded_after > expanded_before or slangy or casual_before >= 3):
        chatty = [s for s in diff.removed if casual_markers(s)]
        detail = f"register made formal ({casual_before} contractions or casual words removed)"
        diff.add("formal", detail, explains=chatty)
    elif casual_after >= 2 and casual_before == 0:
        chatty = [s for s in diff.added if slang_words(s)]
        diff.add("casual", f"register made casual ({casual_after} contractions or casual words added)", explains=chatty)


def _measures(diff: _Diff) -> None:
    """Units, currencies and type hints converted."""
    response, edit = diff.response, diff.edit
    if _IMPERIAL.search(response) and not _IMPERIAL.search(edit) and _METRIC.search(edit):
        diff.add("metric", "imperial units converted to metric")
    elif _METRIC.search(response) and not _METRIC.search(edit) and _IMPERIAL.search(edit):
        diff.add("imperial", "metric units converted to imperial")
    before, after = currency_amounts(response), currency_amounts(edit)
    for code in CURRENCIES:
        others_gone = [other for other in CURRENCIES if other != code and before[other] and not after[other]]
        if after[code] and not before[code] and others_gone:
            diff.add(code, f"amounts converted from {others_gone[0].upper()} to {code.upper()}")
    typed_before, typed_after = signatures(response), signatures(edit)
    if typed_before and len(typed_before) == len(typed_after):
        # The rewritten "def" lines are the change itself, not sentences added or removed.
        defs = [s for s in diff.removed + diff.added if _DEF_LINE.search(s)]
        count = len(typed_after)
        if not all(s.fully_typed for s in typed_before) and all(s.fully_typed for s in typed_after):
            diff.add("type_hints", f"type hints added to {count} function signature(s)", explains=defs)
        elif not all(s.untyped for s in typed_before) and all(s.untyped for s in typed_after):
            diff.add("no_type_hints", f"type hints removed from {count} function signature(s)", explains=defs)


def _citations(diff: _Diff) -> None:
    """A source line or reference added or deleted."""
    cited_before, cited_after = bool(_CITATION.search(diff.response)), bool(_CITATION.search(diff.edit))
    if cited_after and not cited_before:
        sources = [s for s in diff.added if _CITATION.search(s)]
        diff.add("cite", "source added", sources[0] if sources else "", explains=sources)
    elif cited_before and not cited_after:
        sources = [s for s in diff.removed if _CITATION.search(s)]
        diff.add("no_cite", "source removed", sources[0] if sources else "", explains=sources)


def _language(diff: _Diff) -> None:
    """The answer translated into another language."""
    if len(_words(diff.response)) < MIN_WORDS_FOR_LANGUAGE or len(_words(diff.edit)) < MIN_WORDS_FOR_LANGUAGE:
        return
    # The first few hundred characters tell the language as well as the whole text does, at a fraction of the cost.
    before_language = detect_language(diff.response[:_LANGUAGE_SAMPLE])
    after_language = detect_language(diff.edit[:_LANGUAGE_SAMPLE])
    if before_language and after_language and before_language != after_language and after_language in _CODES:
        instruction = language_instruction(_CODES[after_language])
        detail = f"translated from {before_language} to {after_language}"
        diff.changes.append(EditChange(instruction, "style", detail, ""))


def _answer_shape(diff: _Diff) -> None:
    """A long answer cut to a plain yes or no, or a plain yes or no grown into an explanation."""
    # Words, not tokens: the emojis of "Yes, it syncs. ✅ 👍" do not make it a longer answer.
    before_words, after_words = len(_WORD_CHARS.findall(diff.response)), len(_WORD_CHARS.findall(diff.edit))
    if _YES_NO_START.match(diff.edit) and after_words <= YES_NO_WORDS < before_words:
        diff.add("yes_no", f"cut to a plain answer of {after_words} words", diff.edit.strip(), explains=diff.removed)
    elif _YES_NO_START.match(diff.response) and before_words <= YES_NO_WORDS < after_words:
        diff.add("explain", f"a plain yes or no grown to {after_words} words", explains=diff.added)


def _lead(sentences: list[str], index: int, other: str) -> list[str] | None:
    """The sentences before ``index`` when all of them are a lead-in absent from ``other`` (else None)."""
    lead = sentences[:index]
    if not 0 < len(lead) <= MAX_LEAD_SENTENCES:
        return None
    absent = _unmatched(lead, other)
    if len(absent) != len(lead) or any(_is_boilerplate(s) or _DIGIT.search(s) for s in lead):
        return None  # greetings and filler are their own change; a lead with figures in it is content
    return lead


def _order(diff: _Diff) -> None:
    """The answer moved to the front (its preamble cut), or a build-up put before it."""
    if not diff.before or not diff.after or diff.found("yes_no", "explain"):
        return
    first_after = next((i for i, s in enumerate(diff.before) if _same_sentence(s, diff.after[0])), None)
    if first_after:
        lead = _lead(diff.before, first_after, diff.edit)
        moved = all(any(_same_sentence(s, t) for t in diff.after[1:]) for s in diff.before[:first_after])
        if lead is not None and any(_PREAMBLE.match(s) for s in lead):
            diff.add("answer_first", f"{len(lead)} sentence(s) before the answer cut", lead[0], explains=lead)
        elif moved and first_after <= MAX_LEAD_SENTENCES:
            diff.add("answer_first", "the answer moved to the first sentence", diff.after[0])
        return
    first_before = next((i for i, s in enumerate(diff.after) if _same_sentence(s, diff.before[0])), None)
    if first_before:
        lead = _lead(diff.after, first_before, diff.response)
        if lead is not None and any(_PREAMBLE.match(s) for s in lead):
            diff.add(
                "context_first", f"{len(lead)} sentence(s) of context put before the answer", lead[0], explains=lead
            )


def _prose_words(text: str, explained: set[str]) -> int:
    """Words outside fenced code and outside explained sentences: annotating a signature or cutting a preamble
    does not change how long the answer is."""
    prose = _CODE_BLOCK.sub(" ", text)
    return len(_words(prose)) - sum(len(_words(s)) for s in explained if s in prose)


def _length(diff: _Diff) -> None:
    """Shorter or longer, not counting code or the sentences another change accounts for."""
    if diff.found("yes_no", "explain"):
        return
    before = _prose_words(diff.response, {s for s in diff.removed if s in diff.explained})
    after = _prose_words(diff.edit, {s for s in diff.added if s in diff.explained})
    if before < MIN_WORDS_FOR_LENGTH or after <= 0:
        return
    ratio = after / before
    total_before, total_after = len(_words(diff.response)), len(_words(diff.edit))
    detail = f"edited from {total_before} to {total_after} words ({total_after / total_before:.0%} of the original)"
    if ratio <= MUCH_SHORTER:
        diff.changes.append(EditChange(word_limit(_nice(after), "about"), "style", detail, ""))
    elif ratio <= SHORTER:
        diff.changes.append(EditChange(CATALOG["short"], "style", detail, ""))
    elif ratio >= LONGER and after - before >= 15:
        diff.changes.append(EditChange(CATALOG["long"], "style", detail, ""))


def _content(diff: _Diff) -> None:
    """Sentences added or deleted that no style change accounts for: specific, low-confidence rules."""
    if diff.similarity < REWRITE or any(c.instruction.name.startswith("language_") for c in diff.changes):
        return  # a rewrite or a translation changes every sentence
    # A shorter or longer answer is the change; the sentences that went are not each a rule.
    resized = any(c.instruction.aspect in ("length:short", "length:long") for c in diff.changes)
    removed = [s for s in diff.removed if s not in diff.explained]
    if removed and len(removed) <= MAX_CONTENT_RULES and not resized:
        for sentence in removed:
            instruction = Instruction(
                "content_removed", None, f'Do not include "{_gist(sentence)}".', "unwanted content"
            )
            diff.changes.append(EditChange(instruction, "content", "sentence removed", sentence))
    added = [s for s in diff.added if s not in diff.explained]
    if added and len(added) <= MAX_CONTENT_RULES:
        for sentence in added:
            instruction = Instruction("content_added", None, f'Include "{_gist(sentence)}".', "missing content")
            diff.changes.append(EditChange(instruction, "content", "sentence added", sentence))


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


# "Here is how I would have written it:", "edited version:", "it should read:": a revision pasted into the chat.
_PASTE_LEAD = re.compile(
    r"^(?P<lead>[^\n]{0,160}?(?:how i(?:'d| would)(?: have)? (?:written|write|put|phrased?|said)|what i (?:wanted|meant"
    r"|needed|was after)|(?:edited|corrected|fixed|revised|rewritten|improved|better|cleaner) (?:version|answer|text"
    r"|draft|it|this|that)|rewrote (?:it|this|that)|i (?:fixed|edited|corrected|rewrote|changed|tweaked) (?:it|this"
    r"|that)|should (?:read|say|look like|have said)|like this|try this instead)[^\n]{0,60}?)[:\s]*\n",
    re.IGNORECASE,
)
PASTED_SIMILARITY = 0.6  # a pasted text without an announcing lead must be this close to the answer
MIN_PASTED_WORDS = 8


def pasted_revision(message: str, response: str) -> str | None:
    """The revised answer a user pasted into a chat turn, or None when the message is ordinary feedback.

    Chat logs (MemoryBench dialogs among them) carry edits as user turns: "Here is how I would have written
    it:\n\n<the answer, corrected>". With such a lead the text after it is the edit, however short ("Yes.");
    without one, a message is an edit only when it is mostly the answer itself, reworked.
    """
    lead = _PASTE_LEAD.match(message)
    if lead is not None:
        body = message[lead.end() :].strip()
        return body or None
    words = _words(message)
    if len(words) < MIN_PASTED_WORDS or not response.strip():
        return None
    matcher = SequenceMatcher(None, _words(response), words, autojunk=False)
    if matcher.quick_ratio() < PASTED_SIMILARITY or matcher.ratio() < PASTED_SIMILARITY:
        return None
    return message.strip()


# Order matters: boilerplate first (its sentences do not count for tone or length), length and content last.
_DETECTORS: tuple[Callable[[_Diff], None], ...] = (
    _layout,
    _boilerplate,
    _tone,
    _measures,
    _citations,
    _language,
    _answer_shape,
    _order,
    _length,
    _content,
)


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
    if noise is None and added:
        noise = pushed_name(" ".join(added), response)  # "BrandX recommends: ..." slipped into the answer
    diff = _Diff(response, edit, before_sentences, after_sentences, removed, added, similarity)
    for detect in _DETECTORS:
        detect(diff)
    changes = diff.changes
    if not added and not removed and similarity >= REWRITE and not diff.found(*_WORD_LEVEL):
        changes += _wording(before_words, after_words, matcher)
    labels = [c.detail for c in changes] or ["reworded"]
    summary = f"edited from {len(before_words)} to {len(after_words)} words: " + "; ".join(labels)
    return EditReading(False, tuple(changes), len(before_words), len(after_words), round(similarity, 4), noise, summary)
