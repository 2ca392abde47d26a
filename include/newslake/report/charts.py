"""A small SVG chart kit: bars and lines over days, drawn as inline SVG (no script), with a
colour-blind-safe palette. Each chart says how many marks it drew (``data-marks``) and
each mark has a ``<title>`` tooltip; an empty chart is a one-line note instead."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping

from newslake.report.markup import esc

__all__ = ["HEIGHT", "PALETTE", "WIDTH", "bar_chart", "colors_for", "legend", "line_chart"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999933", "#000000")
WIDTH, HEIGHT = 1120, 260
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 12, 40


def colors_for(names: Iterable[str]) -> dict[str, str]:
    """A palette colour for each name, in order (the palette repeats after eight)."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def legend(colors: Mapping[str, str]) -> str:
    """The colour key of a chart, as an HTML ``div``."""
    items = "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>'
                    for n, c in colors.items())
    return f'<div class="legend">{items}</div>'


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
            f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{esc(title)}">'
            f'<title>{esc(title)}</title>{"".join(parts)}</svg>')


def bar_chart(chart_id: str, title: str, days: list[dt.date],
              series: Mapping[str, Mapping[dt.date, float]], colors: Mapping[str, str],
              unit: str, stacked: bool = False) -> str:
    """Grouped (or stacked) bars per day, one colour per series; zero values draw nothing."""
    totals = [sum(s.get(d, 0) for s in series.values()) for d in days]
    peak = max(totals if stacked else
               [v for s in series.values() for v in s.values()] or [0], default=0)
    if not days or peak <= 0:
        return f'<p class="empty" id="{chart_id}">No {esc(unit)} in this window.</p>'
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
                f'height="{bar_h:.1f}" fill="{colors[name]}"><title>{esc(name)} {day}: '
                f'{value:g} {esc(unit)}</title></rect>')
    return _svg(chart_id, title, parts, marks)


def line_chart(chart_id: str, title: str, days: list[dt.date],
               series: Mapping[str, Mapping[dt.date, float]], colors: Mapping[str, str],
               unit: str) -> str:
    """A line per series over the days (a share, drawn as a percentage); gaps where no data."""
    values = [v for s in series.values() for v in s.values()]
    if not days or not values:
        return f'<p class="empty" id="{chart_id}">No {esc(unit)} in this window.</p>'
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
                f'<title>{esc(name)} {day}: {points[day]:.1%} {esc(unit)}</title></circle>')
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                parts.append(f'<polyline class="line" fill="none" stroke="{colors[name]}" '
                             f'stroke-width="2" points="{" ".join(seg)}"/>')
        parts.extend(dots)
        marks += len(dots)
    return _svg(chart_id, title, parts, marks)
