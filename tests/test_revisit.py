"""Revisits through Airflow (``DAG.test()``): the Harbor Wire's day is ingested after
midnight, the demo newsroom's clock moves on two days (some stories edited, one taken
down), and the ``revisit`` DAG refetches the day conditionally.

Each story's fate is the demo catalog's (``catalog.wire_edit_at``, ``wire_takedown_at``):
a pure function of the story and the clock, which the test sets.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from helpers.clock import days_ago
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
from demo_site.server import DemoNewsroom
from newslake.config import ConfigError, load_outlet
from newslake.settings import PROJECT_ROOT

pytestmark = pytest.mark.timeout(900)

DAY = days_ago(5)
AFTER_MIDNIGHT = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(0, 30), dt.UTC)
# Two days on: every edit of DAY's stories is out, and the takedown (06:00) has happened.
REVISIT_AT = dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(6, 0), dt.UTC)


# docs/lake.md "Reading the lake": which stories of a day changed.
CHANGED = """
  SELECT a.outlet, a.url, r.revision AS was, a.revision AS now, a.modified_at,
         r.word_count AS words_before, a.word_count AS words_now
  FROM read_parquet('lake/revisions/**/*.parquet', hive_partitioning=true) r
  JOIN read_parquet('lake/articles/**/*.parquet', hive_partitioning=true) a
    USING (outlet, date, article_id)
  WHERE date = $day
  ORDER BY a.outlet, a.modified_at, was"""


@dataclass
class Wire:
    site: DemoNewsroom
    clock: Clock
    outlets: Path


@pytest.fixture
def wire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    clock = Clock(AFTER_MIDNIGHT)
    outlets = shipped_configs(tmp_path / "outlets", WIRE)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(outlets))
    with newsroom(clock, monkeypatch) as site:
        yield Wire(site, clock, outlets)


def _revisit(wire: Wire) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The revisit DAG as of REVISIT_AT; its report and the requests it made."""
    wire.clock.now = REVISIT_AT
    dag = without_retries(load_dag("revisit"))
    served = len(wire.site.served)
    dag_run = assert_succeeded(dag.test(logical_date=REVISIT_AT))
    return report_of(dag_run), wire.site.served[served:]


def test_revisit_keeps_unchanged_stories_revises_edited_ones_and_keeps_a_taken_down_one(
    airflow_db: Path, wire: Wire, lake: str
) -> None:
    run_day(load_dag(f"ingest_{WIRE}"), DAY)
    ingested = {r["url"]: r for r in zone_rows(lake, "articles")}
    truth = {a.url(wire.site.base_url): a for a in catalog.articles_for(WIRE, DAY)}
    assert ingested and set(ingested) <= set(truth)
    edits = {u: catalog.wire_edit_at(truth[u]) for u in ingested}
    edited = {u for u, at in edits.items() if at is not None and AFTER_MIDNIGHT < at <= REVISIT_AT}
    gone = {u for u in ingested if catalog.is_taken_down(truth[u], REVISIT_AT)}
    unchanged = set(ingested) - edited - gone
    assert edited and len(gone) == 1 and unchanged, "the demo day has each case"
    assert all(r["revision"] == 1 for r in ingested.values())

    report, served = _revisit(wire)

    # An unchanged story costs one conditional request answered 304, and no parse: its
    # row is the ingest's (same run, same fetch time).
    by_path: dict[str, list[int]] = {}
    for path, status in served:
        by_path.setdefault(path, []).append(status)
    path_of = {u: u.removeprefix(wire.site.base_url) for u in ingested}
    assert all(by_path[path_of[u]] == [304] for u in unchanged), by_path
    assert all(by_path[path_of[u]] == [200] for u in edited)
    assert [by_path[path_of[u]] for u in gone] == [[410]]
    assert report["days"] == 1 and report["not_modified"] == len(unchanged)
    assert report["changed"] == len(edited) and report["taken_down"] == 1
    assert report["revised"] == {f"{WIRE} {DAY.isoformat()}": len(edited)}

    rows = {r["url"]: r for r in zone_rows(lake, "articles")}
    assert set(rows) == set(ingested), "nothing left the day, nothing was added"
    for url in unchanged | gone:
        assert rows[url] == ingested[url]
    # An edited story: the page's new text as revision 2, dated by the page's
    # dateModified, in its publication day's partition; the ingested row in revisions/.
    for url in edited:
        now_shown = catalog.as_of(truth[url], REVISIT_AT)
        assert rows[url]["body"] == now_shown.body != truth[url].body
        assert rows[url]["revision"] == 2
        assert rows[url]["modified_at"] == now_shown.modified_at
        assert rows[url]["date"] == DAY.isoformat()
    history = zone_rows(lake, "revisions")
    assert {r["url"] for r in history} == edited
    for old in history:
        assert old["revision"] == 1 and old["body"] == truth[old["url"]].body
        assert {k: v for k, v in old.items() if k != "date"} == {
            k: v for k, v in ingested[old["url"]].items() if k != "date"}

    changes = duckdb.execute(CHANGED.replace("'lake/", f"'{lake}/"),
                             {"day": DAY.isoformat()}).fetchall()
    assert sorted(c[1] for c in changes) == sorted(edited)
    assert all(c[0] == WIRE and c[2:4] == (1, 2) and c[6] > c[5] for c in changes)

    # The taken-down story is still in the lake, counted in the revisit's manifest, and
    # the raw zone keeps its last good response.
    manifest = latest_manifest(lake, WIRE, DAY)
    assert manifest["kind"] == "revisit" and manifest["revisit"]["taken_down"] == 1
    assert manifest["kept_previous_after"] == {"http_410": 1}
    assert manifest["written"] == len(ingested) and manifest["revised"] == len(edited)
    assert manifest["revisit"]["not_modified"] == len(unchanged)
    assert manifest["revisit"]["reparsed_rows"] == len(edited)

    # Rerun: the same lake; the edited stories now answer 304 too.
    zones = {z: zone_rows(lake, z) for z in ("articles", "revisions", "quarantine")}
    again, served = _revisit(wire)
    assert {z: zone_rows(lake, z) for z in zones} == zones
    assert sorted(s for p, s in served if p in path_of.values()) == sorted(
        [304] * (len(unchanged) + len(edited)) + [410])
    assert again["changed"] == 0 and again["revised"] == {} and again["taken_down"] == 1


