"""StancePredictor: load a trained model folder and score quotes, for scripts, services and batch jobs."""
from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoTokenizer

from quotestance.backends import BACKENDS, ONNX_FILES, OnnxBackend, TorchBackend, choose_backend
from quotestance.io import CheckpointedOutput, RowWriter, count_rows, read_chunks
from quotestance.labels import TASKS
from quotestance.modeling import QuoteStanceConfig, QuoteStanceModel, check_model_folder

Result = dict[str, Any]
Row = dict[str, Any]


#: Scoring pads each batch to a multiple of this many tokens: a handful of tensor shapes instead of one
#: per length keeps the allocator and oneDNN's kernel cache from growing with the number of rows scored.
PAD_MULTIPLE = 16


def encode(tokenizer, texts: Sequence[str], targets: Sequence[str], max_length: int,
           return_tensors: str = "pt", pad_to_multiple_of: int | None = None) -> dict[str, Any]:
    """Tokenise quotes as (quote, target) text pairs, truncating the quote first."""
    return tokenizer(
        list(texts), list(targets), padding=True, truncation="only_first" if max_length > 16 else True,
        max_length=max_length, return_tensors=return_tensors, pad_to_multiple_of=pad_to_multiple_of,
    )


class StancePredictor:
    """Scores stance and sentiment of quotes with a trained model folder.

    ``predict`` takes a string or a list of strings and returns label strings with their
    probabilities; ``predict_proba`` returns arrays in the stored label order (``labels``).
    Calls are safe from several threads (they are serialised around the model). ``backend``
    runs the forward pass: PyTorch (fp32 or bf16, CPU or CUDA) or ONNX Runtime (fp32 or int8).
    """

    def __init__(self, config: QuoteStanceConfig, tokenizer, backend: TorchBackend | OnnxBackend, *,
                 batch_size: int = 64, max_length: int = 128):
        self.config = config
        self.tokenizer = tokenizer
        self.backend = backend
        self.batch_size = batch_size
        self.max_length = max_length
        self.labels: dict[str, list[str]] = {task: list(config.labels_for(task)) for task in TASKS}
        self.default_target: str = config.default_target
        self.source: str | None = None  # the folder it was loaded from, if any
        self._lock = threading.Lock()

    @classmethod
    def from_model(cls, model: QuoteStanceModel, tokenizer, *, device: str | None = None, bf16: bool | None = None,
                   batch_size: int = 64, max_length: int = 128) -> "StancePredictor":
        """A predictor around a model in memory (as training evaluates it)."""
        return cls(model.config, tokenizer, TorchBackend(model, device, bf16), batch_size=batch_size,
                   max_length=max_length)

    @classmethod
    def load(cls, path: str | Path, *, device: str | None = None, batch_size: int = 64,
             bf16: bool | None = None, threads: int | None = None, backend: str = "auto") -> "StancePredictor":
        """Load a folder written by ``train.py``; never touches the network.

        ``backend``: "auto" (an exported ONNX graph when present and onnxruntime is installed, else
        PyTorch), "torch" (bf16 where the CPU supports it unless ``bf16=False``), "torch-fp32",
        "torch-bf16", "onnx" or "onnx-int8".
        """
        path = check_model_folder(path)
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if threads:
            torch.set_num_threads(threads)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        chosen = choose_backend(path, backend, device)
        if chosen in ONNX_FILES:
            config = QuoteStanceConfig.from_pretrained(path, local_files_only=True)
            engine: TorchBackend | OnnxBackend = OnnxBackend(path / ONNX_FILES[chosen], threads)
        else:
            model = QuoteStanceModel.from_pretrained(path, local_files_only=True, use_safetensors=True)
            config = model.config
            precision = {"torch-fp32": False, "torch-bf16": True}.get(chosen, bf16)
            engine = TorchBackend(model, device, precision)
        max_length = int(getattr(config, "train_max_length", 128))
        predictor = cls(config, tokenizer, engine, batch_size=batch_size, max_length=max_length)
        predictor.source = str(path.resolve())
        return predictor

    @property
    def backend_name(self) -> str:
        return self.backend.name

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
        temperatures = getattr(self.config, "temperatures", {}) or {}
        with self._lock:
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                batch = encode(self.tokenizer, [texts[i] for i in idx], [targets[i] for i in idx], self.max_length,
                               return_tensors="np", pad_to_multiple_of=PAD_MULTIPLE)
                logits = self.backend.logits(dict(batch))
                for task in self.labels:
                    out[task][idx] = softmax(logits[task].astype(np.float64) / float(temperatures.get(task, 1.0)))
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


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


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



