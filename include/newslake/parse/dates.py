"""Publication and update times, as aware UTC datetimes.

Sources, most trusted first: JSON-LD, ``article:published_time``-style meta, ``<time
datetime>``, other meta (``pubdate``, ``date``, Dublin Core, Parse.ly ...), a visible
dateline, the page's script data (client-rendered pages: ``"publishedAt": …``) where it
agrees with the URL's day, the URL. A time printed without an offset is read in the
outlet's time zone (UTC without an outlet); a date without a time is midnight there.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable

from dateutil import parser as dateutil_parser
from lxml import etree

from newslake.parse.metadata import PageMeta, clean_text, script_texts

UTC = dt.UTC
# Datetimes outside this window are template defaults or typos, not publication times.
EARLIEST_YEAR = 1990
LATEST_AHEAD = dt.timedelta(days=2)

PUBLISHED_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "og:published_time",
    "parsely-pub-date",
    "sailthru.date",
    "article.published",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "date",
    "dc.date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.created",
    "dcterms.issued",
    "dcterms.date",
    "created",
    "article_date_original",
    "cxenseparse:recs:publishtime",
    "date.available",
    "originalpublicationdate",
)
MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:article:modified_time",
    "article:modified",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
    "lastmod",
    "modified",
)
TIME_XPATH = etree.XPath("//time[@datetime]")
PUBDATE_TIME_XPATH = etree.XPath(
    "//time[@datetime][@pubdate or @itemprop='datePublished'"
    " or contains(@class, 'publish') or contains(@class, 'entry-date')]"
)
DATELINE_XPATH = etree.XPath(
    "//*[self::span or self::div or self::p or self::time or self::li]"
    "[contains(@class, 'date') or contains(@class, 'time') or contains(@class, 'posted')"
    " or contains(@class, 'dateline') or contains(@class, 'meta')"
    # "date" in the CMS's language: German/Dutch, Turkish, Spanish
    " or contains(@class, 'datum') or contains(@class, 'tarih') or contains(@class, 'fecha')]"
    "[not(*[3])]"
)
MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
TIME_OF_DAY = r"(?:,?\s*(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?"
DATELINE_RE = re.compile(
    rf"\b(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\.?\s+{MONTHS},?\s+\d{{4}}"
    rf"|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\.\d{{1,2}}\.\d{{4}}){TIME_OF_DAY}",
    re.IGNORECASE,
)
URL_DATE_RE = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
)
EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
DOTTED_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(.*)$")
# US abbreviations dateutil does not know; others are ambiguous and left alone.
TZ_ABBREVIATIONS = {
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "GMT": 0,
    "UTC": 0,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MEZ": 1,
    "MESZ": 2,
    "JST": 9,
    "KST": 9,
    "IST": 5.5,
    "AEST": 10,
    "AEDT": 11,
    "MSK": 3,
    "EET": 2,
    "EEST": 3,
}
TZINFOS = {name: dt.timezone(dt.timedelta(hours=hours)) for name, hours in TZ_ABBREVIATIONS.items()}


def _plausible(value: dt.datetime) -> bool:
    now = dt.datetime.now(UTC)
    return value.year >= EARLIEST_YEAR and value <= now + LATEST_AHEAD


def _convertible(value: dt.datetime) -> bool:
    """Whether ``value`` converts to UTC: dateutil accepts offsets of a day or more
    (``+2400``) that ``datetime`` refuses, and a time in the first or last year of its range
    can overflow it (neither year is a plausible publication date)."""
    if value.year in (dt.MINYEAR, dt.MAXYEAR):
        return False
    offset = value.tzinfo.utcoffset(value) if value.tzinfo is not None else None
    return offset is None or abs(offset) < dt.timedelta(days=1)


def parse_datetime(value: str | int | float | None, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """``value`` as an aware UTC datetime; naive values are read in ``tz``. None if no date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON reads 1e999 and NaN
        return None
    text = str(int(value)) if isinstance(value, int | float) else clean_text(value)
    if not text or not any(ch.isdigit() for ch in text):
        return None
    parsed: dt.datetime | None = None
    if EPOCH_RE.match(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        parsed = dt.datetime.fromtimestamp(seconds, UTC)
    else:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", ""))
        except ValueError:
            dotted = DOTTED_DATE_RE.match(text)
            if dotted:  # 17.03.2025 is day first everywhere it is written
                day, month, year, rest = dotted.groups()
                text = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
            try:
                parsed = dateutil_parser.parse(text, tzinfos=TZINFOS)
            except (ValueError, OverflowError, TypeError):
                return None
    if not _convertible(parsed):
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=tz)
    parsed = parsed.astimezone(UTC)
    return parsed if _plausible(parsed) else None


