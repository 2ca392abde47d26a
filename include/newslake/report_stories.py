"""The report's "largest stories" section: the day's stories carried by the most articles
(``stories/``, issue 19), as one horizontal bar chart in inline SVG, like the rest of the
report (``newslake.report``): no scripts, no external resources."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from newslake import stories
from newslake.lake import Storage

TOP = 10
BAR_HEIGHT = 22
LABEL_WIDTH = 420
BAR_WIDTH = 300
TITLE_CHARS = 64


@dataclass(frozen=True)
class Story:
    story_id: str
    title: str  # of its earliest article that day
    articles: int
    outlets: int


def largest(lake_uri: str, day: dt.date, top: int = TOP, storage: Storage = None) -> list[Story]:
    """The day's stories with two articles or more that day, the most articles first
    (then the most outlets, then story_id), at most ``top``."""
    rows = stories.read_day(lake_uri, day, storage).to_pylist()
    groups: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault(str(row["story_id"]), []).append(row)
    found = [Story(sid, str(min(g, key=lambda r: (r["published_at"], r["article_id"]))["title"]),
                   len(g), len({r["outlet"] for r in g}))
             for sid, g in groups.items() if len(g) > 1]
    found.sort(key=lambda s: (-s.articles, -s.outlets, s.story_id))
    return found[:top]


def _latest_day(lake_uri: str, last: dt.date, storage: Storage) -> dt.date | None:
    built = [d for d in stories._built_days(lake_uri, storage) if d <= last]
    return max(built) if built else None


def section(lake_uri: str, last: dt.date | None, storage: Storage = None) -> str:
    """The HTML section for the latest day with stories up to ``last`` (the report's last
    day); a note when there is none."""
    day = _latest_day(lake_uri, last, storage) if last else None
    found = largest(lake_uri, day, storage=storage) if day else []
    head = "<section><h2>Largest stories of the day</h2>"
    if not found:
        return (f'{head}<p class="empty" id="chart-stories">No story carried by two articles '
                f"or more{f' on {day}' if day else ''} (<code>stories/</code>).</p></section>")
    peak = max(s.articles for s in found)
    height = BAR_HEIGHT * len(found) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = []
    for i, s in enumerate(found):
        y = 4 + i * BAR_HEIGHT
        w = max(BAR_WIDTH * s.articles / peak, 2)
        title = s.title if len(s.title) <= TITLE_CHARS else s.title[:TITLE_CHARS - 1] + "…"
        label = html.escape(f"{title} · {s.outlets} outlet{'s' * (s.outlets != 1)}")
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{label}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 3}" width="{w:.1f}" '
            f'height="{BAR_HEIGHT - 6}" fill="#4e79a7"><title>{html.escape(s.title)}: '
            f"{s.articles} articles, {s.outlets} outlets</title></rect>"
            f'<text x="{LABEL_WIDTH + w + 6:.1f}" y="{y + 15}">{s.articles}</text>')
    chart = (f'<svg id="chart-stories" data-marks="{len(found)}" viewBox="0 0 {width} '
             f'{height}" width="{width}" height="{height}" role="img" '
             f'aria-label="Largest stories of {day}"><title>Largest stories of {day}</title>'
             f'{"".join(parts)}</svg>')
    return (f"{head}<p class=sub>{day}: the stories carried by the most articles that day "
            f"(copies grouped across outlets, <code>stories/</code>), labelled with the "
            f"day's first title and the outlets that carried them.</p>{chart}</section>")
