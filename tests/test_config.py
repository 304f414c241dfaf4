import pytest

from quotestance.config import load_config

from conftest import ROOT


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_default_and_tiny_configs_load():
    assert load_config(ROOT / "configs" / "default.yaml").base_model == "all-MiniLM-L6-v2"
    assert load_config(ROOT / "configs" / "tiny.yaml").base_model == "tiny-random-bert"


def test_unknown_key_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown config key 'epochz'"):
        load_config(write(tmp_path, "epochz: 3\n"))


def test_unknown_nested_key_is_named_with_its_path(tmp_path):
    with pytest.raises(ValueError, match="unknown config key 'data.weak_rows'"):
        load_config(write(tmp_path, "data: {weak_rows: 3}\n"))


def test_wrong_type_is_named(tmp_path):
    with pytest.raises(ValueError, match="'batch_size' must be of type int"):
        load_config(write(tmp_path, "batch_size: lots\n"))


def test_out_of_range_value_is_named(tmp_path):
    with pytest.raises(ValueError, match="'learning_rate' must be > 0"):
        load_config(write(tmp_path, "learning_rate: 0\n"))


def test_loss_weights_need_both_heads(tmp_path):
    with pytest.raises(ValueError, match="loss_weights"):
        load_config(write(tmp_path, "loss_weights: {stance: 1.0}\n"))


def test_overrides_parse_yaml_values_and_nested_keys(tmp_path):
    config = load_config(write(tmp_path, "epochs: 3\n"), ["epochs=7", "learning_rate=1e-4", "data.weak_max_rows=0", "bf16=false"])
    assert (config.epochs, config.learning_rate, config.data.weak_max_rows, config.bf16) == (7, 1e-4, 0, False)


def test_override_of_unknown_key_fails():
    with pytest.raises(ValueError, match="unknown config key 'nope'"):
        load_config(None, ["nope=1"])


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_config(tmp_path / "missing.yaml")
