"""Reruns only add knowledge: a rerun, retry or backfill of a day keeps what the lake holds.

A small loopback site publishes one article on a pinned day; between runs its feed and
sitemap stop listing it, and the page itself answers 200, then 404/410/500.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.dataset as ds
import pytest
from helpers.dags import load_dag, run_day
from helpers.loopback import Reply
from helpers.smallsite import HTML, PARAGRAPH, SmallSite, article_html
from warcio.archiveiterator import ArchiveIterator

from newslake import cli
from newslake import lake as lake_paths
from newslake.config import load_outlets
from newslake.errors import ShrinkError
from newslake.fetch import FetchFailure
from newslake.pipeline import RunSpec
from newslake.pipeline import run_day as run_lib_day
from newslake.raw import read_warc
from newslake.record import sha256_hex
from newslake.reparse import reparse_day

DAY = dt.date(2026, 6, 15)
STORY = "/news/council-expands-bike-lanes"

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("fast_backoff")]


@pytest.fixture
def site() -> Iterator[SmallSite]:
    with SmallSite(DAY) as server:
        server.publish(STORY, "Council expands bike lanes")
        yield server


def rows(lake: str, zone: str, drop: tuple[str, ...] = ("run_id",)) -> list[dict[str, Any]]:
    """The zone's rows without the columns ``drop``, sorted by URL."""
    path = Path(lake) / zone
    if not path.exists():
        return []
    found = ds.dataset(str(path), partitioning="hive").to_table().to_pylist()
    return sorted(({k: v for k, v in r.items() if k not in drop} for r in found),
                  key=lambda r: str(r["url"]))


def raw_results(lake: str, outlet_id: str) -> list[Any]:
    return list(read_warc(Path(lake_paths.partition_uri(lake, "raw", outlet_id, DAY))
                          / lake_paths.RAW_FILE))


def test_a_rerun_keeps_an_article_no_source_lists_any_more(site: SmallSite, lake: str) -> None:
    outlet = site.outlet()
    first = run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles", ("run_id", "fetched_at"))
    assert first["written"] == 1 and [r["url"] for r in before] == [site.url(STORY)]

    site.unlist(STORY)
    requested = site.hits[STORY]
    rerun = run_lib_day(RunSpec(outlet, DAY, "rerun", lake))

    assert site.hits[STORY] == requested + 1, "the page is requested again"
    assert rows(lake, "articles", ("run_id", "fetched_at")) == before
    assert rows(lake, "quarantine") == []
    assert (rerun["listed"], rerun["carried_forward"], rerun["discovered"]) == (0, 1, 1)
    assert rerun["written"] == 1 and rerun["kept_previous"] == 0
    assert [r.url for r in raw_results(lake, outlet.id)] == [site.url(STORY)]


