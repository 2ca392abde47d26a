"""parse_article: one page in, one Article out (newslake.parse)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import py3langid
import pytest

from newslake.config import Outlet, parse_outlet
from newslake.errors import ParseError
from newslake.parse import language, parse_article
from newslake.parse.css import css_to_xpath
from newslake.parse.decode import decode_html
from newslake.parse.language import declared_language
from newslake.parse.metadata import PageMeta
from newslake.parse.version import (
    EMBEDDED_PARSER,
    GENERIC_PARSER,
    PARSER_VERSION,
    STRUCTURED_PARSER,
)

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
SEED_TEXT = Path("/work/shared/seed-article.txt")
SEED_URL = (
    "https://www.tampafp.com/trump-says-us-and-russia-already-discussing-"
    "dividing-up-certain-assets-in-ukraine-talks/"
)
SEED_TITLE = (
    "Trump Says U.S. And Russia Already Discussing \u2018Dividing Up Certain Assets\u2019 "
    "In Ukraine Talks"
)
SEED_DROPPED_PREFIXES = ("READ:", "Please make a small donation", "Connect with us", "Sign up:")
# What the generic path keeps that the tampafp rules drop: the one-line appeal inside the
# donation box (its heading and form go, trafilatura keeps the sentence).
GENERIC_EXTRA_PARAGRAPHS = {"Every dollar helps us report the news."}

UTC = dt.UTC
PARAGRAPHS = (
    "The city council voted on Tuesday night to expand protected bike lanes along three "
    "downtown corridors, ending months of debate over parking and delivery access.",
    "Supporters said the lanes would make cycling safer for commuters, while several "
    "business owners warned that the loss of curbside parking could hurt their trade.",
    "Construction is expected to begin in the spring and to finish before the end of the "
    "year, according to the city's transportation department.",
)
PARAGRAPHS_HTML = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)


def tampafp_outlet() -> Outlet:
    """The outlet of the original design brief's example config (tampafp)."""
    return parse_outlet(
        {
            "id": "tampafp",
            "name": "Tampa Free Press",
            "base_url": "https://www.tampafp.com/",
            "language": "en",
            "timezone": "America/New_York",
            "start_date": "2024-01-01",
            "schedule": "@daily",
            "discovery": [
                {"type": "rss", "url": "https://www.tampafp.com/feed/"},
                {"type": "sitemap", "url": "https://www.tampafp.com/sitemap_index.xml"},
                {
                    "type": "archive",
                    "url_template": "https://www.tampafp.com/{date:%Y/%m/%d}/",
                    "link_selector": "h3.entry-title a",
                },
            ],
            "parse": {
                "body_selector": "div.td-post-content",
                "drop_selectors": [".donate-box", "form", ".td-a-rec"],
                "drop_paragraphs": [
                    "^READ:",
                    "^Please make a small donation",
                    "^Connect with us",
                    "^Sign up:",
                ],
            },
            "politeness": {"requests_per_second": 1.0, "concurrency": 2, "obey_robots": True},
            "validation": {"min_words": 80},
        }
    )


def simple_outlet(timezone: str = "America/New_York", **parse: Any) -> Outlet:
    return parse_outlet(
        {
            "id": "daily",
            "name": "The Daily Example",
            "base_url": "https://daily.example.com/",
            "language": "en",
            "timezone": timezone,
            "start_date": "2024-01-01",
            "parse": parse,
        }
    )


def make_page(
    head: str = "",
    body: str | None = None,
    *,
    title: str = "Council expands bike lanes",
    lang: str = "en",
    published: str | None = "2024-05-01T20:15:00+00:00",
) -> str:
    """A small article page; ``head`` and ``body`` replace the defaults' parts."""
    if published is not None:
        head = f'<meta property="article:published_time" content="{published}">' + head
    if body is None:
        body = (f"<article><h1>{title}</h1>"
                f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{title} - The Daily Example</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a> <a href='/news/'>News</a></nav>{body}"
        "<footer>© The Daily Example</footer></body></html>"
    )


ARTICLE_URL = "https://daily.example.com/2024/05/01/council-bike-lanes/"


def _authors(body: str) -> list[str]:
    """The authors ``parse_article`` finds on ``make_page`` with ``body``."""
    return parse_article(make_page(body=body), ARTICLE_URL).authors


def jsonld(obj: dict[str, Any]) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


# -- the seed page ------------------------------------------------------------------------


def seed_expected_paragraphs() -> list[str]:
    lines = SEED_TEXT.read_text(encoding="utf-8").strip().splitlines()
    return [line for line in lines if line.strip() and not line.startswith(SEED_DROPPED_PREFIXES)]


@pytest.fixture(scope="module")
def seed_html() -> bytes:
    return (FIXTURES / "seed_tampafp.html").read_bytes()


def test_seed_page_with_outlet_rules(seed_html: bytes) -> None:
    fetched = SEED_URL + "?utm_source=rss&utm_medium=rss#respond"
    article = parse_article(seed_html, fetched, tampafp_outlet())

    assert article.body == "\n\n".join(seed_expected_paragraphs())
    assert article.parser == f"rules:tampafp@1.{PARSER_VERSION}"
    assert article.title == SEED_TITLE
    assert article.authors == ["Jordan Ellis"]
    assert article.published_at == dt.datetime(2025, 3, 17, 13, 12, 40, tzinfo=UTC)
    assert article.modified_at == dt.datetime(2025, 3, 17, 14, 1, 3, tzinfo=UTC)
    assert article.section == "World"
    assert article.tags == ["Donald Trump", "Russia", "Ukraine", "Vladimir Putin"]
    assert article.url == SEED_URL
    assert article.fetched_url == fetched
    assert article.outlet == "tampafp"
    assert article.language == "en"
    assert article.image_url == (
        "https://www.tampafp.com/wp-content/uploads/2025/03/trump-air-force-one.jpg"
    )
    assert article.description and article.description.startswith("President Donald Trump")
    assert article.is_paywalled is False
    assert article.word_count > 300


def test_seed_page_generic_path(seed_html: bytes) -> None:
    article = parse_article(seed_html, SEED_URL)
    expected = seed_expected_paragraphs()
    paragraphs = article.body.split("\n\n")

    assert article.parser == GENERIC_PARSER
    assert article.outlet == ""
    assert [p for p in paragraphs if p in expected] == expected
    assert set(paragraphs) - set(expected) <= GENERIC_EXTRA_PARAGRAPHS
    assert article.title == SEED_TITLE
    assert article.authors == ["Jordan Ellis"]
    assert article.published_at == dt.datetime(2025, 3, 17, 13, 12, 40, tzinfo=UTC)
    assert article.section == "World"
    assert article.tags == ["Donald Trump", "Russia", "Ukraine", "Vladimir Putin"]


def test_unmatched_body_selector_falls_back_to_generic(seed_html: bytes) -> None:
    outlet = simple_outlet(body_selector="div.no-such-container")
    article = parse_article(seed_html, SEED_URL, outlet)
    assert article.parser == GENERIC_PARSER
    assert article.outlet == "daily"


def test_drop_rules_without_selector_apply_to_generic_path(seed_html: bytes) -> None:
    outlet = simple_outlet(drop_selectors=[".donate-box"], drop_paragraphs=["^Kyiv"])
    article = parse_article(seed_html, SEED_URL, outlet)
    assert article.parser == GENERIC_PARSER
    assert "Every dollar helps" not in article.body
    assert "Kyiv’s on board" not in article.body
    assert article.body.startswith("President Donald Trump revealed")


def test_rules_version_is_recorded() -> None:
    outlet = simple_outlet(body_selector="div.entry-content", version=3)
    article = parse_article(make_page(), ARTICLE_URL, outlet)
    assert article.parser == f"rules:daily@3.{PARSER_VERSION}"
    assert article.body == "\n\n".join(PARAGRAPHS)


# -- title --------------------------------------------------------------------------------


def test_title_prefers_jsonld_headline() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Bike lanes: the council decides"})
    article = parse_article(make_page(head), ARTICLE_URL)
    assert article.title == "Bike lanes: the council decides"


