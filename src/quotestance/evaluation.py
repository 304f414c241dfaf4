"""Metrics for both heads: per-class precision, recall and F1, macro-F1, accuracy, confusion matrix."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
