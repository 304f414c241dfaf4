"""The ``quotestance`` command and its subcommands; ``train.py`` and ``predict.py`` call into here."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

DEFAULT_CONFIG = "configs/default.yaml"
DEFAULT_MODEL = "models/default"
#: Exit status of predict when the job finished but some rows carry an error (a failed job exits 2).
EXIT_ROW_ERRORS = 3


def _quiet_libraries() -> None:
    """No hub access, and no library chatter on stdout: logs and progress go to stderr."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    datasets.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


# ---------------------------------------------------------------- train

def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"YAML config (default {DEFAULT_CONFIG})")
    parser.add_argument("--output", default=None, help=f"model folder to write (default {DEFAULT_MODEL})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set epochs=2 --set data.weak_max_rows=0")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run_train(args: argparse.Namespace) -> int:
    from quotestance.config import load_config
    from quotestance.training import train

    config = load_config(args.config, args.overrides)
    output = args.output or DEFAULT_MODEL
    metrics = train(config, output, progress=not args.no_progress)
    summary = {split: {task: metrics[split]["all"].get(task, {}).get("macro_f1") for task in ("stance", "sentiment")}
               for split in ("validation", "test")}
    print(f"model written to {output} in {metrics['training']['seconds']:.0f} s; macro-F1 {json.dumps(summary)}",
          file=sys.stderr)
    return 0


# ---------------------------------------------------------------- predict

