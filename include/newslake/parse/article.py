"""``parse_article``: one page in, one ``Article`` out (or a ``ParseError`` saying why not).

The order matters for speed and for correctness: the document is parsed once with lxml;
metadata and bylines are read before the body extractor runs, because the generic
extractor consumes the tree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeGuard
from urllib.parse import urlsplit

from lxml import etree, html

from newslake.config import Outlet
from newslake.errors import ParseError
from newslake.parse import fields
from newslake.parse.authors import find_authors
from newslake.parse.body import NOT_XML_CHARS_RE, Body, node_count, xml_text
from newslake.parse.body_generic import generic_body
from newslake.parse.body_rules import rules_body
from newslake.parse.dates import UTC, Published, find_modified_at, find_published
from newslake.parse.decode import decode_html
from newslake.parse.embedded import embedded_body
from newslake.parse.language import detect_language
from newslake.parse.metadata import PageMeta, read_page_meta
from newslake.record import Article

XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
# URL paths of listings (home, tag, category, author, search, pagination), not articles.
LISTING_PATH_RE = re.compile(
    r"^/(?:[\w-]+/)?(?:tags?|category|categories|topics?|themen|author|authors|search|archive"
    r"|page)(?:/|$)|/page/\d+/?$",
    re.IGNORECASE,
)
SOFT_404_RE = re.compile(
    r"\b(?:404|page not found|not found|nothing (?:was )?found|page (?:you requested )?"
    r"(?:could not|cannot|can't|couldn't) be found|no longer available|does not exist"
    r"|seite nicht gefunden|page introuvable|página no encontrada|pagina non trovata"
    r"|страница не найдена|сторінку не знайдено|сторінка не знайдена)\b",
    re.IGNORECASE,
)
ARTICLE_MARKUP_XPATH = etree.XPath(
    "/descendant::*[@itemprop][@itemprop='articleBody'] | (/descendant::h1)[1][ancestor::article]"
)
SLUG_SPLIT_RE = re.compile(r"[-_+]+|%20")
MIN_SLUG_WORDS = 4
# Bounds on the work one page may cost: past them the page is quarantined
# (``too_large``, ``too_complex``) instead of holding a worker for minutes. trafilatura's
# time grows faster than the page's element count (a 5 MB page of short paragraphs: 96 s
# and 555 MB; 1 MB: 3.5 s); the other passes are linear in the text. The largest pages of
# the dev corpora (fundus-dev, dates-dev, snippets-dev) have 1,587,249 characters and
# 6,749 elements: both limits are about three times that.
MAX_PAGE_CHARS = 5_000_000
MAX_PAGE_ELEMENTS = 20_000
IMPLIED_ROOT_ELEMENTS = 3  # <html>, <head> and <body>, which the parser adds to any page
# Less text than this is no article body at all (validation applies the outlet's word
# minimum). Characters, not words: Chinese and Japanese do not put spaces between words.
MIN_BODY_CHARS = 50
# The C0 control characters XML forbids (all but tab, newline and carriage return).
C0_NOT_XML_BYTES = bytes(b for b in range(0x20) if b not in (0x09, 0x0A, 0x0D))
# lxml.html's own parser picks each element's Python class by a Python callback, run
# every time an element is touched from Python (some 2,000 times a page, most of them in
# trafilatura); one class for every element is looked up in C. Form-specific classes
# (FormElement, InputElement...) are not used here. Comments and processing
# instructions are dropped as trafilatura's own parser does (it skips them anyway), and
# no ID index is built (nothing here looks elements up by ID).
# The page is handed to libxml2 as UTF-8 bytes: from a Python str of non-ASCII text lxml
# passes it UCS-4 to be transcoded, which takes longer than encoding it here (the same
# tree on every page of the dev corpora).
HTML_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, collect_ids=False, encoding="utf-8"
)
HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=html.HtmlElement,
        comment=html.HtmlComment,
        pi=html.HtmlProcessingInstruction,
        entity=html.HtmlEntity,
    )
)


def _parse_tree(text: str) -> etree._Element:
    if len(text) > MAX_PAGE_CHARS:
        raise ParseError("too_large", f"{len(text):,} characters, over {MAX_PAGE_CHARS:,}")
    text = XML_DECLARATION_RE.sub("", text, count=1)
    # Control characters XML forbids (a stray BEL in a footnote) are kept by lxml's HTML
    # parser, and trafilatura then drops the whole text when it copies it into its output
    # tree; trafilatura's own loader removes them from the page first, and so does this.
    # Most pages have none: deleting the C0 bytes from the UTF-8 text finds out fast (in
    # UTF-8 a byte below 0x20 is always that character).
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which NOT_XML_CHARS_RE removes
        data = b""
    if (
        not data
        or len(data.translate(None, C0_NOT_XML_BYTES)) != len(data)
        or "\ufffe" in text
        or "\uffff" in text
    ):
        text = NOT_XML_CHARS_RE.sub("", text)
        data = text.encode("utf-8")
    if not text.strip():
        raise ParseError("empty_body", "the page has no content")
    try:
        tree = html.document_fromstring(data, parser=HTML_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError("undecodable", f"not HTML: {exc}") from exc
    if _may_exceed_elements(data) and node_count(tree) > MAX_PAGE_ELEMENTS:
        raise ParseError("too_complex", f"over {MAX_PAGE_ELEMENTS:,} elements")
    _adopt_trailing_markup(tree)
    return tree


def _may_exceed_elements(data: bytes) -> bool:
    """Whether the page's markup could make over ``MAX_PAGE_ELEMENTS`` elements (counting
    the tree's costs some six times this test). The parser makes an element for each
    start tag, each beginning with "<", and implies at most one more per tag (a ``<p>``
    around stray text, a ``<tbody>``) besides ``<html>``, ``<head>`` and ``<body>``."""
    return 2 * data.count(b"<") + IMPLIED_ROOT_ELEMENTS > MAX_PAGE_ELEMENTS


def _adopt_trailing_markup(tree: etree._Element) -> None:
    """Move markup written after ``</html>`` into the page's ``<body>``, as browsers do.

    lxml's parser puts what follows ``</html><!-- -->`` in a second top-level ``<html>``,
    which every reader of the tree (and trafilatura) skips; it is left behind, empty."""
    trailing = [s for s in tree.itersiblings() if isinstance(s.tag, str) and (len(s) or s.text)]
    if not trailing:
        return
    body = tree.find("body")
    if body is None:
        body = etree.SubElement(tree, "body")
    for sibling in trailing:
        parts = list(sibling.iterchildren("body")) or [sibling]
        for part in parts:
            if part.text and part.text.strip():
                last = body[-1] if len(body) else None
                if last is not None:
                    last.tail = xml_text((last.tail or "") + part.text)
                else:
                    body.text = xml_text((body.text or "") + part.text)
            part.text = None
            body.extend(list(part))


def _has_article_markup(page: PageMeta, tree: etree._Element) -> bool:
    """The page marks itself up as one article: JSON-LD of an article type, ``og:type``
    article, ``itemprop="articleBody"``, or an ``<article>`` that holds the first ``<h1>``."""
    if page.article_ld is not None:
        return True
    if (page.first("og:type") or "").lower().startswith("article"):
        return True
    return bool(ARTICLE_MARKUP_XPATH(tree))


def _is_story_slug(path: str) -> bool:
    """The path's last segment names a story ("eu-taxonomie-atomkraft-sind-nicht-
    nachhaltig"): four or more words, where listings name a tag or a section."""
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    segment = segment.rsplit(".", 1)[0]
    return len([w for w in SLUG_SPLIT_RE.split(segment) if w]) >= MIN_SLUG_WORDS


