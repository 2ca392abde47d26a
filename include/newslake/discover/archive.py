"""Date-archive pages (``/2024/01/05/``): every article of a day, without dates."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import soupsieve
from bs4 import BeautifulSoup, Tag

from newslake.config import DiscoverySource
from newslake.discover.documents import Fetch, charset_of, fetch_document
from newslake.discover.models import DayRun, Entry, Source, SourceError

# Without a selector every link on the page is a candidate; the site filter drops the rest.
DEFAULT_LINK_SELECTOR = "a[href]"
# hrefs that are not pages: scripts, mail, phone, in-page anchors.
IGNORED_HREF_PREFIXES = ("javascript:", "mailto:", "tel:", "data:", "#")


def archive_page_urls(url_template: str, day: dt.date, tz: ZoneInfo) -> list[str]:
    """One archive page per local date (in ``tz``) that overlaps ``[day, day+1)`` UTC:
    two for any zone with an offset, one for UTC."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    last_instant = start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    first_local = start.astimezone(tz).date()
    last_local = last_instant.astimezone(tz).date()
    days = (last_local - first_local).days + 1
    return [url_template.format(date=first_local + dt.timedelta(days=n)) for n in range(days)]


def page_links(
    body: bytes, page_url: str, selector: str | None = None, charset: str | None = None
) -> list[str]:
    """Absolute URLs of the links ``selector`` picks (an element that is not a link stands for
    the first link inside it), resolved against ``<base href>`` or ``page_url``."""
    soup = BeautifulSoup(body, "lxml", from_encoding=charset)
    base_tag = soup.find("base", href=True)
    base_url = page_url
    if isinstance(base_tag, Tag):
        base_url = urljoin(page_url, str(base_tag["href"]))
    try:
        picked = soup.select(selector or DEFAULT_LINK_SELECTOR)
    except soupsieve.SelectorSyntaxError as exc:
        raise SourceError("bad_selector", page_url, str(exc)) from exc
    links = []
    for element in picked:
        link = element if element.name == "a" else element.find("a", href=True)
        if not isinstance(link, Tag) or not link.get("href"):
            continue
        href = str(link["href"]).strip()
        if not href or href.lower().startswith(IGNORED_HREF_PREFIXES):
            continue
        links.append(urljoin(base_url, href))
    return links


def archive_entries(
    fetch: Fetch,
    source: DiscoverySource,
    day: dt.date,
    tz: ZoneInfo,
    errors: list[dict[str, Any]],
) -> list[Entry]:
    """Links from every archive page of ``day``. A page that fails is appended to ``errors``;
    the source fails (``SourceError``) only when every page does."""
    assert source.url_template is not None
    entries: list[Entry] = []
    pages = archive_page_urls(source.url_template, day, tz)
    failures: list[str] = []
    for page_url in pages:
        try:
            result = fetch_document(fetch, page_url)
            assert result.body is not None
            links = page_links(
                result.body, result.final_url, source.link_selector, charset_of(result.headers)
            )
        except SourceError as exc:
            errors.append(exc.as_dict("archive"))
            failures.append(exc.reason)
            continue
        entries.extend(Entry(link) for link in links)
    if pages and len(failures) == len(pages):
        raise SourceError("all_pages_failed", source.url_template, ", ".join(failures))
    return entries


class ArchiveSource(Source):
    """``type: archive``: the site's date-archive pages, ``url_template`` per local date."""

    type = "archive"

    def entries(self, run: DayRun) -> list[Entry]:
        return archive_entries(run.fetcher.fetch, self.config, run.day, run.outlet.tz,
                               run.errors)
