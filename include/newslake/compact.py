"""The corpus: every outlet of a day in one Parquet file, for analysts.

Layout (beside the per-outlet zones, which stay the ingest's unit)::

    <lake>/corpus/date=<YYYY-MM-DD>/part-00000.parquet   all outlets' articles of the day
    <lake>/_corpus/date=<YYYY-MM-DD>.json               how that file was built (its sources)
    <lake>/corpus_counts/part-00000.parquet             articles per day and outlet, all days

The corpus file holds the article schema of ``newslake.record`` with ``outlet`` as a real
column (the day stays in the path), rows ordered by outlet, then ``published_at``, then
url, in row groups of ``ROW_GROUP_ROWS``: min/max statistics of ``outlet`` and
``published_at`` let DuckDB, pyarrow, Polars and Spark skip the groups a filter excludes.

A corpus day is derived data: ``build_day`` rebuilds it whole from the day's
``articles/outlet=*/date=D`` partitions and replaces it atomically (``lake.publish_file``:
the contract of ``publish_partition``, local and S3). Its manifest records every source
partition's size and modification time as listed *before* reading them, so
``stale_days`` finds the days whose outlet partitions changed since (a rerun, a backfill,
a reparse), and a partition replaced during a build is simply seen as stale next time.
Rebuilding an unchanged day writes the same rows; ``stale_days`` then reports nothing.

``build_counts`` rewrites ``corpus_counts/`` from the corpus files as they are (their
``outlet`` column only): one small file answers "articles per day" over years, where a
scan of the day files pays a file and its row groups per day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from newslake import lake
from newslake.lake import Storage
from newslake.record import ARTICLE_SCHEMA

log = logging.getLogger(__name__)

ZONE = "corpus"
MANIFEST_ZONE = "_corpus"
FILE = lake.PARQUET_FILE
SORT_KEYS = ("outlet", "published_at", "url")
# Rows a row group holds. At ~300-word articles (~2 KB of body) 16,384 rows are ~32 MB
# before compression: a day of 1,000 outlets × 50 is 4 groups. A scan over every day of
# a year pays per row group (13 a day at 4k made counting a year ~3× slower); an
# outlet-day and a day's text search measured alike at 4k and 16k (docs/benchmarks.md,
# bench/corpus_layout.py).
ROW_GROUP_ROWS = 16384
# Outlet partitions read at once while a day is built (threads: I/O and pyarrow's
# decoding release the GIL), and how many read ahead of the writer at most.
READ_THREADS = 8
READ_AHEAD = 16
# The corpus's columns: the article record, outlet included (no outlet folder here).
CORPUS_SCHEMA = ARTICLE_SCHEMA
COUNTS_ZONE = "corpus_counts"
COUNTS_SCHEMA = pa.schema([
    pa.field("date", pa.date32(), nullable=False),
    pa.field("outlet", pa.string(), nullable=False),
    pa.field("articles", pa.int64(), nullable=False),
])
# The counts file's metadata key: per day, the size and time of the corpus file it counted.
SOURCES_KEY = "newslake.counted_from"
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})$")
_OUTLET_DIR = re.compile(r"outlet=([^/]+)$")

Sources = dict[str, str]  # outlet -> "<size>:<mtime second>" of its articles partition file


def day_uri(lake_uri: str, day: dt.date) -> str:
    return lake.join(lake.lake_uri(lake_uri), ZONE, f"date={day.isoformat()}")


def manifest_uri(lake_uri: str, day: dt.date) -> str:
    return lake.join(lake.lake_uri(lake_uri), MANIFEST_ZONE, f"date={day.isoformat()}.json")


def _fingerprint(info: pafs.FileInfo) -> str:
    """Size and modification second: S3 gives whole seconds in a HEAD, finer in a LIST."""
    return f"{info.size}:{(info.mtime_ns or 0) // 1_000_000_000}"


def source_partitions(lake_uri: str, storage: Storage = None) -> dict[dt.date, Sources]:
    """Every day of ``articles/`` → its outlets' partition files, fingerprinted by size
    and modification time. One recursive listing of the zone (on S3, one LIST per 1,000
    objects)."""
    found: dict[dt.date, Sources] = {}
    for info in lake.list_files(lake.zone_uri(lake_uri, "articles"), storage):
        if info.base_name != lake.PARQUET_FILE:
            continue
        parts = info.path.rstrip("/").split("/")
        day_match, outlet_match = _DATE_DIR.search(parts[-2]), _OUTLET_DIR.search(parts[-3])
        if not day_match or not outlet_match:
            continue
        day = dt.date.fromisoformat(day_match.group(1))
        found.setdefault(day, {})[outlet_match.group(1)] = _fingerprint(info)
    return found


def day_sources(lake_uri: str, day: dt.date, storage: Storage = None) -> Sources:
    """The outlets' partition files of one day, fingerprinted as ``source_partitions``
    does: a listing of the outlet folders, then one look-up per outlet (whatever the
    length of the history)."""
    fs, zone = lake.filesystem(lake.zone_uri(lake_uri, "articles"), storage)
    selector = pafs.FileSelector(zone, recursive=False, allow_not_found=True)
    outlets = sorted(m.group(1) for info in fs.get_file_info(selector)
                     if info.type == pafs.FileType.Directory
                     and (m := _OUTLET_DIR.search(info.path.rstrip("/"))))
    paths = [f"{zone}/outlet={o}/date={day.isoformat()}/{lake.PARQUET_FILE}" for o in outlets]
    return {outlet: _fingerprint(info)
            for outlet, info in zip(outlets, fs.get_file_info(paths), strict=True)
            if info.type == pafs.FileType.File}


def built_sources(lake_uri: str, day: dt.date, storage: Storage = None) -> Sources | None:
    """The sources the corpus day was built from; None when it was never built."""
    uri = manifest_uri(lake_uri, day)
    if not lake.exists(uri, storage):
        return None
    return dict(lake.read_json(uri, storage)["sources"])


def stale_days(lake_uri: str, storage: Storage = None) -> list[dt.date]:
    """The days whose corpus file is missing, out of date (an outlet partition added,
    replaced or removed since it was built) or left over (no outlet partition any more)."""
    sources = source_partitions(lake_uri, storage)
    built = {
        dt.date.fromisoformat(m.group(1)): info
        for info in lake.list_files(lake.zone_uri(lake_uri, MANIFEST_ZONE), storage)
        if (m := re.search(r"date=(\d{4}-\d{2}-\d{2})\.json$", info.base_name))
    }
    stale = {day for day, now in sources.items()
             if day not in built or built_sources(lake_uri, day, storage) != now}
    stale |= set(built) - set(sources)
    return sorted(stale)


def conform(table: pa.Table, outlet: str) -> pa.Table:
    """An outlet partition's rows in the corpus schema: ``outlet`` added, columns the
    file predates (an older schema_version) as nulls, in the record's order."""
    columns = []
    for field in CORPUS_SCHEMA:
        if field.name == "outlet":
            columns.append(pa.array([outlet] * table.num_rows, pa.string()))
        elif field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=CORPUS_SCHEMA)


