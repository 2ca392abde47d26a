"""The demo newsroom: its server, its pages and feeds, and that they match the catalog."""

from __future__ import annotations

import datetime as dt
import re
import signal
import socket
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import pytest
import requests
from bs4 import BeautifulSoup

from demo_site import catalog
from demo_site.server import DemoNewsroom
from demo_site.text import count_words
from newslake.config import load_outlets

pytestmark = pytest.mark.timeout(60)

NOW = dt.datetime(2025, 3, 20, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 3, 14)
KEYS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti")
INCLUDE = Path(__file__).resolve().parent.parent / "include"


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with DemoNewsroom(port=0, clock=lambda: NOW) as newsroom:
        yield newsroom.base_url


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=10, allow_redirects=False)


def paths(urls: list[str]) -> set[str]:
    return {urlsplit(u).path for u in urls}


def local_days(key: str, first: dt.date, days: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(days)]


def test_server_starts_on_a_free_port_and_stops_cleanly() -> None:
    newsroom = DemoNewsroom(port=0)
    newsroom.start()
    base = newsroom.base_url
    port = int(base.rsplit(":", 1)[1])
    assert base == f"http://127.0.0.1:{port}" and port > 0
    assert get(f"{base}/robots.txt").status_code == 200
    thread = newsroom.thread
    assert thread is not None and thread.is_alive()
    newsroom.stop()
    newsroom.stop()
    assert not thread.is_alive()
    assert thread not in threading.enumerate()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(RuntimeError):
        _ = newsroom.base_url


def test_cli_prints_base_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo_site", "--port", "0"], stdout=subprocess.PIPE, text=True,
        env={"PYTHONPATH": str(INCLUDE), "PATH": ""},
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base)
        assert get(f"{base}/bayside-press/feed/").status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()


def test_catalog_is_deterministic_and_within_its_promises() -> None:
    first = dt.date(2024, 12, 1)
    for key in KEYS:
        spec = catalog.outlet(key)
        for day in local_days(key, first, 70):
            articles = catalog.articles_on_local_day(key, day)
            assert articles == catalog.articles_on_local_day(spec.prefix.strip("/"), day)
            real = [a for a in articles if not a.is_soft_404]
            assert 4 <= len(real) <= 8
            assert len({a.path for a in articles}) == len(articles)
            n = (day - catalog.START).days
            assert [a.bad_reason for a in real if a.bad_reason] == (
                ["too_short"] if n % 10 == spec.short_day else [])
            assert len(articles) - len(real) == (
                key == "demo_metro_ledger" and n % 7 == catalog.SOFT_404_WEEKDAY_OFFSET)
            for a in articles:
                assert a.local_day == day and a.published_at.tzinfo is dt.UTC
                assert a.word_count == count_words(a.body)
                if a.bad_reason == "too_short":
                    assert 0 < a.word_count < 40 and not a.is_article_ok
                elif a.is_paywalled:
                    assert 80 <= a.word_count <= 200 and a.is_article_ok
                elif a.is_article_ok:
                    assert 150 <= a.word_count <= 600
                    assert a.authors and a.title and a.description and a.section
                if a.modified_at is not None:
                    assert a.modified_at > a.published_at
    assert any(a.is_paywalled for d in local_days("m", first, 10)
               for a in catalog.articles_on_local_day("demo_metro_ledger", d))


def test_articles_for_regroups_local_days_by_utc_day() -> None:
    for key in KEYS:
        found = catalog.articles_for(key, DAY)
        assert found and all(a.published_at.date() == DAY for a in found)
        nearby = [a for d in (-1, 0, 1)
                  for a in catalog.articles_on_local_day(key, DAY + dt.timedelta(days=d))]
        assert found == sorted((a for a in nearby if a.published_at.date() == DAY),
                               key=lambda a: a.published_at)
    assert catalog.articles_for("demo_bayside_press", dt.date(2023, 12, 30)) == []


