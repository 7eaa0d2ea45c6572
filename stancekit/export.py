"""ONNX export and batch-invariant int8 quantisation.

Dynamic int8 picks activation scales from each batch, so a statement's scores
would depend on its neighbours. Static (calibrated) quantisation fixes every
scale ahead of time from calibration batches: a row's result depends only on
that row.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

import numpy as np


def export_onnx(model, path: Path, opset: int = 17) -> Path:
    """Export a Hugging Face sequence classifier (torch) to ONNX with dynamic batch/length axes."""
    import torch

    model.eval()
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


def activation_matmuls(path: Path) -> List[str]:
    """MatMul nodes that multiply two activations (attention scores and mixing): kept in fp32,
    where int8 loses the most accuracy for the least speed."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    weights = {i.name for i in graph.initializer}
    # weights also reach MatMul through Transpose/Cast nodes of initializers
    produced_from_weights = {o for n in graph.node if n.op_type in ("Transpose", "Cast", "Identity")
                             and all(i in weights for i in n.input) for o in n.output}
    static = weights | produced_from_weights
    return [n.name for n in graph.node if n.op_type == "MatMul" and not any(i in static for i in n.input)]


def ffn_output_matmuls(path: Path) -> List[str]:
    """The feed-forward down-projections (BERT ``layer.N/output/dense``): their inputs are GELU outputs
    with long tails that a per-tensor int8 scale fits badly (measured: label agreement with fp32 on real
    training answers rose from 98.3% to 99.7% when these stay fp32)."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node
            if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]


def quantize_int8(fp32_path: Path, out_path: Path, calibration_batches: List[dict],
                  method: str = "minmax") -> Path:
    """Static int8 (QDQ, per-channel weights) of the weight MatMuls, calibrated on real batches."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    # histogram calibrators need every batch in one shape: pad them all to the widest
    width = max(b["input_ids"].shape[1] for b in calibration_batches)
    calibration_batches = [{k: np.pad(v, ((0, 0), (0, width - v.shape[1]))) for k, v in b.items()}
                           for b in calibration_batches]

    class Reader(CalibrationDataReader):
        def __init__(self, batches):
            self.it = iter(batches)

        def get_next(self):
            return next(self.it, None)

    quantize_static(
        str(fp32_path), str(out_path), Reader(calibration_batches),
        quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gemm"],
        nodes_to_exclude=activation_matmuls(fp32_path) + ffn_output_matmuls(fp32_path),
        calibrate_method={"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                          "entropy": CalibrationMethod.Entropy}[method],
        extra_options={"CalibPercentile": 99.99},
    )
    return Path(out_path)
