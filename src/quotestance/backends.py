"""Inference backends: the same two-head forward pass in PyTorch (fp32 or bf16) or ONNX Runtime (fp32 or int8).

A backend takes a tokenised batch and returns raw logits per head as NumPy arrays; the predictor
does everything else (batching, temperatures, labels), so every backend gives the same output fields.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from quotestance.labels import TASKS
from quotestance.modeling import QuoteStanceModel

ONNX_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
BACKENDS = ("auto", "torch", "torch-bf16", "torch-fp32", *ONNX_FILES)


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


class TorchBackend:
    """The PyTorch model, under ``inference_mode``, with bf16 autocast where asked and supported."""

    def __init__(self, model: QuoteStanceModel, device: str | None = None, bf16: bool | None = None):
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        if bf16 is None:
            bf16 = self.device.type == "cpu" and cpu_supports_bf16()
        self.bf16 = bool(bf16)
        self.name = f"torch-{'bf16' if self.bf16 else 'fp32'}" + ("" if self.device.type == "cpu" else f"@{self.device}")

    def logits(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inputs = {key: torch.from_numpy(value).to(self.device) for key, value in batch.items()}
        with torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            output = self.model(**inputs)
        return {task: getattr(output, f"{task}_logits").float().cpu().numpy() for task in TASKS}


class OnnxBackend:
    """An exported ONNX graph (``model.onnx`` or ``model.int8.onnx``) run by ONNX Runtime on the CPU."""

    def __init__(self, path: Path, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as err:
            raise RuntimeError("the ONNX backend needs onnxruntime: pip install 'quotestance[onnx]'") from err
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.name = "onnx-int8" if path.name == ONNX_FILES["onnx-int8"] else "onnx"

    def logits(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        feed = {key: value.astype(np.int64) for key, value in batch.items() if key in self.inputs}
        stance, sentiment = self.session.run(["stance_logits", "sentiment_logits"], feed)
        return {"stance": stance, "sentiment": sentiment}


def onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(path: Path, name: str, device: str | None) -> str:
    """The backend ``auto`` means for a folder: the fastest one present that keeps fp32's labels.

    A GPU when asked for or present; on a CPU with fast bf16 (AMX, AVX-512 BF16) PyTorch with bf16
    autocast, the fastest there; otherwise an exported ONNX graph if the folder has one; else PyTorch.
    """
    if name != "auto":
        if name in ONNX_FILES and not (path / ONNX_FILES[name]).is_file():
            raise FileNotFoundError(f"backend {name!r} needs {path / ONNX_FILES[name]}: export it with "
                                    f"python -m quotestance.export --model {path} --onnx" + (" --int8" if name == "onnx-int8" else ""))
        return name
    if resolve_device(device).type != "cpu" or cpu_supports_bf16():
        return "torch"
    for candidate in AUTO_ORDER:
        if candidate in ONNX_FILES and (path / ONNX_FILES[candidate]).is_file() and onnx_available():
            return candidate
    return "torch"


#: Exported graphs ``auto`` uses on CPUs without fast bf16, in order. int8 is left out: its stance labels
#: agree with fp32 on only about 90% of quotes (benchmarks/throughput.py), below the 99% we require.
AUTO_ORDER = ("onnx",)
