"""The report page: one self-contained HTML page about a lake, what landed, what was
quarantined, what failed (``newslake report``). Its numbers come from ``report.data``, its
charts from ``report.charts``; the page has inline CSS and inline SVG, no JavaScript and
no external resource, so it opens offline and can be mailed or attached to a CI run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from newslake import lake, report_stories
from newslake.report.charts import bar_chart, colors_for, legend, line_chart
from newslake.report.data import (
    RunRecord,
    coverage_series,
    day_stats,
    day_window,
    load_runs,
    local_root,
    s3_storage,
)
from newslake.report.markup import document, esc

__all__ = ["DEFAULT_DAYS", "DEFAULT_RUNS", "build_report", "write_report"]

DEFAULT_DAYS = 60
DEFAULT_RUNS = 50


def _checks_text(run: RunRecord) -> str:
    parts = [f"{name} ×{n}" for name, n in sorted(run.failed_checks.items())]
    parts += [f"batch: {f}" for f in run.batch_failures]
    parts += [f"warned: {w}" for w in run.batch_warnings]
    return "; ".join(parts) or "—"


def _num(value: int | float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _runs_table(runs: list[RunRecord], limit: int) -> str:
    latest = sorted(runs, key=lambda r: r.finished_at, reverse=True)[:limit]
    if not latest:
        return '<p class="empty">No runs in this lake yet.</p>'
    head = ("<tr><th>finished (UTC)</th><th>outlet</th><th>date</th><th>run_id</th>"
            "<th>status</th><th class=n>discovered</th><th class=n>fetch failed</th>"
            "<th class=n>written</th><th class=n>quarantined</th><th>failed checks</th>"
            '<th class=n title="discover + validate + publish, as the manifest records '
            'them">duration (s)</th></tr>')
    rows = []
    for r in latest:
        rows.append(
            f'<tr class="run {r.status}">'
            f'<td class=nw>{esc(r.finished_at[:19].replace("T", " "))}</td>'
            f"<td>{esc(r.outlet)}</td><td class=nw>{esc(r.day)}</td>"
            f'<td class="mono">{esc(r.run_id)}</td>'
            f'<td class="status {r.status}">{r.status}</td>'
            f"<td class=n>{_num(r.discovered)}</td><td class=n>{_num(r.fetch_failed)}</td>"
            f"<td class=n>{_num(r.written)}</td><td class=n>{_num(r.quarantined)}</td>"
            f"<td>{esc(_checks_text(r))}</td><td class=n>{_num(r.seconds)}</td></tr>")
    return f'<table id="runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def build_report(lake_uri: str, *, days: int = DEFAULT_DAYS, runs_limit: int = DEFAULT_RUNS,
                 now: dt.datetime | None = None,
                 storage: Mapping[str, str] | None = None) -> str:
    """The report page as one HTML string (``storage``: S3 options, see ``s3_storage``)."""
    runs = load_runs(lake_uri, storage)
    stats = day_stats(lake_uri, runs, storage)
    window = day_window(list(stats) + [(r.outlet, r.day) for r in runs], days)
    in_window = set(window)
    outlets = sorted({o for o, _ in stats} | {r.outlet for r in runs})
    colors = colors_for(outlets)

    articles: dict[str, dict[dt.date, float]] = {o: {} for o in outlets}
    rates: dict[str, dict[dt.date, float]] = {o: {} for o in outlets}
    failures: dict[str, dict[dt.date, float]] = {o: {} for o in outlets}
    for (outlet, day_text), s in stats.items():
        day = dt.date.fromisoformat(day_text)
        if day not in in_window:
            continue
        articles[outlet][day] = s.articles
        failures[outlet][day] = s.fetch_failed
        if s.quarantine_rate is not None:
            rates[outlet][day] = s.quarantine_rate

    shown = [s for (o, d), s in stats.items() if dt.date.fromisoformat(d) in in_window]
    total_articles = sum(s.articles for s in shown)
    total_quarantined = sum(s.quarantined for s in shown)
    bad_runs = sum(1 for r in runs if r.status != "published")
    span = f"{window[0]} … {window[-1]}" if window else "no data"
    generated = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    key = legend(colors)
    cards = "".join(
        f'<div class="card{cls}"><b>{value}</b><span>{label}</span></div>'
        for value, label, cls in (
            (len(outlets), "outlets", ""), (len(window), "days shown", ""),
            (total_articles, "articles", ""), (total_quarantined, "quarantined rows", ""),
            (len(runs), "runs", ""), (bad_runs, "runs not published", " bad" if bad_runs else ""),
        ))
    sections = [
        ("Articles per outlet per day", "Rows in <code>articles/</code> partitions.",
         bar_chart("chart-articles", "Articles per outlet per day", window, articles, colors,
                   "articles")),
        ("Quarantine rate per outlet per day",
         "Quarantined rows / (articles + quarantined rows) in the day's partitions.",
         line_chart("chart-quarantine", "Quarantine rate per outlet per day", window, rates,
                    colors, "quarantined")),
        ("Fetch failures per day",
         "Responses that failed or were not 2xx, from the manifest of the run that wrote the "
         "day (stacked by outlet).",
         bar_chart("chart-fetch-failures", "Fetch failures per day", window, failures, colors,
                   "fetch failures", stacked=True)),
    ]
    body = "".join(
        f"<section><h2>{title}</h2><p class=sub>{note}</p>{key}{chart}</section>"
        for title, note, chart in sections)
    for outlet in outlets:
        series = coverage_series(runs, outlet, in_window)
        if not any(series.values()):
            continue
        field_colors = colors_for(series)
        body += (
            f"<section><h2>Field coverage · {esc(outlet)}</h2><p class=sub>Share of the "
            "day's parsed rows that have each field, from the extraction profile of the "
            "day's newest run (a run that failed its drift checks included). A step is a "
            "layout change; the drift checks name it.</p>"
            f"{legend(field_colors)}"
            + line_chart(f"chart-coverage-{esc(outlet)}", f"Field coverage of {outlet}",
                         window, series, field_colors, "of rows")
            + "</section>")
    body += report_stories.section(lake_uri, window[-1] if window else None,  # issue 19
                                   s3_storage(storage) if lake.is_s3(lake_uri) else None)
    shown_lake = lake_uri if lake.is_s3(lake_uri) else local_root(lake_uri)
    return document(f"newslake report · {span}", f"""
<h1>newslake report</h1>
<p class="sub">Lake <code>{esc(shown_lake)}</code> · {esc(span)} ·
generated {generated}</p>
<div class="cards">{cards}</div>
{body}
<section><h2>Latest runs</h2>
<p class=sub>Newest first, at most {runs_limit}. <i>failed</i>: a batch check failed, nothing
was published (the GX results are kept); <i>unpublished</i>: validated, never published. A
run killed after its partitions were swapped and before its manifest was written is
<i>published</i> (its rows carry its run id).</p>
{_runs_table(runs, runs_limit)}</section>
<footer>Made by <code>newslake report</code> from <code>_runs/</code> manifests and partition
footers. No scripts, no external resources.</footer>
""")


def write_report(lake_uri: str, out: str | Path, **kwargs: Any) -> Path:
    """Write the report page to ``out``; return its path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(lake_uri, **kwargs), encoding="utf-8")
    return path
