"""XML sitemaps: sitemap indexes followed to their ``urlset``s, filtered by date.

A child sitemap whose ``<lastmod>`` is older than the window cannot list anything published
in it, so it is not fetched: that keeps a backfill from reading a site's whole history.

An entry without a date (no ``news:publication_date``, no ``lastmod``) cannot say which day
it belongs to. It is kept only when the sitemap that lists it changed within the window
(its ``<lastmod>`` in the index, else its HTTP ``Last-Modified``): then it may be new on
this day. Otherwise it is dropped and counted as ``undated``: kept on every day, as it
once was, every run and every backfilled day refetched the site's whole undated list.

A sitemap may be 50 MB uncompressed (sitemaps.org), more than an outlet's ``max_bytes``
for a page: sitemaps are read up to ``MAX_SITEMAP_BYTES``.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from newslake.discover.documents import (
    Fetch,
    fetch_document,
    gunzip_if_needed,
    local_name,
    parse_date,
    parse_xml,
)
from newslake.discover.models import DayRun, Entry, PolledSource, SourceError
from newslake.urls import canonicalize_url

if TYPE_CHECKING:
    from newslake.fetch import Fetcher, FetchResult

# Index → sitemap is depth 1; big news sites nest one more level (index → yearly index →
# monthly sitemap). Deeper is a misconfiguration or a trap.
MAX_SITEMAP_DEPTH = 3
# Sitemaps fetched per source per day: at 1 request/s this bounds discovery to a few
# minutes even for an index without <lastmod> (which cannot be pruned).
MAX_SITEMAPS_PER_SOURCE = 200
# The sitemap protocol's cap on one file (uncompressed; a gzipped file is smaller).
MAX_SITEMAP_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class _Child:
    url: str
    lastmod: dt.datetime | None


def _text(element: Element, name: str) -> str | None:
    for child in element:
        if local_name(child.tag) == name:
            return (child.text or "").strip() or None
    return None


def _index_children(root: Element, tz: ZoneInfo) -> list[_Child]:
    return [
        _Child(loc, parse_date(_text(item, "lastmod"), tz))
        for item in root
        if local_name(item.tag) == "sitemap" and (loc := _text(item, "loc"))
    ]


def urlset_entries(root: Element, tz: ZoneInfo) -> list[Entry]:
    """``<url>`` entries; the window date is ``news:publication_date``, else ``lastmod``."""
    entries = []
    for item in root:
        if local_name(item.tag) != "url":
            continue
        loc = _text(item, "loc")
        if not loc:
            continue
        published = None
        for element in item.iter():
            if local_name(element.tag) == "publication_date":
                published = parse_date(element.text, tz)
                break
        lastmod = parse_date(_text(item, "lastmod"), tz)
        entries.append(Entry(loc, published or lastmod, published))
    return entries


def read_sitemap(body: bytes, url: str) -> Element:
    """The root of a (possibly gzipped) sitemap document, parsed safely."""
    root = parse_xml(gunzip_if_needed(body, url), url)
    if local_name(root.tag) not in ("urlset", "sitemapindex"):
        raise SourceError("not_a_sitemap", url, f"root element <{local_name(root.tag)}>")
    return root


def _changed_in(
    lastmod: dt.datetime | None, last_modified: str | None, tz: ZoneInfo,
    window: tuple[dt.datetime, dt.datetime],
) -> bool:
    changed = lastmod or parse_date(last_modified, tz)
    return changed is not None and window[0] <= changed < window[1]


def sitemap_entries(
    fetch: Fetch,
    root_url: str,
    window: tuple[dt.datetime, dt.datetime],
    tz: ZoneInfo,
    errors: list[dict[str, Any]],
    counts: dict[str, int] | None = None,
) -> list[Entry]:
    """Entries of the sitemap (or index) at ``root_url``, breadth first. A child that fails,
    loops back or lies too deep is appended to ``errors``; ``SourceError`` only when the root
    itself cannot be read. Undated entries of a sitemap that did not change in ``window``
    are dropped and counted in ``counts["undated"]``."""
    window_start = window[0]
    entries: list[Entry] = []
    queue: deque[tuple[str, int, dt.datetime | None]] = deque([(root_url, 0, None)])
    seen = {canonicalize_url(root_url)}
    fetched = 0
    while queue:
        url, depth, lastmod = queue.popleft()
        if fetched >= MAX_SITEMAPS_PER_SOURCE:
            left = len(queue) + 1
            errors.append(
                SourceError("sitemap_limit", url, f"{left} not fetched").as_dict("sitemap")
            )
            break
        fetched += 1
        try:
            result = fetch_document(fetch, url)
            assert result.body is not None
            root = read_sitemap(result.body, result.final_url)
        except SourceError as exc:
            if depth == 0:
                raise
            errors.append(exc.as_dict("sitemap"))
            continue
        if local_name(root.tag) == "urlset":
            listed = urlset_entries(root, tz)
            if not _changed_in(lastmod, result.header("Last-Modified"), tz, window):
                dated = [entry for entry in listed if entry.date is not None]
                if counts is not None:
                    counts["undated"] = counts.get("undated", 0) + len(listed) - len(dated)
                listed = dated
            entries.extend(listed)
            continue
        for child in _index_children(root, tz):
            if child.lastmod is not None and child.lastmod < window_start:
                continue  # unchanged since before the window: nothing of ours inside
            child_url = urljoin(result.final_url, child.url)
            key = canonicalize_url(child_url)
            if key in seen:
                errors.append(SourceError("sitemap_loop", child_url).as_dict("sitemap"))
                continue
            seen.add(key)
            if depth + 1 > MAX_SITEMAP_DEPTH:
                errors.append(SourceError("sitemap_too_deep", child_url).as_dict("sitemap"))
                continue
            queue.append((child_url, depth + 1, child.lastmod))
    return entries


class SitemapSource(PolledSource):
    """``type: sitemap``: a sitemap or sitemap index at ``url``."""

    type = "sitemap"

    def entries(self, run: DayRun) -> list[Entry]:
        assert self.config.url is not None
        fetcher = run.fetcher
        max_bytes = max(run.outlet.politeness.max_bytes, MAX_SITEMAP_BYTES)
        return sitemap_entries(
            lambda url: fetcher.fetch(url, max_bytes=max_bytes), self.config.url,
            run.window, run.outlet.tz, run.errors, run.counts)

    def read(
        self, document: FetchResult, fetcher: Fetcher, window: tuple[dt.datetime, dt.datetime],
        tz: ZoneInfo, errors: list[dict[str, Any]],
    ) -> list[Entry]:
        root = self.config.url
        assert root is not None

        def fetch(url: str) -> FetchResult:  # the root is the document just fetched
            return document if url == root else fetcher.fetch(url)

        return sitemap_entries(fetch, root, window, tz, errors)
