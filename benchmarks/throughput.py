#!/usr/bin/env python
"""Scoring speed, peak memory and fidelity of every inference route, on the same generated quotes.

Prints one table over N synthetic quotes (benchmarks/quote_generator.py, deterministic from --seed):

1. HF pipeline: the plain Hugging Face baseline, ``transformers.pipeline("text-classification",
   batch_size=32, device=-1)`` on an equivalent single-head MiniLM ``BertForSequenceClassification``
   (the model's encoder weights and its stance head; CLS pooler instead of mean pooling, so its labels
   differ: it is a speed baseline only). Texts only, no targets.
2. ``StancePredictor.load(folder, backend=B).predict(texts, targets)`` for B in torch-fp32, torch-bf16,
   onnx and onnx-int8 (the ONNX graphs are exported into a temporary copy of the model folder; the
   folder itself is not changed). One warm-up batch first; model load is not timed.
3. The whole command line, process start and model load included:
   ``python predict.py --input quotes.jsonl --output out.jsonl --backend B --no-progress``, for the
   default backend (auto, on a folder without ONNX files, i.e. PyTorch) and for onnx.

Each measurement runs in a fresh Python process, so peak RSS (ru_maxrss; MB = 2**20 bytes) is that of one
route alone; for the command line it is the predict.py process's. Columns: quotes/s, its ratio to the HF
pipeline, peak RSS, stance label agreement with torch-fp32 on the N quotes (same argmax label), and
macro-F1 of both heads on the gold test split of the dataset the model was trained on (as
benchmarks/accuracy.py loads it). What we require of a faster route: agreement >= 0.99 and both F1
within 0.01 of torch-fp32; the lines under the table say which routes meet it. Figures only, no asserts.

With --memory, also the peak RSS of the command line (default backend) scoring 20,000 and 200,000
generated quotes, and their ratio: input files are streamed, so the target is 200k within 10% of 20k.
The 200k run takes a long while on a small CPU.

Usage:  python benchmarks/throughput.py [--model models/default] [--n 6000] [--seed 0] [--memory]
Needs onnxruntime and onnx (pip install -e ".[onnx]") for the ONNX rows; a failed route prints its error.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from quote_generator import iter_quotes  # noqa: E402

BACKENDS = ("torch-fp32", "torch-bf16", "onnx", "onnx-int8")
PIPELINE_BATCH = 32
AGREEMENT_MIN, F1_TOLERANCE = 0.99, 0.01


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------ workers (each in its own process)

def worker_build_hf(args) -> dict:
    """Save a BertForSequenceClassification with the model's encoder and stance head, plus its tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from quotestance.modeling import QuoteStanceModel

    model = QuoteStanceModel.from_pretrained(args.model, local_files_only=True, use_safetensors=True)
    c = model.config
    labels = list(c.stance_labels)
    keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
            "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
            "initializer_range", "layer_norm_eps", "pad_token_id")
    config = BertConfig(**{k: getattr(c, k) for k in keys}, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
    classifier = BertForSequenceClassification(config).eval()
    missing, unexpected = classifier.bert.load_state_dict(model.bert.state_dict(), strict=False)
    if unexpected or any(not k.startswith("pooler.") for k in missing):
        raise RuntimeError(f"encoder weights do not fit: missing {missing}, unexpected {unexpected}")
    classifier.classifier.load_state_dict(model.stance_head.state_dict())
    classifier.save_pretrained(args.out)
    AutoTokenizer.from_pretrained(args.model, local_files_only=True).save_pretrained(args.out)
    return {"random_init": missing}  # the pooler: quotestance has none


def worker_export(args) -> dict:
    from quotestance.export import export_onnx

    return {"written": [str(p) for p in export_onnx(args.model, int8=True)]}


def _test_rows(work: Path) -> tuple[list[str], list]:
    rows = _read_jsonl(work / "test.jsonl")
    return [r["text"] for r in rows], [r["target"] for r in rows]


def worker_pipeline(args) -> dict:
    from transformers import pipeline

    work = Path(args.work)
    texts = [q["text"] for q in _read_jsonl(work / "quotes.jsonl")]
    pipe = pipeline("text-classification", model=args.model, batch_size=PIPELINE_BATCH, device=-1)
    pipe(texts[:PIPELINE_BATCH])  # warm-up
    start = time.perf_counter()
    out = pipe(texts)
    seconds = time.perf_counter() - start
    assert len(out) == len(texts)
    return {"seconds": seconds, "rss_mb": _rss_mb(), "backend": "bert-cls"}


def worker_backend(args) -> dict:
    from quotestance import StancePredictor

    work = Path(args.work)
    quotes = _read_jsonl(work / "quotes.jsonl")
    texts, targets = [q["text"] for q in quotes], [q["target"] for q in quotes]
    predictor = StancePredictor.load(args.model, backend=args.backend)
    size = predictor.batch_size
    predictor.predict(texts[:size], targets[:size])  # warm-up
    start = time.perf_counter()
    results = predictor.predict(texts, targets)
    seconds = time.perf_counter() - start
    rss = _rss_mb()
    test_texts, test_targets = _test_rows(work)
    test = predictor.predict(test_texts, test_targets)
    return {"seconds": seconds, "rss_mb": rss, "backend": predictor.backend_name,
            "stance": [r["stance"] for r in results],
            "test": {task: [r[task] for r in test] for task in ("stance", "sentiment")}}


def _predict_cli(model: str, backend: str, source: Path, output: Path) -> tuple[float, str]:
    cmd = [sys.executable, str(REPO / "predict.py"), "--model", model, "--input", str(source),
           "--output", str(output), "--backend", backend, "--no-progress"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"predict.py exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    chosen = next((line.rsplit("backend ", 1)[1].strip() for line in proc.stderr.splitlines()
                   if line.startswith("model ") and "backend " in line), backend)
    return seconds, chosen


