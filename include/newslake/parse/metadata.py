"""What a page says about itself: ``<meta>`` tags, JSON-LD, ``<link rel=canonical>``.

``read_page_meta`` walks the ``<head>`` (and the JSON-LD scripts anywhere) once and
returns a ``PageMeta`` that every field extractor reads from; no extractor walks the
meta tags again.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

JsonObject = dict[str, Any]


# schema.org types whose object is the article itself (and not the page around it).
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "satiricalarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "techarticle",
        "report",
        "scholarlyarticle",
    }
)
# Types that say "this page lists things" (home, tag, author, search pages).
# (Not ``WebSite``: Yoast and others describe the site on every page, articles too.)
LISTING_TYPES = frozenset({"collectionpage", "profilepage", "searchresultspage"})
_JSON_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_SCRIPT_RE = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# Every class attribute's value (strings) and the elements marked data-paywall="true".
CLASS_NAMES_XPATH = etree.XPath(
    "/descendant::*/@class | /descendant::*/@data-paywall[. = 'true']/..", smart_strings=False
)


def clean_text(value: Any) -> str:
    """A display string: entities unescaped, whitespace runs collapsed, ends stripped.

    ``str.split`` and ``\\s`` in ``re`` take the same characters for whitespace
    (``str.isspace``); the split and join takes a fifth to a third of a substitution's time."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    if "&" in value:
        value = html.unescape(value)
    return " ".join(value.split())


def script_texts(page_text: str) -> Iterator[str]:
    """The contents of the page's ``<script>`` elements, from the page's source text (the
    data of client-rendered pages: ``parse.embedded``, ``parse.dates``)."""
    for match in _SCRIPT_RE.finditer(page_text):
        yield match.group(1)


def ld_types(obj: JsonObject) -> set[str]:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds if k}


@dataclass(frozen=True)
class ClassNames:
    """The class attributes of a page, read in one walk for every finder that looks for
    class names (authors, section, paywall) instead of a walk each."""

    values: list[str]
    # The values one to a line: one substring test tells whether any value holds a name.
    text: str
    # An element says data-paywall="true".
    data_paywall: bool


def read_class_names(tree: etree._Element) -> ClassNames:
    found = CLASS_NAMES_XPATH(tree)
    try:  # strings only, unless an element marked data-paywall="true" is among them
        return ClassNames(found, "\n".join(found), False)
    except TypeError:
        values = [value for value in found if isinstance(value, str)]
        return ClassNames(values, "\n".join(values), True)


@dataclass
class PageMeta:
    """Everything a page declares about itself, read once from the tree."""

    meta: dict[str, list[str]] = field(default_factory=dict)
    jsonld: list[JsonObject] = field(default_factory=list)
    ld_by_id: dict[str, JsonObject] = field(default_factory=dict)
    article_ld: JsonObject | None = None
    canonical: str | None = None
    html_lang: str | None = None
    title_tag: str = ""
    h1: str = ""
    # The tree this was read from, its first <h1> element, and its class names once asked
    # for (``first_h1``, ``class_names``).
    _tree: etree._Element | None = field(default=None, repr=False, compare=False)
    _h1_element: etree._Element | None = field(default=None, repr=False, compare=False)
    _class_names: ClassNames | None = field(default=None, repr=False, compare=False)

    def first(self, *keys: str) -> str | None:
        """The first non-empty value among the meta ``keys`` (lower-case names)."""
        for key in keys:
            for value in self.meta.get(key, ()):
                text = clean_text(value)
                if text:
                    return text
        return None

    def all(self, key: str) -> list[str]:
        return [text for value in self.meta.get(key, ()) if (text := clean_text(value))]

    def ld(self, key: str) -> Any:
        """A property of the article's JSON-LD object, ``@id`` references resolved."""
        if self.article_ld is None:
            return None
        return self.resolve(self.article_ld.get(key))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and "@id" in value:
            return self.ld_by_id.get(str(value["@id"]), value)
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def first_h1(self, tree: etree._Element) -> etree._Element | None:
        """The first ``<h1>`` of ``tree``: the one ``read_page_meta`` met when ``tree`` is the
        tree it read (the finders ask before the body extractor changes the tree)."""
        if tree is self._tree:
            return self._h1_element
        return next(tree.iter("h1"), None)

    def class_names(self, tree: etree._Element) -> ClassNames:
        """The class names of ``tree``, read once when ``tree`` is the tree this was read
        from (the finders ask before the body extractor changes the tree)."""
        if tree is not self._tree:
            return read_class_names(tree)
        if self._class_names is None:
            self._class_names = read_class_names(tree)
        return self._class_names

    @property
    def is_listing(self) -> bool:
        """JSON-LD says the page is a listing (and says nothing of an article)."""
        if self.article_ld is not None:
            return False
        return any(ld_types(obj) & LISTING_TYPES for obj in self.jsonld)


def _load_json(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text.removeprefix("<!--").removesuffix("-->")
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    try:
        return json.loads(_JSON_TRAILING_COMMA_RE.sub(r"\1", text), strict=False)
    except ValueError:
        return None


def _flatten(value: Any) -> Iterator[JsonObject]:
    """Every object of a JSON-LD document: lists, ``@graph`` and ``mainEntity`` unrolled."""
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        graph = value.get("@graph")
        if value.get("@type") or not graph:
            yield value
        if graph is not None:
            yield from _flatten(graph)
        main = value.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _flatten(main)


def _pick_article(objects: Iterable[JsonObject]) -> JsonObject | None:
    """The article object: the first of an article type, the one with a body preferred."""
    candidates = [obj for obj in objects if ld_types(obj) & ARTICLE_TYPES]
    if not candidates:
        return None
    for obj in candidates:
        if obj.get("headline") and (obj.get("articleBody") or obj.get("datePublished")):
            return obj
    return candidates[0]


def _is_canonical_link(element: etree._Element) -> bool:
    return "canonical" in (element.get("rel") or "").lower().split()


def read_page_meta(tree: etree._Element) -> PageMeta:
    """Read the meta tags, JSON-LD, canonical link, language, ``<title>`` and first ``<h1>``,
    in one walk over the tree (five XPath passes over every element cost 3% of parse time)."""
    page = PageMeta(_tree=tree)
    canonical: str | None = None
    title: etree._Element | None = None
    for element in tree.iter("meta", "script", "link", "title", "h1"):
        tag = element.tag
        if tag == "meta":
            content = element.get("content")
            if content is None:
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = element.get(attr)
                if key:
                    page.meta.setdefault(key.strip().lower(), []).append(content)
        elif tag == "script":
            if (element.get("type") or "").lower() != "application/ld+json":
                continue
            for obj in _flatten(_load_json(element.text or "")):
                page.jsonld.append(obj)
                if isinstance(obj.get("@id"), str):
                    page.ld_by_id.setdefault(obj["@id"], obj)
        elif tag == "link":
            if canonical is None and element.get("href") is not None and _is_canonical_link(
                element
            ):
                canonical = element.get("href")
        elif tag == "title":
            title = element if title is None else title
        else:
            if page._h1_element is None:
                page._h1_element = element
            if not page.h1:
                page.h1 = clean_text(element.text_content())
    page.article_ld = _pick_article(page.jsonld)
    page.canonical = clean_text(canonical) if canonical is not None else None
    page.html_lang = clean_text(tree.get("lang") or tree.get("xml:lang")) or None
    page.title_tag = clean_text(title.text_content()) if title is not None else ""
    return page