def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="*", help="quotes to score; prints one JSON object per quote")
    parser.add_argument("--input", help="file of quotes (.jsonl, .csv or .parquet) with a 'text' column")
    parser.add_argument("--articles", help="a .txt article, a folder of them, or a .jsonl with id and text per article: "
                                           "quotes are extracted, attributed and scored")
    parser.add_argument("--per-sentence", action="store_true",
                        help="with --articles: one row per sentence of each quote (quote_id, sentence_index)")
    parser.add_argument("--summary", help="with --articles: write the per-speaker summary to this .csv or .md file")
    parser.add_argument("--output", help="where to write scored rows (format by extension); stdout as JSONL if absent")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"trained model folder (default {DEFAULT_MODEL})")
    parser.add_argument("--target", default=None, help="deployment the quotes given on the command line are about")
    parser.add_argument("--batch-size", type=int, default=64, help="quotes per forward pass (default 64)")
    parser.add_argument("--chunk-size", type=int, default=2048, help="rows read and written at a time (default 2048)")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local (default) or ray: score --input through Ray Data (pip install 'quotestance[ray]')")
    parser.add_argument("--ray-address", default=None, help="with --engine ray: a cluster to join (default: start a local Ray)")
    parser.add_argument("--ray-actors", type=int, default=1, help="with --engine ray: scoring actors (default 1)")
    parser.add_argument("--ray-cpus", type=float, default=None,
                        help="with --engine ray: CPUs per actor (default: all but one, shared among actors)")
    parser.add_argument("--output-format", choices=["jsonl", "csv", "parquet"], default=None,
                        help="with --engine ray and a folder --output: the part files' format (default: the input's)")
    parser.add_argument("--min-confidence", type=float, default=None, metavar="P",
                        help="mark rows whose stance or sentiment top probability is below P (low_confidence: true)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted --input job from its last complete chunk")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available, else cpu)")
    parser.add_argument("--backend", default="auto", choices=["auto", "torch", "torch-fp32", "torch-bf16", "onnx", "onnx-int8"],
                        help="inference backend (default auto: an exported ONNX graph if present, else PyTorch)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run_predict(args: argparse.Namespace) -> int:
    from quotestance.predictor import StancePredictor, score_file, score_rows

    if sum(map(bool, (args.texts, args.input, args.articles))) != 1:
        raise ValueError("predict: give exactly one of: quotes as arguments, --input FILE, --articles PATH")
    if (args.per_sentence or args.summary) and not args.articles:
        raise ValueError("predict: --per-sentence and --summary go with --articles")
    if args.resume and not (args.input and args.output):
        raise ValueError("predict: --resume goes with --input FILE --output FILE")
    if args.min_confidence is not None and not 0 <= args.min_confidence <= 1:
        raise ValueError("predict: --min-confidence must be between 0 and 1")
    if args.batch_size < 1 or args.chunk_size < 1:
        raise ValueError("predict: --batch-size and --chunk-size must be at least 1")
    if args.output and Path(args.output).resolve() == Path(args.input or "").resolve():
        raise ValueError("predict: --output must differ from --input")
    if args.engine == "ray":
        return _predict_ray(args)
    predictor = StancePredictor.load(args.model, device=args.device, batch_size=args.batch_size, backend=args.backend)
    print(f"model {args.model}, backend {predictor.backend_name}", file=sys.stderr)
    if args.texts:
        rows = score_rows(predictor, [{"text": text, "target": args.target} for text in args.texts],
                          min_confidence=args.min_confidence)
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return EXIT_ROW_ERRORS if any(row["error"] for row in rows) else 0
    if args.articles:
        return _predict_articles(predictor, args)
    counts = score_file(predictor, args.input, args.output, chunk_size=args.chunk_size,
                        progress=not args.no_progress, resume=args.resume, min_confidence=args.min_confidence)
    print(f"scored {counts['rows']} rows ({counts['errors']} with an error) -> {args.output or 'stdout'}",
          file=sys.stderr)
    return EXIT_ROW_ERRORS if counts["errors"] else 0


def _predict_ray(args: argparse.Namespace) -> int:
    if not (args.input and args.output) or args.resume or args.device or args.min_confidence is not None:
        raise ValueError("predict: --engine ray takes --input and --output (not --resume, --device or --min-confidence)")
    from quotestance.ray_engine import score_file_ray

    counts = score_file_ray(args.model, args.input, args.output, address=args.ray_address, backend=args.backend,
                            batch_size=args.batch_size, chunk_size=args.chunk_size, num_cpus=args.ray_cpus,
                            actors=args.ray_actors, output_format=args.output_format, progress=not args.no_progress)
    print(f"scored {counts['rows']} rows ({counts['errors']} with an error) with Ray -> {args.output}", file=sys.stderr)
    return EXIT_ROW_ERRORS if counts["errors"] else 0


def _predict_articles(predictor, args: argparse.Namespace) -> int:
    from quotestance.articles import format_summary_table, score_articles, write_summary

    counts, summary = score_articles(predictor, args.articles, args.output, per_sentence=args.per_sentence,
                                     progress=not args.no_progress, min_confidence=args.min_confidence)
    if args.summary:
        write_summary(summary, args.summary)
    print(format_summary_table(summary), file=sys.stderr)
    print(f"{counts['articles']} articles ({counts['without_quotes']} without quotes): {counts['rows']} rows "
          f"({counts['errors']} with an error) -> {args.output or 'stdout'}", file=sys.stderr)
    return EXIT_ROW_ERRORS if counts["errors"] else 0


# ---------------------------------------------------------------- data

def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    from quotestance.annotation import PICKS

    parser.add_argument("action", choices=["build", "stats", "lf-summary", "suggest", "import"],
                        help="build: rebuild the cached dataset; stats: print counts; lf-summary: coverage, overlap, "
                             "conflict and gold accuracy of each labeling function; suggest: unlabeled training-split "
                             "sentences to label (see --pick); import: add a labeled file to the gold annotations")
    parser.add_argument("file", nargs="?", help="import: the labeled .jsonl/.csv/.parquet file (id, stance, sentiment)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"YAML config (default {DEFAULT_CONFIG})")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="suggest: the model whose uncertainty picks sentences")
    parser.add_argument("--corpus", default=None, help="suggest/import: corpora folder (default: the config's data.corpora_dir)")
    parser.add_argument("--n", type=int, default=200, help="suggest: how many sentences (default 200)")
    parser.add_argument("--pool", type=int, default=20000,
                        help="suggest: how many random unlabeled sentences to score and pick from (default 20000)")
    parser.add_argument("--pick", default=PICKS[0], choices=PICKS,
                        help="suggest: the sentences the model is least sure of (default), those most likely to "
                             "take a side (arguing), which finds more of the rarer stance classes, or those most "
                             "likely to carry one stance label")
    parser.add_argument("--out", default="to_label.jsonl", help="suggest: where to write them (default to_label.jsonl)")
    parser.add_argument("--name", default=None, help="import: name of the new annotation batch (default: the file's stem)")


def run_data(args: argparse.Namespace) -> int:
    from quotestance.config import load_config
    from quotestance.dataset import lf_summary_report, load_dataset, stats_table

    config = load_config(args.config, args.overrides)
    corpus = args.corpus or config.data.corpora_dir
    cache = Path(config.data.cache_dir).parent / "corpora"
    if args.action == "suggest":
        from quotestance.annotation import suggest
        from quotestance.dataset import assign_split
        from quotestance.io import RowWriter
        from quotestance.predictor import StancePredictor

        data = config.data
        rows = suggest(StancePredictor.load(args.model), corpus, data.annotations_dir, n=args.n, pool=args.pool,
                       seed=config.seed, cache_dir=cache, pick=args.pick, keep_group=lambda group: assign_split(
                           group, config.seed, data.validation_fraction, data.test_fraction) == "train")
        with RowWriter(args.out) as writer:
            writer.write(rows)
        print(f"wrote {len(rows)} sentences to label to {args.out}: fill in stance and sentiment per "
              f"../shared/ANNOTATION.md, then run: quotestance data import {args.out}", file=sys.stderr)
        return 0
    if args.action == "import":
        from quotestance.annotation import import_labels

        if not args.file:
            raise ValueError("data import: give the labeled file")
        target = import_labels(args.file, corpus, config.data.annotations_dir, args.name or Path(args.file).stem,
                               cache_dir=cache)
        print(f"imported into {target}; rebuild with: quotestance data build", file=sys.stderr)
        return 0
    if args.action == "lf-summary":
        print(lf_summary_report(config.data))
        return 0
    dataset = load_dataset(config.data, config.seed, rebuild=args.action == "build")
    print(stats_table(dataset))
    return 0


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"trained model folder (default {DEFAULT_MODEL})")
    parser.add_argument("--data", required=True, help="labeled .jsonl/.csv/.parquet with text and gold stance and/or sentiment")
    parser.add_argument("--report", default=None, help="report folder (default <model>/evaluations/<data file stem>)")
    parser.add_argument("--backend", default="auto", help="inference backend (as for predict)")


def run_evaluate(args: argparse.Namespace) -> int:
    from quotestance.evaluation import evaluate_probs, read_labeled_file, write_report
    from quotestance.io import atomic_path
    from quotestance.predictor import StancePredictor

    texts, targets, gold = read_labeled_file(args.data)
    predictor = StancePredictor.load(args.model, backend=args.backend)
    evaluation = evaluate_probs(texts, gold, predictor.predict_proba(texts, targets), predictor.labels)
    report_dir = Path(args.report) if args.report else Path(args.model) / "evaluations" / Path(args.data).stem
    figures = write_report(evaluation, report_dir, f"Evaluation of {args.model} on {args.data}")
    metrics_path = Path(args.model) / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    metrics.setdefault("evaluations", {})[str(args.data)] = figures
    with atomic_path(metrics_path) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    for task, head in figures["heads"].items():
        ci = head["intervals"]["macro_f1"]
        print(f"{task}: macro-F1 {head['macro_f1']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]  accuracy {head['accuracy']:.3f}  "
              f"ECE {head['ece']:.3f}  n={head['n']}")
    print(f"report written to {report_dir / 'report.md'}; figures added to {metrics_path}", file=sys.stderr)
    return 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"trained model folder (default {DEFAULT_MODEL})")
    parser.add_argument("--onnx", action="store_true", required=True, help="write model.onnx next to the weights")
    parser.add_argument("--int8", action="store_true", help="also write a dynamically quantised model.int8.onnx")


