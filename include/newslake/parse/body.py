"""What a body is, and what every body path shares: reading an article container's blocks
(paragraphs, in-body headings, list items) and the line filters they all pass.

The paths themselves: ``body_rules`` (the outlet's CSS rules), ``body_generic``
(trafilatura, with ``body_hollow``'s speed-up, or JSON-LD ``articleBody``) and
``embedded`` (text kept in a script). Every one gives a list of blocks that pass the same
line filters: the outlet's ``drop_paragraphs`` and the boilerplate lines every news site
prints (``READ: ...`` promos, donation and newsletter appeals, share prompts).
``Body.parser`` says which path produced the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from newslake.parse.css import css_to_xpath
from newslake.parse.metadata import clean_text

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
# Lines news sites print around every article: promos, appeals, share prompts.
BOILERPLATE_LINE_RE = re.compile(  # one pattern: one match a block, not eleven searches
    "|".join(
        f"(?:{pattern})"
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
    ),
    re.IGNORECASE,
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


# The nodes ``element.iter()`` yields (elements, comments, processing instructions),
# counted by libxml2: some times faster than counting them in a Python loop.
NODE_COUNT_XPATH = etree.XPath(
    "count(descendant-or-self::*|descendant::comment()|descendant::processing-instruction())"
)


def node_count(element: etree._Element) -> int:
    """How many nodes ``element.iter()`` yields: ``element`` and all it holds."""
    return int(NODE_COUNT_XPATH(element))


NOT_XML_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters lxml's setters refuse: its HTML parser keeps them
    (raw or as character references), so text read from a tree may hold them."""
    return NOT_XML_CHARS_RE.sub("", value)



def _class_and_id(element: etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def drop_element(element: etree._Element) -> None:
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
                drop_element(element)
    doomed = [
        element
        for element in container.iterdescendants()
        if not isinstance(element.tag, str)
        or element.tag in DROP_TAGS
        or BOILERPLATE_CLASS_RE.search(_class_and_id(element))
    ]
    for element in doomed:
        drop_element(element)


def block_text(element: etree._Element) -> str:
    """The element's text; inline markup adds no space (``<b>방침</b>이다`` is one word),
    other elements and ``<br>`` do."""
    if not len(element):  # most blocks: text alone, nothing to walk
        return clean_text(element.text)
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
        text = block_text(element)
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
        if BOILERPLATE_LINE_RE.match(block):
            continue
        kept.append(block)
    return kept

