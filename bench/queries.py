"""What analysts feel: queries on a lake of >= 1M synthetic rows, with DuckDB and pyarrow.

The lake: OUTLETS outlets x DAYS days, written by the lake writer (sorted by published_at,
zstd, statistics). The baseline: the same rows in one unpartitioned file, so the
difference is what partition pruning and row-group statistics buy. Also checks that 30
reruns of one day leave one file in its partition (no small-file growth).

    .venv/bin/python bench/queries.py [--outlets 5] [--days 62] [--rows-per-day 3300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from _common import report

from newslake import lake

WORDS = np.array(("council budget harbour storm vote river school market police court "
                  "transit bridge mayor election housing energy hospital festival").split())
FIRST_DAY = dt.date(2025, 1, 1)


def _day_table(rng: np.random.Generator, day: dt.date, n: int) -> pa.Table:
    start = np.datetime64(day.isoformat(), "us")
    published = np.sort(start + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]"))
    words = WORDS[rng.integers(0, len(WORDS), (n, 40))]
    body = [" ".join(row) for row in words]
    ids = [f"{day:%Y%m%d}{i:07d}" for i in range(n)]
    return pa.table({
        "article_id": ids,
        "title": [" ".join(row[:6]) for row in words],
        "body": body,
        "word_count": pa.array(np.full(n, 40), pa.int32()),
        "published_at": pa.array(published, pa.timestamp("us", tz="UTC")),
    })


def build(root: Path, outlets: int, days: int, per_day: int) -> tuple[int, Path]:
    rng = np.random.default_rng(7)
    flat: list[pa.Table] = []
    rows = 0
    for o in range(outlets):
        for d in range(days):
            day = FIRST_DAY + dt.timedelta(days=d)
            table = _day_table(rng, day, per_day)
            partition = lake.partition_uri(str(root), "articles", f"outlet_{o}", day)
            lake.write_parquet(table, lake.join(partition, lake.PARQUET_FILE))
            flat.append(table.append_column("outlet", pa.array([f"outlet_{o}"] * per_day))
                        .append_column("date", pa.array([day] * per_day)))
            rows += per_day
    baseline = root / "baseline.parquet"
    pq.write_table(pa.concat_tables(flat), baseline, compression="zstd")
    return rows, baseline


def timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outlets", type=int, default=5)
    parser.add_argument("--days", type=int, default=62)
    parser.add_argument("--rows-per-day", type=int, default=3300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        rows, baseline = build(root, args.outlets, args.days, args.rows_per_day)
        print(f"built {rows:,} rows in {time.perf_counter() - started:.0f}s")
        glob = f"{root}/articles/**/*.parquet"
        day = FIRST_DAY + dt.timedelta(days=20)
        lake_sql = f"read_parquet('{glob}', hive_partitioning=true)"
        flat_sql = f"read_parquet('{baseline}')"
        queries = {
            "one outlet-day": "SELECT count(*), avg(word_count) FROM {src} "
                              f"WHERE outlet = 'outlet_1' AND date = DATE '{day}'",
            "one month, all outlets": "SELECT outlet, count(*) FROM {src} "
                                      "WHERE date BETWEEN DATE '2025-02-01' AND DATE '2025-02-28'"
                                      " GROUP BY outlet",
            "text search over a day": "SELECT count(*) FROM {src} WHERE date = "
                                      f"DATE '{day}' AND body LIKE '%harbour storm%'",
            "one hour by published_at": "SELECT count(*) FROM {src} WHERE published_at >= "
                                        f"TIMESTAMPTZ '{day} 10:00:00+00' AND published_at < "
                                        f"TIMESTAMPTZ '{day} 11:00:00+00'",
        }
        figures: dict[str, dict[str, float]] = {}
        con = duckdb.connect()
        for name, sql in queries.items():
            lake_s, a = timed(lambda s=sql: con.sql(s.format(src=lake_sql)).fetchall())
            flat_s, b = timed(lambda s=sql: con.sql(s.format(src=flat_sql)).fetchall())
            assert sorted(a) == sorted(b), (name, a, b)  # type: ignore[call-overload]
            figures[f"duckdb: {name}"] = {"lake_ms": round(lake_s * 1000, 1),
                                          "unpartitioned_ms": round(flat_s * 1000, 1)}
        dataset = ds.dataset(f"{root}/articles", partitioning="hive")
        flat = ds.dataset(str(baseline))
        day_filter = (pc.field("outlet") == "outlet_1") & (pc.field("date") == day.isoformat())
        lake_s, _ = timed(lambda: dataset.to_table(filter=day_filter, columns=["word_count"]))
        flat_filter = (pc.field("outlet") == "outlet_1") & (pc.field("date") == pa.scalar(day))
        flat_s, _ = timed(lambda: flat.to_table(filter=flat_filter, columns=["word_count"]))
        figures["pyarrow: one outlet-day"] = {"lake_ms": round(lake_s * 1000, 1),
                                              "unpartitioned_ms": round(flat_s * 1000, 1)}
        for name, f in figures.items():
            print(f"{name:<38} lake {f['lake_ms']:8.1f} ms   unpartitioned "
                  f"{f['unpartitioned_ms']:8.1f} ms")

        # 30 reruns of one day: the partition must still hold exactly one file.
        target = Path(lake.partition_uri(str(root), "articles", "outlet_0", FIRST_DAY))
        rng = np.random.default_rng(1)
        for n in range(30):  # staged and published as the pipeline does
            staged = root / "_staging" / f"rerun-{n}" / lake.PARQUET_FILE
            lake.write_parquet(_day_table(rng, FIRST_DAY, args.rows_per_day), staged)
            lake.publish_partition(str(root), "articles", "outlet_0", FIRST_DAY, str(staged))
        files_after = len(list(target.iterdir()))
        meta = pq.ParquetFile(target / lake.PARQUET_FILE).metadata
        print(f"after 30 reruns of one day: {files_after} file(s) in the partition, "
              f"{meta.num_row_groups} row group(s) of {meta.row_group(0).num_rows} rows")
        report("queries", {"rows": rows, "queries": figures, "files_after_30_reruns": files_after,
                           "row_groups": meta.num_row_groups})


if __name__ == "__main__":
    main()
