"""`newslake outlets add` / `check` against loopback sites: the demo newsroom, a small
WordPress-style site built here, and hostile sites (each ends with a clear message)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from helpers.clock import TODAY, days_ago
from helpers.loopback import Loopback, Reply

from newslake.cli import main
from newslake.config import Outlet, load_outlet, load_outlets
from newslake.discover.archive import page_links
from newslake.fetch import FetchResult
from newslake.onboard import OnboardError
from newslake.onboard.check import dry_run
from newslake.onboard.proposal import propose, write_proposal
from newslake.onboard.sources import link_selector
from newslake.urls import canonicalize_url

pytestmark = pytest.mark.usefixtures("fast_backoff")
FAST = 500.0  # requests per second: loopback only
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
XML = {"Content-Type": "application/xml"}


def _fast(outlet: Outlet) -> Outlet:
    """The proposal's politeness is for the web (1 request/s); loopback need not wait."""
    return dataclasses.replace(outlet, politeness=dataclasses.replace(
        outlet.politeness, requests_per_second=FAST, concurrency=4))


def _rows(outlet: Outlet, day: dt.date) -> set[tuple[str, str, dt.datetime]]:
    report = dry_run(_fast(outlet), day)
    assert report.would_publish, report.batch_failures or report.problem
    return {(r["url"], r["title"], r["published_at"]) for r in report.rows}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("outlet_id", ["demo_bayside_press", "demo_dnipro_visti",
                                       "demo_metro_ledger"])
def test_demo_proposal_ingests_the_shipped_configs_rows(
        demo_site: str, tmp_path: Path, outlet_id: str) -> None:
    shipped = load_outlets()[outlet_id]
    proposal = propose(shipped.base_url, outlet_id=outlet_id, allow_private=True,
                       requests_per_second=FAST, today=TODAY)
    proposed = load_outlet(write_proposal(proposal, tmp_path / f"{outlet_id}.yaml"))
    assert proposed.language == shipped.language
    assert proposed.timezone == shipped.timezone
    assert {s.type for s in proposed.discovery} == {s.type for s in shipped.discovery}
    # The same articles, titles and times; the bodies are not compared: the shipped
    # configs cut them with a body_selector the proposal leaves to the generic extractor.
    day = days_ago(3)
    assert _rows(proposed, day) == _rows(shipped, day)


def _article(n: int, base: str) -> bytes:
    prose = " ".join(f"Sentence {k} of story {n} tells the council's budget news in plain "
                     "words for readers of the town." for k in range(12))
    return f"""<!doctype html><html lang="en-US"><head>
<title>Story {n} about the harbour budget - Gulf Town Post</title>
<meta property="og:title" content="Story {n} about the harbour budget">
<meta property="og:site_name" content="Gulf Town Post">
<meta property="article:published_time" content="2026-06-1{n}T09:3{n}:00-04:00">
<meta name="author" content="Reporter {n}">
<link rel="canonical" href="{base}/2026/06/1{n}/story-{n}-harbour-budget/">
</head><body><header><a href="{base}/">Home</a></header>
<article><h1>Story {n} about the harbour budget</h1>
<div class="entry-content"><p>{prose}</p>
<p>READ: Another story number {n + 10} you may like this week</p>
<p>{prose}</p>
<div class="donate-box"><p>Please make a small donation to keep local news free for all.</p>
</div></div></article></body></html>""".encode()


