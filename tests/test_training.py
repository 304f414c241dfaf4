import json

import pytest
import yaml

from quotestance import training


def test_model_folder_has_everything(tiny_model_dir):
    for name in ("model.safetensors", "config.json", "tokenizer.json", "train_config.yaml", "metrics.json", "README.md"):
        assert (tiny_model_dir / name).is_file(), name
    assert not list(tiny_model_dir.glob("*.bin")) and not list(tiny_model_dir.glob("*.pkl"))
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["stance_labels"] == ["pro-withdrawal", "pro-presence", "neutral"]
    assert yaml.safe_load((tiny_model_dir / "train_config.yaml").read_text())["base_model"] == "tiny-random-bert"


def test_metrics_cover_both_heads_and_splits(tiny_model_dir):
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    for split in ("validation", "test"):
        for task in ("stance", "sentiment"):
            head = metrics[split]["all"][task]
            assert 0 <= head["macro_f1"] <= 1
            assert set(head["per_class"]) and len(head["confusion_matrix"]) == 3
            assert sum(map(sum, head["confusion_matrix"])) == head["n"]


def test_model_card_agrees_with_metrics(tiny_model_dir):
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    card = (tiny_model_dir / "README.md").read_text()
    f1 = metrics["test"]["all"]["stance"]["macro_f1"]
    assert f"| all | {metrics['test']['all']['stance']['n']} | {f1:.3f} |" in card


def test_same_config_gives_same_metrics(tiny_config, tiny_model_dir, tmp_path):
    again = training.train(tiny_config, tmp_path / "again", progress=False)
    first = json.loads((tiny_model_dir / "metrics.json").read_text())
    assert again["test"]["all"] == first["test"]["all"]


def test_failed_save_leaves_previous_model_intact(tiny_config, tiny_model_dir, tmp_path, monkeypatch):
    import shutil

    target = tmp_path / "model"
    shutil.copytree(tiny_model_dir, target)
    before = (target / "model.safetensors").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(training, "model_card", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        training.train(tiny_config, target, progress=False)
    assert (target / "model.safetensors").read_bytes() == before
    assert (target / "metrics.json").is_file()


def test_greedy_soup_keeps_only_checkpoints_that_raise_the_score():
    import torch

    model = torch.nn.Linear(1, 1, bias=False)
    def state(w):
        return {"weight": torch.tensor([[float(w)]])}
    # The score of a state is how close its weight is to 1, as validation would score each epoch.
    checkpoints = [(-1.0, 1, state(0.0)), (-1.0, 2, state(2.0)), (-9.0, 3, state(10.0))]
    score = lambda: -abs(model.weight.item() - 1.0)  # noqa: E731
    assert training.greedy_soup(model, checkpoints, score, limit=3) == [1, 2]
    assert model.weight.item() == pytest.approx(1.0)
    assert training.greedy_soup(model, checkpoints, score, limit=1) == [1]
    assert model.weight.item() == 0.0

