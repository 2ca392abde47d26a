"""The article text: per-outlet rules first, else a generic extractor (trafilatura).

Both paths give a list of blocks (paragraphs, in-body headings, list items) that then
pass the same line filters: the outlet's ``drop_paragraphs`` and the boilerplate lines
every news site prints (``READ: ...`` promos, donation and newsletter appeals, share
prompts). ``Body.parser`` says which path produced the text.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

import trafilatura
from lxml import etree

from newslake.config import Outlet
from newslake.parse.css import css_to_xpath
from newslake.parse.metadata import PageMeta, clean_text
from newslake.parse.version import GENERIC_PARSER, STRUCTURED_PARSER, rules_label

# Elements that never hold article text inside an article container.
DROP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "iframe",
        "figure",
        "figcaption",
        "aside",
        "nav",
        "form",
        "button",
        "svg",
        "template",
        "select",
        "input",
        "textarea",
        "video",
        "audio",
        "picture",
        "object",
        "embed",
        "ins",
        "footer",
    ]
)
# class/id tokens of boilerplate inside the article container.
BOILERPLATE_CLASS_RE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|sharedaddy|social|related|jp-relatedposts|newsletter|"
    r"subscribe|subscription|advert\w*|ads?|adslot|ad-slot|td-a-rec|promo\w*|donat\w*|"
    r"comments?|wp-caption-text|caption|sidebar|breadcrumbs?|author-box|outbrain|taboola|"
    r"recommend\w*|readmore|read-more|see-also|also-read|print|post-tags|td-post-sharing\w*|"
    r"widget|banner|sponsor\w*|paywall-prompt|inline-cta)(?:[\s_-]|$)",
    re.IGNORECASE,
)
BLOCK_TAGS = frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"})
# Phrasing elements: their text runs on in the words around them.
INLINE_TAGS = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i"}
    | {"ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup"}
    | {"time", "tt", "u", "var", "hi", "ref"}  # the last two: trafilatura's own markup
)
HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
# Lines news sites print around every article: promos, appeals, share prompts.
BOILERPLATE_LINE_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^(?:read|read more|also read|read also|related|see also|more|watch|listen|"
        r"recommended|trending|don't miss|must read|lesen sie auch|lire aussi|"
        r"читайте также|читайте також)\s*[:|>»]",
        r"^please (?:make a|consider|support)\b.*\b(?:donat|support|contribut)",
        r"^(?:support|donate to)\b.{0,80}\b(?:journalism|donation|newsroom)",
        r"^(?:connect with us|follow us)\b",
        r"^(?:підписуйтес[ья]|подписывайтесь|subscribe to|follow us on|join us on)\b.{0,60}"
        r"\b(?:telegram|канал|channel|newsletter|facebook|twitter|whatsapp)",
        r"^(?:sign up|subscribe)\b.{0,40}(?::|\bnewsletter|\bto our)",
        r"^(?:share|share this|share on|like this|tweet this)\b.{0,40}$",
        r"^(?:advertisement|anzeige|werbung|реклама|publicidad|publicité)$",
        r"^(?:click here|tap here)\b",
        r"^(?:©|copyright\b|all rights reserved)",
        r"^(?:comments?|leave a (?:comment|reply)|\d+ comments?)$",
    )
)
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
LAYOUT_TABLE_XPATH = etree.XPath("//table[.//p]")
LAYOUT_TABLE_PARTS = ("table", "thead", "tbody", "tfoot", "tr", "td", "th")
TRAFILATURA_BLOCK_TAGS = frozenset({"p", "head", "quote", "code", "item"})
LINK_XPATH = etree.XPath("//a")
# Precision mode sometimes keeps only a teaser of pages whose text is split over several
# containers (Reuters, ZDF): a result this short (non-space characters) that holds less
# than this share of the page's unlinked text is retried in balanced mode with fallbacks.
SHORT_BODY_CHARS = 2000
FALLBACK_SHARE = 0.3
# A generic body shorter than this share of JSON-LD's articleBody missed the text.
STRUCTURED_PREFERRED_RATIO = 0.5
# What the precision pass does not need to see. trafilatura copies the whole page several
# times and runs a dozen XPath prunes over every element before it picks the article, so
# its time grows with the page's element count; the subtrees below are over half of a
# news page's elements and never body text in precision mode:
# - <aside> and <footer>: trafilatura deletes them with all they hold as the first step of
#   its cleaning (``MANUALLY_CLEANED``), only after the copies and the raw-tree prunes;
# - <header>: precision mode deletes every <header> inside the container it picks;
# - link farms: lists, and <div>/<section>/<header> blocks with a few links, all of whose
#   text is link text (menus, "more stories", tag clouds), which precision mode drops by
#   link density;
# - empty elements (below).
# The containers are swapped for empty elements with the same tag, attributes and tail,
# so every rule that matches them still does; all is put back for the balanced pass,
# whose fallbacks (readability, jusText, the baseline) read the raw page. Not an <aside>,
# <footer> or <header> that holds the <h1>: that header is the article's (headline,
# standfirst), and trafilatura keeps an infinite-scroll container around the <h1>.
# On fundus-dev the hollowed pass gives the same body as the whole page on all pages
# but 11, all by the link farms: 3 better (one by +0.32 F1), 7 worse by 0.004-0.023,
# one the same; mean body token F1 0.9556 -> 0.9571.
HOLLOW_TAGS = frozenset({"aside", "footer", "header"})
# tag -> the fewest links a subtree of only link text must hold to count as a link farm.
LINK_FARM_MIN_LINKS = {"ul": 1, "ol": 1, "div": 3, "section": 3, "header": 3}
# Empty elements (no text, no children, a blank tail) of the tags trafilatura deletes when
# empty (``CUT_EMPTY_ELEMS``; in precision mode with their tails): taken out beforehand,
# as a tenth of a page's elements are empty <div>s (ad slots, spacers, icons).
EMPTY_DROPPED_TAGS = frozenset(
    {"article", "b", "blockquote", "dd", "div", "dt", "em", "i", "li", "main", "p", "pre"}
    | {"q", "section", "span", "strong", "h1", "h2", "h3", "h4", "h5", "h6"}
)
PARAGRAPH_SPLIT_RE = re.compile(r"\n\s*\n|\r\n\s*\r\n")
LINE_SPLIT_RE = re.compile(r"\n+")


@dataclass(frozen=True)
class Body:
    paragraphs: list[str]
    parser: str

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


NOT_XML_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters lxml's setters refuse: its HTML parser keeps them
    (raw or as character references), so text read from a tree may hold them."""
    return NOT_XML_CHARS_RE.sub("", value)


