"""``compact_corpus`` through Airflow (``dag.test()``): wired to the ingest DAGs' Assets,
and keeping ``corpus/`` equal to the per-outlet partitions, locally and on S3."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from helpers.clock import days_ago
from helpers.dags import assert_succeeded, load_dag, run_day
from test_compact import _corpus_rows, _outlet_rows, _publish, _table

from newslake import compact, lake
from newslake.config import load_outlets

pytestmark = pytest.mark.timeout(300)


def _compact(dag: Any) -> dict[str, Any]:
    """One run of the compaction DAG; the days it rebuilt (``date`` → rows)."""
    dag_run = assert_succeeded(dag.test())
    rebuilt = {}
    for ti in dag_run.get_task_instances():
        if ti.task_id == "compact" and str(ti.state) == "success":
            rebuilt[ti.xcom_pull(task_ids="compact", map_indexes=ti.map_index)["date"]] = ti
    return rebuilt


def test_compaction_is_triggered_by_every_outlets_articles_asset(airflow_db: Path) -> None:
    dag = load_dag("compact_corpus")
    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny", "any one outlet's update triggers it"
    triggers = {asset.uri for asset in condition.objects}
    published = set()
    for outlet in load_outlets():
        for kind, task_id in (("ingest", "publish"), ("reparse", "reparse")):
            task = load_dag(f"{kind}_{outlet}").get_task(task_id)
            published |= {asset.uri for asset in task.outlets}
    published |= {a.uri for a in load_dag("revisit").get_task("report").outlets}
    assert published == triggers
    assert all(t.execution_timeout is not None for t in dag.tasks)


def test_an_ingested_day_reaches_the_corpus_and_a_rerun_refreshes_it(
    airflow_db: Path, demo_site: str, lake: str
) -> None:
    day = days_ago(4)
    run_day(load_dag("ingest_demo_metro_ledger"), day)
    dag = load_dag("compact_corpus")
    assert set(_compact(dag)) == {day.isoformat()}
    assert _corpus_rows(lake, None, day) == _outlet_rows(lake, None, day)
    assert _compact(dag) == {}, "nothing changed, nothing rebuilt"

    run_day(load_dag("ingest_demo_bayside_press"), day)  # another outlet, same day
    assert set(_compact(dag)) == {day.isoformat()}
    rows = _corpus_rows(lake, None, day)
    assert rows == _outlet_rows(lake, None, day)
    assert {r["outlet"] for r in rows} == {"demo_metro_ledger", "demo_bayside_press"}
    counts = {(c["outlet"], c["date"]): c["articles"]
              for c in compact.read_counts(lake).to_pylist()}
    assert counts == {(o, day): sum(r["outlet"] == o for r in rows)
                      for o in ("demo_metro_ledger", "demo_bayside_press")}


def test_compaction_on_s3_through_airflow(
    airflow_db: Path, s3_server: Any, airflow_s3_lake: str
) -> None:
    storage, s3_lake = s3_server.storage, airflow_s3_lake
    first, second = dt.date(2025, 3, 17), dt.date(2025, 3, 18)
    for outlet in ("beta", "alpha"):
        for day in (first, second):
            _publish(s3_lake, storage, outlet, day, _table(outlet, day, 3))
    dag = load_dag("compact_corpus")
    assert set(_compact(dag)) == {first.isoformat(), second.isoformat()}
    _publish(s3_lake, storage, "beta", second, _table("beta", second, 5, run="backfill"))
    assert set(_compact(dag)) == {second.isoformat()}
    for day in (first, second):
        assert _corpus_rows(s3_lake, storage, day) == _outlet_rows(s3_lake, storage, day)
    objects = sorted(i.path.rsplit("/", 3)[-2] + "/" + i.base_name
                     for i in lake.list_files(lake.join(s3_lake, compact.ZONE), storage))
    assert objects == [f"date={first}/{compact.FILE}", f"date={second}/{compact.FILE}"]
    assert compact.stale_days(s3_lake, storage) == []
    assert compact.read_counts(s3_lake, storage).to_pylist() == [
        {"date": first, "outlet": "alpha", "articles": 3},
        {"date": first, "outlet": "beta", "articles": 3},
        {"date": second, "outlet": "alpha", "articles": 3},
        {"date": second, "outlet": "beta", "articles": 5}]


def test_a_failed_plan_fails_the_run_once_and_counts_nothing(
    airflow_db: Path, monkeypatch: pytest.MonkeyPatch, lake: str
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_NEWSLAKE_LAKE", "ftp://example.invalid/lake")
    monkeypatch.setenv("NEWSLAKE_LAKE", "ftp://example.invalid/lake")
    dag = load_dag("compact_corpus")
    dag.get_task("plan").retries = 0  # a lake that cannot be is not worth a retry here
    dag_run = dag.test()
    states = {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "failed"
    assert states["plan"] == "failed"
    assert states["counts"] in {"upstream_failed", "skipped"}, states
    assert not Path(compact.counts_uri(lake)).exists()