@pytest.mark.parametrize(
    "og_title",
    [
        "Council expands bike lanes | The Daily Example",
        "Council expands bike lanes - The Daily Example",
        "Council expands bike lanes – The Daily Example",
        "The Daily Example | Council expands bike lanes",
    ],
)
def test_title_strips_site_name_from_og_title(og_title: str) -> None:
    head = (
        f'<meta property="og:title" content="{og_title}">'
        '<meta property="og:site_name" content="The Daily Example">'
    )
    article = parse_article(make_page(head), ARTICLE_URL)
    assert article.title == "Council expands bike lanes"


def test_title_keeps_a_dash_that_is_part_of_the_headline() -> None:
    head = (
        '<meta property="og:title" content="Bike lanes - a fight over parking - The Daily Example">'
    )
    article = parse_article(make_page(head), ARTICLE_URL, simple_outlet())
    assert article.title == "Bike lanes - a fight over parking"


def test_title_falls_back_to_h1_then_title_tag() -> None:
    article = parse_article(make_page(), ARTICLE_URL)
    assert article.title == "Council expands bike lanes"  # <h1>
    body = f"<div class='entry-content'>{PARAGRAPHS_HTML}</div>"
    article = parse_article(make_page(body=body), ARTICLE_URL)
    assert article.title == "Council expands bike lanes"  # <title> minus " - The Daily Example"


def test_truncated_jsonld_headline_gives_way_to_full_title() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council expands bike…"})
    article = parse_article(make_page(head), ARTICLE_URL)
    assert article.title == "Council expands bike lanes"


# -- authors ------------------------------------------------------------------------------


def test_authors_from_jsonld_in_order_without_organisations() -> None:
    head = jsonld(
        {
            "@type": "NewsArticle",
            "author": [
                {"@type": "Person", "name": "Jane Doe"},
                {"@type": "Person", "name": "John Roe"},
                {"@type": "Person", "name": "jane doe"},
            ],
            "publisher": {"@type": "Organization", "name": "The Daily Example"},
        }
    )
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["Jane Doe", "John Roe"]


def test_authors_from_jsonld_graph_reference() -> None:
    head = jsonld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "Article", "headline": "H", "author": {"@id": "#p1"}},
                {"@type": "Person", "@id": "#p1", "name": "Maria Lopez"},
            ],
        }
    )
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["Maria Lopez"]


def test_authors_from_meta_without_by_and_roles() -> None:
    head = '<meta name="author" content="By Jane Doe and John Roe, Staff Writers">'
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["Jane Doe", "John Roe"]


@pytest.mark.parametrize(("metas", "expected"), [
    # The site's own name beside a person, and "reporter" after the name (Korean, Japanese).
    (("한국일보", "신현주 기자"), ["신현주"]),
    (("山田太郎記者",), ["山田太郎"]),
    (("한국일보",), ["한국일보"]),  # the site alone is the only credit: kept
])
def test_authors_from_meta_without_site_name_and_cjk_titles(
    metas: tuple[str, ...], expected: list[str]
) -> None:
    head = '<meta property="og:site_name" content="한국일보">' + "".join(
        f'<meta name="author" content="{m}">' for m in metas)
    assert parse_article(make_page(head), ARTICLE_URL).authors == expected


def test_authors_from_byline_element_without_email() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<div class='byline'>By <a href='/author/sam'>Sam Carter</a> "
        "(sam.carter@daily.example.com)</div>"
        f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>"
    )
    assert _authors(body) == ["Sam Carter"]


def test_outlet_only_byline_is_kept() -> None:
    head = jsonld({"@type": "NewsArticle", "author": {"@type": "Organization", "name": "AP"}})
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["AP"]


def test_authors_from_jsonld_given_and_family_name() -> None:
    head = jsonld(
        {
            "@type": "NewsArticle",
            "author": [
                {"@type": "Person", "givenName": "Anna Giulia", "familyName": "Fink"},
                {"@type": "Person", "name": "Desk staff reporter"},
            ],
        }
    )
    authors = parse_article(make_page(head), ARTICLE_URL).authors
    assert authors == ["Anna Giulia Fink", "Desk staff reporter"]


def test_agency_organisation_credited_but_not_the_publisher() -> None:
    head = jsonld(
        {
            "@type": "NewsArticle",
            "author": [
                {"@type": "Organization", "name": "The Daily Example"},
                {"@type": "Organization", "name": "Deutsche Presse-Agentur"},
            ],
            "publisher": {"@type": "Organization", "name": "The Daily Example"},
        }
    )
    authors = parse_article(make_page(head), ARTICLE_URL).authors
    assert authors == ["Deutsche Presse-Agentur"]


def test_byline_without_newsroom_abbreviations_and_site_domain() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<div class='byline'>red, Example.at/Agenturen</div>"
        f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>"
    )
    assert _authors(body) == ["Example.at"]
    head = '<meta name="author" content="Ingrid Berg og Tone Lie, example.no">'
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["Ingrid Berg", "Tone Lie"]


def test_no_authors_gives_empty_list() -> None:
    assert parse_article(make_page(), ARTICLE_URL).authors == []


# -- dates --------------------------------------------------------------------------------


def test_published_at_from_jsonld_converted_to_utc() -> None:
    head = jsonld(
        {
            "@type": "NewsArticle",
            "datePublished": "2024-05-01T18:15:00+02:00",
            "dateModified": "2024-05-02T08:00:00+02:00",
        }
    )
    article = parse_article(make_page(head, published=None), ARTICLE_URL)
    assert article.published_at == dt.datetime(2024, 5, 1, 16, 15, tzinfo=UTC)
    assert article.modified_at == dt.datetime(2024, 5, 2, 6, 0, tzinfo=UTC)


def test_local_time_without_offset_is_read_in_outlet_timezone() -> None:
    page = make_page(published="2024-07-01T08:00:00")
    article = parse_article(page, ARTICLE_URL, simple_outlet("America/New_York"))
    assert article.published_at == dt.datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # EDT
    article = parse_article(page, ARTICLE_URL, simple_outlet("Europe/Kyiv"))
    assert article.published_at == dt.datetime(2024, 7, 1, 5, 0, tzinfo=UTC)  # EEST
    article = parse_article(page, ARTICLE_URL)  # no outlet: UTC
    assert article.published_at == dt.datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def test_published_at_from_time_element() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<time datetime='2024-01-15T09:30:00-05:00'>January 15, 2024</time>"
        f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>"
    )
    article = parse_article(make_page(body=body, published=None), "https://daily.example.com/x")
    assert article.published_at == dt.datetime(2024, 1, 15, 14, 30, tzinfo=UTC)


def test_published_at_from_pubdate_meta() -> None:
    head = '<meta name="pubdate" content="2024-02-03T10:00:00Z">'
    article = parse_article(make_page(head, published=None), "https://daily.example.com/x")
    assert article.published_at == dt.datetime(2024, 2, 3, 10, 0, tzinfo=UTC)


def test_published_at_from_visible_dateline_in_outlet_timezone() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<span class='post-date'>Posted March 3, 2024 at 4:05 pm</span>"
        f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>"
    )
    page = make_page(body=body, published=None)
    article = parse_article(page, "https://daily.example.com/x", simple_outlet("America/Chicago"))
    assert article.published_at == dt.datetime(2024, 3, 3, 22, 5, tzinfo=UTC)  # CST


def test_published_at_from_url_as_local_midnight() -> None:
    page = make_page(published=None)
    article = parse_article(page, ARTICLE_URL, simple_outlet("America/New_York"))
    assert article.published_at == dt.datetime(2024, 5, 1, 4, 0, tzinfo=UTC)


def test_no_published_at_keeps_the_article_for_validation_to_quarantine() -> None:
    article = parse_article(make_page(published=None), "https://daily.example.com/news/bike-lanes")
    assert article.published_at is None and article.published_at_source is None
    assert article.title == "Council expands bike lanes" and PARAGRAPHS[0] in article.body


# -- section, tags, image, description, paywall --------------------------------------------


def test_section_tags_image_description_from_meta() -> None:
    head = (
        '<meta property="article:section" content="City Hall">'
        '<meta property="article:tag" content="Transport">'
        '<meta property="article:tag" content="Cycling">'
        '<meta property="article:tag" content="transport">'
        '<meta property="og:image" content="/img/lanes.jpg">'
        '<meta name="description" content="The council voted for more bike lanes.">'
    )
    article = parse_article(make_page(head), ARTICLE_URL)
    assert article.section == "City Hall"
    assert article.tags == ["Transport", "Cycling"]
    assert article.image_url == "https://daily.example.com/img/lanes.jpg"
    assert article.description == "The council voted for more bike lanes."
    assert article.is_paywalled is False


