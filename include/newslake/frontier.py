"""The frontier: every article URL an outlet's feeds and sitemaps listed, polled all day.

A feed holds the latest 10–50 items and a news sitemap two days, so a daily run that reads
them after midnight misses most of a busy outlet's day. ``poll_outlet`` reads an outlet's
``rss`` and ``sitemap`` sources whenever they are due and records each URL the first time
it is listed; ``frontier_candidates`` gives the ingest of day D what was recorded for D.

Layout (one zone of the lake, any kind of lake)::

    <lake>/frontier/outlet=<id>/date=<YYYY-MM-DD>/poll-<time>-<digest>.parquet  new URLs
    <lake>/frontier/outlet=<id>/date=<YYYY-MM-DD>/part-00000.parquet            compacted
    <lake>/frontier/outlet=<id>/_state.json                            per-source polling state

``date`` is the UTC day of the source's own date for the URL (feed ``pubDate``/``updated``,
sitemap ``news:publication_date``/``lastmod``), or of ``first_seen`` when it gives none:
the same dates ``discover`` filters on, so day D's candidates lie in three partitions.
A URL is written once per partition: a poll (or a rerun of it) writes only URLs the
partition does not hold yet, and its file name is fixed by its time and contents.
Poll files of a partition are merged into ``part-00000.parquet`` once the day is two days
old or holds ``COMPACT_AT`` files (readers of the zone skip ``_state.json``: pyarrow and
DuckDB ignore files starting with ``_`` / not ending in ``.parquet``).

Politeness: the requests go through the outlet's ``Fetcher`` (robots.txt, rate limit,
private-address refusal, size cap); robots.txt is kept in the state for ``ROBOTS_TTL``.
Each poll is conditional (``If-None-Match`` / ``If-Modified-Since`` from the last
answer) and the body's SHA-256 is compared with the last one too: many servers send a
200 with an unchanged ETag for a changed feed, and many a new ETag for the same bytes.

Adaptive interval per source, as Media Cloud's feed fetcher does: it starts at the
source's ``poll_every`` (default 30 min), halves (down to ``FLOOR``, 10 min) after a poll
that found new URLs, drops to the floor at once when every listed URL was new (the feed
may have rolled over between polls), grows by half (up to ``CEILING``, 24 h) after a poll
that found none, and a failing source waits ``interval * 2**failures`` (up to the ceiling)
without changing what was learnt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import requests

from newslake import lake
from newslake.config import POLLED_TYPES, DiscoverySource, Outlet, load_outlet
from newslake.discover import DiscoveredUrl, DiscoveryResult, discovery_window
from newslake.discover.models import Entry, PolledSource, SourceError
from newslake.discover.registry import source_for
from newslake.fetch import Fetcher, FetchResult, make_session
from newslake.urls import canonicalize_url

log = logging.getLogger(__name__)

ZONE = "frontier"
STATE_FILE = "_state.json"
DEFAULT_POLL_EVERY = dt.timedelta(minutes=30)
FLOOR = dt.timedelta(minutes=10)
CEILING = dt.timedelta(hours=24)
SHRINK, GROW = 0.5, 1.5
# A source due within this much of "now" is polled now: a poll DAG on a 10-minute
# schedule would otherwise poll a 10-minute source every 20 minutes.
DUE_SLACK = dt.timedelta(minutes=2)
# URLs whose source date is older than this when first listed are left to the day's own
# discovery (sitemaps and archives keep them): it bounds the partitions a poll touches.
LOOKBACK = dt.timedelta(days=7)
AHEAD = dt.timedelta(days=1)
# A partition is compacted when it holds this many poll files, or is two days old.
COMPACT_AT = 24
# robots.txt is read again after this long (RFC 9309 §2.4: caching up to 24 hours).
ROBOTS_TTL = dt.timedelta(hours=24)
SETTLED = dt.timedelta(days=2)
WEB_SCHEMES = ("http", "https")
UTC_TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        pa.field("url", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),  # rss | sitemap
        pa.field("source_url", pa.string(), nullable=False),  # the feed or sitemap
        pa.field("source_date", UTC_TS),  # what the source dates the URL with, if anything
        pa.field("published_hint", UTC_TS),  # a real publication date from the source
        pa.field("first_seen", UTC_TS, nullable=False),  # the poll that first listed it
    ]
)
_DATE_RE = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})(?:/|$)")


# --------------------------------------------------------------------------- state


@dataclass
class SourceState:
    """What the frontier knows about one polled source (JSON in ``_state.json``)."""

    type: str
    interval_s: float
    next_due: str | None = None  # ISO time; None: due now
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None
    content_hash: str | None = None
    last_poll: str | None = None
    last_new: int = 0
    polls: int = 0
    successes: int = 0
    failures: int = 0  # consecutive
    last_error: str | None = None

    def due(self, now: dt.datetime) -> bool:
        return self.next_due is None or dt.datetime.fromisoformat(self.next_due) <= now + DUE_SLACK


@dataclass
class PollReport:
    """One outlet's poll, JSON-ready (``as_dict``) for XCom and the bench."""

    outlet: str
    polled: int = 0  # sources polled
    not_modified: int = 0  # 304 or the same bytes as last time
    listed: int = 0
    new_urls: int = 0
    requests: int = 0  # HTTP responses (robots.txt and redirects included)
    errors: list[dict[str, Any]] = field(default_factory=list)
    compacted: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def polled_sources(outlet: Outlet) -> list[DiscoverySource]:
    """The outlet's sources the frontier polls: rss and sitemap, unless ``poll_every: 0``."""
    return [s for s in outlet.discovery if s.type in POLLED_TYPES and s.poll_every != 0]


