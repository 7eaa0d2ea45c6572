"""Input files → rows, streaming: ``.txt`` (a statement per line), ``.jsonl``, ``.csv``.

Problems with one row become an error row (the run goes on and accounts for it);
problems that make the whole input unusable raise :class:`InputError`, whose
message names the file and, where it applies, the line.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator, Optional, Tuple

FORMATS = ("txt", "jsonl", "csv")
_EXTENSIONS = {".txt": "txt", ".text": "txt", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_SNIFF = 1 << 16
_BAD_BYTE = re.compile("[\udc00-\udcff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
csv.field_size_limit(1 << 30)


def _mark_bad_bytes(exc: UnicodeError):
    """Decode error handler: each undecodable byte becomes U+DC00 + byte, like
    ``surrogateescape`` but for every byte value (UTF-16/32 errors involve bytes
    below 0x80, which ``surrogateescape`` refuses with a UnicodeDecodeError)."""
    if isinstance(exc, UnicodeDecodeError):
        return "".join(chr(0xDC00 + b) for b in exc.object[exc.start:exc.end]), exc.end
    raise exc


_ERRORS = "stancekit-bad-bytes"
_BOM_ENCODINGS = ("utf-8-sig", "utf-16", "utf-32")
codecs.register_error(_ERRORS, _mark_bad_bytes)


def _shown(path: str) -> str:
    """``path`` safe to write as UTF-8 (file names with undecodable bytes carry surrogates)."""
    return _SURROGATE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}" if ord(m.group()) >= 0xDC80
                          else f"\\u{ord(m.group()):04x}", path)


class InputError(Exception):
    """The input cannot be used at all (exit code 2)."""


@dataclass
class Row:
    """One statement to classify, or the reason it cannot be."""

    id: str
    line: int
    text: Optional[str] = None
    question: Optional[str] = None
    error: Optional[str] = None


def detect_format(path: str, declared: Optional[str] = None) -> str:
    if declared and declared != "auto":
        return declared
    if path == "-":
        return "txt"
    return _EXTENSIONS.get(Path(path).suffix.lower(), "txt")


def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    try:
        if p.is_symlink() and not p.exists():
            raise InputError(f"{_shown(path)}: broken symbolic link (points to {_shown(os.readlink(p))})")
        if not p.exists():
            raise InputError(f"{_shown(path)}: no such file")
        if p.is_dir():
            raise InputError(f"{_shown(path)}: is a directory, not a file")
        return open(p, "rb")
    except FileNotFoundError:
        raise InputError(f"{_shown(path)}: file vanished before it could be read") from None
    except OSError as exc:  # name too long, permission denied, ...
        raise InputError(f"{_shown(path)}: cannot open ({exc.strerror or exc})") from None
    except ValueError as exc:  # e.g. a NUL character in the path (API callers)
        raise InputError(f"{_shown(path)}: cannot open ({exc})") from None


def _choose_encoding(path: str, head: bytes, encoding: Optional[str]) -> str:
    """Honour BOMs, refuse binary data, default to UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # the UTF-32-LE BOM starts with the UTF-16-LE one, so look for UTF-32 first
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"{_shown(path)}: unknown encoding {encoding!r}") from None
        if "16" in encoding or "32" in encoding:
            return encoding
    nul = head.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{_shown(path)}: binary file (NUL byte at offset {nul}), not text")
    return encoding or "utf-8"


def read_lines(path: str, encoding: Optional[str] = None) -> Iterator[Tuple[int, str]]:
    """Yield ``(line_number, line)`` with line ends (``\\n``, ``\\r\\n`` or a lone ``\\r``) kept.

    Raises :class:`InputError` for missing paths, directories, binary data,
    empty files and text that does not decode (naming the line and byte).
    """
    raw = _open_binary(path)
    try:
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
        try:
            head = buffered.peek(_SNIFF)[:_SNIFF]
        except OSError as exc:
            raise InputError(f"{_shown(path)}: cannot read ({exc.strerror or exc})") from None
        if not head:
            raise InputError(f"{_shown(path)}: empty file, nothing to classify")
        chosen = _choose_encoding(path, head, encoding)
        try:
            text = io.TextIOWrapper(buffered, encoding=chosen, errors=_ERRORS, newline="")
        except LookupError:  # rot13, base64, hex...: codecs, but not text encodings
            raise InputError(f"{_shown(path)}: {chosen!r} is not a text encoding") from None
        n = 0
        try:
            for n, line in enumerate(text, 1):
                bad = _BAD_BYTE.search(line)
                if bad:
                    byte = ord(bad.group()) - 0xDC00
                    hint = (f"yet it starts with a {chosen} byte order mark" if chosen in _BOM_ENCODINGS else
                            "pass --encoding if the file uses another encoding (e.g. latin-1)")
                    raise InputError(f"{_shown(path)}:{n}: not valid {chosen} text "
                                     f"(byte 0x{byte:02x} at column {bad.start() + 1}); {hint}")
                if "\x00" in line and "16" not in chosen and "32" not in chosen:
                    raise InputError(f"{_shown(path)}:{n}: binary data (NUL byte), not text")
                yield n, line
        except OSError as exc:
            raise InputError(f"{_shown(path)}:{n + 1}: cannot read ({exc.strerror or exc})") from None
        except UnicodeError as exc:  # a codec that fails in a way the error handler cannot mend
            raise InputError(f"{_shown(path)}:{n + 1}: not valid {chosen} text ({exc})") from None
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def read_rows(path: str, fmt: Optional[str] = None, *, text_col: Optional[str] = None,
              question_col: Optional[str] = None, encoding: Optional[str] = None) -> Iterator[Row]:
    """Stream the rows of one input; see the module docstring for the error policy."""
    fmt = detect_format(path, fmt)
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (expected one of {', '.join(FORMATS)})")
    lines = read_lines(path, encoding)
    if fmt == "txt":
        yield from _txt_rows(lines)
    elif fmt == "jsonl":
        yield from _jsonl_rows(path, lines)
    else:
        yield from _csv_rows(path, lines, text_col, question_col)


