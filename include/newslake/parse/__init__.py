"""Parsing one fetched page into an ``Article``: ``parse_article`` is the entry point.

Modules, one concern each: ``decode`` (bytes to text), ``metadata`` (meta tags, JSON-LD),
``fields`` (title, section, tags, image, paywall, canonical URL), ``dates``, ``authors``,
``body`` (outlet rules, then the generic extractor), ``language``, ``css`` (selectors
for outlet rules), ``article`` (the orchestration).
"""

from newslake.parse.article import parse_article

__all__ = ["parse_article"]
