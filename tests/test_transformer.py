"""Fine-tuning recipe (tiny run), ONNX int8 export, reload, torch-free inference, calibration."""
import json
import subprocess
import sys

import numpy as np
import pytest

from stancekit.data import read_labelled, written_corpus_files
from stancekit.finetune import expected_calibration_error, fit_temperature, split_by_source

pytest.importorskip("torch", reason="the [train] extra is needed (CI installs it)")


def test_temperature_scaling_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 3))
    p = np.exp(logits / 2.0)
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(3, p=row) for row in p])
    t = fit_temperature(logits, y)
    assert 1.8 < t < 2.2
    calibrated = np.exp(logits / t)
    calibrated /= calibrated.sum(axis=1, keepdims=True)
    raw = np.exp(logits - logits.max(axis=1, keepdims=True))
    raw /= raw.sum(axis=1, keepdims=True)
    assert expected_calibration_error(calibrated, y) < 0.03 < expected_calibration_error(raw, y)


def test_gptq_rounding_stays_on_the_int8_grid_and_beats_plain_rounding():
    from stancekit.export import round_weights

    rng = np.random.default_rng(0)
    mix = rng.normal(size=(64, 64))
    x = rng.normal(size=(2000, 64)) @ mix  # correlated inputs, as real activations are
    w = rng.normal(size=(64, 32)).astype(np.float32)
    q = round_weights(w, x.T @ x)
    step = np.abs(w).max(axis=0) / 127
    np.testing.assert_allclose(np.abs(q).max(axis=0), np.abs(w).max(axis=0), rtol=1e-6)  # same grid
    codes = q / step
    assert np.abs(codes - np.round(codes)).max() < 1e-3 and np.abs(codes).max() <= 127 + 1e-3
    plain = np.round(w / step) * step
    assert np.linalg.norm(x @ (q - w)) < 0.8 * np.linalg.norm(x @ (plain - w))


def test_validation_split_keeps_sources_whole():
    rows = [{"id": str(i), "source": f"s{i // 4}", "label": "hedge", "answer": "x"} for i in range(200)]
    train, val = split_by_source(rows, 0.15, seed=1)
    assert len(train) + len(val) == 200 and 20 <= len(val) <= 40
    assert not {r["source"] for r in train} & {r["source"] for r in val}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from stancekit.finetune import Recipe, train_transformer

    rows = []
    for path in written_corpus_files():
        rows.extend(read_labelled(path, {"split": "train"})[:8])
    recipe = Recipe(max_epochs=1, batch_size=8, max_length=128, validation_fraction=0.25, seed=3)
    out = tmp_path_factory.mktemp("tiny") / "tiny"
    return train_transformer(rows, out, recipe, log=lambda *_: None)


@pytest.mark.slow
def test_tiny_training_run_writes_a_complete_model_folder(tiny_model):
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["backend"] == "transformer" and config["labels"] == ["confirm", "deny", "hedge"]
    assert config["window"]["max_length"] == 128
    assert len(config["base_model"]["weights_sha256"]) == 64
    assert config["recipe"]["seed"] == 3 and config["temperature"] > 0
    assert config["training"]["train_rows"] + config["training"]["validation_rows"] == 8 * len(written_corpus_files())
    for f in ("model.onnx", "model_fp32.onnx", "tokenizer.json", "README.md", "manifest.json",
              "torch/model.safetensors"):
        assert (tiny_model / f).is_file(), f


@pytest.mark.slow
def test_onnx_graphs_are_fused_and_the_int8_one_is_quantised(tiny_model):
    import collections

    import onnx

    config = json.loads((tiny_model / "config.json").read_text())
    assert config["export"]["fused_operators"]["Attention"] == 6  # one per MiniLM layer
    ops = {name: collections.Counter(n.op_type for n in onnx.load(str(tiny_model / name)).graph.node)
           for name in ("model_fp32.onnx", "model.onnx")}
    # Add + LayerNormalization are left unfused (faster on CPU); the runner keeps them apart at load too
    assert ops["model_fp32.onnx"]["Attention"] == 6 and ops["model_fp32.onnx"]["LayerNormalization"] == 12
    assert ops["model_fp32.onnx"]["SkipLayerNormalization"] == 0
    assert ops["model.onnx"]["QAttention"] == 6 and ops["model.onnx"]["Attention"] == 0
    assert ops["model.onnx"]["MatMulInteger"] >= 18  # ORT fuses these with their quantise/scale ops at load
    assert ops["model.onnx"]["MatMul"] == 0
    # every feed-forward and attention-output input is scaled per token before it is quantised
    assert ops["model.onnx"]["ReduceMax"] == 18 and ops["model.onnx"]["Div"] == 18
    assert "rounded by GPTQ" in config["export"]["int8"]


