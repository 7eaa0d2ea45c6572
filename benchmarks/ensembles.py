"""How far averaging models gets: the shipped model, its retrained siblings and TF-IDF, on real dev.

    python benchmarks/ensembles.py [runs/exp-seed1 runs/ablation-no-question runs/exp-real4]

Averages class probabilities (or, for TF-IDF, log-probabilities with a weight) of models already
trained. The siblings are training folders made with ``stancekit train`` (commands in the README);
missing ones are skipped. The TF-IDF member is refit on the training rows minus the transformer's
validation split, so the real part of that split is a fair place to choose its weight; dev is
reported only. A sibling trained with another seed carved another validation split and trained on
part of this one: validation figures of ensembles that include it are optimistic (dev is not).
Writes ``benchmarks/ensembles.json``. Needs ``../shared/corpora``. Nothing here is shipped: each
extra transformer costs a full model call per window.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = "models/stancekit-minilm"
SIBLINGS = ["runs/exp-seed1", "runs/ablation-no-question", "runs/exp-real4"]


def main(siblings) -> None:
    import stancekit
    from stancekit.backends.tfidf import TfidfStanceClassifier
    from stancekit.data import group_of, read_labelled, shared_corpus_file, source_of
    from stancekit.evaluate import scores
    from stancekit.finetune import Recipe, recorded_training_rows, split_by_source
    from stancekit.labels import LABELS
    from stancekit.modelio import read_config

    config = read_config(ROOT / SHIPPED)
    recipe = Recipe(**config["recipe"])  # the shipped model's validation split, without its file repeats
    fit_rows, val_rows = split_by_source(recorded_training_rows(config), recipe.validation_fraction, recipe.seed)
    sets = {"validation (real part)": [r for r in val_rows if "briefings_real" in r["_file"]],
            "dev": read_labelled(shared_corpus_file(), {"split": "dev"})}

    def pairs(rs):
        return [(r.get("question") or "", r["answer"]) for r in rs]

    tfidf = TfidfStanceClassifier(C="cv", random_state=0).fit(
        pairs(fit_rows), [r["label"] for r in fit_rows], groups=[source_of(r) for r in fit_rows])
    order = [list(tfidf.classes_).index(label) for label in LABELS]
    proba = {"tfidf": {k: tfidf.predict_proba(pairs(rs))[:, order] for k, rs in sets.items()}}
    members = [SHIPPED] + [s for s in siblings if (ROOT / s / "config.json").is_file()]
    for path in members:
        clf = stancekit.load(ROOT / path)
        proba[path] = {k: np.array([[s.scores[label] for label in LABELS]
                                    for s in clf.classify_many([r["answer"] for r in rs], [r.get("question") for r in rs])])
                       for k, rs in sets.items()}

    def mean_of(names, tfidf_weight=0.0):
        def combine(split):
            p = np.mean([proba[n][split] for n in names], axis=0)
            if tfidf_weight:
                return (1 - tfidf_weight) * np.log(p) + tfidf_weight * np.log(proba["tfidf"][split])
            return p
        return combine

    shipped = members[0]
    systems = {"tfidf alone": mean_of(["tfidf"]), "shipped alone": mean_of([shipped])}
    for w in (0.2, 0.3, 0.4, 0.5):
        systems[f"shipped + tfidf (log weight {w})"] = mean_of([shipped], w)
    if len(members) > 1:
        systems[f"{len(members)} transformers"] = mean_of(members)
        systems[f"{len(members)} transformers + tfidf (log weight 0.3)"] = mean_of(members, 0.3)
    results = {}
    for name, combine in systems.items():
        results[name] = {}
        for split, rs in sets.items():
            pred = [LABELS[i] for i in combine(split).argmax(axis=1)]
            gold = [r["label"] for r in rs]
            entry = {"macro_f1": scores(gold, pred)["macro_f1"]}
            if split == "dev":
                groups = [group_of(r) for r in rs]
                entry["groups"] = {g: scores([y for y, h in zip(gold, groups) if h == g],
                                             [p for p, h in zip(pred, groups) if h == g])["macro_f1"]
                                   for g in sorted(set(groups))}
            results[name][split] = entry
    (ROOT / "benchmarks" / "ensembles.json").write_text(
        json.dumps({"members": members, "results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"members: {', '.join(members)}\n")
    print("| system | validation (real part) | dev | China MFA | other govts |\n|---|---|---|---|---|")
    for name, r in results.items():
        g = r["dev"]["groups"]
        print(f"| {name} | {r['validation (real part)']['macro_f1']:.3f} | {r['dev']['macro_f1']:.3f} | "
              f"{g.get('China MFA', float('nan')):.3f} | {g.get('other', float('nan')):.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:] or SIBLINGS)
