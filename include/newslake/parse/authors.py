"""Authors: the people in the byline, in order, without "By", roles or e-mail addresses.

The first source that names anyone wins: JSON-LD ``author``, then author meta tags, then a
byline element. Organisations count only when no person is named (an agency story).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from newslake.parse.body import INLINE_TAGS
from newslake.parse.metadata import PageMeta, clean_text, ld_types

AUTHOR_META_KEYS = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "cxenseparse:author",
)
# Byline elements: ``rel``/``itemprop`` "author", a class token "byline" or "author", or a
# class holding "author-name", "article-author" or "byline__name". The XPath tests a
# substring of the attribute only (a token test with concat/normalize-space on every
# element of the page cost 3% of parse time); ``_is_byline`` then checks tokens. It selects
# attributes and goes up to their elements (the union is in document order): a third less
# time than a predicate on every element (``descendant::*[@rel='author' or ...]``).
_BYLINE_MARKS = "descendant::*/@rel[. = 'author']/.. | descendant::*/@itemprop[. = 'author']/.."
BYLINE_XPATH = etree.XPath(
    f"descendant::*/@class[contains(., 'byline') or contains(., 'author')]/.. | {_BYLINE_MARKS}"
)
# The same for a page where no class holds "byline" or "author" (its class part finds none).
BYLINE_NO_CLASS_XPATH = etree.XPath(_BYLINE_MARKS)
BYLINE_CLASS_TOKENS = frozenset({"byline", "author"})
BYLINE_CLASS_PARTS = ("author-name", "article-author", "byline__name")
# A class token that names the author as a part of a block, BEM-style or dashed
# ("post-author", "entry-meta-author", "Post__author", "node__authors"); a comment's
# author ("comment-author") is a reader, not the story's byline.
BYLINE_CLASS_TOKEN_RE = re.compile(r"^(?!.*comment).*[-_]authors?$", re.IGNORECASE)


def _is_byline(element: etree._Element) -> bool:
    if element.get("rel") == "author" or element.get("itemprop") == "author":
        return True
    classes = element.get("class") or ""
    return bool(BYLINE_CLASS_TOKENS.intersection(classes.split())) or any(
        part in classes for part in BYLINE_CLASS_PARTS
    )


def _is_author_block(element: etree._Element) -> bool:
    return any(BYLINE_CLASS_TOKEN_RE.match(t) for t in (element.get("class") or "").split())


# The <article> that holds the headline (the page's first <h1>): its bylines are the
# story's, not those of the related-story cards around it.
BY_PREFIX_RE = re.compile(
    r"^(?:(?:written|posted|published|reported|story|text|words|erstellt|geschrieben|verfasst"
    r"|veröffentlicht|eingestellt|gepostet|publiée?|écrit|publicado|escrito|pubblicato|scritto"
    r")\s+)?"
    r"(?:by|von|vom|par|por|di|door|av|af|przez|от|автор|авторы|著者)\s*[:\-]?\s+"
    # "Autor: Jane Doe": the word "author" as a label, in the languages of the dev sets
    r"|^(?:authors?|autor(?:in|en|es|a)?|auteurs?|autore|autori|forfatter|författare|yazar"
    r"|tekst|texto?|testo|redakteur(?:in)?|автори?)\s*:\s*"
    # ... and without the colon when the label is in an element of its own ("Author Jane Doe")
    r"|^(?:authors?|autor(?:in|en)?|auteurs?)\s+(?=\w)",
    re.IGNORECASE,
)
NAME_SEPARATOR_RE = re.compile(
    r"\s*(?:,|;|/|\||&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bи\b|\bog\b|\boch\b)\s*"
)
EMAIL_RE = re.compile(r"\S+@\S+\.\w+")
URL_RE = re.compile(r"^(?:https?://|www\.)|\.(?:com|org|net)/", re.IGNORECASE)
HANDLE_RE = re.compile(r"(?:^|\s)@\w+")
# Words that make a byline fragment a job title, not a name.
ROLE_RE = re.compile(
    r"\b(?:staff|writer|editor|editorial|reporter|correspondent|contributor|columnist|"
    r"journalist|photographer|producer|news desk|newsroom|team|desk|updated|published|"
    r"redaktion|korrespondent\w*|rédaction|reporter)\b",
    re.IGNORECASE,
)
# Byline fragments that stand for "the newsroom" or "wire copy", not for anyone by name
# (``red`` is the German/Austrian short for Redaktion: "red, ORF.at/Agenturen").
NOT_NAMES = frozenset({"red", "red.", "agenturen", "agencies", "agences", "agencias", "wires"})
# A bare domain ("Lrt.lt") next to a person's name is the site, not a second author.
DOMAIN_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}$", re.IGNORECASE)
# "Reporter"/"correspondent" written after the name in Korean, Japanese and Chinese
# bylines ("신현주 기자", "山田太郎記者"): the name stays, the title goes.
CJK_ROLE_SUFFIX_RE = re.compile(r"\s*(?:선임기자|기자|특파원|논설위원|記者|记者|特派員|特派员)$")
MAX_NAME_WORDS = 6
# A name's own final period: after an initial or a generational suffix ("Joe S.",
# "Perry Bacon Jr."); any other final period ends the sentence, not the name.
NAME_FINAL_PERIOD_RE = re.compile(r"(?:^|[\s.])(?:\w|Jr|Sr)$")
NAME_EDGES = " -–—:·\u00a0"  # stripped from a part's ends, with any period
TWITTER_LABEL_RE = re.compile(r"^twitter:label(\d+)$")
# An unmarked byline ("By Jane Doe" in a <p> or <span> of no byline class): looked for in
# the elements that follow the first headline, short, a by-word first, names of 2-4
# capitalised words.
HEADLINE_BYLINE_REACH = 30
UNMARKED_BYLINE_CHARS = 80
UNMARKED_BY_RE = re.compile(r"^(?:by|von|par|por|door|di|av|af)\s+(?=\w)", re.IGNORECASE)
MAX_UNMARKED_NAME_WORDS = 4
# How many block-level ancestors up from the first byline element that names someone its
# block reaches; never to these.
BYLINE_BLOCK_LEVELS = 2
PAGE_TAGS = frozenset({"body", "html"})
# A byline element's text this long is an author box or a container, not a byline.
MAX_BYLINE_CHARS = 199
# The label of a link to an author's page or archive, which names the author too.
AUTHOR_PAGE_LINK_RE = re.compile(
    r"\b(?:view|show|see|read|browse)\s+(?:all|more)\s+"
    r"(?:posts|articles|stories|entries|contributions)\s+(?:by|of|from)\b"
    r"|\bview\s+(?:my\s+)?(?:complete\s+|full\s+)?profile\b"
    r"|\balle\s+(?:artikel|beiträge)\b|\bweitere\s+(?:artikel|beiträge)\b"
    r"|\barchiv\s+anzeigen\b|\btous\s+(?:les|ses)\s+articles\b",
    re.IGNORECASE,
)
DATE_LIKE_RE = re.compile(r"\d")
PARENTHESES_RE = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")


def _own_names(page: PageMeta, outlet_name: str | None = None) -> set[str]:
    """The site's own names, case-folded: JSON-LD publisher, ``og:site_name``, the outlet."""
    publisher = page.ld("publisher")
    publisher_name = clean_text(publisher.get("name")) if isinstance(publisher, dict) else ""
    return {n.casefold() for n in (publisher_name, page.first("og:site_name"), outlet_name) if n}


