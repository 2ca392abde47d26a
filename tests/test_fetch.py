"""fetch_urls against a loopback server: statuses, retries, limits, robots, private addresses."""

from __future__ import annotations

import datetime as dt
import gzip
import socket
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.loopback import Loopback, Reply

from newslake import addresses as addresses_module
from newslake import fetch
from newslake.config import Outlet, Politeness
from newslake.fetch import DEFAULT_USER_AGENT, FetchFailure, FetchResult, fetch_urls, make_session

ROBOTS = b"User-agent: *\nDisallow: /private/\n"

pytestmark = pytest.mark.usefixtures("fast_backoff")


def make_outlet(base_url: str, **politeness: object) -> Outlet:
    settings: dict[str, object] = {
        "requests_per_second": 500.0,  # the tests measure behaviour, not patience
        "concurrency": 3,
        "allow_private_addresses": ("127.0.0.1/32",),
        "timeout_seconds": 2.0,
        "max_bytes": 10_000,
    }
    settings.update(politeness)
    return Outlet(
        id="loop",
        name="Loopback",
        base_url=base_url,
        language="en",
        timezone="UTC",
        start_date=dt.date(2024, 1, 1),
        politeness=Politeness(**settings),  # type: ignore[arg-type]
    )


@pytest.fixture
def site() -> Iterator[Loopback]:
    with Loopback({"/robots.txt": Reply(body=ROBOTS)}) as server:
        yield server


def pretend_public(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    """Treat ``addresses`` as public (the loopback site plays a public one), everywhere
    the policy is asked: before the request and in the connection."""
    real = addresses_module.is_public
    monkeypatch.setattr(addresses_module, "is_public", lambda a: a in addresses or real(a))


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> Counter[str]:
    """``socket.getaddrinfo`` gives ``answers[host]`` in turn for these hosts (the last one
    repeats), and the real answer for any other; returns how often each host was asked."""
    real = socket.getaddrinfo
    asked: Counter[str] = Counter()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked[host] += 1
        turns = answers[host]
        port = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, port))
            for a in turns[min(asked[host], len(turns)) - 1]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def fetch_one(site: Loopback, path: str, **politeness: object) -> FetchResult:
    outlet = make_outlet(site.url("/"), **politeness)
    (result,) = fetch_urls([site.url(path)], outlet)
    return result


@pytest.mark.timeout(10)
def test_200_gives_body_headers_and_our_user_agent(site: Loopback) -> None:
    site.routes["/a"] = Reply(body=b"<html>a</html>", headers={"Content-Type": "text/html"})
    result = fetch_one(site, "/a")
    assert result.ok and result.error is None
    assert (result.status, result.body, result.attempts) == (200, b"<html>a</html>", 1)
    assert result.headers["Content-Type"] == "text/html"
    assert result.url == result.final_url == site.url("/a")
    assert result.fetched_at.tzinfo is not None and result.elapsed_s > 0
    assert site.user_agents[-1] == DEFAULT_USER_AGENT


