"""Follow-up phrasings -> the rule they imply (or why they imply none).

The tables are the specification of the heuristic reader: every phrasing a user might type for one instruction
must land on the same canonical sentence, because the rule id is derived from it.
"""

from __future__ import annotations

import pytest

from rule_store.records import FeedbackKind, Polarity, Verdict
from uno.distill import FollowupKind, HeuristicDistiller, read_followup

from .logs import QUERY, RESPONSE, followup_log

SHORT = ("length:short", "Keep the answer short.")
LONG = ("length:long", "Give a longer, more detailed answer.")
YES_NO = ("answer:yes_no", "Answer with only YES or NO.")
LISTS = ("format:lists", "Use bullet points.")
PROSE = ("format:prose", "Do not use bullet lists; write prose.")
TABLE = ("table:use", "Present the answer as a table.")
JSON = ("json:use", "Return the answer as valid JSON.")
CODE_BLOCK = ("code:fenced", "Put code in fenced code blocks.")
NO_MARKDOWN = ("headings:none", "Do not use markdown headings or bold text; write plain text.")
MARKDOWN = ("headings:use", "Structure the answer with markdown headings.")
FORMAL = ("tone:formal", "Use a formal, professional tone.")
CASUAL = ("tone:casual", "Use a casual, friendly tone.")
NEUTRAL = ("tone:neutral", "Use a calm, neutral tone without exclamation marks or hype.")
METRIC = ("units:metric", "Use metric units.")
IMPERIAL = ("units:imperial", "Use imperial units.")
ANSWER_FIRST = ("structure:answer_first", "Lead with the answer, then explain.")
STEPS = ("steps:step_by_step", "Explain step by step.")
CITE = ("citations:required", "Cite your sources.")
EXAMPLES = ("examples:include", "Include a concrete example.")
NO_EMOJI = ("emoji:none", "Do not use emojis.")
EMOJI = ("emoji:use", "Use emojis.")
NO_FILLER = ("filler:none", 'Do not open with filler praise such as "Great question!".')
NO_SIGNOFF = ("filler:none", 'Do not end with filler sign-offs such as "I hope this helps".')
NO_GREETING = ("greeting:none", "Do not start with a greeting.")
NO_APOLOGY = ("apology:none", "Do not apologise.")
NO_DISCLAIMERS = ("disclaimers:none", "Do not add disclaimers or caveats.")
NO_REPETITION = ("repetition:none", "Do not repeat the question or restate points already made.")
ON_QUESTION = ("relevance:on_question", "Answer exactly the question that was asked.")
NO_GUESSING = ("accuracy:no_guessing", "If you are not sure, say so instead of guessing.")
SIMPLE = ("complexity:simple", "Use simple, plain language and avoid jargon.")
TECHNICAL = ("complexity:technical", "Use precise technical language; do not oversimplify.")
NO_EXPLAIN = ("answer:bare", "Give only the answer, without explanation.")
CODE_ONLY = ("answer:bare", "Give only the code, without explanation.")
EXPLAIN = ("answer:explained", "Explain the reasoning behind the answer.")
POLITE = ("respect:polite", "Be polite and respectful; never condescending.")
SUMMARY = ("summary:include", "Include a short summary of the key points.")
FRENCH = ("language:fr", "Answer in French.")
SPANISH = ("language:es", "Answer in Spanish.")
GERMAN = ("language:de", "Answer in German.")
ENGLISH = ("language:en", "Answer in English.")

