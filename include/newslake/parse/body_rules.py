"""The body by the outlet's CSS rules (``parse.body_selector`` in its YAML)."""

from __future__ import annotations

from lxml import etree

from newslake.config import Outlet
from newslake.parse.body import Body, collect_blocks, filter_lines, strip_boilerplate
from newslake.parse.css import css_to_xpath
from newslake.parse.version import rules_label


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

