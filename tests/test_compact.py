"""The corpus (``corpus/date=D/``): one file per day of every outlet's articles, rebuilt
from the per-outlet partitions, on a local lake and on the S3 server."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newslake import compact, lake
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

pytestmark = pytest.mark.timeout(120)

DAY = dt.date(2025, 3, 17)
NEXT = DAY + dt.timedelta(days=1)


def _table(outlet: str, day: dt.date, count: int, run: str = "run-1") -> pa.Table:
    rows = [
        Article(
            url=f"https://{outlet}.example/{day}/{n}",
            title=f"{outlet} headline {n} ({run})",
            body=f"Body of {outlet} article {n} on {day}. " * 20,
            # published out of order: the corpus orders them
            published_at=dt.datetime.combine(day, dt.time((n * 7) % 24), tzinfo=dt.UTC),
            outlet=outlet, fetched_url=f"https://{outlet}.example/{day}/{n}",
            authors=["Ann Author"], fetched_at=dt.datetime.combine(day, dt.time(23), dt.UTC),
            parser="generic@1", run_id=run,
        ).to_row()
        for n in range(count)
    ]
    return rows_to_table(rows, ARTICLE_FILE_SCHEMA)


def _publish(lake_uri: str, storage: Any, outlet: str, day: dt.date, table: pa.Table) -> None:
    """What an ingest run's publish does to the articles zone."""
    staging = lake.staging_uri(lake_uri, outlet, day, "test-run")
    staged = lake.join(staging, lake.PARQUET_FILE)
    lake.write_parquet(table, staged, storage=storage)
    lake.publish_partition(lake_uri, "articles", outlet, day, staged, storage)
    lake.remove_tree(staging, storage)


def _outlet_rows(lake_uri: str, storage: Any, day: dt.date) -> list[dict[str, Any]]:
    """The day's rows as the per-outlet layout gives them, outlet column included."""
    data = lake.dataset(lake_uri, "articles", storage)
    assert data is not None
    table = data.to_table(filter=pa.compute.field("date") == day.isoformat())
    rows = table.drop_columns(["date"]).to_pylist()
    for row in rows:
        row["outlet"] = str(row["outlet"])
    return sorted(rows, key=lambda r: (r["outlet"], r["url"]))


def _corpus_rows(lake_uri: str, storage: Any, day: dt.date) -> list[dict[str, Any]]:
    return sorted(compact.read_day(lake_uri, day, storage).to_pylist(),
                  key=lambda r: (r["outlet"], r["url"]))


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[str, Any]:
    if request.param == "local":
        return str(tmp_path / "lake"), None
    server = request.getfixturevalue("s3_server")
    return request.getfixturevalue("s3_lake"), server.storage


def test_a_day_holds_every_outlets_rows_in_outlet_then_time_order(
    where: tuple[str, Any]
) -> None:
    lake_uri, storage = where
    for outlet, count in [("zeta", 5), ("alpha", 7), ("mid", 3)]:
        _publish(lake_uri, storage, outlet, DAY, _table(outlet, DAY, count))
    _publish(lake_uri, storage, "alpha", NEXT, _table("alpha", NEXT, 2))
    assert compact.stale_days(lake_uri, storage) == [DAY, NEXT]

    manifest = compact.build_day(lake_uri, DAY, storage)
    assert manifest["rows"] == 15 and manifest["outlets"] == 3
    assert compact.stale_days(lake_uri, storage) == [NEXT]
    table = compact.read_day(lake_uri, DAY, storage)
    assert table.schema.names == list(compact.CORPUS_SCHEMA.names)
    assert compact.is_ordered(table)
    assert _corpus_rows(lake_uri, storage, DAY) == _outlet_rows(lake_uri, storage, DAY)
    # readers see one object in the day's folder: no leftovers, no staging
    day_files = [i.base_name for i in lake.list_files(compact.day_uri(lake_uri, DAY), storage)]
    assert day_files == [compact.FILE]
    staging = lake.join(lake_uri, "_staging", compact.ZONE)
    assert lake.list_files(staging, storage) == []
    if storage is None:  # no empty folders left behind either
        assert not any(Path(staging).iterdir())


def test_rebuilding_is_idempotent_and_a_rerun_of_an_outlet_day_makes_the_day_stale(
    where: tuple[str, Any]
) -> None:
    lake_uri, storage = where
    for outlet in ("alpha", "beta"):
        _publish(lake_uri, storage, outlet, DAY, _table(outlet, DAY, 4))
    compact.build_day(lake_uri, DAY, storage)
    first = _corpus_rows(lake_uri, storage, DAY)
    compact.build_day(lake_uri, DAY, storage)
    assert _corpus_rows(lake_uri, storage, DAY) == first
    assert compact.stale_days(lake_uri, storage) == []

    # a rerun of beta's day with other rows, and a backfill of a new outlet
    _publish(lake_uri, storage, "beta", DAY, _table("beta", DAY, 2, run="rerun"))
    _publish(lake_uri, storage, "gamma", DAY, _table("gamma", DAY, 1))
    assert compact.stale_days(lake_uri, storage) == [DAY]
    compact.build_day(lake_uri, DAY, storage)
    rows = _corpus_rows(lake_uri, storage, DAY)
    assert rows == _outlet_rows(lake_uri, storage, DAY)
    assert {r["title"] for r in rows if r["outlet"] == "beta"} == {
        "beta headline 0 (rerun)", "beta headline 1 (rerun)"}
    assert compact.stale_days(lake_uri, storage) == []