def _txt_rows(lines) -> Iterator[Row]:
    for n, line in lines:
        text = line.rstrip("\r\n")
        if text.strip():
            yield Row(id=str(n), line=n, text=text)


def _jsonl_rows(path: str, lines) -> Iterator[Row]:
    where = _shown(path)
    for n, line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield Row(id=str(n), line=n, error=f"{where}:{n}: malformed JSON ({getattr(exc, 'msg', exc)})")
            continue
        except RecursionError:
            yield Row(id=str(n), line=n, error=f"{where}:{n}: malformed JSON (nested too deeply)")
            continue
        if not isinstance(obj, dict):
            yield Row(id=str(n), line=n, error=f"{where}:{n}: expected a JSON object, got {_json_type(obj)}")
            continue
        row_id = obj.get("id")
        row_id = str(n) if row_id is None or isinstance(row_id, (dict, list)) else str(row_id)
        key = "answer" if "answer" in obj else "text"
        text, question = obj.get(key), obj.get("question")
        # "\ud800" escapes decode to lone surrogates, which no UTF-8 writer (or spaCy) accepts
        bad = next((name for name, value in (("id", row_id), (key, text), ("question", question))
                    if isinstance(value, str) and _SURROGATE.search(value)), None)
        if bad == "id":
            row_id = str(n)
        if bad:
            error = f"{where}:{n}: '{bad}' holds an unpaired surrogate (a lone \\ud800-\\udfff escape), not text"
        elif key not in obj:
            error = f"{where}:{n}: no 'answer' or 'text' field"
        elif not isinstance(text, str):
            error = f"{where}:{n}: '{key}' must be a string, got {_json_type(text)}"
        elif question is not None and not isinstance(question, str):
            error = f"{where}:{n}: 'question' must be a string or null, got {_json_type(question)}"
        elif not text.strip():
            error = f"{where}:{n}: '{key}' is empty"
        else:
            error = None
        if error:
            yield Row(id=row_id, line=n, error=error)
        else:
            yield Row(id=row_id, line=n, text=text, question=question or None)


def _json_type(value) -> str:
    return {type(None): "null", bool: "boolean", int: "number", float: "number", list: "array",
            dict: "object", str: "string"}.get(type(value), type(value).__name__)


def _csv_rows(path: str, lines, text_col: Optional[str], question_col: Optional[str]) -> Iterator[Row]:
    where = _shown(path)
    line_numbers = []
    at_eof = []

    def source():
        for n, line in lines:
            line_numbers.append(n)
            yield line
        # the csv module only asks past the last line when a quoted field is still open
        at_eof.append(True)

    reader = csv.reader(source())
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{where}: empty CSV, no header row") from None
    except csv.Error as exc:
        raise InputError(f"{where}:1: unreadable CSV header ({exc})") from None
    if at_eof and len(line_numbers) > 1:
        raise InputError(f"{where}:1: the header opens a quoted field that is never closed")
    columns = [h.strip() for h in header]
    if text_col is None:
        text_col = next((c for c in ("answer", "text") if c in columns), None)
        if text_col is None:
            raise InputError(f"{where}:1: no 'answer' or 'text' column (columns: {', '.join(columns)}); "
                             "name one with --text-col")
    for name, option in ((text_col, "--text-col"), (question_col, "--question-col")):
        if name is not None and name not in columns:
            raise InputError(f"{where}:1: no column {name!r} for {option} (columns: {', '.join(columns)})")
    if question_col is None and "question" in columns:
        question_col = "question"
    ti = columns.index(text_col)
    qi = columns.index(question_col) if question_col else None
    ii = columns.index("id") if "id" in columns else None
    while True:
        start = len(line_numbers) + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            n = line_numbers[-1] if line_numbers else start
            yield Row(id=str(n), line=n, error=f"{where}:{n}: malformed CSV ({exc})")
            continue
        if not any(f.strip() for f in fields):
            continue
        row_id = fields[ii] if ii is not None and ii < len(fields) and fields[ii].strip() else str(start)
        if at_eof and line_numbers and line_numbers[-1] > start:
            # an unclosed quote swallowed every later line into this row: say so rather than
            # classify several statements as one
            yield Row(id=row_id, line=start,
                      error=f"{where}:{start}: a quoted field opened here is never closed "
                            f"(it runs to the end of the file, line {line_numbers[-1]})")
            continue
        if len(fields) != len(columns):
            yield Row(id=row_id, line=start,
                      error=f"{where}:{start}: row has {len(fields)} fields, header has {len(columns)}")
            continue
        text = fields[ti]
        if not text.strip():
            yield Row(id=row_id, line=start, error=f"{where}:{start}: column {text_col!r} is empty")
            continue
        question = fields[qi] if qi is not None else None
        yield Row(id=row_id, line=start, text=text, question=question or None)
