"""What discovery hands on: the URLs worth fetching for one day, and what went wrong."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from newslake.raw import RecordRef


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


class SourceError(Exception):
    """A discovery document could not be fetched or read; ``reason`` is a short slug."""

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        self.reason = reason
        self.url = url
        self.detail = detail
        super().__init__(f"{reason} ({url}){': ' + detail if detail else ''}")

    def as_dict(self, source: str) -> dict[str, Any]:
        return {"source": source, "url": self.url, "error": self.reason, "detail": self.detail}
