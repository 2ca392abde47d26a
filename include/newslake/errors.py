"""Errors newslake raises on purpose, each with a reason a user can act on."""

from __future__ import annotations

import datetime as dt


class NewslakeError(Exception):
    """Base of every error newslake raises on purpose."""


class ConfigError(NewslakeError):
    """An outlet config is invalid; the message names the file and the key."""


class ParseError(NewslakeError):
    """A page is not an article, or cannot be read as one.

    ``reason`` is a short machine-readable slug (``not_article``, ``empty_body``,
    ``no_title``, ``undecodable``, ``too_large``, ``too_complex`` …) that ends up in
    quarantine's ``failed_checks``.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        # What the page said of its publication time before it was refused (aware, and
        # where it came from), kept in the refusal's quarantine row; None when not read.
        self.published_at: dt.datetime | None = None
        self.published_at_source: str | None = None
        super().__init__(f"{reason}: {detail}" if detail else reason)


class FetchError(NewslakeError):
    """A page could not be fetched after its retries."""


class DiscoveryError(FetchError):
    """Every discovery source of an outlet failed for a day: there is nothing to fetch, and
    an empty day would be a lie. The message names the outlet and each source's error.
    A ``FetchError``, so that callers which catch that keep working."""


class ShrinkError(NewslakeError):
    """A publish would take articles out of a partition with no quarantine row saying why:
    nothing is published, the partition stays as it was."""


class DamagedWarcError(NewslakeError):
    """A WARC file does not read back whole (cut short, flipped bytes, not a WARC); the
    message names the file and the byte offset where it stops making sense."""
