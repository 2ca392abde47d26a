"""Harbor Wire: a busy wire service whose only listing is a feed of its latest ten stories.

One to three stories an hour, all day (``catalog._wire_day``): the feed rolls over every
few hours, so a daily run that reads it after midnight sees the last ten of a day's
dozens. The feed answers conditional requests (ETag of its bytes, ``304``).

Stories change after publication (``catalog.as_of``): some are updated a few hours later
(a new paragraph, ``dateModified``, ``Last-Modified`` and ETag; the feed item gets an
``atom:updated``), and one a day is taken down (``410 Gone``) two days later. A story
page's ETag names the story's version, not the page's bytes (its "Latest" list changes
all day), so a conditional request for an unchanged story gets a ``304``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from html import escape as e

from demo_site import catalog
from demo_site.catalog import DemoArticle
from demo_site.feeds import Channel, FeedItem, rss
from demo_site.response import Response, page, xml

KEY = "demo_harbor_wire"
PREFIX = "/harbor-wire"
SITE = "Harbor Wire"
ARTICLE_RE = re.compile(r"^/harbor-wire/story/\d+-[a-z0-9-]+$")


GONE_HTML = """<!DOCTYPE html>
<html><head><title>410 Gone</title></head>
<body><h1>This story has been removed</h1></body></html>
"""


def _news_article_ld(a: DemoArticle, base: str) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url(base)},
        "url": a.url(base), "headline": a.title, "description": a.description,
        "image": [f"{base}{a.image_path}"],
        "datePublished": a.published_at.isoformat(),
        "author": [{"@type": "Person", "name": n} for n in a.authors],
        "publisher": {"@type": "NewsMediaOrganization", "name": SITE},
        "articleSection": a.section, "keywords": ", ".join(a.tags), "inLanguage": "en",
    }
    if a.modified_at:
        data["dateModified"] = a.modified_at.isoformat()
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _latest(base: str, now: dt.datetime) -> str:
    return "".join(f'<li><a href="{a.url(base)}">{e(a.title)}</a></li>'
                   for a in catalog.latest(KEY, now, catalog.WIRE_FEED_ITEMS))


def article_page(a: DemoArticle, base: str, now: dt.datetime) -> str:
    paragraphs = "\n".join(f"<{kind}>{e(text)}</{kind}>" for kind, text in a.blocks())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(a.title)} - {SITE}</title>
<link rel="canonical" href="{a.url(base)}">
<script type="application/ld+json">{_news_article_ld(a, base)}</script>
</head>
<body class="story">
<header><a href="{base}{PREFIX}/">{SITE}</a></header>
<main><article>
<h1>{e(a.title)}</h1>
<p class="byline">By {e(", ".join(a.authors))} &middot; {a.published_at:%H:%M} UTC</p>
<div class="story-body">
{paragraphs}
<div class="wire-note">Copyright {SITE}. All rights reserved.</div>
</div>
</article></main>
<aside class="latest"><h2>Latest</h2><ul>{_latest(base, now)}</ul></aside>
</body></html>"""


def home_page(base: str, now: dt.datetime) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{SITE}</title>
<link rel="alternate" type="application/rss+xml" href="{base}{PREFIX}/feed.xml"></head>
<body><h1>{SITE}</h1><ul>{_latest(base, now)}</ul></body></html>"""


def feed(base: str, now: dt.datetime) -> str:
    items = [
        FeedItem(title=a.title, link=a.url(base), published=a.published_at,
                 guid=a.url(base), description=e(a.description), creator=a.authors[0],
                 categories=(a.section,), updated=catalog.as_of(a, now).modified_at)
        for a in catalog.latest(KEY, now, catalog.WIRE_FEED_ITEMS)
        if not catalog.is_taken_down(a, now)
    ]
    built = items[0].published if items else now
    channel = Channel(SITE, f"{base}{PREFIX}/", f"{base}{PREFIX}/feed.xml",
                      "The latest from the Harbor Wire", "en", built, "wirefeed/2.1")
    return rss(channel, items)


def handle(path: str, base: str, now: dt.datetime) -> Response | None:
    if path == f"{PREFIX}/":
        return page(home_page(base, now))
    if path == f"{PREFIX}/feed.xml":
        response = xml(feed(base, now), "application/rss+xml")
        response.headers["ETag"] = '"' + hashlib.sha256(response.body).hexdigest()[:16] + '"'
        return response
    if ARTICLE_RE.match(path):
        a = catalog.find_article(KEY, path)
        if a is None or not catalog.is_live(a, now):
            return None
        if catalog.is_taken_down(a, now):
            return Response(410, GONE_HTML.encode(), "text/html; charset=utf-8")
        a = catalog.as_of(a, now)
        response = page(article_page(a, base, now), last_modified=a.last_modified)
        response.headers["ETag"] = f'"{a.id}-{int(a.last_modified.timestamp())}"'
        return response
    return None
