"""Emoji as Unicode defines them (the ``emoji`` package's data), where uno's old code-point ranges were wrong:
⭐ ⏰ ⌚ were missed, a family or a flag counted as several, and ★ was taken for an emoji."""

from __future__ import annotations

import re

import emoji
import pytest

from uno.aspects import complies
from uno.distill import read_edit
from uno.emojis import count_emoji, find_emoji, has_emoji

# What aspects.py and distill/edits.py used before, kept here to show where it went wrong.
OLD_RANGES = re.compile("[\U0001f300-\U0001faff\U00002600-\U000027bf\U0001f000-\U0001f2ff]")


@pytest.mark.parametrize("symbol", ["⭐", "⏰", "⌚", "⌛", "⬛", "〰️"])
def test_emoji_the_old_ranges_missed_are_emoji(symbol: str) -> None:
    assert OLD_RANGES.search(symbol) is None
    assert find_emoji(f"Reminder set {symbol}") == [symbol]


@pytest.mark.parametrize(
    ("text", "old_count", "found"),
    [
        ("👨‍👩‍👧 the whole family", 3, ["👨‍👩‍👧"]),
        ("Bonjour 🇫🇷", 2, ["🇫🇷"]),
        ("Nice 👍🏽", 2, ["👍🏽"]),
        ("Step 1️⃣ first", 0, ["1️⃣"]),
        ("Rated ★★★ by critics", 3, []),
        ("© 2025 ACME™, terms ↔ conditions", 0, []),
    ],
)
def test_a_sequence_is_one_emoji_and_text_symbols_are_none(text: str, old_count: int, found: list[str]) -> None:
    assert len(OLD_RANGES.findall(text)) == old_count
    assert find_emoji(text) == found
    assert count_emoji(text) == len(found) and has_emoji(text) == bool(found)


def test_every_emoji_unicode_displays_as_one_is_found() -> None:
    """The fast first look (a few code-point ranges) lets no qualified emoji through unseen."""
    qualified = [key for key, info in emoji.EMOJI_DATA.items() if info["status"] in (2, 3)]
    assert len(qualified) > 4000
    missed = [key for key in qualified if find_emoji(f"see {key} here") != [key]]
    assert missed == []


def test_plain_text_in_many_scripts_has_no_emoji() -> None:
    for text in ("Walking 5 km/h → 300 kcal…", "你好，世界。今天怎么样？", "Привет, мир — ¿qué tal?", "x ≤ 3 ± 0.5 °C"):
        assert find_emoji(text) == [], text


def test_the_emoji_aspects_and_edits_see_a_star() -> None:
    assert complies("emoji:none", "Your order has shipped ⭐") is False
    assert complies("emoji:use", "Your order has shipped ⭐") is True
    assert complies("emoji:none", "Rated ★★★★ by our customers.") is True
    removed = read_edit("Your alarm is set for 7:00 ⏰ Sleep well ⭐", "Your alarm is set for 7:00. Sleep well.")
    assert "Do not use emojis." in [change.instruction.do for change in removed.changes]
