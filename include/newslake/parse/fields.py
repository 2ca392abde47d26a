"""The small fields: title, description, section, tags, lead image, paywall, canonical URL.

Each reads the ``PageMeta`` (JSON-LD first, then Open Graph/meta, then the page).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newslake.parse.metadata import ClassNames, PageMeta, clean_text, ld_types
from newslake.urls import canonicalize_url, registered_domain, same_site

# "ㅣ" (Hangul vowel i) stands in for a pipe in Korean titles ("제목-정치ㅣ한국일보").
TITLE_SEPARATORS = r"(?:\s+[-|–—·•»«:/~]{1,2}\s+|\s*[|｜ㅣ]\s*)"
TITLE_SPLIT_RE = re.compile(TITLE_SEPARATORS)
# Joins that only count before a *known* name, never to split a headline on a guess: a
# fullwidth colon before the site ("見出し：朝日新聞デジタル"), and an unspaced dash before the
# section that preceded a site name ("제목-정치ㅣ한국일보"; not before the site: "Ex-Spiegel").
SITE_TAIL_SEPARATOR_RE = re.compile(rf"(?:{TITLE_SEPARATORS}|\s*：\s*)$")
SECTION_TAIL_SEPARATOR_RE = re.compile(rf"(?:{TITLE_SEPARATORS}|\s*：\s*|[-–—])$")
# Quote marks whose presence is the only difference between two renderings of a headline.
HEADLINE_QUOTES = frozenset('"“”„«»「」『』')
WORD_RE = re.compile(r"\w+")
KICKER_SEPARATOR = ": "
MIN_TAIL_WORDS = 3
# meta names of the page's section ("Title - Section | Site" in <title> and og:title).
SECTION_NAME_KEYS = ("content_category", "article:section", "og:section", "section", "category")
# An unknown "<title>" tail this short is a site name, not part of the headline.
MAX_SITE_SUFFIX_WORDS = 4
# Numeric entities WordPress writes for the straight quotes an author typed.
TEXTURIZED_QUOTES = (("&#8216;", "'"), ("&#8217;", "'"), ("&#8220;", '"'), ("&#8221;", '"'))
ELLIPSIS_RE = re.compile(r"(?:…|\.\.\.)\s*$")
SECTION_META_KEYS = ("article:section", "section", "parsely-section", "category", "og:section")
TAG_META_KEYS = ("article:tag", "news_keywords", "parsely-tags", "keywords")
DESCRIPTION_META_KEYS = ("description", "og:description", "twitter:description")
IMAGE_META_KEYS = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
# Links whose ``rel`` has the token "tag" and not "category". (The ``rel`` attributes, up
# to their links: cheaper than a predicate on every link; ``contains(., 'tag')`` first
# spares most of them the token test.)
REL_TAG_XPATH = etree.XPath(
    "/descendant::a/@rel[contains(., 'tag')]"
    "[contains(concat(' ', normalize-space(.), ' '), ' tag ') and not(contains(., 'category'))]/.."
)
# The last link of a breadcrumb trail ("Home » Economy") is the section: the trail is the
# element of the page's first class attribute with "crumb" and "breadcrumb" or "crumbs" in
# it, or that is "path" (found in the page's class names, then this XPath takes the
# attribute by its place among them).
BREADCRUMB_LINKS_XPATH = etree.XPath("(/descendant::*/@class)[$n]/../descendant::a")
TAG_SPLIT_RE = re.compile(r"\s*[,;]\s*")
# class names that mark locked text: the token "paywall", or these anywhere in the class.
PAYWALL_CLASS_PARTS = ("paywalled", "subscriber-only", "article-locked", "premium-content")
# Every class name above contains one of these: a substring test on all of a page's class
# names before any is split. A marker counts only when the page's source holds one of
# them too (the source was tested first when the classes took a walk of their own).
PAYWALL_HINTS = ("paywall", "subscriber-only", "article-locked", "premium-content")
LOCKED_CONTENT_TIERS = frozenset({"locked", "premium", "subscriber"})


def site_names(page: PageMeta, url: str, outlet_name: str | None = None) -> list[str]:
    """Names the site goes by, for stripping " - Site" from titles."""
    names = [outlet_name, page.first("og:site_name", "application-name", "twitter:site")]
    publisher = page.ld("publisher")
    if isinstance(publisher, dict):
        names.append(clean_text(publisher.get("name")))
    for obj in page.jsonld:
        if "website" in ld_types(obj):
            names.append(clean_text(obj.get("name")))
    domain = registered_domain(url)
    if domain:
        names.extend([domain, domain.split(".")[0]])
    host = (urlsplit(url).hostname or "").lower()
    if host:
        names.append(host)
    return [n.lstrip("@") for n in names if n]


def section_names(page: PageMeta) -> list[str]:
    """Names of the page's section, for stripping "Title - Section | Site" down to the title."""
    names = [page.first(key) or "" for key in SECTION_NAME_KEYS]
    section = page.ld("articleSection")
    for value in section if isinstance(section, list) else [section]:
        if isinstance(value, str):
            names.append(clean_text(value))
    return [n for n in names if n]


