#!/usr/bin/env python
"""Score quotes: python predict.py "a quote" ... | python predict.py --input quotes.jsonl --output scored.jsonl"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "src"))

from quotestance.cli import run_command  # noqa: E402

if __name__ == "__main__":
    sys.exit(run_command("predict", prog="predict.py"))