def _first_datetime(values: Iterable[object], tz: dt.tzinfo) -> dt.datetime | None:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str | int | float):
            parsed = parse_datetime(value, tz)
            if parsed is not None:
                return parsed
    return None


def _dateline(tree: etree._Element, tz: dt.tzinfo) -> dt.datetime | None:
    for element in DATELINE_XPATH(tree):
        text = clean_text(element.text_content())
        if len(text) > 200:
            continue
        match = DATELINE_RE.search(text)
        if match:
            found = match.group(0)
            for abbr in ("at ", "a.m.", "p.m."):
                found = found.replace(abbr, {"at ": "", "a.m.": "am", "p.m.": "pm"}[abbr])
            parsed = parse_datetime(found, tz)
            if parsed is not None:
                return parsed
    return None


# A member naming when the article went out (not when it was changed), a short string.
PUBLISHED_MEMBER_RE = re.compile(
    r'"(?:date_?)?(?:first_?)?(?:publish|published|deploy|deployed|release|released)'
    r'(?:_?(?:date|dt|time|at|datetime|on))?"\s*:\s*"([^"\\]{8,40})"',
    re.IGNORECASE,
)


def script_published_at(page_text: str, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """The first publication time named in the page's scripts' JSON (naive: in ``tz``)."""
    for script in script_texts(page_text):
        for match in PUBLISHED_MEMBER_RE.finditer(script):
            found = parse_datetime(match.group(1), tz)
            if found is not None:
                return found
    return None


def url_date(url: str, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """The date in an article URL (``/2025/03/17/``), as midnight in ``tz``."""
    match = URL_DATE_RE.search(url)
    if not match:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        local = dt.datetime(year, month, day, tzinfo=tz)
    except ValueError:
        return None
    value = local.astimezone(UTC)
    return value if _plausible(value) else None


def find_published_at(
    page: PageMeta, tree: etree._Element, url: str, tz: dt.tzinfo | None = None,
    page_text: str = "",
) -> dt.datetime | None:
    tz = tz or UTC
    found = _first_datetime([page.ld("datePublished"), page.ld("dateCreated")], tz)
    if found is None:
        found = _first_datetime((page.first(key) for key in PUBLISHED_META_KEYS[:8]), tz)
    if found is None:
        found = _first_datetime((el.get("datetime") for el in PUBDATE_TIME_XPATH(tree)), tz)
    if found is None:
        found = _first_datetime((page.first(key) for key in PUBLISHED_META_KEYS[8:]), tz)
    if found is None:
        found = _first_datetime((el.get("datetime") for el in TIME_XPATH(tree)), tz)
    if found is None:
        found = _dateline(tree, tz)
    if found is None:
        found = url_date(url, tz)
        scripted = script_published_at(page_text, tz) if page_text else None
        if scripted is not None and (found is None or _same_day(scripted, found, tz)):
            found = scripted  # the time of day the URL's date lacks
    return found


def _same_day(a: dt.datetime, b: dt.datetime, tz: dt.tzinfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def find_modified_at(page: PageMeta, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    tz = tz or UTC
    found = _first_datetime([page.ld("dateModified")], tz)
    if found is None:
        found = _first_datetime((page.first(key) for key in MODIFIED_META_KEYS), tz)
    return found
