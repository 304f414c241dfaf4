"""Fine-tunes the real all-MiniLM-L6-v2 for a few steps on a small slice, saves, reloads and scores."""
import json

import numpy as np
import pytest

from quotestance import StancePredictor
from quotestance.config import load_config
from quotestance.training import train

from conftest import ROOT


@pytest.mark.integration
def test_minilm_fine_tunes_saves_reloads_and_scores(statements_file, tmp_path):
    config = load_config(ROOT / "configs" / "default.yaml", [
        f"data.statements={statements_file}", "data.corpora_dir=''", "data.annotations_dir=''",
        f"data.cache_dir={tmp_path / 'cache'}", "epochs=1", "max_steps_per_epoch=4", "batch_size=8",
    ])
    metrics = train(config, tmp_path / "minilm", progress=False)
    assert metrics["training"]["epochs_run"] == 1
    saved = json.loads((tmp_path / "minilm" / "config.json").read_text())
    assert saved["num_hidden_layers"] == 6 and saved["hidden_size"] == 384
    predictor = StancePredictor.load(tmp_path / "minilm", bf16=False)
    texts = ["We should bring the troops home now.", "Withdrawal would be a gift to the insurgents."]
    results = predictor.predict(texts)
    assert len(results) == 2 and all(r["stance"] in predictor.labels["stance"] for r in results)
    again = StancePredictor.load(tmp_path / "minilm", bf16=False).predict_proba(texts)
    np.testing.assert_allclose(again["stance"], predictor.predict_proba(texts)["stance"], rtol=1e-6)
