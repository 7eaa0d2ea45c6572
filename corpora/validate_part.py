"""Check one hand-written corpus part: schema, labels, ids, and near-duplicates within the file.

Usage: python3 corpora/validate_part.py corpora/written/PART.jsonl
"""
import json
import re
import sys
from collections import Counter

FIELDS = {"id", "source", "question", "answer", "label", "ministry", "note"}
OPTIONAL = {"split"}
LABELS = {"confirm", "deny", "hedge"}


def words(text):
    return set(re.findall(r"[a-z']+", text.lower()))


def main(path):
    rows, ok = [], True
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{n}: invalid JSON: {exc}")
                ok = False
                continue
            missing = FIELDS - set(row)
            extra = set(row) - FIELDS - OPTIONAL
            if missing or extra:
                print(f"{path}:{n}: missing {sorted(missing)} extra {sorted(extra)}")
                ok = False
            if row.get("label") not in LABELS:
                print(f"{path}:{n}: bad label {row.get('label')!r}")
                ok = False
            if not str(row.get("answer", "")).strip():
                print(f"{path}:{n}: empty answer")
                ok = False
            rows.append((n, row))
    ids = Counter(r.get("id") for _, r in rows)
    for i, c in ids.items():
        if c > 1:
            print(f"{path}: duplicate id {i}")
            ok = False
    # crude near-duplicate check (Jaccard on word sets of question+answer)
    bags = [(n, words(r.get("question", "") + " " + r.get("answer", ""))) for n, r in rows]
    for i in range(len(bags)):
        for j in range(i + 1, len(bags)):
            a, b = bags[i][1], bags[j][1]
            if a and b and len(a & b) / len(a | b) >= 0.6:
                print(f"{path}: lines {bags[i][0]} and {bags[j][0]} are too similar; rewrite one")
                ok = False
    labels = Counter(r.get("label") for _, r in rows)
    lengths = sorted(len(r.get("answer", "")) for _, r in rows)
    med = lengths[len(lengths) // 2] if lengths else 0
    print(f"{len(rows)} rows; labels {dict(labels)}; median answer length {med} chars; "
          f"sources {len(set(r.get('source') for _, r in rows))}")
    print("OK" if ok else "PROBLEMS FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
