"""``group_stories`` through Airflow (``dag.test()``) on a small lake of the demo newsroom's
articles, syndicated copies included: the groups are the true ones, the same-topic decoys
stay apart, a rerun changes nothing, and a backfill of an old day gives the table a build
from scratch gives."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from helpers.clock import days_ago
from helpers.dags import assert_succeeded, load_dag

from demo_site import catalog, syndication
from newslake import lake, stories
from newslake.config import load_outlets
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

pytestmark = pytest.mark.timeout(300)

BASE = "http://demo.test"
OUTLETS = (syndication.WIRE, syndication.BAYSIDE, syndication.METRO)
FIRST = days_ago(12)
DAYS = [FIRST + dt.timedelta(days=k) for k in range(4)]


def _articles(outlet: str, day: dt.date, drop: frozenset[str] = frozenset()) -> pa.Table:
    rows = [Article(url=a.url(BASE), title=a.title, body=a.body,
                    published_at=a.published_at, outlet=outlet, fetched_url=a.url(BASE),
                    authors=a.authors, fetched_at=a.published_at, parser="demo@1",
                    run_id="test").to_row()
            for a in catalog.articles_for(outlet, day)
            if a.is_article_ok and a.path not in drop]
    return rows_to_table(rows, ARTICLE_FILE_SCHEMA)


def _publish(lake_uri: str, outlet: str, day: dt.date, table: pa.Table) -> None:
    """What an ingest run's publish does to the articles zone."""
    staging = lake.staging_uri(lake_uri, outlet, day, "test-run")
    staged = lake.join(staging, lake.PARQUET_FILE)
    lake.write_parquet(table, staged)
    lake.publish_partition(lake_uri, "articles", outlet, day, staged)
    lake.remove_tree(staging)


def _rows(lake_uri: str) -> dict[str, dict[str, Any]]:
    """Every story row of DAYS, by article path."""
    found = {}
    for day in DAYS:
        for row in stories.read_day(lake_uri, day).to_pylist():
            found[row["url"].removeprefix(BASE)] = row
    return found


def _group(dag: Any) -> list[str]:
    """One run of the DAG; the days ``group`` rebuilt."""
    dag_run = assert_succeeded(dag.test())
    ti = next(t for t in dag_run.get_task_instances() if t.task_id == "group")
    return [d["date"] for d in ti.xcom_pull(task_ids="group")]


@pytest.fixture
def demo_lake(lake: str) -> str:
    for outlet in OUTLETS:
        for day in DAYS:
            _publish(lake, outlet, day, _articles(outlet, day))
    return lake


def _truth(paths: set[str]) -> list[set[str]]:
    groups = [set(g) & paths for g in syndication.story_groups(DAYS[0] - dt.timedelta(2),
                                                                 DAYS[-1] + dt.timedelta(1))]
    return [g for g in groups if len(g) > 1]


def test_the_dag_is_triggered_by_every_outlets_articles_asset(airflow_db: Path) -> None:
    dag = load_dag("group_stories")
    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    triggers = {asset.uri for asset in dag.timetable.asset_condition.objects}
    published = {a.uri for o in load_outlets() for a in
                 load_dag(f"ingest_{o}").get_task("publish").outlets}
    published |= {a.uri for a in load_dag("revisit").get_task("report").outlets}
    assert triggers == published, "every run that changes articles/ triggers it"
    assert all(t.execution_timeout is not None for t in dag.tasks)


def test_copies_are_grouped_decoys_are_not_and_a_rerun_changes_nothing(
    airflow_db: Path, demo_lake: str
) -> None:
    dag = load_dag("group_stories")
    assert _group(dag) == [d.isoformat() for d in DAYS]
    rows = _rows(demo_lake)
    truth = _truth(set(rows))
    assert len(truth) >= 4, "the window holds wire copies and a republished story"
    grouped: dict[str, set[str]] = {}
    for path, row in rows.items():
        grouped.setdefault(row["story_id"], set()).add(path)
    assert sorted(map(sorted, (g for g in grouped.values() if len(g) > 1))) == sorted(
        map(sorted, truth)), "exactly the true groups, across outlets and days"
    for group in truth:
        first = min(group, key=lambda p: (rows[p]["published_at"], rows[p]["article_id"]))
        assert {rows[p]["story_id"] for p in group} == {rows[first]["article_id"]}
        assert rows[first]["kind"] == "original" and rows[first]["similarity"] == 1.0
        for p in group - {first}:
            assert rows[p]["kind"] in ("near_identical", "shares_text")
            assert rows[p]["first_outlet"] == rows[first]["outlet"]
            assert stories.THRESHOLD <= rows[p]["similarity"] < 1.0
    decoys = [c for d in DAYS for c in syndication.decoys(syndication.BAYSIDE, d)
              if c.copy_path in rows and c.source_path in rows]
    assert decoys, "a same-topic story beside its wire story"
    for decoy in decoys:
        assert rows[decoy.copy_path]["kind"] == "original"
        assert rows[decoy.copy_path]["story_id"] != rows[decoy.source_path]["story_id"]

    assert _group(dag) == [], "nothing changed: nothing rebuilt"
    assert _rows(demo_lake) == rows


def test_a_backfill_of_an_old_day_gives_the_table_of_a_build_from_scratch(
    airflow_db: Path, demo_lake: str, tmp_path: Path
) -> None:
    dag = load_dag("group_stories")
    _group(dag)
    before = _rows(demo_lake)
    # Day 2 re-ingested without Bayside's copy of the wire story (say the page was down).
    day = DAYS[1]
    copy = next(c for c in syndication.copies(syndication.BAYSIDE, day)
                if c.copy_path in before and c.source_path in before)
    copy_day = next(d for d in DAYS if _holds(demo_lake, d, copy.copy_path))
    _publish(demo_lake, syndication.BAYSIDE, copy_day,
             _articles(syndication.BAYSIDE, copy_day, frozenset({copy.copy_path})))
    rebuilt = _group(dag)
    assert rebuilt[0] == copy_day.isoformat()
    after = _rows(demo_lake)
    assert copy.copy_path not in after
    assert after[copy.source_path] == before[copy.source_path]

    scratch = str(tmp_path / "scratch")
    shutil.copytree(Path(demo_lake) / "articles", Path(scratch) / "articles")
    for outlet, d in stories.stale_signatures(scratch):
        stories.build_signatures(scratch, outlet, d)
    stories.build_stories(scratch)
    assert _rows(scratch) == after

    _publish(demo_lake, syndication.BAYSIDE, copy_day,
             _articles(syndication.BAYSIDE, copy_day))  # and back again
    _group(dag)
    assert _rows(demo_lake) == before


def _holds(lake_uri: str, day: dt.date, path: str) -> bool:
    return any(r["url"] == BASE + path for r in stories.read_day(lake_uri, day).to_pylist())