def test_tags_from_keywords_string_in_jsonld() -> None:
    head = jsonld({"@type": "NewsArticle", "keywords": "bikes, council,  parking"})
    assert parse_article(make_page(head), ARTICLE_URL).tags == ["bikes", "council", "parking"]


def test_paywall_from_jsonld() -> None:
    head = jsonld({"@type": "NewsArticle", "isAccessibleForFree": "False"})
    assert parse_article(make_page(head), ARTICLE_URL).is_paywalled is True
    head = jsonld(
        {
            "@type": "NewsArticle",
            "isAccessibleForFree": True,
            "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False},
        }
    )
    assert parse_article(make_page(head), ARTICLE_URL).is_paywalled is True


# -- canonical URL ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (
            '<link rel="canonical" href="https://WWW.daily.example.com/2024/05/01/lanes/?utm_source=x#c">',
            "https://www.daily.example.com/2024/05/01/lanes/",
        ),
        (
            '<link rel="canonical" href="/2024/05/01/lanes/">',
            "https://daily.example.com/2024/05/01/lanes/",
        ),
        (
            '<meta property="og:url" content="https://daily.example.com/2024/05/01/lanes/">',
            "https://daily.example.com/2024/05/01/lanes/",
        ),
        # a canonical on another site (syndication) is not trusted
        (
            '<link rel="canonical" href="https://syndicator.example.org/story/1">',
            "https://daily.example.com/2024/05/01/council-bike-lanes/",
        ),
    ],
)
def test_canonical_url(head: str, expected: str) -> None:
    fetched = ARTICLE_URL + "?fbclid=abc&utm_campaign=share"
    article = parse_article(make_page(head), fetched)
    assert article.url == expected
    assert article.fetched_url == fetched


def test_article_id_is_hash_of_canonical_url() -> None:
    a = parse_article(make_page(), ARTICLE_URL + "?utm_source=a")
    b = parse_article(make_page(), ARTICLE_URL + "#top")
    assert a.url == b.url == ARTICLE_URL
    assert a.article_id == b.article_id


# -- body ---------------------------------------------------------------------------------


def test_body_keeps_in_body_headings_and_drops_boilerplate() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1><div class='entry-content'>"
        f"<p>{PARAGRAPHS[0]}</p>"
        "<figure><img src='/a.jpg'><figcaption>Cyclists on Main Street.</figcaption></figure>"
        "<p><strong>READ: <a href='/x'>Mayor backs bike plan</a></strong></p>"
        "<h2>What happens next</h2>"
        f"<p>{PARAGRAPHS[1]}</p>"
        "<div class='share-buttons'><a>Share on Facebook</a><a>Tweet</a></div>"
        "<p>Sign up: Subscribe to our newsletter for the morning briefing.</p>"
        f"<p>{PARAGRAPHS[2]}</p>"
        "</div></article>"
    )
    expected = [PARAGRAPHS[0], "What happens next", PARAGRAPHS[1], PARAGRAPHS[2]]
    outlet = simple_outlet(body_selector="div.entry-content")
    article = parse_article(make_page(body=body), ARTICLE_URL, outlet)
    assert article.body.split("\n\n") == expected
    article = parse_article(make_page(body=body), ARTICLE_URL)
    assert article.body.split("\n\n") == expected


def test_structured_article_body_when_page_text_is_missing() -> None:
    text = "\n".join(PARAGRAPHS)
    head = jsonld({"@type": "NewsArticle", "headline": "Lanes", "articleBody": text})
    body = "<div id='app'><h1>Lanes</h1><p>Loading…</p></div>"
    article = parse_article(make_page(head, body=body), ARTICLE_URL)
    assert article.parser == STRUCTURED_PARSER
    assert article.body.split("\n\n") == list(PARAGRAPHS)


def _next_data(article: dict[str, Any]) -> str:
    """A Next.js shell: the article only in the page's JSON data, as a browser gets it."""
    data = {"props": {"pageProps": {"article": article}}, "page": "/news/[id]"}
    return f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'


def test_client_rendered_page_body_and_date_from_its_script_data() -> None:
    html_body = (
        f"<p class='lead'><strong>{PARAGRAPHS[0][:40]}</strong>{PARAGRAPHS[0][40:]}</p>"
        "$$ARTICLEAD$$<div class='caption'><p>Photo: the corridor. City Hall</p></div>"
        f"<h3>What happens next</h3><p>{PARAGRAPHS[1]}</p><p><br></p><p>{PARAGRAPHS[2]}</p>"
    )
    script = _next_data({"title": "Lanes", "deployDt": "2024.05.01 16:15",
                         "menuHtml": "<li>Home</li>", "contentHtml": html_body})
    page = make_page(body=f"<div id='__next'><h1>Lanes</h1></div>{script}", published=None)
    article = parse_article(page, ARTICLE_URL, simple_outlet())
    assert article.parser == EMBEDDED_PARSER
    assert article.body.split("\n\n") == [PARAGRAPHS[0], "What happens next", PARAGRAPHS[1],
                                           PARAGRAPHS[2]]
    # Naive, so read in the outlet's time zone (New York, EDT in May).
    assert article.published_at == dt.datetime(2024, 5, 1, 20, 15, tzinfo=dt.UTC)


def test_script_data_is_read_only_when_the_markup_has_no_body() -> None:
    script = _next_data({"contentHtml": "<p>" + "Other text entirely. " * 30 + "</p>"})
    article = parse_article(make_page(head=script), ARTICLE_URL)
    assert article.parser == GENERIC_PARSER
    assert article.body.split("\n\n") == list(PARAGRAPHS)


def test_a_shell_without_script_text_is_still_empty_body() -> None:
    script = _next_data({"contentHtml": "", "teaser": "Short."})
    with pytest.raises(ParseError) as raised:
        parse_article(make_page(body=f"<div id='__next'><h1>Lanes</h1></div>{script}"),
                      ARTICLE_URL)
    assert raised.value.reason == "empty_body"


def test_inline_markup_adds_no_space_between_words() -> None:
    """Korean particles and Chinese text run on after bold or linked words."""
    body = ("<article><div class='text'><p><strong>국민의힘은 조만간 인재영입위원회를 발족하는 "
            "등 당을 지방선거 체제로 조속히 전환할 방침</strong>이다. 이를 통해 한 전 대표 제명에 "
            "따른 여진을 최소화하겠다는 의도로 풀이된다.<br>두 번째 줄이다.</p></div></article>")
    outlet = simple_outlet(body_selector="div.text")
    article = parse_article(make_page(body=body, lang="ko"), ARTICLE_URL, outlet)
    assert "전환할 방침이다. 이를" in article.body
    assert "풀이된다. 두 번째" in article.body


# -- decoding and non-Latin scripts -------------------------------------------------------


def test_windows_1251_ukrainian_by_meta_http_equiv() -> None:
    data = (FIXTURES / "uk_windows1251.html").read_bytes()
    url = "https://poltava.example.ua/news/2024/11/05/kyiv-plan/"
    article = parse_article(data, url, simple_outlet("Europe/Kyiv"))
    assert article.title == "Київ готує новий план відбудови енергетики"
    assert article.authors == ["Олена Коваленко"]
    assert article.section == "Економіка"
    assert article.tags == ["енергетика", "відбудова", "Київ"]
    assert article.language == "uk"
    assert article.body.startswith("Уряд представив проєкт плану")
    assert "Поділитися" not in article.body
    # "2024-11-05 14:30" has no offset: Kyiv is UTC+2 in November
    assert article.published_at == dt.datetime(2024, 11, 5, 12, 30, tzinfo=UTC)


def test_windows_1251_russian_without_any_declaration_is_detected() -> None:
    data = (FIXTURES / "ru_windows1251_nometa.html").read_bytes()
    article = parse_article(data, "https://vesti.example.ru/news/parking")
    assert article.title == "Москва ввела новые правила парковки"
    assert article.body.startswith("С первого июня в центре столицы")
    assert article.language == "ru"
    assert article.published_at == dt.datetime(2024, 6, 1, 6, 0, tzinfo=UTC)


