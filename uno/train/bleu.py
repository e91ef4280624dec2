"""Sentence BLEU, the drift guard of adapter validation: a checkpoint's answer must stay close to the base model's.

UNO scores each held-out answer against the base ("init") answer with NLTK's ``sentence_bleu`` (BLEU-4, uniform
weights, brevity penalty, Chen & Cherry smoothing "method1") and only lets a win count when BLEU > 0.05. So do we:
the score is NLTK's own (imported on first use: about 1 s on top of the training stack, 5-11 s alone, as it
loads scipy and scikit-learn), on our tokens.

Tokenisation: whitespace, except that CJK characters (Han ideographs, kana, CJK and full-width punctuation) are each
their own token. UNO segmented Chinese with jieba; a character per token is our dependency-free approximation, and
it scores Chinese higher than jieba's words would (single-character matches are easier than word matches).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from uno.extras import require

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


@functools.cache
def _nltk_bleu() -> tuple[Any, Any]:
    """NLTK's ``sentence_bleu`` and its smoothing "method1"."""
    bleu_score = require("nltk.translate.bleu_score", extra="train", feature="the BLEU drift guard of uno train")
    return bleu_score.sentence_bleu, bleu_score.SmoothingFunction().method1


def sentence_bleu(reference: str, hypothesis: str, *, max_n: int = 4) -> float:
    """BLEU-``max_n`` of ``hypothesis`` against one ``reference`` (uniform weights, brevity penalty, method1)."""
    if max_n < 1:
        raise ValueError(f"sentence_bleu: max_n must be at least 1, got {max_n}")
    hypothesis_tokens = tokenize(hypothesis)
    if not hypothesis_tokens:
        return 0.0
    bleu, method1 = _nltk_bleu()
    weights = (1 / max_n,) * max_n
    return float(bleu([tokenize(reference)], hypothesis_tokens, weights=weights, smoothing_function=method1))


__all__ = ["sentence_bleu", "tokenize"]