# (follow-up, the single (aspect, do) it must produce)
SINGLE_RULE: list[tuple[str, tuple[str, str]]] = [
    # yes / no: every phrasing, one canonical sentence
    ("no, only YES or NO", YES_NO),
    ("just say yes or no", YES_NO),
    ("I only want a yes/no answer", YES_NO),
    ("reply Y/N only please", YES_NO),
    ("Yes or no?", YES_NO),
    ("a simple yes or no would do", YES_NO),
    ("I asked a yes-or-no question, answer yes or no", YES_NO),
    ("why didn't you just say yes or no", YES_NO),
    ("JUST YES OR NO", YES_NO),
    # length
    ("too long", SHORT),
    ("Too long.", SHORT),
    ("to long", SHORT),
    ("way too long dude", SHORT),
    ("make it shorter", SHORT),
    ("shoter please", SHORT),
    ("Could you make it a bit more concise?", SHORT),
    ("keep it brief", SHORT),
    ("great, another wall of text", SHORT),
    ("wow, thanks for the essay", SHORT),
    ("tl;dr", SHORT),
    ("TLDR", SHORT),
    ("this is so verbose", SHORT),
    ("why is it so long", SHORT),
    ("less detail please", SHORT),
    ("not enough detail", LONG),
    ("too short", LONG),
    ("Can you give a more detailed answer?", LONG),
    ("please elaborate", LONG),
    ("more details please", LONG),
    ("that's way too vague", LONG),
    # limits
    ("can you keep it under 50 words?", ("length:short", "Keep the answer under 50 words.")),
    ("under fifty words please", ("length:short", "Keep the answer under 50 words.")),
    ("50 words max", ("length:short", "Keep the answer under 50 words.")),
    ("answer in one sentence", ("length:short", "Answer in one sentence.")),
    ("one sentence please", ("length:short", "Answer in one sentence.")),
    ("give me a one-liner", ("length:short", "Answer in one sentence.")),
    ("keep it to two sentences", ("length:short", "Keep the answer to 2 sentences.")),
    ("in 3 bullets please", ("format:lists", "Answer in 3 bullet points.")),
    ("give me five bullet points", ("format:lists", "Answer in 5 bullet points.")),
    ("one paragraph only", ("length:short", "Answer in one paragraph.")),
    ("at least 300 words please", ("length:long", "Write at least 300 words.")),
    # format
    ("use bullet points", LISTS),
    ("bulet points pls", LISTS),
    ("can you put that in a list?", LISTS),
    ("no bullet points", PROSE),
    ("Use prose instead of bullet points", PROSE),
    ("Not in bullet points please", PROSE),
    ("i hate the bullet points", PROSE),
    ("why did you use bullet points?", PROSE),
    ("write it in paragraphs", PROSE),
    ("too many bullet points", PROSE),
    ("I'd like a table", TABLE),
    ("in a table please", TABLE),
    ("Could you format that as JSON?", JSON),
    ("Please put the code in a code block", CODE_BLOCK),
    ("no markdown", NO_MARKDOWN),
    ("plain text please", NO_MARKDOWN),
    ("stop using bold everywhere", NO_MARKDOWN),
    ("add some headings", MARKDOWN),
    # tone
    ("too formal", CASUAL),
    ("not so formal", CASUAL),
    ("be more casual", CASUAL),
    ("you sound like a robot", CASUAL),
    ("be more professional", FORMAL),
    ("that's way too casual for a work email", FORMAL),
    ("less enthusiastic please", NEUTRAL),
    ("tone it down", NEUTRAL),
    ("no exclamation marks", NEUTRAL),
    ("don't be condescending", POLITE),
    # language
    ("Answer in French.", FRENCH),
    ("answer in spanish please", SPANISH),
    ("en français svp", FRENCH),
    ("Spanish please", SPANISH),
    ("respond in german from now on", GERMAN),
    ("in english, not french", ENGLISH),
    ("can you say that in frensh", FRENCH),
    # units
    ("Please use metric units", METRIC),
    ("in celsius please", METRIC),
    ("no fahrenheit", METRIC),
    ("in fahrenheit please", IMPERIAL),
    ("I'm American, use imperial", IMPERIAL),
    # structure, content habits
    ("lead with the answer", ANSWER_FIRST),
    ("get to the point", ANSWER_FIRST),
    ("skip the intro", ANSWER_FIRST),
    ("straight answer please", ANSWER_FIRST),
    ("explain step by step", STEPS),
    ("walk me through it", STEPS),
    ("cite your sources", CITE),
    ("where did you get that?", CITE),
    ("Can you add some sources?", CITE),
    ("give me an example", EXAMPLES),
    ("more examples please", EXAMPLES),
    ("where are the examples?", EXAMPLES),
    ("stop using emojis", NO_EMOJI),
    ("no emojis please", NO_EMOJI),
    ("too many emojis", NO_EMOJI),
    ("the emojis are annoying", NO_EMOJI),
    ("more emojis!", EMOJI),
    ("don't say great question", NO_FILLER),
    ("stop with the flattery", NO_FILLER),
    ("drop the 'hope this helps' line", NO_SIGNOFF),
    ("no greetings", NO_GREETING),
    ("stop apologizing", NO_APOLOGY),
    ("no disclaimers", NO_DISCLAIMERS),
    ("don't tell me to consult a doctor", NO_DISCLAIMERS),
    ("you're repeating yourself", NO_REPETITION),
    ("not what I asked", ON_QUESTION),
    ("you didn't answer my question", ON_QUESTION),
    ("don't make things up", NO_GUESSING),
    ("if you don't know, say so", NO_GUESSING),
    ("can you dumb it down", SIMPLE),
    ("ELI5", SIMPLE),
    ("use simpler words", SIMPLE),
    ("less jargon please", SIMPLE),
    ("way too technical", SIMPLE),
    ("more technical please", TECHNICAL),
    ("I'm an expert, no need to simplify", TECHNICAL),
    ("just the answer please", NO_EXPLAIN),
    ("no explanation needed", NO_EXPLAIN),
    ("just the code", CODE_ONLY),
    ("show your reasoning", EXPLAIN),
    ("add a summary at the end", SUMMARY),
    # multi-sentence messages with one corrective sentence
    ("Thanks for this. But it's way too long.", SHORT),
    ("Interesting. Could you answer in French?", FRENCH),
    ("Ok I read it. Next time no emojis.", NO_EMOJI),
    ("hmm. i said yes or no.", YES_NO),
    # more everyday phrasings
    ("oh great, a novel", SHORT),
    ("Too many words.", SHORT),
    ("you keep giving me walls of text", SHORT),
    ("this reads like an essay, I wanted a quick answer", SHORT),
    ("I don't need the history lesson", ANSWER_FIRST),
    ("no need for the intro, just answer", ANSWER_FIRST),
    ("why is it in spanish? answer in english", ENGLISH),
    ("Respond only in Spanish from now on.", SPANISH),
    ("please write in full sentences", PROSE),
    ("I prefer answers without bullet points", PROSE),
    ("Please, no more lists!", PROSE),
    ("please format as a numbered list", ("format:lists", "Use a numbered list.")),
    ("why all the emojis", NO_EMOJI),
    ("don't use headers", NO_MARKDOWN),
    ("give me the code only", CODE_ONLY),
    ("Use kilograms, not pounds.", METRIC),
    ("Convert to celsius please", METRIC),
    ("Great answer, but too long for my needs", SHORT),
    ("The answer was fine but please cite sources next time.", CITE),
    # insult + correction: the correction is kept
    ("this is stupid, just answer yes or no", YES_NO),
    ("ugh, you idiot, use metric", METRIC),
]


