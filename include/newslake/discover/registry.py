"""The discovery source types: a config ``type`` → the ``Source`` class that reads it.

Adding a type is one module with its class and one line here (plus its name and required
keys in ``newslake.config``, which stays light for the DAG files: a test checks that
``SOURCE_TYPES`` and ``config.DISCOVERY_TYPES``/``POLLED_TYPES`` agree). Classes are named
as ``"module:Class"`` and imported on first use, so naming a type costs no import.
"""

from __future__ import annotations

import importlib
from functools import cache

from newslake.config import DiscoverySource
from newslake.discover.models import Source, SourceError

SOURCE_TYPES: dict[str, str] = {
    "rss": "newslake.discover.rss:RssSource",
    "sitemap": "newslake.discover.sitemap:SitemapSource",
    "archive": "newslake.discover.archive:ArchiveSource",
    "warc": "newslake.discover.warc:WarcSource",
}


@cache
def source_class(type_name: str) -> type[Source]:
    """The class of a source type; ``KeyError`` for a type ``SOURCE_TYPES`` does not name."""
    module_name, _, class_name = SOURCE_TYPES[type_name].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Source) and cls.type == type_name):
        raise TypeError(f"{SOURCE_TYPES[type_name]} is not the Source class of {type_name!r}")
    return cls


def source_for(config: DiscoverySource) -> Source:
    """The source ``config`` describes; ``SourceError`` (``unknown_source_type``) when its
    type has no class."""
    if config.type not in SOURCE_TYPES:
        raise SourceError("unknown_source_type", config.url or config.url_template or "",
                          config.type)
    return source_class(config.type)(config)