def test_a_day_whose_outlet_partitions_are_gone_loses_its_corpus_file(
    where: tuple[str, Any]
) -> None:
    lake_uri, storage = where
    _publish(lake_uri, storage, "alpha", DAY, _table("alpha", DAY, 3))
    compact.build_day(lake_uri, DAY, storage)
    lake.remove_tree(lake.partition_uri(lake_uri, "articles", "alpha", DAY), storage)
    assert compact.stale_days(lake_uri, storage) == [DAY]
    assert compact.build_day(lake_uri, DAY, storage)["rows"] == 0
    assert compact.read_day(lake_uri, DAY, storage).num_rows == 0
    assert compact.stale_days(lake_uri, storage) == []


def test_the_counts_file_holds_each_days_articles_per_outlet_and_follows_rebuilds(
    where: tuple[str, Any]
) -> None:
    lake_uri, storage = where
    assert compact.build_counts(lake_uri, storage)["rows"] == 0  # no corpus yet: empty
    assert compact.read_counts(lake_uri, storage).num_rows == 0
    for outlet, count in [("zeta", 5), ("alpha", 7)]:
        _publish(lake_uri, storage, outlet, DAY, _table(outlet, DAY, count))
    _publish(lake_uri, storage, "alpha", NEXT, _table("alpha", NEXT, 2))
    for day in (DAY, NEXT):
        compact.build_day(lake_uri, day, storage)
    assert compact.build_counts(lake_uri, storage) == {"days": 2, "rows": 3, "articles": 14}
    assert compact.read_counts(lake_uri, storage).to_pylist() == [
        {"date": DAY, "outlet": "alpha", "articles": 7},
        {"date": DAY, "outlet": "zeta", "articles": 5},
        {"date": NEXT, "outlet": "alpha", "articles": 2}]

    # a rerun of zeta's day with fewer rows; alpha's next day removed
    _publish(lake_uri, storage, "zeta", DAY, _table("zeta", DAY, 2, run="rerun"))
    lake.remove_tree(lake.partition_uri(lake_uri, "articles", "alpha", NEXT), storage)
    for day in compact.stale_days(lake_uri, storage):
        compact.build_day(lake_uri, day, storage)
    compact.build_counts(lake_uri, storage)
    assert compact.read_counts(lake_uri, storage).to_pylist() == [
        {"date": DAY, "outlet": "alpha", "articles": 7},
        {"date": DAY, "outlet": "zeta", "articles": 2}]
    # one object, no staging left
    counts_dir = lake.zone_uri(lake_uri, compact.COUNTS_ZONE)
    assert [i.base_name for i in lake.list_files(counts_dir, storage)] == [compact.FILE]
    assert lake.list_files(lake.join(lake_uri, "_staging", compact.ZONE), storage) == []


def test_articles_per_day_from_the_counts_file_equal_a_count_of_the_corpus(
    tmp_path: Any
) -> None:
    """The documented query (docs/lake.md) against counting the corpus files' rows."""
    lake_uri = str(tmp_path / "lake")
    for outlet, count in [("zeta", 5), ("alpha", 7)]:
        for day in (DAY, NEXT):
            _publish(lake_uri, None, outlet, day, _table(outlet, day, count - (day == NEXT)))
            compact.build_day(lake_uri, day, None)
    compact.build_counts(lake_uri)
    from_counts = duckdb.sql(
        f"SELECT date, sum(articles)::BIGINT FROM read_parquet('{lake_uri}/corpus_counts/"
        "*.parquet') GROUP BY date ORDER BY date").fetchall()
    from_corpus = duckdb.sql(
        f"SELECT date, count(*) FROM read_parquet('{lake_uri}/corpus/**/*.parquet', "
        "hive_partitioning=true) GROUP BY date ORDER BY date").fetchall()
    assert from_counts == from_corpus == [(DAY, 12), (NEXT, 10)]


def test_the_counts_file_reads_only_the_days_that_changed(tmp_path: Any) -> None:
    """A run's counts cost the days it rebuilt: a day whose corpus file is listed as it
    was counted is not opened again (here it could not be read: its bytes are zeros, its
    size and time as before), and its counts stay."""
    lake_uri = str(tmp_path / "lake")
    for day, count in [(DAY, 4), (NEXT, 3)]:
        _publish(lake_uri, None, "alpha", day, _table("alpha", day, count))
        compact.build_day(lake_uri, day, None)
    compact.build_counts(lake_uri)
    old_day = Path(compact.day_uri(lake_uri, DAY)) / compact.FILE
    listed = old_day.stat()
    old_day.write_bytes(bytes(listed.st_size))
    os.utime(old_day, ns=(listed.st_atime_ns, listed.st_mtime_ns))
    _publish(lake_uri, None, "alpha", NEXT, _table("alpha", NEXT, 5, run="rerun"))
    compact.build_day(lake_uri, NEXT, None)
    assert compact.build_counts(lake_uri, None, [NEXT]) == {
        "days": 2, "rows": 2, "articles": 9}
    assert compact.read_counts(lake_uri).to_pylist() == [
        {"date": DAY, "outlet": "alpha", "articles": 4},
        {"date": NEXT, "outlet": "alpha", "articles": 5}]


