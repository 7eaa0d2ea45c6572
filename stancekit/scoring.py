"""Batch scoring of briefing transcripts: one output row per answer, resumable, atomic.

``score(paths, out)`` walks files and folders, parses each transcript
(:mod:`stancekit.transcripts`), classifies every answer against its question and
writes Parquet, CSV or JSONL (by the output's extension).

Crash safety: rows go first to ``OUT.partial.jsonl`` (flushed and fsynced per
batch) and a checkpoint ``OUT.progress.json`` (replaced atomically) records how
many answers of which files are done and the byte length of the partial file
at that point. ``resume=True`` truncates the partial file to that length and
carries on after the last checkpoint, so a run killed at any moment and resumed
gives the same rows as an uninterrupted one, with no duplicates or gaps. The
checkpoint also records a digest of the inputs (files, model, ministry): a resume
with other inputs is refused rather than mixing two runs' rows. The final file
appears by atomic rename only when everything is done.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Sequence

OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
INPUT_SUFFIXES = {".txt", ".text", ".html", ".htm", ".md", ""}
COLUMNS = ("source", "turn", "date", "ministry", "spokesperson", "question", "answer", "label", "scores",
           "evidence", "model", "error")


class ScoringError(Exception):
    """The job cannot run at all (bad output path, no inputs): exit code 2."""


@dataclass
class Summary:
    files: int = 0
    files_failed: int = 0
    answers: int = 0
    answers_failed: int = 0
    rows: int = 0
    failed_files: List[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.files} files ({self.files_failed} unreadable), {self.answers} answers "
                f"({self.answers_failed} not classified), {self.rows} rows written")


def output_format(out: Path) -> str:
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ScoringError(f"{out}: unknown output format (use .jsonl, .csv or .parquet)")
    return fmt


def discover(paths: Sequence[str]) -> List[str]:
    """Files from paths, folders (recursive) and glob patterns, sorted and de-duplicated; ``-`` is stdin."""
    found: List[str] = []
    for p in paths:
        if p == "-":
            found.append("-")
            continue
        matches = sorted(glob.glob(p, recursive=True)) if any(c in p for c in "*?[") else [p]
        if not matches:
            raise ScoringError(f"{p}: no file matches")
        for m in matches:
            path = Path(m)
            if path.is_dir():
                # hidden files and anything under a hidden folder (.git/, .ipynb_checkpoints/) are skipped
                found.extend(str(f) for f in sorted(path.rglob("*"))
                             if f.is_file() and f.suffix.lower() in INPUT_SUFFIXES
                             and not any(part.startswith(".") for part in f.relative_to(path).parts))
            elif path.exists() or path.is_symlink():
                found.append(str(path))
            else:
                raise ScoringError(f"{p}: no such file or folder")
    seen, unique = set(), []
    for f in found:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def exchanges_of(path: str, ministry: Optional[str] = None) -> List[dict]:
    """The answers of one transcript as row stubs (everything but the verdict)."""
    from .transcripts import parse_html, parse_transcript, read_transcript

    if path == "-":
        raw = sys.stdin.buffer.read().decode("utf-8-sig")
        t = parse_html(raw, ministry=ministry) if raw.lstrip().startswith("<") else parse_transcript(raw, ministry=ministry)
    else:
        t = read_transcript(path)
        if ministry:
            t.ministry = ministry
    return [{
        "source": path, "turn": ex.turn, "date": t.date, "ministry": t.ministry,
        "spokesperson": ex.speaker or t.spokesperson, "question": ex.question, "answer": ex.answer,
    } for ex in t.exchanges]


def classify_rows(clf, rows: List[dict], batch_size: int = 64) -> List[dict]:
    """Fill ``label``, ``scores``, ``evidence``, ``model``, ``error`` of row stubs (same order)."""
    from dataclasses import asdict

    stances = clf.classify_many([r["answer"] for r in rows], [r["question"] for r in rows], batch_size=batch_size)
    for r, s in zip(rows, stances):
        r.update(label=s.label, scores=s.scores, evidence=[asdict(e) for e in s.evidence],
                 model=clf.model_info, error=s.error)
    return rows


class _Journal:
    """The partial-output file and its checkpoint."""

    def __init__(self, out: Path):
        self.partial = out.with_name(out.name + ".partial.jsonl")
        self.progress = out.with_name(out.name + ".progress.json")

    def load(self) -> dict:
        try:
            state = json.loads(self.progress.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"done": {}, "bytes": 0}
        if not (isinstance(state, dict) and isinstance(state.get("done"), dict)
                and isinstance(state.get("bytes"), int) and state["bytes"] >= 0):
            return {"done": {}, "bytes": 0}  # not a checkpoint of ours: start again
        return state

    def open(self, resume: bool, inputs: str):
        """Open the partial file at the last checkpoint (``resume``) or empty.

        ``inputs`` (a digest of the files, model and ministry) is recorded in the checkpoint;
        resuming a journal written for other inputs would mix or duplicate rows, so it is refused.
        """
        state = self.load() if resume and self.partial.exists() else None
        if state is not None and state.get("inputs") not in (None, inputs):
            raise ScoringError(f"{self.progress}: the interrupted run scored other inputs (files, --model or "
                               "--ministry differ); rerun without --resume to start again")
        if state is None or state.get("bytes", 0) > self.partial.stat().st_size:
            # a fresh run: a checkpoint left by an earlier run must not survive into this one
            # (a resume after a kill before this run's first checkpoint would trust it)
            self.progress.unlink(missing_ok=True)
            state = {"done": {}, "bytes": 0}
        state["inputs"] = inputs
        fh = open(self.partial, "r+b" if state["bytes"] else "wb")
        fh.truncate(state["bytes"])
        fh.seek(state["bytes"])
        return fh, state

    def checkpoint(self, fh, state: dict) -> None:
        fh.flush()
        os.fsync(fh.fileno())
        state["bytes"] = fh.tell()
        tmp = self.progress.with_name(self.progress.name + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.progress)

    def clear(self) -> None:
        for p in (self.partial, self.progress):
            p.unlink(missing_ok=True)


def score(paths: Sequence[str], out, *, model=None, ministry: Optional[str] = None, resume: bool = False,
          batch_size: int = 64, progress: Optional[Callable[[int], None]] = None, engine: str = "local",
          address: Optional[str] = None) -> Summary:
    """Score every answer in ``paths`` into ``out``; returns the accounting :class:`Summary`."""
    from .api import StanceClassifier, load

    out = Path(out)
    fmt = output_format(out)
    if not out.parent.is_dir():
        raise ScoringError(f"{out.parent}: output folder does not exist"
                           + (" (it is a file)" if out.parent.exists() else ""))
    if not os.access(out.parent, os.W_OK):
        raise ScoringError(f"{out.parent}: output folder is not writable")
    files = discover(paths)
    if not files:
        raise ScoringError("no input files")
    clf = model if isinstance(model, StanceClassifier) else load(model)
    if engine == "ray":
        from .distributed import score_with_ray

        rows, summary = score_with_ray(files, clf, ministry=ministry, address=address, batch_size=batch_size)
        _finish(out, fmt, rows)
        return summary
    if engine != "local":
        raise ScoringError(f"unknown engine {engine!r} (local or ray)")

    journal = _Journal(out)
    summary = Summary(files=len(files))
    inputs = hashlib.sha256(json.dumps([files, clf.model_info, ministry]).encode("utf-8")).hexdigest()
    try:
        fh, state = journal.open(resume, inputs)
    except OSError as exc:
        raise ScoringError(f"{journal.partial}: cannot write ({exc.strerror or exc})") from None
    try:
        for path in files:
            done = state["done"].get(path)
            if done == "all":
                continue
            skip = done or 0
            try:
                stubs = exchanges_of(path, ministry)
            except Exception as exc:  # any unreadable transcript is recorded, the run goes on
                fh.write(_json_row(_file_error_row(path, ministry, exc)))
                state["done"][path] = "all"
                journal.checkpoint(fh, state)
                continue
            for start in range(skip, len(stubs), batch_size * 4):
                rows = classify_rows(clf, stubs[start:start + batch_size * 4], batch_size)
                fh.write(b"".join(_json_row(r) for r in rows))
                state["done"][path] = start + len(rows)
                journal.checkpoint(fh, state)
                if progress:
                    progress(len(rows))
            state["done"][path] = "all"
            journal.checkpoint(fh, state)
    except OSError as exc:
        raise ScoringError(f"{journal.partial}: write failed ({exc.strerror or exc}); "
                           "rerun with --resume once there is space") from None
    finally:
        try:
            fh.close()  # also when interrupted: whatever it flushes lies past the checkpoint, cut on resume
        except OSError:
            pass  # a full disk, already reported above
    rows = list(_read_partial(journal.partial))
    for r in rows:
        summary.rows += 1
        if r.get("turn") is None:
            summary.files_failed += 1
            summary.failed_files.append(r["source"])
        else:
            summary.answers += 1
            summary.answers_failed += r["error"] is not None
    _finish(out, fmt, rows)
    journal.clear()
    return summary


def _file_error_row(path: str, ministry: Optional[str], exc: Exception) -> dict:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return {"source": path, "turn": None, "date": None, "ministry": ministry, "spokesperson": None,
            "question": None, "answer": None, "label": None, "scores": None, "evidence": [], "model": None,
            "error": f"{path}: cannot read transcript ({reason})"}


def _json_row(row: dict) -> bytes:
    return (json.dumps({k: row.get(k) for k in COLUMNS}, ensure_ascii=False) + "\n").encode("utf-8")


def _read_partial(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _finish(out: Path, fmt: str, rows: Iterable[dict]) -> None:
    """Write the final file next to ``out`` and rename it into place (never a half-written ``out``)."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        if fmt == "jsonl":
            with open(tmp, "wb") as fh:
                for r in rows:
                    fh.write(_json_row(r))
        elif fmt == "csv":
            import csv

            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
                w.writeheader()
                for r in rows:
                    w.writerow({k: json.dumps(r.get(k), ensure_ascii=False) if isinstance(r.get(k), (dict, list))
                                else r.get(k) for k in COLUMNS})
        else:
            _write_parquet(tmp, list(rows))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        raise ScoringError(f"{out}: cannot write output ({exc.strerror or exc}); nothing was written") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_parquet(path: Path, rows: List[dict]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ScoringError("Parquet output needs pyarrow (pip install 'stancekit[parquet]')") from None
    table = pa.table({
        "source": [r["source"] for r in rows],
        "turn": pa.array([r["turn"] for r in rows], type=pa.int64()),
        **{k: [r.get(k) for r in rows] for k in ("date", "ministry", "spokesperson", "question", "answer", "label")},
        "scores": pa.array([r["scores"] for r in rows],
                           type=pa.struct([("confirm", pa.float64()), ("deny", pa.float64()), ("hedge", pa.float64())])),
        "evidence": [json.dumps(r["evidence"], ensure_ascii=False) for r in rows],
        "model": [json.dumps(r["model"]) if r.get("model") else None for r in rows],
        "error": [r.get("error") for r in rows],
    })
    pq.write_table(table, path)


def read_scores(path) -> List[dict]:
    """Read a scores file written by :func:`score` (any of the three formats) back into rows."""
    path = Path(path)
    fmt = output_format(path)
    if fmt == "jsonl":
        return _checked(list(_read_partial(path)), path)
    if fmt == "csv":
        import csv

        rows = []
        with open(path, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                for k in ("scores", "evidence", "model"):
                    r[k] = json.loads(r[k]) if r.get(k) else None
                r["turn"] = int(r["turn"]) if r.get("turn") else None
                rows.append({k: (v if v != "" else None) for k, v in r.items()})
        return _checked(rows, path)
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if r.get("evidence") else []
        r["model"] = json.loads(r["model"]) if r.get("model") else None
    return _checked(rows, path)


def _checked(rows: List[dict], path: Path) -> List[dict]:
    """``rows`` if they look like :func:`score`'s rows, else ``ValueError`` (not a scores file)."""
    from .labels import LABELS

    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict) or not set(COLUMNS) <= set(r):
            raise ValueError(f"{path}: row {i} is not a stancekit row (it needs {', '.join(COLUMNS)})")
        if r["label"] is not None and not (r["label"] in LABELS and isinstance(r["answer"], str)
                                           and isinstance(r["scores"], dict) and set(LABELS) <= set(r["scores"])):
            raise ValueError(f"{path}: row {i} has no valid label, scores and answer")
    return rows