def test_japanese_utf8() -> None:
    data = (FIXTURES / "ja_utf8.html").read_bytes()
    article = parse_article(data, "https://news.example.jp/articles/123")
    assert article.title == "東京で新しい図書館が開館"
    assert article.authors == ["山田 太郎", "佐藤 花子"]
    assert article.section == "社会"
    assert article.tags == ["図書館", "東京", "文化"]
    assert article.language == "ja"
    assert article.published_at == dt.datetime(2024, 4, 10, 1, 0, tzinfo=UTC)
    assert article.body.split("\n\n")[0].startswith("東京都内に新しい公立図書館")
    assert "トップ" not in article.body


def test_header_charset_wins_over_meta() -> None:
    # UTF-8 bytes also decode (to mojibake) as windows-1251: only the order makes this right
    page = make_page(body=f"<article><h1>Київ</h1><p>{'Україна ' * 20}</p></article>")
    data = page.replace("utf-8", "windows-1251").encode("utf-8")
    headers = {"Content-Type": "text/html; charset=UTF-8"}
    article = parse_article(data, ARTICLE_URL, headers=headers)
    assert article.title == "Київ"
    assert "Україна" in article.body
    # the other way round: the header says windows-1251, the meta (wrongly) UTF-8
    data = page.encode("windows-1251")
    headers = {"Content-Type": "text/html; charset=windows-1251"}
    assert parse_article(data, ARTICLE_URL, headers=headers).title == "Київ"


def test_header_charset_case_insensitive_and_quoted() -> None:
    text = "<html><head><meta charset='windows-1251'></head><body>héllo — ü</body></html>"
    data = text.encode("utf-8")
    assert "héllo — ü" in decode_html(data, {"content-type": 'text/html; charset="UTF-8"'})


def test_meta_charset_used_without_header() -> None:
    text = "<html><head><meta charset='windows-1251'></head><body>Привіт, світе</body></html>"
    assert "Привіт, світе" in decode_html(text.encode("windows-1251"))
    assert "Привіт, світе" in decode_html(text.encode("windows-1251"), {"Server": "nginx"})


def test_bom_wins_over_meta() -> None:
    text = "<html><head><meta charset='windows-1251'></head><body>Ĳssel — 東京</body></html>"
    assert "Ĳssel — 東京" in decode_html(b"\xef\xbb\xbf" + text.encode("utf-8"))
    decoded = decode_html(b"\xff\xfe" + text.encode("utf-16-le"))
    assert "Ĳssel — 東京" in decoded and not decoded.startswith("\ufeff")


def test_bom_page_parses() -> None:
    data = b"\xef\xbb\xbf" + make_page().encode("utf-8")
    assert parse_article(data, ARTICLE_URL).title == "Council expands bike lanes"


def test_declared_gb2312_that_is_really_utf8() -> None:
    text = "<html><head><meta charset='gb2312'></head><body>人民网 — für</body></html>"
    assert "人民网 — für" in decode_html(text.encode("utf-8"))


def test_str_input_is_not_decoded_again() -> None:
    article = parse_article(make_page(), ARTICLE_URL)
    assert article.body == "\n\n".join(PARAGRAPHS)


def test_language_is_the_body_language_not_the_declared_one() -> None:
    paragraphs = "".join(
        f"<p>{p}</p>"
        for p in (
            "Уряд представив проєкт плану відновлення енергетичної системи країни після атак.",
            "За словами міністра, першочергово планують відновити розподільчі мережі у містах.",
        )
    )
    body = f"<article><h1>План</h1><div>{paragraphs}</div></article>"
    article = parse_article(make_page(body=body, lang="en"), ARTICLE_URL)
    assert article.language == "uk"


def test_declared_language_normalises_codes() -> None:
    assert declared_language(PageMeta(html_lang="pt-BR")) == "pt"
    assert declared_language(PageMeta(meta={"og:locale": ["de_DE"]})) == "de"
    assert declared_language(PageMeta()) is None



LANGUAGE_SAMPLES = (
    "Das ist ein kurzer deutscher Satz über das Wetter in Berlin und Hamburg.",
    "Уряд представив проєкт плану відновлення енергетичної системи країни.",
    "The minister said the grid would be rebuilt in the cities first.",
)


def test_cached_language_model_classifies_as_py3langid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unpacked model is cached for the next process, and the classifier read from the
    cache holds py3langid's own tables and gives its answers, scores included."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    try:
        unpacked = language._identifier()  # unpacks the model and writes the cache
        assert language.cache_path().is_dir()
        assert language.cache_path().parent == tmp_path / "newslake"
        assert [p.name for p in (tmp_path / "newslake").iterdir()] == [language.cache_path().name]
        language._identifier.cache_clear()
        cached = language._identifier()  # read from the cache
        assert cached is not unpacked
        own = py3langid.langid.LanguageIdentifier.from_model_file(py3langid.langid.MODEL_FILE)
        for identifier in (cached, unpacked):
            assert identifier.nb_ptc.dtype == own.nb_ptc.dtype
            assert (identifier.nb_ptc == own.nb_ptc).all()
            assert identifier.nb_pc.tobytes() == own.nb_pc.tobytes()
            assert identifier.nb_classes == own.nb_classes
            assert identifier.tk_output == own.tk_output
            assert bytes(identifier.tk_nextmove) == own.tk_nextmove.tobytes()
            assert bytes(identifier.tk_row) == own.tk_row.tobytes()
            assert identifier._rowbase == own._rowbase
        for text in LANGUAGE_SAMPLES:
            assert cached.classify(text) == py3langid.classify(text) == unpacked.classify(text)
    finally:
        language._identifier.cache_clear()


def test_language_model_cache_of_the_earlier_format_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade leaves no 68 MB ``.npz`` (the cache's earlier format) behind."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    legacy = language.cache_path().with_name(f"{language.cache_path().name}.npz")
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"the earlier cache")
    language._identifier.cache_clear()
    try:
        language._identifier()
        assert [p.name for p in (tmp_path / "newslake").iterdir()] == [language.cache_path().name]
    finally:
        language._identifier.cache_clear()


@pytest.mark.parametrize("damage", ["truncated", "missing", "garbage"])
def test_damaged_language_model_cache_is_unpacked_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language._identifier.cache_clear()
    try:
        language._identifier()  # writes the cache
        table = language.cache_path() / "nextmove.npy"
        if damage == "truncated":
            table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
        elif damage == "missing":
            table.unlink()
        else:
            table.write_bytes(b"not an array")
        language._identifier.cache_clear()
        identifier = language._identifier()
        assert "unreadable" in caplog.text
        assert [identifier.classify(text)[0] for text in LANGUAGE_SAMPLES] == ["de", "uk", "en"]
        caplog.clear()
        language._identifier.cache_clear()
        language._identifier()  # the cache was written again
        assert "unreadable" not in caplog.text
        assert [p.name for p in (tmp_path / "newslake").iterdir()] == [language.cache_path().name]
    finally:
        language._identifier.cache_clear()


def test_language_model_cache_is_replaced_only_when_damaged(tmp_path: Path) -> None:
    """Two fresh processes may both write the cache: the second leaves the first's copy."""
    path = tmp_path / "newslake" / "model"
    first = {name: np.arange(3, dtype=np.uint16) for name in language.MODEL_ARRAYS}
    second = {name: np.arange(5, dtype=np.uint16) for name in language.MODEL_ARRAYS}
    language._write_cache(path, first, damaged=False)
    language._write_cache(path, second, damaged=False)
    assert np.load(path / "ptc.npy").tolist() == [0, 1, 2]
    language._write_cache(path, second, damaged=True)
    assert np.load(path / "ptc.npy").tolist() == [0, 1, 2, 3, 4]
    assert [p.name for p in path.parent.iterdir()] == ["model"]


def test_language_model_loads_where_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_directory))
    language._identifier.cache_clear()
    try:
        identifier = language._identifier()
        assert [identifier.classify(text)[0] for text in LANGUAGE_SAMPLES] == ["de", "uk", "en"]
        assert "not cached" in caplog.text
    finally:
        language._identifier.cache_clear()

# -- pages that are not articles ------------------------------------------------------------