def _strip_known_tail(title: str, keys: set[str], separator: re.Pattern[str]) -> str | None:
    """``title`` without a trailing known name and the ``separator`` before it, else None."""
    folded = title.casefold()
    for key in sorted(keys, key=lambda k: (-len(k), k)):  # longest first: deterministic
        if key and len(key) < len(folded) and folded.endswith(key):
            head = title[: len(title) - len(key)]
            if separator.search(head):
                rest = separator.sub("", head).strip()
                if rest:
                    return rest
    return None


def strip_site_suffix(
    title: str, names: list[str], *, guess: bool = False, sections: list[str] | None = None
) -> str:
    """``title`` without a leading or trailing site name; with ``guess``, also without an
    unknown short last segment (for ``<title>``). After a trailing site name, a section
    name among ``sections`` just before it goes too ("Title - Politics | Site")."""
    keys = {n.casefold() for n in names}
    stripped = _strip_known_tail(title, keys, SITE_TAIL_SEPARATOR_RE)
    if stripped is not None:
        section_keys = {n.casefold() for n in sections or ()} - keys
        title = _strip_known_tail(stripped, section_keys, SECTION_TAIL_SEPARATOR_RE) or stripped
    parts = TITLE_SPLIT_RE.split(title)
    if len(parts) < 2:
        return title
    separators = TITLE_SPLIT_RE.findall(title)
    while len(parts) > 1 and parts[-1].strip().casefold() in keys:
        parts, separators = parts[:-1], separators[:-1]
    while len(parts) > 1 and parts[0].strip().casefold() in keys:
        parts, separators = parts[1:], separators[1:]
    if guess and len(parts) > 1:
        tail, head = parts[-1], parts[:-1]
        if len(tail.split()) <= MAX_SITE_SUFFIX_WORDS and len(" ".join(head)) > len(tail):
            parts, separators = head, separators[:-1]
    rebuilt = parts[0]
    for separator, part in zip(separators, parts[1:], strict=False):
        rebuilt += separator + part
    return rebuilt.strip()


def undo_texturize(value: str) -> str:
    """Straight quotes back where a CMS (WordPress's ``wptexturize``) encoded curly ones as
    numeric entities: the author typed ``'``; literal curly quotes are kept as typed."""
    for entity, plain in TEXTURIZED_QUOTES:
        value = value.replace(entity, plain)
    return value


def _without_last_part(title: str) -> str | None:
    separators = TITLE_SPLIT_RE.findall(title)
    if not separators:
        return None
    cut = title.rfind(separators[-1])
    return title[:cut].strip() or None


def _extends(longer: str, shorter: str) -> bool:
    """``longer`` is ``shorter`` with a kicker before it ("Topic: Title") or a tail after it
    ("Title, and more"), cut at a word boundary."""
    if len(shorter) >= len(longer) or not shorter:
        return False
    if longer.endswith(shorter):
        return not longer[-len(shorter) - 1].isalnum()
    if longer.startswith(shorter):
        return not longer[len(shorter)].isalnum()
    return False


