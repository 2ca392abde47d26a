"""Revisits: ``revisit``, one DAG for every outlet, daily at 06:00 UTC.

plan (outlet config files cut into shards) → revisit (mapped over shards) → report
(emits the Asset ``newslake://revisions``). For each outlet of a shard, the days of its
horizon (``revisit.days``, 7 by default) are refetched conditionally: an unchanged page
costs a 304 and no parse, a changed one becomes the next revision of its row in its own
day's partition (the earlier row goes to ``revisions/``), a page taken down keeps its
row (``newslake.revisit``). The run's logical date (its cron tick) is "today", so a test
or a replay with a set clock revisits as of then. Only light modules are imported here.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from airflow.sdk import DAG, Asset, CronTriggerTimetable, get_current_context, task
from newslake_callbacks import on_failure  # plugins/: on sys.path in Airflow
from newslake_shards import add_up, outlet_shards, run_time
from newslake_storage import lake_storage, lake_uri

log = logging.getLogger(__name__)

REVISIONS = Asset("newslake://revisions")
# After the night's ingest runs (00:00 UTC) have had time to publish the day before.
EVERY = "0 6 * * *"
# Outlets per mapped task: a week of a busy outlet is ~2,000 conditional requests.
SHARD_SIZE = int(os.environ.get("NEWSLAKE_REVISIT_SHARD_SIZE", "10"))
# A shard stops starting outlet-days after this long (the rest wait for tomorrow's run)
# and is killed a little later.
SHARD_BUDGET = dt.timedelta(hours=2, minutes=30)
SHARD_TIMEOUT = dt.timedelta(hours=3)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=10),
    "execution_timeout": dt.timedelta(minutes=5),
    "on_failure_callback": on_failure,  # logs one line; mails/Slacks when configured
}


with DAG(
    dag_id="revisit",
    description="Refetch recent articles conditionally; publish new revisions of changed ones",
    schedule=CronTriggerTimetable(EVERY, timezone="UTC"),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newslake", "revisit"],
    doc_md=__doc__,
) as revisit_dag:

    @task
    def plan() -> list[list[str]]:
        return outlet_shards("revisit", SHARD_SIZE)

    # Up to four shards at once; a shard's outlets are revisited one after another.
    @task(multiple_outputs=False, execution_timeout=SHARD_TIMEOUT, max_active_tis_per_dagrun=4)
    def revisit(paths: list[str]) -> dict[str, Any]:
        from newslake.revisit import revisit_configs

        lake = lake_uri()
        run_id = "revisit__" + get_current_context()["run_id"]
        results = revisit_configs(list(paths), lake, run_time().date(), run_id, lake_storage(lake),
                                  budget_s=SHARD_BUDGET.total_seconds())
        for failed in (r for r in results if "error" in r):
            log.warning("revisit: %s %s: %s", failed["outlet"], failed.get("date"),
                        failed["error"])
        done = [r for r in results if "requested" in r]
        return {
            "days": len(done),
            "requested": sum(r["requested"] for r in done),
            "not_modified": sum(r["not_modified"] for r in done),
            "changed": sum(r["changed"] for r in done),
            "revised": {f"{r['outlet']} {r['date']}": r["revised"]
                        for r in done if r.get("revised")},
            "taken_down": sum(r["taken_down"] for r in done),
            "busy": [f"{r['outlet']} {r['date']}" for r in done if r.get("busy")],
            "failed": {f"{r['outlet']} {r.get('date', '')}".strip(): r["error"]
                       for r in results if "error" in r},
            "deferred": [f"{r['outlet']} {r['date']}" for r in results if r.get("deferred")],
        }

    @task(multiple_outputs=False, outlets=[REVISIONS], trigger_rule="all_done")
    def report(shard_reports: list[dict[str, Any]]) -> dict[str, Any]:
        total: dict[str, Any] = {
            "today": run_time().date().isoformat(),
            **add_up(shard_reports,
                     counts=("days", "requested", "not_modified", "changed", "taken_down"),
                     mappings=("revised", "failed"), lists=("busy", "deferred")),
        }
        # Consumers (compaction, a dashboard) see which outlet-days got new revisions.
        get_current_context()["outlet_events"][REVISIONS].extra = {
            "today": total["today"], "revised": total["revised"]}
        if total["failed"]:  # the other days are published; the run shows red for these
            raise RuntimeError(f"revisit failed for {len(total['failed'])} outlet-days: "
                               + "; ".join(f"{k}: {v}" for k, v in total["failed"].items()))
        return total

    report(revisit.expand(paths=plan()))  # type: ignore[arg-type]
