"""Give every row of corpora/written*/*.jsonl a ``split`` (train/dev), whole sources at a time.

A source (one invented briefing) goes to dev when the first 8 hex digits of
sha256(source) fall in the lowest 15% of the range, so the split is stable
when rows are added and never straddles a briefing. Run after adding examples:
    python corpora/assign_splits.py
"""
import hashlib
import json
from pathlib import Path

DEV_SHARE = 0.15
FIELDS = ("id", "source", "split", "question", "answer", "label", "ministry", "note")


def split_of(source: str) -> str:
    h = int(hashlib.sha256(source.encode("utf-8")).hexdigest()[:8], 16)
    return "dev" if h < DEV_SHARE * 0x100000000 else "train"


def main() -> None:
    for path in sorted(Path(__file__).parent.glob("written*/*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows:
                row["split"] = split_of(row["source"])
                fh.write(json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False) + "\n")
        dev = sum(r["split"] == "dev" for r in rows)
        print(f"{path.name}: {len(rows)} rows, {dev} dev")


if __name__ == "__main__":
    main()
