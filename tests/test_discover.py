"""discover() against a loopback site: feeds, sitemaps, archive pages, and hostile XML."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from helpers.loopback import Loopback, Reply

from newslake.config import DiscoverySource, Outlet, Politeness
from newslake.discover import discover, discovery_window
from newslake.discover.archive import archive_page_urls, page_links
from newslake.errors import FetchError

DAY = dt.date(2024, 1, 15)  # the run's interval is [2024-01-15, 2024-01-16) UTC
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
XML_TYPE = {"Content-Type": "application/xml"}

pytestmark = pytest.mark.usefixtures("fast_backoff")


def make_outlet(site: Loopback, *sources: DiscoverySource, tz: str = "UTC") -> Outlet:
    return Outlet(
        id="loop",
        name="Loopback",
        base_url=site.url("/"),
        language="en",
        timezone=tz,
        start_date=dt.date(2024, 1, 1),
        discovery=sources,
        politeness=Politeness(
            requests_per_second=500.0, allow_private_addresses=("127.0.0.1/32",),
            timeout_seconds=2.0
        ),
    )


def rss(items: list[tuple[str, str | None]], encoding: str = "utf-8") -> bytes:
    body = "".join(
        f"<item><title>Статья</title><link>{link}</link>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
        + "</item>"
        for link, date in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f"<rss version='2.0'><channel><title>T</title>{body}</channel></rss>"
    ).encode(encoding)


def urlset(entries: list[tuple[str, str | None]], news: bool = False) -> bytes:
    items = []
    for loc, date in entries:
        if news and date:
            extra = f"<news:news><news:publication_date>{date}</news:publication_date></news:news>"
        else:
            extra = f"<lastmod>{date}</lastmod>" if date else ""
        items.append(f"<url><loc>{loc}</loc>{extra}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + "".join(items)
        + "</urlset>"
    ).encode()


def index(children: list[tuple[str, str | None]]) -> bytes:
    items = "".join(
        f"<sitemap><loc>{loc}</loc>" + (f"<lastmod>{d}</lastmod>" if d else "") + "</sitemap>"
        for loc, d in children
    )
    return (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + items
        + "</sitemapindex>"
    ).encode()


def paths(result_urls: list[str], site: Loopback) -> list[str]:
    return [unquote(url.removeprefix(site.base)) for url in result_urls]


@pytest.mark.timeout(10)
def test_window_is_a_day_either_side() -> None:
    start, end = discovery_window(DAY)
    assert start == dt.datetime(2024, 1, 14, tzinfo=dt.UTC)
    assert end == dt.datetime(2024, 1, 17, tzinfo=dt.UTC)


@pytest.mark.timeout(10)
def test_rss_keeps_window_and_undated_drops_old_off_site_and_duplicates(site: Loopback) -> None:
    site.routes["/feed"] = Reply(
        body=rss(
            [
                (site.url("/a?utm_source=x"), "Mon, 15 Jan 2024 10:00:00 +0000"),
                (site.url("/a"), "Mon, 15 Jan 2024 10:00:00 +0000"),  # same after canonical
                (site.url("/b"), None),  # no date: kept
                (site.url("/old"), "Mon, 01 Jan 2024 10:00:00 +0000"),
                ("https://elsewhere.example/c", "Mon, 15 Jan 2024 10:00:00 +0000"),
                ("/relative", "Tue, 16 Jan 2024 23:00:00 -0500"),  # = Jan 17 04:00 UTC: out
            ]
        ),
        headers=RSS_TYPE,
    )
    result = discover(make_outlet(site, DiscoverySource("rss", url=site.url("/feed"))), DAY)
    assert paths([u.url for u in result.urls], site) == ["/a", "/b"]
    a, b = result.urls
    assert a.source == "rss" and a.published_hint == dt.datetime(2024, 1, 15, 10, tzinfo=dt.UTC)
    assert b.published_hint is None
    assert result.errors == []
    assert result.counts["rss"] == 2 and result.counts["duplicates"] == 1
    assert result.counts["off_site"] == 1 and result.counts["out_of_window"] == 2


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml; charset=windows-1251", "application/rss+xml"],
)
def test_rss_windows_1251(site: Loopback, content_type: str) -> None:
    body = rss([(site.url("/новости/1"), "Mon, 15 Jan 2024 10:00:00 +0300")], "windows-1251")
    site.routes["/feed"] = Reply(body=body, headers={"Content-Type": content_type})
    result = discover(make_outlet(site, DiscoverySource("rss", url=site.url("/feed"))), DAY)
    assert paths([u.url for u in result.urls], site) == ["/новости/1"]


def sitemap_site(site: Loopback) -> Outlet:
    """An index of monthly sitemaps (one gzipped, one too old to read) and a news sitemap."""
    site.routes["/sitemap_index.xml"] = Reply(
        body=index(
            [
                ("/sitemap-2023-12.xml", "2023-12-31T12:00:00+00:00"),  # before the window
                ("/sitemap-2024-01.xml.gz", "2024-01-31"),
                ("/news-sitemap.xml", None),
            ]
        ),
        headers=XML_TYPE,
    )
    site.routes["/sitemap-2023-12.xml"] = Reply(body=urlset([(site.url("/dec"), "2023-12-20")]))
    january = urlset(
        [
            (site.url("/jan-14-late"), "2024-01-14T23:30:00-05:00"),  # Jan 15 04:30 UTC
            (site.url("/jan-14"), "2024-01-14"),  # midnight in the outlet's zone (UTC)
            (site.url("/jan-10"), "2024-01-10T10:00:00Z"),
            (site.url("/jan-17"), "2024-01-17T00:00:00Z"),  # end is exclusive
            (site.url("/undated"), None),
        ]
    )
    site.routes["/sitemap-2024-01.xml.gz"] = Reply(
        body=gzip.compress(january), headers={"Content-Type": "application/x-gzip"}
    )
    site.routes["/news-sitemap.xml"] = Reply(
        body=urlset([(site.url("/news"), "2024-01-15T08:00:00+01:00")], news=True)
    )
    return make_outlet(site, DiscoverySource("sitemap", url=site.url("/sitemap_index.xml")))


@pytest.mark.timeout(10)
def test_sitemap_index_monthly_gzip_and_lastmod_filter(site: Loopback) -> None:
    result = discover(sitemap_site(site), DAY)
    # "/undated" is in a sitemap last changed on Jan 31: not new on Jan 15 (see below).
    assert paths([u.url for u in result.urls], site) == [
        "/jan-14",
        "/jan-14-late",
        "/news",
    ]
    assert result.counts["undated"] == 1
    assert site.hits["/sitemap-2023-12.xml"] == 0  # pruned by its <lastmod>
    news = next(u for u in result.urls if u.url.endswith("/news"))
    assert news.published_hint == dt.datetime(2024, 1, 15, 7, tzinfo=dt.UTC)
    assert all(u.source == "sitemap" for u in result.urls)
    assert result.errors == []


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("lastmod", "last_modified", "kept"), [
    (None, None, False),  # nothing says when: not on every day
    (None, "Mon, 15 Jan 2024 20:00:00 GMT", True),  # the file changed on the day
    (None, "Wed, 31 Jan 2024 20:00:00 GMT", False),  # changed later: a backfilled day
    ("2024-01-15T06:00:00Z", None, True),  # the index says it changed on the day
    ("2024-01-31", "Mon, 15 Jan 2024 20:00:00 GMT", False),  # the index's word wins
])
def test_undated_entries_only_from_a_sitemap_changed_in_the_window(
    site: Loopback, lastmod: str | None, last_modified: str | None, kept: bool
) -> None:
    headers = {"Last-Modified": last_modified} if last_modified else {}
    site.routes["/index.xml"] = Reply(body=index([("/urls.xml", lastmod)]))
    site.routes["/urls.xml"] = Reply(
        body=urlset([(site.url("/undated"), None), (site.url("/dated"), "2024-01-15")]),
        headers=headers)
    result = discover(make_outlet(site, DiscoverySource("sitemap", url=site.url("/index.xml"))),
                      DAY)
    assert paths([u.url for u in result.urls], site) == (
        ["/dated", "/undated"] if kept else ["/dated"])
    assert result.counts["undated"] == (0 if kept else 1)


@pytest.mark.timeout(30)
def test_a_plain_sitemap_may_be_bigger_than_a_page(site: Loopback) -> None:
    """sitemaps.org allows 50 MB uncompressed; the outlet's max_bytes (here 1 MB) is a
    page's cap. A 2.5 MB sitemap is read whole (as would be a 12 MB one under the
    default 10 MB page cap)."""
    filler = "".join(f"<url><loc>{site.url(f'/old/{n:07d}')}</loc><lastmod>2023-01-01"
                     "</lastmod></url>" for n in range(30_000))
    body = urlset([(site.url("/today"), "2024-01-15")]).replace(
        b"</urlset>", filler.encode() + b"</urlset>")
    assert len(body) > 2_500_000
    site.routes["/big.xml"] = Reply(body=body, headers=XML_TYPE)
    outlet = make_outlet(site, DiscoverySource("sitemap", url=site.url("/big.xml")))
    outlet = dataclasses.replace(
        outlet, politeness=dataclasses.replace(outlet.politeness, max_bytes=1_000_000))
    result = discover(outlet, DAY)
    assert result.errors == []
    assert paths([u.url for u in result.urls], site) == ["/today"]


@pytest.mark.timeout(10)
def test_sitemap_index_loop_terminates(site: Loopback) -> None:
    site.routes["/a.xml"] = Reply(body=index([("/b.xml", None), ("/urls.xml", None)]))
    site.routes["/b.xml"] = Reply(body=index([("/a.xml", None), ("/b.xml", None)]))
    site.routes["/urls.xml"] = Reply(body=urlset([(site.url("/x"), "2024-01-15")]))
    result = discover(make_outlet(site, DiscoverySource("sitemap", url=site.url("/a.xml"))), DAY)
    assert paths([u.url for u in result.urls], site) == ["/x"]
    assert {e["error"] for e in result.errors} == {"sitemap_loop"}
    assert site.hits["/a.xml"] == site.hits["/b.xml"] == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>
"""