def _read_outlet(lake_uri: str, day: dt.date, outlet: str, storage: Storage) -> pa.Table:
    uri = lake.join(lake.partition_uri(lake_uri, "articles", outlet, day), lake.PARQUET_FILE)
    if not lake.exists(uri, storage):  # removed since listed: stale next time
        return CORPUS_SCHEMA.empty_table()
    table = conform(lake.read_parquet(uri, storage=storage), outlet)
    return table.sort_by([(k, "ascending") for k in SORT_KEYS])


def _outlet_rows(lake_uri: str, day: dt.date, outlets: list[str],
                 storage: Storage) -> Iterator[pa.Table]:
    """The outlets' rows in outlet order, read ``READ_AHEAD`` outlets ahead by threads
    (on S3 each read is a round trip): memory is at most that many outlet-days."""
    with ThreadPoolExecutor(READ_THREADS) as pool:
        pending: deque[Future[pa.Table]] = deque()
        for outlet in outlets:
            pending.append(pool.submit(_read_outlet, lake_uri, day, outlet, storage))
            if len(pending) >= READ_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _row_groups(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.Table]:
    """``tables`` re-cut into groups of exactly ``rows`` rows (the last may be shorter)."""
    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        pending.append(table)
        held += table.num_rows
        while held >= rows:
            merged = pa.concat_tables(pending)
            yield merged.slice(0, rows)
            rest = merged.slice(rows)
            pending, held = [rest], rest.num_rows
    if held:
        yield pa.concat_tables(pending)


