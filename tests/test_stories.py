"""``newslake.stories`` on a small local lake: the window, the tie-break, parameters and
removed partitions (the DAG and the demo newsroom's copies: test_stories_dag.py)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from test_stories_dag import _publish

from newslake import lake, stories
from newslake.errors import NewslakeError
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

pytestmark = pytest.mark.timeout(120)

DAY = dt.date(2025, 3, 10)
WORDS = [f"word{i}" for i in range(3000)]


def _body(seed: int, words: int = 250) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(words)) + "."


def _put(lake_uri: str, outlet: str, day: dt.date, bodies: dict[str, str],
         at: dt.time = dt.time(12)) -> None:
    rows = [Article(url=f"https://{outlet}.example/{slug}", title=slug, body=body,
                    published_at=dt.datetime.combine(day, at, dt.UTC), outlet=outlet,
                    fetched_url=f"https://{outlet}.example/{slug}", authors=["A"],
                    fetched_at=dt.datetime.combine(day, at, dt.UTC), parser="t@1",
                    run_id="t").to_row() for slug, body in bodies.items()]
    _publish(lake_uri, outlet, day, rows_to_table(rows, ARTICLE_FILE_SCHEMA))


def _update(lake_uri: str, **kwargs: object) -> list[str]:
    for outlet, day in stories.stale_signatures(lake_uri):
        stories.build_signatures(lake_uri, outlet, day)
    return [m["date"] for m in stories.build_stories(lake_uri, **kwargs)]  # type: ignore[arg-type]


def _by_title(lake_uri: str, *days: dt.date) -> dict[str, dict[str, object]]:
    return {r["title"]: r for d in days for r in stories.read_day(lake_uri, d).to_pylist()}


def test_same_time_copies_take_the_smaller_article_id_as_the_original(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    _put(root, "alpha", DAY, {"a": _body(1), "other": _body(2)})
    _put(root, "beta", DAY, {"b": _body(1)})  # same text, same minute, another outlet
    _update(root)
    rows = _by_title(root, DAY)
    first, second = sorted(("a", "b"), key=lambda t: str(rows[t]["article_id"]))
    assert rows[first]["kind"] == "original" and rows[first]["story_id"] == rows[first][
        "article_id"]
    assert rows[second]["story_id"] == rows[first]["article_id"]
    assert rows[second]["kind"] == "near_identical" and rows[second]["similarity"] == 1.0
    assert rows["other"]["kind"] == "original"


def test_the_window_bounds_how_far_back_a_copy_is_matched(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    later = DAY + dt.timedelta(days=3)
    _put(root, "alpha", DAY, {"old": _body(1)})
    _put(root, "beta", later, {"again": _body(1)})
    assert _update(root, window_days=3) == [DAY.isoformat(), later.isoformat()]
    assert _by_title(root, later)["again"]["kind"] == "original", "3 days back is outside"
    # A new window is a new parameter: every day is rebuilt, and now they are one story.
    assert _update(root, window_days=4) == [DAY.isoformat(), later.isoformat()]
    rows = _by_title(root, DAY, later)
    assert rows["again"]["story_id"] == rows["old"]["article_id"]
    assert rows["again"]["first_outlet"] == "alpha"
    assert _update(root, window_days=4) == []


def test_a_removed_articles_partition_takes_its_signatures_and_stories(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    _put(root, "alpha", DAY, {"a": _body(1)})
    _update(root)
    assert stories.read_day(root, DAY).num_rows == 1
    lake.remove_tree(lake.partition_uri(root, "articles", "alpha", DAY))
    assert stories.stale_signatures(root) == [("alpha", DAY)]
    assert _update(root) == [DAY.isoformat()]
    assert stories.read_day(root, DAY).num_rows == 0
    assert stories.signature_partitions(root) == {}
    assert not lake.exists(stories.manifest_uri(root, DAY))


def test_parameters_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NewslakeError, match="window_days 0"):
        stories.build_stories(str(tmp_path), window_days=0)
    with pytest.raises(NewslakeError, match="threshold 1.5"):
        stories.build_stories(str(tmp_path), threshold=1.5)


def test_the_report_charts_the_days_largest_stories(tmp_path: Path) -> None:
    from newslake import report, report_stories

    root = str(tmp_path / "lake")
    _put(root, "alpha", DAY, {"wire": _body(1), "solo": _body(3)}, at=dt.time(8))
    _put(root, "beta", DAY, {"copy-b": _body(1), "other": _body(2)})
    _put(root, "gamma", DAY, {"copy-g": _body(1), "other-g": _body(2)}, at=dt.time(13))
    _update(root)
    assert [(s.title, s.articles, s.outlets) for s in report_stories.largest(root, DAY)] == [
        ("wire", 3, 3), ("other", 2, 2)]
    page = report.build_report(root)
    assert 'id="chart-stories" data-marks="2"' in page
    assert "wire · 3 outlets" in page and "solo" not in page.split('id="chart-stories"')[1]
    empty = str(tmp_path / "empty")
    _put(empty, "alpha", DAY, {"solo": _body(3)})
    assert 'class="empty" id="chart-stories"' in report.build_report(empty)
