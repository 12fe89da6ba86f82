"""clean()'s fast paths give what the plain regexes give, on dev posts and on generated text."""

from __future__ import annotations

import random
import re

from socialdesk_classifier.nlp import text as text_mod
from socialdesk_classifier.nlp.text import clean

_WS = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def _reference(raw: str) -> tuple[str, str, int]:
    """What clean() computed before its fast paths: (text, norm, letters)."""
    text = raw
    text = text_mod._drop_surrogates(text)
    if not text.isascii():
        import unicodedata

        text = unicodedata.normalize("NFKC", text).translate(text_mod._ZERO_WIDTH)
    text = _WS.sub(" ", text).strip()[: text_mod.MAX_ANALYSED_CHARS]
    letters = len(_LETTER.findall(text))
    norm = text_mod._VOLATILE.sub(text_mod._placeholder, text.lower())
    return text, norm, letters


def _texts(development: list[str]) -> list[str]:
    texts = list(development)
    rng = random.Random(14)
    pieces = [
        "bus",
        "Late",
        "OB-12345",
        "#98765",
        "$12.50",
        "20 usd",
        "7pm",
        "10:45",
        "@OurBus",
        "3,5",
        "https://x.co/a",
        "www.ourbus.com",
        "evil[.]com/x",
        "ü",
        "Ｔ",
        "١٢٣",
        "²",
        "\u00a0",
        "\u2003",
        "\t",
        "\n",
        "é",
        "ß",
        "İ",
        "ſ",
        "K",
        "🙂",
        "?!",
        "-",
        "_",
        "x-y[.]z",
        "OB123",
        "rly-4567",
        "£5",
        "€ 30",
        "9 dollars",
        "12:30pm",
        "H",
        "W",
        "Ω",
        "ﬀ",
    ]
    for _ in range(3000):
        texts.append(
            "".join(rng.choice([" ", "", "  "]) + rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        )
    return texts


def test_clean_fast_paths_match_the_plain_regexes(development_texts: list[str]) -> None:
    texts = _texts(development_texts)
    assert len(texts) > 4000
    for raw in texts:
        ct = clean(raw)
        assert (ct.text, ct.norm, ct.letters) == _reference(raw), raw


def test_language_ascii_words_are_the_regex_words_lower_cased() -> None:
    from socialdesk_classifier.nlp.language import _ASCII_WORDS, _WORD

    rng = random.Random(3)
    for _ in range(5000):
        t = "".join(
            chr(rng.randrange(0, 128)) if rng.random() < 0.3 else rng.choice("aZ b_9'-")
            for _ in range(rng.randint(0, 30))
        )
        fast = t.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
        assert fast == [w.lower() for w in _WORD.findall(t)], repr(t)
