"""An exact English <-> French phrasebook for the sentences the simulator itself writes.

The French preference must turn a travel answer into French (a user's edit) and back (the base model's
English answer). Real translation is out of scope offline, so every sentence the travel topic and the length
padding can produce is rendered in both languages up front; translating is then a lookup per sentence.
Sentences the phrasebook does not know are dropped, and a text with none it knows becomes a fixed fallback, so
the result is always in the target language.
"""

from __future__ import annotations

from functools import lru_cache

from benchmarks.simulator.textops import join_blocks, split_blocks, split_sentences
from benchmarks.simulator.topics import TOPICS

# Generic elaboration a verbose model adds; used by the length preference to pad an answer.
ELABORATION: tuple[tuple[str, str], ...] = (
    (
        "It is also worth keeping in mind that every situation is a little different, so small adjustments are normal.",
        "Gardez aussi à l'esprit que chaque situation est un peu différente, donc de petits ajustements sont normaux.",
    ),
    (
        "Many people find it helpful to plan this ahead of time rather than deciding at the last minute.",
        "Beaucoup de gens trouvent utile de le prévoir à l'avance plutôt que de décider au dernier moment.",
    ),
    (
        "If you are unsure, starting with the simplest option and adjusting later is usually the safest approach.",
        "Si vous hésitez, commencer par l'option la plus simple et ajuster ensuite est souvent la solution la "
        "plus sûre.",
    ),
    (
        "Another point to consider is how much time and money you realistically want to spend on it.",
        "Il faut aussi se demander combien de temps et d'argent vous voulez vraiment y consacrer.",
    ),
    (
        "It can also help to write down what worked and what did not, so the next attempt goes more smoothly.",
        "Il peut aussi être utile de noter ce qui a marché et ce qui n'a pas marché, pour que la prochaine "
        "fois se passe mieux.",
    ),
    (
        "Experiences vary from person to person, so reading a few first-hand accounts can give you useful context.",
        "Les expériences varient d'une personne à l'autre, donc lire quelques témoignages peut vous donner "
        "un contexte utile.",
    ),
    (
        "Finally, checking the most recent information is a good idea, because details like these change over time.",
        "Enfin, vérifier les informations les plus récentes est une bonne idée, car ces détails changent avec "
        "le temps.",
    ),
    (
        "In general, a careful and patient approach tends to give better results than rushing through the steps.",
        "En général, une approche prudente et patiente donne de meilleurs résultats que de se précipiter.",
    ),
)

FRENCH_FALLBACK = "Voici l'essentiel en français : vérifiez les détails avant de vous lancer."
ENGLISH_FALLBACK = "Here is the short version in English: check the details before you start."


def _normalise(sentence: str) -> str:
    return " ".join(sentence.split())


@lru_cache(maxsize=1)
def phrasebook() -> tuple[dict[str, str], dict[str, str]]:
    """(English -> French, French -> English) for every sentence the simulator can write in both languages."""
    to_french: dict[str, str] = {}
    for topic in TOPICS:
        for intent in topic.intents:
            for case in intent.cases:
                for english, french in intent.sentence_pairs(case):
                    to_french[_normalise(english)] = _normalise(french)
    for english, french in ELABORATION:
        to_french[_normalise(english)] = _normalise(french)
    to_french[ENGLISH_FALLBACK] = FRENCH_FALLBACK
    to_english = {french: english for english, french in to_french.items()}
    return to_french, to_english


def _translate(text: str, table: dict[str, str], known_target: dict[str, str], fallback: str) -> str:
    blocks: list[str] = []
    for block in split_blocks(text):
        kept: list[str] = []
        for sentence in split_sentences(block):
            key = _normalise(sentence)
            if key in table:
                kept.append(table[key])
            elif key in known_target:  # already in the target language
                kept.append(key)
        if kept:
            blocks.append(" ".join(kept))
    return join_blocks(blocks) if blocks else fallback


def to_french(text: str) -> str:
    """``text`` in French, sentence by sentence (unknown sentences are dropped)."""
    english_to_french, french_to_english = phrasebook()
    return _translate(text, english_to_french, french_to_english, FRENCH_FALLBACK)


def to_english(text: str) -> str:
    """``text`` in English, sentence by sentence (unknown sentences are dropped)."""
    english_to_french, french_to_english = phrasebook()
    return _translate(text, french_to_english, english_to_french, ENGLISH_FALLBACK)
