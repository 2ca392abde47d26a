"""The Metro Ledger: a modern news site whose only metadata is JSON-LD; no feed, no sitemap."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import escape as e

from demo_site import catalog
from demo_site.catalog import DemoArticle
from demo_site.response import Response, page

KEY = "demo_metro_ledger"
PREFIX = "/metro-ledger"
SITE = "The Metro Ledger"
SECTIONS = ("London", "Politics", "Business", "Transport", "Environment")
ARCHIVE_RE = re.compile(r"^/metro-ledger/archive/(\d{4})/(\d{2})/(\d{2})/$")
ARTICLE_RE = re.compile(r"^/metro-ledger/news/[a-z0-9-]+/[a-z0-9-]+-\d+$")
TRACKING = "?utm_source=archive&utm_medium=web"


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(catalog.outlet(KEY).tz)


def _shown(moment: dt.datetime) -> str:
    local = _local(moment)
    return f"{local.day} {local:%B %Y}, {local:%H:%M}"


def _head(base: str, title: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<link rel="preconnect" href="https://fonts.gstatic.com" crossorigin>
<link rel="stylesheet" href="{base}{PREFIX}/_next/static/css/7f3c2a91e0b4d5c6.css">
<link rel="manifest" href="{base}{PREFIX}/manifest.json">
<meta name="theme-color" content="#8b0000">
{extra}
<script defer src="{base}{PREFIX}/_next/static/chunks/main-4c1d2e3f.js"></script>
<script>window.__LEDGER_CONFIG__ = {{"env":"production","consentRequired":true,\
"adUnitPath":"/0000/metroledger"}};</script>
</head>"""


def _masthead(base: str) -> str:
    nav = "".join(f'<li><a href="{base}{PREFIX}/news/{s.lower()}/">{s}</a></li>'
                  for s in SECTIONS)
    return f"""<div id="consent-banner" class="consent" role="dialog" aria-label="Cookies">\
<p>We and our partners use cookies to personalise content and ads. You can change your \
choices at any time.</p><button class="consent__accept">Accept all</button> \
<button class="consent__manage">Manage preferences</button></div>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
 <div class="site-header__top"><a href="{base}{PREFIX}/subscribe" class="btn-subscribe">\
Subscribe</a> <a href="{base}{PREFIX}/account/login" class="btn-login">Sign in</a></div>
 <a class="site-header__logo" href="{base}{PREFIX}/" aria-label="{SITE} home">\
<svg width="220" height="32" role="img"><title>{SITE}</title></svg></a>
 <nav class="site-nav" aria-label="Sections"><ul>{nav}</ul></nav>
</header>"""


def _most_read(base: str, now: dt.datetime) -> str:
    items = "".join(f'<li><a href="{a.url(base)}">{e(a.title)}</a></li>'
                    for a in catalog.latest(KEY, now, 5))
    return (f'<aside class="most-read" aria-labelledby="most-read-title"><h2 '
            f'id="most-read-title">Most read</h2><ol>{items}</ol></aside>')


def _footer(base: str) -> str:
    return f"""<footer class="site-footer">
 <ul class="site-footer__links"><li><a href="{base}{PREFIX}/about">About us</a></li>
 <li><a href="{base}{PREFIX}/contact">Contact</a></li>
 <li><a href="{base}{PREFIX}/terms">Terms</a></li>
 <li><a href="{base}{PREFIX}/privacy">Privacy</a></li>
 <li><a href="{base}{PREFIX}/archive/">Archive</a></li></ul>
 <p class="site-footer__copy">&copy; {SITE} Ltd. Registered in England and Wales.</p>
</footer>
<script id="__LEDGER_DATA__" type="application/json">{{"page":"story","build":"2024.11.3"}}\
</script>
<script src="{base}{PREFIX}/_next/static/chunks/analytics-9a8b7c.js" async></script>
</body>
</html>
"""


