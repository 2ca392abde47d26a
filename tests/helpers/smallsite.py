"""A small news site on loopback whose listings and pages a test changes between runs.

    with SmallSite(DAY) as site:
        site.publish("/news/one", "Council expands bike lanes")  # listed in feed and sitemap
        outlet = site.outlet()
        ...
        site.unlist("/news/one")            # feed and sitemap stop listing it
        site.pages["/news/one"] = Reply(410)  # the page itself is gone

The feed and the sitemap are built from ``listed`` at each request; pages are served from
``pages``. ``hits`` counts requests per path (``Loopback``).
"""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from pathlib import Path

from helpers.loopback import Loopback, Reply

from newslake.config import DiscoverySource, Outlet, Politeness

HTML = {"Content-Type": "text/html; charset=utf-8"}
PARAGRAPH = (
    "The city council voted on Tuesday to extend the network of protected bike lanes "
    "across the northern districts, after a year of public hearings and a pilot on two "
    "streets that cut collisions by a third. Residents who spoke at the meeting were "
    "divided: shop owners feared the loss of parking, while parents asked for safe "
    "routes to the three schools on the avenue."
)


def article_html(title: str, published: dt.datetime, text: str = PARAGRAPH) -> bytes:
    """An article page the generic parser reads: title, publication time, 3 paragraphs
    (each starts with the title, so that two articles never have the same text)."""
    paragraphs = "".join(f"<p>{title}: {text} ({n})</p>" for n in range(3))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} - The Small Gazette</title>"
        f'<meta property="article:published_time" content="{published.isoformat()}">'
        f"</head><body><article><h1>{title}</h1><div class='entry-content'>{paragraphs}"
        "</div></article></body></html>"
    ).encode()


class SmallSite(Loopback):
    """A feed (``/feed.xml``) and a sitemap (``/sitemap.xml``) listing ``listed``."""

    def __init__(self, day: dt.date) -> None:
        super().__init__({"/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n")})
        self.day = day
        self.pages: dict[str, Reply] = {}
        self.listed: dict[str, dt.datetime] = {}
        self.routes["/feed.xml"] = lambda _path: self._feed()
        self.routes["/sitemap.xml"] = lambda _path: self._sitemap()

    def publish(self, path: str, title: str, hour: int = 9, text: str = PARAGRAPH) -> str:
        """Serve an article at ``path`` published at ``hour``:00 UTC of the day, list it,
        and return its URL."""
        published = dt.datetime.combine(self.day, dt.time(hour), tzinfo=dt.UTC)
        self.pages[path] = Reply(body=article_html(title, published, text), headers=HTML)
        self.routes[path] = lambda p: self.pages.get(p.split("?", 1)[0], Reply(404))
        self.listed[path] = published
        return self.url(path)

    def unlist(self, path: str) -> None:
        del self.listed[path]

    def outlet(self, outlet_id: str = "small_gazette") -> Outlet:
        return Outlet(
            id=outlet_id,
            name="The Small Gazette",
            base_url=self.url("/"),
            language="en",
            timezone="UTC",
            start_date=self.day - dt.timedelta(days=30),
            discovery=(DiscoverySource(type="rss", url=self.url("/feed.xml")),
                       DiscoverySource(type="sitemap", url=self.url("/sitemap.xml"))),
            politeness=Politeness(requests_per_second=500.0,
                                  allow_private_addresses=("127.0.0.1/32",),
                                  timeout_seconds=5.0),
        )

    def write_config(self, folder: Path, outlet_id: str = "small_gazette") -> Path:
        """``outlet()`` as a YAML config in ``folder`` (for ``NEWSLAKE_OUTLETS_DIR``: the
        DAGs and the command line read outlets from there)."""
        path = folder / f"{outlet_id}.yaml"
        path.write_text(
            f"id: {outlet_id}\nname: The Small Gazette\nbase_url: {self.url('/')}\n"
            f"language: en\ntimezone: UTC\nstart_date: {self.day - dt.timedelta(days=30)}\n"
            'schedule: "@daily"\n'
            f"discovery:\n  - {{type: rss, url: '{self.url('/feed.xml')}'}}\n"
            f"  - {{type: sitemap, url: '{self.url('/sitemap.xml')}'}}\n"
            "politeness: {requests_per_second: 500, allow_private_addresses: [127.0.0.1/32],"
            " timeout_seconds: 5}\n"
        )
        return path

    def _feed(self) -> Reply:
        items = "".join(
            f"<item><title>{path}</title><link>{self.url(path)}</link>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>"
            for path, when in sorted(self.listed.items())
        )
        body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                f"<title>The Small Gazette</title>{items}</channel></rss>")
        return Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml"})

    def _sitemap(self) -> Reply:
        entries = "".join(
            f"<url><loc>{self.url(path)}</loc><lastmod>{when.isoformat()}</lastmod></url>"
            for path, when in sorted(self.listed.items())
        )
        body = ('<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>')
        return Reply(body=body.encode(), headers={"Content-Type": "application/xml"})