def _start_interval(source: DiscoverySource) -> dt.timedelta:
    if source.poll_every:
        return dt.timedelta(minutes=source.poll_every)
    return DEFAULT_POLL_EVERY


def outlet_uri(lake_root: str, outlet_id: str) -> str:
    return lake.join(lake.zone_uri(lake_root, ZONE), f"outlet={outlet_id}")


def state_uri(lake_root: str, outlet_id: str) -> str:
    return lake.join(outlet_uri(lake_root, outlet_id), STATE_FILE)


def _state_data(lake_root: str, outlet_id: str, storage: lake.Storage) -> dict[str, Any]:
    location = state_uri(lake_root, outlet_id)
    if not lake.exists(location, storage):
        return {}
    data: dict[str, Any] = lake.read_json(location, storage)
    return data


def read_state(
    lake_root: str, outlet_id: str, storage: lake.Storage = None
) -> dict[str, SourceState]:
    """Per source URL, what the last polls left; empty before the first poll."""
    sources = _state_data(lake_root, outlet_id, storage).get("sources", {})
    return {url: SourceState(**fields) for url, fields in sources.items()}


def _config_digest(path: str) -> str | None:
    """SHA-256 of a config file's bytes: a state written from the same file can be trusted
    to list the outlet's sources without parsing the YAML again."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _write_state(
    lake_root: str, outlet: Outlet, states: dict[str, SourceState], storage: lake.Storage,
    robots: dict[str, Any] | None = None,
) -> None:
    data = {"config": _config_digest(outlet.source_path) if outlet.source_path else None,
            "sources": {url: asdict(s) for url, s in sorted(states.items())},
            "robots": robots}
    lake.write_json(state_uri(lake_root, outlet.id), data, storage)


def _fresh_robots(data: dict[str, Any], now: dt.datetime) -> dict[str, str]:
    """The robots.txt texts the state keeps, while younger than ``ROBOTS_TTL``."""
    robots = data.get("robots") or {}
    read_at = robots.get("read_at")
    if not read_at or now - dt.datetime.fromisoformat(read_at) >= ROBOTS_TTL:
        return {}
    return dict(robots.get("texts", {}))


def _quiet(path: str, lake_root: str, now: dt.datetime, storage: lake.Storage) -> bool:
    """Whether the outlet of config file ``path`` has nothing due at ``now``, known from its
    state alone (written from the same config bytes): then the YAML is not even read, so
    a run costs a quiet outlet two small reads."""
    data = _state_data(lake_root, Path(path).stem, storage)
    if not data or data.get("config") is None or data["config"] != _config_digest(path):
        return False
    return not any(SourceState(**fields).due(now) for fields in data["sources"].values())


def next_interval(state: SourceState, new: int, listed: int) -> float:
    """The source's next interval in seconds after a successful poll (see the module doc)."""
    current = dt.timedelta(seconds=state.interval_s)
    if new == 0:
        chosen = min(CEILING, current * GROW)
    elif new >= listed and state.successes > 0:
        chosen = FLOOR  # nothing it listed was known: items may have rolled over unseen
    else:
        chosen = max(FLOOR, current * SHRINK)
    return chosen.total_seconds()