def _shared_tail(a: str, b: str) -> str | None:
    """The headline two sources share after different kickers ("Topic: Headline" and
    "Other topic: Headline"), else None."""
    a_kicker, a_sep, a_tail = a.partition(KICKER_SEPARATOR)
    b_kicker, b_sep, b_tail = b.partition(KICKER_SEPARATOR)
    if a_sep and b_sep and a_tail == b_tail and a_kicker != b_kicker:
        return a_tail if len(a_tail.split()) >= MIN_TAIL_WORDS else None
    return None


def _quote_count(title: str) -> int:
    return sum(char in HEADLINE_QUOTES for char in title)


def _settle_variants(title: str, others: list[str], h1: str, title_tag: str) -> str:
    """The headline among variants of ``title`` (the first source) in the other metadata
    sources ``others`` (og:title, twitter:title).

    - A source gives ``title`` without its tail ("Title" vs "Title in battling win over
      Tottenham"): the shorter one; a tail is a subline, section or site name more often
      than part of the headline (cut headlines end in "…" and are handled before this).
    - One is the other with a kicker before it (JSON-LD "Topic: Title" vs og:title
      "Title"): the page shows one of them in its ``<h1>``; take that one. (The ``<h1>``
      alone does not overrule metadata that agrees: it often leaves out the kicker the
      page prints above it.)
    - The same words with other punctuation ("A - B" vs "A: B", with or without quotes
      around a quoted phrase): the one with fewer quote marks, then the one ``<title>``
      agrees with.
    Otherwise ``title`` stands: sources that say different things are not outvoted, since
    which one a publisher means as the headline varies by publisher.
    """
    for other in others:
        if title.startswith(other) and _extends(title, other):
            return other
        tail = _shared_tail(title, other)
        if tail:
            return tail
        if other != title and other == h1 and (_extends(title, other) or _extends(other, title)):
            return other
    words = WORD_RE.findall(title.casefold())
    variants = [title]
    variants += [o for o in others if o != title and WORD_RE.findall(o.casefold()) == words]
    if len(variants) == 1:
        return title
    return min(variants, key=lambda v: (_quote_count(v), v != title_tag))


# ``parse.title_source`` names -> their place in ``find_title``'s candidates.
TITLE_SOURCE_INDEX = {"jsonld": 0, "og": 1, "twitter": 2, "h1": 3}


def find_title(
    page: PageMeta, url: str, outlet_name: str | None = None, source: str = "auto"
) -> str:
    """The headline. ``source`` (an outlet's ``parse.title_source``) names the source that
    wins when it gives one; ``auto`` (and a source the page lacks) is the generic order:
    JSON-LD ``headline``, reconciled with og:title, twitter:title, ``<h1>`` and ``<title>``."""
    names = site_names(page, url, outlet_name)
    sections = section_names(page)
    headline = page.ld("headline") or page.ld("name")
    candidates = [
        clean_text(undo_texturize(headline)) if isinstance(headline, str) else "",
        page.first("og:title") or "",
        page.first("twitter:title") or "",
        page.h1,
    ]
    stripped = [strip_site_suffix(c, names, sections=sections) if c else "" for c in candidates]
    cleaned = [c for c in stripped if c]
    title_tag = (
        strip_site_suffix(page.title_tag, names, guess=True, sections=sections)
        if page.title_tag
        else ""
    )
    chosen = title_tag if source == "title" else (
        stripped[TITLE_SOURCE_INDEX[source]] if source in TITLE_SOURCE_INDEX else "")
    if chosen:
        return chosen
    if not cleaned:
        return title_tag
    # Other sources vote on a trailing " | Section" or " - Site" the first one kept.
    votes = [*cleaned, title_tag] if title_tag else cleaned
    title, others = cleaned[0], cleaned[1:]
    if ELLIPSIS_RE.search(title):  # JSON-LD headlines are often cut at 110 characters
        stem = ELLIPSIS_RE.sub("", title)
        fuller = [c for c in others if c.startswith(stem) and len(c) > len(stem)]
        if fuller:
            return fuller[0]
    shorter = _without_last_part(title)
    if shorter and votes.count(shorter) > votes.count(title) - 1:
        return shorter
    social = [c for c in stripped[1:3] if c]  # og:title, twitter:title
    return _settle_variants(title, social, stripped[3], title_tag)


