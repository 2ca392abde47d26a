"""body_hollow: which subtrees are hollowed out, and that ``restore`` gives the page back."""

from __future__ import annotations

from lxml import etree, html

from newslake.parse.body_hollow import _hollow_candidates, hollow_out, restore

PAGE = """<html><body><div id="page">
<aside class="empty"></aside>
<aside id="rail"><p>Related: other news</p></aside>
<div id="menu"> <a href="/1">One</a> <a href="/2">Two</a> <a href="/3">Three</a> </div>
<div id="few"><a href="/4">Four</a>
  <ul id="tags"><li><a href="/t">Tag</a></li></ul></div>
<div id="texty"><a href="/6">Six</a> and text <a href="/7">Seven</a><a href="/8">Eight</a></div>
<header id="top"><h1>Headline</h1><span></span></header>
<p>Body text<span class="icon"></span> <i>  </i></p>
</div></body></html>"""


def _names(elements: list[etree._Element]) -> list[str]:
    return [element.get("id") or element.get("class") or element.tag for element in elements]


def test_candidates() -> None:
    tree = html.document_fromstring(PAGE)
    chosen, empties = _hollow_candidates(tree)
    # a childless <aside> is no container, and not a link farm either; a <div> of fewer
    # than three links is none, but the list inside it is; a tail outside the links is text
    assert _names(chosen) == ["rail", "menu", "tags"]
    # last first; <i> holds blanks (text, not None), the header's <span> is empty
    assert _names(empties) == ["icon", "span"]


def test_restore_gives_the_page_back() -> None:
    tree = html.document_fromstring(PAGE)
    before = etree.tostring(tree)
    undo = hollow_out(tree)
    hollowed = etree.tostring(tree, encoding="unicode", method="html")
    assert '<aside id="rail"></aside>' in hollowed
    assert '<div id="menu"></div>' in hollowed
    assert '<span class="icon"></span>' not in hollowed
    restore(undo)
    assert etree.tostring(tree) == before
