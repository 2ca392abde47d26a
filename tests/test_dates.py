"""General rules of the date chain (``newslake.parse.dates``), each on a small page of the
shape it is about: which of several dates a page gives is its publication date."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
import regex
from helpers.loopback import Reply
from helpers.smallsite import HTML, SmallSite
from lxml import html as lxml_html

from newslake import lake as lake_paths
from newslake.errors import ParseError
from newslake.parse import dates, parse_article
from newslake.parse.metadata import clean_text, read_page_meta
from newslake.pipeline import RunSpec, run_day

pytestmark = pytest.mark.timeout(60)

UTC = dt.UTC
UNDATED_URL = "https://news.example.org/politik/council-expands-bike-lanes"
TEXT = (
    "The city council voted on Tuesday night to expand protected bike lanes along three "
    "downtown corridors, ending months of debate over parking and delivery access. "
) * 3


def jsonld(**fields: Any) -> str:
    obj = {"@context": "https://schema.org", "@type": "NewsArticle",
           "headline": "Council expands bike lanes", **fields}
    return f'<script type="application/ld+json">{json.dumps(obj)}</script>'


def page(head: str = "", shown: str = "", after: str = "") -> str:
    """An article whose visible dateline is ``shown`` (under the headline) and whose
    page ends with ``after`` (a sidebar)."""
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>"
        f"<title>Council expands bike lanes</title>{head}</head><body>"
        f"<article><h1>Council expands bike lanes</h1>{shown}<p>{TEXT}</p><p>{TEXT}</p>"
        f"</article>{after}</body></html>"
    )


def published(html: str, url: str = UNDATED_URL) -> tuple[dt.date | None, str | None]:
    article = parse_article(html, url)
    day = article.published_at.date() if article.published_at is not None else None
    return day, article.published_at_source


# -- machine-readable sources that disagree -------------------------------------------


def test_disagreeing_structured_dates_are_settled_by_the_day_the_page_shows() -> None:
    """A meta date left from a draft names 10 January; the ``<time>`` and the dateline
    under the headline say 25 January: the day the reader sees wins."""
    head = '<meta property="article:published_time" content="2022-01-10T09:00:00+01:00">'
    shown = "<p><time datetime='2022-01-25T08:00:00+01:00'>25.01.2022</time></p>"
    assert published(page(head, shown)) == (dt.date(2022, 1, 25), "markup")


def test_the_most_trusted_date_stays_when_the_page_shows_its_day_or_none() -> None:
    head = jsonld(datePublished="2022-01-10T09:00:00+01:00")
    other = "<span itemprop='dateCreated' content='2021-03-02'></span>"
    # the page shows the JSON-LD day: it stays
    assert published(page(head, other + "<p class='date'>10.01.2022</p>")) == (
        dt.date(2022, 1, 10), "jsonld")
    # the page shows no day at all: the most trusted source stays
    assert published(page(head, other)) == (dt.date(2022, 1, 10), "jsonld")


def test_json_ld_and_meta_agreeing_are_not_overruled_by_a_shown_update() -> None:
    """A news CMS fills JSON-LD and meta apart: when both name the day, a ``<time>``
    and dateline showing a later day are the update, not the publication."""
    head = (jsonld(datePublished="2023-10-07T09:53:36+02:00")
            + '<meta property="article:published_time" content="2023-10-07T09:53:36+02:00">')
    shown = "<p class='date'><time datetime='2024-07-18T09:08:27Z'>18.07.2024</time></p>"
    assert published(page(head, shown)) == (dt.date(2023, 10, 7), "jsonld")


def test_one_moment_written_in_two_zones_is_no_dispute() -> None:
    """JSON-LD and meta give the same minute and second a few whole hours apart (one
    of them with a wrong offset): not two dates, so the dateline does not choose."""
    head = (jsonld(datePublished="2022-05-03T22:44:52-02:00")
            + '<meta name="date" content="2022-05-04T00:44:52+03:00">')
    shown = "<p class='date'>4. Mai 2022</p>"
    assert published(page(head, shown)) == (dt.date(2022, 5, 3), "jsonld")


# -- dateline elements -------------------------------------------------------------------


def test_a_date_class_repeated_with_several_days_is_a_list_not_the_dateline() -> None:
    """Related stories each carry a "post-date" with their own day: none of them dates
    the article; the URL's date does."""
    related = "".join(
        f"<li><a href='/x{n}'>Story {n}</a><span class='post-date'>{day}</span></li>"
        for n, day in enumerate(("11.04.2009", "27.09.2013", "01.01.2012"))
    )
    html = page(after=f"<aside><ul>{related}</ul></aside>")
    url = "https://news.example.org/2019/10/22/council-expands-bike-lanes/"
    assert published(html, url) == (dt.date(2019, 10, 22), "url")


