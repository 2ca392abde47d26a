"""The Bayside Press: a WordPress site on the Newspaper theme with Yoast SEO."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import escape as e

from demo_site import catalog
from demo_site.catalog import DemoArticle
from demo_site.feeds import Channel, FeedItem, rss, sitemap_index, urlset
from demo_site.response import Response, page, redirect, xml
from demo_site.text import slugify

KEY = "demo_bayside_press"
PREFIX = "/bayside-press"
SITE = "Bayside Press"
DONATE = ("Please make a small donation to the Bayside Press to help sustain independent "
          "journalism. Your contribution enables us to continue delivering high-quality, "
          "local, and national news coverage.")
CONNECT = ("Connect with us: Follow the Bayside Press on Facebook and Twitter for breaking "
           "news and updates.")
SIGN_UP = ("Sign up: Subscribe to our free newsletter for a curated selection of top stories "
           "delivered straight to your inbox.")
MENU = ("Local News", "Politics", "Business", "Education", "Environment")
COMMENTS = (
    ("Dale R.", "Finally some movement on this. Let's see if they actually follow through."),
    ("BayMom74", "Who is paying for all of this? Nobody ever answers that question."),
    ("Ed Santos", "Great reporting as always. Keep it up."),
    ("Pat K.", "I went to the meeting and it was standing room only."),
)
ARTICLE_RE = re.compile(r"^/bayside-press/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$")
SITEMAP_RE = re.compile(r"^/bayside-press/post-sitemap-(\d{4})-(\d{2})\.xml$")


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(catalog.outlet(KEY).tz).isoformat()


def _long_date(moment: dt.datetime) -> str:
    local = moment.astimezone(catalog.outlet(KEY).tz)
    return f"{local:%B} {local.day}, {local.year}"


def _head(base: str, title: str, extra: str) -> str:
    return f"""<!doctype html >
