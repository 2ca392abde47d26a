"""Parsing one fetched page into an ``Article``: ``parse_article`` is the entry point.

Modules, one concern each: ``decode`` (bytes to text), ``metadata`` (meta tags, JSON-LD),
``fields`` (title, section, tags, image, paywall, canonical URL), ``dates``, ``authors``,
``body`` (outlet rules, then the generic extractor), ``language``, ``css`` (selectors
for outlet rules), ``article`` (the orchestration).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newslake.parse.article import parse_article

__all__ = ["parse_article"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the config loader checks selectors with ``css`` at DAG parse
    # time, and ``article`` pulls in trafilatura (seconds).
    if name == "parse_article":
        from newslake.parse.article import parse_article

        return parse_article
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
