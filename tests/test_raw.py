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
from newslake.raw import H_REUSED_FROM, previous_responses, read_warc, warc_files, write_warc


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
        reused_from=draw(
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
            politeness=Politeness(requests_per_second=500.0, allow_private_addresses=True),
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
    failed = FetchResult("http://x/b", "http://x/b", 503, {}, b"down", late, "http_503")
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
