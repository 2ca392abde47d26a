"""The body of a client-rendered page: its text kept as JSON in one of the page's scripts.

Sites built on Next.js, Nuxt or a dehydrated React Query cache often serve an HTML shell
with no article text in it; the text arrives as a JSON string (``"contentHtml": "<p>…"``,
``"articleBody": "…"``) that the browser renders, and so may the publication time
(``"deployDt": "2026.01.29 18:40"``, read by ``dates``). Only a page whose markup gave no
body is searched for one, so this never changes what the other extractors found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from lxml import etree, html

from newslake.parse.body import (
    Body,
    collect_blocks,
    filter_lines,
    strip_boilerplate,
    text_lines,
    xml_text,
)
from newslake.parse.metadata import script_texts
from newslake.parse.version import EMBEDDED_PARSER

# A JSON member whose name says it holds an article's text, and a long string value.
# The two branches of the string pattern never match the same character: linear time.
CONTENT_MEMBER_RE = re.compile(
    r'"(?:[A-Za-z_]*(?:content|body|text)(?:_?html)?|html)"\s*:\s*("(?:[^"\\]|\\.){200,}")',
    re.IGNORECASE,
)
HTML_BLOCK_RE = re.compile(r"<(?:p|br|h[1-6]|li|blockquote)\b", re.IGNORECASE)
# Ad and widget placeholders some CMSes leave in the stored HTML ("$$ARTICLEAD$$").
PLACEHOLDER_RE = re.compile(r"\$\$[A-Z_]+\$\$|\{\{[^{}]{1,60}\}\}")


def _paragraphs(value: str) -> list[str]:
    """The text blocks of one stored value: HTML by its block elements, else its lines."""
    value = PLACEHOLDER_RE.sub("", value)
    if not HTML_BLOCK_RE.search(value):
        return text_lines(value)
    try:
        container = html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    strip_boilerplate(container)
    for br in container.iter("br"):
        br.tail = xml_text("\n\n" + (br.tail or ""))
    return collect_blocks(container)


def embedded_body(
    page_text: str, drop_patterns: Sequence[re.Pattern[str]] = (), title: str = ""
) -> Body | None:
    """The fullest article text found in the page's scripts' JSON strings, or None."""
    best: list[str] = []
    for script in script_texts(page_text):
        for match in CONTENT_MEMBER_RE.finditer(script):
            try:
                value = json.loads(match.group(1))
            except ValueError:
                continue
            paragraphs = filter_lines(_paragraphs(value), drop_patterns, title)
            if sum(map(len, paragraphs)) > sum(map(len, best)):
                best = paragraphs
    return Body(best, EMBEDDED_PARSER) if best else None