def worker_cli(args) -> dict:
    """Time predict.py on the quotes; peak RSS is RUSAGE_CHILDREN of this process, whose only child it is."""
    work = Path(args.work)
    source = Path(args.input) if args.input else work / "quotes.jsonl"
    output = work / f"out-{args.name}.jsonl"
    seconds, chosen = _predict_cli(args.model, args.backend, source, output)
    result = {"seconds": seconds, "rss_mb": _rss_mb(resource.RUSAGE_CHILDREN), "backend": chosen}
    if args.labels:
        result["stance"] = [row["stance"] for row in _read_jsonl(output)]
        test_out = work / f"out-{args.name}-test.jsonl"
        _predict_cli(args.model, args.backend, work / "test.jsonl", test_out)  # untimed, for the F1 columns
        rows = _read_jsonl(test_out)
        result["test"] = {task: [row[task] for row in rows] for task in ("stance", "sentiment")}
    output.unlink(missing_ok=True)
    return result


WORKERS = {"build-hf": worker_build_hf, "export": worker_export, "pipeline": worker_pipeline,
           "backend": worker_backend, "cli": worker_cli}


def run_worker(kind: str, result_file: Path, **options) -> dict:
    """Run one worker in a fresh interpreter; its result, or {"error": ...} when it failed."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--result", str(result_file)]
    for key, value in options.items():
        if value is True:
            cmd.append(f"--{key.replace('_', '-')}")
        elif value not in (None, False):
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    result_file.unlink(missing_ok=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0 or not result_file.is_file():
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return json.loads(result_file.read_text())


# ------------------------------------------------------------------ the report

def _f1(gold: list, pred: list, labels: list[str]) -> float | None:
    from quotestance.evaluation import classification_metrics

    return classification_metrics(gold, pred, labels).get("macro_f1")


def _cell(value, fmt: str, width: int) -> str:
    return f"{'-' if value is None else format(value, fmt):>{width}}"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/default", help="trained model folder (default models/default)")
    parser.add_argument("--n", type=int, default=6000, help="generated quotes to score (default 6000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated quotes (default 0)")
    parser.add_argument("--memory", action="store_true", help="also: peak RSS of the CLI on 20,000 and 200,000 quotes")
    parser.add_argument("--memory-sizes", default="20000,200000", help=argparse.SUPPRESS)
    # worker mode (internal)
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="run", help=argparse.SUPPRESS)
    parser.add_argument("--labels", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    from quotestance.cli import _quiet_libraries

    _quiet_libraries()
    if args.worker:
        result = WORKERS[args.worker](args)
        Path(args.result).write_text(json.dumps(result))
        return
    report(args)


def report(args) -> None:
    from quotestance.backends import ONNX_FILES
    from quotestance.config import load_config
    from quotestance.dataset import load_dataset
    from quotestance.labels import TASKS

    model = Path(args.model).resolve() if Path(args.model).exists() else (REPO / args.model).resolve()
    if not (model / "config.json").is_file():
        raise SystemExit(f"no trained model in {args.model}")
    os.chdir(REPO)  # the data paths in train_config.yaml are relative to the repository root
    config = load_config(model / "train_config.yaml")  # the very splits the model saw
    test = load_dataset(config.data, config.seed)["test"]
    gold = {task: list(test[task]) for task in TASKS}

    with tempfile.TemporaryDirectory(prefix="quotestance-throughput-") as tmp:
        work = Path(tmp)
        result_file = work / "result.json"
        _write_jsonl(work / "quotes.jsonl", iter_quotes(args.n, args.seed))
        _write_jsonl(work / "test.jsonl", ({"id": r["id"], "text": r["text"], "target": r["target"]} for r in test))

        _log("building the HF classifier and exporting ONNX into a copy of the model folder ...")
        hf_folder = work / "hf-classifier"
        built = run_worker("build-hf", result_file, model=model, out=hf_folder)
        onnx_folder = work / "model-onnx"
        shutil.copytree(model, onnx_folder)
        exported = run_worker("export", result_file, model=onnx_folder)
        # auto on a folder without ONNX files means PyTorch; strip them from a copy if the folder has some
        plain = model
        if any((model / name).exists() for name in ONNX_FILES.values()):
            plain = work / "model-plain"
            shutil.copytree(model, plain, ignore=shutil.ignore_patterns("*.onnx"))

        runs: dict[str, dict] = {}
        _log("HF pipeline ...")
        runs["HF pipeline"] = built if "error" in built else run_worker("pipeline", result_file, model=hf_folder, work=work)
        for backend in BACKENDS:
            _log(f"{backend} ...")
            folder = onnx_folder if backend in ONNX_FILES else model
            if backend in ONNX_FILES and "error" in exported:
                runs[backend] = exported
                continue
            runs[backend] = run_worker("backend", result_file, model=folder, work=work, backend=backend)
        _log("predict.py --backend auto ...")
        runs["predict.py (auto)"] = run_worker("cli", result_file, model=plain, work=work, backend="auto",
                                               name="auto", labels=True)
        _log("predict.py --backend onnx ...")
        runs["predict.py --backend onnx"] = exported if "error" in exported else run_worker(
            "cli", result_file, model=onnx_folder, work=work, backend="onnx", name="onnx", labels=True)

        memory = []
        if args.memory:
            for size in (int(s) for s in args.memory_sizes.split(",")):
                source = work / f"memory-{size}.jsonl"
                _write_jsonl(source, iter_quotes(size, args.seed + 1))
                _log(f"predict.py (auto) on {size:,} quotes ...")
                memory.append((size, run_worker("cli", result_file, model=plain, work=work, backend="auto",
                                                input=source, name=f"memory-{size}")))
                source.unlink()

    _print_report(args, model, runs, gold, memory)


def _print_report(args, model: Path, runs: dict[str, dict], gold: dict, memory: list) -> None:
    import onnxruntime
    import torch
    import transformers

    from quotestance.labels import TASKS

    base = runs.get("HF pipeline", {})
    base_qps = args.n / base["seconds"] if "seconds" in base else None
    reference = runs.get("torch-fp32", {})
    rows = []
    for name, run in runs.items():
        if "error" in run:
            rows.append((name, None, run))
            continue
        qps = args.n / run["seconds"]
        agree = None
        if "stance" in run and "stance" in reference:
            agree = sum(a == b for a, b in zip(run["stance"], reference["stance"])) / args.n
        f1 = {task: _f1(gold[task], run["test"][task], TASKS[task]) for task in TASKS} if "test" in run else {}
        rows.append((name, {"qps": qps, "ratio": qps / base_qps if base_qps else None, "agree": agree, **f1}, run))

    print(f"throughput on {args.n:,} generated quotes (seed {args.seed}); model {model}")
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}, "
          f"onnxruntime {onnxruntime.__version__}, {os.cpu_count()} CPUs")
    header = (f"{'route':<34}{'backend':>12}{'seconds':>9}{'quotes/s':>10}{'x pipeline':>11}{'peak RSS MB':>13}"
              f"{'agree fp32':>12}{'stance F1':>11}{'sentim. F1':>12}")
    print(header)
    print("-" * len(header))
    for name, fig, run in rows:
        if fig is None:
            print(f"{name:<34}  failed: {run['error'][:140]}")
            continue
        print(f"{name:<34}{run['backend']:>12}{run['seconds']:>9.2f}{fig['qps']:>10.1f}"
              + _cell(fig["ratio"], ".2f", 11) + f"{run['rss_mb']:>13.0f}" + _cell(fig["agree"], ".4f", 12)
              + _cell(fig.get("stance"), ".3f", 11) + _cell(fig.get("sentiment"), ".3f", 12))
    print(f"agree fp32: share of the {args.n:,} quotes with the same stance label as torch-fp32; F1: macro-F1 on the "
          f"gold test split (stance n={sum(g is not None for g in gold['stance'])}, "
          f"sentiment n={sum(g is not None for g in gold['sentiment'])}). predict.py rows include process start and "
          "model load.")
    try:  # a test split that differs from the one training scored means the data changed since training
        trained_n = json.loads((model / "metrics.json").read_text())["test"]["all"]["stance"]["n"]
    except (OSError, KeyError, TypeError, ValueError):
        trained_n = None
    now_n = sum(g is not None for g in gold["stance"])
    if trained_n is not None and trained_n != now_n:
        print(f"note: {model.name}/metrics.json scored {trained_n} stance-labelled test rows, the split built now has "
              f"{now_n}: the data changed since training, so these F1 are not comparable to metrics.json (and may "
              "include rows the model trained on); comparisons between routes still hold.")
    ref = next((fig for name, fig, _ in rows if name == "torch-fp32" and fig), None)
    if ref:
        for name, fig, _ in rows:
            if not fig or name in ("HF pipeline", "torch-fp32") or fig["agree"] is None:
                continue
            deltas = {task: fig[task] - ref[task] for task in TASKS}
            ok = fig["agree"] >= AGREEMENT_MIN and all(abs(d) <= F1_TOLERANCE for d in deltas.values())
            print(f"  {name:<32} {'meets' if ok else 'MISSES'} agreement >= {AGREEMENT_MIN} and F1 within "
                  f"{F1_TOLERANCE} of fp32 (agreement {fig['agree']:.4f}, F1 delta stance {deltas['stance']:+.3f}, "
                  f"sentiment {deltas['sentiment']:+.3f})")
    if memory:
        print("\npeak RSS of predict.py (auto backend), streaming a JSONL file")
        for size, run in memory:
            if "error" in run:
                print(f"  {size:>9,} quotes: failed: {run['error'][:140]}")
            else:
                print(f"  {size:>9,} quotes: {run['rss_mb']:8.0f} MB  {run['seconds']:8.1f} s  "
                      f"({size / run['seconds']:.1f} quotes/s, backend {run['backend']})")
        done = [(size, run) for size, run in memory if "error" not in run]
        if len(done) >= 2:
            (small, first), (large, last) = done[0], done[-1]
            print(f"  ratio {large:,} / {small:,}: {last['rss_mb'] / first['rss_mb']:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
