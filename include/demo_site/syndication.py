"""Syndicated copies in the demo newsroom, and their true story groups (issue 19).

Every local day of the two English HTML outlets carries a copy of one of the Harbor Wire's
stories of the previous UTC day (the "wire pick" of that day), in a slot that is published
at least ``MIN_DELAY`` after the wire story:

- Bayside Press: an edited headline and a trimmed ending (its last paragraphs dropped);
  and, in another slot, a *decoy*: a different story on the same topic, written with the
  wire's own desk templates (same places, organisations and phrasing) — it must NOT be
  grouped with the wire story;
- The Metro Ledger: an edited headline, a local paragraph inserted after the lede and an
  extended ending (a paragraph of its own added at the end);
- and every ``REPUBLISH_EVERY`` days, the Metro Ledger republishes one of its own stories
  of the day before under a second URL with a new headline and an editor's note on top.

Copies *replace* the content of an existing slot (its id, time, section and image stay),
so every day keeps its number of articles, short briefs, paywalled and soft-404 pages:
the counts other tests rely on do not change. ``apply`` is the hook ``catalog._local_day``
calls; ``story_groups`` gives the true groups (article paths) for ``bench/story_groups.py``.
Everything is a pure function of (outlet, day).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from functools import lru_cache
from typing import TYPE_CHECKING

from demo_site import text_en
from demo_site.text import count_words, slugify

if TYPE_CHECKING:
    from demo_site.catalog import DemoArticle

WIRE = "demo_harbor_wire"
BAYSIDE = "demo_bayside_press"
METRO = "demo_metro_ledger"
MIN_DELAY = dt.timedelta(minutes=30)
REPUBLISH_EVERY = 4
MAX_WORDS = 590  # the catalog promises 150-600 words for a full article
MIN_WORDS = 170
DECOY = "decoy"
HEADLINE_EDITS = ("{t}, officials say", "What to know: {t}", "{t} — latest",
                  "Update: {t}", "{t}, report says")
LOCAL_PARAGRAPHS = (
    "Closer to home, {place} residents told the Ledger the same questions are being asked "
    "at their own ward meetings, where councillors have promised a briefing before the "
    "summer recess.",
    "In {place}, the borough's own plans are still at consultation stage; a council "
    "spokesperson said officers were watching developments closely and would report back.",
)
EXTRA_ENDINGS = (
    "The Metro Ledger will follow this story. Readers with information can contact the "
    "newsdesk in confidence.",
    "Additional reporting by the Metro Ledger's city desk. This article was first "
    "distributed by Harbor Wire.",
)


@dataclasses.dataclass(frozen=True)
class Copy:
    """``copy_path`` republishes ``source_path``'s story (``how``: the kind of edit), or
    is a same-topic decoy of it (``how`` is ``DECOY``)."""

    source_path: str
    copy_path: str
    how: str


def _ok(a: DemoArticle) -> bool:
    return a.is_article_ok and not a.is_paywalled and not a.is_soft_404


def _wire_pick(day: dt.date) -> DemoArticle | None:
    """The wire story of UTC day ``day - 1`` the outlets copy on their local day ``day``."""
    from demo_site import catalog

    stories = [a for a in catalog._written_day(WIRE, day - dt.timedelta(days=1)) if _ok(a)]
    if not stories:
        return None
    return random.Random(f"syndication:{day.isoformat()}").choice(stories)


def _rebuild(a: DemoArticle, title: str, blocks: list[tuple[str, str]],
             **changes: object) -> DemoArticle:
    from demo_site import catalog

    while blocks and blocks[-1][0] == "h2":
        blocks.pop()
    spec = catalog.OUTLETS[a.outlet_key]
    slug = slugify(title) if spec.language == "en" else a.slug
    path = catalog._path(spec, a.local_day, a.id, slug, a.section_slug)
    image = catalog._image(spec, a.local_day, a.id, slug)
    paragraphs = [text for _, text in blocks]
    return dataclasses.replace(
        a, title=title, slug=slug, path=path, image_path=image, paragraphs=paragraphs,
        heading_indexes=tuple(i for i, (k, _) in enumerate(blocks) if k == "h2"),
        word_count=count_words("\n\n".join(paragraphs)), **changes)  # type: ignore[arg-type]


def _words(blocks: list[tuple[str, str]]) -> int:
    return count_words("\n\n".join(t for _, t in blocks))


def _trim_to(blocks: list[tuple[str, str]], most: int) -> list[tuple[str, str]]:
    """Drop paragraphs before the last one until the text has at most ``most`` words."""
    while _words(blocks) > most and len(blocks) > 3:
        del blocks[-2]
    return blocks


def _bayside_copy(slot: DemoArticle, wire: DemoArticle, rng: random.Random) -> DemoArticle:
    blocks = wire.blocks()
    for _ in range(rng.randint(1, 3)):  # a trimmed ending
        if len(blocks) > 3 and _words(blocks[:-1]) >= MIN_WORDS:
            blocks.pop()
    title = rng.choice(HEADLINE_EDITS).format(t=wire.title)
    return _rebuild(slot, title, _trim_to(blocks, MAX_WORDS), authors=list(wire.authors),
                    tags=list(wire.tags), description=wire.description)


def _metro_copy(slot: DemoArticle, wire: DemoArticle, rng: random.Random) -> DemoArticle:
    blocks = wire.blocks()
    place = rng.choice(text_en.METRO.places)
    extra = [("p", rng.choice(LOCAL_PARAGRAPHS).format(place=place)),
             ("p", rng.choice(EXTRA_ENDINGS))]
    blocks = _trim_to(blocks, MAX_WORDS - _words(extra))
    blocks.insert(1, extra[0])
    blocks.append(extra[1])
    title = wire.title[:1] + wire.title[1:].lower()  # the Ledger's sentence case
    return _rebuild(slot, f"{title}: {place} reacts", blocks, authors=list(wire.authors),
                    tags=list(wire.tags), description=wire.description)


def _decoy(slot: DemoArticle, wire: DemoArticle, rng: random.Random) -> DemoArticle:
    """A different story on the wire story's topic, from the wire's own desk templates."""
    desk = text_en.BAYSIDE
    topic = next((t for ts in desk.sections.values() for t in ts if t.tag in wire.tags), None)
    if topic is None:
        return slot
    local = slot.local_published
    piece = text_en.story(desk, rng, topic, local.weekday(), local.month - 1,
                          rng.randint(200, 450), 0)
    return _rebuild(slot, piece.title, list(piece.blocks), tags=list(piece.tags),
                    description=piece.description)


def _republish(slot: DemoArticle, source: DemoArticle, rng: random.Random) -> DemoArticle:
    note = ("p", f"Editor's note: this story was first published on "
                 f"{source.local_published:%A %-d %B}. It has been updated.")
    blocks = _trim_to(source.blocks(), MAX_WORDS - count_words(note[1]))
    blocks.insert(0, note)
    title = rng.choice(("Explained: ", "In case you missed it: ", "Recap: ")) + source.title
    return _rebuild(slot, title, blocks, authors=list(source.authors),
                    tags=list(source.tags), description=source.description)


def _slots(articles: tuple[DemoArticle, ...], after: dt.datetime) -> list[int]:
    return [i for i, a in enumerate(articles) if _ok(a) and a.published_at >= after]


@lru_cache(maxsize=4096)
def _plan(key: str, day: dt.date) -> tuple[tuple[DemoArticle, ...], tuple[Copy, ...]]:
    """The outlet's local day with its copies in place, and the copies made."""
    from demo_site import catalog

    written = catalog._written_day(key, day)
    if key not in (BAYSIDE, METRO) or not written:
        return written, ()
    articles = list(written)
    copies: list[Copy] = []
    taken: set[int] = set()
    rng = random.Random(f"syndication:{key}:{day.isoformat()}")
    wire = _wire_pick(day)
    if wire is not None:
        slots = _slots(written, wire.published_at + MIN_DELAY)
        if slots:
            i = slots[-1]  # the latest slot: the furthest from the wire story
            make = _bayside_copy if key == BAYSIDE else _metro_copy
            articles[i] = make(written[i], wire, rng)
            copies.append(Copy(wire.path, articles[i].path, f"wire copy ({key})"))
            taken.add(i)
        if key == BAYSIDE:
            others = [j for j in _slots(written, written[0].published_at) if j not in taken]
            if others:
                j = others[0]
                articles[j] = _decoy(written[j], wire, rng)
                copies.append(Copy(wire.path, articles[j].path, DECOY))
                taken.add(j)
    n = (day - catalog.START).days
    if key == METRO and n % REPUBLISH_EVERY == 0:
        before, _ = _plan(key, day - dt.timedelta(days=1))  # that day republishes nothing
        sources = [a for a in before if _ok(a)]  # a wire copy too: it joins that story
        slots = [j for j in _slots(written, written[0].published_at) if j not in taken]
        if sources and slots:
            source, j = rng.choice(sources), slots[0]
            articles[j] = _republish(written[j], source, rng)
            copies.append(Copy(source.path, articles[j].path, "republished"))
    return tuple(articles), tuple(copies)


