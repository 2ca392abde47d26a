"""A synthetic outlet for the benchmarks: N articles a day, realistic 50-300 KB pages.

Served on loopback by ``BenchOutlet(per_day=N)``: an archive page per day at
``/archive/YYYY-MM-DD/`` and article pages with a header, navigation, sidebars,
inline scripts and styles, ads, a footer, JSON-LD and OpenGraph metadata, as a real
news page carries. Pages are generated from the URL (deterministic), never stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

WORDS = (
    "the council said on tuesday that a new budget for the harbour district would fund "
    "repairs to the river bridge while residents asked about housing energy prices and "
    "school places after the storm closed the market and the airport for two days"
).split()
NAV = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in WORDS[:30])
SCRIPT = "var cfg={" + ",".join(f'"k{i}":"{"x" * 40}"' for i in range(120)) + "};"


def _rng(*parts: object) -> random.Random:
    return random.Random(hashlib.sha256(repr(parts).encode()).hexdigest())


def page(day: dt.date, n: int) -> bytes:
    rng = _rng(day, n)
    title = " ".join(rng.choice(WORDS) for _ in range(9)).capitalize()
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))).capitalize()
                  + "." for _ in range(rng.randint(6, 18))]
    published = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randrange(86_400))
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
          "datePublished": published.isoformat(), "author": {"@type": "Person",
          "name": "Alex Writer"}, "articleSection": "News", "keywords": "bench,news"}
    # Padding like real pages: scripts, inline styles, ad markup, sidebars (50-300 KB).
    padding = rng.randint(8, 55)
    sidebar = "".join(f'<div class="widget"><h4>Most read {i}</h4><ul>{NAV}</ul></div>'
                      for i in range(padding // 4))
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} | Bench Times</title><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published.isoformat()}">
<script type="application/ld+json">{json.dumps(ld)}</script>
{''.join(f'<script>{SCRIPT}</script>' for _ in range(padding))}
<style>{'.c{margin:0;padding:0;color:#333}' * 200}</style></head><body>
<header><nav><ul>{NAV}</ul></nav></header><div class="ad">Advertisement</div>
<main><article><h1>{title}</h1><p class="byline">By Alex Writer</p>
<div class="article-body">{''.join(f'<p>{p}</p>' for p in paragraphs)}</div></article>
<aside>{sidebar}</aside></main><footer><ul>{NAV}</ul>(c) Bench Times</footer>
</body></html>"""
    return html.encode("utf-8")


class BenchOutlet:
    """The synthetic outlet on 127.0.0.1 (port 0 = any free port)."""

    def __init__(self, per_day: int, port: int = 0) -> None:
        self.per_day = per_day
        outlet = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/robots.txt":
                    return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
                if path.startswith("/archive/"):
                    day = dt.date.fromisoformat(path.strip("/").split("/")[1])
                    links = "".join(f'<li><a class="article" href="/news/{day}/{n}">Story {n}'
                                    "</a></li>" for n in range(outlet.per_day))
                    body = f"<html><body><ul>{links}</ul></body></html>"
                    return self._send(body.encode(), "text/html")
                if path.startswith("/news/"):
                    _, _, day_s, n = path.split("/")
                    return self._send(page(dt.date.fromisoformat(day_s), int(n)), "text/html")
                self.send_error(404)

            def _send(self, body: bytes, kind: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> BenchOutlet:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def write_config(self, folder: Path) -> Path:
        """An outlet YAML for this server, politeness off (loopback)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench_outlet.yaml"
        path.write_text(f"""id: bench_outlet
name: Bench Times
base_url: {self.base_url}/
language: en
timezone: UTC
start_date: 2024-01-01
discovery:
  - {{type: archive, url_template: "{self.base_url}/archive/{{date:%Y-%m-%d}}/",
     link_selector: "a.article"}}
parse:
  body_selector: div.article-body
politeness: {{requests_per_second: 10000, concurrency: 8, obey_robots: false,
             allow_private_addresses: [127.0.0.1/32]}}
validation: {{min_words: 80}}
""")
        return path