@pytest.mark.parametrize(("gone", "error"), [
    (Reply(410, b"gone"), "http_410"),
    (Reply(404, b"not found"), "http_404"),
    (Reply(500, b"down"), "http_500"),
])
def test_a_page_taken_down_keeps_its_last_good_version(
    site: SmallSite, lake: str, gone: Reply, error: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    (good,) = raw_results(lake, outlet.id)

    site.unlist(STORY)
    site.pages[STORY] = gone
    for run in ("rerun", "rerun-again"):  # kept from a kept response as well
        manifest = run_lib_day(RunSpec(outlet, DAY, run, lake))
        assert rows(lake, "articles") == before, "the last good version stays, fetched_at too"
        assert rows(lake, "quarantine") == []
        assert manifest["written"] == 1 and manifest["kept_previous"] == 1
        assert manifest["kept_previous_after"] == {error: 1}
        assert manifest["fetch_failed"] == 0 and manifest["carried_forward"] == 1
        (kept,) = raw_results(lake, outlet.id)
        assert kept.kept_after == FetchFailure(error) and kept.kept_at is not None
        assert kept.kept_at > good.fetched_at
        assert (kept.status, kept.body, kept.fetched_at) == (good.status, good.body,
                                                             good.fetched_at)


def test_a_page_that_comes_back_is_fetched_afresh(site: SmallSite, lake: str) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    site.unlist(STORY)
    page = site.pages[STORY]
    site.pages[STORY] = Reply(410)
    run_lib_day(RunSpec(outlet, DAY, "gone", lake))
    site.pages[STORY] = page
    back = run_lib_day(RunSpec(outlet, DAY, "back", lake))
    assert back["kept_previous"] == 0 and back["written"] == 1
    (result,) = raw_results(lake, outlet.id)
    assert result.kept_after is None and result.kept_at is None


@pytest.mark.timeout(300)
def test_through_airflow_a_rerun_of_a_day_forgets_nothing(
    airflow_db: Path, site: SmallSite, lake: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outlet_id = "small_gazette"
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    site.write_config(outlets, outlet_id)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(outlets))
    dag = load_dag(f"ingest_{outlet_id}")

    run_day(dag, DAY)
    before = rows(lake, "articles")
    assert [r["url"] for r in before] == [site.url(STORY)]

    site.unlist(STORY)
    site.pages[STORY] = Reply(410, b"gone")
    run_day(dag, DAY)

    assert rows(lake, "articles") == before
    runs = [Path(p) for p in lake_paths.list_manifest_uris(lake, outlet_id, DAY)]
    assert len(runs) == 2
    manifest = json.loads(runs[-1].read_text())
    assert (manifest["carried_forward"], manifest["kept_previous"]) == (1, 1)
    assert manifest["kept_previous_after"] == {"http_410": 1}


def test_an_article_whose_date_moved_to_another_day_is_quarantined_not_dropped(
    site: SmallSite, lake: str
) -> None:
    other = site.publish("/news/market-reopens", "Market hall reopens after repairs", 14)
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before, _ = rows(lake, "articles")
    assert before["url"] == site.url(STORY)
    next_day = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(8), tzinfo=dt.UTC)
    site.pages[STORY] = Reply(body=article_html("Council expands bike lanes", next_day),
                              headers=HTML)

    manifest = run_lib_day(RunSpec(outlet, DAY, "rerun", lake))
    assert [r["url"] for r in rows(lake, "articles")] == [other]
    (moved,) = rows(lake, "quarantine")
    assert moved["failed_checks"] == ["out_of_window"]
    assert moved["article_id"] == before["article_id"] and moved["published_at"] == next_day
    assert (manifest["moved_out_of_window"], manifest["skipped_out_of_window"]) == (1, 0)


def _cut_before_response_to(warc: Path, url: str) -> int:
    """Cut ``warc`` at a gzip member boundary: just before the response to ``url``."""
    with warc.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if (record.rec_type == "response"
                    and record.rec_headers.get_header("WARC-Newslake-Requested-URI") == url):
                offset = records.get_record_offset()
                break
        else:
            raise AssertionError(f"no response to {url} in {warc}")
    warc.write_bytes(warc.read_bytes()[:offset])
    return offset


def test_a_reparse_that_would_drop_articles_publishes_nothing(
    site: SmallSite, lake: str
) -> None:
    """A raw WARC cut at a record boundary reads as a valid, shorter WARC: only the
    invariant that publish checks keeps the day from shrinking."""
    second = site.publish("/news/market-reopens", "Market hall reopens after repairs", 14)
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    assert len(before) == 2
    raw = Path(lake_paths.partition_uri(lake, "raw", outlet.id, DAY)) / lake_paths.RAW_FILE
    _cut_before_response_to(raw, second)

    with pytest.raises(ShrinkError) as failure:
        reparse_day(outlet, DAY, lake, "reparse")
    message = str(failure.value)
    assert "1 of 2 published articles would leave" in message
    assert second in message and sha256_hex(second) in message
    assert rows(lake, "articles") == before, "the partition stays as it was"
    assert len(lake_paths.list_manifest_uris(lake, outlet.id, DAY)) == 1