def _news_article_ld(a: DemoArticle, base: str) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url(base)},
        "url": a.url(base), "headline": a.title, "description": a.description,
        "image": [f"{base}{a.image_path}"],
        "datePublished": _local(a.published_at).isoformat(),
        "author": [{"@type": "Person", "name": n,
                    "url": f"{base}{PREFIX}/profile/{n.lower().replace(' ', '-')}"}
                   for n in a.authors],
        "publisher": {"@type": "NewsMediaOrganization", "name": SITE,
                      "logo": {"@type": "ImageObject", "url": f"{base}{PREFIX}/logo.png"}},
        "articleSection": a.section, "keywords": ", ".join(a.tags), "inLanguage": "en-GB",
        "isAccessibleForFree": not a.is_paywalled,
    }
    if a.modified_at:
        data["dateModified"] = _local(a.modified_at).isoformat()
    if a.is_paywalled:
        data["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False,
                           "cssSelector": ".paywall"}
    return json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")


def _site_ld(base: str) -> str:
    data = {"@context": "https://schema.org", "@type": "WebSite", "name": SITE,
            "url": f"{base}{PREFIX}/", "potentialAction": {
                "@type": "SearchAction", "target": f"{base}{PREFIX}/search?q={{q}}",
                "query-input": "required name=q"}}
    return json.dumps(data)


def _byline(a: DemoArticle, base: str) -> str:
    links = [f'<a rel="author" href="{base}{PREFIX}/profile/{n.lower().replace(" ", "-")}">'
             f"{e(n)}</a>" for n in a.authors]
    return "By " + " and ".join(links)