def build_day(lake_uri: str, day: dt.date, storage: Storage = None,
              row_group_rows: int = ROW_GROUP_ROWS) -> dict[str, Any]:
    """Rebuild ``corpus/date=<day>`` from the day's outlet partitions and replace it
    atomically; write and return its manifest. A day without outlet partitions has its
    corpus file and manifest removed (``rows`` 0). Outlets are read one at a time: memory
    is one outlet-day plus one row group, whatever the number of outlets."""
    started = time.monotonic()
    sources = day_sources(lake_uri, day, storage)
    target_dir = day_uri(lake_uri, day)
    if not sources:
        lake.remove_tree(target_dir, storage)
        _remove_file(manifest_uri(lake_uri, day), storage)
        log.info("corpus %s: no outlet partitions, removed", day)
        return {"date": day.isoformat(), "rows": 0, "outlets": 0, "sources": {}}
    outlets = sorted(sources)
    location, rows = write_day(lake_uri, day, _outlet_rows(lake_uri, day, outlets, storage),
                               storage, row_group_rows)
    manifest = {
        "date": day.isoformat(),
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
        "file": location,
        "rows": rows,
        "outlets": len(outlets),
        "row_group_rows": row_group_rows,
        "sources": sources,
        "seconds": round(time.monotonic() - started, 3),
    }
    lake.write_json(manifest_uri(lake_uri, day), manifest, storage)
    log.info("corpus %s: %d rows of %d outlets in %.1f s", day, rows, len(outlets),
             manifest["seconds"])
    return manifest


def write_day(lake_uri: str, day: dt.date, tables: Iterable[pa.Table], storage: Storage = None,
              row_group_rows: int = ROW_GROUP_ROWS) -> tuple[str, int]:
    """Write ``tables`` (rows in the corpus schema, already in corpus order) as the corpus
    file of ``day``, cut into row groups of ``row_group_rows``, staged and then published
    atomically (``lake.publish_file``); return its location and its row count. The writer
    of ``build_day``; no manifest (``build_day`` writes it, with the sources it read)."""
    rows = 0

    def counted(groups: Iterator[pa.Table]) -> Iterator[pa.Table]:
        nonlocal rows
        for group in groups:
            rows += group.num_rows
            yield group

    location = _publish(lake_uri, day_uri(lake_uri, day), day.isoformat(),
                        counted(_row_groups(iter(tables), row_group_rows)), CORPUS_SCHEMA,
                        storage)
    return location, rows


def _publish(lake_uri: str, target_dir: str, name: str, groups: Iterator[pa.Table],
             schema: pa.Schema, storage: Storage) -> str:
    """``groups`` as the one file of ``target_dir``: staged under ``_staging/corpus/<name>``,
    then published atomically (``lake.publish_file``); the staging removed either way."""
    staging = lake.join(lake.lake_uri(lake_uri), "_staging", ZONE, name, uuid.uuid4().hex)
    staged = lake.join(staging, FILE)
    try:
        lake.write_parquet_groups(groups, schema, staged, storage)
        return lake.publish_file(staged, target_dir, storage)
    finally:
        lake.remove_tree(staging, storage)
        if not lake.is_s3(staging):  # and the name's folder, once no build uses it
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(staging))


def counts_uri(lake_uri: str) -> str:
    return lake.join(lake.zone_uri(lake_uri, COUNTS_ZONE), FILE)


def _corpus_files(lake_uri: str, storage: Storage) -> dict[dt.date, str]:
    """Each day that has a corpus file → the file's size and modification time as listed
    (one listing of ``corpus/``): what ``build_counts`` counted it at."""
    return {
        dt.date.fromisoformat(m.group(1)): f"{info.size}:{info.mtime_ns}"
        for info in lake.list_files(lake.zone_uri(lake_uri, ZONE), storage)
        if info.base_name == FILE
        and (m := _DATE_DIR.search(info.path.rstrip("/").rsplit("/", 2)[-2]))}


def corpus_days(lake_uri: str, storage: Storage = None) -> list[dt.date]:
    """The days that have a corpus file, in order (one listing of ``corpus/``)."""
    return sorted(_corpus_files(lake_uri, storage))


def _day_counts(lake_uri: str, day: dt.date, storage: Storage) -> pa.Table:
    outlets = lake.read_parquet(lake.join(day_uri(lake_uri, day), FILE), storage=storage,
                                columns=["outlet"])
    counted = outlets.group_by("outlet").aggregate([("outlet", "count")])
    return pa.table({
        "date": pa.array([day] * counted.num_rows, pa.date32()),
        "outlet": counted["outlet"],
        "articles": counted["outlet_count"].cast(pa.int64()),
    }, schema=COUNTS_SCHEMA)


