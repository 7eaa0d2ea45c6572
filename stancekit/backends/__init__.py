"""Scoring backends: one interface, ``predict_proba(docs, questions) -> (n, 3)`` in LABELS order."""
