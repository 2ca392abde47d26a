"""The frontier (newslake.frontier): polling feeds and sitemaps into the lake, without Airflow.

The busy demo outlet (``demo_harbor_wire``: a feed of its latest ten, one to three
stories an hour) is polled with the demo newsroom's clock set by the test, so a whole
simulated day takes a few seconds and no assertion depends on the wall clock.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.loopback import Loopback, Reply

from demo_site import catalog
from demo_site.server import DemoNewsroom
from newslake import frontier
from newslake.config import DiscoverySource, Outlet, Politeness, load_outlet
from newslake.discover import DiscoveredUrl, DiscoveryResult, discover
from newslake.errors import ConfigError
from newslake.parse.version import PARSER_VERSION
from newslake.settings import PROJECT_ROOT

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("fast_backoff")]

WIRE = "demo_harbor_wire"
DAY = dt.date(2026, 6, 15)
MIDNIGHT = dt.datetime(2026, 6, 16, tzinfo=dt.UTC)


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def newsroom(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DemoNewsroom, Clock]]:
    """The demo newsroom on a free port, its "now" set by the test."""
    clock = Clock(dt.datetime(2026, 6, 14, 22, 0, tzinfo=dt.UTC))
    with DemoNewsroom(port=0, clock=clock) as site:
        monkeypatch.setenv("NEWSLAKE_DEMO_URL", site.base_url)
        yield site, clock


def wire_outlet() -> Outlet:
    return load_outlet(PROJECT_ROOT / "include" / "outlets" / f"{WIRE}.yaml")


def poll_through(outlet: Outlet, lake: str, clock: Clock, until: dt.datetime,
                 step: dt.timedelta) -> list[frontier.PollReport]:
    reports = []
    while clock.now <= until:
        reports.append(frontier.poll_outlet(outlet, lake, clock.now))
        clock.now += step
    return reports


def loop_outlet(site: Loopback, *sources: DiscoverySource) -> Outlet:
    return Outlet(
        id="loop", name="Loopback", base_url=site.url("/"), language="en", timezone="UTC",
        start_date=dt.date(2024, 1, 1), discovery=sources,
        politeness=Politeness(requests_per_second=500.0, allow_private_addresses=("127.0.0.1/32",),
                              timeout_seconds=2.0),
    )


def rss(links: list[str], date: str = "Mon, 15 Jun 2026 10:00:00 GMT") -> bytes:
    items = "".join(f"<item><title>t</title><link>{link}</link><pubDate>{date}</pubDate></item>"
                    for link in links)
    return f"<?xml version='1.0'?><rss version='2.0'><channel>{items}</channel></rss>".encode()


def test_polling_a_busy_feed_all_day_records_every_article_a_snapshot_misses_most(
    newsroom: tuple[DemoNewsroom, Clock], tmp_path: Path
) -> None:
    site, clock = newsroom
    outlet, lake = wire_outlet(), str(tmp_path / "lake")
    reports = poll_through(outlet, lake, clock, MIDNIGHT + dt.timedelta(minutes=30),
                           dt.timedelta(minutes=10))

    published = {a.url(site.base_url) for a in catalog.articles_for(WIRE, DAY)}
    assert len(published) >= 24
    found = frontier.frontier_candidates(lake, outlet, DAY)
    assert published <= {u.url for u in found}
    assert all(u.source == "frontier" for u in found)
    hints = {u.url: u.published_hint for u in found}
    for a in catalog.articles_for(WIRE, DAY):
        assert hints[a.url(site.base_url)] == a.published_at
    snapshot = {u.url for u in discover(outlet, DAY).urls}  # after midnight, as a daily run
    assert len(snapshot & published) <= catalog.WIRE_FEED_ITEMS < len(published) / 2

    polled = [r for r in reports if r.polled]
    assert len(polled) < len(reports), "the source is not due at every run"
    assert sum(r.not_modified for r in polled) > 0, "unchanged feeds cost a 304"
    assert all(r.errors == [] for r in polled)
    # The feed, and robots.txt once a day (kept in the state, RFC 9309 allows 24 hours).
    assert sum(r.requests for r in polled) == len(polled) + 2
    state = frontier.read_state(lake, WIRE)
    (source,) = state.values()
    assert frontier.FLOOR.total_seconds() <= source.interval_s <= 3600
    assert source.failures == 0 and source.etag


def test_a_rerun_of_a_poll_adds_nothing(
    newsroom: tuple[DemoNewsroom, Clock], tmp_path: Path
) -> None:
    _, clock = newsroom
    outlet, lake = wire_outlet(), str(tmp_path / "lake")
    clock.now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    first = frontier.poll_outlet(outlet, lake, clock.now)
    files = sorted(p.relative_to(lake) for p in Path(lake).rglob("*.parquet"))
    rows = frontier.frontier_rows(lake, WIRE, DAY)
    again = frontier.poll_outlet(outlet, lake, clock.now, force=True)
    assert first.new_urls == catalog.WIRE_FEED_ITEMS and again.new_urls == 0
    assert sorted(p.relative_to(lake) for p in Path(lake).rglob("*.parquet")) == files
    assert frontier.frontier_rows(lake, WIRE, DAY).equals(rows)


def test_compaction_merges_a_day_into_one_file_and_keeps_its_rows(
    newsroom: tuple[DemoNewsroom, Clock], tmp_path: Path
) -> None:
    _, clock = newsroom
    outlet, lake = wire_outlet(), str(tmp_path / "lake")
    clock.now = dt.datetime(2026, 6, 15, 0, 5, tzinfo=dt.UTC)
    poll_through(outlet, lake, clock, MIDNIGHT, dt.timedelta(hours=2))
    day_dir = Path(lake) / "frontier" / f"outlet={WIRE}" / f"date={DAY}"
    assert len(list(day_dir.glob("poll-*.parquet"))) > 1
    before = frontier.frontier_rows(lake, WIRE, DAY).sort_by("url")

    clock.now = MIDNIGHT + frontier.SETTLED
    report = frontier.poll_outlet(outlet, lake, clock.now)
    assert report.compacted >= 1
    assert [p.name for p in day_dir.iterdir()] == ["part-00000.parquet"]
    assert frontier.frontier_rows(lake, WIRE, DAY).sort_by("url").equals(before)


def test_an_unchanged_etag_on_changed_content_is_read_and_same_bytes_are_not(
    site: Loopback, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    etag = {"ETag": '"v1"', "Content-Type": "application/rss+xml"}
    one, two = site.url("/a"), site.url("/b")
    site.routes["/feed"] = [  # a server that ignores If-None-Match and never changes its ETag
        Reply(body=rss([one]), headers=etag),
        Reply(body=rss([one, two]), headers=etag),
        Reply(body=rss([one, two]), headers={**etag, "ETag": '"v2"'}),
    ]
    outlet = loop_outlet(site, DiscoverySource("rss", url=site.url("/feed")))
    reports = [frontier.poll_outlet(outlet, lake, now + dt.timedelta(hours=h), force=True)
               for h in range(3)]
    assert [r.new_urls for r in reports] == [1, 1, 0]
    assert [r.not_modified for r in reports] == [0, 0, 1]
    sent = [headers for path, headers in site.requests if path == "/feed"]
    assert "If-None-Match" not in sent[0] and sent[1]["If-None-Match"] == '"v1"'
    assert {u.url for u in frontier.frontier_candidates(lake, outlet, DAY)} == {one, two}


def test_a_304_is_not_modified_and_the_interval_grows(site: Loopback, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    site.routes["/feed"] = Reply(body=rss([site.url("/a")]), conditional=True,
                                 headers={"ETag": '"x"', "Content-Type": "application/rss+xml"})
    outlet = loop_outlet(site, DiscoverySource("rss", url=site.url("/feed"), poll_every=60))
    first = frontier.poll_outlet(outlet, lake, now)
    assert first.new_urls == 1
    (state,) = frontier.read_state(lake, "loop").values()
    assert state.interval_s == 30 * 60  # 60 min halved: it found something new
    second = frontier.poll_outlet(outlet, lake, now + dt.timedelta(minutes=30))
    assert second.not_modified == 1 and second.new_urls == 0
    (state,) = frontier.read_state(lake, "loop").values()
    assert state.interval_s == 45 * 60
    assert dt.datetime.fromisoformat(str(state.next_due)) == now + dt.timedelta(minutes=75)
    skipped = frontier.poll_outlet(outlet, lake, now + dt.timedelta(minutes=40))
    assert skipped.polled == 0 and skipped.requests == 0, "not due yet: no request"


def test_a_failing_source_backs_off_and_keeps_its_interval(
    site: Loopback, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    site.routes["/feed"] = Reply(status=503)
    outlet = loop_outlet(site, DiscoverySource("rss", url=site.url("/feed")),
                         DiscoverySource("rss", url=site.url("/ok")))
    site.routes["/ok"] = Reply(body=rss([site.url("/c")]),
                               headers={"Content-Type": "application/rss+xml"})
    delays = []
    for n in range(3):
        report = frontier.poll_outlet(outlet, lake, now, force=True)
        assert [e["error"] for e in report.errors] == ["http_503"]
        state = frontier.read_state(lake, "loop")[site.url("/feed")]
        assert state.failures == n + 1 and state.interval_s == 30 * 60
        delays.append(dt.datetime.fromisoformat(str(state.next_due)) - now)
    assert delays == [dt.timedelta(minutes=60), dt.timedelta(minutes=120),
                      dt.timedelta(minutes=240)]
    assert frontier.read_state(lake, "loop")[site.url("/ok")].failures == 0
    assert [u.url for u in frontier.frontier_candidates(lake, "loop", DAY)] == [site.url("/c")]


def test_next_interval_shrinks_to_the_floor_and_grows_to_the_ceiling() -> None:
    state = frontier.SourceState("rss", interval_s=30 * 60)
    for _ in range(10):
        state.interval_s = frontier.next_interval(state, new=1, listed=10)
    assert state.interval_s == frontier.FLOOR.total_seconds()
    for _ in range(30):
        state.interval_s = frontier.next_interval(state, new=0, listed=10)
    assert state.interval_s == frontier.CEILING.total_seconds()
    state.successes = 1
    assert frontier.next_interval(state, new=10, listed=10) == frontier.FLOOR.total_seconds()


def test_with_frontier_adds_only_what_the_sources_no_longer_list() -> None:
    listed = DiscoveryResult(urls=[DiscoveredUrl("https://x.org/b", "rss")],
                             counts={"rss": 1, "total": 1})
    merged = frontier.with_frontier(listed, [DiscoveredUrl("https://x.org/a", "frontier"),
                                             DiscoveredUrl("https://x.org/b", "frontier")])
    assert [(u.url, u.source) for u in merged.urls] == [
        ("https://x.org/a", "frontier"), ("https://x.org/b", "rss")]
    assert merged.counts == {"rss": 1, "total": 2, "frontier": 2, "frontier_only": 1}


def test_a_bad_config_in_a_shard_does_not_stop_the_others(
    newsroom: tuple[DemoNewsroom, Clock], tmp_path: Path
) -> None:
    _, clock = newsroom
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    good = outlets / f"{WIRE}.yaml"
    good.write_text((PROJECT_ROOT / "include" / "outlets" / f"{WIRE}.yaml").read_text())
    (outlets / "broken.yaml").write_text("id: broken\nname: [\n")
    bayside = PROJECT_ROOT / "include" / "outlets" / "demo_metro_ledger.yaml"  # no feed
    paths = sorted(str(p) for p in (good, outlets / "broken.yaml", bayside))
    results = frontier.poll_configs(paths, str(tmp_path / "lake"), clock.now)
    by_outlet = {r["outlet"]: r for r in results}
    assert "ConfigError" in by_outlet["broken"]["error"]
    assert by_outlet[WIRE]["new_urls"] == catalog.WIRE_FEED_ITEMS
    assert by_outlet["demo_metro_ledger"] == {"outlet": "demo_metro_ledger",
                                              "skipped": "no polled sources"}
    later = iter([0.0, 10.0, 10.0, 10.0])
    deferred = frontier.poll_configs([str(good)], str(tmp_path / "lake"), clock.now,
                                     budget_s=5, clock=lambda: next(later), workers=1)
    assert deferred == [{"outlet": WIRE, "deferred": True}]
    assert frontier.shards([str(i) for i in range(5)], 2) == [["0", "1"], ["2", "3"], ["4"]]


def test_poll_every_is_checked_by_the_config() -> None:
    from newslake.config import parse_outlet

    base = {"id": "x", "name": "X", "base_url": "https://x.org/", "language": "en",
            "start_date": "2024-01-01"}
    outlet = parse_outlet({**base, "discovery": [
        {"type": "rss", "url": "https://x.org/feed", "poll_every": 0},
        {"type": "sitemap", "url": "https://x.org/news.xml", "poll_every": 15}]})
    assert [s.url for s in frontier.polled_sources(outlet)] == ["https://x.org/news.xml"]
    with pytest.raises(ConfigError, match="poll_every"):
        parse_outlet({**base, "discovery": [
            {"type": "archive", "url_template": "https://x.org/{date:%Y}", "poll_every": 5}]})


@pytest.mark.timeout(180)
def test_the_frontier_on_an_s3_lake(
    newsroom: tuple[DemoNewsroom, Clock], s3_lake: str, s3_server: object
) -> None:
    from newslake import lake as lakeio

    storage = s3_server.storage  # type: ignore[attr-defined]
    _, clock = newsroom
    outlet = wire_outlet()
    clock.now = dt.datetime(2026, 6, 15, 0, 5, tzinfo=dt.UTC)
    while clock.now <= MIDNIGHT + dt.timedelta(minutes=5):
        frontier.poll_outlet(outlet, s3_lake, clock.now, storage)
        clock.now += dt.timedelta(hours=2)
    rows = frontier.frontier_rows(s3_lake, WIRE, DAY, storage).sort_by("url")
    assert rows.num_rows >= 24
    clock.now = MIDNIGHT + frontier.SETTLED
    frontier.poll_outlet(outlet, s3_lake, clock.now, storage)
    names = [i.base_name for i in lakeio.list_files(
        lakeio.partition_uri(s3_lake, "frontier", WIRE, DAY), storage)]
    assert names == ["part-00000.parquet"]
    assert frontier.frontier_rows(s3_lake, WIRE, DAY, storage).sort_by("url").equals(rows)
    state = json.loads(lakeio.read_bytes(frontier.state_uri(s3_lake, WIRE), storage))
    assert list(state["sources"]) == [outlet.discovery[0].url]


def test_the_wire_publishes_all_day_and_its_feed_holds_the_latest_ten(
    newsroom: tuple[DemoNewsroom, Clock]
) -> None:
    import requests

    from newslake.parse import parse_article

    site, clock = newsroom
    for n in range(30):
        day = DAY + dt.timedelta(days=n)
        stories = catalog.articles_on_local_day(WIRE, day)
        hours = [a.published_at.hour for a in stories]
        assert sorted(set(hours)) == list(range(24)) and max(map(hours.count, hours)) <= 3
        assert len({a.path for a in stories}) == len(stories) >= 24
        assert [a.bad_reason for a in stories if a.bad_reason] == (
            ["too_short"] if (day - catalog.START).days % 10 == 4 else [])
    clock.now = dt.datetime(2026, 6, 15, 18, 0, tzinfo=dt.UTC)
    feed = requests.get(f"{site.base_url}/harbor-wire/feed.xml", timeout=10)
    links = [u.url for u in discover(wire_outlet(), DAY).urls]
    latest = catalog.latest(WIRE, clock.now, catalog.WIRE_FEED_ITEMS)
    assert sorted(links) == sorted(a.url(site.base_url) for a in latest)
    again = requests.get(f"{site.base_url}/harbor-wire/feed.xml", timeout=10,
                         headers={"If-None-Match": feed.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    outlet = wire_outlet()
    for story in [x for x in catalog.articles_for(WIRE, DAY) if x.is_article_ok][:5]:
        a = catalog.as_of(story, clock.now)  # the fourth was updated since (wire edits)
        page = requests.get(a.url(site.base_url), timeout=10)
        row = parse_article(page.content, a.url(site.base_url), outlet, headers=dict(page.headers))
        assert (row.title, row.body, row.authors, row.published_at, row.section, row.tags) == (
            a.title, a.body, a.authors, a.published_at, a.section, a.tags)
        assert row.parser == f"rules:{WIRE}@1.{PARSER_VERSION}"


def test_a_quiet_outlet_costs_a_state_read_until_its_config_changes(
    newsroom: tuple[DemoNewsroom, Clock], tmp_path: Path
) -> None:
    _, clock = newsroom
    config = tmp_path / f"{WIRE}.yaml"
    config.write_text((PROJECT_ROOT / "include" / "outlets" / f"{WIRE}.yaml").read_text())
    lake = str(tmp_path / "lake")
    first = frontier.poll_configs([str(config)], lake, clock.now)
    assert first[0]["polled"] == 1
    later = clock.now + dt.timedelta(minutes=5)  # nothing due: the YAML is not even parsed
    assert frontier.poll_configs([str(config)], lake, later) == [{"outlet": WIRE, "polled": 0}]
    config.write_text(config.read_text().replace("poll_every: 30", "poll_every: 15"))
    changed = frontier.poll_configs([str(config)], lake, later)
    assert changed[0]["polled"] == 0 and "requests" in changed[0], "read again, not due yet"
    assert frontier.poll_configs([str(config)], lake, later) == [{"outlet": WIRE, "polled": 0}]


def test_a_news_sitemap_index_is_polled_and_its_children_read_only_when_it_changed(
    site: Loopback, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    news = ('<url><loc>{}</loc><news:news><news:publication_date>2026-06-15T{}:00:00Z'
            '</news:publication_date></news:news></url>')
    head = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">')
    site.routes["/news.xml"] = Reply(body=(head + news.format(site.url("/a"), "09")
                                           + news.format(site.url("/b"), "11")
                                           + "</urlset>").encode())
    index = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap>'
             f'<loc>{site.url("/news.xml")}</loc><lastmod>2026-06-15T11:00:00Z</lastmod>'
             '</sitemap></sitemapindex>').encode()
    site.routes["/index.xml"] = Reply(body=index, conditional=True,
                                      headers={"Last-Modified": "Mon, 15 Jun 2026 11:00:00 GMT"})
    outlet = loop_outlet(site, DiscoverySource("sitemap", url=site.url("/index.xml")))
    first = frontier.poll_outlet(outlet, lake, now)
    second = frontier.poll_outlet(outlet, lake, now + dt.timedelta(hours=1), force=True)
    assert (first.new_urls, first.requests) == (2, 3)  # robots.txt, the index, its child
    assert site.hits["/robots.txt"] == 1, "robots.txt is kept for a day"
    assert (second.not_modified, second.requests) == (1, 1), "a 304: the child is not read"
    rows = frontier.frontier_rows(lake, "loop", DAY).sort_by("url").to_pylist()
    assert [(r["url"], r["source"], r["source_date"].hour) for r in rows] == [
        (site.url("/a"), "sitemap", 9), (site.url("/b"), "sitemap", 11)]
    assert site.hits["/news.xml"] == 1


def test_robots_txt_is_read_once_a_day_and_still_obeyed(site: Loopback, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    now = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
    site.routes["/robots.txt"] = [Reply(body=b"User-agent: *\nDisallow: /private/\n"),
                                  Reply(body=b"User-agent: *\nDisallow: /\n")]
    feed = {"Content-Type": "application/rss+xml"}
    site.routes["/private/feed"] = Reply(body=rss([site.url("/x")]), headers=feed)
    site.routes["/feed"] = Reply(body=rss([site.url("/a")]), headers=feed)
    outlet = loop_outlet(site, DiscoverySource("rss", url=site.url("/feed")),
                         DiscoverySource("rss", url=site.url("/private/feed")))
    for hours in (0, 1, 23):
        report = frontier.poll_outlet(outlet, lake, now + dt.timedelta(hours=hours), force=True)
        assert [e["error"] for e in report.errors] == ["robots_disallowed"]
    assert site.hits["/robots.txt"] == 1 and site.hits["/private/feed"] == 0
    later = frontier.poll_outlet(outlet, lake, now + dt.timedelta(hours=24), force=True)
    assert site.hits["/robots.txt"] == 2, "read again after 24 hours"
    assert len(later.errors) == 2, "now everything is disallowed"
