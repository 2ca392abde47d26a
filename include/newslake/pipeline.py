"""One outlet-day, step by step: discover → fetch → parse → validate → publish.

Each step is a plain function that takes what the step before returned and returns a
small typed value (``newslake.steps``: locations and counts) — what Airflow's XCom carries
between tasks; the bulk (URL lists, WARC files, rows) stays in the run's staging folder,
found only through those values. Nothing here imports Airflow. A run owns the partition
``date=D`` of its outlet for the interval [D, D+1) UTC and replaces it whole, and only
adds knowledge: every URL the day's partitions already hold is tried again, listed or
not, and a page that now fails keeps its last good response (``fetch_step``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import statistics
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from newslake import drift, lake, source_dates
from newslake.config import Outlet
from newslake.dayrows import DEFERRED_BYTES, DayRows
from newslake.discover import discover
from newslake.discover.warc import archived_from_refs
from newslake.errors import ParseError, ShrinkError
from newslake.fetch import ERR_ROBOTS, FetchResult, fetch_urls
from newslake.frontier import frontier_candidates, with_frontier
from newslake.parse import parse_article
from newslake.parse.version import current_label
from newslake.raw import read_whole_warc, write_warc
from newslake.rawindex import ChunkRecords, read_previous, scan_previous
from newslake.record import (
    ALIAS_SCHEMA,
    ARTICLE_FILE_SCHEMA,
    CANDIDATE_FILE_SCHEMA,
    QUARANTINE_FILE_SCHEMA,
    SCHEMA_VERSION,
    rows_to_table,
)
from newslake.steps import Chunk, Discovered, Discovery, Fetched, Parsed, RawChunk, Validated
from newslake.validate import BatchValidationError, validate_batch, validate_rows

log = logging.getLogger(__name__)

# 50 URLs a mapped fetch task: small enough that a retry refetches little, large enough
# that a day of a busy outlet (a few hundred articles) stays under a dozen tasks.
DEFAULT_CHUNK_SIZE = 50


@dataclass(frozen=True)
class RunSpec:
    """Who runs: the outlet, the day it owns, the Airflow run id, and the lake.

    ``storage`` holds the storage options of an ``s3://`` lake (``newslake.settings.
    STORAGE_KEYS``: endpoint, credentials, region) as plain strings; empty means "from
    the environment". It is kept out of ``repr`` so that credentials stay out of logs.
    """

    outlet: Outlet
    day: dt.date
    run_id: str
    lake: str
    storage: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def staging_uri(self) -> str:
        """The run's scratch space: a local folder or an ``s3://`` prefix in the lake."""
        return lake.staging_uri(self.lake, self.outlet.id, self.day, self.run_id)

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.day, dt.time(), tzinfo=dt.UTC)
        return start, start + dt.timedelta(days=1)


# A run's staging untouched for this long belongs to a run that was killed or failed for
# good: the outlet's next run removes it. It must outlast the longest time a live run can
# go without writing: its fetch tasks queued behind other runs' (one fetch task of an
# outlet at a time, up to 4 runs at once; a day of 50k URLs at 1 request/s is ~14 h of
# fetching), plus Airflow's retry delays. A week is far beyond that.
STALE_STAGING_HOURS = 7 * 24


def collect_stale_staging(spec: RunSpec, hours: float = STALE_STAGING_HOURS) -> list[str]:
    """Remove the outlet's other runs' staging that is older than ``hours``; log it."""
    removed = lake.collect_stale_staging(
        spec.lake, spec.outlet.id, older_than_s=hours * 3600, keep=spec.staging_uri,
        storage=spec.storage)
    for location in removed:
        log.warning("removed stale staging (untouched for %g h): %s", hours, location)
    return removed


def _stage(spec: RunSpec, *parts: str) -> str:
    """A location in the run's staging area (writers create local folders as needed)."""
    return lake.join(spec.staging_uri, *parts)


def _read_json(spec: RunSpec, location: str) -> Any:
    return lake.read_json(location, spec.storage)


