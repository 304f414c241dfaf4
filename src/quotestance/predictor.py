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
from quotestance.modeling import QuoteStanceConfig, QuoteStanceModel

Result = dict[str, Any]
Row = dict[str, Any]


def encode(tokenizer, texts: Sequence[str], targets: Sequence[str], max_length: int,
           return_tensors: str = "pt") -> dict[str, Any]:
    """Tokenise quotes as (quote, target) text pairs, truncating the quote first."""
    return tokenizer(
        list(texts), list(targets), padding=True, truncation="only_first" if max_length > 16 else True,
        max_length=max_length, return_tensors=return_tensors,
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
        path = Path(path)
        if not (path / "config.json").is_file() or not (path / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"no trained model in {path} (expected config.json and model.safetensors); "
                "train one with: python train.py"
            )
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
                               return_tensors="np")
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
