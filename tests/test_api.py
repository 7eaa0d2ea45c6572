"""The Python API: load, classify, classify_many, error items."""
import pytest

import stancekit
from stancekit import LABELS, Stance


@pytest.fixture(scope="module")
def rules():
    return stancekit.load("rules")


def test_classify_returns_label_scores_and_evidence(rules):
    text = "This is sheer fabrication with ulterior motives."
    s = rules.classify(text)
    assert isinstance(s, Stance)
    assert s.label == "deny" and s.error is None
    assert set(s.scores) == set(LABELS)
    assert abs(sum(s.scores.values()) - 1) < 1e-9
    assert max(s.scores, key=s.scores.get) == s.label
    assert s.evidence and all(text[e.start:e.end] == e.text for e in s.evidence)
    assert all(e.label == "deny" for e in s.evidence)


def test_evidence_offsets_survive_prefixes_and_whitespace(rules):
    text = "Wang Wenbin:\n   We   have no   relevant information to provide at this time."
    s = rules.classify(text)
    assert s.label == "hedge"
    e = s.evidence[0]
    assert text[e.start:e.end] == e.text and e.text.startswith("no")


def test_classify_many_keeps_order_and_accepts_any_iterable(rules):
    texts = ["No.", "Yes, that's correct.", "I'm not aware of that.", "We firmly oppose it."] * 5
    out = rules.classify_many(iter(texts), batch_size=3)
    assert [s.label for s in out] == ["deny", "confirm", "hedge", "deny"] * 5
    single = [rules.classify(t) for t in texts[:4]]
    assert [s.scores for s in single] == [s.scores for s in out[:4]]


def test_bad_items_become_error_results_not_exceptions(rules):
    out = rules.classify_many(["", "   ", 42, None, "这是完全捏造的。", "Это ложь и клевета на нашу страну.", "Yes."])
    assert [s.error is not None for s in out] == [True] * 6 + [False]
    assert all(s.label is None and s.scores is None for s in out[:6])
    assert out[4].lang == "zh" and "not supported" in out[4].error
    assert out[5].lang == "ru"
    assert out[6].label == "confirm"


def test_questions_must_match_texts(rules):
    with pytest.raises(ValueError, match="2 texts but 1 questions"):
        rules.classify_many(["a", "b"], ["q"])
    with pytest.raises(ValueError, match="differ in length"):
        list(rules.classify_iter(iter(["a", "b"]), iter(["q"])))


def test_classify_iter_streams_lazily_in_order(rules):
    import itertools

    pulled = []

    def endless():
        for i in itertools.count():
            pulled.append(i)
            yield ["No.", "Yes, that's correct.", "I'm not aware of that."][i % 3]

    first = list(itertools.islice(rules.classify_iter(endless(), batch_size=4), 600))
    assert [s.label for s in first] == ["deny", "confirm", "hedge"] * 200
    assert len(pulled) < 2000  # read a block at a time, not the whole (endless) input


def test_default_model_loads_and_is_not_rules():
    clf = stancekit.load()
    assert clf.name != "rules"
    assert clf.classify("There is no such plan.").label in LABELS
