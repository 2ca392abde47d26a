"""The ground truth: which articles each demo outlet publishes, day by day.

Articles are generated per *local* calendar day of the outlet (that is what archive
pages and permalinks show); ``articles_for`` regroups them by UTC day, the unit the
pipeline partitions by. Everything is a pure function of (outlet, day).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from zoneinfo import ZoneInfo

from demo_site import syndication, text_en, text_uk
from demo_site.text import Piece, Topic, count_words, slugify

START = dt.date(2024, 1, 1)
UTC = dt.UTC


@dataclass(frozen=True)
class OutletSpec:
    key: str
    prefix: str
    name: str
    language: str
    timezone: str
    id_base: int
    short_day: int
    staff: tuple[str, ...]
    # A wire: one to three stories every hour, all day, a feed of the latest ten and no
    # archive or sitemap (``_wire_day``); ids step by WIRE_STRIDE a day instead of 10.
    wire: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


OUTLETS: dict[str, OutletSpec] = {
    s.key: s
    for s in (
        OutletSpec("demo_bayside_press", "/bayside-press", "Bayside Press", "en",
                   "America/New_York", 180_000, 3,
                   ("Maria Delgado", "James Whitaker", "Angela Pham", "Robert Sutton",
                    "Carmen Vega", "Marcus Coleman")),
        OutletSpec("demo_metro_ledger", "/metro-ledger", "The Metro Ledger", "en",
                   "Europe/London", 5_400_000, 6,
                   ("Amelia Hughes", "Kwame Osei", "Priya Chowdhury", "Tom Barker",
                    "Niamh Lloyd", "Samuel Reid", "Fatima Ahmed", "Rhys Morgan")),
        OutletSpec("demo_dnipro_visti", "/dnipro-visti", "Дніпро Вісті", "uk",
                   "Europe/Kyiv", 70_000, 8,
                   ("Олена Ковальчук", "Андрій Мельник", "Ірина Бондаренко",
                    "Тарас Шевченко", "Юлія Марченко", "Дмитро Руденко")),
        OutletSpec("demo_harbor_wire", "/harbor-wire", "Harbor Wire", "en", "UTC",
                   9_000_000, 4,
                   ("Lena Ortiz", "Dev Patel", "Grace Kim", "Owen Brooks", "Sofia Rossi"),
                   wire=True),
    )
}
ALIASES = {s.prefix.strip("/"): key for key, s in OUTLETS.items()}
SOFT_404_WEEKDAY_OFFSET = 2
PAYWALL_EVERY = 5
WIRE_STRIDE = 100  # more than the 72 stories a wire day can hold
WIRE_FEED_ITEMS = 10


@dataclass(frozen=True)
class DemoArticle:
    outlet_key: str
    id: int
    slug: str
    path: str
    title: str
    authors: list[str]
    published_at: dt.datetime
    modified_at: dt.datetime | None
    section: str
    section_slug: str
    tags: list[str]
    description: str
    paragraphs: list[str]
    heading_indexes: tuple[int, ...]
    image_path: str | None
    image_caption: str
    is_article_ok: bool
    bad_reason: str | None
    is_paywalled: bool
    word_count: int
    language: str

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def local_published(self) -> dt.datetime:
        return self.published_at.astimezone(OUTLETS[self.outlet_key].tz)

    @property
    def local_day(self) -> dt.date:
        return self.local_published.date()

    @property
    def last_modified(self) -> dt.datetime:
        return self.modified_at or self.published_at

    @property
    def is_soft_404(self) -> bool:
        return self.bad_reason == "soft_404"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.path

    def blocks(self) -> list[tuple[str, str]]:
        return [("h2" if i in self.heading_indexes else "p", p)
                for i, p in enumerate(self.paragraphs)]


def outlet(key: str) -> OutletSpec:
    return OUTLETS[ALIASES.get(key, key)]


def _times(rng: random.Random, day: dt.date, count: int, tz: ZoneInfo) -> list[dt.datetime]:
    minutes: set[int] = set()
    while len(minutes) < count:
        night = rng.random() < 0.15
        minutes.add(rng.randint(10, 359) if night else rng.randint(360, 1435))
    out = []
    for m in sorted(minutes):
        naive = dt.datetime.combine(day, dt.time(m // 60, m % 60))
        out.append(naive.replace(tzinfo=tz).astimezone(UTC))
    return out


def _piece(spec: OutletSpec, rng: random.Random, section: str, topic: Topic,
           stamp: dt.datetime, *, short: bool, paywalled: bool) -> Piece:
    weekday, month = stamp.weekday(), stamp.month - 1
    if spec.language == "uk":
        if short:
            return text_uk.brief(rng, topic, month)
        return text_uk.story(rng, topic, month, rng.randint(160, 520), rng.choice((0, 0, 1)))
    desk = text_en.METRO if spec.key == "demo_metro_ledger" else text_en.BAYSIDE
    if short:
        return text_en.brief(desk, rng, topic, weekday, month)
    if paywalled:
        return text_en.story(desk, rng, topic, weekday, month, rng.randint(95, 130), 0)
    headings = rng.randint(1, 3) if desk is text_en.METRO else rng.choice((0, 0, 1))
    return text_en.story(desk, rng, topic, weekday, month, rng.randint(160, 520), headings)


def _sections(spec: OutletSpec) -> dict[str, tuple[Topic, ...]]:
    if spec.language == "uk":
        return text_uk.SECTIONS
    return (text_en.METRO if spec.key == "demo_metro_ledger" else text_en.BAYSIDE).sections


def _path(spec: OutletSpec, day: dt.date, ident: int, slug: str, section_slug: str) -> str:
    if spec.key == "demo_bayside_press":
        return f"{spec.prefix}/{day:%Y/%m/%d}/{slug}/"
    if spec.key == "demo_metro_ledger":
        return f"{spec.prefix}/news/{section_slug}/{slug}-{ident}"
    if spec.wire:
        return f"{spec.prefix}/story/{ident}-{slug}"
    return f"{spec.prefix}/news/{ident}.html"


def _image(spec: OutletSpec, day: dt.date, ident: int, slug: str) -> str:
    if spec.key == "demo_bayside_press":
        return f"{spec.prefix}/wp-content/uploads/{day:%Y/%m}/{slug}.jpg"
    if spec.key == "demo_metro_ledger" or spec.wire:
        return f"{spec.prefix}/media/images/{ident}/lead.jpg"
    return f"{spec.prefix}/upload/news/{ident}.jpg"


def _section_slug(section: str, index: int) -> str:
    return slugify(section) or f"rubric-{index}"


def _wire_day(spec: OutletSpec, day: dt.date) -> tuple[DemoArticle, ...]:
    """One to three stories an hour, at any minute, every hour of the day; one brief too
    short to be an article on every tenth day."""
    rng = random.Random(f"{spec.key}:{day.isoformat()}")
    n = (day - START).days
    stamps = []
    for hour in range(24):
        for minute in sorted(rng.sample(range(60), rng.choice((1, 2, 3)))):
            naive = dt.datetime.combine(day, dt.time(hour, minute))
            stamps.append(naive.replace(tzinfo=spec.tz).astimezone(UTC))
    sections = _sections(spec)
    section_names = list(sections)
    pairs = [(s, t) for s in sections for t in sections[s]]
    short = rng.randrange(len(stamps)) if n % 10 == spec.short_day else None
    articles = []
    for i, stamp in enumerate(stamps):
        section, topic = rng.choice(pairs)
        piece = _piece(spec, rng, section, topic, stamp, short=i == short, paywalled=False)
        authors = rng.sample(spec.staff, 1)
        articles.append(_article(spec, n * WIRE_STRIDE + i, day, piece, section,
                                 _section_slug(section, section_names.index(section)),
                                 authors, stamp, None, i == short, False))
    return tuple(articles)


# Wire edits and a takedown, a pure function of the article and the clock: every
# WIRE_EDIT_EVERY-th story of a day and its last one are updated 1-5 hours after they
# went out (an added paragraph, a new dateModified, ETag and Last-Modified), and one late
# story a day is taken down (410 Gone) at 06:00 UTC two days after its day, after the
# daily ingest has landed it.
WIRE_EDIT_EVERY = 8
WIRE_TAKEDOWN_AFTER = dt.timedelta(days=2, hours=6)


def _wire_index(a: DemoArticle) -> tuple[int, int]:
    """The story's place in its day and how many the day has."""
    spec = OUTLETS[a.outlet_key]
    n = (a.id - spec.id_base) // WIRE_STRIDE
    return (a.id - spec.id_base) % WIRE_STRIDE, len(_local_day(spec.key, START + dt.timedelta(n)))