def build_counts(lake_uri: str, storage: Storage = None,
                 rebuilt: Iterable[dt.date] = ()) -> dict[str, Any]:
    """Rewrite ``corpus_counts/part-00000.parquet``: one row per day and outlet of the
    corpus (``date``, ``outlet``, ``articles``), ordered by date and outlet, replaced
    atomically; the corpus has no day → an empty file. Returns days, rows and articles.

    Only what changed is counted again (from the corpus files' ``outlet`` column,
    ``READ_THREADS`` days at once): the ``rebuilt`` days, and every day whose corpus file
    is new or is listed with another size or modification time than the file's metadata
    (``SOURCES_KEY``) says it was counted at; the rows of days without a corpus file go.
    The rest is copied from the file as it was, so a run costs the days it rebuilt, not
    the years behind them."""
    started = time.monotonic()
    files = _corpus_files(lake_uri, storage)
    previous, counted_at = _read_counts(lake_uri, storage)
    changed = set(rebuilt)
    recount = sorted(d for d, at in files.items() if d in changed or counted_at.get(d) != at)
    unchanged = pa.array(sorted(set(files) - set(recount)), pa.date32())
    kept = previous.filter(pc.is_in(previous["date"], value_set=unchanged))
    with ThreadPoolExecutor(READ_THREADS) as pool:
        tables = list(pool.map(lambda day: _day_counts(lake_uri, day, storage), recount))
    counts = pa.concat_tables([kept, *tables])
    counts = counts.sort_by([("date", "ascending"), ("outlet", "ascending")])
    sources = json.dumps({d.isoformat(): at for d, at in sorted(files.items())})
    schema = COUNTS_SCHEMA.with_metadata({SOURCES_KEY: sources})
    _publish(lake_uri, lake.zone_uri(lake_uri, COUNTS_ZONE), COUNTS_ZONE,
             iter([counts]), schema, storage)
    articles = int(pc.sum(counts["articles"]).as_py() or 0)
    log.info("corpus counts: %d days (%d counted again), %d articles in %.1f s", len(files),
             len(recount), articles, time.monotonic() - started)
    return {"days": len(files), "rows": counts.num_rows, "articles": articles}


def _read_counts(lake_uri: str, storage: Storage) -> tuple[pa.Table, dict[dt.date, str]]:
    """``corpus_counts/`` and, per day, the corpus file's size and time it was counted at
    (none for a file without them: every day is counted again)."""
    uri = counts_uri(lake_uri)
    if not lake.exists(uri, storage):
        return COUNTS_SCHEMA.empty_table(), {}
    table = lake.read_parquet(uri, storage=storage)
    sources = json.loads((table.schema.metadata or {}).get(SOURCES_KEY.encode(), b"{}"))
    return (table.select(COUNTS_SCHEMA.names).cast(COUNTS_SCHEMA),
            {dt.date.fromisoformat(day): at for day, at in sources.items()})


def read_counts(lake_uri: str, storage: Storage = None) -> pa.Table:
    """``corpus_counts/`` (empty with its schema when never built)."""
    return _read_counts(lake_uri, storage)[0]


def _remove_file(location: str, storage: Storage) -> None:
    fs, path = lake.filesystem(location, storage)
    if fs.get_file_info(path).type == pafs.FileType.File:
        fs.delete_file(path)


def read_day(lake_uri: str, day: dt.date, storage: Storage = None) -> pa.Table:
    """The corpus file of a day (empty with the corpus schema when it was never built)."""
    uri = lake.join(day_uri(lake_uri, day), FILE)
    if not lake.exists(uri, storage):
        return CORPUS_SCHEMA.empty_table()
    return lake.read_parquet(uri, storage=storage)


def is_ordered(table: pa.Table) -> bool:
    """Whether rows are in corpus order (outlet, published_at, url)."""
    if table.num_rows < 2:
        return True
    order = pc.sort_indices(table, [(k, "ascending") for k in SORT_KEYS])
    return bool(pc.all(pc.equal(order, pa.array(range(table.num_rows), pa.uint64()))).as_py())


def row_group_count(lake_uri: str, day: dt.date, storage: Storage = None) -> int:
    fs, path = lake.filesystem(lake.join(day_uri(lake_uri, day), FILE), storage)
    with fs.open_input_file(path) as handle:
        return int(pq.ParquetFile(handle).metadata.num_row_groups)
