import json
import subprocess
import sys

import numpy as np
import pytest

from quotestance.evaluation import (apply_temperature, bootstrap_intervals, classification_metrics,
                                    expected_calibration_error, fit_temperature, read_labeled_file)

from conftest import ROOT


def test_metrics_per_class_and_macro():
    m = classification_metrics(["a", "a", "b", "c", None], ["a", "b", "b", "c", "a"], ["a", "b", "c"])
    assert m["n"] == 4 and m["accuracy"] == 0.75
    assert m["per_class"]["a"]["recall"] == 0.5 and m["per_class"]["b"]["precision"] == 0.5
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_ece_is_zero_when_confidence_matches_accuracy():
    probs = np.array([[0.8, 0.2]] * 10)
    gold = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(probs, gold) == pytest.approx(0.0)
    overconfident = np.array([[0.99, 0.01]] * 10)
    assert expected_calibration_error(overconfident, gold) == pytest.approx(0.19)


def test_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(20000, 3))
    true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    gold = np.array([rng.choice(3, p=p) for p in true])  # labels drawn from the calibrated probabilities
    sharp = np.exp(logits * 3) / np.exp(logits * 3).sum(1, keepdims=True)  # the model's logits are 3x too large
    temperature = fit_temperature(sharp, gold)
    assert abs(temperature - 3.0) / 3.0 < 0.10
    assert expected_calibration_error(apply_temperature(sharp, temperature), gold) < expected_calibration_error(sharp, gold) / 3


def test_bootstrap_interval_contains_the_point_estimate():
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 3, 300)
    pred = np.where(rng.random(300) < 0.7, gold, rng.integers(0, 3, 300))
    point = classification_metrics(list(gold), list(pred), [0, 1, 2])["macro_f1"]
    ci = bootstrap_intervals(gold, pred, ["a", "b", "c"], n_boot=300)["macro_f1"]
    assert ci[0] < point < ci[1] and ci[1] - ci[0] < 0.2


def test_labeled_file_errors_name_the_row(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"text": "ok", "stance": "neutral"}) + "\n" + json.dumps({"text": "x", "stance": "maybe"}) + "\n")
    with pytest.raises(ValueError, match="row 2: field 'stance'"):
        read_labeled_file(path)


def test_training_calibrates_and_writes_the_report(tiny_model_dir):
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    config = json.loads((tiny_model_dir / "config.json").read_text())
    for task in ("stance", "sentiment"):
        figures = metrics["calibration"][task]
        assert config["temperatures"][task] == pytest.approx(figures["temperature"])
        for key in ("ece_before", "ece_after"):
            assert figures[f"{key}_ci"][0] <= figures[key] <= figures[f"{key}_ci"][1]
        for name in (f"confusion_{task}.png", f"reliability_{task}.png"):
            assert (tiny_model_dir / "report" / name).read_bytes()[:4] == b"\x89PNG"
    report = (tiny_model_dir / "report" / "report.md").read_text()
    assert "most confident errors" in report and "expected calibration error" in report


def test_evaluate_command_merges_into_metrics(tiny_model_dir, tmp_path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    data = tmp_path / "gold.jsonl"
    data.write_text("".join(json.dumps({"text": t, "stance": s, "sentiment": "neutral"}) + "\n" for t, s in [
        ("Bring them home.", "pro-withdrawal"), ("Stay the course.", "pro-presence"), ("The vote is Tuesday.", "neutral")] * 5))
    before = json.loads((model / "metrics.json").read_text())
    done = subprocess.run([sys.executable, "-m", "quotestance.cli", "evaluate", "--model", str(model), "--data", str(data),
                           "--report", str(tmp_path / "report")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "stance: macro-F1" in done.stdout
    after = json.loads((model / "metrics.json").read_text())
    assert after["test"] == before["test"]  # added to, not replaced
    assert after["evaluations"][str(data)]["heads"]["stance"]["n"] == 15
    assert (tmp_path / "report" / "reliability_sentiment.png").is_file()


def test_min_confidence_marks_rows_without_changing_labels(tiny_predictor):
    from quotestance.predictor import score_rows

    rows = [{"text": "Bring them home."}, {"text": " "}]
    plain = score_rows(tiny_predictor, rows)
    marked = score_rows(tiny_predictor, rows, min_confidence=0.99)
    assert marked[0]["stance"] == plain[0]["stance"] and marked[0]["low_confidence"] is True
    assert score_rows(tiny_predictor, rows, min_confidence=0.0)[0]["low_confidence"] is False
    assert marked[1]["low_confidence"] is None
