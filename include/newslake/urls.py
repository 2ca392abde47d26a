"""URL canonicalisation: one spelling per article, so that one article gets one id.

``canonicalize_url`` lower-cases scheme and host, drops default ports and fragments and
removes tracking parameters (campaign tags that vary per share, not per article).
``same_site`` tells whether two URLs belong to one registered domain, which is when a
page's ``rel=canonical`` may be trusted over the fetched URL.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import courlan

# Query parameters that identify a share, a campaign or a click, never the article.
TRACKING_PARAM_RE = re.compile(
    r"^(?:utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid"
    r"|mc_cid|mc_eid|mkt_tok|_ga|_gl|_hsenc|_hsmi|__hstc|__hssc|__hsfp|hsctatracking"
    r"|oly_anon_id|oly_enc_id|vero_id|vero_conv|rb_clickid|s_kwcid|ncid|sr_share"
    r"|ref_src|ref_url|cmpid|wt_mc|wt\.mc_id|at_medium|at_campaign|at_custom\d"
    r"|smid)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonicalize_url(url: str) -> str:
    """``url`` with lower-cased scheme/host, no default port, fragment or tracking params."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    if parts.username:
        userinfo = parts.username + (f":{parts.password}" if parts.password else "")
        host = f"{userinfo}@{host}"
    path = parts.path or ("/" if host else "")
    # Filter the raw "k=v" pieces so that the kept ones keep their exact encoding.
    query = "&".join(
        piece
        for piece in parts.query.split("&")
        if piece and not TRACKING_PARAM_RE.match(unquote_plus(piece.split("=", 1)[0]))
    )
    return urlunsplit((scheme, host, path, query, ""))


def registered_domain(url: str) -> str:
    """The registrable domain (``bbc.co.uk``); the bare host for IPs and ``localhost``."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return ""
    domain = courlan.extract_domain(url if "://" in url else f"http://{url}")
    return (domain or host).lower()


def same_site(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` share a registered domain (``www.x.com`` ~ ``news.x.com``)."""
    domain_a, domain_b = registered_domain(a), registered_domain(b)
    return bool(domain_a) and domain_a == domain_b
