#!/usr/bin/env bash
# Create .venv (once) and install quotestance with its test tools; torch is pinned to the CPU build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import quotestance, pytest, torch, onnxruntime, fastapi, httpx, ray, matplotlib" 2>/dev/null; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet "torch==2.13.0"
  .venv/bin/pip install --quiet -e ".[test,onnx,serve,ray]"
fi
