"""Date-archive pages (``/2024/01/05/``): every article of a day, without dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import etree, html

from newslake.config import DiscoverySource
from newslake.discover.documents import Fetch, charset_of, fetch_document
from newslake.discover.models import DayRun, Entry, Source, SourceError
from newslake.errors import ParseError
from newslake.parse.css import select
from newslake.parse.decode import decode_html

# Without a selector every link on the page is a candidate; the site filter drops the rest.
DEFAULT_LINK_SELECTOR = "a[href]"
# hrefs that are not pages: scripts, mail, phone, in-page anchors.
IGNORED_HREF_PREFIXES = ("javascript:", "mailto:", "tel:", "data:", "#")
# lxml refuses a str that still declares its encoding; the text is decoded already.
XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")


def archive_page_urls(url_template: str, day: dt.date, tz: ZoneInfo) -> list[str]:
    """One archive page per local date (in ``tz``) that overlaps ``[day, day+1)`` UTC:
    two for any zone with an offset, one for UTC."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    last_instant = start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    first_local = start.astimezone(tz).date()
    last_local = last_instant.astimezone(tz).date()
    days = (last_local - first_local).days + 1
    return [url_template.format(date=first_local + dt.timedelta(days=n)) for n in range(days)]


def page_tree(body: bytes, page_url: str, charset: str | None = None) -> etree._Element | None:
    """The page as an lxml tree, decoded as article pages are (``decode_html``: the
    ``charset`` of its Content-Type first); None for an empty page, ``SourceError`` for
    bytes that are not HTML in any charset."""
    if not body.strip():
        return None
    headers = {"Content-Type": f"text/html; charset={charset}"} if charset else None
    try:
        text = XML_DECLARATION_RE.sub("", decode_html(body, headers), count=1)
        return html.document_fromstring(text)
    except ParseError as exc:
        raise SourceError(exc.reason, page_url, exc.detail) from exc
    except (etree.ParserError, ValueError) as exc:
        raise SourceError("not_html", page_url, str(exc)) from exc


def page_links(
    body: bytes, page_url: str, selector: str | None = None, charset: str | None = None
) -> list[str]:
    """Absolute URLs of the links ``selector`` picks (an element that is not a link stands for
    the first link inside it), resolved against ``<base href>`` or ``page_url``. The
    selector runs in cssselect, as the parse rules' selectors do (``newslake.parse.css``)."""
    tree = page_tree(body, page_url, charset)
    if tree is None:
        return []
    base_url = page_url
    for base in tree.iter("base"):
        if base.get("href") is not None:
            base_url = urljoin(page_url, base.get("href", "").strip())
            break
    try:
        picked = select(selector or DEFAULT_LINK_SELECTOR, tree)
    except ValueError as exc:
        raise SourceError("bad_selector", page_url, str(exc)) from exc
    links = []
    for element in picked:
        link = element if element.tag == "a" else next(
            (a for a in element.iterdescendants("a") if a.get("href") is not None), None)
        href = (link.get("href") or "").strip() if link is not None else ""
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
