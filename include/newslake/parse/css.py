"""Outlet CSS selectors: one engine, cssselect, for every selector key of an outlet config.

``discovery[].link_selector``, ``parse.body_selector`` and ``parse.drop_selectors`` are all
translated by cssselect (lxml's own CSS engine, the one parsel and Scrapy use) into XPath
and run on the lxml trees newslake builds anyway; ``newslake.config`` checks them with
the same translator when a config loads. The dialect is cssselect's HTML one: CSS 3
selectors (type, ``.class``, ``#id``, attribute operators, all four combinators,
``:not()``, ``:nth-*()``, ``:first-child``...) plus ``:has()``, ``:is()``, ``:where()``
and ``:contains("text")``; see docs/outlets.md for what it refuses.

Like any CSS engine's ``select``, a selector also matches the element it is run on
(``descendant-or-self``), which rules code relies on.
"""

from __future__ import annotations

from functools import lru_cache

from cssselect import ExpressionError, HTMLTranslator, SelectorSyntaxError
from lxml import etree

# cssselect's own HTML translator, not lxml.cssselect's: lxml's adds a case-insensitive
# ``:contains()`` through an XPath extension function in a global namespace, whose
# prefix lookup failed at random under the test suite (lxml 6.1.3: "XPath function
# '{<garbage>}lower-case' not found"). This one's XPath is plain XPath 1.0.
TRANSLATOR = HTMLTranslator()


@lru_cache(maxsize=256)
def css_to_xpath(selector: str) -> etree.XPath:
    """A compiled XPath matching what the CSS ``selector`` matches, in document order.

    ``ValueError`` naming the selector when it is not CSS ("invalid") or uses what
    cssselect does not implement ("unsupported": pseudo-elements, ``*:first-of-type``,
    ``:nth-child(n of S)``, unknown pseudo-classes)."""
    try:
        return etree.XPath(TRANSLATOR.css_to_xpath(selector), regexp=False)
    except SelectorSyntaxError as exc:
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc
    except (ExpressionError, etree.XPathSyntaxError) as exc:
        raise ValueError(f"unsupported CSS selector {selector!r}: {exc}") from exc


def check_selector(selector: str) -> None:
    """Raise ``ValueError`` (see ``css_to_xpath``) unless ``selector`` runs here."""
    css_to_xpath(selector)


def select(selector: str, element: etree._Element) -> list[etree._Element]:
    """The elements under ``element`` (itself included) that ``selector`` matches."""
    found = css_to_xpath(selector)(element)
    assert isinstance(found, list)
    return [e for e in found if isinstance(e, etree._Element)]
