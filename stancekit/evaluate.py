"""Metrics: accuracy, macro-F1, per-label P/R/F1, confusion matrix, per-group figures."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from .labels import LABELS


def scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict:
    """The figures ``stancekit eval --json`` prints, for one set of rows."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    y_true, y_pred = list(y_true), list(y_pred)
    n = len(y_true)
    if n == 0:
        return {"n": 0, "accuracy": None, "macro_f1": None, "per_label": {}, "confusion": []}
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(LABELS), zero_division=0)
    present = [i for i, label in enumerate(LABELS) if label in set(y_true) | set(y_pred)]
    return {
        "n": n,
        "accuracy": float(np.mean([a == b for a, b in zip(y_true, y_pred)])),
        "macro_f1": float(np.mean([f[i] for i in present])),
        "per_label": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, label in enumerate(LABELS)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=list(LABELS)).tolist(),
    }


def grouped_scores(y_true: Sequence[str], y_pred: Sequence[str], groups: Optional[Sequence[str]] = None) -> dict:
    """:func:`scores` overall, plus ``groups`` (one entry per distinct group value) when given."""
    out = scores(y_true, y_pred)
    if groups is not None:
        by: Dict[str, List[int]] = {}
        for i, g in enumerate(groups):
            by.setdefault(str(g), []).append(i)
        out["groups"] = {
            g: scores([y_true[i] for i in idx], [y_pred[i] for i in idx]) for g, idx in sorted(by.items())
        }
    return out


def format_report(result: dict, title: str = "") -> str:
    """Human-readable table of :func:`grouped_scores` output."""
    lines = []
    if title:
        lines.append(title)

    def block(name: str, m: dict):
        if not m["n"]:
            lines.append(f"{name}: no rows")
            return
        lines.append(f"{name}: n={m['n']}  accuracy={m['accuracy']:.3f}  macro-F1={m['macro_f1']:.3f}")
        lines.append(f"  {'label':<8} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>7}")
        for label in LABELS:
            pl = m["per_label"][label]
            lines.append(f"  {label:<8} {pl['precision']:6.3f} {pl['recall']:6.3f} {pl['f1']:6.3f} {pl['support']:7d}")
        lines.append("  confusion (rows = true, columns = predicted: " + " ".join(LABELS) + ")")
        for label, row in zip(LABELS, m["confusion"]):
            lines.append(f"  {label:<8} " + " ".join(f"{v:6d}" for v in row))

    block("all", result)
    for g, m in (result.get("groups") or {}).items():
        lines.append("")
        block(g, m)
    return "\n".join(lines)
