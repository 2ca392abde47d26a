"""Per-outlet choice of the title and byline sources (``parse.title_source``,
``parse.byline_source``), and the general date and body rules of newslake.parse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from newslake.config import BYLINE_SOURCES, TITLE_SOURCES, Outlet, load_outlet, parse_outlet
from newslake.errors import ConfigError
from newslake.parse import parse_article

pytestmark = pytest.mark.timeout(60)

OUTLETS = Path(__file__).resolve().parents[1] / "include" / "outlets"
URL = "https://daily.example.com/2024/05/01/council-bike-lanes/"
TEXT = (
    "The city council voted on Tuesday night to expand protected bike lanes along three "
    "downtown corridors, ending months of debate over parking and delivery access. "
) * 3
MINIMAL: dict[str, Any] = {
    "id": "daily",
    "name": "The Daily Example",
    "base_url": "https://daily.example.com/",
    "language": "en",
    "timezone": "America/New_York",
    "start_date": "2024-01-01",
}


def outlet(**parse: Any) -> Outlet:
    return parse_outlet({**MINIMAL, "parse": parse}, "daily.yaml")


def page(*, byline: str = "By Jane Roe", published: str = "2024-05-01T20:15:00Z") -> str:
    """Every title source words the headline differently; JSON-LD, meta and markup credit
    different people."""
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Bike lanes: council votes yes",
        "author": {"@type": "Person", "name": "Ann Ld"},
        "datePublished": published,
    }
    return (
        '<html lang="en"><head>'
        "<title>Council expands bike lanes after long debate - The Daily Example</title>"
        '<meta property="og:title" content="Bike lanes for three corridors">'
        '<meta name="twitter:title" content="Council says yes to bike lanes">'
        '<meta name="author" content="Max Meta">'
        f'<script type="application/ld+json">{json.dumps(ld)}</script></head><body>'
        f'<article><h1>Council expands protected bike lanes</h1><p class="byline">{byline}</p>'
        f"<p>{TEXT}</p><p>{TEXT}</p></article></body></html>"
    )


def test_choices_are_documented_defaults() -> None:
    rules = outlet().parse
    assert (rules.title_source, rules.byline_source) == ("auto", "auto")
    assert TITLE_SOURCES[0] == BYLINE_SOURCES[0] == "auto"


@pytest.mark.parametrize(
    ("source", "title"),
    [
        ("auto", "Bike lanes: council votes yes"),
        ("jsonld", "Bike lanes: council votes yes"),
        ("og", "Bike lanes for three corridors"),
        ("twitter", "Council says yes to bike lanes"),
        ("h1", "Council expands protected bike lanes"),
        ("title", "Council expands bike lanes after long debate"),
    ],
)
def test_title_source_picks_the_headline(source: str, title: str) -> None:
    article = parse_article(page(), URL, outlet(title_source=source))
    assert article.title == title


@pytest.mark.parametrize(
    ("source", "authors"),
    [
        ("auto", ["Ann Ld"]),
        ("jsonld", ["Ann Ld"]),
        ("meta", ["Max Meta"]),
        ("markup", ["Jane Roe"]),
    ],
)
def test_byline_source_picks_the_credit(source: str, authors: list[str]) -> None:
    article = parse_article(page(), URL, outlet(byline_source=source))
    assert article.authors == authors


def test_a_source_the_page_lacks_falls_back_to_the_generic_order() -> None:
    html = page(byline="").replace('<meta name="twitter:title" content="Council says yes '
                                   'to bike lanes">', "")
    article = parse_article(html, URL, outlet(title_source="twitter", byline_source="markup"))
    assert article.title == "Bike lanes: council votes yes"
    assert article.authors == ["Ann Ld"]


@pytest.mark.parametrize(
    ("parse", "message"),
    [
        ({"title_source": "headline"}, "parse.title_source: 'headline' is not one of auto, "),
        ({"byline_source": "h1"}, "parse.byline_source: 'h1' is not one of auto, jsonld"),
        ({"title_source": ["h1", "og"]}, "parse.title_source: expected str"),
    ],
)
def test_bad_source_names_file_and_key(parse: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^daily\.yaml: ") as err:
        outlet(**parse)
    assert message in str(err.value)


def test_tampafp_takes_the_headline_it_prints() -> None:
    assert load_outlet(OUTLETS / "tampafp.yaml").parse.title_source == "h1"


# -- general rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "published", "day"),
    [
        # 23:01 UTC is the next day in Rome; Italy has one time zone
        ("https://www.example.it/news/bike-lanes-story/", "2023-11-01T23:01:00Z", "2023-11-02"),
        # no country: the day as written
        ("https://www.example.com/news/bike-lanes-story/", "2023-11-01T23:01:00Z", "2023-11-01"),
        # midnight UTC is a bare date, not a time of day
        ("https://www.example.it/news/bike-lanes-story/", "2023-11-01T00:00:00Z", "2023-11-01"),
        # Spain's zones (Madrid, Canaries) disagree on the day: left as written
        ("https://www.example.es/news/bike-lanes-story/", "2023-11-01T23:01:00Z", "2023-11-01"),
    ],
)
def test_a_utc_time_takes_the_day_of_the_sites_country(url: str, published: str, day: str
                                                       ) -> None:
    article = parse_article(page(published=published), url)
    assert article.published_at is not None
    assert article.published_at.date().isoformat() == day
    assert article.published_at == dt.datetime.fromisoformat(published)  # the same instant


def test_an_unclosed_wrapper_does_not_hide_the_article() -> None:
    html = (
        "<html><head><title>Council expands bike lanes</title></head><body>"
        "<noscript><img src='pixel.gif'><div><h1>Council expands bike lanes</h1>"
        f"<p>{TEXT}</p><p>{TEXT}</p><div>more</div><div>and more</div></div></body></html>"
    )
    article = parse_article(html, URL)
    assert TEXT.strip() in article.body


@pytest.mark.parametrize("inside", [7, 8, 9, 10, 11, 12])
def test_a_wrapper_becomes_a_div_when_it_holds_over_half_of_the_page(inside: int) -> None:
    """Counted to the end of the page or only as far as twice the largest wrapper, the
    line is the same: over half of the page's nodes (here 21 of them, 10 its half)."""
    from lxml import html as lxml_html

    from newslake.parse.body_generic import _unwrap_page_wrappers

    paragraphs = "".join("<p>x</p>" for _ in range(inside - 1))
    outside = "".join("<p>y</p>" for _ in range(21 - 2 - inside))  # and <html>, <body>
    tree = lxml_html.document_fromstring(
        f"<html><body><nav>{paragraphs}</nav>{outside}</body></html>")
    assert sum(1 for _ in tree.iter()) == 21
    _unwrap_page_wrappers(tree)
    tags = {element.tag for element in tree.iter()}
    assert ("div" in tags) == (inside > 10)
    assert ("nav" in tags) == (inside <= 10)


def test_a_labelled_date_beats_a_date_class_elsewhere() -> None:
    """A sidebar's "date" class names another day; the label says which one is the
    article's."""
    html = (
        "<html><head><title>Council expands bike lanes</title></head><body>"
        "<div class='sidebar'><span class='date'>04.02.2022</span> Other story</div>"
        f"<article><h1>Council expands bike lanes</h1><p>{TEXT}</p><p>{TEXT}</p>"
        "<div><h5>Datum:</h5>03.02.2022</div></article></body></html>"
    )
    article = parse_article(html, "https://www.example.de/nachrichten/bike-lanes-3126349")
    assert article.published_at is not None
    assert article.published_at.date() == dt.date(2022, 2, 3)
    assert article.published_at_source == "text"
