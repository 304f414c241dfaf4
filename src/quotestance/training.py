"""Fine-tune the two-head model: training loop, early stopping, atomic save, metrics and model card."""
from __future__ import annotations

import copy
import json
import logging
import math
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import yaml
from datasets import Dataset, DatasetDict
from tqdm.auto import tqdm
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from quotestance import __version__
from quotestance.card import model_card
from quotestance.config import TrainConfig
from quotestance.dataset import SPLITS, load_dataset
from quotestance.evaluation import (apply_temperature, calibration_figures, classification_metrics, evaluate_probs,
                                    gold_index, write_report)
from quotestance.labels import TASKS
from quotestance.modeling import IGNORE_INDEX, QuoteStanceModel, build_model, tokenizer_path
from quotestance.backends import cpu_supports_bf16
from quotestance.predictor import StancePredictor, encode

log = logging.getLogger("quotestance")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def label_ids(values: list[str | None], labels: list[str]) -> torch.Tensor:
    """Label strings to indices, with IGNORE_INDEX where a record has no label for the head."""
    index = {label: i for i, label in enumerate(labels)}
    return torch.tensor([IGNORE_INDEX if v is None else index[v] for v in values], dtype=torch.long)


def class_weights(train: Dataset, model: QuoteStanceModel, scheme: str) -> dict[str, torch.Tensor]:
    """Inverse-frequency weights per head over the labeled training rows ("balanced"), or none."""
    if scheme == "none":
        return {}
    weights = {}
    for task in TASKS:
        labels = model.config.labels_for(task)
        values = [v for v in train[task] if v is not None]
        counts = np.array([max(values.count(label), 1) for label in labels], dtype=np.float64)
        weights[task] = torch.tensor(len(values) / (len(labels) * counts) if values else np.ones(len(labels)),
                                     dtype=torch.float32)
    return weights


def evaluate(predictor: StancePredictor, split: Dataset, probs: dict[str, np.ndarray] | None = None
             ) -> dict[str, Any]:
    """Metrics for both heads on a split, overall and per source (from ``probs`` when already computed)."""
    if len(split) == 0:
        return {"all": {}, "by_source": {}}
    if probs is None:
        probs = predictor.predict_proba(split["text"], split["target"])
    predicted = {task: [predictor.labels[task][j] for j in probs[task].argmax(axis=1)] for task in TASKS}
    def scores(rows: list[int]) -> dict[str, Any]:
        return {task: classification_metrics([split[task][i] for i in rows], [predicted[task][i] for i in rows],
                                             predictor.labels[task]) for task in TASKS}
    sources = split["source"]
    by_source = {s: scores([i for i, src in enumerate(sources) if src == s]) for s in sorted(set(sources))}
    return {"all": scores(list(range(len(split)))), "by_source": by_source}


def selection_score(metrics: dict[str, Any]) -> float:
    """Mean validation macro-F1 over the heads that have labels: what early stopping maximises."""
    values = [m["macro_f1"] for m in metrics["all"].values() if m.get("n")]
    return float(np.mean(values)) if values else 0.0


