"""The HTML report and the Data Docs, over a lake built by the pipeline from the demo newsroom.

The lake: two outlets over three days, one day with two dead links (fetch failures), and
one run whose batch gate fails (kept GX results, no manifest). Built with the library's
step functions directly: no Airflow needed. The report is rendered in headless Chromium
(a missing Chromium fails the test and names it: ``helpers.prereqs``); the screenshot is
kept under the test's tmp dir and copied to ``$NEWSLAKE_ARTIFACTS`` when that is set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
from helpers.clock import TODAY
from helpers.prereqs import needs

from newslake import lake as lake_paths
from newslake.cli import main as cli_main
from newslake.config import Outlet, load_outlets
from newslake.datadocs import build_datadocs
from newslake.pipeline import (
    RunSpec,
    discover_step,
    fetch_step,
    parse_step,
    publish_step,
    run_day,
    validate_step,
)
from newslake.report import build_report, day_stats, load_runs, write_report
from newslake.validate import BatchValidationError

pytestmark = pytest.mark.timeout(300)
CHROMIUM = Path("/usr/bin/chromium")
OUTLETS = ("demo_bayside_press", "demo_metro_ledger")
DEAD_LINKS = 2


def _run_with_dead_links(spec: RunSpec) -> dict[str, object]:
    """A day where the outlet linked two pages that answer 404."""
    found = discover_step(spec)
    first = found["chunks"][0]["urls"]
    dead = [f"{spec.outlet.base_url.rstrip('/')}/no-such-story-{i}" for i in range(DEAD_LINKS)]
    lake_paths.write_json(first, json.loads(Path(first).read_text()) + dead)
    discovery = {**found["discovery"],
                 "discovered": found["discovery"]["discovered"] + DEAD_LINKS}
    fetched = [fetch_step(spec, c) for c in found["chunks"]]
    validated = validate_step(spec, [parse_step(spec, f) for f in fetched])
    return publish_step(spec, validated, fetched, discovery)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class BuiltLake:
    uri: str
    days: list[dt.date]
    failed_day: dt.date
    dead_link_day: dt.date
    manifests: list[dict[str, object]]


@pytest.fixture(scope="module")
def built_lake(demo_site: str, tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    uri = str(tmp_path_factory.mktemp("report") / "lake")
    outlets: dict[str, Outlet] = load_outlets()  # after demo_site set NEWSLAKE_DEMO_URL
    today = TODAY
    days = [today - dt.timedelta(days=n) for n in (4, 3, 2)]
    manifests = []
    for outlet_id in OUTLETS:
        for day in days:
            spec = RunSpec(outlets[outlet_id], day, f"scheduled__{day}T00:00:00+00:00", uri)
            if outlet_id == "demo_metro_ledger" and day == days[1]:
                manifests.append(_run_with_dead_links(spec))
            else:
                manifests.append(run_day(spec))
    # A day whose batch gate fails: its GX results are kept, nothing is published.
    failed_day = today - dt.timedelta(days=5)
    bayside = outlets["demo_bayside_press"]
    strict = dataclasses.replace(
        bayside, validation=dataclasses.replace(bayside.validation, min_rows=1000))
    with pytest.raises(BatchValidationError, match="row_count"):
        run_day(RunSpec(strict, failed_day, f"scheduled__{failed_day}T00:00:00+00:00", uri))
    return BuiltLake(uri, days, failed_day, days[1], manifests)


def test_runs_and_day_stats_come_from_manifests_and_partitions(built_lake: BuiltLake) -> None:
    runs = load_runs(built_lake.uri)
    assert len(runs) == len(OUTLETS) * len(built_lake.days) + 1
    failed = [r for r in runs if r.status != "published"]
    assert len(failed) == 1
    assert failed[0].status == "failed" and failed[0].day == built_lake.failed_day.isoformat()
    assert any("row_count" in f for f in failed[0].batch_failures)
    assert failed[0].validation_file and failed[0].written is None

    stats = day_stats(built_lake.uri, runs)
    for manifest in built_lake.manifests:
        day = stats[(str(manifest["outlet"]), str(manifest["date"]))]
        assert day.articles == manifest["written"]
        assert day.quarantined == manifest["quarantined"]
        assert day.fetch_failed == manifest["fetch_failed"]
    dead = stats[("demo_metro_ledger", built_lake.dead_link_day.isoformat())]
    assert dead.fetch_failed == DEAD_LINKS and dead.quarantined >= DEAD_LINKS
    assert (  # the failed run published nothing
        ("demo_bayside_press", built_lake.failed_day.isoformat()) not in stats
    )


def test_report_page_is_self_contained(built_lake: BuiltLake) -> None:
    page = build_report(built_lake.uri)
    assert "<script" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page), "no external refs"
    assert "@import" not in page and "url(" not in page
    doc = lxml.html.fromstring(page)
    assert doc.xpath('//svg[@id="chart-articles"]//rect[@class="bar"]')
    assert doc.xpath('//svg[@id="chart-quarantine"]//circle[@class="point"]')
    assert len(doc.xpath('//svg[@id="chart-fetch-failures"]//rect[@class="bar"]')) == 1


def test_cli_writes_report_and_datadocs(built_lake: BuiltLake, tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.html"
    docs = tmp_path / "docs"
    assert cli_main(["report", "--lake", built_lake.uri, "--out", str(out), "--days", "3"]) == 0
    assert cli_main(["datadocs", "--lake", built_lake.uri, "--out", str(docs)]) == 0
    doc = lxml.html.fromstring(out.read_text())
    # --days 3 leaves out the failed day's date: the charts show the 3 newest days only.
    labels = doc.xpath('//svg[@id="chart-articles"]/text/text()')
    assert f"{built_lake.days[0]:%m-%d}" in labels
    assert f"{built_lake.failed_day:%m-%d}" not in labels
    assert (docs / "index.html").exists()


def test_empty_and_remote_lakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = str(tmp_path / "empty-lake")
    page = build_report(empty)
    assert "No runs in this lake yet" in page and "No articles in this window" in page
    index = build_datadocs(empty, tmp_path / "docs")
    assert "No validation results kept" in index.read_text()


def test_datadocs_list_runs_and_name_failed_checks(built_lake: BuiltLake, tmp_path: Path) -> None:
    index = build_datadocs(built_lake.uri, tmp_path / "docs")
    doc = lxml.html.fromstring(index.read_text())
    rows = doc.xpath('//table[@id="runs"]/tbody/tr')
    assert len(rows) == len(OUTLETS) * len(built_lake.days) + 1
    failed = [r for r in rows if "failed" in r.get("class")]
    assert len(failed) == 1 and "row_count" in failed[0].text_content()
    for row in rows:  # every run has its page, and the page names the failed checks
        href = row.xpath(".//a/@href")[0]
        run_page = lxml.html.fromstring((index.parent / href).read_text())
        checks = run_page.xpath('//table[@id="checks"]/tbody/tr')
        assert len(checks) >= 3
        shown_failed = {c.xpath("./td[2]")[0].text_content() for c in checks
                        if "failed" in c.get("class")}
        for name in shown_failed:
            assert name in row.text_content(), "the index names every failed check of the run"
        assert run_page.xpath('//a[@href="../../../index.html"]')
    dead = next(r for r in rows if "demo_metro_ledger" in r.text_content()
                and built_lake.dead_link_day.isoformat() in r.text_content())
    assert "http_status_ok" not in dead.text_content()  # 404s are quarantined before GX


# --- headless Chromium ----------------------------------------------------------------------

def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,2000", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def _png_summary(path: Path) -> tuple[int, int, int]:
    """Width, height and the number of distinct byte values in the pixel data."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += length + 12
    return width, height, len(set(zlib.decompress(idat)))


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "chromium-profile"
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_report_renders_in_headless_chromium(
    built_lake: BuiltLake, tmp_path: Path, profile: Path
) -> None:
    needs(None if CHROMIUM.exists()
          else "headless Chromium not installed (scripts/system-deps.sh installs it)")
    page = write_report(built_lake.uri, tmp_path / "report.html")
    url = page.resolve().as_uri()
    dom = lxml.html.fromstring(_chromium(["--dump-dom", url], profile).stdout)

    stats = day_stats(built_lake.uri, load_runs(built_lake.uri))
    bars = dom.xpath('//svg[@id="chart-articles"]//rect[@class="bar"]')
    assert len(bars) == sum(1 for s in stats.values() if s.articles) > 0
    points = dom.xpath('//svg[@id="chart-quarantine"]//circle[@class="point"]')
    assert len(points) == sum(1 for s in stats.values() if s.quarantine_rate is not None) > 0
    failures = dom.xpath('//svg[@id="chart-fetch-failures"]//rect[@class="bar"]')
    assert len(failures) == 1
    assert f"{DEAD_LINKS} fetch failures" in failures[0].text_content()
    rows = dom.xpath('//table[@id="runs"]/tbody/tr')
    assert len(rows) == len(OUTLETS) * len(built_lake.days) + 1
    assert [r for r in rows if "failed" in r.get("class")][0].xpath("./td[2]/text()") == [
        "demo_bayside_press"]
    for bar in bars:
        assert float(bar.get("height")) > 0 and float(bar.get("width")) > 0

    shot = tmp_path / "report.png"
    _chromium([f"--screenshot={shot}", url], profile)
    width, height, distinct = _png_summary(shot)
    assert (width, height) == (1280, 2000)
    assert distinct > 50, "the screenshot is not a blank page"
    artifacts = os.environ.get("NEWSLAKE_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "report.png")
        shutil.copy(page, Path(artifacts) / "report.html")
