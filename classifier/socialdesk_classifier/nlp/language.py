"""Language identification for short, noisy social posts.

Three stages, cheapest first, because most traffic is English and the budget is a fraction
of a millisecond per post:

1. Script: CJK, kana, Hangul, Cyrillic, Arabic, ... decide the language outright.
2. Function words: an English post with several English stop words and none of another
   language is English (this settles ~90 % of traffic in microseconds).
3. lingua (``lingua-language-detector``, Rust core, low-accuracy mode, a fixed list of
   Latin-script languages): the remaining Latin-script posts. Low-accuracy mode keeps its
   models at ~30 MB and ~0.15 ms a call; with function words as a fallback if it abstains.

Returns an ISO 639-1 code, or ``"und"`` when the text has no letters (emoji-only, "??").
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from socialdesk_classifier.nlp.language_words import STOP as _STOP
from socialdesk_classifier.nlp.language_words import STOP_LANGS as _STOP_LANGS

__all__ = ["LanguageDetector"]

_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_SCRIPTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\u0400-\u04ff]"), "ru"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
    (re.compile(r"[\u0900-\u097f]"), "hi"),
)
# Any character of the _SCRIPTS ranges: one scan instead of six when there is none.
_ANY_SCRIPT = re.compile("[" + "".join(p.pattern[1:-1] for p, _ in _SCRIPTS) + "]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ASCII_WORDS = bytes(
    c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32  # A-Z -> a-z, a-z kept, else a space
    for c in range(256)
)


class LanguageDetector:
    """Detect the language of a cleaned post. Thread-safe after construction."""

    def __init__(self, *, use_lingua: bool = True) -> None:
        self._use_lingua = use_lingua
        # Built and loaded now, not on the first post that needs it: lingua loads every
        # language's model at its first call (~150 ms), a stall a live post should not
        # take. The models are shared by every detector in the process.
        _ = self._lingua

    @cached_property
    def _lingua(self) -> Any:
        """lingua's detector with its language models loaded, or None without lingua."""
        if not self._use_lingua:
            return None
        try:
            from lingua import Language, LanguageDetectorBuilder
        except ImportError:  # optional dependency: fall back to function words
            return None
        langs = [
            Language.ENGLISH,
            Language.SPANISH,
            Language.PORTUGUESE,
            Language.FRENCH,
            Language.GERMAN,
            Language.ITALIAN,
            Language.DUTCH,
            Language.INDONESIAN,
            Language.TAGALOG,
            Language.POLISH,
            Language.TURKISH,
            Language.VIETNAMESE,
        ]
        return (
            LanguageDetectorBuilder.from_languages(*langs)
            .with_low_accuracy_mode()
            .with_preloaded_language_models()
            .build()
        )

    def detect(self, text: str) -> tuple[str, float]:
        """Return ``(iso_639_1, confidence)``; ``("und", 0.0)`` when undecidable."""
        if text.isascii():
            # Every script stage looks for characters above U+007F: none here. On ASCII,
            # _WORD's words are the runs of letters: lower-case them and blank the rest in
            # one C call each, not one regex step and one str per character.
            latin_words = text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
        else:
            if _KANA.search(text):
                return "ja", 0.95
            if _HANGUL.search(text):
                return "ko", 0.95
            han = len(_HAN.findall(text))
            words = _WORD.findall(text)
            latin_words = [w.lower() for w in words if w.isascii() or not _HAN.search(w)]
            if han >= 2 and han >= len(latin_words):
                return "zh", 0.95
            if _ANY_SCRIPT.search(text):
                for pattern, code in _SCRIPTS:
                    if len(pattern.findall(text)) >= 3:
                        return code, 0.9
        if not latin_words:
            return "und", 0.0
        counts = dict.fromkeys(_STOP, 0)
        for langs in map(_STOP_LANGS.get, latin_words):  # one lookup a word, not one per language
            if langs:
                for lang in langs:
                    counts[lang] += 1
        best = max(counts, key=counts.__getitem__)
        runner_up = max((v for k, v in counts.items() if k != best), default=0)
        if best == "en" and counts["en"] >= 3 and counts["en"] >= 3 * runner_up:
            return "en", 0.95
        if ("¿" in text or "¡" in text) and counts["es"] >= 1 and counts["es"] >= counts["en"]:
            return "es", 0.9  # only Spanish opens questions and exclamations upside down
        if best != "en" and counts[best] >= 3 and counts[best] >= 2 * runner_up + 1:
            # A clear function-word majority settles other languages too (~1 us instead of
            # ~0.7 ms of lingua), e.g. "el bus ... de ... y no ... en la" is Spanish.
            return best, 0.85
        if runner_up == 0 and counts[best] == counts["en"] and text.isascii():
            # Plain ASCII with no foreign function word ("Go Birds!!!", "wifi down again"):
            # lingua costs ~0.2 ms and guesses wildly on three words; the audience is English.
            return "en", 0.6
        detector = self._lingua
        if detector is not None and len(" ".join(latin_words)) >= 8:
            conf = detector.compute_language_confidence_values(text)
            if conf:
                top = conf[0]
                code = top.language.iso_code_639_1.name.lower()
                # Low-accuracy mode misreads short English with brand names and hashtags;
                # a function-word vote against it wins when lingua itself is unsure.
                if code != best and counts.get(code, 1) == 0 and counts[best] >= 1 and top.value < 0.9:
                    return best, 0.6
                return code, float(top.value)
        if counts[best] == 0:
            # No function word at all ("Go Birds!!!"): the platform audience is mostly English.
            return "en", 0.4
        return best, min(0.9, 0.5 + 0.1 * (counts[best] - runner_up))
