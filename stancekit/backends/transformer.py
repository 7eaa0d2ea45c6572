"""Fine-tuned transformer backend: ONNX Runtime (default, no torch) or torch.

Both runners read the same windows (:mod:`stancekit.windows`) built with the fast
``tokenizers`` tokenizer, so the inference path never imports ``transformers``
unless ``backend="torch"`` is asked for. Window logits are averaged per answer,
divided by the calibrated temperature and soft-maxed.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from ..windows import WindowBuilder, WindowPolicy, aggregate, pad_batch


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def thread_count(threads: Optional[int] = None) -> int:
    """Threads to use: the argument, else ``STANCEKIT_THREADS``, else the CPUs this process may use."""
    if threads:
        return threads
    if os.environ.get("STANCEKIT_THREADS"):
        return max(1, int(os.environ["STANCEKIT_THREADS"]))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class OnnxRunner:
    """Runs an ONNX sequence-classification graph on the CPU, one window per call, several calls at once.

    The int8 graph quantises activations from the tensor it is given, so a window must be run
    alone for its scores not to depend on its neighbours; alone it also needs no padding. Windows
    are spread over ``threads`` single-threaded calls of one session rather than one call using
    every thread: ~130 tokens are too few to split a matrix product well (model step alone, measured
    on 2 cores: 163–171 answers/s against 122–133 with one call on two intra-op threads).
    """

    max_batch = 1

    def __init__(self, path: Path, threads: Optional[int] = None):
        import onnxruntime as ort

        self.threads = thread_count(threads)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # every window has its own shape: per-shape memory patterns and the arena would grow with the
        # input (measured: 1.5 GB after 1k answers, 2.3 GB after 4k); plain allocations stay flat
        opts.enable_mem_pattern = False
        opts.enable_cpu_mem_arena = False
        # Add + LayerNormalization stay apart: the fused CPU SkipLayerNormalization took 3.5x their time
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"],
                                            disabled_optimizers=["SkipLayerNormFusion"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._pool = None

    def __call__(self, batch: dict) -> np.ndarray:
        feeds = {k: v for k, v in batch.items() if k in self.input_names}
        return self.session.run(None, feeds)[0]

    def map(self, batches: Sequence[dict]) -> List[np.ndarray]:
        """Logits of each batch, in order (the session is thread-safe; ONNX Runtime drops the GIL)."""
        if self.threads == 1 or len(batches) < 2:
            return [self(b) for b in batches]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="stancekit-onnx")
        return list(self._pool.map(self, batches))


class TorchRunner:
    """Runs a Hugging Face checkpoint folder with torch (for users who train their own)."""

    #: torch is fastest on length-sorted batches (benchmarks/run.py: 16 was the best of 1-32 here)
    max_batch = 16

    def __init__(self, folder: Path, threads: Optional[int] = None):
        import torch
        from transformers import AutoModelForSequenceClassification

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        self.model = AutoModelForSequenceClassification.from_pretrained(str(folder))
        self.model.eval()

    def __call__(self, batch: dict) -> np.ndarray:
        with self.torch.inference_mode():
            out = self.model(**{k: self.torch.from_numpy(v) for k, v in batch.items()})
        return out.logits.float().numpy()

    def map(self, batches: Sequence[dict]) -> List[np.ndarray]:
        return [self(b) for b in batches]


class TransformerBackend:
    """Windows → runner → per-answer calibrated probabilities."""

    name = "transformer"

    def __init__(self, runner, tokenizer, policy: WindowPolicy, temperature: float = 1.0, batch_size: int = 32,
                 use_question: bool = True):
        self.runner = runner
        self.use_question = use_question
        self.builder = WindowBuilder(tokenizer, policy)
        self.temperature = float(temperature)
        self.batch_size = batch_size

    def logits(self, docs: Sequence, questions: Optional[Sequence[Optional[str]]] = None,
               batch_size: Optional[int] = None) -> np.ndarray:
        """Uncalibrated answer logits (mean of window logits), windows run in length-sorted batches."""
        # the caller's batch size sets how many answers are read together; the runner caps how many
        # windows go through the model at once (see OnnxRunner)
        batch_size = min(batch_size or self.batch_size, self.runner.max_batch)
        windows = self.builder.build(docs, questions if self.use_question else None)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        groups = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
        results = self.runner.map([pad_batch([windows[i] for i in idx]) for idx in groups])
        out = np.zeros((len(windows), results[0].shape[1]), dtype=np.float64)
        for idx, logits in zip(groups, results):
            out[idx] = logits
        return aggregate(out, [w.answer_index for w in windows], len(docs))

    def predict_proba(self, docs: Sequence, questions: Optional[Sequence[Optional[str]]] = None,
                      batch_size: Optional[int] = None) -> np.ndarray:
        return _softmax(self.logits(docs, questions, batch_size) / self.temperature)


def load_tokenizer(path: Path):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok
