"""The raw zone: fetched responses kept as WARC, so history can be re-parsed without fetching.

``write_warc`` writes one gzipped WARC 1.1 file; ``read_warc`` gives back ``FetchResult``s
equal to the ones written. Per result:

- a response with a body → a ``response`` record (status line, HTTP headers, body) and a
  ``request`` record pointing at it; ``WARC-Target-URI`` is the final URL;
- anything else (robots refusal, timeout, too-large body …) → a ``metadata`` record
  (``application/json``) holding status, headers, error, so that nothing is lost.

Every record carries ``WARC-Newslake-Requested-URI``, ``-Attempts``, ``-Elapsed`` and, when
the fetch failed, ``-Error``. A response reused after a 304 to a conditional request is
written whole (the partition it came from is replaced by this run, so the file must stand
alone) as a ``response`` record dated when the 304 came, with the note
``WARC-Newslake-Reused-From: <when the body was fetched>``. A response kept because a later
fetch of its URL failed (404, 410, a timeout …: ``FetchResult.kept_after``) is written whole
too, with ``WARC-Newslake-Kept-After: <that error>`` and ``-Kept-At: <when it failed>``.

The stored body is the decoded one that parsers read, so the headers that described the
wire form (``Content-Encoding``, ``Transfer-Encoding``, a ``Content-Length`` that no longer
matches) are kept under an ``X-Newslake-Orig-`` prefix, the way replay tools keep rewritten
headers; ``read_warc`` restores their names.

Every record is its own gzip member, so one record can be read alone: ``scan_warc`` gives
each result with its ``RecordRef`` (file, offset, length of the member), ``read_record``
reads the result back from just those bytes (``rawindex`` does the ranged reads).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from newslake import __version__
from newslake.errors import DamagedWarcError
from newslake.fetch import FetchFailure, FetchResult

# 1.1, because WARC/1.0 dates have whole seconds and fetched_at must come back exact.
WARC_VERSION = "1.1"
WARC_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
HTTP_PROTOCOL = "HTTP/1.1"

H_REQUESTED = "WARC-Newslake-Requested-URI"
H_ERROR = "WARC-Newslake-Error"
H_ATTEMPTS = "WARC-Newslake-Attempts"
H_ELAPSED = "WARC-Newslake-Elapsed"
# The body was not sent again (304 Not Modified): it is the one fetched at this date.
H_REUSED_FROM = "WARC-Newslake-Reused-From"
# A later fetch failed with this error (JSON) at this date, and this earlier response was
# kept in its place: the page is gone or unreachable, the article stays in the lake.
H_KEPT_AFTER = "WARC-Newslake-Kept-After"
H_KEPT_AT = "WARC-Newslake-Kept-At"
# Exact HTTP headers as JSON, only when the WARC header block cannot carry them verbatim
# (warcio percent-encodes non-ASCII values).
H_HEADERS_JSON = "WARC-Newslake-HTTP-Headers"

ORIG_PREFIX = "X-Newslake-Orig-"
# These describe the bytes on the wire, not the decoded body that is stored.
WIRE_ONLY_HEADERS = frozenset({"content-encoding", "transfer-encoding"})
FAILURE_CONTENT_TYPE = "application/json"
# Percent-encoding keeps these as they are: a non-ASCII value becomes printable ASCII.
_ASCII_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def _warc_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(WARC_DATE_FORMAT)


def _stored_headers(result: FetchResult) -> list[tuple[str, str]]:
    """HTTP headers as written: wire-only ones renamed so the record describes its body."""
    body_length = str(len(result.body or b""))
    stored = []
    for name, value in result.headers.items():
        lower = name.lower()
        rename = lower in WIRE_ONLY_HEADERS or (lower == "content-length" and value != body_length)
        stored.append((ORIG_PREFIX + name if rename else name, value))
    return stored


def _ascii_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Non-ASCII values percent-encoded (UTF-8), so that the block can be written at all;
    warcio's own encoding leaves some values (``…; a="é" é``) unwritable. The exact
    values then travel as JSON (``H_HEADERS_JSON``)."""
    return [(n, v if v.isascii() else quote(v, safe=_ASCII_SAFE)) for n, v in headers]