def _names_from_ld(value: Any, page: PageMeta) -> tuple[list[str], list[str]]:
    """(credits, organisations) of a JSON-LD ``author`` value, as names.

    Credits are the people and the organisations other than the publisher itself (an
    agency, a desk), in order; an organisation's name is one name ("Le Figaro et AFP")."""
    credits: list[str] = []
    orgs: list[str] = []
    own_names = _own_names(page)
    for item in _flat(value):
        item = page.resolve(item)
        if isinstance(item, str):
            credits.extend(split_names(item, declared=True))
        elif isinstance(item, dict):
            name = item.get("name")
            if not name and (item.get("givenName") or item.get("familyName")):
                name = f"{item.get('givenName') or ''} {item.get('familyName') or ''}"
            names = name if isinstance(name, list) else [name]
            if ld_types(item) & {"organization", "newsmediaorganization"}:
                for org in (clean_text(n) for n in names if n):
                    orgs.append(org)
                    if org and org.casefold() not in own_names:
                        credits.append(org)
            else:
                credits.extend(
                    n for raw in names if raw for n in split_names(str(raw), declared=True)
                )
    return credits, orgs


def _flat(value: Any) -> list[Any]:
    """A JSON-LD value as a flat list: nested author lists (``[[{...}, {...}]]``) unrolled."""
    if not isinstance(value, list):
        return [value]
    return [item for part in value for item in _flat(part)]