@pytest.mark.parametrize(("text", "expected"), SINGLE_RULE, ids=[t for t, _ in SINGLE_RULE])
def test_followup_gives_the_canonical_rule(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert reading.kind is FollowupKind.CORRECTIVE, reading.note
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


# (follow-up, the (aspect, do) pairs it must produce, in order)
SEVERAL_RULES: list[tuple[str, list[tuple[str, str]]]] = [
    ("make it shorter and use bullet points", [SHORT, LISTS]),
    ("Too long. Also, in Spanish please.", [SHORT, SPANISH]),
    ("no emojis, and cite your sources", [NO_EMOJI, CITE]),
    ("Too formal and way too long!", [CASUAL, SHORT]),
    ("Use metric units. And lead with the answer next time.", [METRIC, ANSWER_FIRST]),
    ("stop apologizing; just give me the answer", [NO_APOLOGY, NO_EXPLAIN]),
]


@pytest.mark.parametrize(("text", "expected"), SEVERAL_RULES, ids=[t for t, _ in SEVERAL_RULES])
def test_two_corrections_in_one_message(text: str, expected: list[tuple[str, str]]) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == expected


# (follow-up, the generic instruction rewritten from the user's words)
GENERIC: list[tuple[str, str]] = [
    ("you forgot to mention the cooking time", "Mention the cooking time."),
    ("you should have mentioned the risks", "Mention the risks."),
    ("you didn't mention the side effects", "Mention the side effects."),
    ("please add the cooking time", "Include the cooking time."),
    ("could you also add the calories?", "Include the calories."),
    ("Add a section on storage.", "Include a section on storage."),
    ("it should include the price", "Include the price."),
    ("don't use my full name", "Do not use the user's full name."),
    ("stop calling me buddy", "Avoid calling the user buddy."),
    ("I told you I'm vegetarian", "Take into account that the user is vegetarian."),
    ("actually I'm vegetarian", "Take into account that the user is vegetarian."),
    ("remember that I live in Canada", "Take into account that the user lives in Canada."),
    ("no, the capital of Australia is Canberra", "Take into account that the capital of Australia is Canberra."),
    ("I asked for a vegan recipe", "Provide a vegan recipe."),
    ("i said no onions", "Avoid onions."),
    ("you ignored my allergy", "Take into account the user's allergy."),
    ("Can you please mention which eggs are pasteurised?", "Mention which eggs are pasteurised."),
    # critiques in the style of an LLM judge or a simulated user
    ("Your answer is partially correct but misses the statute of limitations.", "Include the statute of limitations."),
    ("Your summary leaves out the main finding.", "Include the main finding."),
    ("The answer should mention Article 12 of the Civil Code.", "Mention Article 12 of the Civil Code."),
    ("You didn't consider the defendant's age.", "Consider the defendant's age."),
    ("That's not quite right. The correct answer is 42.", "Take into account that the correct answer is 42."),
    (
        "Sorry, I meant chocolate chip cookie dough",
        "Take into account that the user means chocolate chip cookie dough.",
    ),
    ("use butter instead of eggs", "Use butter instead of eggs."),
]


@pytest.mark.parametrize(("text", "do"), GENERIC, ids=[t for t, _ in GENERIC])
def test_unmatched_corrections_become_generic_imperatives(text: str, do: str) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert reading.kind is FollowupKind.CORRECTIVE, reading.note
    assert [(f.instruction.aspect, f.instruction.do, f.generic) for f in reading.findings] == [(None, do, True)]


# (follow-up, why it gives no rule)
NO_RULE: list[tuple[str, FollowupKind]] = [
    ("thanks, perfect", FollowupKind.SATISFIED),
    ("great, that works", FollowupKind.SATISFIED),
    ("Thank you so much!", FollowupKind.SATISFIED),
    ("perfect 👍", FollowupKind.SATISFIED),
    ("that's exactly what I needed", FollowupKind.SATISFIED),
    ("much better, thanks", FollowupKind.SATISFIED),
    ("it's not too long, thanks", FollowupKind.SATISFIED),
    ("thx", FollowupKind.SATISFIED),
    ("not bad at all", FollowupKind.SATISFIED),
    ("I like the bullet points", FollowupKind.SATISFIED),
    ("how are you", FollowupKind.SMALL_TALK),
    ("lol", FollowupKind.SMALL_TALK),
    ("hello there!", FollowupKind.SMALL_TALK),
    ("haha ok", FollowupKind.SMALL_TALK),
    ("are you a robot?", FollowupKind.SMALL_TALK),
    ("😂😂", FollowupKind.SMALL_TALK),
    ("What's the capital of Peru?", FollowupKind.NEW_TOPIC),
    ("Can you give me a brief history of Rome?", FollowupKind.NEW_TOPIC),
    ("how do I change a car tyre", FollowupKind.NEW_TOPIC),
    ("Who won the world cup in 2018?", FollowupKind.NEW_TOPIC),
    ("How do you say cat in French?", FollowupKind.NEW_TOPIC),
    ("What does salmonella mean?", FollowupKind.CLARIFYING),
    ("can you elaborate on the second point?", FollowupKind.CLARIFYING),
    ("why is raw flour risky?", FollowupKind.CLARIFYING),
    ("is it the same for eggless dough?", FollowupKind.CLARIFYING),
    ("I'm making it for my kids", FollowupKind.NEUTRAL),
    ("The eggs are from my own hens.", FollowupKind.NEUTRAL),
    ("Write a novel about dragons", FollowupKind.NEW_TOPIC),
    ("Translate the lyrics of Bohemian Rhapsody into German", FollowupKind.NEW_TOPIC),
    ("Can you recommend a good book on French history?", FollowupKind.NEW_TOPIC),
    ("Could you list the ingredients?", FollowupKind.NEW_TOPIC),
    ("can I use butter instead?", FollowupKind.NEW_TOPIC),
    ("Thanks! How long should I bake it?", FollowupKind.SATISFIED),
]


@pytest.mark.parametrize(("text", "kind"), NO_RULE, ids=[t for t, _ in NO_RULE])
def test_followup_without_correction_gives_no_rule(text: str, kind: FollowupKind) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert reading.findings == ()
    assert reading.kind is kind, reading.note


@pytest.mark.parametrize(
    "text", ["that's wrong", "try again", "no", "nope, not right", "are you sure?", "it doesn't work", "fix it"]
)
def test_complaint_without_specifics_is_negative_but_gives_no_rule(text: str) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert reading.kind is FollowupKind.COMPLAINT
    assert reading.findings == ()


def test_short_reply_to_the_assistants_question_is_not_a_complaint() -> None:
    response = "Raw dough is risky because of eggs and flour. Would you like a safe edible-dough recipe?"
    assert read_followup("no thanks", query=QUERY, response=response).kind is FollowupKind.REPLY
    assert read_followup("yes please", query=QUERY, response=response).kind is FollowupKind.REPLY
    assert read_followup("no thanks", query=QUERY, response=RESPONSE).kind is FollowupKind.COMPLAINT


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I said no bullet points", PROSE),
        ("I told you to use metric", METRIC),
        ("again: answer in one sentence", ("length:short", "Answer in one sentence.")),
    ],
)
def test_repeated_corrections_are_marked_insistent(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=QUERY, response=RESPONSE)
    assert reading.insistent
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


