"""Discovery: which article URLs to fetch for one day of one outlet.

``discover(outlet, day)`` runs the outlet's sources in config order (RSS/Atom feeds,
sitemaps, date-archive pages, WARC files: one ``Source`` class each, found by type in
``registry.SOURCE_TYPES``) and merges what they list. For the run's data interval
``[day, day+1)`` UTC:

- feed items and sitemap entries are kept when their date lies in ``[day-1, day+2)`` or
  when they have none: generous on purpose, the exact cut happens after parsing, by
  ``published_at``;
- archive pages are read for each local date (``outlet.timezone``) overlapping the interval;
- WARC files (``warc``) give every archived page on the site: the parsed date decides;
  where each page's record lies is kept (``DiscoveryResult.archived``) for the fetch.

URLs are canonicalised, kept only when http(s) and on the outlet's host, de-duplicated
(the first source wins) and sorted. A source that fails is recorded in ``errors`` and the
others still run; when every source fails, ``DiscoveryError`` (a ``FetchError``) says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import requests

from newslake.config import DISCOVERY_TYPES, Outlet
from newslake.discover.models import DayRun, DiscoveredUrl, DiscoveryResult, SourceError
from newslake.discover.registry import source_for
from newslake.errors import DiscoveryError
from newslake.fetch import Fetcher
from newslake.raw import RecordRef
from newslake.urls import canonicalize_url

__all__ = ["DiscoveredUrl", "DiscoveryResult", "discover", "discovery_window"]

# Feeds and sitemaps list by publication or update time, in whatever zone the site uses:
# a day either side keeps every candidate; parsing then cuts exactly.
WINDOW_BEFORE = dt.timedelta(days=1)
WINDOW_AFTER = dt.timedelta(days=2)
WEB_SCHEMES = ("http", "https")


def discovery_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[day-1, day+2)`` in UTC: the dates a listed URL may carry to be kept."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start - WINDOW_BEFORE, start + WINDOW_AFTER


def _site_host(url: str) -> str:
    """The host without a leading ``www.``: ``www.x.com`` and ``x.com`` are one site."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def discover(
    outlet: Outlet, day: dt.date, session: requests.Session | None = None
) -> DiscoveryResult:
    """The URLs to fetch for ``day`` (the data interval ``[day, day+1)`` UTC) of ``outlet``.

    ``session`` is used for every request when given (the caller closes it); robots.txt,
    the rate limit, private-address refusal and the size cap apply either way."""
    if isinstance(day, dt.datetime):
        day = (day.astimezone(dt.UTC) if day.tzinfo else day).date()
    window_start, window_end = discovery_window(day)
    site = _site_host(outlet.base_url)
    counts = dict.fromkeys(DISCOVERY_TYPES, 0) | {
        "listed": 0,
        "duplicates": 0,
        "off_site": 0,
        "out_of_window": 0,
        "invalid": 0,
        "sources_failed": 0,
        "undated": 0,
    }
    errors: list[dict[str, Any]] = []
    failures: list[str] = []
    kept: dict[str, DiscoveredUrl] = {}
    archived: dict[str, RecordRef] = {}
    with Fetcher(outlet, session=session) as fetcher:
        run = DayRun(fetcher, outlet, day, (window_start, window_end), errors, counts)
        for source in outlet.discovery:
            try:
                entries = source_for(source).entries(run)
            except SourceError as exc:
                errors.append(exc.as_dict(source.type))
                failures.append(f"{source.type} {exc}")
                counts["sources_failed"] += 1
                continue
            for entry in entries:
                counts["listed"] += 1
                try:
                    url = canonicalize_url(entry.url)
                    parts = urlsplit(url)
                except ValueError:
                    counts["invalid"] += 1
                    continue
                if entry.record is not None:  # a page a warc source holds: first one wins
                    archived.setdefault(url, entry.record)
                if parts.scheme not in WEB_SCHEMES or not parts.hostname:
                    counts["invalid"] += 1
                elif _site_host(url) != site:
                    counts["off_site"] += 1
                elif entry.date is not None and not window_start <= entry.date < window_end:
                    counts["out_of_window"] += 1
                elif url in kept:
                    counts["duplicates"] += 1
                    if kept[url].published_hint is None and entry.published_hint is not None:
                        # the first source lists it undated, a later one gives its date
                        kept[url] = replace(kept[url], published_hint=entry.published_hint,
                                            hint_source=source.type)
                else:
                    kept[url] = DiscoveredUrl(url, source.type, entry.published_hint)
                    counts[source.type] = counts.get(source.type, 0) + 1
    if outlet.discovery and len(failures) == len(outlet.discovery):
        raise DiscoveryError(f"{outlet.id}: every discovery source failed: " + "; ".join(failures))
    urls = sorted(kept.values(), key=lambda found: found.url)
    counts["total"] = len(urls)
    counts["errors"] = len(errors)
    return DiscoveryResult(urls=urls, errors=errors, counts=counts, archived=archived)
