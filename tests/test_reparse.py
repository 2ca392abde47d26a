"""Reparse from the raw zone: an ingested outlet-day rebuilt without a single request."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
import requests
from helpers.clock import TODAY
from helpers.dags import assert_succeeded, load_dag, run_day

from demo_site import catalog
from newslake import cli, fetch
from newslake import lake as lake_paths
from newslake.clock import days_between
from newslake.config import load_outlets
from newslake.reparse import MAX_DAYS, reparse_day, reparse_days

pytestmark = pytest.mark.timeout(300)

OUTLET = "demo_metro_ledger"  # paywalled teasers and soft 404s: quarantine has rows too


def _rows(lake: str, zone: str) -> list[dict[str, Any]]:
    """The zone's rows without run_id (the one column a reparse changes), sorted."""
    path = Path(lake) / zone
    rows = ds.dataset(str(path), partitioning="hive").to_table().to_pylist()
    stripped = [{k: v for k, v in r.items() if k != "run_id"} for r in rows]
    return sorted(stripped, key=lambda r: (r["url"], json.dumps(r, default=str, sort_keys=True)))


def _raw_digest(lake: str, day: dt.date) -> dict[str, str]:
    folder = Path(lake_paths.partition_uri(lake, "raw", OUTLET, day))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _day_with_bad_case() -> dt.date:
    today = TODAY
    for back in range(2, 30):
        day = today - dt.timedelta(days=back)
        articles = catalog.articles_for(OUTLET, day)
        if any(not a.is_article_ok for a in articles) and any(a.is_article_ok for a in articles):
            return day
    raise AssertionError("the demo newsroom has no mixed day in the last 4 weeks")


def test_reparse_rebuilds_the_same_rows_from_raw_alone(
    airflow_db: Path, demo_site: str, lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = _day_with_bad_case()
    run_day(load_dag(f"ingest_{OUTLET}"), day)
    articles, quarantine = _rows(lake, "articles"), _rows(lake, "quarantine")
    raw = _raw_digest(lake, day)
    assert articles and quarantine and raw

    # No network from here on.
    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("a reparse must not fetch")

    monkeypatch.setattr(fetch.Fetcher, "fetch", refuse)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", refuse)

    outlet = load_outlets()[OUTLET]
    (manifest,) = reparse_days(outlet, day - dt.timedelta(days=40), day, lake, "reparse__lib")
    assert _rows(lake, "articles") == articles
    assert _rows(lake, "quarantine") == quarantine
    assert _raw_digest(lake, day) == raw, "the raw partition is left as it was"
    assert manifest["date"] == day.isoformat() and manifest["run_id"] == "reparse__lib"
    assert manifest["reparse"]["raw_files"] == sorted(raw)
    assert manifest["discovered"] == manifest["reparse"]["raw_records"] == (
        manifest["written"] + manifest["quarantined"] + manifest["skipped_out_of_window"]
        + manifest["skipped_duplicate"]
    )
    assert manifest["written"] == len(articles)
    assert manifest["quarantined"] == len(quarantine)
    stored = Path(lake_paths.manifest_uri(lake, OUTLET, day, "reparse__lib"))
    assert json.loads(stored.read_text())["reparse"] == manifest["reparse"]
    ids = {r["run_id"] for r in ds.dataset(f"{lake}/articles", partitioning="hive")
           .to_table(columns=["run_id"]).to_pylist()}
    assert ids == {"reparse__lib"}

    # The same through the command line, then through Airflow.
    assert cli.main(["reparse", "--outlet", OUTLET, "--from", day.isoformat(),
                     "--to", day.isoformat(), "--lake", lake, "--run-id", "reparse__cli"]) == 0
    assert _rows(lake, "articles") == articles

    dag = load_dag(f"reparse_{OUTLET}")
    assert_succeeded(dag.test(run_conf={"from": day.isoformat(), "to": day.isoformat()}))
    assert _rows(lake, "articles") == articles
    assert _rows(lake, "quarantine") == quarantine
    assert _raw_digest(lake, day) == raw
    runs = [Path(p) for p in lake_paths.list_manifest_uris(lake, OUTLET, day)]
    assert len(runs) == 4, "ingest, library, CLI and DAG reparse: one manifest each"
    latest = json.loads(runs[-1].read_text())
    assert latest["run_id"].startswith("manual__") and "reparse" in latest
    assert not any((Path(lake) / "_staging").rglob("*.*")), "staging is cleaned up"


@pytest.mark.timeout(30)
def test_a_day_without_raw_files_is_skipped(
    lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch.Fetcher, "fetch", lambda *a, **k: pytest.fail("fetched"))
    outlet = load_outlets()[OUTLET]
    day = dt.date(2024, 3, 1)
    assert reparse_day(outlet, day, lake, "r") is None
    assert reparse_days(outlet, day, day + dt.timedelta(days=2), lake, "r") == []
    assert not Path(lake).exists() or not any(Path(lake).rglob("*.parquet"))
    assert cli.main(["reparse", "--outlet", OUTLET, "--from", "2024-03-01",
                     "--to", "2024-03-02", "--lake", lake]) == 1


def test_days_between() -> None:
    first = dt.date(2024, 2, 28)
    assert days_between(first, dt.date(2024, 3, 1)) == [
        dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1)
    ]
    assert days_between(first, first) == [first]
    with pytest.raises(ValueError, match="before"):
        days_between(first, first - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="days >"):
        days_between(first, first + dt.timedelta(days=MAX_DAYS), max_days=MAX_DAYS)
    assert len(days_between(first, first + dt.timedelta(days=MAX_DAYS))) == MAX_DAYS + 1