def test_phrasings_of_one_instruction_share_one_rule_id() -> None:
    distiller = HeuristicDistiller()
    phrasings = ["no, only YES or NO", "just say yes or no", "I only want a yes/no answer", "reply Y/N only please"]
    ids = set()
    for index, text in enumerate(phrasings):
        rules = distiller.distill(followup_log(text, user_id=f"user-{index}")).rules
        assert len(rules) == 1
        ids.add(rules[0].id)
    assert len(ids) == 1


def test_rule_fields_from_a_followup() -> None:
    log = followup_log("Way too long. Keep it under 50 words please.")
    result = HeuristicDistiller().distill(log)
    assert result.verdict.verdict is Verdict.ACTIONABLE
    (rule,) = result.rules
    assert rule.do == "Keep the answer under 50 words."
    assert rule.aspect == "length:short"
    assert rule.polarity is Polarity.DO
    assert rule.namespace == log.namespace
    assert rule.support == 1
    assert rule.when == 'the user asks "Is it safe to eat raw cookie dough"'
    assert "Keep it under 50 words please." in rule.rationale
    (evidence,) = rule.evidence
    assert evidence.log_id == log.id
    assert evidence.kind is FeedbackKind.FOLLOWUP
    assert evidence.user_id == "user-1"
    assert evidence.timestamp == log.timestamp
    assert evidence.quote == "Keep it under 50 words please."
    assert evidence.quote in log.messages[2].content
    assert rule.confidence == evidence.weight


