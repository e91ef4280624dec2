"""Text helpers shared by the heuristic distiller: normalising feedback, splitting it, and reading queries.

Everything here is pure ``re`` + dictionaries so that distilling thousands of logs a second stays possible.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# ----------------------------------------------------------------------------------------------------- typos


def word_set(text: str) -> frozenset[str]:
    """A set of whitespace-separated words (keeps long word tables readable)."""
    return frozenset(text.split())


# Spellings users type that the pattern tables would otherwise miss. Multi-word keys are matched as phrases.
_TYPOS: dict[str, str] = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plss": "please",
    "pleas": "please",
    "pleae": "please",
    "plese": "please",
    "pleaes": "please",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "cant": "can't",
    "wont": "won't",
    "shouldnt": "shouldn't",
    "thats": "that's",
    "whats": "what's",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tnx": "thanks",
    "ty": "thank you",
    "tysm": "thank you",
    "gr8": "great",
    "y/n": "yes or no",
    "y or n": "yes or no",
    "yes/no": "yes or no",
    "yes / no": "yes or no",
    "yes-or-no": "yes or no",
    "yes-no": "yes or no",
    "bulet": "bullet",
    "bullit": "bullet",
    "bullett": "bullet",
    "bulit": "bullet",
    "bulets": "bullets",
    "bullits": "bullets",
    "bulletpoints": "bullet points",
    "bulletpoint": "bullet point",
    "emoji's": "emojis",
    "emojies": "emojis",
    "emojees": "emojis",
    "emogis": "emojis",
    "emojii": "emoji",
    "emji": "emoji",
    "emjis": "emojis",
    "anwser": "answer",
    "answr": "answer",
    "awnser": "answer",
    "asnwer": "answer",
    "anser": "answer",
    "shoter": "shorter",
    "shortr": "shorter",
    "shrter": "shorter",
    "shrot": "short",
    "shrt": "short",
    "sentance": "sentence",
    "sentense": "sentence",
    "franch": "french",
    "frensh": "french",
    "frech": "french",
    "englsh": "english",
    "inglish": "english",
    "spainsh": "spanish",
    "germn": "german",
    "exemple": "example",
    "exmaple": "example",
    "explination": "explanation",
    "wrod": "word",
    "wrods": "words",
    "formel": "formal",
    "noraml": "normal",
    "tabel": "table",
    "metirc": "metric",
    "alot": "a lot",
    "b/c": "because",
    "bc": "because",
    "w/o": "without",
    "w/out": "without",
    "tl dr": "tl;dr",
    "tldr": "tl;dr",
}
# "to long" / "to formal": "too" typed with one o is common in complaints.
_TOO_TYPO = re.compile(
    r"\bto (long|short|much|many|formal|informal|casual|verbose|wordy|technical|complicated|complex|simple|basic|"
    r"vague|detailed|brief|lengthy|little|few)\b"
)
_TYPO_PHRASES = re.compile(
    r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(_TYPOS, key=len, reverse=True)) + r")(?![\w'])"
)

# Keywords the pattern tables rely on. A token one slip away from one of them is read as that keyword: for keywords
# of seven letters or more any one slip (a letter missing, extra, wrong, or two letters swapped); for shorter ones
# only a swap of two neighbouring letters or, at six letters, one letter missing ("pelase", "bulelt", "metic") -
# wider nets on short words would catch real words. The first letter is never part of a slip.
_KEYWORDS = word_set(
    """
    shorter shorten concise verbose bullets examples example sentence sentences paragraph paragraphs detailed
    simpler spanish english italian chinese japanese russian portuguese formatting markdown headings apologize
    apologise apologies apologizing apologising imperial citations numbered elaborate explanation professional
    friendly language emoticons disclaimers disclaimer celsius fahrenheit kilometers kilograms centimeters
    references greeting greetings exclamation enthusiastic technical complicated repeating repetitive summary
    summarize summarise informal casually formally lengthy rambling condescending patronizing conversational
    instead without metric french german answer bullet emojis tables table formal casual simple
    please answers source sources citation reference question questions filler fluff preamble pleasantries
    annotations annotate annotated signature hints types typed untyped euros dollars currency polite respectful
    courteous rudeness everything something anything little couple front start conclusion context background
    reasoning always actual actually helps noise annoying friendlier personable explain details detail prose
    emoji units brief intro outro pounds points ounces smileys smiley thanks depth verdict bottom slang blocks
    overkill needed easier whole where lists point first essay asked appropriate helpful
    """
)
# Real words one slip away from a keyword: never "corrected".
# (Checked against the whole words of a WordPiece vocabulary: see tests/distill/test_distill_text.py.)
_PROTECTED = word_set(
    """
    sorter sentience derailed retailed examine simplex causal normal length lengths normally emotions russia prussia
    prussian preference preferences gambling shooter detained readings agreeing hearings casualty rumbling javanese
    reclamation taliban italia italiana content contest concussion coupe tales sourced ponds tanks smiles
    """
)
_MIN_FUZZY_LENGTH = 5
_MIN_KEYWORD_LENGTH = 7
_MIN_SHORT_KEYWORD = 5


def _drop_ambiguous(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """variant -> keyword, leaving out variants that two keywords share (no guess is better than a wrong one)."""
    index: dict[str, str] = {}
    ambiguous: set[str] = set()
    for variant, keyword in pairs:
        if index.get(variant, keyword) != keyword:
            ambiguous.add(variant)
        index[variant] = keyword
    return {variant: keyword for variant, keyword in index.items() if variant not in ambiguous}


@lru_cache(maxsize=1)
def _keyword_deletes() -> dict[str, str]:
    """Symmetric-delete index: every long keyword with one letter removed -> the keyword."""
    pairs = [
        (variant, keyword)
        for keyword in _KEYWORDS
        if len(keyword) >= _MIN_KEYWORD_LENGTH
        for variant in {keyword} | {keyword[:i] + keyword[i + 1 :] for i in range(1, len(keyword) - 1)}
        if variant == keyword or variant not in _KEYWORDS  # "german" is a keyword, not "germany" misspelt
    ]
    return _drop_ambiguous(pairs)


@lru_cache(maxsize=1)
def _short_slips() -> dict[str, str]:
    """Exact misspellings of the five- and six-letter keywords: neighbours swapped, or (six letters) one dropped."""
    pairs: list[tuple[str, str]] = []
    for keyword in _KEYWORDS:
        if not _MIN_SHORT_KEYWORD <= len(keyword) < _MIN_KEYWORD_LENGTH:
            continue
        for i in range(1, len(keyword) - 1):
            swapped = keyword[:i] + keyword[i + 1] + keyword[i] + keyword[i + 2 :]
            if swapped != keyword:
                pairs.append((swapped, keyword))
        if len(keyword) > _MIN_SHORT_KEYWORD:  # not the last letter either: "point" is no slip of "points"
            pairs += [(keyword[:i] + keyword[i + 1 :], keyword) for i in range(1, len(keyword) - 1)]
    return {v: k for v, k in _drop_ambiguous(pairs).items() if v not in _KEYWORDS}


def _fix_long_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token in _KEYWORDS or token in _PROTECTED:
        return token
    short = _short_slips().get(token)
    if short is not None:
        return short
    if len(token) < _MIN_KEYWORD_LENGTH - 1:
        return token
    index = _keyword_deletes()
    if token in index:  # one letter missing
        return index[token]
    for i in range(1, len(token)):  # one letter extra, wrong, or swapped with its neighbour
        found = index.get(token[:i] + token[i + 1 :])
        if found is not None and abs(len(found) - len(token)) <= 1:
            return found
    return token


# Bounded: no keyword is longer than 24 letters, and trying every slip of a longer token would cost its length
# squared (a 100k-letter "word" must not hold a build).
_LONG_TOKEN = re.compile(rf"\b[a-z]{{{_MIN_FUZZY_LENGTH},24}}\b")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "´": "'", "`": "'"})
_SPACES = re.compile(r"[ \t\r\f\v]+")


_ZERO_WIDTH = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Letters of other scripts that look like Latin ones, folded only inside words that mix them with Latin letters
# ("іgnоre" with Cyrillic і and о); a word wholly in another script is left alone.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁɡοαειικνρτυАЕОРСХІЈЅВНКМТ",
    "aeopcyxijsdgoaeiikvptuAEOPCXIJSBHKMT",
)
_MIXED_WORD = re.compile(r"\w*[a-zA-Z]\w*")
_LOOKALIKE = re.compile("[аеорсухіјѕԁɡοαειικνρτυАЕОРСХІЈЅВНКМТ]")
# "i g n o r e": four or more single letters spaced out, read as the word they spell.
_SPACED_LETTERS = re.compile(r"\b(?:[^\W\d_] ){3,}[^\W\d_]\b")


def fold_unicode(text: str) -> str:
    """What a reader sees: NFKC (fullwidth "ｉｇｎｏｒｅ" -> "ignore"), no zero-width or direction characters,
    Latin look-alikes inside Latin words folded, and spaced-out letters joined ("i g n o r e" -> "ignore")."""
    folded = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))
    if _LOOKALIKE.search(folded):
        folded = _MIXED_WORD.sub(lambda m: m.group(0).translate(_CONFUSABLES), folded)
    return _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", ""), folded)


@lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """Unicode folded (:func:`fold_unicode`), lower-case, straight quotes, single spaces, common typos and
    one-letter slips fixed.

    Cached: short feedback ("too long", "thanks") repeats across logs, and each message is read several ways.
    """
    lowered = _SPACES.sub(" ", fold_unicode(text).translate(_QUOTES).lower()).strip()
    lowered = _TYPO_PHRASES.sub(lambda m: _TYPOS[m.group(1)], lowered)
    lowered = _TOO_TYPO.sub(r"too \1", lowered)
    return _LONG_TOKEN.sub(_fix_long_token, lowered)


# ----------------------------------------------------------------------------------------------------- splitting

# A sentence runs to . ! ? or a line break; the full stop of "3.5", "e.g." or "Dr." does not end it.
_SENTENCE = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|approx|mr|mrs|ms|dr)\.|\.(?=\d)|[^.!?…\n])+(?:[.!?…]+|$)", re.MULTILINE | re.IGNORECASE
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a message: ``text`` is the exact original span, ``norm`` its normalised form."""

    text: str
    norm: str