def test_soft_404_raises() -> None:
    data = (FIXTURES / "soft404.html").read_bytes()
    with pytest.raises(ParseError) as err:
        parse_article(data, "https://daily.example.com/2024/05/01/missing-story/")
    assert err.value.reason == "soft_404"


def test_home_page_raises() -> None:
    data = (FIXTURES / "home.html").read_bytes()
    with pytest.raises(ParseError) as err:
        parse_article(data, "https://daily.example.com/")
    assert err.value.reason == "not_article"


@pytest.mark.parametrize(
    "path", ["/tag/cycling/", "/category/city-hall/", "/author/jane-doe/", "/news/page/2/"]
)
def test_listing_pages_raise(path: str) -> None:
    cards = "".join(f"<article><h2><a href='/a{i}'>Story {i}</a></h2><p>{p}</p></article>"
                    for i, p in enumerate(PARAGRAPHS))
    listing = make_page(body=f"<h1>Cycling</h1><div class='entry-content'>{cards}</div>")
    with pytest.raises(ParseError) as err:
        parse_article(listing, "https://daily.example.com" + path)
    assert err.value.reason == "not_article"


def test_collection_page_jsonld_raises() -> None:
    data = (FIXTURES / "home.html").read_bytes()
    with pytest.raises(ParseError) as err:
        parse_article(data, "https://daily.example.com/news/")
    assert err.value.reason == "not_article"


def test_empty_body_raises() -> None:
    body = "<article><h1>Council expands bike lanes</h1><div class='entry-content'></div></article>"
    with pytest.raises(ParseError) as err:
        parse_article(make_page(body=body), ARTICLE_URL)
    assert err.value.reason == "empty_body"


@pytest.mark.parametrize("data", [b"", b"   \n", ""])
def test_empty_response_raises(data: bytes | str) -> None:
    with pytest.raises(ParseError) as err:
        parse_article(data, ARTICLE_URL)
    assert err.value.reason == "empty_body"


def test_no_title_raises() -> None:
    page = (
        "<html><head><meta property='article:published_time' content='2024-05-01T10:00:00Z'>"
        f"</head><body><div>{PARAGRAPHS_HTML}</div></body></html>"
    )
    with pytest.raises(ParseError) as err:
        parse_article(page, ARTICLE_URL)
    assert err.value.reason == "no_title"


def test_article_titled_with_not_found_words_is_still_an_article() -> None:
    head = jsonld(
        {"@type": "NewsArticle", "headline": "Missing hiker not found after two-day search"}
    )
    article = parse_article(make_page(head, title="Missing hiker not found"), ARTICLE_URL)
    assert article.title == "Missing hiker not found after two-day search"


# -- outlet selectors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("div.td-post-content", ["div"]),
        (".donate-box, form", ["div", "form"]),
        ("h3.entry-title a", ["a"]),
        ("body > div", ["div"]),
        ("[data-x^=ab]", ["span"]),
        ("span#q", ["span"]),
        ("div[class~='donate-box']", ["div"]),
        ("div > :nth-child(2)", ["div"]),
        ("div:not(.donate-box) > p, span:contains('z')", ["p", "span"]),
        ("DIV.TD-POST-CONTENT", []),  # element names are not case-sensitive, classes are
        ("DIV.td-post-content", ["div"]),
    ],
)
def test_css_selectors(selector: str, expected: list[str]) -> None:
    from lxml import html

    doc = html.fromstring(
        "<html><body><div class='a td-post-content'><p>x</p>"
        "<div class='donate-box'><form></form></div></div>"
        "<h3 class='entry-title'><a href='/1'>a</a></h3><span id='q' data-x='abc'>z</span>"
        "</body></html>"
    )
    assert [e.tag for e in css_to_xpath(selector)(doc)] == expected


def test_unsupported_css_selector_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported CSS selector 'p::first-line'"):
        css_to_xpath("p::first-line")
    with pytest.raises(ValueError, match=r"invalid CSS selector 'p\[x'"):
        css_to_xpath("p[x")


# -- titles: sources voting, CMS quote entities ---------------------------------------------


def test_title_trailing_section_dropped_when_other_sources_agree() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council expands bike lanes | Local"})
    head += '<meta property="og:title" content="Council expands bike lanes">'
    assert parse_article(make_page(head), ARTICLE_URL).title == "Council expands bike lanes"


def test_title_trailing_part_kept_when_sources_carry_it() -> None:
    title = "Council expands bike lanes - what changes"
    head = jsonld({"@type": "NewsArticle", "headline": title})
    head += f'<meta property="og:title" content="{title}">'
    assert parse_article(make_page(head, title=title), ARTICLE_URL).title == title


def test_title_wordpress_quote_entities_become_straight_quotes() -> None:
    headline = "Council&#8217;s &#8216;bold&#8217; plan and its ‘critics’"
    ld = f'{{"@type": "NewsArticle", "headline": "{headline}"}}'
    head = f'<script type="application/ld+json">{ld}</script>'
    article = parse_article(make_page(head), ARTICLE_URL)
    assert article.title == "Council's 'bold' plan and its ‘critics’"


# -- body fallbacks ---------------------------------------------------------------------------


def test_body_falls_back_when_precision_keeps_only_a_teaser() -> None:
    # the text is split over sibling containers, with a short lead in its own block
    blocks = "".join(f"<div class='text-block'><div>{p} {p}</div></div>" for p in PARAGRAPHS)
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<div class='lead'><p>Short lead of the story.</p></div>"
        f"<div class='story'>{blocks}</div></article>"
    )
    article = parse_article(make_page(body=body), ARTICLE_URL)
    for paragraph in PARAGRAPHS:
        assert paragraph in article.body


def test_dateline_in_localised_date_class() -> None:
    body = (
        "<article><h1>Council expands bike lanes</h1>"
        "<span class='tarih'>05.04.2025 - Güncelleme : 06.04.2025</span>"
        f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>"
    )
    article = parse_article(make_page(body=body, published=None), "https://daily.example.com/a/b")
    assert article.published_at.date().isoformat() == "2025-04-05"


def test_paywall_class_token() -> None:
    body = make_page().replace("<div class='entry-content'>", "<div class='entry-content paywall'>")
    assert parse_article(body, ARTICLE_URL).is_paywalled is True


# -- titles: site/section tails, kickers, variants of one headline ----------------------------


def test_title_strips_section_and_site_joined_without_spaces() -> None:
    head = (
        '<meta property="og:title" content="Council expands bike lanes-Localㅣ The Daily Example">'
        '<meta property="og:site_name" content="The Daily Example">'
        '<meta name="content_category" content="Local">'
    )
    article = parse_article(make_page(head, title="Other"), ARTICLE_URL)
    assert article.title == "Council expands bike lanes"


def test_title_strips_site_after_fullwidth_colon() -> None:
    head = (
        '<meta property="og:title" content="Council expands bike lanes：Daily Web">'
        '<meta property="og:site_name" content="Daily Web">'
    )
    assert parse_article(make_page(head), ARTICLE_URL).title == "Council expands bike lanes"


def test_title_keeps_site_name_joined_by_a_hyphen() -> None:
    head = (
        '<meta property="og:title" content="Council hires ex-Example">'
        '<meta property="og:site_name" content="Example">'
    )
    assert parse_article(make_page(head), ARTICLE_URL).title == "Council hires ex-Example"


@pytest.mark.parametrize(
    ("h1", "expected"),
    [
        ("Council expands bike lanes", "Council expands bike lanes"),
        ("Bike lanes: Council expands bike lanes", "Bike lanes: Council expands bike lanes"),
    ],
)
def test_title_kicker_follows_the_h1(h1: str, expected: str) -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Bike lanes: Council expands bike lanes"})
    head += '<meta property="og:title" content="Council expands bike lanes">'
    assert parse_article(make_page(head, title=h1), ARTICLE_URL).title == expected


def test_title_h1_without_kicker_does_not_overrule_agreeing_metadata() -> None:
    title = "Bike lanes: Council expands bike lanes"
    head = jsonld({"@type": "NewsArticle", "headline": title})
    head += f'<meta property="og:title" content="{title}">'
    page = make_page(head, title="Council expands bike lanes")
    assert parse_article(page, ARTICLE_URL).title == title