def test_prohibitions_have_avoid_polarity() -> None:
    rules = HeuristicDistiller().distill(followup_log("no emojis. use metric.")).rules
    assert {(r.do, r.polarity) for r in rules} == {
        ("Do not use emojis.", Polarity.AVOID),
        ("Use metric units.", Polarity.DO),
    }


# --- second round: the simulator's vocabulary, unmarked corrections, typos, precision

EUR = ("currency:eur", "Give amounts in euros (€).")
USD = ("currency:usd", "Give amounts in US dollars ($).")
GBP = ("currency:gbp", "Give amounts in pounds sterling (£).")
TYPE_HINTS = ("code:type_hints", "Annotate every function's parameters and return type with type hints.")
NO_TYPE_HINTS = ("code:no_type_hints", "Do not add type hints to code.")
CONTEXT_FIRST = ("structure:context_first", "Give the context and reasoning first, then the answer.")
FRIENDLY = ("filler:friendly", "Be warm and personable: a friendly opening or closing line is welcome.")
NO_PLEASANTRIES = (
    "filler:none",
    'Skip pleasantries and filler phrases such as "Great question!" or "Hope this helps".',
)

MONEY_QUERY = "How much should I keep in an emergency fund?"
MONEY_RESPONSE = "You should keep three to six months of expenses, which is $8,400 to $16,800."