def _failure_delay(state: SourceState) -> dt.timedelta:
    return min(CEILING, dt.timedelta(seconds=state.interval_s) * 2 ** state.failures)


# --------------------------------------------------------------------------- files


def _location(root: str, info_path: str) -> str:
    return lake.S3_SCHEME + info_path if lake.is_s3(root) else info_path


def _partition_files(
    lake_root: str, outlet_id: str, storage: lake.Storage
) -> dict[dt.date, list[str]]:
    """The outlet's frontier Parquet files by partition date (one listing)."""
    root = outlet_uri(lake_root, outlet_id)
    found: dict[dt.date, list[str]] = defaultdict(list)
    for info in lake.list_files(root, storage):
        match = _DATE_RE.search(info.path)
        if match and info.base_name.endswith(".parquet") and not info.base_name.startswith("."):
            found[dt.date.fromisoformat(match.group(1))].append(_location(root, info.path))
    return {day: sorted(paths) for day, paths in found.items()}


def _read(paths: Iterable[str], storage: lake.Storage) -> pa.Table:
    tables = [lake.read_parquet(p, SCHEMA, storage) for p in paths]
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()


def _first_sightings(table: pa.Table) -> pa.Table:
    """One row per URL: the earliest sighting (a crash between a compaction's write and
    its deletes, or two pollers at once, may leave a URL twice)."""
    if table.num_rows == 0:
        return table
    table = table.sort_by([("first_seen", "ascending"), ("url", "ascending")])
    urls = table.column("url").to_pylist()
    seen: set[str] = set()
    keep = [not (u in seen or seen.add(u)) for u in urls]  # type: ignore[func-returns-value]
    return table.filter(pa.array(keep))


def _partition_uri(lake_root: str, outlet_id: str, day: dt.date) -> str:
    return lake.partition_uri(lake_root, ZONE, outlet_id, day)


def compact(
    lake_root: str, outlet_id: str, day: dt.date, paths: list[str], storage: lake.Storage = None
) -> None:
    """Merge a partition's files into ``part-00000.parquet``, then delete the others."""
    target = lake.join(_partition_uri(lake_root, outlet_id, day), lake.PARQUET_FILE)
    merged = _first_sightings(_read(paths, storage))
    lake.write_parquet(merged, target, sort_by="first_seen", storage=storage)
    for path in paths:
        if path != target:
            fs, inner = lake.filesystem(path, storage)
            fs.delete_file(inner)


# --------------------------------------------------------------------------- polling


def _utc(moment: dt.datetime) -> dt.datetime:
    """A plain aware ``datetime`` in UTC: a pendulum ``DateTime`` (Airflow's context) loses
    its zone when a timedelta is subtracted from it."""
    return dt.datetime.fromisoformat(moment.astimezone(dt.UTC).isoformat())


def _day_of(entry_date: dt.datetime | None, first_seen: dt.datetime) -> dt.date:
    return (entry_date or first_seen).astimezone(dt.UTC).date()


