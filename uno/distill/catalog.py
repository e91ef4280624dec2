"""The canonical instructions the heuristic distiller emits, one per kind of feedback.

Canonical wording matters: a rule's id is derived from its polarity and normalised ``do``, so every phrasing of
"just say yes or no" must produce exactly the same sentence for the lead to merge evidence across logs.

Aspects are ``"family:value"`` keys (see :mod:`uno.aspects`): two rules of one family with different values
contradict each other, so the values of a family are chosen to be mutually exclusive ("table:use" / "table:none"
rather than one "format" family holding tables, lists and JSON at once). The few values of one family that can
hold together ("code:fenced" and "code:type_hints") are listed in :data:`uno.aspects.COMPATIBLE`. The keys are
those of the simulated users of ``benchmarks/simulator`` wherever both mean the same thing ("answer:explained",
"structure:context_first", "filler:friendly", "currency:eur", "code:type_hints"), so there is one vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rule_store.records import Polarity

_PROHIBITION = re.compile(r"^(?:do not|don't|never|avoid|no)\b", re.IGNORECASE)


def polarity_of(do: str) -> Polarity:
    """AVOID for an instruction that starts as a prohibition ("Do not use emojis."), else DO."""
    return Polarity.AVOID if _PROHIBITION.match(do.strip()) else Polarity.DO


@dataclass(frozen=True)
class Instruction:
    """One canonical rule: what to do, what it is about, and what the answer did wrong when it is needed."""

    name: str
    aspect: str | None
    do: str
    failure_mode: str

    @property
    def polarity(self) -> Polarity:
        return polarity_of(self.do)


def _catalog(*items: Instruction) -> dict[str, Instruction]:
    return {item.name: item for item in items}


CATALOG: dict[str, Instruction] = _catalog(
    Instruction("short", "length:short", "Keep the answer short.", "too long"),
    Instruction("long", "length:long", "Give a longer, more detailed answer.", "too short or shallow"),
    Instruction("lists", "format:lists", "Use bullet points.", "wrote prose where a list was wanted"),
    Instruction("numbered", "format:lists", "Use a numbered list.", "wrote prose where a numbered list was wanted"),
    Instruction(
        "prose", "format:prose", "Do not use bullet lists; write prose.", "used bullet lists where prose was wanted"
    ),
    Instruction("table", "table:use", "Present the answer as a table.", "did not use a table"),
    Instruction("no_table", "table:none", "Do not use tables.", "used an unwanted table"),
    Instruction("json", "json:use", "Return the answer as valid JSON.", "did not return JSON"),
    Instruction("no_json", "json:none", "Do not return JSON; answer in plain text.", "returned unwanted JSON"),
    Instruction("code_block", "code:fenced", "Put code in fenced code blocks.", "code not in a code block"),
    Instruction(
        "type_hints",
        "code:type_hints",
        "Annotate every function's parameters and return type with type hints.",
        "code without type hints",
    ),
    Instruction("no_type_hints", "code:no_type_hints", "Do not add type hints to code.", "unwanted type hints"),
    Instruction("markdown", "headings:use", "Structure the answer with markdown headings.", "lacked structure"),
    Instruction(
        "no_markdown",
        "headings:none",
        "Do not use markdown headings or bold text; write plain text.",
        "unwanted markdown formatting",
    ),
    Instruction("yes_no", "answer:yes_no", "Answer with only YES or NO.", "did not give a plain yes/no answer"),
    Instruction("explain", "answer:explained", "Explain the reasoning behind the answer.", "gave no explanation"),
    Instruction("no_explain", "answer:bare", "Give only the answer, without explanation.", "padded the answer"),
    Instruction("code_only", "answer:bare", "Give only the code, without explanation.", "padded the code"),
    Instruction("formal", "tone:formal", "Use a formal, professional tone.", "tone too casual"),
    Instruction("casual", "tone:casual", "Use a casual, friendly tone.", "tone too stiff"),
    Instruction(
        "neutral",
        "tone:neutral",
        "Use a calm, neutral tone without exclamation marks or hype.",
        "over-enthusiastic tone",
    ),
    Instruction("polite", "respect:polite", "Be polite and respectful; never condescending.", "condescending tone"),
    Instruction("no_moralizing", "moralizing:none", "Do not moralise or lecture the user.", "moralising"),
    Instruction("metric", "units:metric", "Use metric units.", "used the wrong units"),
    Instruction("eur", "currency:eur", "Give amounts in euros (€).", "used the wrong currency"),
    Instruction("usd", "currency:usd", "Give amounts in US dollars ($).", "used the wrong currency"),
    Instruction("gbp", "currency:gbp", "Give amounts in pounds sterling (£).", "used the wrong currency"),
    Instruction("imperial", "units:imperial", "Use imperial units.", "used the wrong units"),
    Instruction("answer_first", "structure:answer_first", "Lead with the answer, then explain.", "buried the answer"),
    Instruction(
        "context_first",
        "structure:context_first",
        "Give the context and reasoning first, then the answer.",
        "gave the verdict without building up to it",
    ),
    Instruction("steps", "steps:step_by_step", "Explain step by step.", "not broken into steps"),
    Instruction("cite", "citations:required", "Cite your sources.", "no sources cited"),
    Instruction("no_cite", "citations:none", "Do not include citations or references.", "unwanted citations"),
    Instruction("examples", "examples:include", "Include a concrete example.", "no examples"),
    Instruction("no_examples", "examples:none", "Do not include examples.", "unwanted examples"),
    Instruction("emoji", "emoji:use", "Use emojis.", "no emojis"),
    Instruction("no_emoji", "emoji:none", "Do not use emojis.", "unwanted emojis"),
    Instruction(
        "no_filler", "filler:none", 'Do not open with filler praise such as "Great question!".', "filler praise"
    ),
    Instruction(
        "no_signoff",
        "filler:none",
        'Do not end with filler sign-offs such as "I hope this helps".',
        "filler sign-off",
    ),
    Instruction(
        "no_pleasantries",
        "filler:none",
        'Skip pleasantries and filler phrases such as "Great question!" or "Hope this helps".',
        "filler and pleasantries",
    ),
    Instruction(
        "friendly",
        "filler:friendly",
        "Be warm and personable: a friendly opening or closing line is welcome.",
        "curt, impersonal tone",
    ),
    Instruction("no_greeting", "greeting:none", "Do not start with a greeting.", "unneeded greeting"),
    Instruction("no_apology", "apology:none", "Do not apologise.", "unneeded apologies"),
    Instruction("no_disclaimers", "disclaimers:none", "Do not add disclaimers or caveats.", "unneeded disclaimers"),
    Instruction(
        "no_repetition",
        "repetition:none",
        "Do not repeat the question or restate points already made.",
        "repetitive",
    ),
    Instruction(
        "on_question", "relevance:on_question", "Answer exactly the question that was asked.", "off the question"
    ),
    Instruction(
        "no_guessing",
        "accuracy:no_guessing",
        "If you are not sure, say so instead of guessing.",
        "made things up",
    ),
    Instruction("simple", "complexity:simple", "Use simple, plain language and avoid jargon.", "too technical"),
    Instruction(
        "technical",
        "complexity:technical",
        "Use precise technical language; do not oversimplify.",
        "oversimplified",
    ),
    Instruction("summary", "summary:include", "Include a short summary of the key points.", "no summary"),
)


# name -> (ISO 639-1 code, English name)
LANGUAGES: dict[str, tuple[str, str]] = {
    "english": ("en", "English"),
    "french": ("fr", "French"),
    "français": ("fr", "French"),
    "francais": ("fr", "French"),
    "en français": ("fr", "French"),
    "en francais": ("fr", "French"),
    "spanish": ("es", "Spanish"),
    "español": ("es", "Spanish"),
    "espanol": ("es", "Spanish"),
    "castellano": ("es", "Spanish"),
    "en español": ("es", "Spanish"),
    "en espanol": ("es", "Spanish"),
    "german": ("de", "German"),
    "deutsch": ("de", "German"),
    "auf deutsch": ("de", "German"),
    "italian": ("it", "Italian"),
    "italiano": ("it", "Italian"),
    "in italiano": ("it", "Italian"),
    "portuguese": ("pt", "Portuguese"),
    "português": ("pt", "Portuguese"),
    "portugues": ("pt", "Portuguese"),
    "em português": ("pt", "Portuguese"),
    "dutch": ("nl", "Dutch"),
    "nederlands": ("nl", "Dutch"),
    "chinese": ("zh", "Chinese"),
    "mandarin": ("zh", "Chinese"),
    "japanese": ("ja", "Japanese"),
    "korean": ("ko", "Korean"),
    "russian": ("ru", "Russian"),
    "arabic": ("ar", "Arabic"),
    "hindi": ("hi", "Hindi"),
    "turkish": ("tr", "Turkish"),
    "polish": ("pl", "Polish"),
    "swedish": ("sv", "Swedish"),
    "norwegian": ("no", "Norwegian"),
    "danish": ("da", "Danish"),
    "finnish": ("fi", "Finnish"),
    "greek": ("el", "Greek"),
    "hebrew": ("he", "Hebrew"),
    "vietnamese": ("vi", "Vietnamese"),
    "indonesian": ("id", "Indonesian"),
    "thai": ("th", "Thai"),
    "ukrainian": ("uk", "Ukrainian"),
    "czech": ("cs", "Czech"),
    "romanian": ("ro", "Romanian"),
    "hungarian": ("hu", "Hungarian"),
    "persian": ("fa", "Persian"),
    "farsi": ("fa", "Persian"),
    "bengali": ("bn", "Bengali"),
    "urdu": ("ur", "Urdu"),
    "malay": ("ms", "Malay"),
    "tagalog": ("tl", "Tagalog"),
    "swahili": ("sw", "Swahili"),
    "catalan": ("ca", "Catalan"),
}


def language_instruction(name: str) -> Instruction:
    """ "Answer in French." for any spelling of a language the user named."""
    code, display = LANGUAGES[name]
    return Instruction(
        f"language_{code}", f"language:{code}", f"Answer in {display}.", "answered in the wrong language"
    )


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def word_limit(n: int, comparison: str) -> Instruction:
    """A word limit: "under 50", "about 100", "at least 300"."""
    if comparison == "min":
        return Instruction("min_words", "length:long", f"Write at least {_count(n, 'word')}.", "too short")
    if comparison == "about":
        aspect = "length:long" if n >= 300 else "length:short"
        failure = "too short" if aspect == "length:long" else "too long"
        return Instruction("about_words", aspect, f"Keep the answer to about {_count(n, 'word')}.", failure)
    return Instruction("max_words", "length:short", f"Keep the answer under {_count(n, 'word')}.", "too long")


def unit_limit(n: int, unit: str, comparison: str) -> Instruction:
    """A limit in sentences, paragraphs, lines, bullet points or words-of-one."""
    if comparison == "min":
        return Instruction(f"min_{unit}s", "length:long", f"Write at least {_count(n, unit)}.", "too short")
    if unit == "bullet point":
        return Instruction("n_bullets", "format:lists", f"Answer in {_count(n, unit)}.", "ignored the requested format")
    if n == 1 and unit in ("sentence", "paragraph", "word"):
        return Instruction(f"one_{unit}", "length:short", f"Answer in one {unit}.", "too long")
    return Instruction(f"max_{unit}s", "length:short", f"Keep the answer to {_count(n, unit)}.", "too long")
