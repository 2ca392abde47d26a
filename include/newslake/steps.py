"""What one step of an outlet-day hands the next: small typed values, locations and counts.

discover → fetch → parse → validate → publish (``newslake.pipeline``) pass each other
these values, and only these: in a DAG they travel through XCom, so a retried task gets
the same inputs, and nothing is found by a file name. The bulk (URL lists, WARC files,
Parquet rows) stays in the run's staging area; a value holds its *location* (a local path
or an ``s3://`` URI). They are ``TypedDict``\\ s: plain JSON-able dicts at run time, which
XCom stores as they are (no ``[core] allowed_deserialization_classes`` entry, readable in
the UI), typed for mypy. No rows and no bodies here: a few locations and counts; the only
lists are ``Discovery.errors`` (one entry per failing source) and ``Parsed.out_of_window``
(at most the chunk's URLs).

A reparse and a revisit do not discover or fetch: they build the ``RawChunk`` and
``Discovery`` values from what they have (the raw zone's files, the revisit's refetch)
and call the same parse, validate and publish steps.

Imports only ``typing``: a DAG file may import it at top level.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Chunk(TypedDict):
    """discover → fetch: one chunk of the day's URLs (a mapped fetch task each)."""

    number: int  # 0, 1, …: the order of the chunks' records in the day's raw file
    urls: str  # location of the chunk's URLs (a JSON list)
    records: str  # location of the records its fetch may reuse (``rawindex.ChunkRecords``)
    dates: str  # location of its URLs' discovery dates (``newslake.source_dates``)
    size: int  # how many URLs


class Discovery(TypedDict):
    """discover → publish: the day's discovery figures, for the run manifest."""

    discovered: int  # URLs tried: listed + carried_forward
    listed: int  # listed by the sources now (and the frontier)
    carried_forward: int  # held by the day's partitions, not listed now
    chunks: int
    errors: list[dict[str, Any]]  # one per failing source (``SourceError.as_dict``)
    counts: dict[str, Any]  # per source
    seconds: float


class Discovered(TypedDict):
    """What ``discover_step`` returns: the chunks (fetch maps over them) and the figures
    (publish reads them; the DAG's discover task pushes them under their own XCom key)."""

    chunks: list[Chunk]
    discovery: Discovery


class RawChunk(TypedDict):
    """fetch → parse (and publish): one WARC file of responses to parse and publish."""

    warc: str  # location of the WARC file
    # What the rows parsed from it name as their raw response (``raw_ref``): the file
    # the record will be in once published, relative to the lake's root.
    raw_ref: str
    dates: str | None  # location of the discovery dates of its URLs; None: none
    source: str  # the file a damaged record is reported in (a reparse: the raw zone's)
    seconds: float  # fetch time (0 when nothing was fetched)


class Fetched(RawChunk):
    """What ``fetch_step`` returns: a ``RawChunk`` and its fetch figures."""

    urls: int
    failed: int
    not_modified: int
    kept_previous: int
    from_warc_sources: int


class Parsed(TypedDict):
    """parse → validate: one chunk's candidate rows and early quarantine rows."""

    rows: str  # location of the candidate rows (Parquet)
    quarantine: str  # location of the quarantine rows (Parquet)
    counts: dict[str, int]  # responses, parsed, fetch_error:<slug>, …
    parsers: dict[str, int]  # rows by parser label
    # The URLs of pages dated outside the day, left to their own day (at most the
    # chunk's URLs, usually none: discovery keeps to the day): where such a page went.
    out_of_window: list[str]
    seconds: float


class Validated(TypedDict):
    """validate → publish: the location of the validation summary, and its counts."""

    summary: str  # location of the staged summary (JSON); the rows are staged beside it
    written: int
    quarantined: int