def _site_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().removeprefix("www.")


def _previous(state: SourceState, url: str, now: dt.datetime) -> FetchResult | None:
    """The last answer's validators as a response ``Fetcher.fetch`` can revalidate."""
    headers = {k: v for k, v in (("ETag", state.etag), ("Last-Modified", state.last_modified)) if v}
    if not headers:
        return None
    return FetchResult(url, state.final_url or url, 200, headers, b"", now)


def _poll_source(
    fetcher: Fetcher, source: DiscoverySource, state: SourceState, outlet: Outlet,
    now: dt.datetime, errors: list[dict[str, Any]],
) -> list[Entry] | None:
    """The entries the source lists now; None when it has not changed since the last poll.
    Raises ``SourceError`` when it cannot be read."""
    assert source.url is not None
    kind = source_for(source)
    if not isinstance(kind, PolledSource):
        raise SourceError("not_polled", source.url, source.type)
    result = fetcher.fetch(source.url, previous=_previous(state, source.url, now))
    if result.reused_from is not None:
        return None
    if result.error is not None or result.body is None:
        raise SourceError(result.error_slug or "no_body", source.url, str(result.error or ""))
    state.etag, state.last_modified = result.header("ETag"), result.header("Last-Modified")
    state.final_url = result.final_url
    digest = hashlib.sha256(result.body).hexdigest()
    if digest == state.content_hash:
        return None
    entries = kind.read(result, fetcher, (now - LOOKBACK, now + AHEAD), outlet.tz, errors)
    state.content_hash = digest  # only once it was read: a bad document is read again
    return entries


def _rows(
    source: DiscoverySource, entries: list[Entry], site: str, now: dt.datetime
) -> list[dict[str, Any]]:
    """The entries worth keeping as frontier rows: canonical, on the site, recent."""
    rows = []
    for entry in entries:
        try:
            url = canonicalize_url(entry.url)
            parts = urlsplit(url)
        except ValueError:
            continue
        if parts.scheme not in WEB_SCHEMES or not parts.hostname or _site_host(url) != site:
            continue
        if entry.date is not None and not now - LOOKBACK <= entry.date < now + AHEAD:
            continue
        rows.append({
            "url": url, "source": source.type, "source_url": source.url,
            "source_date": entry.date, "published_hint": entry.published_hint,
            "first_seen": now,
        })
    return rows