def test_a_date_class_naming_one_day_is_the_dateline() -> None:
    """The same class on two elements with one day (a header and a footer line) is the
    article's dateline, before a sidebar's list of other days."""
    related = "".join(f"<li><span class='teaser-date'>{day}</span></li>"
                      for day in ("11.04.2009", "27.09.2013"))
    shown = "<p class='post-date'>22.10.2019</p>"
    html = page(shown=shown, after=f"<ul>{related}</ul><p class='post-date'>22.10.2019</p>")
    assert published(html) == (dt.date(2019, 10, 22), "text")


# -- htmldate, the last step ------------------------------------------------------------

# A page whose only date is in a Finnish block far from the headline: htmldate's own
# patterns do not read "maaliskuuta" (March), so htmldate would hand it to dateparser.
FINNISH_DATE_PAGE = page(after="<p>" + "Filler words. " * 40 + "</p>"
                                   "<div>13. maaliskuuta 2024</div>")
DATEPARSER_PROBE = """
import sys
from newslake.parse import parse_article
import htmldate
html, url = sys.argv[1], sys.argv[2]
article = parse_article(html, url)
print(article.published_at_source, "dateparser" in sys.modules)
htmldate.find_date(html, original_date=True, url=url)  # as trafilatura calls it
print("dateparser" in sys.modules)
"""


@pytest.mark.timeout(120)
def test_htmldate_runs_without_dateparser() -> None:
    """The last step does not load dateparser (seconds of set-up a process); htmldate
    called directly on the same page does (so this test can see it)."""
    probe = subprocess.run(
        [sys.executable, "-c", DATEPARSER_PROBE, FINNISH_DATE_PAGE, UNDATED_URL],
        capture_output=True, text=True, timeout=100, check=True,
    )
    assert probe.stdout.split() == ["htmldate", "False", "True"]


def test_arabic_month_names_are_read_next_to_the_headline() -> None:
    shown = "<p>الأربعاء، 07 أكتوبر 2020 - 12:09 م</p>"
    assert published(page(shown=shown)) == (dt.date(2020, 10, 7), "text")


# -- a refused page keeps its date -------------------------------------------------------


def test_a_refused_page_carries_the_date_it_gives() -> None:
    """A tag page without article markup is refused, and says what date it gives."""
    head = '<meta property="article:published_time" content="2024-05-01T20:15:00+02:00">'
    with pytest.raises(ParseError) as refused:
        parse_article(page(head).replace("<article>", "<div>").replace("</article>", "</div>"),
                      "https://news.example.org/tag/bike-lanes")
    assert refused.value.reason == "not_article"
    assert refused.value.published_at == dt.datetime(2024, 5, 1, 18, 15, tzinfo=UTC)
    assert refused.value.published_at_source == "meta"


@pytest.mark.timeout(240)
@pytest.mark.usefixtures("fast_backoff")
def test_the_quarantine_row_of_a_refused_page_keeps_its_date(lake: str) -> None:
    day = dt.date(2026, 6, 15)
    listing = "/tag/bike-lanes"
    listing_html = (
        "<html><head><title>Bike lanes - The Small Gazette</title>"
        '<meta name="date" content="2026-06-15T11:30:00+02:00"></head><body><h1>Bike lanes</h1>'
        f"<ul><li><a href='/news/council'>Council expands bike lanes</a> {TEXT}</li></ul>"
        "</body></html>"
    ).encode()
    with SmallSite(day) as site:
        site.publish("/news/council-expands-bike-lanes", "Council expands bike lanes")
        site.pages[listing] = Reply(body=listing_html, headers=HTML)
        site.routes[listing] = lambda _path: site.pages[listing]
        site.listed[listing] = dt.datetime.combine(day, dt.time(10), tzinfo=UTC)
        run_day(RunSpec(site.outlet(), day, "ingest", lake))
    path = Path(lake_paths.partition_uri(lake, "quarantine", "small_gazette", day))
    rows = pq.read_table(path / lake_paths.PARQUET_FILE).to_pylist()
    refused = [row for row in rows if row["failed_checks"] == ["parse:not_article"]]
    assert [(row["url"].endswith(listing), row["published_at"], row["published_at_source"])
            for row in refused] == [(True, dt.datetime(2026, 6, 15, 9, 30, tzinfo=UTC), "meta")]