def _check_is_article(page: PageMeta, url: str, tree: etree._Element) -> None:
    """Raise for pages that say they are a 404, a home page or a listing.

    The home page is the path ``/`` without a query (``/?p=123`` is a WordPress post).
    A listing-like path (``/tag/…``, ``/themen/…``, ``/archive/…``, ``/page/2``) refuses
    a page only when the page carries no article markup and the path ends in no story
    slug: the path alone decides too much."""
    if page.article_ld is None:
        for text in (page.title_tag, page.h1, page.first("og:title") or ""):
            if text and SOFT_404_RE.search(text):
                raise ParseError("soft_404", f"the page says {text!r}")
    parts = urlsplit(url)
    path = parts.path or "/"
    if path == "/" and not parts.query:
        raise ParseError("not_article", "the home page")
    if page.is_listing:
        raise ParseError("not_article", "JSON-LD describes a listing page")
    if (
        LISTING_PATH_RE.search(path)
        and not _is_story_slug(path)
        and not _has_article_markup(page, tree)
    ):
        raise ParseError("not_article", f"{path!r} is a listing page without article markup")


def _keep_date(exc: ParseError, published: Published | None) -> ParseError:
    """``exc`` carrying the publication time the page gave (its quarantine row keeps it)."""
    if published is not None:
        exc.published_at, exc.published_at_source = published.at, published.source
    return exc


