"""Distributed scoring: the picklable ``StanceScorer`` on pandas frames, and ``--engine ray`` on a local
Ray with 2 workers giving the local engine's rows; a failing worker fails the job, never drops rows."""
from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")

import stancekit  # noqa: E402
from stancekit import distributed  # noqa: E402
from stancekit.distributed import StanceScorer  # noqa: E402
from stancekit.modelio import UntrustedModelError, packaged_models_dir  # noqa: E402
from stancekit.scoring import discover, read_scores, score  # noqa: E402

BRIEFINGS = Path(__file__).resolve().parent / "fixtures" / "briefings"
OUT_COLUMNS = ["label", "confirm", "deny", "hedge", "evidence", "error", "model"]


def cli(*args, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stancekit", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=dict(os.environ, PYTHONIOENCODING="utf-8"), timeout=timeout)


def need_ray():
    """Ray, or a failure in CI (which installs it) and a skip elsewhere."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Ray is required in CI (pip install 'stancekit[ray]') to check --engine ray")
        pytest.skip("no Ray here (CI installs it)")
    return ray


def assert_same_rows(got, expected) -> None:
    """Same rows in the same order; scores equal up to float noise (a model may batch differently)."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert {k: v for k, v in g.items() if k != "scores"} == {k: v for k, v in e.items() if k != "scores"}
        if e["scores"] is None:
            assert g["scores"] is None
        else:
            assert g["scores"] == pytest.approx(e["scores"], abs=1e-6)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The briefings plus one unreadable file, under ``corpus/`` of a work folder."""
    base = tmp_path_factory.mktemp("distributed")
    shutil.copytree(BRIEFINGS, base / "corpus")
    (base / "corpus" / "pages" / "broken.html").write_bytes(b"<p>Q: \xff\xfe</p>")
    return base


# --------------------------------------------------------------------------- the CLI (its own Ray)

def test_cli_engine_ray_gives_the_local_engines_rows(corpus):
    # first in this module: it starts and stops its own local Ray, before the in-process one below
    need_ray()
    local = cli("score", "corpus", "--out", "local.jsonl", cwd=corpus)
    on_ray = cli("score", "corpus", "--out", "ray.jsonl", "--engine", "ray", cwd=corpus)
    assert local.returncode == 3, local.stderr  # the broken page
    assert on_ray.returncode == 3, on_ray.stderr
    assert "Traceback" not in on_ray.stderr
    summary = "stancekit: 7 files (1 unreadable), 22 answers (0 not classified), 23 rows written -> "
    assert summary + "local.jsonl" in local.stderr.splitlines()
    assert summary + "ray.jsonl" in on_ray.stderr.splitlines()
    rows = read_scores(corpus / "ray.jsonl")
    assert_same_rows(rows, read_scores(corpus / "local.jsonl"))
    assert [r["label"] for r in rows if r["source"] == "corpus/china_mfa_qa.txt"] == \
        ["confirm", "deny", "hedge", "confirm", "hedge"]
    assert rows[[r["source"] for r in rows].index("corpus/pages/broken.html")]["error"]
    assert not list(corpus.glob("ray.jsonl.*")) and not list(corpus.glob(".ray.jsonl*"))


# --------------------------------------------------------------------------- in-process Ray

@pytest.fixture(scope="module")
def local_ray():
    ray = need_ray()
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def local_rows(corpus, tmp_path_factory):
    """The local engine's rows for the corpus (rules model)."""
    out = tmp_path_factory.mktemp("local") / "local.jsonl"
    summary = score([str(corpus / "corpus")], out, model="rules")
    return read_scores(out), summary


def test_score_engine_ray_matches_local(corpus, local_ray, local_rows, tmp_path, monkeypatch):
    blocks = []
    real = local_ray.data.from_pandas

    def spy(frames, *a, **k):
        blocks.append(frames)
        return real(frames, *a, **k)
    monkeypatch.setattr(local_ray.data, "from_pandas", spy)
    on_ray = score([str(corpus / "corpus")], tmp_path / "ray.parquet", model="rules", engine="ray")
    expected, local = local_rows
    assert vars(on_ray) == vars(local)
    assert (on_ray.files, on_ray.files_failed, on_ray.answers, on_ray.rows) == (7, 1, 22, 23)
    assert_same_rows(read_scores(tmp_path / "ray.parquet"), expected)
    # the answers went out in several blocks: with one block, one of the two actors would sit idle
    assert len(blocks) == 1 and len(blocks[0]) >= 2 and sum(map(len, blocks[0])) == 22


def test_a_scorer_that_raises_fails_the_job(corpus, local_ray, monkeypatch, tmp_path):
    class Raising(StanceScorer):  # local: Ray ships it by value
        def __call__(self, batch):
            if (batch["answer"] == "This is sheer fabrication.").any():
                raise ValueError("scorer exploded on purpose")
            return super().__call__(batch)

    monkeypatch.setattr(distributed, "StanceScorer", Raising)
    with pytest.raises(Exception, match="scorer exploded on purpose"):
        score([str(corpus / "corpus")], tmp_path / "s.jsonl", model="rules", engine="ray")
    assert not (tmp_path / "s.jsonl").exists()


def test_a_scorer_that_loses_rows_fails_the_job(corpus, local_ray, monkeypatch):
    class Lossy(StanceScorer):
        def __call__(self, batch):
            return super().__call__(batch).iloc[1:]

    monkeypatch.setattr(distributed, "StanceScorer", Lossy)
    with pytest.raises(RuntimeError, match="Ray returned .* rows for 22 answers"):
        distributed.score_with_ray(discover([str(corpus / "corpus")]), stancekit.load("rules"))


def test_a_worker_that_dies_is_replaced_and_its_batch_retried(corpus, local_ray, local_rows, monkeypatch,
                                                              tmp_path):
    marker = str(tmp_path / "died")

    class DiesOnce(StanceScorer):
        def __call__(self, batch):
            if not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)  # the worker process dies mid-batch
            return super().__call__(batch)

    monkeypatch.setattr(distributed, "StanceScorer", DiesOnce)
    rows, summary = distributed.score_with_ray(discover([str(corpus / "corpus")]), stancekit.load("rules"))
    assert os.path.exists(marker)
    assert_same_rows(rows, local_rows[0])
    assert vars(summary) == vars(local_rows[1])


