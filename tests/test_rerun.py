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
from newslake.summary import duplicate_article_ids

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


# -- a page whose canonical URL moves between runs -----------------------------------------
RENAMED = "/news/bike-lanes-approved-for-northern-districts"


def _with_canonical(site: SmallSite, path: str, canonical: str, title: str,
                    text: str = PARAGRAPH) -> Reply:
    """The article page ``path`` serves, saying its canonical URL is ``canonical``."""
    page = article_html(title, site.listed.get(path) or site.listed[STORY], text)
    link = f'<link rel="canonical" href="{site.url(canonical)}">'.encode()
    return Reply(body=page.replace(b"</head>", link + b"</head>"), headers=HTML)


def _move(site: SmallSite, how: str) -> None:
    """The outlet renames STORY's slug to RENAMED: the feed lists the new URL, which serves
    the page; the old URL serves it too, naming the new one canonical, or redirects."""
    published = site.listed.pop(STORY)
    site.listed[RENAMED] = published
    site.pages[RENAMED] = _with_canonical(site, RENAMED, RENAMED, "Council expands bike lanes")
    site.routes[RENAMED] = lambda p: site.pages.get(p.split("?", 1)[0], Reply(404))
    if how == "canonical":
        site.pages[STORY] = site.pages[RENAMED]
    else:
        site.pages[STORY] = Reply(301, headers={"Location": site.url(RENAMED)})


@pytest.mark.parametrize("how", ["canonical", "redirect"])
def test_a_rerun_after_the_canonical_url_moved_keeps_one_row_and_records_the_alias(
    site: SmallSite, lake: str, how: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    (before,) = rows(lake, "articles")
    assert before["url"] == site.url(STORY)
    _move(site, how)

    for run in ("rerun", "rerun-again"):  # the second rerun keeps the alias, adds nothing
        manifest = run_lib_day(RunSpec(outlet, DAY, run, lake))
        (after,) = rows(lake, "articles", ("run_id", "fetched_at"))
        new = site.url(RENAMED)
        assert (after["url"], after["article_id"]) == (new, sha256_hex(new))
        assert after["revision"] == 1 and after["body"] == before["body"]
        assert manifest["written"] == 1 and duplicate_article_ids(lake) == 0
        (alias,) = rows(lake, "aliases", ("run_id", "renamed_at", "date"))
        assert alias == {"old_article_id": before["article_id"], "old_url": site.url(STORY),
                         "article_id": after["article_id"], "url": new, "outlet": outlet.id}
        assert manifest["renamed"] == (1 if run == "rerun" else 0)
        assert manifest["aliases"] == 1
    assert not (Path(lake) / "revisions").exists(), "a rename of the same text is no revision"


def test_a_rename_with_an_edit_is_the_next_revision_and_the_old_row_keeps_its_id(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    (before,) = rows(lake, "articles")
    _move(site, "canonical")
    edited = "The council approved the plan on Thursday, with a review after one year."
    site.pages[STORY] = site.pages[RENAMED] = _with_canonical(
        site, RENAMED, RENAMED, "Council expands bike lanes", f"{edited} {PARAGRAPH}")

    manifest = run_lib_day(RunSpec(outlet, DAY, "rerun", lake))
    (after,) = rows(lake, "articles")
    assert after["url"] == site.url(RENAMED) and after["revision"] == 2
    assert edited in after["body"]
    (earlier,) = rows(lake, "revisions")
    assert {k: v for k, v in earlier.items() if k != "date"} == {
        k: v for k, v in before.items() if k != "date"}, "the published row, as it was"
    (alias,) = rows(lake, "aliases")
    assert (alias["old_article_id"], alias["article_id"]) == (before["article_id"],
                                                              after["article_id"])
    assert (manifest["renamed"], manifest["revised"], manifest["revisions"]) == (1, 1, 1)


def test_a_page_that_now_names_another_article_of_the_day_still_stops_the_rerun(
    site: SmallSite, lake: str
) -> None:
    """Two published articles becoming one (a merge) is no rename: the one that would go
    has no row saying why, and nothing is published, as before."""
    other = "/news/market-reopens"
    site.publish(other, "Market hall reopens after repairs", 14)
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    site.pages[STORY] = _with_canonical(site, STORY, other, "Market hall reopens after repairs")

    with pytest.raises(ShrinkError, match="1 of 2 published articles would leave") as failure:
        run_lib_day(RunSpec(outlet, DAY, "rerun", lake))
    assert sha256_hex(site.url(STORY)) in str(failure.value)
    assert rows(lake, "articles") == before, "the partition stays as it was"
    assert rows(lake, "aliases") == []


def test_a_canonical_that_moves_twice_keeps_one_alias_per_old_id_pointing_at_the_article(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    _move(site, "canonical")
    run_lib_day(RunSpec(outlet, DAY, "renamed", lake))
    final = "/news/bike-lanes-northern-districts-final"
    site.pages[STORY] = site.pages[RENAMED] = _with_canonical(
        site, RENAMED, final, "Council expands bike lanes")

    manifest = run_lib_day(RunSpec(outlet, DAY, "renamed-again", lake))
    (article,) = rows(lake, "articles")
    assert article["url"] == site.url(final)
    aliases = rows(lake, "aliases")
    assert [(a["old_url"], a["url"]) for a in aliases] == [
        (site.url(RENAMED), site.url(final)), (site.url(STORY), site.url(final))]
    assert {a["article_id"] for a in aliases} == {article["article_id"]}
    assert (manifest["renamed"], manifest["aliases"]) == (1, 2)

    # and back to its first URL: that id is the article's again, not an alias of it
    site.pages[STORY] = site.pages[RENAMED] = _with_canonical(
        site, RENAMED, STORY, "Council expands bike lanes")
    run_lib_day(RunSpec(outlet, DAY, "back", lake))
    (article,) = rows(lake, "articles")
    assert article["url"] == site.url(STORY)
    assert sorted(a["old_url"] for a in rows(lake, "aliases")) == [
        site.url(RENAMED), site.url(final)]
    assert {a["article_id"] for a in rows(lake, "aliases")} == {article["article_id"]}


def test_a_rename_beside_a_page_taken_down_keeps_both_articles(
    site: SmallSite, lake: str
) -> None:
    other = "/news/market-reopens"
    site.publish(other, "Market hall reopens after repairs", 14)
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = {r["url"]: r for r in rows(lake, "articles")}
    _move(site, "redirect")
    site.unlist(other)
    site.pages[other] = Reply(410, b"gone")

    manifest = run_lib_day(RunSpec(outlet, DAY, "rerun", lake))
    after = {r["url"]: r for r in rows(lake, "articles")}
    assert sorted(after) == [site.url(RENAMED), site.url(other)]
    assert after[site.url(other)] == before[site.url(other)], "the taken-down one as it was"
    assert [a["old_url"] for a in rows(lake, "aliases")] == [site.url(STORY)]
    assert (manifest["renamed"], manifest["kept_previous"], manifest["written"]) == (1, 1, 2)
