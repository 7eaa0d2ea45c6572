"""`stancekit score`: every answer of a folder of briefings exactly once, with its metadata and label;
exit codes; and the crash-safe journal (SIGKILL part-way, then --resume, gives the uninterrupted rows)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import stancekit
from stancekit import scoring
from stancekit.scoring import COLUMNS, ScoringError, discover, read_scores, score

ROOT = Path(__file__).resolve().parent.parent
BRIEFINGS = Path(__file__).resolve().parent / "fixtures" / "briefings"

# One row per answer (or opening statement) of tests/fixtures/briefings, in output order:
# (file, turn, date, ministry, spokesperson, question, answer, label). label None: not asserted.
EXPECTED = [
    ("china_mfa_outlets.txt", 0, "2025-02-10", "China MFA", "Mao Ning", None,
     "Good afternoon. At the invitation of Foreign Minister Wang Yi, the Foreign Minister of Ruritania will visit "
     "China from February 12 to 14.", "confirm"),
    ("china_mfa_outlets.txt", 2, "2025-02-10", "China MFA", "Mao Ning", "Can you share the agenda of the visit?",
     "We will release information in due course. Please stay tuned.", "hedge"),
    ("china_mfa_outlets.txt", 4, "2025-02-10", "China MFA", "Mao Ning",
     "A newspaper claims that Chinese diplomats were expelled from Freedonia last week. Can you confirm?",
     "The report is groundless. That is not the case.", "deny"),
    ("china_mfa_outlets.txt", 6, "2025-02-10", "China MFA", "Mao Ning",
     "Will China send a delegation to the climate conference?",
     "At the invitation of the host country, Special Envoy Liu Zhenmin will attend the conference and deliver a "
     "speech.", "confirm"),
    ("china_mfa_outlets.txt", 8, "2025-02-10", "China MFA", "Mao Ning",
     "There are rumours that the Premier will resign. Any comment?",
     "This is sheer fabrication.\nWe firmly oppose any attempt to smear China's leaders.", "deny"),
    ("china_mfa_qa.txt", 0, "2025-01-15", "China MFA", "Lin Jian", None,
     "At the invitation of the Government of Freedonia, Vice Premier Zhang Wei will pay an official visit to "
     "Freedonia from January 18 to 20.", "confirm"),
    ("china_mfa_qa.txt", 2, "2025-01-15", "China MFA", "Lin Jian",
     "Reports say that China secretly supplied weapons to the rebels in Ruritania. What is your comment?",
     "This is sheer fabrication.", "deny"),
    ("china_mfa_qa.txt", 4, "2025-01-15", "China MFA", "Lin Jian",
     "Is the Foreign Minister going to attend the summit in Geneva next month?",
     "We have no information to provide.", "hedge"),
    ("china_mfa_qa.txt", 6, "2025-01-15", "China MFA", "Lin Jian",
     "Can you tell us more about the Vice Premier's programme in Freedonia?",
     "At the invitation of Prime Minister Jonas Berg, Vice Premier Zhang Wei will visit Freedonia from January 18 "
     "to 20.", "confirm"),
    ("china_mfa_qa.txt", 8, "2025-01-15", "China MFA", "Lin Jian",
     "Some media say the trade talks have broken down. Is that true?",
     "I'm not aware of what you mentioned. I'd refer you to the competent authorities.", "hedge"),
    ("generic_speakers.txt", 0, "2025-04-04", None, "Aiko Tanaka", None,
     "Let me begin with an announcement. At the invitation of President Ilves, the Prime Minister will visit "
     "Estonia from April 20 to 22.", "confirm"),
    ("generic_speakers.txt", 2, "2025-04-04", None, "Aiko Tanaka",
     "There are reports that the Government will raise the consumption tax. Is that true?",
     "This is sheer fabrication. There is no such plan.", "deny"),
    ("generic_speakers.txt", 4, "2025-04-04", None, "Aiko Tanaka",
     "When will the Prime Minister meet the opposition leader?", "We have no information to provide.", "hedge"),
    ("pages/mfa_press_conference.html", 1, "2025-05-06", "China MFA", "Guo Jiakun",
     "Can you give us any details about the Foreign Minister\u2019s travel plans?",
     "At the invitation of the Government of Freedonia, Foreign Minister Wang Yi will visit Freedonia from May 8 "
     "to 10.", "confirm"),
    ("pages/mfa_press_conference.html", 3, "2025-05-06", "China MFA", "Guo Jiakun",
     "Western media say China & Ruritania have signed a secret military pact. Is that true?",
     "This is sheer fabrication.", "deny"),
    ("pages/mfa_press_conference.html", 5, "2025-05-06", "China MFA", "Guo Jiakun",
     "Will the two leaders meet at the summit?", "We have no information to provide.", "hedge"),
    ("plain_statement.txt", 0, "2025-04-18", None, None, None,
     "The reports that our country has deployed additional forces to the border are groundless. This is sheer "
     "fabrication.", "deny"),
    ("plain_statement.txt", 1, "2025-04-18", None, None, None,
     "At the invitation of the Government of Freedonia, the Minister of Defence will visit Freedonia from April 25 "
     "to 27.", "confirm"),
    ("us/state_dept_briefing.txt", 0, "2025-03-12", "US State Department", "MS BRUCE", None,
     "Good afternoon, everyone. I have nothing to announce at the top today.", None),
    ("us/state_dept_briefing.txt", 2, "2025-03-12", "US State Department", "MS BRUCE",
     "Can you confirm that the Secretary will travel to Ruritania next week?",
     "Yes. At the invitation of Foreign Minister Anna Kovac, the Secretary will visit Ruritania next week.",
     "confirm"),
    ("us/state_dept_briefing.txt", 4, "2025-03-12", "US State Department", "MS BRUCE",
     "There are reports that the embassy in Freedonia is closing. Is that true?",
     "No. That is not the case. We have no plans to close the embassy.", "deny"),
    ("us/state_dept_briefing.txt", 6, "2025-03-12", "US State Department", "MS BRUCE",
     "What about the sanctions package?", "We have no information to provide at this time.", "hedge"),
]
FILES = sorted({e[0] for e in EXPECTED}, key=lambda f: Path(f).parts)
SUMMARY_OK = f"stancekit: {len(FILES)} files (0 unreadable), {len(EXPECTED)} answers (0 not classified), " \
             f"{len(EXPECTED)} rows written -> "


def cli_env() -> dict:
    return dict(os.environ, PYTHONIOENCODING="utf-8")


def run(*args, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stancekit", *map(str, args)], capture_output=True, cwd=cwd,
                          env=cli_env(), timeout=timeout, text=True)


def check_rows(rows, prefix: str = "briefings/", model_name: str | None = None) -> None:
    """The rows are EXPECTED, in order, each answer once, well-formed, with the clear labels."""
    got = [(r["source"], r["turn"]) for r in rows]
    assert got == [(prefix + e[0], e[1]) for e in EXPECTED]
    for r, (name, turn, date, ministry, speaker, question, answer, label) in zip(rows, EXPECTED):
        where = f"{name} turn {turn}"
        assert set(r) == set(COLUMNS), where
        assert (r["date"], r["ministry"], r["spokesperson"]) == (date, ministry, speaker), where
        assert r["question"] == question, where
        assert r["answer"] == answer, where
        assert r["error"] is None, where
        assert r["label"] in stancekit.LABELS, where
        assert set(r["scores"]) == set(stancekit.LABELS) and abs(sum(r["scores"].values()) - 1) < 1e-6, where
        assert max(r["scores"], key=r["scores"].get) == r["label"], where
        if label is not None:
            assert r["label"] == label, f"{where}: {answer!r} labelled {r['label']}, expected {label}"
        for e in r["evidence"]:
            assert answer[e["start"]:e["end"]] == e["text"] and e["label"] == r["label"], where
        if model_name:
            assert r["model"]["name"] == model_name, where
    # stage notes are gone from every text, markup from the HTML page
    for r in rows:
        for text in (r["question"] or "", r["answer"]):
            assert not any(note in text for note in ("Laughter", "Applause", "Inaudible", "Crosstalk", "<", "&amp;"))


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A folder holding a copy of the briefings (``briefings/``) and an output folder (``out/``)."""
    base = tmp_path_factory.mktemp("scoring")
    shutil.copytree(BRIEFINGS, base / "briefings")
    (base / "out").mkdir()
    return base


