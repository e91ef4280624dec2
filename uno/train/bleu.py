"""Sentence BLEU, the drift guard of adapter validation: a checkpoint's answer must stay close to the base model's.

UNO scores each held-out answer against the base ("init") answer with NLTK's ``sentence_bleu`` (BLEU-4, uniform
weights, brevity penalty, Chen & Cherry smoothing "method1") and only lets a win count when BLEU > 0.05. This is a
dependency-free re-implementation that returns NLTK's numbers for one reference:

* modified n-gram precision p_n = clipped matches / max(1, hypothesis n-grams);
* no unigram match at all gives 0.0 (NLTK returns 0 before smoothing: without shared words there is nothing to
  smooth);
* method1: a precision with zero matches becomes ``epsilon / denominator`` (epsilon = 0.1, the unreduced count of
  hypothesis n-grams);
* brevity penalty ``exp(1 - r / c)`` when the hypothesis (c tokens) is shorter than the reference (r tokens).

Tokenisation: whitespace, except that CJK characters (Han ideographs, kana, CJK and full-width punctuation) are each
their own token. UNO segmented Chinese with jieba; a character per token is our dependency-free approximation, and
it scores Chinese higher than jieba's words would (single-character matches are easier than word matches).
"""

from __future__ import annotations

import math
import re
from collections import Counter

EPSILON = 0.1
_CJK_RANGES = (
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u309f"  # hiragana
    "\u30a0-\u30ff"  # katakana
    "\u3400-\u4dbf"  # CJK unified ideographs extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # half-width and full-width forms (Chinese punctuation such as ，！？)
    "\U00020000-\U0002fa1f"  # CJK extensions B-F and compatibility supplement
)
_TOKEN = re.compile(f"[{_CJK_RANGES}]|[^\\s{_CJK_RANGES}]+")


def tokenize(text: str) -> list[str]:
    """Whitespace tokens, with every CJK character split off as a token of its own."""
    return _TOKEN.findall(text)


def sentence_bleu(reference: str, hypothesis: str, *, max_n: int = 4) -> float:
    """BLEU-``max_n`` of ``hypothesis`` against one ``reference`` (uniform weights, brevity penalty, method1)."""
    if max_n < 1:
        raise ValueError(f"sentence_bleu: max_n must be at least 1, got {max_n}")
    reference_tokens = tokenize(reference)
    hypothesis_tokens = tokenize(hypothesis)
    if not hypothesis_tokens:
        return 0.0
    counts = [_clipped_matches(reference_tokens, hypothesis_tokens, n) for n in range(1, max_n + 1)]
    if counts[0][0] == 0:
        return 0.0
    log_precision_sum = math.fsum(math.log(_smoothed_precision(matches, total)) for matches, total in counts)
    penalty = _brevity_penalty(len(reference_tokens), len(hypothesis_tokens))
    return penalty * math.exp(log_precision_sum / max_n)


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _clipped_matches(reference: list[str], hypothesis: list[str], n: int) -> tuple[int, int]:
    """(hypothesis n-grams also in the reference, each counted at most as often as there; hypothesis n-grams, >= 1)."""
    hypothesis_counts = _ngrams(hypothesis, n)
    reference_counts = _ngrams(reference, n)
    matches = sum(min(count, reference_counts[gram]) for gram, count in hypothesis_counts.items())
    return matches, max(1, sum(hypothesis_counts.values()))


def _smoothed_precision(matches: int, total: int) -> float:
    return (matches if matches else EPSILON) / total


def _brevity_penalty(reference_length: int, hypothesis_length: int) -> float:
    if hypothesis_length >= reference_length:
        return 1.0
    return math.exp(1 - reference_length / hypothesis_length)


__all__ = ["sentence_bleu", "tokenize"]