def test_the_ingest_rerun_after_a_revisit_keeps_its_revisions(
    airflow_db: Path, wire: Wire, lake: str
) -> None:
    """An ingest rerun of the day after the revisit: the same rows, revisions kept, the
    taken-down story kept from the raw zone (reruns only add knowledge)."""
    ingest = load_dag(f"ingest_{WIRE}")
    run_day(ingest, DAY)
    _revisit(wire)
    zones = {z: zone_rows(lake, z) for z in ("articles", "revisions")}
    run_day(ingest, DAY)
    after = {z: zone_rows(lake, z) for z in zones}
    assert after["revisions"] == zones["revisions"]
    assert [(r["url"], r["revision"], r["body"]) for r in after["articles"]] == [
        (r["url"], r["revision"], r["body"]) for r in zones["articles"]]
    assert latest_manifest(lake, WIRE, DAY)["kept_previous_after"] == {"http_410": 1}


@pytest.mark.timeout(60)
def test_demo_wire_edits_and_takedown_follow_the_clock() -> None:
    day = catalog.articles_for(WIRE, DAY)
    story = next(a for a in day if catalog.wire_edit_at(a) is not None)
    taken = next(a for a in day if catalog.wire_takedown_at(a) is not None)
    edit = catalog.wire_edit_at(story)
    assert edit is not None and edit > story.published_at
    clock = Clock(edit - dt.timedelta(minutes=1))
    with DemoNewsroom(port=0, clock=clock) as site:
        before = requests.get(story.url(site.base_url), timeout=10)
        same = requests.get(story.url(site.base_url), timeout=10,
                            headers={"If-None-Match": before.headers["ETag"]})
        clock.now = edit
        after = requests.get(story.url(site.base_url), timeout=10,
                             headers={"If-None-Match": before.headers["ETag"]})
        assert (before.status_code, same.status_code, after.status_code) == (200, 304, 200)
        assert after.headers["ETag"] != before.headers["ETag"]
        assert after.headers["Last-Modified"] != before.headers["Last-Modified"]
        assert "has been updated" in after.text and "has been updated" not in before.text
        ld = after.text.split('application/ld+json">', 1)[1].split("</script>", 1)[0]
        assert json.loads(ld)["dateModified"] == edit.isoformat()

        gone_at = catalog.wire_takedown_at(taken)
        assert gone_at is not None and gone_at > taken.published_at
        clock.now = gone_at - dt.timedelta(seconds=1)
        assert requests.get(taken.url(site.base_url), timeout=10).status_code == 200
        clock.now = gone_at
        assert requests.get(taken.url(site.base_url), timeout=10).status_code == 410
    assert sum(catalog.wire_edit_at(a) is not None for a in day) >= 3
    assert sum(catalog.wire_takedown_at(a) is not None for a in day) == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("value", "problem"), [
    ("-1", "must be between 0 and 90, got -1"),
    ("91", "must be between 0 and 90, got 91"),
    ("seven", "expected int, got str"),
])
def test_revisit_days_is_checked(tmp_path: Path, value: str, problem: str) -> None:
    config = (PROJECT_ROOT / "include" / "outlets" / f"{WIRE}.yaml").read_text()
    path = tmp_path / f"{WIRE}.yaml"
    path.write_text(config + f"revisit: {{days: {value}}}\n")
    with pytest.raises(ConfigError, match=f"{path}: revisit.days: {problem}"):
        load_outlet(path)
    path.write_text(config + "revisit: {days: 3}\n")
    assert load_outlet(path).revisit_days == 3
    path.write_text(config)
    assert load_outlet(path).revisit_days == 7