@pytest.fixture(scope="module")
def scored(work):
    """``stancekit score briefings --out out/scores.EXT`` with the default model, once per output format."""
    results = {}
    for ext in ("jsonl", "csv", "parquet"):
        out = Path("out") / f"scores.{ext}"
        started = time.monotonic()
        r = run("score", "briefings", "--out", out, cwd=work)
        results[ext] = (r, work / out, time.monotonic() - started)
    return results


def test_discover_walks_folders_recursively_in_order_and_skips_hidden(tmp_path):
    root = tmp_path / "briefings"
    shutil.copytree(BRIEFINGS, root)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".hidden.txt").write_text("Q: hidden?\nA: Yes.\n")
    (root / "notes.pdf").write_bytes(b"%PDF-1.4")
    found = discover([str(root)])
    assert found == [str(root / f) for f in FILES]
    # a file named twice, or through a glob, still comes once
    assert discover([str(root), str(root / FILES[0])]) == found
    assert discover([str(root / "*.txt")]) == [str(root / f) for f in FILES if "/" not in f]
    with pytest.raises(ScoringError, match="no such file"):
        discover([str(root / "missing")])


@pytest.mark.parametrize("ext", ["jsonl", "csv", "parquet"])
def test_score_folder_writes_every_answer_once_with_its_metadata(scored, ext):
    r, out, _ = scored[ext]
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1] == SUMMARY_OK + f"out/scores.{ext}"
    check_rows(read_scores(out), model_name=stancekit.load().name)
    # the journal is gone, and no temporary file is left next to the output
    assert sorted(p.name for p in out.parent.iterdir() if p.name.startswith(("scores", ".scores"))) \
        == sorted(f"scores.{e}" for e in scored)


