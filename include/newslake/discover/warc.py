"""WARC files as a source: history that is gone from the live site, CC-NEWS, crawl exports.

A ``warc`` source names local WARC files by a glob, optionally per day
(``/data/cc-news/{date:%Y/%m/%d}/*.warc.gz``: the day's files, and the days either side,
since a crawl trails publication). Every ``response`` record on the outlet's site is a
candidate; as with the other sources, the parsed ``published_at`` decides the day. The
same records then stand in for the fetch (``archived_responses``): no request is made for
a page the archive holds.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Iterable, Iterator
from pathlib import Path

from newslake.config import DiscoverySource, Outlet
from newslake.discover.models import Entry, SourceError
from newslake.fetch import FetchResult
from newslake.raw import read_warc
from newslake.urls import canonicalize_url

# A crawl trails publication, and a UTC day spans two local dates: read the files of the
# day before and after too when the path is per day.
DAYS_AROUND = 1


def warc_paths(source: DiscoverySource, day: dt.date) -> list[Path]:
    """The WARC files a source names for ``day``, sorted; de-duplicated across days."""
    assert source.path is not None
    pattern = source.path
    if "{date" in pattern:
        days = [day + dt.timedelta(days=d) for d in range(-DAYS_AROUND, DAYS_AROUND + 1)]
        patterns = [pattern.format(date=d) for d in days]
    else:
        patterns = [pattern]
    found: set[Path] = set()
    for p in patterns:
        found.update(Path(match) for match in glob.glob(p))
    return sorted(found)


def _responses(paths: Iterable[Path]) -> Iterator[FetchResult]:
    for path in paths:
        yield from read_warc(path)


def warc_entries(source: DiscoverySource, day: dt.date) -> list[Entry]:
    """Every archived 2xx page of the source's files for ``day`` (site filtering is later)."""
    paths = warc_paths(source, day)
    if not paths:
        raise SourceError("no_warc_files", source.path or "", "no file matches the path")
    entries = []
    try:
        for result in _responses(paths):
            if result.status is not None and 200 <= result.status < 300 and result.body:
                entries.append(Entry(url=result.final_url or result.url))
    except Exception as exc:  # a corrupt archive is a failed source, not a crashed run
        raise SourceError("bad_warc", source.path or "", f"{type(exc).__name__}: {exc}") from exc
    return entries


def archived_responses(outlet: Outlet, day: dt.date, urls: Iterable[str]) -> dict[str, FetchResult]:
    """The archived responses of ``urls`` (canonical) from the outlet's warc sources."""
    wanted = set(urls)
    found: dict[str, FetchResult] = {}
    for source in outlet.discovery:
        if source.type != "warc" or not wanted:
            continue
        for result in _responses(warc_paths(source, day)):
            if result.status is None or not 200 <= result.status < 300 or not result.body:
                continue
            url = canonicalize_url(result.final_url or result.url)
            if url in wanted and url not in found:
                found[url] = result
    return found
