import pytest

from uno.aspects import complies, contradicts, currency_amounts, detect_language, signatures, split_aspect


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


TYPED = "```python\ndef area(width: float, height: float) -> float:\n    return width * height\n```"
UNTYPED = "```python\ndef area(width, height):\n    return width * height\n```"


@pytest.mark.parametrize(
    ("aspect", "response", "expected"),
    [
        ("currency:eur", "It costs €40 a month, or 400 EUR a year.", True),
        ("currency:eur", "It costs $40 a month.", False),
        ("currency:eur", "It costs €40, about $43.", False),
        ("currency:eur", "Keep three to six months of expenses.", None),
        ("currency:usd", "Set aside $8,400 to $16,800.", True),
        ("currency:usd", "That is 300 US dollars.", True),
        ("currency:gbp", "A ticket is £12.", True),
        ("currency:gbp", "A ticket is €12.", False),
        ("code:type_hints", TYPED, True),
        ("code:type_hints", UNTYPED, False),
        ("code:type_hints", "class A:\n    def run(self, n: int) -> None: ...", True),
        ("code:type_hints", "No code here.", None),
        ("code:no_type_hints", UNTYPED, True),
        ("code:no_type_hints", TYPED, False),
        ("code:fenced", TYPED, True),
        ("code:fenced", "def area(width, height):\n    return width * height", False),
        ("code:fenced", "No code here.", None),
        ("greeting:none", "Hi there! The answer is 4.", False),
        ("greeting:none", "The answer is 4.", True),
        ("apology:none", "Sorry for the confusion: it is 4.", False),
        ("apology:none", "It is 4.", True),
        ("disclaimers:none", "As an AI, I cannot give advice, but 4.", False),
        ("disclaimers:none", "It is 4.", True),
        ("table:use", "| a | b |\n|---|---|\n| 1 | 2 |", True),
        ("table:use", "a is 1 and b is 2", False),
        ("table:none", "a is 1 and b is 2", True),
        ("emoji:use", "All set 🎉", True),
        ("emoji:use", "All set.", False),
        ("tone:casual", "It's basically done, folks.", True),
        ("tone:casual", "It is done.", False),
        ("citations:none", "It is 4.", True),
        ("citations:none", "It is 4.\n\nSource: NHS (2024).", False),
        ("citations:required", "It is 4.\n\nSource: NHS (2024).", True),
        ("filler:friendly", "It is 4. Hope this helps!", True),
        ("filler:friendly", "It is 4.", False),
    ],
)
def test_checkers_of_the_simulator_families(aspect: str, response: str, expected: bool | None) -> None:
    assert complies(aspect, response) is expected


def test_values_that_hold_together_do_not_contradict() -> None:
    assert not contradicts("code:fenced", "code:type_hints")
    assert not contradicts("code:no_type_hints", "code:fenced")
    assert contradicts("code:type_hints", "code:no_type_hints")
    assert not contradicts("answer:yes_no", "answer:bare")
    assert contradicts("answer:yes_no", "answer:explained")
    assert contradicts("currency:eur", "currency:usd")
    assert contradicts("structure:answer_first", "structure:context_first")
    assert contradicts("filler:none", "filler:friendly")


def test_measurements() -> None:
    assert currency_amounts("€5, $3 and $4, 10 EUR") == {"eur": 2, "usd": 2, "gbp": 0}
    (signature,) = signatures("def f(self, x: int, y=(), *args) -> str:")
    assert (signature.params, signature.annotated, signature.returns) == (3, 1, True)


def test_language_detection_reads_what_the_stop_word_votes_missed() -> None:
    # lingua replaced six stop-word lists: those took this Italian for French and left the rest undecided (None).
    assert detect_language("Ciao, ecco la ricetta: scalda l'olio e aggiungi le cipolle tritate.") == "it"
    assert detect_language("Yes, the API allows 100 requests per minute per token.") == "en"
    short = {
        "pt": "Obrigado! Pode enviar o relatório amanhã de manhã?",
        "es": "Gracias. ¿Puedes mandarme el informe mañana temprano?",
        "de": "Könntest du mir den Bericht morgen früh schicken?",
        "fr": "Merci ! Peux-tu m'envoyer le rapport demain matin ?",
        "it": "Grazie! Puoi mandarmi il rapporto domani mattina?",
        # languages a rule can name ("Answer in Japanese.") that had no detector at all
        "ja": "明日の朝にレポートを送ってください。",
        "no": "Takk, kan du sende rapporten i morgen tidlig?",
        "nl": "Dank je wel, kun je het rapport morgen sturen?",
    }
    assert {code: detect_language(text) for code, text in short.items()} == {code: code for code in short}
    assert complies("language:ja", short["ja"]) is True and complies("language:ja", short["de"]) is False


def test_text_without_language_is_no_language() -> None:
    assert detect_language("100 200 300 400 500") is None
    assert detect_language("the the il il lo lo") is None  # too close to call
