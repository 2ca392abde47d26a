"""RSS/Atom feeds: the newest articles, with their publication dates."""

from __future__ import annotations

import calendar
import datetime as dt
import io
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser

from newslake.discover.documents import (
    Fetch,
    content_type_of,
    fetch_document,
    gunzip_if_needed,
    reject_unsafe_xml,
)
from newslake.discover.models import DayRun, Entry, PolledSource, SourceError

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from newslake.fetch import Fetcher, FetchResult


def _aware(value: Any) -> dt.datetime | None:
    """feedparser's dates are ``time.struct_time`` in UTC."""
    if not isinstance(value, time.struct_time):
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(value), tz=dt.UTC)


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> list[Entry]:
    """The entries of a feed document. The charset comes from ``content_type`` (the HTTP
    header) and the XML declaration, as feedparser weighs them; relative links are resolved
    against ``feed_url``."""
    body = gunzip_if_needed(body, feed_url)
    reject_unsafe_xml(body, feed_url)
    headers = {"content-location": feed_url}
    if content_type:
        headers["content-type"] = content_type
    # A stream, never bytes: feedparser would try bytes as a file name first.
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    if parsed.get("bozo") and not parsed.entries:
        raise SourceError("bad_feed", feed_url, repr(parsed.get("bozo_exception")))
    if not parsed.get("version") and not parsed.entries:
        raise SourceError("not_a_feed", feed_url)
    entries = []
    for item in parsed.entries:
        link = item.get("link")
        if not link:
            continue
        published = _aware(item.get("published_parsed"))
        # `in` first: a bare get() falls back to published_parsed with a DeprecationWarning.
        updated = _aware(item["updated_parsed"]) if "updated_parsed" in item else None
        entries.append(Entry(urljoin(feed_url, link), published or updated, published))
    return entries


def feed_entries(fetch: Fetch, feed_url: str) -> list[Entry]:
    result = fetch_document(fetch, feed_url)
    assert result.body is not None
    return parse_feed(result.body, result.final_url, content_type_of(result.headers))


class RssSource(PolledSource):
    """``type: rss``: an RSS or Atom feed at ``url``."""

    type = "rss"

    def entries(self, run: DayRun) -> list[Entry]:
        assert self.config.url is not None
        return feed_entries(run.fetcher.fetch, self.config.url)

    def read(
        self, document: FetchResult, fetcher: Fetcher, window: tuple[dt.datetime, dt.datetime],
        tz: ZoneInfo, errors: list[dict[str, Any]],
    ) -> list[Entry]:
        assert document.body is not None
        return parse_feed(document.body, document.final_url, content_type_of(document.headers))
