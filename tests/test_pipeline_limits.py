"""Limits of one run: how many fetch chunks a day makes, and what a run leaves behind."""

from __future__ import annotations

import datetime as dt
import json
import logging
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
        politeness=Politeness(requests_per_second=500.0, allow_private_addresses=True),
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
        chunks = discover_step(spec, chunk_size=5, max_chunks=4)
    sizes = [len(json.loads(Path(c).read_text())) for c in chunks]
    assert sizes == [8, 8, 8, 6]
    assert any("30 URLs would make more than 4 chunks of 5" in r.getMessage()
               for r in caplog.records)
    assert json.loads((spec.staging / "discovered.json").read_text())["chunks"] == 4