def test_title_drops_a_tail_another_source_leaves_off() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council expands bike lanes in close vote"})
    head += '<meta property="og:title" content="Council expands bike lanes">'
    page = make_page(head, title="Council expands bike lanes in close vote")
    assert parse_article(page, ARTICLE_URL).title == "Council expands bike lanes"


def test_title_same_words_other_punctuation() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": 'Bike lanes - "Council expands"'})
    head += '<meta property="og:title" content="Bike lanes: Council expands">'
    assert parse_article(make_page(head), ARTICLE_URL).title == "Bike lanes: Council expands"
    head = jsonld({"@type": "NewsArticle", "headline": "Bike lanes - Council expands"})
    head += '<meta property="og:title" content="Bike lanes: Council expands">'
    page = make_page(head, title="Bike lanes: Council expands")  # <title> agrees with og
    assert parse_article(page, ARTICLE_URL).title == "Bike lanes: Council expands"


def test_title_jsonld_headline_stands_against_a_different_og_title() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council votes for safer streets"})
    head += '<meta property="og:title" content="Council expands bike lanes">'
    assert parse_article(make_page(head), ARTICLE_URL).title == "Council votes for safer streets"


# -- broken markup: an Article or a ParseError, never another exception (issue 13) ---------

FULL_BODY = "\n\n".join(PARAGRAPHS)


def test_a_second_top_level_html_element_is_no_crash() -> None:
    # Markup after a comment that follows </html> gives the document a second top-level
    # <html>; the footer (hollowed out for trafilatura) is the last element of the first.
    page = make_page().replace("<footer>©", "<footer><p>©").replace("</footer>", "</p></footer>")
    page += "<!-- cached --><p>After the page.</p>"
    assert parse_article(page, ARTICLE_URL).body.startswith(FULL_BODY)


def test_a_control_character_in_the_text_does_not_lose_the_article() -> None:
    # lxml's HTML parser keeps a raw BEL (a footnote marker pasted from a word processor);
    # trafilatura then threw the whole text away: the page was refused as empty_body.
    page = make_page(body=f"<article><h1>Council expands bike lanes</h1>{PARAGRAPHS_HTML}"
                     "<p>Source\x07 (2020):\x07 city report.</p></article>")
    article = parse_article(page, ARTICLE_URL)
    assert article.body == FULL_BODY + "\n\nSource (2020): city report."


@pytest.mark.parametrize(
    "marker", ["\ud800", "\uffff", "\ufffe", "\x0b"],
    ids=["lone surrogate", "U+FFFF", "U+FFFE", "vertical tab"],
)
def test_other_characters_xml_forbids_are_removed_too(marker: str) -> None:
    # The page goes to lxml as UTF-8 bytes; these are not C0 bytes in UTF-8 (or, the lone
    # surrogate, cannot be encoded at all) and take the regular-expression path.
    page = make_page(body=f"<article><h1>Council expands bike lanes</h1>{PARAGRAPHS_HTML}"
                     f"<p>Source{marker} (2020): city report.</p></article>")
    article = parse_article(page, ARTICLE_URL)
    assert article.body == FULL_BODY + "\n\nSource (2020): city report."


def test_decoded_text_is_read_as_decoded_whatever_its_meta_charset_says() -> None:
    # The decoded page reaches lxml as UTF-8 bytes: a <meta charset> naming another
    # encoding must not make it read them again as that encoding.
    page = make_page(body=f"<article><h1>Council expands bike lanes</h1>{PARAGRAPHS_HTML}"
                     "<p>Straße, café, Київ, 東京.</p></article>")
    page = page.replace("<head>", '<head><meta charset="iso-8859-1">', 1)
    assert '<meta charset="iso-8859-1">' in page
    article = parse_article(page, ARTICLE_URL)
    assert article.body == FULL_BODY + "\n\nStraße, café, Київ, 東京."


def test_a_data_table_in_the_article_is_part_of_its_text() -> None:
    # A table of figures in the article (prices, results) is read row by row, its cells'
    # text joined; trafilatura without tables dropped it.
    table = ("<table><tr><th>Corridor</th><th>Length (km)</th></tr>"
             "<tr><td>Main Street</td><td>2.4</td></tr><tr><td>River Road</td><td>1.1</td></tr>"
             "</table>")
    body = f"<article><h1>Council expands bike lanes</h1>{PARAGRAPHS_HTML}{table}</article>"
    article = parse_article(make_page(body=body), ARTICLE_URL)
    assert article.body == FULL_BODY + (
        "\n\nCorridor Length (km)\n\nMain Street 2.4\n\nRiver Road 1.1")


STANDFIRST = "The city council voted to expand protected bike lanes along three corridors."


def _page_with_standfirst(lead: str, description: str = STANDFIRST) -> str:
    head = f'<meta name="description" content="{description}">'
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[1:])
    body = (f"<article><header><h1>Council expands bike lanes</h1>{lead}</header>"
            f"<div class='entry-content'>{paragraphs}</div></article>")
    return make_page(head, body=body)


def test_the_standfirst_that_shows_the_description_opens_the_body() -> None:
    # The lead sits in the article's <header>, which trafilatura's precision mode drops;
    # it shows the page's description (here after a dateline in bold).
    page = _page_with_standfirst(f"<p class='lead'><b>Springfield.</b> {STANDFIRST}</p>")
    body = parse_article(page, ARTICLE_URL).body
    assert body == "\n\n".join([f"Springfield. {STANDFIRST}", *PARAGRAPHS[1:]])


@pytest.mark.parametrize(
    "lead",
    [
        "",  # the description is only in the <meta>
        f"<aside><p>{STANDFIRST}</p></aside>",  # a teaser box, not the article's lead
        f"<p>{STANDFIRST} And then a much longer block of text that goes on and on, well "
        "past twice the length of the description, as a whole section of a page would, so "
        "it is not the standfirst but something that merely quotes it at its start.</p>",
    ],
    ids=["not shown", "in an aside", "in a much longer block"],
)
def test_the_description_is_no_standfirst_unless_a_block_of_its_own_shows_it(
    lead: str,
) -> None:
    body = parse_article(_page_with_standfirst(lead), ARTICLE_URL).body
    assert body == "\n\n".join(PARAGRAPHS[1:])


def test_markup_after_the_closing_html_is_read_as_part_of_the_body() -> None:
    # Browsers put what follows </html> into the <body>; lxml makes it a second top-level
    # <html> that no reader of the tree sees. Here the whole article is out there.
    page = make_page(body="<div class='ad'></div>").replace(
        "</body></html>", "</body></html><!-- generated 0.2 s -->"
        f"<article><h1>Council expands bike lanes</h1><div>{PARAGRAPHS_HTML}</div></article>")
    article = parse_article(page, ARTICLE_URL)
    assert (article.parser, article.body) == (GENERIC_PARSER, FULL_BODY)


@pytest.mark.parametrize(
    "aside",
    [
        '<aside class="related&#1;"><p>Related: other news</p></aside>',
        '<aside \x01data="1"><p>Related: other news</p></aside>',
        '<aside {x}="1"><p>Related: other news</p></aside>',
    ],
    ids=["control character in a value", "control character in a name", "braces in a name"],
)
def test_attributes_lxml_cannot_set_on_a_hollowed_container(aside: str) -> None:
    body = f"{aside}<article><h1>Council expands bike lanes</h1>{PARAGRAPHS_HTML}</article>"
    assert parse_article(make_page(body=body), ARTICLE_URL).body == FULL_BODY


def test_control_character_after_a_br_in_embedded_html() -> None:
    data = {"props": {"article": {"contentHtml": "<br>".join(PARAGRAPHS) + "<br>\x01"}}}
    script = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}</script>'
    article = parse_article(make_page(body="<div id='__next'></div>" + script), ARTICLE_URL)
    assert (article.parser, article.body) == (EMBEDDED_PARSER, FULL_BODY)


@pytest.mark.parametrize(
    "value",
    ["1e999", "NaN", '"2024-05-01 10:00 +2400"', '"0001-01-01T00:00:00+01:00"',
     '"9999-12-31T23:59:59-01:00"'],
    ids=["infinity", "NaN", "offset of a day", "year 1", "year 9999"],
)
def test_jsonld_dates_that_are_no_dates_give_way_to_the_url(value: str) -> None:
    # JSON reads 1e999 as infinity; dateutil accepts an offset of a day, which datetime
    # refuses; a time in year 1 or 9999 overflows the conversion to UTC.
    data = f'{{"@type": "NewsArticle", "datePublished": {value}}}'
    head = f'<script type="application/ld+json">{data}</script>'
    article = parse_article(make_page(head, published=None), ARTICLE_URL)
    assert article.published_at == dt.datetime(2024, 5, 1, tzinfo=UTC)


