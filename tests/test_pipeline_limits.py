"""Limits of one run: how many fetch chunks a day makes, and what a run leaves behind."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path

import pytest
from helpers.loopback import Loopback, Reply

from newslake.config import DiscoverySource, Outlet, Politeness
from newslake.pipeline import RunSpec, chunk_size_for, discover_step

pytestmark = pytest.mark.timeout(60)
DAY = dt.date(2026, 6, 15)


def _outlet(site: Loopback, urls: int) -> Outlet:
    entries = "".join(f"<url><loc>{site.url(f'/news/{n}')}</loc><lastmod>{DAY}</lastmod></url>"
                      for n in range(urls))
    site.routes["/sitemap.xml"] = Reply(
        body=f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        .encode(), headers={"Content-Type": "application/xml"})
    return Outlet(
        id="limits", name="Limits", base_url=site.url("/"), language="en", timezone="UTC",
        start_date=dt.date(2026, 1, 1),
        discovery=(DiscoverySource("sitemap", url=site.url("/sitemap.xml")),),
        politeness=Politeness(requests_per_second=500.0, allow_private_addresses=("127.0.0.1/32",)),
    )


@pytest.mark.parametrize(("urls", "size", "limit", "expected"), [
    (55_000, 50, 1024, 54),  # the day: 1,100 chunks of 50 → 1,019 of 54
    (200_000, 50, 1024, 196),
    (51_200, 50, 1024, 50),  # exactly at the limit: unchanged
    (10, 50, 1024, 50),
    (10, 50, None, 50),
])
def test_chunks_grow_to_stay_within_the_mapping_limit(
    urls: int, size: int, limit: int | None, expected: int
) -> None:
    grown = chunk_size_for(urls, size, limit)
    assert grown == expected
    assert limit is None or -(-urls // grown) <= limit


def test_a_day_bigger_than_the_mapping_limit_makes_no_more_chunks(
    site: Loopback, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec = RunSpec(_outlet(site, 30), DAY, "limits__1", str(tmp_path / "lake"))
    with caplog.at_level(logging.WARNING, logger="newslake.pipeline"):
        found = discover_step(spec, chunk_size=5, max_chunks=4)
    sizes = [len(json.loads(Path(c["urls"]).read_text())) for c in found["chunks"]]
    assert sizes == [c["size"] for c in found["chunks"]] == [8, 8, 8, 6]
    assert any("30 URLs would make more than 4 chunks of 5" in r.getMessage()
               for r in caplog.records)
    assert found["discovery"]["chunks"] == 4


def _stage_files(folder: Path, mtime: float | None) -> None:
    for name in ("chunks/00000.json", "raw/00000.warc.gz", "parsed/00000.parquet.tmp"):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        if mtime is not None:
            os.utime(path, (mtime, mtime))


def test_a_run_start_collects_stale_staging_of_killed_and_failed_runs(
    site: Loopback, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lake = tmp_path / "lake"
    staging = lake / "_staging" / "outlet=limits"
    long_ago = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()
    _stage_files(staging / "2026-06-10" / "killed_run", long_ago)  # SIGKILLed months ago
    _stage_files(staging / "2026-06-11" / "failed_batch", long_ago)
    _stage_files(staging / "2026-06-14" / "running_now", None)  # another run, still going
    _stage_files(lake / "_staging" / "outlet=other" / "2026-06-10" / "theirs", long_ago)
    spec = RunSpec(_outlet(site, 3), DAY, "limits__2", str(lake))
    with caplog.at_level(logging.WARNING, logger="newslake.pipeline"):
        discover_step(spec)
    assert sorted(p.name for p in staging.iterdir()) == ["2026-06-14", str(DAY)]
    assert (staging / "2026-06-14" / "running_now" / "raw" / "00000.warc.gz").exists()
    assert (lake / "_staging" / "outlet=other" / "2026-06-10" / "theirs").exists()
    assert sum("removed stale staging" in r.getMessage() for r in caplog.records) == 2


def test_two_cli_runs_in_the_same_second_get_their_own_run_ids() -> None:
    from newslake.cli import new_run_id

    ids = {new_run_id("cli") for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("cli__") for i in ids)


@pytest.mark.timeout(30)
def test_a_stuck_runner_is_killed_at_its_deadline_though_it_prints_nothing() -> None:
    """``newslake demo --quick`` waits for its DAG.test() child with a timeout; it was
    checked only when the child printed, so a stuck child outlived it."""
    import sys

    from newslake.airflow_local import collect_results

    seen: list[dict[str, object]] = []
    code = "import json, time; print(json.dumps({'n': 1}), flush=True); time.sleep(600)"
    with pytest.raises(TimeoutError, match="child killed"):
        collect_results([sys.executable, "-c", code], dict(os.environ), 2.0, seen.append)
    assert seen == [{"n": 1}]
    # A child that fails names its exit code and stderr.
    with pytest.raises(RuntimeError, match="exited with 3:\n.*boom"):
        collect_results([sys.executable, "-c",
                         "import sys; print('boom', file=sys.stderr); sys.exit(3)"],
                        dict(os.environ), 20.0, seen.append)