def _basename(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def _previous_raw(spec: RunSpec) -> str:
    """The day's raw WARC as the last run left it (a rerun revalidates its responses)."""
    return lake.join(lake.partition_uri(spec.lake, "raw", spec.outlet.id, spec.day), lake.RAW_FILE)


def chunk_size_for(urls: int, chunk_size: int, max_chunks: int | None) -> int:
    """``chunk_size``, grown when needed so that ``urls`` make at most ``max_chunks``
    chunks (Airflow's ``max_map_length``: a mapped task over more fails the run)."""
    if max_chunks is None or urls <= chunk_size * max_chunks:
        return chunk_size
    return -(-urls // max_chunks)


def _partition_urls(spec: RunSpec) -> set[str]:
    """The URLs of the rows the day's ``articles/`` and ``quarantine/`` partitions hold."""
    urls: set[str] = set()
    for zone in ("articles", "quarantine"):
        location = lake.join(lake.partition_uri(spec.lake, zone, spec.outlet.id, spec.day),
                             lake.PARQUET_FILE)
        if lake.exists(location, spec.storage):
            column = lake.read_parquet(location, storage=spec.storage, columns=["url"])
            urls.update(u for u in column.column("url").to_pylist() if u)
    return urls


def discover_step(
    spec: RunSpec, chunk_size: int = DEFAULT_CHUNK_SIZE, max_chunks: int | None = None
) -> Discovered:
    """Discover the day's candidate URLs; write them in chunks; return the chunks (one
    mapped fetch each) and the discovery figures (for publish).

    The candidates are what the sources list now, then every other URL the day's
    partitions already hold (articles, quarantine, raw): feeds roll over and pages are
    taken down, and a rerun, retry or backfill must not forget what an earlier run found.
    At most ``max_chunks`` chunks (the DAG passes Airflow's ``[core] max_map_length``):
    a bigger day gets bigger chunks, with a warning. Each chunk comes with the locations
    of the records its fetch may reuse (the previous run's responses, the warc sources'
    pages) and of its URLs' discovery dates: the files are read once here, and each fetch
    chunk reads only its own records."""
    started = time.monotonic()
    # A retry of the whole run starts from a clean slate.
    lake.remove_tree(spec.staging_uri, spec.storage)
    collect_stale_staging(spec)
    result = discover(spec.outlet, spec.day)
    # Plus what the frontier's polls recorded for the day before the sources rolled over.
    found = frontier_candidates(spec.lake, spec.outlet, spec.day, spec.storage)
    result = with_frontier(result, found)
    listed = [u.url for u in result.urls]
    previous_raw = scan_previous(_previous_raw(spec), spec.storage)
    carried = sorted((previous_raw.urls | _partition_urls(spec)) - set(listed))
    urls = listed + carried
    previous = previous_raw.refs
    size = chunk_size_for(len(urls), chunk_size, max_chunks)
    if size != chunk_size:
        log.warning(
            "%s %s: %d URLs would make more than %d chunks of %d (Airflow's max_map_length):"
            " %d URLs a chunk instead", spec.outlet.id, spec.day, len(urls), max_chunks,
            chunk_size, size)
    chunk_size = size
    # An empty day still gets one (empty) chunk, so that the run republishes the day.
    url_chunks = [urls[i : i + chunk_size] for i in range(0, len(urls), chunk_size)] or [[]]
    # A page without a date takes its source's (a feed's pubDate ...), and keeps the one
    # it took in an earlier run when no source lists it now.
    dates = source_dates.merged(
        source_dates.from_discovered(result.urls),
        source_dates.from_partition(spec.lake, spec.outlet.id, spec.day, spec.storage))
    chunks: list[Chunk] = []
    for n, chunk_urls in enumerate(url_chunks):
        name = f"{n:05d}.json"
        chunk = Chunk(number=n, urls=_stage(spec, "chunks", name),
                      records=_stage(spec, "records", name), dates=_stage(spec, "dates", name),
                      size=len(chunk_urls))
        lake.write_json(chunk["urls"], chunk_urls, spec.storage)
        source_dates.write(chunk["dates"], dates, spec.storage, urls=chunk_urls)
        records = ChunkRecords.for_urls(chunk_urls, previous, result.archived)
        lake.write_json(chunk["records"], records.to_json(), spec.storage)
        chunks.append(chunk)
    discovery = Discovery(
        discovered=len(urls), listed=len(listed), carried_forward=len(carried),
        chunks=len(chunks), errors=result.errors, counts=result.counts,
        seconds=round(time.monotonic() - started, 3))
    log.info(
        "discovered %d URLs for %s on %s (%d listed, %d carried forward from the day's "
        "partitions) in %d chunks (%d source errors); %d earlier responses and %d archived "
        "pages indexed",
        len(urls), spec.outlet.id, spec.day, len(listed), len(carried), len(chunks),
        len(result.errors), len(previous), len(result.archived),
    )
    return Discovered(chunks=chunks, discovery=discovery)


def _archived(spec: RunSpec, records: ChunkRecords) -> dict[str, FetchResult]:
    """The chunk's pages that the outlet's warc sources hold."""
    if not records.archived:
        return {}
    return archived_from_refs(spec.outlet, spec.day, records.archived, spec.storage)


def _previous(spec: RunSpec, urls: list[str], records: ChunkRecords) -> dict[str, FetchResult]:
    """What the last run of the day kept for ``urls``: the validators of a rerun, and
    what a page that fails now keeps (without the note of an earlier such failure)."""
    wanted = {u: records.previous[u] for u in urls if u in records.previous}
    found = read_previous(wanted, spec.storage) if wanted else {}
    return {u: r.as_previous() for u, r in found.items()}


def _keep_previous(result: FetchResult, previous: Mapping[str, FetchResult]) -> FetchResult:
    """``result``, or the URL's earlier complete response when this fetch failed (404,
    410, a timeout, robots …): a page taken down keeps its last good version in the lake,
    noted with the error (``kept_after``) and when it came (``kept_at``)."""
    earlier = previous.get(result.url)
    if result.error is None or earlier is None:
        return result
    return earlier.kept_in_place_of(result)


def fetch_step(spec: RunSpec, chunk: Chunk) -> Fetched:
    """Fetch one chunk of URLs into a WARC file in staging; return it and its figures.

    The WARC is written to a local temporary file, then put into staging whole; its rows
    will name the day's raw file (``lake.RAW_FILE``), which publish makes of the chunks."""
    urls: list[str] = _read_json(spec, chunk["urls"])
    name = f"{chunk['number']:05d}.warc.gz"
    warc_path = _stage(spec, "raw", name)
    started = time.monotonic()
    # Pages a warc source holds are not fetched; the rest are revalidated against what the
    # raw zone kept from an earlier run of the day (If-None-Match / If-Modified-Since),
    # which also stands in for a page that fails now.
    noted = ChunkRecords.from_json(_read_json(spec, chunk["records"]))
    archived = _archived(spec, noted)
    to_fetch = [u for u in urls if u not in archived]
    previous = _previous(spec, to_fetch, noted)
    fetched = iter(list(fetch_urls(to_fetch, spec.outlet, previous=previous)))
    results = [archived[u] if u in archived else _keep_previous(next(fetched), previous)
               for u in urls]
    with tempfile.TemporaryDirectory(prefix="newslake-fetch-") as tmp:
        local = os.path.join(tmp, name)
        records = write_warc(local, results)
        lake.upload(local, warc_path, spec.storage)
    failed = [r for r in results if r.error or r.status is None or r.status >= 400]
    reused = sum(r.reused_from is not None and r.kept_after is None for r in results)
    kept = sum(r.kept_after is not None for r in results)
    out = Fetched(
        warc=warc_path, raw_ref=lake.raw_ref(spec.outlet.id, spec.day), dates=chunk["dates"],
        source=warc_path, seconds=round(time.monotonic() - started, 3), urls=len(urls),
        failed=len(failed), not_modified=reused, kept_previous=kept,
        from_warc_sources=len(archived))
    log.info(
        "fetched %d URLs (%d failed, %d not modified, %d failed but kept their earlier "
        "response, %d from WARC sources) into %s: %d WARC records in %.2fs",
        len(urls), len(failed), reused, kept, len(archived), name, records, out["seconds"],
    )
    return out


def validation_frame(columns: pa.Table) -> pd.DataFrame:
    """The rows as GX sees them (``DayRows.columns()``): the body's byte length stands in
    for the body under its name (the checks only ask whether it is there)."""
    return columns.rename_columns(
        {DEFERRED_BYTES: "body"}).to_pandas().reset_index(drop=True)


# The batch gate compares a day with the week before it.
RECENT_DAYS = 7
MIN_RECENT_DAYS = 3


def _recent_manifests(spec: RunSpec, days: int) -> list[tuple[dt.date, dict[str, Any]]]:
    """The latest manifest of each of the outlet's last ``days`` days that has one,
    newest first."""
    found = []
    for back in range(1, days + 1):
        day = spec.day - dt.timedelta(days=back)
        uris = lake.list_manifest_uris(spec.lake, spec.outlet.id, day, spec.storage)
        if uris:
            found.append((day, lake.read_json(uris[-1], spec.storage)))
    return found


def _recent_written(recent: list[tuple[dt.date, dict[str, Any]]]) -> float | None:
    """Median of the rows written on the last RECENT_DAYS days of ``recent`` (their
    latest runs), or None when fewer than MIN_RECENT_DAYS of them have a manifest."""
    written = [int(manifest.get("written", 0)) for _, manifest in recent[:RECENT_DAYS]]
    if len(written) < MIN_RECENT_DAYS:
        return None
    return float(statistics.median(written))


def _day_bodies(spec: RunSpec, parsed_paths: list[str]) -> Iterator[str | None]:
    """The bodies of the day's candidate rows, in ``DayRows.read`` order, the first row of
    each ``article_id`` only (as ``validate_step`` keeps): one chunk file at a time."""
    seen: set[str] = set()
    for path in parsed_paths:
        table = lake.read_parquet(path, storage=spec.storage, columns=["article_id", "body"])
        for article_id, body in zip(table.column("article_id").to_pylist(),
                                    table.column("body").to_pylist(), strict=True):
            if article_id in seen:
                continue
            seen.add(article_id)
            yield body


def _drift(
    spec: RunSpec, frame: pd.DataFrame, parsed_paths: list[str],
    recent: list[tuple[dt.date, dict[str, Any]]],
) -> tuple[dict[str, Any], drift.DriftResult]:
    """The day's extraction profile and how it compares with the outlet's recent days."""
    columns = {name: frame[name].tolist() if len(frame) else [] for name in (
        *drift.FIELDS, "parser", "published_at_source", "word_count")}
    profile = drift.build_profile(columns, spec.outlet.language,
                                  drift.repeated_lines(_day_bodies(spec, parsed_paths)))
    rules = spec.outlet.validation.drift
    first = spec.day - dt.timedelta(days=rules.baseline_days)
    baselines = [(day, m["profile"]) for day, m in recent
                 if day >= first and isinstance(m.get("profile"), dict)]
    result = drift.judge(profile, [p for _, p in baselines], rules,
                         [day.isoformat() for day, _ in baselines])
    return profile, result


def _fetch_fields(spec: RunSpec, result: FetchResult, raw_ref: str) -> dict[str, Any]:
    """The columns every row takes from its fetch, whatever became of the page (a row, a
    parse refusal, a fetch failure): the one place they are assembled."""
    return {
        "fetched_url": result.final_url or result.url,
        "http_status": result.status,
        "fetched_at": result.fetched_at,
        "run_id": spec.run_id,
        "schema_version": SCHEMA_VERSION,
        "raw_ref": raw_ref,
    }


def _fetch_failure_row(spec: RunSpec, result: FetchResult, raw_ref: str) -> dict[str, Any]:
    reason = result.error or f"http_{result.status}"
    return {"url": result.url, **_fetch_fields(spec, result, raw_ref),
            "failed_checks": [f"fetch:{reason}"]}


def _published_articles(spec: RunSpec) -> str:
    """The day's ``articles/`` partition file as the last run published it."""
    return lake.join(lake.partition_uri(spec.lake, "articles", spec.outlet.id, spec.day),
                     lake.PARQUET_FILE)


def _held_urls(spec: RunSpec) -> set[str]:
    """The URLs of the articles the day's published partition holds."""
    location = _published_articles(spec)
    if not lake.exists(location, spec.storage):
        return set()
    table = lake.read_parquet(location, storage=spec.storage, columns=["url"])
    return set(table.column("url").to_pylist())


def parse_step(spec: RunSpec, raw: RawChunk) -> Parsed:
    """Parse one WARC chunk into candidate rows and quarantine rows, staged; return them.

    A WARC that does not read back whole fails the step with ``DamagedWarcError`` naming
    ``raw["source"]`` (the file a reparse snapshotted; the WARC itself for a fetch) and
    the offset."""
    started = time.monotonic()
    warc_path = raw["warc"]
    window_start, window_end = spec.window
    rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    parsers: Counter[str] = Counter()
    out_of_window: list[str] = []
    moved: list[dict[str, Any]] = []  # out of window: their URLs are looked up below
    raw_ref = raw["raw_ref"]
    refused_by = str(current_label(spec.outlet))  # a refusal's row says which parser
    with lake.local_copy(warc_path, spec.storage, suffix=".warc.gz") as local_warc:
        results = read_whole_warc(local_warc, raw["source"])
    dates = source_dates.read(raw["dates"], spec.storage) if raw["dates"] else {}
    for result in results:
        counts["responses"] += 1
        if result.kept_after is not None:
            counts["kept_previous"] += 1
            counts[f"kept_previous:{result.kept_after.slug}"] += 1
        if result.error or result.status is None or result.status >= 300 or not result.body:
            counts["fetch_failed"] += 1
            counts[f"fetch_error:{result.error_slug or f'http_{result.status}'}"] += 1
            quarantine.append(_fetch_failure_row(spec, result, raw_ref))
            continue
        base = _fetch_fields(spec, result, raw_ref)
        try:
            article = parse_article(
                result.body, result.final_url or result.url, spec.outlet, headers=result.headers
            )
        except ParseError as exc:
            counts["parse_failed"] += 1
            log.info("quarantined %s: %s", result.url, exc)
            quarantine.append(
                {**base, "url": result.url, "failed_checks": [f"parse:{exc.reason}"],
                 "parser": refused_by,
                 # the date the refused page gives (its own offset in, UTC out)
                 "published_at": (exc.published_at.astimezone(dt.UTC)
                                  if exc.published_at is not None else None),
                 "published_at_source": exc.published_at_source}
            )
            continue
        except Exception as exc:  # a parser bug must cost one page, not the chunk
            counts["parse_crashed"] += 1
            log.error("parser crashed on %s:\n%s", result.url, traceback.format_exc())
            quarantine.append(
                {**base, "url": result.url, "parser": refused_by,
                 "failed_checks": [f"parse:exception:{type(exc).__name__}"]}
            )
            continue
        article.outlet = spec.outlet.id
        for key in ("fetched_url", "http_status", "fetched_at", "run_id"):
            setattr(article, key, base[key])
        # No date on the page: the discovery source's, before validation quarantines it.
        if source_dates.fill(article, dates, result.url, article.url):
            counts["dated_by_discovery"] += 1
        row = article.to_row()
        row["raw_ref"] = base["raw_ref"]
        row["requested_url"] = result.url
        published = article.published_at
        if published is not None and not window_start <= published < window_end:
            moved.append(row)
            continue
        parsers[article.parser] += 1
        counts["parsed"] += 1
        rows.append(row)
    # An article dated outside the day is left to its own day, unless the day's partition
    # holds it already (its date was edited since): then quarantine says where it went.
    held = _held_urls(spec) if moved else set()
    for row in moved:
        if row["url"] in held:
            counts["moved_out_of_window"] += 1
            quarantine.append({**row, "failed_checks": ["out_of_window"]})
        else:
            counts["out_of_window"] += 1
            out_of_window.append(row["url"])

    stem = _basename(warc_path).removesuffix(".warc.gz")
    parsed_path = _stage(spec, "parsed", f"{stem}.parquet")
    candidate_schema = CANDIDATE_FILE_SCHEMA  # all nullable: validation decides
    lake.write_parquet(rows_to_table(rows, candidate_schema), parsed_path, sort_by=None,
                       storage=spec.storage)
    quarantine_path = _stage(spec, "parsed", f"{stem}.quarantine.parquet")
    lake.write_parquet(rows_to_table(quarantine, QUARANTINE_FILE_SCHEMA), quarantine_path, None,
                       storage=spec.storage)
    log.info("parsed %s: %s", _basename(warc_path), dict(counts))
    return Parsed(rows=parsed_path, quarantine=quarantine_path, counts=dict(counts),
                  parsers=dict(parsers), out_of_window=out_of_window,
                  seconds=round(time.monotonic() - started, 3))


def _concat(spec: RunSpec, paths: list[str]) -> pa.Table:
    tables = [lake.read_parquet(p, QUARANTINE_FILE_SCHEMA, spec.storage) for p in paths]
    if not tables:
        return QUARANTINE_FILE_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def _gate_figures(
    counts: Counter[str], *, written: int, refused: int, duplicates: int,
    duplicate_content: int,
) -> dict[str, float | None]:
    """The batch gate's figures, each over what it is about. The shares of quarantined and
    duplicate rows judge what the parser and validation did to the pages that were
    fetched (``pages_judged``); what the web did before that is counted apart: robots.txt
    skips (no request: not judged at all), HTTP errors and network failures (their share
    of ``pages_requested`` is ``fetch_failure_share``, with its own threshold)."""
    robots = counts.get(f"fetch_error:{ERR_ROBOTS}", 0)
    http_errors = sum(n for key, n in counts.items() if key.startswith("fetch_error:http_"))
    network = counts.get("fetch_failed", 0) - robots - http_errors
    requested = counts.get("responses", 0) - robots
    parse_refused = counts.get("parse_failed", 0) + counts.get("parse_crashed", 0)
    judged = written + parse_refused + refused
    return {
        "quarantine_share": round((parse_refused + refused) / judged, 4) if judged else 0.0,
        "duplicate_share": round((duplicates + duplicate_content) / (judged + duplicates), 4)
        if judged + duplicates else 0.0,
        "fetch_failure_share": round((http_errors + network) / requested, 4)
        if requested else 0.0,
        "pages_judged": judged,
        "pages_requested": requested,
        "robots_skipped": robots,
        "http_errors": http_errors,
        "network_errors": network,
    }


def _history_uri(spec: RunSpec, zone: str) -> str:
    """The day's file of a zone that only grows (``revisions/``, ``aliases/``)."""
    return lake.join(lake.partition_uri(spec.lake, zone, spec.outlet.id, spec.day),
                     lake.PARQUET_FILE)


def _revise(
    spec: RunSpec, candidates: DayRows, good: list[int],
    renames: Mapping[str, Mapping[str, Any]],
) -> tuple[DayRows, pa.Table, int]:
    """Revision numbers for the ``good`` rows, what the day's revisions zone must hold,
    and how many rows are a new revision.

    A good row whose ``article_id`` the published partition holds keeps its revision when
    the text is the same, or when another parser made it (a re-derivation, not an edit);
    a changed text by the same parser is the next revision (``modified_at`` then falls
    back to when it was fetched, and is kept while the text stays), and the published
    row goes to revisions/. The revisions zone only grows: its rows, then the rows
    superseded now. A renamed article (``renames``: new id → the published row) is
    compared with its published row under its old id, which a superseded row keeps."""
    revisions = ARTICLE_FILE_SCHEMA.empty_table()
    published_revisions = _history_uri(spec, lake.REVISIONS)
    if lake.exists(published_revisions, spec.storage):
        revisions = lake.read_parquet(published_revisions, ARTICLE_FILE_SCHEMA, spec.storage)
    published = _published_articles(spec)
    if not lake.exists(published, spec.storage):
        return candidates, revisions, 0
    names = lake.parquet_schema(published, spec.storage).names
    keys = ["article_id", "content_hash", "parser"]
    old = lake.read_parquet(published, storage=spec.storage, columns=[
        *keys, "modified_at", *(["revision"] if "revision" in names else [])])
    before = {row["article_id"]: row for row in old.to_pylist()}
    table = candidates.table
    numbers = table.column("revision").to_pylist()
    modified = table.column("modified_at").to_pylist()
    changed: list[str] = []
    rows = table.select([*keys, "fetched_at"]).to_pylist()
    for i in good:
        renamed = renames.get(rows[i]["article_id"])
        earlier = before.get(renamed["article_id"] if renamed else rows[i]["article_id"])
        if earlier is None:
            continue
        numbers[i] = earlier.get("revision") or 1
        if rows[i]["content_hash"] != earlier["content_hash"] and (
                rows[i]["parser"] == earlier["parser"]):
            numbers[i] += 1
            modified[i] = modified[i] or rows[i]["fetched_at"]
            changed.append(earlier["article_id"])
        else:
            modified[i] = modified[i] or earlier["modified_at"]
    table = table.set_column(table.schema.get_field_index("revision"), "revision",
                             pa.array(numbers, pa.int16()))
    table = table.set_column(table.schema.get_field_index("modified_at"), "modified_at",
                             pa.array(modified, table.schema.field("modified_at").type))
    if changed:
        superseded = lake.read_parquet(published, storage=spec.storage,
                                       rows_with=("article_id", changed))
        if "revision" not in superseded.column_names:
            superseded = superseded.append_column(
                "revision", pa.array([1] * superseded.num_rows, pa.int16()))
        revisions = pa.concat_tables(
            [revisions, superseded.select(ARTICLE_FILE_SCHEMA.names).cast(ARTICLE_FILE_SCHEMA)])
    revised = DayRows(table, candidates.paths, candidates.schema, candidates.storage)
    return revised, revisions, len(changed)


def _page_ids(spec: RunSpec, parsed_paths: list[str]) -> dict[str, str | None]:
    """The ``article_id`` each page of the day's candidate rows now has, by the URLs it
    was fetched at (``fetched_url``) and requested by: every candidate row, before
    duplicates are dropped. None for a URL that gave two ids (no rename is read from it)."""
    ids: dict[str, str | None] = {}
    for path in parsed_paths:
        table = lake.read_parquet(path, CANDIDATE_FILE_SCHEMA, spec.storage,
                                  columns=["article_id", "fetched_url", "requested_url"])
        for row in table.to_pylist():
            article_id = row["article_id"]
            for url in (row["fetched_url"], row["requested_url"]):
                if url and article_id:
                    ids[url] = article_id if ids.get(url, article_id) == article_id else None
    return ids


def _renames(
    spec: RunSpec, page_ids: Mapping[str, str | None], good_ids: set[str]
) -> dict[str, dict[str, Any]]:
    """The published articles whose page now names another canonical URL: new
    ``article_id`` → the published row (``article_id``, ``url``, ``fetched_url``).

    A published article is renamed when no good row keeps its id and a good row comes
    from its page: fetched or requested at its ``fetched_url`` or its ``url``. The new id
    must be new to the day: a page that now names another article of the day (two
    articles merged) is no rename, and publish refuses to drop it (``ShrinkError``)."""
    published = _published_articles(spec)
    if not lake.exists(published, spec.storage):
        return {}
    before = lake.read_parquet(published, storage=spec.storage,
                               columns=["article_id", "url", "fetched_url"]).to_pylist()
    held = {row["article_id"] for row in before}
    renames: dict[str, dict[str, Any]] = {}
    for row in before:
        if row["article_id"] in good_ids:
            continue
        for url in (row["fetched_url"], row["url"]):
            new = page_ids.get(url)
            if new is not None and new in good_ids and new not in held and new not in renames:
                renames[new] = row
                break
    return renames


def _aliases(
    spec: RunSpec, renames: Mapping[str, Mapping[str, Any]],
    current: Mapping[str, tuple[str, dt.datetime]],
) -> pa.Table:
    """What the day's ``aliases/`` partition must hold: its rows, each pointed at its
    article's id now (an alias of an article renamed again follows it), less those whose
    old id is an article's id again; then the ``renames`` found now. ``current``: the
    good rows' ``url`` and ``fetched_at`` by ``article_id``."""
    rows: list[dict[str, Any]] = []
    published = _history_uri(spec, lake.ALIASES)
    if lake.exists(published, spec.storage):
        rows = lake.read_parquet(published, ALIAS_SCHEMA, spec.storage).to_pylist()
    moved = {old["article_id"]: new for new, old in renames.items()}
    out: list[dict[str, Any]] = []
    for row in rows:
        if row["old_article_id"] in current:  # the page went back to that URL
            continue
        if (target := moved.get(row["article_id"])) is not None:
            row = {**row, "article_id": target, "url": current[target][0]}
        out.append(row)
    for new, old in renames.items():
        url, seen = current[new]
        out.append({"old_article_id": old["article_id"], "old_url": old["url"],
                    "article_id": new, "url": url, "renamed_at": seen, "run_id": spec.run_id})
    return rows_to_table(sorted(out, key=lambda r: (r["old_url"], r["old_article_id"])),
                         ALIAS_SCHEMA)


def staged_summary(spec: RunSpec) -> str:
    """Where ``validate_step`` stages the run's validation summary when the batch passes
    (``Validated.summary`` names it; a failed batch's is in its ``_runs/`` evidence)."""
    return _stage(spec, "out", "validation.json")


def validate_step(spec: RunSpec, parsed: Sequence[Parsed]) -> Validated:
    """Run the GX suites over the day's rows; split good from bad, staged for publish;
    return where the summary is, and its counts.

    Duplicate URLs (same ``article_id``) keep their first row; the others are counted.
    Duplicate text (same ``content_hash``) keeps its first row; the others are quarantined
    as ``duplicate_content``. Raises ``BatchValidationError`` when a batch-level check fails.
    """
    started = time.monotonic()
    # In the chunks' order (their files are numbered).
    stats = sorted(parsed, key=lambda p: p["rows"])
    # The bodies stay in the parsed files until the rows are written (see DayRows).
    candidates = DayRows.read([s["rows"] for s in stats], QUARANTINE_FILE_SCHEMA,
                              spec.storage)
    page_ids = _page_ids(spec, [s["rows"] for s in stats])
    early_quarantine = _concat(spec, [s["quarantine"] for s in stats])

    frame = validation_frame(candidates.columns())
    duplicate = frame["article_id"].duplicated(keep="first") if len(frame) else pd.Series([])
    duplicates = int(duplicate.sum()) if len(frame) else 0
    if duplicates:
        candidates = candidates.filter(pa.array(~duplicate.to_numpy(dtype=bool)))
        frame = frame[~duplicate].reset_index(drop=True)

    fetched_max = max(
        (t for t in frame["fetched_at"] if t is not None and not pd.isna(t)), default=None
    ) if len(frame) else None
    published_max = pd.Timestamp(fetched_max or dt.datetime.now(dt.UTC)) + pd.Timedelta(days=1)
    report = validate_rows(frame, spec.outlet, published_max=published_max.to_pydatetime())
    # The same text under two URLs (syndication, an AMP copy, a moved page) is one article:
    # the first passing row keeps it, later copies go to quarantine, named as such.
    seen_hashes: set[str] = set()
    for i, digest in enumerate(frame["content_hash"] if len(frame) else []):
        if i in report.failed_rows or not isinstance(digest, str):
            continue
        if digest in seen_hashes:
            report.failed_rows[i] = ["duplicate_content"]
        seen_hashes.add(digest)

    good_idx = [i for i in range(len(frame)) if i not in report.failed_rows]
    bad_idx = sorted(report.failed_rows)
    # The good rows in the partition's order, found on the light frame: their bodies are
    # read back a row group at a time when written.
    good_rows = frame.iloc[good_idx]
    good_order = good_rows.sort_values(["published_at", "url"], kind="stable").index
    written = len(good_idx)
    bad = candidates.take(bad_idx)
    bad = bad.set_column(
        bad.schema.get_field_index("failed_checks"), "failed_checks",
        pa.array([report.failed_rows[i] for i in bad_idx], type=pa.list_(pa.string())),
    )
    quarantined = pa.concat_tables([early_quarantine, bad])

    total = written + quarantined.num_rows
    duplicate_content = sum(c == ["duplicate_content"] for c in report.failed_rows.values())
    recent_runs = _recent_manifests(
        spec, max(RECENT_DAYS, spec.outlet.validation.drift.baseline_days))
    recent = _recent_written(recent_runs)
    profile, drifted = _drift(spec, frame, [s["rows"] for s in stats], recent_runs)
    counts: Counter[str] = Counter()
    parsers: Counter[str] = Counter()
    for s in stats:
        counts.update(s["counts"])
        parsers.update(s["parsers"])
    summary: dict[str, float | None] = {
        "candidates": total,
        "duplicate_article_ids": written - good_rows["article_id"].nunique(),
        **_gate_figures(counts, written=written, refused=len(bad_idx), duplicates=duplicates,
                        duplicate_content=duplicate_content),
        "recent_median_written": recent,
        "written_vs_recent": round(written / recent, 4) if recent else None,
        **drifted.scores,
    }
    details = {c: m for c in drift.CHECKS if (m := drifted.message(c))}
    batch = validate_batch(summary, spec.outlet, details)
    if drifted.not_judged:
        batch.not_judged.append(f"drift checks ({drifted.not_judged})")
    for warning in batch.batch_warnings:
        log.warning("%s %s: batch check only warns: %s", spec.outlet.id, spec.day, warning)
    for skipped in batch.not_judged:
        log.info("%s %s: batch share not judged: %s", spec.outlet.id, spec.day, skipped)

    # A published article whose page now names another canonical URL keeps one row, under
    # its new id; aliases/ keeps the old one (docs/decisions.md: "A moved canonical URL").
    current = {aid: (url, pd.Timestamp(seen).to_pydatetime()) for aid, url, seen in zip(
        good_rows["article_id"], good_rows["url"], good_rows["fetched_at"], strict=True)}
    renames = _renames(spec, page_ids, set(current))
    aliases = _aliases(spec, renames, current)
    for new, old in renames.items():
        log.info("%s %s: %s is now %s (canonical URL moved): one row, under its new id; "
                 "the old id is in aliases/", spec.outlet.id, spec.day, old["url"],
                 current[new][0])
    candidates, revisions, revised = _revise(spec, candidates, good_idx, renames)
    check_counts = Counter(c for checks in report.failed_rows.values() for c in checks)
    validation = {
        "run_id": spec.run_id,
        "counts": dict(counts),
        "parsers": dict(parsers),
        "duplicates": duplicates,
        "written": written,
        "quarantined": quarantined.num_rows,
        "quarantined_by_validation": len(bad_idx),
        "revised": revised,
        "revisions": revisions.num_rows,
        "renamed": len(renames),
        "aliases": aliases.num_rows,
        "failed_checks": dict(check_counts),
        "batch": summary,
        "batch_failures": batch.batch_failures,
        "batch_warnings": batch.batch_warnings,
        "batch_not_judged": batch.not_judged,
        "profile": profile,
        "drift_baseline_days": drifted.baseline_days,
        "drift": {c: [vars(f) for f in found if f.drifted]
                  for c, found in drifted.findings.items() if any(f.drifted for f in found)},
        "seconds": round(time.monotonic() - started, 3),
        "parse_seconds": round(sum(s["seconds"] for s in stats), 3),
    }
    # The GX evidence goes to the lake at once, so that a failed batch keeps it too.
    lake.write_json(
        lake.validation_uri(spec.lake, spec.outlet.id, spec.day, spec.run_id),
        {"summary": validation, **report.results, **batch.results},
        spec.storage,
    )
    log.info(
        "validated %s %s: %d good, %d quarantined (%s), %d duplicate URLs dropped",
        spec.outlet.id, spec.day, written, quarantined.num_rows, dict(check_counts),
        duplicates,
    )
    # A rejected batch stages no output: its staging keeps only what clearing validate
    # needs (the fetched WARCs and the parsed chunks; the evidence is in _runs/), and an
    # attempt's outputs replace the earlier attempt's whole.
    lake.remove_tree(_stage(spec, "out"), spec.storage)
    if batch.batch_failures:
        raise BatchValidationError(
            f"{spec.outlet.id} {spec.day}: batch checks failed: "
            + "; ".join(batch.batch_failures)
        )
    lake.write_parquet_groups(
        (rows.select(ARTICLE_FILE_SCHEMA.names)
         for rows in candidates.row_groups(good_order.tolist())),
        ARTICLE_FILE_SCHEMA, _stage(spec, "out", "articles", lake.PARQUET_FILE), spec.storage)
    if revisions.num_rows:
        lake.write_parquet(
            revisions.sort_by([("url", "ascending"), ("revision", "ascending")]),
            _stage(spec, "out", lake.REVISIONS, lake.PARQUET_FILE), None, spec.storage)
    if aliases.num_rows:
        lake.write_parquet(aliases, _stage(spec, "out", lake.ALIASES, lake.PARQUET_FILE),
                           None, spec.storage)
    lake.write_parquet(quarantined, _stage(spec, "out", "quarantine", lake.PARQUET_FILE),
                       storage=spec.storage)
    summary_path = staged_summary(spec)
    lake.write_json(summary_path, validation, spec.storage)
    return Validated(summary=summary_path, written=written, quarantined=quarantined.num_rows)


def _counts_under(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    """The counts named ``<prefix>:<name>``, by name."""
    return {key.split(":", 1)[1]: n for key, n in sorted(counts.items())
            if key.startswith(f"{prefix}:")}


# A ShrinkError names at most this many of the articles that would leave.
SHRINK_EXAMPLES = 10


def _staged_aliases(spec: RunSpec) -> list[dict[str, Any]]:
    staged = _stage(spec, "out", lake.ALIASES, lake.PARQUET_FILE)
    if not lake.exists(staged, spec.storage):
        return []
    return lake.read_parquet(staged, storage=spec.storage,
                             columns=["old_article_id", "article_id"]).to_pylist()


def _check_nothing_leaves(spec: RunSpec) -> None:
    """Raise ``ShrinkError`` when an article of the published partition is neither in the
    staged one nor explained by a staged quarantine row (same ``article_id``, ``url`` or
    ``fetched_url``) or a staged alias (its page now has another canonical URL, whose row
    the staged partition holds): a rerun only adds knowledge, whatever its discovery or
    raw input."""
    published = _published_articles(spec)
    if not lake.exists(published, spec.storage):
        return
    keys = ["article_id", "url", "fetched_url"]
    before = lake.read_parquet(published, storage=spec.storage, columns=keys).to_pylist()
    staged = lake.read_parquet(_stage(spec, "out", "articles", lake.PARQUET_FILE),
                               storage=spec.storage, columns=["article_id"])
    why = lake.read_parquet(_stage(spec, "out", "quarantine", lake.PARQUET_FILE),
                            storage=spec.storage, columns=keys).to_pylist()
    kept = set(staged.column("article_id").to_pylist())
    explained = {value for row in why for value in row.values() if value}
    explained |= {row["old_article_id"] for row in _staged_aliases(spec)
                  if row["article_id"] in kept}
    leaving = [row for row in before if row["article_id"] not in kept
               and not explained.intersection(row.values())]
    if leaving:
        named = "; ".join(f"{row['article_id']} {row['url']}"
                          for row in leaving[:SHRINK_EXAMPLES])
        raise ShrinkError(
            f"{spec.outlet.id} {spec.day}: {len(leaving)} of {len(before)} published "
            f"articles would leave articles/ with no row in quarantine/ or aliases/ saying "
            f"why; nothing "
            f"is published, the partition stays as it was. Leaving: {named}"
            + (" …" if len(leaving) > SHRINK_EXAMPLES else "")
        )


def _check_history_kept(spec: RunSpec, zone: str, keys: list[str],
                        back_in_articles: bool = False) -> None:
    """Raise ``ShrinkError`` when a row (by ``keys``) of the published ``zone`` partition
    (``revisions/``, ``aliases/``: they only grow) is not in the staged one: another run
    (a revisit, an ingest rerun) published the day after this one read it, and publishing
    now would drop that run's row. ``back_in_articles``: a row whose first key is an
    article's id again in the staged articles may go (an alias whose page went back)."""
    published = _history_uri(spec, zone)
    if not lake.exists(published, spec.storage):
        return
    before = lake.read_parquet(published, storage=spec.storage, columns=keys).to_pylist()
    staged_uri = _stage(spec, "out", zone, lake.PARQUET_FILE)
    staged = (lake.read_parquet(staged_uri, storage=spec.storage, columns=keys).to_pylist()
              if lake.exists(staged_uri, spec.storage) else [])
    kept = {tuple(row.values()) for row in staged}
    if back_in_articles:
        kept.update((article_id,) for article_id in lake.read_parquet(
            _stage(spec, "out", "articles", lake.PARQUET_FILE), storage=spec.storage,
            columns=["article_id"]).column("article_id").to_pylist())
    missing = [row for row in before if tuple(row.values()) not in kept]
    if missing:
        raise ShrinkError(
            f"{spec.outlet.id} {spec.day}: {len(missing)} of {len(before)} rows of "
            f"{zone}/ would leave it (another run published the day since this one "
            f"validated it); nothing is published. Rerun the day.")


def publish_step(spec: RunSpec, validated: Validated, raw: Sequence[RawChunk],
                 discovery: Discovery, extra: Mapping[str, Any] | None = None,
                 ) -> dict[str, Any]:
    """Replace the day's partitions atomically and write the run manifest.

    Each zone partition is one file: the articles and quarantine Parquet written by
    ``validate_step``, and the ``raw`` chunks' WARCs concatenated into one
    (``lake.RAW_FILE``; every record is its own gzip member, so this is a valid WARC).
    They may also be snapshots of the raw zone's own files (a re-parse).
    ``discovery``: the figures of the run's discovery (a reparse's and a revisit's
    say what they read instead).

    First, the invariant that makes reruns only add knowledge: no article of the published
    partition may leave it unless a staged quarantine row says why or a staged alias
    names its new id (``ShrinkError`` otherwise, and nothing is published); no row may
    leave ``revisions/``, and no old id ``aliases/`` (unless it is an article's id again).
    ``extra``: more figures for the manifest (a revisit's)."""
    started = time.monotonic()
    _check_nothing_leaves(spec)
    _check_history_kept(spec, lake.REVISIONS, ["article_id", "revision"])
    _check_history_kept(spec, lake.ALIASES, ["old_article_id"], back_in_articles=True)
    validation = _read_json(spec, validated["summary"])
    fetch_errors = _counts_under(validation["counts"], "fetch_error")
    staged_raw = _stage(spec, "out", "raw", lake.RAW_FILE)
    # Sorted: chunk files are numbered, so the raw file's record order is the fetch order.
    warcs = sorted((r["warc"] for r in raw), key=_basename)
    raw_bytes = lake.concatenate(warcs, staged_raw, spec.storage)
    for zone in lake.ZONES:
        staged = _stage(spec, "out", zone, lake.ZONE_FILES[zone])
        lake.publish_partition(spec.lake, zone, spec.outlet.id, spec.day, staged, spec.storage)
    # Revisions only grow (validate_step staged the published ones and the new): a day has
    # a revisions partition from its first edit on.
    # So does aliases/, from a day's first rename on.
    for zone in (lake.REVISIONS, lake.ALIASES):
        staged = _stage(spec, "out", zone, lake.PARQUET_FILE)
        if lake.exists(staged, spec.storage):
            lake.publish_partition(spec.lake, zone, spec.outlet.id, spec.day, staged,
                                   spec.storage)
    manifest = {
        "outlet": spec.outlet.id,
        "date": spec.day.isoformat(),
        "run_id": spec.run_id,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "discovered": discovery["discovered"],
        "listed": discovery["listed"],
        "carried_forward": discovery["carried_forward"],
        "discovery_errors": discovery["errors"],
        "fetched": validation["counts"].get("responses", 0),
        "fetch_failed": validation["counts"].get("fetch_failed", 0),
        "parsed": validation["counts"].get("parsed", 0),
        "dated_by_discovery": validation["counts"].get("dated_by_discovery", 0),
        "parse_failed": validation["counts"].get("parse_failed", 0)
        + validation["counts"].get("parse_crashed", 0),
        "skipped_out_of_window": validation["counts"].get("out_of_window", 0),
        "moved_out_of_window": validation["counts"].get("moved_out_of_window", 0),
        "skipped_duplicate": validation["duplicates"],
        "written": validation["written"],
        "quarantined": validation["quarantined"],
        "revised": validation.get("revised", 0),
        "revisions": validation.get("revisions", 0),
        "renamed": validation.get("renamed", 0),
        "aliases": validation.get("aliases", 0),
        "failed_checks": validation["failed_checks"],
        "parsers": validation["parsers"],
        "batch": validation["batch"],
        "batch_warnings": validation["batch_warnings"],
        "profile": validation.get("profile"),
        "drift": validation.get("drift", {}),
        "validation_ref": _basename(
            lake.validation_uri(spec.lake, spec.outlet.id, spec.day, spec.run_id)
        ),
        "raw_bytes": raw_bytes,
        "fetch_errors": fetch_errors,
        "kept_previous": validation["counts"].get("kept_previous", 0),
        "kept_previous_after": _counts_under(validation["counts"], "kept_previous"),
        "skipped_robots": fetch_errors.get("robots_disallowed", 0),
        "seconds": {
            "discover": discovery["seconds"],
            "fetch": round(sum(r["seconds"] for r in raw), 3),
            "parse": validation.get("parse_seconds", 0.0),
            "validate": validation["seconds"],
            "publish": round(time.monotonic() - started, 3),
        },
        "schema_version": SCHEMA_VERSION,
        **(extra or {}),
    }
    lake.write_json(
        lake.manifest_uri(spec.lake, spec.outlet.id, spec.day, spec.run_id), manifest,
        spec.storage,
    )
    lake.remove_tree(spec.staging_uri, spec.storage)
    log.info(
        "published %s %s: %d articles, %d quarantined", spec.outlet.id, spec.day,
        manifest["written"], manifest["quarantined"],
    )
    return manifest


def run_day(spec: RunSpec) -> dict[str, Any]:
    """The whole outlet-day in one process: what the DAG does, without Airflow.

    A run that fails removes its staging (nothing retries it; the GX evidence of a
    rejected batch is in ``_runs/`` already) and raises."""
    try:
        discovered = discover_step(spec)
        fetched = [fetch_step(spec, chunk) for chunk in discovered["chunks"]]
        parsed = [parse_step(spec, raw) for raw in fetched]
        validated = validate_step(spec, parsed)
        return publish_step(spec, validated, fetched, discovered["discovery"])
    except BaseException:
        lake.remove_tree(spec.staging_uri, spec.storage)
        raise