def test_the_three_formats_hold_the_same_rows(scored):
    rows = {ext: read_scores(out) for ext, (_, out, _) in scored.items()}
    assert rows["csv"] == rows["jsonl"]
    assert rows["parquet"] == rows["jsonl"]
    assert (scored["csv"][1]).read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS)
    for line in scored["jsonl"][1].read_text(encoding="utf-8").splitlines():
        assert list(json.loads(line)) == list(COLUMNS)


def test_rules_model_gives_the_expected_labels(work):
    r = run("score", "briefings", "--out", "out/rules.jsonl", "--model", "rules", cwd=work)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1] == SUMMARY_OK + "out/rules.jsonl"
    check_rows(read_scores(work / "out" / "rules.jsonl"), model_name="rules")


def test_python_api_matches_the_cli(work, scored, monkeypatch):
    monkeypatch.chdir(work)
    summary = score(["briefings"], "out/api.jsonl", model=stancekit.load())
    assert (summary.files, summary.files_failed, summary.answers, summary.answers_failed, summary.rows) == \
        (len(FILES), 0, len(EXPECTED), 0, len(EXPECTED))
    assert read_scores(work / "out" / "api.jsonl") == read_scores(scored["jsonl"][1])


# --------------------------------------------------------------------------- exit codes

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde" + \
    bytes(range(256))


