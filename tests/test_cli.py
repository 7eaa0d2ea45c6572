"""The command line: three input formats, three output formats, exit codes, bad input."""
import csv
import io
import json

import pytest

SIX = [
    {"id": "s1", "question": "Is the report true?", "answer": "This is sheer fabrication."},
    {"id": "s2", "answer": "At the invitation of the EU, the minister will visit Brussels from 3 to 5 May."},
    {"id": "s3", "question": "Will talks open?", "answer": "We have no relevant specific information to provide at the moment."},
    {"id": "s4", "text": "We firmly oppose the abuse of export controls."},
    {"id": "s5", "question": "Did you lodge a protest?", "answer": "Yes, we did lodge representations."},
    {"id": "s6", "answer": "I'd refer you to the competent authorities."},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def jsonl(stdout: bytes):
    return [json.loads(line) for line in stdout.decode().splitlines()]


def test_jsonl_six_statements_in_order(cli, tmp_path):
    r = cli("classify", write_jsonl(tmp_path / "six.jsonl", SIX), "--model", "rules")
    assert r.returncode == 0, r.stderr
    rows = jsonl(r.stdout)
    assert [row["id"] for row in rows] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert [row["label"] for row in rows] == ["deny", "confirm", "hedge", "deny", "confirm", "hedge"]
    for row in rows:
        assert set(row) >= {"id", "label", "scores", "evidence", "model", "error"}
        assert row["error"] is None and row["model"]["name"] == "rules"
        assert abs(sum(row["scores"].values()) - 1) < 1e-9


def test_default_model_classifies_the_readme_example(cli):
    r = cli("classify", "examples/statements.txt", "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    rows = jsonl(r.stdout)
    assert len(rows) >= 6 and all(row["label"] in ("confirm", "deny", "hedge") for row in rows)
    assert rows[0]["model"]["name"] != "rules"


def test_txt_input_ids_are_line_numbers_and_blank_lines_skipped(cli, tmp_path):
    f = tmp_path / "s.txt"
    f.write_text("This is sheer fabrication.\n\nI'm not aware of that.\r\nYes.\rNo.\n", encoding="utf-8")
    r = cli("classify", f, "--model", "rules", "--format", "jsonl")
    assert r.returncode == 0, r.stderr
    assert [(row["id"], row["label"]) for row in jsonl(r.stdout)] == [
        ("1", "deny"), ("3", "hedge"), ("4", "confirm"), ("5", "deny")]


def test_csv_input_with_named_columns_and_csv_output(cli, tmp_path):
    f = tmp_path / "in.csv"
    f.write_text('ref,q,statement\nA,"Is it true?","That is ""simply"" not true,\nand you know it."\n'
                 "B,,We welcome the agreement.\n", encoding="utf-8")
    r = cli("classify", f, "--text-col", "statement", "--question-col", "q", "--model", "rules", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout.decode())))
    assert [(row["id"], row["label"]) for row in rows] == [("2", "deny"), ("4", "confirm")]
    assert json.loads(rows[0]["scores"])["deny"] > 0.5
    assert rows[0]["error"] == ""


def test_table_output(cli, tmp_path):
    r = cli("classify", write_jsonl(tmp_path / "six.jsonl", SIX), "--model", "rules", "--format", "table")
    lines = r.stdout.decode().splitlines()
    assert r.returncode == 0 and lines[0].split()[:3] == ["id", "label", "score"]
    assert lines[1].split()[:2] == ["s1", "deny"] and "sheer fabrication" in lines[1]
    assert len(lines) == 7


def test_stdin(cli):
    r = cli("classify", "-", "--model", "rules", stdin=b"This is sheer fabrication.\nYes.\n")
    assert r.returncode == 0 and [row["label"] for row in jsonl(r.stdout)] == ["deny", "confirm"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing.txt", "no such file"),
    (lambda p: p, "is a directory"),
    (lambda p: (p / "bin.txt", (p / "bin.txt").write_bytes(b"\x7fELF\x00\x01\x02binary"))[0], "binary file"),
    (lambda p: (p / "bad.txt", (p / "bad.txt").write_bytes(b"fine line\ncaf\xe9 au lait\n"))[0], "bad.txt:2: not valid utf-8"),
    (lambda p: (p / "empty.txt", (p / "empty.txt").write_bytes(b""))[0], "empty file"),
    (lambda p: (p / "blank.txt", (p / "blank.txt").write_bytes(b"  \n\n \t \n"))[0], "no statements"),
    (lambda p: (p / "nocol.csv", (p / "nocol.csv").write_text("a,b\n1,2\n"))[0], "nocol.csv:1: no 'answer' or 'text' column"),
])
def test_unusable_input_exits_2_with_one_line_message(cli, tmp_path, make, message):
    path = make(tmp_path)
    r = cli("classify", path, "--model", "rules")
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert message in err and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert r.stdout == b""


