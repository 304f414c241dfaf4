"""Score a quote file on Ray: the same scoring as ``predict.py --input --output``, run through ``ray.data``.

``score_file_ray`` reads the input, tags every row with its input position (``row_index``), scores the
rows with :class:`~quotestance.predictor.PandasScorer` in a pool of Ray actors (the model is loaded
once per actor) and writes either

* one file (the output path has a ``.jsonl``, ``.csv`` or ``.parquet`` suffix): rows in input order,
  written atomically, the same file the local engine writes (same fields, no ``row_index``); or
* a folder (no suffix, a trailing slash, an existing empty folder or a URI such as ``s3://bucket/out``):
  part files written by Ray's writers in parallel, every row carrying its input ``row_index``.

Bad rows are not lost: JSONL and CSV are read with :func:`quotestance.io.read_chunks` (as the local
engine does), so a malformed JSONL line or CSV record, or a missing, null or blank ``text``, becomes an
output row with ``error`` set and null labels. Parquet is read by Ray tasks in parallel, by row groups,
each task numbering its rows from the row counts in the file's metadata.

Ray is an optional dependency (``pip install "ray[data]"``): import this module only when the Ray
engine is asked for. On a multi-node cluster (``address``), the model folder, a Parquet input and a folder
output must be at the same paths on every node (a shared filesystem) or, for the output, a URI that
every node can write to; ``quotestance`` must be installed on the workers.
"""
from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import BlockBasedFileDatasink, Datasource, FilenameProvider, ReadTask

from quotestance.backends import BACKENDS
from quotestance.io import RowWriter, arrow_column, file_format, infer_type, read_chunks
from quotestance.predictor import OUTPUT_FIELDS, PROB_COLUMNS, PandasScorer, plain_value, row_problem

ROW_INDEX = "row_index"
# Why a row cannot be scored, worked out by the driver from the row exactly as read (a JSONL row with
# no "text" key is "missing field 'text'", which a DataFrame, holding it as NaN, would call null).
_PROBLEM = "__quotestance_problem__"

Row = dict[str, Any]


def score_file_ray(model: str | Path, input_path: str | Path, output_path: str | Path, *,
                   address: str | None = None, backend: str = "auto", batch_size: int = 64,
                   chunk_size: int = 2048, num_cpus: float | None = None, actors: int = 1,
                   output_format: str | None = None, progress: bool = True) -> dict[str, int]:
    """Score ``input_path`` into ``output_path`` (a file or a folder) on Ray; return row and error counts.

    ``model``: a trained model folder; ``backend`` as for :meth:`StancePredictor.load`.
    ``address``: a running Ray cluster to use (``ray.init(address=...)``); without it a local Ray is
    started for this call and shut down afterwards (a Ray already initialised by the caller is used
    as it is and left running). ``batch_size``: quotes per forward pass; ``chunk_size``: rows per Ray
    batch (and per read and write). ``num_cpus``: CPUs reserved by each scoring actor, and its torch
    threads (default: the CPUs of the largest node but one, divided among the actors, at least 1;
    leave a CPU free for the tasks that read and write, or they wait for it). ``actors``: scoring
    actors (each loads the model once). ``output_format``: the format of
    a folder output (``jsonl``, ``csv`` or ``parquet``; default: the input's format). ``progress``:
    Ray Data progress bars.
    """
    if batch_size < 1 or chunk_size < 1 or actors < 1:
        raise ValueError("score_file_ray: batch_size, chunk_size and actors must be at least 1")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if num_cpus is not None and num_cpus <= 0:
        raise ValueError("score_file_ray: num_cpus must be positive")
    input_path = Path(input_path)
    in_format = file_format(input_path)
    if not input_path.is_file():
        raise FileNotFoundError(f"input file not found: {input_path}")
    folder = _is_folder(output_path)
    if folder:
        out_format = _format_name(output_format) if output_format else in_format
    else:
        if _is_uri(output_path):
            raise ValueError(f"{output_path}: a single output file must be a local path; give a folder for a URI")
        if output_format and _format_name(output_format) != file_format(output_path):
            raise ValueError(f"output_format {output_format!r} does not match the output file {output_path}")
        out_format = file_format(output_path)
        if Path(output_path).resolve() == input_path.resolve():
            raise ValueError("score_file_ray: the output must differ from the input")
    model = _model_location(model, local=address is None)
    if folder and not _is_uri(output_path):
        target = Path(output_path)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise ValueError(f"output folder {target} exists and is not empty (or is a file); "
                             "remove it or choose another")

    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=_local_cpus(), include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
        else:
            ray.init(address=address)
        started = True
    context = ray.data.DataContext.get_current()
    saved = (context.execution_options.preserve_order, context.enable_progress_bars)
    # Blocks stay in input order through every operator: file output streams out in order.
    context.execution_options.preserve_order = True
    context.enable_progress_bars = progress
    try:
        if num_cpus is None:
            num_cpus = _default_actor_cpus(actors)
        dataset, columns, total = _read(input_path, in_format, chunk_size)
        scorer_kwargs = {"model": model, "backend": backend, "batch_size": batch_size,
                         "threads": max(1, int(num_cpus)), "output_format": out_format if folder else None}
        if folder:
            return _score_to_folder(dataset, total, output_path, out_format, chunk_size, num_cpus, actors,
                                    scorer_kwargs)
        return _score_to_file(dataset, total, input_path, Path(output_path), columns, chunk_size,
                              num_cpus, actors, scorer_kwargs)
    finally:
        context.execution_options.preserve_order, context.enable_progress_bars = saved
        if started:
            ray.shutdown()


