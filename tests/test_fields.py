"""The finders that read class names and the first ``<h1>`` from ``PageMeta`` (read once a
page), and what they find there: paywall markers, breadcrumbs, bylines."""

from __future__ import annotations

from lxml import etree, html

from newslake.parse.authors import find_authors
from newslake.parse.fields import find_is_paywalled, find_section
from newslake.parse.metadata import PageMeta, read_class_names, read_page_meta


def _tree(body: str) -> etree._Element:
    return html.document_fromstring(f"<html><head><title>T</title></head><body>{body}</body>")


def _page(body: str) -> tuple[PageMeta, etree._Element]:
    tree = _tree(body)
    return read_page_meta(tree), tree


def test_class_names_values_text_and_data_paywall() -> None:
    page, tree = _page("<div class='a b'><p class='c'>x</p><i data-paywall='true'>y</i></div>")
    names = page.class_names(tree)
    assert names.values == ["a b", "c"] and names.text == "a b\nc" and names.data_paywall
    assert page.class_names(tree) is names  # read once for the tree the page was read from
    other = _tree("<p class='d' data-paywall='false'>z</p>")
    assert page.class_names(other) == read_class_names(other)
    assert read_class_names(other).values == ["d"] and not read_class_names(other).data_paywall


def test_first_h1_is_the_first_even_when_empty() -> None:
    page, tree = _page("<h1></h1><article><h1>Headline</h1></article>")
    assert page.h1 == "Headline"  # the first <h1> with text
    first = page.first_h1(tree)
    assert first is not None and first.text is None and first is next(tree.iter("h1"))
    other = _tree("<h1>Other</h1>")
    found = page.first_h1(other)
    assert found is not None and found.text == "Other"


def test_paywall_markers_in_class_names() -> None:
    for body, locked in [
        ("<div class='entry paywall'>x</div>", True),
        ("<div class='box-paywalled'>x</div>", True),
        ("<div class='premium-content-box'>x</div>", True),
        ("<div data-paywall='true'>x</div>", True),
        ("<div class='paywall-teaser'>x</div>", False),  # "paywall" in a class, no token
        ("<div data-paywall='false'>x</div>", False),
        ("<div class='entry'>x</div>", False),
    ]:
        page, tree = _page(body)
        assert find_is_paywalled(page, tree, body) is locked, body
        assert find_is_paywalled(page, tree) is locked, body  # no source: the tree decides


def test_paywall_class_not_in_the_source_does_not_count() -> None:
    body = "<div class='pay&#119;all'>x</div>"  # the class is "paywall" once parsed
    page, tree = _page(body)
    assert page.class_names(tree).values == ["paywall"]
    assert find_is_paywalled(page, tree, body) is False
    assert find_is_paywalled(page, tree) is True


def test_section_from_breadcrumb_classes() -> None:
    crumbs = "<a href='/'>Home</a> <a href='/economy'>Economy</a>"
    page, tree = _page(f"<nav class='site-breadcrumbs'>{crumbs}</nav>")
    assert find_section(page, tree) == "Economy"
    page, tree = _page(f"<div class='path'>{crumbs}</div>")
    assert find_section(page, tree) == "Economy"
    page, tree = _page(f"<div class='crumb'>{crumbs}</div><div class='paths'>{crumbs}</div>")
    assert find_section(page, tree) is None  # "crumb" alone, "paths": no breadcrumb
    page, tree = _page(f"<nav>{crumbs}</nav>")
    assert find_section(page, tree) is None
    # the first trail is the page's: counted among class attributes only (the element
    # marked data-paywall and the one without a class are not among them)
    other = "<a href='/'>Home</a> <a href='/sport'>Sport</a>"
    page, tree = _page(
        "<div data-paywall='true'><p class='crumb'>x</p></div><p>y</p>"
        f"<div class='z' data-paywall='true'><ol class='breadcrumb'><li>{crumbs}</li></ol></div>"
        f"<nav class='breadcrumbs'>{other}</nav>"
    )
    assert find_section(page, tree) == "Economy"


def test_byline_by_rel_and_itemprop_on_a_page_without_byline_classes() -> None:
    page, tree = _page("<article><h1>H</h1><a rel='author' href='/a/jane'>Jane Doe</a></article>")
    assert "author" not in page.class_names(tree).text
    assert find_authors(page, tree) == ["Jane Doe"]
    page, tree = _page("<h1>H</h1><span itemprop='author'>John Roe</span>")
    assert find_authors(page, tree) == ["John Roe"]
    page, tree = _page("<h1>H</h1><p class='byline'>By Ann Poe</p>")
    assert find_authors(page, tree) == ["Ann Poe"]


def test_unmarked_byline_after_the_first_h1() -> None:
    for byline in [
        "By Jane Doe",
        "<span> </span><span>By</span> <a>Jane Doe</a>",
        "&amp;#66;y Jane Doe",  # the text "&#66;y", which clean_text reads as "By"
    ]:
        page, tree = _page(f"<h1>Headline</h1><p>{byline}</p><p>Text of the story.</p>")
        assert find_authors(page, tree) == ["Jane Doe"], byline
    page, tree = _page("<h1>Headline</h1><p>Bye Jane Doe</p><p>Text of the story.</p>")
    assert find_authors(page, tree) == []