def test_bad_rows_become_error_rows_and_exit_3(cli, tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text('{"id": "a", "answer": "Yes."}\n{not json\n{"id": "c", "question": "q?"}\n'
                 '{"id": "d", "answer": 7}\n{"id": "e", "answer": "No."}\n', encoding="utf-8")
    r = cli("classify", f, "--model", "rules")
    assert r.returncode == 3
    rows = jsonl(r.stdout)
    assert [row["id"] for row in rows] == ["a", "2", "c", "d", "e"]
    errors = {row["id"]: row["error"] for row in rows if row["error"]}
    assert set(errors) == {"2", "c", "d"}
    assert f"{f}:2: malformed JSON" in errors["2"] and "no 'answer' or 'text'" in errors["c"]
    assert all(row["label"] is None and row["scores"] is None for row in rows if row["error"])
    assert "Traceback" not in r.stderr.decode()


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli("classify").returncode == 2
    assert cli("classify", "x.txt", "--format", "xml").returncode == 2
    r = cli("classify", write_jsonl(tmp_path / "a.jsonl", SIX[:1]), "--model", "no-such-model")
    assert r.returncode == 2 and "no-such-model" in r.stderr.decode()


def test_latin1_with_explicit_encoding(cli, tmp_path):
    f = tmp_path / "l1.txt"
    f.write_bytes("The café report is sheer fabrication.\n".encode("latin-1"))
    r = cli("classify", f, "--encoding", "latin-1", "--model", "rules")
    assert r.returncode == 0 and jsonl(r.stdout)[0]["label"] == "deny"


def test_eval_json(cli, tmp_path):
    rows = [dict(r, label=lab, split=sp) for r, lab, sp in zip(
        SIX, ["deny", "confirm", "hedge", "deny", "confirm", "hedge"], ["dev"] * 5 + ["train"])]
    f = write_jsonl(tmp_path / "lab.jsonl", rows)
    r = cli("eval", f, "--model", "rules", "--where", "split=dev", "--group-by", "id", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["n"] == 5 and out["accuracy"] == 1.0 and out["macro_f1"] == 1.0
    assert set(out["groups"]) == {"s1", "s2", "s3", "s4", "s5"}
    assert out["confusion"] == [[2, 0, 0], [0, 2, 0], [0, 0, 1]]
    bad = write_jsonl(tmp_path / "bad.jsonl", [dict(SIX[0], label="maybe")])
    r = cli("eval", bad, "--model", "rules")
    assert r.returncode == 2 and "bad.jsonl:1: label 'maybe'" in r.stderr.decode()


def test_full_disk_gives_one_line_and_no_partial_file(cli, tmp_path, monkeypatch, capsys):
    import errno

    from stancekit import cli as cli_module
    from stancekit.writers import Writer

    src = tmp_path / "in.txt"
    src.write_text("No.\n" * 600, encoding="utf-8")
    r = cli("classify", src, "--model", "rules", "-o", "/dev/full")
    assert r.returncode == 2
    assert r.stderr.decode().strip() == "stancekit: error: /dev/full: cannot write output (No space left on device)"

    calls = {"n": 0}
    real_write = Writer.write

    def failing_write(self, row):
        calls["n"] += 1
        if calls["n"] > 300:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, row)

    monkeypatch.setattr(Writer, "write", failing_write)
    target = tmp_path / "out.jsonl"
    assert cli_module.main(["classify", str(src), "--model", "rules", "-o", str(target)]) == 2
    assert "cannot write output (No space left on device)" in capsys.readouterr().err
    assert not target.exists() and not list(tmp_path.glob(".out.jsonl.tmp-*"))


def test_score_full_disk_leaves_no_output(tmp_path, monkeypatch):
    import errno

    import pytest

    from stancekit import scoring

    (tmp_path / "t.txt").write_text("Q: Is it true?\nA: This is sheer fabrication.\n", encoding="utf-8")
    out = tmp_path / "scores.jsonl"

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    real_finish = scoring._finish

    def finish(out_path, fmt, rows):
        monkeypatch.setattr(scoring.os, "fsync", no_space)
        return real_finish(out_path, fmt, rows)

    monkeypatch.setattr(scoring, "_finish", finish)
    with pytest.raises(scoring.ScoringError, match="No space left on device"):
        scoring.score([str(tmp_path / "t.txt")], out, model="rules")
    assert not out.exists() and not list(tmp_path.glob(".scores.jsonl.tmp-*"))
