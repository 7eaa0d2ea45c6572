"""Output rows → ``table`` (for people), ``jsonl`` and ``csv`` (for programs).

Every output row has ``id``, ``label``, ``scores``, ``evidence``, ``model``,
``error`` (and ``lang``); in CSV the nested fields are JSON-encoded.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from typing import IO, Optional

from .labels import Stance

FORMATS = ("table", "jsonl", "csv")
COLUMNS = ("id", "label", "scores", "evidence", "model", "error", "lang")


def output_row(row_id: str, stance: Stance, model: dict) -> dict:
    return {
        "id": row_id,
        "label": stance.label,
        "scores": stance.scores,
        "evidence": [asdict(e) for e in stance.evidence],
        "model": model,
        "error": stance.error,
        "lang": stance.lang,
    }


class Writer:
    """Streams output rows to ``stream`` in one of :data:`FORMATS`."""

    def __init__(self, stream: IO[str], fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r} (expected one of {', '.join(FORMATS)})")
        self.stream, self.fmt = stream, fmt
        self._csv: Optional[csv.DictWriter] = None
        self._table_header = False

    def write(self, row: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            if self._csv is None:
                self._csv = csv.DictWriter(self.stream, fieldnames=COLUMNS, lineterminator="\n")
                self._csv.writeheader()
            self._csv.writerow({
                k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v)
                for k, v in row.items() if k in COLUMNS
            })
        else:
            self._write_table_row(row)

    def _write_table_row(self, row: dict) -> None:
        if not self._table_header:
            self.stream.write(f"{'id':<10} {'label':<8} {'score':>5}  evidence / error\n")
            self._table_header = True
        if row["error"]:
            detail, label, score = "ERROR: " + row["error"], "-", "-"
        else:
            label = row["label"]
            score = f"{row['scores'][label]:.2f}"
            detail = "; ".join(f"\"{e['text']}\"" for e in row["evidence"][:3])
        rid = str(row["id"])
        rid = rid if len(rid) <= 10 else rid[:9] + "…"
        self.stream.write(f"{rid:<10} {label:<8} {score:>5}  {detail}\n")

    def flush(self) -> None:
        self.stream.flush()


__all__ = ["Writer", "output_row", "FORMATS", "COLUMNS"]