def apply(key: str, day: dt.date, written: tuple[DemoArticle, ...]) -> tuple[DemoArticle, ...]:
    """The hook of ``catalog._local_day``: the outlet's local day with its copies."""
    if key not in (BAYSIDE, METRO):
        return written
    articles, _ = _plan(key, day)
    return tuple(sorted(articles, key=lambda a: a.published_at))


def copies(key: str, day: dt.date) -> tuple[Copy, ...]:
    """The copies an outlet publishes on its local day ``day``."""
    return tuple(c for c in _plan(key, day)[1] if c.how != DECOY)


def decoys(key: str, day: dt.date) -> tuple[Copy, ...]:
    """The same-topic stories (not copies) an outlet publishes on its local day ``day``:
    ``source_path`` is the wire story whose topic they share."""
    return tuple(c for c in _plan(key, day)[1] if c.how == DECOY)


def story_groups(first: dt.date, last: dt.date) -> list[frozenset[str]]:
    """The true groups of two or more articles (paths) among the copies made on local
    days ``first`` … ``last`` (sources may be published the day before ``first``)."""
    parent: dict[str, str] = {}

    def root(p: str) -> str:
        while parent.get(p, p) != p:
            p = parent[p]
        return p

    day = first
    while day <= last:
        for key in (BAYSIDE, METRO):
            for c in copies(key, day):
                parent.setdefault(c.source_path, c.source_path)
                parent.setdefault(c.copy_path, c.copy_path)
                parent[root(c.copy_path)] = root(c.source_path)
        day += dt.timedelta(days=1)
    groups: dict[str, set[str]] = {}
    for p in parent:
        groups.setdefault(root(p), set()).add(p)
    return [frozenset(g) for g in groups.values() if len(g) > 1]
