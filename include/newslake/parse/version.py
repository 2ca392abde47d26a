"""Which code parsed a row: the labels of the ``parser`` column, and how they compare.

``PARSER_VERSION`` is the version of the parsing code (everything under ``newslake.parse``:
the date chain, titles, bylines, the generic, structured and embedded body paths, and the
line filters the rules path shares). Bump it in the same commit as any change that changes
what ``parse_article`` gives for a page: ``tests/test_parser_version.py`` fails when the
dev-set outputs differ from ``tests/fixtures/parser_fingerprint.json`` and the version did
not change, and ``make parser-fingerprint`` then records the new outputs with the new
version.

Labels (``parser`` column, checked by the GX suite's ``parser_format``):

- ``generic@N``, ``structured@N``, ``embedded@N``: the body path that gave the text, made
  by parsing code ``N``;
- ``rules:<outlet>@R.N``: the outlet's CSS rules, version ``R`` (``parse.version`` in its
  YAML: bump it when the rules change), with parsing code ``N``.

Rows written before these numbers meant anything (up to 2026-11-30) carry ``…@1`` and
``rules:<outlet>@R``: both read as code version 1. Versions:

1. everything until 2026-11-30, whatever code made it.
2. the dated fallback chain (``published_at_source``: structured data, markup, visible
   text in many languages, URL, htmldate) and a page without a date kept for validation.
3. structured dates that disagree on the day settled by the day the page shows; a
   dateline class repeated with several days read as a list; a refused page's date
   kept (``ParseError.published_at``); in the generic body, the standfirst that shows
   the page's description, data tables row by row, control characters removed before
   parsing, markup after ``</html>`` read.
4. bylines: a dashed author block (``post-author``) as the last resort, a role-only
   byline kept, a publishing verb before the by-word read as a label, byline text read
   with a space between elements; dates: Arabic month names read, htmldate's last step
   without dateparser.
5. bylines: one block (the byline elements near the first one that names someone, not
   the related-story cards, comments or author box further on); a link to the author's
   page ("View all posts by …") is not a name; with no byline markup, "By Jane Doe"
   alone in an element just after the headline.
6. bylines: a name keeps its final period after an initial or "Jr."/"Sr." ("Joe S."); a
   one-letter part is no name (the "V." of "e. V."); Yoast's Twitter card label "Written
   by" (any label of the byline's by-words) names the author when the page's JSON-LD,
   meta tags and byline markup name no one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newslake.config import Outlet

PARSER_VERSION = 6

GENERIC = "generic"
STRUCTURED = "structured"
EMBEDDED = "embedded"
PATHS = (GENERIC, STRUCTURED, EMBEDDED)

_LABEL_RE = re.compile(
    r"^(?P<path>rules:[a-z0-9_]+|[a-z]+)@(?P<first>[0-9]+)(?:\.(?P<second>[0-9]+))?$")


def label(path: str) -> str:
    """The label of a generic, structured or embedded body: ``generic@2``."""
    return f"{path}@{PARSER_VERSION}"


def rules_label(outlet_id: str, rules_version: int) -> str:
    """The label of a body the outlet's rules gave: ``rules:tampafp@3.2``."""
    return f"rules:{outlet_id}@{rules_version}.{PARSER_VERSION}"


@dataclass(frozen=True, order=True)
class ParserLabel:
    """A ``parser`` value read back: its body path, code version and (rules path) the
    outlet's rules version."""

    path: str
    code: int
    rules: int | None = None

    def __str__(self) -> str:
        if self.rules is None:
            return f"{self.path}@{self.code}"
        return f"{self.path}@{self.rules}.{self.code}"

    def is_older_than(self, threshold: ParserLabel) -> bool:
        """Made by older code than ``threshold``; or, when ``threshold`` names an outlet's
        rules version, by older rules of the same outlet."""
        if self.code < threshold.code:
            return True
        return (threshold.rules is not None and self.path == threshold.path
                and (self.rules or 0) < threshold.rules)


def read_label(text: str) -> ParserLabel:
    """``generic@2`` → (generic, 2); ``rules:x@3.2`` → (rules:x, 2, rules 3); the older
    ``rules:x@3`` → (rules:x, 1, rules 3). ValueError names what is not a label."""
    found = _LABEL_RE.match(text.strip())
    if found is None or not (found["path"].startswith("rules:") or found["path"] in PATHS):
        raise ValueError(
            f"{text!r} is not a parser label: expected generic@N, structured@N, embedded@N "
            "or rules:<outlet>@R[.N]")
    first, second = int(found["first"]), found["second"]
    if found["path"].startswith("rules:"):
        return ParserLabel(found["path"], int(second) if second is not None else 1, first)
    if second is not None:
        raise ValueError(f"{text!r}: only rules:<outlet>@R.N has two numbers")
    return ParserLabel(found["path"], first)


def current_label(outlet: Outlet | None) -> ParserLabel:
    """What this code writes for the outlet now: its rules' version when it has a
    ``body_selector``, and ``PARSER_VERSION``. Also the label of a page the parser
    refused (no body path was decided: the one the outlet's pages take)."""
    if outlet is not None and outlet.parse.body_selector:
        return ParserLabel(f"rules:{outlet.id}", PARSER_VERSION, outlet.parse.version)
    return ParserLabel(GENERIC, PARSER_VERSION)


GENERIC_PARSER = label(GENERIC)
STRUCTURED_PARSER = label(STRUCTURED)
EMBEDDED_PARSER = label(EMBEDDED)
