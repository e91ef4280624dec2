"""What a user turn after an answer is, precision first: only a reusable preference may become a rule.

:func:`read_followup` finds every instruction a follow-up *could* imply. On real logs most of them are not lessons:
"can you give me an example?" asks for more content, "Make video games for smartphones" is a new task, "I was
asking about obesity and insurance" corrects this answer only, and "just answer the question" from someone who
wants help with a theft pushes the assistant to comply. :func:`classify_turn` sorts a follow-up into the kinds of
``benchmarks/real/gold/GUIDE.md`` and keeps a finding only when all of these hold:

* it is about the **form** of answers (length, format, language, tone, level, structure, code formatting, units,
  citations, ...), not about content (an open-vocabulary rewrite must use only words about answers and their form);
* it **steers the answer just given**: a correction marker ("no", "I said", "next time", "I prefer"), a complaint
  about the answer ("too long"), or a bare request ("bullet points please"). A polite question ("can you ...?")
  counts only when it brings no new subject and is about the answer itself;
* families that usually ask for *more content* on this one answer (longer, explain, examples, a summary, a table,
  step by step) need a clear correction marker, never a polite question alone;
* it is not a push to comply (:func:`compliance_reason`): those never become rules on their own.

Everything else gets a kind and a reason, and a one-off correction becomes a reflective experience, never a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from uno.distill.followups import Finding, FollowupKind, FollowupReading, read_followup
from uno.distill.noise import NoiseCategory
from uno.distill.text import content_words, normalize, split_clauses, word_set

if TYPE_CHECKING:
    from uno.harm import HarmDetector


class TurnKind(StrEnum):
    """The gold set's kinds of user turn after an answer."""

    PREFERENCE = "preference"
    CORRECTION = "correction"
    COMPLAINT = "complaint"
    PRAISE = "praise"
    QUESTION = "question"
    NEW_REQUEST = "new_request"
    STATEMENT = "statement"
    SMALL_TALK = "small_talk"
    ABUSE = "abuse"
    HARMFUL = "harmful"
    PROMOTION = "promotion"


# Aspect families whose lesson carries over to other requests when a user asks for it.
STYLE_FAMILIES = frozenset(
    {
        "length",
        "format",
        "table",
        "json",
        "code",
        "headings",
        "answer",
        "tone",
        "respect",
        "units",
        "currency",
        "structure",
        "steps",
        "citations",
        "examples",
        "emoji",
        "filler",
        "greeting",
        "apology",
        "repetition",
        "complexity",
        "summary",
        "language",
    }
)
# Aspects that, asked for politely, are nearly always a request for more content on this answer ("can you
# elaborate?", "an example please?"): only a clear correction of the answer makes them a lesson.
CONTENT_ASPECTS = frozenset(
    {
        "length:long",
        "answer:explained",
        "examples:include",
        "summary:include",
        "table:use",
        "json:use",
        "steps:step_by_step",
    }
)
# Aspects that push the assistant to comply rather than to answer better; never a rule on their own.
COMPLIANCE_ASPECTS = frozenset({"moralizing:none", "disclaimers:none", "relevance:on_question", "accuracy:no_guessing"})

_COMPLIANCE = re.compile(
    r"\b(?:just|simply|only)\s+(?:answer|respond to|reply to)\s+(?:the|my|this)\s+(?:question|request)\b"
    r"|\b(?:just|simply)\s+(?:tell|give|show)\s+me(?:\s+(?:how|what|where|which|anyway|already|the answer|it))?"
    r"\s*[.!?]*\s*$"
    r"|\b(?:just|simply)\s+(?:do it|help me|do as i say|do what i (?:say|said|asked))\b"
    r"|\b(?:provide|give)\s+(?:me\s+)?(?:the|your)\s+help\b"
    r"|\bstop (?:refusing|lecturing|moralizing|moralising|preaching|judging|being (?:so )?(?:preachy|careful))\b"
    r"|\b(?:don't|do not|never) (?:lecture|moralize|moralise|preach|judge|refuse|warn)\b"
    r"|\b(?:answer|do) (?:it|what i (?:say|said|asked)) anyway\b|\btell me anyway\b|\bdo as (?:i say|you're told)\b"
    r"|\bi (?:don't|do not) care (?:if|whether|about)\b|\bno (?:lectures?|lecturing|moralizing|moralising"
    r"|judg(?:e)?ment)\b"
    r"|^(?:please\s+)?answer (?:the|my) (?:question|request)\b|\bwithout (?:refusing|warnings?|judg(?:e)?ment)\b"
    r"|\b(?:always|never) (?:comply|obey|refuse)\b|\bcomply\b|\bobey\b"
)