def test_bayside_feed_lists_the_latest_thirty(site: str) -> None:
    resp = get(f"{site}/bayside-press/feed/")
    assert resp.headers["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(resp.content).find("channel")
    assert channel is not None
    items = channel.findall("item")
    latest = catalog.latest("demo_bayside_press", NOW)
    assert [i.findtext("link") for i in items] == [a.url(site) for a in latest]
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    for item, a in zip(items, latest, strict=True):
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == a.published_at
        assert item.findtext(dc) == a.authors[0]
        assert a.section in [c.text for c in item.findall("category")]
    on_day = [i.findtext("link", "") for i in items
              if parsedate_to_datetime(i.findtext("pubDate") or "").date() == DAY + dt.timedelta(4)]
    assert on_day and sorted(on_day) == sorted(
        a.url(site) for a in catalog.articles_for("demo_bayside_press", DAY + dt.timedelta(4)))


def test_bayside_sitemaps_list_exactly_the_catalog(site: str) -> None:
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(get(f"{site}/bayside-press/sitemap_index.xml").content)
    locs = [e.text or "" for e in index.findall("sm:sitemap/sm:loc", ns)]
    assert locs[0].endswith("/post-sitemap-2024-01.xml")
    assert locs[-1].endswith("/post-sitemap-2025-03.xml")
    assert len(locs) == 15
    urls: list[str] = []
    for month in ("2025-02", "2025-03"):
        body = get(f"{site}/bayside-press/post-sitemap-{month}.xml").content
        for url in ET.fromstring(body).findall("sm:url", ns):
            lastmod = dt.datetime.fromisoformat(url.findtext("sm:lastmod", "", ns))
            assert lastmod.utcoffset() in (dt.timedelta(hours=-4), dt.timedelta(hours=-5))
            urls.append(url.findtext("sm:loc", "", ns))
    expected = [a.url(site) for d in local_days("b", dt.date(2025, 2, 1), 48)
                for a in catalog.articles_on_local_day("demo_bayside_press", d)
                if a.published_at <= NOW]
    assert urls == expected
    assert {a.url(site) for a in catalog.articles_for("demo_bayside_press", DAY)} <= set(urls)
    assert get(f"{site}/bayside-press/post-sitemap-2025-04.xml").status_code == 404


@pytest.mark.parametrize(("key", "template", "selector"), [
    ("demo_metro_ledger", "/metro-ledger/archive/{:%Y/%m/%d}/", "ul.archive-list h2 a"),
    ("demo_dnipro_visti", "/dnipro-visti/archive/{:%Y-%m-%d}/", "div.news-list a.title"),
])
def test_archives_list_exactly_the_local_day(site: str, key: str, template: str,
                                             selector: str) -> None:
    seen: set[str] = set()
    for day in local_days(key, DAY - dt.timedelta(days=1), 3):
        soup = BeautifulSoup(get(site + template.format(day)).content, "lxml")
        links = [str(a["href"]) for a in soup.select(selector)]
        assert paths(links) == {a.path for a in catalog.articles_on_local_day(key, day)}
        assert len(links) == len(set(links))
        seen |= paths(links)
    assert {a.path for a in catalog.articles_for(key, DAY)} <= seen


def test_dnipro_is_really_windows_1251(site: str) -> None:
    a = catalog.articles_for("demo_dnipro_visti", DAY)[0]
    resp = get(a.url(site))
    assert resp.headers["Content-Type"] == "text/html; charset=windows-1251"
    with pytest.raises(UnicodeDecodeError):
        resp.content.decode("utf-8")
    text = resp.content.decode("cp1251")
    assert ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251" />'
            in text)
    assert a.title in text
    local = a.local_published
    assert f'<span class="date">{local:%d.%m.%Y, %H:%M}</span>' in text
    assert f'<meta name="pubdate" content="{local:%Y-%m-%d %H:%M}" />' in text
    assert not re.search(r"\d{2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|Z)", text)
    feed = get(f"{site}/dnipro-visti/rss.xml").content
    assert feed.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    with pytest.raises(UnicodeDecodeError):
        feed.decode("utf-8")
    items = ET.fromstring(feed).findall("channel/item")
    assert [i.findtext("title") for i in items] == [
        x.title for x in catalog.latest("demo_dnipro_visti", NOW)]


