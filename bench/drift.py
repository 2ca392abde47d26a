"""Drift checks: false alarms over the demo newsroom's ordinary days, detection of a redesign.

Every demo outlet's pages of each UTC day of ``--first`` … ``--last`` are rendered in
process (``demo_site.server.route`` at ``--now``, no sockets) and parsed as the pipeline
parses them (``parse_article`` with the shipped config); a day's profile
(``newslake.drift.build_profile``) is judged against the profiles of the days before it
(``judge``, the shipped ``validation.drift`` rules) as the batch gate does (``NEWSLAKE_NOW``
is set to ``--now``: the parser's latest plausible date). The demo
newsroom's pages are a pure function of the day (once ``now`` is past it), so the
profiles are built once and judged three ways:

- ordinary days: each day against every earlier day of the range (a lake that holds them
  all): the days on which any drift check would fire (false alarms), per outlet and check;
- demo windows: each ``--window-days`` window of the range, as a fresh ``make demo``
  ending that day backfills it (the three backfilled outlets; the wire is ingested only
  for its 2 polled days, never judged in a fresh lake): each day against the window's
  earlier days only; a window fails when any check fires on any of its days;
- detection: Dnipro Visti's redesign (``render_dnipro.REDESIGN_AT``) moved to each of the
  last ``--trials`` days before the real one, each judged against its ordinary baseline;
  a trial is caught when any check fires (the checks that fired are counted).

Dnipro Visti's days whose baseline straddles its real redesign (the redesign day and the
``baseline_days`` after it) are not counted as ordinary: that alarm is a true one.

Each figure is given per rule (``--rules``): ``new``, the shipped one (the standard error
of the difference between today's share and the baseline's, at the median or the pooled
share of the baseline days, whichever is nearer one half; a line repeated across today's
rows measured against how often the baseline days held it), and ``old``, before
2026-11-30 (the standard error of today's share alone, at the median; the baseline days'
own boilerplate share only), and per ``--z``.
The GX batch suite applies the same scores (``score > 1`` fails or warns); GX itself is
not run here (a second per day), nor are fetch and publish.

    .venv/bin/python bench/drift.py [--first 2026-03-01] [--last 2026-06-17] [--trials 30]
        [--rules old,new] [--z 3,4] [--window-days 14] [--now 2026-06-20T06:00Z]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report  # noqa: E402

from demo_site import catalog, render_dnipro, server  # noqa: E402
from newslake import clock, drift  # noqa: E402
from newslake.config import Outlet, load_outlets  # noqa: E402
from newslake.errors import ParseError  # noqa: E402
from newslake.parse import parse_article  # noqa: E402

BASE = "http://127.0.0.1:8765"
OUTLETS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti", "demo_harbor_wire")
WIRE = "demo_harbor_wire"
REDESIGNED = "demo_dnipro_visti"
REAL_REDESIGN = render_dnipro.REDESIGN_AT.date()
DEMO_WINDOW_DAYS = 14  # newslake.cli.DEMO_DAYS (not imported: the CLI pulls in Airflow)
History = dict[dt.date, dict[str, Any]]


def day_rows(outlet: Outlet, day: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The day's profile, from its pages as the pipeline parses them."""
    columns: dict[str, list[Any]] = {name: [] for name in (
        *drift.FIELDS, "parser", "published_at_source", "word_count")}
    bodies = []
    for a in catalog.articles_for(outlet.id, day):
        response = server.route(a.path, BASE, now)
        try:
            article = parse_article(response.body, a.url(BASE), outlet,
                                    headers={"content-type": response.content_type})
        except ParseError:
            continue  # soft 404s: quarantined before validation, not profiled
        row = article.to_row()
        for name in columns:
            columns[name].append(row[name])
        bodies.append(article.body)
    return drift.build_profile(columns, outlet.language, drift.repeated_lines(bodies))


def judged(outlet: Outlet, day: dt.date, today: dict[str, Any],
           history: History) -> drift.DriftResult:
    rules = outlet.validation.drift
    days = [day - dt.timedelta(days=n) for n in range(1, rules.baseline_days + 1)]
    baselines = [history[d] for d in days if d in history]
    return drift.judge(today, baselines, rules)


