"""Reading one follow-up message: is it a correction, and which rules does it imply?

Each sentence is split into clauses; each clause is searched for length limits, language requests and the
mention table of :mod:`uno.distill.mentions`; a corrective clause that matches none of them is rewritten into a
generic imperative by :mod:`uno.distill.imperative`. Messages without corrections are classified (satisfied,
small talk, new topic, clarifying question, reply to the assistant's question, plain statement) so the verdict
can say why nothing was learnt.

A short message that names a known aspect is a correction even without a marker of feedback ("type hints
please", "why are there emojis everywhere 🙄", "I asked a yes/no question thanks"); a trailing "thanks" does not
make it praise. Within one message the most precise reading wins: a vague complaint beside a precise request is
its reason ("wall of text... bullets please" -> bullets only), a clause that justifies a request is not a second
rule ("no emoji please, it looks unprofessional"), and a generic rewrite that only restates a template finding is
dropped. "dollars?? i live in germany" doubts one currency and implies another from where the user lives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from uno.distill.catalog import CATALOG, Instruction
from uno.distill.imperative import EDIT_VERBS, rewrite
from uno.distill.mentions import (
    CURRENCY_RE,
    MENTION_BY_GROUP,
    MENTION_RE,
    Cue,
    Mention,
    find_languages,
    find_limits,
    negated_complaint,
    place_currency,
    post_cue_end,
    read_cue,
)
from uno.distill.noise import NoiseLabel, find_noise, mask_abuse, pushed_name
from uno.distill.text import (
    Sentence,
    content_words,
    normalize,
    overlap,
    split_clauses,
    split_sentences,
    word_set,
)


class FollowupKind(StrEnum):
    """How a follow-up relates to the answer before it."""

    CORRECTIVE = "corrective"  # implies at least one rule
    COMPLAINT = "complaint"  # negative but says nothing specific: "that's wrong", "try again"
    SATISFIED = "satisfied"
    SMALL_TALK = "small_talk"
    NEW_TOPIC = "new_topic"
    CLARIFYING = "clarifying"  # a question about the answer's content
    REPLY = "reply"  # answers a question the assistant asked ("yes please")
    NEUTRAL = "neutral"  # a statement with no feedback in it
    ADVERSARIAL = "adversarial"
    ABUSIVE = "abusive"


GENERIC_FAILURE = "missed what the user asked for"


@dataclass(frozen=True)
class Finding:
    """One rule a follow-up implies, with the words that implied it."""

    instruction: Instruction
    quote: str  # the exact sentence of the follow-up
    trigger: str  # the words in it that carry the rule
    reading: str  # "a complaint", "a request", "a rejection", "a correction"
    generic: bool  # rewritten from the user's words, no template matched
    weak: bool = False  # only a polite "can you ... ?" points at it: may be a new request, not feedback
    vague: bool = False  # a vague complaint ("wall of text") that a precise request beside it explains


@dataclass(frozen=True)
class FollowupReading:
    """What one follow-up message amounts to: its kind, the rules it implies, any noise, and a one-line note."""

    text: str
    kind: FollowupKind
    findings: tuple[Finding, ...]
    noise: tuple[NoiseLabel, ...]
    insistent: bool  # "I said", "again", "you keep": the user is repeating a correction
    note: str

    @property
    def corrective(self) -> bool:
        return self.kind in (FollowupKind.CORRECTIVE, FollowupKind.COMPLAINT)


_CORRECTION = re.compile(
    r"^(?:no|nope|nah|wrong|incorrect|not quite|not really|not exactly|ugh|hmm+ no|no no)\b"
    r"|\b(?:that's|that is|this is|it's|it is|you're|you are|your answer is|the answer is)\s+(?:still\s+|completely"
    r"\s+|totally\s+|just\s+)?(?:not\s+(?:right|correct|true|it|what|accurate|helpful)|wrong|incorrect|inaccurate"
    r"|false|outdated|mistaken)|\bnot what i\b|\bi (?:said|told you|asked for|asked you|meant|specifically|clearly"
    r"|already|explicitly)\b|\byou (?:forgot|missed|ignored|left out|didn't|did not|keep|still|misunderstood"
    r"|misread|got it wrong|failed|should(?:n't)?|need to|must|have to|were supposed to)\b"
    r"|\bwhy (?:did|didn't|do|don't|would) you\b|\bshould(?:'ve| have)\b|\bi(?: want| need| would like|'d like)"
    r" (?:it|this|that|the answer|you to|an? (?:answer|response)|answers|responses)\b"
    r"|\bnext time\b|\bin the future\b|\bgoing forward\b|\bfrom now on\b"
    # "you did it again", "again: one sentence" - not "it's raining here again"
    r"|^again\b|\byou(?:'ve|'re)?\b[^.!?]{0,40}\bagain\b"
    r"|\bi(?:'d| would)? prefer\b|\bi(?:'d| would) rather\b"
    r"|\b(?:misses|is missing|are missing|leaves out|left out|lacks|omits|omitted|ignores|overlooks|overlooked)\b"
    r"|\bthe (?:correct|right|actual|real|true) answer is\b"
)
_INSISTENT = re.compile(
    r"\bi (?:said|told you|already|asked you|specifically|clearly|explicitly)\b|\bagain\b|\bhow many times\b"
    r"|\bfor the (?:second|third|last|\w+th) time\b|\bstill\b|\byou keep\b|\bonce more\b"
)
_PRAISE_IDIOMS = re.compile(
    r"\b(?:not bad|no problem|no worries|not a problem|no doubt|nothing wrong)\b|^(?:no|nope|nah),? (?:(?:that's|it's"
    r"|this is|that is|it is) )?(?:fine|ok|okay|good|great|perfect|all good|all set)\b"
)
# "Actually, I'm vegetarian": a correction of the facts, though on its own not a complaint.
_ACTUALLY = re.compile(r"^(?:actually|in fact|fyi|for the record)\b")
_COMPLAINT = re.compile(
    r"^(?:no|nope|nah|wrong|incorrect|not quite|not really|meh|ugh|hmm+ no)\b"
    r"|\b(?:wrong|incorrect|inaccurate|false|untrue|mistaken|outdated|out of date|nonsense|rubbish|useless"
    r"|unhelpful|pointless|terrible|awful|horrible|disappointing|disappointed|worse|bad|poor|broken|buggy|error"
    r"|errors|fails?|failed|crash(?:es|ed)?|garbage|trash|hallucinat\w*)\b"
    r"|\bnot (?:right|correct|true|accurate|helpful|useful|good|great|it|quite)\b"
    r"|\b(?:doesn't|does not|didn't|did not|won't|isn't|is not|not) work(?:ing|s)?\b"
    r"|\b(?:makes no|doesn't make|does not make) sense\b|\bare you sure\b|\breally\s*\?|\btry again\b|\bredo\b"
    r"|\bdo it again\b|^(?:please )?(?:fix|redo|change|rewrite|correct|improve|update|try) (?:it|this|that)\b"
    r"|\b(?:reconsider|rethink|think again)\b"
)
# "the second point", "step 3", "what you said": the question is about the answer, whatever its words.
_DEIXIS = re.compile(
    r"\b(?:the|your) (?:first|second|third|fourth|last|\d+(?:st|nd|rd|th)|previous|above|earlier|next|other)"
    r" (?:point|step|part|paragraph|bullet|item|sentence|example|one|option|line|section|answer)\b|\bstep \d+\b"
    r"|\bwhat you (?:said|mean|meant|wrote)\b|\byou (?:said|mentioned|wrote|suggested)\b|\b(?:that|this|it|those"
    r"|these|them)\b"
)
_SATISFIED = re.compile(
    r"\b(?:thanks|thank you|perfect|great|awesome|excellent|amazing|brilliant|nice|cool|wonderful|fantastic|superb"
    r"|lovely|neat|splendid|exactly|spot on|that works|this works|it works|works (?:now|great|perfectly|for me)"
    r"|got it|makes sense|that helps|helpful|much better|love it|appreciate it|appreciated|cheers|well done"
    r"|good job|nice one|nailed it|that's (?:it|right|correct)|you're (?:the best|awesome|a lifesaver|right)"
    r"|exactly what i (?:needed|wanted)|not bad|no problem|no worries|merci|gracias|danke|^good|very good"
    r"|good (?:job|answer|stuff|one|work)|(?:that's|this is|it's) good"
    r"|i (?:really )?(?:like|love|liked|loved|enjoyed))\b"
    r"|[\U0001f44d\U0001f64f\u2764\U0001f389\u2705\U0001f4af\U0001f60d\U0001f970\U0001f44c]"
)
_SMALL_TALK = re.compile(
    r"^(?:(?:hi|hello|hey|yo|sup|hiya|good (?:morning|evening|night|afternoon)|how are you(?: doing| today)?"
    r"|how's it going|what's up|wassup|lol+|lmao|rofl|haha\w*|hehe\w*|ok(?:ay)?|k+|hmm+|huh|bye|goodbye"
    r"|see (?:you|ya)(?: later)?|later|gn|who are you|what(?:'s| is) your name|are you (?:a )?(?:bot|robot|human"
    r"|real|an ai|ai|sentient|alive|chatgpt)|tell me a joke|nice to meet you|how old are you"
    r"|do you have feelings|i'?m bored|wow|oh|interesting|i see|hm+|ah+|right|yeah|yes|sure|there|you)"
    r"[\s,!.?]*)+$"
)
_REPLY = re.compile(
    r"^(?:yes|yeah|yep|yup|sure|ok(?:ay)?|no|nope|nah|no thanks|no thank you|yes please|please do|go ahead"
    r"|please|sounds good|y|n|absolutely|of course|definitely|not now|maybe(?: later)?|not really|that's all"
    r"|nothing else|all good)\b[\s,!.]*(?:please|thanks|thank you|that's all)?[\s!.]*$"
)
_QUESTION_START = re.compile(
    r"^(?:what|what's|how|why|when|where|which|who|whom|whose|is|are|was|were|can|could|would|will|do|does|did"
    r"|should|shall|may|might|tell me|explain)\b"
)
_BARE_FILLER = re.compile(
    r"\b(?:please|pls|only|just|in|into|as|a|an|the|more|some|with|next time|thanks|thank you|honestly|um|hmm+|ok"
    r"|okay|so|but|well|lol|tbh|seriously|again|always|for me)\b|[^\w\s,]"
)
# A follow-up that brings up something the query and answer never mention is a new topic, not a correction.
NEW_TOPIC_OVERLAP = 0.2
_READINGS = {Cue.STRONG_ASK: "a request", Cue.ASK: "a request", Cue.NONE: "a request", Cue.REJECT: "a rejection"}


def _bare(clause: str, start: int, end: int) -> bool:
    """ "Bullet points please", "Metric!", "in a table": the clause is only the phrase and filler."""
    rest = clause[:start] + " " + clause[end:]
    return not _BARE_FILLER.sub(" ", rest).strip(" ,")


def _masked(norm: str, spans: list[tuple[int, int]]) -> str:
    chars = list(norm)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# "thanks for being polite, keep it that way", "I like emojis, please use them": praise that asks for more.
_KEEP_IT = re.compile(
    r"\bkeep (?:it|this|that|them|doing (?:it|this|that))(?: (?:that|this|the same) way| up| coming)?\b"
    r"|\b(?:please |pls )?(?:use|add|include) (?:them|it|those|these|that)\b"
    r"|\bmore of (?:that|this|them|those)\b|\bkeep using (?:them|it|those|these)\b"
)
# "dollars??": a currency (or another alternative) doubted by a question mark, not asked for.
_DOUBT = re.compile(r"^\s*\?")


def _direction(clause: str, sentence: str, match: re.Match[str], mention: Mention, *, strong: bool) -> Cue:
    """Which way a plain or rejected phrase points, reading its clause (and the sentence for praise)."""
    cue = read_cue(clause, match.start(), match.end())
    if cue is Cue.NONE and mention.doubted_by_question and _DOUBT.match(clause[match.end() :]):
        return Cue.REJECT
    if cue is Cue.NONE and mention.bare_asks and _bare(clause, match.start(), match.end()):
        return Cue.STRONG_ASK if strong else Cue.ASK
    if cue is Cue.PRAISE and _KEEP_IT.search(sentence):
        return Cue.ASK
    return cue


def _templates(clause: str, sentence: str, quote: str, *, strong: bool) -> list[Finding]:
    """Template findings in one normalised clause (``sentence`` is the whole normalised sentence)."""
    found: list[Finding] = []
    limits = find_limits(clause)
    for limit in limits:
        found.append(Finding(limit.instruction, quote, clause[limit.start : limit.end].strip(), "a limit", False))
    clause = _masked(clause, [(limit.start, limit.end) for limit in limits])
    languages, language_spans = find_languages(clause, sentence)
    for ask in languages:
        weak = not strong
        found.append(Finding(ask.instruction, quote, clause[ask.start : ask.end], "a request", False, weak))
    clause = _masked(clause, language_spans)
    settled_until = 0  # words after a phrase that only said which way it points
    for match in MENTION_RE.finditer(clause):
        if match.start() < settled_until:
            continue
        mention = MENTION_BY_GROUP[match.lastgroup or ""]
        trigger = match.group(0)
        if mention.mode == "fixed":
            if mention.asked and not negated_complaint(clause, match.start()):
                instruction = CATALOG[mention.asked]
                found.append(Finding(instruction, quote, trigger, "a complaint", False, vague=mention.vague))
            continue
        cue = _direction(clause, sentence, match, mention, strong=strong)
        settled_until = post_cue_end(clause, match.end())
        name = mention.rejected if cue is Cue.REJECT else mention.asked if cue in (Cue.ASK, Cue.STRONG_ASK) else None
        if (mention.mode == "reject" and cue is not Cue.REJECT) or name is None:
            continue
        weak = cue is Cue.ASK and not strong
        found.append(Finding(CATALOG[name], quote, trigger, _READINGS[cue], False, weak))
    return found


_JUDGEMENT_WORDS = (
    r"(?:(?:still|just|completely|totally|really|so|very|not|simply|clearly|obviously|also|partially|partly|mostly"
    r"|somewhat|half|almost|nearly|only|largely)\s+)*(?:right|correct"
    r"|wrong|incorrect|true|false|helpful|useful|useless|good|bad|great|terrible|awful|broken|fine|ok|okay|outdated"
    r"|nonsense|confusing|unclear|clear|better|worse|perfect|off|mistaken|inaccurate|accurate|garbage|rubbish"
    r"|a mess|the same|it|what)\b"
)
# "that's wrong", "it doesn't work", "you're mistaken": a verdict on the answer, not an instruction.
_JUDGEMENT = re.compile(
    r"^(?:it|this|that|your (?:answer|response|reply)|the (?:answer|response|reply))(?:(?:'s| is| was)\s+"
    + _JUDGEMENT_WORDS
    + r"|\s+(?:still\s+)?(?:doesn't|does not|didn't|did not|won't|isn't|wasn't|makes no|sucks|fails|failed"
    r"|crashes|crashed|works|worked))"
    r"|^(?:you're|you are|you were)\s+" + _JUDGEMENT_WORDS
)


_MARKER = re.compile(
    r"\b(?:please|pls|can you|could you|would you|you should|you need to|you must|next time|make sure|remember"
    r"|from now on|in (?:the )?future|going forward|instead|i want you to|i'd like you to)\b"
)


def _generic(clause: str, norm: str, quote: str, *, strong: bool) -> Finding | None:
    if _JUDGEMENT.match(norm):
        return None  # "that's wrong", "it doesn't work": a verdict on the answer, not an instruction
    do = rewrite(clause, strong=strong)
    if do is None or find_noise(do):
        return None
    instruction = Instruction("generic", None, do, GENERIC_FAILURE)
    # "Write a novel about dragons" is a bare imperative too: without any marker of feedback it may be a new task.
    verb = do.split(maxsplit=1)[0].lower()
    weak = not strong and not _MARKER.search(norm) and verb not in EDIT_VERBS and verb != "include"
    return Finding(instruction, quote, clause.strip(), "a correction", True, weak)


# Words that describe the form of an answer rather than a subject: "could you use a more formal register?" asks
# nothing new, however little it shares with the answer.
_FORM_WORDS = word_set(
    """
    use write make keep put tone register style voice format formatting version text reply replies respond
    response responses answer answers language wording sentence sentences word words paragraph paragraphs bit
    little instead next time future appropriate better here there way everywhere thing things stuff read easier
    amount amounts code function signature signatures snippet example examples output normal normally plain
    proper properly simple clean person human terms explanation explanations rewrite rephrase reword
    """
)


def _subsumed(finding: Finding, findings: list[Finding]) -> bool:
    """Whether a more precise finding of the same message already says what this one says."""
    name, aspect = finding.instruction.name, finding.instruction.aspect
    names = {f.instruction.name for f in findings}
    aspects = {f.instruction.aspect for f in findings if f.instruction.name not in ("short", "long")}
    precise = [f for f in findings if not f.generic and not f.vague]
    if name == "short" and "length:short" in aspects:
        return True  # a specific limit ("under 50 words") replaces a vague "keep it short"
    if name == "long" and ("length:long" in aspects or "explain" in names):
        return True  # "a bare yes isn't helpful, more details": the explanation is what was missing
    if "yes_no" in names and aspect in ("length:short", "answer:bare"):
        return True  # "skip the explanation, yes or no?": a plain yes or no is already short and bare
    if finding.vague:
        return bool(precise)  # "wall of text... bullets please": the wall is why they want bullets
    if name == "friendly" and any(f.instruction.name in ("casual", "polite") for f in precise):
        return True  # "a friendlier, more relaxed tone", "friendly and polite": one request, said twice
    if finding.generic and precise:
        # "stop with the bullet points, i want normal sentences": the generic rule only restates the template.
        said = set(_FORM_WORDS)
        for other in precise:
            said |= content_words(other.instruction.do + " " + other.trigger)
        own = content_words(normalize(finding.instruction.do)) - {finding.instruction.do.split()[0].lower()}
        return own <= said
    return False


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per instruction, without those a more precise finding of the message subsumes."""
    out: list[Finding] = []
    seen: set[str] = set()
    for finding in findings:
        key = finding.instruction.do.lower()
        if _subsumed(finding, findings):
            continue
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def _asks_back(response: str) -> bool:
    """Whether the answer ended on a question to the user ("Would you like the metric version?")."""
    tail = response.rstrip()[-300:]
    mark = tail.rfind("?")
    return mark >= 0 and len(tail[mark + 1 :].strip()) < 40


