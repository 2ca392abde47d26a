"""HTTP fetching with the manners a news site expects: robots.txt, a rate limit, retries.

``fetch_urls`` fetches many pages of one outlet on a few threads and yields one
``FetchResult`` per URL, in input order. It never raises for a page: a failure comes back
as a result whose ``error`` is a ``FetchFailure``: a short ``slug`` (``robots_disallowed``,
``private_address``, ``too_large``, ``timeout``, ``connection_error``, ``http_404`` …) and
an optional ``detail``. ``error`` is None only for a complete 2xx response.

``Fetcher`` holds the per-run state (sessions, robots rules, the rate limit) and fetches
one URL at a time; discovery uses it directly so that feeds and sitemaps get the same
politeness as articles.

Hostile servers are expected: the body is read as it arrives (``read1``), so a server
dripping bytes meets the body deadline; ``Content-Encoding`` is undone here, in steps no
larger than the room left under ``max_bytes``, so a gzip bomb stops at the cap on the
*decoded* size without inflating further; a body shorter than its ``Content-Length``, or a
compressed stream that ends before its end marker, is ``truncated_body``; article
pages must be HTML (``unsupported_content_type`` otherwise, decided from the header before
the body is read; a missing ``Content-Type`` is let through for the parser to sniff).

Addresses: every hop (redirects included) is refused before its request when its host
resolves to an address the outlet's policy does not allow (public only, unless
``allow_private_addresses`` lists networks or host names or is true; link-local and metadata
addresses only when listed by a network inside them, ``newslake.addresses``), and
``make_session``'s connections resolve once more, check those addresses again and connect
only to one of them (``netguard``), so a DNS answer that changes in between (rebinding)
cannot reach loopback, private or metadata addresses.

Conditional requests: given the previous response for a URL (from the raw zone), the
request for its final URL carries ``If-None-Match`` / ``If-Modified-Since``; a 304 gives back
the previous response (same status, headers, body) with ``reused_from`` set, so that
parsing it gives the same row.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from protego import Protego
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)

from newslake import __version__, netguard
from newslake.config import Outlet

USER_AGENT_ENV = "NEWSLAKE_USER_AGENT"
DEFAULT_USER_AGENT = f"newslake/{__version__} (+https://github.com/newslake/newslake)"

# Three tries ride out a blip (a deploy, a short overload) without hammering a site that is down.
MAX_ATTEMPTS = 3
# Back-off starts at 0.5 s and doubles; jitter keeps parallel workers from retrying in step.
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 10.0
BACKOFF_JITTER_S = 0.5
# A longer Retry-After would stall a whole daily run; after this we try (and maybe fail) anyway.
RETRY_AFTER_CAP_S = 30.0
# Five hops cover http→https→www→trailing-slash; more is a loop or a trap (as in browsers' spirit).
MAX_REDIRECTS = 5
# RFC 9309 §2.5: a crawler must parse at least the first 500 KiB of robots.txt; Google
# parses that much and ignores the rest. newslake reads the first 500 KiB and ignores the
# rest (a bigger file is no reason to stay away from the site).
ROBOTS_MAX_BYTES = 500 * 1024
# A Crawl-delay above this would make one day's run last longer than the day.
MAX_CRAWL_DELAY_S = 10.0
# A read timeout bounds each socket read; a server dripping a byte at a time gets this many
# timeouts' worth of wall time for the whole body.
BODY_DEADLINE_FACTOR = 3
# Results fetched ahead of the consumer: keeps every thread busy, bounds memory (bodies).
PREFETCH_PER_WORKER = 4
CHUNK_BYTES = 64 * 1024
# Only what _Inflater undoes is asked for (requests would add br/zstd when their packages
# are installed, and urllib3 would then decode those without our step-wise size cap).
ACCEPT_ENCODING = "gzip, deflate"
GZIP_MAGIC = b"\x1f\x8b"

# What an article page may be. Anything else (image/png, application/pdf, octet-stream…)
# is not an article and is not worth downloading; a missing type is left to the parser.
ARTICLE_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml"})

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NOT_MODIFIED = 304
ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

ERR_ROBOTS = "robots_disallowed"
ERR_PRIVATE = "private_address"
ERR_TOO_LARGE = "too_large"
ERR_TIMEOUT = "timeout"
ERR_CONNECTION = "connection_error"
ERR_SCHEME = "unsupported_scheme"
ERR_INVALID_URL = "invalid_url"
ERR_REDIRECT_LOOP = "redirect_loop"
ERR_TOO_MANY_REDIRECTS = "too_many_redirects"
ERR_DECODING = "decoding_error"
ERR_TRUNCATED = "truncated_body"
ERR_CONTENT_TYPE = "unsupported_content_type"
ERR_INTERNAL = "internal_error"


@dataclass(frozen=True)
class FetchFailure:
    """Why a fetch gave no complete 2xx response: a ``slug`` (the ``ERR_*`` values,
    ``http_<status>``) and, when there is more to say, a free-text ``detail``.

    ``str()`` is its stored form, ``"<slug>"`` or ``"<slug>: <detail>"``: what the raw
    zone's WARC headers hold (``from_text`` reads it back) and quarantine's
    ``fetch:<…>`` check names."""

    slug: str
    detail: str | None = None

    def __str__(self) -> str:
        return self.slug if self.detail is None else f"{self.slug}: {self.detail}"

    @classmethod
    def from_text(cls, text: str) -> FetchFailure:
        """The stored form read back (exactly: ``str(from_text(t)) == t``)."""
        slug, sep, detail = text.partition(": ")
        return cls(slug, detail if sep else None)


@dataclass(frozen=True)
class FetchResult:
    """One URL's fetch: the final response (after redirects) or why there is none."""

    url: str  # as requested
    final_url: str  # after redirects
    status: int | None  # of the final response; None when no response came
    headers: dict[str, str]
    body: bytes | None  # decoded (Content-Encoding removed); None when missing or too large
    fetched_at: dt.datetime  # aware UTC: when the final response arrived (or the fetch gave up)
    error: FetchFailure | None = None  # None for a complete 2xx
    attempts: int = 0  # tries made (a try follows its redirects)
    elapsed_s: float = 0.0  # wall time for this URL, waits and retries included
    waited_s: float = 0.0  # back-off chosen between tries (Retry-After or exponential), summed
    # Set when the server answered a conditional request with 304 Not Modified: status,
    # headers and body are the earlier response's, fetched at this time.
    reused_from: dt.datetime | None = None
    # Set when a later fetch of the URL failed (``kept_after``: its error, ``kept_at``: when)
    # and this earlier complete response was kept in its place (a rerun only adds knowledge).
    kept_after: FetchFailure | None = None
    kept_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def error_slug(self) -> str | None:
        return self.error.slug if self.error else None

    def kept_in_place_of(self, failed: FetchResult) -> FetchResult:
        """This earlier complete response standing in for ``failed``, a later fetch of
        its URL that failed (404, 410, a timeout, robots …): noted with that error
        (``kept_after``) and when it came (``kept_at``), with the later fetch's effort."""
        return replace(self, kept_after=failed.error, kept_at=failed.fetched_at,
                       attempts=failed.attempts, elapsed_s=failed.elapsed_s,
                       waited_s=failed.waited_s)

    def as_previous(self) -> FetchResult:
        """This response as the previous one of a new fetch (its validators, what a
        failure keeps), without the note of an earlier failure it stood in for."""
        return replace(self, kept_after=None, kept_at=None)

    def header(self, name: str) -> str | None:
        """A response header, whatever its case."""
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)

    def validators(self) -> dict[str, str]:
        """The conditional-request headers this response allows (RFC 9110 §13.1): none
        unless it is a complete 2xx with a body and an ETag or a Last-Modified."""
        if self.error is not None or self.body is None or not 200 <= (self.status or 0) < 300:
            return {}
        conditions = {}
        etag, modified = self.header("ETag"), self.header("Last-Modified")
        if etag:
            conditions["If-None-Match"] = etag
        if modified:
            conditions["If-Modified-Since"] = modified
        return conditions