def _transition(outlet: Outlet, day: dt.date) -> bool:
    """A day of the redesigned outlet whose baseline holds days of the old layout."""
    back = outlet.validation.drift.baseline_days
    return outlet.id == REDESIGNED and REAL_REDESIGN <= day <= REAL_REDESIGN + dt.timedelta(
        days=back)


def _fired(result: drift.DriftResult) -> list[str]:
    return [c for c in drift.CHECKS if (result.scores[c] or 0) > 1]


def _short(check: str) -> str:
    return check.removeprefix("drift_")


def _ordinary(outlets: dict[str, Outlet], profiles: dict[str, History]) -> dict[str, Any]:
    per_outlet: dict[str, dict[str, int]] = {}
    by_check: Counter[str] = Counter()
    examples: list[str] = []
    for key, history in profiles.items():
        judged_days = fired_days = 0
        for day, today in history.items():
            if _transition(outlets[key], day):
                continue
            result = judged(outlets[key], day, today, history)
            if result.not_judged:
                continue
            judged_days += 1
            fired = _fired(result)
            fired_days += bool(fired)
            by_check.update(_short(c) for c in fired)
            if fired and len(examples) < 6:
                examples.append(f"{key} {day}: " + "; ".join(
                    f"{c}: {result.message(c)}" for c in fired))
        per_outlet[key] = {"judged": judged_days, "false_alarm_days": fired_days}
    judged_all = sum(o["judged"] for o in per_outlet.values())
    fired_all = sum(o["false_alarm_days"] for o in per_outlet.values())
    return {"judged": judged_all, "false_alarm_days": fired_all,
            "by_check": dict(sorted(by_check.items())), "per_outlet": per_outlet,
            "examples": examples}


def _windows(outlets: dict[str, Outlet], profiles: dict[str, History],
             length: int) -> dict[str, Any]:
    """Each window of ``length`` days as a fresh demo backfills it: a day is judged against
    the window's earlier days only."""
    every = sorted({d for h in profiles.values() for d in h})
    ends = every[length - 1:]
    failing: list[str] = []
    by_check: Counter[str] = Counter()
    judged_days = 0
    for end in ends:
        window = [end - dt.timedelta(days=n) for n in range(length - 1, -1, -1)]
        fired_here: set[str] = set()
        for key, history in profiles.items():
            if key == WIRE:
                continue
            seen: History = {}
            for day in window:
                if day not in history:
                    continue
                if not _transition(outlets[key], day):
                    result = judged(outlets[key], day, history[day], seen)
                    if not result.not_judged:
                        judged_days += 1
                        fired_here.update(f"{key} {day} {_short(c)}" for c in _fired(result))
                seen[day] = history[day]
        if fired_here:
            failing.append(f"{window[0]}..{end}: " + ", ".join(sorted(fired_here)))
            by_check.update({f.rsplit(" ", 1)[1] for f in fired_here})
    return {"windows": len(ends), "failing": len(failing),
            "failing_by_check": dict(sorted(by_check.items())),
            "outlet_days_judged": judged_days, "failing_windows": failing[:8]}


def _redesigns(outlets: dict[str, Outlet], profiles: dict[str, History],
               redesigned: History) -> dict[str, Any]:
    trials = caught = not_judged = 0
    by_check: Counter[str] = Counter()
    for day, today in redesigned.items():
        result = judged(outlets[REDESIGNED], day, today, profiles[REDESIGNED])
        trials += 1
        if result.not_judged:
            not_judged += 1
            continue
        fired = _fired(result)
        caught += bool(fired)
        by_check.update(_short(c) for c in fired)
    return {"trials": trials, "judged": trials - not_judged, "caught": caught,
            "by_check": dict(sorted(by_check.items()))}


