#!/usr/bin/env python
"""Cohen's kappa between the first annotation pass and the blind second pass (data/annotations/agreement/).

The first pass is read from data/annotations/, data/heldout/ and data/statements.jsonl; its label is
the one before adjudication (kept as `first_pass` on adjudicated rows). Given two pass files, they are
compared with each other instead.
Usage: python scripts/agreement.py [PASS_FILE [OTHER_PASS_FILE]]   (default: agreement/second_pass.jsonl, the held-out items)
"""
import json
import sys
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

DATA = Path(__file__).resolve().parents[1] / "data"
ROOT = DATA / "annotations"


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    first = {}
    if len(sys.argv) > 2:
        first = {row["id"]: row for row in read_rows(Path(sys.argv[2]))}
    else:
        for path in [*sorted(ROOT.glob("*.jsonl")), *sorted((DATA / "heldout").glob("*.jsonl")), DATA / "statements.jsonl"]:
            for row in read_rows(path):
                first[row["id"]] = row.get("first_pass") or row
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "agreement" / "second_pass.jsonl"
    second = read_rows(path)
    print(f"{len(second)} items labeled twice")
    for task in ("stance", "sentiment"):
        a = [first[row["id"]][task] for row in second]
        b = [row[task] for row in second]
        agree = sum(x == y for x, y in zip(a, b)) / len(a)
        print(f"{task:<10} kappa {cohen_kappa_score(a, b):.3f}  raw agreement {agree:.3f}  disagreements {sum(x != y for x, y in zip(a, b))}")


if __name__ == "__main__":
    main()
