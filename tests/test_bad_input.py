"""Bad input, the contract of issue #6: one table of named cases, each run through the
CLI (``stancekit classify --model rules --format jsonl`` in a subprocess) and through
the Python API (``stancekit.readers.read_rows`` + ``StanceClassifier.classify_many``).

Exit codes: 0 every row classified; 3 finished with error rows (``error`` set,
``label``/``scores`` null); 2 the input cannot be used at all (one stderr line naming
the file and, where it applies, the line; never a traceback). Every non-blank input
row comes out exactly once, in order.

Cases already in tests/test_cli.py (missing file, the tmp dir as input, NUL at the start
of a .txt, Latin-1 in a .txt, empty/blank .txt, CSV without a text column, mixed
malformed JSONL, Latin-1 with --encoding) are not repeated here; their variants are.
"""
from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest

import stancekit
from stancekit import LABELS, Stance, readers
from stancekit.readers import InputError, read_rows

ROOT = Path(__file__).resolve().parent.parent
_OPTION = {"fmt": "--input-format", "encoding": "--encoding", "text_col": "--text-col",
           "question_col": "--question-col"}


@pytest.fixture(scope="module")
def rules():
    return stancekit.load("rules")


# ---------------------------------------------------------------- builders

def put(name: str, data, encoding: str = "utf-8") -> Callable[[Path], Path]:
    """A builder writing ``data`` (bytes, or str encoded with ``encoding``) to ``name``."""
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        return path
    return build


def jsonl(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs)


def make_dir(tmp: Path) -> Path:
    (tmp / "inputs.jsonl").mkdir()
    return tmp / "inputs.jsonl"


def broken_symlink(tmp: Path) -> Path:
    (tmp / "link.txt").symlink_to(tmp / "deleted.txt")
    return tmp / "link.txt"


def symlink_loop(tmp: Path) -> Path:
    (tmp / "a.txt").symlink_to(tmp / "b.txt")
    (tmp / "b.txt").symlink_to(tmp / "a.txt")
    return tmp / "a.txt"


def name_too_long(tmp: Path) -> Path:
    return tmp / ("x" * 300 + ".txt")


def ten_megabyte_line(tmp: Path) -> Path:
    path = tmp / "huge.txt"
    line = ("This is sheer fabrication. " * 370_371)[:10_000_000]
    path.write_text(line + "\n", encoding="utf-8")
    return path


N_LINES = 100_000


def hundred_thousand_lines(tmp: Path) -> Path:
    path = tmp / "many.txt"
    path.write_text("".join(("No. %d\n" if i % 2 else "Yes, %d.\n") % i for i in range(1, N_LINES + 1)),
                    encoding="utf-8")
    return path


def crlf_across_buffers(tmp: Path) -> Path:
    # "\r" is the last byte of one 8 KiB read (and of the 64 KiB sniff), "\n" the first of the next
    # (padded with a long word, not spaces: long runs of whitespace are slow to classify)
    line1 = "No. " + "x" * (8191 - 4)
    line2 = "Yes. " + "x" * (65535 - 8193 - 5)
    path = tmp / "straddle.txt"
    path.write_bytes(f"{line1}\r\n{line2}\r\nI'm not aware of that.\r\n".encode())
    assert path.read_bytes()[8191:8193] == b"\r\n" and path.read_bytes()[65535:65537] == b"\r\n"
    return path


def non_utf8_file_name(tmp: Path) -> Path:
    path = tmp / os.fsdecode(b"caf\xe9.jsonl")
    path.write_bytes(b'{not json\n{"text": "No."}\n')
    return path


# ---------------------------------------------------------------- checks on the rows

def texts_are(*expected):
    """The reader's texts, exactly (no BOM, no line end, decoded right)."""
    def check(out, rows, stances):
        assert [r.text for r in rows] == list(expected)
    return check


def labels_are(*expected):
    def check(out, rows, stances):
        assert [o["label"] for o in out] == list(expected)
    return check


def langs_are(**expected):
    def check(out, rows, stances):
        got = {o["id"]: o["lang"] for o in out}
        for row_id, lang in expected.items():
            assert got[row_id] == lang
    return check


def all_of(*checks):
    def check(out, rows, stances):
        for c in checks:
            c(out, rows, stances)
    return check


