"""A day's parsed rows with their bodies left in the chunk files until they are written.

Bodies are most of a day's bytes (50k articles: ~360 MB of text). Validation needs only
whether each body is there, and the sort only the other columns, so ``DayRows`` keeps
every column but one in memory (the body's byte length stands in for it) and reads the
bodies back from the chunks' Parquet files when rows are written, through a local spill
file per row group (``row_groups``): the day's bodies pass through a temporary folder,
never all through memory.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

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
        """Rows ``indices``, in that order, whole (bodies read back), in ``schema``, as one
        table: for a few rows (the quarantined ones)."""
        groups = list(self.row_groups(indices))
        return pa.concat_tables(groups) if groups else self.schema.empty_table()

    def row_groups(self, order: list[int]) -> Iterator[pa.Table]:
        """Rows ``order`` whole, in that order, in groups of ``lake.rows_per_group``.

        Two passes, each linear in the day's bytes: every chunk file is read once and each
        of its bodies appended to the local spill file of the row group it goes to; then
        each group's spill is read back, put in order and joined to its other columns.
        (Taking each group's bodies from the chunk files would read every file once a
        group: quadratic in the day's size, and a GET a file a group on S3.)"""
        if not order:
            return
        light_bytes = self.columns().drop_columns([DEFERRED_BYTES]).nbytes
        body_bytes = pc.sum(self.table.column(DEFERRED_BYTES)).as_py() or 0
        per_group = lake.rows_per_group(self.num_rows, light_bytes + body_bytes)
        groups = (len(order) + per_group - 1) // per_group
        target = np.full(self.num_rows, -1, np.int64)  # row -> its place in the output
        target[np.asarray(order, np.int64)] = np.arange(len(order))
        files = self.table.column(_FILE).to_numpy()
        positions = self.table.column(_ROW).to_numpy()
        spill_schema = pa.schema([("at", pa.int64()), self.schema.field(DEFERRED)])
        with tempfile.TemporaryDirectory(prefix="newslake-bodies-") as spill:
            spills = [Path(spill) / f"{g:05d}.arrows" for g in range(groups)]
            with contextlib.ExitStack() as stack:
                writers = [stack.enter_context(ipc.new_stream(str(path), spill_schema))
                           for path in spills]
                wanted = np.flatnonzero(target >= 0)
                by_file = wanted[np.argsort(files[wanted], kind="stable")]
                for mine in np.split(by_file, np.flatnonzero(np.diff(files[by_file])) + 1):
                    bodies = self._bodies(int(files[mine[0]])).take(pa.array(positions[mine]))
                    at = target[mine]
                    group = at // per_group
                    for g in np.unique(group):
                        keep = pa.array(group == g)
                        writers[g].write_batch(pa.record_batch(
                            [pa.array(at[group == g]), bodies.filter(keep)], spill_schema))
            for g, path in enumerate(spills):
                with ipc.open_stream(str(path)) as reader:
                    spilled = reader.read_all().combine_chunks()
                path.unlink()
                bodies = spilled.column(DEFERRED).take(pc.sort_indices(spilled.column("at")))
                del spilled  # before the group is written: one copy of its bodies at a time
                rows = self.table.take(pa.array(order[g * per_group:(g + 1) * per_group]))
                yield self._whole(rows, bodies)

    def _bodies(self, n: int) -> pa.Array:
        """The body column of chunk file ``n``."""
        column = lake.read_parquet(self.paths[n], storage=self.storage, columns=[DEFERRED])
        return column.column(DEFERRED).combine_chunks()

    def _whole(self, rows: pa.Table, bodies: pa.Array) -> pa.Table:
        rows = rows.drop_columns([DEFERRED_BYTES, _FILE, _ROW]).append_column(DEFERRED, bodies)
        return rows.select(self.schema.names).cast(self.schema)
