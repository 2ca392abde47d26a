"""A ``warc`` discovery source: an outlet's history from WARC files a crawl left behind."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest
import requests
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from demo_site import catalog
from newslake.config import parse_outlet
from newslake.discover import discover
from newslake.discover.warc import archived_responses, warc_paths
from newslake.parse import parse_article

pytestmark = pytest.mark.timeout(60)
OUTLET_ID = "demo_bayside_press"


def _write_crawl(path: Path, pages: list[tuple[str, bytes]], gzip_first: bool) -> None:
    """A crawl export like CC-NEWS writes: request-less response records, some gzipped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for n, (url, body) in enumerate(pages):
            headers = [("Content-Type", "text/html; charset=UTF-8")]
            if gzip_first and n == 0:
                body = gzip.compress(body)
                headers.append(("Content-Encoding", "gzip"))
            headers.append(("Content-Length", str(len(body))))
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
            )
            writer.write_record(record)


def _outlet(demo_site: str, path: str):  # type: ignore[no-untyped-def]
    return parse_outlet({
        "id": OUTLET_ID, "name": "Bayside Press (archive)",
        "base_url": f"{demo_site}/bayside-press/",
        "language": "en", "timezone": "America/New_York", "start_date": "2024-01-01",
        "discovery": [{"type": "warc", "path": path}],
        "parse": {"body_selector": "div.td-post-content",
                  "drop_selectors": [".td-a-rec", ".sharedaddy", "figure", "script", "style",
                                     ".jp-relatedposts", "#comments"],
                  "drop_paragraphs": ["^READ:", "^Please make a small donation",
                                      "^Connect with us", "^Sign up:"]},
        "politeness": {"allow_private_addresses": ["127.0.0.1/32"]},
    })


def test_warc_files_stand_in_for_the_live_site(demo_site: str, tmp_path: Path) -> None:
    day = dt.date(2025, 3, 17)
    articles = [a for a in catalog.articles_for(OUTLET_ID, day) if a.is_article_ok]
    pages = [(a.url(demo_site), requests.get(a.url(demo_site), timeout=10).content)
             for a in articles]
    # One file per crawl day, as CC-NEWS lays them out; an off-site page mixed in.
    _write_crawl(tmp_path / "2025-03-17" / "crawl-1.warc.gz", pages[:2], gzip_first=True)
    _write_crawl(tmp_path / "2025-03-18" / "crawl-2.warc.gz",
                 pages[2:] + [("https://elsewhere.example/x", b"<html></html>")], False)
    outlet = _outlet(demo_site, str(tmp_path / "{date:%Y-%m-%d}" / "*.warc.gz"))

    assert len(warc_paths(outlet.discovery[0], day)) == 2
    found = discover(outlet, day)
    urls = [u.url for u in found.urls]
    assert urls == sorted(a.url(demo_site) for a in articles)
    assert found.counts["off_site"] == 1 and found.counts["warc"] == len(articles)

    archived = archived_responses(outlet, day, urls)
    assert set(archived) == set(urls)
    for article in articles:
        result = archived[article.url(demo_site)]
        parsed = parse_article(result.body or b"", result.final_url or result.url, outlet,
                               headers=result.headers)
        assert parsed.title == article.title
        assert parsed.body == article.body, "a gzipped record is decoded like any other"


def test_missing_warc_files_fail_the_source_clearly(tmp_path: Path, demo_site: str) -> None:
    from newslake.errors import FetchError

    outlet = _outlet(demo_site, str(tmp_path / "nothing-*.warc.gz"))
    with pytest.raises(FetchError, match="no_warc_files"):
        discover(outlet, dt.date(2025, 3, 17))