@pytest.mark.timeout(10)
def test_user_agent_from_environment(site: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLAKE_USER_AGENT", "tester/1")
    site.routes["/a"] = Reply(body=b"a")
    assert fetch_one(site, "/a").ok
    assert set(site.user_agents) == {"tester/1"}
    assert make_session(make_outlet(site.url())).headers["User-Agent"] == "tester/1"


@pytest.mark.timeout(10)
def test_gzip_content_encoding_is_decoded(site: Loopback) -> None:
    site.routes["/z"] = Reply(body=gzip.compress(b"x" * 5000), headers={"Content-Encoding": "gzip"})
    assert fetch_one(site, "/z").body == b"x" * 5000


@pytest.mark.timeout(10)
def test_404_is_not_retried(site: Loopback) -> None:
    result = fetch_one(site, "/missing")
    assert (result.status, result.error_slug, result.attempts) == (404, "http_404", 1)
    assert site.hits["/missing"] == 1


@pytest.mark.timeout(10)
def test_500_then_200_is_retried(site: Loopback) -> None:
    site.routes["/flaky"] = [Reply(500, b"oops"), Reply(200, b"fine")]
    result = fetch_one(site, "/flaky")
    assert (result.status, result.body, result.error, result.attempts) == (200, b"fine", None, 2)


@pytest.mark.timeout(10)
def test_persistent_503_gives_up_after_max_attempts(site: Loopback) -> None:
    site.routes["/down"] = Reply(503, b"down")
    result = fetch_one(site, "/down")
    assert (result.status, result.error_slug, result.attempts) == (
        503, "http_503", fetch.MAX_ATTEMPTS)


@pytest.mark.timeout(10)
def test_429_honours_retry_after(site: Loopback) -> None:
    site.routes["/busy"] = [Reply(429, headers={"Retry-After": "1"}), Reply(200, b"ok")]
    result = fetch_one(site, "/busy")
    assert (result.status, result.attempts, result.waited_s) == (200, 2, 1.0)


@pytest.mark.timeout(10)
def test_slow_server_times_out_and_is_retried(site: Loopback) -> None:
    site.routes["/slow"] = Reply(body=b"late", delay_s=1.0)
    result = fetch_one(site, "/slow", timeout_seconds=0.2)
    assert result.error is not None and result.error.slug == "timeout"
    assert result.status is None and result.body is None
    assert result.attempts == fetch.MAX_ATTEMPTS


@pytest.mark.timeout(10)
@pytest.mark.parametrize("send_length", [True, False])
def test_too_large_body(site: Loopback, send_length: bool) -> None:
    site.routes["/big"] = Reply(body=b"x" * 50_000, send_length=send_length)
    result = fetch_one(site, "/big", max_bytes=10_000)
    assert (result.status, result.error_slug, result.body, result.attempts) == (
        200,
        "too_large",
        None,
        1,
    )


@pytest.mark.timeout(10)
def test_redirect_is_followed(site: Loopback) -> None:
    site.routes["/old"] = Reply(301, headers={"Location": "/new"})
    site.routes["/new"] = Reply(body=b"new")
    result = fetch_one(site, "/old")
    assert (result.url, result.final_url, result.body) == (
        site.url("/old"),
        site.url("/new"),
        b"new",
    )


@pytest.mark.timeout(10)
def test_redirect_loop_stops(site: Loopback) -> None:
    site.routes["/a"] = Reply(302, headers={"Location": "/b"})
    site.routes["/b"] = Reply(302, headers={"Location": "/a"})
    result = fetch_one(site, "/a")
    assert (result.error_slug, result.status, result.attempts) == ("redirect_loop", None, 1)
    assert site.hits["/a"] + site.hits["/b"] == fetch.MAX_REDIRECTS + 1


@pytest.mark.timeout(10)
def test_robots_read_once_and_disallow_without_request(site: Loopback) -> None:
    site.routes["/a"] = Reply(body=b"a")
    site.routes["/private/x"] = Reply(body=b"secret")
    outlet = make_outlet(site.url("/"))
    urls = [site.url("/a"), site.url("/private/x"), site.url("/a?page=2")]
    results = list(fetch_urls(urls, outlet))
    assert [r.error_slug for r in results] == [None, "robots_disallowed", None]
    assert site.hits["/private/x"] == 0
    assert site.hits["/robots.txt"] == 1


def _robots_verdicts(site: Loopback, robots: bytes, paths: list[str]) -> list[str | None]:
    site.routes["/robots.txt"] = Reply(body=robots)
    for path in paths:
        site.routes[path.split("?")[0]] = Reply(body=b"page")
    results = fetch_urls([site.url(p) for p in paths], make_outlet(site.url("/")))
    return [r.error_slug for r in results]


RFC9309 = b"""User-agent: *
Disallow: /
Allow: /news/
Disallow: /*?replytocom=
Disallow: /*.pdf$
"""


@pytest.mark.timeout(10)
def test_robots_follow_rfc_9309(site: Loopback) -> None:
    """The longest match wins, Allow on a tie; ``*`` matches any run; ``$`` anchors the
    end (the standard library's parser takes the first match and knows neither)."""
    paths = ["/news/a", "/other", "/news/a?replytocom=5", "/news/a.pdf", "/news/a.pdfx"]
    allowed = [None, "robots_disallowed", "robots_disallowed", "robots_disallowed", None]
    assert _robots_verdicts(site, RFC9309, paths) == allowed
    assert site.hits["/other"] == site.hits["/news/a.pdf"] == 0


@pytest.mark.timeout(10)
def test_robots_groups_match_our_product_token_only(site: Loopback) -> None:
    # DEFAULT_USER_AGENT's comment holds "github" and "newslake" again: only the product
    # token ("newslake") chooses the group.
    robots = b"User-agent: github\nDisallow: /\n\nUser-agent: newslake\nDisallow: /mine\n"
    assert _robots_verdicts(site, robots, ["/a", "/mine"]) == [None, "robots_disallowed"]


@pytest.mark.timeout(10)
def test_crawl_delay_slows_the_outlet_down(site: Loopback) -> None:
    site.routes["/robots.txt"] = Reply(body=b"User-agent: *\nCrawl-delay: 2\nAllow: /\n")
    site.routes["/a"] = Reply(body=b"a")
    with fetch.Fetcher(make_outlet(site.url("/"))) as fetcher:
        assert fetcher.fetch(site.url("/a")).ok
        assert fetcher._limiter._interval == 2.0  # 500 requests/s configured


@pytest.mark.timeout(10)
def test_robots_over_500_kib_is_read_up_to_500_kib(site: Loopback) -> None:
    """RFC 9309 §2.5: parse at least the first 500 KiB. A 600 KiB allow-all file used to
    block the whole outlet (too_large, then "unreachable": disallow all)."""
    padding = b"# " + b"x" * 1000 + b"\n"
    head = b"User-agent: *\nDisallow: /early\n"
    robots = head + padding * 620 + b"Disallow: /late\n"
    assert len(robots) > 600 * 1024
    verdicts = _robots_verdicts(site, robots, ["/a", "/early", "/late"])
    assert verdicts == [None, "robots_disallowed", None]


@pytest.mark.timeout(10)
def test_robots_ignored_when_not_obeyed(site: Loopback) -> None:
    site.routes["/private/x"] = Reply(body=b"secret")
    assert fetch_one(site, "/private/x", obey_robots=False).body == b"secret"
    assert site.hits["/robots.txt"] == 0


@pytest.mark.timeout(10)
def test_private_address_refused_without_any_request(site: Loopback) -> None:
    site.routes["/a"] = Reply(body=b"a")
    result = fetch_one(site, "/a", allow_private_addresses=False)
    assert (result.error_slug, result.status, result.body) == ("private_address", None, None)
    assert sum(site.hits.values()) == 0


@pytest.mark.timeout(10)
def test_private_address_checked_on_every_redirect_hop(
    site: Loopback, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loopback site plays a public one; a name of the intranet stays what it is.
    pretend_public(monkeypatch, "127.0.0.1")
    fake_dns(monkeypatch, {"intranet.example": [["10.0.0.7"]]})
    port = site.base.rsplit(":", 1)[1]
    site.routes["/hop"] = Reply(302, headers={"Location": f"http://intranet.example:{port}/inside"})
    result = fetch_one(site, "/hop", allow_private_addresses=False, obey_robots=False)
    assert result.error == FetchFailure("private_address")
    assert result.final_url == f"http://intranet.example:{port}/inside"
    assert (site.hits["/hop"], site.hits["/inside"]) == (1, 0)


@pytest.mark.timeout(10)
def test_other_schemes_refused(site: Loopback) -> None:
    (result,) = fetch_urls(["ftp://127.0.0.1/x"], make_outlet(site.url("/")))
    assert result.error == FetchFailure("unsupported_scheme")


@pytest.mark.timeout(10)
def test_results_in_input_order_despite_concurrency(site: Loopback) -> None:
    for n in range(8):
        site.routes[f"/p{n}"] = Reply(body=str(n).encode(), delay_s=0.05 * (n % 3))
    urls = [site.url(f"/p{n}") for n in range(8)]
    results = list(fetch_urls(urls, make_outlet(site.url("/"), concurrency=4)))
    assert [r.url for r in results] == urls
    assert [r.body for r in results] == [str(n).encode() for n in range(8)]


@pytest.mark.timeout(10)
def test_rate_limit_spaces_requests(site: Loopback) -> None:
    site.routes["/r"] = Reply(body=b"r")
    outlet = make_outlet(site.url("/"), requests_per_second=20.0, obey_robots=False)
    started = time.monotonic()
    list(fetch_urls([site.url(f"/r?{n}") for n in range(6)], outlet))
    assert time.monotonic() - started >= 5 / 20.0 * 0.9


@pytest.mark.timeout(10)
def test_refused_connection_is_a_result_not_an_exception() -> None:
    closed = Loopback()
    base = closed.url("/")  # the port was ours and is now closed: connections are refused
    closed.stop()
    (result,) = fetch_urls([base + "gone"], make_outlet(base, obey_robots=False))
    assert result.error is not None and result.error.slug == "connection_error"
    assert result.attempts == fetch.MAX_ATTEMPTS


@pytest.mark.timeout(10)
def test_unreachable_robots_means_disallowed() -> None:
    closed = Loopback()
    base = closed.url("/")
    closed.stop()
    (result,) = fetch_urls([base + "a"], make_outlet(base))
    assert result.error == FetchFailure("robots_disallowed")  # RFC 9309 §2.3.1.4


# --- conditional requests ------------------------------------------------------------------

ETAG = '"v1-abc"'
MODIFIED = "Mon, 15 Jan 2024 08:00:00 GMT"


def conditional_headers(site: Loopback, path: str) -> dict[str, str]:
    """The conditional headers of the last request for ``path``."""
    headers = [h for p, h in site.requests if p == path][-1]
    return {k: v for k, v in headers.items() if k.lower().startswith("if-")}


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("validators", "sent"),
    [
        ({"ETag": ETAG}, {"If-None-Match": ETAG}),
        ({"Last-Modified": MODIFIED}, {"If-Modified-Since": MODIFIED}),
        ({"ETag": ETAG, "Last-Modified": MODIFIED},
         {"If-None-Match": ETAG, "If-Modified-Since": MODIFIED}),
    ],
)
def test_304_gives_back_the_previous_response(
    site: Loopback, validators: dict[str, str], sent: dict[str, str]
) -> None:
    site.routes["/story"] = Reply(body=b"<html>story</html>", conditional=True,
                                  headers={"Content-Type": "text/html", **validators})
    outlet = make_outlet(site.url("/"))
    (first,) = fetch_urls([site.url("/story")], outlet)
    assert conditional_headers(site, "/story") == {} and first.reused_from is None
    (again,) = fetch_urls([site.url("/story")], outlet, previous={first.url: first})
    assert conditional_headers(site, "/story") == sent
    assert site.bytes_sent["/story"] == len(first.body or b""), "the body came once"
    assert (again.status, again.headers, again.body, again.error) == (
        first.status, first.headers, first.body, None
    )
    assert again.reused_from == first.fetched_at < again.fetched_at
    # A third run revalidates the reused response and still points at the first fetch.
    (third,) = fetch_urls([site.url("/story")], outlet, previous={again.url: again})
    assert third.reused_from == first.fetched_at and third.body == first.body


@pytest.mark.timeout(10)
def test_changed_page_is_fetched_again(site: Loopback) -> None:
    site.routes["/story"] = [
        Reply(body=b"old", conditional=True, headers={"ETag": '"1"'}),
        Reply(body=b"new", conditional=True, headers={"ETag": '"2"'}),
    ]
    outlet = make_outlet(site.url("/"))
    (first,) = fetch_urls([site.url("/story")], outlet)
    (second,) = fetch_urls([site.url("/story")], outlet, previous={first.url: first})
    assert conditional_headers(site, "/story") == {"If-None-Match": '"1"'}
    assert (second.body, second.headers["ETag"], second.reused_from) == (b"new", '"2"', None)


@pytest.mark.timeout(10)
def test_no_conditional_request_without_validators_or_a_good_previous(site: Loopback) -> None:
    site.routes["/plain"] = Reply(body=b"plain")
    outlet = make_outlet(site.url("/"))
    (plain,) = fetch_urls([site.url("/plain")], outlet)
    failed = FetchResult(site.url("/plain"), site.url("/plain"), 500, {"ETag": '"x"'}, b"e",
                         plain.fetched_at, FetchFailure("http_500"))
    for previous in (plain, failed):
        (result,) = fetch_urls([site.url("/plain")], outlet, previous={previous.url: previous})
        assert conditional_headers(site, "/plain") == {}
        assert result.body == b"plain" and result.reused_from is None


@pytest.mark.timeout(10)
def test_validators_go_to_the_final_url_of_a_redirect(site: Loopback) -> None:
    site.routes["/short"] = Reply(301, headers={"Location": "/long"})
    site.routes["/long"] = Reply(body=b"long", conditional=True, headers={"ETag": '"L"'})
    outlet = make_outlet(site.url("/"))
    (first,) = fetch_urls([site.url("/short")], outlet)
    (again,) = fetch_urls([site.url("/short")], outlet, previous={first.url: first})
    assert conditional_headers(site, "/short") == {}
    assert conditional_headers(site, "/long") == {"If-None-Match": '"L"'}
    assert (again.url, again.final_url, again.body) == (first.url, first.final_url, b"long")
    assert again.reused_from == first.fetched_at


@pytest.mark.timeout(10)
def test_304_without_a_conditional_request_is_an_error(site: Loopback) -> None:
    site.routes["/odd"] = Reply(304)
    result = fetch_one(site, "/odd")
    assert (result.status, result.error_slug, result.reused_from) == (304, "http_304", None)