def _body(a: DemoArticle, base: str) -> str:
    related = catalog.earlier(a, 2)
    blocks = a.blocks()
    slots = {max(1, len(blocks) * (i + 1) // 3): r for i, r in enumerate(related)}
    out = []
    for i, (kind, text) in enumerate(blocks):
        if i in slots:
            r = slots[i]
            out.append(f'<aside class="inline-related"><p>Related: <a href="{r.url(base)}">'
                       f"{e(r.title)}</a></p></aside>")
        if i == 3 and not a.is_paywalled:
            out.append('<div class="ad-slot ad-slot--inline" data-slot="mpu-1"><span>'
                       "Advertisement</span></div>")
            out.append('<div class="newsletter-signup"><h3>The Ledger Daily</h3><p>Sign up for '
                       "our free morning briefing on the stories shaping London.</p><form "
                       'action="/metro-ledger/newsletters/subscribe" method="post"><input '
                       'type="email" name="email" placeholder="Email address"><button>Sign up'
                       "</button></form></div>")
        out.append(f"<{kind}>{e(text)}</{kind}>")
    if a.is_paywalled:
        out.append(f'<div class="paywall" data-paywall="hard"><h3>Subscribe to keep reading</h3>'
                   f"<p>This article is for subscribers. Get unlimited access to {SITE} from "
                   f'£1 a week.</p><a class="btn-subscribe" href="{base}{PREFIX}/subscribe">'
                   "Subscribe now</a> <a href=\"/metro-ledger/account/login\">Already a "
                   "subscriber? Sign in</a></div>")
    return "\n".join(out)


def article_page(a: DemoArticle, base: str, now: dt.datetime) -> str:
    topics = "".join(f'<li><a href="{base}{PREFIX}/topic/{t.lower().replace(" ", "-")}">'
                     f"{e(t)}</a></li>" for t in a.tags)
    extra = (f'<link rel="canonical" href="{a.url(base)}">\n'
             f'<script type="application/ld+json">{_news_article_ld(a, base)}</script>\n'
             f'<script type="application/ld+json">{_site_ld(base)}</script>')
    updated = (f'<span class="dateline__updated">Updated {_shown(a.modified_at)}</span>'
               if a.modified_at else "")
    return f"""{_head(base, f"{a.title} | {SITE}", extra)}
<body class="page-story section-{a.section_slug}">
{_masthead(base)}
<div class="layout">
<main id="main" class="layout__main">
<article class="story" data-story-id="{a.id}">
 <nav class="breadcrumb"><a href="{base}{PREFIX}/">Home</a> &rsaquo; \
<a href="{base}{PREFIX}/news/{a.section_slug}/">{e(a.section)}</a></nav>
 <h1 class="story__headline">{e(a.title)}</h1>
 <p class="standfirst">{e(a.description)}</p>
 <div class="byline">{_byline(a, base)}</div>
 <div class="dateline"><span class="dateline__published">{_shown(a.published_at)}</span> \
{updated}</div>
 <figure class="lead-image"><img src="{base}{a.image_path}" alt="" width="1024" height="576">\
<figcaption>{e(a.image_caption)}</figcaption></figure>
 <div class="article-body">
{_body(a, base)}
 </div>
 <div class="share-tools"><button data-share="x">Share on X</button> \
<button data-share="facebook">Share on Facebook</button> \
<button data-share="copy">Copy link</button></div>
 <ul class="topics">{topics}</ul>
</article>
</main>
<div class="layout__rail">
{_most_read(base, now)}
<div class="ad-slot ad-slot--rail" data-slot="mpu-rail"><span>Advertisement</span></div>
</div>
</div>
{_footer(base)}"""


def soft_404_page(base: str, now: dt.datetime) -> str:
    ld = f'<script type="application/ld+json">{_site_ld(base)}</script>'
    return f"""{_head(base, f"Page not found | {SITE}", ld)}
<body class="page-error">
{_masthead(base)}
<div class="layout">
<main id="main" class="layout__main error-page">
 <h1>Page not found</h1>
 <p>Sorry, we couldn&rsquo;t find the page you were looking for. It may have been moved or \
deleted.</p>
 <p>Try searching {SITE} or head back to the <a href="{base}{PREFIX}/">home page</a>.</p>
 <form action="/metro-ledger/search" method="get"><input type="search" name="q">\
<button>Search</button></form>
</main>
<div class="layout__rail">{_most_read(base, now)}</div>
</div>
{_footer(base)}"""


def _cards(articles: list[DemoArticle], base: str, suffix: str) -> str:
    return "".join(
        f'<li><article class="card"><span class="card__section">{e(a.section)}</span><h2>'
        f'<a href="{a.url(base)}{suffix}">{e(a.title)}</a></h2><p class="card__standfirst">'
        f"{e(a.description)}</p><span class=\"card__time\">{_local(a.published_at):%H:%M}"
        "</span></article></li>"
        for a in articles
    )


def archive_page(day: dt.date, base: str, now: dt.datetime) -> str | None:
    if not catalog.START <= day <= catalog.local_today(KEY, now):
        return None
    articles = [a for a in catalog.articles_on_local_day(KEY, day) if catalog.is_live(a, now)]
    prev_day, next_day = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    nav = f'<a rel="prev" href="{base}{PREFIX}/archive/{prev_day:%Y/%m/%d}/">Previous day</a>'
    if next_day <= catalog.local_today(KEY, now):
        nav += f' <a rel="next" href="{base}{PREFIX}/archive/{next_day:%Y/%m/%d}/">Next day</a>'
    return f"""{_head(base, f"Archive: {day.day} {day:%B %Y} | {SITE}")}
<body class="page-archive">
{_masthead(base)}
<div class="layout">
<main id="main" class="layout__main">
 <h1 class="archive__title">Stories published on {day.day} {day:%B %Y}</h1>
 <ul class="archive-list">{_cards(articles, base, TRACKING)}</ul>
 <nav class="archive-nav">{nav}</nav>
</main>
<div class="layout__rail">{_most_read(base, now)}</div>
</div>
{_footer(base)}"""


def home_page(base: str, now: dt.datetime) -> str:
    return f"""{_head(base, f"{SITE} | London news, politics and business")}
<body class="page-home">
{_masthead(base)}
<div class="layout"><main id="main" class="layout__main">
<h1 class="visually-hidden">{SITE}</h1>
<ul class="front-list">{_cards(catalog.latest(KEY, now, 15), base, "")}</ul>
</main><div class="layout__rail">{_most_read(base, now)}</div></div>
{_footer(base)}"""


def handle(path: str, base: str, now: dt.datetime) -> Response | None:
    if path == f"{PREFIX}/":
        return page(home_page(base, now))
    if m := ARCHIVE_RE.match(path):
        try:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        text = archive_page(day, base, now)
        return page(text) if text is not None else None
    if ARTICLE_RE.match(path):
        a = catalog.find_article(KEY, path)
        if a is None or not catalog.is_live(a, now):
            return None
        if a.is_soft_404:
            return page(soft_404_page(base, now))
        return page(article_page(a, base, now), last_modified=a.last_modified)
    return None