def csv_fields(out, rows, stances):
    assert rows[0].question == 'Is it "true"?'
    assert rows[0].text == 'No. That is "simply" false,\nand we reject it.'
    assert rows[1].text == "Yes, that's correct.\r\nWe confirm it.\r\n" and rows[1].question == "Q2"
    assert rows[2].text == "I'm not aware, of that." and rows[2].question is None


def one_long_row(out, rows, stances):
    assert len(rows) == 1 and len(rows[0].text) == 10_000_000


def many_in_order(out, rows, stances):
    assert out[0]["id"] == "1" and out[-1]["id"] == str(N_LINES)
    assert [o["label"] for o in out[:4]] == ["deny", "confirm", "deny", "confirm"]
    assert all(o["label"] == ("deny" if int(o["id"]) % 2 else "confirm") for o in out)


# ---------------------------------------------------------------- the table

@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]
    exit: int
    ids: Optional[List[str]] = None          # output ids, in order (exit 0 and 3)
    errors: Dict[str, str] = field(default_factory=dict)  # id -> part of its error
    message: str = ""                        # exit 2: what follows the file name on stderr
    opts: dict = field(default_factory=dict)  # read_rows keywords = CLI options
    check: Optional[Callable] = None         # extra checks on (cli rows, reader rows, API stances)
    timeout: int = 120
    api_classify: bool = True                # False: the API half only reads the rows (time)


BOM8 = codecs.BOM_UTF8
LE = ("le", codecs.BOM_UTF16_LE, "utf-16-le")
BE = ("be", codecs.BOM_UTF16_BE, "utf-16-be")
JSON_2 = jsonl({"id": "a", "text": "No."}, {"id": "b", "question": "Did you?", "text": "Yes."})
CSV_2 = "id,question,text\r\na,,No.\r\nb,Did you?,Yes.\r\n"
LATIN1_JSONL = b'{"id": "a", "text": "No."}\n{"id": "b", "text": "The caf\xe9 story is sheer fabrication."}\n'
CP1252 = b"No.\n\x93We never did that.\x94 \x96 she said\n"
SJIS = b"Yes.\n" + "いいえ、そのような計画はありません。\n".encode("shift_jis")
NON_ENGLISH = ("This is sheer fabrication.\n这是完全捏造的，毫无根据。\nЭто ложь и клевета на нашу страну.\n"
               "هذه أكاذيب لا أساس لها من الصحة.\nNo.\n")
CONTROL_EMOJI = ("No.\x07 \x1b[31mthat is false\x1b[0m 😀\n"
                 "Yes, that's correct. 👍🏽 👨\u200d👩\u200d👧 🇺🇸\t\n"
                 "We have no information\x0b to provide\x0c at this time.\x1c\x1d\x1e\n"
                 "I'm not aware of that.\x85 \u2028 \u2029 \u200b\u202e\n")
MALFORMED_MIDDLE = jsonl(
    {"id": "a", "text": "Yes."},
    '{"id": "b", "text": "Yes',                       # truncated
    '{"id": "c", "text": "No."} trailing garbage',
    "[" * 100_000,                                  # deeper than the json module can recurse
    '"just a string"', "[1, 2]", "42", "null",
    {"id": "z", "text": "No."},
)
FIELD_TYPES = jsonl(
    {"id": "num", "text": 1.5}, {"id": "nul", "text": None}, {"id": "lst", "text": ["No."]},
    {"id": "obj", "text": {"t": "No."}}, {"id": "bool", "answer": True}, {"id": "empty", "text": ""},
    {"id": "blank", "text": " \t "}, {"id": "q", "question": 5, "text": "No."}, {"id": "none", "txt": "No."},
    {"id": {"nested": 1}, "text": "No."},            # an unusable id falls back to the line number
    {"id": 7, "answer": "Yes."},
)
SURROGATES = '{"id": "s1", "text": "No \\ud800 way."}\n{"id": "\\udc80", "text": "Yes."}\n' \
             '{"id": "s3", "question": "\\udfff?", "text": "No."}\n{"id": "ok", "text": "No."}\n'
CSV_RAGGED = "id,question,answer\na,Q?,No.\nb,Yes.\nc,Q?,No.,extra\nd,Q?,Yes.\ne,Q?,  \n"
CSV_EMBEDDED = ('question,answer\n"Is it ""true""?","No. That is ""simply"" false,\nand we reject it."\n'
                '"Q2","Yes, that\'s correct.\r\nWe confirm it.\r\n"\n,"I\'m not aware, of that."\n')