def test_unreadable_files_are_error_rows_and_the_rest_goes_on(tmp_path):
    shutil.copytree(BRIEFINGS, tmp_path / "briefings")
    (tmp_path / "briefings" / "latin1.txt").write_bytes("Q: Caf\xe9 ou th\xe9?\nA: Th\xe9.\n".encode("latin-1"))
    (tmp_path / "briefings" / "us" / "scan").write_bytes(PNG)  # a binary file without a suffix
    (tmp_path / "out").mkdir()
    r = run("score", "briefings", "--out", "out/s.jsonl", "--model", "rules", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    rows = read_scores(tmp_path / "out" / "s.jsonl")
    bad = {"briefings/latin1.txt", "briefings/us/scan"}
    errors = [row for row in rows if row["source"] in bad]
    assert sorted(row["source"] for row in errors) == sorted(bad)
    for row in errors:
        assert row["turn"] is None and row["label"] is None and row["scores"] is None
        assert row["source"] in row["error"] and "not UTF-8" in row["error"]
    check_rows([row for row in rows if row["source"] not in bad], model_name="rules")
    lines = r.stderr.strip().splitlines()
    assert f"stancekit: {len(FILES) + 2} files (2 unreadable), {len(EXPECTED)} answers (0 not classified), " \
           f"{len(EXPECTED) + 2} rows written -> out/s.jsonl" in lines
    for path in bad:
        assert f"stancekit: could not read {path} (recorded as an error row)" in lines


UNUSABLE = [
    ("no such input", ["missing-folder", "--out", "out/s.jsonl"], "missing-folder"),
    ("no such output folder", ["briefings", "--out", "nowhere/s.jsonl"], "nowhere"),
    ("output folder is a file", ["briefings", "--out", "afile/s.jsonl"], "afile"),
    ("unwritable output folder", ["briefings", "--out", "/proc/stancekit-test.jsonl"], "/proc"),
    ("unknown output extension", ["briefings", "--out", "out/s.xlsx"], "s.xlsx"),
]
if os.geteuid() != 0:  # root writes into a read-only folder anyway: /proc above stands in for it
    UNUSABLE.append(("read-only output folder", ["briefings", "--out", "readonly/s.jsonl"], "readonly"))


@pytest.mark.parametrize("args, mentions", [u[1:] for u in UNUSABLE], ids=[u[0] for u in UNUSABLE])
def test_unusable_runs_exit_2_with_one_line(tmp_path, args, mentions):
    shutil.copytree(BRIEFINGS, tmp_path / "briefings")
    (tmp_path / "out").mkdir()
    (tmp_path / "afile").write_text("not a folder\n")
    (tmp_path / "readonly").mkdir(mode=0o555)
    before = sorted(p for p in tmp_path.rglob("*"))
    r = run("score", *args, "--model", "rules", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stancekit: error: ") and mentions in lines[0], r.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing written, no journal left
    assert not Path("/proc/stancekit-test.jsonl.partial.jsonl").exists()


# --------------------------------------------------------------------------- kill and resume

CLEAR = ["This is sheer fabrication.", "We have no information to provide.",
         "At the invitation of the Government of Freedonia, the minister will visit Freedonia next week.",
         "I'm not aware of what you mentioned.", "That is not the case.", "Yes, the talks will take place."]


def make_corpus(folder: Path, files: int, answers: int) -> None:
    """``files`` transcripts of ``answers`` Q/A pairs each (dates and spokespeople vary), and one unreadable file."""
    for f in range(files):
        sub = folder / f"batch{f % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        lines = [f"Foreign Ministry Spokesperson {['Lin Jian', 'Mao Ning', 'Guo Jiakun'][f % 3]}'s Regular Press "
                 f"Conference on {f % 28 + 1} March 2025", ""]
        for a in range(answers):
            lines += [f"Q: Question {a} of briefing {f}: can you comment on item {f * answers + a}?", "",
                      f"A: {CLEAR[(f + a) % len(CLEAR)]} (Item {a}.)", ""]
        (sub / f"briefing-{f:04d}.txt").write_text("\n".join(lines), encoding="utf-8")
    (folder / "batch1" / "broken.txt").write_bytes(b"Q: \xff\xfe?\n")


def start_score(cwd: Path, out: str, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stancekit", "score", "corpus", "--out", out, "--model", "rules",
                             "--batch-size", "2", *extra], cwd=cwd, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def kill_when(proc: subprocess.Popen, partial: Path, out: Path, lines: int, timeout: float = 120) -> int:
    """SIGKILL ``proc`` once ``partial`` holds ``lines`` rows; the final output must not exist meanwhile."""
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        assert not out.exists(), "the final output appeared before the run completed"
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()}"
        if partial.exists():
            n = partial.read_bytes().count(b"\n")
            if n >= lines:
                os.kill(proc.pid, signal.SIGKILL)
                proc.communicate()
                assert proc.returncode == -signal.SIGKILL
                assert not out.exists()
                return n
        time.sleep(0.005)
    proc.kill()
    raise AssertionError(f"{partial} never reached {lines} rows")


def test_killed_run_resumed_gives_the_same_rows_as_an_uninterrupted_one(tmp_path):
    make_corpus(tmp_path / "corpus", files=120, answers=8)
    total = 120 * 8 + 1
    full = start_score(tmp_path, "full.jsonl")
    _, err_full = full.communicate(timeout=300)
    assert full.returncode == 3, err_full  # the broken file
    expected = read_scores(tmp_path / "full.jsonl")
    assert len(expected) == total and len({(r["source"], r["turn"]) for r in expected}) == total
    summary = err_full.strip().splitlines()[-2]
    assert summary == f"stancekit: 121 files (1 unreadable), 960 answers (0 not classified), {total} rows " \
                      "written -> full.jsonl"

    out = tmp_path / "resumed.jsonl"
    partial = tmp_path / "resumed.jsonl.partial.jsonl"
    progress = tmp_path / "resumed.jsonl.progress.json"
    # first kill: early in the run
    first = kill_when(start_score(tmp_path, out.name), partial, out, lines=20)
    assert first < total
    # second kill: part-way through the resumed run
    second = kill_when(start_score(tmp_path, out.name, "--resume"), partial, out, lines=first + 300)
    assert second < total and progress.exists()
    # a kill between a row write and its checkpoint: rows past the checkpoint, the last one cut short (more
    # of them than the rest of the run writes, so that overwriting them would not hide them either)
    checkpoint = json.loads(progress.read_text())["bytes"]
    assert checkpoint <= partial.stat().st_size
    done_row = partial.read_bytes()[:checkpoint].splitlines(keepends=True)[-1]
    with open(partial, "ab") as fh:
        fh.write(done_row * total)  # duplicates of a done row
        fh.write(b'{"source": "corpus/batch0/briefing-0000.txt", "turn": 3, "label": "hed')
    last = start_score(tmp_path, out.name, "--resume")
    _, err = last.communicate(timeout=300)
    assert last.returncode == 3, err
    assert err.strip().splitlines()[-2] == summary.replace("full.jsonl", out.name)
    assert read_scores(out) == expected  # same rows, same order, same labels and scores: no gaps, no duplicates
    assert not partial.exists() and not progress.exists()


