"""Pattern tables for follow-ups: what a phrase is about, and which way the words around it point.

A *mention* is a phrase tied to a kind of instruction ("bullet points", "too long", "in French"). Three modes:

* ``plain`` - a neutral phrase whose direction comes from its cues: "use bullet points" asks for lists, "no bullet
  points" rejects them (-> prose), "bullet points please" asks for them, "I like the bullet points" is praise.
* ``fixed`` - a complaint or request that already says what it wants: "too long", "wall of text", "get to the point".
* ``reject`` - a phrase that only ever leads to a rule when rejected: "stop apologising", "no disclaimers".

Cues are read inside the mention's clause only, so "No, use bullet points" is not read as "no bullet points".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from uno.distill.catalog import CATALOG, LANGUAGES, Instruction, language_instruction, unit_limit, word_limit
from uno.distill.text import NUMBER, parse_number

Mode = Literal["plain", "fixed", "reject"]


@dataclass(frozen=True)
class Mention:
    name: str
    mode: Mode
    asked: str | None  # catalogue name when the phrase is asked for (or for a fixed phrase)
    rejected: str | None  # catalogue name when it is rejected
    pattern: str
    # A clause that is only the phrase ("bullet points!") asks for it; not so for a quoted sign-off ("hope this
    # helps") or a currency doubted with a question mark ("dollars??").
    bare_asks: bool = True
    doubted_by_question: bool = False
    # A vague complaint ("wall of text", "confusing", "like a robot") that a precise request in the same message
    # ("bullets please", "be friendlier") explains: alone it is a rule, beside one it is only the reason for it.
    vague: bool = False


_M = Mention
MENTIONS: tuple[Mention, ...] = (
    # --- fixed phrases first: at one position the first alternative wins, and these are the longer readings
    _M(
        "context_first",
        "fixed",
        "context_first",
        None,
        r"(?:the |some |more )?(?:context|background|reasoning|explanation|rationale|how it works|the why)"
        r"(?: \w+){0,2}? (?:first|before (?:(?:giving|telling) me |you give |jumping to |getting to )?(?:the |your )?"
        r"(?:answer|verdict|conclusion|bottom line|result|recommendation))\b"
        r"|(?:start|begin|open|lead) with (?:some |the |a bit of |a little )?(?:context|background)"
        r"|build(?:ing)? up to (?:the|your) (?:answer|verdict|conclusion|point)|walk me through (?:it|this|that) first"
        r"|(?:don't|do not|never) (?:jump|skip|go) (?:straight |right |directly )?to the (?:answer|conclusion|verdict"
        r"|bottom line)"
        r"|(?:less|too|so|a bit|kinda|very) abrupt",
    ),
    _M(
        "answer_first",
        "fixed",
        "answer_first",
        None,
        r"(?:lead|start|begin|open) with (?:the|your) (?:answer|conclusion|bottom line|result|recommendation|verdict)"
        r"|answer first|(?:the |your )?answer (?:at the top|up front|upfront)|bottom line (?:up front|first)"
        r"|get to the point|(?:straight|right) to the point|cut to the chase|straight answer|direct answer"
        r"|skip (?:the |all the )?(?:intro(?:duction)?|preamble|background|wind[- ]?up)"
        r"|put (?:it|the answer|that|the verdict|the conclusion) (?:at the top|first|up front|upfront)"
        r"|(?:the )?(?:answer|conclusion|verdict|bottom line) (?:should |must |needs to )?(?:come|go|be) (?:first"
        r"|at the top|up front|upfront)"
        r"|(?:read|wade through|scroll through|scroll past|get through) (?:\w+ ){1,3}before (?:the |your |getting to "
        r"(?:the )?)?(?:actual |real )?answer|before (?:i got to |getting to |finding )?the (?:actual|real) answer"
        r"|(?:no|without(?: the| an?)?|no need for (?:the|an?)) (?:intro(?:duction)?|preamble)"
        r"|answer (?:the|my) question directly|beat(?:ing)? around the bush|buried the (?:answer|lede|lead)"
        r"|(?:the )?(?:preamble|intro(?:duction)?|lead[- ]in|build[- ]up|wind[- ]up) (?:was |is )?(?:way |far |much )?"
        r"(?:too long|unnecessary|pointless|annoying|not needed|a waste)",
    ),
    _M(
        "answer_first_vague",
        "fixed",
        "answer_first",
        None,
        r"be (?:more )?direct|more direct|just answer (?:the|my) question|just answer\s*[.!]*$",
        vague=True,
    ),
    _M(
        "code_only",
        "fixed",
        "code_only",
        None,
        r"(?:just|only) (?:give me |show me |want |need |send )?(?:the )?code\b(?! (?:block|blocks|fences?))"
        r"|code only|only code",
    ),
    _M(
        "no_explain",
        "fixed",
        "no_explain",
        None,
        r"(?:just|only) (?:(?:give me|want|need|show me|tell me|say) (?:the |a |your )?|the |a |your )(?:final )?"
        r"(?:answer|number|result|command|name|value|figure|solution|verdict)"
        r"(?! (?:to|for|of|the|is|was|first|up front|upfront|at the top|before)\b)"
        r"|(?:answer|result|number) only|no need (?:to|for) (?:an? )?explain\w*"
        r"|(?:skip|drop|cut|spare me|without|no|lose|forget) (?:the |your |any |all the )?"
        r"(?:explanations?|commentary|backstory|lecture|rationale)"
        r"|(?:don't|do not) (?:need|want) (?:an? |the |your |any )?(?:explanations?|commentary|reasoning)"
        r"|(?:don't|do not|no need to) explain(?! (?:it|this|that) (?:again|twice))",
    ),
    _M(
        "explain_fixed",
        "fixed",
        "explain",
        None,
        r"explain (?:your|the) reasoning|show (?:your|the) (?:work|reasoning|math|calculations?)"
        r"|justify (?:it|that|your answer)|not just (?:the answer|a number|yes or no)"
        r"|more than (?:just )?(?:yes or no|a number|the answer)|explain why|why though|more context"
        r"|(?:don't|do not|not) just (?:say|answer|tell me|give me) (?:a )?(?:yes|no)\b"
        r"|(?:instead of|rather than|not|no more|stop giving|enough with the|beyond) (?:just )?(?:a |the |these )?"
        r"(?:one[- ]word|bare|single[- ]word|yes or no) (?:answers?|replies|responses)"
        r"|(?:a )?bare (?:yes or no|yes|no)(?! answer)"
        r"|what does (?:that|this|it) (?:actually )?mean (?:in practice|concretely|in real life|for me)"
        r"|^(?:please |pls )?explain(?: (?:it|that|this|yourself|why|please|pls))*\s*[.!?]*$",
    ),
    _M(
        "short_fixed",
        "fixed",
        "short",
        None,
        r"too (?:long|lengthy|wordy|verbose|detailed|much text|much detail|much information|much info)(?! ago)"
        r"|(?:way|far|much|a bit|a little|kinda|kind of|bit|slightly|waaay) too long"
        r"|long[- ]winded|verbose|wordy|rambl(?:e|ed|es|ing|y)|waffl(?:e|ed|es|ing)|tl;dr(?! (?:at|on)\b)"
        r"|(?:this|another|such an?|whole|an entire|a whole|thanks for the|i didn't ask for an?"
        r"|i did not ask for an?|nobody asked for an?|no one asked for an?) (?:essay|novel|lecture|dissertation"
        r"|thesis|book|saga)\b|overly long|bloated|padded|padding|summari[sz]e (?:it|this|that)"
        r"|sum (?:it|this|that) up|in a nutshell|the short version|give me the gist|just the gist|tl;dr version"
        r"|like an? (?:essay|novel|book|lecture|dissertation)|^an? (?:essay|novel|lecture|dissertation|book)\s*[.!]*$"
        r"|too many words|quick(?:er)? (?:answers?|reply|replies|response|version)",
    ),
    _M(
        "short_vague",
        "fixed",
        "short",
        None,
        r"walls? of text|too much to read|too much (?:text|writing|reading)",
        vague=True,
    ),
    _M(
        "long_fixed",
        "fixed",
        "long",
        None,
        r"too (?:short|brief|terse|vague|shallow|thin|superficial|sparse|general|generic)\b"
        r"|lacks? (?:detail|depth|substance)|lacking (?:detail|depth|substance)"
        r"|not (?:enough|much) (?:detail|depth|info|information|substance)|barely (?:anything|said anything)"
        r"|(?:a bit|kinda|kind of|pretty|rather|quite|very|so) (?:thin|shallow|sparse|skimpy|superficial)\b"
        r"|(?:explain|say|tell me) (?:a (?:bit|little|lot) )?more\b(?! (?:about|on|simply|clearly)\b)"
        r"|(?:the |a |your )?full (?:explanation|answer|version|details|story|picture)|not just a summary",
    ),
    _M(
        "simple_fixed",
        "fixed",
        "simple",
        None,
        r"too (?:technical|complicated|complex|advanced|academic|jargony|sciency)|jargon(?:y)?|over my head"
        r"|(?:i )?(?:don't|do not|didn't|did not|can't|cannot) (?:understand|follow)"
        r"(?: (?:this|that|it|your answer|the answer|any of (?:this|that|it)|a (?:word|thing)))?(?=\s*[.!?,]|\s*$)"
        r"|eli5|explain (?:it )?like i'?m (?:five|5|a (?:child|kid|beginner))|dumb (?:it |this )?down"
        r"|for (?:a )?(?:child|kid|beginner|five[- ]year[- ]old|5[- ]year[- ]old|non-expert|layperson|dummies)",
    ),
    _M(
        "simple_vague",
        "fixed",
        "simple",
        None,
        r"(?:too |so |very )?dense|confusing|convoluted|hard to (?:follow|understand|read)",
        vague=True,
    ),
    _M(
        "technical_fixed",
        "fixed",
        "technical",
        None,
        r"too (?:basic|simple|simplistic|elementary|dumbed[- ]down)|dumbed[- ]down|oversimplif\w*"
        r"|(?:i'm|i am) (?:an? )?(?:expert|professional|engineer|developer|physician|researcher|phd)\b",
    ),
    _M(
        "casual_fixed",
        "fixed",
        "casual",
        None,
        r"too (?:formal|stiff|stuffy|corporate|dry|serious|professional)"
        r"|stiff|stuffy|corporate speak|loosen up|talk normally"
        r"|like a friend(?: would)?|not writing a contract|^relax\b",
    ),
    _M(
        "casual_vague",
        "fixed",
        "casual",
        None,
        r"(?:too )?robotic|like a (?:robot|machine|textbook|manual)",
        vague=True,
    ),
    _M(
        "formal_fixed",
        "fixed",
        "formal",
        None,
        r"too (?:casual|informal|chatty|slangy|familiar|flippant|jokey|friendly)|slang(?:y)?"
        r"|flippant|like a text message|text[- ]?speak|like a (?:lawyer|professional)(?: would)?",
    ),
    _M("formal_vague", "fixed", "formal", None, r"unprofessional|sloppy", vague=True),
    _M(
        "neutral_fixed",
        "fixed",
        "neutral",
        None,
        r"too (?:enthusiastic|excited|cheerful|peppy|bubbly|upbeat|hyped|much enthusiasm|excitable)"
        r"|over[- ]the[- ]top|over[- ]?enthusiastic|overexcited|salesy|cringe(?:y|worthy)?|cringy|cheesy|gushing"
        r"|tone (?:it|this|that) down|calm down|less hype",
    ),
    _M(
        "friendly_fixed",
        "fixed",
        "friendly",
        None,
        r"(?:be |sound |a (?:bit|little) |bit )?(?:friendlier|warmer|more personable|personable|more friendly"
        r"|more human)\b(?! (?:up|water|weather|temperature|oven|climate|months?|days?)\b)"
        r"|(?:so|too|a bit|kinda|very|rather|sounds?|feels?|seems?) (?:curt|cold|brusque|impersonal)\b"
        r"|curt|brusque|impersonal"
        r"|(?:add|include|with|give (?:it|me)) (?:a |some )?(?:friendly|warm|nice|personal) (?:intro|introduction"
        r"|opening|greeting|closing|sign[- ]?off|touch|note|words?)",
    ),
    _M(
        "polite",
        "fixed",
        "polite",
        None,
        r"condescending|patroni[sz]ing|rude(?:ness)?|snarky|sarcastic|smug|talking down|passive[- ]aggressive"
        r"|arrogant|dismissive",
    ),
    _M(
        "no_moralizing",
        "fixed",
        "no_moralizing",
        None,
        r"preachy|moraliz\w*|moralis\w*|lecturing me|lecture me|sermon|virtue signal\w*|judg(?:e)?mental",
    ),
    _M(
        "no_guessing",
        "fixed",
        "no_guessing",
        None,
        r"(?:don't|do not|stop|never|quit) (?:make (?:things|stuff|it|facts|numbers|sources) up"
        r"|making (?:things|stuff|it) up|guess(?:ing)?|hallucinat\w*|invent(?:ing)? (?:things|facts|sources)"
        r"|fabricat\w*|lie|lying)|(?:you )?made (?:that|it|this|things|stuff) up|made-up|hallucinat\w*"
        r"|(?:if|when) you (?:don't|do not|aren't|are not) (?:know|sure)|admit (?:it )?when you (?:don't|do not) know"
        r"|double[- ]check|fact[- ]check|verify (?:your|the) (?:facts|claims|answer|sources)|check your facts",
    ),
    _M(
        "on_question",
        "fixed",
        "on_question",
        None,
        r"not what i (?:asked|wanted|meant|was asking|need(?:ed)?|was looking for)"
        r"|(?:didn't|did not|doesn't|does not|don't|do not|never|failed to) (?:actually |even )?answer (?:my|the)"
        r" (?:actual )?question|answer (?:my|the) (?:actual )?question|off[- ]topic|irrelevant|beside the point"
        r"|(?:missed|missing) the point|not relevant|stay on (?:topic|track)"
        r"|(?:is|it's|that's|was|seems|completely|totally|entirely|so|very) unrelated"
        r"|unrelated to (?:my|the) (?:question|request)"
        r"|focus on (?:my|the) (?:question|request)|read (?:my|the) question|you misunderstood",
    ),
    _M(
        "no_repetition",
        "fixed",
        "no_repetition",
        None,
        r"repetitive|repeating yourself|you already (?:said|mentioned|told me) (?:that|this|it)"
        r"|(?:said|told me) that already|same thing (?:twice|again|over and over)|redundant",
    ),
    _M(
        "no_filler_fixed",
        "fixed",
        "no_filler",
        None,
        r"sycophan\w*|flattery|sucking up|butter(?:ing)? (?:me )?up|(?:enough|stop) with the (?:praise|compliments)",
    ),
    _M(
        "no_markdown_fixed",
        "fixed",
        "no_markdown",
        None,
        r"plain text|no formatting|without (?:any )?formatting|raw text|(?:too much|so much|excessive) formatting",
    ),
    _M(
        "cite_fixed",
        "fixed",
        "cite",
        None,
        r"where did you get (?:that|this|these|it)|(?:back|prove) (?:it|that|this) up"
        r"|what(?:'s| is| are) (?:your|the) sources?|sources?\?|says who|according to (?:whom|who|what)"
        r"|(?:do|can) you (?:have|give|provide|share) (?:a |any |some )?(?:sources?|references?|citations?)"
        r"|cite (?:your |the |some |any |all |proper |real |a )?(?:sources?|references?|studies|papers|it|this|that"
        r"|something|anything)|citation needed|how (?:do|can|would|could) i (?:know|check|verify) (?:this|that|it)"
        r"(?: is| was|'s)? (?:true|right|correct|accurate|legit|real)",
    ),
    _M(
        "steps_fixed",
        "fixed",
        "steps",
        None,
        r"walk me through(?: it| this| that)?|break (?:it|this|that) down|one step at a time|step[- ]by[- ]step"
        r"|(?:in|into|as) (?:numbered |clear |individual |separate |simple )?steps|stepwise",
    ),
    # --- plain phrases: direction from cues
    _M("numbered", "plain", "numbered", "prose", r"numbered (?:list|lists|steps|points)"),
    _M(
        "yes_no",
        "plain",
        "yes_no",
        "explain",
        r"(?:is it )?(?:an? )?(?:simple |plain |straight |clear )?yes or (?:a )?no(?: answer| question| reply)?",
    ),
    _M(
        "lists",
        "plain",
        "lists",
        "prose",
        r"bullet(?:ed)?(?:[- ]points?| lists?)?|bullets|(?:bulleted |itemi[sz]ed )?lists?(?: format)?"
        r"(?! (?:of|the|all|some|any|your|my|every|a few|these|those|ingredients|steps)\b)"
        r"|list form|point form|listicle",
    ),
    _M(
        "prose",
        "plain",
        "prose",
        "lists",
        r"prose|paragraphs?|full sentences|(?:flowing|running|continuous) text|narrative form|essay form",
    ),
    _M(
        "table",
        "plain",
        "table",
        "no_table",
        r"tables?(?! (?:salt|spoons?|of contents|manners|tennis|top|cloth|wine))|tabular|table format|spreadsheet",
    ),
    _M("json", "plain", "json", "no_json", r"json"),
    _M(
        "code_block",
        "plain",
        "code_block",
        None,
        r"(?:markdown )?code ?blocks?|(?:markdown )?code fences?|fenced (?:code )?blocks?|fenced code|backticks"
        r"|triple backticks"
        r"|(?:code|syntax) highlighting",
    ),
    _M(
        "code_block_fixed",
        "fixed",
        "code_block",
        None,
        r"format (?:the |your |this |that )?(?:code|snippet)s?(?: properly| correctly| nicely| right)?"
        r"|(?:code|snippet) (?:isn't|is not|wasn't|was not) formatted",
    ),
    _M(
        "type_hints_fixed",
        "fixed",
        "type_hints",
        None,
        r"untyped|un-typed|mypy(?: --)?(?: strict)?|pyright"
        r"|(?:signatures?|functions?|parameters|params|arguments|args) (?:needs?|should have|must have|lacks?"
        r"|(?:is|are) missing|(?:has|have) no) (?:any )?(?:type |return )?(?:types|annotations|hints)",
    ),
    _M(
        "type_hints",
        "plain",
        "type_hints",
        "no_type_hints",
        r"type[- ]?hints?|type[- ]?hinting|type annotations?|annotations?|typing|type[- ]?annotat\w*|typed"
        r"|annotate (?:the |all |every |each |your )?(?:parameters|params|arguments|args|functions?|signatures?"
        r"|return values?|code)"
        r"|return types?|types? (?:to|in|on|for) (?:the |your |each |every |all )?(?:signatures?|functions?"
        r"|parameters|params|arguments|args|defs?)|->",
    ),
    _M(
        "markdown",
        "plain",
        "markdown",
        "no_markdown",
        r"markdown|headings?|headers?(?! (?:file|files|row))|section titles|subheadings|bold(?:ing| text| font)?"
        r"|asterisks|formatting|hashtags|pound signs",
    ),
    _M("emoji", "plain", "emoji", "no_emoji", r"emojis?|emoticons?|smileys?|smiley faces?"),
    _M(
        "formal",
        "plain",
        "formal",
        "casual",
        r"formal(?:ly)?|(?<!an )(?<!a )professional(?:ly)?|businesslike|business(?:-like)? tone|polished",
    ),
    _M("contractions", "plain", "casual", "formal", r"contractions"),
    _M(
        "casual",
        "plain",
        "casual",
        "formal",
        r"informal(?:ly)?|casual(?:ly)?|conversational|relaxed|laid[- ]back|chatty|chattier",
    ),
    _M(
        "polite_pair",
        "plain",
        "polite",
        None,
        # "friendly and polite": the friendliness is part of the politeness asked for
        r"(?:friendly|kind|nice) and (?:polite|respectful|courteous)|(?:polite|respectful|courteous) and (?:friendly"
        r"|kind|nice)",
    ),
    _M(
        "friendly",
        "plain",
        "friendly",
        None,
        r"(?<!-)friendl(?:y|ier)(?! (?:fire|reminder))|warmth|warm (?:tone|words|welcome|touch)",
    ),
    _M(
        "polite_plain",
        "plain",
        "polite",
        None,
        r"polite(?:ly|ness)?|respectful(?:ly)?|courteous(?:ly)?|courtesy|be nice(?! to (?:have|see|know))",
    ),
    _M(
        "enthusiasm",
        "plain",
        "casual",
        "neutral",
        r"enthusias(?:m|tic)|excite(?:d|ment)|exclamation (?:marks?|points?)|exclamations|hype|cheer(?:ful|y)"
        r"|peppy|bubbly|upbeat|energetic",
    ),
    _M(
        "metric",
        "plain",
        "metric",
        "imperial",
        r"metric(?: units?| system)?|celsius|centigrade|kilo(?:gram|met(?:er|re))s?|kgs?|km|grams|litres|liters"
        r"|millilit(?:er|re)s|ml|centimet(?:er|re)s|cm|si units",
    ),
    _M(
        "imperial",
        "plain",
        "imperial",
        "metric",
        r"imperial(?: units?| system)?|fahrenheit|pounds|lbs?|ounces|oz|miles|mph|feet|inches|us units"
        r"|american units|freedom units|us customary(?: units)?",
    ),
    _M(
        "eur",
        "plain",
        "eur",
        None,
        r"euros?|eur|€",
        doubted_by_question=True,
    ),
    _M(
        "usd",
        "plain",
        "usd",
        None,
        r"(?:us |american |u\.s\. )?dollars?|usd|\$|bucks",
        doubted_by_question=True,
    ),
    _M(
        "gbp",
        "plain",
        "gbp",
        None,
        r"(?:british )?pounds? sterling|sterling|gbp|£|quid",
        doubted_by_question=True,
    ),
    _M(
        "examples",
        "plain",
        "examples",
        "no_examples",
        r"(?<!for )(?<!in )examples?|sample code|code samples?|worked examples?|use cases?",
    ),
    _M(
        "citations",
        "plain",
        "cite",
        "no_cite",
        r"sources?(?! (?:of|code|file|files)\b)|citations?|cite|citing|references?(?! to\b)|footnotes"
        r"|bibliography",
    ),
    _M("explanation", "plain", "explain", "no_explain", r"explanations?|reasoning|commentary|justification"),
    _M("summary", "plain", "summary", None, r"summary|summaries|key takeaways|recap|tl;dr(?= (?:at|on)\b)"),
    _M(
        "technical",
        "plain",
        "technical",
        "simple",
        r"technical(?:ly)?|advanced|expert[- ]level|rigorous|in technical terms|mathematical(?:ly)?",
    ),
    _M(
        "simple",
        "plain",
        "simple",
        "technical",
        r"simpl(?:e|er|y|ify|ified)(?! (?:question|questions|task|recipe|way|yes))"
        r"|simplistic|(?:simple|simpler|plain|educational|basic|everyday) terms"
        r"|plain (?:english|language|words|terms)|layman'?s terms|lay terms|easier"
        r"|easy to (?:understand|follow|read)|beginner[- ]friendly|accessible",
    ),
    _M(
        "short",
        "plain",
        "short",
        "long",
        r"(?<!in )short(?:er|en)?(?! (?:for|of|on|term|story|stories|ribs?|cut|bread|hand|list)\b)"
        r"|concise(?:ly)?|brief(?:er|ly)?(?! (?:history|overview|introduction|intro|description|look))"
        r"|succinct(?:ly)?|condensed?|trim(?:med)? (?:it |this )?down|cut (?:it|this) down|to the point|tighter",
    ),
    _M(
        "long",
        "plain",
        "long",
        "short",
        r"(?<!no )(?<!how )long(?:er)?\b(?! (?:time|ago|run|term|way|island|haul|story|as|enough)\b)(?!-term)"
        r"|lengthier|(?:more )?in[- ]depth|in more depth|more depth|thorough(?:ly)?|comprehensive"
        r"|details?(?! (?:about|on|of)\b)|detailed|elaborate(?! on\b)|expand(?:ed)?(?! on\b)"
        r"|(?:elaborate|expand) on (?:that|this|it|your answer|the answer)|flesh (?:it|this|that) out"
        r"|(?:go|dig) deeper",
    ),
    # --- phrases that only matter when rejected
    _M(
        "background",
        "reject",
        None,
        "answer_first",
        r"(?:history|background) (?:lesson|lecture|section|info(?:rmation)?)|backstory|background",
    ),
    _M(
        "greeting",
        "reject",
        None,
        "no_greeting",
        r"greetings?|salutations?|saying (?:hi|hello)|hellos",
    ),
    _M("apology", "reject", None, "no_apology", r"apolog(?:y|ies|ize|ise|izing|ising|etic)|sorry|sorries"),
    _M(
        "signoff",
        "plain",
        "friendly",
        "no_signoff",
        r"sign[- ]?offs?|closing (?:lines?|remarks?|sentences?|paragraphs?)|outros?|(?:i )?hope (?:this|that|it) helps"
        r"|let me know if(?: you have (?:any )?(?:other |more |further )?questions)?|feel free to (?:ask|reach out)"
        r"|happy to help|any (?:other|more|further) questions",
        bare_asks=False,
    ),
    _M(
        "disclaimers",
        "reject",
        None,
        "no_disclaimers",
        r"disclaimers?|caveats?|warnings?|safety notes?|as an ai(?: language model)?|legal notices?"
        r"|consult (?:a|your) (?:doctor|professional|lawyer|physician|expert)",
    ),
    _M(
        "filler",
        "reject",
        None,
        "no_filler",
        r"flattery|flattering|compliments?|praise|(?:great|good|excellent|fantastic|wonderful) question",
    ),
    _M(
        "pleasantries",
        "reject",
        None,
        "no_pleasantries",
        r"filler(?: (?:phrases?|words?|text|sentences?|lines?))?|fluff|pleasantries|niceties|chit[- ]?chat|small talk"
        r"|intro and outro(?: fluff)?",
    ),
    _M(
        "repetition",
        "reject",
        None,
        "no_repetition",
        r"repeat(?:ing)?(?: (?:yourself|the question|my question|itself|the same))?|restat(?:e|ing)"
        r"(?: the question| my question)?|repetition|rephras(?:e|ing) (?:my|the) question",
    ),
)

MENTION_BY_GROUP: dict[str, Mention] = {f"m{i}": m for i, m in enumerate(MENTIONS)}
CURRENCY_MENTIONS = frozenset({"eur", "usd", "gbp"})
# Any currency named at all ("dollars??", "use € not $"): a clause naming one is never rewritten generically.
CURRENCY_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(m.pattern for m in MENTIONS if m.name in CURRENCY_MENTIONS) + r")(?!\w)"
)
MENTION_RE = re.compile(r"(?<!\w)(?:" + "|".join(f"(?P<m{i}>{m.pattern})" for i, m in enumerate(MENTIONS)) + r")(?!\w)")


# ----------------------------------------------------------------------------------------------------- cues


class Cue(StrEnum):
    STRONG_ASK = "strong_ask"  # "not enough", "you forgot", "why didn't you": asks for it, even after a negation
    ASK = "ask"
    REJECT = "reject"
    PRAISE = "praise"
    NONE = "none"


_CUE_WORDS: dict[Cue, str] = {
    Cue.STRONG_ASK: (
        r"not enough|too little|too few|why not(?: just)?|why no|why didn't you(?: just)?|why did you not"
        r"|there (?:is|are|was|were) no|there's no|theres no|(?:has|had|have|contains) no|(?:doesn't|does not"
        r"|didn't|did not) (?:have|include|use|add|give|provide|contain|show)|lacks|lacking|missing|no mention of"
        r"|forgot(?: to (?:add|include|use|give))?|left out|you missed|where (?:are|is) the|where's the"
        r"|(?:don't|do not|never) forget(?: to (?:add|include|use))?|remember to|make sure (?:to|you)|be sure to"
        r"|more than just|at least|(?:need|needs|want|wants) more|could use(?: some)?|(?:i|we)'d (?:like|prefer"
        r"|rather)|would (?:like|prefer|rather)|i prefer|should have(?: used| included| added)?"
        r"|should've(?: used| included| added)?|i asked(?: (?:you )?for)?|i said|i told you|i wanted"
    ),
    Cue.REJECT: (
        r"no more|no need for|no|not|don't|do not|doesn't|isn't|aren't|wasn't|shouldn't|mustn't|never|stop"
        r"(?: using| adding| with)?|quit|avoid|without|less|fewer|minus|remove|drop|lose|ditch|skip|cut(?: out)?"
        r"|get rid of|take out|leave out|omit|exclude|strip|delete|kill|lay off|spare me|enough with|enough of"
        r"|instead of|rather than|as opposed to|hate|dislike|not a fan of|can't stand|sick of|tired of"
        r"|fed up with|annoyed by|(?:didn't|did not|never) ask(?:ed)? for|nobody asked for|no one asked for|nobody"
        r"|(?:don't|do not) (?:need|want)|why (?:did|do|would|are) you|why the|why all the|why so|what's with"
        r"|why (?:are|is) there(?: so many| all (?:the|these|those)| these| those)?"
        r"|why is (?:everything|it all|it|this|that|the (?:answer|response|reply))(?: all)?(?: in| a| an| so)?"
        r"|what is with|what's up with|too many|too much|so many|so much|overly|excessive(?:ly)?|unnecessary"
        r"|pointless|zero|none of|tone down|cut down on|cut back on|reduce|limit|ban|nix|unlike"
    ),
    Cue.ASK: (
        r"use|using|add|include|give|show|want|need|needs|prefer|more|only|just|please|can you|could you"
        r"|would you|make(?: it)?|keep(?: it)?|write|format(?:ted)?|put|try|switch to|convert to|change to"
        r"|should(?: be)?|must|requires?|insert|bring back|stick (?:to|with)|go with|be|more of|lots of"
        r"|plenty of|let's(?: have)?|how about|what about|maybe|ideally|always|any"
    ),
    Cue.PRAISE: (
        r"like|love|liked|loved|enjoy(?:ed)?|appreciate(?:d)?|nice|great|good|perfect|helpful|awesome|excellent"
        r"|thanks for|thank you for|glad|the best|well done|beautiful|fine|cool"
    ),
}
_CUE_GROUPS = {f"c_{cue.value}": cue for cue in _CUE_WORDS}
_CUE_RE = re.compile(
    r"(?<![\w'])(?:" + "|".join(f"(?P<c_{cue.value}>{words})" for cue, words in _CUE_WORDS.items()) + r")(?![\w'])"
)
# "too formal", "so many emojis", "way too long": a degree word right before the phrase rejects it.
_ADJACENT_REJECT = re.compile(
    r"(?:\btoo|\boverly|\bexcessively|\ball (?:the|these|those)|\S\s+so)\s+(?:many\s+|much\s+)?$"
    r"|\bwhy\s+(?:all\s+|so\s+many\s+)?(?:the\s+|these\s+|those\s+)?$"
)
# "in a table", "as bullet points", "with examples": a preposition right before the phrase asks for it.
_ADJACENT_ASK = re.compile(
    r"(?:^|\s)(?:in|into|as|with|answer|reply|respond|say)\s+(?:an?\s+|the\s+|some\s+|more\s+|proper\s+|\w+\s+)?$"
)
_NEGATED_COMPLAINT = re.compile(r"(?:\bnot|n't|\bnever|\bno)\s+$")
_DIRECTIVE = re.compile(r"\b(?:keep|make sure|ensure|should|please|try|want|need|aim)\b")
# What follows a phrase may say which way it points; a quoted phrase may be followed by the noun it names
# ("the 'happy to help' stuff is annoying", "the source line is just noise").
_POST_NOUN = (
    r"^\s*['\"]?\s*(?:(?:stuff|thing|things|bit|bits|part|parts|line|lines|phrase|phrases|section|sentences?|tone"
    r"|register|style|voice|format|version)\s+)?"
)
_POST_REJECT = re.compile(
    _POST_NOUN + r"(?:(?:is|are|was|were|feel|feels|seem|seems|look|looks)\s+)?(?:(?:so|really|very|a bit|kinda"
    r"|way|too|just)\s+)*(?:annoying|unnecessary|not needed|not necessary|pointless|distracting|too much|excessive"
    r"|overkill|irritating|cringe\w*|useless|unhelpful|not helpful|childish|unprofessional|silly|weird|cluttered"
    r"|clutter|noise|noisy|a bit much|much|overwhelming|ugly|messy|confusing|redundant|have to go|must go|gotta go"
    r"|need to go|go away|are bad|is bad|hurt|don't help|do not help|didn't help|not useful|are not useful"
    r"|isn't helpful|aren't helpful|isn't needed|aren't needed|everywhere|all over(?: the place)?"
    r"|again(?!\s*(?:please|pls|thanks|next time|from now on|going forward))|mean nothing to me"
    r"|means nothing to me|(?:(?:make|makes|made) (?:it|this|the code|the answer|everything) )?(?:hard|harder"
    r"|difficult) to (?:read|follow|scan)"
    r"|(?:must|should|need to|needs to|has to|have to) (?:be )?(?:go|gone|removed|deleted|dropped|cut))\b"
)
_POST_ASK = re.compile(
    _POST_NOUN + r"(?:please|pls|svp|only|instead|next time|from now on|going forward|if possible|as well|again"
    r"|thanks|would do|will do|is enough|is all i need|would suffice|suffices|is fine|needed|thank you"
    r"|would (?:help|be (?:nice|nicer|good|better|great|helpful|useful|appreciated|easier|clearer|more appropriate"
    r"|appropriate|preferable|ideal|welcome|more professional|fine))|(?:would|will) (?:work|read|sound) better"
    r"|(?:would|will|does|do)(?:n't| not) hurt|won't hurt|would be (?:fun|cool|welcome|lovely|perfect)"
    r"|could (?:help|be (?:nice|better|useful))|(?:is|are) (?:missing|needed|required|necessary|better|easier"
    r"|clearer|more appropriate|appropriate|preferable)|would have been (?:nice|better|good|helpful)"
    r"|(?:make|makes) (?:it|things|them|the answer|everything) (?:easier|clearer|nicer|more fun|more readable)"
    r"|too\s*$)"
)
_POST_PRAISE = re.compile(
    r"^\s*(?:(?:is|are|was|were)\s+)?(?:(?:so|really|very)\s+)*(?:great|nice|good|perfect|helpful|useful|awesome"
    r"|cool|lovely|fine|fun|cute)\b"
)
_WINDOW = 60


def post_cue_end(clause: str, end: int) -> int:
    """Where the words after a phrase that settled its direction end ("... make it hard to read"), else ``end``.

    Those words belong to the phrase: "the annotations make it hard to read" rejects type hints and says
    nothing more (not "use simpler language").
    """
    after = clause[end : end + 50]
    match = _POST_REJECT.match(after) or _POST_ASK.match(after)
    return end + match.end() if match else end


def read_cue(clause: str, start: int, end: int) -> Cue:
    """Which way the words around ``clause[start:end]`` point (the clause is normalised text)."""
    before = clause[max(0, start - _WINDOW) : start]
    last_strong = last_reject = -1
    seen_ask = seen_praise = False
    for match in _CUE_RE.finditer(before):
        cue = _CUE_GROUPS[match.lastgroup or ""]
        if cue is Cue.STRONG_ASK:
            last_strong = match.start()
        elif cue is Cue.REJECT:
            last_reject = match.start()
        elif cue is Cue.ASK:
            seen_ask = True
        else:
            seen_praise = True
    if last_strong > last_reject:
        return Cue.STRONG_ASK
    if _ADJACENT_REJECT.search(before) or last_reject >= 0:
        return Cue.REJECT
    if seen_ask or _ADJACENT_ASK.search(before):
        return Cue.ASK
    after = clause[end : end + 50]
    if _POST_REJECT.match(after):
        return Cue.REJECT
    if _POST_ASK.match(after):
        return Cue.ASK
    if seen_praise or _POST_PRAISE.match(after):
        return Cue.PRAISE
    return Cue.NONE


def negated_complaint(clause: str, start: int) -> bool:
    """ "it's not too long": a complaint phrase negated without any request around it is praise, not a rule."""
    return bool(_NEGATED_COMPLAINT.search(clause[:start])) and not _DIRECTIVE.search(clause)


# ----------------------------------------------------------------------------------------------------- limits

_NUM = rf"(?P<n>{NUMBER})"
_MIN = {"at least", "more than", "over", "a minimum of", "minimum", "min", "minimum of", "or more"}
_ABOUT = {"about", "around", "roughly", "approximately", "approx", "~"}


@dataclass(frozen=True)
class Limit:
    instruction: Instruction
    start: int
    end: int


_WORD_CMP = (
    r"under|below|less than|fewer than|no more than|not more than|not over|at most|max(?:imum)?(?: of)?|within"
    r"|up to|in|about|around|roughly|approximately|approx|~|at least|more than|over|a minimum of|min(?:imum)?(?: of)?"
)
_LIMIT_CMP = (
    r"in|to|within|under|at most|max(?:imum)?|no more than|not more than|only|just|using|with|keep (?:it|this|the"
    r" answer|answers|them) (?:to|under|within)|limit (?:it|yourself|answers|this) to|at least|more than|over"
)
_WORD_LIMITS = (
    re.compile(rf"(?P<cmp>{_WORD_CMP})\s+{_NUM}\s*-?\s*words?\b"),
    re.compile(
        rf"{_NUM}\s*-?\s*words?\s*(?P<cmp>max(?:imum)?|or (?:less|fewer)|tops|at most|at the most|limit|minimum"
        r"|or more|at least)"
    ),
    re.compile(rf"(?P<cmp>){_NUM}[- ]word (?:answer|response|reply|summary|limit|max(?:imum)?|version)"),
    re.compile(rf"(?P<cmp>)word (?:limit|count|cap) (?:of |is |to )?{_NUM}"),
)
_UNITS = {
    "sentence": r"(?:short\s+|full\s+|complete\s+|simple\s+)?sentences?",
    "paragraph": r"(?:short\s+)?paragraphs?",
    "bullet point": r"(?:short\s+)?(?:bullet points?|bullets?|points|key points|bullet items)",
    "line": r"lines?(?! of code)",
    "word": r"word(?! (?:of|for|count|limit))",
}


def _unit_patterns(unit: str, body: str) -> tuple[re.Pattern[str], ...]:
    return (
        re.compile(rf"(?:(?P<cmp>{_LIMIT_CMP})\s+)?{_NUM}\s+{body}\b"),
        re.compile(rf"(?P<cmp>){_NUM}[- ]{unit.split()[0]} (?:answer|response|reply|summary|max(?:imum)?)"),
    )


_UNIT_LIMITS = {unit: _unit_patterns(unit, body) for unit, body in _UNITS.items()}
_ONE_LINER = re.compile(r"one[- ]liner|(?:in |on )?(?:one|a single) line\b(?! of code)")


def _comparison(raw: str) -> str:
    raw = raw.strip().rstrip(".")
    if raw in _MIN:
        return "min"
    if raw in _ABOUT:
        return "about"
    return "max"


# "I had to read three sentences before the answer": a count of what was read, not a limit asked for.
_READ_BEFORE = re.compile(r"\b(?:read|wade through|scroll(?:ed)? (?:through|past)|get through|skim)\s+$")
# "explain instead of one-word answers": a limit the user rejects.
_REJECTED_LIMIT = re.compile(
    r"\b(?:instead of|rather than|not|no more|stop giving|stop with|beyond|more than just|enough with)\s+(?:just\s+)?"
    r"(?:a\s+|the\s+|these\s+|those\s+|your\s+)?$"
)
# Every limit names its unit: clauses without one are skipped before the fourteen patterns run.
_UNIT_HINT = re.compile(r"word|sentence|paragraph|bullet|point|line|item")


def _not_asked(norm: str, start: int) -> bool:
    """A count the user read or rejected ("I had to read three sentences", "instead of one-word answers")."""
    before = norm[:start]
    return bool(_READ_BEFORE.search(before) or _REJECTED_LIMIT.search(before))


def find_limits(norm: str) -> list[Limit]:
    """Length limits in a normalised clause: "under 50 words", "in 3 bullets", "one sentence"."""
    found: list[Limit] = []
    if not _UNIT_HINT.search(norm):
        return found
    for pattern in _WORD_LIMITS:
        for match in pattern.finditer(norm):
            raw = match.group("n")
            if raw in ("a", "an") or _not_asked(norm, match.start()):
                continue
            comparison = _comparison(match.group("cmp") or "")
            found.append(Limit(word_limit(parse_number(raw), comparison), match.start(), match.end()))
    for unit, patterns in _UNIT_LIMITS.items():
        for pattern in patterns:
            for match in pattern.finditer(norm):
                if any(match.start() < item.end and item.start < match.end() for item in found):
                    continue
                raw, cmp = match.group("n"), match.group("cmp") or ""
                if _not_asked(norm, match.start()):
                    continue
                if raw in ("a", "an") and not cmp:
                    continue  # "write a paragraph about ..." is a task, not a limit
                n, comparison = parse_number(raw), _comparison(cmp)
                if unit == "bullet point" and raw in ("a", "an"):
                    continue
                if unit == "word" and n > 1:
                    instruction = word_limit(n, comparison)
                else:
                    instruction = unit_limit(n, "sentence" if unit == "line" and n == 1 else unit, comparison)
                found.append(Limit(instruction, match.start(), match.end()))
    if not found:
        for match in _ONE_LINER.finditer(norm):
            found.append(Limit(unit_limit(1, "sentence", "max"), match.start(), match.end()))
    return found


# ----------------------------------------------------------------------------------------------------- languages

_LANGUAGE_RE = re.compile(
    r"(?<![\w'])(?P<lang>" + "|".join(re.escape(k) for k in sorted(LANGUAGES, key=len, reverse=True)) + r")(?![\w'])"
)
_LANGUAGE_ASK = re.compile(
    r"\b(?:answer|respond|reply|write|speak|talk|say (?:it|that|this)|explain|do (?:it|this)|give (?:it|me)|use"
    r"|switch(?:ed)? to|change to|translate(?: it| this| that| the answer| your answer| everything)?"
    r"|only|please|in|into|keep it|stick to|stay in|continue|my (?:native |first |preferred )?language is"
    r"|i (?:only )?(?:speak|read|understand)|(?:i |i'd |i would )?prefer|je pr[ée]f[èe]re|je voudrais|prefiero"
    r"|preferisco|prefiro|lieber|r[ée]ponds|r[ée]pondez|[ée]cris|[ée]crivez|parle|parlez|responde|contesta|escribe"
    r"|antworte|antworten sie|schreib|rispondi|scrivi|responda)\b"
)
_POLITE_WORDS = (
    r"please|pls|svp|s'il (?:te|vous) pla[iî]t|por favor|bitte|per favore|only|thanks|thank you|merci|gracias"
    r"|danke|grazie|obrigad[oa]"
)
_LANGUAGE_POST = re.compile(rf"^\s*(?:{_POLITE_WORDS}|next time|from now on|instead|[.!]|$)")
# "French fries", "the German army": the name is an adjective here, not a language request.
_LANGUAGE_ADJECTIVE = re.compile(
    r"^\s+(?:fries|toast|press|revolution|shepherd|food|cuisine|wine|wines|bread|omelet(?:te)?|muffin|people"
    r"|history|culture|word|words|phrase|phrases|term|terms|translation|speakers?|grammar|class|lesson|course"
    r"|teacher|dish|dishes|restaurant|style|accent|article|book|name|names|army|government|economy|market"
    r"|company|law|city|cities|version of|equivalent|for(?! (?:me|us)\b)|keyboard|layout|alphabet|characters?)\b"
)
# "how do you say cat in French?" asks for a translation, not for answers in French.
_LEXICAL_QUESTION = re.compile(r"^(?:how|what|what's|which|is|are|does|do)\b")
# "btw", "unrelated, but", "random question:": leads before a new question.
_QUESTION_LEAD = re.compile(
    r"^(?:(?:btw|by the way|unrelated|random question|quick question|also|oh and|and|anyway|one more thing|ok so"
    r"|so|oh|hey|ok|okay|but|um|hmm+|honestly|well)\b[\s,:;.-]*(?:but\s+)?)+"
)
_REJECTED_LANGUAGE = re.compile(
    r"(?:not|no|don't|do not|never|stop|without|instead of|rather than|i (?:don't|do not|can't|cannot)"
    r" (?:speak|read|understand))\s+(?:\w+\s+){0,2}$|\bwhy\b[^,;]*$"
)


_SYMBOLS = re.compile(r"[^\w\s]")
_FILLER_WORDS = re.compile(
    rf"\b(?:in|{_POLITE_WORDS}|next time|from now on|always|for me|just|um|hmm+|honestly|ok|okay|so)\b"
)


@dataclass(frozen=True)
class LanguageAsk:
    instruction: Instruction
    start: int
    end: int


def find_languages(clause: str, sentence: str) -> tuple[list[LanguageAsk], list[tuple[int, int]]]:
    """Languages the clause asks answers to be in, and the spans of every language name (to mask them)."""
    asks: list[LanguageAsk] = []
    spans: list[tuple[int, int]] = []
    for match in _LANGUAGE_RE.finditer(clause):
        spans.append((match.start(), match.end()))
        before, after = clause[: match.start()], clause[match.end() :]
        if _REJECTED_LANGUAGE.search(before) or _LANGUAGE_ADJECTIVE.match(after):
            continue
        question = _QUESTION_LEAD.sub("", sentence)
        if _LEXICAL_QUESTION.match(question) and not question.startswith(("can ", "could ", "would ")):
            continue
        bare = not _SYMBOLS.sub("", _FILLER_WORDS.sub("", before + " " + after)).strip()
        if _LANGUAGE_ASK.search(before[-40:]) or bare or (not before.strip() and _LANGUAGE_POST.match(after)):
            asks.append(LanguageAsk(language_instruction(match.group("lang")), match.start(), match.end()))
    return asks, spans


# ----------------------------------------------------------------------------------------------------- places

# Where the user says they live decides the currency they mean by "dollars?? i live in germany".
_PLACES: dict[str, str] = {
    "eur": (
        r"europe|the eu|eu|the eurozone|eurozone|the euro ?zone|germany|france|spain|italy|portugal|the netherlands"
        r"|netherlands|holland|belgium|austria|ireland|finland|greece|luxembourg|slovakia|slovenia|estonia|latvia"
        r"|lithuania|croatia|malta|cyprus|berlin|paris|madrid|rome|lisbon|amsterdam|vienna|dublin|brussels|munich"
        r"|milan|barcelona|frankfurt|hamburg"
    ),
    "usd": r"the us|the usa|usa|the u\.s\.|the states|america|the united states|new york|california|texas",
    "gbp": r"the uk|uk|britain|great britain|england|scotland|wales|london",
}
_NATIONALITIES: dict[str, str] = {
    "eur": (
        r"european|german|french|spanish|italian|dutch|belgian|austrian|irish|portuguese|finnish|greek"
        r"|luxembourgish|slovak|slovenian|estonian|latvian|lithuanian|croatian|maltese|cypriot"
    ),
    "usd": r"american|a us citizen|us-based|us based",
    "gbp": r"british|english|scottish|welsh|a brit",
}
_PLACE_RE = re.compile(
    r"\b(?:(?:i(?:'m| am)(?: based| living)?|i live|we(?:'re| are)(?: based)?|we live|based|living|here|all my money"
    r" is|my (?:money|salary|savings|account) (?:is|are))\s+in\s+(?:"
    + "|".join(f"(?P<{code}>{places})" for code, places in _PLACES.items())
    + r")|(?:i(?:'m| am)|we(?:'re| are))\s+(?:an?\s+)?(?:"
    + "|".join(f"(?P<{code}_people>{people})" for code, people in _NATIONALITIES.items())
    + r"))(?![\w'])"
)


def place_currency(norm: str) -> tuple[Instruction, str] | None:
    """The currency of the place the user says they are in ("i live in germany" -> euros), with the phrase."""
    match = _PLACE_RE.search(norm)
    if match is None:
        return None
    code = next(name for name in _PLACES if match.group(name) or match.group(f"{name}_people"))
    return CATALOG[code], match.group(0)