def compliance_reason(text: str, aspect: str | None = None) -> str | None:
    """Why an instruction pushes the assistant to comply ("provide the help", "don't lecture me"), else None."""
    if aspect in COMPLIANCE_ASPECTS:
        return f"pushes compliance (aspect {aspect})"
    match = _COMPLIANCE.search(normalize(text))
    return f"pushes compliance ({match.group(0)!r})" if match else None


# Words about answers and their form: an open-vocabulary rule must be made of these alone (and stop words).
FORM_WORDS = word_set(
    """
    answer answers reply replies respond response responses write writing written explain explanation explanations
    use using keep make put format formatting formatted style tone voice register language wording word words
    sentence sentences paragraph paragraphs line lines bullet bullets point points list lists numbered table tables
    heading headings header headers markdown bold italic code block blocks fenced snippet snippets comment comments
    short shorter brief briefer concise succinct long longer lengthy verbose detail details detailed simple simpler
    plain clear clearer easy easier understand understandable jargon technical layman layman's terms beginner
    beginners formal informal casual friendly polite professional direct directly straight point summary summarize
    summarise example examples step steps structure structured order first source sources cite citation citations
    reference references link links emoji emojis exclamation unit units metric imperial english french german
    spanish italian portuguese chinese japanese korean russian dutch language's instead always never stop start
    avoid less fewer without include including add fluff filler repeat repeating repetition question questions
    ask asking assume assumptions guess guessing sure unsure honest honestly admit uncertain rewrite rephrase
    reword redo term educational everyday basic more less
    drop lose remove skip cut throw feel free stuff bit tbh lol time next every say sound looks look read reads
    hard boring annoying talk normally fluff intro outro mean nothing convert trust clutter need needs way here
    there thing things kind lot whole actual actually much little please pls thanks thank again version
    everything everywhere replie replying function functions fun funny serious warm warmer cold stiff playful
    enthusiastic dry pound ounce mile miles inch inches feet foot fahrenheit celsius gram kilogram kilometer
    kilometre meter metre liter litre cup cups dollar euro amount amounts price prices usd eur gbp
    adjective adverb metaphor analogy analogie acronym abbreviation passive caps capital capitals quote quotes
    quotation slang many few so such s'il vous pla svp merci por favor gracias bitte danke
    """
)
# Words that, in a polite question, point at the answer itself rather than at a new subject.
_ANSWER_OBJECT = re.compile(
    r"\b(?:it|that|this|them|those|these|the (?:answer|response|reply|code|text|explanation|list|script|output)"
    r"|your (?:answer|response|reply|answers|responses|code|explanation)s?)\b"
)
_QUESTION_FORM = re.compile(r"\?\s*$|^(?:can|could|would|will|do|does|is|are|what|how|why|when|where|which|who)\b")
# A polite question that asks to change the answer ("could you rewrite your explanation in simpler terms?"), as
# opposed to one that asks about a subject ("would the process be simpler on one browser?").
_REVISE_REQUEST = re.compile(
    r"\b(?:can|could|would|will) (?:you|u)\s+(?:please\s+|pls\s+|just\s+|also\s+)?(?:rewrite|rephrase|reword|redo|"
    r"put|format|use|write|make|keep|explain|answer|present|shorten|simplify|respond|reply|speak|talk|stop|avoid"
    r"|drop|remove|lose|add|give|say|be|lead|start|begin|cite|annotate|type-annotate|convert|go into|switch)\b"
)
# "why is everything a bulleted list", "where are the type annotations?": a complaint about the answer's form.
_WHY_FORM = re.compile(r"^(?:why|where|how come)\b")
# "the first paragraph", "the titles", "step 3": an edit of one part of this output, not a habit of answers.
_PART_OF_OUTPUT = re.compile(
    r"\b(?:the|your) (?:first|second|third|fourth|fifth|last|\d+(?:st|nd|rd|th)|final|opening|closing|next)"
    r"(?: (?:\d+|two|three|four|five|six|few))? (?:paragraph|section|sentence|line|point|step|part|bullet|item"
    r"|verse|stanza|chapter|title|heading)s?\b"
    r"|\b(?:paragraph|section|step|verse|chapter|line) \d+\b|\bthe (?:title|titles|chorus|abstract)\b"
)
# Words that say a lesson is meant beyond this answer: what a content-flavoured request needs to be a preference.
_GENERAL = re.compile(
    r"\b(?:next time|from now on|in (?:the )?future|going forward|always|every time|in general|generally"
    r"|(?:your|all|the) (?:answers|responses|replies)|i (?:prefer|like|want|need) (?:my )?(?:answers|responses)"
    r"|too (?:short|brief|vague|shallow|long|technical|complicated|complex)|not (?:detailed|enough detail)"
    r"|(?:lacks?|without|no) (?:any )?(?:detail|details|explanation|examples?|sources?|context)"
    r"|(?:a )?(?:longer|more thorough|more detailed|fuller|full) (?:answer|response|explanation)s?"
    r"|(?:too|a bit|very|so) thin|not enough depth|one-word answers?|bare (?:yes|no|answer)|instead of"
    r"|(?:don't|do not|not) just)\b"
)
# A tone request names the tone ("be more polite", "don't be condescending"); "add sarcastic humor" does not.
_RESPECT_REQUEST = re.compile(
    r"\b(?:polite|politely|respect\w*|condescend\w*|patroni[sz]\w*|rude|rudely|rudeness|nice|nicer|kind|kinder"
    r"|courteous|manners|tone)\b"
)
_REQUEST_MARKER = re.compile(r"\b(?:be|being|please|pls|stop|don't|do not|less|more|could you|can you|try|no|keep)\b")
# "I can only code in python": the user says something about themselves, not about the answer...
_ABOUT_THE_USER = re.compile(r"^(?:i|i'm|i am|i've|i have|my|we|we're)\b")
# ...unless the same sentence asks for something: "I'm in Europe, use € not $", "I like emojis, please use them".
_IMPERATIVE = re.compile(
    r"\b(?:please|pls|use|give|write|answer|respond|reply|keep|stop|don't|do not|no|be|skip|drop|make|put|tell me"
    r"|can you|could you|would you|lose|remove|add|cite|switch|talk|want|prefer|need|would like|'d like|asked"
    r"|didn't ask|did not ask|said|meant|hate|dislike|find)\b"
)
# "no, it's okay, I don't need the sources, you're right": the user agrees with the answer.
_AGREEING = re.compile(r"\b(?:you're right|you are right|it's okay|its okay|that's fine|no worries|never ?mind)\b")
# "you are rude": a verdict on the assistant, not a request for a tone.
_VERDICT_ON_ASSISTANT = re.compile(r"^(?:you(?:'re| are)|ur|this is|that's|that is|it's|it is)\b")
_MAX_TURN_CHARS = 400
_MAX_SENTENCE_CHARS = 200
_GENERIC_LEAD = re.compile(r"^(?:take into account|do not|don't|avoid|never)\b")
_MAX_NEW_WORDS = 1