def wire_edit_at(a: DemoArticle) -> dt.datetime | None:
    """When a wire story is updated (None: never)."""
    if not OUTLETS[a.outlet_key].wire or not a.is_article_ok:
        return None
    i, count = _wire_index(a)
    if i % WIRE_EDIT_EVERY != 3 and i != count - 1:
        return None
    return a.published_at + dt.timedelta(hours=1 + i % 4, minutes=(7 * i) % 60)


def wire_takedown_at(a: DemoArticle) -> dt.datetime | None:
    """When a wire story is taken down (None: never): the latest of its day's last four
    stories that is neither edited nor too short."""
    if not OUTLETS[a.outlet_key].wire:
        return None
    spec = OUTLETS[a.outlet_key]
    day = START + dt.timedelta((a.id - spec.id_base) // WIRE_STRIDE)
    pool = [b for b in _local_day(spec.key, day)[-4:]
            if b.is_article_ok and wire_edit_at(b) is None]
    if not pool or pool[-1].id != a.id:
        return None
    return dt.datetime.combine(day, dt.time(), UTC) + WIRE_TAKEDOWN_AFTER


def is_taken_down(a: DemoArticle, now: dt.datetime) -> bool:
    gone = wire_takedown_at(a)
    return gone is not None and gone <= now


def as_of(a: DemoArticle, now: dt.datetime) -> DemoArticle:
    """The story as its page shows it at ``now``: updated once its edit time has passed."""
    edited = wire_edit_at(a)
    if edited is None or now < edited:
        return a
    note = (f"Update, {edited:%H:%M} UTC: this story has been updated with further "
            f"details from officials and a correction to the time given earlier.")
    paragraphs = [*a.paragraphs, note]
    return replace(a, modified_at=edited, paragraphs=paragraphs,
                   word_count=count_words("\n\n".join(paragraphs)))


@lru_cache(maxsize=4096)
def _local_day(key: str, day: dt.date) -> tuple[DemoArticle, ...]:
    return syndication.apply(key, day, _written_day(key, day))  # wire copies (issue 19)


@lru_cache(maxsize=4096)
def _written_day(key: str, day: dt.date) -> tuple[DemoArticle, ...]:
    """The outlet's own stories of its local ``day``, before syndicated copies."""
    spec = OUTLETS[key]
    if day < START:
        return ()
    if spec.wire:
        return _wire_day(spec, day)
    rng = random.Random(f"{key}:{day.isoformat()}")
    n = (day - START).days
    count = rng.randint(4, 8)
    sections = _sections(spec)
    pairs = [(s, t) for s in sections for t in sections[s]]
    picks = rng.sample(pairs, count + 1)
    short = rng.randrange(count) if n % 10 == spec.short_day else None
    paywalled = None
    if key == "demo_metro_ledger" and n % PAYWALL_EVERY == 1:
        paywalled = next(i for i in rng.sample(range(count), count) if i != short)
    section_names = list(sections)
    articles = []
    for i, stamp in enumerate(_times(rng, day, count, spec.tz)):
        section, topic = picks[i]
        is_short, is_paywalled = i == short, i == paywalled
        piece = _piece(spec, rng, section, topic, stamp.astimezone(spec.tz),
                       short=is_short, paywalled=is_paywalled)
        modified = None
        if spec.language == "en" and not is_short and rng.random() < 0.3:
            modified = stamp + dt.timedelta(minutes=rng.randint(15, 360))
        authors = rng.sample(spec.staff, 2 if key == "demo_metro_ledger"
                             and rng.random() < 0.25 else 1)
        articles.append(_article(spec, n * 10 + i, day, piece, section,
                                 _section_slug(section, section_names.index(section)),
                                 authors, stamp, modified, is_short, is_paywalled))
    if key == "demo_metro_ledger" and n % 7 == SOFT_404_WEEKDAY_OFFSET:
        section, topic = picks[count]
        piece = text_en.brief(text_en.METRO, rng, topic, day.weekday(), day.month - 1)
        noon = dt.datetime.combine(day, dt.time(12, 0), spec.tz).astimezone(UTC)
        articles.append(_article(spec, n * 10 + 9, day, piece, section, slugify(section), [],
                                 noon, None, False, False, soft_404=True))
    return tuple(sorted(articles, key=lambda a: a.published_at))


def _article(spec: OutletSpec, offset: int, day: dt.date, piece: Piece, section: str,
             section_slug: str, authors: list[str], published: dt.datetime,
             modified: dt.datetime | None, short: bool, paywalled: bool,
             soft_404: bool = False) -> DemoArticle:
    ident = spec.id_base + offset
    slug = slugify(piece.title) if spec.language == "en" else str(ident)
    paragraphs = [] if soft_404 else [t for _, t in piece.blocks]
    bad = "soft_404" if soft_404 else "too_short" if short else None
    return DemoArticle(
        outlet_key=spec.key, id=ident, slug=slug,
        path=_path(spec, day, ident, slug, section_slug), title=piece.title,
        authors=list(authors), published_at=published, modified_at=modified,
        section=section, section_slug=section_slug, tags=list(piece.tags),
        description=piece.description, paragraphs=paragraphs,
        heading_indexes=() if soft_404 else tuple(
            i for i, (k, _) in enumerate(piece.blocks) if k == "h2"),
        image_path=None if soft_404 else _image(spec, day, ident, slug),
        image_caption=piece.caption, is_article_ok=bad is None, bad_reason=bad,
        is_paywalled=paywalled, word_count=count_words("\n\n".join(paragraphs)),
        language=spec.language,
    )


def articles_on_local_day(outlet_key: str, day: dt.date) -> list[DemoArticle]:
    """What the outlet's archive page for its local date ``day`` lists (soft-404s included)."""
    return list(_local_day(outlet(outlet_key).key, day))


def articles_for(outlet_key: str, day: dt.date) -> list[DemoArticle]:
    """Every page published in the UTC day ``day``, bad cases included, oldest first."""
    key = outlet(outlet_key).key
    found = [a for d in (-1, 0, 1) for a in _local_day(key, day + dt.timedelta(days=d))]
    return [a for a in found if a.published_at.date() == day]


def is_live(article: DemoArticle, now: dt.datetime) -> bool:
    return article.published_at <= now


def local_today(outlet_key: str, now: dt.datetime) -> dt.date:
    return now.astimezone(outlet(outlet_key).tz).date()


def latest(outlet_key: str, now: dt.datetime, limit: int = 30) -> list[DemoArticle]:
    """The newest ``limit`` real pages published by ``now``, newest first."""
    key = outlet(outlet_key).key
    day, found = local_today(key, now), list[DemoArticle]()
    while len(found) < limit and day >= START:
        found += [a for a in reversed(_local_day(key, day))
                  if is_live(a, now) and not a.is_soft_404]
        day -= dt.timedelta(days=1)
    return found[:limit]


_PATH_RES = {
    "demo_bayside_press": re.compile(r"^/bayside-press/(\d{4})/(\d{2})/(\d{2})/[a-z0-9-]+/$"),
    "demo_metro_ledger": re.compile(r"^/metro-ledger/news/[a-z0-9-]+/[a-z0-9-]+-(\d+)$"),
    "demo_dnipro_visti": re.compile(r"^/dnipro-visti/news/(\d+)\.html$"),
    "demo_harbor_wire": re.compile(r"^/harbor-wire/story/(\d+)-[a-z0-9-]+$"),
}


def find_article(outlet_key: str, path: str) -> DemoArticle | None:
    """The article (or soft-404 entry) served at ``path``, whether or not it is live yet."""
    spec = outlet(outlet_key)
    m = _PATH_RES[spec.key].match(path)
    if not m:
        return None
    try:
        if len(m.groups()) == 3:
            day = dt.date(*map(int, m.groups()))
        else:
            stride = WIRE_STRIDE if spec.wire else 10
            day = START + dt.timedelta(days=(int(m.group(1)) - spec.id_base) // stride)
    except (ValueError, OverflowError):
        return None
    return next((a for a in _local_day(spec.key, day) if a.path == path), None)


def bad_cases(outlet_key: str, first: dt.date, last: dt.date) -> list[DemoArticle]:
    """The deliberate non-articles published in UTC days ``first`` … ``last``."""
    days = (last - first).days + 1
    return [a for i in range(days) for a in articles_for(outlet_key, first + dt.timedelta(i))
            if not a.is_article_ok]


def earlier(article: DemoArticle, limit: int = 3) -> list[DemoArticle]:
    """Real articles of the same outlet published before ``article``, newest first."""
    key, day = article.outlet_key, article.local_day
    pool = [a for a in _local_day(key, day) + _local_day(key, day - dt.timedelta(days=1))
            if a.published_at < article.published_at and not a.is_soft_404]
    return sorted(pool, key=lambda a: a.published_at, reverse=True)[:limit]
