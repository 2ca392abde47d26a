"""Revisits in the library (``newslake.revisit``), on a small loopback site whose pages a
test changes: the cases the demo wire does not have (no validators, a page that stops
parsing, another run publishing the day meanwhile)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest
from helpers.loopback import Reply
from helpers.smallsite import HTML, SmallSite, article_html

from newslake import revisit
from newslake.errors import ShrinkError
from newslake.pipeline import (
    RunSpec,
    discover_step,
    fetch_step,
    parse_step,
    publish_step,
    validate_step,
)
from newslake.pipeline import run_day as run_lib_day
from newslake.record import sha256_hex
from newslake.steps import Parsed, Validated

DAY = dt.date(2026, 6, 15)
STORY = "/news/council-expands-bike-lanes"
TITLE = "Council expands bike lanes"
EDITED = ("The council's vote was later corrected: it passed by seven votes to four, not "
          "eight to three as first reported, and the pilot streets will be extended to "
          "the riverside district before the works begin in the spring of next year.")

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("fast_backoff")]


@pytest.fixture
def site() -> Iterator[SmallSite]:
    with SmallSite(DAY) as server:
        server.publish(STORY, TITLE)
        yield server


def rows(lake: str, zone: str) -> list[dict[str, Any]]:
    path = Path(lake) / zone
    if not path.exists():
        return []
    return sorted(ds.dataset(str(path), partitioning="hive").to_table().to_pylist(),
                  key=lambda r: (r["url"], r.get("revision") or 0))


def edit(site: SmallSite, text: str = EDITED) -> None:
    published = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    site.pages[STORY] = Reply(body=article_html(TITLE, published, text), headers=HTML)


def test_horizon_is_the_days_before_today_within_the_outlets_start(site: SmallSite) -> None:
    outlet = site.outlet()
    today = outlet.start_date + dt.timedelta(days=3)
    assert revisit.horizon(outlet, today) == [today - dt.timedelta(days=n) for n in (1, 2, 3)]
    assert revisit.horizon(outlet, DAY + dt.timedelta(days=1)) == [
        DAY - dt.timedelta(days=n) for n in range(7)]


def test_an_unchanged_page_without_validators_is_fetched_but_not_parsed(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    hits = site.hits[STORY]

    figures = revisit.revisit_day(RunSpec(outlet, DAY, "revisit", lake))

    assert site.hits[STORY] == hits + 1
    assert (figures["requested"], figures["unchanged"], figures["changed"]) == (1, 1, 0)
    assert figures["reparsed_rows"] == 0 and figures["revised"] == 0
    assert rows(lake, "articles") == before, "the row is the first run's, run_id included"
    assert rows(lake, "revisions") == []


def test_a_revisit_of_a_day_not_ingested_is_skipped(site: SmallSite, lake: str) -> None:
    figures = revisit.revisit_day(RunSpec(site.outlet(), DAY, "revisit", lake))
    assert figures == {"outlet": "small_gazette", "date": DAY.isoformat(),
                       "skipped": "not ingested"}
    assert site.hits[STORY] == 0 and not (Path(lake) / "articles").exists()


def test_a_changed_page_that_no_longer_parses_keeps_its_row_and_quarantine_says_why(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    before = rows(lake, "articles")
    site.pages[STORY] = Reply(body=b"<html><body><p>Moved.</p></body></html>", headers=HTML)

    for n in (1, 2):  # the second revisit finds the same bytes: no parse, the note stays
        figures = revisit.revisit_day(RunSpec(outlet, DAY, f"revisit-{n}", lake))
        assert rows(lake, "articles") == before
        noted = rows(lake, "quarantine")
        assert [(r["url"], r["failed_checks"][0].split(":")[0]) for r in noted] == [
            (site.url(STORY), "parse")]
        assert figures["changed"] == (1 if n == 1 else 0)


def test_a_revisit_leaves_a_day_another_run_published_meanwhile(
    site: SmallSite, lake: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    edit(site)
    validate = revisit.validate_step

    def validate_then_ingest(spec: RunSpec, parsed: list[Parsed]) -> Validated:
        summary = validate(spec, parsed)
        run_lib_day(RunSpec(outlet, DAY, "ingest-rerun", lake))  # publishes the day
        return summary

    monkeypatch.setattr(revisit, "validate_step", validate_then_ingest)
    figures = revisit.revisit_day(RunSpec(outlet, DAY, "revisit", lake))

    assert figures["busy"] is True and "revised" not in figures
    assert {r["run_id"] for r in rows(lake, "articles")} == {"ingest-rerun"}
    assert [r["revision"] for r in rows(lake, "articles")] == [2]
    assert not (Path(lake) / "_staging" / "outlet=small_gazette" / DAY.isoformat()
                / "revisit").exists()


def test_a_run_that_validated_before_a_revisit_published_cannot_drop_its_revision(
    site: SmallSite, lake: str
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    slow = RunSpec(outlet, DAY, "slow-rerun", lake)
    found = discover_step(slow)
    fetched = [fetch_step(slow, chunk) for chunk in found["chunks"]]
    validated = validate_step(slow, [parse_step(slow, f) for f in fetched])

    edit(site)
    figures = revisit.revisit_day(RunSpec(outlet, DAY, "revisit", lake))
    assert figures["revised"] == 1
    published = rows(lake, "articles"), rows(lake, "revisions")

    with pytest.raises(ShrinkError, match="1 of 1 rows of revisions/ would leave it"):
        publish_step(slow, validated, fetched, found["discovery"])
    assert (rows(lake, "articles"), rows(lake, "revisions")) == published
    assert [r["revision"] for r in published[0]] == [2]
    assert [r["revision"] for r in published[1]] == [1]


@pytest.mark.parametrize("text", [None, EDITED], ids=["same-text", "edited"])
def test_a_revisit_of_a_page_whose_canonical_url_moved_keeps_one_row_and_the_alias(
    site: SmallSite, lake: str, text: str | None
) -> None:
    outlet = site.outlet()
    run_lib_day(RunSpec(outlet, DAY, "first", lake))
    (before,) = rows(lake, "articles")
    moved = site.url("/news/bike-lanes-approved-for-northern-districts")
    published = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    page = article_html(TITLE, published, *([text] if text else []))
    site.pages[STORY] = Reply(body=page.replace(
        b"</head>", f'<link rel="canonical" href="{moved}"></head>'.encode()), headers=HTML)

    for n in (1, 2):  # the second revisit finds the same bytes: nothing more
        figures = revisit.revisit_day(RunSpec(outlet, DAY, f"revisit-{n}", lake))
        (after,) = rows(lake, "articles")
        assert (after["url"], after["article_id"]) == (moved, sha256_hex(moved))
        assert after["revision"] == (2 if text else 1)
        (alias,) = rows(lake, "aliases")
        assert (alias["old_article_id"], alias["old_url"], alias["article_id"]) == (
            before["article_id"], before["url"], after["article_id"])
        assert (figures["changed"], figures["reparsed_rows"]) == ((1, 1) if n == 1 else (0, 0))
    assert [r["article_id"] for r in rows(lake, "revisions")] == (
        [before["article_id"]] if text else [])
    assert rows(lake, "quarantine") == []