def test_a_trusted_model_from_outside_the_package_loads_on_the_workers(corpus, local_ray, tmp_path):
    folder = shutil.copytree(packaged_models_dir() / "stancekit-tfidf", tmp_path / "tfidf")  # joblib weights
    clf = stancekit.load(folder, trust_pickle=True)  # the driver was told to trust them: the workers load them too
    rows, summary = distributed.score_with_ray(discover([str(corpus / "corpus" / "china_mfa_qa.txt")]), clf,
                                               workers=1)
    assert summary.answers == 5 and summary.answers_failed == 0
    local = clf.classify_many([r["answer"] for r in rows], [r["question"] for r in rows])
    assert [r["label"] for r in rows] == [s.label for s in local]
    assert all(r["model"] == clf.model_info for r in rows)


# --------------------------------------------------------------------------- StanceScorer on pandas

TEXTS = [
    ("Reports say the minister resigned. True?", "This is sheer fabrication."),
    (None, "At the invitation of the Government of Freedonia, the minister will visit Freedonia next week."),
    ("Will talks open?", ""),
    (float("nan"), "We have no information to provide."),
    ("Any comment?", "这纯属捏造。我们坚决反对。"),
    ("", "Das ist eine reine Erfindung und entbehrt jeder Grundlage, sagte der Sprecher heute in Berlin."),
    ("Is it true?", "That is not the case."),
]


@pytest.fixture
def frame():
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(TEXTS))], "question": [q for q, _ in TEXTS],
                         "answer": [a for _, a in TEXTS]}, index=[70, 10, 60, 20, 50, 30, 40])


def test_scorer_keeps_every_row_in_order_with_error_rows(frame):
    scorer = StanceScorer(model="rules")
    out = scorer(frame)
    assert list(out.index) == list(frame.index) and list(out["id"]) == list(frame["id"])
    assert list(out.columns) == list(frame.columns) + OUT_COLUMNS
    assert list(out["label"]) == ["deny", "confirm", None, "hedge", None, None, "deny"]
    for i in (2, 4, 5):
        row = out.iloc[i]
        assert row["error"] and math.isnan(row["confirm"]) and math.isnan(row["hedge"]) and row["label"] is None
    assert "empty text" in out.iloc[2]["error"] and "(zh)" in out.iloc[4]["error"]
    assert "not supported" in out.iloc[5]["error"]
    for row in out.to_dict("records"):
        if row["label"] is not None:
            assert row["error"] is None
            assert row[row["label"]] == max(row["confirm"], row["deny"], row["hedge"])
            assert all(e["label"] == row["label"] for e in json.loads(row["evidence"]))
        assert json.loads(row["model"]) == {"name": "rules", "version": stancekit.__version__}
    # the question column is read: the same answers without it still come back whole
    assert len(StanceScorer(model="rules", question_col=None)(frame)) == len(frame)
    assert frame.columns.tolist() == ["id", "question", "answer"]  # the input is not modified


def test_scorer_meta_describes_the_output_columns(frame):
    scorer = StanceScorer(model="rules")
    meta = StanceScorer.meta(frame)
    assert len(meta) == 0
    for part in (frame, frame.iloc[2:3], frame.iloc[:0]):  # mixed, errors only, empty
        out = scorer(part)
        assert list(out.columns) == list(meta.columns)
        assert out.dtypes.to_dict() == meta.dtypes.to_dict(), part


def test_scorer_reads_an_arrow_table(frame):
    pa = pytest.importorskip("pyarrow")
    out = StanceScorer(model="rules")(pa.Table.from_pandas(frame.reset_index(drop=True)))
    assert list(out["label"]) == ["deny", "confirm", None, "hedge", None, None, "deny"]


@pytest.mark.parametrize("model", ["rules", None])
def test_scorer_pickles_without_its_model(frame, model):
    scorer = StanceScorer(model=model, batch_size=8)
    blob = pickle.dumps(scorer)
    before = scorer(frame)  # loads the model
    assert scorer._clf is not None
    after = pickle.dumps(scorer)
    assert len(after) == len(blob) < 1000, "the pickled scorer carries its model"
    for name in (b"StanceClassifier", b"Backend", b"onnx"):
        assert name not in after
    clone = pickle.loads(after)
    assert clone._clf is None and clone.batch_size == 8 and clone.model == model
    assert scorer._clf is not None  # pickling did not unload the original either
    pd.testing.assert_frame_equal(clone(frame), before)


def test_scorer_passes_trust_pickle_to_load(frame, tmp_path):
    folder = str(shutil.copytree(packaged_models_dir() / "stancekit-tfidf", tmp_path / "tfidf"))
    with pytest.raises(UntrustedModelError):
        StanceScorer(model=folder)(frame)
    clone = pickle.loads(pickle.dumps(StanceScorer(model=folder, trust_pickle=True)))
    out = clone(frame)
    assert clone.trust_pickle and len(out) == len(frame)
    assert [label is None for label in out["label"]] == [False, False, True, False, True, True, False]
