"""Rewriting a corrective clause that matches no template into one imperative sentence.

"can you also mention the side effects" -> "Mention the side effects."; "you forgot the cooking time" -> "Include
the cooking time."; "I told you I'm vegetarian" -> "Take into account that the user is vegetarian."; "don't use
my full name" -> "Do not use the user's full name." Anything that does not rewrite cleanly gives None: a vague
rule is worse than none.
"""

from __future__ import annotations

import re

from uno.distill.text import STOPWORDS, content_words, third_person, word_set

# Verbs that ask for a change to the answer: a bare imperative with one of these is a correction. These verb
# tables (and INFORMATION_VERBS below) are curated cue lists, not stop-word lists: no library ships them.
REVISION_VERBS = word_set(
    """
    add include mention remove delete drop use make keep put format write rewrite rephrase reword redo fix change
    shorten expand cite answer respond reply stop avoid skip focus be stick translate consider check double-check
    verify provide start begin end open close lead leave cut split combine merge move replace switch convert
    separate highlight number order sort organize organise structure simplify clarify specify state say note warn
    quote spell capitalize correct update adjust tailor personalize personalise address assume treat call refer
    offer prioritize prioritise emphasize emphasise mark label limit reduce increase remember stay mind
    """
)
# Of those, the ones that can only mean "change what you wrote"; "write ...", "make ...", "translate ..." may just
# as well start a new task, so a bare imperative with them must be about the same topic to count as feedback.
EDIT_VERBS = word_set(
    """
    add include mention remove delete drop rewrite rephrase reword redo fix shorten expand cite cut replace move
    highlight simplify clarify specify correct update adjust tailor personalize personalise
    """
)
# Verbs that usually ask for new information rather than a revision: only a clear correction marker makes them
# a rule ("you should explain the risks" yes, "explain the risks" no - that is a clarifying question).
INFORMATION_VERBS = word_set("give show list explain tell suggest recommend compare describe define find")