_INFORMATION_REQUEST = re.compile(
    r"\b(?:tell|give|show|write|send|find|teach) me\b|\babout\b|^(?:please |can you |could you )?(?:write|translate"
    r"|create|generate|compose|draft|summari[sz]e|list|find|recommend|suggest|explain|describe|compare|plan|design"
    r"|build|calculate)\b"
)


class _Reference:
    """The content words of the query and answer, computed only if a reading needs them (answers can be long)."""

    def __init__(self, query: str, response: str) -> None:
        self._texts = (query, response)
        self._words: set[str] | None = None

    @property
    def words(self) -> set[str]:
        if self._words is None:
            self._words = content_words(self._texts[0]) | content_words(self._texts[1])
        return self._words


def _drops_as_new_topic(sentence: str, findings: list[Finding], reference: _Reference) -> bool:
    """ "Can you give me a brief history of Rome?" after a cooking answer: a new request, not feedback."""
    if not findings or not all(f.weak for f in findings):
        return False
    if not (_QUESTION_START.match(sentence) or _INFORMATION_REQUEST.search(sentence) or findings[0].generic):
        return False
    rest = sentence
    for finding in findings:
        rest = rest.replace(finding.trigger, " ")
    own = content_words(rest) - _FORM_WORDS
    return len(own) >= 2 and len(own & reference.words) / len(own) < NEW_TOPIC_OVERLAP


