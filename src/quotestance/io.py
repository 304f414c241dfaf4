"""Streaming readers and writers for quote files (JSONL, CSV, Parquet), with atomic output.

Readers yield chunks of rows so a file of millions of quotes never sits in memory. A row that
cannot be parsed is not dropped: it comes through as ``{"error": ...}`` so the output keeps one
row per input row, in input order.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = (".jsonl", ".csv", ".parquet")
Row = dict[str, Any]


def file_format(path: str | Path) -> str:
    """The format named by a file's extension; an unknown one is an error naming the file."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        suffix = ".jsonl"
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(FORMATS)}")
    return suffix


def count_rows(path: str | Path) -> int | None:
    """Rows in a file, cheaply where the format allows (for progress bars); None if unknown."""
    fmt = file_format(path)
    if fmt == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    if fmt == ".jsonl":
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    return None


def read_chunks(path: str | Path, chunk_size: int = 1024) -> Iterator[list[Row]]:
    """Yield lists of at most ``chunk_size`` rows from a JSONL, CSV or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    reader = {".jsonl": _jsonl_rows, ".csv": _csv_rows}.get(file_format(path))
    if reader is None:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunk_size):
            yield batch.to_pylist()
        return
    chunk: list[Row] = []
    for row in reader(path):
        chunk.append(row)
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                yield {"error": f"{path.name} line {number}: invalid JSON ({err.msg})"}
                continue
            if not isinstance(row, dict):
                yield {"error": f"{path.name} line {number}: expected a JSON object, got {type(row).__name__}"}
                continue
            yield row


def _csv_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            # Empty cells are nulls in CSV; a short line leaves its missing columns as None.
            yield {key: (value if value != "" else None) for key, value in row.items() if key is not None}


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only if the block finishes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RowWriter:
    """Write rows chunk by chunk to JSONL, CSV or Parquet at a temporary path, then move it in place.

    ``prob_columns`` are written as objects in JSONL and Parquet and as JSON strings in CSV.
    """

    def __init__(self, path: str | Path | None, prob_columns: tuple[str, ...] = ()):
        self.path = Path(path) if path is not None else None
        self.format = file_format(path) if path is not None else ".jsonl"
        self.prob_columns = prob_columns
        self._atomic = atomic_path(self.path) if self.path is not None else None
        self._tmp: Path | None = None
        self._handle = None
        self._csv: csv.DictWriter | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __enter__(self) -> "RowWriter":
        if self._atomic is None:
            import sys
            self._handle = sys.stdout
        else:
            self._tmp = self._atomic.__enter__()
            if self.format != ".parquet":
                self._handle = open(self._tmp, "w", encoding="utf-8", newline="")
        return self

    def write(self, rows: list[Row]) -> None:
        if not rows:
            return
        if self.format == ".jsonl":
            self._handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        elif self.format == ".csv":
            self._write_csv(rows)
        else:
            self._write_parquet(rows)

    def _write_csv(self, rows: list[Row]) -> None:
        if self._csv is None:
            columns = list(dict.fromkeys(key for row in rows for key in row))
            self._csv = csv.DictWriter(self._handle, fieldnames=columns, extrasaction="ignore", restval="")
            self._csv.writeheader()
        for row in rows:
            self._csv.writerow({key: _csv_cell(key, value, self.prob_columns) for key, value in row.items()})

    def _write_parquet(self, rows: list[Row]) -> None:
        if self._parquet is None:
            names = list(dict.fromkeys(key for row in rows for key in row))
            self._schema = pa.schema([pa.field(name, _infer_type([row.get(name) for row in rows])) for name in names])
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        arrays = [_column(self.path, f, [row.get(f.name) for row in rows]) for f in self._schema]
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._parquet is not None:
            self._parquet.close()
        elif self.format == ".parquet" and self._tmp is not None and exc_type is None:
            pq.write_table(pa.table({}), self._tmp)  # no rows at all: still a valid, empty file
        if self._handle is not None and self._atomic is not None:
            self._handle.close()
        elif self._handle is not None:
            self._handle.flush()
        if self._atomic is not None:
            self._atomic.__exit__(exc_type, exc, tb)


def _csv_cell(key: str, value: Any, prob_columns: tuple[str, ...]) -> Any:
    if value is None:
        return ""
    if key in prob_columns or isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _infer_type(values: list[Any]) -> pa.DataType:
    """The Arrow type of a column; all-null or mixed-type columns become strings so every row fits."""
    try:
        inferred = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()
    return pa.string() if pa.types.is_null(inferred) else inferred


def _column(path: Path | None, field: pa.Field, values: list[Any]) -> pa.Array:
    """Values as an array of ``field``'s type; in a string column, other values are written as JSON text."""
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        if pa.types.is_string(field.type):
            return pa.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], type=pa.string())
        raise ValueError(f"{path}: column '{field.name}' has values that do not fit its Parquet type "
                         f"{field.type} from the first chunk ({err})") from err