@pytest.mark.timeout(10)
@pytest.mark.parametrize("kind", ["sitemap", "rss"])
def test_billion_laughs_is_a_source_error(site: Loopback, kind: str) -> None:
    site.routes["/bomb.xml"] = Reply(body=BILLION_LAUGHS, headers=XML_TYPE)
    site.routes["/feed"] = Reply(body=rss([(site.url("/ok"), None)]), headers=RSS_TYPE)
    outlet = make_outlet(
        site,
        DiscoverySource(kind, url=site.url("/bomb.xml")),
        DiscoverySource("rss", url=site.url("/feed")),
    )
    result = discover(outlet, DAY)
    assert paths([u.url for u in result.urls], site) == ["/ok"]
    assert [(e["source"], e["error"]) for e in result.errors] == [(kind, "unsafe_xml")]
    assert result.counts["sources_failed"] == 1


@pytest.mark.timeout(10)
@pytest.mark.parametrize("kind", ["sitemap", "rss"])
def test_xxe_reads_neither_files_nor_urls(site: Loopback, tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("http://127.0.0.1/TOPSECRET")
    for name, system in [("file", secret.as_uri()), ("http", site.url("/leak"))]:
        body = (
            f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{system}">]>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>&xxe;</loc></url></urlset>"
        ).encode()
        site.routes[f"/{name}.xml"] = Reply(body=body, headers=XML_TYPE)
    outlet = make_outlet(
        site,
        DiscoverySource(kind, url=site.url("/file.xml")),
        DiscoverySource(kind, url=site.url("/http.xml")),
    )
    with pytest.raises(FetchError, match="unsafe_xml"):
        discover(outlet, DAY)
    assert site.hits["/leak"] == 0


def archive_site(site: Loopback, tz: str) -> Outlet:
    template = site.url("/{date:%Y/%m/%d}/")
    return make_outlet(
        site, DiscoverySource("archive", url_template=template, link_selector="h3.title"), tz=tz
    )


@pytest.mark.timeout(10)
def test_archive_pages_per_local_date() -> None:
    ny, tokyo, utc = (ZoneInfo(z) for z in ("America/New_York", "Asia/Tokyo", "UTC"))
    assert archive_page_urls("/{date:%Y/%m/%d}/", DAY, ny) == ["/2024/01/14/", "/2024/01/15/"]
    assert archive_page_urls("/{date:%Y/%m/%d}/", DAY, tokyo) == ["/2024/01/15/", "/2024/01/16/"]
    assert archive_page_urls("/{date:%Y-%m-%d}", DAY, utc) == ["/2024-01-15"]


@pytest.mark.timeout(10)
def test_archive_links_resolved_and_junk_dropped(site: Loopback) -> None:
    site.routes["/2024/01/14/"] = Reply(
        body=b"""<html><body>
        <h3 class="title"><a href="/2024/01/14/late-story/">Late</a></h3>
        <h3 class="title"><a href="javascript:void(0)">JS</a></h3>
        <h3 class="title"><a href="mailto:desk@example.com">Mail</a></h3>
        <h3 class="title"><a href="https://other.example/x">Off site</a></h3>
        <a href="/not-selected/">nav</a></body></html>""",
        headers={"Content-Type": "text/html"},
    )
    site.routes["/2024/01/15/"] = Reply(
        body=b"""<html><body><h3 class="title"><a href="morning/#comments">M</a></h3>
        <h3 class="title"><a href="/2024/01/14/late-story/">again</a></h3></body></html>"""
    )
    result = discover(archive_site(site, "America/New_York"), DAY)
    assert paths([u.url for u in result.urls], site) == [
        "/2024/01/14/late-story/",
        "/2024/01/15/morning/",
    ]
    assert all(u.source == "archive" and u.published_hint is None for u in result.urls)
    assert result.counts["off_site"] == 1 and result.counts["duplicates"] == 1


@pytest.mark.timeout(10)
def test_archive_page_links_are_read_as_article_pages_are() -> None:
    """Decoded by decode_html (the header's charset, then <meta>), parsed by lxml, the
    selector run by the parse rules' engine; <base href> resolves relative links."""
    page = ('<?xml version="1.0" encoding="windows-1251"?>\n<html><head>'
            '<meta charset="windows-1251"><base href="https://e.org/uk/"></head><body>'
            '<div class="news-list"><div class="item"><a class="title" href="новини/1.html">'
            'Новина</a></div><div class="item"><span>без посилання</span></div>'
            '<a class="title" href="javascript:void(0)">js</a></div>'
            '<a class="title" href="/outside.html">x</a></body></html>')
    body = page.encode("windows-1251")
    picked = ["https://e.org/uk/новини/1.html"]
    assert page_links(body, "https://e.org/archive/", "div.news-list a.title") == picked
    # An element that is not a link stands for the first link inside it.
    assert page_links(body, "https://e.org/archive/", ".news-list > .item") == picked
    # The header's charset wins over the page's own <meta>.
    lying = page.replace('charset="windows-1251"', 'charset="utf-8"').encode("windows-1251")
    assert page_links(lying, "https://e.org/archive/", "div.news-list a.title",
                      "windows-1251") == picked
    assert page_links(b"  ", "https://e.org/archive/") == []


@pytest.mark.timeout(10)
def test_archive_page_missing_is_an_error_not_a_failure(site: Loopback) -> None:
    site.routes["/2024/01/15/"] = Reply(body=b'<h3 class="title"><a href="/s">S</a></h3>')
    result = discover(archive_site(site, "America/New_York"), DAY)
    assert paths([u.url for u in result.urls], site) == ["/s"]
    assert [(e["error"], e["url"]) for e in result.errors] == [
        ("http_404", site.url("/2024/01/14/"))
    ]


@pytest.mark.timeout(10)
def test_dedup_across_sources_first_wins_and_failures_recorded(site: Loopback) -> None:
    site.routes["/feed"] = Reply(
        body=rss([(site.url("/shared"), "Mon, 15 Jan 2024 10:00:00 +0000")]), headers=RSS_TYPE
    )
    site.routes["/sitemap.xml"] = Reply(
        body=urlset([(site.url("/shared"), "2024-01-15"), (site.url("/only-map"), None)]),
        headers={"Last-Modified": "Mon, 15 Jan 2024 20:00:00 GMT"},  # undated kept: see below
    )
    outlet = make_outlet(
        site,
        DiscoverySource("rss", url=site.url("/missing-feed")),
        DiscoverySource("rss", url=site.url("/feed")),
        DiscoverySource("sitemap", url=site.url("/sitemap.xml")),
    )
    result = discover(outlet, DAY)
    assert [(paths([u.url], site)[0], u.source) for u in result.urls] == [
        ("/only-map", "sitemap"),
        ("/shared", "rss"),
    ]
    assert [(e["source"], e["error"]) for e in result.errors] == [("rss", "http_404")]
    assert result.counts["duplicates"] == 1 and result.counts["sources_failed"] == 1


@pytest.mark.timeout(10)
def test_all_sources_failing_raises_with_reasons(site: Loopback) -> None:
    site.routes["/bad.xml"] = Reply(body=b"<urlset><url>")
    outlet = make_outlet(
        site,
        DiscoverySource("rss", url=site.url("/nope")),
        DiscoverySource("sitemap", url=site.url("/bad.xml")),
    )
    with pytest.raises(FetchError, match=r"http_404.*bad_xml"):
        discover(outlet, DAY)
