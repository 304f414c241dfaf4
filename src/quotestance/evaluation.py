"""Metrics, bootstrap intervals, calibration (ECE, temperature scaling), plots and the evaluation report."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def classification_metrics(gold: Sequence[str | None], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Scores of ``pred`` against ``gold`` over the rows where gold is not None.

    The confusion matrix has gold labels as rows and predictions as columns, both in ``labels`` order.
    """
    pairs = [(g, p) for g, p in zip(gold, pred) if g is not None]
    if not pairs:
        return {"n": 0}
    y_true, y_pred = zip(*pairs)
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if support[i] > 0]
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p in pairs) / len(pairs),
        # Macro-F1 over the classes present in gold, so a tiny slice is not punished for absent classes.
        "macro_f1": float(sum(f1[i] for i in present) / len(present)),
        "per_class": {
            label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                    "support": int(support[i])}
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


# ------------------------------------------------------------------ bootstrap intervals

def _confusion(gold_idx: np.ndarray, pred_idx: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(gold_idx * k + pred_idx, minlength=k * k).reshape(k, k)


def _scores(cm: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1 (over classes present in gold) and per-class P/R/F1 from a confusion matrix."""
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(1), cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=(precision + recall) > 0)
    present = support > 0
    return {"accuracy": tp.sum() / max(cm.sum(), 1), "macro_f1": f1[present].mean() if present.any() else 0.0,
            "precision": precision, "recall": recall, "f1": f1}


def bootstrap_intervals(gold_idx: np.ndarray, pred_idx: np.ndarray, labels: Sequence[str],
                        n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """95% percentile bootstrap intervals of accuracy, macro-F1 and per-class precision, recall and F1."""
    rng = np.random.default_rng(seed)
    k, n = len(labels), len(gold_idx)
    draws: dict[str, list] = {"accuracy": [], "macro_f1": [], "precision": [], "recall": [], "f1": []}
    for _ in range(n_boot):
        sample = rng.integers(0, n, n)
        scores = _scores(_confusion(gold_idx[sample], pred_idx[sample], k))
        for key in draws:
            draws[key].append(scores[key])
    ci = lambda values: [float(v) for v in np.percentile(np.asarray(values), [2.5, 97.5], axis=0)]  # noqa: E731
    out: dict[str, Any] = {"accuracy": ci(draws["accuracy"]), "macro_f1": ci(draws["macro_f1"]), "per_class": {}}
    for i, label in enumerate(labels):
        out["per_class"][label] = {key: ci(np.asarray(draws[key])[:, i]) for key in ("precision", "recall", "f1")}
    return out


# ------------------------------------------------------------------ calibration

def _calibration_bins(probs: np.ndarray, gold_idx: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == gold_idx).astype(float)
    which = np.clip(np.digitize(confidence, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    return which, confidence, correct


def _ece(which: np.ndarray, confidence: np.ndarray, correct: np.ndarray, bins: int) -> float:
    """Sum over bins of |total confidence - total correct|, over n: the weighted mean gap per bin."""
    gap = np.bincount(which, weights=confidence, minlength=bins) - np.bincount(which, weights=correct, minlength=bins)
    return float(np.abs(gap).sum() / max(len(which), 1))


def expected_calibration_error(probs: np.ndarray, gold_idx: np.ndarray, bins: int = 15) -> float:
    """ECE: the confidence-weighted gap between top-label confidence and accuracy, over equal-width bins."""
    return _ece(*_calibration_bins(probs, gold_idx, bins), bins)


def ece_interval(probs: np.ndarray, gold_idx: np.ndarray, n_boot: int = 1000, seed: int = 0, bins: int = 15) -> list[float]:
    """95% percentile bootstrap interval of the ECE."""
    rng = np.random.default_rng(seed)
    which, confidence, correct = _calibration_bins(probs, gold_idx, bins)
    n = len(gold_idx)
    values = []
    for _ in range(n_boot):
        s = rng.integers(0, n, n)
        values.append(_ece(which[s], confidence[s], correct[s], bins))
    return [float(v) for v in np.percentile(values, [2.5, 97.5])]


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """Rescale probabilities as if their logits were divided by ``temperature``."""
    logits = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def fit_temperature(probs: np.ndarray, gold_idx: np.ndarray) -> float:
    """The temperature that minimises negative log-likelihood on held-out data (golden-section on log T)."""
    def nll(log_t: float) -> float:
        scaled = apply_temperature(probs, float(np.exp(log_t)))
        return float(-np.log(np.clip(scaled[np.arange(len(gold_idx)), gold_idx], 1e-12, 1.0)).mean())

    low, high = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    for _ in range(60):
        if nll(a) < nll(b):
            high, b = b, a
            a = high - ratio * (high - low)
        else:
            low, a = a, b
            b = low + ratio * (high - low)
    return float(np.exp((low + high) / 2))


# ------------------------------------------------------------------ report

def evaluate_head(texts: Sequence[str], gold: Sequence[str | None], probs: np.ndarray, labels: Sequence[str],
                  n_errors: int = 20, seed: int = 0) -> dict[str, Any]:
    """Everything the report shows for one head: metrics with intervals, ECE and the most confident errors."""
    keep = [i for i, g in enumerate(gold) if g is not None]
    labels = list(labels)
    gold_idx = np.array([labels.index(gold[i]) for i in keep], dtype=int)
    head_probs = probs[keep]
    pred_idx = head_probs.argmax(axis=1)
    result = classification_metrics([gold[i] for i in keep], [labels[j] for j in pred_idx], labels)
    if not keep:
        return result
    result["intervals"] = bootstrap_intervals(gold_idx, pred_idx, labels, seed=seed)
    result["ece"] = expected_calibration_error(head_probs, gold_idx)
    result["ece_ci"] = ece_interval(head_probs, gold_idx, seed=seed)
    wrong = [j for j in np.argsort(-head_probs.max(axis=1), kind="stable") if pred_idx[j] != gold_idx[j]]
    result["confident_errors"] = [
        {"text": texts[keep[j]], "gold": labels[gold_idx[j]], "predicted": labels[pred_idx[j]],
         "probability": float(head_probs[j].max())} for j in wrong[:n_errors]
    ]
    result["_reliability"] = (head_probs, gold_idx)  # for the plot; dropped before JSON
    return result


def plot_confusion(matrix: list[list[int]], labels: Sequence[str], title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5.2, 4.4), dpi=120)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=20)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reliability(probs: np.ndarray, gold_idx: np.ndarray, title: str, path: Path, bins: int = 10) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == gold_idx
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    centres = (edges[:-1] + edges[1:]) / 2
    accuracy = [correct[which == b].mean() if (which == b).any() else np.nan for b in range(bins)]
    counts = [int((which == b).sum()) for b in range(bins)]
    fig, ax = plt.subplots(figsize=(5.2, 4.4), dpi=120)
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.bar(centres, accuracy, width=1 / bins * 0.9, alpha=0.75, label="accuracy in bin")
    for x, y, c in zip(centres, accuracy, counts):
        if c:
            ax.text(x, min(y + 0.02, 0.97), str(c), ha="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top-label probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}\nECE {expected_calibration_error(probs, gold_idx):.3f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _fmt_ci(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def write_report(evaluation: dict[str, Any], folder: str | Path, title: str) -> dict[str, Any]:
    """PNGs, a text confusion matrix and ``report.md`` in ``folder``; returns the JSON-safe figures."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"# {title}", "", f"{evaluation.get('n', 0)} labeled rows. Intervals are 95% bootstrap intervals "
             "(1,000 resamples).", ""]
    clean: dict[str, Any] = {}
    for task, head in evaluation["heads"].items():
        if not head.get("n"):
            continue
        probs, gold_idx = head.pop("_reliability")
        plot_confusion(head["confusion_matrix"], head["labels"], f"{task}: confusion matrix", folder / f"confusion_{task}.png")
        plot_reliability(probs, gold_idx, f"{task}: reliability", folder / f"reliability_{task}.png")
        ci = head["intervals"]
        lines += [f"## {task}", "",
                  f"- macro-F1 {_fmt_ci(head['macro_f1'], ci['macro_f1'])}; accuracy {_fmt_ci(head['accuracy'], ci['accuracy'])}; "
                  f"n = {head['n']}",
                  f"- expected calibration error {_fmt_ci(head['ece'], head['ece_ci'])}", "",
                  "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, row in head["per_class"].items():
            pci = ci["per_class"][label]
            lines.append(f"| {label} | {_fmt_ci(row['precision'], pci['precision'])} | {_fmt_ci(row['recall'], pci['recall'])} "
                         f"| {_fmt_ci(row['f1'], pci['f1'])} | {row['support']} |")
        width = max(len(label) for label in head["labels"]) + 2
        matrix = ["gold \\ predicted".ljust(width + 4) + "".join(label.rjust(width) for label in head["labels"])]
        matrix += [label.ljust(width + 4) + "".join(str(v).rjust(width) for v in row)
                   for label, row in zip(head["labels"], head["confusion_matrix"])]
        lines += ["", "Confusion matrix (rows gold, columns predicted):", "", "```", *matrix, "```", "",
                  f"![confusion matrix](confusion_{task}.png) ![reliability diagram](reliability_{task}.png)", "",
                  f"### The {len(head['confident_errors'])} most confident errors", "",
                  "| probability | gold | predicted | text |", "|---|---|---|---|"]
        lines += [f"| {e['probability']:.3f} | {e['gold']} | {e['predicted']} | {e['text'].replace('|', '/')[:300]} |"
                  for e in head["confident_errors"]]
        lines.append("")
        (folder / f"confusion_{task}.txt").write_text("\n".join(matrix) + "\n", encoding="utf-8")
        clean[task] = head
    (folder / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return {"n": evaluation.get("n", 0), "heads": clean}


def evaluate_probs(texts: Sequence[str], gold: dict[str, Sequence[str | None]], probs: dict[str, np.ndarray],
                   labels: dict[str, Sequence[str]]) -> dict[str, Any]:
    """The report's figures for every head that has gold labels."""
    heads = {task: evaluate_head(texts, gold[task], probs[task], labels[task]) for task in gold}
    return {"n": len(texts), "heads": heads}


def calibration_figures(validation: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]
                        ) -> dict[str, Any]:
    """Fit a temperature on validation (probs, gold index) and report test ECE before and after, with intervals."""
    temperature = fit_temperature(*validation)
    before, gold_idx = test
    after = apply_temperature(before, temperature)
    return {"temperature": temperature,
            "ece_before": expected_calibration_error(before, gold_idx), "ece_after": expected_calibration_error(after, gold_idx),
            "ece_before_ci": ece_interval(before, gold_idx), "ece_after_ci": ece_interval(after, gold_idx)}


def gold_index(values: Sequence[str | None], labels: Sequence[str]) -> tuple[list[int], np.ndarray]:
    """Rows with a gold label, and those labels as indices into ``labels``."""
    rows = [i for i, v in enumerate(values) if v is not None]
    return rows, np.array([list(labels).index(values[i]) for i in rows], dtype=int)


def read_labeled_file(path: str | Path) -> tuple[list[str], list[str | None], dict[str, list[str | None]]]:
    """Texts, targets and gold labels per head from a JSONL/CSV/Parquet file; a bad row is an error naming it."""
    from quotestance.io import read_chunks
    from quotestance.labels import TASKS, check_label

    texts, targets, gold = [], [], {task: [] for task in TASKS}
    for chunk in read_chunks(path):
        for row in chunk:
            number = len(texts) + 1
            where = f"{Path(path).name} row {number}"
            if row.get("error"):
                raise ValueError(f"{where}: {row['error']}")
            if not isinstance(row.get("text"), str) or not row["text"].strip():
                raise ValueError(f"{where}: field 'text' must be a non-empty string")
            texts.append(row["text"])
            targets.append(row.get("target") if isinstance(row.get("target"), str) else None)
            for task in TASKS:
                gold[task].append(check_label(task, row.get(task), where))
    present = {task: values for task, values in gold.items() if any(v is not None for v in values)}
    if not present:
        raise ValueError(f"{path}: no gold labels; expected a 'stance' and/or 'sentiment' column")
    return texts, targets, present
