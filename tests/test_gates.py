"""The batch gate judges what the parser and validation did to the pages fetched.

An outlet-day served by a loopback site, run through ``newslake run`` (the library,
no Airflow): robots.txt skips, 404s and network failures are counted apart from the
quarantine share, a small day's shares are not judged, and a rejected day ends in one
line naming the check and its value, with no staging left behind.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.loopback import Loopback, Reply

from newslake.cli import main as cli_main

pytestmark = pytest.mark.timeout(120)
DAY = dt.date(2026, 6, 15)
PARAGRAPH = ("The city council voted on Monday to approve a new budget for road repairs, "
             "after a long debate about the cost of the harbour bridge and the schools. ")
ARTICLE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Council approves the road budget - Gate Gazette</title>
<meta property="article:published_time" content="{DAY}T10:00:00+00:00">
<meta name="author" content="Jane Doe"></head><body>
<article><h1>Council approves the road budget</h1>
{"".join(f"<p>{PARAGRAPH.replace('Monday', f'day {n}')}</p>" for n in range(8))}
</article></body></html>""".encode()
LINKS = ("/news/good", "/news/gone", "/private/kept-out")
FEED = ("<?xml version='1.0'?><rss version='2.0'><channel><title>Gate Gazette</title>"
        + "".join(f"<item><title>{p}</title><link>{{base}}{p}</link>"
                  f"<pubDate>Mon, 15 Jun 2026 10:00:00 GMT</pubDate></item>" for p in LINKS)
        + "</channel></rss>")


@pytest.fixture
def gazette() -> Iterator[Loopback]:
    """Three links for the day: one good article, one 404, one robots.txt keeps out."""
    with Loopback({
        "/robots.txt": Reply(body=b"User-agent: *\nDisallow: /private/\n"),
        "/news/good": Reply(body=ARTICLE, headers={"Content-Type": "text/html; charset=utf-8"}),
    }) as site:
        site.routes["/feed.xml"] = Reply(
            body=FEED.replace("{base}", site.base).encode(),
            headers={"Content-Type": "application/rss+xml"})
        yield site


def _outlet(site: Loopback, folder: Path, validation: str = "{}") -> None:
    folder.mkdir(exist_ok=True)
    (folder / "gates.yaml").write_text(f"""id: gates
name: Gate Gazette
base_url: {site.base}/
language: en
timezone: UTC
start_date: 2026-01-01
discovery:
  - {{type: rss, url: "{site.base}/feed.xml"}}
politeness: {{allow_private_addresses: [127.0.0.1/32], requests_per_second: 100}}
validation: {validation}
""", encoding="utf-8")


def _manifest(lake: Path) -> dict[str, object]:
    (path,) = [p for p in (lake / "_runs" / "outlet=gates" / f"date={DAY}").glob("*.json")
               if not p.name.endswith(".validation.json")]
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_robots_skip_and_404_do_not_reject_a_small_day(
    gazette: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _outlet(gazette, tmp_path / "outlets")
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path / "outlets"))
    lake = tmp_path / "lake"
    code = cli_main(["run", "--outlet", "gates", "--date", str(DAY), "--lake", str(lake)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "gates 2026-06-15: 1 articles, 2 quarantined" in out.out
    assert gazette.hits["/private/kept-out"] == 0
    manifest = _manifest(lake)
    assert (manifest["written"], manifest["skipped_robots"]) == (1, 1)
    batch = manifest["batch"]
    assert isinstance(batch, dict)
    assert (batch["robots_skipped"], batch["http_errors"], batch["network_errors"]) == (1, 1, 0)
    assert (batch["pages_requested"], batch["pages_judged"]) == (2, 1)
    assert (batch["quarantine_share"], batch["fetch_failure_share"]) == (0.0, 0.5)
    assert not (lake / "_staging").exists() or not any((lake / "_staging").rglob("*.*"))


def test_a_rejected_day_says_why_in_one_line_and_leaves_no_staging(
    gazette: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Every fetched page refused by validation, and the share judged from one page on.
    _outlet(gazette, tmp_path / "outlets", "{min_words: 5000, min_batch_size: 1}")
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path / "outlets"))
    lake = tmp_path / "lake"
    code = cli_main(["run", "--outlet", "gates", "--date", str(DAY), "--lake", str(lake)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("newslake run: gates 2026-06-15: batch checks failed: "
                          "quarantine_share (quarantine_share=1.0)"), err
    assert not (lake / "articles").exists(), "a rejected day publishes nothing"
    assert list((lake / "_staging").rglob("*.*")) == [] if (lake / "_staging").exists() else True


def test_a_run_killed_after_its_swap_is_reported_published(
    gazette: Loopback, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """publish_step swaps the partitions, then writes the manifest: a kill in between
    leaves live rows and only the GX results in ``_runs/``. The report must not call
    that run unpublished (issue 15.11)."""
    from newslake.report import load_runs

    _outlet(gazette, tmp_path / "outlets")
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(tmp_path / "outlets"))
    lake = tmp_path / "lake"
    assert cli_main(["run", "--outlet", "gates", "--date", str(DAY), "--lake", str(lake),
                     "--run-id", "killed_after_swap"]) == 0
    (lake / "_runs" / "outlet=gates" / f"date={DAY}" / "killed_after_swap.json").unlink()
    (run,) = load_runs(str(lake))
    assert (run.run_id, run.status, run.written, run.quarantined) == (
        "killed_after_swap", "published", 1, 2)
