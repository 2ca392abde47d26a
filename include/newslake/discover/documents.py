"""Shared by the discovery sources: fetch one document, unzip it, read XML safely, read dates."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Mapping
from xml.etree.ElementTree import Element, ParseError
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeET
from dateutil import parser as dateparser
from defusedxml import DefusedXmlException

from newslake.discover.models import SourceError
from newslake.fetch import FetchResult

Fetch = Callable[[str], FetchResult]

GZIP_MAGIC = b"\x1f\x8b"
# sitemaps.org caps one sitemap at 50 MB uncompressed; more is a gzip bomb, not a sitemap.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024


def fetch_document(fetch: Fetch, url: str) -> FetchResult:
    """The fetched document, or ``SourceError`` naming why there is none."""
    result = fetch(url)
    if result.error is not None or result.body is None:
        raise SourceError(result.error_slug or "no_body", url, str(result.error or ""))
    return result


def gunzip_if_needed(body: bytes, url: str) -> bytes:
    """``body`` itself, or its gzip content (``.xml.gz`` files come without Content-Encoding)."""
    if not body.startswith(GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_UNCOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise SourceError("bad_gzip", url, str(exc)) from exc
    if len(data) > MAX_UNCOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise SourceError("too_large", url, f"over {MAX_UNCOMPRESSED_BYTES} bytes unzipped")
    return data


def parse_xml(data: bytes, url: str) -> Element:
    """The root element; entity declarations (billion laughs, XXE) are refused, never expanded,
    and nothing is ever read from the network or the disk."""
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True)
    except DefusedXmlException as exc:
        raise SourceError("unsafe_xml", url, repr(exc)) from exc
    except (ParseError, ValueError) as exc:
        raise SourceError("bad_xml", url, str(exc)) from exc
    return root


def reject_unsafe_xml(data: bytes, url: str) -> None:
    """Raise ``SourceError("unsafe_xml")`` if ``data`` declares entities. Documents that are not
    well-formed pass: a lenient parser (feedparser's) reads those without a DTD."""
    try:
        parse_xml(data, url)
    except SourceError as exc:
        if exc.reason == "unsafe_xml":
            raise


def local_name(tag: object) -> str:
    """``{namespace}name`` → ``name`` (sitemaps come with and without their namespaces)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def parse_date(text: str | None, tz: ZoneInfo) -> dt.datetime | None:
    """An aware datetime from W3C/ISO or other common date text; a date without an offset is
    in ``tz`` (the outlet's time zone). None when absent or unreadable."""
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        value = dateparser.isoparse(text)
    except (ValueError, OverflowError):
        try:
            value = dateparser.parse(text)
        except (ValueError, OverflowError):
            return None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def charset_of(headers: Mapping[str, str]) -> str | None:
    """The ``charset`` parameter of the Content-Type header, if any."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            for param in value.split(";")[1:]:
                key, _, charset = param.strip().partition("=")
                if key.lower() == "charset" and charset:
                    return charset.strip("\"' ")
    return None


def content_type_of(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return None
