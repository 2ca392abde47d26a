"""A small CSS selector to XPath translator for outlet rules (lxml has no CSS without
``cssselect``, which newslake does not depend on).

Supported: type and universal selectors, ``.class``, ``#id``, ``[attr]``,
``[attr=v]``, ``[attr~=v]``, ``[attr^=v]``, ``[attr$=v]``, ``[attr*=v]``, ``[attr|=v]``,
the descendant and child (``>``) combinators, and comma-separated groups. That covers
what outlet YAMLs use (``div.td-post-content``, ``.donate-box``, ``h3.entry-title a``);
anything else raises ``ValueError`` naming the selector.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml import etree

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s*>\s*|\s+)                                   # combinator
  | (?P<type>\*|[A-Za-z][\w-]*)                           # element
  | \.(?P<cls>-?[A-Za-z_][\w-]*)                          # .class
  | \#(?P<id>[\w-]+)                                      # #id
  | \[\s*(?P<attr>[\w:-]+)\s*
      (?:(?P<op>[~^$*|]?=)\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\]\s]+))\s*)?\]
    """,
    re.VERBOSE,
)


def _literal(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    parts = value.split("'")
    return "concat(" + ', "\'", '.join(f"'{p}'" for p in parts) + ")"


def _attr_test(name: str, op: str | None, value: str) -> str:
    attr = f"@{name}"
    lit = _literal(value)
    if op is None:
        return attr
    if op == "=":
        return f"{attr}={lit}"
    if op == "~=":
        return f"contains(concat(' ', normalize-space({attr}), ' '), {_literal(f' {value} ')})"
    if op == "^=":
        return f"starts-with({attr}, {lit})"
    if op == "$=":
        return f"substring({attr}, string-length({attr}) - {len(value) - 1})={lit}"
    if op == "*=":
        return f"contains({attr}, {lit})"
    # |= : exactly value, or value followed by a hyphen
    return f"({attr}={lit} or starts-with({attr}, {_literal(value + '-')}))"


def _compound_to_xpath(selector: str) -> str:
    """One selector (no commas) as a relative XPath from the context node."""
    steps: list[str] = []
    axis = "descendant-or-self::"
    element = "*"
    tests: list[str] = []
    pos = 0
    pending = False

    def flush() -> None:
        nonlocal element, tests, pending
        predicate = "".join(f"[{t}]" for t in tests)
        steps.append(f"{axis}{element}{predicate}")
        element, tests, pending = "*", [], False

    text = selector.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"unsupported CSS selector {selector!r} at {text[pos:]!r}")
        pos = match.end()
        if match.group("ws") is not None:
            if not pending:
                raise ValueError(f"unsupported CSS selector {selector!r}")
            flush()
            axis = "/" if ">" in match.group("ws") else "//"
            continue
        pending = True
        if match.group("type"):
            element = match.group("type").lower()
        elif match.group("cls"):
            tests.append(_attr_test("class", "~=", match.group("cls")))
        elif match.group("id"):
            tests.append(_attr_test("id", "=", match.group("id")))
        else:
            value = match.group("dq") or match.group("sq") or match.group("bare") or ""
            tests.append(_attr_test(match.group("attr"), match.group("op"), value))
    if not pending:
        raise ValueError(f"empty CSS selector {selector!r}")
    flush()
    first, rest = steps[0], steps[1:]
    return first + "".join(rest)


@lru_cache(maxsize=256)
def css_to_xpath(selector: str) -> etree.XPath:
    """A compiled XPath matching what the CSS ``selector`` matches, in document order."""
    groups = [part for part in selector.split(",") if part.strip()]
    if not groups:
        raise ValueError(f"empty CSS selector {selector!r}")
    return etree.XPath(" | ".join(_compound_to_xpath(g) for g in groups))
