"""``group_stories``: keeps ``signatures/`` and ``stories/`` up to date (issue 19).

Triggered by Airflow whenever any ingest or reparse run publishes an outlet-day (the
Assets ``newslake://articles/<outlet>``) or a revisit replaces edited articles
(``newslake://revisions``), like ``compact_corpus``: ingestion never waits for it.
``plan`` lists the outlet-days whose signatures are missing or older than their
articles partition; ``signatures`` (mapped over chunks) computes them once per article;
``group`` then walks the days in order and rebuilds those whose inputs changed
(``newslake.stories``: a backfill of an old day also rebuilds the following days it
reaches). The plan compares the lake, not events, so a run it missed is caught up by the
next. Only light modules are imported here: the library is imported inside the tasks.

Airflow Variables: ``newslake_stories_window_days`` (default 3) and
``newslake_stories_threshold`` (default ``newslake.stories.THRESHOLD``). Changing either
rebuilds every day at the next run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Asset, AssetAny, Variable, task
from newslake_outlets import article_assets  # plugins/: on sys.path in Airflow
from newslake_storage import lake_storage, lake_uri

STORIES_ASSET = Asset("newslake://stories")
REVISIONS_ASSET = Asset("newslake://revisions")  # dags/revisit.py: edited articles replaced
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    # A signatures chunk: ~4 ms an article (bench/story_groups.py), a few outlet-days.
    "execution_timeout": dt.timedelta(minutes=30),
}
# group rebuilds days one after another (each needs the previous days' rows): a day of
# 50k articles against a 3-day window takes well under a minute (bench/story_groups.py), so
# an hour covers a backfill of weeks; the rest is done by the next run.
GROUP_TIMEOUT = dt.timedelta(hours=1)
MAX_DAYS_PER_RUN = 200
# Outlet-days per signatures task, and at most this many tasks (Airflow's map limit).
MAX_CHUNKS = 256
PARALLEL_CHUNKS = 2

DOC = """### Group stories

Computes each article's MinHash once (`signatures/outlet=*/date=D/`), then groups every
day's articles with those of the days before it (`newslake_stories_window_days`, default 3)
into stories: `stories/date=D/part-00000.parquet` holds, for each article of day D, its
`story_id` (the `article_id` of the story's first article), the similarity to it and
whether it is the `original` or a copy. Triggered by the ingest, reparse and revisit
DAGs' Assets; emits `newslake://stories`. Safe to trigger by hand: with nothing changed
it does nothing.
"""


with DAG(
    dag_id="group_stories",
    description="Near-duplicate and syndicated articles grouped into stories",
    schedule=AssetAny(*article_assets(), REVISIONS_ASSET),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # two runs would rebuild the same days at once
    default_args=DEFAULT_ARGS,
    tags=["newslake", "stories"],
    doc_md=DOC,
) as dag:

    @task
    def plan() -> list[list[str]]:
        from newslake.stories import stale_signatures

        lake = lake_uri()
        stale = [f"{outlet}/{day.isoformat()}"
                 for outlet, day in stale_signatures(lake, lake_storage(lake))]
        size = max(1, -(-len(stale) // MAX_CHUNKS))
        return [stale[i:i + size] for i in range(0, len(stale), size)]

    @task(max_active_tis_per_dagrun=PARALLEL_CHUNKS)
    def signatures(chunk: list[str]) -> int:
        from newslake.stories import build_signatures

        lake = lake_uri()
        rows = 0
        for item in chunk:
            outlet, day = item.split("/")
            rows += build_signatures(lake, outlet, dt.date.fromisoformat(day),
                                     lake_storage(lake))["rows"]
        return rows

    @task(trigger_rule="none_failed", execution_timeout=GROUP_TIMEOUT,
          outlets=[STORIES_ASSET])
    def group() -> list[dict[str, Any]]:
        from newslake.stories import THRESHOLD, WINDOW_DAYS, build_stories

        lake = lake_uri()
        window = int(Variable.get("newslake_stories_window_days", default=WINDOW_DAYS))
        threshold = float(Variable.get("newslake_stories_threshold", default=THRESHOLD))
        done = build_stories(lake, lake_storage(lake), window_days=window,
                             threshold=threshold, max_days=MAX_DAYS_PER_RUN)
        return [{k: m[k] for k in ("date", "rows") if k in m} for m in done]

    signatures.expand(chunk=plan()) >> group()
