"""The frontier's polls: ``poll_frontier``, one DAG for every outlet, every 10 minutes.

plan (outlet config files cut into shards) → poll (mapped over shards, not outlets) →
report (emits the Asset ``newslake://frontier``). Each shard polls only its outlets'
sources that are due (``newslake.frontier``: each source has its own adaptive interval,
10 min to 24 h), so a run costs a few mapped task instances however many outlets there
are, and a quiet outlet costs nothing but a read of its state. A config that does not
load, or an outlet whose poll crashes, is reported and skipped; the others are polled.
The poll's clock is the run's logical date (the cron tick), so a replay or a test with a
set clock polls "as of" that time. ``NEWSLAKE_POLL_SCHEDULE`` (a cron, read when the file
is parsed) replaces the 10-minute schedule; ``newslake demo`` backfills its compressed
history every 3 hours. A run's conf ``{"outlets": [...]}`` polls only those outlets (a
manual poll of one outlet, the demo's poll of its one feed-only outlet); ``[]``: all.
Only light modules are imported here.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from airflow.sdk import DAG, Asset, CronTriggerTimetable, Param, get_current_context, task
from newslake_shards import add_up, outlet_shards, run_time  # plugins/: on sys.path
from newslake_storage import lake_storage, lake_uri

log = logging.getLogger(__name__)

FRONTIER = Asset("newslake://frontier")
# The smallest interval a source can adapt to (frontier.FLOOR); a coarser cron polls a
# source at most at its ticks (still only when it is due).
EVERY = os.environ.get("NEWSLAKE_POLL_SCHEDULE") or "*/10 * * * *"
# Outlets per mapped task: 1,000 outlets are 20 task instances a run, 144 runs a day.
SHARD_SIZE = int(os.environ.get("NEWSLAKE_POLL_SHARD_SIZE", "50"))
# A shard stops starting outlets after this long (the rest stay due for the next run)
# and is killed a little later: both well inside the 10-minute schedule.
SHARD_BUDGET = dt.timedelta(minutes=6)
SHARD_TIMEOUT = dt.timedelta(minutes=9)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    # The next run polls again in 10 minutes: one quick retry for a killed worker is enough.
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=1),
    "execution_timeout": dt.timedelta(minutes=2),
}


with DAG(
    dag_id="poll_frontier",
    description="Poll every outlet's due feeds and sitemaps into the frontier zone",
    schedule=CronTriggerTimetable(EVERY, timezone="UTC"),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # one poller per outlet at a time: its state and files are its own
    default_args=DEFAULT_ARGS,
    tags=["newslake", "frontier"],
    doc_md=__doc__,
    params={"outlets": Param([], type="array", items={"type": "string"},
                             description="outlet ids to poll; empty: every outlet")},
) as poll_frontier:

    @task
    def plan() -> list[list[str]]:
        wanted = get_current_context()["params"].get("outlets") or []
        return outlet_shards("poll_frontier", SHARD_SIZE, wanted)

    @task(multiple_outputs=False, execution_timeout=SHARD_TIMEOUT, max_active_tis_per_dagrun=4)
    def poll(paths: list[str]) -> dict[str, Any]:
        from newslake.frontier import poll_configs

        lake = lake_uri()
        results = poll_configs(list(paths), lake, run_time(), lake_storage(lake),
                               budget_s=SHARD_BUDGET.total_seconds())
        for failed in (r for r in results if "error" in r):
            log.warning("frontier: %s: %s", failed["outlet"], failed["error"])
        return {
            "outlets": len(results),
            "polled": sum(bool(r.get("polled")) for r in results),
            "new_urls": {r["outlet"]: r["new_urls"] for r in results if r.get("new_urls")},
            "requests": sum(int(r.get("requests", 0)) for r in results),
            "source_errors": sum(len(r.get("errors", [])) for r in results),
            "failed": {r["outlet"]: r["error"] for r in results if "error" in r},
            "deferred": [r["outlet"] for r in results if r.get("deferred")],
        }

    @task(multiple_outputs=False, outlets=[FRONTIER], trigger_rule="all_done")
    def report(shard_reports: list[dict[str, Any]]) -> dict[str, Any]:
        total: dict[str, Any] = {
            "poll_time": run_time().isoformat(),
            **add_up(shard_reports, counts=("outlets", "polled", "requests", "source_errors"),
                     mappings=("new_urls", "failed"), lists=("deferred",)),
        }
        # Consumers (an ingest scheduled on the Asset, a dashboard) see which outlets grew.
        get_current_context()["outlet_events"][FRONTIER].extra = {
            "poll_time": total["poll_time"], "new_urls": total["new_urls"]}
        return total

    report(poll.expand(paths=plan()))  # type: ignore[arg-type]