CSV_UNCLOSED = 'id,text\na,No.\nb,"Yes.\nc,No.\nd,No.\n'


def _bom_cases():
    out = []
    for tag, bom, enc in (LE, BE):
        out += [
            Case(f"utf16-{tag}-bom-txt", put("u16.txt", bom + "No.\nYes.\n".encode(enc)), 0, ["1", "2"],
                 check=all_of(texts_are("No.", "Yes."), labels_are("deny", "confirm"))),
            Case(f"utf16-{tag}-bom-jsonl", put("u16.jsonl", bom + JSON_2.encode(enc)), 0, ["a", "b"],
                 check=texts_are("No.", "Yes.")),
            Case(f"utf16-{tag}-bom-csv", put("u16.csv", bom + CSV_2.encode(enc)), 0, ["a", "b"],
                 check=texts_are("No.", "Yes.")),
        ]
    for tag, enc in (("le", "utf-32-le"), ("be", "utf-32-be")):
        bom = codecs.BOM_UTF32_LE if tag == "le" else codecs.BOM_UTF32_BE
        out.append(Case(f"utf32-{tag}-bom-txt", put("u32.txt", bom + "No.\nYes.\n".encode(enc)), 0, ["1", "2"],
                        check=texts_are("No.", "Yes.")))
    return out