def split_names(raw: str, *, declared: bool = False) -> list[str]:
    """A byline string as names: "By Jane Doe and John Roe, Staff Writer" -> two names.

    ``declared``: the string is a JSON-LD ``Person`` name, so a part with a role word
    ("Guardian staff reporter", "MM-Redaktion") is the credit the page chose, not a job
    title trailing a name."""
    text = clean_text(raw)
    if URL_RE.search(text):
        return []
    text = clean_text(EMAIL_RE.sub(" ", PARENTHESES_RE.sub(" ", text)))
    text = BY_PREFIX_RE.sub("", text)
    names = []
    for part in NAME_SEPARATOR_RE.split(text):
        core = part.strip(NAME_EDGES + ".")
        if NAME_FINAL_PERIOD_RE.search(core) and part.rstrip(NAME_EDGES).endswith(core + "."):
            core += "."
        part = BY_PREFIX_RE.sub("", core)
        part = CJK_ROLE_SUFFIX_RE.sub("", HANDLE_RE.sub("", part).strip())
        if len(part.rstrip(".")) < 2 or URL_RE.search(part) or part.casefold() in NOT_NAMES:
            continue  # one letter is no name ("V." of "e. V." read after the "e" of "and")
        if not declared and ROLE_RE.search(part):
            continue
        if DATE_LIKE_RE.search(part) or len(part.split()) > MAX_NAME_WORDS:
            continue
        names.append(part)
    if len(names) > 1:
        names = [n for n in names if not DOMAIN_RE.match(n)] or names
    return names


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        key = name.casefold().rstrip(".")
        if key not in seen:
            seen.add(key)
            result.append(name)
    return result


def _meta_names(page: PageMeta) -> list[str]:
    for key in AUTHOR_META_KEYS:
        names = [n for raw in page.all(key) for n in split_names(raw)]
        if names:
            return names
    return []


def _is_by_label(label: str) -> bool:
    """``label`` is all a byline's by-words ("Written by", "Verfasst von", "Autor:"): what
    ``BY_PREFIX_RE`` takes off before a name."""
    label = clean_text(label)
    found = BY_PREFIX_RE.match(f"{label} Name")
    return found is not None and found.end() > len(label)


def _written_by_names(page: PageMeta) -> list[str]:
    """The names of Yoast's Twitter card: ``twitter:dataN`` where ``twitter:labelN`` is a
    by-label ("Written by", translated by Yoast)."""
    for key, labels in page.meta.items():
        match = TWITTER_LABEL_RE.match(key)
        if match and any(_is_by_label(label) for label in labels):
            names = [n for raw in page.all(f"twitter:data{match.group(1)}")
                     for n in split_names(raw)]
            if names:
                return names
    return []


