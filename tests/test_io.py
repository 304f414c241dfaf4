"""Readers turn every input record into exactly one row; unreadable records become error rows."""
import pyarrow as pa
import pyarrow.parquet as pq

from quotestance.io import RowWriter, read_chunks


def rows_of(path, chunk_size=2):
    return [row for chunk in read_chunks(path, chunk_size) for row in chunk]


def test_jsonl_bad_lines_become_error_rows_with_line_numbers(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes(b'{"id": 1, "text": "fine"}\n\n{broken\n[1, 2]\n{"id": 5, "text": "bad \xff byte"}\n')
    rows = rows_of(path)
    assert len(rows) == 4  # the blank line is not a record
    assert rows[0] == {"id": 1, "text": "fine"}
    assert rows[1]["line"] == 3 and rows[1]["id"] is None and "invalid JSON" in rows[1]["error"]
    assert rows[2]["line"] == 4 and "expected a JSON object" in rows[2]["error"]
    assert rows[3]["id"] == 5 and "field 'text' has bytes that are not UTF-8" in rows[3]["error"]


def test_csv_bad_records_become_error_rows(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b'id,text\n1,fine\n2,"bad \xff"\n3,too,many\n4,"two\nlines"\n5\n')
    rows = rows_of(path)
    assert [r["id"] for r in rows] == ["1", "2", None, "4", "5"]
    assert "not UTF-8" in rows[1]["error"]
    assert rows[2]["line"] == 4 and "3 fields where the header has 2" in rows[2]["error"]
    assert rows[3]["text"] == "two\nlines"
    assert rows[4]["text"] is None  # a short record: missing cells are null


def test_parquet_reads_in_row_groups(tmp_path):
    path = tmp_path / "q.parquet"
    pq.write_table(pa.table({"id": list(range(5)), "text": ["a", None, "c", "d", "e"]}), path, row_group_size=2)
    chunks = list(read_chunks(path, 2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    assert chunks[0][1] == {"id": 1, "text": None}


def test_writer_columns_fixed_up_front_keep_late_keys(tmp_path):
    path = tmp_path / "o.csv"
    with RowWriter(path, columns=["id", "text", "line", "error"]) as writer:
        writer.write([{"id": 1, "text": "a", "error": None}])
        writer.write([{"id": None, "line": 7, "error": "bad"}])
    assert path.read_text().splitlines() == ["id,text,line,error", "1,a,,", ",,7,bad"]


def test_writer_leaves_nothing_on_failure(tmp_path):
    path = tmp_path / "o.jsonl"
    try:
        with RowWriter(path) as writer:
            writer.write([{"id": 1}])
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert not path.exists() and not list(tmp_path.iterdir())