def sentence_texts(text: str) -> list[str]:
    """The sentences of ``text``, each an exact substring of it, in order."""
    spans = (match.group(0).strip() for match in _SENTENCE.finditer(text))
    return [span for span in spans if span.strip(".!?… ")]


def split_sentences(text: str) -> list[Sentence]:
    """The message's sentences with their normalised forms."""
    return [Sentence(span, normalize(span)) for span in sentence_texts(text)]


# Clause boundaries: punctuation (not the comma in "1,000") and joining words.
# "the intro and outro", "start and end" name one thing: "and" does not split them.
# "and" before a single last word ("instead of pounds and miles?") joins a list, not two clauses.
_BINOMIAL_AND = (
    r"(?<!\bintro)(?<!\bintros)(?<!\bbeginning)(?<!\bstart)(?<!\btop)\s+and\s+(?!(?:outros?|end|bottom)\b)"
    r"(?![\w'-]+\W*$)"
)
CLAUSE_BREAK = re.compile(
    r"\s*(?:,(?!\d)|[;:()])\s*|\s+[-–—]+\s+|\s+(?:but|also|then|plus|though|however|although|while|whereas)\s+"
    r"|" + _BINOMIAL_AND,
    re.IGNORECASE,
)
_TLDR = re.compile(r"\btl;\s?dr\b", re.IGNORECASE)