class RayScorer(PandasScorer):
    """:class:`PandasScorer` with the input's row numbers in error messages and Arrow output for Ray.

    ``PandasScorer`` numbers the rows of each batch from 1; here a row that cannot be scored is named
    by its place in the input file (``row_index + 1``), as ``predict.py`` names it. Without
    ``output_format`` (file output) a batch comes back as ``row_index`` and the output fields only
    (``*_probs`` as JSON text; the driver joins them to the rows as read); with one (folder output),
    as every input column plus the output fields, typed for that format's writer.
    """

    def __init__(self, model: str | Path, backend: str = "auto", batch_size: int = 64, device: str | None = None,
                 threads: int | None = None, output_format: str | None = None):
        super().__init__(model, backend=backend, batch_size=batch_size, device=device, threads=threads)
        self.output_format = output_format

    def __call__(self, frame: pd.DataFrame) -> pa.Table:
        index = [int(i) for i in frame[ROW_INDEX].tolist()]
        inputs = frame.drop(columns=[_PROBLEM], errors="ignore")
        if _PROBLEM in frame.columns:
            problems = [plain_value(p) for p in frame[_PROBLEM].tolist()]
        else:
            records = inputs.to_dict("records")
            problems = [row_problem({k: plain_value(v) for k, v in row.items()}, i + 1) for row, i in zip(records, index)]
        scored = super().__call__(inputs)
        columns: dict[str, pa.Array] = {ROW_INDEX: pa.array(index, pa.int64())}
        if self.output_format is not None:
            for name in inputs.columns:
                if name != ROW_INDEX and name not in OUTPUT_FIELDS:
                    columns[name] = self._cell_array(name, [plain_value(v) for v in inputs[name].tolist()])
        for name in OUTPUT_FIELDS:
            values = problems if name == "error" else [plain_value(v) for v in scored[name].tolist()]
            columns[name] = self._output_array(name, values)
        return pa.table(columns)

    def _output_array(self, name: str, values: list[Any]) -> pa.Array:
        if self.output_format == ".csv":
            return self._cell_array(name, values)
        if name in PROB_COLUMNS and self.output_format is not None:
            labels = self.predictor.labels[name.removesuffix("_probs")]
            struct = pa.struct([pa.field(label, pa.float64()) for label in labels])
            return pa.array([None if v is None else json.loads(v) for v in values], type=struct)
        return pa.array(values, type=pa.bool_() if name == "truncated" else pa.string())

    def _cell_array(self, name: str, values: list[Any]) -> pa.Array:
        """A passed-through column: CSV cells as ``predict.py`` writes them, else the values' own type."""
        if self.output_format == ".csv":
            return pa.array([_csv_text(v) for v in values], type=pa.string())
        field = pa.field(name, infer_type(values))
        return arrow_column(None, field, values)


