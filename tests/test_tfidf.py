"""The scikit-learn estimator and its model folder (manifest, trust flag)."""
import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import stancekit
from stancekit import TfidfStanceClassifier
from stancekit.modelio import ModelIntegrityError, UntrustedModelError
from stancekit.train import train_tfidf

X = [
    ("Will the minister visit?", "At the invitation of the host, the minister will visit next week."),
    ("Is the report true?", "This is sheer fabrication."),
    ("Any comment?", "We have no relevant information to provide."),
    ("Did talks take place?", "Yes, the two sides held talks on Monday."),
    ("Reports say you sent troops.", "That is completely groundless and false."),
    ("Will there be a summit?", "I have nothing to announce at this time."),
] * 4
y = ["confirm", "deny", "hedge"] * 8


def test_estimator_api():
    est = TfidfStanceClassifier(C=1.0)
    assert est.get_params()["C"] == 1.0
    assert est.fit(X, y) is est
    assert list(est.classes_) == ["confirm", "deny", "hedge"]
    proba = est.predict_proba(X[:3])
    assert proba.shape == (3, 3) and np.allclose(proba.sum(axis=1), 1)
    assert list(est.predict(X[:3])) == ["confirm", "deny", "hedge"]
    assert est.score(X, y) == 1.0
    assert not hasattr(clone(est), "pipeline_")


def test_estimator_accepts_strings_and_dicts():
    est = TfidfStanceClassifier(C=1.0).fit([a for _, a in X], y)
    assert est.predict([{"answer": "This is sheer fabrication."}])[0] == "deny"


def test_cv_picks_C_and_works_in_pipeline_and_grid_search():
    est = TfidfStanceClassifier(C="cv", Cs=(0.1, 10.0), cv=3).fit(X, y)
    assert est.C_ in (0.1, 10.0) and set(est.cv_scores_) == {0.1, 10.0}
    grid = GridSearchCV(Pipeline([("m", TfidfStanceClassifier())]), {"m__C": [0.5, 2.0]}, cv=3).fit(X, y)
    assert grid.best_params_["m__C"] in (0.5, 2.0)


def test_unknown_label_is_rejected():
    with pytest.raises(ValueError, match="unknown labels"):
        TfidfStanceClassifier(C=1.0).fit(X[:3], ["confirm", "deny", "maybe"])


@pytest.fixture
def model_dir(tmp_path):
    data = tmp_path / "train.jsonl"
    with open(data, "w") as fh:
        for i, ((q, a), lab) in enumerate(zip(X, y)):
            fh.write(json.dumps({"id": str(i), "question": q, "answer": a, "label": lab, "source": f"s{i % 6}"}) + "\n")
    return train_tfidf([data], tmp_path / "m", C=1.0)


def test_saved_model_has_provenance_and_reloads_with_trust(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["backend"] == "tfidf" and config["labels"] == ["confirm", "deny", "hedge"]
    assert len(config["training"]["files"][0]["sha256"]) == 64
    assert (model_dir / "README.md").read_text().startswith("# m")
    clf = stancekit.load(model_dir, trust_pickle=True)
    assert clf.classify("This is sheer fabrication.").label == "deny"


def test_joblib_from_outside_the_package_needs_the_trust_flag(model_dir):
    with pytest.raises(UntrustedModelError, match="trust_pickle"):
        stancekit.load(model_dir)


def test_tampered_or_truncated_weights_are_refused(model_dir):
    weights = model_dir / "model.joblib"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        stancekit.load(model_dir, trust_pickle=True)


def test_manifest_paths_cannot_escape_the_folder(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["sha256"]["../outside.txt"] = "0" * 64
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="outside"):
        stancekit.load(model_dir, trust_pickle=True)
