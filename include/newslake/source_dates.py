"""The discovery source's date, for a page that gives none.

A feed item's ``pubDate`` (``published``/``updated``) and a news sitemap's
``news:publication_date`` date the URL they list (``DiscoveredUrl.published_hint``; the
frontier records the same per URL). When ``parse_article`` finds no date on the page, the
pipeline takes that date before validation would quarantine the row as
``published_at_not_null``; ``published_at_source`` then says ``discovery:rss`` or
``discovery:sitemap`` (``SOURCES``). A sitemap's ``lastmod`` is an update time, not a
publication date, and is never used; nor are archive pages (a listing day, no time).

The dates travel with the run: ``discover_step`` writes, beside each URL chunk, the dates
of its URLs (``write``), the chunk's value names that file (``steps.Chunk.dates``, then
``steps.RawChunk.dates``), and ``parse_step`` reads it (``read``). A rerun or a reparse no
longer sees what a feed listed days ago, so the dates a published row took from discovery
are kept from the day's ``articles/`` partition (``from_partition``), and a reparse also
reads the frontier's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from newslake import lake
from newslake.discover.models import DiscoveredUrl
from newslake.lake import Storage
from newslake.record import Article

PREFIX = "discovery:"
# The discovery sources whose date is a publication date; their published_at_source.
SOURCES = {"rss": f"{PREFIX}rss", "sitemap": f"{PREFIX}sitemap"}


@dataclass(frozen=True)
class SourceDate:
    at: dt.datetime  # aware
    source: str  # a value of SOURCES


SourceDates = dict[str, SourceDate]


def from_discovered(urls: Iterable[DiscoveredUrl]) -> SourceDates:
    """The publication dates the sources gave, by URL (rss and sitemap only)."""
    found: SourceDates = {}
    for u in urls:
        source = SOURCES.get(u.hint_source or u.source)
        if u.published_hint is not None and source is not None:
            found[u.url] = SourceDate(u.published_hint, source)
    return found


def from_partition(lake_uri: str, outlet_id: str, day: dt.date,
                   storage: Storage = None) -> SourceDates:
    """The dates the day's published rows took from discovery, by ``url`` and
    ``fetched_url`` (a partition of schema_version 1 has none)."""
    location = lake.join(lake.partition_uri(lake_uri, "articles", outlet_id, day),
                         lake.PARQUET_FILE)
    if not lake.exists(location, storage):
        return {}
    if "published_at_source" not in lake.parquet_schema(location, storage).names:
        return {}
    rows = lake.read_parquet(
        location, storage=storage,
        columns=["url", "fetched_url", "published_at", "published_at_source"]).to_pylist()
    found: SourceDates = {}
    for row in rows:
        if row["published_at_source"] in SOURCES.values() and row["published_at"]:
            date = SourceDate(row["published_at"], row["published_at_source"])
            for url in (row["url"], row["fetched_url"]):
                if url:
                    found.setdefault(url, date)
    return found


def merged(*layers: Mapping[str, SourceDate]) -> SourceDates:
    """One mapping; for a URL in several, the first layer's date."""
    found: SourceDates = {}
    for layer in layers:
        for url, date in layer.items():
            found.setdefault(url, date)
    return found


def to_json(dates: Mapping[str, SourceDate], urls: Iterable[str] | None = None
            ) -> dict[str, Any]:
    """JSON-ready (``urls``: only those)."""
    keys = dates.keys() if urls is None else [u for u in urls if u in dates]
    return {u: [dates[u].at.isoformat(), dates[u].source] for u in keys}


def write(location: str, dates: Mapping[str, SourceDate], storage: Storage = None,
          urls: Iterable[str] | None = None) -> None:
    lake.write_json(location, to_json(dates, urls), storage)


def read(location: str, storage: Storage = None) -> SourceDates:
    """What ``write`` wrote."""
    data: dict[str, list[str]] = lake.read_json(location, storage)
    return {u: SourceDate(dt.datetime.fromisoformat(at), source)
            for u, (at, source) in data.items()}


def fill(article: Article, dates: Mapping[str, SourceDate], *urls: str) -> bool:
    """Give an undated ``article`` the discovery date of the first of ``urls`` (the URL
    requested, then the page's canonical URL) that has one; True when it did."""
    if article.published_at is not None:
        return False
    for url in urls:
        date = dates.get(url)
        if date is not None:
            article.published_at, article.published_at_source = date.at, date.source
            return True
    return False
