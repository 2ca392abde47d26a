"""Where a day's records lie, so that each fetch chunk reads only its own.

A rerun revalidates what the day's raw partition kept (``If-None-Match`` /
``If-Modified-Since``), and an outlet with a ``warc`` source takes pages from its WARC
files. Rather than every fetch chunk reading those files whole, the discover step reads
them once: ``previous_index`` scans the raw partition's WARC, discovery the warc sources
(``DiscoveryResult.archived``). Each chunk then gets ``ChunkRecords``, the ``RecordRef``
(file, offset, length) of each of its URLs' records, and ``read_records`` fetches just
those bytes (ranged reads: a ``pread`` locally, a ranged GET on S3; close records are read
in one span). What is read is checked against what was expected; the callers decide what
to do with a record that no longer reads back (``read_previous`` drops it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from newslake import lake
from newslake.fetch import FetchResult
from newslake.raw import RecordRef, is_complete, read_record, scan_warc

log = logging.getLogger(__name__)

# Records closer than this are read in one request: a few KB of request records between
# two responses cost less than one more round trip to S3.
MAX_GAP = 256 * 1024
# ... up to this much at once, to bound memory.
MAX_SPAN = 32 * 1024 * 1024

Refs = Mapping[str, RecordRef]


@dataclass(frozen=True)
class ChunkRecords:
    """The records a fetch chunk may use, by its (canonical, requested) URL.

    ``previous``: the complete responses the day's raw partition kept (a rerun).
    ``archived``: the pages the outlet's warc sources hold (fetched from there, not the web).
    """

    previous: dict[str, RecordRef] = field(default_factory=dict)
    archived: dict[str, RecordRef] = field(default_factory=dict)

    @classmethod
    def for_urls(cls, urls: Iterable[str], previous: Refs, archived: Refs) -> ChunkRecords:
        chunk = list(urls)
        return cls(
            previous={u: previous[u] for u in chunk if u in previous},
            archived={u: archived[u] for u in chunk if u in archived},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "previous": {u: ref.to_json() for u, ref in self.previous.items()},
            "archived": {u: ref.to_json() for u, ref in self.archived.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChunkRecords:
        return cls(
            previous={u: RecordRef.from_json(r) for u, r in data.get("previous", {}).items()},
            archived={u: RecordRef.from_json(r) for u, r in data.get("archived", {}).items()},
        )


def previous_index(location: str, storage: lake.Storage = None) -> dict[str, RecordRef]:
    """Where each complete response of the WARC at ``location`` lies, by requested URL
    (the last one when a URL is there twice, as ``raw.complete_responses``); empty when
    there is no such file. Records past a damaged one are left out (fetched afresh)."""
    return scan_previous(location, storage).refs


@dataclass(frozen=True)
class PreviousRaw:
    """What a day's raw WARC holds: ``refs``, where each complete response lies (by
    requested URL), and ``urls``, every URL it has a record for, failures included."""

    refs: dict[str, RecordRef] = field(default_factory=dict)
    urls: frozenset[str] = frozenset()


def scan_previous(location: str, storage: lake.Storage = None) -> PreviousRaw:
    """``PreviousRaw`` of the WARC at ``location`` in one pass; empty when there is no
    such file; records past a damaged one are left out (logged)."""
    if not lake.exists(location, storage):
        return PreviousRaw()
    found: dict[str, RecordRef] = {}
    urls: set[str] = set()
    with lake.local_copy(location, storage, suffix=".warc.gz") as local:
        try:
            for result, ref in scan_warc(local, location):
                urls.add(result.url)
                if is_complete(result):
                    found[result.url] = ref
        except Exception as exc:  # damaged: a rerun then fetches those pages unconditionally
            log.warning("previous raw %s unreadable after %d records: %s: %s",
                        location, len(urls), type(exc).__name__, exc)
    return PreviousRaw(found, frozenset(urls))


def _spans(refs: list[tuple[str, RecordRef]]) -> list[tuple[int, int, list[tuple[str, RecordRef]]]]:
    """Refs of one file grouped into spans (start, end, members) read in one request each."""
    spans: list[tuple[int, int, list[tuple[str, RecordRef]]]] = []
    for key, ref in sorted(refs, key=lambda item: (item[1].offset, item[1].length)):
        end = ref.offset + ref.length
        if spans:
            start, last_end, members = spans[-1]
            if ref.offset - last_end <= MAX_GAP and max(end, last_end) - start <= MAX_SPAN:
                members.append((key, ref))
                spans[-1] = (start, max(end, last_end), members)
                continue
        spans.append((ref.offset, end, [(key, ref)]))
    return spans


def read_records(refs: Refs, storage: lake.Storage = None) -> dict[str, FetchResult]:
    """The result each ref points at, read with ranged reads, by key; a ref whose bytes
    cannot be read or hold no result is left out (logged)."""
    by_file: dict[str, list[tuple[str, RecordRef]]] = {}
    for key, ref in refs.items():
        by_file.setdefault(ref.location, []).append((key, ref))
    found: dict[str, FetchResult] = {}
    for location, members in by_file.items():
        try:
            fs, path = lake.filesystem(location, storage)
            with fs.open_input_file(path) as source:
                for start, end, span in _spans(members):
                    data = source.read_at(end - start, start)
                    for key, ref in span:
                        piece = data[ref.offset - start : ref.offset - start + ref.length]
                        result = _parse(piece, location, ref)
                        if result is not None:
                            found[key] = result
        except OSError as exc:
            log.warning("cannot read records of %s: %s", location, exc)
    return found


def _parse(piece: bytes, location: str, ref: RecordRef) -> FetchResult | None:
    try:
        return read_record(piece)
    except Exception as exc:  # not a record (any more): the caller falls back
        log.warning("no record at %s:%d (+%d): %s: %s",
                    location, ref.offset, ref.length, type(exc).__name__, exc)
        return None


def read_checked(
    refs: Refs, accept: Callable[[str, FetchResult], bool], storage: lake.Storage = None
) -> dict[str, FetchResult]:
    """``read_records``, keeping only the results ``accept(key, result)`` takes for the
    record the ref was made for (a file replaced since has other records there)."""
    found = read_records(refs, storage)
    kept = {key: result for key, result in found.items() if accept(key, result)}
    if len(kept) < len(refs):
        log.warning("%d of %d indexed records did not read back as expected",
                    len(refs) - len(kept), len(refs))
    return kept


def read_previous(refs: Refs, storage: lake.Storage = None) -> dict[str, FetchResult]:
    """The earlier responses a rerun revalidates; one that did not read back is left out,
    so its URL is fetched unconditionally."""
    return read_checked(refs, lambda url, r: r.url == url and is_complete(r), storage)