def default_user_agent() -> str:
    return os.environ.get(USER_AGENT_ENV) or DEFAULT_USER_AGENT


def make_session(outlet: Outlet, *, user_agent: str | None = None) -> requests.Session:
    """A session for one outlet: our User-Agent, a pool as wide as its concurrency, no retries
    of its own (``Fetcher`` retries, with back-off and rate limiting). Its connections go
    only to addresses they resolved and checked themselves against the outlet's address
    policy (``netguard.GuardedAdapter``; public only unless ``allow_private_addresses``)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent or default_user_agent()
    session.max_redirects = MAX_REDIRECTS
    width = max(1, outlet.politeness.concurrency)
    adapter = netguard.GuardedAdapter(pool_connections=width, pool_maxsize=width, max_retries=0,
                                      policy=outlet.politeness.address_policy)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _RateLimiter:
    """Spaces request starts at least ``1/per_second`` apart, across all threads."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)

    def slow_down(self, interval_s: float) -> None:
        with self._lock:
            self._interval = max(self._interval, interval_s)


@dataclass
class _Outcome:
    """One try: its result, and whether (and after how long) it is worth trying again."""

    result: FetchResult
    retry: bool = False
    retry_after_s: float | None = None


@dataclass(frozen=True)
class _Request:
    """What one ``Fetcher.fetch`` call asks for, shared by its tries."""

    url: str
    max_bytes: int
    check_robots: bool
    previous: FetchResult | None
    content_types: Collection[str] | None
    # Keep the first max_bytes of a bigger body (robots.txt) instead of failing too_large.
    truncate: bool = False


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (one module function, so tests can stand in)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - _now()).total_seconds())