def _restored_headers(stored: list[tuple[str, str]]) -> dict[str, str]:
    return {
        name[len(ORIG_PREFIX) :] if name.startswith(ORIG_PREFIX) else name: value
        for name, value in stored
    }


def _survives(http_headers: StatusAndHeaders, expected: dict[str, str]) -> bool:
    """Whether writing then parsing the header block gives ``expected`` back verbatim."""
    block = http_headers.to_ascii_bytes()
    parsed = StatusAndHeadersParser([], verify=False).parse(BytesIO(block))
    return _restored_headers(parsed.headers) == expected


def _newslake_headers(result: FetchResult) -> dict[str, str]:
    headers = {
        "WARC-Date": _warc_date(result.fetched_at),
        H_REQUESTED: result.url,
        H_ATTEMPTS: str(result.attempts),
        H_ELAPSED: repr(result.elapsed_s),  # repr: the shortest text that reads back exact
    }
    if result.error is not None:
        headers[H_ERROR] = json.dumps(str(result.error))  # JSON: no newline in the header
    if result.reused_from is not None:
        headers[H_REUSED_FROM] = _warc_date(result.reused_from)
    if result.kept_after is not None:
        headers[H_KEPT_AFTER] = json.dumps(str(result.kept_after))
    if result.kept_at is not None:
        headers[H_KEPT_AT] = _warc_date(result.kept_at)
    return headers