@lru_cache(maxsize=1)
def _lexicon() -> HarmDetector:
    from uno.harm import LexiconHarmDetector

    return LexiconHarmDetector()


def harmful_request_reason(text: str) -> str | None:
    """Why ``text`` asks for help with harm, by uno's offline lexicon (None when it does not)."""
    verdict = _lexicon().assess([text])[0]
    return verdict.reason if verdict.harmful else None


@dataclass(frozen=True)
class TurnReading:
    """One follow-up classified: its kind, the findings kept as preferences, and why."""

    kind: TurnKind
    preferences: tuple[Finding, ...]
    reason: str
    reading: FollowupReading

    @property
    def is_preference(self) -> bool:
        return self.kind is TurnKind.PREFERENCE


def _family(finding: Finding) -> str:
    aspect = finding.instruction.aspect or ""
    return aspect.split(":", 1)[0]


def _new_words(sentence: str, finding: Finding, reference: set[str], *, whole: bool = False) -> set[str]:
    """Content words of the trigger's clause that are neither about form nor in the query or the answer.

    Only the clause that carries the request counts: "no emoji please, it looks unprofessional" gives a reason in
    its second clause, not a new subject. A question (``whole``) is read whole: "can you explain lists, dictionaries
    and tuples?" asks about three subjects.
    """
    trigger = finding.trigger.lower()
    clauses = [normalize(c) for c in split_clauses(sentence)] or [normalize(sentence)]
    clause = next((c for c in clauses if trigger and trigger in c and not whole), normalize(sentence))
    rest = clause.replace(trigger, " ")
    return {w for w in content_words(rest) if w not in FORM_WORDS and w not in reference}


