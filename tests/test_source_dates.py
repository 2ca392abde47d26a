"""A page without a date takes its discovery source's: a feed's pubDate, a news sitemap's
publication date, never a sitemap's lastmod; reruns and reparses keep it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow.dataset as ds
import pytest
from helpers.loopback import Reply
from helpers.smallsite import HTML, PARAGRAPH, SmallSite

from newslake import source_dates
from newslake.config import DiscoverySource
from newslake.discover import DiscoveredUrl, DiscoveryResult, discover
from newslake.frontier import with_frontier
from newslake.pipeline import RunSpec, run_day
from newslake.record import PUBLISHED_AT_SOURCES
from newslake.reparse import reparse_day

DAY = dt.date(2026, 6, 15)
STORY = "/news/council-expands-bike-lanes"
NEWS = "/news/harbour-ferry-returns"  # listed by the news sitemap only

pytestmark = [pytest.mark.timeout(180), pytest.mark.usefixtures("fast_backoff")]


def undated(title: str) -> Reply:
    """An article page with no date anywhere: no meta, no time element, none in the text
    or the URL."""
    paragraphs = "".join(f"<p>{title}: {PARAGRAPH} ({n})</p>" for n in range(3))
    return Reply(body=(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:type" content="article"></head><body><article><h1>{title}</h1>'
        f"<div class='entry-content'>{paragraphs}</div></article></body></html>").encode(),
        headers=HTML)


@pytest.fixture
def site() -> Iterator[SmallSite]:
    with SmallSite(DAY) as server:
        server.publish(STORY, "Council expands bike lanes", hour=9)  # feed: pubDate 09:00
        server.pages[STORY] = undated("Council expands bike lanes")
        server.pages[NEWS] = undated("Harbour ferry returns")
        server.routes[NEWS] = lambda p: server.pages[NEWS]
        server.routes["/news-sitemap.xml"] = lambda _p: Reply(body=(
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"<url><loc>{server.url(NEWS)}</loc><news:news><news:publication_date>"
            "2026-06-15T16:30:00+02:00</news:publication_date></news:news></url>"
            "</urlset>").encode(), headers={"Content-Type": "application/xml"})
        yield server


def articles(lake: str) -> dict[str, dict[str, Any]]:
    rows = ds.dataset(f"{lake}/articles", partitioning="hive").to_table().to_pylist()
    return {r["url"]: r for r in rows}


def quarantine(lake: str) -> list[dict[str, Any]]:
    return ds.dataset(f"{lake}/quarantine", partitioning="hive").to_table().to_pylist()


def test_an_undated_page_takes_the_date_its_feed_or_news_sitemap_gives(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    outlet = dataclasses.replace(outlet, discovery=(
        *outlet.discovery, DiscoverySource(type="sitemap", url=site.url("/news-sitemap.xml"))))
    manifest = run_day(RunSpec(outlet, DAY, "first", lake))

    rows = articles(lake)
    story, news = rows[site.url(STORY)], rows[site.url(NEWS)]
    assert (story["published_at"], story["published_at_source"]) == (
        dt.datetime(2026, 6, 15, 9, tzinfo=dt.UTC), "discovery:rss")
    assert (news["published_at"], news["published_at_source"]) == (
        dt.datetime(2026, 6, 15, 14, 30, tzinfo=dt.UTC), "discovery:sitemap")
    assert {"discovery:rss", "discovery:sitemap"} <= set(PUBLISHED_AT_SOURCES)
    assert manifest["written"] == 2 and manifest["quarantined"] == 0
    assert manifest["dated_by_discovery"] == 2

    # The feed rolls over: a rerun keeps the date the row took, and so does a reparse.
    site.unlist(STORY)
    rerun = run_day(RunSpec(outlet, DAY, "rerun", lake))
    assert rerun["carried_forward"] == 1 and rerun["written"] == 2
    assert reparse_day(outlet, DAY, lake, "reparse") is not None
    after = articles(lake)[site.url(STORY)]
    assert (after["published_at"], after["published_at_source"], after["run_id"]) == (
        story["published_at"], "discovery:rss", "reparse")


def test_a_sitemaps_lastmod_is_not_a_publication_date(site: SmallSite, lake: str) -> None:
    outlet = site.outlet()
    outlet = dataclasses.replace(outlet, discovery=(
        DiscoverySource(type="sitemap", url=site.url("/sitemap.xml")),))  # lastmod only
    manifest = run_day(RunSpec(outlet, DAY, "lastmod", lake))
    assert manifest["written"] == 0 and manifest["dated_by_discovery"] == 0
    (row,) = quarantine(lake)
    assert row["url"] == site.url(STORY) and "published_at_not_null" in row["failed_checks"]
    assert row["title"] == "Council expands bike lanes" and row["body"], "text kept"
    assert row["published_at_source"] is None


@pytest.mark.timeout(60)
def test_a_later_source_dates_a_url_the_first_listed_undated(site: SmallSite) -> None:
    outlet = site.outlet()
    outlet = dataclasses.replace(outlet, discovery=(
        DiscoverySource(type="sitemap", url=site.url("/sitemap.xml")),  # lastmod only
        DiscoverySource(type="rss", url=site.url("/feed.xml"))))
    (found,) = discover(outlet, DAY).urls
    assert (found.url, found.source) == (site.url(STORY), "sitemap"), "the first source wins"
    assert source_dates.from_discovered([found]) == {site.url(STORY): source_dates.SourceDate(
        dt.datetime(2026, 6, 15, 9, tzinfo=dt.UTC), "discovery:rss")}


def test_the_frontiers_date_stands_in_for_a_listing_without_one() -> None:
    url = "https://example.org/news/story"
    when = dt.datetime(2026, 6, 15, 7, tzinfo=dt.UTC)
    listed = DiscoveryResult(urls=[DiscoveredUrl(url, "archive")])
    recorded = [DiscoveredUrl(url, "frontier", when, "sitemap"),
                DiscoveredUrl(url + "-2", "frontier", when, "rss")]
    merged = with_frontier(listed, recorded)
    assert [u.source for u in merged.urls] == ["archive", "frontier"]
    assert source_dates.from_discovered(merged.urls) == {
        url: source_dates.SourceDate(when, "discovery:sitemap"),
        url + "-2": source_dates.SourceDate(when, "discovery:rss")}
    # Archive pages and warc sources give no publication date: nothing to take.
    assert source_dates.from_discovered([DiscoveredUrl(url, "warc", when)]) == {}
