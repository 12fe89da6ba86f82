"""VADER's compound score, computed as ``vaderSentiment`` computes it, at a third of the cost.

Why a port: ``SentimentIntensityAnalyzer.polarity_scores`` lower-cases the whole word list
again for every lexicon word it meets (twice for each of the three preceding words: once
in the negation check, once in the idiom check), rebuilds the emoji-free text one character
at a time and computes three scores we never read. Here the words are split, stripped and
lower-cased once per text, the negation test is a set lookup and only the compound is
computed. The arithmetic is the library's, in the library's order (including its quirks:
the ``but`` rule finds each value by ``list.index``), so the score is the same float; a test
compares the two on every development post and on generated word salad.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping

from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]  # ships no type hints
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
)

__all__ = ["VaderCompound"]

_BOOST: dict[str, float] = dict(BOOSTER_DICT)
_SPECIAL: dict[str, float] = dict(SPECIAL_CASES)
_NEGATE = frozenset(NEGATE)
# First two words of every phrase the idiom check looks up (all its keys that can equal a
# phrase of two or three words): without one of these pairs in reach, it changes nothing.
_IDIOM_STARTS = frozenset(
    (parts[0], parts[1]) for key in (*_SPECIAL, *_BOOST) if len(parts := key.split()) >= 2
)
_PUNCT = string.punctuation


def _negated(word: str) -> bool:
    # vaderSentiment.negated([word]) on one lower-case word.
    return word in _NEGATE or "n't" in word


class VaderCompound:
    """``SentimentIntensityAnalyzer(...).polarity_scores(text)["compound"]`` for one lexicon."""

    def __init__(self, lexicon: Mapping[str, float], emojis: Mapping[str, str]) -> None:
        self._lexicon = lexicon
        self._emojis = emojis
        self._emoji_chars = frozenset(k for k in emojis if len(k) == 1)
        # VADER's emoji are all outside ASCII: an ASCII text has none (str.isascii is O(1)).
        self._ascii_has_no_emoji = not any(k.isascii() for k in self._emoji_chars)

    def _spell_emoji(self, text: str) -> str:
        # polarity_scores' first loop: each emoji character becomes its description.
        if (self._ascii_has_no_emoji and text.isascii()) or self._emoji_chars.isdisjoint(text):
            return text.strip()
        emojis = self._emojis
        parts: list[str] = []
        prev_space = True
        for ch in text:
            if ch in emojis:
                if not prev_space:
                    parts.append(" ")
                parts.append(emojis[ch])
                prev_space = False
            else:
                parts.append(ch)
                prev_space = ch == " "
        return "".join(parts).strip()

    def words(self, text: str) -> tuple[list[bool], list[str]] | None:
        """(whether each word is in capitals, lower-case words) of ``text`` as VADER reads
        them, or None when no word has a valence (VADER's compound is then exactly 0.0:
        boosters, negations and punctuation only scale valences).

        VADER only asks its cased words ``isupper()``, and stripping punctuation (uncased)
        never changes that answer: the flags come from the unstripped words.
        """
        text = self._spell_emoji(text)
        tokens = text.split()
        if text.isascii():
            # Lower-casing ASCII changes no length and no punctuation, so stripping the
            # lower-cased words gives the lower-cased stripped words.
            lower = [s if len(s := w.strip(_PUNCT)) > 2 else w for w in text.lower().split()]
        else:
            lower = [(s if len(s := w.strip(_PUNCT)) > 2 else w).lower() for w in tokens]
        if self._lexicon.keys().isdisjoint(lower):
            return None
        return list(map(str.isupper, tokens)), lower

    def compound(self, text: str) -> float:
        """The compound score (rounded to 4 places, as VADER returns it)."""
        split = self.words(text)
        if split is None:
            return 0.0
        upper, lower = split
        sentiments = self._sentiments(upper, lower)
        if not sentiments:
            return 0.0
        sum_s = float(sum(sentiments))
        text = self._spell_emoji(text)
        ep = min(text.count("!"), 4) * 0.292
        qm_count = text.count("?")
        qm: float = 0
        if qm_count > 1:
            qm = qm_count * 0.18 if qm_count <= 3 else 0.96
        punct = ep + qm
        if sum_s > 0:
            sum_s += punct
        elif sum_s < 0:
            sum_s -= punct
        norm = sum_s / math.sqrt((sum_s * sum_s) + 15)
        return round(max(-1.0, min(1.0, norm)), 4)

    def _sentiments(self, upper: list[bool], lower: list[str]) -> list[float]:
        # A word's valence depends on the words only, never on other valences: fill the
        # positions of lexicon words and leave VADER's 0 elsewhere (boosters, "kind" of
        # "kind of" and words outside the lexicon).
        lexicon = self._lexicon
        n = len(lower)
        allcaps = sum(upper)
        is_cap_diff = 0 < n - allcaps < n
        sentiments: list[float] = [0] * n
        for i, item_l in enumerate(lower):
            if item_l not in lexicon or item_l in _BOOST:
                continue
            if i < n - 1 and item_l == "kind" and lower[i + 1] == "of":
                continue
            sentiments[i] = self._valence(upper, lower, i, is_cap_diff)
        return _but_check(lower, sentiments)

    def _valence(self, upper: list[bool], lower: list[str], i: int, is_cap_diff: bool) -> float:
        # SentimentIntensityAnalyzer.sentiment_valence for a lexicon word.
        lexicon = self._lexicon
        n = len(lower)
        item_l = lower[i]
        valence: float = lexicon[item_l]
        if item_l == "no" and i != n - 1 and lower[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor"))
        ):
            valence = lexicon[item_l] * N_SCALAR
        if upper[i] and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(3):
            if i > start_i and (prev := lower[i - (start_i + 1)]) not in lexicon:
                s = (
                    _scalar_inc_dec(upper[i - (start_i + 1)], prev, valence, is_cap_diff)
                    if prev in _BOOST
                    else 0.0
                )
                if start_i == 1 and s != 0:
                    s = s * 0.95
                if start_i == 2 and s != 0:
                    s = s * 0.9
                valence = valence + s
                valence = _negation_check(valence, lower, start_i, i)
                if start_i == 2 and any(
                    (lower[j], lower[j + 1]) in _IDIOM_STARTS for j in range(i - 3, min(i + 1, n - 1))
                ):
                    valence = _special_idioms_check(valence, lower, i)
        # _least_check
        if i > 1 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lower[i - 1] not in lexicon and lower[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence


def _scalar_inc_dec(is_upper: bool, word_lower: str, valence: float, is_cap_diff: bool) -> float:
    scalar = 0.0
    if word_lower in _BOOST:
        scalar = _BOOST[word_lower]
        if valence < 0:
            scalar *= -1
        if is_upper and is_cap_diff:
            if valence > 0:
                scalar += C_INCR
            else:
                scalar -= C_INCR
    return scalar


def _negation_check(valence: float, lower: list[str], start_i: int, i: int) -> float:
    if start_i == 0 and _negated(lower[i - 1]):
        valence = valence * N_SCALAR
    if start_i == 1:
        if lower[i - 2] == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
            valence = valence * 1.25
        elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
            pass
        elif _negated(lower[i - 2]):
            valence = valence * N_SCALAR
    if start_i == 2:
        if (lower[i - 3] == "never" and (lower[i - 2] == "so" or lower[i - 2] == "this")) or (
            lower[i - 1] == "so" or lower[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lower[i - 3] == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
            pass
        elif _negated(lower[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lower: list[str], i: int) -> float:
    # Called with i >= 3 only (start_i == 2), as in VADER.
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in _SPECIAL:
            valence = _SPECIAL[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in _SPECIAL:
            valence = _SPECIAL[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in _SPECIAL:
            valence = _SPECIAL[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in _BOOST:
            valence = valence + _BOOST[n_gram]
    return valence


def _but_check(lower: list[str], sentiments: list[float]) -> list[float]:
    # VADER's contrastive "but", kept verbatim: it iterates the list it edits and finds each
    # value's position with list.index (the first equal value), and that decides the score.
    if "but" in lower:
        bi = lower.index("but")
        for sentiment in sentiments:
            si = sentiments.index(sentiment)
            if si < bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 0.5)
            elif si > bi:
                sentiments.pop(si)
                sentiments.insert(si, sentiment * 1.5)
    return sentiments
