#!/usr/bin/env bash
# The main job: set up, train the default model if there is none, then score the shipped example.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
if [ ! -f models/default/model.safetensors ]; then
  .venv/bin/python train.py --config configs/default.yaml --output models/default
fi
.venv/bin/python predict.py --model models/default --input data/examples/quotes.jsonl --output scored_example.jsonl
echo "scored quotes written to scored_example.jsonl:" >&2
.venv/bin/python - <<'PY'
import json
for line in open("scored_example.jsonl", encoding="utf-8"):
    row = json.loads(line)
    print(f"{row['stance']:>15} {row['sentiment']:>9}  {row['speaker']}: {row['text'][:90]}")
PY