def _batches(lengths: list[int], config: TrainConfig, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort windows of 50 batches by length, shuffle the batches.

    Similar lengths waste little padding (about twice as fast on CPU) while each epoch still sees a
    different, seeded order. ``max_steps_per_epoch`` caps the number of batches.
    """
    rng = np.random.default_rng(config.seed + epoch)
    order = rng.permutation(len(lengths)).tolist()
    window = config.batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + config.batch_size] for i in range(0, len(chunk), config.batch_size)]
    batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches[:config.max_steps_per_epoch] if config.max_steps_per_epoch else batches


def train(config: TrainConfig, output_dir: str | Path, progress: bool = True) -> dict[str, Any]:
    """Train a model per ``config`` and write its folder to ``output_dir`` atomically; return the metrics."""
    started = time.time()
    set_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    dataset = load_dataset(config.data, config.seed, progress=progress)
    train_split = dataset["train"]
    if len(train_split) == 0:
        raise ValueError("the training split is empty: check the data sources in the config")
    log.info("data: %s", ", ".join(f"{s}={len(dataset[s])}" for s in SPLITS))

    model = build_model(config.base_model, config.dropout)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path(config.base_model), local_files_only=True)
    model.config.train_max_length = config.max_length
    bf16 = config.bf16 and cpu_supports_bf16()
    weights = class_weights(train_split, model, config.class_weighting)

    heads = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    no_decay = [p for n, p in model.named_parameters() if n.startswith("bert.") and ("bias" in n or "LayerNorm" in n)]
    decay = [p for n, p in model.named_parameters() if n.startswith("bert.") and not ("bias" in n or "LayerNorm" in n)]
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": config.learning_rate, "weight_decay": config.weight_decay},
        {"params": no_decay, "lr": config.learning_rate, "weight_decay": 0.0},
        {"params": heads, "lr": config.head_learning_rate, "weight_decay": config.weight_decay},
    ])
    lengths = [len(text) for text in train_split["text"]]
    steps_per_epoch = len(_batches(lengths, config, 0))
    total_steps = steps_per_epoch * config.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, math.ceil(config.warmup_ratio * total_steps), total_steps)
    predictor = StancePredictor.from_model(model, tokenizer, device="cpu", batch_size=config.eval_batch_size,
                                           max_length=config.max_length, bf16=bf16)

    labels = {task: label_ids(train_split[task], model.config.labels_for(task)) for task in TASKS}
    texts, targets = train_split["text"], train_split["target"]
    rng = np.random.default_rng(config.seed)
    best_score, best_epoch, stale, history, checkpoints = -1.0, 0, 0, [], []
    for epoch in tqdm(range(1, config.epochs + 1), desc="epochs", disable=not progress, file=sys.stderr):
        model.train()
        losses = []
        for batch in tqdm(_batches(lengths, config, epoch), desc=f"epoch {epoch}", leave=False,
                          disable=not progress, file=sys.stderr):
            # Target dropout: the model must also work on quotes that name no deployment.
            batch_targets = [None if rng.random() < config.target_dropout else targets[i] for i in batch]
            inputs = encode(tokenizer, [texts[i] for i in batch],
                            [t or model.config.default_target for t in batch_targets], config.max_length)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                output = model(**inputs, **{task: labels[task][batch] for task in TASKS},
                               class_weights=weights, loss_weights=config.loss_weights)
            output.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(float(output.loss.detach()))
        model.eval()
        validation = evaluate(predictor, dataset["validation"])
        score = selection_score(validation) if len(dataset["validation"]) else -float(np.mean(losses))
        f1s = {task: validation["all"].get(task, {}).get("macro_f1") for task in TASKS}
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), **{f"validation_{t}_macro_f1": v for t, v in f1s.items()}})
        tqdm.write(f"epoch {epoch}: loss {np.mean(losses):.4f}  validation macro-F1 "
                   + "  ".join(f"{t} {v:.3f}" if v is not None else f"{t} n/a" for t, v in f1s.items()), file=sys.stderr)
        checkpoints.append((score, epoch, copy.deepcopy(model.state_dict())))
        if score > best_score:
            best_score, best_epoch, stale = score, epoch, 0
        else:
            stale += 1
            if stale > config.early_stopping_patience:
                tqdm.write(f"early stopping: no better validation macro-F1 for {stale} epochs", file=sys.stderr)
                break
    averaged = greedy_soup(model, checkpoints, lambda: selection_score(evaluate(predictor, dataset["validation"])),
                           len(checkpoints) if config.weight_averaging and len(dataset["validation"]) else 1)
    model.eval()
    # Each held-out split is scored once; temperatures rescale those probabilities (labels unchanged).
    predictor.config.temperatures = {task: 1.0 for task in TASKS}
    raw = {split: predictor.predict_proba(dataset[split]["text"], dataset[split]["target"])
           for split in ("validation", "test")}
    calibration = calibrate(predictor, dataset["validation"], dataset["test"], raw["validation"], raw["test"])
    probs = {split: {task: apply_temperature(p, predictor.config.temperatures[task]) for task, p in raw[split].items()}
             for split in raw}
    metrics = {split: evaluate(predictor, dataset[split], probs[split]) for split in ("validation", "test")}
    metrics["calibration"] = calibration
    test = dataset["test"]
    report = evaluate_probs(test["text"], {task: test[task] for task in TASKS}, probs["test"], predictor.labels)
    metrics["training"] = {
        "seconds": round(time.time() - started, 1), "best_epoch": best_epoch, "averaged_epochs": averaged, "epochs_run": len(history),
        "history": history, "rows": {s: len(dataset[s]) for s in SPLITS}, "bf16": bf16,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quotestance_version": __version__,
    }
    save_model_folder(model, tokenizer, config, metrics, dataset, output_dir, report)
    return metrics


def average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts (integer buffers are taken from the first)."""
    return {key: torch.stack([s[key] for s in states]).mean(0) if value.is_floating_point() else value
            for key, value in states[0].items()}


def greedy_soup(model: torch.nn.Module, checkpoints: list[tuple[float, int, dict[str, torch.Tensor]]],
                score: Callable[[], float], limit: int) -> list[int]:
    """Load into ``model`` the best checkpoint averaged with whichever others raise ``score``; return their epochs.

    Checkpoints are tried from the best validation score down and one is kept only if the average
    with it scores higher than without it, so the result never scores below the best single epoch.
    ``limit`` 1 keeps the best epoch alone.
    """
    ranked = sorted(checkpoints, key=lambda c: (-c[0], c[1]))
    best_score, soup = ranked[0][0], [ranked[0]]
    for candidate in ranked[1:limit]:
        model.load_state_dict(average_states([c[2] for c in soup + [candidate]]))
        model.eval()
        candidate_score = score()
        if candidate_score > best_score:
            best_score, soup = candidate_score, soup + [candidate]
    model.load_state_dict(average_states([c[2] for c in soup]))
    return sorted(c[1] for c in soup)


def calibrate(predictor: StancePredictor, validation: Dataset, test: Dataset, val_probs: dict[str, np.ndarray],
              test_probs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Fit one temperature per head on validation, store it in the model config, report test ECE before/after.

    ``val_probs`` and ``test_probs`` are the uncalibrated probabilities (temperature 1) of each split.
    """
    if len(validation) == 0 or len(test) == 0:
        return {}
    figures = {}
    for task in TASKS:
        val_rows, val_gold = gold_index(validation[task], predictor.labels[task])
        test_rows, test_gold = gold_index(test[task], predictor.labels[task])
        if val_rows and test_rows:
            figures[task] = calibration_figures((val_probs[task][val_rows], val_gold), (test_probs[task][test_rows], test_gold))
            predictor.config.temperatures[task] = figures[task]["temperature"]
    return figures


def save_model_folder(model: QuoteStanceModel, tokenizer, config: TrainConfig, metrics: dict[str, Any],
                      dataset: DatasetDict, output_dir: str | Path, report: dict[str, Any] | None = None) -> None:
    """Write weights, tokenizer, config, metrics and card to a temporary folder, then swap it in.

    A crash at any point leaves the previous model folder (if any) untouched.
    """
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = output_dir.with_name(f".{output_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.config.training_date = metrics["training"]["finished"]
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if report is not None:
        metrics["report"] = write_report(report, tmp / "report", "Evaluation on the gold test split")
    (tmp / "train_config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (tmp / "README.md").write_text(model_card(config, metrics, dataset), encoding="utf-8")
    for path in (p for p in tmp.iterdir() if p.is_file()):
        path.chmod(0o644)  # readable by whoever serves the model, like any other file written here
    old = output_dir.with_name(f".{output_dir.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if output_dir.exists():
        output_dir.rename(old)
    tmp.rename(output_dir)
    shutil.rmtree(old, ignore_errors=True)
