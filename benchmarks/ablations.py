"""What the question and the sentence windows buy the default model, on the real dev split.

    python benchmarks/ablations.py

Inference-time ablations of the shipped model (no retraining): the answer read without its
question, and long answers cut to their first window instead of split and aggregated. Writes
``benchmarks/ablations.json`` and prints a Markdown table. Needs ``../shared/corpora``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    import stancekit
    from stancekit.data import group_of, read_labelled, shared_corpus_file
    from stancekit.evaluate import scores
    from stancekit.labels import LABELS
    from stancekit.preprocess import pipeline
    from stancekit.windows import aggregate, pad_batch

    shared = shared_corpus_file()
    if shared is None:
        sys.exit("ablations need ../shared/corpora/briefings_real.jsonl")
    dev = read_labelled(shared, {"split": "dev"})
    y = [r["label"] for r in dev]
    groups = [group_of(r) for r in dev]
    clf = stancekit.load()
    backend = clf.backend
    docs = list(pipeline().pipe([r["answer"] for r in dev], batch_size=64))

    def evaluate(questions, first_window_only=False) -> dict:
        windows = backend.builder.build(docs, questions)
        if first_window_only:
            seen = set()
            windows = [w for w in windows if not (w.answer_index in seen or seen.add(w.answer_index))]
        logits = np.concatenate(backend.runner.map([pad_batch([w]) for w in windows]))
        pred = [LABELS[i] for i in aggregate(logits, [w.answer_index for w in windows], len(dev)).argmax(axis=1)]
        out = {"macro_f1": scores(y, pred)["macro_f1"], "groups": {}}
        for g in sorted(set(groups)):
            idx = [i for i, gg in enumerate(groups) if gg == g]
            out["groups"][g] = scores([y[i] for i in idx], [pred[i] for i in idx])["macro_f1"]
        return out

    questions = [r.get("question") for r in dev]
    windows = backend.builder.build(docs, questions)
    multi = len({w.answer_index for w in windows if sum(v.answer_index == w.answer_index for v in windows) > 1})
    results = {
        "model": clf.name, "n": len(dev), "answers_with_several_windows": multi,
        "rows": {
            "question + answer, sentence windows (shipped)": evaluate(questions),
            "answer only (question dropped at inference)": evaluate([None] * len(dev)),
            "question + answer, cut to the first window": evaluate(questions, first_window_only=True),
        },
    }
    (ROOT / "benchmarks" / "ablations.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"{clf.name} on the real dev split (n={len(dev)}; {multi} answers span several windows)\n")
    print("| input | macro-F1 | China MFA | other govts |\n|---|---|---|---|")
    for name, r in results["rows"].items():
        print(f"| {name} | {r['macro_f1']:.3f} | {r['groups']['China MFA']:.3f} | {r['groups']['other']:.3f} |")


if __name__ == "__main__":
    main()