# -- issue 14: the date fallback chain, its source, listing paths -----------------------------


def _dated_page(dateline: str = "", head: str = "", lang: str = "de") -> str:
    body = (f"<article><h1>Council expands bike lanes</h1>{dateline}"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    return make_page(head, body=body, published=None, lang=lang)


UNDATED_URL = "https://daily.example.com/news/council-expands-bike-lanes"


@pytest.mark.parametrize(
    ("dateline", "lang", "expected"),
    [
        ("<p>publiziert am 5. Juli 2024</p>", "de", dt.datetime(2024, 7, 5, tzinfo=UTC)),
        ("<p>Veröffentlicht: 2024-07-05 10:41</p>", "de", dt.datetime(2024, 7, 5, 10, 41,
                                                                      tzinfo=UTC)),
        ("<p>Опубликовано 5 марта 2025, 10:41</p>", "ru", dt.datetime(2025, 3, 5, 10, 41,
                                                                     tzinfo=UTC)),
        ("<p>Publié le 12 février 2023 à 14h30</p>", "fr", dt.datetime(2023, 2, 12, 14, 30,
                                                                      tzinfo=UTC)),
        ("<p>Publicado el 5 de julio de 2024</p>", "es", dt.datetime(2024, 7, 5, tzinfo=UTC)),
        ("<p>Published: 05/07/2024</p>", "de", dt.datetime(2024, 7, 5, tzinfo=UTC)),
        ("<p>Published: 05/07/2024</p>", "en-US", dt.datetime(2024, 5, 7, tzinfo=UTC)),
        ("<div class='meta'>5 марта 2025, 10:41</div>", "ru", dt.datetime(2025, 3, 5, 10, 41,
                                                                         tzinfo=UTC)),
    ],
)
def test_published_at_from_visible_text_in_other_languages(
    dateline: str, lang: str, expected: dt.datetime
) -> None:
    article = parse_article(_dated_page(dateline, lang=lang), UNDATED_URL)
    assert article.published_at == expected
    assert article.published_at_source == "text"


@pytest.mark.parametrize(
    ("head", "dateline", "source"),
    [
        ('<meta property="article:published:time" content="2024-07-05T10:41:00+02:00">', "",
         "meta"),
        ('<meta name="DC.Date.Issued" content="2024-07-05T10:41:00+02:00">', "", "meta"),
        ("", "<span itemprop='datePublished'>5. Juli 2024, 10:41 +02:00</span>", "markup"),
        ("", "<input type='hidden' name='publishDate' value='2024-07-05T10:41:00+02:00'>",
         "markup"),
        ("", "<span data-utc-time='1720168860000'>vor 2 Stunden</span>", "markup"),
    ],
)
def test_published_at_from_markup_other_parsers_miss(head: str, dateline: str, source: str
                                                      ) -> None:
    article = parse_article(_dated_page(dateline, head), UNDATED_URL)
    assert article.published_at == dt.datetime(2024, 7, 5, 8, 41, tzinfo=UTC)
    assert article.published_at_source == source


def test_published_at_keeps_the_pages_offset_and_the_row_stores_utc() -> None:
    head = '<meta property="article:published_time" content="2024-07-05T00:30:00+02:00">'
    article = parse_article(_dated_page(head=head), UNDATED_URL)
    assert article.published_at is not None
    assert article.published_at.date() == dt.date(2024, 7, 5)  # the page's own day
    assert article.to_row()["published_at"] == dt.datetime(2024, 7, 4, 22, 30, tzinfo=UTC)


def test_jsonld_time_without_offset_takes_the_offset_of_the_same_clock_time() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council expands bike lanes",
                   "datePublished": "2024-07-05T10:41:00"})
    dateline = "<time class='x' datetime='2024-07-05T10:41:00-04:00'>July 5</time>"
    article = parse_article(_dated_page(dateline, head), UNDATED_URL)
    assert article.published_at == dt.datetime(2024, 7, 5, 14, 41, tzinfo=UTC)
    assert article.published_at_source == "jsonld"
    other_clock = dateline.replace("10:41", "09:00")
    article = parse_article(_dated_page(other_clock, head), UNDATED_URL)  # no match: UTC
    assert article.published_at == dt.datetime(2024, 7, 5, 10, 41, tzinfo=UTC)


def test_published_at_from_url_and_htmldate_last() -> None:
    article = parse_article(_dated_page(), ARTICLE_URL)
    assert (article.published_at, article.published_at_source) == (
        dt.datetime(2024, 5, 1, tzinfo=UTC), "url")
    # a bare date next to the headline: read as the page's dateline
    article = parse_article(_dated_page("<div>12.03.2024</div>"), UNDATED_URL)
    assert (article.published_at, article.published_at_source) == (
        dt.datetime(2024, 3, 12, tzinfo=UTC), "text")
    # a bare date far from it, in an unlabelled block: only htmldate's text search reads it
    far = _dated_page().replace("</article>", "<p>" + "Filler words. " * 40
                                + "</p><div>12.03.2024</div></article>")
    article = parse_article(far, UNDATED_URL)
    assert (article.published_at, article.published_at_source) == (
        dt.datetime(2024, 3, 12, tzinfo=UTC), "htmldate")


@pytest.mark.parametrize(
    "path", ["/archive/12345", "/themen/council-expands-bike-lanes-downtown", "/?p=123"]
)
def test_article_markup_on_a_listing_like_path_is_an_article(path: str) -> None:
    article = parse_article(make_page(), "https://daily.example.com" + path)
    assert article.title == "Council expands bike lanes"


def test_published_at_source_is_a_column_of_schema_version_2() -> None:
    from newslake.record import ARTICLE_SCHEMA, SCHEMA_VERSION

    assert SCHEMA_VERSION == 2
    assert ARTICLE_SCHEMA.field("published_at_source").nullable
    article = parse_article(make_page(), ARTICLE_URL)
    assert article.to_row()["published_at_source"] == "meta"


def test_lake_reads_partitions_of_schema_version_1_with_the_new_column_null(
    tmp_path: Path,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newslake import lake
    from newslake.record import ARTICLE_FILE_SCHEMA, rows_to_table

    article = parse_article(make_page(), ARTICLE_URL)
    article.fetched_at, article.run_id = dt.datetime(2024, 5, 2, tzinfo=UTC), "run"
    row = article.to_row()
    old_schema = ARTICLE_FILE_SCHEMA.remove(ARTICLE_FILE_SCHEMA.get_field_index(
        "published_at_source"))
    for day, schema in (("2024-05-01", old_schema), ("2024-05-02", ARTICLE_FILE_SCHEMA)):
        folder = tmp_path / "articles" / "outlet=daily" / f"date={day}"
        folder.mkdir(parents=True)
        pq.write_table(rows_to_table([row], schema), folder / "part-00000.parquet")
    dataset = lake.dataset(str(tmp_path), "articles")
    assert dataset is not None
    table = dataset.to_table().sort_by("date")
    assert table.column("published_at_source").to_pylist() == [None, "meta"]
    assert table.schema.field("published_at_source").type == pa.string()


def test_authors_from_a_nested_jsonld_author_list() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Council expands bike lanes",
                   "author": [[{"@type": "Person", "name": "Jane Doe"},
                               {"@type": "Person", "name": "John Roe"}]]})
    assert parse_article(make_page(head), ARTICLE_URL).authors == ["Jane Doe", "John Roe"]


@pytest.mark.parametrize("byline", ["Autor: Jane Doe", "Auteur : Jane Doe", "Yazar: Jane Doe",
                                    "Von Jane Doe",
                                    # a publishing verb before the by-word is label too
                                    "Posted by Jane Doe", "Erstellt von Jane Doe",
                                    "Veröffentlicht von Jane Doe", "Publié par Jane Doe",
                                    "vom Jane Doe"])
