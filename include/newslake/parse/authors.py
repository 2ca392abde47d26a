"""Authors: the people in the byline, in order, without "By", roles or e-mail addresses.

The first source that names anyone wins: JSON-LD ``author``, then author meta tags, then a
byline element. Organisations count only when no person is named (an agency story).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

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
BYLINE_XPATH = etree.XPath(
    "(//*[@rel='author' or @itemprop='author']"
    " | //*[contains(concat(' ', normalize-space(@class), ' '), ' byline ')"
    " or contains(concat(' ', normalize-space(@class), ' '), ' author ')"
    " or contains(@class, 'author-name') or contains(@class, 'td-post-author-name')"
    " or contains(@class, 'article-author') or contains(@class, 'byline__name')])"
)
BY_PREFIX_RE = re.compile(
    r"^(?:(?:written|posted|reported|story|text|words)\s+)?"
    r"(?:by|von|par|por|di|door|av|af|przez|от|автор|авторы|著者)\s*[:\-]?\s+",
    re.IGNORECASE,
)
NAME_SEPARATOR_RE = re.compile(r"\s*(?:,|;|/|\||&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bи\b)\s*")
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
MAX_NAME_WORDS = 6
DATE_LIKE_RE = re.compile(r"\d")
PARENTHESES_RE = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")


def _names_from_ld(value: Any, page: PageMeta) -> tuple[list[str], list[str]]:
    """(people, organisations) named by a JSON-LD ``author`` value."""
    people: list[str] = []
    orgs: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = page.resolve(item)
        if isinstance(item, str):
            people.append(item)
        elif isinstance(item, dict):
            name = item.get("name")
            names = name if isinstance(name, list) else [name]
            target = orgs if ld_types(item) & {"organization", "newsmediaorganization"} else people
            target.extend(str(n) for n in names if n)
    return people, orgs


def split_names(raw: str) -> list[str]:
    """A byline string as names: "By Jane Doe and John Roe, Staff Writer" -> two names."""
    text = clean_text(raw)
    if URL_RE.search(text):
        return []
    text = clean_text(EMAIL_RE.sub(" ", PARENTHESES_RE.sub(" ", text)))
    text = BY_PREFIX_RE.sub("", text)
    names = []
    for part in NAME_SEPARATOR_RE.split(text):
        part = BY_PREFIX_RE.sub("", part.strip(" -–—:·.\u00a0"))
        part = HANDLE_RE.sub("", part).strip()
        if not part or URL_RE.search(part) or ROLE_RE.search(part):
            continue
        if DATE_LIKE_RE.search(part) or len(part.split()) > MAX_NAME_WORDS:
            continue
        names.append(part)
    return names


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            result.append(name)
    return result


def find_authors(page: PageMeta, tree: etree._Element, outlet_name: str | None = None) -> list[str]:
    """The byline's people, in order; the outlet name only when it is the only byline."""
    people, orgs = _names_from_ld(page.ld("author"), page)
    candidates = [n for raw in people for n in split_names(raw)]
    if not candidates:
        for key in AUTHOR_META_KEYS:
            candidates = [n for raw in page.all(key) for n in split_names(raw)]
            if candidates:
                break
    if not candidates:
        for element in BYLINE_XPATH(tree):
            text = clean_text(element.text_content())
            if text and len(text) < 200:
                candidates.extend(split_names(text))
    if not candidates:
        candidates = [n for raw in orgs for n in split_names(raw)]
    names = _dedupe(candidates)
    if outlet_name and len(names) > 1:
        names = [n for n in names if n.casefold() != outlet_name.casefold()] or names
    return names
