"""ONNX export, graph fusion and batch-invariant int8 quantisation.

The exported BERT graph is fused by ONNX Runtime's transformer optimizer
(one ``Attention`` op per layer, ``BiasGelu``, ``EmbedLayerNormalization``):
fewer, larger kernels. The int8 model quantises the weights per output channel
and the activations dynamically, from the tensor being multiplied; the inputs
of the feed-forward and attention-output MatMuls are first scaled per token
(:func:`scale_rows`), so each token gets the whole int8 range. Dynamic
activation scales would make a row's result depend on the other rows of its
batch, so the ONNX runner feeds one window at a time (no padding either): a
statement's scores depend on that statement only.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Sequence

if TYPE_CHECKING:
    import numpy as np


def export_onnx(model, path: Path, opset: int = 17) -> Path:
    """Export a Hugging Face sequence classifier (torch) to ONNX with dynamic batch/length axes.

    Attention is exported in its eager form (MatMul/Softmax), the pattern ONNX Runtime fuses;
    the SDPA export is not recognised by its optimizer.
    """
    import torch

    model.eval()
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    example = {
        "input_ids": torch.ones((2, 16), dtype=torch.long),
        "attention_mask": torch.ones((2, 16), dtype=torch.long),
        "token_type_ids": torch.zeros((2, 16), dtype=torch.long),
    }
    dynamic = {name: {0: "batch", 1: "sequence"} for name in example}
    dynamic["logits"] = {0: "batch"}

    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    with torch.no_grad():
        torch.onnx.export(
            Wrapped(model), (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
            str(path), input_names=list(example), output_names=["logits"], dynamic_axes=dynamic,
            opset_version=opset, dynamo=False,
        )
    return Path(path)


def fuse_bert(src: Path, out_path: Path, num_heads: int, hidden_size: int) -> dict:
    """Fuse attention, the embedding layer norm and GELU with ONNX Runtime's transformer optimizer
    (still fp32); the residual Add + LayerNormalization pairs are left apart.

    Returns the count of each fused operator; a graph whose attention did not fuse is an error,
    since the int8 model would then lose most of its speed.
    """
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    # ONNX Runtime's CPU SkipLayerNormalization took 3.5x the time of Add + LayerNormalization here
    options.enable_skip_layer_norm = False
    fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                                     optimization_options=options, opt_level=0)
    stats = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    if not stats.get("Attention"):
        raise RuntimeError(f"{src}: ONNX Runtime did not fuse the attention layers ({stats})")
    fused.save_model_to_file(str(out_path))
    return stats


def scale_rows(src: Path, out_path: Path) -> int:
    """Rewrite each encoder ``x @ W`` as ``((x / r) @ W) * r`` with ``r`` the largest ``|x|`` of each token.

    Exact in fp32. Dynamic int8 takes one activation range per tensor, so a few tokens with large
    activations used to coarsen every other token's quantisation; scaled, each token spans [-1, 1]
    and keeps the whole int8 range (on the dev split this cut the mean logit error against fp32
    about threefold). Returns the number of MatMuls rewritten.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    weights = {i.name for i in graph.initializer}
    graph.initializer.append(numpy_helper.from_array(np.array(1e-6, dtype=np.float32), "row_scale_floor"))
    nodes, scaled, rewritten = [], {}, 0
    for node in graph.node:
        if not (node.op_type == "MatMul" and node.input[1] in weights and "/encoder/" in node.name):
            nodes.append(node)
            continue
        x, w, (y,) = node.input[0], node.input[1], node.output
        if x not in scaled:  # MatMuls that read the same tensor share its scaling
            p = f"{node.name}/row_scale"
            nodes += [
                helper.make_node("Abs", [x], [p + "/abs"], name=p + "/abs"),
                helper.make_node("ReduceMax", [p + "/abs"], [p + "/max"], name=p + "/max", keepdims=1, axes=[-1]),
                helper.make_node("Max", [p + "/max", "row_scale_floor"], [p + "/r"], name=p + "/r"),
                helper.make_node("Div", [x, p + "/r"], [p + "/x"], name=p + "/div"),
            ]
            scaled[x] = (p + "/x", p + "/r")
        xs, r = scaled[x]
        nodes += [
            helper.make_node("MatMul", [xs, w], [node.name + "/scaled"], name=node.name),
            helper.make_node("Mul", [node.name + "/scaled", r], [y], name=node.name + "/unscale"),
        ]
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(out_path))
    return rewritten


