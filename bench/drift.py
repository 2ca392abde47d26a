"""Drift checks: false alarms over the demo newsroom's ordinary days, detection of a redesign.

Every demo outlet's pages of each UTC day are rendered in process (``demo_site.server.
route``, no sockets) and parsed as the pipeline parses them (``parse_article`` with the
shipped config); a day's profile (``newslake.drift.build_profile``) is judged against the
profiles of the days before it (``judge``, the shipped ``validation.drift`` rules) as the
batch gate does, every earlier day counted as published. The figures:

- false alarms: ordinary days on which any drift check would fire, per outlet and check;
- detection: Dnipro Visti's redesign (``render_dnipro.REDESIGN_AT``) moved to each of the
  last ``--trials`` days before the real one, each judged against its ordinary baseline;
  a trial is detected when any check fires (the checks that fired are counted).

The GX batch suite applies the same scores (``score > 1`` fails or warns); GX itself is
not run here (a second per day), nor are fetch and publish.

    .venv/bin/python bench/drift.py [--first 2026-03-01] [--last 2026-06-17] [--trials 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report  # noqa: E402

from demo_site import catalog, render_dnipro, server  # noqa: E402
from newslake import drift  # noqa: E402
from newslake.config import Outlet, load_outlets  # noqa: E402
from newslake.errors import ParseError  # noqa: E402
from newslake.parse import parse_article  # noqa: E402

BASE = "http://127.0.0.1:8765"
NOW = dt.datetime(2026, 6, 20, 6, 0, tzinfo=dt.UTC)  # the tests' frozen clock
OUTLETS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti", "demo_harbor_wire")
REDESIGNED = "demo_dnipro_visti"


def day_rows(outlet: Outlet, day: dt.date) -> dict[str, Any]:
    """The day's profile, from its pages as the pipeline parses them."""
    columns: dict[str, list[Any]] = {name: [] for name in (
        *drift.FIELDS, "parser", "published_at_source", "word_count")}
    bodies = []
    for a in catalog.articles_for(outlet.id, day):
        response = server.route(a.path, BASE, NOW)
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
           history: dict[dt.date, dict[str, Any]]) -> drift.DriftResult:
    rules = outlet.validation.drift
    days = [day - dt.timedelta(days=n) for n in range(1, rules.baseline_days + 1)]
    baselines = [history[d] for d in days if d in history]
    return drift.judge(today, baselines, rules)


def _fired(result: drift.DriftResult) -> list[str]:
    return [c for c in drift.CHECKS if (result.scores[c] or 0) > 1]


def _figures(outlets: dict[str, Outlet], profiles: dict[str, dict[dt.date, dict[str, Any]]],
             redesigned: dict[dt.date, dict[str, Any]]) -> dict[str, Any]:
    """False alarms over the ordinary days and detection of the simulated redesigns."""
    ordinary: dict[str, dict[str, Any]] = {}
    alarms: Counter[str] = Counter()
    examples: list[str] = []
    for key, history in profiles.items():
        judged_days = fired_days = 0
        for day, today in history.items():
            result = judged(outlets[key], day, today, history)
            if result.not_judged:
                continue
            judged_days += 1
            fired = _fired(result)
            fired_days += bool(fired)
            alarms.update(f"{key}:{c}" for c in fired)
            if fired and len(examples) < 5:
                examples.append(f"{key} {day}: " + "; ".join(
                    f"{c}: {result.message(c)}" for c in fired))
        ordinary[key] = {"judged": judged_days, "false_alarm_days": fired_days}
    all_judged = sum(o["judged"] for o in ordinary.values())
    all_fired = sum(o["false_alarm_days"] for o in ordinary.values())
    trials = detected = not_judged = 0
    by_check: Counter[str] = Counter()
    for day, today in redesigned.items():
        result = judged(outlets[REDESIGNED], day, today, profiles[REDESIGNED])
        trials += 1
        if result.not_judged:
            not_judged += 1
            continue
        fired = _fired(result)
        detected += bool(fired)
        by_check.update(fired)
    return {
        "ordinary": ordinary,
        "false_alarm_rate": f"{all_fired}/{all_judged} = {all_fired / all_judged:.2%}"
        if all_judged else None,
        "false_alarms_by_check": dict(sorted(alarms.items())),
        "false_alarm_examples": examples,
        "redesign": {"outlet": REDESIGNED, "trials": trials, "not_judged": not_judged,
                     "detected": detected, "fired_by_check": dict(sorted(by_check.items()))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2026, 3, 1))
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2026, 6, 17))
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--z", type=lambda t: [float(v) for v in t.split(",")],
                        default=[drift.Z], help="standard errors allowed, e.g. 3,3.5,4")
    args = parser.parse_args()
    outlets = load_outlets(Path(__file__).resolve().parents[1] / "include" / "outlets")
    started = time.perf_counter()
    days = [args.first + dt.timedelta(days=i) for i in range((args.last - args.first).days + 1)]
    profiles = {key: {day: day_rows(outlets[key], day) for day in days
                      if key != REDESIGNED or dt.datetime.combine(day, dt.time(), dt.UTC)
                      < render_dnipro.REDESIGN_AT} for key in OUTLETS}
    # The redesign moved to each of the last --trials ordinary days of the redesigned outlet.
    real = render_dnipro.REDESIGN_AT
    redesigned: dict[dt.date, dict[str, Any]] = {}
    try:
        for day in sorted(profiles[REDESIGNED])[-args.trials:]:
            render_dnipro.REDESIGN_AT = dt.datetime.combine(day, dt.time(), dt.UTC)
            redesigned[day] = day_rows(outlets[REDESIGNED], day)
    finally:
        render_dnipro.REDESIGN_AT = real
    profiled = time.perf_counter() - started
    shipped = drift.Z
    by_z = {}
    try:
        for z in args.z:
            drift.Z = z
            by_z[f"z={z:g}"] = _figures(outlets, profiles, redesigned)
    finally:
        drift.Z = shipped
    rules = outlets[REDESIGNED].validation.drift
    figures = {
        "window": f"{args.first}..{args.last}", "shipped_z": shipped,
        "rules": {"min_rows": rules.min_rows, "baseline_days": rules.baseline_days,
                  "min_baseline_days": rules.min_baseline_days},
        **by_z,
        "seconds": {"profiles": round(profiled, 1),
                    "total": round(time.perf_counter() - started, 1)},
    }
    report("drift", figures)


if __name__ == "__main__":
    main()
