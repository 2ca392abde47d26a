"""Finding an outlet's discovery sources from its home page, as a careful person would.

In order: the home page (refused politely when robots.txt or the address guard says no),
robots.txt's ``Sitemap:`` lines, the home page's ``<link rel="alternate">`` feeds, the
usual CMS paths when those gave nothing (``feed/``, ``rss/``, ``sitemap_index.xml``,
``news-sitemap.xml``, ``sitemap.xml`` …), and the usual date-archive paths for yesterday.
Every request goes through one ``Fetcher`` (robots.txt, rate limit, private addresses);
the work is bounded (``MAX_FEEDS``, ``MAX_SITEMAP_DOCUMENTS``, ``MAX_PROBES``) and what was
left out is said in ``Found.notes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup, Tag
from protego import Protego
from soupsieve import escape as css_escape

from newslake.config import Outlet, Politeness
from newslake.discover.archive import page_links
from newslake.discover.documents import charset_of, local_name, parse_date
from newslake.discover.models import Entry, SourceError
from newslake.discover.rss import feed_entries
from newslake.discover.sitemap import read_sitemap, urlset_entries
from newslake.fetch import (
    ARTICLE_CONTENT_TYPES,
    ERR_PRIVATE,
    ERR_ROBOTS,
    ROBOTS_MAX_BYTES,
    Fetcher,
    FetchResult,
)
from newslake.onboard import OnboardError
from newslake.urls import canonicalize_url

# Feeds read at most: a home page may link thousands (or be built to).
MAX_FEEDS = 5
# Sitemap documents read at most, indexes included (an index may loop or nest).
MAX_SITEMAP_DOCUMENTS = 12
# Children of a sitemap index read: the newest by <lastmod>.
MAX_INDEX_CHILDREN = 3
# Usual paths tried at most (each is one request).
MAX_PROBES = 10
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
              "application/rdf+xml")
FEED_PATHS = ("feed/", "rss/", "rss.xml", "feed.xml", "atom.xml")
SITEMAP_PATHS = ("news-sitemap.xml", "sitemap_index.xml", "sitemap.xml")
ARCHIVE_TEMPLATES = ("archive/{date:%Y/%m/%d}/", "archive/{date:%Y-%m-%d}/",
                     "{date:%Y/%m/%d}/")
# An archive page lists articles; fewer links that look like articles is something else.
MIN_ARCHIVE_LINKS = 3


@dataclass(frozen=True)
class FoundSource:
    """A source that answered and listed articles, and how it was found."""

    type: str  # rss | sitemap | archive
    url: str  # the feed, sitemap, or yesterday's archive page
    found_by: str
    entries: int
    url_template: str | None = None
    link_selector: str | None = None
    news: bool = False  # a Google News sitemap (news:publication_date)


@dataclass
class Found:
    base_url: str  # the home page's final URL
    home: FetchResult
    site_name: str
    sources: list[FoundSource] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # on the outlet's site, newest first
    notes: list[str] = field(default_factory=list)


def onboarding_outlet(base_url: str, *, allow_private: bool = False,
                      requests_per_second: float = 1.0, name: str = "onboarding") -> Outlet:
    """A config-less outlet for the fetcher: default politeness, one request at a time."""
    return Outlet(
        id="onboarding", name=name, base_url=base_url, language="en", timezone="UTC",
        start_date=dt.date(2000, 1, 1),
        politeness=Politeness(requests_per_second=requests_per_second, concurrency=1,
                              allow_private_addresses=allow_private),
    )


def _refusal(result: FetchResult, what: str, user_agent: str) -> OnboardError:
    if result.error_slug == ERR_ROBOTS:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(result.final_url))
        return OnboardError(
            f"{origin}/robots.txt disallows {result.final_url} for our user agent "
            f"({user_agent}): newslake does not crawl a site that asks it not to. Ask the "
            "outlet for access, or use a feed or WARC files it publishes elsewhere.")
    if result.error_slug == ERR_PRIVATE:
        return OnboardError(
            f"{result.final_url} resolves to a private, loopback or reserved address, which "
            "newslake refuses as its fetcher does; pass --allow-private for a site on your "
            "own network (the config then sets politeness.allow_private_addresses).")
    return OnboardError(f"could not fetch the {what} {result.url}: {result.error}")


def under(url: str, base_url: str) -> bool:
    """Whether ``url`` is on the outlet's site (``www.`` ignored) and under its base path."""
    try:
        parts, base = urlsplit(url), urlsplit(base_url)
    except ValueError:
        return False
    host = (parts.hostname or "").removeprefix("www.")
    if parts.scheme not in ("http", "https") or host != (base.hostname or "").removeprefix("www."):
        return False
    if parts.port != base.port:
        return False
    prefix = base.path if base.path.endswith("/") else base.path.rsplit("/", 1)[0] + "/"
    return parts.path.startswith(prefix)


