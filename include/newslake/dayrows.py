"""A day's parsed rows with their bodies left in the chunk files until they are written.

Bodies are most of a day's bytes (50k articles: ~360 MB of text). Validation needs only
whether each body is there, and the sort only the other columns, so ``DayRows`` keeps
every column but one in memory (the body's byte length stands in for it) and reads the
bodies back from the chunks' Parquet files a row group at a time when rows are taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from newslake import lake

DEFERRED = "body"
DEFERRED_BYTES = "body_bytes"  # its UTF-8 length; null where the body is null
_FILE = "__file"
_ROW = "__row"


@dataclass(frozen=True)
class DayRows:
    """``table``: the rows without ``body``, plus its byte length and where it is kept."""

    table: pa.Table
    paths: tuple[str, ...]
    schema: pa.Schema
    storage: lake.Storage = None

    @classmethod
    def read(cls, paths: list[str], schema: pa.Schema, storage: lake.Storage = None) -> DayRows:
        """The rows of the Parquet files ``paths`` (each in ``schema``), one file in
        memory at a time."""
        tables = []
        for n, path in enumerate(paths):
            full = lake.read_parquet(path, schema, storage)
            body = full.column(DEFERRED)
            tables.append(
                full.drop_columns([DEFERRED])
                .append_column(DEFERRED_BYTES, pc.binary_length(body).cast(pa.int64()))
                .append_column(_FILE, pa.array(np.full(full.num_rows, n, np.int32)))
                .append_column(_ROW, pa.array(np.arange(full.num_rows, dtype=np.int32)))
            )
        light = schema.remove(schema.get_field_index(DEFERRED))
        empty = light.append(pa.field(DEFERRED_BYTES, pa.int64())).append(
            pa.field(_FILE, pa.int32())).append(pa.field(_ROW, pa.int32())).empty_table()
        table = pa.concat_tables(tables).combine_chunks() if tables else empty
        return cls(table, tuple(paths), schema, storage)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def columns(self) -> pa.Table:
        """Every column but the body, its byte length, in memory (no file positions)."""
        return self.table.drop_columns([_FILE, _ROW])

    def filter(self, mask: pa.Array | np.ndarray) -> DayRows:
        return DayRows(self.table.filter(mask), self.paths, self.schema, self.storage)

    def take(self, indices: list[int]) -> pa.Table:
        """Rows ``indices``, in that order, whole (bodies read back), in ``schema``."""
        rows = self.table.take(pa.array(indices, pa.int64()))
        files = rows.column(_FILE).to_numpy()
        positions = rows.column(_ROW).to_numpy()
        parts: list[pa.Array] = []
        placed = np.empty(len(indices), np.int64)  # output row -> index into the parts
        done = 0
        for n in np.unique(files):
            mine = np.flatnonzero(files == n)
            column = lake.read_parquet(self.paths[n], storage=self.storage,
                                       columns=[DEFERRED]).column(DEFERRED)
            parts.append(column.take(pa.array(positions[mine])).combine_chunks())
            placed[mine] = np.arange(done, done + len(mine))
            done += len(mine)
        bodies = (pa.chunked_array(parts, self.schema.field(DEFERRED).type)
                  .take(pa.array(placed)) if parts else pa.array([], pa.string()))
        rows = rows.drop_columns([DEFERRED_BYTES, _FILE, _ROW])
        rows = rows.append_column(DEFERRED, bodies)
        return rows.select(self.schema.names).cast(self.schema)

    def row_groups(self, order: list[int]) -> Iterator[pa.Table]:
        """Rows ``order`` whole, in that order, in groups of ``lake.rows_per_group``."""
        light_bytes = self.columns().drop_columns([DEFERRED_BYTES]).nbytes
        body_bytes = pc.sum(self.table.column(DEFERRED_BYTES)).as_py() or 0
        per_group = lake.rows_per_group(self.num_rows, light_bytes + body_bytes)
        for start in range(0, len(order), per_group):
            yield self.take(order[start:start + per_group])