# in-process variants of the same journal cases (quick, and they can stop the run at exact points)

class Crash(BaseException):
    """Stands in for a kill: nothing in stancekit catches it."""


@pytest.fixture
def small(tmp_path):
    make_corpus(tmp_path / "corpus", files=6, answers=5)
    paths = [str(tmp_path / "corpus")]
    score(paths, tmp_path / "expected.jsonl", model="rules", batch_size=1)
    return paths, read_scores(tmp_path / "expected.jsonl")


def crash_at_checkpoint(monkeypatch, n: int) -> None:
    """Make the ``n``-th checkpoint fail after its rows were written (and reached the file)."""
    calls = {"n": 0}
    real = scoring._Journal.checkpoint

    def checkpoint(self, fh, state):
        calls["n"] += 1
        if calls["n"] == n:
            fh.flush()
            raise Crash()
        real(self, fh, state)
    monkeypatch.setattr(scoring._Journal, "checkpoint", checkpoint)


def test_rows_written_after_the_last_checkpoint_are_dropped_on_resume(tmp_path, small, monkeypatch):
    paths, expected = small
    out = tmp_path / "s.jsonl"
    crash_at_checkpoint(monkeypatch, 7)
    with pytest.raises(Crash):
        score(paths, out, model="rules", batch_size=1)
    monkeypatch.undo()
    partial, progress = Path(f"{out}.partial.jsonl"), Path(f"{out}.progress.json")
    assert not out.exists()
    assert partial.stat().st_size > json.loads(progress.read_text())["bytes"]  # uncheckpointed rows on disk
    with open(partial, "ab") as fh:  # more of them than the rest of the run writes, the last one cut short
        fh.write(partial.read_bytes().splitlines(keepends=True)[0] * len(expected) + b'{"source": "x", "tu')
    summary = score(paths, out, model="rules", batch_size=1, resume=True)
    assert read_scores(out) == expected
    assert summary.rows == len(expected) and summary.files_failed == 1


def test_resume_without_a_checkpoint_starts_again(tmp_path, small):
    paths, expected = small
    out = tmp_path / "s.jsonl"
    Path(f"{out}.partial.jsonl").write_bytes(b'{"source": "x", "tu')  # killed before the first checkpoint
    score(paths, out, model="rules", batch_size=1, resume=True)
    assert read_scores(out) == expected


def test_a_checkpoint_left_by_an_earlier_run_is_not_trusted(tmp_path, small, monkeypatch):
    paths, expected = small
    out = tmp_path / "s.jsonl"
    crash_at_checkpoint(monkeypatch, 9)
    with pytest.raises(Crash):
        score(paths, out, model="rules", batch_size=1)  # leaves a checkpoint
    monkeypatch.undo()
    # a fresh run (no --resume) into the same output, killed before its own first checkpoint
    monkeypatch.setattr(scoring, "classify_rows", lambda *a, **k: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        score(paths, out, model="rules", batch_size=1)
    monkeypatch.undo()
    score(paths, out, model="rules", batch_size=1, resume=True)
    assert read_scores(out) == expected


def test_resume_with_other_inputs_is_refused(tmp_path, small, monkeypatch):
    paths, expected = small
    out = tmp_path / "s.jsonl"
    crash_at_checkpoint(monkeypatch, 5)
    with pytest.raises(Crash):
        score(paths, out, model="rules", batch_size=1)
    monkeypatch.undo()
    with pytest.raises(ScoringError, match="other inputs"):
        score([str(BRIEFINGS)], out, model="rules", resume=True)
    with pytest.raises(ScoringError, match="other inputs"):
        score(paths, out, model="rules", ministry="China MFA", resume=True)
    score(paths, out, model="rules", resume=True)  # the same inputs (another batch size) do resume
    assert read_scores(out) == expected