def split_clauses(sentence: str) -> list[str]:
    """The clauses of a sentence (original case kept): cues such as "no" or "not" do not reach across them."""
    text = _TLDR.sub("tldr", sentence.translate(_QUOTES))
    return [part for part in CLAUSE_BREAK.split(text) if part and part.strip(" .!?")]


# ----------------------------------------------------------------------------------------------------- words

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
# Words sklearn's English list (the Glasgow IR list) drops that name a topic or an edit in a chat request: "show",
# "describe", "find", "keep", "move", "put", "call" are revision/information verbs (imperative.py), and "fire",
# "system", "bill", "interest" topics; content words and cluster labels must keep them.
SKLEARN_TOPIC_WORDS = word_set(
    """
    amount back bill bottom call cry describe detail empty fill find fire front full interest keep mill move name
    part put serious show side system take thick thin top
    """
)
# Chat words sklearn's list lacks: contractions (its own tokenizer splits them, so it lists none), thanks and
# assent, and the generic words of a request ("tell", "make", "answer") that say nothing about its topic.
CHAT_STOP_WORDS = word_set(
    """
    aren't can't couldn't did didn't does doesn't doing don't got having i'd i'll i'm i've isn't it's just let
    that's what's won't wasn't you're thanks thank ok okay yes yeah tell make want need know like really
    maybe thing things way answer question response
    """
)
# Imported here, not lazily: importing this module already loaded sklearn before this list moved to it (measured),
# and distill runs at build time next to clustering, which needs sklearn too.
STOPWORDS = frozenset(ENGLISH_STOP_WORDS - SKLEARN_TOPIC_WORDS | CHAT_STOP_WORDS)


def words(norm: str) -> list[str]:
    """Tokens of a normalised text."""
    return _WORD.findall(norm)


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no stop words, at least 3 letters), crudely de-pluralised."""
    out: set[str] = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 3 or word in STOPWORDS:
            continue
        out.add(word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word)
    return out


def overlap(text: str, reference: set[str]) -> float:
    """Share of ``text``'s content words found in ``reference`` (1.0 when it has none)."""
    own = content_words(text)
    return 1.0 if not own else len(own & reference) / len(own)


# ----------------------------------------------------------------------------------------------------- numbers