# "..., it looks unprofessional", "because it's cluttered": why the user wants the change, not another change.
_JUSTIFICATION = re.compile(
    r"^(?:because|since|cause|cuz|coz|(?:it|this|that|they|these|those|which) (?:looks?|seems?|feels?|reads?"
    r"|sounds?|makes? (?:it|me|them)))\b"
)
# "no typing please, it's a beginner tutorial": a statement after a request is its reason, not a rule.
_STATEMENT_LEAD = re.compile(r"^(?:it|this|that|they|these|those)(?:'s|'re| is| are| was| were)\b")


def _sentence_findings(sentence: Sentence, sentence_norm: str, *, abuse: bool, strong: bool) -> list[Finding]:
    """The findings of one sentence, clause by clause: templates first, else the clause rewritten generically."""
    found: list[Finding] = []
    for clause in split_clauses(sentence.text):
        clause_norm = mask_abuse(normalize(clause)) if abuse else normalize(clause)
        if not clause_norm.strip(" ,"):
            continue
        if found and _JUSTIFICATION.match(clause_norm):
            continue
        clause_findings = _templates(clause_norm, sentence_norm, sentence.text, strong=strong)
        statement = bool(found) and _STATEMENT_LEAD.match(clause_norm) is not None
        if not clause_findings and not statement and not _names_currency(clause_norm):
            generic = _generic(clause_norm if abuse else clause, clause_norm, sentence.text, strong=strong)
            clause_findings = [generic] if generic else []
        found.extend(clause_findings)
    return found


