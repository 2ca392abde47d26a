"""Dnipro Visti: an older Ukrainian CMS served in windows-1251, local times without offsets."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import escape as e
from urllib.parse import quote

from demo_site import catalog
from demo_site.catalog import DemoArticle
from demo_site.feeds import Channel, FeedItem, rss
from demo_site.response import Response, page, xml

KEY = "demo_dnipro_visti"
PREFIX = "/dnipro-visti"
SITE = "Дніпро Вісті"
CHARSET = "windows-1251"
RUBRICS = ("Місто", "Економіка", "Суспільство", "Культура", "Спорт")
SUBSCRIBE = ("Підписуйтесь на наш Telegram-канал, щоб першими дізнаватися найважливіші "
             "новини Дніпра та області.")
# The redesign ("DV-CMS 3"): articles published from this moment (UTC) on get the new
# template: the byline moves from <meta name="author"> and div.author into the info line
# (span.writer), the text is split around an inline promo block into two div.news-text
# containers, and a promo line for the video channel closes the first one. Older articles
# keep the old template. The pipeline's drift checks are to notice (tests/test_drift.py).
REDESIGN_AT = dt.datetime(2026, 6, 18, tzinfo=dt.UTC)
PROMO = ("Дивіться наші відеосюжети на YouTube-каналі «Дніпро Вісті» — щодня нові "
         "репортажі з міста та області.")
ARCHIVE_RE = re.compile(r"^/dnipro-visti/archive/(\d{4})-(\d{2})-(\d{2})/$")
ARTICLE_RE = re.compile(r"^/dnipro-visti/news/\d+\.html$")


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(catalog.outlet(KEY).tz)


def _shown(moment: dt.datetime) -> str:
    return f"{_local(moment):%d.%m.%Y, %H:%M}"


def _rubric_url(base: str, slug: str) -> str:
    return f"{base}{PREFIX}/rubric/{slug}/"


def _head(base: str, title: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="uk">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={CHARSET}" />
<title>{e(title)}</title>
{extra}
<link rel="alternate" type="application/rss+xml" title="{SITE}" href="{base}{PREFIX}/rss.xml" />
<link rel="stylesheet" type="text/css" href="{base}{PREFIX}/css/style.css?v=20190412" />
<link rel="shortcut icon" href="{base}{PREFIX}/favicon.ico" />
<script type="text/javascript" src="{base}{PREFIX}/js/jquery-1.8.3.min.js"></script>
<script type="text/javascript">
var _gaq = _gaq || []; _gaq.push(['_setAccount', 'UA-0000000-1']); _gaq.push(['_trackPageview']);
</script>
</head>"""


def _top(base: str, now: dt.datetime) -> str:
    menu = "".join(f'<li><a href="{_rubric_url(base, f"rubric-{i}")}">{r}</a></li>'
                   for i, r in enumerate(RUBRICS))
    return f"""<body>
<div id="cookie-notice">Ми використовуємо файли cookie. Продовжуючи користуватися сайтом, \
ви погоджуєтеся з цим. <a href="#" class="close">Гаразд</a></div>
<div id="wrapper">
<div id="header">
 <div class="top-line"><span class="today">{_local(now):%d.%m.%Y}</span> \
<a href="{base}{PREFIX}/rss.xml">RSS</a> <a href="https://t.me/dnipro_visti_demo">Telegram</a></div>
 <div class="logo"><a href="{base}{PREFIX}/"><img src="{base}{PREFIX}/img/logo.gif" \
alt="{SITE}" /></a></div>
 <div class="banner banner-top"><a href="{base}{PREFIX}/reklama/"><img \
src="{base}{PREFIX}/upload/banners/top.gif" alt="Реклама" /></a></div>
 <ul id="menu"><li><a href="{base}{PREFIX}/">Головна</a></li>{menu}</ul>
</div>
<table id="layout" cellpadding="0" cellspacing="0"><tr>"""


def _right(base: str, now: dt.datetime) -> str:
    items = "".join(f'<li><span>{_local(a.published_at):%H:%M}</span> '
                    f'<a href="{a.url(base)}">{e(a.title)}</a></li>'
                    for a in catalog.latest(KEY, now, 10))
    return f"""<td id="right">
 <div class="block last-news"><div class="block-title">Останні новини</div><ul>{items}</ul></div>
 <div class="banner banner-side">Реклама<br /><img src="{base}{PREFIX}/upload/banners/side.gif" \
alt="" /></div>
 <div class="block"><div class="block-title">Опитування</div><p>Чи задоволені ви станом доріг \
у місті?</p><form action="{base}{PREFIX}/poll/" method="post"><label><input type="radio" \
name="a" value="1" /> Так</label><br /><label><input type="radio" name="a" value="2" /> Ні\
</label><br /><input type="submit" value="Голосувати" /></form></div>
</td>"""


