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
    .venv/bin/python bench/corpus_layout.py --year [--days 2] [--distinct-days 20]
        [--month-files] [--outlet-year 100] [--s3]
    .venv/bin/python bench/corpus_layout.py --search

``--s3``: the same on the SeaweedFS S3 server (``tests/helpers/s3server.py``, started
and stopped here): both layouts written straight to S3, each day compacted on S3, the
four queries with DuckDB's httpfs (the per-outlet layout timed once, not best of 3: each
run is one request per file). No month file, no row-group sizes.

``--year``: 365 corpus days of OUTLETS x PER_DAY. Writing 365,000 per-outlet files does not
fit a session here (~16 files/s on this shared machine), so only the first ``--days`` days
are written as per-outlet files and compacted by ``build_day`` (the same-run baseline, and
the compaction's seconds and peak RSS); the other days are written straight to
``corpus/date=D`` by ``compact.write_day``, the writer ``build_day`` uses, from rows made
in memory (``--distinct-days K``: K of them, the others byte copies of those, when a
machine is too loaded to write 365). Titles are drawn word by word (distinct, as real
ones are); bodies come from a pool of 2,000. ``compact.build_counts`` then writes
``corpus_counts/``, and the year's counts are also asked of it. ``--outlet-year K``: the
per-outlet layout at a year for a fraction, K outlets x 365 days of per-outlet files
(timed once each: one open per file), removed after. ``--month-files`` also rewrites the
year as 12 month files and times the same queries on them. ``--s3`` (with ``--year``):
then the year's corpus and counts uploaded to SeaweedFS S3, the first ``--days`` days'
outlet files written and compacted there, the queries through httpfs. The load average
is printed beside each layout's times. ~8 GB of disk at 1,000 x 50 a day (twice that
with ``--s3``; removed afterwards unless ``--keep``).

``--search``: one corpus day of OUTLETS x PER_DAY; case-insensitive search of its bodies
in DuckDB (``ILIKE``, ``contains(lower(…))``, ``regexp_matches(…, 'i')``), pyarrow and
pandas, against a case-sensitive ``contains`` and reading the bodies alone; then the day
written with zstd, snappy, lz4 and no compression (bytes, write time, search time).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import best_of, report
from synthetic import WORDS, article_table

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
        "url": pa.array(urls), "fetched_url": pa.array(urls), "title": _titles(rng, n),
        "article_id": pa.array([f"{outlet}-{day}-{i}" for i in range(n)]),
        "published_at": pa.array(published, pa.timestamp("us", tz="UTC")),
    }
    for name, values in replace.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(name), values)
    return table