NUMBER_WORDS: dict[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "a single": 1,
    "two": 2,
    "a couple of": 2,
    "a couple": 2,
    "three": 3,
    "a few": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "twenty-five": 25,
    "twenty five": 25,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "a hundred": 100,
    "one hundred": 100,
    "two hundred": 200,
    "three hundred": 300,
    "five hundred": 500,
}
NUMBER = r"\d{1,4}|" + "|".join(re.escape(k) for k in sorted(NUMBER_WORDS, key=len, reverse=True))


def parse_number(token: str) -> int:
    """``"50"`` or ``"fifty"`` -> 50."""
    token = token.strip()
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


# ----------------------------------------------------------------------------------------------------- perspective

_PERSPECTIVE = {
    "i": "the user",
    "me": "the user",
    "my": "the user's",
    "mine": "the user's",
    "myself": "the user",
    "i'm": "the user is",
    "i am": "the user is",
    "i was": "the user was",
    "i've": "the user has",
    "i have": "the user has",
    "i'd": "the user would",
    "i'll": "the user will",
    "i don't": "the user does not",
    "i do not": "the user does not",
    "i can't": "the user cannot",
    "i cannot": "the user cannot",
    "i need": "the user needs",
    "i want": "the user wants",
    "i like": "the user likes",
    "i hate": "the user hates",
    "i prefer": "the user prefers",
    "i live": "the user lives",
    "i use": "the user uses",
    "i work": "the user works",
    "your": "the",
    "yours": "the assistant's",
}
_PERSPECTIVE_RE = re.compile(
    r"(?<![\w'])(" + "|".join(re.escape(k) for k in sorted(_PERSPECTIVE, key=len, reverse=True)) + r")(?![\w'])",
    re.IGNORECASE,
)


def third_person(text: str) -> str:
    """Rewrite the user's first person as "the user" so a rule reads the same to every later reader."""
    return _PERSPECTIVE_RE.sub(lambda m: _PERSPECTIVE[m.group(1).lower()], text)


# ----------------------------------------------------------------------------------------------------- situations

_GREETING_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey|yo|ok|okay|so|quick question|question|please|pls|kindly|hi there|hey there)\b[\s,:!.-]*)+",
    re.IGNORECASE,
)
_REQUEST_LEAD = re.compile(
    r"^(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?|^i\s+(?:need|want|would like|'d like)\s+(?:you\s+)?"
    r"(?:to\s+)?|^help me(?:\s+to)?\s+|^please\s+",
    re.IGNORECASE,
)
_HOW_TO = re.compile(
    r"^how\s+(?:do|can|should|would|could|to|does one|do you)\s+(?:i|we|you|one)?\s*(?:best\s+)?", re.IGNORECASE
)
_WHAT_IS = re.compile(
    r"^(?:what|who|which)(?:'s|\s+(?:is|are|was|were|'s))\s+|^tell me about\s+|"
    r"^(?:what|which)\s+(?:kind|type|sort)s?\s+of\s+",
    re.IGNORECASE,
)
_TASK_VERBS = word_set(
    """
    write summarize summarise translate draft create generate describe compare list explain give suggest recommend
    rewrite edit fix review plan outline design build calculate convert find make compose prepare propose name
    analyze analyse classify extract answer solve check proofread correct define tell
    """
)
_TOPIC_END = re.compile(r"[?!:;\n]|\.(?!\d)|,\s")
_MAX_TOPIC_WORDS = 10


def _clip(text: str, limit: int = _MAX_TOPIC_WORDS) -> str:
    cut = _TOPIC_END.search(text)
    head = text[: cut.start()] if cut else text
    tokens = head.split()
    clipped = " ".join(tokens[:limit])
    return clipped + ("..." if len(tokens) > limit else "")


def situation(query: str) -> str:
    """A short "when" phrase for a rule, made from the query it was learnt on.

    "How do I make a sourdough starter?" -> "the user asks how to make a sourdough starter";
    "What is the capital of Peru?" -> "the user asks about the capital of Peru";
    "Summarize this article: ..." -> "the user asks to summarize this article".
    """
    text = " ".join(query.split())
    text = _GREETING_LEAD.sub("", text)
    text = _REQUEST_LEAD.sub("", text).strip()
    if not text:
        return "answering the user's request"
    how = _HOW_TO.match(text)
    if how and how.end() < len(text):
        topic = _clip(text[how.end() :])
        return f"the user asks how to {topic}" if topic else "answering the user's request"
    what = _WHAT_IS.match(text)
    if what and what.end() < len(text):
        topic = _clip(text[what.end() :])
        return f"the user asks about {topic}" if topic else "answering the user's request"
    first = text.split(maxsplit=1)[0].lower().strip(",.:;!?")
    if first in _TASK_VERBS:
        topic = _clip(text[0].lower() + text[1:])
        return f"the user asks to {topic}"
    topic = _clip(text, 12)
    return f'the user asks "{topic}"' if topic else "answering the user's request"