# -- shortcuts that must not change what is read --------------------------------------


def test_the_month_name_lookahead_changes_no_match() -> None:
    """``TEXT_DATE_RE`` looks ahead for a name, maybe a dot, maybe spaces and a digit
    before trying the month names: true of every match, as the names are letters."""
    assert all(name.isalpha() for name in dates.MONTH_NUMBERS)
    without = regex.compile(dates.TEXT_DATE_RE.pattern.replace(dates._MONTH_AHEAD, "", 1))
    assert without.pattern != dates.TEXT_DATE_RE.pattern
    texts = [
        "Posted March 3, 2024 at 4:05 pm", "Sept. 17th, 2023 10:41 CET", "SEPT.17, 2023",
        "apr.  5 2024", "am 5. März 2024 um 10:41 Uhr", "5 марта 2024", "Mai 2024, 3 Mai 2024",
        "Summary 5, 2020 and mar 5,2020", "November\u00a05, 2021", "Dezember\t\t24 2020",
        "7 أكتوبر 2020", "October 2020 5, 2021", "janvier 12 1999 / 2024-07-05T10:41:00+02:00",
        "grudnia 5, 2020", "Říjen 5, 2020", "x" * 20 + " 5, 2020", "",
    ]
    for text in texts:
        found = [(m.span(), m.groupdict()) for m in dates.TEXT_DATE_RE.finditer(text)]
        assert found == [(m.span(), m.groupdict()) for m in without.finditer(text)], text
    assert dates.first_text_date("Posted Sept. 17th, 2023") == dt.datetime(2023, 9, 17, tzinfo=UTC)


def test_the_visible_text_is_the_body_text_outside_hidden_elements() -> None:
    """``_visible_text`` is the text nodes of ``//body//text()`` outside ``<script>``,
    ``<style>`` and ``<noscript>`` joined by spaces, in document order (tails included)."""
    markup = (
        "<html><head><title>t</title><script>head()</script></head><body>lead "
        "<div>one<script>s()</script>two<p>three<b>four</b>five</p>six"
        "<section><noscript>ns<script>deep()</script>ns2</noscript>seven<!-- c -->eight"
        "<div><div><style>.x{}</style>nine</div>ten</div>eleven</section>twelve</div>"
        "thirteen<span>fourteen<i>fifteen</i></span>sixteen</body></html>"
    )
    tree = lxml_html.document_fromstring(markup)
    spec = tree.xpath(
        "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]")
    assert dates._visible_text(tree) == clean_text(" ".join(spec))
    assert dates._visible_text(tree).split()[:3] == ["lead", "one", "two"]


def test_a_body_without_hidden_elements_reads_all_its_text_nodes() -> None:
    markup = (
        "<html><head><title>t</title></head><body>lead <div>one<!-- c -->two<p>three<b>four"
        "</b>five</p>six</div>seven<br>eight</body></html>"
    )
    tree = lxml_html.document_fromstring(markup)
    assert dates._visible_text(tree) == clean_text(" ".join(tree.find("body").itertext()))
    assert dates._visible_text(tree).split() == [
        "lead", "one", "two", "three", "four", "five", "six", "seven", "eight"]


def test_labels_are_found_as_the_expression_finds_them() -> None:
    """``_label_matches`` tries the expression only where a label starts in the lower
    case text: the same matches as ``finditer``, in any case, "ı" and "İ" included."""
    texts = [
        "Published: 5 July 2024", "Republished PUBLISHED date published, first published",
        "YAYINLANMA TARİHİ 05.07.2024", "Yayın tarihi: 05.07.2024", "yayınlanma", "yay",
        "publİshed 5 July", "Poſted 5 July", "ОПУБЛИКОВАНО 5 июля", "Дата публикации:",
        "Veröffentlicht am 5. Juli 2024", "VERÖFFENTLICHT", "datum datum:datum", "xdatum",
        "published" * 3, "fecha de publicación", "", "posted\u00a0posted",
    ]
    for text in texts:
        expected = [m.span() for m in dates.PUBLISHED_LABEL_RE.finditer(text)]
        assert [m.span() for m in dates._label_matches(text)] == expected, text
    assert [m.group() for m in dates._label_matches("Yayın Tarihi / YAYINLANMA")] == [
        "Yayın Tarihi", "YAYINLANMA"]