def _old_allowed(median: float, pooled: float, baseline_rows: int, rows: int,
                 tolerance: float, spread: float) -> float:
    """``drift._allowed`` before 2026-11-30: the binomial room of today's share alone, at
    the baseline days' median (``pooled`` unused)."""
    p = (median * baseline_rows + 1) / (baseline_rows + 2)
    return max(tolerance, drift.Z * math.sqrt(p * (1 - p) / rows + spread ** 2))


@contextlib.contextmanager
def _rule(name: str, z: float) -> Iterator[None]:
    """Judge with ``Z = z`` and the ``old`` or ``new`` (shipped) room."""
    shipped = drift.Z, drift._allowed, drift._held
    drift.Z = z
    if name == "old":
        drift._allowed = _old_allowed
        drift._held = lambda profile, keys: 0.0  # baseline days' own boilerplate only
    try:
        yield
    finally:
        drift.Z, drift._allowed, drift._held = shipped


def _line(figures: dict[str, Any]) -> str:
    o, w, r = figures["ordinary"], figures["demo_windows"], figures["redesign"]
    return (f"false alarms {o['false_alarm_days']}/{o['judged']} days {o['by_check']}; "
            f"demo windows failing {w['failing']}/{w['windows']} {w['failing_by_check']}; "
            f"redesigns caught {r['caught']}/{r['judged']} {r['by_check']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2026, 3, 1))
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2026, 6, 17))
    parser.add_argument("--now", type=dt.datetime.fromisoformat, default=None,
                        help="the newsroom's clock (default: --last + 3 days, 06:00 UTC)")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--window-days", type=int, default=DEMO_WINDOW_DAYS)
    parser.add_argument("--rules", type=lambda t: t.split(","), default=["old", "new"],
                        help="old (median only), new (shipped) or both: old,new")
    parser.add_argument("--z", type=lambda t: [float(v) for v in t.split(",")],
                        default=[drift.Z], help="standard errors allowed, e.g. 3,3.5,4")
    args = parser.parse_args()
    now = args.now or dt.datetime.combine(args.last + dt.timedelta(days=3), dt.time(6),
                                          dt.UTC)
    # The parser's latest plausible date is "now": the newsroom's clock, not the machine's.
    os.environ[clock.NOW_VARIABLE] = now.isoformat()
    outlets = load_outlets(Path(__file__).resolve().parents[1] / "include" / "outlets")
    started = time.perf_counter()
    days = [args.first + dt.timedelta(days=i) for i in range((args.last - args.first).days + 1)]
    profiles = {key: {day: day_rows(outlets[key], day, now) for day in days} for key in OUTLETS}
    # The redesign moved to each of the last --trials days before the real one.
    real = render_dnipro.REDESIGN_AT
    redesigned: History = {}
    try:
        before = [d for d in days if d < REAL_REDESIGN]
        for day in before[len(before) - min(args.trials, len(before)):]:
            render_dnipro.REDESIGN_AT = dt.datetime.combine(day, dt.time(), dt.UTC)
            redesigned[day] = day_rows(outlets[REDESIGNED], day, now)
    finally:
        render_dnipro.REDESIGN_AT = real
    profiled = time.perf_counter() - started
    results: dict[str, Any] = {}
    for rule in args.rules:
        for z in args.z:
            with _rule(rule, z):
                results[f"rule={rule} z={z:g}"] = {
                    "ordinary": _ordinary(outlets, profiles),
                    "demo_windows": _windows(outlets, profiles, args.window_days),
                    "redesign": _redesigns(outlets, profiles, redesigned)}
    rules = outlets[REDESIGNED].validation.drift
    figures = {
        "window": f"{args.first}..{args.last}", "now": now.isoformat(), "shipped_z": drift.Z,
        "rules": {"min_rows": rules.min_rows, "baseline_days": rules.baseline_days,
                  "min_baseline_days": rules.min_baseline_days,
                  "demo_window_days": args.window_days},
        "summary": {name: _line(f) for name, f in results.items()},
        **results,
        "seconds": {"profiles": round(profiled, 1),
                    "total": round(time.perf_counter() - started, 1)},
    }
    report("drift", figures)
    for name, line in figures["summary"].items():
        print(f"{name}: {line}", file=sys.stderr)


if __name__ == "__main__":
    main()