def quantize_int8(fused_path: Path, out_path: Path) -> Path:
    """Int8 weights (per output channel) for the MatMuls and fused Attention ops; activations are
    quantised at run time per input tensor. Embeddings, LayerNorms and the classifier stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fused_path), str(out_path), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"],
                     # the fused contrib ops carry no inferred types for their outputs
                     extra_options={"DefaultTensorType": 1})
    return Path(out_path)


def weight_hessians(model, windows: Sequence) -> Dict[str, np.ndarray]:
    """``X^T X`` of the input of each encoder ``Linear`` over calibration windows, keyed by module name."""
    import numpy as np
    import torch

    from .windows import pad_batch

    layers = {name: m for name, m in model.named_modules()
              if isinstance(m, torch.nn.Linear) and ".encoder." in f".{name}."}
    sums = {name: torch.zeros((m.in_features, m.in_features), dtype=torch.float64) for name, m in layers.items()}

    def hook(name):
        def add(module, inputs):
            x = inputs[0].reshape(-1, inputs[0].shape[-1])
            sums[name] += (x.T @ x).double()
        return add

    handles = [m.register_forward_pre_hook(hook(name)) for name, m in layers.items()]
    model.eval()
    try:
        with torch.inference_mode():
            for window in windows:  # one window per call, as at inference: no padding rows
                model(**{k: torch.from_numpy(v) for k, v in pad_batch([window]).items()})
    finally:
        for h in handles:
            h.remove()
    return {name: np.asarray(s.numpy()) for name, s in sums.items()}


def round_weights(weight: np.ndarray, hessian: np.ndarray, damp: float = 0.01) -> np.ndarray:
    """Int8-grid values for ``weight`` (``[in, out]``) chosen to keep ``x @ weight`` close on the
    calibration inputs (GPTQ: round one input row at a time, pass its error on to the rows not yet
    rounded, weighted by the inverse of ``hessian``). The grid is the one ONNX Runtime's per-channel
    quantiser derives from the result, ``max|column| / 127``, so it keeps these values exactly."""
    import numpy as np

    w = weight.astype(np.float64).copy()
    k_in = w.shape[0]
    peak = np.abs(w).argmax(axis=0)
    step = np.abs(w).max(axis=0) / 127.0
    step[step == 0] = 1.0
    h = hessian.astype(np.float64).copy()
    unused = np.diag(h) == 0
    h[unused, unused] = 1.0
    w[unused] = 0.0
    h += damp * np.mean(np.diag(h)) * np.eye(k_in)
    inv_chol = np.linalg.cholesky(np.linalg.inv(h)).T  # upper triangular
    q = np.zeros_like(w)
    for k in range(k_in):
        q[k] = np.clip(np.round(w[k] / step), -127, 127)
        err = (w[k] - q[k] * step) / inv_chol[k, k]
        w[k + 1:] -= np.outer(inv_chol[k, k + 1:], err)
    # keep each column's largest value on +-127 so the quantiser derives the same step
    cols = np.arange(q.shape[1])
    q[peak, cols] = np.sign(weight[peak, cols]) * 127
    return (q * step).astype(np.float32)


def set_rounded_weights(path: Path, model, windows: Sequence) -> int:
    """Replace the encoder MatMul weights of an ONNX file by :func:`round_weights` of them,
    calibrated on ``windows`` of training data. Returns the number of weights replaced."""
    import onnx
    from onnx import numpy_helper

    hessians = weight_hessians(model, windows)
    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    by_name = {i.name: i for i in graph.initializer}
    done, attention = 0, 0
    for node in graph.node:
        # "/inner/bert/encoder/layer.0/output/dense/MatMul" is the module "bert.encoder.layer.0.output.dense";
        # the fused Attention ops, in layer order, hold the query, key and value weights side by side
        module = node.name.removeprefix("/inner/").removesuffix("/MatMul").replace("/", ".")
        if node.op_type == "Attention":
            module = f"bert.encoder.layer.{attention}.attention.self.query"
            attention += 1
        if node.op_type in ("MatMul", "Attention") and module in hessians and node.input[1] in by_name:
            init = by_name[node.input[1]]
            init.CopyFrom(numpy_helper.from_array(round_weights(numpy_helper.to_array(init), hessians[module]),
                                                  init.name))
            done += 1
    onnx.save(graph_model, str(path))
    return done


def export_all(model, out_dir: Path, calibration: Optional[Sequence] = None) -> dict:
    """Write ``model_fp32.onnx`` (fused) and ``model.onnx`` (int8) for a torch model into ``out_dir``.

    ``calibration``: windows of training data for :func:`set_rounded_weights`; without them the
    int8 weights are plainly rounded.
    """
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        raw = export_onnx(model, Path(tmp) / "raw.onnx")
        stats = fuse_bert(raw, Path(tmp) / "fused.onnx", model.config.num_attention_heads, model.config.hidden_size)
        shutil.move(str(Path(tmp) / "fused.onnx"), out_dir / "model_fp32.onnx")
        rows_scaled = scale_rows(out_dir / "model_fp32.onnx", Path(tmp) / "scaled.onnx")
        rounded = set_rounded_weights(Path(tmp) / "scaled.onnx", model, calibration) if calibration else 0
        quantize_int8(Path(tmp) / "scaled.onnx", out_dir / "model.onnx")
    weights = (f"per-channel int8 weights, {rounded} of them rounded by GPTQ on {len(calibration)} training windows"
               if rounded else "per-channel int8 weights")
    return {"fused_operators": stats,
            "int8": f"{weights}; dynamic activations, scaled per token for {rows_scaled} encoder MatMuls",
            "window_batch": 1}
