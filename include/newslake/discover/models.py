"""What discovery hands on: the URLs worth fetching for one day, and what went wrong."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from newslake.errors import NewslakeError
from newslake.raw import RecordRef

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from newslake.config import DiscoverySource, Outlet
    from newslake.fetch import Fetcher, FetchResult


@dataclass(frozen=True)
class DiscoveredUrl:
    """A canonical article URL and the source type that listed it first."""

    url: str
    source: str  # "rss" | "sitemap" | "archive" | "warc"
    published_hint: dt.datetime | None = None  # aware; the source's publication date, if any
    # The source type that gave ``published_hint`` when not ``source`` (the frontier's
    # recorded rss or sitemap, a later source of the same URL).
    hint_source: str | None = None


@dataclass
class DiscoveryResult:
    """URLs sorted by ``url``; ``errors`` are JSON-ready dicts
    (``source``, ``url``, ``error``, ``detail``); ``counts`` are for the run manifest."""

    urls: list[DiscoveredUrl] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Where the warc sources hold each canonical URL's page (the first one, in source, file
    # and record order), whichever source listed the URL: the fetch reads just those.
    archived: dict[str, RecordRef] = field(default_factory=dict)


@dataclass(frozen=True)
class Entry:
    """A URL as a source lists it, before the site, window and de-duplication filters."""

    url: str
    date: dt.datetime | None = None  # aware; what the window filter looks at
    published_hint: dt.datetime | None = None  # aware; only a real publication date
    record: RecordRef | None = None  # warc sources: where the page's record lies


class SourceError(NewslakeError):
    """A discovery document could not be fetched or read; ``reason`` is a short slug."""

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        self.reason = reason
        self.url = url
        self.detail = detail
        super().__init__(f"{reason} ({url}){': ' + detail if detail else ''}")

    def as_dict(self, source: str) -> dict[str, Any]:
        return {"source": source, "url": self.url, "error": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class DayRun:
    """What a source reads one day of one outlet with."""

    fetcher: Fetcher
    outlet: Outlet
    day: dt.date  # the run's data interval is [day, day+1) UTC
    window: tuple[dt.datetime, dt.datetime]  # the dates a listed URL may carry to be kept
    errors: list[dict[str, Any]]  # a document that fails while the source still lists
    counts: dict[str, int]  # the run's discovery counts, for what a source drops itself


class Source:
    """A kind of discovery source: one subclass per config ``type``, named in
    ``newslake.discover.registry.SOURCE_TYPES``, built from one configured source."""

    type: ClassVar[str]

    def __init__(self, config: DiscoverySource) -> None:
        self.config = config

    def entries(self, run: DayRun) -> list[Entry]:
        """Every URL the source lists for ``run.day`` (the caller filters and merges).
        Raises ``SourceError`` when the source cannot be read at all."""
        raise NotImplementedError


class PolledSource(Source):
    """A source the frontier polls: one document that lists what is new, and rolls over."""

    def read(
        self, document: FetchResult, fetcher: Fetcher, window: tuple[dt.datetime, dt.datetime],
        tz: ZoneInfo, errors: list[dict[str, Any]],
    ) -> list[Entry]:
        """The entries of the source's document, just fetched (with a body); ``fetcher``
        for any document it leads to. Raises ``SourceError`` when it cannot be read."""
        raise NotImplementedError
