"""Streaming readers and writers for quote files (JSONL, CSV, Parquet), with atomic output.

Readers yield chunks of rows so a file of millions of quotes never sits in memory. A row that
cannot be parsed is not dropped: it comes through as ``{"error": ...}`` so the output keeps one
row per input row, in input order.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import re
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


def _error_row(path: Path, number: int, reason: str) -> Row:
    """The row standing for an input record that could not be read: no id, its line, and why."""
    return {"id": None, "line": number, "error": f"{path.name} line {number}: {reason}"}


def _undecodable(row: Row, number: int) -> Row:
    """Flag a row whose strings hold bytes that were not UTF-8 (kept as surrogates), naming the field."""
    bad = [key for key, value in row.items() if isinstance(value, str) and _SURROGATE.search(value)]
    if not bad:
        return row
    clean = {key: _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value for key, value in row.items()}
    clean["error"] = f"line {number}: field '{bad[0]}' has bytes that are not UTF-8"
    return clean


_SURROGATE = re.compile("[\udc80-\udcff]")


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue  # a blank line is not a record
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                yield _error_row(path, number, f"invalid JSON ({err.msg})")
                continue
            if not isinstance(row, dict):
                yield _error_row(path, number, f"expected a JSON object, got {type(row).__name__}")
                continue
            yield _undecodable(row, number)


def _csv_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield _error_row(path, reader.line_num, f"malformed CSV record ({err})")
                continue
            if not cells:
                continue  # a blank line is not a record
            if len(cells) > len(header):
                yield _error_row(path, reader.line_num, f"{len(cells)} fields where the header has {len(header)}")
                continue
            # Empty cells are nulls in CSV; a short record leaves its missing columns as None.
            row = {key: (cells[i] if i < len(cells) and cells[i] != "" else None) for i, key in enumerate(header)}
            yield _undecodable(row, reader.line_num)


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

    def __init__(self, path: str | Path | None, prob_columns: tuple[str, ...] = (), columns: list[str] | None = None):
        self.path = Path(path) if path is not None else None
        self.columns = columns
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
            columns = self.columns or list(dict.fromkeys(key for row in rows for key in row))
            self._csv = csv.DictWriter(self._handle, fieldnames=columns, extrasaction="ignore", restval="")
            self._csv.writeheader()
        for row in rows:
            self._csv.writerow({key: _csv_cell(key, value, self.prob_columns) for key, value in row.items()})

    def _write_parquet(self, rows: list[Row]) -> None:
        if self._parquet is None:
            names = self.columns or list(dict.fromkeys(key for row in rows for key in row))
            self._schema = pa.schema([pa.field(name, infer_type([row.get(name) for row in rows])) for name in names])
            self._parquet = pq.ParquetWriter(self._tmp, self._schema)
        arrays = [arrow_column(self.path, f, [row.get(f.name) for row in rows]) for f in self._schema]
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


def infer_type(values: list[Any]) -> pa.DataType:
    """The Arrow type of a column; all-null or mixed-type columns become strings so every row fits."""
    try:
        inferred = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.string()
    return pa.string() if pa.types.is_null(inferred) else inferred


def arrow_column(path: Path | None, field: pa.Field, values: list[Any]) -> pa.Array:
    """Values as an array of ``field``'s type; in a string column, other values are written as JSON text."""
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
        if pa.types.is_string(field.type):
            return pa.array([v if v is None or isinstance(v, str) else json.dumps(v) for v in values], type=pa.string())
        raise ValueError(f"{path}: column '{field.name}' has values that do not fit its Parquet type "
                         f"{field.type} from the first chunk ({err})") from err


class CheckpointedOutput:
    """Scored chunks go to numbered part files beside the output; ``finish`` merges them into it.

    Each part is written to a temporary name and renamed once complete, so after a crash or a
    ``kill -9`` the complete parts are exactly the chunks already done. With ``resume``, a later run
    with the same input and chunk size skips those chunks; the merged output is the same file an
    uninterrupted run writes. Parts are JSONL whatever the output format.
    """

    def __init__(self, output: str | Path, meta: dict[str, Any], resume: bool):
        self.output = Path(output)
        self.parts = self.output.with_name(self.output.name + ".parts")
        self.meta = meta
        self.done = 0
        meta_path = self.parts / "meta.json"
        if resume and meta_path.is_file():
            saved = json.loads(meta_path.read_text(encoding="utf-8"))
            if saved != meta:
                changed = sorted(k for k in meta if saved.get(k) != meta[k])
                raise ValueError(f"cannot resume into {self.output}: {', '.join(changed)} changed since the "
                                 "interrupted run; rerun without --resume to start over")
            while self._part(self.done).is_file():
                self.done += 1
            return
        shutil.rmtree(self.parts, ignore_errors=True)
        self.parts.mkdir(parents=True)
        meta_path.write_text(json.dumps(meta), encoding="utf-8")

    def _part(self, index: int) -> Path:
        return self.parts / f"part-{index:07d}.jsonl"

    def write_chunk(self, index: int, rows: list[Row]) -> None:
        """Write one chunk's rows as part ``index``, durably, under its final name only when complete."""
        target = self._part(index)
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def _rows(self, index: int) -> list[Row]:
        with open(self._part(index), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]

    def finish(self, prob_columns: tuple[str, ...]) -> dict[str, int]:
        """Merge all parts into the output (atomically), remove them, and count rows and errors."""
        count = 0
        while self._part(count).is_file():
            count += 1
        columns: dict[str, None] = {}
        for index in range(count):
            for row in self._rows(index):
                columns.update(dict.fromkeys(row))
        counts = {"rows": 0, "errors": 0}
        with RowWriter(self.output, prob_columns=prob_columns, columns=list(columns)) as writer:
            for index in range(count):
                rows = self._rows(index)
                writer.write(rows)
                counts["rows"] += len(rows)
                counts["errors"] += sum(1 for row in rows if row.get("error"))
        shutil.rmtree(self.parts, ignore_errors=True)
        return counts