# (follow-up, the single (aspect, do) it must produce): families the first round did not know
NEW_FAMILIES: list[tuple[str, tuple[str, str]]] = [
    ("use euros please", EUR),
    ("could you give the prices in EUR?", EUR),
    ("amounts in € please", EUR),
    ("I'm in Europe, use € not $", EUR),
    ("why dollars? i use euros", EUR),
    ("not dollars, euros", EUR),
    ("Can you use euros instead of dollars?", EUR),
    ("can you convert to US dollars?", USD),
    ("$ please, not €", USD),
    ("how much is that in dollars?", USD),
    ("in GBP please", GBP),
    ("£ please", GBP),
    ("add type hints", TYPE_HINTS),
    ("please include type hints in the code.", TYPE_HINTS),
    ("could you add the types to the signature", TYPE_HINTS),
    ("untyped code won't pass review here, add hints", TYPE_HINTS),
    ("the function has no type hints", TYPE_HINTS),
    ("please annotate the parameters", TYPE_HINTS),
    ("where are the type annotations?", TYPE_HINTS),
    ("please make it mypy-clean", TYPE_HINTS),
    ("drop the type hints, they clutter", NO_TYPE_HINTS),
    ("the annotations make it hard to read", NO_TYPE_HINTS),
    ("remove the -> stuff pls", NO_TYPE_HINTS),
    ("no typing please, it's a beginner tutorial", NO_TYPE_HINTS),
    ("give me the background before the verdict", CONTEXT_FIRST),
    ("I'd like the reasoning first, then the verdict", CONTEXT_FIRST),
    ("don't jump straight to the conclusion", CONTEXT_FIRST),
    ("walk me through it first", CONTEXT_FIRST),
    ("less abrupt please, start with some context", CONTEXT_FIRST),
    ("so curt...", FRIENDLY),
    ("Could you be warmer in your replies?", FRIENDLY),
    ("add a friendly intro please", FRIENDLY),
    ("a 'hope this helps' wouldn't hurt", FRIENDLY),
    ("you sound like a robot, be friendlier", FRIENDLY),
    ("skip the pleasantries", NO_PLEASANTRIES),
    ("just the info, no chit-chat", NO_PLEASANTRIES),
    ("Please drop the intro and outro fluff.", NO_PLEASANTRIES),
    ("no need for all the niceties", NO_PLEASANTRIES),
    ("please be polite", POLITE),
    ("stay courteous please", POLITE),
    ("be nice pls", POLITE),
    ("no rudeness please", POLITE),
    ("thanks for being polite, keep it that way", POLITE),
    ("keep it friendly and polite please", POLITE),
    ("a bare yes/no isn't helpful, more details please", EXPLAIN),
    ("Please explain instead of one-word answers.", EXPLAIN),
    ("don't just say no, tell me why", EXPLAIN),
    ("that's a bit thin, explain more", LONG),
    ("Please give me the full explanation, not just a summary.", LONG),
    ("can you write like a lawyer would, not like a text message", FORMAL),
    ("please avoid contractions", FORMAL),
    ("relax, you're not writing a contract", CASUAL),
    ("Please keep code in markdown code fences.", CODE_BLOCK),
    ("format the snippet properly pls", CODE_BLOCK),
    ("just give me the answer first", ANSWER_FIRST),
    ("so what's the answer? put it at the top", ANSWER_FIRST),
    ("i had to read three sentences before the actual answer", ANSWER_FIRST),
    ("the answer should come first", ANSWER_FIRST),
    ("skip the explanation, is it a yes or a no", YES_NO),
    ("je préfère en français, merci", FRENCH),
    ("always english for me please", ENGLISH),
]