CASES = [
    # ---- nothing to classify
    Case("empty-jsonl", put("e.jsonl", b""), 2, message=": empty file, nothing to classify"),
    Case("empty-csv", put("e.csv", b""), 2, message=": empty file, nothing to classify"),
    Case("bom-only", put("bom.txt", BOM8), 2, message=": no statements to classify"),
    Case("unicode-whitespace-only", put("ws.txt", "\u3000\u00a0\t\n\x0c\r\n\u2003 \r\u2029\n"), 2,
         message=": no statements to classify"),
    Case("whitespace-only-jsonl", put("ws.jsonl", "  \n\t\r\n   "), 2, message=": no statements to classify"),
    Case("csv-header-only", put("h.csv", "id,text\r\n"), 2, message=": no statements to classify"),
    # ---- binary
    Case("nul-bytes-jsonl", put("x.jsonl", b'{"text": "No."}\n\x00\x00\x00\x00PK\x03\x04'), 2,
         message=": binary file (NUL byte at offset 16), not text"),
    Case("nul-after-64k-sniff", put("late.txt", ("No. " * 10_000 + "\n") * 2 + "No.\x00\n"), 2,
         message=":3: binary data (NUL byte), not text"),
    Case("utf16-without-bom", put("nobom.txt", "No.\n".encode("utf-16-le")), 2,
         message=": binary file (NUL byte at offset 1), not text"),
    Case("utf16-without-bom-declared", put("nobom.txt", "No.\nYes.\n".encode("utf-16-le")), 0, ["1", "2"],
         opts={"encoding": "utf-16-le"}, check=texts_are("No.", "Yes.")),
    # ---- not UTF-8
    Case("latin1-jsonl", put("l1.jsonl", LATIN1_JSONL), 2,
         message=":2: not valid utf-8 text (byte 0xe9 at column 29)"),
    Case("latin1-jsonl-declared", put("l1.jsonl", LATIN1_JSONL), 0, ["a", "b"], opts={"encoding": "latin-1"},
         check=all_of(texts_are("No.", "The café story is sheer fabrication."), labels_are("deny", "deny"))),
    Case("latin1-csv-declared", put("l1.csv", "id,text\nc,The café story is false.\n", "latin-1"), 0, ["c"],
         opts={"encoding": "latin-1"}, check=texts_are("The café story is false.")),
    Case("cp1252-smart-quotes", put("cp.txt", CP1252), 2, message=":2: not valid utf-8 text (byte 0x93 at column 1)"),
    Case("cp1252-declared", put("cp.txt", CP1252), 0, ["1", "2"], opts={"encoding": "cp1252"},
         check=all_of(texts_are("No.", "\u201cWe never did that.\u201d \u2013 she said"), labels_are("deny", "deny"))),
    Case("shift-jis", put("sj.txt", SJIS), 2, message=":2: not valid utf-8 text (byte 0x82 at column 1)"),
    Case("shift-jis-declared", put("sj.txt", SJIS), 3, ["1", "2"], {"2": "language not supported (ja)"},
         opts={"encoding": "shift_jis"}, check=langs_are(**{"1": "en", "2": "ja"})),
    Case("unknown-encoding", put("u.txt", "No.\n"), 2, message=": unknown encoding 'no-such-codec'",
         opts={"encoding": "no-such-codec"}),
    Case("not-a-text-encoding", put("u.txt", "No.\n"), 2, message=": 'rot13' is not a text encoding",
         opts={"encoding": "rot13"}),
    # ---- byte order marks
    Case("utf8-bom-txt", put("b.txt", BOM8 + b"No.\nYes.\n"), 0, ["1", "2"],
         check=all_of(texts_are("No.", "Yes."), labels_are("deny", "confirm"))),
    Case("utf8-bom-jsonl", put("b.jsonl", BOM8 + JSON_2.encode()), 0, ["a", "b"], check=texts_are("No.", "Yes.")),
    Case("utf8-bom-csv", put("b.csv", BOM8 + CSV_2.encode()), 0, ["a", "b"], check=texts_are("No.", "Yes.")),
    Case("utf8-bom-beats-declared-encoding", put("b.txt", BOM8 + "The café story is false.\n".encode()), 0, ["1"],
         opts={"encoding": "latin-1"}, check=texts_are("The café story is false.")),
    *_bom_cases(),
    Case("utf16-lone-surrogate", put("s.txt", codecs.BOM_UTF16_LE + "No.\n".encode("utf-16-le")
                                     + b"\x00\xd8" + "x\n".encode("utf-16-le")), 2,
         message=":2: not valid utf-16 text (byte 0x00 at column 1)"),
    Case("utf16-odd-byte-count", put("odd.txt", codecs.BOM_UTF16_LE + "No.\n".encode("utf-16-le") + b"A"), 2,
         message=":2: not valid utf-16 text (byte 0x41 at column 1)"),
    # ---- line ends
    Case("crlf-jsonl", put("crlf.jsonl", JSON_2.replace("\n", "\r\n")), 0, ["a", "b"], check=texts_are("No.", "Yes.")),
    Case("lone-cr-jsonl", put("cr.jsonl", JSON_2.replace("\n", "\r")), 0, ["a", "b"], check=texts_are("No.", "Yes.")),
    Case("lone-cr-csv", put("cr.csv", "id,text\rab,No.\rcd,Yes.\r"), 0, ["ab", "cd"], check=texts_are("No.", "Yes.")),
    Case("lone-cr-txt-no-final-newline", put("cr.txt", "No.\rYes.\r\rI'm not aware of that."), 0, ["1", "2", "4"],
         check=labels_are("deny", "confirm", "hedge")),
    Case("crlf-across-read-buffers", crlf_across_buffers, 0, ["1", "2", "3"],
         check=labels_are("deny", "confirm", "hedge")),
    # ---- size
    Case("ten-megabyte-line", ten_megabyte_line, 3, ["1"], {"1": "text too long (10,000,000 characters"},
         check=one_long_row, timeout=300),
    Case("hundred-thousand-lines", hundred_thousand_lines, 0, [str(i) for i in range(1, N_LINES + 1)],
         check=many_in_order, timeout=600, api_classify=False),
    # ---- JSONL rows
    Case("jsonl-malformed-middle", put("m.jsonl", MALFORMED_MIDDLE), 3,
         ["a", "2", "3", "4", "5", "6", "7", "8", "z"],
         {"2": ":2: malformed JSON (", "3": ":3: malformed JSON (Extra data",
          "4": ":4: malformed JSON (nested too deeply)", "5": "expected a JSON object, got string",
          "6": "expected a JSON object, got array", "7": "expected a JSON object, got number",
          "8": "expected a JSON object, got null"}),
    Case("jsonl-field-types", put("t.jsonl", FIELD_TYPES), 3,
         ["num", "nul", "lst", "obj", "bool", "empty", "blank", "q", "none", "10", "7"],
         {"num": "'text' must be a string, got number", "nul": "'text' must be a string, got null",
          "lst": "'text' must be a string, got array", "obj": "'text' must be a string, got object",
          "bool": "'answer' must be a string, got boolean", "empty": "'text' is empty",
          "blank": "'text' is empty", "q": "'question' must be a string or null, got number",
          "none": "no 'answer' or 'text' field"},
         check=labels_are(*[None] * 9, "deny", "confirm")),
    Case("jsonl-lone-surrogate-escapes", put("sur.jsonl", SURROGATES), 3, ["s1", "2", "s3", "ok"],
         {"s1": ":1: 'text' holds an unpaired surrogate", "2": ":2: 'id' holds an unpaired surrogate",
          "s3": ":3: 'question' holds an unpaired surrogate"}),
    # ---- CSV
    Case("csv-missing-text-col", put("c.csv", CSV_2), 2, opts={"text_col": "statement"},
         message=":1: no column 'statement' for --text-col (columns: id, question, text)"),
    Case("csv-missing-question-col", put("c.csv", CSV_2), 2, opts={"question_col": "q"},
         message=":1: no column 'q' for --question-col"),
    Case("csv-ragged-rows", put("r.csv", CSV_RAGGED), 3, ["a", "b", "c", "d", "e"],
         {"b": ":3: row has 2 fields, header has 3", "c": ":4: row has 4 fields, header has 3",
          "e": ":6: column 'answer' is empty"}),
    Case("csv-embedded-newlines-and-quotes", put("q.csv", CSV_EMBEDDED), 0, ["2", "4", "7"],
         check=all_of(csv_fields, labels_are("deny", "confirm", "hedge"))),
    Case("csv-unclosed-quote", put("u.csv", CSV_UNCLOSED), 3, ["a", "b"],
         {"b": ":3: a quoted field opened here is never closed (it runs to the end of the file, line 5)"}),
    # ---- text the model cannot or can read
    Case("non-english", put("l.txt", NON_ENGLISH), 3, ["1", "2", "3", "4", "5"],
         {"2": "line 2: language not supported (zh)", "3": "line 3: language not supported (ru)",
          "4": "line 4: language not supported (ar)"},
         check=langs_are(**{"1": "en", "2": "zh", "3": "ru", "4": "ar", "5": "en"})),
    Case("control-characters-and-emoji", put("c.txt", CONTROL_EMOJI), 0, ["1", "2", "3", "4"],
         check=labels_are("deny", "confirm", "hedge", "hedge")),
    Case("one-word-answers", put("w.txt", "No.\nYes\nno\nNope.\n"), 0, ["1", "2", "3", "4"],
         check=labels_are("deny", "confirm", "deny", "deny")),
    # ---- paths
    Case("directory", make_dir, 2, message=": is a directory, not a file"),
    Case("broken-symlink", broken_symlink, 2, message=": broken symbolic link (points to "),
    Case("symlink-loop", symlink_loop, 2, message=": broken symbolic link (points to "),
    Case("file-name-too-long", name_too_long, 2, message=": cannot open (File name too long)"),
    Case("non-utf8-file-name", non_utf8_file_name, 3, ["1", "2"], {"1": "caf\\xe9.jsonl:1: malformed JSON"}),
]