@pytest.mark.slow
def test_row_scaling_leaves_the_fp32_graph_exact(tiny_model, tmp_path):
    import onnxruntime as ort

    from stancekit.export import scale_rows
    from stancekit.windows import Window, pad_batch

    assert scale_rows(tiny_model / "model_fp32.onnx", tmp_path / "scaled.onnx") == 18
    plain = ort.InferenceSession(str(tiny_model / "model_fp32.onnx"), providers=["CPUExecutionProvider"])
    scaled = ort.InferenceSession(str(tmp_path / "scaled.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for length in (5, 40, 128):
        window = Window(0, [101, *rng.integers(1000, 20000, length - 2).tolist(), 102], [0] * length, 0, 0)
        batch = pad_batch([window])
        np.testing.assert_allclose(scaled.run(None, batch)[0], plain.run(None, batch)[0], rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_int8_weights_of_the_shipped_recipe_track_fp32_closely(tiny_model):
    """Per-token scaling and GPTQ rounding keep int8 logits near fp32 (the shipped model: 99.4% of dev labels)."""
    import stancekit

    texts = [r["answer"] for path in written_corpus_files() for r in read_labelled(path, {"split": "dev"})[:6]]
    int8 = stancekit.load(tiny_model).classify_many(texts)
    fp32 = stancekit.load(tiny_model, backend="onnx-fp32").classify_many(texts)
    gap = max(abs(a.scores[k] - b.scores[k]) for a, b in zip(int8, fp32) for k in a.scores)
    assert gap < 0.02


@pytest.mark.slow
def test_onnx_int8_and_torch_agree_and_scores_are_probabilities(tiny_model):
    import stancekit

    texts = ["This is sheer fabrication.", "We have no information to provide.",
             "At the invitation of the EU, the minister will visit Brussels."]
    onnx = stancekit.load(tiny_model).classify_many(texts)
    torch_ = stancekit.load(tiny_model, backend="torch").classify_many(texts)
    fp32 = stancekit.load(tiny_model, backend="onnx-fp32").classify_many(texts)
    for a, b, c in zip(onnx, torch_, fp32):
        assert abs(sum(a.scores.values()) - 1) < 1e-6
        assert all(abs(b.scores[k] - c.scores[k]) < 1e-4 for k in b.scores)  # same graph, fp32
        assert all(abs(a.scores[k] - b.scores[k]) < 0.05 for k in a.scores)  # int8 stays close


@pytest.mark.slow
def test_shipped_folder_runs_without_torch_or_transformers(tiny_model, tmp_path):
    from stancekit.finetune import ship

    shipped = ship(tiny_model, tmp_path / "shipped")
    assert not (shipped / "torch").exists() and not (shipped / "model_fp32.onnx").exists()
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "import stancekit\n"
        f"clf = stancekit.load({str(shipped)!r})\n"
        "s = clf.classify('There is no such plan.', 'Will you send troops?')\n"
        "assert clf.backend.name == 'transformer' and s.label in ('confirm', 'deny', 'hedge')\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(s.label)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_long_answers_are_windowed_not_cut(tiny_model):
    import stancekit

    clf = stancekit.load(tiny_model)
    sentence = "China's position on this question is consistent and clear, and we hope for peace. "
    long_text = sentence * 40 + "This report is sheer fabrication."
    docs = list(__import__("stancekit.preprocess", fromlist=["pipeline"]).pipeline().pipe([long_text]))
    windows = clf.backend.builder.build(docs, ["Is the report true?"])
    assert len(windows) > 1 and max(len(w.input_ids) for w in windows) <= 128
    assert windows[-1].char_end == len(long_text)  # the last token is in a window: nothing cut
    assert clf.classify(long_text, "Is the report true?").label in ("confirm", "deny", "hedge")


@pytest.mark.slow
def test_scores_do_not_depend_on_batch_size_order_threads_or_run(tiny_model, monkeypatch):
    """Int8 with activation scales from each window, one window per call: a statement's scores depend on
    that statement only, bit for bit (#6's determinism)."""
    import random

    import stancekit

    rows = []
    for path in written_corpus_files():
        rows.extend(read_labelled(path, {"split": "dev"})[:6])
    answers, questions = [r["answer"] for r in rows], [r["question"] or None for r in rows]
    clf = stancekit.load(tiny_model)
    base = [s.scores for s in clf.classify_many(answers, questions, batch_size=64)]
    assert base == [s.scores for s in clf.classify_many(answers, questions, batch_size=64)]
    for bs in (1, 5, 17):
        assert [s.scores for s in clf.classify_many(answers, questions, batch_size=bs)] == base
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    shuffled = clf.classify_many([answers[i] for i in order], [questions[i] for i in order], batch_size=8)
    assert [shuffled[order.index(i)].scores for i in range(len(rows))] == base
    monkeypatch.setenv("STANCEKIT_THREADS", "1")
    one_thread = stancekit.load(tiny_model)
    assert one_thread.backend.runner.threads == 1
    assert [s.scores for s in one_thread.classify_many(answers, questions)] == base