def test_a_label_start_is_found_in_the_lower_case_text() -> None:
    """Every character the label expression takes for a letter of a label start lowers
    to that letter, or is one ``LABEL_CASE_ODD_RE`` sends to the whole expression."""
    letters = sorted(set("".join(dates.PUBLISHED_LABEL_STARTS)))
    assert all(any(label.startswith(start) for start in dates.PUBLISHED_LABEL_STARTS)
               for label in dates.PUBLISHED_LABELS)
    taken = regex.compile("(?i:[" + "".join(map(regex.escape, letters)) + "])")
    for code in range(0x110000):
        char = chr(code)
        if taken.fullmatch(char) is None:
            continue
        for letter in letters:
            if regex.fullmatch(f"(?i:{regex.escape(letter)})", char) and char.lower() != letter:
                assert dates.LABEL_CASE_ODD_RE.match(char), f"U+{code:04X} for {letter!r}"


def test_an_epoch_lends_its_utc_offset_to_a_time_written_without_one() -> None:
    """An epoch (a time in UTC) at the same clock time gives a time written without an
    offset its UTC; in UTC that is the offset the time is read in anyway."""
    head = '<meta property="article:published_time" content="2022-01-10T09:00:00">'
    markup = page(head, "<span data-time='1641805200'>x</span>")  # 2022-01-10T09:00:00Z
    tree = lxml_html.document_fromstring(markup)
    meta = read_page_meta(tree)
    for tz in (UTC, ZoneInfo("Europe/Berlin")):
        found = dates.find_published(meta, tree, UNDATED_URL, tz)
        assert found is not None and found.source == "meta"
        assert found.at == dt.datetime(2022, 1, 10, 9, tzinfo=UTC), tz
    without = lxml_html.document_fromstring(page(head))
    found = dates.find_published(read_page_meta(without), without, UNDATED_URL,
                                 ZoneInfo("Europe/Berlin"))
    assert found is not None and found.at == dt.datetime(2022, 1, 10, 8, tzinfo=UTC)


def test_no_date_starts_before_where_the_search_starts() -> None:
    texts = [
        "Posted March 3, 2024 at 4:05 pm", "Sept. 17th, 2023 10:41 CET", "SEPT.17, 2023",
        "apr.  5 2024", "am 5. März 2024 um 10:41 Uhr", "5 марта 2024", "November\u00a05, 2021",
        "Dezember\t\t \n 24 2020", "x" * 40 + "Dezember\t\t \n 24 2020", "7 أكتوبر 2020",
        "word " * 20 + "septiembre 5, 2024", "12345 5. März 2024", "x1 5.3.2024", "no digits",
        "" , "   9", "a" * 30 + "17.03.2025 / 2025-03-17", "ab1/2/2024 1/2/2024",
    ]
    for text in texts:
        expected = [(m.span(), m.groupdict()) for m in dates.TEXT_DATE_RE.finditer(text)]
        start = dates._dates_start(text)
        if start is None:
            assert expected == [], text
            continue
        found = dates.TEXT_DATE_RE.finditer(text, start)
        assert [(m.span(), m.groupdict()) for m in found] == expected, text


def test_a_time_marked_as_the_publication_time_comes_before_the_other_meta() -> None:
    """A ``<time>`` with ``pubdate``, ``itemprop="datePublished"`` or a class naming
    publication is read before ``pubdate``-style meta, any other ``<time>`` after it."""
    head = '<meta name="pubdate" content="2022-01-03">'
    for mark in ("pubdate", "itemprop='datePublished'", "class='entry-date x'",
                 "class='published'"):
        shown = f"<time {mark} datetime='2022-01-02'>2. Januar</time>"
        assert published(page(head, shown)) == (dt.date(2022, 1, 2), "markup"), mark
    for other in ("itemprop='dateModified'", "class='updated'", ""):
        shown = f"<time {other} datetime='2022-01-02'>2. Januar</time>"
        assert published(page(head, shown)) == (dt.date(2022, 1, 3), "meta"), other