def _bottom(base: str) -> str:
    return f"""</tr></table>
<div id="footer">
 <p>&copy; 2009&ndash;2025 &laquo;{SITE}&raquo;. Усі права захищені. При використанні \
матеріалів посилання на сайт обов&#39;язкове.</p>
 <p><a href="{base}{PREFIX}/about/">Про нас</a> | <a href="{base}{PREFIX}/reklama/">Реклама</a> \
| <a href="{base}{PREFIX}/contacts/">Контакти</a></p>
 <!-- bigmir)net TOP 100 --><span class="counter"></span>
</div>
</div>
</body>
</html>
"""


def _text(a: DemoArticle, base: str) -> str:
    also = catalog.earlier(a, 1)
    out = []
    for i, (kind, text) in enumerate(a.blocks()):
        if i == 2 and also:
            out.append(f'<p><b>Читайте також:</b> <a href="{also[0].url(base)}">'
                       f"{e(also[0].title)}</a></p>")
        if i == 3:
            out.append('<div class="banner banner-text"><script type="text/javascript">'
                       "document.write('<div id=\"adriver\"></div>');</script>Реклама</div>")
        tag = "h3" if kind == "h2" else "p"
        out.append(f"<{tag}>{e(text)}</{tag}>")
    out.append(f"<p><i>{e(SUBSCRIBE)}</i></p>")
    return "\n".join(out)


def is_redesigned(a: DemoArticle) -> bool:
    return a.published_at >= REDESIGN_AT


def _text_redesigned(a: DemoArticle, base: str) -> str:
    """The text in two containers around a promo block; the promo line inside the first."""
    blocks = a.blocks()
    half = (len(blocks) + 1) // 2

    def render(part: list[tuple[str, str]]) -> str:
        tags = [("h3" if kind == "h2" else "p", text) for kind, text in part]
        return "\n".join(f"<{tag}>{e(text)}</{tag}>" for tag, text in tags)

    also = catalog.earlier(a, 1)
    more = (f'<div class="incut"><b>Читайте також:</b> <a href="{also[0].url(base)}">'
            f"{e(also[0].title)}</a></div>") if also else ""
    return (f'<div class="news-text">\n{render(blocks[:half])}\n<p>{e(PROMO)}</p>\n</div>\n'
            f"{more}\n"
            f'<div class="news-text">\n{render(blocks[half:])}\n'
            f"<p><i>{e(SUBSCRIBE)}</i></p>\n</div>")


@dataclass(frozen=True)
class Template:
    """What an article page's template decides: the redesign ("DV-CMS 3") differs from the
    old one only in these."""

    item_class: str  # the class of the article's div
    author_meta: bool  # the byline in <meta name="author"> and a div.author below the text
    writer_in_info: bool  # the byline in the info line (span.writer)
    comments: bool  # the "Коментарі (0)" line closing the article
    split_text: bool  # the text in two div.news-text around a promo block (_text_redesigned)


OLD = Template(item_class="news-item", author_meta=True, writer_in_info=False, comments=True,
               split_text=False)
V3 = Template(item_class="news-item news-item--v3", author_meta=False, writer_in_info=True,
              comments=False, split_text=True)


def template(a: DemoArticle) -> Template:
    return V3 if is_redesigned(a) else OLD


def _body(a: DemoArticle, base: str, t: Template) -> str:
    if t.split_text:
        return _text_redesigned(a, base)
    return f' <div class="news-text">\n{_text(a, base)}\n </div>'


