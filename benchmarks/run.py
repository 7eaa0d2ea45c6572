"""One benchmark run: accuracy and speed of stancekit against the alternatives, on this machine.

    python benchmarks/run.py [--threads 2] [--full-model runs/stancekit-minilm] [--quick]

Writes ``benchmarks/results.json`` and ``benchmarks/results.md`` and refreshes the table in the
README between the ``<!-- bench:start -->`` / ``<!-- bench:end -->`` markers. Needs
``../shared/corpora`` (real briefings) and the ``[train]`` extra (torch fp32 and the frozen-embedding
baseline). ``--full-model`` is the training folder with torch weights (``stancekit train … --out``);
the shipped default model is the int8 ONNX of the same training run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def machine_info(threads: int) -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import onnxruntime

    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__, "date": time.strftime("%Y-%m-%d")}


def load_data(default_dir: Path):
    """``(train, dev, everything)``; train is exactly what the default model in ``default_dir`` was
    trained on (its config records the files and their sha256), so the baselines learn from the same rows."""
    from stancekit.data import read_labelled, shared_corpus_file
    from stancekit.finetune import recorded_training_rows
    from stancekit.modelio import read_config

    shared = shared_corpus_file()
    if shared is None:
        sys.exit("benchmarks need ../shared/corpora/briefings_real.jsonl")
    train = recorded_training_rows(read_config(default_dir))
    dev = read_labelled(shared, {"split": "dev"})
    everything = read_labelled(shared)
    return train, dev, everything


def accuracy(systems: dict, dev: list) -> dict:
    from systems import bootstrap_f1

    from stancekit.data import group_of
    from stancekit.evaluate import scores

    answers = [r["answer"] for r in dev]
    questions = [r.get("question") for r in dev]
    y = [r["label"] for r in dev]
    groups = [group_of(r) for r in dev]
    out, preds = {}, {}
    for name, predict in systems.items():
        t = time.time()
        pred = predict(answers, questions)
        preds[name] = pred
        res = bootstrap_f1(y, pred)
        res["per_label_f1"] = {k: v["f1"] for k, v in scores(y, pred)["per_label"].items()}
        res["groups"] = {}
        for g in sorted(set(groups)):
            idx = [i for i, gg in enumerate(groups) if gg == g]
            res["groups"][g] = bootstrap_f1([y[i] for i in idx], [pred[i] for i in idx])
        res["n"] = len(y)
        out[name] = res
        log(f"  {name}: macro-F1 {res['macro_f1']:.3f} {res['groups']} ({time.time() - t:.0f}s)")
    return out, preds


def best_throughput(clf, answers, questions) -> dict:
    """Answers/second over a sample of real answers, at the system's best batching (one warm-up first).

    Batched runners (torch) are tried at several window batch sizes; the ONNX runner always feeds
    one window per call (what keeps int8 batch-invariant), so it has one configuration.
    """
    clf.classify_many(answers[:32], questions[:32])
    runner = getattr(clf.backend, "runner", None)
    settings = (1, 4, 8, 16, 32) if runner is not None and runner.max_batch > 1 else (None,)
    results = {}
    for bs in settings:
        if bs is not None:
            runner.max_batch = bs
        t = time.perf_counter()
        clf.classify_many(answers, questions, batch_size=64)
        results[bs or 1] = len(answers) / (time.perf_counter() - t)
        log(f"    window batch {bs or 1}: {results[bs or 1]:.1f}/s")
    best = max(results, key=results.get)
    if len(settings) > 1:
        runner.max_batch = best
    # the window batch that ran: only meaningful for transformer runners
    return {"answers_per_s": results[best], "window_batch": best if runner is not None else None,
            "by_window_batch": results}


def latency(clf, answers, questions, n=60) -> dict:
    import numpy as np

    times = []
    for a, q in list(zip(answers, questions))[:n]:
        t = time.perf_counter()
        clf.classify(a, q)
        times.append(time.perf_counter() - t)
    return {"p50_ms": float(np.percentile(times, 50) * 1e3), "p95_ms": float(np.percentile(times, 95) * 1e3)}


# Peak RSS of this process image: VmHWM, not ru_maxrss, which after fork+exec still counts the parent.
_PRINT_PEAK = (
    "_hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
    "print('__BENCH__', time.perf_counter() - _t, int(_hwm) / 1024, file=sys.stderr)\n"
)


def child(code: str, threads: int, runs: int = 1, python: str = sys.executable) -> dict:
    """Run ``code`` in a fresh interpreter; wall time (median of runs) and peak RSS.

    ``python`` may be another environment's interpreter; it then runs outside the repository, so
    it imports the stancekit installed there."""
    env = dict(os.environ, STANCEKIT_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    cwd = ROOT if python == sys.executable else tempfile.gettempdir()
    walls, rss = [], []
    for _ in range(runs):
        wrapper = "import time, sys\n_t = time.perf_counter()\n" + code + "\n" + _PRINT_PEAK
        r = subprocess.run([python, "-c", wrapper], capture_output=True, text=True, env=env, cwd=cwd)
        if r.returncode != 0:
            raise RuntimeError(r.stderr[-2000:])
        line = [ln for ln in r.stderr.splitlines() if ln.startswith("__BENCH__")][-1].split()
        walls.append(float(line[1]))
        rss.append(float(line[2]))
    walls.sort()
    return {"wall_s": walls[len(walls) // 2], "peak_rss_mb": max(rss)}


def cli_run(args: list, threads: int, python: str = sys.executable) -> dict:
    """The CLI in a fresh process: wall time and peak RSS (VmHWM)."""
    code = ("from stancekit.cli import main\n"
            f"rc = main({args!r})\n"
            "assert rc in (0, 3), rc\n")
    return child(code, threads, python=python)


def folder_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def inference_env(tmp: str) -> tuple:
    """A fresh virtualenv with ``pip install .`` (no extras: what users of the default model get).
    Returns its interpreter and its site-packages size in MB."""
    subprocess.run([sys.executable, "-m", "venv", tmp], check=True)
    py = Path(tmp) / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(ROOT)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = next((Path(tmp) / "lib").glob("python*/site-packages"))
    return str(py), folder_size_mb(site)


def profile_default(clf, answers, questions) -> dict:
    """Where the time of the default path goes, on the real answers."""
    from stancekit.preprocess import pipeline
    from stancekit.windows import pad_batch

    backend = clf.backend
    t0 = time.perf_counter()
    docs = list(pipeline().pipe(answers, batch_size=64))
    t1 = time.perf_counter()
    windows = backend.builder.build(docs, questions)
    t2 = time.perf_counter()
    batches = [pad_batch([w]) for w in windows]  # as the ONNX runner feeds them: one window per call
    t = time.perf_counter()
    backend.runner.map(batches)
    model_s = time.perf_counter() - t
    cfg = {"layers": 6, "hidden": 384, "ffn": 1536}
    tokens = sum(b["input_ids"].shape[1] for b in batches)
    # dense layers: 2 * (4 H^2 + 2 H F) per token per layer; attention scores and mixing: 4 * T * H
    flops = sum(w * cfg["layers"] * (2 * (4 * cfg["hidden"] ** 2 + 2 * cfg["hidden"] * cfg["ffn"])
                                     + 4 * w * cfg["hidden"]) for w in (b["input_ids"].shape[1] for b in batches))
    t3 = time.perf_counter()
    clf.classify_many(answers, questions)
    total = time.perf_counter() - t3
    real_tokens = sum(len(w.input_ids) for w in windows)
    return {
        "answers": len(answers), "windows": len(windows),
        "mean_tokens_per_answer": real_tokens / len(answers),
        "padded_tokens": tokens, "real_tokens": real_tokens,
        "seconds": {"spacy": t1 - t0, "tokenise_and_window": t2 - t1, "model": model_s,
                    "other_python": max(0.0, total - (t1 - t0) - (t2 - t1) - model_s), "total": total},
        "model_gflop": flops / 1e9,
        "model_gflops_per_s": flops / 1e9 / model_s,
        "gflop_per_answer": flops / 1e9 / len(answers),
    }


def int8_peak(threads: int) -> dict:
    """Measured int8 and fp32 matmul throughput of ONNX Runtime on this machine (same shapes as the FFN)."""
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper

    m, k, n = 4096, 384, 1536
    out = {}
    for kind in ("int8", "fp32"):
        if kind == "int8":
            a = helper.make_tensor_value_info("A", TensorProto.UINT8, [m, k])
            b = helper.make_tensor_value_info("B", TensorProto.INT8, [k, n])
            y = helper.make_tensor_value_info("Y", TensorProto.INT32, [m, n])
            node = helper.make_node("MatMulInteger", ["A", "B"], ["Y"])
            feeds = {"A": np.random.randint(0, 255, (m, k), dtype=np.uint8),
                     "B": np.random.randint(-127, 127, (k, n), dtype=np.int8)}
        else:
            a = helper.make_tensor_value_info("A", TensorProto.FLOAT, [m, k])
            b = helper.make_tensor_value_info("B", TensorProto.FLOAT, [k, n])
            y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [m, n])
            node = helper.make_node("MatMul", ["A", "B"], ["Y"])
            feeds = {"A": np.random.rand(m, k).astype(np.float32), "B": np.random.rand(k, n).astype(np.float32)}
        model = helper.make_model(helper.make_graph([node], "mm", [a, b], [y]),
                                  opset_imports=[helper.make_opsetid("", 17)])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        sess.run(None, feeds)
        reps = 20
        t = time.perf_counter()
        for _ in range(reps):
            sess.run(None, feeds)
        out[f"{kind}_gops_per_s"] = 2 * m * k * n * reps / (time.perf_counter() - t) / 1e9
    return out


def write_markdown(results: dict) -> str:
    acc, speed = results["accuracy"], results["speed"]
    m = results["machine"]
    lines = [
        f"Measured on {m['cpu']}, {m['cores']} cores, {m['threads']} threads, onnxruntime {m['onnxruntime']}, "
        f"{m['date']}. Accuracy: real labelled dev split of `../shared/corpora` (n={next(iter(acc.values()))['n']}),"
        f" macro-F1 with 95% bootstrap intervals. Speed: a fixed random sample of {results['speed_sample']} real"
        " question+answer pairs (true lengths); answers/s at the system's best window batch (torch tried at 1, 4, 8,"
        " 16, 32; ONNX runs one window per call); p50/p95 of single `classify` calls; cold start = new process:"
        " import, load, first answer, in the inference-only install (`pip install .`, no torch), torch in the"
        " `[train]` environment; peak RSS of that cold-start process.",
        "",
        "| system | macro-F1 (dev) | China MFA | other govts | F1 confirm / deny / hedge | labels = torch fp32 |"
        " answers/s | p50 / p95 ms | cold start s | peak RSS MB | model MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    agree = results.get("agreement_with_torch_fp32", {})
    for name, a in acc.items():
        s = speed.get(name, {})
        g = a["groups"]

        def ci(x):
            return f"{x['macro_f1']:.3f} [{x['ci95'][0]:.2f}–{x['ci95'][1]:.2f}]"

        pl = a["per_label_f1"]
        lines.append(
            f"| {name} | {ci(a)} | {ci(g['China MFA'])} | {ci(g['other'])} | "
            f"{pl['confirm']:.2f} / {pl['deny']:.2f} / {pl['hedge']:.2f} | {100 * agree.get(name, float('nan')):.1f}% | "
            + (f"{s['throughput']['answers_per_s']:.1f}{_window_batch(s['throughput'])} | "
               f"{s['latency']['p50_ms']:.0f} / {s['latency']['p95_ms']:.0f} | {s['cold_start']['wall_s']:.2f} | "
               f"{s['cold_start']['peak_rss_mb']:.0f} | {s['model_mb']:.1f} |" if s else "– | – | – | – | – |")
        )
    if "default-onnx-int8" in speed and "finetuned-torch-fp32" in speed:
        ratio = (speed["default-onnx-int8"]["throughput"]["answers_per_s"]
                 / speed["finetuned-torch-fp32"]["throughput"]["answers_per_s"])
        lines += ["", f"The default path runs {ratio:.2f}x the throughput of the same model in torch fp32 at its best"
                  " batch. Cold start of the default model where torch is also installed (spaCy's thinc then imports"
                  f" torch): {results['cold_start_default_with_torch_installed']['wall_s']:.2f} s."]
    if results.get("scaling"):
        lines += ["", "Scaling of the default model over replicated real answers, inference-only install "
                  "(seconds / peak RSS MB; `classify_iter` streams the file, `classify_many` holds every input and "
                  "result in a list):", "",
                  "| answers | classify_iter | CLI `stancekit classify` | classify_many |", "|---|---|---|---|"]
        for n, row in results["scaling"].items():
            cells = [f"{row[k]['wall_s']:.1f} s / {row[k]['peak_rss_mb']:.0f} MB" if k in row else "–"
                     for k in ("classify_iter", "cli", "classify_many")]
            lines.append(f"| {int(n):,} | " + " | ".join(cells) + " |")
    p = results.get("profile")
    if p:
        sec = p["seconds"]
        lines += ["", f"Where the default path's time goes ({p['answers']} answers, {p['windows']} windows, "
                  f"{p['mean_tokens_per_answer']:.0f} tokens/answer): "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in sec.items())
                  + f". Model step: {p['model_gflops_per_s']:.0f} GFLOP/s achieved vs measured peaks "
                  f"{results['peak']['int8_gops_per_s']:.0f} GOP/s int8, {results['peak']['fp32_gops_per_s']:.0f} "
                  f"GFLOP/s fp32 (ONNX Runtime MatMul, FFN shapes, {m['threads']} threads)."]
    if results.get("installed_mb"):
        lines += ["", f"Installed size of the inference-only environment (`pip install .`, site-packages): "
                  f"{results['installed_mb']:.0f} MB."]
    return "\n".join(lines) + "\n"


def _window_batch(throughput: dict) -> str:
    wb = throughput.get("window_batch")
    return "" if wb is None else f" ({wb} window{'s' if wb > 1 else ''}/call)"


def update_readme(table: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(head + start + "\n" + table + end + tail, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--full-model", default="runs/stancekit-minilm", help="training folder with torch weights")
    ap.add_argument("--quick", action="store_true", help="scale only up to 10k answers")
    ap.add_argument("--scale", default="1000,10000,100000")
    ap.add_argument("--speed-sample", type=int, default=400, help="real pairs used for the speed figures")
    args = ap.parse_args()
    os.environ["STANCEKIT_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    from systems import FrozenEmbeddingLR, stancekit_system

    from stancekit.data import source_of
    from stancekit.modelio import default_model_name, packaged_models_dir

    results = {"machine": machine_info(args.threads)}
    default_dir = packaged_models_dir() / default_model_name()
    train, dev, everything = load_data(default_dir)
    full = ROOT / args.full_model
    log("fitting the frozen-embedding baseline")
    frozen = FrozenEmbeddingLR().fit([r["answer"] for r in train], [r.get("question") for r in train],
                                     [r["label"] for r in train], [source_of(r) for r in train])
    systems = {
        "rules": stancekit_system("rules"),
        "tfidf": stancekit_system("stancekit-tfidf"),
        "minilm-frozen-lr": frozen.predict,
        "finetuned-torch-fp32": stancekit_system(full, backend="torch"),
        "finetuned-onnx-fp32": stancekit_system(full, backend="onnx-fp32"),
        "default-onnx-int8": stancekit_system(default_model_name()),
    }
    log("accuracy on dev")
    results["accuracy"], preds = accuracy(systems, dev)
    ref = preds["finetuned-torch-fp32"]
    results["agreement_with_torch_fp32"] = {
        name: sum(a == b for a, b in zip(p, ref)) / len(ref) for name, p in preds.items()}

    # speed sample: a fixed random sample of the real pairs, so their true length distribution
    import random

    sample = random.Random(0).sample(everything, min(args.speed_sample, len(everything)))
    answers = [r["answer"] for r in sample]
    questions = [r.get("question") for r in sample]
    results["speed_sample"] = len(sample)
    results["speed"] = {}
    model_files = {"rules": None, "tfidf": packaged_models_dir() / "stancekit-tfidf" / "model.joblib",
                   "finetuned-torch-fp32": full / "torch" / "model.safetensors",
                   "finetuned-onnx-fp32": full / "model_fp32.onnx", "default-onnx-int8": default_dir / "model.onnx"}
    loads = {"rules": "'rules'", "tfidf": "'stancekit-tfidf'",
             "finetuned-torch-fp32": f"{str(full)!r}, backend='torch'",
             "finetuned-onnx-fp32": f"{str(full)!r}, backend='onnx-fp32'", "default-onnx-int8": "None"}
    cold = "import stancekit\nclf = stancekit.load({})\nclf.classify('We have no information on that.', 'Is it true?')"
    work = tempfile.mkdtemp(prefix="stancekit-bench-")
    log("inference-only environment (pip install .)")
    infer_py, results["installed_mb"] = inference_env(str(Path(work) / "venv"))
    for name, load_args in loads.items():
        log(f"speed: {name}")
        clf = systems[name].classifier
        # cold start where a user of that system runs it: torch needs the [train] extra, the rest run
        # in the inference-only install (with torch merely installed, spaCy's thinc imports it: slower)
        python = sys.executable if name == "finetuned-torch-fp32" else infer_py
        results["speed"][name] = {
            "throughput": best_throughput(clf, answers, questions),
            "latency": latency(clf, answers, questions),
            "cold_start": child(cold.format(load_args), args.threads, runs=3, python=python),
            "model_mb": folder_size_mb(model_files[name]) if model_files[name] and model_files[name].is_dir()
            else (model_files[name].stat().st_size / 1e6 if model_files[name] else 0.0),
        }
    results["cold_start_default_with_torch_installed"] = child(cold.format("None"), args.threads, runs=3)
    default = systems["default-onnx-int8"].classifier
    log("profile")
    results["profile"] = profile_default(default, [r["answer"] for r in everything], [r.get("question") for r in everything])
    results["peak"] = int8_peak(args.threads)

    sizes = [int(x) for x in args.scale.split(",")]
    if args.quick:
        sizes = [s for s in sizes if s <= 10000]
    results["scaling"] = {}
    stream = ("import itertools, json, stancekit\nclf = stancekit.load()\n"
              "rows = (json.loads(line) for line in open({path!r}))\na, b = itertools.tee(rows)\n"
              "n = sum(1 for _ in clf.classify_iter((r['answer'] for r in a), (r['question'] for r in b)))\n"
              "assert n == {n}, n")
    in_memory = ("import json, stancekit\nclf = stancekit.load()\n"
                 "rows = [json.loads(line) for line in open({path!r})]\n"
                 "out = clf.classify_many([r['answer'] for r in rows], [r['question'] for r in rows])\n"
                 "assert len(out) == {n}")
    for n in sizes:
        log(f"scaling: {n}")
        path = Path(work) / f"answers_{n}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for i in range(n):
                r = everything[i % len(everything)]
                fh.write(json.dumps({"id": str(i), "question": r.get("question"), "answer": r["answer"]}) + "\n")
        row = {"classify_iter": child(stream.format(path=str(path), n=n), args.threads, python=infer_py),
               "cli": cli_run(["classify", str(path), "--format", "jsonl", "-o", os.devnull], args.threads,
                              python=infer_py)}
        if n <= 10000:  # a list of every result grows with the input by design: shown up to 10k
            row["classify_many"] = child(in_memory.format(path=str(path), n=n), args.threads, python=infer_py)
        results["scaling"][str(n)] = row
        path.unlink()
    (ROOT / "benchmarks" / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = write_markdown(results)
    (ROOT / "benchmarks" / "results.md").write_text(table, encoding="utf-8")
    update_readme(table)
    shutil.rmtree(work, ignore_errors=True)
    print(table)


if __name__ == "__main__":
    main()
