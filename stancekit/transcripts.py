"""Press-briefing transcripts → turns, and answers paired with the questions they answer.

>>> t = parse_transcript("Q: Can you confirm the visit?\\nA: Yes, the visit will take place.")
>>> [(e.question, e.answer) for e in t.exchanges]
[('Can you confirm the visit?', 'Yes, the visit will take place.')]

Four layouts are recognised (``Transcript.style``):

``china-mfa``
    China's Ministry of Foreign Affairs: a title such as "Foreign Ministry Spokesperson Mao Ning's
    Regular Press Conference on March 4, 2025", opening announcements by the spokesperson, then
    ``Q:``/``A:`` pairs or ``Outlet: question`` / ``Spokesperson: answer`` turns.
``us-state``
    U.S. State Department briefings: a ``Department Press Briefing`` header (or ``QUESTION:`` turns
    answered by ``MR./MS. NAME:`` turns), with cross-talk on one line and stage notes.
``generic``
    any other ``Speaker: text`` transcript.
``plain``
    no speaker tags: every paragraph is one statement.

A speaker tag sits at the start of a line: one to five mostly capitalised words (an optional
parenthesised note such as ``(Reuters)`` after them), a colon and a space. ``Note: …``,
``First: …`` and times such as ``10:30`` are not tags; an unknown one-word name counts only when it
is used at least twice. Lines without a tag continue the current turn; stage notes such as
``(Laughter.)``, ``[Inaudible]`` or ``(Crosstalk.)`` are dropped from the text.

Only the standard library is used.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date as _date
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List, Optional, Tuple

__all__ = ["Turn", "Exchange", "Transcript", "parse_transcript", "parse_html", "read_transcript"]

CHINA_MFA = "China MFA"
US_STATE = "US State Department"


@dataclass
class Turn:
    """One speaker's turn. ``role`` is ``question``, ``answer`` or ``statement``."""

    index: int
    speaker: Optional[str]
    role: str
    text: str
    line: int


@dataclass
class Exchange:
    """An answer (or statement, ``question=None``) with the question it answers."""

    turn: int
    question: Optional[str]
    answer: str
    speaker: Optional[str]
    line: int


@dataclass
class Transcript:
    title: Optional[str]
    date: Optional[str]
    spokesperson: Optional[str]
    ministry: Optional[str]
    style: str
    turns: List[Turn] = field(default_factory=list)
    exchanges: List[Exchange] = field(default_factory=list)


# --------------------------------------------------------------------------- text clean-up

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[^\S\n]+")

_NOTE_WORDS = (
    r"laughter|laughs|laughing|applause|cross-?\s?talk|inaudible|unintelligible|indiscernible|indistinct"
    r"|off[- ]?mic(?:rophone)?|pause|interruption|audio\s+(?:gap|break|drops?|cuts?\s+out)"
    r"|technical\s+difficult(?:y|ies)|no\s+response|coughs?|multiple\s+speakers|mic(?:rophone)?\s+off"
)
# "(Laughter.)", "[Inaudible]", "(Crosstalk.)", "(Inaudible question.)", "[Off-mic comment]".
_STAGE_NOTE = re.compile(r"[\(\[]\s*(?:" + _NOTE_WORDS + r")\b[^()\[\]\n]{0,60}?[\)\]]", re.I)
# A whole line such as "(The briefing was concluded at 2:04 p.m.)".
_CLOSING_NOTE = re.compile(
    r"^[\(\[]\s*(?:the\s+)?(?:press\s+|daily\s+)?(?:briefing|conference|press\s+conference)\s+"
    r"(?:was\s+)?(?:concluded|ended|adjourned|ends|began|started)\b[^()\[\]]*[\)\]]$", re.I)


# White House transcripts write a question as "Q    Thank you, ..." (no colon, a wide gap).
_WHITE_HOUSE_Q = re.compile(r"^\s*Q(?:\t|[ \u00a0]{2,})(?=\S)")


