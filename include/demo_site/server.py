"""One threaded HTTP server on 127.0.0.1 for all three demo outlets."""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from demo_site import render_bayside, render_dnipro, render_metro, render_wire
from demo_site.response import Response, not_found, plain

HOST = "127.0.0.1"
Clock = Callable[[], dt.datetime]
SERVED_KEPT = 100_000
ROBOTS = """User-agent: *
Disallow: /bayside-press/wp-admin/
Allow: /bayside-press/wp-admin/admin-ajax.php
Disallow: /metro-ledger/search
Disallow: /metro-ledger/account/

Sitemap: {base}/bayside-press/sitemap_index.xml
"""
INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newslake demo newsroom</title></head>
<body><h1>newslake demo newsroom</h1><ul>
<li><a href="/bayside-press/">Bayside Press</a> (RSS, sitemaps)</li>
<li><a href="/metro-ledger/">The Metro Ledger</a> (daily archives)</li>
<li><a href="/dnipro-visti/">Дніпро Вісті</a> (windows-1251, RSS, daily archives)</li>
<li><a href="/harbor-wire/">Harbor Wire</a> (a feed of the latest ten, nothing else)</li>
</ul></body></html>
"""
OUTLET_HANDLERS = {
    "/bayside-press/": render_bayside.handle,
    "/metro-ledger/": render_metro.handle,
    "/dnipro-visti/": render_dnipro.handle,
    "/harbor-wire/": render_wire.handle,
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def route(path: str, base: str, now: dt.datetime) -> Response:
    if path == "/robots.txt":
        return plain(ROBOTS.format(base=base))
    if path == "/":
        return Response(200, INDEX.encode(), "text/html; charset=utf-8")
    for prefix, handle in OUTLET_HANDLERS.items():
        if path.startswith(prefix):
            return handle(path, base, now) or not_found()
    return not_found()


class _Handler(BaseHTTPRequestHandler):
    server_version = "nginx/1.24.0"
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        host = self.headers.get("Host") or f"{HOST}:{self.server.server_port}"
        try:
            path = urlsplit(self.path).path
            response = route(path, f"http://{host}", self.server.clock_for(path)())
        except Exception:
            response = Response(500, b"Internal Server Error", "text/plain; charset=utf-8")
            self.server.errors += 1
        etag = response.headers.get("ETag")
        if etag and etag == self.headers.get("If-None-Match"):
            self.server.served.append((self.path, 304))
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.server.served.append((self.path, response.status))
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, clock: Clock, verbose: bool,
                 clocks: Mapping[str, Clock] | None = None) -> None:
        super().__init__((HOST, port), _Handler)
        self.clock, self.verbose, self.errors = clock, verbose, 0
        # (path, status) of the latest requests, in order (bounded: a demo runs for days).
        self.served: deque[tuple[str, int]] = deque(maxlen=SERVED_KEPT)
        self.clocks = dict(clocks or {})

    def clock_for(self, path: str) -> Clock:
        return next((c for prefix, c in self.clocks.items() if path.startswith(prefix)),
                    self.clock)


class DemoNewsroom:
    """The demo site on ``127.0.0.1:<port>`` (0 picks a free port), served from a thread.

    ``clock`` fixes "now" for tests: nothing published after it is served. ``clocks``
    gives an outlet a clock of its own, by path prefix (``{"/harbor-wire/": ...}``): the
    demo's polls see the wire as it was at each poll's logical date while the other
    outlets are ingested at ``clock``'s time.
    """

    def __init__(self, port: int = 0, *, clock: Clock = utc_now, verbose: bool = False,
                 clocks: Mapping[str, Clock] | None = None) -> None:
        self.port, self.clock, self.verbose, self.clocks = port, clock, verbose, clocks
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo newsroom is not running")
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def served(self) -> list[tuple[str, int]]:
        """(path, status) of the requests answered so far (the latest SERVED_KEPT), in order:
        what tests count."""
        if self._server is None:
            raise RuntimeError("the demo newsroom is not running")
        return list(self._server.served)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def start(self) -> DemoNewsroom:
        with self._lock:
            if self._server is None:
                self._server = _Server(self.port, self.clock, self.verbose, self.clocks)
                self._thread = threading.Thread(
                    target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                    name=f"demo-newsroom-{self._server.server_port}", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> DemoNewsroom:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