def _rejection(finding: Finding, reading: FollowupReading, reference: set[str]) -> str | None:
    """Why a finding is not a reusable preference (None when it is one)."""
    aspect = finding.instruction.aspect or ""
    why = compliance_reason(finding.instruction.do, aspect)
    if why:
        return why
    sentence = normalize(finding.quote)
    if len(reading.text) > _MAX_TURN_CHARS or len(finding.quote) > _MAX_SENTENCE_CHARS:
        return "a long message or pasted content: a preference is stated briefly"
    if _PART_OF_OUTPUT.search(sentence):
        return "an edit of one part of this output"
    if _AGREEING.search(sentence):
        return "the user agrees with the answer"
    if finding.generic:
        if _QUESTION_FORM.search(sentence) and not _REVISE_REQUEST.search(sentence):
            return "a question about the subject, not a request to change the answer"
        return _generic_rejection(finding, reading, reference)
    if _family(finding) not in STYLE_FAMILIES:
        return f"aspect {aspect or 'none'} is not about the form of answers"
    if aspect in CONTENT_ASPECTS and not _GENERAL.search(sentence):
        return f"{aspect}: a request for more content on this answer, not a standing preference"
    if _family(finding) == "respect" and (
        _VERDICT_ON_ASSISTANT.match(sentence)
        or not _RESPECT_REQUEST.search(sentence)
        or not _REQUEST_MARKER.search(sentence)
    ):
        return "a verdict on the assistant or a content request, not a request for a tone"
    # "dollars?? i live in germany": where the user lives implies a currency, units or a language.
    implied = _family(finding) in ("currency", "units", "language")
    if _ABOUT_THE_USER.match(sentence) and not (
        _IMPERATIVE.search(sentence) or implied or finding.reading == "a limit"
    ):
        return "a statement about the user"
    question = bool(_QUESTION_FORM.search(sentence))
    new = _new_words(finding.quote, finding, reference, whole=question)
    if len(new) > (0 if question else _MAX_NEW_WORDS):
        return f"brings up new subjects ({', '.join(sorted(new)[:4])})"
    if question and not (_REVISE_REQUEST.search(sentence) or _WHY_FORM.match(sentence) or _bare(sentence, finding)):
        return "a question about the subject, not a request to change the answer"
    return None


def _bare(sentence: str, finding: Finding) -> bool:
    """ "source?", "yes or no??", "what is that in metric?": nothing but the form asked about."""
    rest = sentence.replace(finding.trigger.lower(), " ")
    return not {w for w in content_words(rest) if w not in FORM_WORDS}


def _generic_rejection(finding: Finding, reading: FollowupReading, reference: set[str]) -> str | None:
    do = finding.instruction.do
    if finding.weak and not _REVISE_REQUEST.search(normalize(finding.quote)):
        return "an open-vocabulary request without a marker of feedback (may be a new task)"
    if _GENERIC_LEAD.match(do.lower()) and do.lower().startswith("take into account"):
        return "a statement about the user or the task, not an instruction about answers"
    outside = {w for w in content_words(do) if w not in FORM_WORDS}
    if outside:
        return f"about this answer's content ({', '.join(sorted(outside)[:4])}), not the form of answers"
    return None