def _last_outcome(state: RetryCallState) -> _Outcome:
    """Out of tries: the last try's result is the answer (tenacity would raise instead)."""
    assert state.outcome is not None
    outcome: _Outcome = state.outcome.result()
    return outcome


def _backoff(state: RetryCallState) -> float:
    """Retry-After when the server gave one (capped), else exponential back-off with jitter."""
    outcome = state.outcome
    if outcome is not None and not outcome.failed:
        last: _Outcome = outcome.result()
        if last.retry_after_s is not None:
            return min(last.retry_after_s, RETRY_AFTER_CAP_S)
    wait = wait_exponential_jitter(
        multiplier=BACKOFF_INITIAL_S, max=BACKOFF_MAX_S, jitter=BACKOFF_JITTER_S
    )
    return float(wait(state))


class Fetcher:
    """One outlet's fetching state: sessions, robots rules, rate limit. Thread-safe.

    Pass ``session`` to use one session for everything (it is then the caller's to close;
    make it with ``make_session``, or its connections are not guarded against DNS
    rebinding); otherwise each thread gets its own from ``make_session``.

    ``robots_txt`` maps a robots.txt URL to its text as read recently (RFC 9309 §2.4
    allows caching it for 24 hours): those are not requested again. ``robots_read`` maps
    the robots.txt URLs this fetcher read to their text ("" when unavailable: all
    allowed), for a caller that keeps them; unreachable ones are left out.
    """

    def __init__(
        self,
        outlet: Outlet,
        *,
        session: requests.Session | None = None,
        user_agent: str | None = None,
        robots_txt: Mapping[str, str] | None = None,
    ) -> None:
        self.outlet = outlet
        self.politeness = outlet.politeness
        self.user_agent = user_agent or (
            str(session.headers.get("User-Agent")) if session else default_user_agent()
        )
        self._shared_session = session
        self._local = threading.local()
        self._own_sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._robots: dict[str, Protego] = {}
        self._robots_lock = threading.Lock()
        self._robots_known = dict(robots_txt or {})
        self.robots_read: dict[str, str] = {}
        self._limiter = _RateLimiter(self.politeness.requests_per_second)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._own_sessions:
                session.close()
            self._own_sessions.clear()

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = make_session(self.outlet, user_agent=self.user_agent)
            self._local.session = session
            with self._sessions_lock:
                self._own_sessions.append(session)
        return session

    def fetch(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        check_robots: bool = True,
        previous: FetchResult | None = None,
        content_types: Collection[str] | None = None,
        truncate: bool = False,
    ) -> FetchResult:
        """Fetch one URL with retries; never raises.

        ``previous``: an earlier response for ``url``; its validators make the request
        conditional and a 304 returns it again (with ``reused_from``). ``content_types``:
        the media types accepted for a 2xx body (None: any). ``truncate``: a body over
        ``max_bytes`` is cut there instead of failing as ``too_large``."""
        started = time.monotonic()
        attempts = 0
        request = _Request(
            url=url,
            max_bytes=self.politeness.max_bytes if max_bytes is None else max_bytes,
            check_robots=check_robots,
            previous=previous if previous is not None and previous.validators() else None,
            content_types=content_types,
            truncate=truncate,
        )

        def attempt() -> _Outcome:
            nonlocal attempts
            attempts += 1
            return self._attempt(request)

        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS),
            retry=retry_if_result(lambda outcome: outcome.retry),
            wait=_backoff,
            retry_error_callback=_last_outcome,
        )
        try:
            outcome: _Outcome = retrying(attempt)
            result = outcome.result
        except Exception as exc:  # a bug must not lose the rest of the batch
            result = _failure(url, url, FetchFailure(ERR_INTERNAL, repr(exc)))
        waited = float(retrying.statistics.get("idle_for", 0.0))
        return replace(result, attempts=attempts, elapsed_s=time.monotonic() - started,
                       waited_s=waited)

    def _attempt(self, request: _Request) -> _Outcome:
        url, previous = request.url, request.previous
        visited: list[str] = []
        current = url
        timeout = self.politeness.timeout_seconds
        while True:
            refused = self._refuse(current, request.check_robots)
            if refused is not None:
                error, retry = refused
                return _Outcome(_failure(url, current, error), retry=retry)
            # The validators belong to the URL that answered last time: its final URL.
            conditional = previous is not None and current == previous.final_url
            self._limiter.wait()
            try:
                response = self._session().get(
                    current,
                    stream=True,
                    allow_redirects=False,
                    timeout=(timeout, timeout),
                    headers={
                        "Accept-Encoding": ACCEPT_ENCODING,
                        **(previous.validators() if conditional and previous else {}),
                    },
                )
            except requests.exceptions.RequestException as exc:
                return _request_failure(url, current, exc)
            with response:
                if conditional and previous and response.status_code == NOT_MODIFIED:
                    return _Outcome(
                        replace(
                            previous,
                            url=url,
                            fetched_at=_now(),
                            reused_from=previous.reused_from or previous.fetched_at,
                        )
                    )
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    visited.append(current)
                    current = urljoin(current, location)
                    if len(visited) > MAX_REDIRECTS:
                        slug = ERR_REDIRECT_LOOP if current in visited else ERR_TOO_MANY_REDIRECTS
                        return _Outcome(_failure(url, current, FetchFailure(slug)))
                    continue
                return self._read(request, current, response)

    def _refuse(self, url: str, check_robots: bool) -> tuple[FetchFailure, bool] | None:
        """Why ``url`` must not be requested (scheme, private address, robots) and whether
        that may change on a retry; None when it may be requested."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            return FetchFailure(ERR_INVALID_URL, str(exc)), False
        if parts.scheme not in ALLOWED_SCHEMES:
            return FetchFailure(ERR_SCHEME), False
        host = parts.hostname
        if not host:
            return FetchFailure(ERR_INVALID_URL), False
        try:
            addresses = resolve_addresses(host, port or DEFAULT_PORTS[parts.scheme])
        except (OSError, UnicodeError) as exc:
            return FetchFailure(ERR_CONNECTION, str(exc)), True  # resolution can fail a moment
        # Refuses early, without a request (each redirect hop too); the connection checks
        # again what it uses.
        if not self.politeness.address_policy.allows_all(addresses, host):
            return FetchFailure(ERR_PRIVATE), False
        if (
            check_robots
            and self.politeness.obey_robots
            and not self._robots_for(parts.scheme, parts.netloc).can_fetch(url, self._robots_agent)
        ):
            return FetchFailure(ERR_ROBOTS), False
        return None

    @property
    def _robots_agent(self) -> str:
        """The product token robots.txt groups are matched against (RFC 9309 §2.2.1):
        ``newslake`` of ``newslake/0.1 (+https://…)``. protego matches substrings, so the
        whole header would also match a group for any word of its comment or URL."""
        return re.split(r"[/\s]", self.user_agent.strip(), maxsplit=1)[0] or self.user_agent

    def _robots_for(self, scheme: str, netloc: str) -> Protego:
        key = f"{scheme}://{netloc}"
        with self._robots_lock:  # one read per host, even when threads ask at once
            rules = self._robots.get(key)
            if rules is None:
                rules = self._read_robots(f"{key}/robots.txt")
                self._robots[key] = rules
        return rules

    def _read_robots(self, robots_url: str) -> Protego:
        """The host's rules, read by protego (RFC 9309: the most specific match wins, Allow
        on a tie; ``*`` and ``$`` in paths; Crawl-delay)."""
        known = self._robots_known.get(robots_url)
        if known is not None:
            return self._robots_rules(known)
        result = self.fetch(robots_url, max_bytes=ROBOTS_MAX_BYTES, check_robots=False,
                            truncate=True)
        if result.error_slug in (ERR_TOO_MANY_REDIRECTS, ERR_REDIRECT_LOOP):
            self.robots_read[robots_url] = ""
            return Protego.parse("")  # RFC 9309 §2.3.1.2: too many redirects: "unavailable"
        if (
            result.status is None
            or result.status >= 500
            or (200 <= result.status < 300 and result.body is None)
        ):
            # Unreachable: RFC 9309 §2.3.1.4 says assume everything is disallowed.
            return Protego.parse("User-agent: *\nDisallow: /\n")
        if not (200 <= result.status < 300) or result.body is None:
            self.robots_read[robots_url] = ""
            return Protego.parse("")  # 3xx/4xx: "unavailable", RFC 9309 §2.3.1.3: all allowed
        text = result.body.decode("utf-8", "replace")
        if len(result.body) >= ROBOTS_MAX_BYTES:  # cut: a half line could be half a rule
            text = text.rsplit("\n", 1)[0]
        self.robots_read[robots_url] = text
        return self._robots_rules(text)

    def _robots_rules(self, text: str) -> Protego:
        """The rules of a robots.txt text; its Crawl-delay slows the rate limit down."""
        rules = Protego.parse(text)
        delay = rules.crawl_delay(self._robots_agent)
        if delay:
            self._limiter.slow_down(min(float(delay), MAX_CRAWL_DELAY_S))
        return rules

    def _read(
        self, request: _Request, final_url: str, response: requests.Response
    ) -> _Outcome:
        url, max_bytes = request.url, request.max_bytes
        status = response.status_code
        headers = dict(response.headers)
        fetched_at = _now()

        def failed(slug: str, detail: str | None = None, retry: bool = False) -> _Outcome:
            error = FetchFailure(slug, detail)
            result = FetchResult(url, final_url, status, headers, None, fetched_at, error)
            return _Outcome(result, retry=retry)

        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > max_bytes and not request.truncate:
            return failed(ERR_TOO_LARGE)
        media_type = _media_type(response.headers.get("Content-Type"))
        accepted = request.content_types
        if accepted is not None and 200 <= status < 300 and media_type not in (None, *accepted):
            return failed(ERR_CONTENT_TYPE, media_type)
        deadline = time.monotonic() + BODY_DEADLINE_FACTOR * self.politeness.timeout_seconds
        body = bytearray()
        try:
            inflater = _Inflater(response.headers.get("Content-Encoding", ""))
            while True:
                # read1: whatever has arrived (≤ CHUNK_BYTES), so that a server dripping a
                # byte at a time still meets the deadline.
                chunk = response.raw.read1(CHUNK_BYTES, decode_content=False)
                if not chunk:
                    break
                body += inflater.inflate(chunk, max_bytes + 1 - len(body))
                if len(body) > max_bytes:
                    if not request.truncate:
                        return failed(ERR_TOO_LARGE)
                    del body[max_bytes:]
                    break
                if time.monotonic() > deadline:
                    return failed(ERR_TIMEOUT, "body too slow", retry=True)
            if not inflater.complete and len(body) < max_bytes:
                return failed(ERR_TRUNCATED, "compressed stream ends early", retry=True)
        except (zlib.error, _UnsupportedEncoding) as exc:
            return failed(ERR_DECODING, str(exc))
        except urllib3.exceptions.ReadTimeoutError as exc:
            return failed(ERR_TIMEOUT, str(exc), retry=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # A connection dropped mid-body: worth another try, like a refused one.
            if _is_incomplete_read(exc):
                return failed(ERR_TRUNCATED, str(exc), retry=True)
            return failed(ERR_CONNECTION, str(exc), retry=True)
        error = None if 200 <= status < 300 else FetchFailure(f"http_{status}")
        result = FetchResult(url, final_url, status, headers, bytes(body), fetched_at, error)
        if status == 429 or status >= 500:
            return _Outcome(
                result,
                retry=True,
                retry_after_s=_retry_after_seconds(response.headers.get("Retry-After")),
            )
        return _Outcome(result)


class _UnsupportedEncoding(ValueError):
    pass


class _Inflater:
    """Undoes one ``Content-Encoding`` (gzip, deflate, identity) in bounded steps.

    ``inflate(data, room)`` returns at most ``room`` bytes: the caller passes the room left
    under its cap plus one and stops when it gets that much, so a bomb never inflates
    past the cap (what is left of it is never decompressed). ``complete`` says whether
    the compressed stream reached its end marker (False: the body was cut)."""

    def __init__(self, content_encoding: str) -> None:
        encoding = content_encoding.strip().lower()
        self._raw_deflate_tried = False
        self._fed = False
        self._zlib: Any = None
        if encoding in ("", "identity"):
            return
        if encoding in ("gzip", "x-gzip"):
            self._wbits = 16 + zlib.MAX_WBITS
        elif encoding == "deflate":
            self._wbits = zlib.MAX_WBITS  # zlib-wrapped, as the RFC says; raw deflate too
        else:
            raise _UnsupportedEncoding(f"unsupported Content-Encoding {content_encoding!r}")
        self._zlib = zlib.decompressobj(self._wbits)

    @property
    def complete(self) -> bool:
        return self._zlib is None or self._zlib.eof or not self._fed

    def inflate(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data
        self._fed = True
        try:
            out = self._zlib.decompress(data, room)
        except zlib.error:
            if self._wbits != zlib.MAX_WBITS or self._raw_deflate_tried:
                raise
            # Many servers send raw deflate under "deflate" (as browsers accept).
            self._raw_deflate_tried = True
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._zlib.decompress(data, room)
        while len(out) < room:
            if self._zlib.unconsumed_tail:
                out += self._zlib.decompress(self._zlib.unconsumed_tail, room - len(out))
            elif self._zlib.eof and self._zlib.unused_data.startswith(GZIP_MAGIC):
                rest = self._zlib.unused_data  # another gzip member (RFC 1952 §2.2)
                self._zlib = zlib.decompressobj(self._wbits)
                out += self._zlib.decompress(rest, room - len(out))
            else:
                break
        return bytes(out)


def _media_type(content_type: str | None) -> str | None:
    """``text/html`` of ``Text/HTML; charset=utf-8``; None when the header is missing."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or None


