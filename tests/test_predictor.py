from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from quotestance import SENTIMENT_LABELS, STANCE_LABELS, StancePredictor


def assert_same(a, b):
    """Same labels, probabilities equal up to float noise from different padding."""
    for task in ("stance", "sentiment"):
        assert a[task] == b[task]
        np.testing.assert_allclose(list(a[f"{task}_probs"].values()), list(b[f"{task}_probs"].values()), atol=1e-5)


def test_single_string_gives_single_result(tiny_predictor):
    result = tiny_predictor.predict("We will keep our brigades there as long as it takes.")
    assert result["stance"] in STANCE_LABELS and result["sentiment"] in SENTIMENT_LABELS
    assert set(result["stance_probs"]) == set(STANCE_LABELS)
    assert abs(sum(result["stance_probs"].values()) - 1) < 1e-5


def test_list_gives_one_result_per_text_in_order(tiny_predictor):
    texts = ["Bring them home.", "Stay the course in Kabul, whatever the cost to us.", "The vote is on Tuesday."]
    results = tiny_predictor.predict(texts)
    assert len(results) == 3
    for text, result in zip(texts, results):
        assert_same(result, tiny_predictor.predict(text))


def test_predict_proba_columns_follow_stored_label_order(tiny_predictor):
    probs = tiny_predictor.predict_proba(["one quote here", "another quote, longer than the first one"])
    assert probs["stance"].shape == (2, 3) and probs["sentiment"].shape == (2, 3)
    np.testing.assert_allclose(probs["stance"].sum(axis=1), 1, rtol=1e-5)
    best = tiny_predictor.labels["stance"][int(probs["stance"][0].argmax())]
    assert best == tiny_predictor.predict("one quote here")["stance"]


def test_target_changes_the_input(tiny_predictor):
    text = "They should leave by the end of the year."
    a = tiny_predictor.predict_proba(text, "US troops in Iraq")["stance"]
    b = tiny_predictor.predict_proba(text, "French forces in Mali")["stance"]
    assert not np.allclose(a, b)
    default = tiny_predictor.predict_proba(text)["stance"]
    np.testing.assert_allclose(default, tiny_predictor.predict_proba(text, tiny_predictor.default_target)["stance"])


def test_blank_text_is_an_error_naming_it(tiny_predictor):
    with pytest.raises(ValueError, match="text 1"):
        tiny_predictor.predict(["fine", "   "])


def test_stored_label_order_is_used(tiny_model_dir, tmp_path):
    import json
    import shutil

    copy = tmp_path / "reordered"
    shutil.copytree(tiny_model_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["stance_labels"] = list(reversed(config["stance_labels"]))
    (copy / "config.json").write_text(json.dumps(config))
    original = StancePredictor.load(tiny_model_dir, bf16=False)
    reordered = StancePredictor.load(copy, bf16=False)
    assert reordered.labels["stance"] == list(reversed(original.labels["stance"]))
    text = "We need them here."
    # Same logits, names read from the stored order: column i keeps its name from config.json.
    np.testing.assert_allclose(original.predict_proba(text)["stance"], reordered.predict_proba(text)["stance"])


def test_concurrent_calls_match_serial_calls(tiny_predictor):
    texts = [f"quote number {i} about the troops and the base" for i in range(40)]
    serial = tiny_predictor.predict(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(tiny_predictor.predict, texts))
    for a, b in zip(parallel, serial):
        assert_same(a, b)


def test_load_without_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trained model"):
        StancePredictor.load(tmp_path)


def copy_model(tiny_model_dir, tmp_path):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    return folder


def test_unknown_format_version_is_named(tiny_model_dir, tmp_path):
    import json

    folder = copy_model(tiny_model_dir, tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == 1
    config["format_version"] = 99
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="format_version 99"):
        StancePredictor.load(folder)


def test_missing_file_is_named(tiny_model_dir, tmp_path):
    folder = copy_model(tiny_model_dir, tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(FileNotFoundError, match="tokenizer.json is missing"):
        StancePredictor.load(folder)


def test_pickled_weights_are_refused(tiny_model_dir, tmp_path):
    folder = copy_model(tiny_model_dir, tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match="safetensors only"):
        StancePredictor.load(folder)


def test_public_api_is_listed():
    import quotestance

    assert set(quotestance.__all__) >= {"StancePredictor", "extract_quotes", "STANCE_LABELS", "SENTIMENT_LABELS"}
    for name in quotestance.__all__:
        assert hasattr(quotestance, name)


def test_batches_are_padded_to_a_few_shapes_without_changing_scores(tiny_predictor):
    from quotestance.predictor import PAD_MULTIPLE, encode

    texts = ["Bring them home.", "The brigades should stay until the elections are held and counted in every province."]
    padded = encode(tiny_predictor.tokenizer, texts, ["US troops"] * 2, 128, "np", pad_to_multiple_of=PAD_MULTIPLE)
    exact = encode(tiny_predictor.tokenizer, texts, ["US troops"] * 2, 128, "np")
    assert padded["input_ids"].shape[1] % PAD_MULTIPLE == 0
    assert padded["input_ids"].shape[1] > exact["input_ids"].shape[1]
    one_by_one = [tiny_predictor.predict(text) for text in texts]
    for a, b in zip(tiny_predictor.predict(texts), one_by_one):
        assert_same(a, b)
