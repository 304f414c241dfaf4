"""StancePredictor: load a trained model folder and score quotes, for scripts, services and batch jobs."""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from quotestance.io import CheckpointedOutput, RowWriter, count_rows, read_chunks
from quotestance.labels import TASKS
from quotestance.modeling import QuoteStanceModel

Result = dict[str, Any]
Row = dict[str, Any]


def cpu_supports_bf16() -> bool:
    """True where oneDNN has fast bf16 kernels on this CPU (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without oneDNN
        return False


def resolve_device(device: str | None) -> torch.device:
    """``None``/"auto" picks CUDA when present, else CPU; "cuda" without a GPU is an error."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} asked for, but no CUDA GPU is available")
    return torch.device(device)


def encode(tokenizer, texts: Sequence[str], targets: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
    """Tokenise quotes as (quote, target) text pairs, truncating the quote first."""
    return tokenizer(
        list(texts), list(targets), padding=True, truncation="only_first" if max_length > 16 else True,
        max_length=max_length, return_tensors="pt",
    )


class StancePredictor:
    """Scores stance and sentiment of quotes with a trained model folder.

    ``predict`` takes a string or a list of strings and returns label strings with their
    probabilities; ``predict_proba`` returns arrays in the stored label order (``labels``).
    Calls are safe from several threads (they are serialised around the model).
    """

    def __init__(self, model: QuoteStanceModel, tokenizer, *, device: str | None = None,
                 batch_size: int = 64, max_length: int = 128, bf16: bool | None = None):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        if bf16 is None:
            bf16 = self.device.type == "cpu" and cpu_supports_bf16()
        self.bf16 = bf16
        self.labels: dict[str, list[str]] = {task: list(model.config.labels_for(task)) for task in TASKS}
        self.default_target: str = model.config.default_target
        self.source: str | None = None  # the folder it was loaded from, if any
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None, batch_size: int = 64,
             bf16: bool | None = None, threads: int | None = None) -> "StancePredictor":
        """Load a folder written by ``train.py``; never touches the network."""
        path = Path(path)
        if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"no trained model in {path} (expected config.json and model.safetensors); "
                "train one with: python train.py"
            )
        if threads:
            torch.set_num_threads(threads)
        model = QuoteStanceModel.from_pretrained(path, local_files_only=True, use_safetensors=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        max_length = int(getattr(model.config, "train_max_length", 128))
        predictor = cls(model, tokenizer, device=device, batch_size=batch_size, max_length=max_length, bf16=bf16)
        predictor.source = str(path.resolve())
        return predictor

    def predict_proba(self, texts: Sequence[str] | str, targets: Sequence[str | None] | str | None = None
                      ) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head, shape (n, n_labels), columns in ``self.labels`` order."""
        texts, targets = self._normalise(texts, targets)
        n = len(texts)
        out = {task: np.zeros((n, len(labels)), dtype=np.float64) for task, labels in self.labels.items()}
        if n == 0:
            return out
        # Length-sorted batches waste little padding; results go back to input order.
        order = np.argsort([len(t) for t in texts], kind="stable")
        temperatures = getattr(self.model.config, "temperatures", {}) or {}
        with self._lock, torch.inference_mode():
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = encode(self.tokenizer, [texts[i] for i in idx], [targets[i] for i in idx], self.max_length)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    output = self.model(**batch)
                for task in self.labels:
                    logits = getattr(output, f"{task}_logits").float() / float(temperatures.get(task, 1.0))
                    out[task][idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str] | str, targets: Sequence[str | None] | str | None = None
                ) -> list[Result] | Result:
        """Labels and probabilities for both heads; a single string in gives a single result out."""
        single = isinstance(texts, str)
        probs = self.predict_proba(texts, targets)
        results = self.results_from_proba(probs)
        for result, truncated in zip(results, self.truncated(texts, targets)):
            result["truncated"] = truncated
        return results[0] if single else results

    def truncated(self, texts: Sequence[str] | str, targets: Sequence[str | None] | str | None = None) -> list[bool]:
        """Whether each (quote, target) pair is longer than the model's limit, so its end is not read."""
        texts, targets = self._normalise(texts, targets)
        # A token is at least one character: only texts this long can overflow, so only they are tokenised.
        long = [i for i, text in enumerate(texts) if len(text) + len(targets[i]) + 3 > self.max_length]
        flags = [False] * len(texts)
        if long:
            with self._lock:
                text_ids = self.tokenizer([texts[i] for i in long], add_special_tokens=False)["input_ids"]
                target_ids = self.tokenizer([targets[i] for i in long], add_special_tokens=False)["input_ids"]
            for i, a, b in zip(long, text_ids, target_ids):
                flags[i] = len(a) + len(b) + 3 > self.max_length
        return flags

    def results_from_proba(self, probs: dict[str, np.ndarray]) -> list[Result]:
        """Turn ``predict_proba`` arrays into result dicts: label, and label -> probability."""
        n = len(next(iter(probs.values())))
        results: list[Result] = [{} for _ in range(n)]
        for task, labels in self.labels.items():
            best = probs[task].argmax(axis=1)
            for i, row in enumerate(probs[task]):
                results[i][task] = labels[best[i]]
                results[i][f"{task}_probs"] = {label: float(p) for label, p in zip(labels, row)}
        return results

    def _normalise(self, texts, targets) -> tuple[list[str], list[str]]:
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"text {i}: expected a non-empty string, got {text!r}")
        if targets is None or isinstance(targets, str):
            targets = [targets] * len(texts)
        targets = list(targets)
        if len(targets) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(targets)} targets")
        return texts, [t if isinstance(t, str) and t.strip() else self.default_target for t in targets]