def _is_incomplete_read(exc: BaseException) -> bool:
    """Whether urllib3 gave up because the body ended before its Content-Length."""
    seen: list[object] = [exc, *exc.args]
    return any(isinstance(e, http.client.IncompleteRead) for e in seen)


def _failure(url: str, final_url: str, error: FetchFailure) -> FetchResult:
    return FetchResult(url, final_url, None, {}, None, _now(), error)


_BROKEN_CONNECTION = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)


def _request_failure(url: str, final_url: str, exc: Exception) -> _Outcome:
    """A requests exception as an outcome: timeouts and broken connections are retried."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", None)  # urllib3's MaxRetryError, requests' args[0]
    if isinstance(reason, netguard.BlockedAddressError):  # resolved anew: now not public
        return _Outcome(_failure(url, final_url, FetchFailure(ERR_PRIVATE, reason.detail)))
    if isinstance(exc, requests.exceptions.Timeout) or isinstance(
        cause, urllib3.exceptions.ReadTimeoutError
    ):
        return _Outcome(_failure(url, final_url, FetchFailure(ERR_TIMEOUT, str(exc))), retry=True)
    if isinstance(exc, _BROKEN_CONNECTION):
        return _Outcome(_failure(url, final_url, FetchFailure(ERR_CONNECTION, str(exc))),
                        retry=True)
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return _Outcome(_failure(url, final_url, FetchFailure(ERR_INVALID_URL, str(exc))))
    return _Outcome(_failure(url, final_url, FetchFailure(type(exc).__name__, str(exc))))


def fetch_urls(
    urls: Iterable[str],
    outlet: Outlet,
    *,
    user_agent: str | None = None,
    previous: Mapping[str, FetchResult] | None = None,
    content_types: Collection[str] | None = ARTICLE_CONTENT_TYPES,
) -> Iterator[FetchResult]:
    """Fetch ``urls`` politely on ``outlet.politeness.concurrency`` threads; yield one result
    per URL, in input order. robots.txt is read once per host per call.

    ``previous`` maps a requested URL to its earlier response (``raw.previous_responses``):
    those with an ETag or Last-Modified are asked for conditionally, and a 304 gives the
    earlier response back. ``content_types``: what a 2xx body may be (default: HTML)."""
    previous = previous or {}
    workers = max(1, outlet.politeness.concurrency)
    window = workers * PREFETCH_PER_WORKER
    with (
        Fetcher(outlet, user_agent=user_agent) as fetcher,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"fetch-{outlet.id}") as pool,
    ):
        pending: deque[Future[FetchResult]] = deque()
        try:
            for url in urls:
                pending.append(
                    pool.submit(
                        fetcher.fetch,
                        url,
                        previous=previous.get(url),
                        content_types=content_types,
                    )
                )
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # the consumer stopped early: do not fetch what nobody will read
            for future in pending:
                future.cancel()