def find_description(page: PageMeta) -> str | None:
    found = page.first(*DESCRIPTION_META_KEYS)
    if not found:
        value = page.ld("description")
        found = clean_text(value) if isinstance(value, str) else None
    return found or None


def _first_string(value: Any) -> str | None:
    if isinstance(value, list):
        for item in value:
            found = _first_string(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return _first_string(value.get("name") or value.get("url"))
    text = clean_text(value) if value is not None else ""
    return text or None


def find_section(page: PageMeta, tree: etree._Element | None = None) -> str | None:
    found = _first_string(page.ld("articleSection")) or page.first(*SECTION_META_KEYS)
    if found or tree is None:
        return found
    classes = page.class_names(tree)
    if "crumb" not in classes.text and "path" not in classes.values:
        return None
    place = next((n for n, value in enumerate(classes.values, 1) if _is_breadcrumb(value)), 0)
    if not place:
        return None
    links = [clean_text(a.text_content()) for a in BREADCRUMB_LINKS_XPATH(tree, n=place)]
    links = [text for text in links[1:] if text]  # the first crumb is the home page
    return links[-1] if links else None


def _is_breadcrumb(class_value: str) -> bool:
    return ("crumb" in class_value and (
        "breadcrumb" in class_value or "crumbs" in class_value)) or class_value == "path"


def _dedupe(values: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            result.append(value)
    return result


def find_tags(page: PageMeta, tree: etree._Element) -> list[str]:
    keywords = page.ld("keywords")
    if isinstance(keywords, str):
        tags = [clean_text(t) for t in TAG_SPLIT_RE.split(keywords)]
    elif isinstance(keywords, list):
        tags = [clean_text(t) for t in keywords if isinstance(t, str)]
    else:
        tags = []
    if not tags:
        tags = page.all("article:tag")
    if not tags:
        tags = [clean_text(a.text_content()) for a in REL_TAG_XPATH(tree)]
    if not tags:
        for key in TAG_META_KEYS[1:]:
            tags = [clean_text(t) for raw in page.all(key) for t in TAG_SPLIT_RE.split(raw)]
            if tags:
                break
    return _dedupe([t for t in tags if t])


def find_image_url(page: PageMeta, url: str) -> str | None:
    found = page.first(*IMAGE_META_KEYS)
    if not found:
        found = _first_string(page.ld("image")) or _first_string(page.ld("thumbnailUrl"))
    if not found:
        return None
    try:
        return urljoin(url, found)
    except ValueError:  # a malformed image URL is no image, not a failed page
        return None


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def find_is_paywalled(page: PageMeta, tree: etree._Element, source: str = "") -> bool:
    if _is_false(page.ld("isAccessibleForFree")):
        return True
    parts = page.ld("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict) and _is_false(part.get("isAccessibleForFree")):
            return True
    tier = (page.first("article:content_tier") or "").lower()
    if tier in LOCKED_CONTENT_TIERS:
        return True
    classes = page.class_names(tree)
    locked = classes.data_paywall or _has_paywall_class(classes)
    # A marker that is in the tree but not in the source (an entity in the class) does not count.
    return locked and (not source or any(hint in source for hint in PAYWALL_HINTS))


def _has_paywall_class(classes: ClassNames) -> bool:
    """A class value marks locked text; only the values with a hint are split and searched."""
    for hint in PAYWALL_HINTS:
        if hint in classes.text:
            for value in classes.values:
                if hint in value and (
                    "paywall" in value.split() or any(p in value for p in PAYWALL_CLASS_PARTS)
                ):
                    return True
    return False


def find_canonical_url(page: PageMeta, url: str) -> str:
    """``rel=canonical`` (else ``og:url``) when on the fetched URL's site, canonicalised."""
    for candidate in (page.canonical, page.first("og:url")):
        if not candidate:
            continue
        try:  # a malformed link (bad port, broken IPv6) is no canonical, not a crash
            absolute = urljoin(url, candidate)
            if absolute.startswith(("http://", "https://")) and same_site(absolute, url):
                return canonicalize_url(absolute)
        except ValueError:
            continue
    return canonicalize_url(url)