<!--[if IE 8]><html class="ie8" lang="en"><![endif]-->
<html lang="en-US">
<head>
<title>{e(title)}</title>
<meta charset="UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="pingback" href="{base}{PREFIX}/xmlrpc.php" />
<link rel="icon" type="image/png" href="{base}{PREFIX}/wp-content/uploads/2023/01/favicon.png">
{extra}
<link rel="alternate" type="application/rss+xml" title="{SITE} &raquo; Feed" \
href="{base}{PREFIX}/feed/" />
<link rel='stylesheet' id='wp-block-library-css' \
href='{base}{PREFIX}/wp-includes/css/dist/block-library/style.min.css?ver=6.4.3' \
type='text/css' media='all' />
<link rel='stylesheet' id='td-theme-css' \
href='{base}{PREFIX}/wp-content/themes/Newspaper/style.css?ver=12.6.4' type='text/css' \
media='all' />
<style id='td-theme-inline-css' type='text/css'>
.td-header-wrap .td-header-top-menu-full{{background-color:#0b3c5d}}
.td-post-content p,.td-post-content{{font-family:Georgia,serif;font-size:17px;line-height:1.7}}
#cookie-law-info-bar{{position:fixed;bottom:0;width:100%;background:#222;color:#fff}}
</style>
<script type="text/javascript" src="{base}{PREFIX}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" \
id="jquery-core-js"></script>
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?\
client=ca-pub-0000000000000000" crossorigin="anonymous"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){{dataLayer.push(arguments);}}
  gtag('js', new Date()); gtag('config', 'G-BAYSIDE000');
</script>
</head>"""


def _header(base: str, now: dt.datetime) -> str:
    items = "".join(
        f'<li class="menu-item menu-item-type-taxonomy menu-item-object-category">'
        f'<a href="{base}{PREFIX}/category/{slugify(m)}/">{m}</a></li>' for m in MENU
    )
    return f"""<div id="cookie-law-info-bar" data-nosnippet="true"><span>We use cookies on our \
website to give you the most relevant experience by remembering your preferences and repeat \
visits. By clicking &ldquo;Accept&rdquo;, you consent to the use of ALL the cookies. \
<a role="button" class="cli_settings_button">Cookie settings</a> \
<a role="button" id="cookie_action_close_header" class="cli-plugin-button">ACCEPT</a></span></div>
<div class="td-scroll-up"><i class="td-icon-menu-up"></i></div>
<div id="td-outer-wrap" class="td-theme-wrap">
<div class="tdc-header-wrap">
 <div class="td-header-top-menu-full">
  <div class="td-header-top-menu"><div class="td_data_time">{_long_date(now)}</div>
   <ul class="top-header-menu"><li><a href="{base}{PREFIX}/about-us/">About Us</a></li>
   <li><a href="{base}{PREFIX}/contact/">Contact</a></li>
   <li><a href="{base}{PREFIX}/advertise/">Advertise</a></li></ul>
   <div class="td-social-icons"><a href="https://www.facebook.com/baysidepress" \
title="Facebook"><i class="td-icon-facebook"></i></a>
   <a href="https://twitter.com/baysidepress" title="Twitter"><i class="td-icon-twitter"></i></a>
   </div></div></div>
 <div class="td-header-menu-wrap-full">
  <div class="td-header-sp-logo"><a class="td-main-logo" href="{base}{PREFIX}/">
   <img class="td-retina-data" src="{base}{PREFIX}/wp-content/uploads/2023/01/logo.png" \
alt="{SITE}" title="{SITE}"/><span class="td-visual-hidden">{SITE}</span></a></div>
  <div id="td-header-menu" role="navigation"><div class="menu-main-menu-container">
   <ul id="menu-main-menu" class="sf-menu"><li class="menu-item current-menu-item">\
<a href="{base}{PREFIX}/">Home</a></li>{items}</ul></div>
   <div class="header-search-wrap"><form method="get" class="td-search-form" \
action="{base}{PREFIX}/"><input class="needsclick" type="text" value="" name="s" \
placeholder="Search"/><input class="wpb_button" type="submit" value="Search"/></form></div>
  </div></div>
</div>"""


def _sidebar(base: str, now: dt.datetime) -> str:
    links = "".join(
        f'<div class="td_module_6 td_module_wrap"><h3 class="entry-title td-module-title">'
        f'<a href="{a.url(base)}" rel="bookmark" title="{e(a.title)}">{e(a.title)}</a></h3>'
        f'<span class="td-post-date">{_long_date(a.published_at)}</span></div>'
        for a in catalog.latest(KEY, now, 5)
    )
    return f"""<div class="td-pb-span4 td-main-sidebar" role="complementary">
 <div class="td-ss-main-sidebar">
  <div class="td-a-rec td-a-rec-id-sidebar"><span class="td-adspot-title">- Advertisement -\
</span><ins class="adsbygoogle" style="display:inline-block;width:300px;height:250px" \
data-ad-client="ca-pub-0000000000000000" data-ad-slot="1111111111"></ins>
<script>(adsbygoogle = window.adsbygoogle || []).push({{}});</script></div>
  <div class="td_block_wrap td_block_15"><h4 class="block-title"><span>Latest News</span></h4>
  {links}</div>
  <aside class="widget widget_mc4wp_form_widget"><h4 class="block-title"><span>Newsletter\
</span></h4><form id="mc4wp-form-1" class="mc4wp-form" method="post"><p>Get the day's top \
stories in your inbox every morning.</p><input type="email" name="EMAIL" \
placeholder="Your email address" required /><input type="submit" value="Sign up" /></form>
  </aside>
 </div>
</div>"""


def _footer(base: str) -> str:
    return f"""<div class="td-footer-wrap td-container-wrap">
 <div class="td-footer-container td-container">
  <div class="td-pb-row"><div class="td-pb-span4"><aside class="footer-text-wrap">
  <div class="block-title"><span>ABOUT US</span></div>The {SITE} covers local government, \
schools, business and the environment around the bay. Contact us: \
<a href="mailto:tips@baysidepress.example">tips@baysidepress.example</a></aside></div>
  <div class="td-pb-span4"><aside class="footer-social-wrap td-social-style-2">\
<div class="block-title"><span>FOLLOW US</span></div>\
<a href="https://www.facebook.com/baysidepress">Facebook</a> \
<a href="https://twitter.com/baysidepress">Twitter</a></aside></div></div>
 </div>
 <div class="td-sub-footer-container"><div class="td-sub-footer-copy">&copy; Copyright \
{SITE} 2024. All rights reserved. <a href="{base}{PREFIX}/privacy-policy/">Privacy Policy</a>\
</div></div>
</div>
</div><!--close td-outer-wrap-->
<script type="text/javascript" \
src="{base}{PREFIX}/wp-content/themes/Newspaper/js/tagdiv_theme.min.js?ver=12.6.4" \
id="td-site-min-js"></script>
<script type="text/javascript">var tdBlocksArray = []; var tdLocalCache = {{}};
jQuery().ready(function jQuery_ready() {{ tdAjaxCount.tdGetViewsCountsAjax("post", "[]"); }});
</script>
</body>
</html>
"""


def _schema(a: DemoArticle, base: str) -> str:
    url, site = a.url(base), f"{base}{PREFIX}/"
    person_id = f"{site}#/schema/person/{slugify(a.authors[0])}"
    article: dict[str, object] = {
        "@type": "Article", "@id": f"{url}#article", "isPartOf": {"@id": url},
        "author": [{"name": n, "@id": f"{site}#/schema/person/{slugify(n)}"} for n in a.authors],
        "headline": a.title, "datePublished": _iso(a.published_at),
        "mainEntityOfPage": {"@id": url}, "wordCount": a.word_count,
        "commentCount": 2, "publisher": {"@id": f"{site}#organization"},
        "image": {"@id": f"{url}#primaryimage"}, "thumbnailUrl": f"{base}{a.image_path}",
        "keywords": a.tags, "articleSection": [a.section], "inLanguage": "en-US",
    }
    webpage: dict[str, object] = {
        "@type": "WebPage", "@id": url, "url": url, "name": f"{a.title} - {SITE}",
        "isPartOf": {"@id": f"{site}#website"}, "datePublished": _iso(a.published_at),
        "description": a.description, "breadcrumb": {"@id": f"{url}#breadcrumb"},
        "inLanguage": "en-US",
    }
    if a.modified_at:
        article["dateModified"] = webpage["dateModified"] = _iso(a.modified_at)
    graph = [
        article, webpage,
        {"@type": "ImageObject", "inLanguage": "en-US", "@id": f"{url}#primaryimage",
         "url": f"{base}{a.image_path}", "contentUrl": f"{base}{a.image_path}",
         "width": 1200, "height": 800, "caption": a.image_caption},
        {"@type": "BreadcrumbList", "@id": f"{url}#breadcrumb", "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Home", "item": site},
            {"@type": "ListItem", "position": 2, "name": a.title}]},
        {"@type": "WebSite", "@id": f"{site}#website", "url": site, "name": SITE,
         "publisher": {"@id": f"{site}#organization"}, "inLanguage": "en-US"},
        {"@type": "Organization", "@id": f"{site}#organization", "name": SITE, "url": site,
         "sameAs": ["https://www.facebook.com/baysidepress", "https://twitter.com/baysidepress"]},
        {"@type": "Person", "@id": person_id, "name": a.authors[0],
         "url": f"{site}author/{slugify(a.authors[0])}/"},
    ]
    data = json.dumps({"@context": "https://schema.org", "@graph": graph}, ensure_ascii=False)
    return data.replace("</", "<\\/")


def _meta(a: DemoArticle, base: str) -> str:
    url, img = a.url(base), f"{base}{a.image_path}"
    modified = (f'<meta property="article:modified_time" content="{_iso(a.modified_at)}" />\n'
                if a.modified_at else "")
    return f"""<!-- This site is optimized with the Yoast SEO plugin v22.3 - \
https://yoast.com/wordpress/plugins/seo/ -->
<meta name="description" content="{e(a.description)}" />
<meta name="robots" content="index, follow, max-image-preview:large, max-snippet:-1" />
<link rel="canonical" href="{url}" />
<meta property="og:locale" content="en_US" />
<meta property="og:type" content="article" />
<meta property="og:title" content="{e(a.title)} - {SITE}" />
<meta property="og:description" content="{e(a.description)}" />
<meta property="og:url" content="{url}" />
<meta property="og:site_name" content="{SITE}" />
<meta property="article:publisher" content="https://www.facebook.com/baysidepress" />
<meta property="article:published_time" content="{_iso(a.published_at)}" />
{modified}<meta property="og:image" content="{img}" />
<meta property="og:image:width" content="1200" />
<meta property="og:image:height" content="800" />
<meta property="og:image:type" content="image/jpeg" />
<meta name="author" content="{e(a.authors[0])}" />
<meta name="twitter:card" content="summary_large_image" />
<meta name="twitter:label1" content="Written by" />
<meta name="twitter:data1" content="{e(a.authors[0])}" />
<meta name="twitter:label2" content="Est. reading time" />
<meta name="twitter:data2" content="{max(1, a.word_count // 230)} minutes" />
<script type="application/ld+json" class="yoast-schema-graph">{_schema(a, base)}</script>
<!-- / Yoast SEO plugin. -->"""


def _ad(slot: str) -> str:
    return (f'<div class="td-a-rec td-a-rec-id-{slot}"><span class="td-adspot-title">'
            f"- Advertisement -</span><ins class=\"adsbygoogle\" style=\"display:block\" "
            f'data-ad-client="ca-pub-0000000000000000" data-ad-slot="2222222222" '
            f'data-ad-format="auto"></ins>'
            f"<script>(adsbygoogle = window.adsbygoogle || []).push({{}});</script></div>")


def content_html(a: DemoArticle, base: str) -> str:
    """The post content as WordPress stores it: body, promos and appeals (also in the feed)."""
    promos = catalog.earlier(a, 2)
    blocks = a.blocks()
    slots = {max(1, len(blocks) * (i + 1) // 3): p for i, p in enumerate(promos)}
    out = []
    for i, (kind, text) in enumerate(blocks):
        if i in slots:
            p = slots[i]
            out.append(f'<p><strong>READ:</strong> <a href="{p.url(base)}">{e(p.title)}</a></p>')
        if i == 2:
            out.append(_ad("content_inline"))
        tag = "h2" if kind == "h2" else "p"
        cls = ' class="wp-block-heading"' if kind == "h2" else ""
        out.append(f"<{tag}{cls}>{e(text)}</{tag}>")
    out += [f"<p>{e(DONATE)}</p>", f"<p>{e(CONNECT)}</p>", f"<p>{e(SIGN_UP)}</p>"]
    return "\n".join(out)


def _related(a: DemoArticle, base: str) -> str:
    items = "".join(
        f'<div class="jp-relatedposts-post"><h4 class="jp-relatedposts-post-title">'
        f'<a href="{p.url(base)}">{e(p.title)}</a></h4><p class="jp-relatedposts-post-date">'
        f"{_long_date(p.published_at)}</p><p class=\"jp-relatedposts-post-context\">"
        f'In &quot;{e(p.section)}&quot;</p></div>'
        for p in catalog.earlier(a, 3)
    )
    return (f"<div id='jp-relatedposts' class='jp-relatedposts'><h3 class=\"jp-relatedposts-"
            f'headline"><em>Related</em></h3><div class="jp-relatedposts-items">{items}</div>'
            "</div>")


def _share(url: str, where: str) -> str:
    return f"""<div class="td-post-sharing td-post-sharing-{where}">\
<div class="td-post-sharing-visible">
<a class="td-social-sharing-button td-social-facebook" \
href="https://www.facebook.com/sharer.php?u={url}"><span class="td-social-but-text">\
Facebook</span></a>
<a class="td-social-sharing-button td-social-twitter" \
href="https://twitter.com/intent/tweet?url={url}"><span class="td-social-but-text">\
Twitter</span></a>
<a class="td-social-sharing-button td-social-whatsapp" \
href="https://api.whatsapp.com/send?text={url}"><span class="td-social-but-text">WhatsApp</span></a>
</div></div>"""


def _comments(a: DemoArticle) -> str:
    picks = [COMMENTS[(a.id + i) % len(COMMENTS)] for i in range(2)]
    items = "".join(
        f'<li class="comment" id="li-comment-{a.id * 10 + i}"><article><footer>'
        f'<cite class="comment-author">{e(name)}</cite><div class="comment-meta">'
        f"{_long_date(a.published_at + dt.timedelta(hours=i + 2))}</div></footer>"
        f'<div class="comment-content"><p>{e(text)}</p></div>'
        f'<div class="comment-respond"><a rel="nofollow" class="comment-reply-link" '
        f'href="#respond">Reply</a></div></article></li>'
        for i, (name, text) in enumerate(picks)
    )
    return f"""<div class="comments" id="comments">
<div class="td-comments-title-wrap"><h4 class="block-title"><span>2 COMMENTS</span></h4></div>
<ol class="comment-list">{items}</ol>
<div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">\
<span>LEAVE A REPLY</span></h3><form action="/bayside-press/wp-comments-post.php" \
method="post" id="commentform" class="comment-form"><div class="clearfix"></div>
<div class="comment-form-input-wrap td-form-comment"><textarea placeholder="Comment:" \
id="comment" name="comment" cols="45" rows="8" aria-required="true"></textarea></div>
<div class="comment-form-input-wrap td-form-author"><input class="" id="author" \
name="author" placeholder="Name:*" type="text" value="" size="30" /></div>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" \
value="Post Comment" /></p></form></div>
</div>"""


def article_page(a: DemoArticle, base: str, now: dt.datetime) -> str:
    url, author = a.url(base), a.authors[0]
    cat_url = f"{base}{PREFIX}/category/{a.section_slug}/"
    tags = "".join(f'<li><a href="{base}{PREFIX}/tag/{slugify(t)}/">{e(t)}</a></li>'
                   for t in a.tags)
    prev = catalog.earlier(a, 1)
    prev_html = (f'<div class="td-block-span6 td-post-prev-post"><div class="td-post-next-prev'
                 f'-content"><span>Previous article</span><a href="{prev[0].url(base)}">'
                 f"{e(prev[0].title)}</a></div></div>") if prev else ""
    head = _head(base, f"{a.title} - {SITE}", _meta(a, base))
    body_class = (f"post-template-default single single-post postid-{a.id} "
                  f"single-format-standard td-standard-pack global-block-template-1")
    return f"""{head}
<body class="{body_class}" itemscope="itemscope" itemtype="https://schema.org/WebPage">
{_header(base, now)}
<div class="td-main-content-wrap td-container-wrap">
<div class="td-container td-post-template-default">
<div class="td-crumb-container"><div class="entry-crumbs"><span><a title="" class="entry-crumb" \
href="{base}{PREFIX}/">Home</a></span> <i class="td-icon-right td-bread-sep"></i> <span>\
<a title="View all posts in {e(a.section)}" class="entry-crumb" href="{cat_url}">\
{e(a.section)}</a></span> <i class="td-icon-right td-bread-sep td-bred-no-url-last"></i> \
<span class="td-bred-no-url-last">{e(a.title)}</span></div></div>
<div class="td-pb-row">
<div class="td-pb-span8 td-main-content" role="main">
<div class="td-ss-main-content">
<article id="post-{a.id}" class="post-{a.id} post type-post status-publish format-standard \
has-post-thumbnail category-{a.section_slug}">
<div class="td-post-header">
 <ul class="td-category"><li class="entry-category"><a href="{cat_url}">{e(a.section)}</a></li></ul>
 <header class="td-post-title">
  <h1 class="entry-title">{e(a.title)}</h1>
  <div class="td-module-meta-info">
   <div class="td-post-author-name"><div class="td-author-by">By</div> \
<a href="{base}{PREFIX}/author/{slugify(author)}/">{e(author)}</a><div class="td-author-line"> - \
</div></div>
   <span class="td-post-date"><time class="entry-date updated td-module-date" \
datetime="{_iso(a.published_at)}" >{_long_date(a.published_at)}</time></span>
   <div class="td-post-comments"><a href="{url}#comments"><i class="td-icon-comments"></i>2\
</a></div>
   <div class="td-post-views"><i class="td-icon-views"></i><span class="td-nr-views-{a.id}">\
{a.id % 997 + 40}</span></div>
  </div>
 </header>
</div>
{_share(url, "top")}
<div class="td-post-content tagdiv-type">
<div class="td-post-featured-image"><figure><a href="{base}{a.image_path}" \
data-caption="{e(a.image_caption)}"><img width="696" height="464" class="entry-thumb" \
src="{base}{a.image_path}" alt="" title="{e(a.title)}"/></a><figcaption \
class="wp-caption-text">{e(a.image_caption)}</figcaption></figure></div>
{content_html(a, base)}
<div class="sharedaddy sd-sharing-enabled"><div class="robots-nocontent sd-block sd-social \
sd-social-icon-text sd-sharing"><h3 class="sd-title">Share this:</h3><div class="sd-content">\
<ul><li class="share-twitter"><a rel="nofollow noopener noreferrer" class="share-twitter \
sd-button" href="{url}?share=twitter" target="_blank"><span>Twitter</span></a></li>\
<li class="share-facebook"><a rel="nofollow noopener noreferrer" class="share-facebook \
sd-button" href="{url}?share=facebook" target="_blank"><span>Facebook</span></a></li>\
</ul></div></div></div>
{_related(a, base)}
</div>
<footer>
 <div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix">\
<li><span>TAGS</span></li>{tags}</ul></div>
 {_share(url, "bottom")}
 <div class="td-block-row td-post-next-prev">{prev_html}</div>
 <div class="author-box-wrap"><a href="{base}{PREFIX}/author/{slugify(author)}/">\
<img alt="" src="{base}{PREFIX}/wp-content/uploads/avatars/{slugify(author)}.jpg" \
class="avatar" height="96" width="96"/></a><div class="desc"><div class="td-author-name \
vcard author"><span class="fn"><a href="{base}{PREFIX}/author/{slugify(author)}/">{e(author)}\
</a></span></div><div class="td-author-description">{e(author)} is a staff writer for the \
{SITE}.</div></div></div>
</footer>
</article>
{_comments(a)}
</div>
</div>
{_sidebar(base, now)}
</div>
</div>
</div>
{_footer(base)}"""


def home_page(base: str, now: dt.datetime) -> str:
    items = "".join(
        f'<div class="td_module_10 td_module_wrap td-animation-stack"><div class="item-details">'
        f'<h3 class="entry-title td-module-title"><a href="{a.url(base)}" rel="bookmark" '
        f'title="{e(a.title)}">{e(a.title)}</a></h3><div class="td-module-meta-info">'
        f'<span class="td-post-author-name"><a href="{base}{PREFIX}/author/'
        f'{slugify(a.authors[0])}/">{e(a.authors[0])}</a> - </span><span class="td-post-date">'
        f'<time class="entry-date updated td-module-date" datetime="{_iso(a.published_at)}">'
        f'{_long_date(a.published_at)}</time></span></div><div class="td-excerpt">'
        f"{e(a.description)}</div></div></div>"
        for a in catalog.latest(KEY, now, 15)
    )
    return f"""{_head(base, f"{SITE} - Local news for the Bay", "")}
<body class="home page-template-default td-standard-pack">
{_header(base, now)}
<div class="td-main-content-wrap td-container-wrap"><div class="td-container">\
<div class="td-pb-row">
<div class="td-pb-span8 td-main-content"><div class="td-ss-main-content">
<div class="td-block-title-wrap"><h4 class="block-title"><span>Latest News</span></h4></div>
{items}</div></div>
{_sidebar(base, now)}
</div></div></div>
{_footer(base)}"""


def feed(base: str, now: dt.datetime) -> str:
    items = [
        FeedItem(title=a.title, link=a.url(base), published=a.published_at.astimezone(dt.UTC),
                 guid=f"{base}{PREFIX}/?p={a.id}", description=f"{e(a.description)} [&#8230;]",
                 creator=a.authors[0], categories=(a.section, *a.tags),
                 content_html=content_html(a, base))
        for a in catalog.latest(KEY, now, 30)
    ]
    built = items[0].published if items else now
    channel = Channel(SITE, f"{base}{PREFIX}/", f"{base}{PREFIX}/feed/", "Local news for the Bay",
                      "en-US", built, "https://wordpress.org/?v=6.4.3")
    return rss(channel, items)


def _months(now: dt.datetime) -> list[tuple[int, int]]:
    today = catalog.local_today(KEY, now)
    months, y, m = [], catalog.START.year, catalog.START.month
    while (y, m) <= (today.year, today.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def _month_articles(year: int, month: int, now: dt.datetime) -> list[DemoArticle]:
    day, found = dt.date(year, month, 1), list[DemoArticle]()
    while day.month == month:
        found += [a for a in catalog.articles_on_local_day(KEY, day) if catalog.is_live(a, now)]
        day += dt.timedelta(days=1)
    return found


def _month_lastmod(year: int, month: int, now: dt.datetime) -> dt.datetime:
    day = min(catalog.local_today(KEY, now),
              (dt.date(year, month, 28) + dt.timedelta(days=4)).replace(day=1)
              - dt.timedelta(days=1))
    while True:
        live = [a for a in catalog.articles_on_local_day(KEY, day) if catalog.is_live(a, now)]
        if live or day.day == 1:
            break
        day -= dt.timedelta(days=1)
    moments = [min(a.last_modified, now) for a in live] or [now]
    return max(moments).astimezone(catalog.outlet(KEY).tz)


def sitemap_index_xml(base: str, now: dt.datetime) -> str:
    entries = [(f"{base}{PREFIX}/post-sitemap-{y}-{m:02d}.xml", _month_lastmod(y, m, now))
               for y, m in _months(now)]
    return sitemap_index(entries, f"{base}{PREFIX}/main-sitemap.xsl")


def post_sitemap(year: int, month: int, base: str, now: dt.datetime) -> str | None:
    if (year, month) not in _months(now):
        return None
    tz = catalog.outlet(KEY).tz
    entries: list[tuple[str, dt.datetime, str | None]] = [
        (a.url(base), a.last_modified.astimezone(tz), f"{base}{a.image_path}")
        for a in _month_articles(year, month, now)
    ]
    return urlset(entries, f"{base}{PREFIX}/main-sitemap.xsl")


def handle(path: str, base: str, now: dt.datetime) -> Response | None:
    if path == f"{PREFIX}/":
        return page(home_page(base, now))
    if path == f"{PREFIX}/feed/":
        return xml(feed(base, now), "application/rss+xml")
    if path == f"{PREFIX}/sitemap_index.xml":
        return xml(sitemap_index_xml(base, now))
    if m := SITEMAP_RE.match(path):
        text = post_sitemap(int(m.group(1)), int(m.group(2)), base, now)
        return xml(text) if text is not None else None
    if ARTICLE_RE.match(path):
        if not path.endswith("/"):
            return redirect(f"{base}{path}/")
        a = catalog.find_article(KEY, path)
        if a is None or not catalog.is_live(a, now):
            return None
        return page(article_page(a, base, now), last_modified=a.last_modified)
    return None
