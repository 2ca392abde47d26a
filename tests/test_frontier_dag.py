"""The frontier through Airflow (``DAG.test()``): poll_frontier polls the busy demo outlet
through a simulated day, then ingest_demo_harbor_wire lands every article of that day;
the same ingest without the polls (snapshot discovery after midnight) misses most.

The demo newsroom's clock is set by the test, and each poll run's logical date is that
same time (the DAG polls "as of" its logical date), so the day is pinned, not now().
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.dags import assert_succeeded, load_dag, run_day
from helpers.wire import (
    WIRE,
    Clock,
    latest_manifest,
    newsroom,
    report_of,
    shipped_configs,
    without_retries,
    zone_rows,
)

from demo_site import catalog
from newslake.settings import PROJECT_ROOT

pytestmark = pytest.mark.timeout(900)

DAY = dt.date(2026, 6, 15)
AFTER_MIDNIGHT = dt.datetime(2026, 6, 16, 0, 30, tzinfo=dt.UTC)


@dataclass
class Wire:
    base_url: str
    clock: Clock
    outlets: Path  # the wire's config alone: what the ingest DAGs are built from
    with_broken: Path  # the wire's config beside one that does not load


@pytest.fixture
def wire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    clock = Clock(dt.datetime(2026, 6, 14, 22, 0, tzinfo=dt.UTC))
    alone = shipped_configs(tmp_path / "outlets", WIRE)
    broken = shipped_configs(tmp_path / "outlets-broken", WIRE)
    (broken / "aaa_broken.yaml").write_text("id: aaa_broken\nname: Broken\nbase_url: 42\n")
    with newsroom(clock, monkeypatch) as site:
        yield Wire(site.base_url, clock, alone, broken)


def _poll_dag() -> Any:
    """poll_frontier from its own file: with a broken config beside the good ones the
    per-outlet DAG files report it as an import error; the poller itself has none. No
    task is retried."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "poll.py"))
    assert bag.import_errors == {}
    return without_retries(bag.get_dag("poll_frontier"))


def _ingest(wire: Wire, lake: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """ingest_demo_harbor_wire for DAY, half an hour after midnight; its manifest."""
    monkeypatch.setenv("AIRFLOW_VAR_NEWSLAKE_LAKE", lake)
    monkeypatch.setenv("NEWSLAKE_LAKE", lake)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(wire.outlets))
    wire.clock.now = AFTER_MIDNIGHT
    run_day(load_dag(f"ingest_{WIRE}"), DAY)
    return latest_manifest(lake, WIRE, DAY)


def test_polled_all_day_the_busy_outlet_lands_every_article_and_without_polls_most_are_lost(
    airflow_db: Path, wire: Wire, lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = catalog.articles_for(WIRE, DAY)
    good = {a.url(wire.base_url) for a in published if a.is_article_ok}
    assert len(good) >= 24

    # The frontier: poll_frontier every two hours of the simulated day (the wire publishes
    # at most six stories in two hours, its feed holds ten), one config broken beside it.
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(wire.with_broken))
    poll = _poll_dag()
    reports = []
    wire.clock.now = dt.datetime(2026, 6, 14, 22, 0, tzinfo=dt.UTC)
    while wire.clock.now < AFTER_MIDNIGHT:
        reports.append(report_of(assert_succeeded(poll.test(logical_date=wire.clock.now))))
        wire.clock.now += dt.timedelta(hours=2)
    assert all("aaa_broken" in r["failed"] for r in reports), "reported, and the rest polled"
    assert all(r["new_urls"].get(WIRE) for r in reports)
    assert all(r["poll_time"] and r["requests"] <= 2 for r in reports)  # robots.txt + feed
    state = json.loads((Path(lake) / "frontier" / f"outlet={WIRE}" / "_state.json").read_text())
    assert [s["polls"] for s in state["sources"].values()] == [len(reports)]

    manifest = _ingest(wire, lake, monkeypatch)
    rows = zone_rows(lake, "articles")
    assert {r["url"] for r in rows} == good, "every article of the day, none of another"
    assert {r["date"] for r in rows} == {DAY.isoformat()}
    assert manifest["written"] == len(good)
    assert manifest["quarantined"] == len(published) - len(good)

    # Today's behaviour: the same ingest after midnight in a lake without polls.
    snapshot_lake = str(tmp_path / "snapshot-lake")
    snapshot = _ingest(wire, snapshot_lake, monkeypatch)
    assert snapshot["discovered"] <= catalog.WIRE_FEED_ITEMS
    landed = {r["url"] for r in zone_rows(snapshot_lake, "articles")}
    assert landed < good and len(landed) <= catalog.WIRE_FEED_ITEMS < len(good) / 2


def test_a_run_polls_only_the_outlets_its_conf_names_and_refuses_an_unknown_one(
    airflow_db: Path, wire: Wire, lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``newslake demo`` polls only the wire: ``{"outlets": [...]}`` in the run's conf."""
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(wire.with_broken))
    poll = _poll_dag()
    wire.clock.now = dt.datetime(2026, 6, 15, 3, 0, tzinfo=dt.UTC)
    total = report_of(assert_succeeded(poll.test(logical_date=wire.clock.now,
                                                  run_conf={"outlets": [WIRE]})))
    assert total["outlets"] == 1 and total["failed"] == {}, "the broken config is not read"
    assert total["new_urls"][WIRE] == catalog.WIRE_FEED_ITEMS

    unknown = poll.test(logical_date=wire.clock.now + dt.timedelta(hours=3),
                        run_conf={"outlets": ["no_such_outlet"]})
    states = {ti.task_id: str(ti.state) for ti in unknown.get_task_instances()}
    assert states["plan"] == "failed" and states["poll"] == "upstream_failed", states


def test_the_schedule_is_every_ten_minutes_unless_the_environment_sets_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _poll_dag().timetable.expression == "*/10 * * * *"
    monkeypatch.setenv("NEWSLAKE_POLL_SCHEDULE", "0 */3 * * *")
    assert _poll_dag().timetable.expression == "0 */3 * * *"


def test_the_newsroom_serves_an_outlet_on_a_clock_of_its_own(wire: Wire) -> None:
    """The demo's polls see the wire as it was at each poll's logical date while the
    other outlets are served at "now": a clock per path prefix."""
    import requests

    from demo_site.server import DemoNewsroom

    then = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
    now = dt.datetime(2026, 6, 20, 6, 0, tzinfo=dt.UTC)
    with DemoNewsroom(port=0, clock=lambda: now, clocks={"/harbor-wire/": lambda: then}) as site:
        feed = requests.get(f"{site.base_url}/harbor-wire/feed.xml", timeout=30).text
        listed = catalog.latest(WIRE, then, catalog.WIRE_FEED_ITEMS)
        assert [a.url(site.base_url) in feed for a in listed] == [True] * len(listed)
        assert all(a.published_at <= then for a in listed)
        bayside = requests.get(f"{site.base_url}/bayside-press/feed/", timeout=30)
        assert bayside.status_code == 200
        assert catalog.latest("demo_bayside_press", now, 1)[0].url(site.base_url) in bayside.text
