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
from newslake.fetch import FetchResult, fetch_urls
from newslake.raw import read_warc, write_warc


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
            requests_per_second=500.0, allow_private_addresses=True, max_bytes=1000
        ),
    )
    paths = ["/a", "/z", "/missing", "/private/x", "/big", "/moved?utm_source=x"]
    results = list(fetch_urls([site.url(p) for p in paths], outlet))
    assert [r.error for r in results] == [
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
        error=draw(st.none() | st.text(max_size=40)),
        attempts=draw(st.integers(0, 5)),
        elapsed_s=draw(st.floats(0, 1e6, allow_nan=False)),
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
