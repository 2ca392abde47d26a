"""DayRows: a day's rows in memory without their bodies, the bodies read back on take."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from newslake import lake
from newslake.dayrows import DayRows

SCHEMA = pa.schema([("url", pa.string()), ("body", pa.string()), ("n", pa.int64())])


@pytest.fixture
def chunk_paths(tmp_path: Path) -> list[str]:
    """Three parsed chunk files; the middle one holds a row without a body and an
    empty chunk sits between them, as a chunk of failed fetches gives."""
    chunks = [
        {"url": ["a0", "a1"], "body": ["first", "second"], "n": [0, 1]},
        {"url": [], "body": [], "n": []},
        {"url": ["c0", "c1", "c2"], "body": ["héllo wörld", None, "third"], "n": [2, 3, 4]},
    ]
    paths = []
    for i, columns in enumerate(chunks):
        path = tmp_path / f"{i:05d}.parquet"
        lake.write_parquet(pa.table(columns, SCHEMA), path, sort_by=None)
        paths.append(str(path))
    return paths


def test_columns_hold_body_length_not_body(chunk_paths: list[str]) -> None:
    rows = DayRows.read(chunk_paths, SCHEMA)
    columns = rows.columns()
    assert "body" not in columns.column_names
    assert columns.column("url").to_pylist() == ["a0", "a1", "c0", "c1", "c2"]
    assert columns.column("body_bytes").to_pylist() == [5, 6, len("héllo wörld".encode()),
                                                         None, 5]


def test_take_reads_bodies_back_in_the_order_asked(chunk_paths: list[str]) -> None:
    rows = DayRows.read(chunk_paths, SCHEMA)
    taken = rows.take([4, 0, 3, 2, 1])
    assert taken.schema == SCHEMA
    assert taken.column("url").to_pylist() == ["c2", "a0", "c1", "c0", "a1"]
    assert taken.column("body").to_pylist() == ["third", "first", None, "héllo wörld",
                                                "second"]
    assert rows.take([]).num_rows == 0


def test_filter_keeps_each_body_with_its_row(chunk_paths: list[str]) -> None:
    rows = DayRows.read(chunk_paths, SCHEMA).filter(pa.array([True, False, False, True, True]))
    assert rows.take([2, 0]).column("body").to_pylist() == ["third", "first"]


def test_no_files_no_rows() -> None:
    rows = DayRows.read([], SCHEMA)
    assert rows.num_rows == 0
    assert list(rows.row_groups([])) == []


def test_row_groups_write_the_rows_asked_for_in_order(
    chunk_paths: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some rows left out (quarantined), a null body, groups of about two rows."""
    monkeypatch.setattr(lake, "ROW_GROUP_BYTES", 40)
    rows = DayRows.read(chunk_paths, SCHEMA)
    groups = list(rows.row_groups([3, 0, 4, 1]))
    assert [g.num_rows for g in groups] == [2, 2]
    table = pa.concat_tables(groups)
    assert table.schema == SCHEMA
    assert table.column("url").to_pylist() == ["c1", "a0", "c2", "a1"]
    assert table.column("body").to_pylist() == [None, "first", "third", "second"]