def _extract(html: bytes, key: str) -> list[str]:
    """The outlet's YAML rules applied naively: what an ideal rules extractor returns."""
    rules = load_outlets(INCLUDE / "outlets")[key].parse
    body = BeautifulSoup(html, "lxml").select_one(rules.body_selector or "body")
    assert body is not None
    for selector in rules.drop_selectors:
        for node in body.select(selector):
            node.decompose()
    texts = [" ".join(n.get_text(" ").split()) for n in body.find_all(["p", "h2", "h3"])]
    return [t for t in texts if t and not any(re.search(p, t) for p in rules.drop_paragraphs)]


@pytest.mark.parametrize("key", KEYS)
def test_pages_show_the_ground_truth(site: str, key: str) -> None:
    articles = [a for a in catalog.articles_for(key, DAY) if not a.is_soft_404]
    articles += [a for d in local_days(key, dt.date(2025, 3, 1), 12)
                 for a in catalog.articles_on_local_day(key, d) if a.bad_reason == "too_short"
                 or a.is_paywalled][:3]
    for a in articles:
        resp = get(a.url(site))
        assert resp.status_code == 200
        assert "Last-Modified" in resp.headers
        assert resp.headers["Content-Length"] == str(len(resp.content))
        assert _extract(resp.content, key) == a.paragraphs
        soup = BeautifulSoup(resp.content, "lxml")
        h1 = soup.find("h1")
        assert h1 is not None and h1.get_text(strip=True) == a.title
        for name in a.authors:
            assert name in soup.get_text()


def test_metro_metadata_is_json_ld_only(site: str) -> None:
    a = next(a for a in catalog.articles_for("demo_metro_ledger", DAY) if a.is_article_ok)
    html = get(a.url(site)).text
    assert 'property="og:' not in html and 'property="article:' not in html
    assert f"<title>{a.title} | The Metro Ledger</title>" in html
    assert f'"datePublished": "{a.local_published.isoformat()}"' in html


def test_soft_404_is_a_200_page_not_found(site: str) -> None:
    soft = [a for d in local_days("m", DAY - dt.timedelta(days=7), 7)
            for a in catalog.articles_on_local_day("demo_metro_ledger", d) if a.is_soft_404]
    assert len(soft) == 1 and not soft[0].is_article_ok and soft[0].paragraphs == []
    resp = get(soft[0].url(site))
    assert resp.status_code == 200
    assert "<h1>Page not found</h1>" in resp.text and "NewsArticle" not in resp.text


def test_unknown_and_unpublished_paths_are_real_404s(site: str) -> None:
    future = catalog.articles_on_local_day("demo_bayside_press", NOW.date() + dt.timedelta(1))
    for path in ("/nope", "/bayside-press/nope/", "/bayside-press/2025/03/14/no-such-story/",
                 "/metro-ledger/archive/2023/12/31/", "/metro-ledger/archive/2025/02/30/",
                 "/metro-ledger/archive/2025/03/22/", "/dnipro-visti/news/1.html",
                 "/dnipro-visti/archive/2025-03-22/", future[0].path):
        resp = get(site + path)
        assert resp.status_code == 404, path
        assert resp.headers["Content-Length"] == str(len(resp.content))


def test_bayside_permalink_without_slash_redirects(site: str) -> None:
    a = catalog.articles_for("demo_bayside_press", DAY)[0]
    resp = get(a.url(site).rstrip("/"))
    assert resp.status_code == 301 and resp.headers["Location"] == a.url(site)


def test_robots_txt_disallows_wp_admin_only(site: str) -> None:
    robots = RobotFileParser()
    robots.parse(get(f"{site}/robots.txt").text.splitlines())
    assert not robots.can_fetch("newslake", f"{site}/bayside-press/wp-admin/options.php")
    for key in KEYS:
        a = catalog.articles_for(key, DAY)[0]
        assert robots.can_fetch("newslake", a.url(site))
