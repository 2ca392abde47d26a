"""The generic body: trafilatura (precision mode; balanced mode with its fallbacks when
that found little of the page's text), or JSON-LD ``articleBody`` when that is clearly
fuller. For pages of outlets without rules, and for those whose rules match nothing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from itertools import islice

import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from newslake.config import Outlet
from newslake.parse.body import (
    INLINE_TAGS,
    Body,
    block_text,
    drop_element,
    filter_lines,
    node_count,
    text_lines,
)
from newslake.parse.body_hollow import hollow_out, restore
from newslake.parse.css import css_to_xpath
from newslake.parse.metadata import PageMeta, clean_text
from newslake.parse.stoplist_cache import load_stoplist
from newslake.parse.version import GENERIC_PARSER, STRUCTURED_PARSER

# Removed from the whole page before trafilatura runs: never article text (trafilatura
# drops them too, but only after copying the tree), and every node less makes its many
# XPath passes cheaper. Not the containers that broken markup can wrap around the whole
# article, for trafilatura's fallbacks to find (<form>: ASP.NET pages wrap the whole page
# in one; <aside>, <footer> left unclosed), nor <header> (it often holds the standfirst).
PRE_STRIP_TAGS = (
    "head",
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "nav",
    "button",
    "select",
    "figure",
    "picture",
    "video",
    "audio",
    "object",
    "embed",
    "canvas",
    "map",
    "menu",
    "dialog",
    "input",
    "textarea",
    "label",
    "link",
    "meta",
)
# Of those, the elements that can hold other markup: left unclosed by broken markup
# (``<noscript>`` or ``<button>`` never closed, a ``<nav>`` around the whole page), one
# of them wraps the article. One that holds more than half of the page's elements is
# kept, as a <div>: a menu or a button is never most of a page.
WRAPPER_TAGS = (
    "noscript", "nav", "button", "select", "figure", "picture", "video", "audio", "object",
    "canvas", "map", "menu", "dialog", "label", "iframe",
)
# Tables that hold paragraphs lay out a page (old CMSs); they are not data tables, and
# trafilatura without tables would drop the article inside them.
LAYOUT_TABLE_XPATH = etree.XPath("/descendant::table[descendant::p]")
LAYOUT_TABLE_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th")
# trafilatura's options for its two passes, built once (its constructor reads a dozen
# values from its ConfigParser: 2.4 s of a 295 s profile of the dev sets) and copied for
# each page with its URL.
# ``fast``: precision mode without the readability/jusText comparison, the fast and
# usually cleaner pass; the other is trafilatura's balanced mode with its fallbacks.
# ``output_format``: not "python", for which ``bare_extraction`` also writes the body out
# as text (``xmltotxt``, 0.22 s over the 1,341 dev pages) that is never read here: the
# blocks are read from its ``body`` element, which every format returns the same.
PRECISE_OPTIONS = Extractor(
    output_format="txt", fast=True, precision=True, comments=False, tables=True,
    images=False, with_metadata=False,
)
BALANCED_OPTIONS = Extractor(
    output_format="txt", fast=False, precision=False, comments=False, tables=True,
    images=False, with_metadata=False,
)
TRAFILATURA_BLOCK_TAGS = frozenset({"p", "head", "quote", "code", "item", "row"})
LINK_XPATH = etree.XPath("/descendant::a")
# Precision mode sometimes keeps only a teaser of pages whose text is split over several
# containers (Reuters, ZDF): a result this short (non-space characters) that holds less
# than this share of the page's unlinked text is retried in balanced mode with fallbacks.
SHORT_BODY_CHARS = 2000
FALLBACK_SHARE = 0.3
# A generic body shorter than this share of JSON-LD's articleBody missed the text.
STRUCTURED_PREFERRED_RATIO = 0.5
# The standfirst (lead): the page's description, shown above the article. trafilatura's
# precision mode drops it with the <header> it often sits in. A description shorter than
# this (characters) is too weak a key (a site slogan, a title repeat); the block that shows
# it may be this much longer than it (a dateline, "Berlin. ", a truncated description).
STANDFIRST_MIN_CHARS = 40
STANDFIRST_KEY_CHARS = 40
STANDFIRST_SLACK = 2.0
TRUNCATION_RE = re.compile(r"[\s.…]+$")
DESCRIPTION_META_KEYS = ("description", "og:description", "twitter:description")
# Where a page's own description is not its lead: teasers, menus, footers.
NOT_STANDFIRST_TAGS = frozenset({"h1", "aside", "footer", "a", "title"})


def _trafilatura_blocks(document_body: etree._Element) -> list[str]:
    """trafilatura's output as blocks: a table row is one block, its cells' text joined."""
    blocks = []
    in_table = document_body.find(".//row") is not None
    for element in document_body.iter(*TRAFILATURA_BLOCK_TAGS):
        parent = element.getparent()
        if parent is not None and parent.tag in TRAFILATURA_BLOCK_TAGS:
            continue
        row = next(element.iterancestors("row"), None) if in_table else None
        if row is not None and element.tag != "row":
            continue  # read with its row
        text = block_text(element)
        if text:
            blocks.append(text)
    return blocks


def _unlinked_chars(tree: etree._Element) -> int:
    """Non-space characters of the page's text outside links: what an article could hold."""
    total = len("".join(tree.text_content().split()))
    linked = sum(len("".join(link.text_content().split())) for link in LINK_XPATH(tree))
    return total - linked


