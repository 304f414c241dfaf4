"""ONNX export of the two-head model, and the ONNX backends against PyTorch."""
import shutil

import numpy as np
import pytest

from quotestance import StancePredictor
from quotestance.export import export_onnx

TEXTS = ["Bring the brigades home by spring.", "Pulling out now would hand the country to the insurgents.",
         "There are about 2,500 troops in the country, the ministry said on Tuesday."]


@pytest.fixture(scope="module")
def exported(tiny_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx") / "model"
    shutil.copytree(tiny_model_dir, folder)
    written = export_onnx(folder, int8=True)
    assert [p.name for p in written] == ["model.onnx", "model.int8.onnx"]
    return folder


def test_onnx_matches_torch_fp32(exported):
    torch_probs = StancePredictor.load(exported, backend="torch-fp32").predict_proba(TEXTS)
    onnx = StancePredictor.load(exported, backend="onnx")
    assert onnx.backend_name == "onnx"
    onnx_probs = onnx.predict_proba(TEXTS)
    for task in ("stance", "sentiment"):
        np.testing.assert_allclose(onnx_probs[task], torch_probs[task], atol=1e-4)


def test_int8_gives_same_fields(exported):
    predictor = StancePredictor.load(exported, backend="onnx-int8")
    result = predictor.predict(TEXTS[0])
    assert predictor.backend_name == "onnx-int8"
    assert set(result) == {"stance", "stance_probs", "sentiment", "sentiment_probs", "truncated"}


def test_auto_picks_bf16_torch_or_the_exported_graph(exported, tiny_model_dir):
    from quotestance.backends import cpu_supports_bf16

    expected = "torch-bf16" if cpu_supports_bf16() else "onnx"
    assert StancePredictor.load(exported).backend_name == expected
    assert StancePredictor.load(tiny_model_dir).backend_name.startswith("torch")


def test_missing_onnx_file_is_a_clear_error(tiny_model_dir):
    with pytest.raises(FileNotFoundError, match="quotestance.export"):
        StancePredictor.load(tiny_model_dir, backend="onnx")