def _titles(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` titles of 8 words drawn from the pool's vocabulary, distinct in practice
    (24^8 choices), as a real day's are: the pool's 2,000 titles repeated would make a
    title search read a tiny dictionary instead of a month of titles."""
    words = np.array([w.title() for w in WORDS])
    drawn = words[rng.integers(0, len(words), (n, 8))]
    return pa.array([" ".join(row) for row in drawn.tolist()])


def _day_table(pool: pa.Table, rng: np.random.Generator, outlets: list[str], day: dt.date,
               n: int) -> pa.Table:
    """A day of every outlet's articles at once, in the corpus schema and order: the draws
    of ``_outlet_day`` vectorised, for the year's days written straight to ``corpus/``."""
    total = len(outlets) * n
    table = compact.conform(pool.take(pa.array(rng.integers(0, pool.num_rows, total))), "")
    start = np.datetime64(day.isoformat(), "us")
    published = start + rng.integers(0, 86_400_000_000, total).astype("timedelta64[us]")
    names = [o for o in outlets for _ in range(n)]
    urls = [f"https://{o}.example/{day:%Y/%m/%d}/{i % n}" for i, o in enumerate(names)]
    replace: dict[str, Any] = {
        "outlet": pa.array(names), "url": pa.array(urls), "fetched_url": pa.array(urls),
        "title": _titles(rng, total),
        "article_id": pa.array([f"{o}-{day}-{i % n}" for i, o in enumerate(names)]),
        "published_at": pa.array(published, pa.timestamp("us", tz="UTC")),
    }
    for name, values in replace.items():
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(name), values)
    return table.sort_by([(k, "ascending") for k in compact.SORT_KEYS])


def build_outlet_layout(root: str, outlets: list[str], days: list[dt.date], n: int,
                        threads: int = 1) -> float:
    """Every outlet-day as the ingest writes it (``lake.write_parquet``), ``threads`` files
    written at once; the seconds it took."""
    started = time.perf_counter()
    pool, rng = _pool(), np.random.default_rng(22)
    with ThreadPoolExecutor(threads) as writers:
        for day in days:
            pending = [writers.submit(
                lake.write_parquet, _outlet_day(pool, rng, outlet, day, n),  # env's storage
                lake.join(lake.partition_uri(root, "articles", outlet, day), lake.PARQUET_FILE))
                for outlet in outlets]
            for future in pending:
                future.result()
    return time.perf_counter() - started


def compact_days(root: str, days: list[dt.date]) -> dict[str, Any]:
    """Each day compacted in a child process: its wall time and peak RSS (``VmHWM``, the
    process image's own peak: ``ru_maxrss`` survives ``execve`` and would report the
    bench process's own size when that is larger)."""
    seconds, peaks = [], []
    hwm = ("print(next(line.split()[1] for line in open('/proc/self/status') "
           "if line.startswith('VmHWM')))")
    code = ("import datetime as dt, sys; from newslake.compact import build_day; "
            "build_day(sys.argv[1], dt.date.fromisoformat(sys.argv[2])); " + hwm)
    for day in days:
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, root, day.isoformat()],
                             capture_output=True, text=True, check=True, timeout=900)
        seconds.append(time.perf_counter() - started)
        peaks.append(int(out.stdout.split()[-1]) / 1024)
    baseline = subprocess.run(
        [sys.executable, "-c", "import newslake.compact; " + hwm],
        capture_output=True, text=True, check=True, timeout=300)
    return {
        "compact_s_per_day_median": round(statistics.median(seconds), 2),
        "compact_s_per_day_max": round(max(seconds), 2),
        "compact_peak_rss_mib_max": round(max(peaks)),
        "child_after_imports_rss_mib": round(int(baseline.stdout.split()[-1]) / 1024),
    }


def day_queries(source: str, outlet: str, day: dt.date) -> dict[str, str]:
    """The queries of one day that both tables time: an outlet-day, and the day's bodies
    searched the documented way and with ``ILIKE``."""
    return {
        "one outlet-day":
            f"SELECT title, published_at FROM {source} "
            f"WHERE outlet = '{outlet}' AND date = '{day}'",
        "text search over one day's bodies (regexp_matches 'i')":
            f"SELECT count(*) FROM {source} WHERE date = '{day}' "
            "AND regexp_matches(body, 'harbour storm vote', 'i')",
        "text search over one day's bodies (ILIKE)":
            f"SELECT count(*) FROM {source} WHERE date = '{day}' "
            "AND body ILIKE '%harbour storm vote%'",
    }


def queries(glob: str, outlet: str, day: dt.date, month_file: bool = False) -> dict[str, str]:
    source = (f"read_parquet('{glob}')" if month_file
              else f"read_parquet('{glob}', hive_partitioning=true)")
    return {
        "articles per day, whole month":
            f"SELECT date, count(*) FROM {source} GROUP BY date ORDER BY date",
        **day_queries(source, outlet, day),
        "text search, case-sensitive (contains)":
            f"SELECT count(*) FROM {source} WHERE date = '{day}' "
            "AND contains(body, 'harbour storm vote')",
        "title search over the month (regexp_matches 'i')":
            f"SELECT count(*) FROM {source} WHERE regexp_matches(title, 'harbour storm', 'i')",
        "title search over the month (ILIKE)":
            f"SELECT count(*) FROM {source} WHERE title ILIKE '%Harbour Storm%'",
    }


def time_queries(named: dict[str, str], con: duckdb.DuckDBPyConnection | None = None,
                 repeat: int = 3) -> dict[str, float]:
    """Each query's best of ``repeat``, and the 1-minute load average before the first
    (``load``): on a shared machine a figure means little without it."""
    con = con or duckdb.connect()
    timed = {"load": round(os.getloadavg()[0], 1)}
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


@contextlib.contextmanager
def seaweed_s3(root: Path) -> Iterator[tuple[dict[str, str], str]]:
    """SeaweedFS S3 (``tests/helpers/s3server.py``) on a data folder beside ``root``,
    started, exported to the environment the lake's S3 code reads, and stopped and removed
    afterwards; yields its storage settings and ``s3://<bucket>``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers.s3server import SeaweedS3

    data = root.with_name(root.name + "-s3")
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    try:
        with SeaweedS3(data) as server:
            storage = server.storage
            os.environ.update({"NEWSLAKE_S3_ENDPOINT": storage["endpoint_url"],
                               "AWS_ACCESS_KEY_ID": storage["access_key_id"],
                               "AWS_SECRET_ACCESS_KEY": storage["secret_access_key"],
                               "AWS_REGION": storage["region"]})
            yield storage, f"s3://{server.bucket}"
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main_s3(args: argparse.Namespace) -> None:
    outlets = [f"o{n:04d}" for n in range(args.outlets)]
    days = [FIRST_DAY + dt.timedelta(days=d) for d in range(args.days)]
    one_outlet, one_day = outlets[len(outlets) // 2], days[len(days) // 2]
    with seaweed_s3(Path(args.root).resolve()) as (storage, bucket):
        root = f"{bucket}/bench"
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


def year_queries(glob: str, outlet: str, day: dt.date, month: tuple[dt.date, dt.date],
                 hive: bool = True, counts: str = "") -> dict[str, str]:
    """The issue's queries at a year: counts over the year and over a month, an outlet-day,
    a day's bodies and a month's titles searched (the documented way, and ``ILIKE``).
    ``counts``: the lake's ``corpus_counts`` file, also asked for the year's counts."""
    source = (f"read_parquet('{glob}', hive_partitioning=true)" if hive
              else f"read_parquet('{glob}')")
    first, last = month
    within = f"date BETWEEN '{first}' AND '{last}'"
    from_counts = {"articles per day, whole year, from corpus_counts/":
                   f"SELECT date, sum(articles) FROM read_parquet('{counts}') "
                   "GROUP BY date ORDER BY date"} if counts else {}
    return {
        **from_counts,
        "articles per day, whole year":
            f"SELECT date, count(*) FROM {source} GROUP BY date ORDER BY date",
        "articles per day, one month":
            f"SELECT date, count(*) FROM {source} WHERE {within} GROUP BY date ORDER BY date",
        **day_queries(source, outlet, day),
        "title search over a month (regexp_matches 'i')":
            f"SELECT count(*) FROM {source} WHERE {within} "
            "AND regexp_matches(title, 'harbour storm', 'i')",
        "title search over a month (ILIKE)":
            f"SELECT count(*) FROM {source} WHERE {within} AND title ILIKE '%harbour storm%'",
    }


def other_engines(corpus: str, day: dt.date) -> dict[str, float]:
    """The documented case-insensitive search over one day's bodies in pyarrow and Polars,
    dataset discovery included (what an analyst's first call costs), best of 3."""
    import polars as pl
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    def arrow() -> int:
        data = ds.dataset(corpus, format="parquet", partitioning="hive")
        return data.to_table(columns=["url"], filter=(ds.field("date") == day.isoformat())
                             & pc.match_substring(ds.field("body"), "harbour storm vote",
                                                  ignore_case=True)).num_rows

    def polars() -> int:
        return int(pl.scan_parquet(f"{corpus}/**/*.parquet", hive_partitioning=True).filter(
            (pl.col("date") == day)
            & pl.col("body").str.contains("(?i)harbour storm vote")).select(pl.len())
            .collect().item())

    return {"pyarrow match_substring(ignore_case=True)": round(best_of(arrow), 3),
            "polars str.contains('(?i)…')": round(best_of(polars), 3)}


def generate_corpus_days(root: str, outlets: list[str], days: list[dt.date], n: int,
                         distinct: int = 0) -> dict[str, Any]:
    """Each day written straight to ``corpus/date=D`` by ``compact.write_day`` (the writer
    ``build_day`` uses), from rows made in memory: no per-outlet files, no manifest. With
    ``distinct`` (> 0) only that many days are written; every other day's file is a byte
    copy of one of them (its ``published_at`` values are then those of the copied day:
    none of the timed queries reads them; the day is in the path)."""
    pool, rng = _pool(), np.random.default_rng(365)
    started, writes = time.perf_counter(), []
    written = days[:distinct] if distinct > 0 else days
    for day in written:
        table = _day_table(pool, rng, outlets, day, n)
        begun = time.perf_counter()
        compact.write_day(root, day, [table])
        writes.append(time.perf_counter() - begun)
    for index, day in enumerate(days[len(written):]):
        source = written[index % len(written)]
        target = Path(root, compact.ZONE, f"date={day}")
        target.mkdir(parents=True)
        shutil.copyfile(Path(root, compact.ZONE, f"date={source}", compact.FILE),
                        target / compact.FILE)
    return {"generated_days": len(written), "copied_days": len(days) - len(written),
            "generate_s": round(time.perf_counter() - started, 1),
            "write_day_s_median": round(statistics.median(writes), 2)}


def month_files(root: str, days: list[dt.date]) -> list[str]:
    """The year's day files rewritten as one file per month (``months/<YYYY-MM>.parquet``,
    a ``date`` column added): the "monthly files for older days" layout."""
    Path(root, "months").mkdir(exist_ok=True)
    made = []
    for month in sorted({d.strftime("%Y-%m") for d in days}):
        target = f"{root}/months/{month}.parquet"
        month_file(root, [d for d in days if d.strftime("%Y-%m") == month], target)
        made.append(target)
    return made


def search_variants(root: str, outlets: list[str], n: int) -> dict[str, Any]:
    """Ways to search one corpus day's bodies in any case (best of 3 each), then the same
    day written with other codecs: bytes, write time and the documented search's time."""
    import pandas as pd
    import pyarrow.compute as pc

    day = FIRST_DAY
    table = _day_table(_pool(), np.random.default_rng(7), outlets, day, n)
    compact.write_day(root, day, [table])
    path = f"{root}/corpus/date={day}/{compact.FILE}"
    source = f"read_parquet('{path}')"
    phrase = "harbour storm vote"
    con = duckdb.connect()
    duck = {
        "DuckDB body ILIKE '%…%'": f"body ILIKE '%{phrase}%'",
        "DuckDB contains(lower(body), …)": f"contains(lower(body), '{phrase}')",
        "DuckDB regexp_matches(body, …, 'i')": f"regexp_matches(body, '{phrase}', 'i')",
        "DuckDB contains(body, …), case-sensitive": f"contains(body, '{phrase}')",
        "DuckDB length(body) > 0: reading the bodies only": "length(body) > 0",
    }
    found: dict[str, Any] = {
        name: round(best_of(_fetch(con, f"SELECT count(*) FROM {source} WHERE {where}")), 3)
        for name, where in duck.items()}
    found["pyarrow match_substring(ignore_case=True)"] = round(best_of(lambda: pc.sum(
        pc.match_substring(pq.read_table(path, columns=["body"])["body"], phrase,
                           ignore_case=True))), 3)
    found["pandas (pyarrow dtypes) str.contains(case=False)"] = round(best_of(
        lambda: pd.read_parquet(path, columns=["body"], dtype_backend="pyarrow")["body"]
        .str.contains(phrase, case=False, regex=False).sum()), 3)
    found["pandas (default dtypes) str.contains(case=False)"] = round(best_of(
        lambda: pd.read_parquet(path, columns=["body"])["body"]
        .str.contains(phrase, case=False, regex=False).sum()), 3)
    codecs: dict[str, Any] = {}
    choices: dict[str, dict[str, Any]] = {
        "zstd (the lake's, level 1)": {"compression": "zstd"},
        "zstd level 9": {"compression": "zstd", "compression_level": 9},
        "zstd, body without dictionary": {
            "compression": "zstd",
            "use_dictionary": [c for c in table.column_names if c != "body"]},
        "zstd, 64 KiB pages": {"compression": "zstd", "data_page_size": 64 * 1024},
        "snappy": {"compression": "snappy"},
        "lz4": {"compression": "lz4"},
        "none": {"compression": "none"},
    }
    for index, (codec, options) in enumerate(choices.items()):
        target = f"{root}/codec-{index}.parquet"
        started = time.perf_counter()
        pq.write_table(table, target, row_group_size=compact.ROW_GROUP_ROWS, **options)
        codecs[codec] = {
            "file_mb": round(os.path.getsize(target) / 1e6, 1),
            "write_s": round(time.perf_counter() - started, 2),
            "regexp_matches_i_s": round(best_of(_fetch(
                con, f"SELECT count(*) FROM read_parquet('{target}') "
                f"WHERE regexp_matches(body, '{phrase}', 'i')")), 3),
        }
    body_mb = sum(
        pq.ParquetFile(path).metadata.row_group(g).column(
            compact.CORPUS_SCHEMA.get_field_index("body")).total_compressed_size
        for g in range(pq.ParquetFile(path).metadata.num_row_groups)) / 1e6
    return {"search_s": found, "codecs": codecs, "body_share_of_file": round(
        body_mb / (os.path.getsize(path) / 1e6), 2)}


def main_search(args: argparse.Namespace) -> None:
    root = str(Path(args.root).resolve())
    shutil.rmtree(root, ignore_errors=True)
    try:
        load = [round(x, 1) for x in os.getloadavg()]
        figures = {"load_average_before": load, **search_variants(
            root, [f"o{n:04d}" for n in range(args.outlets)], args.per_day)}
        figures["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        report("corpus_search", figures)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _mib(folder: Path) -> int:
    return round(sum(f.stat().st_size for f in folder.rglob("*.parquet")) / 2**20)


def year_on_s3(args: argparse.Namespace, root: str, outlets: list[str], built: list[dt.date],
               one_outlet: str, one_day: dt.date, june: tuple[dt.date, dt.date]
               ) -> dict[str, Any]:
    """The year's corpus files uploaded to SeaweedFS S3 (``tests/helpers/s3server.py``,
    started and stopped here), the first ``--days`` days' outlet files written there and
    compacted there; the year's queries through DuckDB's httpfs (outlet files timed once)."""
    import pyarrow.fs as pafs

    with seaweed_s3(Path(root)) as (storage, bucket):
        bucket = f"{bucket}/bench"
        started = time.perf_counter()
        s3, prefix = lake.filesystem(f"{bucket}/corpus")
        for zone in (compact.ZONE, compact.COUNTS_ZONE):
            pafs.copy_files(f"{root}/{zone}", prefix.rsplit("/", 1)[0] + f"/{zone}",
                            destination_filesystem=s3, use_threads=True)
        found: dict[str, Any] = {"upload_corpus_s": round(time.perf_counter() - started, 1)}
        started = time.perf_counter()
        compact.build_counts(bucket)
        found["build_counts_s"] = round(time.perf_counter() - started, 2)
        found["build_outlet_layout_s"] = round(build_outlet_layout(
            bucket, outlets, built, args.per_day, threads=8), 1)
        found.update(compact_days(bucket, built))
        con = s3_connection(storage)
        found["queries_s"] = {
            f"S3: {len(outlets) * len(built):,} outlet-day objects ({len(built)} days)":
                time_queries(year_queries(f"{bucket}/articles/**/*.parquet", one_outlet,
                                          one_day, (built[0], built[-1])), con, 1),
            "S3: 365 corpus day objects": time_queries(year_queries(
                f"{bucket}/corpus/**/*.parquet", one_outlet, one_day, june,
                counts=compact.counts_uri(bucket)), con),
        }
        return found


def main_year(args: argparse.Namespace) -> None:
    """A year: per-outlet files (and their compaction) for the first ``--days`` days only,
    the rest of the year's corpus days generated straight into ``corpus/``."""
    root = str(Path(args.root).resolve())
    shutil.rmtree(root, ignore_errors=True)
    outlets = [f"o{n:04d}" for n in range(args.outlets)]
    year = [FIRST_DAY + dt.timedelta(days=d) for d in range(365)]
    built = year[:args.days]
    one_outlet, one_day = outlets[len(outlets) // 2], built[len(built) // 2]
    june = (dt.date(FIRST_DAY.year, 6, 1), dt.date(FIRST_DAY.year, 6, 30))
    try:
        figures: dict[str, Any] = {
            "outlets": args.outlets, "per_day": args.per_day, "corpus_days": len(year),
            "outlet_layout_days": len(built),
            "build_outlet_layout_s": round(build_outlet_layout(root, outlets, built,
                                                                 args.per_day), 1),
        }
        figures.update(compact_days(root, built))
        figures.update(generate_corpus_days(root, outlets, year[len(built):], args.per_day,
                                            args.distinct_days))
        started = time.perf_counter()
        figures["counts"] = compact.build_counts(root)
        figures["build_counts_s"] = round(time.perf_counter() - started, 2)
        figures["bytes_mib"] = {"outlet_layout": _mib(Path(root, "articles")),
                                "corpus": _mib(Path(root, "corpus"))}
        outlet_name = f"{args.outlets * len(built):,} outlet-day files ({len(built)} days)"
        corpus_name = f"{len(year)} corpus day files"
        timed = {
            outlet_name: time_queries(year_queries(
                f"{root}/articles/**/*.parquet", one_outlet, one_day, (built[0], built[-1]))),
            corpus_name: time_queries(year_queries(
                f"{root}/corpus/**/*.parquet", one_outlet, one_day, june,
                counts=compact.counts_uri(root))),
        }
        figures["other_engines_s"] = other_engines(f"{root}/corpus", one_day)
        if args.month_files:
            started = time.perf_counter()
            month_files(root, year)
            figures["month_files_s"] = round(time.perf_counter() - started, 1)
            figures["bytes_mib"]["month_files"] = _mib(Path(root, "months"))
            timed["12 month files"] = time_queries(year_queries(
                f"{root}/months/*.parquet", one_outlet, one_day, june, hive=False))
        if args.month_files:
            shutil.rmtree(Path(root, "months"))  # disk: the S3 copy below needs its own
        if args.outlet_year:
            picked = outlets[:args.outlet_year]
            fraction = f"{root}/fraction"
            figures["outlet_year_build_s"] = round(build_outlet_layout(
                fraction, picked, year, args.per_day, threads=4), 1)
            figures["bytes_mib"]["outlet_year"] = _mib(Path(fraction, "articles"))
            name = f"{len(picked) * len(year):,} outlet-day files ({len(picked)} outlets x 365)"
            timed[name] = time_queries(year_queries(
                f"{fraction}/articles/**/*.parquet", picked[len(picked) // 2], one_day, june),
                repeat=1)
            shutil.rmtree(fraction)
        if args.s3:
            figures["s3"] = year_on_s3(args, root, outlets, built, one_outlet, one_day, june)
            timed.update(figures["s3"].pop("queries_s"))
        figures["queries_s"] = timed
        figures["load_average"] = [round(x, 1) for x in os.getloadavg()]
        report("corpus_layout_year", figures)
        print(_table(timed, list(timed)))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def _table(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    lines = ["| query | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for query in rows[columns[0]]:
        lines.append(f"| {query} | " + " | ".join(
            (f"{rows[c][query]:.1f}" if query == "load" else f"{rows[c][query]:.3f} s")
            if query in rows[c] else "—" for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outlets", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=50)
    parser.add_argument("--root", default="/tmp/corpus-bench")
    parser.add_argument("--keep", action="store_true", help="keep the lake afterwards")
    parser.add_argument("--s3", action="store_true", help="on the SeaweedFS S3 server")
    parser.add_argument("--year", action="store_true",
                        help="365 corpus days (the first --days also as per-outlet files)")
    parser.add_argument("--distinct-days", type=int, default=0,
                        help="with --year: write this many days, copy them for the rest")
    parser.add_argument("--month-files", action="store_true",
                        help="with --year: also the year as 12 month files, queried alike")
    parser.add_argument("--outlet-year", type=int, default=0, metavar="K",
                        help="with --year: also K outlets x 365 days of per-outlet files")
    parser.add_argument("--search", action="store_true",
                        help="one corpus day: ways to search its bodies, and codecs")
    args = parser.parse_args()
    if args.search:
        main_search(args)
        return
    if args.year:  # before --s3: --year --s3 is the year, locally and then on S3
        main_year(args)
        return
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
