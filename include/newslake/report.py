"""One self-contained HTML page about a lake: what landed, what was quarantined, what failed.

Reads the run manifests and the kept Great Expectations results in ``_runs/``, and the
Parquet footers of the ``articles/`` and ``quarantine/`` partitions (row counts only: no
data pages are read). The page has inline CSS and inline SVG charts, no JavaScript and no
external resource, so it opens offline and can be mailed or attached to a CI run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from newslake import lake, report_stories
from newslake.errors import NewslakeError

DEFAULT_DAYS = 60
DEFAULT_RUNS = 50
# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#000000")
WIDTH, HEIGHT = 1120, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 12, 40

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
 margin:0;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:20px 24px 48px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
.sub{color:#5b6472;margin:0 0 16px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 16px;
 margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#5b6472;font-size:12px}
.card.bad b{color:#b42318}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;margin:0 0 6px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
 vertical-align:-1px}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#5b6472}
svg .grid{stroke:#e6e8ec}svg .axis{stroke:#9aa3af}
svg .bar:hover,svg .point:hover{opacity:.7}
.empty{color:#5b6472;font-style:italic}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #e6e8ec;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f0f2f5;font-weight:600}.nw{white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:11.5px;
 word-break:break-all}
tr.failed td{background:#fdecea}tr.unpublished td{background:#fff6e0}
.status{font-weight:600}.status.failed{color:#b42318}.status.published{color:#067647}
.status.unpublished{color:#93620a}
a{color:#0b5cad}
footer{color:#5b6472;font-size:12px}
"""


@dataclass(frozen=True)
class RunRecord:
    """One run as the lake remembers it: its manifest, or only its kept GX results."""

    outlet: str
    day: str
    run_id: str
    status: str  # "published", "failed" (batch checks failed) or "unpublished"
    finished_at: str
    discovered: int | None
    fetch_failed: int | None
    written: int | None
    quarantined: int | None
    failed_checks: dict[str, int] = field(default_factory=dict)
    batch_failures: tuple[str, ...] = ()
    batch_warnings: tuple[str, ...] = ()  # checks set to warn that fired (drift, …)
    seconds: float | None = None
    validation_file: str | None = None  # relative to the lake
    profile: dict[str, Any] | None = None  # extraction profile (newslake.drift)


