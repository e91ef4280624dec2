import pytest

from uno.aspects import complies, contradicts, detect_language, split_aspect


@pytest.mark.parametrize(
    ("aspect", "response", "expected"),
    [
        ("length:short", "Yes, it is open until nine.", True),
        ("length:short", "word " * 200, False),
        ("format:prose", "First do this, then that.", True),
        ("format:prose", "Steps:\n- one\n- two", False),
        ("format:prose", "Steps:\n1. one\n2. two", False),
        ("format:lists", "Steps:\n* one\n* two", True),
        ("emoji:none", "All set 🎉", False),
        ("emoji:none", "All set.", True),
        ("answer:yes_no", "Yes.", True),
        ("answer:yes_no", "Yes, because the policy allows it.", False),
        ("filler:none", "Great question! The answer is 4.", False),
        ("filler:none", "The answer is 4.", True),
        ("units:metric", "It is 5 km away.", True),
        ("units:metric", "It is 3 miles away.", False),
        ("tone:formal", "That's great!", False),
        ("structure:answer_first", "Sure! Let me explain.", False),
        ("structure:answer_first", "Paris is the capital.", True),
        ("language:fr", "Le magasin est ouvert et les horaires sont affichés pour vous.", True),
        ("language:fr", "The store is open and the hours are posted for you.", False),
        ("unknown:thing", "anything", None),
        (None, "anything", None),
    ],
)
def test_checkers(aspect: str | None, response: str, expected: bool | None) -> None:
    assert complies(aspect, response) is expected


def test_contradiction_is_same_family_other_value() -> None:
    assert contradicts("length:short", "length:long")
    assert not contradicts("length:short", "length:short")
    assert not contradicts("length:short", "format:prose")
    assert not contradicts(None, "length:short")
    assert split_aspect("language:fr") == ("language", "fr")


def test_language_needs_enough_text() -> None:
    assert detect_language("ok") is None
    assert detect_language("Der Laden ist heute nicht offen und die Zeiten sind für Sie angepasst.") == "de"