def test_a_day_backfilled_from_warc_files_alone(demo_site: str, tmp_path: Path) -> None:
    """The whole pipeline for a day whose pages exist only in WARC files: no fetch made."""
    import pyarrow.dataset as ds

    from newslake.pipeline import RunSpec, run_day

    day = dt.date(2025, 3, 18)
    published = catalog.articles_for(OUTLET_ID, day)
    around = [a for d in (-1, 0, 1) for a in catalog.articles_for(OUTLET_ID, day + dt.timedelta(d))]
    pages = [(a.url(demo_site), requests.get(a.url(demo_site), timeout=10).content)
             for a in around]
    # The live site is gone: any request would hit a closed port and fail.
    outlet = _outlet("http://127.0.0.1:9", str(tmp_path / "crawl" / "*.warc.gz"))
    pages_on_closed_port = [(u.replace(demo_site, "http://127.0.0.1:9"), b) for u, b in pages]
    _write_crawl(tmp_path / "crawl" / "export.warc.gz", pages_on_closed_port, gzip_first=True)

    manifest = run_day(RunSpec(outlet, day, "warc-backfill", str(tmp_path / "lake")))
    rows = ds.dataset(str(tmp_path / "lake" / "articles"), partitioning="hive").to_table()
    good = sorted(a.title for a in published if a.is_article_ok)
    assert sorted(rows.column("title").to_pylist()) == good
    assert manifest["fetch_failed"] == 0
    assert manifest["skipped_out_of_window"] == len(around) - len(published)


def _damage_all_but(path: Path, urls: set[str]) -> None:
    """Zero every record of a crawl file except the pages of ``urls`` (size unchanged)."""
    from warcio.archiveiterator import ArchiveIterator

    damaged = bytearray(path.read_bytes())
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            ours = record.rec_headers.get_header("WARC-Target-URI") in urls
            offset, length = records.get_record_offset(), records.get_record_length()
            if not ours:
                damaged[offset : offset + length] = bytes(length)
    path.write_bytes(bytes(damaged))


def test_a_fetch_chunk_reads_only_its_own_archived_records(demo_site: str, tmp_path: Path) -> None:
    """Discovery notes where each page lies in the crawl files; a fetch chunk then reads
    only its own pages (it works when every other record is damaged), and gets the same
    responses as reading the files whole."""
    import json

    from newslake import pipeline
    from newslake.discover.warc import archived_from_refs
    from newslake.raw import RecordRef, read_warc

    day = dt.date(2025, 3, 18)
    around = [a for d in (-1, 0, 1) for a in catalog.articles_for(OUTLET_ID, day + dt.timedelta(d))]
    dead = "http://127.0.0.1:9"  # the live site is gone: only the archive can answer
    pages = [(a.url(dead), requests.get(a.url(demo_site), timeout=10).content.replace(
        demo_site.encode(), dead.encode())) for a in around]
    crawl = tmp_path / "crawl"
    _write_crawl(crawl / "a.warc.gz", pages[: len(pages) // 2], gzip_first=True)
    _write_crawl(crawl / "b.warc.gz", pages[len(pages) // 2 :], gzip_first=False)
    outlet = _outlet(dead, str(crawl / "*.warc.gz"))

    found = discover(outlet, day)
    urls = [u.url for u in found.urls]
    assert set(found.archived) == set(urls) == {a.url(dead) for a in around}
    assert archived_from_refs(outlet, day, found.archived) == archived_responses(outlet, day, urls)
    moved = {u: RecordRef(r.location, r.offset + 3, r.length) for u, r in found.archived.items()}
    assert archived_from_refs(outlet, day, moved) == archived_responses(outlet, day, urls), (
        "a record no longer where discovery saw it is found by reading the files whole")

    spec = pipeline.RunSpec(outlet, day, "own-records", str(tmp_path / "lake"))
    chunks = pipeline.discover_step(spec, chunk_size=2)["chunks"]
    assert len(chunks) == (len(urls) + 1) // 2 >= 3
    own = json.loads(Path(chunks[1]["urls"]).read_text())
    expected = archived_responses(outlet, day, own)
    for path in crawl.iterdir():
        _damage_all_but(path, set(own))
    fetched = pipeline.fetch_step(spec, chunks[1])
    assert list(read_warc(fetched["warc"])) == [expected[u] for u in own]
    assert (fetched["from_warc_sources"], fetched["failed"]) == (len(own), 0)