def test_byline_labels_in_other_languages_are_not_names(byline: str) -> None:
    body = (f"<article><h1>Council expands bike lanes</h1><div class='byline'>{byline}</div>"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    assert _authors(body) == ["Jane Doe"]


def test_bylines_are_read_inside_the_article_that_holds_the_headline() -> None:
    body = ("<aside><article><h2>Other story</h2><div class='byline'>By Card Writer</div>"
            "</article></aside><article><h1>Council expands bike lanes</h1>"
            f"<div class='byline'>By Jane Doe</div><div class='entry-content'>{PARAGRAPHS_HTML}"
            "</div></article>")
    assert _authors(body) == ["Jane Doe"]


def test_a_byline_is_one_block_not_the_cards_comments_and_author_box_after_it() -> None:
    body = ("<h1>Council expands bike lanes</h1><div class='meta'><span class='author'>"
            "By Jane Doe</span></div>"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div>"
            "<div class='author-box'><a class='author-link'>View all posts by Jane Doe</a></div>"
            "<ul class='related'><li><div class='card'><span class='author'>Card Writer</span>"
            "</div></li></ul><ol class='comments'><li><span class='author'>Reader Roe</span>"
            "</li></ol>")
    assert _authors(body) == ["Jane Doe"]


def test_a_byline_written_an_element_a_name_keeps_every_name() -> None:
    body = ("<article><h1>Council expands bike lanes</h1><ul class='authors'>"
            "<li><a class='author-name'>Jane Doe</a></li><li><a class='author-name'>John Roe"
            f"</a></li></ul><div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    assert _authors(body) == ["Jane Doe", "John Roe"]


@pytest.mark.parametrize("label", ["View all posts by Jane Doe", "SHOW ALL ARTICLES OF Jane Doe",
                                   "View my complete profile", "Alle Artikel", "Archiv anzeigen →"])
def test_a_link_to_the_authors_page_is_not_a_name(label: str) -> None:
    body = (f"<article><h1>Council expands bike lanes</h1><div class='entry-content'>"
            f"{PARAGRAPHS_HTML}</div><footer><a class='author-link'>{label}</a></footer>"
            "</article>")
    assert _authors(body) == []


@pytest.mark.parametrize("byline", [
    "<p>By Jane Doe</p>",
    "<div><span>Von</span> <a href='/jane'>Jane Doe</a> <time>Donnerstag, 2. Mai</time></div>",
    "<p><i>par Jane Doe</i></p>",
])
def test_an_unmarked_byline_just_after_the_headline(byline: str) -> None:
    body = (f"<main><h1>Council expands bike lanes</h1>{byline}"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></main>")
    assert _authors(body) == ["Jane Doe"]


@pytest.mark.parametrize("body", [
    # the headline deep in a header: the elements after it are found up its ancestors
    "<header><div class='hero'><h1>Council expands bike lanes</h1></div></header>"
    "<p>By Jane Doe</p>",
    # escaped entities ("&amp;nbsp;" is the text "&nbsp;") make the text long until
    # clean_text unescapes them: the length is that of the cleaned text
    "<main><h1>Council expands bike lanes</h1><p>By Jane Doe" + "&amp;nbsp;" * 12 + "</p>",
])
def test_an_unmarked_byline_in_other_markup(body: str) -> None:
    body += f"<div class='entry-content'>{PARAGRAPHS_HTML}</div>"
    assert _authors(body) == ["Jane Doe"]


def test_a_by_sentence_in_the_text_is_not_a_byline() -> None:
    body = ("<main><h1>Council expands bike lanes</h1><div class='entry-content'>"
            f"{PARAGRAPHS_HTML}<p>By the end of the year the lanes will be open.</p>"
            "<p>by jane doe</p></div></main>")
    assert _authors(body) == []


def test_title_is_the_shared_tail_of_sources_with_different_kickers() -> None:
    head = jsonld({"@type": "NewsArticle", "headline": "Bike lanes: Council expands the lanes"})
    head += '<meta property="og:title" content="City hall: Council expands the lanes">'
    page = make_page(head, title="Something else")
    assert parse_article(page, ARTICLE_URL).title == "Council expands the lanes"


def test_time_elements_naming_several_days_are_a_list_not_the_date() -> None:
    comments = ("<ol class='comments'><li><time pubdate datetime='2024-07-09T08:00:00Z'>9 July"
                "</time></li><li><time pubdate datetime='2024-07-08T08:00:00Z'>8 July</time>"
                "</li></ol>")
    page = _dated_page("<p>Veröffentlicht am 5. Juli 2024</p>" + comments)
    article = parse_article(page, UNDATED_URL)
    assert (article.published_at, article.published_at_source) == (
        dt.datetime(2024, 7, 5, tzinfo=UTC), "text")


@pytest.mark.parametrize("block", ["post-author", "entry-meta__authors", "Post__author"])
def test_byline_from_a_dashed_author_block_when_nothing_else_names_anyone(block: str) -> None:
    body = (f"<article><h1>Council expands bike lanes</h1><span class='{block}'>"
            f"<a href='/people/jane'>Jane Doe</a></span><div class='entry-content'>"
            f"{PARAGRAPHS_HTML}</div><div class='comment-author'>Reader Roe</div></article>")
    assert _authors(body) == ["Jane Doe"]


def test_a_dashed_author_block_does_not_outrank_the_byline_or_a_comment_author() -> None:
    body = ("<article><h1>Council expands bike lanes</h1><div class='byline'>By Jane Doe</div>"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div><div class='box-author'>John Roe"
            "</div></article>")
    assert _authors(body) == ["Jane Doe"]
    comments = (f"<article><h1>Council expands bike lanes</h1><div class='entry-content'>"
                f"{PARAGRAPHS_HTML}</div><div class='comment-author'>Reader Roe</div></article>")
    assert parse_article(make_page(body=comments), ARTICLE_URL).authors == []


@pytest.mark.parametrize(("byline", "credit"), [("By Staff Writer", "Staff Writer"),
                                                 ("von Redaktion", "Redaktion")])
def test_a_byline_that_credits_only_a_role_is_kept(byline: str, credit: str) -> None:
    body = (f"<article><h1>Council expands bike lanes</h1><div class='byline'>{byline}</div>"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    assert _authors(body) == [credit]
    named = body.replace(byline, f"By Jane Doe, {credit}")
    assert parse_article(make_page(body=named), ARTICLE_URL).authors == ["Jane Doe"]


def test_a_label_in_its_own_element_is_not_glued_to_the_name() -> None:
    body = ("<article><h1>Council expands bike lanes</h1><div class='byline'>"
            "<span>Author</span><a href='/people/jane'>Jane Doe</a></div>"
            f"<div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    assert _authors(body) == ["Jane Doe"]


@pytest.mark.parametrize(("byline", "names"), [
    ("By Joe S.", ["Joe S."]),  # an initial's period is the name's
    ("By Perry Bacon Jr.", ["Perry Bacon Jr."]),
    ("By Jane Doe.", ["Jane Doe"]),  # a sentence's is not
    ("Deutscher Caritasverband e. V.", ["Deutscher Caritasverband"]),  # "V." is no name
])
def test_a_bylines_final_period_and_one_letter_parts(byline: str, names: list[str]) -> None:
    head = f'<meta name="author" content="{byline}">'
    assert parse_article(make_page(head), ARTICLE_URL).authors == names


@pytest.mark.parametrize("label", ["Written by", "Verfasst von", "Escrito por"])
def test_the_written_by_label_of_yoasts_twitter_card_names_the_author(label: str) -> None:
    card = (f'<meta name="twitter:label1" content="Est. reading time">'
            f'<meta name="twitter:data1" content="4 minutes">'
            f'<meta name="twitter:label2" content="{label}">'
            f'<meta name="twitter:data2" content="Karoline Herr">')
    assert parse_article(make_page(card), ARTICLE_URL).authors == ["Karoline Herr"]
    byline = ("<article><h1>Council expands bike lanes</h1><div class='byline'>By Jane Doe"
              f"</div><div class='entry-content'>{PARAGRAPHS_HTML}</div></article>")
    assert parse_article(make_page(card, byline), ARTICLE_URL).authors == ["Jane Doe"]
    other = card.replace(label, "Filed under")
    assert parse_article(make_page(other), ARTICLE_URL).authors == []