def _trafilatura_paragraphs(
    tree: etree._Element,
    url: str,
    patterns: Sequence[re.Pattern[str]],
    title: str,
    *,
    precise: bool,
) -> list[str]:
    """Blocks of trafilatura's main text (it works on a copy: ``tree`` is left as it was).

    ``precise``: precision mode without the readability/jusText comparison, the fast and
    usually cleaner pass; otherwise trafilatura's balanced mode with its fallbacks."""
    if not precise:
        load_stoplist()  # for its jusText rescue
    options = copy.copy(PRECISE_OPTIONS if precise else BALANCED_OPTIONS)
    options.url, options.source = url, url.encode("utf-8", "replace").decode("utf-8")
    document = trafilatura.bare_extraction(tree, options=options)
    body_element = getattr(document, "body", None)
    if body_element is None:
        return []
    return filter_lines(_trafilatura_blocks(body_element), patterns, title)


def _chars(paragraphs: Iterable[str]) -> int:
    return sum(len("".join(p.split())) for p in paragraphs)


def _unwrap_page_wrappers(tree: etree._Element) -> None:
    """Turn a ``WRAPPER_TAGS`` element that holds over half of the page's elements into a
    <div>, so that stripping it does not strip the article broken markup put inside it."""
    sizes = [(element, node_count(element)) for element in tree.iter(*WRAPPER_TAGS) if len(element)]
    if not sizes:
        return
    # A page of at least twice the largest wrapper's nodes has none over half: counted that
    # far (a few dozen nodes on most pages), not to its end.
    largest = max(size for _, size in sizes)
    if sum(1 for _ in islice(tree.iter(), 2 * largest)) == 2 * largest:
        return
    half = node_count(tree) // 2
    for element, size in sizes:
        if size > half:
            element.tag = "div"


def _descriptions(page: PageMeta) -> list[str]:
    found = [page.first(key) or "" for key in DESCRIPTION_META_KEYS]
    structured = page.ld("description")
    if isinstance(structured, str):
        found.append(clean_text(structured))
    keys = []
    for text in found:
        key = TRUNCATION_RE.sub("", text)
        if len(key) >= STANDFIRST_MIN_CHARS and key not in keys:
            keys.append(key)
    return keys


def _standfirst(tree: etree._Element, page: PageMeta, paragraphs: list[str]) -> str | None:
    """The block that shows the page's description, when the body does not hold it: the
    first element whose text or tail starts the description, read up to its nearest
    block; not in a teaser, a menu or a footer, and not much longer than the description."""
    shown = " ".join(paragraphs)
    for description in _descriptions(page):
        key = description[:STANDFIRST_KEY_CHARS]
        if key in shown:
            return None
        probe = max(key.split(), key=len)  # a cheap test before the text is cleaned
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            text, tail = element.text or "", element.tail or ""
            if probe in text and key in clean_text(text):
                block = element
            elif probe in tail and key in clean_text(tail):
                block = element.getparent()
            else:
                continue
            while block is not None and block.tag in INLINE_TAGS:
                block = block.getparent()
            if block is None or any(
                node.tag in NOT_STANDFIRST_TAGS for node in block.iterancestors()
            ) or block.tag in NOT_STANDFIRST_TAGS:
                return None
            text = block_text(block)
            if description[:STANDFIRST_KEY_CHARS] in text and (
                len(text) <= STANDFIRST_SLACK * len(description)
            ):
                return text
            return None
    return None


def generic_body(
    tree: etree._Element,
    url: str,
    page: PageMeta,
    outlet: Outlet | None = None,
    title: str = "",
) -> Body | None:
    """The body by trafilatura (precision mode; balanced mode with its fallbacks when that
    found little of the page's text), or JSON-LD ``articleBody`` when that is clearly
    fuller. Consumes ``tree``: call it last."""
    drop_selectors: Sequence[str] = ()
    patterns: list[re.Pattern[str]] = []
    if outlet is not None:
        drop_selectors = outlet.parse.drop_selectors
        patterns = outlet.parse.drop_patterns
    for selector in drop_selectors:
        for element in css_to_xpath(selector)(tree):
            drop_element(element)

    _unwrap_page_wrappers(tree)
    etree.strip_elements(tree, *PRE_STRIP_TAGS, with_tail=False)
    for table in LAYOUT_TABLE_XPATH(tree):
        for element in table.iter(*LAYOUT_TABLE_PARTS):
            element.tag = "div"
    undo = hollow_out(tree)
    try:
        paragraphs = _trafilatura_paragraphs(tree, url, patterns, title, precise=True)
    finally:
        restore(undo)
    found = _chars(paragraphs)
    if found < SHORT_BODY_CHARS and found < FALLBACK_SHARE * _unlinked_chars(tree):
        fuller = _trafilatura_paragraphs(tree, url, patterns, title, precise=False)
        if _chars(fuller) > found:
            paragraphs = fuller

    if paragraphs:
        lead = _standfirst(tree, page, paragraphs)
        if lead:
            paragraphs = filter_lines([lead], patterns, title) + paragraphs

    structured = page.ld("articleBody")
    if isinstance(structured, str) and structured.strip():
        structured_paragraphs = filter_lines(text_lines(structured), patterns, title)
        words = sum(len(p.split()) for p in paragraphs)
        structured_words = sum(len(p.split()) for p in structured_paragraphs)
        if structured_paragraphs and words < STRUCTURED_PREFERRED_RATIO * structured_words:
            return Body(structured_paragraphs, STRUCTURED_PARSER)
    if not paragraphs:
        return None
    return Body(paragraphs, GENERIC_PARSER)

