"""Publication and update times.

``find_published`` walks a fallback chain, most trusted source first, and says which
source gave the time (the ``published_at_source`` column):

1. ``jsonld``: the article's JSON-LD ``datePublished`` / ``dateCreated``;
2. ``meta``: ``article:published_time``-style meta (names compared without punctuation, so
   ``article:published:time`` counts), then (``markup``) ``<time pubdate>``-style elements,
   then the other date meta (``pubdate``, ``date``, Dublin Core, Parse.ly ...), then
   (``jsonld``) a ``datePublished`` of any other JSON-LD object (a ``WebPage``);
3. ``markup``: ``itemprop="datePublished"`` on any element (``content``, ``datetime`` or
   its text), any ``<time datetime>``, a hidden ``<input>`` named for the publication
   date, a ``data-utc-time``-style epoch attribute. ``<time>`` elements and epochs count
   only when all of them name one day: several days are a list (comments, related
   stories), not the article's date;
   When the sources of steps 1-3 name different days (not one moment written in two
   zones) and JSON-LD and meta do not both name the first day, the day the page shows
   (a labelled date, a dateline element, a date next to the headline: step 4's readings)
   picks among them; the most trusted stays when the page shows its day or none of theirs;
4. ``text``: a date after a label ("Published", "Veröffentlicht am", "publié le",
   "Опубликовано" ...) in the visible text, then a dateline element (a class naming a
   date: weaker, as sidebars and comments carry such classes too; a kind of element, tag
   and class, that names several days on the page is a list and is skipped); after step 5, the
   first date within 300 characters of the headline. Dates are read in many languages
   (English, German, French, Spanish, Italian, Portuguese, Dutch, Scandinavian, Polish,
   Czech, Turkish, Russian, Ukrainian, Arabic month names; ``d.m.yyyy``, ``d/m/yyyy``, ISO,
   ``yyyy年m月d日``);
5. ``url``: the date in the URL (``/2025/03/17/``), with the time of day from the page's
   script data (``"publishedAt": …``) when that names the same day; ``script`` when only
   the script data names a time;
6. ``htmldate``: the ``htmldate`` library's guess (a day), only when all of the above
   found nothing: it costs several times the rest. It runs without dateparser, its own
   last resort, whose set-up costs seconds a process (``_without_dateparser``).

A time printed without an offset is read in the outlet's time zone (UTC without an
outlet); a date without a time is midnight there. A JSON-LD time without an offset takes
the offset of another source on the page that gives the same clock time with one.
``find_published`` keeps the offset the page wrote (the day "as the page says it"), except
that a time of day written in UTC is shown in the page's own zone: the outlet's, else that
of the country of the site's country-code domain, when all of that country's zones put it
on the same day;
``parse_datetime`` and the record store UTC.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import htmldate
import regex
from dateutil import parser as dateutil_parser
from htmldate import extractors as htmldate_extractors
from lxml import etree

from newslake.clock import utc_now
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
# The whole-page XPaths of newslake.parse name the descendant axis, not ``//``: with no
# positional step the two select the same nodes in the same order, and libxml2 walks
# ``//x`` as ``descendant-or-self::node()/child::x``, every text node included (10-40%
# slower on the dev pages).
TIME_XPATH = etree.XPath("/descendant::time[@datetime]")
# Dateline elements: a short element (fewer than three child elements) of these tags whose
# class contains one of these words ("date" in the CMS's language: German/Dutch, Turkish,
# Spanish).
DATELINE_TAGS = ("span", "div", "p", "time", "li")
DATELINE_CLASS_WORDS = ("date", "time", "posted", "meta", "datum", "tarih", "fecha")
# a class containing any of the words (one search, not one ``in`` a word)
DATELINE_CLASS_RE = re.compile("|".join(map(re.escape, DATELINE_CLASS_WORDS)))
# Month names (and their usual abbreviations), the case each language writes a date in
# ("5 марта", "5. März", "5 de julio"): English, German, French, Spanish, Italian,
# Portuguese, Dutch, Scandinavian, Polish, Czech, Turkish, Russian, Ukrainian, Arabic (the
# months as Egypt and the Gulf name them: "07 أكتوبر 2020").
MONTH_NAMES = (
    "january jan januar jänner janvier janv enero ene gennaio gen janeiro januari ocak"
    " stycznia styczeń ledna leden января январь янв січня січень يناير",
    "february feb februar feber février fevrier févr fevr febrero febbraio fevereiro fev"
    " februari şubat subat lutego luty února únor февраля февраль фев лютого лютий فبراير",
    "march mar märz maerz mrz mär mars marzo março marco maart marts mart marca marzec"
    " března březen марта март березня березень مارس",
    "april apr avril avr abril abr aprile apr. nisan kwietnia kwiecień dubna duben апреля"
    " апрель апр квітня квітень أبريل إبريل ابريل",
    "may mai mayo maggio maio mei maj mayıs mayis maja května květen мая май травня"
    " травень مايو",
    "june jun juni juin junio giugno junho haziran czerwca czerwiec června červen июня"
    " июнь червня червень يونيو يونية",
    "july jul juli juillet juil julio luglio julho temmuz lipca lipiec července červenec"
    " июля июль липня липень يوليو يولية",
    "august aug august août aout agosto augustus augusti ağustos agustos sierpnia sierpień"
    " srpna srpen августа август авг серпня серпень أغسطس اغسطس",
    "september sep sept septembre septiembre setiembre settembre setembro set eylül eylul"
    " września wrzesień září сентября сентябрь сен вересня вересень سبتمبر",
    "october oct oktober okt octobre octubre ottobre outubro out ekim października"
    " październik října říjen октября октябрь окт жовтня жовтень أكتوبر اكتوبر",
    "november nov novembre noviembre novembro kasım kasim listopada listopad listopadu"
    " ноября ноябрь листопада листопад نوفمبر",
    "december dec dezember dez décembre decembre déc diciembre dic dicembre dezembro"
    " desember aralık aralik grudnia grudzień prosince prosinec декабря декабрь дек"
    " грудня грудень ديسمبر",
)
MONTH_NUMBERS = {
    name.rstrip("."): number
    for number, names in enumerate(MONTH_NAMES, start=1)
    for name in names.split()
}
_MONTH_ALTERNATION = "|".join(
    regex.escape(name) for name in sorted(MONTH_NUMBERS, key=lambda n: (-len(n), n))
)
_MONTH = rf"(?P<month_name>(?i:{_MONTH_ALTERNATION}))(?:\.|\b)"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
_DAY = r"(?<!\d)(?P<day>[0-3]?\d)"
# A date that starts with its month name starts with letters (every name is letters), maybe
# a ".", maybe spaces and the day's digit: every such match passes this lookahead, so it
# changes no match, and it spares trying the long alternation of names at the other
# positions (the texts find_published reads on the dev pages: a quarter of the time).
_MONTH_AHEAD_MAX = max(map(len, MONTH_NUMBERS)) + 1
_MONTH_AHEAD = rf"(?=[^\s\d]{{{min(map(len, MONTH_NUMBERS))},{_MONTH_AHEAD_MAX}}}\s*\d)"
# A time after the date: "10:41", "3:05 p.m.", "14h30", "um 10:41 Uhr", "10:41 CET",
# "T10:41:00+02:00".
_TIME = (
    r"(?:(?:T|\s*(?:,|-|–|—|\||/|·|(?i:um|à|a las|alle|at|в|о|o|kl\.?))?\s*)"
    r"(?P<hour>[0-2]?\d)[:h](?P<minute>[0-5]\d)(?::[0-5]\d(?:\.\d+)?)?"
    r"\s*(?P<meridiem>(?i:[ap]\.?m\.?))?(?:\s*(?i:Uhr))?"
    r"(?:\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|[A-Z]{2,4}\b))?)?"
)
TEXT_DATE_RE = regex.compile(
    r"(?:"
    rf"{_YEAR}-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)(?!\d)"  # ISO
    rf"|{_YEAR}[./](?P<month>[01]?\d)[./](?P<day>[0-3]?\d)(?![\d./])"  # 2024.07.05
    rf"|{_YEAR}\s*[年년]\s*(?P<month>[01]?\d)\s*[月월]\s*(?P<day>[0-3]?\d)\s*[日일]?"
    rf"|{_DAY}\.\s?(?P<month>[01]?\d)\.\s?(?P<year>(?:19|20)\d{{2}}|\d{{2}})(?![\d.])"
    rf"|(?<!\d)(?P<slash_a>[0-3]?\d)/(?P<slash_b>[0-3]?\d)/{_YEAR}(?!\d)"
    rf"|{_DAY}(?:\.|er|st|nd|rd|th|º|°)?\s*(?:de\s+)?{_MONTH},?\s*(?:de\s+|del\s+)?{_YEAR}"
    rf"|{_MONTH_AHEAD}{_MONTH}\s*{_DAY}(?:st|nd|rd|th)?,?\s+{_YEAR}"
    rf"){_TIME}"
)
# The first digit of a text with the spaces before it (``_dates_start``).
LEADING_DIGIT_RE = regex.compile(r"\s*\d")
# Words that announce the publication date in a page's text (not "updated").
PUBLISHED_LABELS = (
    "published", "posted", "first published", "publication date", "date published",
    "released", "veröffentlicht", "publiziert", "erschienen", "erstellt", "datum", "publié",
    "publie", "publicado", "publicada", "fecha de publicación", "pubblicato", "gepubliceerd",
    "publicerad", "publisert", "udgivet", "opublikowano", "data publikacji", "publikováno",
    "zveřejněno", "yayınlanma", "yayın tarihi", "опубликовано", "опубликован",
    "дата публикации", "опубліковано", "дата публікації",
)
PUBLISHED_LABEL_RE = regex.compile(rf"(?i:\b(?:{'|'.join(PUBLISHED_LABELS)})\b)")
# Where a label may start in a text, found in the text's lower case (``_label_matches``):
# each label's start before its "ı" (whose capital "I" lowers to "i"), and the characters
# the expression takes for a letter of these that lower to another (the capital "İ" of
# "i", the long "ſ" of "s", the Old Cyrillic "в", "д", "о", "т"; tests/test_dates.py
# checks all of Unicode).
PUBLISHED_LABEL_STARTS = tuple(dict.fromkeys(label.split("ı")[0] for label in PUBLISHED_LABELS))
LABEL_CASE_ODD_RE = re.compile("[\u0130\u017f\u1c80\u1c81\u1c82\u1c84\u1c85]")
NEAR_HEADLINE = 300  # characters before and after the headline searched for a date
LABEL_WINDOW = 80  # characters after a label searched for its date
LABEL_GAP = 12  # at most this much ("am", "le", ": ", "on") between a label and its date
META_PUNCTUATION_RE = re.compile(r"[^a-z0-9]")
PUBLISHED_META_NAMES = tuple(META_PUNCTUATION_RE.sub("", key) for key in PUBLISHED_META_KEYS)
# The elements by their ``itemprop`` attribute nodes (a node-set is in document order):
# a third of the time of testing every element for the attribute.
ITEMPROP_PUBLISHED_XPATH = etree.XPath(
    "/descendant::*/@itemprop[.='datePublished' or .='dateCreated']/parent::*"
)
# A hidden form field carrying the publication date ("publishDate", "post_date").
HIDDEN_DATE_INPUT_XPATH = etree.XPath(
    "/descendant::input[@type='hidden'][@value][contains(translate(concat(@name, ' ', @id),"
    " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'publish')]"
)
# data-* attributes named for a time or date (``data-utc-time``), read when they hold an epoch.
DATA_TIME_ATTR_XPATH = etree.XPath(
    "/descendant::*/@*[starts-with(name(), 'data-')"
    " and (contains(name(), 'time') or contains(name(), 'date'))]"
)
HIDDEN_TAGS = ("script", "style", "noscript")
# An element's text nodes in document order, its own tail left out: the strings
# ``itertext`` gives (which joins adjacent text nodes, and the parser leaves none), without
# the Python object ``itertext`` makes for every element it passes (a third of the time).
SUBTREE_TEXT_XPATH = etree.XPath("descendant::text()", smart_strings=False)
# An ISO time with seconds in the page's source (markup or script data), offset optional.
ISO_IN_SOURCE_RE = re.compile(
    r"(?:19|20)\d{2}-[01]\d-[0-3]\d[T ][0-2]\d:[0-5]\d:[0-5]\d(?:Z|[+-][01]\d:?[0-5]\d)?"
)
ISO_SECONDS_AT = len("2024-07-05T10:41")  # where an ISO time's ":ss" starts
MAX_OFFSET = dt.timedelta(hours=14)
HALF_HOUR = dt.timedelta(minutes=30)
# Stands for "no offset written" while reading a written date (never stored).
NAIVE = dt.timezone(dt.timedelta(0), "naive")
URL_DATE_RE = re.compile(
    r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
)
EPOCH_RE = re.compile(r"^\d{10}(?:\d{3})?$")
# 17.03.2025 and 17-03-2025 are day first wherever they are written (the US writes 3/17).
DOTTED_DATE_RE = re.compile(r"^(\d{1,2})([.-])(\d{1,2})\2(\d{4})(.*)$")
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
    """A year this side of the web and not ahead of "now" (``newslake.clock``: the real
    time, or ``NEWSLAKE_NOW``, so a run with a set clock parses the same on any day)."""
    return value.year >= EARLIEST_YEAR and value <= utc_now() + LATEST_AHEAD


def _convertible(value: dt.datetime) -> bool:
    """Whether ``value`` converts to UTC: dateutil accepts offsets of a day or more
    (``+2400``) that ``datetime`` refuses, and a time in the first or last year of its range
    can overflow it (neither year is a plausible publication date)."""
    if value.year in (dt.MINYEAR, dt.MAXYEAR):
        return False
    offset = value.tzinfo.utcoffset(value) if value.tzinfo is not None else None
    return offset is None or abs(offset) < dt.timedelta(days=1)


def _read(value: str | int | float | None) -> dt.datetime | None:
    """``value`` as a datetime, naive when the value names no offset. None if no date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # JSON reads 1e999 and NaN
        return None
    text = str(int(value)) if isinstance(value, int | float) else clean_text(value)
    if not text or not any(ch.isdigit() for ch in text):
        return None
    if EPOCH_RE.match(text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        try:
            return dt.datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", ""))
    except ValueError:
        dotted = DOTTED_DATE_RE.match(text)
        if dotted:
            day, _, month, year, rest = dotted.groups()
            text = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
        try:
            with warnings.catch_warnings():  # an unknown zone name ("ZZ") is no offset
                warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
                parsed = dateutil_parser.parse(text, tzinfos=TZINFOS)
        except (ValueError, OverflowError, TypeError):
            return None
    if not _convertible(parsed):
        return None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=None)