def poll_outlet(
    outlet: Outlet,
    lake_root: str,
    now: dt.datetime,
    storage: lake.Storage = None,
    *,
    force: bool = False,
) -> PollReport:
    """Poll the outlet's due sources once (all of them with ``force``), record the URLs
    they list for the first time, update each source's interval; never raises for a
    source that fails (it is in ``errors`` and backs off)."""
    started = time.monotonic()
    now = _utc(now)
    report = PollReport(outlet.id)
    sources = polled_sources(outlet)
    data = _state_data(lake_root, outlet.id, storage)
    known = {url: SourceState(**fields) for url, fields in data.get("sources", {}).items()}
    states = {  # the sources the config lists now, each with what is known of it
        str(s.url): known.get(str(s.url))
        or SourceState(s.type, _start_interval(s).total_seconds())
        for s in sources
    }
    due = [s for s in sources if force or states[str(s.url)].due(now)]
    if not due:
        if outlet.source_path and data.get("config") != _config_digest(outlet.source_path):
            _write_state(lake_root, outlet, states, storage, data.get("robots"))  # new config
        report.seconds = round(time.monotonic() - started, 3)
        return report
    session = make_session(outlet)
    responses = 0

    def count(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        nonlocal responses
        responses += 1

    session.hooks["response"].append(count)
    listed: dict[str, list[dict[str, Any]]] = {}
    robots = data.get("robots")
    try:
        with Fetcher(outlet, session=session, robots_txt=_fresh_robots(data, now)) as fetcher:
            for source in due:
                state = states[str(source.url)]
                state.polls += 1
                state.last_poll = now.isoformat()
                report.polled += 1
                try:
                    entries = _poll_source(fetcher, source, state, outlet, now, report.errors)
                except SourceError as exc:
                    report.errors.append(exc.as_dict(source.type))
                    state.failures += 1
                    state.last_error = str(exc)
                    state.next_due = (now + _failure_delay(state)).isoformat()
                    continue
                state.failures, state.last_error = 0, None
                if entries is None:
                    report.not_modified += 1
                    listed[str(source.url)] = []
                else:
                    listed[str(source.url)] = _rows(source, entries, _site_host(outlet.base_url),
                                                    now)
            if fetcher.robots_read:
                robots = {"read_at": now.isoformat(), "texts": fetcher.robots_read}
    finally:
        session.close()
    report.requests = responses
    report.new_urls, new_by_source = _record(lake_root, outlet.id, listed, now, storage)
    for url, rows in listed.items():
        state = states[url]
        report.listed += len(rows)
        state.last_new = new_by_source.get(url, 0)
        state.interval_s = next_interval(state, state.last_new, len(rows))
        state.successes += 1
        state.next_due = (now + dt.timedelta(seconds=state.interval_s)).isoformat()
    _write_state(lake_root, outlet, states, storage, robots)
    report.compacted = _compact_due(lake_root, outlet.id, now, storage)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _record(
    lake_root: str, outlet_id: str, listed: dict[str, list[dict[str, Any]]],
    now: dt.datetime, storage: lake.Storage,
) -> tuple[int, dict[str, int]]:
    """Write the URLs no partition holds yet, one poll file per partition; return how
    many were new, in all and per source (a URL two sources list is new for both)."""
    by_day: dict[dt.date, dict[str, dict[str, Any]]] = defaultdict(dict)
    for rows in listed.values():
        for row in rows:
            by_day[_day_of(row["source_date"], now)].setdefault(row["url"], row)
    if not by_day:
        return 0, {}
    files = _partition_files(lake_root, outlet_id, storage)
    new_urls: set[str] = set()
    for day, rows_by_url in sorted(by_day.items()):
        known = set(_read(files.get(day, []), storage).column("url").to_pylist())
        fresh = [row for url, row in sorted(rows_by_url.items()) if url not in known]
        if not fresh:
            continue
        digest = hashlib.sha256("\n".join(r["url"] for r in fresh).encode()).hexdigest()[:12]
        name = f"poll-{now:%Y%m%dT%H%M%S}-{digest}.parquet"
        table = pa.Table.from_pylist(fresh, schema=SCHEMA)
        lake.write_parquet(table, lake.join(_partition_uri(lake_root, outlet_id, day), name),
                           sort_by="first_seen", storage=storage)
        new_urls.update(r["url"] for r in fresh)
    per_source = {
        source_url: sum(r["url"] in new_urls for r in rows) for source_url, rows in listed.items()
    }
    return len(new_urls), per_source


def _compact_due(lake_root: str, outlet_id: str, now: dt.datetime, storage: lake.Storage) -> int:
    """Compact partitions two days old with more than one file, and any with many."""
    settled = (now - SETTLED).date()
    done = 0
    for day, paths in _partition_files(lake_root, outlet_id, storage).items():
        loose = [p for p in paths if not p.endswith("/" + lake.PARQUET_FILE)]
        if loose and (day <= settled or len(loose) >= COMPACT_AT):
            compact(lake_root, outlet_id, day, paths, storage)
            done += 1
    return done


# --------------------------------------------------------------------------- ingest side


def frontier_rows(
    lake_root: str, outlet_id: str, day: dt.date, storage: lake.Storage = None
) -> pa.Table:
    """The frontier's rows for the discovery window of ``day`` (``discovery_window``):
    one per URL, dated by the source or else by when it was first seen."""
    window_start, window_end = discovery_window(day)
    files = _partition_files(lake_root, outlet_id, storage)
    paths = [p for d in (-1, 0, 1) for p in files.get(day + dt.timedelta(days=d), [])]
    table = _first_sightings(_read(paths, storage))
    if table.num_rows == 0:
        return table
    when = pc.coalesce(table.column("source_date"), table.column("first_seen"))
    start = pa.scalar(window_start, UTC_TS)
    end = pa.scalar(window_end, UTC_TS)
    mask = pc.and_(pc.greater_equal(when, start), pc.less(when, end))
    return table.filter(mask)


def frontier_candidates(
    lake_root: str, outlet: Outlet | str, day: dt.date, storage: lake.Storage = None
) -> list[DiscoveredUrl]:
    """The URLs the frontier recorded for the ingest of ``day``, sorted, with the source's
    publication date when it gave one (``source`` is ``frontier``)."""
    outlet_id = outlet if isinstance(outlet, str) else outlet.id
    rows = frontier_rows(lake_root, outlet_id, day, storage).to_pylist()
    found = [DiscoveredUrl(r["url"], ZONE, r["published_hint"], r["source"]) for r in rows]
    return sorted(found, key=lambda u: u.url)


def with_frontier(result: DiscoveryResult, found: list[DiscoveredUrl]) -> DiscoveryResult:
    """``result`` plus the frontier's URLs it does not list (what the sources list at run
    time keeps its source); counted as ``frontier`` (recorded) and ``frontier_only``."""
    listed = {u.url for u in result.urls}
    added = [u for u in found if u.url not in listed]
    # A URL listed undated now keeps the date its source gave when the frontier saw it.
    dated = {u.url: u for u in found if u.published_hint is not None}
    kept = [replace(u, published_hint=dated[u.url].published_hint,
                    hint_source=dated[u.url].hint_source)
            if u.published_hint is None and u.url in dated else u for u in result.urls]
    urls = sorted([*kept, *added], key=lambda u: u.url)
    counts = {**result.counts, "frontier": len(found), "frontier_only": len(added),
              "total": len(urls)}
    return replace(result, urls=urls, counts=counts)


# --------------------------------------------------------------------------- many outlets


def poll_configs(
    paths: list[str],
    lake_root: str,
    now: dt.datetime,
    storage: lake.Storage = None,
    *,
    workers: int = 4,
    budget_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[dict[str, Any]]:
    """Poll the outlets whose config files are ``paths`` (a shard), ``workers`` at a time.

    One result a config: a ``PollReport`` as a dict, or ``{"outlet", "error"}`` for a
    config that does not load or a poll that crashed (the others go on), or
    ``{"outlet", "deferred": True}`` when ``budget_s`` ran out before its turn (its
    sources stay due for the next run)."""
    deadline = None if budget_s is None else clock() + budget_s
    now = _utc(now)

    def one(path: str) -> dict[str, Any]:
        name = Path(path).stem
        if deadline is not None and clock() > deadline:
            return {"outlet": name, "deferred": True}
        try:
            if _quiet(path, lake_root, now, storage):
                return {"outlet": name, "polled": 0}
            outlet = load_outlet(path)
            if not polled_sources(outlet):
                _write_state(lake_root, outlet, {}, storage)  # quiet until the file changes
                return {"outlet": outlet.id, "skipped": "no polled sources"}
            return poll_outlet(outlet, lake_root, now, storage).as_dict()
        except Exception as exc:  # one bad outlet must not stop the shard
            log.exception("frontier poll of %s failed", path)
            return {"outlet": name, "error": f"{type(exc).__name__}: {exc}"}

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="poll") as pool:
        return list(pool.map(one, paths))


def shards(paths: list[str], size: int) -> list[list[str]]:
    """``paths`` sorted and cut into chunks of ``size``: a stable outlet-to-shard mapping."""
    ordered = sorted(paths)
    return [ordered[i : i + size] for i in range(0, len(ordered), max(1, size))]
