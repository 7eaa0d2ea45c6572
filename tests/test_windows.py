"""Sentence windows for long answers: nothing is cut, every token lands once."""
import numpy as np
import pytest

from stancekit.preprocess import pipeline
from stancekit.windows import WindowBuilder, WindowPolicy, aggregate, pad_batch

tokenizers = pytest.importorskip("tokenizers")


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
    words = "the a we have no information to provide china will visit talks held yes . , report is false".split()
    for w in words:
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return tok


def test_short_answer_is_one_window_with_question(tokenizer):
    doc = pipeline()("Yes, talks held.")
    w = WindowBuilder(tokenizer, WindowPolicy(32, 8)).build([doc], ["the report is false"])
    assert len(w) == 1
    assert w[0].input_ids[0] == 2 and w[0].input_ids.count(3) == 2
    assert w[0].token_type_ids[:6] == [0] * 6 and w[0].token_type_ids[-1] == 1


def test_long_answer_is_split_by_sentence_and_nothing_is_lost(tokenizer):
    sentence = "we have no information to provide . "
    text = sentence * 30 + "china will visit " * 40 + "."
    doc = pipeline()(text)
    policy = WindowPolicy(max_length=24, max_question_tokens=4)
    windows = WindowBuilder(tokenizer, policy).build([doc], ["the report is false the report is false"])
    assert len(windows) > 5
    assert all(len(w.input_ids) <= 24 for w in windows)
    answer_tokens = sum(len(w.input_ids) - 4 - 3 for w in windows)  # minus question (4) and 3 specials
    assert answer_tokens == len(tokenizer.encode(text, add_special_tokens=False).ids)
    # windows start at sentence starts unless a sentence is longer than a window
    starts = {s.start_char for s in doc.sents}
    assert sum(w.char_start in starts for w in windows) >= 10


def test_pad_batch_and_aggregate():
    from stancekit.windows import Window

    batch = pad_batch([Window(0, [2, 5, 3], [0, 0, 0], 0, 1), Window(1, [2, 3], [0, 0], 0, 1)])
    assert batch["input_ids"].tolist() == [[2, 5, 3], [2, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    logits = np.array([[1.0, 0, 0], [3.0, 0, 0], [0, 2.0, 0]])
    agg = aggregate(logits, [0, 0, 1], 2)
    assert agg.tolist() == [[2.0, 0, 0], [0, 2.0, 0]]
