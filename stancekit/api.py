"""The public classifier: ``load()`` a model, then ``classify`` / ``classify_many``."""
from __future__ import annotations

from pathlib import Path
from itertools import islice, zip_longest
from typing import Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from .labels import LABELS, Evidence, Stance
from .lang import detect_language
from .modelio import (
    ModelError,
    UntrustedModelError,
    default_model_name,
    is_packaged,
    resolve_model_dir,
    safe_member,
    verify_manifest,
)

RULES = "rules"
#: classify_iter reads this many batches of statements at a time (at least MIN_BLOCK statements)
BLOCK_BATCHES, MIN_BLOCK = 8, 256
#: Longest statement accepted (characters): about 170k words, far past any press answer, and spaCy's
#: own limit; longer input is an error row rather than minutes of work on one item.
MAX_TEXT_CHARS = 1_000_000


class StanceClassifier:
    """A loaded model. Use :func:`load` to get one.

    ``name``/``version`` identify the model in every output row; ``config`` is its
    ``config.json`` (empty for the built-in rules).
    """

    def __init__(self, backend, name: str, version: str, config: Optional[dict] = None,
                 path: Optional[Path] = None):
        self.backend = backend
        self.name = name
        self.version = version
        self.config = config or {}
        self.path = path

    def __repr__(self) -> str:
        return f"StanceClassifier(name={self.name!r}, version={self.version!r}, backend={self.backend.name!r})"

    @property
    def model_info(self) -> dict:
        return {"name": self.name, "version": self.version}

    def classify(self, text: str, question: Optional[str] = None) -> Stance:
        """Label one statement, read against ``question`` when given."""
        return self.classify_many([text], [question])[0]

    def classify_many(self, texts: Iterable[str], questions: Optional[Iterable[Optional[str]]] = None,
                      batch_size: int = 64) -> List[Stance]:
        """Label many statements; results come back in input order.

        An item that cannot be classified (not a string, empty, not English) gets a
        :class:`Stance` with ``error`` set and ``label``/``scores`` ``None``; the
        others are unaffected.
        """
        texts = list(texts)
        questions = None if questions is None else list(questions)
        if questions is not None and len(questions) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(questions)} questions")
        return list(self.classify_iter(texts, questions, batch_size))

    def classify_iter(self, texts: Iterable[str], questions: Optional[Iterable[Optional[str]]] = None,
                      batch_size: int = 64) -> Iterator[Stance]:
        """Label a stream of statements lazily, in input order (like ``nlp.pipe``): memory stays
        bounded by one block of statements however long the input is."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        # blocks of several model batches: the backend sorts windows by length inside a block (less
        # padding for batched runners). Preprocessing the next block in a thread while the model ran
        # gained nothing (measured): spaCy holds the GIL that the model threads need between windows.
        for block in _blocks(_pairs(texts, questions), max(BLOCK_BATCHES * batch_size, MIN_BLOCK)):
            yield from self._classify_block(block, batch_size)

    def _classify_block(self, block: List[tuple], batch_size: int) -> List[Stance]:
        from .preprocess import pipeline

        results: List[Optional[Stance]] = [None] * len(block)
        todo = []
        for i, (text, question) in enumerate(block):
            problem, lang = _check_input(text, question)
            if problem:
                results[i] = Stance(label=None, scores=None, error=problem, lang=lang)
            else:
                todo.append(i)
        docs = list(pipeline().pipe((block[i][0] for i in todo), batch_size=64))
        for i, stance in zip(todo, self.classify_docs(docs, [block[i][1] for i in todo], batch_size)):
            results[i] = stance
        return results  # type: ignore[return-value]

    def classify_docs(self, docs: Sequence, questions: Optional[Sequence[Optional[str]]] = None,
                      batch_size: int = 64) -> List[Stance]:
        """Label Docs that already went through the preprocessing pipeline (cues marked)."""
        if not docs:
            return []
        from .preprocess import doc_text

        proba = np.asarray(self.backend.predict_proba(docs, questions, batch_size=batch_size), dtype=float)
        out = []
        for doc, row in zip(docs, proba):
            label = LABELS[int(np.argmax(row))]
            scores = {lab: float(p) for lab, p in zip(LABELS, row)}
            text = doc_text(doc)
            evidence = [
                Evidence(m.start, m.end, text[m.start:m.end], m.label, m.cue.name, m.negated)
                for m in (doc._.cues or ())
                if m.label == label
            ]
            out.append(Stance(label=label, scores=scores, evidence=evidence, lang="en"))
        return out


def _pairs(texts: Iterable, questions: Optional[Iterable]) -> Iterator[tuple]:
    if questions is None:
        yield from ((text, None) for text in texts)
        return
    missing = object()
    for n, (text, question) in enumerate(zip_longest(texts, questions, fillvalue=missing)):
        if text is missing or question is missing:
            raise ValueError(f"texts and questions differ in length (one of them ends after {n} items)")
        yield text, question


def _blocks(pairs: Iterator[tuple], size: int) -> Iterator[List[tuple]]:
    while True:
        block = list(islice(pairs, size))
        if not block:
            return
        yield block


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_input(text, question):
    """Return ``(error, lang)`` for an item that cannot be classified, else ``(None, lang)``."""
    if not isinstance(text, str):
        return f"text must be a string, got {type(text).__name__}", None
    if question is not None and not isinstance(question, str):
        return f"question must be a string or null, got {type(question).__name__}", None
    for name, value in (("text", text), ("question", question)):
        if value is not None and not _encodable(value):
            return f"{name} is not valid Unicode (it holds a lone surrogate code point)", None
    if not text.strip():
        return "empty text", None
    if len(text) > MAX_TEXT_CHARS:
        return f"text too long ({len(text):,} characters; the limit is {MAX_TEXT_CHARS:,})", None
    lang = detect_language(text)
    if lang != "en":
        return f"language not supported ({lang}); stancekit models read English only", lang
    return None, lang


def load(name_or_path: Union[str, Path, None] = None, *, backend: str = "onnx",
         trust_pickle: bool = False) -> StanceClassifier:
    """Load a model by shipped name or folder path (default: the best shipped model).

    ``"rules"`` is the built-in cue-rules model. Folders are checked against their
    checksum manifest; pickle-based weights from outside the installed package
    need ``trust_pickle=True``. For transformer models ``backend`` picks
    ``"onnx"`` (int8, default, no torch), ``"onnx-fp32"`` or ``"torch"`` (needs the
    ``[train]`` extra and a folder with torch weights).
    """
    name = default_model_name() if name_or_path is None else name_or_path
    if str(name) == RULES:
        from . import __version__
        from .backends.rules import RulesBackend

        return StanceClassifier(RulesBackend(), RULES, __version__)
    folder = resolve_model_dir(name)
    config = verify_manifest(folder)
    files = config.get("files") or {}
    if backend not in ("onnx", "onnx-fp32", "torch"):
        raise ValueError(f"backend must be 'onnx', 'onnx-fp32' or 'torch', got {backend!r}")
    if config["backend"] == "tfidf":
        if not (trust_pickle or is_packaged(folder)):
            raise UntrustedModelError(
                f"{folder}: joblib weights can run code when loaded; this model is not one shipped with "
                "stancekit, so pass trust_pickle=True (CLI: --trust-pickle) if you trust its source"
            )
        import joblib

        from .backends.tfidf import TfidfBackend

        estimator = joblib.load(safe_member(folder, files["estimator"]))
        scorer = TfidfBackend(estimator)
    elif config["backend"] == "transformer":
        scorer = _transformer_backend(folder, config, backend)
    else:
        raise ModelError(f"{folder / 'config.json'}: unknown backend {config['backend']!r}")
    return StanceClassifier(scorer, config.get("name", folder.name), str(config.get("version", "0")), config, folder)


def _transformer_backend(folder: Path, config: dict, backend: str):
    from .backends.transformer import OnnxRunner, TorchRunner, TransformerBackend, load_tokenizer
    from .windows import WindowPolicy

    files = config.get("files") or {}
    key = {"onnx": "onnx", "onnx-fp32": "onnx_fp32", "torch": "torch"}[backend]
    if key not in files:
        raise ModelError(f"{folder}: this model folder has no {backend} weights (has: {', '.join(files)})")
    weights = safe_member(folder, files[key])
    runner = TorchRunner(weights) if backend == "torch" else OnnxRunner(weights)
    policy = WindowPolicy.from_dict(config.get("window"))
    return TransformerBackend(runner, load_tokenizer(safe_member(folder, files["tokenizer"])), policy,
                              float(config.get("temperature", 1.0)), use_question=bool(config.get("use_question", True)))
