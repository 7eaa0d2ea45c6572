"""spaCy preprocessing: transcript-noise normalisation, sentences and cue spans.

The pipeline is ``spacy.blank("en")`` + ``sentencizer`` + ``stancekit_cues``, so it
runs offline. Docs are built on the caller's text unchanged, so every span offset
points into the text exactly as it was passed; normalisation only *marks* noise
(speaker prefixes such as ``A:``, ``Lin Jian:``, ``MR. PRICE:``, stage notes such as
``(Laughter.)``) and :func:`model_text` produces the cleaned string models read.

Components (registered through the ``spacy_factories`` entry point too):

* ``stancekit_cues`` – sets ``doc._.cues`` (list of :class:`~stancekit.cues.CueMatch`),
  ``doc.spans["stancekit_cues"]`` and ``doc._.noise`` (character ranges to ignore).
* ``stancekit`` – the cues plus a verdict on ``doc._.stance`` (a :class:`~stancekit.labels.Stance`),
  from the rules backend or from a model named in its config.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc

from .cues import CueMatch, find_cues

SPAN_KEY = "stancekit_cues"
_TEXT_KEY = "stancekit_text"

# "A:", "Q:", "Lin Jian:", "MR. PRICE:", "Spokesperson Mao Ning:", "MS. JEAN-PIERRE:"
_SPEAKER = re.compile(
    r"^\s*(?:(?:MR|MS|MRS|DR|Mr|Ms|Mrs|Dr)\.?\s+[A-Z][\w'\-]*(?:\s+[A-Z][\w'\-]*)?"
    r"|[A-Z][\w'\-]*(?:\s+[A-Z][\w'\-]*){0,3})\s*:\s+"
)
# (Laughter.)  [Inaudible]  (Crosstalk)  [break in audio]
_STAGE_NOTE = re.compile(
    r"[\(\[]\s*(?:laughter|laughs|inaudible|crosstalk|cross-talk|applause|off-mic|off mic|"
    r"break in audio|audio (?:cut|break)|unintelligible|sic|interpretation)[^\)\]]{0,40}[\)\]]",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def noise_spans(text: str) -> List[Tuple[int, int]]:
    """Character ranges of transcript noise: a leading speaker prefix and stage notes."""
    spans = []
    m = _SPEAKER.match(text)
    if m and len(m.group(0).split()) <= 5:
        spans.append((m.start(), m.end()))
    spans.extend((m.start(), m.end()) for m in _STAGE_NOTE.finditer(text))
    return spans


def model_text(text: str) -> str:
    """The text a model reads: noise removed, whitespace collapsed."""
    spans = noise_spans(text)
    if spans:
        parts, last = [], 0
        for s, e in sorted(spans):
            parts.append(text[last:s])
            last = max(last, e)
        parts.append(text[last:])
        text = " ".join(parts)
    return _SPACES.sub(" ", text).strip()


def _set_extensions() -> None:
    for name, default in (("cues", None), ("noise", None), ("stance", None)):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once: spaCy rebuilds it from the tokens on every access."""
    text = doc.user_data.get(_TEXT_KEY)
    if text is None:
        text = doc.user_data[_TEXT_KEY] = doc.text
    return text


def sentence_spans(doc: Doc) -> List[Tuple[int, int]]:
    """``(start_char, end_char)`` of each sentence, read from token arrays: iterating ``doc.sents``
    builds a Python object per token, which cost more than the sentencizer itself."""
    if len(doc) == 0 or not doc.has_annotation("SENT_START"):
        return [(0, len(doc_text(doc)))]
    from spacy.attrs import IDX, LENGTH, SENT_START

    arr = doc.to_array([SENT_START, IDX, LENGTH])
    starts = [0] + [int(i) for i in (arr[1:, 0] == 1).nonzero()[0] + 1]
    ends = starts[1:] + [len(doc)]
    return [(int(arr[a, 1]), int(arr[b - 1, 1] + arr[b - 1, 2])) for a, b in zip(starts, ends)]


def mark_cues(doc: Doc) -> Doc:
    """Find cue phrases sentence by sentence, skipping noise; store them on ``doc``."""
    text = doc_text(doc)
    noise = noise_spans(text)
    bounds = sentence_spans(doc)
    matches: List[CueMatch] = []
    for start, end in bounds:
        # a sentence that opens with a speaker prefix starts after it, so "A: Yes." anchors
        for ns, ne in noise:
            if ns <= start < ne:
                start = ne
        for m in find_cues(text, start, end):
            if not any(ns <= m.start < ne for ns, ne in noise):
                matches.append(m)
    doc._.cues = matches
    doc._.noise = noise
    doc.spans[SPAN_KEY] = [
        span
        for span in (doc.char_span(m.start, m.end, label=m.label, alignment_mode="expand") for m in matches)
        if span is not None
    ]
    return doc


class CueMarker:
    """The ``stancekit_cues`` pipeline component."""

    def __init__(self, nlp: Language, name: str):
        _set_extensions()
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        return mark_cues(doc)


class StanceComponent:
    """The ``stancekit`` pipeline component: cues plus a verdict on ``doc._.stance``.

    ``model`` names a model for :func:`stancekit.load`; ``None`` uses the cue rules,
    which need no model files.
    """

    def __init__(self, nlp: Language, name: str, model: Optional[str] = None):
        _set_extensions()
        self.name = name
        self.model = model
        self._classifier = None

    def _get_classifier(self):
        if self._classifier is None:
            from .api import load

            self._classifier = load(self.model) if self.model else load("rules")
        return self._classifier

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64):
        clf = self._get_classifier()
        batch: List[Doc] = []
        for doc in docs:
            if doc._.cues is None:
                mark_cues(doc)
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._label(clf, batch)
                batch = []
        if batch:
            yield from self._label(clf, batch)

    @staticmethod
    def _label(clf, docs: List[Doc]):
        for doc, stance in zip(docs, clf.classify_docs(docs)):
            doc._.stance = stance
            yield doc


@Language.factory("stancekit_cues")
def make_cue_marker(nlp: Language, name: str) -> CueMarker:
    return CueMarker(nlp, name)


@Language.factory("stancekit", default_config={"model": None})
def make_stance_component(nlp: Language, name: str, model: Optional[str]) -> StanceComponent:
    return StanceComponent(nlp, name, model)


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The shared preprocessing pipeline (built once per process)."""
    import spacy

    _set_extensions()
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("stancekit_cues")
    return nlp
