"""What a run left in the lake, as a table a person can read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from newslake import lake


@dataclass(frozen=True)
class DaySummary:
    outlet: str
    day: dt.date
    written: int
    quarantined: int
    run_id: str


def latest_manifests(
    lake_uri: str, outlet_ids: list[str], days: list[dt.date],
    storage: Mapping[str, str] | None = None,
) -> list[DaySummary]:
    """The newest manifest of each outlet-day, in outlet then date order (any lake)."""
    rows = []
    for outlet_id in outlet_ids:
        for day in days:
            manifests = lake.list_manifest_uris(lake_uri, outlet_id, day, storage)
            if not manifests:
                continue
            data = lake.read_json(manifests[-1], storage)
            rows.append(
                DaySummary(outlet_id, day, data["written"], data["quarantined"], data["run_id"])
            )
    return rows


def format_table(rows: list[DaySummary]) -> str:
    header = f"{'outlet':<22} {'date':<10} {'articles':>8} {'quarantined':>11}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.outlet:<22} {r.day.isoformat():<10} {r.written:>8} {r.quarantined:>11}")
    total_w = sum(r.written for r in rows)
    total_q = sum(r.quarantined for r in rows)
    lines.append("-" * len(header))
    lines.append(f"{'total':<22} {'':<10} {total_w:>8} {total_q:>11}")
    return "\n".join(lines)


def duplicate_article_ids(lake_uri: str, storage: Mapping[str, str] | None = None) -> int:
    """Article ids that occur more than once across the whole ``articles/`` zone."""
    articles = lake.dataset(lake_uri, "articles", storage)
    if articles is None:
        return 0
    ids = articles.to_table(columns=["article_id"])
    column = ids.column("article_id")
    return len(column) - len(column.unique())
