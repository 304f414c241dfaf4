#!/usr/bin/env python
"""Train a quotestance model: python train.py [--config configs/default.yaml] [--output models/default] [--set key=value]"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from quotestance.cli import run_command  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_command("train", prog="train.py"))
