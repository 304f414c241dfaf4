#!/usr/bin/env bash
# The main job: set up, train the default model if there is none, then extract, attribute and score
# the quotes of the shipped example article and print the per-speaker table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
if [ ! -f models/default/model.safetensors ]; then
  .venv/bin/python train.py --config configs/default.yaml --output models/default
fi
status=0
.venv/bin/python predict.py --model models/default --articles data/examples/report.txt \
  --output scored_example.jsonl --summary speakers_example.md || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || exit "$status"
.venv/bin/python - <<'PY'
import json
print("\nscored quotes (scored_example.jsonl):")
for line in open("scored_example.jsonl", encoding="utf-8"):
    row = json.loads(line)
    print(f"{row['stance'] or '-':>15} {row['sentiment'] or '-':>9}  {row['speaker'] or '(unattributed)'}: {row['text'][:80]}")
PY
