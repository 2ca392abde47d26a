"""Hostile feeds, sitemaps and archive pages: each is a recorded source error or a
counted drop, and the run's other sources still deliver."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
from typing import Any

import pytest
from conftest import Ledger
from helpers.loopback import Loopback, Reply

from newslake.config import DiscoverySource, Outlet, Politeness
from newslake.discover import discover

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("fast_backoff")]
DAY = dt.date(2024, 1, 15)
XML = {"Content-Type": "application/xml"}
HTML = {"Content-Type": "text/html"}
LAUGHS_DTD = ('<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
              + "".join(f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
                        for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + "]>")


@functools.cache
def _gzip_bomb() -> bytes:
    """60 MB of XML in ~60 KB: over the 2 MB cap once decompressed."""
    return gzip.compress(b"<urlset>" + b" " * 60_000_000 + b"</urlset>", compresslevel=1)


def _urlset(locs: list[str]) -> bytes:
    return ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>").encode()


def _rss(links: list[str], prefix: str = "") -> bytes:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    channel = f'<rss version="2.0"><channel>{items}</channel></rss>'
    return f'<?xml version="1.0"?>{prefix}{channel}'.encode()


@pytest.fixture
def site(site: Loopback) -> Loopback:
    """The shared loopback site, plus a good feed: the outlet's source that still works."""
    site.routes["/good-feed"] = Reply(body=_rss([site.url("/news/good")]), headers=XML)
    return site


def _outlet(site: Loopback, source: DiscoverySource) -> Outlet:
    return Outlet(
        id="hostile", name="Hostile", base_url=site.url("/"), language="en", timezone="UTC",
        start_date=dt.date(2024, 1, 1),
        discovery=(source, DiscoverySource("rss", url=site.url("/good-feed"))),
        politeness=Politeness(requests_per_second=500.0, allow_private_addresses=("127.0.0.1/32",),
                              timeout_seconds=2.0, max_bytes=2_000_000),
    )


def _cases(site: Loopback) -> dict[str, tuple[DiscoverySource, dict[str, Any]]]:
    """name -> (the hostile source, what the result must show)."""
    u = site.url
    site.routes.update({
        "/laughs.xml": Reply(body=f'<?xml version="1.0"?>{LAUGHS_DTD}<urlset><url><loc>&i;'
                                  "</loc></url></urlset>".encode(), headers=XML),
        "/laughs-feed": Reply(body=_rss(["&i;"], LAUGHS_DTD), headers=XML),
        "/xxe.xml": Reply(body=b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM '
                               b'"file:///etc/passwd">]><urlset><url><loc>&x;</loc></url></urlset>',
                          headers=XML),
        "/xxe-feed": Reply(
            body=_rss(["&x;"], '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
            headers=XML),
        "/self-index.xml": Reply(body=(
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
            f'{u("/self-index.xml")}</loc></sitemap></sitemapindex>').encode(), headers=XML),
        "/a.xml": Reply(body=(
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
            f'{u("/b.xml")}</loc></sitemap></sitemapindex>').encode(), headers=XML),
        "/b.xml": Reply(body=(
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>'
            f'{u("/a.xml")}</loc></sitemap></sitemapindex>').encode(), headers=XML),
        "/bomb.xml.gz": Reply(body=_gzip_bomb(), headers={"Content-Type": "application/x-gzip"}),
        "/broken.xml": Reply(body=b"<urlset><url><loc>http://x</loc></url", headers=XML),
        "/empty-feed": Reply(body=b"", headers=XML),
        "/links/2024-01-15/": Reply(body=(
            "<html><body>" + "".join(f'<a class="a" href="{h}">x</a>' for h in (
                "javascript:alert(1)", "file:///etc/passwd", "data:text/html,<b>x</b>",
                "mailto:editor@example.org", "http://169.254.169.254/latest/meta-data/",
                "//evil.example/x", u("/news/kept"))) + "</body></html>").encode(), headers=HTML),
        "/tracking.xml": Reply(body=_urlset([
            u("/news/good") + "?utm_source=feed&fbclid=abc",
            u("/news/good").replace("127.0.0.1", "127.0.0.1") + "#comments"]), headers=XML),
    })
    sitemap = lambda path: DiscoverySource("sitemap", url=u(path))  # noqa: E731
    return {
        "billion laughs in a sitemap": (sitemap("/laughs.xml"), {"error": "unsafe_xml"}),
        "billion laughs in a feed": (DiscoverySource("rss", url=u("/laughs-feed")),
                                     {"error": "unsafe_xml"}),
        "XXE in a sitemap": (sitemap("/xxe.xml"), {"error": "unsafe_xml"}),
        "XXE in a feed": (DiscoverySource("rss", url=u("/xxe-feed")), {"error": "unsafe_xml"}),
        "sitemap index that points at itself": (sitemap("/self-index.xml"), {"urls": 1}),
        "sitemap indexes in a loop": (sitemap("/a.xml"), {"urls": 1}),
        "gzip bomb sitemap": (sitemap("/bomb.xml.gz"), {"error": ""}),
        "truncated sitemap XML": (sitemap("/broken.xml"), {"error": ""}),
        "empty feed": (DiscoverySource("rss", url=u("/empty-feed")), {"error": ""}),
        "javascript:, file:, data:, mailto:, metadata-IP and off-site links": (
            DiscoverySource("archive", url_template=u("/links/{date:%Y-%m-%d}/"),
                            link_selector="a.a"), {"urls": 2}),
        "same URL with tracking params and a fragment": (sitemap("/tracking.xml"), {"urls": 1}),
    }


CASE_NAMES = [
    "billion laughs in a sitemap", "billion laughs in a feed", "XXE in a sitemap",
    "XXE in a feed", "sitemap index that points at itself", "sitemap indexes in a loop",
    "gzip bomb sitemap", "truncated sitemap XML", "empty feed",
    "javascript:, file:, data:, mailto:, metadata-IP and off-site links",
    "same URL with tracking params and a fragment",
]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_hostile_discovery_input(name: str, site: Loopback, ledger: Ledger) -> None:
    source, expect = _cases(site)[name]
    try:
        result = discover(_outlet(site, source), DAY)
    except Exception as exc:
        ledger.record(f"discovery: {name}", f"crash:{type(exc).__name__}")
        raise
    urls = [u.url for u in result.urls]
    assert site.url("/news/good") in urls, "the other source still delivers"
    if "error" in expect:
        errors = [e for e in result.errors if e["source"] == source.type]
        ledger.record(f"discovery: {name}",
                      f"skip:{errors[0]['error']}" if errors else "crash:no error recorded")
        assert errors and expect["error"] in errors[0]["error"], result.errors
    else:
        ledger.record(f"discovery: {name}", f"skip:{len(urls)} urls kept")
        assert len(urls) == expect["urls"], urls
    assert "passwd" not in " ".join(urls)