@dataclass
class DayStats:
    articles: int = 0
    quarantined: int = 0
    fetch_failed: int = 0

    @property
    def quarantine_rate(self) -> float | None:
        total = self.articles + self.quarantined
        return self.quarantined / total if total else None


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _mtime_iso(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat()


def _seconds(manifest: Mapping[str, Any]) -> float | None:
    """Recorded time of a run: the manifest's ``seconds`` (the steps it timed), summed."""
    seconds = manifest.get("seconds")
    if isinstance(seconds, Mapping):
        values = [float(v) for v in seconds.values() if isinstance(v, int | float)]
        return round(sum(values), 3) if values else None
    return float(seconds) if isinstance(seconds, int | float) else None


_MIRRORS: dict[str, Path] = {}


def s3_storage(storage: Mapping[str, str] | None) -> Mapping[str, str]:
    """``storage`` when given (e.g. from the DAGs' Airflow connection), else the
    environment's S3 settings (``newslake.settings.storage_from_env``)."""
    from newslake.settings import storage_from_env

    return storage_from_env() if storage is None else storage


def local_root(lake_uri: str, storage: Mapping[str, str] | None = None) -> Path:
    """A local folder holding the lake's ``_runs/``: the lake itself, or for an ``s3://``
    lake a mirror of its (small) manifests and GX results, made once per process.
    ``storage``: S3 options (default: from the environment, ``s3_storage``)."""
    if not lake.is_s3(lake_uri):
        return lake.lake_root(lake_uri)
    if lake_uri not in _MIRRORS:
        import atexit
        import shutil
        import tempfile

        import pyarrow.fs as pafs

        mirror = Path(tempfile.mkdtemp(prefix="newslake-report-"))
        atexit.register(shutil.rmtree, mirror, True)
        runs = lake.join(lake_uri, "_runs")
        fs, path = lake.filesystem(runs, s3_storage(storage))
        try:
            if fs.get_file_info(path).type != pafs.FileType.NotFound:
                pafs.copy_files(path, str(mirror / "_runs"), source_filesystem=fs,
                                destination_filesystem=pafs.LocalFileSystem())
        except OSError as exc:
            raise NewslakeError(f"{lake_uri}: cannot read its _runs/: {exc}") from exc
        _MIRRORS[lake_uri] = mirror
    return _MIRRORS[lake_uri]


def load_runs(lake_uri: str, storage: Mapping[str, str] | None = None) -> list[RunRecord]:
    """Every run in ``_runs/``, oldest first (by finish time)."""
    root = local_root(lake_uri, storage)
    runs: list[RunRecord] = []
    for folder in sorted((root / "_runs").glob("outlet=*/date=*")):
        outlet = folder.parent.name.removeprefix("outlet=")
        day = folder.name.removeprefix("date=")
        results = {p.name.removesuffix(".validation.json"): p
                   for p in folder.glob("*.validation.json")}
        for path in sorted(folder.glob("*.json")):
            if path.name.endswith(".validation.json"):
                continue
            data = _read_json(path)
            ref = results.get(path.stem)
            runs.append(RunRecord(
                outlet=outlet, day=day, run_id=str(data.get("run_id", path.stem)),
                status="published",
                finished_at=str(data.get("finished_at") or _mtime_iso(path)),
                discovered=data.get("discovered"), fetch_failed=data.get("fetch_failed"),
                written=data.get("written"), quarantined=data.get("quarantined"),
                failed_checks=dict(data.get("failed_checks") or {}),
                seconds=_seconds(data),
                validation_file=str(ref.relative_to(root)) if ref else None,
                profile=data.get("profile"),
                batch_warnings=tuple(data.get("batch_warnings") or ()),
            ))
        for stem, ref in sorted(results.items()):
            if (folder / f"{stem}.json").exists():
                continue
            # GX results without a manifest: the batch gate failed, publish never ran, or
            # the run was killed after its swaps and before its manifest (its rows are
            # live: they carry its run id).
            summary = _read_json(ref).get("summary", {})
            failures = tuple(summary.get("batch_failures") or ())
            counts = summary.get("counts") or {}
            live = None if failures else live_rows(
                lake_uri, outlet, day, str(summary.get("run_id", stem)), storage)
            runs.append(RunRecord(
                outlet=outlet, day=day, run_id=str(summary.get("run_id", stem)),
                status="failed" if failures else "published" if live else "unpublished",
                finished_at=_mtime_iso(ref), discovered=None,
                fetch_failed=counts.get("fetch_failed", 0) if counts else None,
                written=live[0] if live else None, quarantined=live[1] if live else None,
                failed_checks=dict(summary.get("failed_checks") or {}),
                batch_failures=failures, seconds=summary.get("seconds"),
                validation_file=str(ref.relative_to(root)),
                profile=summary.get("profile"),
            ))
    runs.sort(key=lambda r: (r.finished_at, r.outlet, r.day))
    return runs


def live_rows(lake_uri: str, outlet: str, day: str, run_id: str,
              storage: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """(articles, quarantined) rows of the outlet-day's live partitions that ``run_id``
    wrote, or None when neither partition holds a row of it."""
    s3 = s3_storage(storage) if lake.is_s3(lake_uri) else None
    found = []
    for zone in ("articles", "quarantine"):
        location = lake.join(lake.partition_uri(lake_uri, zone, outlet, dt.date.fromisoformat(day)),
                             lake.PARQUET_FILE)
        if not lake.exists(location, s3):
            found.append(0)
            continue
        fs, path = lake.filesystem(location, s3)
        ids = pq.read_table(path, columns=["run_id"], filesystem=fs).column("run_id")
        found.append(sum(1 for value in ids.to_pylist() if value == run_id))
    return (found[0], found[1]) if any(found) else None


def partition_rows(lake_uri: str, zone: str,
                   storage: Mapping[str, str] | None = None) -> dict[tuple[str, str], int]:
    """Rows per (outlet, date) partition of a zone, from the Parquet footers."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if lake.is_s3(lake_uri):  # footers read in place: a few KB a partition
        import pyarrow.fs as pafs

        fs, base = lake.filesystem(lake.join(lake_uri, zone), s3_storage(storage))
        if fs.get_file_info(base).type == pafs.FileType.NotFound:
            return {}
        for info in fs.get_file_info(pafs.FileSelector(base, recursive=True)):
            parts = info.path.split("/")
            if info.is_file and info.base_name.endswith(".parquet") and len(parts) >= 3:
                key = (parts[-3].removeprefix("outlet="), parts[-2].removeprefix("date="))
                counts[key] += pq.read_metadata(info.path, filesystem=fs).num_rows
        return dict(counts)
    for path in (local_root(lake_uri) / zone).glob("outlet=*/date=*/*.parquet"):
        key = (path.parent.parent.name.removeprefix("outlet="),
               path.parent.name.removeprefix("date="))
        counts[key] += pq.read_metadata(path).num_rows
    return dict(counts)


def day_stats(lake_uri: str, runs: list[RunRecord],
              storage: Mapping[str, str] | None = None) -> dict[tuple[str, str], DayStats]:
    """What each outlet-day holds now: rows from the partitions, fetch failures from the
    newest published manifest (the run that wrote those partitions)."""
    stats: dict[tuple[str, str], DayStats] = defaultdict(DayStats)
    for key, n in partition_rows(lake_uri, "articles", storage).items():
        stats[key].articles = n
    for key, n in partition_rows(lake_uri, "quarantine", storage).items():
        stats[key].quarantined = n
    for run in runs:  # oldest first: the newest published run wins
        if run.status == "published":
            stats[(run.outlet, run.day)].fetch_failed = run.fetch_failed or 0
    return dict(stats)


def day_window(keys: Iterable[tuple[str, str]], days: int) -> list[dt.date]:
    """Consecutive dates ending at the newest date in ``keys``, at most ``days`` of them."""
    dates = sorted({dt.date.fromisoformat(d) for _, d in keys})
    if not dates:
        return []
    first = max(dates[0], dates[-1] - dt.timedelta(days=days - 1))
    return [first + dt.timedelta(days=i) for i in range((dates[-1] - first).days + 1)]


# --- SVG ---------------------------------------------------------------------------------

def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _nice_scale(top: float, integer: bool = False) -> tuple[float, float]:
    """An axis maximum >= ``top`` and a tick step of 1, 2 or 5 x 10^k (at most 6 ticks)."""
    if top <= 0:
        return 1.0, 1.0
    raw = top / 5
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 5, 10) if m * base >= raw)
    if integer:  # counts: no 0.5 ticks
        step = max(step, 1.0)
    return step * math.ceil(top / step - 1e-9), step


def _plot_box() -> tuple[float, float, float, float]:
    return MARGIN_LEFT, MARGIN_TOP, WIDTH - MARGIN_LEFT - MARGIN_RIGHT, \
        HEIGHT - MARGIN_TOP - MARGIN_BOTTOM


def _frame(days: list[dt.date], top: float, step: float, percent: bool) -> list[str]:
    x0, y0, w, h = _plot_box()
    parts = []
    ticks = int(round(top / step))
    for i in range(ticks + 1):
        value = i * step
        y = y0 + h - h * value / top
        label = f"{value:.0%}" if percent else f"{value:g}"
        parts.append(f'<line class="grid" x1="{x0}" x2="{x0 + w}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    slot = w / max(len(days), 1)
    every = max(1, math.ceil(46 / slot))  # a label needs ~46 px
    for i, day in enumerate(days):
        if i % every == 0:
            x = x0 + slot * (i + 0.5)
            parts.append(f'<text x="{x:.1f}" y="{y0 + h + 16}" text-anchor="middle">'
                         f'{day:%m-%d}</text>')
    parts.append(f'<line class="axis" x1="{x0}" x2="{x0 + w}" y1="{y0 + h}" y2="{y0 + h}"/>')
    return parts


def _svg(chart_id: str, title: str, parts: list[str], marks: int) -> str:
    return (f'<svg id="{chart_id}" data-marks="{marks}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{_esc(title)}">'
            f'<title>{_esc(title)}</title>{"".join(parts)}</svg>')


def bar_chart(chart_id: str, title: str, days: list[dt.date],
              series: Mapping[str, Mapping[dt.date, float]], colors: Mapping[str, str],
              unit: str, stacked: bool = False) -> str:
    """Grouped (or stacked) bars per day, one colour per series; zero values draw nothing."""
    totals = [sum(s.get(d, 0) for s in series.values()) for d in days]
    peak = max(totals if stacked else
               [v for s in series.values() for v in s.values()] or [0], default=0)
    if not days or peak <= 0:
        return f'<p class="empty" id="{chart_id}">No {_esc(unit)} in this window.</p>'
    top, step = _nice_scale(peak, integer=True)
    x0, y0, w, h = _plot_box()
    slot = w / len(days)
    inner = slot * 0.8
    names = list(series)
    bar_w = inner if stacked else inner / max(len(names), 1)
    parts = _frame(days, top, step, percent=False)
    marks = 0
    for i, day in enumerate(days):
        base = 0.0
        for j, name in enumerate(names):
            value = float(series[name].get(day, 0))
            if value <= 0:
                continue
            bar_h = h * value / top
            x = x0 + slot * i + slot * 0.1 + (0 if stacked else j * bar_w)
            y = y0 + h - bar_h - (h * base / top if stacked else 0)
            if stacked:
                base += value
            marks += 1
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                f'height="{bar_h:.1f}" fill="{colors[name]}"><title>{_esc(name)} {day}: '
                f'{value:g} {_esc(unit)}</title></rect>')
    return _svg(chart_id, title, parts, marks)


def line_chart(chart_id: str, title: str, days: list[dt.date],
               series: Mapping[str, Mapping[dt.date, float]], colors: Mapping[str, str],
               unit: str) -> str:
    """A line per series over the days (a share, drawn as a percentage); gaps where no data."""
    values = [v for s in series.values() for v in s.values()]
    if not days or not values:
        return f'<p class="empty" id="{chart_id}">No {_esc(unit)} in this window.</p>'
    top, step = _nice_scale(max(max(values), 0.05))
    x0, y0, w, h = _plot_box()
    slot = w / len(days)
    parts = _frame(days, top, step, percent=True)
    marks = 0
    for name, points in series.items():
        segment: list[str] = []
        segments: list[list[str]] = []
        dots = []
        for i, day in enumerate(days):
            if day not in points:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x, y = x0 + slot * (i + 0.5), y0 + h - h * points[day] / top
            segment.append(f"{x:.1f},{y:.1f}")
            dots.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colors[name]}">'
                f'<title>{_esc(name)} {day}: {points[day]:.1%} {_esc(unit)}</title></circle>')
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line" fill="none" stroke="{colors[name]}" '
                             f'stroke-width="2" points="{" ".join(seg)}"/>')
        parts.extend(dots)
        marks += len(dots)
    return _svg(chart_id, title, parts, marks)


def _legend(colors: Mapping[str, str]) -> str:
    items = "".join(f'<span><i style="background:{c}"></i>{_esc(n)}</span>'
                    for n, c in colors.items())
    return f'<div class="legend">{items}</div>'


# --- page --------------------------------------------------------------------------------

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
            f'<td class=nw>{_esc(r.finished_at[:19].replace("T", " "))}</td>'
            f"<td>{_esc(r.outlet)}</td><td class=nw>{_esc(r.day)}</td>"
            f'<td class="mono">{_esc(r.run_id)}</td>'
            f'<td class="status {r.status}">{r.status}</td>'
            f"<td class=n>{_num(r.discovered)}</td><td class=n>{_num(r.fetch_failed)}</td>"
            f"<td class=n>{_num(r.written)}</td><td class=n>{_num(r.quarantined)}</td>"
            f"<td>{_esc(_checks_text(r))}</td><td class=n>{_num(r.seconds)}</td></tr>")
    return f'<table id="runs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def coverage_series(runs: list[RunRecord], outlet: str,
                    in_window: set[dt.date]) -> dict[str, dict[dt.date, float]]:
    """Per field (``newslake.drift.FIELDS``), the share of the day's parsed rows that have
    it, from the newest run of each day that kept a profile (a failed run's too: a
    redesign that fails the drift checks still shows)."""
    from newslake.drift import FIELDS

    series: dict[str, dict[dt.date, float]] = {f: {} for f in FIELDS}
    for run in runs:  # oldest first: the newest run of a day wins
        day = dt.date.fromisoformat(run.day)
        if run.outlet != outlet or day not in in_window or not run.profile:
            continue
        coverage = run.profile.get("coverage") or {}
        for name in FIELDS:
            if isinstance(coverage.get(name), int | float):
                series[name][day] = float(coverage[name])
    return series


def build_report(lake_uri: str, *, days: int = DEFAULT_DAYS, runs_limit: int = DEFAULT_RUNS,
                 now: dt.datetime | None = None,
                 storage: Mapping[str, str] | None = None) -> str:
    """The report page as one HTML string (``storage``: S3 options, see ``s3_storage``)."""
    runs = load_runs(lake_uri, storage)
    stats = day_stats(lake_uri, runs, storage)
    window = day_window(list(stats) + [(r.outlet, r.day) for r in runs], days)
    in_window = set(window)
    outlets = sorted({o for o, _ in stats} | {r.outlet for r in runs})
    colors = {o: PALETTE[i % len(PALETTE)] for i, o in enumerate(outlets)}

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
    legend = _legend(colors)
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
        f"<section><h2>{title}</h2><p class=sub>{note}</p>{legend}{chart}</section>"
        for title, note, chart in sections)
    for outlet in outlets:
        series = coverage_series(runs, outlet, in_window)
        if not any(series.values()):
            continue
        field_colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
        body += (
            f"<section><h2>Field coverage · {_esc(outlet)}</h2><p class=sub>Share of the "
            "day's parsed rows that have each field, from the extraction profile of the "
            "day's newest run (a run that failed its drift checks included). A step is a "
            "layout change; the drift checks name it.</p>"
            f"{_legend(field_colors)}"
            + line_chart(f"chart-coverage-{_esc(outlet)}", f"Field coverage of {outlet}",
                         window, series, field_colors, "of rows")
            + "</section>")
    body += report_stories.section(lake_uri, window[-1] if window else None,  # issue 19
                                   s3_storage(storage) if lake.is_s3(lake_uri) else None)
    shown_lake = lake_uri if lake.is_s3(lake_uri) else local_root(lake_uri)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newslake report · {_esc(span)}</title><style>{CSS}</style></head>
<body><main>
<h1>newslake report</h1>
<p class="sub">Lake <code>{_esc(shown_lake)}</code> · {_esc(span)} ·
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
</main></body></html>
"""


def write_report(lake_uri: str, out: str | Path, **kwargs: Any) -> Path:
    """Write the report page to ``out``; return its path."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(lake_uri, **kwargs), encoding="utf-8")
    return path
