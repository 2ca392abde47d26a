"""Issue 22: analysts' queries on the per-outlet layout vs the compacted corpus.

Builds OUTLETS x DAYS x PER_DAY synthetic articles (~300 words) as the ingest lays them
out (``articles/outlet=O/date=D/part-00000.parquet``), compacts every day with
``newslake.compact.build_day`` (each day in a child process: seconds and peak RSS per
day), and times four DuckDB queries on both layouts (best of 3, same run, same rows):
articles per day over the month, one outlet-day, a text search over one day's bodies, a
title search over the month. Also: the corpus row-group size (query times and file size
per choice, on one day) and one monthly file against the 30 day files.

    .venv/bin/python bench/corpus_layout.py [--outlets 1000] [--days 30] [--per-day 50]
        [--root /tmp/corpus-bench] [--keep]
    .venv/bin/python bench/corpus_layout.py --s3 [--outlets 1000] [--days 3]

``--s3``: the same on the SeaweedFS S3 server (``tests/helpers/s3server.py``, started
and stopped here): both layouts written straight to S3, each day compacted on S3, the
four queries with DuckDB's httpfs (the per-outlet layout timed once, not best of 3: each
run is one request per file). No month file, no row-group sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import best_of, report
from synthetic import article_table

from newslake import compact, lake

FIRST_DAY = dt.date(2025, 1, 1)
POOL = 2000  # distinct synthetic articles; each outlet-day draws from them
ROW_GROUP_CHOICES = (1024, 4096, 16384, 65536)


def _pool() -> pa.Table:
    """POOL articles of ~300 words in the article file schema (from ``newslake.record``)."""
    return pa.concat_tables(
        article_table(POOL // 10, FIRST_DAY, seed=seed, body_words=300) for seed in range(10))


def _outlet_day(pool: pa.Table, rng: np.random.Generator, outlet: str, day: dt.date,
                n: int) -> pa.Table:
    table = pool.take(pa.array(rng.integers(0, pool.num_rows, n)))
    start = np.datetime64(day.isoformat(), "us")
    published = start + rng.integers(0, 86_400_000_000, n).astype("timedelta64[us]")
    urls = [f"https://{outlet}.example/{day:%Y/%m/%d}/{i}" for i in range(n)]
    replace: dict[str, Any] = {
        "url": pa.array(urls), "fetched_url": pa.array(urls),
        "article_id": pa.array([f"{outlet}-{day}-{i}" for i in range(n)]),
        "published_at": pa.array(published, pa.timestamp("us", tz="UTC")),
    }
    for name, values in replace.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(name), values)
    return table


def build_outlet_layout(root: str, outlets: list[str], days: list[dt.date], n: int) -> float:
    started = time.perf_counter()
    pool, rng = _pool(), np.random.default_rng(22)
    for day in days:
        for outlet in outlets:
            path = lake.join(lake.partition_uri(root, "articles", outlet, day), lake.PARQUET_FILE)
            lake.write_parquet(_outlet_day(pool, rng, outlet, day, n), path)  # env's storage
    return time.perf_counter() - started


def compact_days(root: str, days: list[dt.date]) -> dict[str, Any]:
    """Each day compacted in a child process: its wall time and peak RSS."""
    seconds, peaks = [], []
    code = ("import datetime as dt, resource, sys; from newslake.compact import build_day; "
            "build_day(sys.argv[1], dt.date.fromisoformat(sys.argv[2])); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    for day in days:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, root, day.isoformat()],
                             capture_output=True, text=True, check=True, timeout=900)
        seconds.append(time.perf_counter() - started)
        peaks.append(int(out.stdout.split()[-1]) / 1024)
    baseline = subprocess.run(
        [sys.executable, "-c", "import resource, newslake.compact; "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
        capture_output=True, text=True, check=True, timeout=300)
    return {
        "compact_s_per_day_median": round(statistics.median(seconds), 2),
        "compact_s_per_day_max": round(max(seconds), 2),
        "compact_peak_rss_mib_max": round(max(peaks)),
        "child_after_imports_rss_mib": round(int(baseline.stdout.split()[-1]) / 1024),
    }


def queries(glob: str, outlet: str, day: dt.date, month_file: bool = False) -> dict[str, str]:
    source = (f"read_parquet('{glob}')" if month_file
              else f"read_parquet('{glob}', hive_partitioning=true)")
    return {
        "articles per day, whole month":
            f"SELECT date, count(*) FROM {source} GROUP BY date ORDER BY date",
        "one outlet-day":
            f"SELECT title, published_at FROM {source} "
            f"WHERE outlet = '{outlet}' AND date = '{day}'",
        "text search over one day's bodies":
            f"SELECT count(*) FROM {source} WHERE date = '{day}' "
            "AND body ILIKE '%harbour storm vote%'",
        "text search, case-sensitive (contains)":
            f"SELECT count(*) FROM {source} WHERE date = '{day}' "
            "AND contains(body, 'harbour storm vote')",
        "title search over the month":
            f"SELECT count(*) FROM {source} WHERE title ILIKE '%Harbour Storm%'",
    }


def time_queries(named: dict[str, str], con: duckdb.DuckDBPyConnection | None = None,
                 repeat: int = 3) -> dict[str, float]:
    con = con or duckdb.connect()
    timed = {}
    for name, sql in named.items():
        timed[name] = round(best_of(_fetch(con, sql), repeat), 3)
    return timed


def s3_connection(storage: dict[str, str]) -> duckdb.DuckDBPyConnection:
    """DuckDB with httpfs (the ``duckdb-extension-httpfs`` package) and the server's key."""
    import duckdb_extension_httpfs

    ext = next(Path(duckdb_extension_httpfs.__file__).parent.glob(
        f"extensions/v{duckdb.__version__}/httpfs.duckdb_extension"))
    con = duckdb.connect()
    con.load_extension(str(ext))
    scheme, host = storage["endpoint_url"].split("://", 1)
    con.execute("CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, "
                "URL_STYLE 'path', USE_SSL ?)",
                [storage["access_key_id"], storage["secret_access_key"], storage["region"],
                 host, scheme == "https"])
    return con


