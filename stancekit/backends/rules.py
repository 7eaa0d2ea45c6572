"""Cue-rules backend: a transparent scorer over the cue spans on each ``Doc``.

Needs no model files. Each cue adds its weight to its label; cues in the first
two sentences (where spokespeople usually answer the question before the
boilerplate) count more. Scores are a softmax over the totals with a prior
towards ``hedge``, the label of answers that commit to nothing.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..labels import LABELS

_INDEX = {label: i for i, label in enumerate(LABELS)}
#: Logit prior: without any cue an answer most likely commits to nothing.
PRIOR = np.array([0.0, 0.0, 1.0])
#: Cues in the opening sentences count this much more.
OPENING_BOOST = 1.5
#: Softmax temperature applied to the cue totals.
TEMPERATURE = 1.5


class RulesBackend:
    name = "rules"

    def predict_proba(self, docs: Sequence, questions: Optional[Sequence[Optional[str]]] = None,
                      batch_size: int = 64) -> np.ndarray:
        out = np.empty((len(docs), len(LABELS)))
        for row, doc in enumerate(docs):
            totals = PRIOR.copy()
            opening_end = _opening_end(doc)
            for m in doc._.cues or ():
                boost = OPENING_BOOST if m.start < opening_end else 1.0
                totals[_INDEX[m.label]] += m.cue.weight * boost
            z = totals / TEMPERATURE
            z = np.exp(z - z.max())
            out[row] = z / z.sum()
        return out


def _opening_end(doc) -> int:
    """Character offset where the answer's second sentence ends."""
    from ..preprocess import sentence_spans

    spans = sentence_spans(doc)
    return spans[min(1, len(spans) - 1)][1]
