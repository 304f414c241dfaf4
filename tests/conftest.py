"""Shared fixtures: a tiny randomly initialised two-head BERT trained once per test session."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def statements_file(tmp_path_factory) -> Path:
    """A small slice of the project's written statements (every 8th line: all labels appear)."""
    lines = (ROOT / "data" / "statements.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path_factory.mktemp("data") / "statements.jsonl"
    path.write_text("\n".join(lines[::8]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_config(statements_file, tmp_path_factory):
    from quotestance.config import load_config

    cache = tmp_path_factory.mktemp("cache")
    return load_config(ROOT / "configs" / "tiny.yaml", [
        f"data.statements={statements_file}", f"data.cache_dir={cache}", "data.annotations_dir=''",
    ])


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_config, tmp_path_factory) -> Path:
    from quotestance.training import train

    out = tmp_path_factory.mktemp("models") / "tiny"
    train(tiny_config, out, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_predictor(tiny_model_dir):
    from quotestance import StancePredictor

    return StancePredictor.load(tiny_model_dir, bf16=False)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
