"""HTTP responses as plain values, built by the renderers and written by the server."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def page(text: str, *, charset: str = "utf-8", status: int = 200,
         last_modified: dt.datetime | None = None) -> Response:
    headers = {"Cache-Control": "public, max-age=300"}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    body = text.encode(charset, errors="xmlcharrefreplace")
    return Response(status, body, f"text/html; charset={charset}", headers)


def xml(text: str, content_type: str = "application/xml", charset: str = "utf-8") -> Response:
    body = text.encode(charset, errors="xmlcharrefreplace")
    return Response(200, body, f"{content_type}; charset={charset}")


def plain(text: str) -> Response:
    return Response(200, text.encode(), "text/plain; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(301, b"", "text/html; charset=utf-8", {"Location": location})


NOT_FOUND_HTML = """<!DOCTYPE html>
<html><head><title>404 Not Found</title></head>
<body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>
"""


def not_found() -> Response:
    return Response(404, NOT_FOUND_HTML.encode(), "text/html; charset=utf-8")