def _cli_options(opts: dict) -> list:
    out = []
    for key, value in opts.items():
        out += [_OPTION[key], value]
    return out


def parse_jsonl(stdout: bytes) -> list:
    # split on "\n" only: rows may hold U+2028 / U+0085, which str.splitlines() would split on
    return [json.loads(line) for line in stdout.decode("utf-8").split("\n") if line]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path, cli, rules):
    path = case.build(tmp_path)
    r = cli("classify", path, "--model", "rules", "--format", "jsonl", *_cli_options(case.opts),
            timeout=case.timeout)
    err = r.stderr.decode("utf-8")
    assert "Traceback" not in err
    assert r.returncode == case.exit, err

    if case.exit == 2:
        assert r.stdout == b""
        assert err.startswith("stancekit: error: ") and err.endswith("\n") and err.count("\n") == 1, err
        assert f"{path}{case.message}" in err, err
        # the API says the same: read_rows raises InputError (or yields nothing, for blank input)
        if "no statements" in case.message:
            assert list(read_rows(str(path), **case.opts)) == []
        else:
            with pytest.raises(InputError) as exc:
                list(read_rows(str(path), **case.opts))
            assert err == f"stancekit: error: {exc.value}\n"
        return

    # ---- CLI: every row once, in order; error rows carry no label
    out = parse_jsonl(r.stdout)
    assert [o["id"] for o in out] == case.ids
    errors = {o["id"]: o["error"] for o in out if o["error"] is not None}
    assert set(errors) == set(case.errors), errors
    for row_id, part in case.errors.items():
        assert part in errors[row_id]
    for o in out:
        if o["error"] is None:
            assert o["label"] in LABELS and abs(sum(o["scores"].values()) - 1) < 1e-9
        else:
            assert o["label"] is None and o["scores"] is None and o["evidence"] == []
    if case.exit == 3:
        assert err == f"stancekit: {len(out)} rows, {len(errors)} could not be classified (see their 'error' field)\n"
    else:
        assert err == ""

    # ---- API: read_rows + classify_many give the same rows, errors and labels
    rows = list(read_rows(str(path), **case.opts))
    assert [row.id for row in rows] == case.ids
    if not case.api_classify:
        assert all(row.error is None for row in rows) and not case.errors
        case.check(out, rows, None)
        return
    todo = [row for row in rows if row.error is None]
    done = iter(rules.classify_many([row.text for row in todo], [row.question for row in todo]))
    stances = [Stance(None, None, error=row.error) if row.error else next(done) for row in rows]
    assert [s.error is not None for s in stances] == [o["error"] is not None for o in out]
    assert [s.label for s in stances] == [o["label"] for o in out]
    for s, o in zip(stances, out, strict=True):
        if s.scores is not None:
            assert all(abs(s.scores[k] - o["scores"][k]) < 1e-9 for k in LABELS)
    if case.check:
        case.check(out, rows, stances)


