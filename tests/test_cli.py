"""The predict.py contract: stdout JSON lines, file scoring in three formats, one row per input row."""
import json
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, read_jsonl

ROWS = [
    {"id": "q1", "text": "Bring the brigades home by spring.", "speaker": "a senator", "extra": 1},
    {"id": "q2", "text": "   ", "speaker": "nobody", "extra": 2},
    {"id": "q3", "text": "Pulling out now would hand the country to the insurgents.", "target": "US troops in Iraq", "extra": 3},
    {"id": "q4", "text": None, "extra": 4},
    {"id": "q5", "speaker": "no text field", "extra": 5},
    {"id": "q6", "text": "There are about 2,500 troops in the country.", "extra": 6},
]


def run(*args):
    return subprocess.run([sys.executable, str(ROOT / "predict.py"), *args], capture_output=True, text=True, cwd=ROOT)


def write_input(path):
    frame = pd.DataFrame(ROWS)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps({k: v for k, v in r.items()}) + "\n" for r in ROWS))
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def read_output(path):
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".csv":
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        rows = frame.to_dict("records")
        for row in rows:
            for key in ("stance_probs", "sentiment_probs"):
                row[key] = json.loads(row[key]) if row[key] else None
            row["error"] = row["error"] or None
        return rows
    return pq.read_table(path).to_pylist()


def test_texts_print_one_json_object_per_line_on_stdout(tiny_model_dir):
    done = run("--model", str(tiny_model_dir), "Bring them home.", "Stay and finish the job.")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["text"] == "Bring them home." and first["error"] is None
    assert set(first) >= {"stance", "stance_probs", "sentiment", "sentiment_probs"}


@pytest.mark.parametrize("ext", [".jsonl", ".csv", ".parquet"])
def test_file_scoring_keeps_rows_order_ids_and_extra_columns(tiny_model_dir, tmp_path, ext):
    source, target = tmp_path / f"in{ext}", tmp_path / f"out{ext}"
    write_input(source)
    done = run("--model", str(tiny_model_dir), "--input", str(source), "--output", str(target), "--chunk-size", "2")
    assert done.returncode == 3, done.stderr  # finished, some rows carry errors
    assert "3 with an error" in done.stderr
    assert done.stdout == ""
    rows = read_output(target)
    assert [str(r["id"]) for r in rows] == [r["id"] for r in ROWS]
    assert [int(r["extra"]) for r in rows] == [r["extra"] for r in ROWS]
    scored = {r["id"]: r for r in rows}
    for good in ("q1", "q3", "q6"):
        assert scored[good]["error"] is None
        assert scored[good]["stance"] in ("pro-withdrawal", "pro-presence", "neutral")
        assert abs(sum(scored[good]["stance_probs"].values()) - 1) < 1e-5
    for bad in ("q2", "q4", "q5"):
        assert scored[bad]["error"] and "text" in scored[bad]["error"]
        assert not scored[bad]["stance"]
    assert scored["q3"]["target"] == "US troops in Iraq"


def test_malformed_jsonl_line_becomes_an_error_row(tiny_model_dir, tmp_path):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"id": "a", "text": "Bring them home."}\n{not json\n{"id": "c", "text": "Stay."}\n')
    assert run("--model", str(tiny_model_dir), "--input", str(source), "--output", str(target)).returncode == 3
    rows = read_jsonl(target)
    assert len(rows) == 3
    assert "line 2" in rows[1]["error"] and rows[1]["line"] == 2 and rows[1]["id"] is None
    assert rows[0]["error"] is None and rows[2]["id"] == "c"


def test_missing_model_is_a_clear_error(tmp_path):
    done = run("--model", str(tmp_path / "none"), "a quote")
    assert done.returncode == 2
    assert "no trained model" in done.stderr and "Traceback" not in done.stderr


def test_unsupported_extension_is_named(tiny_model_dir, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("hello")
    done = run("--model", str(tiny_model_dir), "--input", str(source), "--output", str(tmp_path / "o.jsonl"))
    assert done.returncode == 2 and "in.txt" in done.stderr
