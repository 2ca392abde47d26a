"""A sample of recent articles parsed on the generic path: what each field looks like,
what looks wrong, the boilerplate lines the sample shares, and the language and time zone
the pages suggest (guesses, said to be)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from lxml import etree, html
from soupsieve import escape as css_escape

from newslake.config import Outlet
from newslake.errors import ParseError
from newslake.fetch import ARTICLE_CONTENT_TYPES, Fetcher
from newslake.parse import parse_article
from newslake.parse.decode import decode_html
from newslake.record import count_words

# Under this many words a body is probably a teaser, a paywall stub or a failed extraction.
SHORT_BODY_WORDS = 80
# A line is boilerplate when this share of the parsed pages (and at least two) carry it.
BOILERPLATE_SHARE = 0.3
# Longer lines are prose, not a promo or a footer.
MAX_BOILERPLATE_CHARS = 300
# "READ: …", "Sign up: …": a label up to a colon starts the line.
LABEL_RE = re.compile(r"^([^\s:][^:]{0,24}):\s")
PROPOSED_WORDS = 6
# What promos, footers and calls to action say (a repeated sentence of news prose is no
# boilerplate: agencies and templates repeat those).
PROMO_RE = re.compile(
    r"\b(?:read(?: more| also)?|subscribe|newsletter|donat\w*|sign up|follow us|connect with us"
    r"|advertis\w*|copyright|all rights reserved|click here|share this|related|support"
    r"|читайте також|підписуйтесь|читайте|подписывайтесь|lesen sie auch|lire aussi|leer más)\b"
    r"|©", re.IGNORECASE)
ISO_OFFSET_RE = re.compile(
    r"\b(20\d\d-\d\d-\d\d)T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:?\d\d)\b")
# Zones tried for a guess from an offset, most used first; the language picks among them.
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
         "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin",
         "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam", "Europe/Warsaw", "Europe/Kyiv",
         "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "Africa/Lagos",
         "Africa/Johannesburg", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi",
         "Asia/Kolkata", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
         "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo",
         "America/Argentina/Buenos_Aires", "America/Mexico_City", "America/Toronto")
LANGUAGE_ZONES = {"uk": "Europe/Kyiv", "de": "Europe/Berlin", "fr": "Europe/Paris",
                  "es": "Europe/Madrid", "it": "Europe/Rome", "nl": "Europe/Amsterdam",
                  "pl": "Europe/Warsaw", "ru": "Europe/Moscow", "tr": "Europe/Istanbul",
                  "el": "Europe/Athens", "pt": "Europe/Lisbon", "ja": "Asia/Tokyo",
                  "ko": "Asia/Seoul", "zh": "Asia/Shanghai", "hi": "Asia/Kolkata",
                  "th": "Asia/Bangkok", "ar": "Asia/Dubai"}


@dataclass
class PageProfile:
    url: str
    error: str | None = None  # "fetch: …" or "parse: …"
    title: str = ""
    published_at: dt.datetime | None = None
    date_source: str | None = None
    authors: list[str] = field(default_factory=list)
    body_chars: int = 0
    words: int = 0
    language: str | None = None
    paywalled: bool | None = None
    parser: str = ""
    flags: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    html: str = ""


@dataclass(frozen=True)
class Boilerplate:
    pattern: str  # a drop_paragraphs regex
    example: str
    pages: int
    selector: str | None = None  # the element around it, when one class names it


@dataclass
class Profile:
    pages: list[PageProfile]
    boilerplate: list[Boilerplate]
    language: str | None
    language_reason: str
    timezone: str
    timezone_reason: str

    @property
    def parsed(self) -> list[PageProfile]:
        return [p for p in self.pages if p.error is None]


def _date_source(article: object, url: str, published: dt.datetime, tz: ZoneInfo) -> str | None:
    """The parse's own word for where the date came from when it gives one; otherwise
    "url?" for a local midnight whose date the URL carries (a date read from the URL)."""
    source = getattr(article, "published_at_source", None)
    if source:
        return str(source)
    local = published.astimezone(tz)
    if local.time() == dt.time() and any(
            local.strftime(f) in url for f in ("%Y/%m/%d", "%Y-%m-%d", "%Y%m%d")):
        return "url?"
    return None


def profile_page(fetcher: Fetcher, url: str, outlet: Outlet) -> PageProfile:
    result = fetcher.fetch(url, content_types=ARTICLE_CONTENT_TYPES)
    if not result.ok or result.body is None:
        return PageProfile(url, error=f"fetch: {result.error}")
    page = PageProfile(url, html=decode_html(result.body, result.headers))
    try:
        article = parse_article(result.body, result.final_url, outlet, headers=result.headers)
    except ParseError as exc:
        page.error = f"parse: {exc}"
        return page
    assert article.published_at is not None  # parse_article raises without one
    page.title, page.published_at = article.title, article.published_at
    page.date_source = _date_source(article, result.final_url, article.published_at, outlet.tz)
    page.authors, page.language = article.authors, article.language
    page.body_chars, page.words = len(article.body), count_words(article.body)
    page.paywalled, page.parser = article.is_paywalled, article.parser
    # The body's lines and the page's paragraphs: the generic extractor drops many promos
    # itself, but a body_selector added later would keep them.
    lines = [line.strip() for line in article.body.split("\n")] + _paragraphs(page.html)
    page.lines = list(dict.fromkeys(line for line in lines if line))
    if not page.authors:
        page.flags.append("no byline")
    if page.date_source in ("url", "url?"):
        page.flags.append("date only from the URL")
    if page.words < SHORT_BODY_WORDS:
        page.flags.append(f"short body ({page.words} words)")
    if page.paywalled:
        page.flags.append("paywalled")
    return page


def _paragraphs(page_html: str) -> list[str]:
    try:
        tree = html.document_fromstring(page_html)
    except (etree.ParserError, ValueError):
        return []
    return [" ".join(p.text_content().split()) for p in tree.iter("p")]


def _line_key(line: str) -> str:
    label = LABEL_RE.match(line)
    return label.group(1) + ":" if label else " ".join(line.split()[:4])


def _common_prefix(lines: list[str]) -> str:
    prefix = lines[0]
    for line in lines[1:]:
        while not line.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


def _literal(text: str) -> str:
    """``text`` as a regex matching itself, escaping only what regexes give a meaning
    (``re.escape`` also escapes spaces and hyphens, which makes the YAML hard to read)."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def _pattern(key: str, lines: list[str]) -> str:
    if key.endswith(":"):
        return "^" + _literal(key)
    words = _common_prefix(lines).split()
    if len(words) > 1 and not lines[0].startswith(" ".join(words) + " ") and \
            len(set(lines)) > 1:
        words = words[:-1]  # the last word may be cut in the middle
    return "^" + _literal(" ".join(words[:PROPOSED_WORDS]))


