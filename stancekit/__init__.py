"""stancekit: tag what governments say to the press as confirm, deny or hedge.

>>> import stancekit
>>> clf = stancekit.load()                      # the best model shipped with the package
>>> clf.classify("This is sheer fabrication.").label
'deny'
"""
from __future__ import annotations

__version__ = "0.1.0"

from .labels import LABELS, Evidence, Stance  # noqa: E402  (light: no heavy imports)

__all__ = ["__version__", "LABELS", "Evidence", "Stance", "StanceClassifier", "TfidfStanceClassifier", "load"]


def __getattr__(name):
    # Lazy: importing stancekit stays cheap; spaCy/sklearn load on first use.
    if name in ("load", "StanceClassifier"):
        from . import api

        return getattr(api, name)
    if name == "TfidfStanceClassifier":
        from .backends.tfidf import TfidfStanceClassifier

        return TfidfStanceClassifier
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")