_DISCOURSE = re.compile(
    r"^(?:(?:no|nope|nah|ok|okay|well|hmm+|ugh|also|and|but|so|actually|oh|yeah|yes|right|again|now|then|just"
    r"|wait|hey|lol|seriously|honestly|look|listen|sorry|still|instead|plus|oh and|btw|by the way)\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)
_POLITE = re.compile(
    r"^(?:please\s+|pls\s+|plz\s+|kindly\s+|(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|also\s+|maybe\s+"
    r"|just\s+|pls\s+)*|would you mind\s+|(?:i|we)(?:'d| would) (?:like|love|prefer|appreciate it if|rather)"
    r"(?: (?:you|it if you))?(?: to)?\s+(?:could\s+|would\s+)?|(?:i|we) (?:want|need) you to\s+"
    r"|you (?:should|need to|must|have to|ought to|gotta|could|can)\s+(?:also\s+|always\s+|really\s+)*"
    r"|make sure (?:to|that you|you)\s+|remember to\s+|be sure to\s+|try to\s+|(?:don't|do not) forget to\s+"
    r"|next time,?\s+|in (?:the )?future,?\s+|going forward,?\s+|from now on,?\s+|always\s+|also\s+)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thank you|next time|in (?:the )?future|from now on|going forward|again|ok"
    r"|okay|instead|as well|too|though|for me|if possible|if you can|thx))+\s*$|[\s.!?,;:]+$",
    re.IGNORECASE,
)
_PROHIBITION = re.compile(r"^(?P<neg>don't|dont|do not|never|stop|quit|avoid|no more)\s+(?P<rest>.+)$", re.IGNORECASE)
_OMISSION = re.compile(
    r"^you (?:forgot|forget|missed|left out|omitted|skipped|overlooked|didn't include|did not include|never"
    r" included)(?: to)?\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_DIDNT = re.compile(
    r"^you (?:didn't|did not|never|failed to)\s+(?P<verb>mention|include|add|say|give|use|explain|consider|cover"
    r"|address|answer|list|show|provide|specify|cite|note|account for|tell me)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
# "Your answer misses X", "(it) leaves out X": what the critique says is missing.
_MISSING = re.compile(
    r"^(?:(?:your|the|this|that) (?:answer|response|reply|summary|explanation|recipe|code|text|draft|essay|email"
    r"|list|plan)\s+|it\s+|this\s+)?(?:still\s+|also\s+|completely\s+)?(?:misses|is missing|leaves out|left out"
    r"|lacks|omits|omitted|ignores|ignored|overlooks|overlooked|forgot|forgets|doesn't mention|does not mention"
    r"|didn't mention|did not mention|doesn't include|does not include|fails to mention|fails to include)"
    r"\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_IGNORED = re.compile(r"^you (?:ignored|disregarded|overlooked|forgot about)\s+(?P<rest>.+)$", re.IGNORECASE)
_SHOULD = re.compile(
    r"^(?:you|it|this|that|the (?:answer|response|reply|recipe|code|list|summary|text|email|letter|essay|plan))\s+"
    r"(?:should|should've|should have|needs to|need to|must|has to|have to|ought to)\s+(?:have\s+)?(?P<rest>.+)$",
    re.IGNORECASE,
)
_REMINDER = re.compile(
    r"^(?:i|as i)\s+(?:said|told you|mentioned|already said|already told you|already mentioned|specified"
    r"|specifically said|clearly said|explicitly said|wrote|stated)\b,?\s*(?:that\s+|to\s+)?(?P<rest>.+)$",
    re.IGNORECASE,
)
_MEANT = re.compile(r"^i (?:meant|mean|was talking about|am talking about|'m talking about)\s+(?P<rest>.+)$", re.I)
_ASKED_FOR = re.compile(
    r"^i\s+(?:asked|was asking|am asking|'m asking)\s+(?:you\s+)?(?P<prep>for|about|to)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_WANTED = re.compile(
    r"^i\s+(?:wanted|want|need|needed|would like|'d like|was looking for|am looking for|'m looking for|expected)"
    r"\s+(?!to\b)(?P<rest>.+)$",
    re.IGNORECASE,
)
_PREFER = re.compile(r"^i\s+(?:prefer|'d prefer|would prefer|'d rather have|would rather have)\s+(?P<rest>.+)$", re.I)
_REMEMBER = re.compile(r"^(?:remember|keep in mind|note|bear in mind|never forget)\s+(?:that\s+)?(?P<rest>.+)$", re.I)
_STATEMENT = re.compile(
    r"\b(?:is|are|was|were|has|have|had|does|do|did|can|cannot|can't|should|will|won't|isn't|aren't|doesn't"
    r"|don't|didn't|'s|'re|am|'m|need|needs|want|wants|live|lives|work|works|use|uses|prefer|prefers)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"^(?:what|what's|how|why|when|where|which|who|is|are|was|were|can|could|would|will|do|does|did|should|shall"
    r"|may|might|am)\b",
    re.IGNORECASE,
)
_PRONOUN_ONLY = re.compile(
    r"^(?:it|this|that|them|these|those|everything|all|that again|it again|this again|the answer|the response"
    r"|so|again|anything|something|stuff|things)$",
    re.IGNORECASE,
)
_LINK = re.compile(r"https?://|www\.|\b[\w.+-]+@[\w-]+\.\w+", re.IGNORECASE)
# Past participles seen after "you should have": back to the base form.
_PARTICIPLES = {
    "mentioned": "mention",
    "included": "include",
    "used": "use",
    "added": "add",
    "explained": "explain",
    "given": "give",
    "written": "write",
    "said": "say",
    "told": "tell",
    "asked": "ask",
    "checked": "check",
    "listed": "list",
    "shown": "show",
    "kept": "keep",
    "made": "make",
    "put": "put",
    "put in": "put in",
    "started": "start",
    "ended": "end",
    "considered": "consider",
    "noted": "note",
    "provided": "provide",
    "warned": "warn",
    "cited": "cite",
    "asked me": "ask the user",
    "answered": "answer",
    "focused": "focus",
    "left out": "leave out",
    "removed": "remove",
    "skipped": "skip",
    "avoided": "avoid",
    "been": "be",
}
MAX_WORDS = 25


def _verb(word: str) -> str:
    return word.lower().strip(",.!?;:")


def _finish(text: str) -> str | None:
    """Clean a candidate instruction; None when it is empty, vague, too long or carries a link."""
    text = _TRAILING.sub("", text.strip()).strip(" \"'")
    text = " ".join(text.split())
    words = text.split()
    if len(words) < 2 or len(words) > MAX_WORDS or _LINK.search(text):
        return None
    rest = _TRAILING.sub("", text.partition(" ")[2].strip())
    if _PRONOUN_ONLY.match(rest) or not content_words(rest):
        return None  # "Fix it.", "Include under.": nothing a later reader could act on
    return text[0].upper() + text[1:] + "."


def _imperative(clause: str) -> str | None:
    head = _verb(clause.split(maxsplit=1)[0]) if clause.split() else ""
    if head == "add":
        return _finish("Include " + clause.split(maxsplit=1)[1]) if " " in clause else None
    return _finish(clause) if head in REVISION_VERBS or head in INFORMATION_VERBS else None


def _take_into_account(statement: str) -> str | None:
    """A fact the user stated ("the capital is Canberra"); None when it has no verb or no subject."""
    statement = third_person(_TRAILING.sub("", statement.strip()))
    if not _STATEMENT.search(statement) or _STATEMENT.match(statement):
        return None
    if re.match(r"you\b", statement, re.IGNORECASE):
        return None  # "you did it again" is about the answer, not a fact to take into account
    first = statement.split(maxsplit=1)[0]
    if first.lower() in STOPWORDS and first != "I":  # "The correct answer is 42" inside a sentence
        statement = first.lower() + statement[len(first) :]
    return _finish("Take into account that " + statement)


def _from_participle(rest: str) -> str:
    lowered = rest.lower()
    for participle in sorted(_PARTICIPLES, key=len, reverse=True):
        if lowered == participle or lowered.startswith(participle + " "):
            return _PARTICIPLES[participle] + rest[len(participle) :]
    return rest


def _object_or_reminder(rest: str) -> str | None:
    """What follows "I said": an instruction ("no onions", "use metric") or a fact about the user."""
    rest = rest.strip()
    lowered = rest.lower()
    if lowered.startswith("no "):
        return _finish("Avoid " + rest[3:])
    if lowered.startswith(("not ", "don't ", "do not ", "never ")):
        prohibition = _PROHIBITION.match(rest)
        return _prohibit(prohibition) if prohibition else _finish("Do not " + rest.split(maxsplit=1)[1])
    if _verb(lowered.split(maxsplit=1)[0]) in REVISION_VERBS | INFORMATION_VERBS:
        return _imperative(rest)
    return _take_into_account(rest)


def _prohibit(match: re.Match[str]) -> str | None:
    negation, rest = match.group("neg").lower(), match.group("rest")
    rest = third_person(rest)
    if negation in ("stop", "quit", "avoid", "no more"):
        return _finish("Avoid " + rest)
    return _finish("Do not " + rest)


_OBLIGATION = re.compile(
    r"you (?:should|need|must|have|ought)|next time|future|going forward|from now on|make sure|remember|be sure"
    r"|forget",
    re.IGNORECASE,
)


def _strip_lead(clause: str) -> tuple[str, bool]:
    """The clause without discourse words and politeness, and whether the politeness was an obligation."""
    text = _DISCOURSE.sub("", clause.strip())
    polite = _POLITE.match(text)
    obligation = bool(polite and _OBLIGATION.search(polite.group(0)))
    text = _TRAILING.sub("", _POLITE.sub("", text).strip())
    return text, obligation


def rewrite(clause: str, *, strong: bool) -> str | None:
    """``clause`` (original case) as one imperative sentence, or None.

    ``strong`` says the sentence carries a clear correction marker ("no,", "I said", "that's wrong"); only then
    can information verbs ("explain ...") and plain statements ("the capital is Canberra") become rules.
    """
    text, obligation = _strip_lead(clause)
    if not text:
        return None
    if text.lower().startswith(("have ", "'ve ")):  # "you should have mentioned X" lost "you should" above
        text = _from_participle(text.split(maxsplit=1)[1]) if " " in text else ""
    if match := _PROHIBITION.match(text):
        return _prohibit(match)
    if match := _DIDNT.match(text):
        verb = match.group("verb").lower()
        verb = {"add": "include", "tell me": "tell the user"}.get(verb, verb)
        return _finish(f"{verb} {third_person(match.group('rest'))}")
    if match := _OMISSION.match(text):
        rest = match.group("rest")
        first = _verb(rest.split(maxsplit=1)[0])
        return (
            _imperative(third_person(rest))
            if first in REVISION_VERBS | INFORMATION_VERBS
            else _finish("Include " + third_person(rest))
        )
    if match := _MISSING.match(text):
        return _finish("Include " + third_person(match.group("rest")))
    if match := _IGNORED.match(text):
        return _finish("Take into account " + third_person(match.group("rest")))
    if match := _SHOULD.match(text):
        rest = _from_participle(match.group("rest"))
        if rest.lower().startswith("be "):
            return _finish("Make the answer " + third_person(rest[3:]))
        return _imperative(third_person(rest))
    if match := _MEANT.match(text):
        return _finish("Take into account that the user means " + third_person(match.group("rest")))
    if match := _REMINDER.match(text):
        return _object_or_reminder(third_person(match.group("rest")))
    if match := _ASKED_FOR.match(text):
        rest = third_person(match.group("rest"))
        prep = match.group("prep").lower()
        if prep == "to":
            return _imperative(rest)
        return _finish(("Provide " if prep == "for" else "Focus on ") + rest)
    if match := _PREFER.match(text):
        return _finish("Prefer " + third_person(match.group("rest")))
    if match := _WANTED.match(text):
        return _finish("Provide " + third_person(match.group("rest")))
    if match := _REMEMBER.match(text):
        return _object_or_reminder(third_person(match.group("rest")))
    head = _verb(text.split(maxsplit=1)[0])
    if head in REVISION_VERBS or (head in INFORMATION_VERBS and (strong or obligation)):
        return _imperative(third_person(text))
    if strong and not _QUESTION.match(text) and not text.rstrip().endswith("?"):
        return _take_into_account(text)
    return None
