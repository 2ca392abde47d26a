"""Parquet write throughput of the lake writer against pyarrow's defaults.

The lake writer sorts by published_at and writes zstd with statistics (what readers prune
with); the baseline writes the same table unsorted with pyarrow's default settings.

    .venv/bin/python bench/write.py [--rows 10000,50000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
from _common import best_of, report
from synthetic import article_table

from newslake import lake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", default="10000,50000")
    args = parser.parse_args()
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.rows.split(",")):
            table = article_table(n, dt.date(2025, 3, 17))
            mb = table.nbytes / 1e6
            ours = Path(tmp) / f"ours-{n}.parquet"
            base = Path(tmp) / f"base-{n}.parquet"
            ours_s = best_of(partial(lake.write_parquet, table, ours), 3)
            base_s = best_of(partial(pq.write_table, table, base), 3)
            figures[n] = {
                "arrow_mb": round(mb, 1),
                "lake_writer_mb_s": round(mb / ours_s, 1),
                "pyarrow_default_mb_s": round(mb / base_s, 1),
                "lake_file_mb": round(ours.stat().st_size / 1e6, 2),
                "default_file_mb": round(base.stat().st_size / 1e6, 2),
            }
            f = figures[n]
            print(f"{n:>7} rows ({mb:.0f} MB in Arrow): lake writer {f['lake_writer_mb_s']} MB/s "
                  f"-> {f['lake_file_mb']} MB file; pyarrow default {f['pyarrow_default_mb_s']} "
                  f"MB/s -> {f['default_file_mb']} MB")
    report("write", {"rows": figures})


if __name__ == "__main__":
    main()