def _clean_line(line: str) -> Tuple[str, bool]:
    """Stage notes out, spaces collapsed; returns (text, was_only_notes)."""
    line = _INVISIBLE.sub("", line)
    line = _WHITE_HOUSE_Q.sub("Q: ", line, count=1)
    line = _SPACES.sub(" ", line).strip()
    if not line:
        return "", False
    if _CLOSING_NOTE.match(line):
        return "", True
    stripped = _STAGE_NOTE.sub(" ", line)
    if stripped != line:
        stripped = _SPACES.sub(" ", stripped).strip()
        return stripped, not stripped
    return line, False


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTH_RE = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"
_DATE_RES = [
    ("ymd", re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    ("mdy", re.compile(r"\b(" + _MONTH_RE + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)", re.I)),
    ("dmy", re.compile(r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MONTH_RE + r")\.?,?\s+(\d{4})(?!\d)",
                       re.I)),
]


def _find_date(text: Optional[str]) -> Optional[str]:
    """The first date in ``text`` as ISO ``YYYY-MM-DD`` ("March 4, 2025", "4 March 2025", "2025-03-04")."""
    if not text:
        return None
    found = []
    for kind, rx in _DATE_RES:
        for m in rx.finditer(text):
            a, b, c = m.groups()
            try:
                if kind == "ymd":
                    y, mo, d = int(a), int(b), int(c)
                elif kind == "mdy":
                    y, mo, d = int(c), _MONTHS[a.lower()], int(b)
                else:
                    y, mo, d = int(c), _MONTHS[b.lower()], int(a)
                iso = _date(y, mo, d).isoformat()
            except (ValueError, KeyError):
                continue
            found.append((m.start(), iso))
            break
    return min(found)[1] if found else None


# --------------------------------------------------------------------------- speaker tags

# name (lazy, no colon), optional spaces, colon (ASCII or full width), then a space or the line end.
_TAG_RE = re.compile(r"^(?P<name>[^\W\d_][^:：\n]{0,79}?)\s*[:：](?:\s+|$)")
_NAME_RE = re.compile(r"^(?P<main>[^()\[\]]+?)\s*(?:[\(\[](?P<paren>[^()\[\]]{1,60})[\)\]])?$")
_NAME_CHARS = re.compile(r"^[\w.'’&/\- ]+$")
_PARTICLES = {"de", "da", "di", "du", "des", "del", "della", "van", "von", "der", "den", "la", "le", "al",
              "el", "bin", "ibn", "of", "the", "and", "for", "y", "e", "dos", "das", "ter", "zu", "on"}
_NOT_SPEAKERS = {
    "note", "notes", "nb", "n.b", "ps", "p.s", "pps", "fyi", "update", "updated", "editor's note", "editors note",
    "source", "sources", "see", "see also", "example", "examples", "e.g", "i.e", "eg", "ie", "translation",
    "correction", "context", "summary", "warning", "caution", "tip", "caption", "photo", "photos", "video",
    "tags", "tag", "keywords", "subject", "re", "date", "time", "location", "venue", "place", "share",
    "related", "attachment", "attachments", "link", "links", "read more", "also read", "disclaimer",
    "transcript", "background", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "finally",
    "firstly", "secondly", "thirdly", "fourthly", "lastly", "next", "also", "important", "bottom line",
    "in short", "result", "results", "conclusion", "yes", "no", "why", "what", "how", "because", "email",
    "e-mail", "tel", "fax", "phone", "website", "web", "url", "address", "breaking", "exclusive", "live",
    "watch", "listen", "previous", "next", "published", "posted", "last updated", "author", "by", "from",
    "to", "cc", "attention", "agenda", "topic", "topics", "item", "items", "p", "reference", "references",
    "quote", "end quote", "unquote", "key points", "highlights", "facts", "fact", "figure", "table", "chart",
    "step", "question and answer", "q&a", "statement", "announcement", "remarks", "opening remarks", "media note",
}
_NOT_FIRST_WORD = {"note", "editor's", "editors", "update", "updated", "posted", "published", "last", "see",
                   "read", "click", "figure", "table", "step", "chapter", "section", "part", "article",
                   "annex", "appendix", "paragraph", "item", "point", "phase", "day", "week", "session"}

_Q_LABELS = {
    "q", "q.", "question", "questions", "questioner", "journalist", "journalists", "reporter", "reporters",
    "correspondent", "press", "media", "audience", "audience member", "participant", "follow-up", "follow up",
    "followup", "follow-up question", "follow-up q", "another question", "q (follow-up)", "floor",
    "question from the floor", "reporter question", "press question", "unidentified reporter", "off-mic question",
}
_Q_FIRST_WORDS = {"journalist", "reporter", "correspondent", "question", "questioner", "follow-up", "q"}
_A_LABELS = {
    "a", "a.", "answer", "answers", "spokesperson", "spokesman", "spokeswoman", "the spokesperson",
    "the spokesman", "the spokeswoman", "deputy spokesperson", "press secretary", "official", "briefer",
    "senior official", "senior state department official", "senior administration official",
    "fm spokesperson", "mfa spokesperson", "foreign ministry spokesperson", "mr. spokesman", "madam spokesperson",
}
_M_LABELS = {"moderator", "operator", "host", "mc", "emcee", "chair", "chairperson", "presenter", "facilitator",
             "master of ceremonies", "the moderator", "the operator"}

_OFFICIAL_WORDS = {"spokesperson", "spokesman", "spokeswoman", "secretary", "minister", "ambassador", "official",
                   "director", "president", "chancellor", "governor", "envoy", "counselor", "counsellor",
                   "undersecretary", "under-secretary", "deputy", "chief", "premier", "prime", "vice",
                   "commissioner", "administrator", "consul", "attaché", "attache", "briefer", "sg",
                   "secretary-general"}
_OUTLETS = {
    "reuters", "afp", "ap", "associated press", "agence france-presse", "agence france presse", "bloomberg",
    "cctv", "cgtn", "xinhua", "xinhua news agency", "china daily", "global times", "people's daily", "the paper",
    "kyodo", "kyodo news", "nhk", "tass", "ria novosti", "sputnik", "rossiya segodnya", "efe", "ansa", "dpa",
    "yonhap", "yonhap news agency", "phoenix tv", "dragon tv", "hubei media group", "shenzhen tv", "bbc", "cnn",
    "al jazeera", "nbc", "cbs", "abc", "fox", "fox news", "asahi", "asahi shimbun", "yomiuri", "mainichi",
    "nikkei", "jiji", "jiji press", "tbs", "fuji tv", "tv asahi", "nippon tv", "anadolu", "anadolu agency",
    "prensa latina", "dow jones", "wall street journal", "new york times", "washington post", "financial times",
    "china news service", "china review news", "ta kung pao", "wen wei po", "lianhe zaobao", "straits times",
    "rthk", "cable tv", "now tv", "bernama", "antara", "pti", "press trust of india", "press tv", "irna",
    "kbs", "mbc", "sbs", "arirang", "voa", "rfa", "rfi", "france 24", "dw", "deutsche welle", "euronews",
    "politico", "axios", "npr", "pbs", "cnbc", "msnbc", "ndtv", "wion", "the hindu", "dawn", "geo", "arab news",
    "al arabiya", "sky news", "itv", "channel 4", "rt", "ria", "interfax", "itar-tass", "kyiv independent",
    "ukrinform", "china national radio", "cnr", "china radio international", "cri", "beijing youth daily",
    "beijing daily", "guangming daily", "economic daily", "south china morning post", "scmp", "caixin",
    "hong kong commercial daily", "macau monthly", "sing tao", "oriental daily", "ming pao", "tvb",
    "le monde", "le figaro", "liberation", "afp tv", "der spiegel", "el pais", "la repubblica", "ap tv",
}
_OUTLET_WORDS = {"tv", "news", "daily", "times", "post", "agency", "radio", "media", "network", "journal",
                 "herald", "tribune", "broadcasting", "broadcast", "channel", "television", "gazette",
                 "telegraph", "newspaper", "magazine", "wire", "review", "weekly", "monthly", "observer",
                 "shimbun", "press", "online", "correspondent", "reporter", "journalist", "newswire"}
_HONORIFIC = re.compile(r"^(?:mr|ms|mrs|dr|miss|madam|madame|sir|mme|m)\.?\s+\S", re.I)
# U.S.-style tags that may also start mid-line (cross-talk): "QUESTION: But— MR. PRICE: —let me finish".
_UC = "A-ZÀ-ÖØ-Þ"
_US_TAG = rf"(?:QUESTION|(?:MR|MS|MRS|DR)\.?\s[{_UC}][{_UC}'’\-]*(?:\s[{_UC}][{_UC}'’\-]+)?)\s?:(?=\s)"
_US_INLINE = re.compile(r"(?<=\s)(?=" + _US_TAG + ")")
_US_HONORIFIC_CAPS = re.compile(rf"^(?:MR|MS|MRS|DR)\.?\s[{_UC}][{_UC}'’\-]*(?:\s[{_UC}][{_UC}'’\-]+)?$")


@lru_cache(maxsize=4096)
def _norm(name: str) -> str:
    return _SPACES.sub(" ", name.replace("’", "'")).strip().rstrip(".").strip().lower()


@lru_cache(maxsize=4096)
def _split_name(name: str) -> Tuple[str, Optional[str]]:
    m = _NAME_RE.match(name.strip())
    if not m:
        return name.strip(), None
    return m.group("main").strip(), (m.group("paren") or "").strip() or None


@lru_cache(maxsize=4096)
def _valid_name(name: str) -> bool:
    """Does ``name`` (what precedes a colon at a line start) look like a speaker label?"""
    name = name.strip()
    if not name or len(name) > 80:
        return False
    m = _NAME_RE.match(name)
    if not m:
        return False
    main = m.group("main").strip()
    if not main or not _NAME_CHARS.match(main):
        return False
    norm = _norm(main)
    if norm in _Q_LABELS or norm in _A_LABELS or norm in _M_LABELS:
        return True
    words = main.split()
    if not 1 <= len(words) <= 5:
        return False
    if norm in _NOT_SPEAKERS or words[0].lower().rstrip(".") in _NOT_FIRST_WORD:
        return False
    first = words[0]
    if not (first[0].isalpha() and not first[0].islower()):
        return False
    particles = 0
    for w in words[1:]:
        if w[0].isalpha() and not w[0].islower():
            continue
        if w[0].isdigit():  # "Channel 4 News"
            continue
        low = w.lower()
        if low in _PARTICLES or re.match(r"^(?:al|el|ad|ud|as|ash|at|bin|d|l)['’\-]\w", low):
            particles += 1
            continue
        return False
    if particles * 2 > len(words):
        return False
    if words[0].lower().rstrip(".") in _MONTHS and len(words) == 2 and words[1].isdigit():
        return False  # "March 4: ..."
    return True


@lru_cache(maxsize=4096)
def _is_outlet(text: str) -> bool:
    norm = _norm(text)
    if norm in _OUTLETS:
        return True
    words = norm.split()
    if not words:
        return False
    if any(w in _OFFICIAL_WORDS for w in words):
        return False
    return any(w in _OUTLET_WORDS for w in words)


@lru_cache(maxsize=4096)
def _label_class(name: str) -> Optional[str]:
    """'q' (reporter), 'a' (official), 'm' (moderator) or None (unknown) from the label alone."""
    main, paren = _split_name(name)
    n, nm = _norm(name), _norm(main)
    if n in _Q_LABELS or nm in _Q_LABELS or re.fullmatch(r"q\d{0,2}|question \d{1,2}", nm):
        return "q"
    words = nm.split()
    if words and words[0] in _Q_FIRST_WORDS and len(words) <= 3:
        return "q"
    if n in _A_LABELS or nm in _A_LABELS:
        return "a"
    if n in _M_LABELS or nm in _M_LABELS:
        return "m"
    if paren and _is_outlet(paren):
        return "q"
    if _is_outlet(main):
        return "q"
    if _HONORIFIC.match(main):
        return "a"
    if any(w in _OFFICIAL_WORDS for w in words):
        return "a"
    if paren and any(w in _OFFICIAL_WORDS for w in _norm(paren).split()):
        return "a"
    return None


@lru_cache(maxsize=4096)
def _is_known_label(name: str) -> bool:
    if _label_class(name) is not None:
        return True
    main, _ = _split_name(name)
    return len(main) >= 2 and main.isupper() and main.replace(".", "").replace("-", "").isalpha()


# --------------------------------------------------------------------------- header

_TITLE_HINT = re.compile(
    r"press\s+(?:conference|briefing)|briefing|transcript|regular\s+press|remarks|media\s+availability|"
    r"news\s+conference|press\s+statement|q\s*&\s*a", re.I)
_CHINA_HINT = re.compile(
    r"foreign\s+ministry\s+spokesperson|regular\s+press\s+conference|"
    r"ministry\s+of\s+foreign\s+affairs\s+of\s+the\s+people['’]s\s+republic\s+of\s+china|fmprc\.gov\.cn|"
    r"mfa\.gov\.cn", re.I)
_US_HINT = re.compile(r"department\s+press\s+briefing|u\.?s\.?\s+department\s+of\s+state|state\.gov|"
                      r"state\s+department\s+(?:press\s+)?briefing", re.I)
_TIME_LINE = re.compile(r"^\d{1,2}[:.]\d{2}\s*(?:[ap]\.?\s?m\.?)?\s*(?:[A-Z]{2,5})?\.?$", re.I)
_FIELD_LINE = re.compile(r"^(?:date|time|venue|location|place|updated|published|posted|source|from)\s*[:：]\s",
                         re.I)
_ROLE_WORDS = (r"spokesperson|spokesman|spokeswoman|press\s+secretary|secretary|minister|briefer|director|"
               r"ambassador|official")
_CAP = "[A-ZÀ-ÖØ-Þ]"
_NAME_GAP = r"\s+(?:(?:de|da|di|du|des|del|della|van|von|der|den|la|le|al|el|bin|ibn)\s+)*"
_NAME_PART = _CAP + r"[\w.\-'’]*(?:" + _NAME_GAP + _CAP + r"[\w.\-'’]*){0,3}?"
# "Ned Price, Department Spokesperson": a name of two to four capitalised words, a comma, a role.
_NAME_ROLE_LINE = re.compile(r"^(?P<name>" + _CAP + r"[\w.'’\-]*(?:" + _NAME_GAP + _CAP + r"[\w.'’\-]*){1,3}),\s+"
                             r"[^:]{0,80}?\b(?i:" + _ROLE_WORDS + r")\b")
_TITLE_SPOKESPERSON = [
    re.compile(r"\b(?:Spokesperson|Spokesman|Spokeswoman|Secretary|Minister|Ambassador)\s+(?P<name>" + _NAME_PART
               + r")(?:['’]s\b|\s+(?:on|at|in|for|of|to|and|with)\b|\s*[,(]|\s+[–—\-]|\s*$)"),
    re.compile(r"\b(?:Briefing|Conference|Remarks)\s+(?:by|with)\s+(?:(?:Deputy\s+)?(?:Spokesperson|Spokesman|"
               r"Spokeswoman|Press\s+Secretary)\s+)?(?P<name>" + _NAME_PART
               + r")(?:\s+(?:on|at|in|for|of|to|and|with)\b|\s*[,(]|\s+[–—\-]|\s*$)"),
]
_TERMINAL = tuple(".?!…\"”:;,—–-")


def _spokesperson_in(text: str) -> Optional[str]:
    m = _NAME_ROLE_LINE.match(text)
    if m and len(text) <= 120:
        return m.group("name").strip()
    for rx in _TITLE_SPOKESPERSON:
        m = rx.search(text)
        if m:
            name = m.group("name").strip()
            words = name.split()
            # "Spokesperson Mao Ning's Regular Press Conference" → stop before title words.
            while words and words[-1].lower() in {"regular", "press", "daily", "briefing", "conference", "remarks"}:
                words.pop()
            if words and words[0].lower() not in {"the", "a", "department", "office"}:
                return " ".join(words)
    return None


def _is_header_line(text: str) -> bool:
    if len(text) > 140:
        return False
    if _TIME_LINE.match(text) or _FIELD_LINE.match(text):
        return True
    if text.endswith(_TERMINAL):
        return False
    if _find_date(text) and len(text) <= 80 and len(text.split()) <= 12:
        return True  # "MARCH 4, 2025", "Beijing, 4 March 2025"
    if _NAME_ROLE_LINE.match(text) and len(text) <= 120:
        return True
    words = text.replace(",", " ").split()
    if 1 <= len(words) <= 4 and all(w[0].isupper() or w[0].isdigit() for w in words) and ":" not in text:
        return True  # "Washington, DC", "Beijing"
    return False


def _looks_like_title(text: str) -> bool:
    if len(text) > 200:
        return False
    if _TITLE_HINT.search(text) or _CHINA_HINT.search(text) or _US_HINT.search(text):
        return True
    return len(text) <= 120 and not text.endswith(_TERMINAL)


# --------------------------------------------------------------------------- parsing

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class _Seg:
    __slots__ = ("line", "text", "name", "blank")

    def __init__(self, line: int, text: str, name: Optional[str] = None, blank: bool = False):
        self.line, self.text, self.name, self.blank = line, text, name, blank


def parse_transcript(text: str, *, ministry: Optional[str] = None, source: Optional[str] = None) -> Transcript:
    """Parse a briefing transcript (plain text) into turns and question/answer exchanges.

    ``ministry`` overrides the ministry found from the layout; ``source`` (a file name or URL) only
    helps to recognise the layout.
    """
    return _parse(text, ministry=ministry, source=source)


def _parse(text: str, *, ministry: Optional[str] = None, source: Optional[str] = None,
           title_hint: Optional[str] = None) -> Transcript:
    if not isinstance(text, str):
        raise TypeError(f"parse_transcript expects text, got {type(text).__name__}")
    raw = text[1:] if text.startswith("\ufeff") else text
    cleaned: List[_Seg] = []
    for no, line in enumerate(_LINE_BREAK.split(raw), start=1):
        body, only_notes = _clean_line(line)
        if only_notes:
            continue  # a line of stage notes is gone, it does not break a paragraph
        cleaned.append(_Seg(no, body, blank=not body))

    # --- title and header lines
    pos, n = 0, len(cleaned)
    header: List[str] = []
    title: Optional[str] = None
    while pos < n and cleaned[pos].blank:
        pos += 1
    if pos < n:
        first = cleaned[pos].text
        tag = _TAG_RE.match(first)
        is_tag = bool(tag) and _valid_name(tag.group("name")) and not _TITLE_HINT.search(tag.group("name"))
        more = any(not s.blank for s in cleaned[pos + 1:pos + 40])
        if not is_tag and more and _looks_like_title(first):
            title = first
            pos += 1
    if title is None and title_hint:
        title = _SPACES.sub(" ", title_hint).strip() or None
    while pos < n:
        seg = cleaned[pos]
        if seg.blank:
            pos += 1
            continue
        tag = _TAG_RE.match(seg.text)
        if tag and _valid_name(tag.group("name")) and not _FIELD_LINE.match(seg.text):
            break
        if not _is_header_line(seg.text):
            break
        header.append(seg.text)
        pos += 1
    body = cleaned[pos:]

    # --- style
    context = " \n".join([title or ""] + header + [source or ""])
    hinted = None
    if _CHINA_HINT.search(context) or (ministry or "").strip().lower() in {"china mfa", "china"}:
        hinted = "china-mfa"
    elif _US_HINT.search(context) or (ministry or "").strip().lower() in {"us state department"}:
        hinted = "us-state"

    # --- candidate tags
    cand: Dict[int, str] = {}
    counts: Counter = Counter()
    for i, seg in enumerate(body):
        if seg.blank:
            continue
        m = _TAG_RE.match(seg.text)
        if m and _valid_name(m.group("name")):
            cand[i] = m.group("name").strip()
            counts[_norm(cand[i])] += 1

    def accepted(name: str) -> bool:
        if counts[_norm(name)] >= 2 or _is_known_label(name):
            return True
        return len(_split_name(name)[0].split()) >= 2

    tags = {i: name for i, name in cand.items() if accepted(name)}
    us_like = any(_norm(nm) == "question" for nm in tags.values()) and \
        any(_US_HONORIFIC_CAPS.match(_split_name(nm)[0]) for nm in tags.values())
    if hinted:
        style = hinted
    elif us_like:
        style = "us-state"
    elif tags:
        style = "generic"
    else:
        style = "plain"

    # --- segments: (line, text, speaker-or-None), with cross-talk split in U.S. style
    segs: List[_Seg] = []
    for i, seg in enumerate(body):
        if seg.blank:
            segs.append(seg)
            continue
        pieces = [seg.text]
        if style == "us-state" and ":" in seg.text:
            cuts = [m.start() for m in _US_INLINE.finditer(seg.text)]
            if cuts:
                bounds = [0] + cuts + [len(seg.text)]
                pieces = [seg.text[a:b].strip() for a, b in zip(bounds, bounds[1:])]
                pieces = [p for p in pieces if p]
        for k, piece in enumerate(pieces):
            name = None
            m = _TAG_RE.match(piece) if (k > 0 or i in tags) else None
            if m is not None:
                name = tags[i] if k == 0 else m.group("name").strip()
                segs.append(_Seg(seg.line, piece[m.end():].strip(), name=name))
            else:
                segs.append(_Seg(seg.line, piece))

    classes = {name: _label_class(name) for name in {seg.name for seg in segs if seg.name is not None}}

    # --- raw turns
    raw_turns: List[List] = []  # [speaker, [lines], line_no]
    current = None
    any_tag = any(s.name is not None for s in segs)
    para_break = any_tag or any(s.blank for s in segs)
    for seg in segs:
        if seg.name is not None:
            current = [seg.name, [seg.text] if seg.text else [], seg.line]
            raw_turns.append(current)
        elif seg.blank:
            if current is not None and current[0] is None:
                current = None  # untagged paragraphs stand alone
        else:
            if current is None or (not para_break and current[0] is None):
                current = [None, [seg.text], seg.line]
                raw_turns.append(current)
            else:
                current[1].append(seg.text)

    spokesperson = None
    for text_ in ([title] if title else []) + header:
        spokesperson = _spokesperson_in(text_)
        if spokesperson:
            break
    date = _find_date(title) or next((d for d in map(_find_date, header) if d), None)
    if date is None and source:
        m = _DATE_RES[0][1].search(Path(str(source)).name)
        date = _find_date(m.group(0)) if m else None

    # --- who asks, who answers
    cls = _classify_speakers(raw_turns, classes, spokesperson, style)

    turns: List[Turn] = []
    exchanges: List[Exchange] = []
    pending: Optional[Turn] = None
    answered_by: Counter = Counter()
    for speaker, lines, line_no in raw_turns:
        body_text = "\n".join(lines)
        c = cls.get(speaker, "a") if speaker is not None else "a"
        idx = len(turns)
        if c == "q":
            turn = Turn(idx, speaker, "question", body_text, line_no)
            pending = turn
        elif c == "m":
            turn = Turn(idx, speaker, "statement", body_text, line_no)
        else:
            role = "answer" if pending is not None else "statement"
            turn = Turn(idx, speaker, role, body_text, line_no)
            exchanges.append(Exchange(idx, pending.text if pending is not None else None, body_text, speaker,
                                      line_no))
            pending = None
            if speaker is not None and _norm(speaker) not in _A_LABELS:
                answered_by[speaker] += 1
        turns.append(turn)

    if spokesperson is None and answered_by:
        spokesperson = answered_by.most_common(1)[0][0]
    for ex in exchanges:
        if ex.speaker is None or _norm(ex.speaker) in _A_LABELS:
            ex.speaker = spokesperson

    if ministry is None:
        ministry = {"china-mfa": CHINA_MFA, "us-state": US_STATE}.get(style)
    return Transcript(title=title, date=date, spokesperson=spokesperson, ministry=ministry, style=style,
                      turns=turns, exchanges=exchanges)


def _matches_spokesperson(name: str, spokesperson: Optional[str]) -> bool:
    if not spokesperson:
        return False
    main = _norm(_split_name(name)[0])
    target = _norm(spokesperson)
    if main == target or main.endswith(" " + target):
        return True
    if _HONORIFIC.match(main):  # "MR. PRICE" for Ned Price, "Ms. Mao" for Mao Ning
        rest = re.sub(r"^(?:mr|ms|mrs|dr|miss|madam|madame|sir|mme|m)\.?\s+", "", main)
        return rest == target or rest in target.split()
    return False


def _classify_speakers(raw_turns, classes: Dict[str, Optional[str]], spokesperson: Optional[str],
                       style: str) -> Dict[Optional[str], str]:
    """Class per speaker: 'q' asks, 'a' answers (or announces), 'm' moderates."""
    cls: Dict[Optional[str], str] = {}
    unknown = []
    for name, c in classes.items():
        if _matches_spokesperson(name, spokesperson):
            cls[name] = "a"
        elif c is not None:
            cls[name] = c
        else:
            unknown.append(name)
    if not unknown:
        return cls
    has_answerer = any(c == "a" for c in cls.values())
    stats = {name: [0, 0, 0, 0] for name in unknown}  # turns, follows a question, has '?', chars
    prev = None
    for speaker, lines, _ in raw_turns:
        text = " ".join(lines)
        if speaker in stats:
            st = stats[speaker]
            st[0] += 1
            st[3] += len(text)
            if "?" in text:
                st[2] += 1
            if prev is not None and prev[0] != speaker and (cls.get(prev[0]) == "q" or "?" in prev[1]):
                st[1] += 1
        prev = (speaker, text)
    if not has_answerer:
        best = max(unknown, key=lambda nm: (stats[nm][1], -stats[nm][2] / max(stats[nm][0], 1),
                                            stats[nm][3], stats[nm][0]))
        cls[best] = "a"
        unknown = [nm for nm in unknown if nm != best]
    for name in unknown:
        turns_, _follows, qmarks, _chars = stats[name]
        if style == "china-mfa":
            cls[name] = "q"  # everyone but the spokesperson is a reporter or an outlet
        else:
            cls[name] = "q" if qmarks * 2 >= turns_ else "a"
    return cls


# --------------------------------------------------------------------------- HTML and files

_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head", "nav", "footer", "form", "button",
              "select", "iframe", "object", "canvas", "aside"}
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr", "table", "section",
               "article", "header", "main", "blockquote", "pre", "hr", "dd", "dt", "dl", "figure",
               "figcaption", "address", "body", "html", "tbody", "thead", "center", "td", "th"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: List[str] = []
        self.skip: List[str] = []
        self.pre = 0
        self.in_title = False
        self.title_parts: List[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.skip = [t for t in self.skip if t != "head"]
        if tag == "title":
            self.in_title = True
        if tag in _SKIP_TAGS:
            self.skip.append(tag)
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        if tag == "pre":
            self.pre += 1

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and not self.skip:
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS and not self.skip:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag in _SKIP_TAGS:
            if tag in self.skip:
                while self.skip:
                    if self.skip.pop() == tag:
                        break
            return
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data):
        if self.in_title:
            self.title_parts.append(data)
        if self.skip:
            return
        if self.pre:
            self.parts.append(data)
        else:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def _html_to_text(html: str) -> Tuple[str, Optional[str]]:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lenient; keep what was read
        pass
    text = "".join(parser.parts)
    lines = [ln.strip() for ln in text.replace("\xa0", " ").split("\n")]
    out: List[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    title = _SPACES.sub(" ", "".join(parser.title_parts)).strip() or None
    return "\n".join(out).strip("\n") + "\n", title


def parse_html(html: str, **kw) -> Transcript:
    """Strip the markup of a transcript page (scripts and styles dropped, ``<p>``/``<br>`` → line
    breaks, entities decoded), then :func:`parse_transcript` the text. Line numbers refer to that text.
    """
    text, page_title = _html_to_text(html)
    return _parse(text, title_hint=page_title, **kw)


def read_transcript(path) -> Transcript:
    """Read a transcript file: ``.html``/``.htm`` through :func:`parse_html`, anything else as text (UTF-8)."""
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if path.suffix.lower() in {".html", ".htm", ".xhtml"}:
        return parse_html(text, source=str(path))
    return parse_transcript(text, source=str(path))
