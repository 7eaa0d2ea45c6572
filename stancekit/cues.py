"""Cue lexicon: the phrases spokespeople use to confirm, deny or hedge, with negation.

Each cue is a regular expression with the label it signals, the label it signals
when a negator governs it ("I can't *confirm*" → hedge, "will not *attend*" →
deny, "not *groundless*" → hedge) and a weight used by the rules backend.
Patterns that already contain their negation ("there is no such plan") are
matched whole and never re-negated.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Pattern, Tuple

from .labels import CONFIRM, DENY, HEDGE


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: Pattern[str]
    label: str
    negated: Optional[str]  # label when negated; None = the pattern carries its own negation
    weight: float


def _cue(name: str, regex: str, label: str, negated: Optional[str], weight: float = 1.0) -> Cue:
    return Cue(name, re.compile(r"(?<![\w-])(?:" + regex + r")(?![\w-])", re.IGNORECASE), label, negated, weight)


# fmt: off
CUES: Tuple[Cue, ...] = (
    # ---- hedge: no knowledge, no comment, referral, deferral, noted, principle
    _cue("not-aware", r"(?:not|n't)\s+(?:\w+\s+)?aware", HEDGE, None, 2.0),
    _cue("no-information", r"no\s+(?:\w+\s+){0,2}(?:information|details|specifics|updates?)(?:\s+to\s+(?:provide|offer|release|share))?", HEDGE, None, 2.0),
    _cue("nothing-to-add", r"nothing\s+(?:\w+\s+){0,2}to\s+(?:add|share|offer|announce|provide|release|say|read\s*out|preview)", HEDGE, None, 2.0),
    _cue("refer-to", r"refer\s+(?:you\s+)?(?:to|you)|direct\s+(?:you|your\s+question)\s+to|(?:please|best\s+to)\s+(?:ask|check\s+with|contact)|competent\s+authorities|relevant\s+(?:authorities|departments|agencies)", HEDGE, None, 2.0),
    _cue("in-due-course", r"in\s+due\s+course|(?:will|would)\s+(?:release|share|provide|announce)\s+(?:relevant\s+|more\s+|further\s+)?(?:information|details)|(?:timely|at\s+the\s+appropriate\s+time)|keep\s+you\s+(?:updated|posted|informed)", HEDGE, None, 2.0),
    _cue("no-comment", r"(?:no|not?\s+(?:going\s+to\s+|in\s+a\s+position\s+to\s+)?|won't|will\s+not|decline\s+to|refrain\s+from)\s*(?:comment|speculate|get\s+ahead|preview|characteri[sz]e|discuss\s+(?:the\s+)?details|go\s+into)", HEDGE, None, 2.0),
    _cue("not-in-position", r"not\s+in\s+a\s+position\s+to|(?:can't|cannot|unable\s+to|not\s+able\s+to)\s+(?:independently\s+)?(?:verify|confirm|speak\s+to|say)", HEDGE, None, 2.0),
    _cue("hypothetical", r"hypothetical(?:s|\s+questions?)?|speculation|speculative", HEDGE, None, 1.5),
    _cue("noted", r"(?:have|has)\s+(?:taken\s+)?not(?:ed|e\s+of)|have\s+seen\s+(?:the\s+|those\s+|these\s+)?(?:reports?|media\s+reports?|press\s+reports?)|following\s+(?:\w+\s+){0,2}closely|monitoring\s+(?:the\s+)?(?:situation|developments)|closely\s+(?:following|watching|monitoring)", HEDGE, None, 1.5),
    _cue("communication", r"(?:maintain(?:ing)?|keep(?:ing)?|stay(?:ing)?|remain(?:ing)?|are|be)\s+in\s+(?:close\s+|constant\s+|regular\s+)?(?:communication|contact|touch)|maintain(?:ing)?\s+(?:close\s+)?communication", HEDGE, None, 1.0),
    _cue("position-consistent", r"position\s+(?:\w+\s+){0,3}(?:is|has\s+been|remains)\s+(?:\w+\s+){0,2}(?:consistent|clear|unchanged|firm)|consistent\s+and\s+clear|clear\s+and\s+consistent", HEDGE, None, 1.0),
    _cue("check-back", r"(?:get|come)\s+back\s+to\s+you|take\s+(?:that|the)\s+question|check\s+(?:on\s+)?(?:that|it)|have\s+to\s+check", HEDGE, None, 1.5),
    _cue("hope-restraint", r"exercise\s+(?:calm\s+and\s+)?restraint|(?:call|calls)\s+on\s+all\s+parties|(?:urge|urges)\s+all\s+parties|hope\s+(?:that\s+)?(?:all|the\s+relevant|relevant)\s+parties", HEDGE, None, 0.7),
    _cue("concern", r"deeply\s+(?:saddened|concerned|shocked)|(?:sincere\s+|deep\s+|heartfelt\s+)?condolences|sympath(?:y|ies)\s+to|(?:gravely|seriously)\s+concerned", HEDGE, None, 0.7),
    _cue("already-answered", r"(?:already|previously)\s+(?:answered|responded\s+to|addressed)|as\s+I\s+(?:just\s+)?said|I've\s+answered", HEDGE, None, 1.0),
    _cue("no-decision", r"no\s+(?:final\s+)?decision\s+has\s+been\s+(?:made|taken)|(?:not|haven't|hasn't)\s+(?:yet\s+)?(?:been\s+)?(?:decided|finali[sz]ed)|under\s+(?:review|consideration)|still\s+(?:assessing|reviewing|looking\s+into)", HEDGE, None, 1.5),

    # ---- deny: rejection, falsity, opposition, no-such, never
    _cue("groundless", r"groundless|baseless|unfounded|without\s+(?:any\s+)?(?:basis|foundation)|no\s+(?:factual\s+)?basis", DENY, HEDGE, 2.5),
    _cue("fabrication", r"(?:(?:sheer|pure|total|complete|outright)\s+)?fabricat(?:ion|ions|ed)|made[\s-]up|fake\s+news|disinformation|misinformation|lies|a\s+lie|smear(?:s|ing)?|slander(?:ous)?|nonsense|absurd|preposterous|ridiculous|rumou?rs?", DENY, HEDGE, 2.5),
    _cue("not-true", r"(?:not|n't)\s+(?:\w+\s+)?(?:true|accurate|correct|the\s+case|right)|untrue|inaccurate|false|incorrect|misleading|wrong", DENY, None, 2.5),
    _cue("no-such", r"(?:there\s+(?:is|are|was|were)\s+)?no\s+such\s+\w+|(?:no|not\s+a)\s+so-called|there\s+(?:is|was)\s+no\s+(?:plan|intention|truth|question\s+of|evidence|arrangement)|has\s+no\s+(?:plans?|intention)|have\s+no\s+(?:plans?|intention)", DENY, None, 2.5),
    _cue("never", r"(?:has|have|had|will|would|did)\s+never(?!\s+(?:denied|deny|denies|opposed|rejected|questioned))|never\s+(?:has|have|had|will|did|been|was|were|engaged|supported|accepted|recogni[sz]ed|allowed|sought)", DENY, None, 2.0),
    _cue("oppose", r"(?:(?:firmly|strongly|resolutely|categorically|flatly|totally|completely)\s+)?(?:oppose[sd]?|opposition\s+to|reject(?:s|ed)?|rejection\s+of|condemn(?:s|ed)?|condemnation|denounce[sd]?|deplore[sd]?|refute[sd]?|dismiss(?:es|ed)?)", DENY, HEDGE, 2.0),
    _cue("deny-verb", r"deny|denies|denied|denial", DENY, CONFIRM, 2.0),
    _cue("not-happen", r"(?:did|does|do|will|would|has|have|is|are|was|were)\s*(?:not|n't)\s+(?:\w+\s+)?(?:happen|take\s+place|attend|participate|join|accept|recogni[sz]e|send|sign|hold|plan|intend|exist|involved?)", DENY, None, 2.0),
    _cue("interference", r"interfer(?:e|es|ed|ing|ence)\s+in\s+(?:\w+\s+){0,2}internal\s+affairs|internal\s+affairs?\s+(?:of\s+\w+\s+)?(?:brook|allow|tolerate)|gross\s+interference", DENY, HEDGE, 1.5),
    _cue("urge-stop", r"(?:urge|urges|urged|call\s+on|demand)\s+(?:\w+\s+){1,4}(?:to\s+)?(?:stop|cease|correct|withdraw|revoke|retract|immediately\s+stop)", DENY, None, 1.5),
    _cue("illegal", r"illegal\s+and\s+invalid|null\s+and\s+void|(?:is|are|was)\s+(?:illegal|illegitimate|unacceptable)|violat(?:es|ed|ion\s+of)\s+international\s+law", DENY, HEDGE, 1.5),
    _cue("no-start", r"^\s*(?:no|nope)\b[,.!]?", DENY, None, 2.0),

    # ---- confirm: yes, confirmation, announcements, agreement, support
    _cue("yes", r"^\s*(?:yes|yeah|yep|indeed|correct|right|exactly|absolutely|certainly|of\s+course)\b|that(?:'s|\s+is)\s+(?:right|correct|accurate|true)", CONFIRM, None, 2.5),
    _cue("confirm-verb", r"(?:can|could|I|we|to)\s+(?:\w+\s+)?confirm|confirm(?:s|ed)?\s+(?:that|the|it|this|reports?)", CONFIRM, HEDGE, 2.5),
    _cue("invitation", r"at\s+the\s+invitation\s+of", CONFIRM, None, 3.0),
    _cue("will-visit", r"(?:will|is\s+going\s+to|is\s+scheduled\s+to|are\s+scheduled\s+to|plans\s+to)\s+(?:\w+\s+){0,3}(?:visit|attend|travel|hold|host|co-?chair|chair|lead|meet|sign|participate|join|send|provide|dispatch|deliver|launch|open|resume|receive)", CONFIRM, DENY, 2.0),
    _cue("did-event", r"(?:held|hold)\s+(?:\w+\s+){0,2}(?:talks|meeting|consultations?|phone\s+call|dialogue|call|video\s+call|discussions?)|(?:had|conducted)\s+(?:a\s+|an\s+)?(?:\w+\s+){0,2}(?:talks|meeting|phone\s+call|exchange\s+of\s+views|conversation)|(?:met|spoke)\s+with|signed|reached\s+(?:an?\s+|important\s+)?(?:\w+\s+)?(?:agreement|consensus|deal)|(?:agreed|decided)\s+to|has\s+(?:been\s+)?(?:approved|decided|announced|provided|sent|dispatched|evacuated|released|lodged|delivered)|did\s+lodge|lodged", CONFIRM, DENY, 1.5),
    _cue("welcome", r"welcome[sd]?|(?:firmly\s+|fully\s+|strongly\s+)?support(?:s|ed)?|appreciat(?:e|es|ed)|applaud(?:s|ed)?|commend(?:s|ed)?|endorse[sd]?|congratulat(?:e|es|ed|ions)|stands?\s+ready|ready\s+to\s+(?:work|provide|play)", CONFIRM, DENY, 1.5),
    _cue("is-true", r"(?:it|this|that)\s+is\s+(?:a\s+)?(?:true|fact)|it's\s+true|as\s+(?:reported|announced)", CONFIRM, DENY, 1.5),
)
# fmt: on

#: Words that negate a cue that follows them closely in the same sentence.
NEGATORS = frozenset({"not", "n't", "never", "no", "cannot", "can't", "neither", "nor", "without", "hardly", "won't", "don't", "didn't", "doesn't", "isn't", "wasn't", "aren't"})
#: How many tokens before a cue a negator may stand.
NEGATION_WINDOW = 3


@dataclass(frozen=True)
class CueMatch:
    """A cue found in a text: character offsets, the label it signals, and why."""

    start: int
    end: int
    cue: Cue
    label: str
    negated: bool


def find_cues(text: str, start: int = 0, end: Optional[int] = None) -> List[CueMatch]:
    """Return the non-overlapping cue matches in ``text[start:end]`` (one sentence, so
    that ``^`` anchors at its start), with offsets into ``text``.

    Overlaps go to the longest, strongest cue; negation is looked up by
    :func:`is_negated` on the words just before the match.
    """
    sentence = text[start:end]
    candidates = []
    for cue in CUES:
        for m in cue.pattern.finditer(sentence):
            s, e = m.start() + start, m.end() + start
            # trim surrounding whitespace so offsets cover only the cue words
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                candidates.append((s, e, cue))
    candidates.sort(key=lambda c: (-(c[1] - c[0]) * c[2].weight, c[0]))
    taken: List[Tuple[int, int]] = []
    out: List[CueMatch] = []
    for s, e, cue in candidates:
        if any(s < te and ts < e for ts, te in taken):
            continue
        taken.append((s, e))
        # a negatable cue is negated by a negator just before it or inside it ("I cannot confirm")
        negated = cue.negated is not None and (is_negated(text, s) or _has_negator(text[s:e]))
        label = cue.negated if negated else cue.label
        out.append(CueMatch(s, e, cue, label, negated))  # type: ignore[arg-type]
    out.sort(key=lambda m: m.start)
    return out


_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?|n't|[.;:!?]")
_CLAUSE_BREAK = frozenset({".", ";", ":", "!", "?", "but", "however", "although", "though"})


def _has_negator(span: str) -> bool:
    return any(w.lower() in NEGATORS or w.lower().endswith("n't") for w in _WORD.findall(span))


def is_negated(text: str, start: int) -> bool:
    """True when a negator stands within :data:`NEGATION_WINDOW` words before ``start``
    in the same clause ("we do *not* oppose", "I can't confirm")."""
    window = text[max(0, start - 60):start]
    words = [w.lower() for w in _WORD.findall(window)]
    tail: List[str] = []
    for w in reversed(words):
        if w in _CLAUSE_BREAK:
            break
        tail.append(w)
        if len(tail) >= NEGATION_WINDOW:
            break
    return any(w in NEGATORS or w.endswith("n't") for w in tail)
