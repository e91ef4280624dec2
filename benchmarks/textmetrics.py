"""Judge-free answer metrics as MemoryBench uses them: Rouge-L F, METEOR and SQuAD-style token F1.

- :func:`rouge_l` - ``rouge-score``'s ``rougeL`` F-measure (no stemmer), the metric MemoryBench takes through
  ``evaluate.load("rouge")``, with our tokens (below). On ASCII text they are the tokens of rouge-score's own
  tokenizer, which keeps only ``[a-z0-9]`` and so scores a Chinese answer 0 and cuts ``café`` to ``caf``.
- :func:`meteor` - NLTK's ``meteor_score`` (alpha 0.9, beta 3, gamma 0.5: exact, then Porter-stem matches, the
  fragmentation penalty) **without its WordNet synonym stage**: NLTK fetches WordNet from its own data server,
  which cannot be reached here, and no maintained package on PyPI ships the data. Full METEOR also matches
  synonyms, so it scores the same or a little higher; call this one "METEOR (no synonyms)" when reporting.
- :func:`token_f1` - SQuAD / LoCoMo token F1: lower case, punctuation and English articles removed, bag-of-tokens
  overlap. Our own: the SQuAD script is not a package (``evaluate``'s copy is fetched from the hub), and it is
  ten lines of bag arithmetic.

Tokens are lower-cased word tokens; every CJK character (Han, kana, Hangul) is a token of its own, which is how
Chinese text is scored when no segmenter is available.
"""

from __future__ import annotations

import functools
import re
import string
from collections import Counter
from typing import Any

_CJK = "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class _Tokenizer:
    """rouge-score's tokenizer interface over :func:`tokens`."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


class _NoSynonyms:
    """Stands in for NLTK's WordNet reader: no synsets, so METEOR's synonym stage matches nothing."""

    def synsets(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


@functools.cache
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=_Tokenizer())


@functools.cache
def _porter_stemmer() -> Any:
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


def rouge_l(prediction: str, reference: str) -> float:
    """Rouge-L F-measure (beta = 1) between token sequences."""
    return float(_rouge_scorer().score(reference, prediction)["rougeL"].fmeasure)


def meteor(prediction: str, reference: str, *, alpha: float = 0.9, beta: float = 3.0, gamma: float = 0.5) -> float:
    """METEOR with exact and stem matches, no synonyms (see the module doc)."""
    from nltk.translate.meteor_score import meteor_score

    predicted, expected = tokens(prediction), tokens(reference)
    if not predicted or not expected:
        return 0.0
    return float(
        meteor_score(
            [expected],
            predicted,
            stemmer=_porter_stemmer(),
            wordnet=_NoSynonyms(),
            alpha=alpha,
            beta=beta,
            gamma=gamma,
        )
    )


def _squad_tokens(text: str) -> list[str]:
    return tokens(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 over bags of normalised tokens."""
    predicted, expected = _squad_tokens(prediction), _squad_tokens(reference)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


METRICS = {"rouge_l": rouge_l, "meteor": meteor, "f1": token_f1}