def _localise(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """An aware, plausible ``value``: naive values are read in ``tz``."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value if _plausible(value) else None


def read_datetime(value: str | int | float | None, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """``value`` as an aware datetime in the offset it was written with (naive values are
    read in ``tz``). None if no plausible date."""
    return _localise(_read(value), tz)


def parse_datetime(value: str | int | float | None, tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """``value`` as an aware UTC datetime; naive values are read in ``tz``. None if no date."""
    found = read_datetime(value, tz)
    return found.astimezone(UTC) if found is not None else None


def _first_datetime(values: Iterable[object], tz: dt.tzinfo) -> dt.datetime | None:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str | int | float):
            parsed = parse_datetime(value, tz)
            if parsed is not None:
                return parsed
    return None


def _dateline_elements(tree: etree._Element) -> Iterator[etree._Element]:
    """The dateline elements in document order (a Python walk: the XPath of the same test
    took three times as long)."""
    for element in tree.iter(*DATELINE_TAGS):
        classes = element.get("class")
        if (
            classes is not None
            and DATELINE_CLASS_RE.search(classes) is not None
            and next(islice(element.iterchildren(etree.Element), 2, None), None) is None
        ):
            yield element


def _dateline(tree: etree._Element, tz: dt.tzinfo, month_first_slashes: bool = False
              ) -> dt.datetime | None:
    """The date of the first dateline element (a short element whose class names a date)
    whose kind (tag and class) names one day on the page: a kind repeated with several
    days is a list (related stories, teasers, comments), not the article's dateline."""
    found: list[tuple[str, dt.datetime]] = []
    days: dict[str, set[dt.date]] = {}
    for element in _dateline_elements(tree):
        text = clean_text(element.text_content())
        if len(text) > 200:
            continue
        value = first_text_date(text, tz, month_first_slashes=month_first_slashes)
        if value is not None:
            kind = f"{element.tag} {' '.join((element.get('class') or '').split())}"
            days.setdefault(kind, set()).add(value.date())
            found.append((kind, value))
    for kind, value in found:
        if len(days[kind]) == 1:
            return value
    return None


def _month_number(name: str) -> int | None:
    return MONTH_NUMBERS.get(name.casefold().rstrip("."))


def _time_of_day(match: re.Match[str]) -> dt.time:
    """The time written after a date (``10:41``, ``3.05 pm``, ``14h30``), else midnight."""
    if match.group("hour") is None:
        return dt.time()
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    meridiem = (match.group("meridiem") or "").replace(".", "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return dt.time()
    return dt.time(hour, minute)


def _zone(text: str | None) -> dt.tzinfo | None:
    """The offset a zone written after a time names: ``Z``, ``+02:00``, ``CET``."""
    if not text:
        return None
    if text == "Z":
        return UTC
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        if minutes > 14 * 60:
            return None
        return dt.timezone(dt.timedelta(minutes=minutes if text[0] == "+" else -minutes))
    return TZINFOS.get(text)


def _match_date(match: re.Match[str], month_first_slashes: bool) -> dt.date | None:
    groups = match.groupdict()
    year = int(groups["year"])
    if groups.get("month_name"):
        month = _month_number(groups["month_name"])
        day = int(groups["day"])
    elif groups.get("slash_a"):  # d/m/yyyy, or m/d/yyyy where the page is US English
        a, b = int(groups["slash_a"]), int(groups["slash_b"])
        day, month = (b, a) if (month_first_slashes and b <= 31 and a <= 12) or b > 12 else (a, b)
    else:
        month, day = int(groups["month"]), int(groups["day"])
    if month is None:
        return None
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _dates_start(text: str) -> int | None:
    """Where the first date in ``text`` may start (None: no digits, no date): a date starts
    at a digit, or (``_MONTH_AHEAD``) with its month name, at most ``_MONTH_AHEAD_MAX``
    characters before spaces and the first digit. Searching from there saves trying the
    expression at every character before (a third of its time on the dev pages)."""
    lead = LEADING_DIGIT_RE.search(text)
    return None if lead is None else max(0, lead.start() - _MONTH_AHEAD_MAX)


def text_dates(text: str, tz: dt.tzinfo = UTC, *, month_first_slashes: bool = False
               ) -> Iterator[tuple[int, dt.datetime]]:
    """The dates written in ``text``, in order: (position, aware datetime in ``tz`` or in
    the offset written after it)."""
    start = _dates_start(text)
    if start is None:
        return
    for match in TEXT_DATE_RE.finditer(text, start):  # its look-behinds see before ``start``
        day = _match_date(match, month_first_slashes)
        if day is None:
            continue
        value = dt.datetime.combine(day, _time_of_day(match))
        zone = _zone(match.group("zone"))
        found = _localise(value.replace(tzinfo=zone) if zone else value, tz)
        if found is not None:
            yield match.start(), found


def first_text_date(text: str, tz: dt.tzinfo = UTC, *, month_first_slashes: bool = False
                    ) -> dt.datetime | None:
    """The first plausible date written in ``text`` (see ``text_dates``)."""
    for _, found in text_dates(text, tz, month_first_slashes=month_first_slashes):
        return found
    return None


def _label_matches(text: str) -> Iterator[regex.Match[str]]:
    """``PUBLISHED_LABEL_RE.finditer(text)``, the expression tried only where the lower
    case text has the start of a label (a match has one there: a sixth of the time)."""
    lower = text.lower()
    if len(lower) != len(text) or LABEL_CASE_ODD_RE.search(text) is not None:
        yield from PUBLISHED_LABEL_RE.finditer(text)
        return
    starts: set[int] = set()
    for start in PUBLISHED_LABEL_STARTS:
        position = lower.find(start)
        while position >= 0:
            starts.add(position)
            position = lower.find(start, position + 1)
    end = 0
    for position in sorted(starts):
        if position >= end:  # finditer goes on after the end of its last match
            label = PUBLISHED_LABEL_RE.match(text, position)
            if label is not None:
                end = label.end()
                yield label


def _labelled_date(text: str, tz: dt.tzinfo, month_first_slashes: bool) -> dt.datetime | None:
    """The date right after a publication label ("Veröffentlicht am 5. Juli 2024")."""
    for label in _label_matches(text):
        window = text[label.end() : label.end() + LABEL_WINDOW]
        for position, found in text_dates(window, tz, month_first_slashes=month_first_slashes):
            if position <= LABEL_GAP:
                return found
            break
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


@dataclass(frozen=True)
class Published:
    """A publication time (aware, in the offset the page wrote) and the source that gave
    it: ``jsonld``, ``meta``, ``markup``, ``text``, ``url``, ``script`` or ``htmldate``."""

    at: dt.datetime
    source: str


def _normalised_meta(page: PageMeta) -> dict[str, list[str]]:
    """The page's meta values by name without punctuation (``article:published:time`` and
    ``article:published_time`` are one name)."""
    found: dict[str, list[str]] = {}
    for key, values in page.meta.items():
        found.setdefault(META_PUNCTUATION_RE.sub("", key), []).extend(values)
    return found


LAST_RESORT = "last resort"  # marks where ``_structured`` comes to its last resorts
EPOCHS = "epochs"  # marks its last source, the epochs: times in UTC


def _structured(page: PageMeta, tree: etree._Element) -> Iterator[tuple[str, object]]:
    """(source, raw value) of the machine-readable publication dates, most trusted first."""
    yield "jsonld", page.ld("datePublished")
    yield "jsonld", page.ld("dateCreated")
    meta = _normalised_meta(page)
    for name in PUBLISHED_META_NAMES[:8]:
        yield "meta", meta.get(name)
    times = TIME_XPATH(tree)  # (the page's <time>s, read once for both of their steps)
    marked = (element for element in times if _marks_publication(element))
    yield "markup", _unanimous(element.get("datetime") for element in marked)
    for name in PUBLISHED_META_NAMES[8:]:
        yield "meta", meta.get(name)
    for obj in page.jsonld:
        yield "jsonld", obj.get("datePublished")
    for element in ITEMPROP_PUBLISHED_XPATH(tree):
        value = element.get("content") or element.get("datetime")
        yield "markup", value if value else _ItempropText(element.text_content())
    yield "markup", _unanimous(element.get("datetime") for element in times)
    yield LAST_RESORT, None  # the sources below only date a page that gives no other date
    for element in HIDDEN_DATE_INPUT_XPATH(tree):
        yield "markup", element.get("value")
    yield EPOCHS, None
    epochs = (str(value).strip() for value in DATA_TIME_ATTR_XPATH(tree))
    yield "markup", _unanimous(value for value in epochs if EPOCH_RE.match(value))


def _marks_publication(time: etree._Element) -> bool:
    """A ``<time>`` marked as the publication time: ``pubdate``, ``itemprop``, its class."""
    classes = time.get("class") or ""
    return (
        time.get("pubdate") is not None
        or time.get("itemprop") == "datePublished"
        or "publish" in classes
        or "entry-date" in classes
    )


def _unanimous(values: Iterable[str | None]) -> str | None:
    """The first of ``values`` when all that read as dates name one day; None when they
    name several (the times of a list: comments, related stories, a feed)."""
    first: str | None = None
    days: set[dt.date] = set()
    for value in values:
        read = _read(value)
        if read is None:
            continue
        days.add(read.date())
        if len(days) > 1:
            return None
        first = first or value
    return first


class _ItempropText(str):
    """The text of an ``itemprop="datePublished"`` element: a written date, not ISO."""


def _read_value(value: object) -> dt.datetime | None:
    """A raw structured value as a datetime (naive when it names no offset)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, _ItempropText):
        for _, found in text_dates(clean_text(value)[:200], NAIVE):
            return found.replace(tzinfo=None) if found.tzinfo is NAIVE else found
        return None
    if isinstance(value, str | int | float):
        return _read(value)
    return None


def _offset_from_others(naive: dt.datetime, others: Iterable[dt.datetime | None]
                        ) -> dt.tzinfo | None:
    """The offset of another structured source that gives the same clock time (to the
    minute) with an offset."""
    wall = naive.replace(second=0, microsecond=0)
    for other in others:
        if (
            other is not None
            and other.tzinfo is not None
            and other.replace(tzinfo=None, second=0, microsecond=0) == wall
        ):
            return other.tzinfo
    return None


def _local_offset(found: dt.datetime, page_text: str) -> dt.tzinfo | None:
    """For a time written in UTC: the offset of the same instant written elsewhere in the
    page's source in local time (with its offset, or without one but to the second a
    whole number of half hours away), so that the day is the page's own."""
    if found.utcoffset() != dt.timedelta(0) or (found.minute, found.second) == (0, 0):
        return None
    if not _occurs_twice(page_text, f":{found.minute:02d}:{found.second:02d}"):  # only itself
        return None
    wall = found.replace(tzinfo=None, microsecond=0)
    for match in _iso_times_at_second(page_text, found.second):
        other = _read(match.group(0))
        if other is None:
            continue
        if other.tzinfo is not None:
            if other.utcoffset() and other == found:
                return other.tzinfo
            continue
        shift = other.replace(microsecond=0) - wall
        if shift and abs(shift) <= MAX_OFFSET and not shift % HALF_HOUR:
            return dt.timezone(shift)
    return None


def _occurs_twice(text: str, needle: str) -> bool:
    """``text.count(needle) >= 2``, without counting past the second."""
    first = text.find(needle)
    return first >= 0 and text.find(needle, first + len(needle)) >= 0


def _iso_times_at_second(page_text: str, second: int) -> Iterator[re.Match[str]]:
    """``ISO_IN_SOURCE_RE``'s matches in ``page_text`` whose seconds are ``second``, in
    order: the only ones that can be the same instant as a time with those seconds (offsets
    are whole minutes). Found from the seconds (``str.find``) instead of by running the
    expression over the whole source: a few hundred KB a page."""
    needle = f":{second:02d}"
    position = page_text.find(needle, ISO_SECONDS_AT)
    while position >= 0:
        match = ISO_IN_SOURCE_RE.match(page_text, position - ISO_SECONDS_AT)
        if match is not None:
            yield match
        position = page_text.find(needle, position + 1)


def _visible_text(tree: etree._Element) -> str:
    """The text nodes of the page's ``<body>`` outside ``<script>``, ``<style>`` and
    ``<noscript>``, joined by spaces (the nodes of ``//body//text()[not(ancestor::script
    or ancestor::style or ancestor::noscript)]``): ``SUBTREE_TEXT_XPATH`` reads each
    subtree free of those elements, and only the elements above one are walked here (that
    XPath tests every text node's ancestors: twice the time)."""
    parts: list[str] = []
    for body in tree.iter("body"):
        if any(above.tag in HIDDEN_TAGS or above.tag == "body" for above in body.iterancestors()):
            continue  # in a hidden element, or in another <body> (its text is read there)
        above_hidden: set[etree._Element] = set()
        for hidden in body.iter(*HIDDEN_TAGS):
            for above in hidden.iterancestors():
                if above in above_hidden:
                    break
                above_hidden.add(above)
                if above is body:
                    break
        if body not in above_hidden:
            parts.extend(SUBTREE_TEXT_XPATH(body))
            continue
        if body.text:
            parts.append(body.text)
        # the children still to read of each element being read, and the tail that follows it
        stack: list[tuple[Iterator[etree._Element], str | None]] = [(iter(body), None)]
        while stack:
            children, tail = stack[-1]
            for child in children:
                if child.tag in HIDDEN_TAGS or not isinstance(child.tag, str):
                    pass  # hidden, or a comment: only its tail is text of the page
                elif child in above_hidden:
                    if child.text:
                        parts.append(child.text)
                    stack.append((iter(child), child.tail))
                    break  # its children first, then its tail, then its next sibling
                else:
                    parts.extend(SUBTREE_TEXT_XPATH(child))
                if child.tail:
                    parts.append(child.tail)
            else:
                stack.pop()
                if tail:
                    parts.append(tail)
    return clean_text(" ".join(parts))


def _near_headline(visible: str, headline: str, tz: dt.tzinfo, month_first_slashes: bool
                   ) -> dt.datetime | None:
    """The first date written within ``NEAR_HEADLINE`` characters of the headline in the
    visible text (an unlabelled dateline above or below the ``<h1>``)."""
    position = visible.find(headline) if headline else -1
    if position < 0:
        return None
    window = visible[max(0, position - NEAR_HEADLINE) : position + len(headline) + NEAR_HEADLINE]
    return first_text_date(window, tz, month_first_slashes=month_first_slashes)


def _month_first_slashes(page: PageMeta) -> bool:
    """US English writes 7/5/2024 for 5 July; pages in other languages (and en-GB...) do not."""
    return (page.html_lang or "").lower().replace("_", "-") in {"en", "en-us"}


def _end_of_today() -> dt.datetime:
    """htmldate's own latest date (the end of the day; one value a day keeps its caches
    warm), from ``newslake.clock`` instead of the machine's clock."""
    return utc_now().replace(tzinfo=None, hour=23, minute=59, second=59, microsecond=999999)


@contextlib.contextmanager
def _without_dateparser() -> Iterator[None]:
    """htmldate with its last resort, dateparser, switched off for the ``with`` block.

    htmldate sends a text segment that its own patterns cannot read to dateparser, which
    first builds the regular expressions of every locale it tries: 1-2 s for a German
    segment, 10 s for one no locale reads, once per process (an Airflow task is one).
    On the pages of the three dev sets that reach htmldate it dated one page that its own
    patterns do not (an Arabic month name, which ``MONTH_NAMES`` now reads earlier in the
    chain). htmldate asks ``has_date_cue`` before it imports dateparser; answered "no",
    dateparser is neither imported nor called. Scoped to our own calls (a parse worker
    parses one page at a time; another thread's htmldate call meanwhile would also go
    without dateparser): htmldate's ``try_date_expr`` cache keys on the latest date,
    which ours (the end of the day) is not in htmldate's other callers (trafilatura
    passes the day at midnight)."""
    original = htmldate_extractors.has_date_cue
    htmldate_extractors.has_date_cue = _no_date_cue
    try:
        yield
    finally:
        htmldate_extractors.has_date_cue = original


def _no_date_cue(string: str, min_date: dt.datetime, max_date: dt.datetime) -> bool:
    return False


def _htmldate(tree: etree._Element, page_text: str, url: str, tz: dt.tzinfo
              ) -> dt.datetime | None:
    """htmldate's day for the page: its quick search of the markup first (~10 ms), its
    extensive search of the text (~50 ms, which is why this step comes last) only when
    that finds nothing; on the pages of dates-dev and snippets-dev that reach this step
    that is 3 in 10 fewer extensive searches and 2 more right days than the extensive
    search alone. Both run without dateparser (``_without_dateparser``). Given the page's
    text when there is one, htmldate prunes a tree of its own instead of deep-copying ours."""
    document: str | etree._Element = page_text or tree
    found = None
    with _without_dateparser():
        for extensive in (False, True):
            found = htmldate.find_date(
                document, extensive_search=extensive, original_date=True, url=url,
                max_date=_end_of_today(),
            )
            if found:
                break
    if not found:
        return None
    try:
        return _localise(dt.datetime.fromisoformat(found), tz)
    except ValueError:
        return None


# The IANA table of each country's time zones: from the tzdata package, else the system's.
ZONE_TABLES = ("zone1970.tab", "zone.tab")
SYSTEM_ZONEINFO = Path("/usr/share/zoneinfo")
# Country-code domains whose ISO 3166 code differs.
CCTLD_COUNTRIES = {"uk": "GB"}


@functools.cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    """ISO 3166 country code -> its IANA time zones (``zone.tab``), empty if none found."""
    text = ""
    for name in ZONE_TABLES:
        try:
            text = resources.files("tzdata").joinpath("zoneinfo", name).read_text("utf-8")
        except (ModuleNotFoundError, FileNotFoundError, OSError):
            try:
                text = (SYSTEM_ZONEINFO / name).read_text("utf-8")
            except OSError:
                continue
        if text:
            break
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            for country in fields[0].split(","):
                zones.setdefault(country.upper(), []).append(fields[2])
    return {country: tuple(names) for country, names in zones.items()}


def page_country(url: str) -> str | None:
    """The country of a site's country-code domain (``.it``), else None. (An ``<html lang>``
    region is no sign: ``en-US`` is many a CMS's default, wherever the site is.)"""
    host = (urlsplit(url).hostname or "").lower()
    suffix = host.rsplit(".", 1)[-1] if "." in host else ""
    if len(suffix) == 2 and suffix.isalpha():
        return CCTLD_COUNTRIES.get(suffix, suffix.upper())
    return None


def _country_day(found: dt.datetime, country: str | None) -> dt.datetime | None:
    """``found`` (a time written in UTC) in the country's time zone, when all of the
    country's zones put it on the same day; else None."""
    names = _country_zones().get(country or "")
    if not names:
        return None
    shown: list[dt.datetime] = []
    for name in names:
        try:
            shown.append(found.astimezone(ZoneInfo(name)))
        except (ZoneInfoNotFoundError, ValueError, OverflowError):
            return None
    if len({value.date() for value in shown}) != 1:
        return None
    local = shown[0]
    offset = local.utcoffset()
    return local.astimezone(dt.timezone(offset)) if offset is not None else None


Candidate = tuple[str, dt.datetime, bool]  # source, aware time, written in UTC


class _Reads:
    """The structured values as datetimes, read only as far as asked: each source past the
    meta is an XPath over the whole page, and most pages are settled by the first ones."""

    def __init__(self, page: PageMeta, tree: etree._Element) -> None:
        # the page's sources in ``_structured``'s order, read as far as asked
        self._pending = _structured(page, tree)
        self._done: list[tuple[str, dt.datetime | None]] = []

    def __iter__(self) -> Iterator[tuple[str, dt.datetime | None]]:
        index = 0
        while True:
            if index < len(self._done):
                yield self._done[index]
                index += 1
                continue
            following = next(self._pending, None)
            if following is None:
                return
            self._done.append((following[0], _read_value(following[1])))


def _structured_candidates(reads: _Reads, tz: dt.tzinfo, last_resort: bool = True
                           ) -> Iterator[Candidate]:
    """The plausible machine-readable publication times, most trusted first (a time
    without an offset takes that of the same clock time elsewhere, else ``tz``); without
    the last resorts (hidden inputs, epochs) unless ``last_resort``."""
    for source, read in reads:
        if source == LAST_RESORT and not last_resort:
            return
        if read is None:
            continue
        written_utc = read.tzinfo is not None and read.utcoffset() == dt.timedelta(0)
        if read.tzinfo is None:
            offset = _offset_from_others(read, _offset_sources(reads, tz))
            read = read.replace(tzinfo=offset or tz)
        if _plausible(read):
            yield source, read, written_utc


def _offset_sources(reads: _Reads, tz: dt.tzinfo) -> Iterator[dt.datetime | None]:
    """The reads a time without an offset may take its offset from; in UTC, not the epochs
    (a time in UTC: the offset it would give is ``tz``'s), whose XPath tests every
    attribute of the page."""
    for source, read in reads:
        if source == EPOCHS and tz is UTC:
            return
        yield read


def _backed_twice(candidates: list[Candidate]) -> bool:
    """JSON-LD and meta both name the first candidate's day."""
    first = candidates[0][1].date()
    return {"jsonld", "meta"} <= {source for source, at, _ in candidates if at.date() == first}


def _same_moment(a: dt.datetime, b: dt.datetime) -> bool:
    """Two times a whole number of half hours apart, within the widest gap of two
    offsets: one moment written in two zones (or with a wrong offset), not two dates.
    A bare date (midnight) is a day, never a moment."""
    if dt.time() in (a.timetz().replace(tzinfo=None), b.timetz().replace(tzinfo=None)):
        return False
    shift = abs(a.replace(microsecond=0) - b.replace(microsecond=0))
    return shift <= 2 * MAX_OFFSET and not shift % HALF_HOUR


def _rivals(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that name another day than the first and are not the same moment."""
    first = candidates[0][1]
    return [c for c in candidates
            if c[1].date() != first.date() and not _same_moment(c[1], first)]


def _disputed(candidates: list[Candidate]) -> bool:
    """The machine-readable sources name more than one day (not one moment in two
    zones), and the most trusted day is not backed by both JSON-LD and meta (two sources
    a CMS fills apart agree: no dispute)."""
    return bool(_rivals(candidates)) and not _backed_twice(candidates)


def _shown_days(visible: str, tree: etree._Element, page: PageMeta, tz: dt.tzinfo,
                month_first: bool) -> list[dt.date]:
    """The days the reader sees for the article: after a publication label, in a
    dateline element, next to the headline (in that order)."""
    found = (
        _labelled_date(visible, tz, month_first),
        _dateline(tree, tz, month_first),
        _near_headline(visible, page.h1, tz, month_first),
    )
    return [value.date() for value in found if value is not None]


def _settled_by_text(candidates: list[Candidate], shown: list[dt.date]) -> Candidate:
    """Of machine-readable times that disagree on the day, the first one whose day the
    page shows its reader (a ``<time>`` or meta left from a draft, a template or an
    update is not what the page prints); the most trusted when the page shows its day or
    none of theirs."""
    first = candidates[0]
    if first[1].date() in shown:
        return first
    rivals = _rivals(candidates)
    for day in shown:
        for candidate in rivals:
            if candidate[1].date() == day:
                return candidate
    return first


def find_published(
    page: PageMeta, tree: etree._Element, url: str, tz: dt.tzinfo | None = None,
    page_text: str = "",
) -> Published | None:
    """The publication time by the fallback chain of the module doc, or None."""
    tz = tz or UTC
    month_first = _month_first_slashes(page)
    visible: str | None = None
    reads = _Reads(page, tree)
    first = next(_structured_candidates(reads, tz), None)
    if first is not None:
        source, read, written_utc = first
        candidates = [first]
        others = islice(_structured_candidates(reads, tz, last_resort=False), 1, None)
        for candidate in others:  # read on until JSON-LD and meta back the first day
            candidates.append(candidate)
            if _backed_twice(candidates):
                break
        if _disputed(candidates):
            visible = _visible_text(tree)
            source, read, written_utc = _settled_by_text(
                candidates, _shown_days(visible, tree, page, tz, month_first))
        local = _local_offset(read, page_text) if page_text else None
        if local is not None:
            return Published(read.astimezone(local), source)
        if written_utc and read.time() != dt.time():  # a time, not a bare date
            shown = read.astimezone(tz) if tz is not UTC else None
            read = shown or _country_day(read, page_country(url)) or read
        return Published(read, source)
    visible = _visible_text(tree) if visible is None else visible
    found = _labelled_date(visible, tz, month_first) or _dateline(tree, tz, month_first)
    if found is not None:
        return Published(found, "text")
    from_url = url_date(url, tz)
    scripted = script_published_at(page_text, tz) if page_text else None
    if scripted is not None and (from_url is None or _same_day(scripted, from_url, tz)):
        return Published(scripted, "script")  # the time of day the URL's date lacks
    if from_url is not None:
        return Published(from_url, "url")
    found = _near_headline(visible, page.h1, tz, month_first)
    if found is not None:
        return Published(found, "text")
    found = _htmldate(tree, page_text, url, tz)
    return Published(found, "htmldate") if found is not None else None


def find_published_at(
    page: PageMeta, tree: etree._Element, url: str, tz: dt.tzinfo | None = None,
    page_text: str = "",
) -> dt.datetime | None:
    """``find_published``'s time in UTC."""
    found = find_published(page, tree, url, tz, page_text)
    return found.at.astimezone(UTC) if found is not None else None


def _same_day(a: dt.datetime, b: dt.datetime, tz: dt.tzinfo) -> bool:
    return a.astimezone(tz).date() == b.astimezone(tz).date()


def find_modified_at(page: PageMeta, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    tz = tz or UTC
    found = _first_datetime([page.ld("dateModified")], tz)
    if found is None:
        found = _first_datetime((page.first(key) for key in MODIFIED_META_KEYS), tz)
    return found
