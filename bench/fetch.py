"""Fetch throughput: ``fetch_urls`` against a loopback server, politeness off.

A static article-sized page is served on 127.0.0.1 by a separate process (so that the
server does not share the client's GIL), keep-alive on, gzip optional. Measures pages/s of
``fetch_urls`` at concurrency 1, 4 and 8 (``requests_per_second`` 1e6, robots obeyed: one
robots.txt a run) against two baselines on the same URLs in the same run: a plain
``requests.get`` loop (a new connection per page) and a ``requests.Session`` loop.
Prints a table and one JSON line; no assertions.

    .venv/bin/python bench/fetch.py [--pages N] [--page-kb K] [--repeat R]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import multiprocessing
import platform
import random
import statistics
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from _common import report

from newslake.config import Outlet, Politeness
from newslake.fetch import fetch_urls

ROBOTS = b"User-agent: *\nAllow: /\n"


def _page(kilobytes: int) -> bytes:
    """An HTML page of about ``kilobytes`` KiB that compresses like prose (~3×)."""
    words = ("council harbour budget tuesday mayor residents ferry schedule vote delayed "
             "the a of to and in said would after before port fees season").split()
    rng = random.Random(1)
    parts = [b"<!DOCTYPE html><html><head><title>Story</title></head><body>"]
    size = 0
    while size < kilobytes * 1024:
        paragraph = f"<p>{' '.join(rng.choice(words) for _ in range(60))}.</p>\n".encode()
        parts.append(paragraph)
        size += len(paragraph)
    return b"".join([*parts, b"</body></html>"])


def _serve(port_out: Any, page: bytes, compressed: bytes) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
        # TCP_NODELAY, as real servers set: without it the body's last segment waits for
        # the client's delayed ACK (~40 ms a page on a keep-alive connection).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
            gzip_path = self.path.startswith("/gz/")
            body = ROBOTS if self.path == "/robots.txt" else (
                compressed if gzip_path and wants_gzip else page)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if gzip_path and wants_gzip and body is compressed:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


def _outlet(base: str, concurrency: int) -> Outlet:
    return Outlet(
        id="bench", name="Bench", base_url=base, language="en", timezone="UTC",
        start_date=dt.date(2024, 1, 1),
        politeness=Politeness(requests_per_second=1e6, concurrency=concurrency,
                              allow_private_addresses=("127.0.0.1/32",),
                              max_bytes=10 * 1024 * 1024),
    )


def _time(run: Callable[[list[str]], int], urls: list[str], repeat: int) -> dict[str, float]:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        fetched = run(urls)
        seconds = time.perf_counter() - started
        assert fetched == len(urls)
        rates.append(len(urls) / seconds)
    return {"pages_per_s": round(statistics.median(rates), 1),
            "best": round(max(rates), 1)}


def _newslake(concurrency: int, base: str) -> Callable[[list[str]], int]:
    def run(urls: list[str]) -> int:
        results = list(fetch_urls(urls, _outlet(base, concurrency)))
        bad = [r.error for r in results if r.error]
        if bad:
            raise SystemExit(f"fetch errors: {bad[:3]}")
        return len(results)
    return run


def _requests_get(urls: list[str]) -> int:
    for url in urls:
        requests.get(url, timeout=10).raise_for_status()
    return len(urls)


def _requests_session(urls: list[str]) -> int:
    with requests.Session() as session:
        for url in urls:
            session.get(url, timeout=10).raise_for_status()
    return len(urls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="URLs per timed run")
    parser.add_argument("--page-kb", type=int, default=60, help="page size (HTML, KiB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()

    page = _page(args.page_kb)
    compressed = gzip.compress(page)
    ports: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports, page, compressed), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=10)}/"
        figures: dict[str, dict[str, dict[str, float]]] = {}
        for kind, prefix in (("plain", "p"), ("gzip", "gz")):
            urls = [f"{base}{prefix}/story-{n}.html" for n in range(args.pages)]
            runs: dict[str, Callable[[list[str]], int]] = {
                "requests.get loop": _requests_get,
                "requests.Session loop": _requests_session,
                **{f"newslake c={c}": _newslake(c, base) for c in (1, 4, 8)},
            }
            _requests_session(urls[:20])  # warm up
            figures[kind] = {name: _time(run, urls, args.repeat) for name, run in runs.items()}
    finally:
        server.terminate()
        server.join(timeout=5)

    print(f"fetch throughput: {args.pages} pages of {args.page_kb} KiB (gzip: "
          f"{len(compressed) // 1024} KiB on the wire), loopback, server in its own process, "
          f"median of {args.repeat}; {platform.python_version()}, "
          f"{multiprocessing.cpu_count()} CPUs")
    print(f"{'client':<24}" + "".join(f"{kind + ' pages/s':>18}" for kind in figures))
    for name in figures["plain"]:
        print(f"{name:<24}" + "".join(f"{figures[k][name]['pages_per_s']:>18.1f}" for k in figures))
    baseline = {k: figures[k]["requests.get loop"]["pages_per_s"] for k in figures}
    for kind in figures:
        best = max(v["pages_per_s"] for n, v in figures[kind].items() if n.startswith("newslake"))
        print(f"{kind}: best newslake / requests.get loop = {best / baseline[kind]:.2f}×")
    report("fetch", {"pages": args.pages, "page_kb": args.page_kb, "repeat": args.repeat,
                     "figures": figures})


if __name__ == "__main__":
    main()
