"""Export a trained model folder to ONNX (and a dynamically quantised int8 variant) next to its weights.

    python -m quotestance.export --model models/default --onnx [--int8]

The graph takes ``input_ids``, ``attention_mask`` and ``token_type_ids`` (batch and sequence axes
dynamic) and returns ``stance_logits`` and ``sentiment_logits``; labels, temperatures and the
tokenizer stay in the folder, so ``predict.py --backend onnx`` gives the same output fields.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from quotestance.backends import ONNX_FILES
from quotestance.modeling import QuoteStanceModel


class _Logits(nn.Module):
    """The model with plain tuple outputs, which the ONNX exporter needs."""

    def __init__(self, model: QuoteStanceModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.stance_logits, out.sentiment_logits


def export_onnx(folder: str | Path, int8: bool = False) -> list[Path]:
    """Write ``model.onnx`` (and ``model.int8.onnx`` with ``int8``) into ``folder``, atomically."""
    folder = Path(folder)
    model = QuoteStanceModel.from_pretrained(folder, local_files_only=True, use_safetensors=True).eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    written = []
    target = folder / ONNX_FILES["onnx"]
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        fp32 = Path(tmp) / target.name
        torch.onnx.export(
            _Logits(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["stance_logits", "sentiment_logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                          "stance_logits": {0: "batch"}, "sentiment_logits": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantised = Path(tmp) / ONNX_FILES["onnx-int8"]
            quantize_dynamic(str(fp32), str(quantised), weight_type=QuantType.QInt8)
            os.replace(quantised, folder / quantised.name)
            written.append(folder / quantised.name)
        os.replace(fp32, target)
        written.insert(0, target)
    return written


if __name__ == "__main__":
    from quotestance.cli import run_command

    sys.exit(run_command("export", prog="python -m quotestance.export"))