def _response_records(
    writer: WARCWriter, result: FetchResult
) -> tuple[ArcWarcRecord, ArcWarcRecord]:
    assert result.status is not None and result.body is not None
    warc_headers = _newslake_headers(result)
    try:
        reason = HTTPStatus(result.status).phrase
    except ValueError:
        reason = "Unknown"
    http_headers = StatusAndHeaders(
        f"{result.status} {reason}", _ascii_headers(_stored_headers(result)),
        protocol=HTTP_PROTOCOL,
    )
    if not _survives(http_headers, result.headers):
        warc_headers[H_HEADERS_JSON] = json.dumps(result.headers)
    response = writer.create_warc_record(
        result.final_url,
        "response",
        payload=BytesIO(result.body),
        length=len(result.body),
        warc_headers_dict=warc_headers,
        http_headers=http_headers,
    )
    # What we sent is not part of FetchResult: the request record names the target only.
    parts = urlsplit(result.final_url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = writer.create_warc_record(
        result.final_url,
        "request",
        warc_headers_dict={"WARC-Date": warc_headers["WARC-Date"]},
        http_headers=StatusAndHeaders(
            f"GET {target} {HTTP_PROTOCOL}",
            [("Host", parts.netloc)],
            is_http_request=True,
        ),
    )
    return request, response


def _failure_record(writer: WARCWriter, result: FetchResult) -> ArcWarcRecord:
    details: dict[str, Any] = {
        "status": result.status,
        "headers": result.headers,
        "error": None if result.error is None else str(result.error),
    }
    if result.body is not None:
        details["body_base64"] = base64.b64encode(result.body).decode("ascii")
    payload = json.dumps(details).encode("utf-8")
    return writer.create_warc_record(
        result.final_url,
        "metadata",
        payload=BytesIO(payload),
        length=len(payload),
        warc_content_type=FAILURE_CONTENT_TYPE,
        warc_headers_dict=_newslake_headers(result),
    )


def write_warc(path: str | os.PathLike[str], results: Iterable[FetchResult]) -> int:
    """Write ``results`` to a gzipped WARC at ``path``; return how many results were written.

    The file appears whole or not at all (written aside, then renamed)."""
    path = os.fspath(path)
    partial = f"{path}.part"
    written = 0
    try:
        with open(partial, "wb") as out:
            writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
            info = {"software": f"newslake/{__version__}", "format": "WARC File Format 1.1"}
            writer.write_record(writer.create_warcinfo_record(os.path.basename(path), info))
            for result in results:
                if result.status is not None and result.body is not None:
                    request, response = _response_records(writer, result)
                    writer.write_request_response_pair(request, response)
                else:
                    writer.write_record(_failure_record(writer, result))
                written += 1
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return written


def _common_fields(record: ArcWarcRecord) -> dict[str, Any]:
    headers = record.rec_headers
    error = headers.get_header(H_ERROR)
    final_url = headers.get_header("WARC-Target-URI")
    reused_from = headers.get_header(H_REUSED_FROM)
    kept_after, kept_at = headers.get_header(H_KEPT_AFTER), headers.get_header(H_KEPT_AT)
    return {
        "url": headers.get_header(H_REQUESTED) or final_url,
        "final_url": final_url,
        "fetched_at": dt.datetime.fromisoformat(headers.get_header("WARC-Date")),
        "error": FetchFailure.from_text(json.loads(error)) if error is not None else None,
        "attempts": int(headers.get_header(H_ATTEMPTS) or 0),
        "elapsed_s": float(headers.get_header(H_ELAPSED) or 0.0),
        "reused_from": dt.datetime.fromisoformat(reused_from) if reused_from else None,
        "kept_after": (FetchFailure.from_text(json.loads(kept_after))
                       if kept_after is not None else None),
        "kept_at": dt.datetime.fromisoformat(kept_at) if kept_at else None,
    }


def _payload(record: ArcWarcRecord) -> bytes:
    """The body as parsers read it. Ours is stored decoded (its wire headers renamed);
    other crawlers (CC-NEWS …) store the wire form, which warcio decodes (gzip, deflate,
    br, chunked) when a live ``Content-Encoding`` or ``Transfer-Encoding`` says so."""
    http = record.http_headers
    if http is not None and (
        http.get_header("Content-Encoding") or http.get_header("Transfer-Encoding")
    ):
        data: bytes = record.content_stream().read()
        return data
    raw: bytes = record.raw_stream.read()
    return raw


def _result(record: ArcWarcRecord) -> FetchResult | None:
    """The ``FetchResult`` a record holds (its body read), or None for other record types."""
    if record.rec_type == "response" and record.http_headers is not None:
        exact = record.rec_headers.get_header(H_HEADERS_JSON)
        return FetchResult(
            status=int(record.http_headers.get_statuscode()),
            headers=(
                json.loads(exact) if exact else _restored_headers(record.http_headers.headers)
            ),
            body=_payload(record),
            **_common_fields(record),
        )
    if record.rec_type == "metadata" and record.rec_headers.get_header(H_REQUESTED):
        details = json.loads(record.raw_stream.read())
        encoded = details.get("body_base64")
        return FetchResult(
            status=details.get("status"),
            headers=details.get("headers") or {},
            body=base64.b64decode(encoded) if encoded is not None else None,
            **_common_fields(record),
        )
    return None


def read_warc(path: str | os.PathLike[str]) -> Iterator[FetchResult]:
    """The ``FetchResult``s of a WARC written by ``write_warc``, in order.

    ``response`` records of other WARCs are read too (with what they carry, the body
    decoded); other record types are skipped."""
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            result = _result(record)
            if result is not None:
                yield result


# Bytes read a time when a WARC's gzip members are checked: small, because what they
# inflate to is not capped (16 KiB inflate to 16 MiB at most: deflate's ratio is ~1000).
_CHECK_BUFFER = 16 * 1024
GZIP_MAGIC = b"\x1f\x8b"
# How much of a reader's error message goes into ours (warcio quotes the bytes it met).
_DETAIL_CHARS = 160


def _gzip_damage(path: str | os.PathLike[str]) -> tuple[int, str] | None:
    """(offset, problem) of the first gzip member of ``path`` that does not inflate whole
    (bad data, a wrong checksum, cut short), or None when every member does. An empty file
    is damage at offset 0: ``write_warc`` always writes a ``warcinfo`` record."""
    read = 0  # bytes read from the file
    start = 0  # offset of the member being inflated
    inflater: Any = None
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHECK_BUFFER):
            read += len(chunk)
            pending = chunk
            while pending:
                if inflater is None:
                    start = read - len(pending)
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                try:
                    inflater.decompress(pending)
                except zlib.error as exc:
                    return start, f"gzip member does not inflate: {exc}"
                if not inflater.eof:
                    break
                pending, inflater = inflater.unused_data, None
    if read == 0:
        return 0, "empty file"
    if inflater is not None:
        return start, f"gzip member cut short (the file ends at {read})"
    return None


