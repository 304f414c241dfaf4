"""The model card: a README.md written next to the weights, from the same numbers as metrics.json."""
from __future__ import annotations

from collections import Counter
from typing import Any

from datasets import DatasetDict

from quotestance.config import TrainConfig
from quotestance.dataset import SPLITS
from quotestance.labels import TASKS


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _head_table(split_metrics: dict[str, Any]) -> list[str]:
    lines = ["| slice | n | stance macro-F1 | stance accuracy | sentiment macro-F1 | sentiment accuracy |",
             "|---|---|---|---|---|---|"]
    slices = [("all", split_metrics.get("all", {}))] + sorted(split_metrics.get("by_source", {}).items())
    for name, heads in slices:
        stance, sentiment = heads.get("stance", {}), heads.get("sentiment", {})
        n = max(stance.get("n", 0), sentiment.get("n", 0))
        lines.append(f"| {name} | {n} | {_f(stance.get('macro_f1'))} | {_f(stance.get('accuracy'))} "
                     f"| {_f(sentiment.get('macro_f1'))} | {_f(sentiment.get('accuracy'))} |")
    return lines


def _per_class(split_metrics: dict[str, Any]) -> list[str]:
    lines = ["| head | label | precision | recall | F1 | support |", "|---|---|---|---|---|---|"]
    for task in TASKS:
        for label, row in split_metrics.get("all", {}).get(task, {}).get("per_class", {}).items():
            lines.append(f"| {task} | {label} | {_f(row['precision'])} | {_f(row['recall'])} | {_f(row['f1'])} | {row['support']} |")
    return lines


def _calibration(metrics: dict[str, Any]) -> list[str]:
    lines = ["| head | temperature | test ECE before [95% CI] | test ECE after [95% CI] |", "|---|---|---|---|"]
    for task, c in metrics.get("calibration", {}).items():
        lines.append(f"| {task} | {c['temperature']:.3f} | {c['ece_before']:.3f} [{c['ece_before_ci'][0]:.3f}, "
                     f"{c['ece_before_ci'][1]:.3f}] | {c['ece_after']:.3f} [{c['ece_after_ci'][0]:.3f}, {c['ece_after_ci'][1]:.3f}] |")
    return lines


def _headline(metrics: dict[str, Any]) -> list[str]:
    lines = []
    for task, head in metrics.get("report", {}).get("heads", {}).items():
        ci = head["intervals"]
        lines.append(f"- {task}: macro-F1 {head['macro_f1']:.3f} [{ci['macro_f1'][0]:.3f}, {ci['macro_f1'][1]:.3f}], "
                     f"accuracy {head['accuracy']:.3f} [{ci['accuracy'][0]:.3f}, {ci['accuracy'][1]:.3f}] "
                     f"(n = {head['n']}, 95% bootstrap intervals)")
    return lines


def _failure_patterns(metrics: dict[str, Any], top: int = 3) -> list[str]:
    """The most frequent gold -> predicted confusions on the test split, per head."""
    lines = []
    for task in TASKS:
        head = metrics["test"]["all"].get(task, {})
        if not head.get("n"):
            continue
        labels, matrix = head["labels"], head["confusion_matrix"]
        pairs = sorted(((matrix[i][j], labels[i], labels[j]) for i in range(len(labels)) for j in range(len(labels))
                        if i != j and matrix[i][j]), reverse=True)[:top]
        described = "; ".join(f"{gold} read as {pred} ({count} of {sum(matrix[labels.index(gold)])})"
                              for count, gold, pred in pairs)
        lines.append(f"- {task}: {described}.")
    return lines


def _averaged(training: dict[str, Any]) -> str:
    """", weights of epochs 3, 5, 6 averaged" where the saved weights are a soup of epochs, else nothing."""
    epochs = training.get("averaged_epochs", [])
    return f", weights of epochs {', '.join(map(str, epochs))} averaged" if len(epochs) > 1 else ""


def model_card(config: TrainConfig, metrics: dict[str, Any], dataset: DatasetDict) -> str:
    """Markdown describing data, metrics, intended use and limits of a trained model."""
    training = metrics["training"]
    sources = {split: dict(sorted(Counter(dataset[split]["source"]).items())) for split in SPLITS}
    lines = [
        "# quotestance model",
        "",
        f"Scores quoted statements for **stance** toward a foreign military presence ({', '.join(TASKS['stance'])}) "
        f"and **sentiment** ({', '.join(TASKS['sentiment'])}), with one encoder and two heads.",
        "",
        f"- Base model: `{config.base_model}`; max length {config.max_length} tokens; seed {config.seed}.",
        f"- Trained {training['finished']} with quotestance {training['quotestance_version']} in {training['seconds']:.0f} s "
        f"({training['epochs_run']} epochs run, best epoch {training['best_epoch']}{_averaged(training)}, "
        f"bf16 {'on' if training['bf16'] else 'off'}).",
        "- Files: `model.safetensors`, `config.json` (label order, default target, temperatures), tokenizer files, "
        "`train_config.yaml` (the resolved training config), `metrics.json` (all figures below and more).",
        "",
        "## Data",
        "",
        "| split | rows | by source |",
        "|---|---|---|",
        *[f"| {s} | {len(dataset[s])} | {', '.join(f'{k}: {v}' for k, v in sources[s].items())} |" for s in SPLITS],
        "",
        "Validation and test hold gold (human) labels only; weak labels are used for training only.",
        "",
        "## Metrics",
        "",
        "### Test",
        "",
        *_head_table(metrics["test"]),
        "",
        *_per_class(metrics["test"]),
        "",
        "### Headline (test split, with intervals; details in `report/report.md`)",
        "",
        *_headline(metrics),
        "",
        "### Calibration",
        "",
        "One temperature per head, fitted on the validation split, divides the logits before the softmax "
        "(stored in `config.json`), so `stance_probs` and `sentiment_probs` are calibrated probabilities. "
        "Expected calibration error (15 bins) on the test split:",
        "",
        *_calibration(metrics),
        "",
        "### Validation (used for early stopping)",
        "",
        *_head_table(metrics["validation"]),
        "",
        "## Intended use",
        "",
        "Scoring direct quotations from news articles, speeches and posts about foreign military deployments "
        "(US troops in Iraq, Afghanistan or Syria and others), for newsroom data desks, researchers and media "
        "monitors who aggregate many quotes. Pass a `target` naming the deployment when a quote is about a "
        "specific one.",
        "",
        "## Limits",
        "",
        "- English only; trained on short statements (one to a few sentences). Long passages are truncated at "
        f"{config.max_length} tokens: score them sentence by sentence.",
        "- Individual predictions are wrong often enough that single quotes should not be reported as facts "
        "about a speaker without a human check; aggregate figures are more reliable than single ones.",
        "- Test figures on written statements overstate accuracy on real text; the per-source rows show the gap "
        "where real sentences are labeled.",
        "- Stance is about military presence only: statements about other policies get `neutral`.",
        "",
        "## Known failure patterns",
        "",
        "The most frequent confusions on the test split:",
        "",
        *_failure_patterns(metrics),
        "- Sentences that mention withdrawal, a surge or a timeline without arguing for it are the hardest "
        "boundary for stance; sentences whose side depends on context the sentence does not show (whose bill, "
        "what \"it\" is) are often read as neutral. See the most confident errors in `report/report.md`.",
        "",
    ]
    return "\n".join(lines)
