"""A tiny HTTP server on 127.0.0.1 with a route table, for tests that must not touch the net.

    with Loopback({"/feed": Reply(body=b"<rss/>")}) as site:
        site.url("/feed")          # http://127.0.0.1:<port>/feed
        site.hits["/feed"]         # how many times it was requested

A route is a ``Reply``, a list of replies (the n-th request gets the n-th, the last one
repeats) or a callable taking the request path and returning a ``Reply``. Unknown paths get
404. Routes match the path with its query first, then the path alone.

Misbehaving on purpose (the hostile fetch tests): ``delay_s`` before the headers,
``chunks`` + ``chunk_delay_s`` to stream (or drip) a body that need not exist in memory,
a ``Content-Length`` in ``headers`` that the body does not honour, ``conditional`` to answer
``If-None-Match`` / ``If-Modified-Since`` with 304. ``bytes_sent`` counts the body bytes
the client accepted, ``requests`` keeps every request's path and headers, ``answered`` counts
the requests whose handler has finished (``wait_answered`` waits for that, never a sleep).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (timeouts)
    send_length: bool = True  # False: no Content-Length, the body ends when the connection does
    # A body made on the fly, piece by piece (no Content-Length unless ``headers`` has one;
    # the connection closes after it). ``chunk_delay_s`` sleeps before each piece.
    chunks: Callable[[], Iterable[bytes]] | None = None
    chunk_delay_s: float = 0.0
    # Answer a matching If-None-Match (ETag) or If-Modified-Since (Last-Modified) with 304.
    conditional: bool = False


Route = Reply | list[Reply] | Callable[[str], Reply]


def _not_modified(reply: Reply, request: Mapping[str, str]) -> bool:
    headers = {k.lower(): v for k, v in reply.headers.items()}
    if_none_match = request.get("If-None-Match")
    if if_none_match is not None:  # RFC 9110 §13.1.2: it takes precedence
        tags = {t.strip() for t in if_none_match.split(",")}
        return "*" in tags or headers.get("etag") in tags
    since, modified = request.get("If-Modified-Since"), headers.get("last-modified")
    if since and modified:
        try:
            return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


class Loopback:
    def __init__(self, routes: Mapping[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        # A short poll interval: stop() waits up to one interval for the serving loop.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def start(self) -> Loopback:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> Loopback:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _reply_for(self, path: str) -> Reply:
        with self._lock:
            self.hits[path] += 1
            count = self.hits[path]
        route = self.routes.get(path) or self.routes.get(path.split("?", 1)[0])
        if route is None:
            return Reply(404, b"not found")
        if isinstance(route, Reply):
            return route
        if isinstance(route, list):
            return route[min(count, len(route)) - 1]
        return route(path)

    def wait_answered(self, path: str, count: int, timeout: float) -> None:
        """Until ``count`` requests for ``path`` have been handled to the end (or fail)."""
        with self._done:
            if not self._done.wait_for(lambda: self.answered[path] >= count, timeout):
                raise TimeoutError(f"{path}: {self.answered[path]} of {count} answered "
                                   f"after {timeout}s")

    def _finished(self, path: str) -> None:
        with self._done:
            self.answered[path] += 1
            self._done.notify_all()

    def _sent(self, path: str, count: int) -> None:
        with self._lock:
            self.bytes_sent[path] += count

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                try:
                    self._answer()
                finally:
                    site._finished(self.path)

            def do_PATCH(self) -> None:  # noqa: N802 (a client of an API: routed as GET)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def _answer(self) -> None:
                site.user_agents.append(self.headers.get("User-Agent", ""))
                with site._lock:
                    site.requests.append((self.path, dict(self.headers.items())))
                reply = site._reply_for(self.path)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    if reply.conditional and _not_modified(reply, dict(self.headers.items())):
                        self._not_modified(reply)
                        return
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.chunks is not None:
                        self.close_connection = True
                        self.end_headers()
                        for chunk in reply.chunks():
                            if reply.chunk_delay_s:
                                time.sleep(reply.chunk_delay_s)
                            self.wfile.write(chunk)
                            self.wfile.flush()
                            site._sent(self.path, len(chunk))
                        return
                    if reply.send_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    else:
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(reply.body)
                    site._sent(self.path, len(reply.body))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or size-cap test): nothing to do

            def _not_modified(self, reply: Reply) -> None:
                self.send_response(304)
                for name, value in reply.headers.items():
                    if name.lower() in ("etag", "last-modified", "cache-control"):
                        self.send_header(name, value)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        return Handler
