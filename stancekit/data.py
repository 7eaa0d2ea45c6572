"""Labelled data: the project's own corpus, the real briefings beside the repo, filters.

Rows are dicts with ``answer`` (or ``text``), optional ``question``, ``label`` and
any other fields (``split``, ``ministry``, ``source``…). Every problem is a
:class:`DataError` naming file and line.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

from .labels import LABELS

REPO_ROOT = Path(__file__).resolve().parent.parent
CHINA = "China MFA"


class DataError(ValueError):
    """A labelled data file cannot be used; the message names file and line."""


def written_corpus_files() -> List[Path]:
    """The project's own labelled examples in a checkout: ``corpora/written/*.jsonl`` (v1, what the
    shipped models learn from) and ``corpora/written-v2/*.jsonl`` (kept apart: training on it lowered
    dev macro-F1, see ``corpora/README.md``)."""
    corpora = REPO_ROOT / "corpora"
    return sorted(corpora.glob("written/*.jsonl")) + sorted(corpora.glob("written-v2/*.jsonl"))


def shared_corpus_file() -> Optional[Path]:
    """``../shared/corpora/briefings_real.jsonl`` (or ``$STANCEKIT_SHARED``/corpora/…), if present."""
    base = Path(os.environ.get("STANCEKIT_SHARED", REPO_ROOT.parent / "shared"))
    path = base / "corpora" / "briefings_real.jsonl"
    return path if path.is_file() else None


def parse_where(clauses: Sequence[str]) -> Dict[str, str]:
    """``["split=dev", "ministry=China MFA"]`` → ``{"split": "dev", ...}``."""
    out = {}
    for clause in clauses or ():
        field, sep, value = clause.partition("=")
        if not sep or not field.strip():
            raise ValueError(f"--where expects FIELD=VALUE, got {clause!r}")
        out[field.strip()] = value.strip()
    return out


def field_value(row: dict, field: str) -> Optional[str]:
    """A row's field as text; ``group`` is derived (China MFA / other) when the row lacks it."""
    if field == "group" and "group" not in row:
        return group_of(row)
    value = row.get(field)
    return None if value is None else str(value)


def group_of(row: dict) -> str:
    """The reporting groups of the real data: China MFA, and every other government."""
    return CHINA if row.get("ministry") == CHINA else "other"


def source_of(row: dict) -> str:
    """The source document of a row, for splits that keep a page on one side."""
    return str(row.get("source") or row.get("url") or row.get("id"))


def matches(row: dict, where: Dict[str, str]) -> bool:
    return all(field_value(row, k) == v for k, v in where.items())


def read_labelled(path: Path, where: Optional[Dict[str, str]] = None, require_label: bool = True) -> List[dict]:
    """Read a labelled JSONL file, keeping rows that match ``where``.

    Raises :class:`DataError` on an unreadable file, a malformed line, a row
    without text or a label outside the three.
    """
    path = Path(path)
    rows = []
    try:
        fh = open(path, encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"{path}: cannot open ({exc.strerror or exc})") from None
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise DataError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
                if not isinstance(row, dict):
                    raise DataError(f"{path}:{n}: expected a JSON object")
                text = row.get("answer", row.get("text"))
                if not isinstance(text, str) or not text.strip():
                    raise DataError(f"{path}:{n}: no text (expected a non-empty 'answer' or 'text' field)")
                if require_label and row.get("label") not in LABELS:
                    raise DataError(f"{path}:{n}: label {row.get('label')!r} is not one of {', '.join(LABELS)}")
                if where and not matches(row, where):
                    continue
                row["_line"] = n
                rows.append(row)
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return rows


def read_many(paths: Iterable[Path], where: Optional[Dict[str, str]] = None) -> List[dict]:
    rows = []
    for path in paths:
        for row in read_labelled(path, where):
            row["_file"] = str(path)
            rows.append(row)
    return rows


def texts_of(rows: Sequence[dict]):
    """``(answers, questions, labels)`` lists from labelled rows."""
    answers = [r.get("answer", r.get("text")) for r in rows]
    questions = [r.get("question") or None for r in rows]
    labels = [r.get("label") for r in rows]
    return answers, questions, labels
