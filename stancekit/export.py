"""ONNX export, graph fusion and batch-invariant int8 quantisation.

The exported BERT graph is fused by ONNX Runtime's transformer optimizer
(one ``Attention`` op per layer, ``SkipLayerNormalization``, ``BiasGelu``,
``EmbedLayerNormalization``): fewer, larger kernels. The int8 model quantises
the weights per output channel and the activations dynamically, from the
tensor being multiplied. Dynamic activation scales would make a row's result
depend on the other rows of its batch, so the ONNX runner feeds one window at
a time (no padding either): a statement's scores depend on that statement only.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


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
    """Fuse attention, layer norms and GELU with ONNX Runtime's transformer optimizer (still fp32).

    Returns the count of each fused operator; a graph whose attention did not fuse is an error,
    since the int8 model would then lose most of its speed.
    """
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    fused = optimizer.optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                                     optimization_options=FusionOptions("bert"), opt_level=0)
    stats = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    if not stats.get("Attention"):
        raise RuntimeError(f"{src}: ONNX Runtime did not fuse the attention layers ({stats})")
    fused.save_model_to_file(str(out_path))
    return stats


def quantize_int8(fused_path: Path, out_path: Path) -> Path:
    """Int8 weights (per output channel) for the MatMuls and fused Attention ops; activations are
    quantised at run time per input tensor. Embeddings, LayerNorms and the classifier stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fused_path), str(out_path), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"],
                     # the fused contrib ops carry no inferred types for their outputs
                     extra_options={"DefaultTensorType": 1})
    return Path(out_path)


def export_all(model, out_dir: Path) -> dict:
    """Write ``model_fp32.onnx`` (fused) and ``model.onnx`` (int8) for a torch model into ``out_dir``."""
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        raw = export_onnx(model, Path(tmp) / "raw.onnx")
        stats = fuse_bert(raw, Path(tmp) / "fused.onnx", model.config.num_attention_heads, model.config.hidden_size)
        shutil.move(str(Path(tmp) / "fused.onnx"), out_dir / "model_fp32.onnx")
    quantize_int8(out_dir / "model_fp32.onnx", out_dir / "model.onnx")
    return {"fused_operators": stats, "int8": "dynamic activations, per-channel int8 weights",
            "window_batch": 1}
