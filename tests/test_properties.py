"""Property tests (hypothesis) for ``classify_many`` with the rules model and for
``stancekit.readers.read_rows``.

Text comes from ``st.text()``, whose default alphabet is every Unicode code point
except surrogates (U+D800-DFFF), plus cue phrases so that labels and evidence vary.
Lone surrogates are left out on purpose: a Python str holding one is not Unicode text,
and classify_many does not turn it into an error row yet (see
tests/test_bad_input.py::test_lone_surrogate_becomes_an_error_item).

Each property runs at least 2,000 examples (``EXAMPLES``); the whole file is meant to
finish in about a minute on 2 CPU cores.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import stancekit
from stancekit import LABELS
from stancekit.readers import InputError, read_rows

EXAMPLES = 3_000
PROPERTY = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CUE_PHRASES = [
    "No.", "Yes.", "This is sheer fabrication.", "I'm not aware of that.", "We firmly oppose it.",
    "I cannot confirm that.", "That is not true.", "We welcome the agreement.", "There is no such plan.",
    "We have no information to provide.", "The minister will visit Paris.", "We do not oppose it.",
    "Wang Wenbin: (Laughter.) No comment.", "A: Yes, that's correct.",
]
WHITESPACE = st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x85\u00a0\u2028\u3000", max_size=6)
TEXTS = st.one_of(
    st.text(max_size=30),
    WHITESPACE,
    st.sampled_from(CUE_PHRASES),
    st.builds(lambda a, cue, b: a + cue + b, st.text(max_size=12), st.sampled_from(CUE_PHRASES),
              st.text(max_size=12)),
)
QUESTIONS = st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["Is it true?", "Will you attend?"]))


@pytest.fixture(scope="module")
def rules():
    return stancekit.load("rules")


def _check_stance(text, s):
    if s.error is not None:
        assert s.label is None and s.scores is None and s.evidence == []
        return
    assert s.label in LABELS
    assert set(s.scores) == set(LABELS)
    assert abs(sum(s.scores.values()) - 1) < 1e-9
    assert all(0 <= p <= 1 for p in s.scores.values())
    assert s.scores[s.label] == max(s.scores.values())
    for e in s.evidence:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start:e.end] == e.text
        assert e.label == s.label


@PROPERTY
@given(items=st.lists(st.tuples(TEXTS, QUESTIONS), max_size=8), with_questions=st.booleans(),
       batch_size=st.integers(1, 9))
def test_classify_many_total_ordered_and_well_formed(rules, items, with_questions, batch_size):
    texts = [t for t, _ in items]
    questions = [q for _, q in items] if with_questions else None
    out = rules.classify_many(texts, questions, batch_size=batch_size)
    assert len(out) == len(texts)
    for i, (text, s) in enumerate(zip(texts, out, strict=True)):
        _check_stance(text, s)
        # order: the same result as classifying the item alone
        alone = rules.classify(text, questions[i] if questions else None)
        assert (s.label, s.error, s.lang) == (alone.label, alone.error, alone.lang)
        assert s.evidence == alone.evidence
        if s.scores is not None:
            assert all(abs(s.scores[k] - alone.scores[k]) < 1e-9 for k in LABELS)
        if not text.strip():
            assert s.error == "empty text"


ANYTHING = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(), st.binary(max_size=5),
                     st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                                                 max_size=2))


@settings(max_examples=EXAMPLES, deadline=None)
@given(items=st.lists(st.one_of(TEXTS, ANYTHING), max_size=6),
       questions=st.lists(st.one_of(QUESTIONS, ANYTHING), min_size=6, max_size=6))
def test_classify_many_turns_non_strings_into_error_items(rules, items, questions):
    questions = questions[:len(items)]
    out = rules.classify_many(items, questions)
    assert len(out) == len(items)
    for text, question, s in zip(items, questions, out, strict=True):
        if not isinstance(text, str) or (question is not None and not isinstance(question, str)):
            assert s.error is not None and s.label is None and s.scores is None
        else:
            _check_stance(text, s)


# ---------------------------------------------------------------- readers

NO_SURROGATES = ("Cs",)
LINE = st.text(alphabet=st.characters(blacklist_categories=NO_SURROGATES, blacklist_characters="\r\n"), max_size=25)
ENDS = st.sampled_from(["\n", "\r\n", "\r"])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


def _write(path: Path, text: str, encoding: str) -> bytes:
    data = text.encode(encoding)
    path.write_bytes(data)
    return data


def _utf32_lookalike(text: str, encoding: str) -> bool:
    """UTF-16-LE text that starts with U+0000 begins FF FE 00 00: the UTF-32-LE BOM, read as such."""
    return encoding == "utf-16" and text.startswith("\x00")


def _may_refuse(data: bytes, text: str, encoding: str) -> bool:
    """The only inputs read_rows may refuse as a whole here: no bytes at all, or a NUL in UTF-8."""
    return data == b"" or (encoding.startswith("utf-8") and "\x00" in text)


def _read(path: Path, data: bytes, text: str, encoding: str, **kwargs):
    """All rows, or None where refusing is allowed; anything but InputError fails the test."""
    try:
        return list(read_rows(str(path), **kwargs))
    except InputError:
        assert _may_refuse(data, text, encoding), "InputError for a usable file"
        return None


def _expected_lines(lines, text, encoding):
    """1-based numbers and texts of the non-blank lines; a leading U+FEFF in UTF-8 is a BOM."""
    if encoding == "utf-8" and text.startswith("\ufeff") and lines:
        lines = [lines[0][1:]] + lines[1:]
    return [(n, line) for n, line in enumerate(lines, 1) if line.strip()]


@PROPERTY
@given(lines=st.lists(st.tuples(LINE, ENDS), max_size=8), last_end=st.booleans(), encoding=ENCODINGS)
def test_read_rows_txt_one_row_per_non_blank_line(scratch, lines, last_end, encoding):
    # a lone CR before an empty LF-ended line is one CRLF: write that as CRLF
    lines = [(line, "\r\n" if end == "\r" and i + 1 < len(lines) and lines[i + 1][0] == "" and
              lines[i + 1][1].startswith("\n") else end) for i, (line, end) in enumerate(lines)]
    text = "".join(line + end for line, end in lines)
    if lines and not last_end:
        text = text[: -len(lines[-1][1])]  # no line end after the last line
    assume(not _utf32_lookalike(text, encoding))
    path = scratch / "in.txt"
    data = _write(path, text, encoding)
    rows = _read(path, data, text, encoding)
    if rows is None:
        return
    expected = _expected_lines([line for line, _ in lines], text, encoding)
    assert [(r.line, r.text) for r in rows] == expected
    assert [r.id for r in rows] == [str(n) for n, _ in expected]
    assert all(r.error is None and r.question is None for r in rows)


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                         max_size=3), max_leaves=6)
# row fields may hold lone surrogates too: JSON can carry them as "\ud800" escapes
SURROGATE_LINE = st.builds(lambda a, s, b: a + s + b, LINE, st.characters(whitelist_categories=NO_SURROGATES), LINE)
ROW_FIELD = st.one_of(LINE, SURROGATE_LINE)
JSONL_LINE = st.one_of(
    st.builds(lambda t, q: ("row", t, q), ROW_FIELD, st.none() | ROW_FIELD),   # a proper row
    st.builds(lambda v: ("value", v), JSON_VALUES),                # any JSON value
    st.builds(lambda s: ("raw", s), LINE),                         # anything at all
)


def _has_surrogate(value) -> bool:
    if isinstance(value, dict):
        return any(_has_surrogate(v) for v in value.values())
    return isinstance(value, str) and any("\ud800" <= ch <= "\udfff" for ch in value)


@PROPERTY
@given(lines=st.lists(JSONL_LINE, max_size=8), end=ENDS, ascii_only=st.booleans(), encoding=ENCODINGS)
def test_read_rows_jsonl_one_row_per_non_blank_line(scratch, lines, end, ascii_only, encoding):
    rendered = []
    for i, item in enumerate(lines, 1):
        if item[0] == "row":
            obj = {"id": f"r{i}", "text": item[1]}
            if item[2] is not None:
                obj["question"] = item[2]
            rendered.append(json.dumps(obj, ensure_ascii=ascii_only or _has_surrogate(obj)))
        elif item[0] == "value":
            rendered.append(json.dumps(item[1], ensure_ascii=ascii_only))
        else:
            rendered.append(item[1])
    text = "".join(line + end for line in rendered)
    assume(not _utf32_lookalike(text, encoding))
    path = scratch / "in.jsonl"
    data = _write(path, text, encoding)
    rows = _read(path, data, text, encoding)
    if rows is None:
        return
    expected = _expected_lines(rendered, text, encoding)
    assert [r.line for r in rows] == [n for n, _ in expected]
    by_line = {r.line: r for r in rows}
    for n, item in enumerate(lines, 1):
        row = by_line.get(n)
        if item[0] != "row" or row is None:
            continue
        assert row.id == f"r{n}"
        if _has_surrogate(item[1]) or _has_surrogate(item[2]):
            assert row.text is None and "unpaired surrogate" in row.error
        elif item[1].strip():
            assert row.error is None and row.text == item[1] and row.question == (item[2] or None)
        else:
            assert row.text is None and "is empty" in row.error
    for row in rows:
        assert (row.error is None) == (row.text is not None)
        if row.error:
            assert f":{row.line}:" in row.error


CSV_FIELD = st.text(alphabet=st.characters(blacklist_categories=NO_SURROGATES, blacklist_characters="\x00"),
                    max_size=20)


@PROPERTY
@given(records=st.lists(st.tuples(CSV_FIELD, CSV_FIELD), max_size=6), encoding=ENCODINGS)
def test_read_rows_csv_round_trips_any_field(scratch, records, encoding):
    buf = io.StringIO()
    writer = csv.writer(buf)  # quotes fields holding commas, quotes, \r or \n
    writer.writerow(["id", "question", "text"])
    for i, (question, text) in enumerate(records, 1):
        writer.writerow([f"r{i}", question, text])
    path = scratch / "in.csv"
    _write(path, buf.getvalue(), encoding)
    rows = list(read_rows(str(path)))  # a csv.writer file is always usable
    assert [r.id for r in rows] == [f"r{i}" for i in range(1, len(records) + 1)]
    for row, (question, text) in zip(rows, records, strict=True):
        if text.strip():
            assert row.error is None and row.text == text and row.question == (question or None)
        else:
            assert row.text is None and "is empty" in row.error