def _selector_for(page_html: str, line: str) -> str | None:
    """``tag.class`` of a small element around ``line`` in the page, if any."""
    try:
        tree = html.document_fromstring(page_html)
    except (etree.ParserError, ValueError):
        return None
    head = line[:40]
    smallest = None
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        text = " ".join(element.text_content().split())
        if text.startswith(head) and (smallest is None or
                                      len(text) <= len(" ".join(smallest.text_content().split()))):
            smallest = element
    node = smallest
    for _ in range(3):
        if node is None:
            return None
        size = len(" ".join(node.text_content().split()))
        if size > 3 * len(line) + 200:
            return None
        classes = (node.get("class") or "").split()
        if classes and node.tag not in ("p", "span", "a", "strong", "em", "b", "i"):
            return f"{node.tag}.{css_escape(classes[0])}"
        node = node.getparent()
    return None


def find_boilerplate(pages: list[PageProfile]) -> list[Boilerplate]:
    """Lines (or line labels such as "READ:") that recur across the sample's bodies."""
    parsed = [p for p in pages if p.error is None]
    needed = max(2, math.ceil(BOILERPLATE_SHARE * len(parsed)))
    by_key: dict[str, list[tuple[PageProfile, str]]] = {}
    for page in parsed:
        keys: dict[str, str] = {}
        for line in page.lines:
            key = _line_key(line)
            if len(line) <= MAX_BOILERPLATE_CHARS and (
                    key.endswith(":") or PROMO_RE.search(line)):
                keys.setdefault(key, line)
        for key, line in keys.items():
            by_key.setdefault(key, []).append((page, line))
    found = []
    for key, hits in by_key.items():
        if len(hits) < needed:
            continue
        lines = [line for _, line in hits]
        selectors = Counter(_selector_for(page.html, line) for page, line in hits[:5])
        selector, count = selectors.most_common(1)[0]
        found.append(Boilerplate(_pattern(key, lines), lines[0], len(hits),
                                 selector if count >= 2 else None))
    return sorted(found, key=lambda b: (-b.pages, b.pattern))


def guess_language(pages: list[PageProfile], home_lang: str | None) -> tuple[str | None, str]:
    counts = Counter(p.language for p in pages if p.error is None and p.language)
    if counts:
        code, n = counts.most_common(1)[0]
        return code, f"guess: {n} of {sum(counts.values())} sampled bodies read as {code!r}"
    if home_lang:
        code = home_lang[:2].lower()
        return code, f"guess: the home page's lang={home_lang!r}"
    return None, "unknown: no body long enough to tell; set it"


def guess_timezone(pages: list[PageProfile], language: str | None) -> tuple[str, str]:
    """The zone of the most common UTC offset the pages print (ISO 8601 times), with the
    language choosing among zones that share it."""
    offsets: Counter[tuple[str, str]] = Counter()
    for page in pages:
        for day, offset in ISO_OFFSET_RE.findall(page.html):
            offsets[(day, offset.replace(":", ""))] += 1
    preferred = LANGUAGE_ZONES.get(language or "")
    shown = [(d, o) for (d, o) in offsets if o not in ("Z", "+0000", "-0000")]
    if not shown:
        if preferred:
            return preferred, (f"guess from the language {language!r}: the pages print no "
                               "local offset")
        return "UTC", "guess: the pages print no local offset; UTC until you know better"
    (day, offset), n = max(((k, v) for k, v in offsets.items() if k in shown),
                           key=lambda kv: kv[1])
    sign = 1 if offset[0] == "+" else -1
    delta = sign * dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    moment = dt.datetime.fromisoformat(day + "T12:00:00")
    fits = [z for z in ZONES if ZoneInfo(z).utcoffset(moment) == delta]
    reason = f"guess: the pages print times at UTC{offset[:3]}:{offset[3:]} ({n} times)"
    if preferred in fits:
        return preferred, reason + f" and the language is {language!r}"
    if fits:
        return fits[0], reason + f"; other zones with that offset: {', '.join(fits[1:4]) or '-'}"
    return "UTC", reason + ": no usual zone has that offset; set it"


def profile_sample(fetcher: Fetcher, urls: list[str], outlet: Outlet,
                   home_lang: str | None = None) -> Profile:
    pages = [profile_page(fetcher, url, outlet) for url in urls]
    language, language_reason = guess_language(pages, home_lang)
    timezone, timezone_reason = guess_timezone(pages, language)
    return Profile(pages, find_boilerplate(pages), language, language_reason, timezone,
                   timezone_reason)