def _names_currency(norm: str) -> bool:
    """Whether a normalised text names a currency ("dollars??", "use € not $")."""
    return CURRENCY_RE.search(norm) is not None


def _currency_by_place(text: str, norm: str, findings: list[Finding]) -> list[Finding]:
    """ "dollars?? i live in germany": the wrong currency doubted, the right one implied by where the user lives."""
    if any((f.instruction.aspect or "").startswith("currency:") for f in findings) or not _names_currency(norm):
        return []
    implied = place_currency(norm)
    if implied is None:
        return []
    instruction, phrase = implied
    quote = next((s.text for s in split_sentences(text) if phrase in s.norm), text.strip())
    return [Finding(instruction, quote, phrase, "a correction", False)]


# A preference is stated in a sentence or two; a longer message is pasted content or a new task. It is still read
# for attacks (linear regular expressions), but not clause by clause, which would cost far more than its length.
MAX_READ_CHARS = 2000
# Past this, a message is not read at all (not even for attacks) and its log teaches nothing: a 2 MB follow-up would
# otherwise cost seconds of regular expressions inside the build.
MAX_FEEDBACK_CHARS = 200_000


def read_followup(text: str, *, query: str, response: str) -> FollowupReading:
    """Read one follow-up message sent after ``response`` to ``query``."""
    noise = tuple(find_noise(text))
    # Pasted content names whatever it names: only a message short enough to be feedback is read for pushed names.
    pushed = pushed_name(text, f"{query}\n{response}") if len(text) <= MAX_READ_CHARS else None
    if pushed is not None:
        noise = (pushed, *noise)
    attacks = [label for label in noise if label.is_adversarial]
    if attacks:
        return FollowupReading(text, FollowupKind.ADVERSARIAL, (), noise, False, attacks[0].describe())
    if len(text) > MAX_READ_CHARS:
        note = f"a long message ({len(text):,} characters): pasted content or a new task, read for attacks only"
        return FollowupReading(text, FollowupKind.NEUTRAL, (), noise, False, note)
    abuse = [label for label in noise if label.is_abusive]
    reference = _Reference(query, response)
    findings: list[Finding] = []
    strong_any = False
    for sentence in split_sentences(text):
        sentence_norm = mask_abuse(sentence.norm) if abuse else sentence.norm
        judged = _PRAISE_IDIOMS.sub(" ", sentence_norm).strip()
        strong = bool(_CORRECTION.search(judged))
        strong_any = strong_any or strong
        strong = strong or bool(_ACTUALLY.match(judged))
        found = _sentence_findings(sentence, sentence_norm, abuse=bool(abuse), strong=strong)
        if not _drops_as_new_topic(sentence_norm, found, reference):
            findings.extend(found)
    norm = normalize(text)
    findings = _dedupe(findings + _currency_by_place(text, norm, findings))
    insistent = bool(_INSISTENT.search(norm))
    kind, note = _classify(norm, findings, abuse, strong_any, response, reference)
    return FollowupReading(text, kind, tuple(findings), noise, insistent, note)