def _csv_text(value: Any) -> str | None:
    """A CSV cell as the local writer makes it: null stays null (an empty cell), objects as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read(path: Path, fmt: str, chunk_size: int):
    """The input as a Ray dataset with ``row_index``; the output columns in local-engine order; the row count."""
    if fmt == ".parquet":
        source = _ParquetRowGroups(path.resolve(), chunk_size)
        columns = list(_add_output_columns({}, [dict.fromkeys(source.columns)]))
        if source.total == 0:
            return None, columns, 0
        return ray.data.read_datasource(source), columns, source.total
    # JSONL and CSV: parsed on the driver exactly as the local engine parses them (bad records become
    # error rows), put into the object store chunk by chunk; object columns keep each value as read.
    refs, columns, total = [], {}, 0
    for chunk in read_chunks(path, chunk_size):
        _add_output_columns(columns, chunk)
        frame = pd.DataFrame(chunk, dtype=object)
        frame[ROW_INDEX] = range(total, total + len(chunk))
        frame[_PROBLEM] = pd.Series([row_problem(row, total + i + 1) for i, row in enumerate(chunk)], dtype=object)
        refs.append(ray.put(frame))
        total += len(chunk)
    return (ray.data.from_pandas_refs(refs) if refs else None), list(columns), total


class _ParquetRowGroups(Datasource):
    """A Parquet file read in parallel by Ray, in runs of row groups, each row tagged with its ``row_index``.

    The row counts of the row groups (in the file's metadata) give every read task the index of its first
    row, so the index is exact whatever the tasks and blocks. ``ray.data.read_parquet`` cannot give it
    (``Dataset.zip`` with a range is deprecated, and ``monotonically_increasing_id`` is not consecutive).
    """

    def __init__(self, path: Path, chunk_size: int):
        super().__init__()
        self.path = str(path)
        self.chunk_size = chunk_size
        metadata = pq.ParquetFile(path).metadata
        self.columns = pq.read_schema(path).names
        self.groups = [(i, metadata.row_group(i).num_rows, metadata.row_group(i).total_byte_size)
                       for i in range(metadata.num_row_groups)]
        self.total = metadata.num_rows

    def estimate_inmemory_data_size(self) -> int:
        return sum(size for _, _, size in self.groups)

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                       data_context=None) -> list[ReadTask]:
        tasks, first = [], 0
        per_task = max(1, -(-len(self.groups) // max(1, parallelism)))
        for start in range(0, len(self.groups), per_task):
            run = self.groups[start:start + per_task]
            rows, size = sum(g[1] for g in run), sum(g[2] for g in run)
            read = functools.partial(_read_row_groups, self.path, [g[0] for g in run], first, self.chunk_size)
            tasks.append(ReadTask(read, BlockMetadata(num_rows=rows, size_bytes=size, exec_stats=None,
                                                      input_files=(self.path,)),
                                  per_task_row_limit=per_task_row_limit))
            first += rows
        return tasks


def _read_row_groups(path: str, groups: list[int], first: int, chunk_size: int) -> Iterator[pa.Table]:
    """The rows of ``groups`` in blocks of ``chunk_size``, numbered from ``first``; an input ``row_index`` is replaced."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_size, row_groups=groups):
        table = pa.Table.from_batches([batch])
        if ROW_INDEX in table.column_names:
            table = table.drop_columns([ROW_INDEX])
        yield table.append_column(ROW_INDEX, pa.array(range(first, first + table.num_rows), pa.int64()))
        first += table.num_rows


def _add_output_columns(columns: dict[str, None], rows: list[Row]) -> dict[str, None]:
    """Add the output columns of ``rows`` in first-seen order, as ``score_file`` collects them."""
    for row in rows:
        columns.update(dict.fromkeys(k for k in row if k not in OUTPUT_FIELDS))
        columns.update(dict.fromkeys(OUTPUT_FIELDS))
    return columns


def _scored(dataset, chunk_size: int, num_cpus: float, actors: int, scorer_kwargs: dict[str, Any]):
    return dataset.map_batches(
        RayScorer, fn_constructor_kwargs=scorer_kwargs, batch_format="pandas", batch_size=chunk_size,
        compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=num_cpus,
    )


def _score_to_file(dataset, total: int, input_path: Path, output_path: Path, columns: list[str],
                   chunk_size: int, num_cpus: float, actors: int, scorer_kwargs: dict[str, Any]) -> dict[str, int]:
    """Stream scored batches in order, join them to the input rows as read, write one file atomically.

    The rows are built as ``score_rows`` builds them and written in chunks of ``chunk_size`` with the
    columns of the whole file, so the output is the file ``score_file`` writes.
    """
    counts = {"rows": 0, "errors": 0}
    originals = itertools.chain.from_iterable(read_chunks(input_path, chunk_size))
    with RowWriter(output_path, prob_columns=PROB_COLUMNS, columns=columns) as writer:
        if dataset is None:
            return counts
        pending: list[Row] = []
        for batch in _scored(dataset, chunk_size, num_cpus, actors, scorer_kwargs).iter_batches(
                batch_format="pyarrow", batch_size=None, prefetch_batches=2):
            for scored in batch.to_pylist():
                if scored[ROW_INDEX] != counts["rows"]:
                    raise RuntimeError(f"Ray returned row {scored[ROW_INDEX]} where row {counts['rows']} was due")
                original = next(originals, None)
                if original is None:
                    raise RuntimeError(f"{input_path} has fewer rows than were scored; was it changed meanwhile?")
                pending.append(_merge(original, scored))
                counts["rows"] += 1
                counts["errors"] += bool(scored["error"])
            while len(pending) >= chunk_size:
                writer.write(pending[:chunk_size])
                del pending[:chunk_size]
        writer.write(pending)
        if counts["rows"] != total or next(originals, None) is not None:
            raise RuntimeError(f"scored {counts['rows']} rows of {total}; was {input_path} changed meanwhile?")
    return counts


def _merge(original: Row, scored: Row) -> Row:
    """The output row ``score_rows`` makes: input fields, then the output fields, JSON-clean as ``score_file``'s."""
    merged = {key: value for key, value in original.items() if key not in OUTPUT_FIELDS}
    for name in OUTPUT_FIELDS:
        value = scored[name]
        merged[name] = json.loads(value) if name in PROB_COLUMNS and value is not None else value
    # score_file passes rows through JSON part files (non-JSON values as str); so does this.
    return json.loads(json.dumps(merged, ensure_ascii=False, default=str))


def _score_to_folder(dataset, total: int, output_path: str | Path, out_format: str, chunk_size: int,
                     num_cpus: float, actors: int, scorer_kwargs: dict[str, Any]) -> dict[str, int]:
    """Write part files with Ray's writers into a new folder (a temporary one renamed into place)."""
    uri = _is_uri(output_path)
    target = Path(output_path)
    if dataset is None:
        if not uri:
            target.mkdir(parents=True, exist_ok=True)
        return {"rows": 0, "errors": 0}
    scored = _scored(dataset, chunk_size, num_cpus, actors, scorer_kwargs).materialize()
    counts = {"rows": scored.count(), "errors": 0}
    for batch in scored.select_columns(["error"]).iter_batches(batch_format="pyarrow", batch_size=None):
        counts["errors"] += sum(1 for error in batch.column("error").to_pylist() if error)
    if counts["rows"] != total:
        raise RuntimeError(f"scored {counts['rows']} rows of {total}")
    if uri:
        _write(scored, str(output_path), out_format)
        return counts
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        _write(scored, str(tmp), out_format)
        tmp.mkdir(exist_ok=True)
        if target.is_dir():
            target.rmdir()  # checked empty before scoring; fails (keeping tmp's parts out) if filled meanwhile
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return counts


class _PartNames(FilenameProvider):
    """``part-000000-<write uuid>.jsonl``, ...: one file per write task, in task order (Ray's Parquet
    writer wants the write's UUID in the name)."""

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"part-{task_index:06d}-{write_uuid}.{self.file_format}"


class _JsonLinesDatasink(BlockBasedFileDatasink):
    """JSON lines exactly as ``predict.py`` writes them (``write_json`` goes through pandas, which rounds
    floats to 15 digits and writes timestamps as epoch numbers)."""

    def write_block_to_file(self, block, file) -> None:
        rows = block.to_arrow().to_pylist()
        file.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows).encode("utf-8"))