def run_export(args: argparse.Namespace) -> int:
    from quotestance.export import export_onnx

    for path in export_onnx(args.model, int8=args.int8):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
    return 0


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    from quotestance.serve import add_serve_arguments as add

    add(parser)


def run_serve(args: argparse.Namespace) -> int:
    from quotestance.serve import run_serve as run

    return run(args)


COMMANDS = {
    "train": (add_train_arguments, run_train, "fine-tune a model from a YAML config"),
    "predict": (add_predict_arguments, run_predict, "score quotes given as arguments or in a file"),
    "data": (add_data_arguments, run_data, "build the dataset or print its counts"),
    "export": (add_export_arguments, run_export, "export a model folder to ONNX (fp32 and int8)"),
    "serve": (add_serve_arguments, run_serve, "serve a model folder over HTTP (/v1/predict, /v1/extract)"),
    "evaluate": (add_evaluate_arguments, run_evaluate, "metrics with intervals, calibration and a report on a labeled file"),
}


def run_command(name: str, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Parse ``argv`` for one subcommand and run it; errors become one clear line and exit code 2."""
    add_arguments, runner, help_text = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=prog or f"quotestance {name}", description=help_text)
    add_arguments(parser)
    args = parser.parse_args(argv)
    _quiet_libraries()
    try:
        return runner(args)
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``quotestance`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        names = ", ".join(COMMANDS)
        print(f"usage: quotestance {{{names}}} ...\n" + "\n".join(f"  {n:<8} {c[2]}" for n, c in COMMANDS.items()),
              file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return run_command(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
