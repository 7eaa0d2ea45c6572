"""The project's own corpus: schema, coverage, and no near-duplicates (of itself or of ../shared)."""
import json
from collections import Counter

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import linear_kernel

from stancekit.data import read_labelled, written_corpus_files
from stancekit.labels import LABELS

FIELDS = {"id", "source", "split", "question", "answer", "label", "ministry", "note"}
NEAR_DUPLICATE = 0.8


@pytest.fixture(scope="module")
def corpus():
    rows = []
    for path in written_corpus_files():
        for row in read_labelled(path):
            row["_file"] = path.name
            rows.append(row)
    return rows


def text(row):
    return (row.get("question") or "") + " " + row["answer"]


def test_schema_and_size(corpus):
    assert len(corpus) >= 2000
    for row in corpus:
        assert set(row) - {"_line", "_file"} == FIELDS, (row["_file"], row["_line"])
        assert row["label"] in LABELS and row["split"] in ("train", "dev")
    ids = Counter(r["id"] for r in corpus)
    assert not [i for i, c in ids.items() if c > 1]


def test_coverage_of_governments_and_labels(corpus):
    ministries = Counter(r["ministry"] for r in corpus)
    assert len([m for m, c in ministries.items() if c >= 20]) >= 8, ministries
    labels = Counter(r["label"] for r in corpus)
    assert all(labels[lab] >= 0.15 * len(corpus) for lab in LABELS), labels
    assert np.median([len(r["answer"]) for r in corpus]) >= 250


def test_splits_are_disjoint_by_source(corpus):
    by_source = {}
    for r in corpus:
        by_source.setdefault(r["source"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_source.values())
    dev = sum(r["split"] == "dev" for r in corpus)
    assert 0.1 * len(corpus) <= dev <= 0.25 * len(corpus)


def _max_similarity(a_texts, b_texts=None):
    vec = TfidfVectorizer(sublinear_tf=True).fit(a_texts + (b_texts or []))
    a = vec.transform(a_texts)
    b = a if b_texts is None else vec.transform(b_texts)
    worst = []
    for start in range(0, a.shape[0], 500):
        sims = linear_kernel(a[start:start + 500], b)
        if b_texts is None:
            for k in range(sims.shape[0]):
                sims[k, start + k] = 0.0
        j = sims.argmax(axis=1)
        worst.extend(zip(range(start, start + sims.shape[0]), np.asarray(j).ravel(), sims.max(axis=1)))
    return worst


def test_no_near_duplicates_within_the_corpus(corpus):
    texts = [text(r) for r in corpus]
    dups = [(corpus[i]["id"], corpus[j]["id"], round(float(s), 3))
            for i, j, s in _max_similarity(texts) if s >= NEAR_DUPLICATE]
    assert not dups, dups[:10]


def test_no_near_duplicates_of_the_real_briefings(corpus, shared_file):
    shared = [json.loads(line) for line in open(shared_file, encoding="utf-8")]
    shared_texts = [(r.get("question") or "") + " " + r["answer"] for r in shared]
    dups = [(corpus[i]["id"], shared[j]["id"], round(float(s), 3))
            for i, j, s in _max_similarity([text(r) for r in corpus], shared_texts) if s >= NEAR_DUPLICATE]
    assert not dups, dups[:10]
    # answers alone too: a copied answer under a new question is still a copy (stock one-liners such as
    # "No." or "I'm not aware of that." are everyday phrases, not copies, so only substantive answers count)
    long_rows = [r for r in corpus if len(r["answer"].split()) >= 15]
    dups = [(long_rows[i]["id"], shared[j]["id"]) for i, j, s in
            _max_similarity([r["answer"] for r in long_rows], [r["answer"] for r in shared]) if s >= NEAR_DUPLICATE]
    assert not dups, dups[:10]