def _first_headline(page: PageMeta, tree: etree._Element) -> etree._Element | None:
    """The page's first ``<h1>`` (``read_page_meta`` met it)."""
    return page.first_h1(tree.getroottree().getroot())


def _following(element: etree._Element, reach: int) -> list[etree._Element]:
    """The first ``reach`` elements after ``element`` in document order, its own
    descendants not counted (XPath's ``following::*[position() <= reach]``, which collects
    the whole rest of the page before it counts)."""
    found: list[etree._Element] = []
    node: etree._Element | None = element
    while node is not None:
        for sibling in node.itersiblings():
            for follower in sibling.iter(etree.Element):
                found.append(follower)
                if len(found) == reach:
                    return found
        node = node.getparent()
    return found


def _short_text(element: etree._Element, limit: int) -> str | None:
    """``clean_text`` of the element's text pieces joined by spaces, or None when that is
    longer than ``limit``; stops reading a long element (a page-wide container) once more
    than ``limit`` characters other than whitespace are in: ``clean_text`` only collapses
    whitespace, unless it unescapes an entity (then every piece is read)."""
    pieces: list[str] = []
    visible = 0
    texts = element.itertext()
    for piece in texts:
        pieces.append(piece)
        if "&" in piece:
            pieces.extend(texts)
            break
        visible += sum(map(len, piece.split()))
        if visible > limit:
            return None
    text = clean_text(" ".join(pieces))
    return text if len(text) <= limit else None


class _BylineElements:
    """The candidate byline elements of the ``<article>`` that holds the headline, and of
    the whole page: each found once, on first use, and read by every markup pass. The
    whole page's (the costlier XPath) are looked for only when a pass gets past the
    article's."""

    def __init__(self, page: PageMeta, tree: etree._Element) -> None:
        self._meta = page
        self._tree = tree
        self._xpath: etree.XPath | None = None
        self._article: list[list[etree._Element]] | None = None
        self._page: list[etree._Element] | None = None

    def _find(self, scope: etree._Element) -> list[etree._Element]:
        if self._xpath is None:
            text = self._meta.class_names(self._tree).text
            named = "byline" in text or "author" in text
            self._xpath = BYLINE_XPATH if named else BYLINE_NO_CLASS_XPATH
        return self._xpath(scope)

    def scopes(self) -> Iterator[list[etree._Element]]:
        if self._article is None:
            headline = _first_headline(self._meta, self._tree)
            article = None if headline is None else next(headline.iterancestors("article"), None)
            self._article = [] if article is None else [self._find(article)]
        yield from self._article
        if self._page is None:
            self._page = self._find(self._tree)
        yield self._page


def _byline_block(element: etree._Element) -> etree._Element:
    """The block a byline element is part of: ``BYLINE_BLOCK_LEVELS`` block-level
    ancestors up (inline wrappers such as ``<span>`` and ``<a>`` not counted), never the
    whole ``<body>``: it holds the other names of a byline written a block each (a
    ``<li>`` or a ``<div>`` a name)."""
    block = element
    for _ in range(BYLINE_BLOCK_LEVELS):
        parent = block.getparent()
        while parent is not None and parent.tag in INLINE_TAGS:
            parent = parent.getparent()
        if parent is None or parent.tag in PAGE_TAGS:
            break
        block = parent
    return block


def _markup_names(
    elements: _BylineElements,
    is_byline: Callable[[etree._Element], bool] = _is_byline,
    *,
    roles: bool = False,
) -> list[str]:
    """Names in the byline of the ``<article>`` that holds the headline, else of the whole
    page; with ``roles``, a role credit ("Redaktion", "Staff Writer") too.

    The byline is one block: the byline elements inside the block of the first one that
    names someone (``_byline_block``); those further on are related-story cards, reader
    comments or an author box. A link to the author's page ("View all posts by …") is
    not a byline."""
    names: list[str] = []
    for scope in elements.scopes():
        block: etree._Element | None = None
        for element in scope:
            if not is_byline(element):
                continue
            if block is not None and not any(a is block for a in element.iterancestors()):
                continue
            text = _short_text(element, MAX_BYLINE_CHARS)
            if not text or AUTHOR_PAGE_LINK_RE.search(text):
                continue
            found = split_names(text, declared=roles)
            if found and block is None:
                block = _byline_block(element)
            names.extend(found)
        if names:
            break
    return names


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= MAX_UNMARKED_NAME_WORDS and all(w[:1].isupper() for w in words)


