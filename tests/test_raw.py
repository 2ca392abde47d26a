"""The raw zone: FetchResults → WARC → the same FetchResults."""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.loopback import Loopback, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from newslake.config import Outlet, Politeness
from newslake.fetch import FetchFailure, FetchResult, fetch_urls
from newslake.raw import H_REUSED_FROM, previous_responses, read_warc, warc_files, write_warc
from newslake.steps import Chunk, Discovered, Fetched


@pytest.fixture
def site() -> Iterator[Loopback]:
    routes = {
        "/robots.txt": Reply(body=b"User-agent: *\nDisallow: /private/\n"),
        "/a": Reply(body=b"<html>\r\n\r\nA</html>", headers={"Content-Type": "text/html"}),
        "/z": Reply(body=gzip.compress(b"zipped " * 100), headers={"Content-Encoding": "gzip"}),
        "/big": Reply(body=b"x" * 5000),
        "/moved": Reply(301, headers={"Location": "/a"}),
    }
    with Loopback(routes) as server:
        yield server


@pytest.mark.timeout(10)
def test_round_trip_of_real_fetches(site: Loopback, tmp_path: Path) -> None:
    outlet = Outlet(
        id="loop",
        name="Loopback",
        base_url=site.url("/"),
        language="en",
        timezone="UTC",
        start_date=dt.date(2024, 1, 1),
        politeness=Politeness(
            requests_per_second=500.0, allow_private_addresses=("127.0.0.1/32",), max_bytes=1000
        ),
    )
    paths = ["/a", "/z", "/missing", "/private/x", "/big", "/moved?utm_source=x"]
    results = list(fetch_urls([site.url(p) for p in paths], outlet))
    assert [r.error_slug for r in results] == [
        None,
        None,
        "http_404",
        "robots_disallowed",
        "too_large",
        None,
    ]
    warc = tmp_path / "raw.warc.gz"
    assert write_warc(str(warc), results) == len(results)
    assert list(read_warc(warc)) == results

    with warc.open("rb") as stream:
        records = [
            (
                r.rec_type,
                r.rec_headers.get_header("WARC-Target-URI"),
                r.rec_headers.get_header("WARC-Newslake-Requested-URI"),
            )
            for r in ArchiveIterator(stream)
        ]
    assert [kind for kind, _, _ in records] == [
        "warcinfo",
        *["response", "request"] * 3,
        "metadata",
        "metadata",
        "response",
        "request",
    ]
    moved = records[-2]
    assert moved[1:] == (site.url("/a"), site.url("/moved?utm_source=x"))


@pytest.mark.timeout(10)
def test_gzip_per_record(tmp_path: Path) -> None:
    warc = tmp_path / "one.warc.gz"
    now = dt.datetime(2024, 1, 15, 12, 0, 0, 1, tzinfo=dt.UTC)
    write_warc(warc, [FetchResult("http://x/a", "http://x/a", 200, {}, b"body", now)])
    data = warc.read_bytes()
    first = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    first_member = first.decompress(data)
    assert b"WARC-Type: warcinfo" in first_member and b"response" not in first_member
    assert first.unused_data.startswith(b"\x1f\x8b")  # the next record is its own member
    assert not (tmp_path / "one.warc.gz.part").exists()


header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=30,
).map(str.strip)
urls = st.from_regex(r"https?://[a-z]{1,10}\.example/[a-z0-9/?=&%]{0,20}", fullmatch=True)


@st.composite
def fetch_results(draw: st.DrawFn) -> FetchResult:
    names = draw(st.lists(header_names, max_size=6, unique_by=str.lower))
    has_response = draw(st.booleans())
    return FetchResult(
        url=draw(urls),
        final_url=draw(urls),
        status=draw(st.integers(100, 599)) if has_response else None,
        headers={name: draw(header_values) for name in names} if has_response else {},
        body=draw(st.none() | st.binary(max_size=200)),
        fetched_at=draw(
            st.datetimes(
                min_value=dt.datetime(1990, 1, 1),
                max_value=dt.datetime(2100, 1, 1),
                timezones=st.just(dt.UTC),
            )
        ),
        error=draw(st.none() | st.text(max_size=40).map(FetchFailure.from_text)),
        attempts=draw(st.integers(0, 5)),
        elapsed_s=draw(st.floats(0, 1e6, allow_nan=False)),
        reused_from=draw(
            st.none()
            | st.datetimes(
                min_value=dt.datetime(1990, 1, 1),
                max_value=dt.datetime(2100, 1, 1),
                timezones=st.just(dt.UTC),
            )
        ),
        kept_after=draw(st.none() | st.text(max_size=40).map(FetchFailure.from_text)),
        kept_at=draw(
            st.none()
            | st.datetimes(
                min_value=dt.datetime(1990, 1, 1),
                max_value=dt.datetime(2100, 1, 1),
                timezones=st.just(dt.UTC),
            )
        ),
    )


