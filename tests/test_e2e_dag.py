"""One outlet-day through Airflow (``dag.test()``) against the demo newsroom."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
from helpers.clock import TODAY
from helpers.dags import load_dag, run_day

from demo_site import catalog
from newslake import lake as lake_paths
from newslake.airflow_local import manual_run_after
from newslake.parse.version import PARSER_VERSION

pytestmark = pytest.mark.timeout(300)


def _read(lake: str, zone: str) -> list[dict[str, Any]]:
    path = Path(lake) / zone
    if not path.exists():
        return []
    return ds.dataset(str(path), partitioning="hive").to_table().to_pylist()


def _day_with_bad_case(key: str) -> dt.date:
    today = TODAY
    for back in range(2, 30):
        day = today - dt.timedelta(days=back)
        if any(not a.is_article_ok for a in catalog.articles_for(key, day)):
            return day
    raise AssertionError("the demo newsroom has no bad case in the last 4 weeks")


@pytest.mark.parametrize(
    "outlet_id", ["demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti"]
)
def test_outlet_day_lands_as_the_newsroom_published_it(
    airflow_db: Path, demo_site: str, lake: str, outlet_id: str
) -> None:
    day = _day_with_bad_case(outlet_id)
    run_day(load_dag(f"ingest_{outlet_id}"), day)

    published = catalog.articles_for(outlet_id, day)
    good = {a.url(demo_site): a for a in published if a.is_article_ok}
    bad = {a.url(demo_site): a for a in published if not a.is_article_ok}
    rows = _read(lake, "articles")
    assert {r["url"] for r in rows} == set(good)
    assert {r["outlet"] for r in rows} == {outlet_id}
    assert {r["date"] for r in rows} == {day.isoformat()}
    for row in rows:
        truth = good[row["url"]]
        assert row["title"] == truth.title
        assert row["body"] == truth.body
        assert row["authors"] == truth.authors
        assert row["published_at"] == truth.published_at.replace(microsecond=0)
        assert row["section"] == truth.section
        assert row["tags"] == truth.tags
        assert row["language"] == truth.language
        assert row["parser"] == f"rules:{outlet_id}@1.{PARSER_VERSION}"
        assert row["run_id"].startswith("manual__")
        assert day <= row["published_at"].date() < day + dt.timedelta(days=1)
    times = [r["published_at"] for r in rows]
    assert times == sorted(times)

    quarantined = _read(lake, "quarantine")
    assert {q["url"] for q in quarantined} == set(bad)
    for q in quarantined:
        assert q["failed_checks"], q["url"]
        if bad[q["url"]].is_soft_404:
            assert q["failed_checks"] == ["parse:soft_404"]
        else:
            assert "min_words" in q["failed_checks"]

    raw = list((Path(lake) / "raw" / f"outlet={outlet_id}" / f"date={day}").glob("*.warc.gz"))
    assert raw, "the raw responses are kept"
    manifests = [Path(p) for p in lake_paths.list_manifest_uris(lake, outlet_id, day)]
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert manifest["written"] == len(rows) and manifest["quarantined"] == len(quarantined)
    assert manifest["discovered"] == (
        manifest["written"] + manifest["quarantined"] + manifest["skipped_out_of_window"]
        + manifest["skipped_duplicate"]
    )
    assert set(manifest["seconds"]) == {"discover", "fetch", "parse", "validate", "publish"}
    assert manifest["seconds"]["fetch"] > 0 and manifest["fetch_errors"] == {}
    evidence = json.loads((manifests[0].parent / manifest["validation_ref"]).read_text())
    assert evidence["rows"]["statistics"]["evaluated_expectations"] > 10


def test_rerunning_a_day_leaves_the_same_rows(
    airflow_db: Path, demo_site: str, lake: str, past_day: dt.date
) -> None:
    dag = load_dag("ingest_demo_bayside_press")
    run_day(dag, past_day)
    first = sorted(_read(lake, "articles"), key=lambda r: r["article_id"])
    files = sorted(p.name for p in Path(lake).rglob("*.parquet"))
    run_day(dag, past_day)
    second = sorted(_read(lake, "articles"), key=lambda r: r["article_id"])

    assert first, "the day has articles"
    ids = [r["article_id"] for r in second]
    assert len(ids) == len(set(ids)), "no duplicate article_id"
    strip = ("fetched_at", "run_id")
    assert [{k: v for k, v in r.items() if k not in strip} for r in first] == [
        {k: v for k, v in r.items() if k not in strip} for r in second
    ]
    assert sorted(p.name for p in Path(lake).rglob("*.parquet")) == files, "no leftovers"
    assert not any((Path(lake) / "_staging").rglob("*.parquet")), "staging is cleaned up"
    runs = [Path(p) for p in lake_paths.list_manifest_uris(lake, "demo_bayside_press", past_day)]
    assert len(runs) == 2, "one manifest a run"


def test_a_broken_batch_check_fails_the_validate_task_and_publishes_nothing(
    airflow_db: Path, demo_site: str, lake: str, past_day: dt.date, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from newslake.settings import PROJECT_ROOT

    outlets = tmp_path / "outlets"
    outlets.mkdir()
    config = (PROJECT_ROOT / "include" / "outlets" / "demo_metro_ledger.yaml").read_text()
    (outlets / "demo_metro_ledger.yaml").write_text(
        config.replace("validation: {min_words: 80}", "validation: {min_words: 80, min_rows: 1000}")
    )
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(outlets))
    dag = load_dag("ingest_demo_metro_ledger")
    for task in dag.tasks:  # retries kept, without the wait: a rejected batch is not retried
        task.retry_delay = dt.timedelta(0)
        task.retry_exponential_backoff = False
    dag_run = dag.test(logical_date=manual_run_after(past_day))
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "failed"
    assert str(tis["validate"].state) == "failed"
    assert str(tis["publish"].state) == "upstream_failed"
    assert tis["validate"].try_number == 1, "the same rows fail the same checks: no retry"

    evidence = list(Path(lake).glob(f"_runs/outlet=demo_metro_ledger/date={past_day}/*"))
    assert [p.name.endswith(".validation.json") for p in evidence] == [True]
    failures = json.loads(evidence[0].read_text())["summary"]["batch_failures"]
    assert len(failures) == 1 and failures[0].startswith("row_count (candidates=")
    assert not (Path(lake) / "articles").exists(), "a failed batch publishes nothing"