def _write(dataset, path: str, out_format: str) -> None:
    if out_format == ".jsonl":
        dataset.write_datasink(_JsonLinesDatasink(path, file_format="jsonl",
                                                  filename_provider=_PartNames(file_format="jsonl")))
    elif out_format == ".csv":
        dataset.write_csv(path, filename_provider=_PartNames(file_format="csv"))
    else:
        dataset.write_parquet(path, filename_provider=_PartNames(file_format="parquet"))


def _is_uri(path: str | Path) -> bool:
    return "://" in str(path)


def _is_folder(path: str | Path) -> bool:
    """A folder output: a URI or path without a suffix, one ending in a slash, or an existing folder."""
    text = str(path)
    if text.endswith(("/", os.sep)) or (not _is_uri(path) and Path(text).is_dir()):
        return True
    return Path(text.split("://", 1)[-1]).suffix == ""


def _format_name(name: str) -> str:
    """``jsonl``/``json``/``csv``/``parquet``, with or without the dot, as a format suffix."""
    return file_format(f"output.{name.lower().lstrip('.')}")


def _model_location(model: str | Path, local: bool) -> str:
    """An absolute path for the actors (whose working folder differs); checked here when Ray is local."""
    path = Path(model)
    if path.exists():
        path = path.resolve()
    if local and (not (path / "config.json").is_file() or not (path / "model.safetensors").is_file()):
        raise FileNotFoundError(
            f"no trained model in {path} (expected config.json and model.safetensors); train one with: python train.py"
        )
    return str(path)


def _local_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _default_actor_cpus(actors: int) -> float:
    """The CPUs of the largest node but one (for reading and writing), shared by the actors, at least one each.

    Every actor fits on one node this way; on a cluster of several nodes, give ``num_cpus`` to use more.
    """
    cpus = [node.get("Resources", {}).get("CPU", 0) for node in ray.nodes() if node.get("Alive")]
    return float(max(1, int(max(cpus, default=1.0) - 1) // actors))


def iter_rows(path: str | Path) -> Iterator[Row]:
    """The rows of a folder written by :func:`score_file_ray` (any format), in input order.

    Reads every part file into memory to sort it; for large outputs, read the folder with Ray instead.
    """
    folder = Path(path)
    rows: list[Row] = []
    for part in sorted(folder.iterdir()):
        if part.name.startswith(".") or part.suffix not in (".jsonl", ".csv", ".parquet"):
            continue
        for chunk in read_chunks(part, 4096):
            rows.extend(chunk)
    rows.sort(key=lambda row: int(row[ROW_INDEX]))
    return iter(rows)