@pytest.mark.timeout(20)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(results=st.lists(fetch_results(), max_size=4))
def test_round_trip_is_exact(tmp_path: Path, results: list[FetchResult]) -> None:
    warc = tmp_path / "prop.warc.gz"
    write_warc(warc, results)
    assert list(read_warc(warc)) == results


@pytest.mark.timeout(10)
def test_a_304_is_kept_as_the_reused_response_with_a_note(tmp_path: Path) -> None:
    """Fetch, keep, revalidate (304), keep again: the new WARC stands alone and reads back
    as the same response, marked as reused."""
    routes = {
        "/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n"),
        "/etag": Reply(body=b"<html>e</html>", conditional=True,
                       headers={"Content-Type": "text/html", "ETag": '"e1"'}),
        "/lm": Reply(body=gzip.compress(b"<html>lm</html>"), conditional=True,
                     headers={"Content-Encoding": "gzip",
                              "Last-Modified": "Mon, 15 Jan 2024 08:00:00 GMT"}),
        "/none": Reply(body=b"<html>n</html>"),
    }
    with Loopback(routes) as site:
        outlet = Outlet(
            id="loop", name="Loopback", base_url=site.url("/"), language="en", timezone="UTC",
            start_date=dt.date(2024, 1, 1),
            politeness=Politeness(requests_per_second=500.0,
                                  allow_private_addresses=("127.0.0.1/32",)),
        )
        urls = [site.url(p) for p in ("/etag", "/lm", "/none", "/missing")]
        day_one = tmp_path / "run1"
        day_one.mkdir()
        first = list(fetch_urls(urls, outlet))
        write_warc(day_one / "00000.warc.gz", first)

        previous = previous_responses(day_one, urls[:3])
        assert set(previous) == set(urls[:3]), "failures are not revalidated"
        assert previous[urls[0]] == first[0]
        second = list(fetch_urls(urls, outlet, previous=previous))
        assert [r.reused_from is not None for r in second] == [True, True, False, False]
        assert (site.hits["/etag"], site.bytes_sent["/etag"]) == (2, len(b"<html>e</html>"))

    day_two = tmp_path / "run2"
    day_two.mkdir()
    write_warc(day_two / "00000.warc.gz", second)
    assert list(read_warc(day_two / "00000.warc.gz")) == second
    for old, new in zip(first[:2], second[:2], strict=True):
        assert (new.status, new.headers, new.body) == (old.status, old.headers, old.body)
        assert new.reused_from == old.fetched_at
    with (day_two / "00000.warc.gz").open("rb") as stream:
        responses = [r for r in ArchiveIterator(stream) if r.rec_type == "response"]
    notes = [r.rec_headers.get_header(H_REUSED_FROM) for r in responses]
    assert notes[:2] == [old.fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for old in first[:2]]
    assert notes[2] is None
    assert warc_files(day_two) == [day_two / "00000.warc.gz"]
    assert warc_files(tmp_path / "nowhere") == []


@pytest.mark.timeout(10)
def test_previous_responses_keeps_the_last_good_one(tmp_path: Path) -> None:
    early = dt.datetime(2024, 1, 15, 8, tzinfo=dt.UTC)
    late = early + dt.timedelta(hours=1)
    good = FetchResult("http://x/a", "http://x/a", 200, {"ETag": '"1"'}, b"one", early)
    newer = FetchResult("http://x/a", "http://x/a", 200, {"ETag": '"2"'}, b"two", late)
    failed = FetchResult("http://x/b", "http://x/b", 503, {}, b"down", late,
                         FetchFailure("http_503"))
    write_warc(tmp_path / "00000.warc.gz", [good, failed])
    write_warc(tmp_path / "00001.warc.gz", [newer])
    assert previous_responses(tmp_path) == {"http://x/a": newer}
    assert previous_responses(tmp_path, ["http://x/b"]) == {}


