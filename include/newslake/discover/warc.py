"""WARC files as a source: history that is gone from the live site, CC-NEWS, crawl exports.

A ``warc`` source names local WARC files by a glob, optionally per day
(``/data/cc-news/{date:%Y/%m/%d}/*.warc.gz``: the day's files, and the days either side,
since a crawl trails publication). Every ``response`` record on the outlet's site is a
candidate; as with the other sources, the parsed ``published_at`` decides the day. The
same records then stand in for the fetch: no request is made for a page the archive holds.
Discovery notes where each record lies (``Entry.record``), so that a fetch chunk reads only
its own records (``archived_from_refs``); ``archived_responses`` reads the files whole
(a chunk that came without those notes, or whose records moved).
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from newslake.config import DiscoverySource, Outlet
from newslake.discover.models import DayRun, Entry, Source, SourceError
from newslake.fetch import FetchResult
from newslake.lake import Storage
from newslake.raw import RecordRef, read_warc, scan_warc
from newslake.rawindex import read_checked
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


def _archived_page(result: FetchResult) -> bool:
    """A record that stands in for a fetch: a 2xx response with a body."""
    return result.status is not None and 200 <= result.status < 300 and bool(result.body)


def warc_entries(source: DiscoverySource, day: dt.date) -> list[Entry]:
    """Every archived 2xx page of the source's files for ``day`` (site filtering is later),
    with where its record lies."""
    paths = warc_paths(source, day)
    if not paths:
        raise SourceError("no_warc_files", source.path or "", "no file matches the path")
    entries = []
    try:
        for path in paths:
            for result, ref in scan_warc(path, os.path.abspath(path)):
                if _archived_page(result):
                    entries.append(Entry(url=result.final_url or result.url, record=ref))
    except Exception as exc:  # a corrupt archive is a failed source, not a crashed run
        raise SourceError("bad_warc", source.path or "", f"{type(exc).__name__}: {exc}") from exc
    return entries


class WarcSource(Source):
    """``type: warc``: local WARC files named by the glob ``path``."""

    type = "warc"

    def entries(self, run: DayRun) -> list[Entry]:
        return warc_entries(self.config, run.day)


def archived_responses(outlet: Outlet, day: dt.date, urls: Iterable[str]) -> dict[str, FetchResult]:
    """The archived responses of ``urls`` (canonical) from the outlet's warc sources,
    reading the files whole (the first record of a URL wins)."""
    wanted = set(urls)
    found: dict[str, FetchResult] = {}
    for source in outlet.discovery:
        if source.type != "warc" or not wanted:
            continue
        for result in _responses(warc_paths(source, day)):
            if not _archived_page(result):
                continue
            url = canonicalize_url(result.final_url or result.url)
            if url in wanted and url not in found:
                found[url] = result
    return found


def _is_page_of(url: str, result: FetchResult) -> bool:
    try:
        return _archived_page(result) and canonicalize_url(result.final_url or result.url) == url
    except ValueError:
        return False


def archived_from_refs(
    outlet: Outlet, day: dt.date, refs: Mapping[str, RecordRef], storage: Storage = None
) -> dict[str, FetchResult]:
    """The archived responses of the URLs in ``refs`` (what discovery noted for a chunk),
    read from just those records; a URL whose record is not (any more) where it was noted
    is looked up in the files whole, as ``archived_responses`` does."""
    found = read_checked(refs, _is_page_of, storage)
    missing = [url for url in refs if url not in found]
    if missing:
        found.update(archived_responses(outlet, day, missing))
    return found