def _class_and_id(element: etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _drop(element: etree._Element) -> None:
    """Remove ``element`` but keep its tail text where it was."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = xml_text((previous.tail or "") + tail)
        else:
            parent.text = xml_text((parent.text or "") + tail)
    parent.remove(element)


def strip_boilerplate(container: etree._Element, selectors: Sequence[str] = ()) -> None:
    """Remove the outlet's ``selectors`` and generic boilerplate under ``container``."""
    for selector in selectors:
        for element in css_to_xpath(selector)(container):
            if element is not container:
                _drop(element)
    doomed = [
        element
        for element in container.iterdescendants()
        if not isinstance(element.tag, str)
        or element.tag in DROP_TAGS
        or BOILERPLATE_CLASS_RE.search(_class_and_id(element))
    ]
    for element in doomed:
        _drop(element)


def _block_text(element: etree._Element) -> str:
    """The element's text; inline markup adds no space (``<b>방침</b>이다`` is one word),
    other elements and ``<br>`` do."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if isinstance(child.tag, str):
                gap = "" if child.tag in INLINE_TAGS else " "
                parts.append(gap)
                walk(child)
                parts.append(gap)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return clean_text("".join(parts))


def collect_blocks(container: etree._Element) -> list[str]:
    """Paragraphs, headings and list items under ``container`` in reading order."""
    blocks: list[str] = []
    for element in container.iter(*BLOCK_TAGS):
        # A block inside a block (a <p> in a <blockquote> or <li>) is read with its parent.
        ancestor = element.getparent()
        nested = False
        while ancestor is not None and ancestor is not container:
            if ancestor.tag in BLOCK_TAGS:
                nested = True
                break
            ancestor = ancestor.getparent()
        if nested:
            continue
        text = _block_text(element)
        if text:
            blocks.append(text)
    if not blocks:
        text = "\n".join(container.itertext())
        blocks = [clean_text(p) for p in PARAGRAPH_SPLIT_RE.split(text) if p.strip()]
    return blocks


def text_lines(text: str) -> list[str]:
    """A body given as plain text (JSON-LD ``articleBody``, a page's script data): its
    lines, cleaned; blank ones stay for ``filter_lines`` to drop."""
    return [clean_text(line) for line in LINE_SPLIT_RE.split(text)]


def filter_lines(
    blocks: Iterable[str], drop_patterns: Sequence[re.Pattern[str]] = (), title: str = ""
) -> list[str]:
    """Blocks without boilerplate lines, the outlet's dropped lines and title repeats."""
    kept: list[str] = []
    title_key = title.casefold()
    for block in blocks:
        if not block or (title_key and block.casefold() == title_key):
            continue
        if any(p.search(block) for p in drop_patterns):
            continue
        if any(p.search(block) for p in BOILERPLATE_LINE_RES):
            continue
        kept.append(block)
    return kept


def rules_body(tree: etree._Element, outlet: Outlet, title: str = "") -> Body | None:
    """The body by the outlet's ``body_selector``; None when the selector matches nothing."""
    rules = outlet.parse
    if not rules.body_selector:
        return None
    matches = css_to_xpath(rules.body_selector)(tree)
    if not matches:
        return None
    container = matches[0]
    strip_boilerplate(container, rules.drop_selectors)
    patterns = rules.drop_patterns
    paragraphs = filter_lines(collect_blocks(container), patterns, title)
    if not paragraphs:
        return None
    return Body(paragraphs, rules_label(outlet.id, rules.version))


def _trafilatura_blocks(document_body: etree._Element) -> list[str]:
    blocks = []
    for element in document_body.iter(*TRAFILATURA_BLOCK_TAGS):
        parent = element.getparent()
        if parent is not None and parent.tag in TRAFILATURA_BLOCK_TAGS:
            continue
        text = _block_text(element)
        if text:
            blocks.append(text)
    return blocks


def _hollow_candidates(
    tree: etree._Element,
) -> tuple[list[etree._Element], list[etree._Element]]:
    """The outermost ``HOLLOW_TAGS`` containers and link farms under ``tree`` in document
    order, and the empty elements trafilatura's precision mode deletes, last first."""
    elements = list(tree.iter())
    empties: list[etree._Element] = []
    unlinked: set[etree._Element] = set()  # subtrees holding text outside any <a>
    for element in reversed(elements):  # children before their parents
        if element.tag == "a":
            continue
        text = element.text
        if text is None and not len(element) and element.tag in EMPTY_DROPPED_TAGS:
            tail = element.tail
            if not tail or tail.isspace():
                empties.append(element)
                continue
        if text and not text.isspace():
            unlinked.add(element)
            continue
        for child in element:
            tail = child.tail
            if child in unlinked or (tail and not tail.isspace()):
                unlinked.add(element)
                break
    position = {element: index for index, element in enumerate(elements)}
    chosen: list[etree._Element] = []
    index = 0
    while index < len(elements):
        element = elements[index]
        index += 1
        tag = element.tag
        container = tag in HOLLOW_TAGS and len(element) > 0
        farm = tag in LINK_FARM_MIN_LINKS and element not in unlinked
        if not (container or farm):
            continue
        if container and next(element.iter("h1"), None) is not None:
            container = False
        if not container:
            fewest = LINK_FARM_MIN_LINKS.get(tag, 0)  # type: ignore[call-overload]
            if not farm or sum(1 for _ in islice(element.iter("a"), fewest)) < fewest:
                continue
        chosen.append(element)
        # on past its descendants, to the next element in document order; not past
        # ``tree``: broken markup can give it a sibling (a second top-level <html>)
        node: etree._Element | None = element
        index = len(elements)
        while node is not None and node is not tree:
            following = node.getnext()
            if following is not None:
                index = position[following]
                break
            node = node.getparent()
    return chosen, empties


Removed = list[tuple[etree._Element, etree._Element, int]]  # (element, parent, index)
Swapped = list[tuple[etree._Element, etree._Element]]  # (element, its hollow copy)


def _hollow_copy(element: etree._Element) -> etree._Element:
    """``element`` without its text and children: same tag, attributes and tail. Copied
    by lxml, not built through its setters: they refuse what its HTML parser keeps (control
    characters in attribute names and values, ``{`` in attribute names, a tail's control
    characters)."""
    children = list(element)
    for child in children:
        element.remove(child)  # each with its tail
    hollow = copy.copy(element)
    element.extend(children)
    hollow.text = None
    return hollow


def _hollow_out(tree: etree._Element) -> tuple[Removed, Swapped]:
    """Take out the empty elements and hollow out the containers ``_hollow_candidates``
    finds; what ``_restore`` needs to undo it."""
    containers, empties = _hollow_candidates(tree)
    removed: Removed = []
    for element in empties:
        parent = element.getparent()
        if parent is not None:
            removed.append((element, parent, parent.index(element)))
            parent.remove(element)  # its tail (none, or blanks) goes with it
    swapped: Swapped = []
    for element in containers:
        parent = element.getparent()
        if parent is None:
            continue
        hollow = _hollow_copy(element)
        parent.replace(element, hollow)
        swapped.append((element, hollow))
    return removed, swapped


def _restore(undo: tuple[Removed, Swapped]) -> None:
    removed, swapped = undo
    for element, hollow in reversed(swapped):
        parent = hollow.getparent()
        if parent is not None:
            parent.replace(hollow, element)
    for element, parent, index in reversed(removed):
        parent.insert(index, element)


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
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precise,
        with_metadata=False,
        include_comments=False,
        include_tables=False,
        include_images=False,
        fast=precise,
    )
    body_element = getattr(document, "body", None)
    if body_element is None:
        return []
    return filter_lines(_trafilatura_blocks(body_element), patterns, title)


def _chars(paragraphs: Iterable[str]) -> int:
    return sum(len("".join(p.split())) for p in paragraphs)


def _unwrap_page_wrappers(tree: etree._Element) -> None:
    """Turn a ``WRAPPER_TAGS`` element that holds over half of the page's elements into a
    <div>, so that stripping it does not strip the article broken markup put inside it."""
    half = sum(1 for _ in tree.iter()) // 2
    for element in tree.iter(*WRAPPER_TAGS):
        if len(element) and sum(1 for _ in islice(element.iter(), half + 1)) > half:
            element.tag = "div"


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
            _drop(element)

    _unwrap_page_wrappers(tree)
    etree.strip_elements(tree, *PRE_STRIP_TAGS, with_tail=False)
    for table in LAYOUT_TABLE_XPATH(tree):
        for element in table.iter(*LAYOUT_TABLE_PARTS):
            element.tag = "div"
    undo = _hollow_out(tree)
    try:
        paragraphs = _trafilatura_paragraphs(tree, url, patterns, title, precise=True)
    finally:
        _restore(undo)
    found = _chars(paragraphs)
    if found < SHORT_BODY_CHARS and found < FALLBACK_SHARE * _unlinked_chars(tree):
        fuller = _trafilatura_paragraphs(tree, url, patterns, title, precise=False)
        if _chars(fuller) > found:
            paragraphs = fuller

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
