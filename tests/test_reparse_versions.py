"""Bringing history up to date: ``reparse --older-than`` rebuilds only the days whose
partitions hold rows by an older parser version, from the raw zone, without fetching."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers.dags import assert_succeeded, load_dag
from helpers.loopback import Reply
from helpers.smallsite import HTML, SmallSite

from newslake import cli
from newslake import lake as lake_paths
from newslake.config import Outlet
from newslake.parse.version import GENERIC_PARSER
from newslake.pipeline import RunSpec, run_day
from newslake.reparse import day_parsers, days_older_than, older_than_label

DAY = dt.date(2026, 6, 15)
NEXT = DAY + dt.timedelta(days=1)
EMPTY = "/news/empty-shell"  # an article page with no text: refused (parse:empty_body)

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("fast_backoff")]


@pytest.fixture
def site() -> Iterator[SmallSite]:
    with SmallSite(DAY) as server:
        server.publish("/news/council-expands-bike-lanes", "Council expands bike lanes")
        server.day = NEXT
        server.publish("/news/harbour-ferry-returns", "Harbour ferry returns")
        server.pages[EMPTY] = Reply(body=b"<html><head><title>Shell</title></head>"
                                         b"<body><h1>Shell</h1></body></html>", headers=HTML)
        server.routes[EMPTY] = lambda p: server.pages[EMPTY]
        server.listed[EMPTY] = dt.datetime.combine(NEXT, dt.time(10), tzinfo=dt.UTC)
        yield server


@pytest.fixture
def outlet(site: SmallSite, lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Outlet:
    """The site's outlet (its config in ``NEWSLAKE_OUTLETS_DIR``), DAY and NEXT ingested
    by today's parser."""
    site.write_config(tmp_path)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path))
    outlet = site.outlet()
    for day in (DAY, NEXT):
        run_day(RunSpec(outlet, day, f"ingest-{day}", lake))
    return outlet


def _partition(lake: str, zone: str, day: dt.date) -> Path:
    return Path(lake_paths.partition_uri(lake, zone, "small_gazette", day),
                lake_paths.PARQUET_FILE)


def _as_written_before(lake: str, zone: str, day: dt.date, label: str | None) -> None:
    """The partition as the code before parser versions wrote it: every parsed row says
    ``label`` (a refusal row said nothing: ``label`` None)."""
    path = _partition(lake, zone, day)
    table = pq.read_table(path)
    labels = [label if (parser or label is None) else parser
              for parser in table.column("parser").to_pylist()]
    i = table.schema.get_field_index("parser")
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(labels, pa.string())),
                   path)


def _parsers(lake: str, zone: str, day: dt.date) -> list[Any]:
    return pq.read_table(_partition(lake, zone, day)).column("parser").to_pylist()


def _runs(lake: str, day: dt.date) -> list[str]:
    return [json.loads(p.read_text())["run_id"]
            for p in map(Path, lake_paths.list_manifest_uris(lake, "small_gazette", day))]


def _reparse(lake: str, older_than: str, *more: str) -> int:
    """``newslake reparse --older-than`` for the small gazette; its exit code."""
    return cli.main(["reparse", "--outlet", "small_gazette", "--older-than", older_than,
                     "--lake", lake, *more])


def test_reparse_older_than_rebuilds_only_days_an_older_parser_wrote(
    site: SmallSite, lake: str, outlet: Outlet, capsys: pytest.CaptureFixture[str],
) -> None:
    assert _parsers(lake, "articles", DAY) == _parsers(lake, "articles", NEXT) == [
        GENERIC_PARSER]
    assert _parsers(lake, "quarantine", NEXT) == [GENERIC_PARSER], "a refusal says who refused"
    assert day_parsers(lake, outlet, NEXT) == {older_than_label(GENERIC_PARSER, outlet)}
    _as_written_before(lake, "articles", DAY, "generic@1")
    requests = dict(site.hits)

    assert _reparse(lake, "generic@2", "--run-id", "up-to-date") == 0
    out = capsys.readouterr().out
    assert f"small_gazette {DAY}: 1 articles" in out
    assert "1 days of small_gazette in the raw zone held rows older than generic@2" in out
    assert _runs(lake, DAY) == [f"ingest-{DAY}", "up-to-date"]
    assert _runs(lake, NEXT) == [f"ingest-{NEXT}"], "a day of the current parser is left"
    assert _parsers(lake, "articles", DAY) == [GENERIC_PARSER]
    assert dict(site.hits) == requests, "no request: the raw zone is the input"

    # Nothing older is left: a second pass (and `current`) reparses nothing.
    for label in ("generic@2", "current"):
        assert _reparse(lake, label, "--from", str(DAY), "--to", str(NEXT)) == 0
        assert f"0 days of small_gazette in {DAY} … {NEXT} held rows older than" in (
            capsys.readouterr().out)
    assert len(_runs(lake, DAY)) == 2 and len(_runs(lake, NEXT)) == 1

    assert _reparse(lake, "fancy@2") == 1
    assert "'fancy@2' is not a parser label" in capsys.readouterr().err


def test_the_reparse_dag_selects_days_with_refusals_an_older_parser_made(
    airflow_db: Path, lake: str, outlet: Outlet,
) -> None:
    # Before refusals carried a label, their parser was null: version 1.
    _as_written_before(lake, "quarantine", NEXT, None)
    assert days_older_than(outlet, [DAY, NEXT], lake, older_than_label("current", outlet)) == [
        NEXT]

    dag = load_dag("reparse_small_gazette")
    assert_succeeded(dag.test(run_conf={"from": str(DAY), "to": str(NEXT),
                                        "older_than": GENERIC_PARSER}))
    assert len(_runs(lake, DAY)) == 1, "the day of the current parser is not reparsed"
    assert len(_runs(lake, NEXT)) == 2
    assert _parsers(lake, "quarantine", NEXT) == [GENERIC_PARSER]
