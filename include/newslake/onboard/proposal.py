"""``newslake outlets add``: find the sources, profile a sample, print the tables and
write a commented YAML config that ``config.load_outlet`` accepts."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from newslake.addresses import entry_for_host
from newslake.config import OUTLET_ID_RE, Outlet, parse_outlet
from newslake.errors import ConfigError
from newslake.fetch import Fetcher
from newslake.onboard import OnboardError
from newslake.onboard.profile import Profile, profile_sample
from newslake.onboard.sources import Found, find_sources, onboarding_outlet

DEFAULT_SAMPLE = 15
MAX_SAMPLE = 50
# Always dropped: never article text.
BASE_DROP_SELECTORS = ("script", "style", "noscript", "form")


@dataclass
class Proposal:
    outlet_id: str
    found: Found
    profile: Profile
    yaml_text: str
    outlet: Outlet


def outlet_id_for(url: str) -> str:
    """``https://www.tampafp.com/`` → ``tampafp``; a path names a sub-site (demo outlets)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    host = host if not re.fullmatch(r"[\d.]+|\[.*\]|localhost", host) else ""
    name = host.rsplit(".", 1)[0] if "." in host else host
    path = parts.path.strip("/").split("/")[0] if parts.path.strip("/") else ""
    raw = "_".join(x for x in (name, path) if x) or "outlet"
    return re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_") or "outlet"


def _q(value: str) -> str:
    """A YAML scalar: JSON's double-quoted string is valid YAML."""
    return json.dumps(value, ensure_ascii=False)


def render_yaml(outlet_id: str, found: Found, profile: Profile, *, allow_private: bool,
                today: dt.date) -> str:
    parsed = profile.parsed
    lines = [
        f"# {found.site_name or outlet_id}: proposed by `newslake outlets add` on {today}.",
        "# Edit it, then `newslake outlets check " + outlet_id + "` before committing it.",
        f"# Sample: {len(profile.pages)} recent pages, {len(parsed)} parsed on the generic path.",
        f"id: {outlet_id}",
        f"name: {_q(found.site_name or outlet_id)}",
        f"base_url: {_q(found.base_url)}",
        f"language: {profile.language or 'en'}      # {profile.language_reason}",
        f"timezone: {profile.timezone}      # {profile.timezone_reason}",
        f"start_date: {today - dt.timedelta(days=365)}      # earliest day a backfill may ask "
        "for (rows published before it are quarantined): set it",
        'schedule: "@daily"',
        "requires_internet: true" if not allow_private else "requires_internet: false",
        "discovery:      # tried in order; URLs are merged and de-duplicated",
    ]
    for source in found.sources:
        what = f"{source.found_by}; {source.entries} article URLs listed"
        if source.news:
            what += "; a news sitemap"
        if source.type == "archive":
            lines.append(f"  # {what} (yesterday's page)")
            lines.append(f"  - type: archive\n    url_template: {_q(source.url_template or '')}")
            if source.link_selector:
                lines.append(f"    link_selector: {_q(source.link_selector)}")
            else:
                lines.append("    # link_selector: no simple selector picks only the day's "
                             "list: every link on the page is a candidate")
        else:
            lines.append(f"  - {{type: {source.type}, url: {_q(source.url)}}}      # {what}")
    lines.append("parse:      # without body_selector the generic extractor reads the body")
    lines.append("  # body_selector: div.article-body      # set one if the bodies look wrong")
    selectors = list(BASE_DROP_SELECTORS)
    for b in profile.boilerplate:
        if b.selector and b.selector not in selectors:
            selectors.append(b.selector)
    lines.append(f"  drop_selectors: [{', '.join(_q(s) for s in selectors)}]")
    if profile.boilerplate:
        lines.append("  drop_paragraphs:      # lines repeated across the sample")
        for b in profile.boilerplate:
            example = b.example if len(b.example) <= 70 else b.example[:67] + "..."
            lines.append(f"    - {_q(b.pattern)}      # {b.pages} pages, e.g. {_q(example)}")
    else:
        lines.append("  drop_paragraphs: []      # no line repeated across the sample")
    # --allow-private: the site's own host only, not every private address.
    host = entry_for_host(urlsplit(found.base_url).hostname or "")
    politeness = ("{requests_per_second: 1.0, concurrency: 2, obey_robots: true"
                  + (f", allow_private_addresses: [{json.dumps(host)}]}}" if allow_private
                     else "}"))
    lines.append(f"politeness: {politeness}")
    lines.append("validation: {min_words: 80}")
    return "\n".join(lines) + "\n"


def _home_lang(found: Found) -> str | None:
    if found.home.body is None:
        return None
    tag = BeautifulSoup(found.home.body[:200_000], "lxml").find("html")
    return str(tag.get("lang")) if isinstance(tag, Tag) and tag.get("lang") else None