def _unmarked_byline(element: etree._Element) -> bool:
    # Most elements fail on their first word, which is their first text piece's when that
    # holds no entity: by-word and name both end at a space, so "<word> x" matches when
    # the whole text would.
    for piece in element.itertext():
        words = piece.split(None, 1)
        if words:
            if "&" not in piece and not UNMARKED_BY_RE.match(f"{words[0]} x"):
                return False
            break
    text = _short_text(element, UNMARKED_BYLINE_CHARS)
    return text is not None and bool(UNMARKED_BY_RE.match(text))


def _headline_byline(page: PageMeta, tree: etree._Element) -> list[str]:
    """The names of an unmarked byline: the innermost short element, among the
    ``HEADLINE_BYLINE_REACH`` after the first ``<h1>``, whose text is a by-word and a name
    ("By Jane Doe", "von Jane Doe"); its child elements' texts are the names when they
    look like names ("<span>By</span> <a>Jane Doe</a> <time>Thursday</time>")."""
    headline = _first_headline(page, tree)
    if headline is None:
        return []
    found: etree._Element | None = None
    for element in _following(headline, HEADLINE_BYLINE_REACH):
        inside = found is not None and any(a is found for a in element.iterancestors())
        if found is not None and not inside:
            break
        if _unmarked_byline(element):
            found = element
    if found is None:
        return []
    inner = [clean_text(" ".join(child.itertext())) for child in found
             if isinstance(child.tag, str)]
    names = [n for text in inner for n in split_names(text) if _looks_like_name(n)]
    if not names:
        whole = clean_text(" ".join(found.itertext()))
        names = [n for n in split_names(whole) if _looks_like_name(n)]
    return names


def find_authors(
    page: PageMeta, tree: etree._Element, outlet_name: str | None = None, source: str = "auto"
) -> list[str]:
    """The byline's people, in order; the outlet name only when it is the only byline.

    ``source`` (an outlet's ``parse.byline_source``: ``jsonld``, ``meta``, ``markup``)
    names the source that wins when it names anyone; ``auto`` (and a source that names
    no one on the page) is the generic order: JSON-LD, meta tags, byline markup."""
    credits, orgs = _names_from_ld(page.ld("author"), page)
    elements = _BylineElements(page, tree)
    chosen = {"jsonld": lambda: list(credits), "meta": lambda: _meta_names(page),
              "markup": lambda: _markup_names(elements)}.get(source)
    candidates = chosen() if chosen is not None else []
    if not candidates:
        candidates = list(credits) or _meta_names(page) or _markup_names(elements)
    if not candidates:
        candidates = [org for org in orgs if org]
    if not candidates:  # the author card of Yoast's Twitter meta
        candidates = _written_by_names(page)
    if not candidates:  # dashed author blocks: the last resort, they are looser markers
        candidates = _markup_names(elements, _is_author_block)
    if not candidates:  # no byline markup: "By Jane Doe" in an element after the headline
        candidates = _headline_byline(page, tree)
    if not candidates:  # a byline that credits only a role ("Von Redaktion") is the credit
        candidates = _markup_names(elements, roles=True)
    names = _dedupe(candidates)
    if len(names) > 1:  # the site credited beside a person ("한국일보" and "신현주 기자")
        own = _own_names(page, outlet_name)
        names = [n for n in names if n.casefold() not in own] or names
    return names