def main_s3(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers.s3server import SeaweedS3

    data = Path(args.root).resolve().with_name(Path(args.root).name + "-s3")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    outlets = [f"o{n:04d}" for n in range(args.outlets)]
    days = [FIRST_DAY + dt.timedelta(days=d) for d in range(args.days)]
    one_outlet, one_day = outlets[len(outlets) // 2], days[len(days) // 2]
    try:
        with SeaweedS3(data) as server:
            storage = server.storage
            os.environ.update({"NEWSLAKE_S3_ENDPOINT": storage["endpoint_url"],
                               "AWS_ACCESS_KEY_ID": storage["access_key_id"],
                               "AWS_SECRET_ACCESS_KEY": storage["secret_access_key"],
                               "AWS_REGION": storage["region"]})
            root = f"s3://{server.bucket}/bench"
            figures: dict[str, Any] = {
                "store": "SeaweedFS S3 on loopback", "outlets": args.outlets,
                "days": args.days, "per_day": args.per_day,
                "build_outlet_layout_s": round(build_outlet_layout(root, outlets, days,
                                                                     args.per_day), 1),
            }
            figures.update(compact_days(root, days))
            con = s3_connection(storage)
            outlet_name = f"{args.outlets * args.days:,} outlet-day objects"
            corpus_name = f"{args.days} corpus day objects"
            timed = {
                outlet_name: time_queries(
                    queries(f"{root}/articles/**/*.parquet", one_outlet, one_day), con, 1),
                corpus_name: time_queries(
                    queries(f"{root}/corpus/**/*.parquet", one_outlet, one_day), con),
            }
            figures["queries_s"] = timed
            report("corpus_layout_s3", figures)
            print(_table(timed, list(timed)))
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> Callable[[], Any]:
    return lambda: con.sql(sql).fetchall()


def row_group_choice(root: str, day: dt.date, outlet: str) -> dict[str, Any]:
    """One day compacted with each row-group size: file size, groups, query times."""
    found: dict[str, Any] = {}
    glob = f"{root}/corpus/date={day}/*.parquet"
    for rows in ROW_GROUP_CHOICES:
        compact.build_day(root, day, row_group_rows=rows)
        named = queries(glob, outlet, day)
        named = {k: v.replace(", hive_partitioning=true", "").replace(f" AND date = '{day}'", "")
                 .replace(f"WHERE date = '{day}' AND", "WHERE")
                 for k, v in named.items() if "month" not in k}
        found[str(rows)] = {
            "file_mib": round(os.path.getsize(f"{root}/corpus/date={day}/{compact.FILE}") / 2**20,
                              1),
            "row_groups": compact.row_group_count(root, day),
            **time_queries(named),
        }
    compact.build_day(root, day)  # back to the default
    return found


def month_file(root: str, days: list[dt.date], target: str) -> None:
    """The corpus days as one file (a ``date`` column added), in day order."""
    schema = compact.CORPUS_SCHEMA.append(pa.field("date", pa.string()))
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for day in days:
            source = pq.ParquetFile(f"{root}/corpus/date={day}/{compact.FILE}")
            for group in range(source.num_row_groups):
                table = source.read_row_group(group)
                table = table.append_column("date", pa.array([day.isoformat()] * len(table)))
                writer.write_table(table.cast(schema), compact.ROW_GROUP_ROWS)


def _table(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    lines = ["| query | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for query in rows[columns[0]]:
        lines.append(f"| {query} | " + " | ".join(
            f"{rows[c][query]:.3f} s" if query in rows[c] else "—" for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=50)
    parser.add_argument("--root", default="/tmp/corpus-bench")
    parser.add_argument("--keep", action="store_true", help="keep the lake afterwards")
    parser.add_argument("--s3", action="store_true", help="on the SeaweedFS S3 server")
    args = parser.parse_args()
    if args.s3:
        main_s3(args)
        return
    root = str(Path(args.root).resolve())
    shutil.rmtree(root, ignore_errors=True)
    outlets = [f"o{n:04d}" for n in range(args.outlets)]
    days = [FIRST_DAY + dt.timedelta(days=d) for d in range(args.days)]
    one_outlet, one_day = outlets[len(outlets) // 2], days[len(days) // 2]
    try:
        figures: dict[str, Any] = {
            "outlets": args.outlets, "days": args.days, "per_day": args.per_day,
            "build_outlet_layout_s": round(build_outlet_layout(root, outlets, days,
                                                                 args.per_day), 1),
        }
        figures.update(compact_days(root, days))
        layouts = {
            f"{args.outlets * args.days:,} outlet-day files":
                queries(f"{root}/articles/**/*.parquet", one_outlet, one_day),
            f"{args.days} corpus day files":
                queries(f"{root}/corpus/**/*.parquet", one_outlet, one_day),
        }
        month = f"{root}/month.parquet"
        month_file(root, days, month)
        layouts["1 month file"] = queries(month, one_outlet, one_day, month_file=True)
        timed = {name: time_queries(named) for name, named in layouts.items()}
        figures["queries_s"] = timed
        figures["bytes"] = {
            "outlet_layout_mib": round(sum(f.stat().st_size for f in
                                           Path(root, "articles").rglob("*.parquet")) / 2**20),
            "corpus_mib": round(sum(f.stat().st_size for f in
                                    Path(root, "corpus").rglob("*.parquet")) / 2**20),
            "month_file_mib": round(os.path.getsize(month) / 2**20),
        }
        figures["row_group_choice"] = row_group_choice(root, one_day, one_outlet)
        figures["bench_peak_rss_mib"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        report("corpus_layout", figures)
        print(_table(timed, list(timed)))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