def propose(url: str, *, outlet_id: str | None = None, sample: int = DEFAULT_SAMPLE,
            allow_private: bool = False, requests_per_second: float = 1.0,
            today: dt.date) -> Proposal:
    """Everything ``outlets add`` prints and writes, for the outlet whose home page is
    ``url``. ``today``: the day the proposal is made (yesterday's archive is probed)."""
    if not 1 <= sample <= MAX_SAMPLE:
        raise OnboardError(f"--sample {sample}: between 1 and {MAX_SAMPLE} pages")
    if not url.startswith(("http://", "https://")):
        raise OnboardError(f"{url!r} is not an http(s) URL")
    outlet_id = outlet_id or outlet_id_for(url)
    if not OUTLET_ID_RE.fullmatch(outlet_id):
        raise OnboardError(f"--id {outlet_id!r} must match [a-z0-9_]+")
    with Fetcher(onboarding_outlet(url, allow_private=allow_private,
                                   requests_per_second=requests_per_second)) as fetcher:
        found = find_sources(fetcher, url, today - dt.timedelta(days=1))
        parser_outlet = onboarding_outlet(found.base_url, allow_private=allow_private,
                                          name=found.site_name or outlet_id)
        urls = [e.url for e in found.entries[:sample]]
        profile = profile_sample(fetcher, urls, parser_outlet, _home_lang(found))
    text = render_yaml(outlet_id, found, profile, allow_private=allow_private, today=today)
    try:
        import yaml

        outlet = parse_outlet(yaml.safe_load(text), f"<proposed {outlet_id}.yaml>")
    except ConfigError as exc:  # a bug here, not the user's: say so plainly
        raise OnboardError(f"the proposed config does not load: {exc}") from exc
    return Proposal(outlet_id, found, profile, text, outlet)


def write_proposal(proposal: Proposal, path: Path, *, force: bool = False) -> Path:
    if path.exists() and not force:
        raise OnboardError(f"{path} exists: pass --out to write elsewhere, or --force")
    if path.stem != proposal.outlet_id:
        raise OnboardError(f"{path}: the file name must be {proposal.outlet_id}.yaml "
                           "(config.load_outlet checks id against it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(proposal.yaml_text, encoding="utf-8")
    return path


def _cell(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def format_proposal(proposal: Proposal) -> str:
    """The sources, the per-page table, per-field coverage, flags and the boilerplate."""
    found, profile = proposal.found, proposal.profile
    out = [f"{found.site_name or proposal.outlet_id} ({found.base_url})", "", "sources:"]
    for s in found.sources:
        where = s.url_template if s.type == "archive" else s.url
        extra = f", link_selector {s.link_selector!r}" if s.type == "archive" else ""
        out.append(f"  {s.type:<8} {where}  [{s.found_by}; {s.entries} URLs{extra}]")
    for note in found.notes:
        out.append(f"  note: {note}")
    out += ["", f"sample: {len(profile.pages)} recent pages", ""]
    header = (f"{'#':>2} {'title':<40} {'published_at (UTC)':<20} {'date src':<9} "
              f"{'authors':<20} {'body':>6} {'lang':<4} {'pay':<3} {'parser':<10} flags")
    out.append(header)
    for i, p in enumerate(profile.pages, 1):
        if p.error:
            out.append(f"{i:>2} {_cell(p.url, 40):<40} {p.error}")
            continue
        published = p.published_at.strftime("%Y-%m-%d %H:%M") if p.published_at else ""
        out.append(
            f"{i:>2} {_cell(p.title, 40):<40} {published:<20} {_cell(p.date_source, 9):<9} "
            f"{_cell(', '.join(p.authors), 20):<20} {p.body_chars:>6} "
            f"{_cell(p.language, 4):<4} {'yes' if p.paywalled else 'no':<3} "
            f"{_cell(p.parser, 10):<10} {'; '.join(p.flags)}")
    parsed = profile.parsed
    n = len(parsed) or 1
    out += ["", "fields (share of the parsed pages):"]
    coverage = {
        "title": sum(bool(p.title) for p in parsed),
        "published_at": sum(p.published_at is not None for p in parsed),
        "authors": sum(bool(p.authors) for p in parsed),
        "body >= 80 words": sum(p.words >= 80 for p in parsed),
        "language": sum(bool(p.language) for p in parsed),
        "paywalled": sum(bool(p.paywalled) for p in parsed),
    }
    for name, count in coverage.items():
        out.append(f"  {name:<18} {count:>3}/{len(parsed)} ({count / n:.0%})")
    parsers = {p.parser for p in parsed}
    out.append(f"  parser path        {', '.join(sorted(parsers)) or '-'}")
    out.append(f"  language           {profile.language} ({profile.language_reason})")
    out.append(f"  timezone           {profile.timezone} ({profile.timezone_reason})")
    if profile.boilerplate:
        out += ["", "repeated lines (proposed drop_paragraphs / drop_selectors):"]
        for b in profile.boilerplate:
            sel = f"  selector {b.selector}" if b.selector else ""
            out.append(f"  {b.pages:>2} pages  {b.pattern:<40}{sel}  e.g. {_cell(b.example, 60)!r}")
    failed = len(profile.pages) - len(parsed)
    if failed:
        out += ["", f"{failed} of {len(profile.pages)} sampled pages did not parse: see above"]
    return "\n".join(out)
