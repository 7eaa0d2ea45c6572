"""TF-IDF + logistic regression: the scikit-learn baseline, as a real estimator.

:class:`TfidfStanceClassifier` follows the scikit-learn API (``fit`` returns
``self``, learned attributes end in ``_``), so it drops into a ``Pipeline`` or
``GridSearchCV``. ``X`` is a sequence of answers, of ``(question, answer)``
pairs, or of dicts with ``answer``/``text`` and ``question``. The answer gives
word (1–2) and char_wb (2–5) n-grams; the question gets its own word n-grams,
so the model can read the answer against what was asked.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..labels import LABELS
from ..preprocess import doc_text, model_text


def as_pairs(X) -> list:
    """Normalise estimator input to a list of ``(question, answer)`` strings (cleaned)."""
    pairs = []
    for item in X:
        if isinstance(item, str):
            q, a = "", item
        elif isinstance(item, dict):
            q = item.get("question") or ""
            a = item.get("answer", item.get("text"))
        else:
            q, a = item
            q = q or ""
        if not isinstance(a, str) or not isinstance(q, str):
            raise TypeError(f"expected text, got {type(a).__name__}")
        pairs.append((model_text(q), model_text(a)))
    return pairs


def _answers(pairs):
    return [a for _, a in pairs]


#: Stands for a missing question, so "no question asked" is a feature and the block is never empty.
NO_QUESTION = "noquestion"


def _questions(pairs):
    return [q or NO_QUESTION for q, _ in pairs]


class TfidfStanceClassifier(ClassifierMixin, BaseEstimator):
    """TF-IDF features of answer and question + logistic regression.

    Parameters
    ----------
    C : float or "cv"
        Inverse regularisation strength; ``"cv"`` picks it from ``Cs`` by grouped
        cross-validation on the training data (macro-F1), so the baseline is tuned.
    Cs : sequence of float
        Candidates for ``C="cv"``.
    use_question : bool
        Add word n-grams of the question as a separate feature block.
    class_weight : "balanced" or None
    cv : int
        Folds for ``C="cv"``.
    random_state : int
    """

    def __init__(self, C="cv", Cs=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0), use_question=True,
                 class_weight="balanced", cv=5, random_state=0):
        self.C = C
        self.Cs = Cs
        self.use_question = use_question
        self.class_weight = class_weight
        self.cv = cv
        self.random_state = random_state

    def _pipeline(self, C: float):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.preprocessing import FunctionTransformer

        def block(select, vectorizer):
            return Pipeline([("select", FunctionTransformer(select)), ("tfidf", vectorizer)])

        blocks = [
            ("answer_words", block(_answers, TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True))),
            ("answer_chars", block(_answers, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                                             sublinear_tf=True, max_features=200_000))),
        ]
        if self.use_question:
            blocks.append(("question_words", block(_questions, TfidfVectorizer(ngram_range=(1, 2), min_df=2,
                                                                               sublinear_tf=True))))
        return Pipeline([
            ("features", FeatureUnion(blocks)),
            ("clf", LogisticRegression(C=C, class_weight=self.class_weight, max_iter=2000,
                                       random_state=self.random_state)),
        ])

    def fit(self, X, y, groups: Optional[Sequence] = None):
        """Fit on ``X`` and labels ``y``; ``groups`` (e.g. source page) keeps CV folds honest."""
        pairs = as_pairs(X)
        y = np.asarray(y)
        unknown = set(y) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown labels {sorted(unknown)}; expected {LABELS}")
        if self.C == "cv":
            self.C_, self.cv_scores_ = self._select_C(pairs, y, groups)
        else:
            self.C_, self.cv_scores_ = float(self.C), {}
        self.pipeline_ = self._pipeline(self.C_).fit(pairs, y)
        self.classes_ = self.pipeline_.classes_
        return self

    def _select_C(self, pairs, y, groups):
        from sklearn.metrics import f1_score
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        if groups is not None:
            splitter = StratifiedGroupKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            folds = list(splitter.split(pairs, y, groups))
        else:
            splitter = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            folds = list(splitter.split(pairs, y))
        scores = {}
        for C in self.Cs:
            fold_scores = []
            for tr, te in folds:
                model = self._pipeline(C).fit([pairs[i] for i in tr], y[tr])
                pred = model.predict([pairs[i] for i in te])
                fold_scores.append(f1_score(y[te], pred, average="macro"))
            scores[float(C)] = float(np.mean(fold_scores))
        best = max(scores, key=scores.get)
        return best, scores

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(as_pairs(X))

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class TfidfBackend:
    """Adapts a fitted :class:`TfidfStanceClassifier` to the backend interface."""

    name = "tfidf"

    def __init__(self, estimator: TfidfStanceClassifier):
        self.estimator = estimator
        classes = list(estimator.classes_)
        # column of each label in predict_proba's output (-1: label never seen in training)
        self._columns = [classes.index(label) if label in classes else -1 for label in LABELS]

    def predict_proba(self, docs, questions=None, batch_size: int = 64) -> np.ndarray:
        questions = questions or [None] * len(docs)
        X = [(q or "", doc_text(doc)) for q, doc in zip(questions, docs)]
        proba = self.estimator.predict_proba(X)
        out = np.zeros((len(X), len(LABELS)))
        for j, col in enumerate(self._columns):
            if col >= 0:
                out[:, j] = proba[:, col]
        return out