@pytest.mark.timeout(10)
def test_header_values_warcio_cannot_encode_still_round_trip(tmp_path: Path) -> None:
    # warcio percent-encodes only the quoted part of `; a="é"`: the rest stayed non-ASCII.
    headers = {"Content-Disposition": 'inline; filename="café.html" ¡olé!', "X-A": "¨ä;b=\"é\""}
    result = FetchResult("http://x/a", "http://x/a", 200, headers, b"<html/>",
                         dt.datetime(2024, 1, 15, tzinfo=dt.UTC))
    write_warc(tmp_path / "h.warc.gz", [result])
    assert list(read_warc(tmp_path / "h.warc.gz")) == [result]


@pytest.mark.timeout(10)
def test_other_crawlers_wire_form_bodies_are_decoded(tmp_path: Path) -> None:
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    page = b"<html><body>" + b"crawled " * 50 + b"</body></html>"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(page), page)
    wire = [("gzip", [("Content-Encoding", "gzip")], gzip.compress(page)),
            ("chunked", [("Transfer-Encoding", "chunked")], chunked),
            ("plain", [], page)]
    path = tmp_path / "foreign.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for name, headers, body in wire:
            writer.write_record(writer.create_warc_record(
                f"http://x/{name}", "response", payload=BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
            ))
    results = list(read_warc(path))
    assert [r.body for r in results] == [page] * 3
    assert results[0].headers["Content-Encoding"] == "gzip", "headers as crawled"


# --- reruns: each fetch chunk reads only its own records of the previous raw WARC ---------


@pytest.mark.timeout(10)
def test_the_index_points_at_each_complete_response(tmp_path: Path) -> None:
    """Discovery notes where each kept response lies; those bytes alone read back as it."""
    from newslake.raw import RecordRef, complete_responses
    from newslake.rawindex import previous_index, read_previous

    moment = dt.datetime(2024, 1, 15, 8, tzinfo=dt.UTC)
    results = [FetchResult(f"http://x/{n}", f"http://x/{n}", 200, {"ETag": f'"{n}"'},
                           b"page %d " % n * 300, moment) for n in range(5)]
    results.append(FetchResult("http://x/down", "http://x/down", 503, {}, b"", moment,
                               FetchFailure("http_503")))
    results.append(FetchResult("http://x/0", "http://x/0", 200, {"ETag": '"new"'}, b"new", moment))
    warc = tmp_path / "responses.warc.gz"
    write_warc(warc, results)

    index = previous_index(str(warc))
    assert set(index) == {f"http://x/{n}" for n in range(5)}, "failures are not revalidated"
    assert read_previous(index) == complete_responses(warc), "the last response of a URL"
    size = warc.stat().st_size
    assert all(0 < ref.length < size / 5 for ref in index.values())
    # A file replaced since (other records at those offsets): nothing wrong is reused.
    moved = {url: RecordRef(ref.location, ref.offset + 7, ref.length) for url, ref in index.items()}
    assert read_previous(moved) == {}
    swapped = dict(zip(index, reversed(list(index.values())), strict=True))
    assert set(read_previous(swapped)) == {"http://x/2"}, "only the one still in its place"
    assert previous_index(str(tmp_path / "none.warc.gz")) == {}


class _RevalidatingNewsroom(Loopback):
    """The demo newsroom behind a loopback that tags each page with an ETag and answers a
    matching If-None-Match with 304, as a CDN in front of a news site does."""

    def __init__(self, upstream: str) -> None:
        super().__init__()
        self.upstream = upstream

    def _reply_for(self, path: str) -> Reply:
        import hashlib

        import requests

        with self._lock:
            self.hits[path] += 1
        got = requests.get(self.upstream + path, timeout=10, allow_redirects=False)
        body = got.content.replace(self.upstream.encode(), self.base.encode())
        headers = {name: got.headers[name].replace(self.upstream, self.base)
                   for name in ("Content-Type", "Location", "Last-Modified")
                   if name in got.headers}
        if got.status_code == 200:
            headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        return Reply(got.status_code, body, headers, conditional=True)


