"""``compact_corpus``: keeps the analysts' corpus (``corpus/date=D/``) up to date.

Triggered by Airflow whenever any ingest or reparse run publishes an outlet-day (the
Assets ``newslake://articles/<outlet>``) or the revisit DAG has run
(``newslake://revisions``), so ingestion stays per outlet-day and never waits for it.
``plan`` lists the days whose outlet partitions changed since their corpus file was
built (``newslake.compact.stale_days``: each corpus day's manifest records its sources);
``compact`` (mapped, one task per day) rebuilds each whole and replaces it atomically;
``counts`` then rewrites ``corpus_counts/`` (articles per day and outlet, one file).
A run with nothing stale does nothing; an event it missed (a CLI run, a failed attempt)
is caught by the next run, since the plan compares the lake, not events.
Only light modules are imported here: the library is imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Asset, AssetAny, task
from newslake_outlets import article_assets  # plugins/: on sys.path in Airflow
from newslake_storage import lake_storage, lake_uri

CORPUS_ASSET = Asset("newslake://corpus")
REVISIONS_ASSET = Asset("newslake://revisions")  # dags/revisit.py: edited articles replaced
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    # A failure is mostly the store (a full disk, S3 unavailable): a retry later helps.
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=2),
    # plan lists the articles zone (seconds locally; a LIST per 1,000 objects on S3) and
    # a day's compaction of 50k articles takes well under a minute (bench/corpus_layout.py).
    "execution_timeout": dt.timedelta(minutes=30),
}
# Days rebuilt by one run (Airflow maps at most [core] max_map_length tasks); more stale
# days (a first build over years of history) are rebuilt by the following runs.
MAX_DAYS_PER_RUN = 366
# Compaction holds an outlet-day and a row group in memory, and reads/writes a day.
PARALLEL_DAYS = 2

DOC = """### Compact the corpus

Rebuilds `corpus/date=D/part-00000.parquet` (every outlet's articles of day D, ordered by
outlet then `published_at`) for the days whose `articles/outlet=*/date=D` partitions
changed since it was built, as recorded in `_corpus/date=D.json`, then
`corpus_counts/part-00000.parquet` (articles per day and outlet). Triggered by the
ingest and reparse DAGs' Assets and the revisit DAG's; emits `newslake://corpus`. Safe
to trigger by hand at any time: with nothing stale it does nothing.
"""


with DAG(
    dag_id="compact_corpus",
    description="Every outlet of a day in one Parquet file, for analysts",
    schedule=AssetAny(*article_assets(), REVISIONS_ASSET),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # two runs would rebuild the same days at once
    default_args=DEFAULT_ARGS,
    tags=["newslake", "corpus"],
    doc_md=DOC,
) as dag:

    @task
    def plan() -> list[str]:
        from newslake.compact import stale_days

        lake = lake_uri()
        days = stale_days(lake, lake_storage(lake))
        return [day.isoformat() for day in days[-MAX_DAYS_PER_RUN:]]  # newest first kept

    @task(multiple_outputs=False, max_active_tis_per_dagrun=PARALLEL_DAYS, outlets=[CORPUS_ASSET])
    def compact(day: str) -> dict[str, Any]:
        from newslake.compact import build_day

        lake = lake_uri()
        manifest = build_day(lake, dt.date.fromisoformat(day), lake_storage(lake))
        return {"date": day, "rows": manifest["rows"], "outlets": manifest["outlets"]}

    # After the days, whatever became of them: the counts follow the corpus files as they
    # are, a failed day's old file included. Not when the plan failed (no day list: the
    # failed plan is the run's one error, not a second one here).
    @task(multiple_outputs=False, trigger_rule="all_done_min_one_success")
    def counts(days: list[str]) -> dict[str, int]:
        from newslake.compact import build_counts, counts_uri
        from newslake.lake import exists

        lake = lake_uri()
        storage = lake_storage(lake)
        if not days and exists(counts_uri(lake), storage):
            return {"days": 0, "rows": 0, "articles": 0}  # nothing rebuilt, nothing to count
        return build_counts(lake, storage, [dt.date.fromisoformat(d) for d in days])

    days = plan()
    compact.expand(day=days) >> counts(days)  # type: ignore[arg-type]