def _wordpress_site(site: Loopback) -> None:
    base = site.base
    items = "".join(
        f"<item><title>Story {n}</title><link>{base}/2026/06/1{n}/story-{n}-harbour-budget/"
        f"</link><pubDate>{'Mon, 1' + str(n)} Jun 2026 13:3{n}:00 +0000</pubDate></item>"
        for n in range(1, 6))
    feed = (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Gulf Town Post</title><link>{base}/</link>"
            f"<generator>https://wordpress.org/?v=6.4.3</generator>{items}</channel></rss>")
    urls = "".join(f"<url><loc>{base}/2026/06/1{n}/story-{n}-harbour-budget/</loc>"
                   f"<lastmod>2026-06-1{n}T14:00:00+00:00</lastmod></url>" for n in range(1, 6))
    site.routes.update({
        "/robots.txt": Reply(body=f"User-agent: *\nAllow: /\nSitemap: {base}/wp-sitemap.xml\n"
                             .encode()),
        "/": Reply(body=b"<html><head><title>Gulf Town Post | News</title></head>"
                   b"<body><h1>Gulf Town Post</h1></body></html>", headers=HTML),
        "/feed/": Reply(body=feed.encode(), headers=RSS),
        "/wp-sitemap.xml": Reply(body=(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode(), headers=XML),
        **{f"/2026/06/1{n}/story-{n}-harbour-budget/": Reply(body=_article(n, base),
                                                               headers=HTML)
           for n in range(1, 6)},
    })


@pytest.mark.timeout(60)
def test_wordpress_site_with_only_a_robots_sitemap_line_and_a_feed(
        site: Loopback, tmp_path: Path) -> None:
    _wordpress_site(site)
    proposal = propose(site.url("/"), outlet_id="gulf_town_post", allow_private=True,
                       requests_per_second=FAST, today=TODAY)
    found = {(s.type, s.url, s.found_by) for s in proposal.found.sources}
    assert ("rss", site.url("/feed/"), "usual path feed/") in found
    assert ("sitemap", site.url("/wp-sitemap.xml"), "robots.txt Sitemap line") in found
    assert len(proposal.profile.parsed) == 5
    assert proposal.found.site_name == "Gulf Town Post"
    assert proposal.profile.timezone == "America/New_York"
    assert "guess" in proposal.profile.timezone_reason
    outlet = load_outlet(write_proposal(proposal, tmp_path / "gulf_town_post.yaml"))
    assert outlet.parse.drop_paragraphs[:1] == ("^READ:",) or "^READ:" in \
        outlet.parse.drop_paragraphs
    assert any(p.startswith("^Please") for p in outlet.parse.drop_paragraphs)
    assert "# guess" in proposal.yaml_text


@pytest.mark.timeout(30)
def test_a_home_page_linking_5000_feeds_reads_a_few(site: Loopback) -> None:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="/f/{n}.xml">'
                    for n in range(5000))
    site.routes["/"] = Reply(body=f"<html><head>{links}</head><body>x</body></html>".encode(),
                             headers=HTML)
    with pytest.raises(OnboardError, match="links 5000 feeds: read the first 5"):
        propose(site.url("/"), allow_private=True, requests_per_second=FAST, today=TODAY)
    assert sum(site.hits.values()) < 40  # the 5 feeds, robots.txt and the usual paths


@pytest.mark.timeout(30)
def test_a_sitemap_index_loop_ends(site: Loopback) -> None:
    def index(*children: str) -> Reply:
        body = "".join(f"<sitemap><loc>{site.url(c)}</loc></sitemap>" for c in children)
        return Reply(body=f'<?xml version="1.0"?><sitemapindex>{body}</sitemapindex>'.encode(),
                     headers=XML)

    site.routes.update({
        "/robots.txt": Reply(body=f"User-agent: *\nSitemap: {site.url('/a.xml')}\n".encode()),
        "/": Reply(body=b"<html><body>home</body></html>", headers=HTML),
        "/a.xml": index("/b.xml"),
        "/b.xml": index("/a.xml", "/b.xml"),
    })
    with pytest.raises(OnboardError, match="sitemap index loop"):
        propose(site.url("/"), allow_private=True, requests_per_second=FAST, today=TODAY)
    assert site.hits["/a.xml"] == 1 and site.hits["/b.xml"] == 1


@pytest.mark.timeout(30)
def test_robots_disallowing_everything_is_respected(site: Loopback) -> None:
    site.routes["/robots.txt"] = Reply(body=b"User-agent: *\nDisallow: /\n")
    with pytest.raises(OnboardError, match="robots.txt disallows"):
        propose(site.url("/"), allow_private=True, requests_per_second=FAST, today=TODAY)
    assert set(site.hits) == {"/robots.txt"}


@pytest.mark.timeout(30)
def test_private_addresses_are_refused_unless_allowed(site: Loopback) -> None:
    with pytest.raises(OnboardError, match="--allow-private"):
        propose(site.url("/"), requests_per_second=FAST, today=TODAY)
    assert not site.hits


