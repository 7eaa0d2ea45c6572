"""A cheap language guard: the models read English, so other text is flagged, not labelled.

Script counting catches Chinese, Japanese, Korean, Cyrillic, Arabic and other
non-Latin text; a share of English function words catches Latin-script text in
other languages (French, Spanish, German…). Short texts pass as English.
"""
from __future__ import annotations

import re
import unicodedata

_ENGLISH_WORDS = frozenset(
    "the a an of to and in is are was were be been that this it we i you he she they on for with as at by "
    "not no have has had will would can could from or but there their our its which what any all such "
    "do does did about into than so if".split()
)
SAMPLE = 20_000
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SCRIPTS = (
    ("zh", ("CJK UNIFIED",)),
    ("ja", ("HIRAGANA", "KATAKANA")),
    ("ko", ("HANGUL",)),
    ("ru", ("CYRILLIC",)),
    ("ar", ("ARABIC",)),
    ("he", ("HEBREW",)),
    ("el", ("GREEK",)),
    ("hi", ("DEVANAGARI",)),
    ("th", ("THAI",)),
)


def detect_language(text: str) -> str:
    """``"en"``, an ISO 639-1 guess for other scripts, or ``"xx"`` for non-English Latin text.

    Looks at the first :data:`SAMPLE` characters: enough to tell, and bounded for huge inputs.
    """
    text = text[:SAMPLE]
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "en"
    counts: dict = {}
    latin = 0
    for ch in letters:
        if ch.isascii() or "LATIN" in unicodedata.name(ch, ""):
            latin += 1
            continue
        name = unicodedata.name(ch, "")
        for code, markers in _SCRIPTS:
            if any(marker in name for marker in markers):
                counts[code] = counts.get(code, 0) + 1
                break
        else:
            counts["xx"] = counts.get("xx", 0) + 1
    if latin < 0.5 * len(letters):
        if "ja" in counts:  # Japanese mixes kana with CJK ideographs
            return "ja"
        return max(counts, key=counts.get)
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) >= 8 and sum(w in _ENGLISH_WORDS for w in words) < 0.08 * len(words):
        return "xx"
    return "en"