def _classify(
    norm: str,
    findings: list[Finding],
    abuse: list[NoiseLabel],
    strong: bool,
    response: str,
    reference: _Reference,
) -> tuple[FollowupKind, str]:
    insult = f"; {abuse[0].describe()} ignored" if abuse else ""
    if findings:
        return FollowupKind.CORRECTIVE, f"corrective: {len(findings)} rule(s){insult}"
    if abuse:
        return FollowupKind.ABUSIVE, abuse[0].describe() + " with nothing actionable"
    if _asks_back(response) and _REPLY.match(norm):
        return FollowupKind.REPLY, "reply to the assistant's own question"
    judged = _PRAISE_IDIOMS.sub(" ", norm)
    if strong or _COMPLAINT.search(judged):
        return FollowupKind.COMPLAINT, "negative, but says nothing specific to learn"
    satisfied = _SATISFIED.search(norm) or _PRAISE_IDIOMS.search(norm)
    if satisfied and (satisfied.start() == 0 or not norm.endswith("?")):
        return FollowupKind.SATISFIED, "satisfied"
    if _SMALL_TALK.match(norm) or not re.search(r"[a-z]", norm):
        return FollowupKind.SMALL_TALK, "small talk"
    shared = overlap(norm, reference.words)
    question = norm.endswith("?") or bool(_QUESTION_START.match(norm))
    if shared < NEW_TOPIC_OVERLAP and content_words(norm) and not _DEIXIS.search(norm):
        return FollowupKind.NEW_TOPIC, f"new topic: shares {shared:.0%} of its words with the query and answer"
    if question:
        return FollowupKind.CLARIFYING, "clarifying question about the answer"
    return FollowupKind.NEUTRAL, "no feedback in it"
