"""parse_article against the demo newsroom's ground truth (demo_site.catalog).

Pages are fetched from a running ``DemoNewsroom`` and parsed twice: with the outlet's YAML
rules (``rules:<id>@1``) and by the generic path. Deliberately bad pages (soft 404s served
with 200) must raise ``ParseError``; too-short briefs parse, and are validation's to reject.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_site import catalog as demo_catalog
from demo_site import server as demo_server
from newslake.config import Outlet, load_outlet
from newslake.errors import ParseError
from newslake.parse import parse_article
from newslake.parse.version import GENERIC_PARSER, PARSER_VERSION

OUTLETS_DIR = Path(__file__).resolve().parents[1] / "include" / "outlets"
DEMO_KEYS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti")
# A few days that include a soft 404 (Metro Ledger), short briefs and a paywalled story.
DAYS = (dt.date(2024, 3, 3), dt.date(2024, 3, 5), dt.date(2024, 3, 6), dt.date(2024, 3, 7))
PAGES_PER_DAY = 4


@pytest.fixture(scope="module")
def newsroom_url() -> Iterator[str]:
    with demo_server.DemoNewsroom(port=0) as room:
        yield room.base_url.rstrip("/")


@pytest.fixture(scope="module")
def demo_outlets(newsroom_url: str) -> dict[str, Outlet]:
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("NEWSLAKE_DEMO_URL", newsroom_url)
    try:
        outlets = {}
        for key in DEMO_KEYS:
            outlets[key] = load_outlet(OUTLETS_DIR / f"{key}.yaml")
        return outlets
    finally:
        monkeypatch.undo()


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), dict(response.headers)


def sample(key: str) -> list[object]:
    chosen = []
    for day in DAYS:
        articles = demo_catalog.articles_for(key, day)
        good = [a for a in articles if a.is_article_ok][:PAGES_PER_DAY]
        bad = [a for a in articles if not a.is_article_ok]
        chosen.extend(good + bad)
    return chosen


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_demo_pages_match_ground_truth(
    key: str, newsroom_url: str, demo_outlets: dict[str, Outlet]
) -> None:
    outlet = demo_outlets[key]
    checked = 0
    for truth in sample(key):
        url = truth.url(newsroom_url)
        data, headers = fetch(url)
        if truth.is_soft_404:
            for parse_with in (outlet, None):
                with pytest.raises(ParseError) as err:
                    parse_article(data, url, parse_with, headers=headers)
                assert err.value.reason == "soft_404", url
            continue
        article = parse_article(data, url, outlet, headers=headers)
        assert article.parser == f"rules:{key}@1.{PARSER_VERSION}", url
        assert article.body.split("\n\n") == truth.paragraphs, url
        assert article.title == truth.title, url
        assert article.authors == truth.authors, url
        assert article.published_at == truth.published_at, url
        assert article.section == truth.section, url
        assert article.tags == truth.tags, url
        assert article.language == truth.language, url
        assert article.is_paywalled == truth.is_paywalled, url
        assert article.outlet == key
        checked += 1
    assert checked >= len(DAYS) * PAGES_PER_DAY


@pytest.mark.parametrize("key", DEMO_KEYS)
def test_demo_pages_generic_path_gets_the_same_body(key: str, newsroom_url: str) -> None:
    for truth in sample(key):
        if truth.is_soft_404:
            continue
        url = truth.url(newsroom_url)
        data, headers = fetch(url)
        article = parse_article(data, url, headers=headers)
        assert article.parser == GENERIC_PARSER, url
        paragraphs = article.body.split("\n\n")
        # The generic path opens with the standfirst the page shows (its description), as
        # fundus-dev's gold does; the newsroom's truth lists the text below it.
        if paragraphs[0] == truth.description and paragraphs[0] not in truth.paragraphs:
            paragraphs = paragraphs[1:]
        if not truth.is_article_ok:
            # a two-sentence brief: trafilatura also takes the page's teasers and dateline
            # (known gap of the generic path; the rules path is exact, and validation drops
            # briefs for being under min_words anyway)
            assert [p for p in paragraphs if p in truth.paragraphs] == truth.paragraphs, url
            continue
        assert paragraphs == truth.paragraphs, url
        assert article.title == truth.title, url
        assert article.authors == truth.authors, url


def test_demo_soft_404_days_are_sampled() -> None:
    assert any(a.is_soft_404 for a in sample("demo_metro_ledger"))
    assert any(not a.is_article_ok and not a.is_soft_404 for k in DEMO_KEYS for a in sample(k))
