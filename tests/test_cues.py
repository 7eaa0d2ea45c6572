"""The cue lexicon and the spaCy components: negation, offsets, noise, factories."""
import spacy
import pytest

from stancekit.cues import find_cues
from stancekit.preprocess import model_text, noise_spans, pipeline


def labels_of(text):
    return [(text[m.start:m.end], m.label, m.negated) for m in find_cues(text)]


@pytest.mark.parametrize("text, expected", [
    ("I can't confirm that.", "hedge"),
    ("I cannot confirm these reports.", "hedge"),
    ("I can confirm that the talks took place.", "confirm"),
    ("This is sheer fabrication.", "deny"),
    ("The report is not groundless.", "hedge"),
    ("China will not attend the meeting.", "deny"),
    ("China will attend the meeting.", "confirm"),
    ("We do not support the resolution.", "deny"),
    ("We support the resolution.", "confirm"),
    ("There is no such arrangement.", "deny"),
    ("We have no relevant information to provide.", "hedge"),
    ("We have never denied that the meeting happened.", "confirm"),
    ("I'd refer you to the competent authorities.", "hedge"),
])
def test_cue_polarity_with_negation(text, expected):
    found = labels_of(text)
    assert found, f"no cue in {text!r}"
    assert {lab for _, lab, _ in found} == {expected}, found


def test_negation_does_not_cross_clause_boundaries():
    text = "We are not surprised; we firmly oppose the sanctions."
    assert [lab for _, lab, _ in labels_of(text)] == ["deny"]
    assert not find_cues(text)[0].negated


def test_speaker_prefix_and_stage_notes_are_noise_not_text():
    text = "MR. PRICE: Well, (Laughter.) that's  not accurate."
    spans = noise_spans(text)
    assert text[spans[0][0]:spans[0][1]].strip() == "MR. PRICE:"
    assert any(text[s:e] == "(Laughter.)" for s, e in spans)
    assert model_text(text) == "Well, that's not accurate."
    assert model_text("Lin Jian: We welcome it.") == "We welcome it."
    assert model_text("A: Yes.") == "Yes."


def test_pipeline_marks_cues_with_offsets_into_original_text():
    text = "  A:   Yes,   the two sides held talks.  We have nothing further to add."
    doc = pipeline()(text)
    assert len(list(doc.sents)) == 2
    got = [(text[m.start:m.end], m.label) for m in doc._.cues]
    assert ("Yes", "confirm") in got
    assert ("held talks", "confirm") in got
    assert ("nothing further to add", "hedge") in got
    span_texts = {s.text for s in doc.spans["stancekit_cues"]}
    assert "held talks" in span_texts


def test_stancekit_component_in_a_users_pipeline():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("stancekit")
    doc = nlp("This is pure fabrication with ulterior motives.")
    assert doc._.stance.label == "deny"
    assert abs(sum(doc._.stance.scores.values()) - 1) < 1e-9
    docs = list(nlp.pipe(["I'm not aware of that.", "At the invitation of the EU, the minister will visit Brussels."]))
    assert [d._.stance.label for d in docs] == ["hedge", "confirm"]


def test_factories_are_registered_through_entry_points():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="spacy_factories")}
    assert {"stancekit", "stancekit_cues"} <= names
