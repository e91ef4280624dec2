"""Text plumbing shared by the preferences: blocks, sentences, words and pure "random" choices.

A response is a list of blocks separated by blank lines. A block is prose, a list (every line a bullet) or a
fenced code block. Preferences rewrite prose and lists and leave code alone, so a transform never breaks code.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

FENCE = "```"

# Emoji and pictographs, plus the variation selector and zero-width joiner that glue them together.
# Why ranges here and the emoji package in uno (uno/emojis.py): the simulator only checks and strips the emoji it
# writes itself (the palettes in preferences.py, all inside these ranges), and its logs must stay byte-identical
# from one release to the next (benchmark baselines); the package's data moves with each Unicode release.
_EMOJI_CHARS = (
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, supplemental symbols
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats (☀ ✅ ✨)
    "\u2b50\u2b55\u2934\u2935\u3030\u303d"
    "\ufe0f\u200d"
)
EMOJI_RE = re.compile(f"[{_EMOJI_CHARS}]")
BULLET_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# A sentence ends at . ! or ? (or at an emoji that follows one) and the next one does not start with an emoji,
# so "Done. 🎉 Next step" splits as ["Done. 🎉", "Next step"].
_SENTENCE_SPLIT_RE = re.compile(f"(?<=[.!?{_EMOJI_CHARS}])\\s+(?=[^\\s{_EMOJI_CHARS}])")
_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")


def split_blocks(text: str) -> list[str]:
    """The blank-line separated blocks of a response; a fenced code block is one block even with blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    in_code = False
    for line in text.strip().split("\n"):
        if line.strip().startswith(FENCE):
            in_code = not in_code
            current.append(line)
            continue
        if not in_code and not line.strip():
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def join_blocks(blocks: Sequence[str]) -> str:
    return "\n\n".join(block.strip("\n") for block in blocks if block.strip())


def is_code_block(block: str) -> bool:
    return block.lstrip().startswith(FENCE)


def is_list_line(line: str) -> bool:
    return bool(BULLET_RE.match(line))


def is_list_block(block: str) -> bool:
    lines = [line for line in block.split("\n") if line.strip()]
    return bool(lines) and all(is_list_line(line) for line in lines)


def is_prose_block(block: str) -> bool:
    return not is_code_block(block) and not is_list_block(block)


def strip_bullet(line: str) -> str:
    return BULLET_RE.sub("", line, count=1).strip()


def split_sentences(prose: str) -> list[str]:
    """Sentences of one prose block (our templates avoid abbreviations such as "e.g." that would split wrongly)."""
    flat = " ".join(prose.split())
    return [sentence for sentence in _SENTENCE_SPLIT_RE.split(flat) if sentence]


def join_sentences(sentences: Sequence[str]) -> str:
    return " ".join(sentence.strip() for sentence in sentences if sentence.strip())


def prose_text(text: str) -> str:
    """Everything but code blocks, bullets stripped: what a reader reads as words."""
    parts: list[str] = []
    for block in split_blocks(text):
        if is_code_block(block):
            continue
        parts.extend(strip_bullet(line) for line in block.split("\n") if line.strip())
    return " ".join(parts)


def words(text: str) -> list[str]:
    """Word tokens (letters or digits; emoji and punctuation are not words)."""
    return _WORD_RE.findall(text)


def word_count(text: str) -> int:
    return len(words(text))


def ensure_period(sentence: str) -> str:
    sentence = sentence.rstrip()
    return sentence if sentence.endswith((".", "!", "?", ":")) else sentence + "."


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word looks like an acronym ("EU", "CSV")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def tidy_spaces(text: str) -> str:
    """Collapse runs of spaces and drop spaces before punctuation or at line ends (after removing words)."""
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r" +([.,!?;:])", r"\1", line)
        lines.append(line.rstrip())
    return "\n".join(lines).strip()


def stable_pick(options: Sequence[T], key: str) -> T:
    """A choice that depends only on ``key``: transforms stay pure functions of their input text."""
    if not options:
        raise ValueError("stable_pick needs at least one option")
    return options[zlib.crc32(key.encode("utf-8")) % len(options)]


def stable_index(key: str, modulo: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % modulo