# ---------------------------------------------------------------- cases the table cannot express

_RACE = """
import os, sys
import stancekit.readers as readers
from stancekit.cli import main

real_open = open
def racing_open(path, *args, **kwargs):  # the file goes away after the existence checks passed
    os.unlink(path)
    return real_open(path, *args, **kwargs)
readers.open = racing_open
sys.exit(main(sys.argv[1:]))
"""


def test_file_vanishing_between_check_and_open_api(tmp_path, monkeypatch):
    """Simulated race: ``open`` inside readers removes the file first, so the path passed
    ``exists()``/``is_dir()`` but is gone when opened. (A file removed *after* it was
    opened stays readable on POSIX; that is not a failure.)"""
    path = tmp_path / "gone.txt"
    path.write_text("No.\n", encoding="utf-8")
    real_open = open

    def racing_open(p, *args, **kwargs):
        os.unlink(p)
        return real_open(p, *args, **kwargs)

    monkeypatch.setattr(readers, "open", racing_open, raising=False)
    with pytest.raises(InputError, match="gone.txt: file vanished before it could be read"):
        list(read_rows(str(path)))


def test_file_vanishing_between_check_and_open_cli(tmp_path):
    """The same simulated race through ``stancekit.cli.main`` in a fresh process."""
    path = tmp_path / "gone.txt"
    path.write_text("No.\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", _RACE, "classify", str(path), "--model", "rules", "--format", "jsonl"],
                       check=False, capture_output=True, cwd=ROOT, timeout=120,
                       env=dict(os.environ, PYTHONIOENCODING="utf-8"))
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b""
    assert err == f"stancekit: error: {path}: file vanished before it could be read\n"


def test_path_with_nul_character_api():
    with pytest.raises(InputError):
        list(read_rows("bad\x00name.txt"))


def test_decode_error_late_in_a_big_file_exits_2(cli, tmp_path):
    """A bad byte after thousands of good lines still exits 2 with one line naming it, and
    nothing is written: a file is checked whole before any row is classified."""
    path = tmp_path / "late.txt"
    path.write_bytes(b"No.\n" * 2000 + b"caf\xe9\n")
    r = cli("classify", path, "--model", "rules", "--format", "jsonl")
    err = r.stderr.decode()
    assert r.returncode == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"{path}:2001: not valid utf-8 text (byte 0xe9 at column 4)" in err
    assert r.stdout == b""


def test_lone_surrogate_becomes_an_error_item(rules):
    """The readers already turn JSONL "\\ud800" escapes into error rows (see the table);
    the API takes str from anywhere, so classify_many must not raise for one either."""
    out = rules.classify_many(["No \ud800 way.", "Yes."])
    assert out[0].error is not None and out[0].label is None and out[0].scores is None
    assert out[1].label == "confirm"
