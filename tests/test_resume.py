"""A batch job killed with SIGKILL at any point resumes to the same file an uninterrupted run writes."""
import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT


def command(model, source, target, *extra):
    return [sys.executable, str(ROOT / "predict.py"), "--model", str(model), "--input", str(source),
            "--output", str(target), "--chunk-size", "100", "--no-progress", *extra]


def test_kill_9_then_resume_gives_identical_output(tiny_model_dir, tmp_path):
    source = tmp_path / "quotes.jsonl"
    with open(source, "w") as handle:
        for i in range(6000):
            text = f"Quote {i}: " + " ".join(["the troops should stay", "bring them home", "the vote is today"][i % 3]
                                             for _ in range(1 + i % 5))
            handle.write(json.dumps({"id": f"q{i}", "text": text if i % 997 else "  "}) + "\n")
    reference = tmp_path / "reference.jsonl"
    done = subprocess.run(command(tiny_model_dir, source, reference), capture_output=True, text=True)
    assert done.returncode == 3, done.stderr  # the blank rows are errors

    target = tmp_path / "scored.jsonl"
    parts = tmp_path / "scored.jsonl.parts"
    for attempt, extra in enumerate([(), ("--resume",)]):
        process = subprocess.Popen(command(tiny_model_dir, source, target, *extra), stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        want = 3 + 20 * attempt  # kill once early, then again further on
        while time.time() < deadline and len(list(parts.glob("part-*.jsonl"))) < want and process.poll() is None:
            time.sleep(0.01)
        assert process.poll() is None, "the job finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert not target.exists()  # nothing half-written where the output goes

    resumed = subprocess.run(command(tiny_model_dir, source, target, "--resume"), capture_output=True, text=True)
    assert resumed.returncode == 3, resumed.stderr
    line = next(l for l in resumed.stderr.splitlines() if l.startswith("resumed at row"))
    assert int(line.split()[-1]) >= 2000
    assert target.read_bytes() == reference.read_bytes()
    assert not parts.exists()


def test_resume_refuses_a_changed_input(tiny_model_dir, tmp_path):
    source = tmp_path / "quotes.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"quote {i}"}) + "\n" for i in range(50)))
    target = tmp_path / "scored.jsonl"
    parts = tmp_path / "scored.jsonl.parts"
    parts.mkdir()
    (parts / "meta.json").write_text(json.dumps({"input": "elsewhere"}))
    done = subprocess.run(command(tiny_model_dir, source, target, "--resume"), capture_output=True, text=True)
    assert done.returncode == 2 and "cannot resume" in done.stderr


def test_all_good_rows_exit_zero_and_truncation_is_flagged(tiny_model_dir, tmp_path):
    source = tmp_path / "quotes.jsonl"
    long_text = "We must stay. " * 200
    source.write_text(json.dumps({"id": "short", "text": "Bring them home."}) + "\n"
                      + json.dumps({"id": "long", "text": long_text}) + "\n")
    target = tmp_path / "scored.jsonl"
    done = subprocess.run(command(tiny_model_dir, source, target), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["truncated"] for r in rows] == [False, True]
    assert rows[1]["stance"] is not None and rows[1]["error"] is None
