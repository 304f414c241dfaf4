#!/usr/bin/env python
"""predict.py on N generated quotes (1% bad rows) in each file format: rows in and out, order, errors, time.

Usage: python benchmarks/formats.py [--model models/default] [--n 10000]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from quote_generator import generate_quotes  # noqa: E402

BAD = [None, "", "   ", 42]


def rows(n: int) -> list[dict]:
    quotes = generate_quotes(n, seed=1)
    for i, quote in enumerate(quotes):
        quote["extra"] = i
        if i % 100 == 7:
            quote["text"] = BAD[(i // 100) % len(BAD)]
    return quotes


def write(path: Path, data: list[dict]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in data))
    elif path.suffix == ".csv":
        pd.DataFrame(data).assign(text=lambda f: f["text"].map(lambda t: t if isinstance(t, str) else ("" if t is None else str(t)))).to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pylist([{**r, "text": r["text"] if isinstance(r["text"], str) or r["text"] is None else str(r["text"])} for r in data]), path)


def read(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    return pq.read_table(path).to_pylist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--n", type=int, default=10000)
    args = parser.parse_args()
    data = rows(args.n)
    print(f"{'format':<9}{'rows in':>9}{'rows out':>10}{'order kept':>12}{'errors':>8}{'exit':>6}{'seconds':>9}{'quotes/s':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for ext in (".jsonl", ".csv", ".parquet"):
            source, target = Path(tmp) / f"in{ext}", Path(tmp) / f"out{ext}"
            write(source, data)
            start = time.perf_counter()
            done = subprocess.run([sys.executable, str(ROOT / "predict.py"), "--model", args.model, "--input", str(source),
                                   "--output", str(target), "--no-progress"], capture_output=True, text=True)
            seconds = time.perf_counter() - start
            out = read(target) if target.exists() else []
            order = [str(r["id"]) for r in out] == [str(r["id"]) for r in data]
            errors = sum(1 for r in out if r.get("error"))
            print(f"{ext[1:]:<9}{len(data):>9}{len(out):>10}{str(order):>12}{errors:>8}{done.returncode:>6}"
                  f"{seconds:>9.1f}{len(data) / seconds:>10.1f}")
            if done.returncode not in (0, 3):
                print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
