"""Text hygiene and tokenisation shared by the rules, the model and the grouper.

Why one module: the statistical model is trained on exactly the tokens produced here, so the
training script and the runtime must never drift apart. Everything is pure functions on
``str`` with bounded cost: platforms send us 10,000-character posts, lone UTF-16 surrogates
and emoji-only text, and none of them may block a partition.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass

__all__ = ["CleanText", "char_ngrams", "clean", "word_tokens"]

#: Analysis looks at this many characters at most. Long posts are rare and the first part
#: carries the ask; capping keeps p99 latency flat whatever a platform sends.
MAX_ANALYSED_CHARS = 1500

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\ufffd"), None)
# One pass replaces volatile spans by placeholders; alternatives are tried in this order.
_URL = r"(?P<url>https?://\S+|www\.\S+|\b[\w-]+\[\.\]\w+\S*)"
_URL_PLAIN = r"(?P<url>https?://\S+|www\.\S+)"
_BOOKREF = r"|(?P<bookref>\b(?:ob|rly)-?\d{3,}\b|#\d{4,}\b)"
_MONEY = r"|(?P<money>[$€£]\s?\d[\d,.]*|\b\d[\d,.]*\s?(?:usd|dollars|eur)\b)"
_TIME = r"|(?P<time>\b\d{1,2}(?::\d\d)?\s?(?:am|pm)\b|\b\d{1,2}:\d\d\b)"
_MENTION = r"|(?P<mention>@\w+)"
_NUM = r"|(?P<num>\b\d+(?:[.,]\d+)?\b)"
_VOLATILE = re.compile(_URL + _BOOKREF + _MONEY + _TIME + _MENTION + _NUM, re.IGNORECASE)
# The same pattern without the alternatives that cannot match a text: every one but "url"
# and "mention" needs a digit, and the defanged-URL form needs "[.]". Trying an alternative
# at every position costs even where it fails at once (~20 us a post for the digit ones),
# and dropping one that cannot match leaves the leftmost-first outcome unchanged. Without
# the defanged form, every alternative starts with one of a few characters: a lookahead on
# them rejects most positions in one test instead of one per alternative (3x fewer steps).
_VOLATILE_BY: dict[tuple[bool, bool], re.Pattern[str]] = {
    (True, True): _VOLATILE,
    (True, False): re.compile(
        r"(?=[hwor#$€£@\d])(?:" + _URL_PLAIN + _BOOKREF + _MONEY + _TIME + _MENTION + _NUM + ")",
        re.IGNORECASE,
    ),
    (False, True): re.compile(_URL + _MENTION, re.IGNORECASE),
    (False, False): re.compile(r"(?=[hw@])(?:" + _URL_PLAIN + _MENTION + ")", re.IGNORECASE),
}
_DIGIT = re.compile(r"\d")
_ASCII_LETTERS = string.ascii_letters.encode("ascii")
_UPPER = re.compile(r"[A-ZÀ-ÞĀ-Ž]")


def _placeholder(m: re.Match[str]) -> str:
    return f" _{m.lastgroup}_ "


# Words, single emoji/symbols, and "??"/"!!" runs, which carry tone on social media.
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?|_[a-z]+_|[!?]{2,}|[^\w\s]", re.UNICODE)
_NON_LETTERS = re.compile(r"[\W\d_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class CleanText:
    """A post's text made safe to analyse.

    ``text`` keeps case (caps are a tone signal); ``lower`` is for matching;
    ``norm`` replaces volatile spans (URLs, amounts, times, booking refs) by placeholders so
    the model learns "a post with a booking reference" rather than one reference.
    """

    text: str
    lower: str
    norm: str
    letters: int
    caps_ratio: float
    truncated: bool


def _drop_surrogates(text: str) -> str:
    # A str from a JSON decoder or a platform SDK can hold lone surrogates ("\ud83d"): any
    # encode() would raise later. Round-tripping through UTF-16 with surrogatepass re-pairs
    # valid halves into one code point and turns lone ones into U+FFFD, which we drop.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean(raw: object, *, max_chars: int = MAX_ANALYSED_CHARS) -> CleanText:
    """Normalise any input into a :class:`CleanText`; never raises.

    >>> clean("Hi \\ud83d @OurBus!!").text
    'Hi @OurBus!!'
    """
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    truncated = len(text) > max_chars * 2
    if truncated:
        # Cut before the expensive steps; NFKC can only shrink or slightly grow the text.
        text = text[: max_chars * 2]
    text = _drop_surrogates(text)
    if not text.isascii():  # ASCII is already NFKC and has no zero-width characters
        text = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH)
    # str.split() and re's \s agree on what is whitespace (both Py_UNICODE_ISSPACE).
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[:max_chars]
        truncated = True
    if text.isascii():  # [^\W\d_] is [A-Za-z] on ASCII: count them in C, not one str each
        letters = len(text) - len(text.encode("ascii").translate(None, _ASCII_LETTERS))
    else:  # dropping the non-letters makes one string, not one str per letter
        letters = len(_NON_LETTERS.sub("", text))
    caps_ratio = len(_UPPER.findall(text)) / letters if letters >= 12 else 0.0
    lower = text.lower()
    volatile = _VOLATILE_BY[_DIGIT.search(lower) is not None, "[.]" in lower]
    norm = volatile.sub(_placeholder, lower)
    return CleanText(
        text=text,
        lower=lower,
        norm=norm,
        letters=letters,
        caps_ratio=caps_ratio,
        truncated=truncated,
    )


def word_tokens(norm: str) -> list[str]:
    """Word, placeholder, emoji and punctuation-run tokens of a normalised text."""
    return _TOKEN.findall(norm)


def char_ngrams(tokens: list[str], *, n_min: int = 3, n_max: int = 4, limit: int = 4000) -> list[str]:
    """Character n-grams inside word boundaries (like scikit-learn's ``char_wb``).

    Why: they survive typos, inflection and languages we have little data for ("cobrada",
    "cobraron", "charged" share little, but "reembols"/"refund" variants do share grams).
    ``limit`` bounds the cost on pathological input.
    """
    grams: list[str] = []
    for tok in tokens:
        if len(tok) < 2 or tok[0] == "_":
            continue
        padded = f" {tok} "
        size = len(padded)
        for n in range(n_min, n_max + 1):
            if n > size:
                break
            for i in range(size - n + 1):
                grams.append(padded[i : i + n])
        if len(grams) >= limit:
            break
    return grams