def test_row_group_statistics_let_duckdb_prune_an_outlet_filter(tmp_path: Any) -> None:
    lake_uri = str(tmp_path / "lake")
    outlets = [f"outlet{n:02d}" for n in range(12)]
    for outlet in outlets:
        _publish(lake_uri, None, outlet, DAY, _table(outlet, DAY, 10))
    compact.build_day(lake_uri, DAY, row_group_rows=25)
    path = lake.join(compact.day_uri(lake_uri, DAY), compact.FILE)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 5  # 120 rows in groups of 25
    column = compact.CORPUS_SCHEMA.names.index("outlet")
    ranges = [(meta.row_group(g).column(column).statistics.min,
               meta.row_group(g).column(column).statistics.max)
              for g in range(meta.num_row_groups)]
    assert ranges == sorted(ranges)
    assert all(ranges[g][1] <= ranges[g + 1][0] for g in range(len(ranges) - 1))

    query = (f"SELECT outlet, count(*) FROM read_parquet('{lake_uri}/corpus/**/*.parquet', "
             "hive_partitioning=true) WHERE outlet = 'outlet05' AND date = '2025-03-17' "
             "GROUP BY outlet")
    assert duckdb.sql(query).fetchall() == [("outlet05", 10)]


def test_files_of_an_older_schema_get_the_new_columns_as_nulls(tmp_path: Any) -> None:
    lake_uri = str(tmp_path / "lake")
    newest = _table("alpha", DAY, 2)
    nullable = [n for n, f in zip(newest.schema.names, newest.schema, strict=True)
                if f.nullable and n != "published_at"]
    older = newest.drop_columns(nullable[:1])
    _publish(lake_uri, None, "alpha", DAY, older)
    compact.build_day(lake_uri, DAY)
    table = compact.read_day(lake_uri, DAY)
    assert table.num_rows == 2
    assert table.column(nullable[0]).null_count == 2


def test_the_documented_case_insensitive_search_finds_the_same_rows_in_every_engine(
    tmp_path: Any
) -> None:
    """docs/lake.md's fast search over bodies (RE2 / Rust regex with case folding, not
    ``ILIKE``): DuckDB, pyarrow and Polars find exactly the rows a reader would, whatever
    the case, accented capitals included, and not the rows that only look alike."""
    import polars as pl
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    lake_uri = str(tmp_path / "lake")
    bodies = {
        "caps": "THE HARBOUR STORM VOTE was delayed.",
        "mixed": "Council: Harbour Storm vote tonight in Ålesund.",
        "accent": "ÅLESUND harbour storm vote, round two.",
        "split": "The harbour. Storm vote later.",  # the words, not the phrase
        "none": "Nothing about boats.",
    }
    table = _table("alpha", DAY, len(bodies))
    urls = [f"https://alpha.example/{name}" for name in bodies]
    table = table.set_column(table.schema.get_field_index("body"), "body",
                             pa.array(list(bodies.values())))
    table = table.set_column(table.schema.get_field_index("url"), "url", pa.array(urls))
    _publish(lake_uri, None, "alpha", DAY, table)
    compact.build_day(lake_uri, DAY)
    corpus = f"{lake_uri}/corpus"
    phrase, accented = "harbour storm vote", "ålesund harbour"
    want = {"https://alpha.example/caps", "https://alpha.example/mixed",
            "https://alpha.example/accent"}

    def duck(term: str) -> set[str]:
        return {url for (url,) in duckdb.sql(
            f"SELECT url FROM read_parquet('{corpus}/**/*.parquet', hive_partitioning=true) "
            f"WHERE date = '{DAY}' AND regexp_matches(body, regexp_escape(?), 'i')",
            params=[term]).fetchall()}

    def arrow(term: str) -> set[str]:
        found = ds.dataset(corpus, format="parquet", partitioning="hive").to_table(
            columns=["url"], filter=(ds.field("date") == DAY.isoformat())
            & pc.match_substring(ds.field("body"), term, ignore_case=True))
        return set(found.column("url").to_pylist())

    def polars(term: str) -> set[str]:
        found = pl.scan_parquet(f"{corpus}/**/*.parquet", hive_partitioning=True).filter(
            pl.col("body").str.contains("(?i)" + term)).select("url").collect()
        return set(found["url"].to_list())

    for search in (duck, arrow, polars):
        assert search(phrase) == want, search.__name__
        assert search(accented) == {"https://alpha.example/accent"}, search.__name__
    ilike = {url for (url,) in duckdb.sql(
        f"SELECT url FROM read_parquet('{corpus}/**/*.parquet') "
        f"WHERE body ILIKE '%{phrase}%'").fetchall()}
    assert ilike == want  # the slow way, same answer