@pytest.mark.timeout(120)
def test_cli_add_then_check(site: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    _wordpress_site(site)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path))
    assert main(["outlets", "add", site.url("/"), "--id", "gulf", "--allow-private",
                 "--rate", str(FAST)]) == 0
    config = tmp_path / "gulf.yaml"
    # The engineer's edit: loopback may go faster than the proposal's one request a second.
    config.write_text(config.read_text().replace("requests_per_second: 1.0",
                                                 f"requests_per_second: {FAST}"))
    assert main(["outlets", "add", site.url("/"), "--id", "gulf", "--allow-private"]) == 2
    assert "exists" in capsys.readouterr().err
    # 2026-06-13 UTC holds story 3 (09:33 -04:00); 2026-06-01 holds nothing.
    assert main(["outlets", "check", "gulf", "--date", "2026-06-13"]) == 0
    out = capsys.readouterr().out
    assert "written     1" in out and "would publish: 1 articles" in out
    assert main(["outlets", "check", "gulf", "--date", "2026-06-01"]) == 1
    assert "WOULD NOT PUBLISH" in capsys.readouterr().out
    main(["outlets", "check", "gulf", "--date", "2026-06-13", "--sample", "2"])
    out = capsys.readouterr().out
    assert "a sample of 2 URLs" in out and "fetched     2 " in out
    assert not list(tmp_path.glob("**/*.parquet"))  # nothing reached a lake
    assert main(["outlets", "list"]) == 0
    assert "gulf" in capsys.readouterr().out
    assert main(["outlets", "check", "nope"]) == 2


@pytest.mark.timeout(30)
def test_cli_says_why_in_one_line(site: Loopback, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    site.routes["/robots.txt"] = Reply(body=b"User-agent: *\nDisallow: /\n")
    assert main(["outlets", "add", site.url("/"), "--allow-private", "--rate", str(FAST),
                 "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("newslake outlets add: ") and "robots.txt disallows" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.yaml").exists()


def test_article_shaped_urls_and_readable_patterns() -> None:
    from newslake.onboard.profile import _literal
    from newslake.onboard.proposal import outlet_id_for
    from newslake.onboard.sources import looks_like_article

    assert looks_like_article("https://x.com/news/2026/06/19/council-backs-the-plan/")
    assert looks_like_article("https://x.com/news/79011.html")
    assert not looks_like_article("https://x.com/archive/2026-06-18/")
    assert not looks_like_article("https://x.com/news/london/")
    assert outlet_id_for("https://www.tampafp.com/") == "tampafp"
    assert outlet_id_for("http://127.0.0.1:8765/bayside-press/") == "bayside_press"
    text = "© 2026 (c) News+ [x] a|b. Sign-up"
    assert _literal(text) == r"© 2026 \(c\) News\+ \[x\] a\|b\. Sign-up"


def _archive_page(day: str, stories: list[str], list_class: str = "day-list") -> FetchResult:
    """An archive page: the day's list in ``ul.<list_class>`` and a sidebar that is the
    same every day."""
    items = "".join(f'<li><a href="/news/{day}/{s}-story-here">{s}</a></li>' for s in stories)
    body = (f'<html><body><ul class="{list_class}">{items}</ul>'
            '<aside class="latest"><a href="/news/2026-01-01/pinned-story-here">pinned</a>'
            '</aside></body></html>').encode()
    return FetchResult(url=f"https://x.com/archive/{day}/", final_url=f"https://x.com/archive/{day}/",
                       status=200, headers={"Content-Type": "text/html; charset=utf-8"},
                       body=body, fetched_at=dt.datetime(2026, 6, 18, tzinfo=dt.UTC))


def test_link_selector_is_chosen_by_the_engine_discovery_runs() -> None:
    """The proposed archive selector picks the day's list, not the sidebar that stays the
    same, and discovery's own link reader (``page_links``, which the proposal now tries its
    candidates with) picks exactly the day's articles with it."""
    today = _archive_page("2026-06-18", ["alpha", "beta", "gamma"])
    before = _archive_page("2026-06-17", ["delta", "epsilon"])
    articles = {canonicalize_url(f"https://x.com/news/2026-06-18/{s}-story-here")
                for s in ("alpha", "beta", "gamma")}
    selector = link_selector([today, before], articles)
    assert selector == "ul.day-list a"
    assert {canonicalize_url(u) for u in page_links(
        today.body or b"", today.final_url, selector)} == articles


def test_link_selector_escapes_class_names_css_would_misread() -> None:
    """A utility-CSS class name (Tailwind's ``md:flex``) is escaped in the proposal, so the
    list is still found by its class and discovery reads the same links with it."""
    today = _archive_page("2026-06-18", ["alpha", "beta", "gamma"], list_class="md:flex")
    before = _archive_page("2026-06-17", ["delta", "epsilon"], list_class="md:flex")
    articles = {canonicalize_url(f"https://x.com/news/2026-06-18/{s}-story-here")
                for s in ("alpha", "beta", "gamma")}
    selector = link_selector([today, before], articles)
    assert selector == r"ul.md\:flex a"
    assert {canonicalize_url(u) for u in page_links(
        today.body or b"", today.final_url, selector or "")} == articles