def _non_preference(reading: FollowupReading, rejected: list[str]) -> tuple[TurnKind, str]:
    """The kind of a follow-up that yields no preference."""
    kind = reading.kind
    if kind is FollowupKind.ABUSIVE:
        return TurnKind.ABUSE, reading.note
    if kind is FollowupKind.SATISFIED:
        return TurnKind.PRAISE, reading.note
    if kind is FollowupKind.SMALL_TALK:
        return TurnKind.SMALL_TALK, reading.note
    if kind is FollowupKind.COMPLAINT:
        return TurnKind.COMPLAINT, reading.note
    if kind is FollowupKind.CLARIFYING:
        return TurnKind.QUESTION, reading.note
    if kind is FollowupKind.NEW_TOPIC:
        return TurnKind.NEW_REQUEST, reading.note
    if kind in (FollowupKind.REPLY, FollowupKind.NEUTRAL):
        return TurnKind.STATEMENT, reading.note
    # CORRECTIVE with every finding rejected: a content correction, a question or a new request.
    why = "; ".join(dict.fromkeys(rejected)) or reading.note
    norm = normalize(reading.text)
    if any(f.reading == "a correction" and not f.weak and not f.generic for f in reading.findings) or any(
        not f.weak and f.generic for f in reading.findings
    ):
        return TurnKind.CORRECTION, f"one-off correction of this answer: {why}"
    if _QUESTION_FORM.search(norm):
        return TurnKind.QUESTION, f"a question: {why}"
    if any(f.reading == "a complaint" for f in reading.findings):
        return TurnKind.COMPLAINT, f"a complaint about this answer: {why}"
    return TurnKind.NEW_REQUEST, f"a new request: {why}"


_PROMOTION_CATEGORIES = frozenset(
    {
        NoiseCategory.PROMOTION,
        NoiseCategory.BROADCAST,
        NoiseCategory.REDIRECT,
        NoiseCategory.EXFILTRATION,
        NoiseCategory.INSTRUCTION_OVERRIDE,
        NoiseCategory.PROMPT_EXTRACTION,
        NoiseCategory.JAILBREAK,
        NoiseCategory.CHAT_MARKUP,
        NoiseCategory.ENCODED_PAYLOAD,
    }
)


def classify_turn(
    text: str,
    *,
    query: str,
    response: str,
    reading: FollowupReading | None = None,
    harmful: str | None = None,
) -> TurnReading:
    """Classify one follow-up sent after ``response`` to ``query``.

    ``reading`` is :func:`read_followup`'s result when already computed; ``harmful`` the reason the conversation
    seeks help with harm, when a detector said so (``""``: already checked, nothing found): nothing said in such
    a conversation is a preference.
    """
    reading = reading or read_followup(text, query=query, response=response)
    if harmful is None:
        harmful = harmful_request_reason(query) or harmful_request_reason(text)
    if reading.kind is FollowupKind.ADVERSARIAL:
        label = next(label for label in reading.noise if label.is_adversarial)
        kind = TurnKind.PROMOTION if label.category in _PROMOTION_CATEGORIES else TurnKind.HARMFUL
        return TurnReading(kind, (), label.describe(), reading)
    if harmful:
        return TurnReading(TurnKind.HARMFUL, (), f"harmful conversation ({harmful}): nothing learnt", reading)
    push = compliance_reason(text)
    if push:
        return TurnReading(TurnKind.COMPLAINT, (), f"{push}: never learnt", reading)
    reference = content_words(query) | content_words(response)
    kept: list[Finding] = []
    rejected: list[str] = []
    for finding in reading.findings:
        why = _rejection(finding, reading, reference)
        if why is None:
            kept.append(finding)
        else:
            rejected.append(why)
    if kept:
        aspects = ", ".join(f.instruction.aspect or f.instruction.do for f in kept)
        return TurnReading(TurnKind.PREFERENCE, tuple(kept), f"reusable preference: {aspects}", reading)
    kind, why = _non_preference(reading, rejected)
    return TurnReading(kind, (), why, reading)