def _records(warc: Path) -> list[tuple[str, int, int]]:
    """(type, offset, length) of each record of ``warc``."""
    with warc.open("rb") as stream:
        records = ArchiveIterator(stream)
        return [(r.rec_type, records.get_record_offset(), records.get_record_length())
                for r in records]


@pytest.mark.parametrize("damage", ["cut", "flipped", "empty", "garbage"])
def test_reparse_of_a_damaged_raw_warc_fails_naming_file_and_offset(
    site: SmallSite, lake: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], damage: str,
) -> None:
    site.publish("/news/market-reopens", "Market hall reopens after repairs", 14)
    site.write_config(tmp_path)
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path))
    outlet = load_outlets()["small_gazette"]
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    raw = Path(lake_paths.partition_uri(lake, "raw", outlet.id, DAY)) / lake_paths.RAW_FILE
    data = raw.read_bytes()
    records = _records(raw)
    _, last, _ = records[-1]
    _, response, length = [r for r in records if r[0] == "response"][-1]
    flipped = bytearray(data)
    flipped[response + length // 2] ^= 0xFF
    damaged, offset = {
        "cut": (data[: last + 20], last),
        "flipped": (bytes(flipped), response),
        "empty": (b"", 0),
        "garbage": (b"this is not a WARC file\n" * 50, 0),
    }[damage]
    raw.write_bytes(damaged)

    code = cli.main(["reparse", "--outlet", outlet.id, "--from", DAY.isoformat(),
                     "--lake", lake, "--run-id", "reparse__cli"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{raw}: damaged WARC at offset {offset}: " in err
    assert "Traceback" not in err
    assert rows(lake, "articles") == before, "the partition stays as it was"
    assert len(lake_paths.list_manifest_uris(lake, outlet.id, DAY)) == 1


HISTORY = """
SELECT revision, modified_at, body FROM read_parquet('{lake}/articles/**/*.parquet',
                                                      hive_partitioning = true)
WHERE url = $url
UNION ALL
SELECT revision, modified_at, body FROM read_parquet('{lake}/revisions/**/*.parquet',
                                                      hive_partitioning = true)
WHERE url = $url
ORDER BY revision
"""


def test_an_edited_article_is_the_next_revision_and_its_earlier_text_stays(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    url = site.url(STORY)
    first = run_lib_day(RunSpec(outlet, DAY, "first", lake))
    assert (first["revised"], first["revisions"]) == (0, 0)
    assert not (Path(lake) / "revisions").exists(), "no revisions zone before an edit"
    (original,) = rows(lake, "articles")
    assert original["revision"] == 1

    edits = ["The council delayed the vote after a late objection from the fire service.",
             "The council approved the plan on Thursday, with a review after one year."]
    for n, text in enumerate(edits, start=2):
        page = article_html("Council expands bike lanes", site.listed[STORY], f"{text} {PARAGRAPH}")
        site.pages[STORY] = Reply(body=page, headers=HTML)
        for run in (f"edit-{n}", f"again-{n}"):  # a rerun of an unchanged page adds nothing
            manifest = run_lib_day(RunSpec(outlet, DAY, run, lake))
            (current,) = rows(lake, "articles")
            assert current["revision"] == n and text in current["body"]
            if run.startswith("edit"):  # the page has no modified time: when it was seen
                edited_at = current["fetched_at"]
            assert current["modified_at"] == edited_at
            assert manifest["revised"] == (1 if run.startswith("edit") else 0)
            assert manifest["revisions"] == n - 1
            assert manifest["written"] == 1

    history = duckdb.execute(HISTORY.format(lake=lake), {"url": url}).fetchall()
    assert [revision for revision, _, _ in history] == [1, 2, 3]
    assert history[0][2] == original["body"]
    assert [edits[0] in history[1][2], edits[1] in history[2][2]] == [True, True]
