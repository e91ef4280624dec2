"""Judge-free answer metrics as MemoryBench uses them: Rouge-L F, METEOR and SQuAD-style token F1.

Written here, not imported (no ``rouge-score`` or ``nltk`` here), so each is a faithful but plain version:

- :func:`rouge_l` - F-measure of the longest common subsequence of tokens (beta = 1), as ``rouge-score``'s
  ``rougeL`` ``fmeasure`` without its Porter stemmer.
- :func:`meteor_exact` - METEOR with **exact-match alignment only** (no stemming, no WordNet synonyms, no
  paraphrase table): nltk's parameters (alpha 0.9, beta 3, gamma 0.5), unigram precision and recall combined by
  the parametrised harmonic mean, times the fragmentation penalty. Full METEOR also matches stems and synonyms,
  so it usually scores a little higher; call this one "METEOR (exact)" when reporting.
- :func:`token_f1` - SQuAD / LoCoMo token F1: lower case, punctuation and English articles removed, bag-of-tokens
  overlap.

Tokens are lower-cased word tokens; every CJK character is a token of its own, which is how Chinese text is scored
when no segmenter is available.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from collections import Counter

_TOKEN = re.compile(r"[\u3400-\u9fff]|[^\W_]+", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.IGNORECASE)
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _lcs_length(left: list[str], right: list[str]) -> int:
    if not left or not right:
        return 0
    previous = [0] * (len(right) + 1)
    for token in left:
        current = [0]
        for position, other in enumerate(right, start=1):
            current.append(previous[position - 1] + 1 if token == other else max(previous[position], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """Rouge-L F-measure (beta = 1) between token sequences."""
    predicted, expected = tokens(prediction), tokens(reference)
    common = _lcs_length(predicted, expected)
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def _align_exact(predicted: list[str], expected: list[str]) -> list[tuple[int, int]]:
    """Exact unigram alignment: each predicted token to the first unused identical reference token, in order."""
    used: set[int] = set()
    pairs = []
    for position, token in enumerate(predicted):
        for other, candidate in enumerate(expected):
            if other not in used and candidate == token:
                used.add(other)
                pairs.append((position, other))
                break
    return pairs


def meteor_exact(
    prediction: str, reference: str, *, alpha: float = 0.9, beta: float = 3.0, gamma: float = 0.5
) -> float:
    """METEOR with exact-match alignment only (see the module doc)."""
    predicted, expected = tokens(prediction), tokens(reference)
    pairs = _align_exact(predicted, expected)
    matches = len(pairs)
    if matches == 0:
        return 0.0
    precision, recall = matches / len(predicted), matches / len(expected)
    fmean = precision * recall / (alpha * precision + (1 - alpha) * recall)
    chunks = 1 + sum(1 for (p1, r1), (p2, r2) in itertools.pairwise(pairs) if not (p2 == p1 + 1 and r2 == r1 + 1))
    penalty = gamma * math.pow(chunks / matches, beta)
    return fmean * (1 - penalty)


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


METRICS = {"rouge_l": rouge_l, "meteor": meteor_exact, "f1": token_f1}