def _robots_sitemaps(fetcher: Fetcher, base_url: str) -> list[str]:
    parts = urlsplit(base_url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    result = fetcher.fetch(robots_url, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)
    if not result.ok or result.body is None:
        return []
    rules = Protego.parse(result.body.decode("utf-8", "replace"))
    return list(dict.fromkeys(urljoin(robots_url, s) for s in rules.sitemaps))


def _soup(result: FetchResult) -> BeautifulSoup:
    assert result.body is not None
    return BeautifulSoup(result.body, "lxml", from_encoding=charset_of(result.headers))


def site_name_of(soup: BeautifulSoup) -> str:
    """og:site_name, else the home page's <title> before its first separator."""
    meta = soup.find("meta", attrs={"property": "og:site_name"})
    if isinstance(meta, Tag) and str(meta.get("content") or "").strip():
        return str(meta["content"]).strip()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for separator in (" | ", " - ", " – ", " — ", " :: "):
        title = title.split(separator, 1)[0]
    return title.strip()


def _linked_feeds(soup: BeautifulSoup, base_url: str) -> list[str]:
    feeds = []
    for link in soup.select("link[rel~=alternate][href]"):
        kind = str(link.get("type") or "").lower()
        title = str(link.get("title") or "").lower()
        href = urljoin(base_url, str(link["href"]).strip())
        if kind in FEED_TYPES and "comment" not in title and "/comments/" not in href:
            feeds.append(href)
    return list(dict.fromkeys(feeds))


def _newest_first(entries: list[Entry]) -> list[Entry]:
    floor = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(entries, key=lambda e: e.date or floor, reverse=True)


class _Finder:
    def __init__(self, fetcher: Fetcher, base_url: str, found: Found) -> None:
        self.fetcher, self.base_url, self.found = fetcher, base_url, found
        self.probes = 0

    def probe(self) -> bool:
        """Whether one more usual path may be tried (``MAX_PROBES``)."""
        self.probes += 1
        return self.probes <= MAX_PROBES

    def add(self, source: FoundSource, entries: list[Entry]) -> None:
        self.found.sources.append(source)
        self.found.entries.extend(e for e in entries if under(e.url, self.base_url))

    def feed(self, url: str, found_by: str, quiet: bool = False) -> bool:
        try:
            entries = feed_entries(self.fetcher.fetch, url)
        except SourceError as exc:
            if not quiet:
                self.found.notes.append(f"feed {url} ({found_by}) not used: {exc}")
            return False
        mine = [e for e in entries if under(e.url, self.base_url)]
        if not mine:
            self.found.notes.append(f"feed {url} ({found_by}) lists nothing under "
                                    f"{self.base_url}")
            return False
        self.add(FoundSource("rss", url, found_by, len(mine)), mine)
        return True

    def sitemap(self, url: str, found_by: str, budget: list[int], quiet: bool = False) -> bool:
        """Read a sitemap or index (the newest children only), within ``budget`` documents."""
        tz = ZoneInfo("UTC")
        queue, seen = [url], {canonicalize_url(url)}
        entries: list[Entry] = []
        news = False
        while queue:
            current = queue.pop(0)
            if budget[0] <= 0:
                self.found.notes.append(f"sitemap documents capped at {MAX_SITEMAP_DOCUMENTS}: "
                                        f"{current} and {len(queue)} more not read")
                break
            budget[0] -= 1
            try:
                result = self.fetcher.fetch(current)
                if not result.ok or result.body is None:
                    raise SourceError(result.error_slug or "no_body", current,
                                      str(result.error or ""))
                root = read_sitemap(result.body, result.final_url)
            except SourceError as exc:
                if not (quiet and current == url):
                    self.found.notes.append(f"sitemap {current} ({found_by}) not used: {exc}")
                continue
            if local_name(root.tag) == "urlset":
                listed = urlset_entries(root, tz)
                news = news or any(e.published_hint is not None for e in listed)
                entries.extend(listed)
                continue
            children = []
            for item in root:
                loc = next((c.text for c in item if local_name(c.tag) == "loc" and c.text), None)
                if local_name(item.tag) != "sitemap" or not loc:
                    continue
                lastmod = next((parse_date(c.text, tz) for c in item
                                if local_name(c.tag) == "lastmod"), None)
                children.append(Entry(urljoin(result.final_url, loc.strip()), lastmod))
            for child in _newest_first(children)[:MAX_INDEX_CHILDREN]:
                key = canonicalize_url(child.url)
                if key in seen:
                    self.found.notes.append(
                        f"sitemap index loop: {current} lists {child.url}, already read")
                    continue
                seen.add(key)
                queue.append(child.url)
        mine = [e for e in entries if under(e.url, self.base_url)]
        if not mine:
            if entries or not quiet:
                self.found.notes.append(f"sitemap {url} ({found_by}) lists no article under "
                                        f"{self.base_url}")
            return False
        self.add(FoundSource("sitemap", url, found_by, len(mine), news=news), mine)
        return True

    def archive(self, day: dt.date) -> bool:
        for template in ARCHIVE_TEMPLATES:
            page_url = urljoin(self.base_url, template.format(date=day))
            if not self.probe():
                break
            result = self.fetcher.fetch(page_url, content_types=ARTICLE_CONTENT_TYPES)
            if not result.ok or result.body is None:
                continue
            links = {canonicalize_url(u) for u in page_links(
                result.body, result.final_url, None, charset_of(result.headers))
                if under(u, self.base_url) and looks_like_article(u)}
            if len(links) < MIN_ARCHIVE_LINKS:
                continue
            pages = [result]
            before = self.fetcher.fetch(urljoin(self.base_url, template.format(
                date=day - dt.timedelta(days=1))), content_types=ARTICLE_CONTENT_TYPES)
            if before.ok and before.body:
                pages.append(before)
            selector = link_selector(pages, links)
            picked = (page_links(result.body, result.final_url, selector,
                                 charset_of(result.headers)) if selector else links)
            entries = [Entry(u, None) for u in dict.fromkeys(picked) if under(u, self.base_url)]
            self.add(FoundSource("archive", page_url, "usual date-archive path", len(entries),
                                 url_template=urljoin(self.base_url, template),
                                 link_selector=selector), entries)
            return True
        return False


def looks_like_article(url: str) -> bool:
    """A URL shaped like an article's: a long slug, or a long number (an ID); not a date."""
    path = urlsplit(url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    words = [w for w in last.replace("_", "-").split("-") if any(c.isalpha() for c in w)]
    digits = max((len(run) for run in "".join(c if c.isdigit() else " " for c in last).split()),
                 default=0)
    return len(words) >= 3 or digits >= 5


def _selector_candidates(link: Tag) -> list[str]:
    own = [f"a.{css_escape(c)}" for c in link.get_attribute_list("class") if c]
    found = list(own)
    node = link.parent
    for _ in range(3):
        if not isinstance(node, Tag) or node.name in ("body", "html"):
            break
        if node.get("id"):
            found.append(f"#{css_escape(str(node['id']))} a")
        for c in node.get_attribute_list("class"):
            if c:
                found.append(f"{node.name}.{css_escape(c)} a")
                found += [f"{node.name}.{css_escape(c)} {a}" for a in own]
        node = node.parent
    return found


def _picked(page: FetchResult, selector: str) -> set[str] | None:
    """Canonical URLs of the links ``selector`` picks on ``page``, by the code discovery
    runs (``page_links``: cssselect on lxml), so a proposal picks what ingest will pick;
    None for a selector cssselect refuses."""
    try:
        links = page_links(page.body or b"", page.final_url, selector, charset_of(page.headers))
    except SourceError as exc:
        if exc.reason == "bad_selector":
            return None
        raise
    urls = set()
    for link in links:
        try:
            urls.add(canonicalize_url(link))
        except ValueError:
            continue
    return urls


def link_selector(pages: list[FetchResult], articles: set[str]) -> str | None:
    """The CSS selector of an archive page's own list of articles.

    ``pages``: the archive pages of two days, the first the one whose article
    links (canonical) are ``articles``. Candidates come from the classes and ids around
    those links; one that picks anything but article links is out. A day's list changes
    from day to day, a sidebar of the latest stories does not: the candidate whose links
    differ most between the two days wins (the most links, with one page), then the
    shortest. None when no candidate qualifies."""
    first = pages[0]
    url = first.final_url
    candidates: set[str] = set()
    for anchor in _soup(first).select("a[href]"):
        try:
            href = canonicalize_url(urljoin(url, str(anchor["href"]).strip()))
        except ValueError:
            continue
        if href in articles:
            candidates.update(_selector_candidates(anchor))
    best: tuple[int, int, str] | None = None
    for selector in sorted(candidates):
        picks = [_picked(page, selector) for page in pages]
        if any(p is None for p in picks):
            continue
        sets = [p for p in picks if p is not None]
        if not sets[0] or not sets[0] <= articles:
            continue
        changing = len(sets[0] ^ sets[1]) if len(sets) > 1 else len(sets[0])
        score = (-changing, len(selector), selector)
        if changing and (best is None or score < best):
            best = score
    return best[2] if best else None


def find_sources(fetcher: Fetcher, base_url: str, day: dt.date) -> Found:
    """The outlet's discovery sources and recent article URLs. ``day``: the date whose
    archive page is probed (yesterday). Raises ``OnboardError`` when the home page cannot
    be fetched (robots.txt, private address, an error) or no source lists articles."""
    home = fetcher.fetch(base_url, content_types=ARTICLE_CONTENT_TYPES)
    if not home.ok or home.body is None:
        raise _refusal(home, "home page", fetcher.user_agent)
    base = home.final_url
    soup = _soup(home)
    found = Found(base_url=base, home=home, site_name=site_name_of(soup))
    finder = _Finder(fetcher, base, found)

    linked = _linked_feeds(soup, base)
    if len(linked) > MAX_FEEDS:
        found.notes.append(f"the home page links {len(linked)} feeds: read the first "
                           f"{MAX_FEEDS} only")
    feeds = [finder.feed(url, "<link rel=alternate> in the home page")
             for url in linked[:MAX_FEEDS]]
    if not any(feeds):
        for path in FEED_PATHS:
            url = urljoin(base, path)
            if (url not in linked and finder.probe()
                    and finder.feed(url, f"usual path {path}", quiet=True)):
                break

    budget = [MAX_SITEMAP_DOCUMENTS]
    robots_maps = [u for u in _robots_sitemaps(fetcher, base) if under(u, base)]
    sitemaps = [finder.sitemap(url, "robots.txt Sitemap line", budget)
                for url in robots_maps[:MAX_FEEDS]]
    if not any(sitemaps):
        for path in SITEMAP_PATHS:
            url = urljoin(base, path)
            if (url not in robots_maps and finder.probe()
                    and finder.sitemap(url, f"usual path {path}", budget, quiet=True)):
                break

    finder.archive(day)
    if not found.sources:
        tried = "; ".join(found.notes) or "no feed, sitemap or date archive answered"
        raise OnboardError(f"no discovery source found for {base}: {tried}. Add one by hand "
                           "to the YAML (see include/outlets/tampafp.yaml).")
    unique: dict[str, Entry] = {}
    for entry in _newest_first(found.entries):
        try:
            unique.setdefault(canonicalize_url(entry.url), entry)
        except ValueError:
            continue
    found.entries = [e for url, e in unique.items() if url.rstrip("/") != base.rstrip("/")]
    return found