def _has_text(body: Body | None) -> TypeGuard[Body]:
    """At least ``MIN_BODY_CHARS`` characters other than spaces (counted until there are)."""
    if body is None:
        return False
    chars = 0
    for paragraph in body.paragraphs:
        chars += len("".join(paragraph.split()))
        if chars >= MIN_BODY_CHARS:
            return True
    return False


def parse_article(
    html_source: bytes | str,
    url: str,
    outlet: Outlet | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Article:
    """Parse one fetched page into an ``Article`` (fetch and run fields left to the caller).

    Raises ``ParseError`` with a reason (``undecodable``, ``soft_404``, ``not_article``,
    ``no_title``, ``empty_body``) for pages that are not articles, and (``too_large``,
    ``too_complex``) for pages over the limits of the work one page may cost
    (``MAX_PAGE_CHARS``, ``MAX_PAGE_ELEMENTS``). A refusal of a page that was read
    (``soft_404``, ``not_article``, ``no_title``, ``empty_body``) carries the date the page
    gives (``ParseError.published_at``/``published_at_source``), which its quarantine
    row keeps. An article whose date is nowhere on the
    page comes back with ``published_at`` None: validation decides (its row goes to
    quarantine with its title and body).
    """
    text = decode_html(html_source, headers)
    tree = _parse_tree(text)
    page = read_page_meta(tree)
    outlet_name = outlet.name if outlet else None
    timezone = outlet.tz if outlet else UTC
    canonical = fields.find_canonical_url(page, url)
    try:
        _check_is_article(page, url, tree)
    except ParseError as exc:  # the refusal's quarantine row keeps the page's date
        _keep_date(exc, find_published(page, tree, canonical, timezone, text))
        raise

    rules = outlet.parse if outlet else None
    title = fields.find_title(page, url, outlet_name, rules.title_source if rules else "auto")
    published = find_published(page, tree, canonical, timezone, text)
    if not title:
        raise _keep_date(ParseError("no_title", "no headline, og:title, <h1> or <title>"),
                         published)
    published_at = published.at if published is not None else None
    modified_at = find_modified_at(page, timezone)
    authors = find_authors(page, tree, outlet_name, rules.byline_source if rules else "auto")
    section = fields.find_section(page, tree)
    tags = fields.find_tags(page, tree)
    image_url = fields.find_image_url(page, url)
    description = fields.find_description(page)
    is_paywalled = fields.find_is_paywalled(page, tree, text)

    body = rules_body(tree, outlet, title) if outlet is not None else None
    if body is None:
        body = generic_body(tree, url, page, outlet, title)  # consumes the tree: last
    if not _has_text(body):  # a client-rendered shell: the text may sit in a script
        body = embedded_body(text, outlet.parse.drop_patterns if outlet else (), title)
    if not _has_text(body):
        raise _keep_date(ParseError("empty_body", "no article text found"), published)
    if modified_at is not None and published_at is not None and modified_at < published_at:
        modified_at = None
    body_text = body.text

    return Article(
        url=canonical,
        fetched_url=url,
        outlet=outlet.id if outlet else "",
        title=title,
        description=description,
        authors=authors,
        published_at=published_at,
        published_at_source=published.source if published is not None else None,
        modified_at=modified_at,
        section=section,
        tags=tags,
        language=detect_language(body_text, page),
        body=body_text,
        image_url=image_url,
        is_paywalled=is_paywalled,
        parser=body.parser,
    )