def read_whole_warc(path: str | os.PathLike[str], name: str | None = None) -> list[FetchResult]:
    """Every ``FetchResult`` of a WARC written by ``write_warc``, or ``DamagedWarcError``
    naming the file (``name``; the path by default) and the offset where it is damaged.

    ``read_warc`` reads what it can: a ``.warc.gz`` cut short ends early without a word.
    Here a gzipped file must be whole first (every member inflates and checks out), then
    every record must read; a cut that falls exactly between two records still reads as
    a shorter valid WARC (``publish_step``'s check catches what that would drop)."""
    label = name or os.fspath(path)
    with open(path, "rb") as stream:
        gzipped = stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC
    damage = _gzip_damage(path) if gzipped or os.fspath(path).endswith(".gz") else None
    if damage is not None:
        offset, problem = damage
        raise DamagedWarcError(f"{label}: damaged WARC at offset {offset}: {problem}")
    results = []
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        try:
            for record in records:
                result = _result(record)
                if result is not None:
                    results.append(result)
        except Exception as exc:  # warcio's ArchiveLoadFailed, a bad header or payload …
            detail = f"{type(exc).__name__}: {exc}"
            if len(detail) > _DETAIL_CHARS:
                detail = detail[:_DETAIL_CHARS] + " …"
            raise DamagedWarcError(
                f"{label}: damaged WARC record at offset {records.offset}: {detail!r}"
            ) from exc
    return results


@dataclass(frozen=True)
class RecordRef:
    """Where one record lies in a WARC file: ``length`` bytes at ``offset`` of
    ``location`` (a local path or an ``s3://`` URI). In a ``.warc.gz`` that is the
    record's own gzip member (warcio and ``write_warc`` compress each record apart), so
    those bytes alone read back as the record (``read_record``)."""

    location: str
    offset: int
    length: int

    def to_json(self) -> list[str | int]:
        return [self.location, self.offset, self.length]

    @classmethod
    def from_json(cls, data: list[Any]) -> RecordRef:
        location, offset, length = data
        return cls(str(location), int(offset), int(length))


def scan_warc(
    path: str | os.PathLike[str], location: str | None = None
) -> Iterator[tuple[FetchResult, RecordRef]]:
    """``read_warc`` with where each result's record lies (``location`` names the file in
    the refs; the path by default)."""
    name = location if location is not None else os.fspath(path)
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            result = _result(record)  # reads the body: the record's end is then known
            if result is not None:
                offset, length = records.get_record_offset(), records.get_record_length()
                yield result, RecordRef(name, offset, length)


def read_record(data: bytes) -> FetchResult | None:
    """The result of the record that starts ``data`` (the bytes a ``RecordRef`` names),
    or None when they hold no result."""
    for record in ArchiveIterator(BytesIO(data)):
        return _result(record)
    return None


def is_complete(result: FetchResult) -> bool:
    """A response worth revalidating: no error, a status and a body."""
    return result.error is None and result.body is not None and result.status is not None


def warc_files(directory: str | os.PathLike[str]) -> list[Path]:
    """The WARC files of a raw partition, in name order (empty when there is none)."""
    return sorted(Path(directory).glob("*.warc.gz"))


def previous_responses(
    directory: str | os.PathLike[str], urls: Iterable[str] | None = None
) -> dict[str, FetchResult]:
    """The complete 2xx responses kept in a raw partition, by requested URL (only ``urls``
    when given, to hold few bodies in memory): what ``fetch_urls(previous=…)`` revalidates.
    A URL found in several files keeps the last one read."""
    found: dict[str, FetchResult] = {}
    for path in warc_files(directory):
        found.update(complete_responses(path, urls))
    return found


def complete_responses(
    path: str | os.PathLike[str], urls: Iterable[str] | None = None
) -> dict[str, FetchResult]:
    """The complete 2xx responses of one WARC file, by requested URL (only ``urls``)."""
    wanted = set(urls) if urls is not None else None
    found: dict[str, FetchResult] = {}
    for result in read_warc(path):
        if wanted is not None and result.url not in wanted:
            continue
        if is_complete(result):
            found[result.url] = result
    return found
