"""Bytes to text: the charset a page is in, found in the order browsers trust.

1. the HTTP ``Content-Type`` header's ``charset``;
2. a byte-order mark;
3. ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` in the first bytes;
4. detection (charset-normalizer).

A declared charset that cannot decode the bytes strictly is a lie (pages that say
GB2312 but are UTF-8 are common): the next source is tried, and UTF-8 before detection,
because detection on short pages is a guess.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

import charset_normalizer

from newslake.errors import ParseError

HEADER_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
META_CHARSET_RE = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE | re.DOTALL
)
META_SCAN_BYTES = 4096  # the HTML spec's prescan window is 1024; real pages overshoot it.
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG encoding labels that mean a superset of what they say.
ENCODING_SUPERSETS = {
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "latin1": "windows-1252",
    "ascii": "windows-1252",
    "us-ascii": "windows-1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-9": "windows-1254",
    "tis-620": "cp874",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "unicode": "utf-16",
}
DETECT_BYTES = 200_000  # detection over more than this costs time and adds no accuracy


def content_type_charset(headers: Mapping[str, str] | None) -> str | None:
    """The ``charset`` of a ``Content-Type`` header, whatever the header's case."""
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type":
            match = HEADER_CHARSET_RE.search(value or "")
            return match.group(1) if match else None
    return None


def normalise_encoding(label: str | None) -> str | None:
    """A Python codec name for an encoding label, or None when Python has no such codec."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = ENCODING_SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try_decode(data: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes | str, headers: Mapping[str, str] | None = None) -> str:
    """Decode a page's bytes (see the module doc for the order); ``str`` passes through."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if not data.strip():
        raise ParseError("empty_body", "the response is empty")

    header_encoding = normalise_encoding(content_type_charset(headers))
    text = _try_decode(data, header_encoding)
    if text is not None:
        return text.lstrip("\ufeff")

    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = _try_decode(data[len(bom) :], encoding)
            if text is not None:
                return text

    match = META_CHARSET_RE.search(data[:META_SCAN_BYTES])
    meta_encoding = normalise_encoding(match.group(1).decode("ascii", "ignore")) if match else None
    # A page that declares UTF-16 in a meta tag is ASCII-compatible, so it cannot be UTF-16.
    if meta_encoding and not meta_encoding.startswith("utf-16"):
        text = _try_decode(data, meta_encoding)
        if text is not None:
            return text

    text = _try_decode(data, "utf-8")
    if text is not None:
        return text

    best = charset_normalizer.from_bytes(data[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        text = _try_decode(data, best.encoding)
        if text is None:
            text = data.decode(best.encoding, errors="replace")
        return text
    raise ParseError("undecodable", "no charset decodes the page")