def score_rows(predictor: StancePredictor, rows: list[Row], first_row: int = 1,
               min_confidence: float | None = None) -> list[Row]:
    """Score a chunk of rows: each row comes back once, in order, with the output fields added.

    Rows that cannot be scored keep their fields and get null labels and an ``error``.
    ``first_row`` is the 1-based number of ``rows[0]`` in its file, for error messages. With
    ``min_confidence``, each row gains ``low_confidence``: true where either head's top
    probability is below it (labels unchanged), so doubtful quotes can go to a person.
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
        if min_confidence is not None:
            merged["low_confidence"] = None if problems[i] else bool(
                min(max(merged[f"{task}_probs"].values()) for task in TASKS) < min_confidence)
        out.append(merged)
    return out


def score_file(predictor: StancePredictor, input_path: str | Path, output_path: str | Path | None,
               chunk_size: int = 2048, progress: bool = True, resume: bool = False,
               min_confidence: float | None = None) -> dict[str, int]:
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
                rows = score_rows(predictor, chunk, first_row=counts["rows"] + 1, min_confidence=min_confidence)
                writer.write(rows)
                counts["rows"] += len(rows)
                counts["errors"] += sum(1 for row in rows if row["error"])
                bar.update(len(rows))
        return counts
    source = Path(input_path).resolve()
    stat = source.stat()
    meta = {"input": str(source), "input_size": stat.st_size, "input_mtime_ns": stat.st_mtime_ns,
            "chunk_size": chunk_size, "model": getattr(predictor, "source", None), "min_confidence": min_confidence}
    checkpoint = CheckpointedOutput(output_path, meta, resume)
    resumed_at = checkpoint.done * chunk_size
    if resume:
        print(f"resumed at row {resumed_at}", file=sys.stderr)
    with _bar(total, progress, initial=resumed_at) as bar:
        for index, chunk in enumerate(read_chunks(input_path, chunk_size)):
            if index < checkpoint.done:
                continue
            checkpoint.write_chunk(index, score_rows(predictor, chunk, first_row=index * chunk_size + 1,
                                                     min_confidence=min_confidence))
            bar.update(len(chunk))
            _release_freed_memory()
    return {**checkpoint.finish(PROB_COLUMNS), "resumed_at": resumed_at}


def _release_freed_memory() -> None:
    """Hand memory freed by the last chunk back to the OS (glibc keeps it otherwise, so RSS creeps up)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _bar(total: int | None, progress: bool, initial: int = 0):
    return tqdm(total=total, initial=initial, unit="quote", desc="scoring", disable=not progress, file=sys.stderr)


class PandasScorer:
    """A callable class for batch engines: a pandas DataFrame with a ``text`` column in, scored DataFrame out.

    Ray Data: ``ds.map_batches(PandasScorer, fn_constructor_kwargs={"model": path}, batch_format="pandas",
    compute=ray.data.ActorPoolStrategy(size=1))`` loads the model once per actor. Spark:
    ``df.mapInPandas(lambda frames: map(PandasScorer(path), frames), schema)``. Rows keep their columns
    and order and gain the same output fields as ``predict.py``, ``*_probs`` as JSON strings so every
    engine's writers can store them.
    """

    def __init__(self, model: str | Path, backend: str = "auto", batch_size: int = 64, device: str | None = None,
                 threads: int | None = None):
        self.predictor = StancePredictor.load(model, backend=backend, batch_size=batch_size, device=device,
                                              threads=threads)

    def __call__(self, frame: "pd.DataFrame") -> "pd.DataFrame":
        import json

        import pandas as pd

        rows = [{key: plain_value(value) for key, value in row.items()} for row in frame.to_dict("records")]
        scored = score_rows(self.predictor, rows)
        for row in scored:
            for column in PROB_COLUMNS:
                row[column] = None if row[column] is None else json.dumps(row[column])
        return pd.DataFrame(scored, index=frame.index, columns=list(dict.fromkeys(k for r in scored for k in r)))


def plain_value(value: Any) -> Any:
    """pandas' missing values (NaN, NA, NaT) as None, so a missing text is reported as null."""
    try:
        import pandas as pd

        return None if not isinstance(value, (list, dict, np.ndarray)) and pd.isna(value) else value
    except (TypeError, ValueError):
        return value
