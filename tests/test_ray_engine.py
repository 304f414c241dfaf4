"""The Ray engine scores a file exactly as the local engine does: same rows, order, fields and error rows."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray

from quotestance import StancePredictor
from quotestance.predictor import score_file
from quotestance.ray_engine import iter_rows, score_file_ray

from conftest import read_jsonl

CHUNK = 4  # several Ray batches, and a last one that is not full
BACKEND = "torch-fp32"  # the same numbers here and in the actor, whatever the CPU

QUOTES = [
    {"id": 1, "text": "Bring the brigades home by spring.", "speaker": "a senator"},
    {"id": 2, "text": "Pulling out now would be a gift to the insurgents.", "target": "US troops in Iraq"},
    {"id": 3, "text": "   ", "speaker": "blank"},
    {"id": 4, "text": "The base brings jobs, and we want it to stay.", "extra": {"n": 1}},
    {"id": 5, "speaker": "no text at all"},
    {"id": 6, "text": "They should leave by the end of the year."},
    {"id": 7, "text": None},
    {"id": 8, "text": "Nobody asked us whether we wanted foreign soldiers here."},
    {"id": 9, "text": "The vote is on Tuesday."},
]
MALFORMED = 5  # a line that is not JSON goes in after this many rows


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module; score_file_ray uses it and leaves it running."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def predictor(tiny_model_dir):
    return StancePredictor.load(tiny_model_dir, backend=BACKEND)


@pytest.fixture(scope="module")
def jsonl_input(tmp_path_factory) -> Path:
    lines = [json.dumps(row) for row in QUOTES]
    lines.insert(MALFORMED, '{"id": 99, "text": "unterminated')
    path = tmp_path_factory.mktemp("ray_in") / "quotes.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_ray(model, source, output, **kwargs):
    return score_file_ray(model, source, output, backend=BACKEND, batch_size=3, chunk_size=CHUNK, num_cpus=1, **kwargs)


def assert_same_rows(ray_rows, local_rows):
    """Same rows in the same order with the same fields; probabilities equal up to float noise."""
    assert len(ray_rows) == len(local_rows)
    for got, want in zip(ray_rows, local_rows):
        assert list(got) == list(want)
        for key, value in want.items():
            if key.endswith("_probs") and value:
                probs = json.loads(value) if isinstance(value, str) else value
                other = json.loads(got[key]) if isinstance(got[key], str) else got[key]
                assert list(other) == list(probs)
                assert all(math.isclose(other[k], probs[k], abs_tol=1e-6) for k in probs)
            else:
                assert got[key] == value, key


def test_jsonl_file_output_is_the_local_engines(ray_session, tiny_model_dir, predictor, jsonl_input, tmp_path):
    local = tmp_path / "local.jsonl"
    local_counts = score_file(predictor, jsonl_input, local, chunk_size=CHUNK, progress=False)
    counts = run_ray(tiny_model_dir, jsonl_input, tmp_path / "ray.jsonl")

    assert counts == {"rows": 10, "errors": 4} == {k: local_counts[k] for k in counts}
    rows, want = read_jsonl(tmp_path / "ray.jsonl"), read_jsonl(local)
    assert_same_rows(rows, want)
    assert [row["id"] for row in rows] == [1, 2, 3, 4, 5, None, 6, 7, 8, 9]
    assert all("row_index" not in row for row in rows)
    errors = {row["id"]: row["error"] for row in rows if row["error"]}
    assert errors.pop(None).startswith("quotes.jsonl line 6: invalid JSON")
    assert errors == {3: "row 3: field 'text' is empty", 5: "row 5: missing field 'text'",
                      7: "row 8: field 'text' is null"}
    for row in rows:
        assert (row["stance"] is None) == bool(row["error"]) == (row["sentiment_probs"] is None)
    assert ray.is_initialized()  # the caller's Ray is left running


def test_csv_and_parquet_file_output_match_the_local_engine(ray_session, tiny_model_dir, predictor, tmp_path):
    rows = [{"id": str(q["id"]), "text": q.get("text"), "target": q.get("target")} for q in QUOTES]
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "target"])
        writer.writeheader()
        writer.writerows(rows)
        handle.write('10,"too","many",fields\n')
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet", row_group_size=3)

    for name, read in (("csv", lambda p: list(csv.DictReader(open(p, encoding="utf-8")))),
                       ("parquet", lambda p: pq.read_table(p).to_pylist())):
        source = tmp_path / f"in.{name}"
        local_counts = score_file(predictor, source, tmp_path / f"local.{name}", chunk_size=CHUNK, progress=False)
        counts = run_ray(tiny_model_dir, source, tmp_path / f"ray.{name}")
        assert counts == {k: local_counts[k] for k in counts}
        got, want = read(tmp_path / f"ray.{name}"), read(tmp_path / f"local.{name}")
        assert_same_rows(got, want)
        assert [row["id"] for row in got][:9] == [str(q["id"]) for q in QUOTES]
    assert counts == {"rows": 9, "errors": 3}  # parquet: blank, no text, null
    assert got[2]["error"] == "row 3: field 'text' is empty"


def test_folder_output_carries_row_index(ray_session, tiny_model_dir, jsonl_input, tmp_path):
    counts = run_ray(tiny_model_dir, jsonl_input, tmp_path / "scored")
    assert counts == {"rows": 10, "errors": 4}
    parts = sorted(p.name for p in (tmp_path / "scored").iterdir())
    assert parts and all(p.startswith("part-") and p.endswith(".jsonl") for p in parts)
    rows = list(iter_rows(tmp_path / "scored"))
    assert [row["row_index"] for row in rows] == list(range(10))
    assert [row["id"] for row in rows] == [1, 2, 3, 4, 5, None, 6, 7, 8, 9]
    assert rows[5]["error"].startswith("quotes.jsonl line 6: invalid JSON")
    assert rows[2]["error"] == "row 3: field 'text' is empty" and rows[2]["stance"] is None
    assert isinstance(rows[0]["stance_probs"], dict) and rows[0]["stance"] in rows[0]["stance_probs"]

    # Parquet part files from a CSV input, by output_format; probabilities as structs.
    source = tmp_path / "in.csv"
    source.write_text("id,text\n" + "".join(f"q{i},Quote number {i} about the base.\n" for i in range(7))
                      + "q7,\n", encoding="utf-8")
    counts = run_ray(tiny_model_dir, source, tmp_path / "as_parquet", output_format="parquet")
    assert counts == {"rows": 8, "errors": 1}
    rows = list(iter_rows(tmp_path / "as_parquet"))
    assert [(row["row_index"], row["id"]) for row in rows] == [(i, f"q{i}") for i in range(8)]
    assert rows[7]["error"] == "row 8: field 'text' is null"
    assert set(rows[0]["sentiment_probs"]) == {"negative", "neutral", "positive"}

    # CSV part files from a Parquet input read in several row groups; probabilities as JSON text.
    pq.write_table(pa.Table.from_pylist([{"id": i, "text": f"Quote {i}." if i != 4 else None} for i in range(9)]),
                   tmp_path / "in.parquet", row_group_size=2)
    counts = run_ray(tiny_model_dir, tmp_path / "in.parquet", tmp_path / "as_csv", output_format="csv")
    assert counts == {"rows": 9, "errors": 1}
    rows = list(iter_rows(tmp_path / "as_csv"))
    assert [(int(row["row_index"]), row["id"]) for row in rows] == [(i, str(i)) for i in range(9)]
    assert rows[4]["error"] == "row 5: field 'text' is null" and rows[4]["stance"] is None
    assert set(json.loads(rows[0]["stance_probs"])) == {"pro-withdrawal", "pro-presence", "neutral"}


def test_folder_output_refuses_a_folder_with_files(tiny_model_dir, jsonl_input, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        score_file_ray(tiny_model_dir, jsonl_input, tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"


def test_cli_engine_ray_on_a_few_hundred_quotes_matches_the_local_engine(tiny_model_dir, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    source = tmp_path / "many.jsonl"
    source.write_text("".join(json.dumps({"id": f"q{i}", "text": f"Quote {i}: " + "bring them home " * (1 + i % 7)
                                          if i % 50 else " "}) + "\n" for i in range(300)))

    def predict(*extra):
        done = subprocess.run([sys.executable, str(ROOT / "predict.py"), "--model", str(tiny_model_dir), "--input",
                               str(source), "--backend", BACKEND, "--chunk-size", "64", "--no-progress", *extra],
                              capture_output=True, text=True)
        assert done.returncode == 3, done.stderr[-3000:]  # six blank quotes are error rows
        return done

    predict("--output", str(tmp_path / "local.jsonl"))
    predict("--output", str(tmp_path / "ray.jsonl"), "--engine", "ray", "--ray-cpus", "1")
    ray_rows, local_rows = read_jsonl(tmp_path / "ray.jsonl"), read_jsonl(tmp_path / "local.jsonl")
    assert len(ray_rows) == 300 and [r["id"] for r in ray_rows] == [f"q{i}" for i in range(300)]
    assert_same_rows(ray_rows, local_rows)
