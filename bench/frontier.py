"""The frontier against snapshot discovery, over 30 simulated days of the busy demo wire.

    .venv/bin/python bench/frontier.py [--days 30] [--ingest-days 3]

The demo newsroom runs with a clock this script sets. For each day D:

- **frontier**: ``frontier.poll_outlet`` at every 10-minute tick of ``poll_frontier``'s
  schedule (it polls only when the feed is due: the adaptive interval); at D+1 00:30 the
  ingest's candidates are ``frontier_candidates`` plus what the feed lists then;
- **snapshot** (the behaviour before the frontier): what ``discover`` finds at D+1 00:30.

The share is of the day's published articles (the catalog's ground truth) found by
each; ``--ingest-days`` days also run the whole ingest (``pipeline.run_day``, no
Airflow) both ways and count the articles written, to show that found means landed.
Polling cost: HTTP requests and seconds spent in polls per simulated day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "include")]

from _common import peak_rss_mib, report  # noqa: E402

WIRE = "demo_harbor_wire"
FIRST = dt.date(2026, 5, 1)
TICK = dt.timedelta(minutes=10)
RUN_AT = dt.timedelta(days=1, minutes=30)  # the daily ingest of D starts at D+1 00:30


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--ingest-days", type=int, default=3)
    args = parser.parse_args()

    from demo_site import catalog
    from demo_site.server import DemoNewsroom

    start = dt.datetime.combine(FIRST, dt.time(), tzinfo=dt.UTC) - dt.timedelta(hours=2)
    clock = Clock(start)
    with tempfile.TemporaryDirectory(prefix="bench-frontier-") as tmp, \
            DemoNewsroom(port=0, clock=clock) as site:
        os.environ["NEWSLAKE_DEMO_URL"] = site.base_url
        from newslake import frontier
        from newslake.config import load_outlet
        from newslake.discover import discover
        from newslake.pipeline import RunSpec, run_day

        outlet = load_outlet(HERE.parent / "include" / "outlets" / f"{WIRE}.yaml")
        lake = str(Path(tmp) / "lake")
        days: list[dict[str, Any]] = []
        for n in range(args.days):
            day = FIRST + dt.timedelta(days=n)
            requests = polls = 0
            seconds = 0.0
            run_at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + RUN_AT
            while clock.now <= run_at:
                poll = frontier.poll_outlet(outlet, lake, clock.now)
                requests, polls = requests + poll.requests, polls + poll.polled
                seconds += poll.seconds
                clock.now += TICK
            clock.now = run_at
            published = catalog.articles_for(WIRE, day)
            truth = {a.url(site.base_url) for a in published}
            listed = {u.url for u in discover(outlet, day).urls}
            recorded = {u.url for u in frontier.frontier_candidates(lake, outlet, day)}
            row: dict[str, Any] = {
                "day": day.isoformat(), "published": len(truth),
                "snapshot_found": len(truth & listed),
                "frontier_found": len(truth & (listed | recorded)),
                "polls": polls, "requests": requests, "poll_seconds": round(seconds, 3),
            }
            if n < args.ingest_days:
                good = sum(a.is_article_ok for a in published)
                with_frontier = run_day(RunSpec(outlet, day, f"bench-frontier-{day}", lake))
                snapshot_lake = str(Path(tmp) / f"snapshot-{day}")
                snapshot = run_day(RunSpec(outlet, day, f"bench-snapshot-{day}", snapshot_lake))
                row |= {"good": good, "frontier_written": with_frontier["written"],
                        "snapshot_written": snapshot["written"]}
            days.append(row)
            print(row, flush=True)
            clock.now = run_at + TICK  # the next tick: the polls go on

        total = sum(d["published"] for d in days)
        figures = {
            "days": len(days),
            "published": total,
            "snapshot_share": round(sum(d["snapshot_found"] for d in days) / total, 4),
            "frontier_share": round(sum(d["frontier_found"] for d in days) / total, 4),
            "polls_per_day": statistics.mean(d["polls"] for d in days),
            "requests_per_day": statistics.mean(d["requests"] for d in days),
            "poll_seconds_per_day": round(statistics.mean(d["poll_seconds"] for d in days), 3),
            "ingested_days": [
                {k: d[k] for k in ("day", "good", "frontier_written", "snapshot_written")}
                for d in days if "good" in d
            ],
            "peak_rss_mib": round(peak_rss_mib(), 1),
            "per_day": days,
        }
        report("frontier", figures)


if __name__ == "__main__":
    main()