def article_page(a: DemoArticle, base: str, now: dt.datetime) -> str:
    t = template(a)
    local = _local(a.published_at)
    author = e(a.authors[0])
    tags = ", ".join(f'<a href="{base}{PREFIX}/tag/{quote(tag)}/">{e(tag)}</a>'
                     for tag in a.tags)
    author_meta = f'<meta name="author" content="{author}" />\n' if t.author_meta else ""
    extra = f"""<meta name="description" content="{e(a.description)}" />
<meta name="keywords" content="{e(", ".join(a.tags))}" />
{author_meta}<meta name="pubdate" content="{local:%Y-%m-%d %H:%M}" />
<meta property="og:type" content="article" />
<meta property="og:title" content="{e(a.title)}" />
<meta property="og:description" content="{e(a.description)}" />
<meta property="og:image" content="{base}{a.image_path}" />
<meta property="og:url" content="{a.url(base)}" />
<meta property="og:site_name" content="{SITE}" />
<link rel="canonical" href="{a.url(base)}" />"""
    writer = f'<span class="writer">{author}</span> ' if t.writer_in_info else ""
    author_line = (f' <div class="author">Автор: <a href="{base}{PREFIX}/authors/'
                   f'{quote(a.authors[0].split()[-1])}/">{author}</a></div>\n'
                   if t.author_meta else "")
    comments = ' <div class="comments-count">Коментарі (0)</div>\n' if t.comments else ""
    return f"""{_head(base, f"{a.title} - {SITE}", extra)}
{_top(base, now)}
<td id="content">
<div class="path"><a href="{base}{PREFIX}/">Головна</a> &raquo; \
<a href="{_rubric_url(base, a.section_slug)}">{e(a.section)}</a></div>
<div class="{t.item_class}">
 <h1>{e(a.title)}</h1>
 <div class="news-info"><span class="date">{_shown(a.published_at)}</span> \
{writer}<span class="views">Переглядів: {a.id % 1500 + 37}</span></div>
 <div class="news-photo"><img src="{base}{a.image_path}" alt="{e(a.title)}" width="600" />\
<div class="photo-sign">{e(a.image_caption)}</div></div>
 <div class="news-lead"><strong>{e(a.description)}</strong></div>
{_body(a, base, t)}
{author_line} <div class="tags">Теги: {tags}</div>
 <div class="share">Поділитися: <a href="https://www.facebook.com/sharer.php?u={a.url(base)}">\
Facebook</a> <a href="https://t.me/share/url?url={a.url(base)}">Telegram</a></div>
{comments}</div>
</td>
{_right(base, now)}
{_bottom(base)}"""


def _list(articles: list[DemoArticle], base: str) -> str:
    return "".join(
        f'<div class="item"><span class="time">{_local(a.published_at):%H:%M}</span> '
        f'<a class="title" href="{a.url(base)}">{e(a.title)}</a><p>{e(a.description)}</p></div>'
        for a in articles
    )


def archive_page(day: dt.date, base: str, now: dt.datetime) -> str | None:
    if not catalog.START <= day <= catalog.local_today(KEY, now):
        return None
    articles = [a for a in catalog.articles_on_local_day(KEY, day) if catalog.is_live(a, now)]
    prev_day = day - dt.timedelta(days=1)
    return f"""{_head(base, f"Архів новин за {day:%d.%m.%Y} - {SITE}")}
{_top(base, now)}
<td id="content">
<h1>Архів новин за {day:%d.%m.%Y}</h1>
<div class="calendar"><a href="{base}{PREFIX}/archive/{prev_day:%Y-%m-%d}/">&laquo; \
{prev_day:%d.%m.%Y}</a></div>
<div class="news-list">{_list(articles, base)}</div>
</td>
{_right(base, now)}
{_bottom(base)}"""


def home_page(base: str, now: dt.datetime) -> str:
    return f"""{_head(base, f"{SITE} - новини Дніпра та області")}
{_top(base, now)}
<td id="content"><div class="news-list">{_list(catalog.latest(KEY, now, 15), base)}</div></td>
{_right(base, now)}
{_bottom(base)}"""


def feed(base: str, now: dt.datetime) -> str:
    items = [
        FeedItem(title=a.title, link=a.url(base), published=_local(a.published_at),
                 guid=a.url(base), description=e(a.description), categories=(a.section,),
                 enclosure=f"{base}{a.image_path}")
        for a in catalog.latest(KEY, now, 30)
    ]
    built = items[0].published if items else _local(now)
    channel = Channel(SITE, f"{base}{PREFIX}/", f"{base}{PREFIX}/rss.xml",
                      "Новини Дніпра та області", "uk", built, "DV-CMS 2.3")
    return rss(channel, items, encoding=CHARSET)


def handle(path: str, base: str, now: dt.datetime) -> Response | None:
    if path == f"{PREFIX}/":
        return page(home_page(base, now), charset=CHARSET)
    if path == f"{PREFIX}/rss.xml":
        return xml(feed(base, now), "application/rss+xml", charset=CHARSET)
    if m := ARCHIVE_RE.match(path):
        try:
            day = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        text = archive_page(day, base, now)
        return page(text, charset=CHARSET) if text is not None else None
    if ARTICLE_RE.match(path):
        a = catalog.find_article(KEY, path)
        if a is None or not catalog.is_live(a, now):
            return None
        return page(article_page(a, base, now), charset=CHARSET, last_modified=a.published_at)
    return None
