#!/usr/bin/env python
"""Accuracy against simpler routes, on the gold test split of the dataset a model was trained on.

Prints one table: macro-F1 of each head for the majority class, the labeling functions (abstain ->
neutral), TF-IDF + logistic regression trained on the same training split, VADER (sentiment only)
and the fine-tuned model; with real sentences (speeches, news and debate arguments apart, and
together) reported separately from the written statements. Real sentences are the headline.
A last column scores the held-out news-style quotes (``data/heldout/news_quotes.jsonl``): written
blind to the training data and its briefs, never trained on, to measure text unlike our own splits.

Usage: python benchmarks/accuracy.py [--model models/default] [--heldout FILE] [--json results.json]
Needs the `bench` extra for VADER: pip install -e ".[bench]".
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from quotestance import StancePredictor  # noqa: E402
from quotestance.cli import _quiet_libraries  # noqa: E402
from quotestance.config import load_config  # noqa: E402
from quotestance.dataset import load_dataset, read_statements  # noqa: E402
from quotestance.evaluation import classification_metrics  # noqa: E402
from quotestance.labels import TASKS  # noqa: E402
from quotestance.weak import weak_labels  # noqa: E402

SLICES = {
    "real (all)": ("congressional-record", "newsmtsc", "perspectrum"),
    "speeches": ("congressional-record",),
    "news": ("newsmtsc",),
    "debate arguments": ("perspectrum",),
    "written": ("written",),
    "news-style (held out)": ("heldout",),
}


def majority(train, task, texts):
    label = Counter(v for v in train[task] if v is not None).most_common(1)[0][0]
    return [label] * len(texts)


def labeling_functions(train, task, texts):
    return [labels[task] or "neutral" for labels in weak_labels(texts)]


def tfidf_logreg(train, task, texts):
    rows = [(t, y) for t, y in zip(train["text"], train[task]) if y is not None]
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=3000, class_weight="balanced", C=4.0),
    )
    model.fit([t for t, _ in rows], [y for _, y in rows])
    return list(model.predict(texts))


def vader(train, task, texts):
    if task != "sentiment":
        return None
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    def label(text):
        score = analyzer.polarity_scores(text)["compound"]
        return "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    return [label(t) for t in texts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--heldout", default="data/heldout/news_quotes.jsonl",
                        help="held-out statements scored as one more column (JSONL, statement format)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    _quiet_libraries()
    config = load_config(Path(args.model) / "train_config.yaml")  # the very splits the model saw
    dataset = load_dataset(config.data, config.seed)
    train = dataset["train"]
    heldout = read_statements(args.heldout)
    test = {field: list(dataset["test"][field]) + [getattr(r, field) for r in heldout]
            for field in ("text", "target", *TASKS)}
    test["source"] = list(dataset["test"]["source"]) + ["heldout"] * len(heldout)
    predictor = StancePredictor.load(args.model)
    model_results = predictor.predict(test["text"], test["target"])

    def fine_tuned(_train, task, _texts):
        return [r[task] for r in model_results]

    methods = {"majority class": majority, "labeling functions": labeling_functions,
               "TF-IDF + logistic regression": tfidf_logreg, "VADER": vader, "quotestance (fine-tuned)": fine_tuned}
    predictions = {name: {task: fn(train, task, test["text"]) for task in TASKS} for name, fn in methods.items()}
    figures: dict = {}
    for slice_name, sources in SLICES.items():
        rows = [i for i, s in enumerate(test["source"]) if s in sources]
        figures[slice_name] = {"n": len(rows)}
        for name, by_task in predictions.items():
            figures[slice_name][name] = {
                task: None if by_task[task] is None else classification_metrics(
                    [test[task][i] for i in rows], [by_task[task][i] for i in rows], TASKS[task]).get("macro_f1")
                for task in TASKS
            }
    fmt = lambda v: "   -  " if v is None else f"{v:6.3f}"  # noqa: E731
    head = f"{'method':<30}" + "".join(f"{s[:22]:>24}" for s in SLICES)
    print(f"macro-F1 on the gold test split and {args.heldout} (stance / sentiment); model {args.model}")
    print(head)
    print(f"{'n':<30}" + "".join(f"{figures[s]['n']:>24}" for s in SLICES))
    for name in methods:
        print(f"{name:<30}" + "".join(f"{fmt(figures[s][name]['stance']):>15} /{fmt(figures[s][name]['sentiment'])}" for s in SLICES))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