def _lake_rows(lake_dir: str, zone: str) -> list[dict[str, object]]:
    """A zone's rows without what a rerun changes (run id, fetch time), sorted."""
    import json

    import pyarrow.dataset as ds

    rows = ds.dataset(f"{lake_dir}/{zone}", partitioning="hive").to_table().to_pylist()
    kept = [{k: v for k, v in r.items() if k not in ("run_id", "fetched_at")} for r in rows]
    return sorted(kept, key=lambda r: json.dumps(r, default=str, sort_keys=True))


def _damage_all_but(warc: Path, urls: set[str]) -> None:
    """Zero every record of ``warc`` except the responses to ``urls`` (size unchanged)."""
    damaged = bytearray(warc.read_bytes())
    with warc.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            ours = (record.rec_type == "response"
                    and record.rec_headers.get_header("WARC-Newslake-Requested-URI") in urls)
            offset, length = records.get_record_offset(), records.get_record_length()
            if not ours:
                damaged[offset : offset + length] = bytes(length)
    warc.write_bytes(bytes(damaged))


@pytest.mark.timeout(180)
def test_a_rerun_revalidates_each_chunk_from_its_own_records(
    demo_site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, past_day: dt.date
) -> None:
    """A rerun of a day sends conditional requests for what the first run kept, gets 304s,
    and lands the same rows; a fetch chunk reads only its own records of the day's raw WARC
    (it works when every other record is damaged)."""
    import json

    from newslake import lake, pipeline
    from newslake.config import load_outlets
    from newslake.raw import is_complete

    def fetch_all(spec: pipeline.RunSpec, chunks: list[Chunk]) -> list[Fetched]:
        return [pipeline.fetch_step(spec, c) for c in chunks]

    def finish(spec: pipeline.RunSpec, found: Discovered,
               fetched: list[Fetched]) -> dict[str, object]:
        parsed = [pipeline.parse_step(spec, f) for f in fetched]
        return pipeline.publish_step(spec, pipeline.validate_step(spec, parsed), fetched,
                                     found["discovery"])

    with _RevalidatingNewsroom(demo_site) as site:
        monkeypatch.setenv("NEWSLAKE_DEMO_URL", site.base)
        outlet = load_outlets()["demo_bayside_press"]
        lake_dir = str(tmp_path / "lake")
        first = pipeline.RunSpec(outlet, past_day, "first", lake_dir)
        first_found = pipeline.discover_step(first, chunk_size=3)
        first_chunks = first_found["chunks"]
        before = finish(first, first_found, fetch_all(first, first_chunks))
        articles, quarantine = _lake_rows(lake_dir, "articles"), _lake_rows(lake_dir, "quarantine")
        raw = Path(lake.partition_uri(lake_dir, "raw", outlet.id, past_day)) / lake.RAW_FILE
        kept = {r.url for r in read_warc(raw) if is_complete(r)}
        assert len(first_chunks) >= 3 and articles and kept
        assert not any("If-None-Match" in h for _, h in site.requests)

        rerun = pipeline.RunSpec(outlet, past_day, "rerun", lake_dir)
        found = pipeline.discover_step(rerun, chunk_size=3)
        chunks = found["chunks"]
        own = set(json.loads(Path(chunks[0]["urls"]).read_text()))
        original = raw.read_bytes()
        _damage_all_but(raw, own)
        site.requests.clear()
        fetched = fetch_all(rerun, chunks[:1])
        conditional = [p for p, h in site.requests if "If-None-Match" in h]
        assert len(conditional) == fetched[0]["not_modified"] == len(own & kept) > 0
        raw.write_bytes(original)
        fetched += fetch_all(rerun, chunks[1:])
        revalidated = sum(f["not_modified"] for f in fetched)
        after = finish(rerun, found, fetched)

    assert revalidated == len(kept), "every page the first run kept came back as a 304"
    assert _lake_rows(lake_dir, "articles") == articles
    assert _lake_rows(lake_dir, "quarantine") == quarantine
    same = ("discovered", "fetched", "fetch_failed", "parsed", "parse_failed", "written",
            "quarantined", "skipped_out_of_window", "skipped_duplicate", "failed_checks")
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