def default_threads() -> int:
    """All the cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


OUTPUT_FIELDS = ("stance", "stance_probs", "sentiment", "sentiment_probs", "truncated", "error")
PROB_COLUMNS = ("stance_probs", "sentiment_probs")


def row_problem(row: Row, number: int) -> str | None:
    """Why a quote row cannot be scored (naming the row and field), or None if it can."""
    if row.get("error"):
        return str(row["error"])
    if "text" not in row:
        return f"row {number}: missing field 'text'"
    text = row["text"]
    if text is None:
        return f"row {number}: field 'text' is null"
    if not isinstance(text, str):
        return f"row {number}: field 'text' must be a string, got {type(text).__name__}"
    if not text.strip():
        return f"row {number}: field 'text' is empty"
    target = row.get("target")
    if target is not None and not isinstance(target, str):
        return f"row {number}: field 'target' must be a string or null, got {type(target).__name__}"
    return None



def score_rows(predictor: StancePredictor, rows: list[Row], first_row: int = 1) -> list[Row]:
    """Score a chunk of rows: each row comes back once, in order, with the output fields added.

    Rows that cannot be scored keep their fields and get null labels and an ``error``.
    ``first_row`` is the 1-based number of ``rows[0]`` in its file, for error messages.
    """
    problems = [row_problem(row, first_row + i) for i, row in enumerate(rows)]
    good = [i for i, problem in enumerate(problems) if problem is None]
    results = predictor.predict([rows[i]["text"] for i in good], [rows[i].get("target") for i in good]) if good else []
    scored = dict(zip(good, results))
    empty = {field: None for field in OUTPUT_FIELDS}
    out = []
    for i, row in enumerate(rows):
        merged = {key: value for key, value in row.items() if key not in OUTPUT_FIELDS}
        merged.update(empty)
        merged.update(scored.get(i, {}))
        merged["error"] = problems[i]
        out.append(merged)
    return out


def score_file(predictor: StancePredictor, input_path: str | Path, output_path: str | Path | None,
               chunk_size: int = 2048, progress: bool = True, resume: bool = False) -> dict[str, int]:
    """Stream a quote file through the predictor into ``output_path`` (stdout as JSONL if None).

    The output holds exactly one row per input row, in input order, and appears only when complete.
    Progress is checkpointed every chunk; ``resume`` continues an interrupted job from its last
    complete chunk. Returns counts of rows and of rows with an error (and ``resumed_at``).
    """
    total = count_rows(input_path)
    if output_path is None:
        counts = {"rows": 0, "errors": 0}
        with RowWriter(None, prob_columns=PROB_COLUMNS) as writer, _bar(total, progress) as bar:
            for chunk in read_chunks(input_path, chunk_size):
                rows = score_rows(predictor, chunk, first_row=counts["rows"] + 1)
                writer.write(rows)
                counts["rows"] += len(rows)
                counts["errors"] += sum(1 for row in rows if row["error"])
                bar.update(len(rows))
        return counts
    source = Path(input_path).resolve()
    stat = source.stat()
    meta = {"input": str(source), "input_size": stat.st_size, "input_mtime_ns": stat.st_mtime_ns,
            "chunk_size": chunk_size, "model": getattr(predictor, "source", None)}
    checkpoint = CheckpointedOutput(output_path, meta, resume)
    resumed_at = checkpoint.done * chunk_size
    if resume:
        print(f"resumed at row {resumed_at}", file=sys.stderr)
    with _bar(total, progress, initial=resumed_at) as bar:
        for index, chunk in enumerate(read_chunks(input_path, chunk_size)):
            if index < checkpoint.done:
                continue
            checkpoint.write_chunk(index, score_rows(predictor, chunk, first_row=index * chunk_size + 1))
            bar.update(len(chunk))
    return {**checkpoint.finish(PROB_COLUMNS), "resumed_at": resumed_at}


def _bar(total: int | None, progress: bool, initial: int = 0):
    return tqdm(total=total, initial=initial, unit="quote", desc="scoring", disable=not progress, file=sys.stderr)