@pytest.mark.parametrize(("text", "expected"), NEW_FAMILIES, ids=[t for t, _ in NEW_FAMILIES])
def test_new_families_give_their_canonical_rule(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert reading.kind is FollowupKind.CORRECTIVE, reading.note
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


# Short messages that name a known aspect with no marker of feedback, or end on "thanks": still corrections.
UNMARKED: list[tuple[str, tuple[str, str]]] = [
    ("why are there emojis everywhere 🙄", NO_EMOJI),
    ("ugh emojis again", NO_EMOJI),
    ("Bullet points again... just talk to me like a person.", PROSE),
    ("why is everything a bulleted list", PROSE),
    ("type hints please", TYPE_HINTS),
    ("could you use a more formal register?", FORMAL),
    ("A formal tone would be more appropriate here.", FORMAL),
    ("I asked a yes/no question thanks", YES_NO),
    ("i just wanted a yes or no thank you", YES_NO),
    ("why dollars? i use euros", EUR),
    ("any references for this?", CITE),
    ("citation needed lol", CITE),
    ("how do i know this is true? cite something", CITE),
    ("emojis make it easier to read for me 🙂", EMOJI),
    ("I like emojis, please use them", EMOJI),
    ("honestly yes or no??", YES_NO),
    ("the source line is just noise 🙄", ("citations:none", "Do not include citations or references.")),
]


@pytest.mark.parametrize(("text", "expected"), UNMARKED, ids=[t for t, _ in UNMARKED])
def test_a_short_message_naming_an_aspect_is_corrective(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert reading.kind is FollowupKind.CORRECTIVE, reading.note
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


# Slips the fuzzy fixer recovers: swapped neighbours, a letter missing, on short keywords too.
TYPOS: list[tuple[str, tuple[str, str]]] = [
    ("shorter pelase", SHORT),
    ("can u drop the bulelt points", PROSE),
    ("less flfuf please", NO_PLEASANTRIES),
    ("skip the peramble", ANSWER_FIRST),
    ("please no emjois", NO_EMOJI),
    ("mertic units please", METRIC),
    ("i need a suorce i can check.", CITE),
    ("bottom line up fornt pls", ANSWER_FIRST),
    ("please respond in frnch next time", FRENCH),
    ("add return tpyes pls", TYPE_HINTS),
    ("Get rid of the fliler phrases, please.", NO_PLEASANTRIES),
]


@pytest.mark.parametrize(("text", "expected"), TYPOS, ids=[t for t, _ in TYPOS])
def test_typos_of_keywords_are_recovered(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


# One message, one request: the vague complaint, the justification or the generic restatement beside it is no
# second rule.
PRECISE_ONLY: list[tuple[str, list[tuple[str, str]]]] = [
    ("wall of text... bullets please", [LISTS]),
    ("too dense, use bullets", [LISTS]),
    ("I find bullet lists hard to read, plain paragraphs please.", [PROSE]),
    ("No emoji please, it looks unprofessional.", [NO_EMOJI]),
    ("no need for 'great question', just answer", [NO_FILLER]),
    ("no lists please, just write it normally", [PROSE]),
    ("stop with the bullet points, i want normal sentences", [PROSE]),
    ("Please use a friendlier, more relaxed tone.", [CASUAL]),
    ("Please skip type hints in examples.", [NO_TYPE_HINTS]),
    ("Could you use metric units instead of pounds and miles?", [METRIC]),
    ("metric please, nobody here uses pounds or fahrenheit", [METRIC]),
    ("you did it again, too long", [SHORT]),
]


@pytest.mark.parametrize(("text", "expected"), PRECISE_ONLY, ids=[t for t, _ in PRECISE_ONLY])
def test_the_precise_request_of_a_message_wins(text: str, expected: list[tuple[str, str]]) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dollars?? i live in germany", EUR),
        ("I live in Berlin, dollars mean nothing to me", EUR),
        ("why is this in dollars? I'm in France", EUR),
        ("why euros? I'm American", USD),
        ("I'm in the UK, pounds sterling please", GBP),
    ],
)
def test_a_doubted_currency_and_where_the_user_lives_imply_the_right_one(text: str, expected: tuple[str, str]) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert reading.kind is FollowupKind.CORRECTIVE, reading.note
    assert [(f.instruction.aspect, f.instruction.do) for f in reading.findings] == [expected]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("thanks, the type hints are great", FollowupKind.SATISFIED),
        ("I like that you used euros", FollowupKind.SATISFIED),
        ("I live in Germany", FollowupKind.NEW_TOPIC),
        ("what does that mean?", FollowupKind.CLARIFYING),
        ("unrelated, but what's the capital of australia?", FollowupKind.NEW_TOPIC),
        ("btw how do you say thank you in japanese?", FollowupKind.NEW_TOPIC),
        ("can you also explain how compound interest works?", FollowupKind.NEW_TOPIC),
        ("it's raining here again", FollowupKind.NEUTRAL),
    ],
)
def test_mentions_without_a_request_give_no_rule(text: str, kind: FollowupKind) -> None:
    reading = read_followup(text, query=MONEY_QUERY, response=MONEY_RESPONSE)
    assert reading.findings == ()
    assert reading.kind is kind, reading.note


def test_a_corrective_message_ending_in_thanks_is_actionable_not_satisfied() -> None:
    log = followup_log("I asked a yes/no question thanks", query=MONEY_QUERY, response=MONEY_RESPONSE)
    result = HeuristicDistiller().distill(log)
    assert result.verdict.verdict is Verdict.ACTIONABLE
    assert [rule.aspect for rule in result.rules] == ["answer:yes_no"]
    assert result.verdict.signal < 0
