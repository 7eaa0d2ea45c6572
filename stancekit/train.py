"""Training: fit a backend on labelled files and write a model folder with provenance."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Dict, Optional, Sequence

from .data import read_labelled, source_of
from .labels import LABELS
from .modelio import config_header, library_versions, sha256_file, write_config, write_manifest, write_model_card


def training_record(files: Sequence[Path], where: Dict[str, str], rows_per_file: Dict[str, int], seed: int) -> dict:
    return {
        "files": [
            {"path": _display_path(f), "sha256": sha256_file(f), "rows": rows_per_file[str(f)]} for f in files
        ],
        "where": " ".join(f"{k}={v}" for k, v in where.items()),
        "seed": seed,
    }


def _display_path(path: Path) -> str:
    """Repository-relative where possible, so configs do not leak local paths."""
    from .data import REPO_ROOT

    resolved = Path(path).resolve()
    for base, prefix in ((REPO_ROOT, ""), (REPO_ROOT.parent, "../")):
        try:
            return prefix + resolved.relative_to(base).as_posix()
        except ValueError:
            continue
    return Path(path).name


def load_training_rows(files: Sequence[Path], where: Optional[Dict[str, str]] = None):
    rows, per_file = [], {}
    for f in files:
        part = read_labelled(f, where)
        for r in part:
            r["_file"] = str(f)
        per_file[str(f)] = len(part)
        rows.extend(part)
    if not rows:
        raise ValueError("no training rows matched")
    missing = set(LABELS) - {r["label"] for r in rows}
    if missing:
        raise ValueError(f"training rows have no examples of {sorted(missing)}")
    return rows, per_file


def train_tfidf(files: Sequence[Path], out_dir: Path, *, where: Optional[Dict[str, str]] = None,
                name: Optional[str] = None, version: str = "0.1.0", seed: int = 0,
                C="cv") -> Path:
    """Fit :class:`~stancekit.backends.tfidf.TfidfStanceClassifier` and save it as a model folder."""
    import joblib

    from .backends.tfidf import TfidfStanceClassifier

    where = where or {}
    rows, per_file = load_training_rows(files, where)
    X = [(r.get("question") or "", r.get("answer", r.get("text"))) for r in rows]
    y = [r["label"] for r in rows]
    est = TfidfStanceClassifier(C=C, random_state=seed).fit(X, y, groups=[source_of(r) for r in rows])
    out_dir = Path(out_dir)
    config = {
        **config_header(name or out_dir.name, version, "tfidf"),
        "params": {**{k: (list(v) if isinstance(v, tuple) else v) for k, v in est.get_params().items()},
                   "C_selected": est.C_, "cv_macro_f1": est.cv_scores_},
        "training": training_record(files, where, per_file, seed),
        "files": {"estimator": "model.joblib"},
        "metrics": {},
        "library_versions": library_versions("stancekit", "scikit-learn", "spacy", "joblib", "numpy"),
    }
    return _write_folder(out_dir, config, lambda d: joblib.dump(est, d / "model.joblib", compress=3))


def _write_folder(out_dir: Path, config: dict, write_weights) -> Path:
    """Write weights, config, card and manifest to a temporary folder, then move it into place."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out_dir.parent))
    try:
        write_weights(tmp)
        write_config(tmp, config)
        write_model_card(tmp, config)
        write_manifest(tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def record_metrics(model_dir: Path, split_name: str, metrics: dict) -> None:
    """Store evaluation figures in a model's config and regenerate its card and manifest."""
    from .modelio import read_config

    model_dir = Path(model_dir)
    config = read_config(model_dir)
    config.setdefault("metrics", {})[split_name] = metrics
    write_config(model_dir, config)
    write_model_card(model_dir, config)
    write_manifest(model_dir)
