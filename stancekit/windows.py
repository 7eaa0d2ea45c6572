"""Sentence windows: long answers are split, never silently cut, and verdicts put back together.

A transformer reads ``[CLS] question [SEP] answer-window [SEP]`` with at most
``max_length`` tokens. The question keeps its last ``max_question_tokens``
tokens (where the actual ask usually is). The answer is tokenised once with
character offsets; tokens inside transcript noise are dropped; whole sentences
(from the spaCy Doc) are packed greedily into windows, and a sentence longer
than a window is cut at token boundaries into several windows. Every answer
token lands in exactly one window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np


@dataclass(frozen=True)
class WindowPolicy:
    max_length: int = 256
    max_question_tokens: int = 64

    def to_dict(self) -> dict:
        return {"max_length": self.max_length, "max_question_tokens": self.max_question_tokens,
                "split": "sentences", "aggregate": "mean-logits"}

    @classmethod
    def from_dict(cls, window: Optional[dict]) -> "WindowPolicy":
        """The policy a model config's ``window`` records (defaults where it is silent)."""
        window = window or {}
        return cls(int(window.get("max_length", cls.max_length)),
                   int(window.get("max_question_tokens", cls.max_question_tokens)))


@dataclass
class Window:
    """Token ids of one model input, and which answer it belongs to."""

    answer_index: int
    input_ids: List[int]
    token_type_ids: List[int]
    char_start: int
    char_end: int


class WindowBuilder:
    """Turns (question, Doc) pairs into :class:`Window` lists with a ``tokenizers.Tokenizer``."""

    def __init__(self, tokenizer, policy: WindowPolicy = WindowPolicy()):
        self.tokenizer = tokenizer
        self.policy = policy
        self.cls_id = tokenizer.token_to_id("[CLS]")
        self.sep_id = tokenizer.token_to_id("[SEP]")
        if self.cls_id is None or self.sep_id is None:
            raise ValueError("tokenizer has no [CLS]/[SEP] tokens (a BERT-style vocabulary is required)")

    def build(self, docs: Sequence, questions: Optional[Sequence[Optional[str]]] = None) -> List[Window]:
        from .preprocess import doc_text, model_text

        questions = list(questions) if questions is not None else [None] * len(docs)
        q_texts = [model_text(q) if q else "" for q in questions]
        q_enc = self.tokenizer.encode_batch(q_texts, add_special_tokens=False)
        a_enc = self.tokenizer.encode_batch([doc_text(doc) for doc in docs], add_special_tokens=False)
        windows: List[Window] = []
        for i, (doc, qe, ae) in enumerate(zip(docs, q_enc, a_enc)):
            q_ids = qe.ids[-self.policy.max_question_tokens:] if qe.ids else []
            budget = self.policy.max_length - len(q_ids) - (3 if q_ids else 2)
            noise = doc._.noise or []
            tokens = [(tid, s, e) for tid, (s, e) in zip(ae.ids, ae.offsets)
                      if not any(ns <= s < ne for ns, ne in noise)]
            for chunk in _pack(tokens, _sentence_bounds(doc), budget):
                ids, types = [self.cls_id], [0]
                if q_ids:
                    ids += q_ids + [self.sep_id]
                    types += [0] * (len(q_ids) + 1)
                ids += [t for t, _, _ in chunk] + [self.sep_id]
                types += [1 if q_ids else 0] * (len(chunk) + 1)
                windows.append(Window(i, ids, types, chunk[0][1] if chunk else 0, chunk[-1][2] if chunk else 0))
        return windows


def _sentence_bounds(doc) -> List[int]:
    """Character offsets where sentences start."""
    from .preprocess import sentence_spans

    return [start for start, _ in sentence_spans(doc)]


def _pack(tokens: List[Tuple[int, int, int]], sentence_starts: List[int], budget: int):
    """Group tokens into windows of at most ``budget`` tokens at sentence boundaries."""
    if not tokens:
        yield []
        return
    sentences: List[List[Tuple[int, int, int]]] = []
    starts = sorted(set(sentence_starts))
    si = 0
    for tok in tokens:
        while si + 1 < len(starts) and tok[1] >= starts[si + 1]:
            si += 1
            sentences.append([])
        if not sentences:
            sentences.append([])
        sentences[-1].append(tok)
    current: List[Tuple[int, int, int]] = []
    for sent in (s for s in sentences if s):
        if len(sent) > budget:  # an over-long sentence: flush, then cut it into full windows
            if current:
                yield current
                current = []
            pieces = [sent[k:k + budget] for k in range(0, len(sent), budget)]
            yield from pieces[:-1]
            current = pieces[-1]  # the tail may share a window with the next sentence
            continue
        if len(current) + len(sent) > budget:
            yield current
            current = []
        current = current + sent
    if current:
        yield current


def pad_batch(windows: Sequence[Window], pad_id: int = 0, width: Optional[int] = None):
    """Stack windows into ``input_ids``, ``attention_mask``, ``token_type_ids`` int64 arrays
    (padded to the longest window, or to ``width``)."""
    width = width or max(len(w.input_ids) for w in windows)
    n = len(windows)
    ids = np.full((n, width), pad_id, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    for r, w in enumerate(windows):
        k = len(w.input_ids)
        ids[r, :k] = w.input_ids
        mask[r, :k] = 1
        types[r, :k] = w.token_type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def aggregate(window_logits: np.ndarray, answer_index: Sequence[int], n_answers: int) -> np.ndarray:
    """Answer logits = mean of its windows' logits (each answer has at least one window)."""
    out = np.zeros((n_answers, window_logits.shape[1]), dtype=np.float64)
    counts = np.zeros(n_answers)
    np.add.at(out, np.asarray(answer_index), window_logits)
    np.add.at(counts, np.asarray(answer_index), 1)
    return out / np.maximum(counts, 1)[:, None]
