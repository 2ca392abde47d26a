"""The fetcher against a loopback server that misbehaves on purpose.

Every case must end as a FetchResult (an error slug or a good body), quickly: nothing hangs,
nothing is read past the cap, nothing private is contacted.
"""

from __future__ import annotations

import gzip
import shutil
import ssl
import subprocess
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from helpers.loopback import Loopback, Reply
from helpers.prereqs import needs
from test_fetch import fake_dns, make_outlet, pretend_public

from newslake import fetch, netguard
from newslake.fetch import FetchFailure, FetchResult, fetch_urls, make_session
from newslake.parse.decode import decode_html

HTML = {"Content-Type": "text/html; charset=utf-8"}
PAGE = b"<html><body><p>" + b"A quiet news day. " * 200 + b"</p></body></html>"
MB = 1024 * 1024

pytestmark = pytest.mark.usefixtures("fast_backoff")


def get(site: Loopback, path: str, **politeness: object) -> FetchResult:
    (result,) = fetch_urls([site.url(path)], make_outlet(site.url("/"), **politeness))
    return result


def bomb(wbits: int, decoded_mb: int) -> bytes:
    """``decoded_mb`` MiB of zeros, compressed to ~1/1000 of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(MB)
    return b"".join([*(packer.compress(zeros) for _ in range(decoded_mb)), packer.flush()])


# --- slow servers --------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_headers_that_never_come_time_out(site: Loopback) -> None:
    site.routes["/slow"] = Reply(body=PAGE, headers=HTML, delay_s=1.0)
    result = get(site, "/slow", timeout_seconds=0.2)
    assert result.error_slug == "timeout" and result.body is None
    assert result.attempts == fetch.MAX_ATTEMPTS


@pytest.mark.timeout(10)
def test_a_body_dripped_a_byte_at_a_time_meets_the_deadline(site: Loopback) -> None:
    # Each byte arrives well within the read timeout: only the body deadline can stop it.
    site.routes["/drip"] = Reply(chunks=lambda: (b"x" for _ in range(1000)), chunk_delay_s=0.02,
                                 headers=HTML)
    result = get(site, "/drip", timeout_seconds=0.1)
    assert result.error == FetchFailure("timeout", "body too slow")
    assert (result.status, result.body, result.attempts) == (200, None, fetch.MAX_ATTEMPTS)
    assert site.bytes_sent["/drip"] < 100, "far fewer than the 1000 bytes on offer"


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("when", "waited"), [("Fri, 01 Jan 2100 00:00:00 GMT", 0.25),
                                              ("Sat, 01 Jan 2000 00:00:00 GMT", 0.0)])
def test_429_with_an_http_date_retry_after(
    site: Loopback, monkeypatch: pytest.MonkeyPatch, when: str, waited: float
) -> None:
    # A date far ahead waits the cap; a date long past waits nothing (not the exponential
    # back-off of a 429 without Retry-After, which is at least BACKOFF_INITIAL_S). Fixed
    # dates: the answer does not depend on the day the test runs.
    monkeypatch.setattr(fetch, "RETRY_AFTER_CAP_S", 0.25)
    site.routes["/busy"] = [Reply(429, headers={"Retry-After": when}), Reply(body=PAGE,
                                                                            headers=HTML)]
    result = get(site, "/busy")
    assert (result.status, result.body, result.attempts) == (200, PAGE, 2)
    assert result.waited_s == waited


@pytest.mark.timeout(10)
def test_an_absurd_retry_after_is_capped(site: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "RETRY_AFTER_CAP_S", 0.2)
    site.routes["/busy"] = Reply(429, b"go away", headers={"Retry-After": "86400"})
    result = get(site, "/busy")
    assert (result.status, result.error_slug, result.attempts) == (
        429, "http_429", fetch.MAX_ATTEMPTS)
    assert result.waited_s == pytest.approx(0.2 * (fetch.MAX_ATTEMPTS - 1)), (
        "a day-long Retry-After waits the cap, not a day")


@pytest.mark.timeout(10)
def test_500_then_200(site: Loopback) -> None:
    site.routes["/flaky"] = [Reply(500, b"oops"), Reply(502, b"bad gateway"),
                             Reply(body=PAGE, headers=HTML)]
    result = get(site, "/flaky")
    assert (result.status, result.error_slug, result.body, result.attempts) == (200, None, PAGE, 3)


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_redirect_loop_and_endless_chain(site: Loopback) -> None:
    site.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    site.routes["/chain"] = lambda path: Reply(302, headers={"Location": path + "x"})
    assert get(site, "/loop").error == FetchFailure("redirect_loop")
    assert site.hits["/loop"] == fetch.MAX_REDIRECTS + 1
    result = get(site, "/chain?x")  # → /chain?xx → /chain?xxx …: never the same URL twice
    assert (result.error_slug, result.attempts) == ("too_many_redirects", 1)
    assert sum(n for path, n in site.hits.items() if path.startswith("/chain")) == (
        fetch.MAX_REDIRECTS + 1
    )


# --- sizes -----------------------------------------------------------------------------------


@pytest.mark.timeout(15)
@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15)])
def test_a_compression_bomb_stops_at_the_cap_on_the_decoded_size(
    site: Loopback, encoding: str, wbits: int
) -> None:
    compressed = bomb(wbits, decoded_mb=100)
    assert len(compressed) < MB // 4 < 100 * MB
    site.routes["/bomb"] = Reply(body=compressed, headers={**HTML, "Content-Encoding": encoding})
    tracemalloc.start()
    try:
        result = get(site, "/bomb", max_bytes=MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.status, result.error_slug, result.body) == (200, "too_large", None)
    assert peak < 8 * MB, f"inflated {peak / MB:.0f} MiB for a 1 MiB cap"


@pytest.mark.timeout(15)
@pytest.mark.parametrize("declared", [True, False])
def test_a_50_mb_page_is_stopped_at_the_cap_without_reading_it(
    site: Loopback, declared: bool
) -> None:
    pieces, piece = 800, b"<p>filler</p>" * 5042  # 800 × 64 KiB ≈ 50 MiB
    headers = {**HTML, "Content-Length": str(pieces * len(piece))} if declared else HTML
    site.routes["/huge"] = Reply(chunks=lambda: (piece for _ in range(pieces)), headers=headers)
    result = get(site, "/huge", max_bytes=MB)
    assert (result.status, result.error_slug, result.body, result.attempts) == (
        200, "too_large", None, 1
    )
    site.wait_answered("/huge", 1, timeout=10)  # the server has noticed the closed connection
    # The server wrote what the socket buffers took before the client hung up, not 50 MiB
    # (declared: the client read none of it; streamed: just over the cap).
    assert site.bytes_sent["/huge"] < 16 * MB


@pytest.mark.timeout(10)
def test_a_body_shorter_than_its_content_length_is_truncated(site: Loopback) -> None:
    site.routes["/cut"] = Reply(body=PAGE[:100], send_length=False,
                                headers={**HTML, "Content-Length": str(len(PAGE))})
    result = get(site, "/cut")
    assert result.error_slug == "truncated_body"
    assert (result.status, result.body, result.attempts) == (200, None, fetch.MAX_ATTEMPTS)


@pytest.mark.timeout(10)
def test_a_gzip_stream_cut_short_is_truncated(site: Loopback) -> None:
    packed = gzip.compress(PAGE * 10)
    site.routes["/cutgz"] = Reply(body=packed[: len(packed) // 2], send_length=False,
                                  headers={**HTML, "Content-Encoding": "gzip"})
    result = get(site, "/cutgz")
    assert result.error == FetchFailure("truncated_body", "compressed stream ends early")
    assert result.body is None


@pytest.mark.timeout(10)
def test_garbage_under_content_encoding_is_a_decoding_error(site: Loopback) -> None:
    site.routes["/junk"] = Reply(body=b"not gzip at all" * 10,
                                 headers={**HTML, "Content-Encoding": "gzip"})
    site.routes["/br"] = Reply(body=b"\x0b\x02\x80hello\x03", headers={**HTML,
                                                                      "Content-Encoding": "br"})
    for path in ("/junk", "/br"):
        result = get(site, path)
        assert (result.error_slug, result.body, result.attempts) == ("decoding_error", None, 1)


@pytest.mark.timeout(10)
def test_raw_deflate_and_multi_member_gzip_are_read(site: Loopback) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    site.routes["/raw"] = Reply(body=packer.compress(PAGE) + packer.flush(),
                                headers={**HTML, "Content-Encoding": "deflate"})
    half = len(PAGE) // 2
    site.routes["/members"] = Reply(
        body=gzip.compress(PAGE[:half]) + gzip.compress(PAGE[half:]),
        headers={**HTML, "Content-Encoding": "gzip"},
    )
    assert get(site, "/raw").body == PAGE
    assert get(site, "/members").body == PAGE


@pytest.mark.timeout(10)
def test_too_many_headers_is_a_failure_not_a_crash(site: Loopback) -> None:
    site.routes["/headers"] = Reply(body=PAGE, headers={f"X-Junk-{n}": "x" for n in range(200)})
    result = get(site, "/headers")
    assert result.error_slug == "connection_error" and result.status is None


# --- what the body claims to be --------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("content_type", "error"),
    [
        ("image/png", "unsupported_content_type: image/png"),
        ("application/octet-stream", "unsupported_content_type: application/octet-stream"),
        ("application/pdf; name=a.pdf", "unsupported_content_type: application/pdf"),
        ("text/plain; charset=utf-8", "unsupported_content_type: text/plain"),
        ("Text/HTML; Charset=UTF-8", None),
        ("application/xhtml+xml", None),
        (None, None),  # missing: the parser sniffs
    ],
)
def test_article_pages_must_be_html(
    site: Loopback, content_type: str | None, error: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    site.routes["/page"] = Reply(body=PAGE, headers=headers)
    result = get(site, "/page")
    assert (result.status, result.error, result.attempts) == (
        200, FetchFailure.from_text(error) if error else None, 1)
    assert result.body == (None if error else PAGE), "a non-article body is not downloaded"


@pytest.mark.timeout(10)
def test_content_type_is_not_checked_for_feeds_or_errors(site: Loopback) -> None:
    site.routes["/feed"] = Reply(body=b"<rss/>", headers={"Content-Type": "application/rss+xml"})
    site.routes["/gone"] = Reply(404, b"\x89PNG", headers={"Content-Type": "image/png"})
    with fetch.Fetcher(make_outlet(site.url("/"))) as fetcher:
        assert fetcher.fetch(site.url("/feed")).body == b"<rss/>"  # discovery: any type
    assert get(site, "/gone").error == FetchFailure("http_404")


@pytest.mark.timeout(10)
def test_an_invalid_charset_keeps_the_bytes_for_the_parser(site: Loopback) -> None:
    body = "<html><head><title>Café</title></head><body>Café crème</body></html>".encode()
    site.routes["/charset"] = Reply(body=body,
                                    headers={"Content-Type": "text/html; charset=x-klingon-9"})
    result = get(site, "/charset")
    assert (result.error, result.body) == (None, body)
    assert "Café crème" in decode_html(result.body, result.headers)


# --- where a link may point ------------------------------------------------------------------


@pytest.mark.timeout(10)
def test_private_and_metadata_addresses_are_refused_without_a_request(site: Loopback) -> None:
    port = site.base.rsplit(":", 1)[1]
    urls = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",  # cloud metadata
        site.url("/a"),  # 127.0.0.1
        f"http://localhost:{port}/a",
        f"http://[::1]:{port}/a",
        f"http://2130706433:{port}/a",  # 127.0.0.1 written as one number
        "http://10.0.0.1/a",
        "http://[fd00::1]/a",
    ]
    site.routes["/a"] = Reply(body=PAGE, headers=HTML)
    results = list(fetch_urls(urls, make_outlet(site.url("/"), allow_private_addresses=False)))
    assert [r.error_slug for r in results] == ["private_address"] * len(urls)
    assert all(r.status is None and r.body is None for r in results)
    assert sum(site.hits.values()) == 0
    assert all(r.attempts == 1 and r.waited_s == 0.0 for r in results), "refused, not retried"


@pytest.mark.timeout(10)
def test_a_redirect_to_the_metadata_service_is_refused(
    site: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    pretend_public(monkeypatch, "127.0.0.1")  # the loopback site plays a public one
    metadata = "http://169.254.169.254/latest/meta-data/"
    site.routes["/story"] = Reply(302, headers={"Location": metadata})
    result = get(site, "/story", allow_private_addresses=False)
    assert (result.error_slug, result.final_url, result.attempts) == (
        "private_address", metadata, 1)
    assert site.hits["/story"] == 1


# Every spelling of a non-public address that the system would connect to as one.
NOT_PUBLIC_SPELLINGS = [
    "::127.0.0.1",  # IPv4-compatible (deprecated; Python 3.11 calls it global)
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:0:7f00:1",  # IPv4-translated (RFC 2765)
    "::ffff:0:a9fe:a9fe",  # ... of the metadata address
    "64:ff9b::7f00:1",  # NAT64 well-known prefix
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::7f00:1",  # NAT64 local-use prefix (RFC 8215)
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of the metadata address
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "::ffff:169.254.169.254", "::", "::1", "fe80::1%eth0", "ff02::1", "fd00::1",
    "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "0x7f000001", "017700000001",
    "0xa9.0xfe.0xa9.0xfe", "10.1", "not an address",
]


@pytest.mark.parametrize("address", NOT_PUBLIC_SPELLINGS)
def test_no_spelling_of_a_private_address_is_public(address: str) -> None:
    assert not netguard.is_public(address)


@pytest.mark.parametrize("address", [
    "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822", "2002:5db8:d822::1", "0x5d.0xb8.0xd8.0x22",
])
def test_public_addresses_stay_public_in_every_spelling(address: str) -> None:
    assert netguard.is_public(address)


@pytest.mark.timeout(10)
def test_loopback_spelled_otherwise_in_a_url_is_refused_without_a_request(
    site: Loopback,
) -> None:
    port = site.base.rsplit(":", 1)[1]
    hosts = ["[::127.0.0.1]", "[::ffff:0:7f00:1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]",
             "[2002:7f00:1::]", "0177.0.0.1", "0x7f.1", "127.1", "0x7f000001"]
    urls = [f"http://{host}:{port}/a" for host in hosts]
    site.routes["/a"] = Reply(body=PAGE, headers=HTML)
    results = list(fetch_urls(urls, make_outlet(site.url("/"), allow_private_addresses=False)))
    assert [r.error_slug for r in results] == ["private_address"] * len(urls)
    assert sum(site.hits.values()) == 0


# --- DNS rebinding: the connection goes to the address that was checked ----------------------
# "news.example" answers through a fake socket.getaddrinfo: the first answer is what the
# check before the request sees, the second what resolving again (to connect) would see.


@pytest.mark.timeout(10)
@pytest.mark.parametrize("rebound", [["127.0.0.1"], ["127.0.0.1", "93.184.216.34"]])
def test_a_name_rebound_to_loopback_after_the_check_is_refused(
    site: Loopback, monkeypatch: pytest.MonkeyPatch, rebound: list[str]
) -> None:
    asked = fake_dns(monkeypatch, {"news.example": [["93.184.216.34"], rebound]})
    site.routes["/story"] = Reply(body=PAGE, headers=HTML)
    port = site.base.rsplit(":", 1)[1]
    (result,) = fetch_urls(
        [f"http://news.example:{port}/story"],
        make_outlet(site.url("/"), allow_private_addresses=False, obey_robots=False),
    )
    shown = ", ".join(rebound)
    assert result.error == FetchFailure(
        "private_address", f"news.example resolves to {shown} when connecting")
    assert (result.status, result.body, result.attempts) == (None, None, 1)
    assert sum(site.hits.values()) == 0, "nothing reached the loopback server"
    assert asked["news.example"] == 2, "one look-up to check, one to connect, none after"


@pytest.mark.timeout(10)
def test_a_session_resolves_and_checks_by_itself(
    site: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the fetcher's check in front: the session's connections refuse on their own.
    fake_dns(monkeypatch, {"news.example": [["127.0.0.1"]]})
    site.routes["/story"] = Reply(body=PAGE, headers=HTML)
    port = site.base.rsplit(":", 1)[1]
    outlet = make_outlet(site.url("/"), allow_private_addresses=False)
    with make_session(outlet) as session, pytest.raises(requests.ConnectionError) as raised:
        session.get(f"http://news.example:{port}/story", timeout=2)
    assert isinstance(raised.value.args[0].reason, netguard.BlockedAddressError)
    assert sum(site.hits.values()) == 0


@pytest.mark.timeout(10)
@pytest.mark.parametrize("allow_private", [False, True])
def test_a_name_is_fetched_from_its_checked_address_with_its_host_header(
    site: Loopback, monkeypatch: pytest.MonkeyPatch, allow_private: bool
) -> None:
    # False: guarded connections (the loopback plays a public address); True: plain ones.
    pretend_public(monkeypatch, "127.0.0.1")
    fake_dns(monkeypatch, {"news.example": [["127.0.0.1"]]})
    site.routes["/story"] = Reply(body=PAGE, headers=HTML)
    port = site.base.rsplit(":", 1)[1]
    (result,) = fetch_urls(
        [f"http://news.example:{port}/story"],
        make_outlet(site.url("/"), allow_private_addresses=allow_private, obey_robots=False),
    )
    assert (result.error, result.body) == (None, PAGE)
    ((path, headers),) = site.requests
    assert (path, headers["Host"]) == ("/story", f"news.example:{port}")


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    """An HTTPS server on 127.0.0.1 whose self-signed certificate names news.example only:
    (port, the certificate to trust, the SNI names the clients sent)."""
    needs(None if shutil.which("openssl") else "the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    sni: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: sni.append(name)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    try:
        yield server.server_address[1], cert, sni
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.mark.timeout(10)
def test_tls_sni_and_certificate_are_checked_against_the_name(
    tls_site: tuple[int, Path, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert, sni = tls_site
    pretend_public(monkeypatch, "127.0.0.1")
    fake_dns(monkeypatch, {"news.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
    outlet = make_outlet(f"https://news.example:{port}/", allow_private_addresses=False)
    with make_session(outlet) as session:
        response = session.get(f"https://news.example:{port}/", verify=str(cert), timeout=5)
        assert (response.status_code, response.content) == (200, PAGE)
        assert sni == ["news.example"]
        # Same address, another name: the certificate is checked against the name.
        with pytest.raises(requests.exceptions.SSLError, match="other.example"):
            session.get(f"https://other.example:{port}/", verify=str(cert), timeout=5)
