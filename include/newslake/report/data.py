"""Reading the lake for the report and the Data Docs: the runs ``_runs/`` remembers (their
manifests, or only their kept Great Expectations results) and the rows each outlet-day
holds, counted from the Parquet footers of ``articles/`` and ``quarantine/`` (no data
page is read). Works on a local and an ``s3://`` lake.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from newslake import lake
from newslake.errors import NewslakeError

__all__ = [
    "DayStats", "RunRecord", "coverage_series", "day_stats", "day_window", "live_rows",
    "load_runs", "local_root", "partition_rows", "s3_storage",
]


@dataclass(frozen=True)
class RunRecord:
    """One run as the lake remembers it: its manifest, or only its kept GX results."""

    outlet: str
    day: str
    run_id: str
    status: str  # "published", "failed" (batch checks failed) or "unpublished"
    finished_at: str
    discovered: int | None
    fetch_failed: int | None
    written: int | None
    quarantined: int | None
    failed_checks: dict[str, int] = field(default_factory=dict)
    batch_failures: tuple[str, ...] = ()
    batch_warnings: tuple[str, ...] = ()  # checks set to warn that fired (drift, …)
    seconds: float | None = None
    validation_file: str | None = None  # relative to the lake
    profile: dict[str, Any] | None = None  # extraction profile (newslake.drift)


@dataclass
class DayStats:
    articles: int = 0
    quarantined: int = 0
    fetch_failed: int = 0

    @property
    def quarantine_rate(self) -> float | None:
        total = self.articles + self.quarantined
        return self.quarantined / total if total else None


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _mtime_iso(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat()


def _seconds(manifest: Mapping[str, Any]) -> float | None:
    """Recorded time of a run: the manifest's ``seconds`` (the steps it timed), summed."""
    seconds = manifest.get("seconds")
    if isinstance(seconds, Mapping):
        values = [float(v) for v in seconds.values() if isinstance(v, int | float)]
        return round(sum(values), 3) if values else None
    return float(seconds) if isinstance(seconds, int | float) else None


_MIRRORS: dict[str, Path] = {}


def s3_storage(storage: Mapping[str, str] | None) -> Mapping[str, str]:
    """``storage`` when given (e.g. from the DAGs' Airflow connection), else the
    environment's S3 settings (``newslake.settings.storage_from_env``)."""
    from newslake.settings import storage_from_env

    return storage_from_env() if storage is None else storage


def local_root(lake_uri: str, storage: Mapping[str, str] | None = None) -> Path:
    """A local folder holding the lake's ``_runs/``: the lake itself, or for an ``s3://``
    lake a mirror of its (small) manifests and GX results, made once per process.
    ``storage``: S3 options (default: from the environment, ``s3_storage``)."""
    if not lake.is_s3(lake_uri):
        return lake.lake_root(lake_uri)
    if lake_uri not in _MIRRORS:
        import atexit
        import shutil
        import tempfile

        import pyarrow.fs as pafs

        mirror = Path(tempfile.mkdtemp(prefix="newslake-report-"))
        atexit.register(shutil.rmtree, mirror, True)
        runs = lake.join(lake_uri, "_runs")
        fs, path = lake.filesystem(runs, s3_storage(storage))
        try:
            if fs.get_file_info(path).type != pafs.FileType.NotFound:
                pafs.copy_files(path, str(mirror / "_runs"), source_filesystem=fs,
                                destination_filesystem=pafs.LocalFileSystem())
        except OSError as exc:
            raise NewslakeError(f"{lake_uri}: cannot read its _runs/: {exc}") from exc
        _MIRRORS[lake_uri] = mirror
    return _MIRRORS[lake_uri]


def load_runs(lake_uri: str, storage: Mapping[str, str] | None = None) -> list[RunRecord]:
    """Every run in ``_runs/``, oldest first (by finish time)."""
    root = local_root(lake_uri, storage)
    runs: list[RunRecord] = []
    for folder in sorted((root / "_runs").glob("outlet=*/date=*")):
        outlet = folder.parent.name.removeprefix("outlet=")
        day = folder.name.removeprefix("date=")
        results = {p.name.removesuffix(".validation.json"): p
                   for p in folder.glob("*.validation.json")}
        for path in sorted(folder.glob("*.json")):
            if path.name.endswith(".validation.json"):
                continue
            data = _read_json(path)
            ref = results.get(path.stem)
            runs.append(RunRecord(
                outlet=outlet, day=day, run_id=str(data.get("run_id", path.stem)),
                status="published",
                finished_at=str(data.get("finished_at") or _mtime_iso(path)),
                discovered=data.get("discovered"), fetch_failed=data.get("fetch_failed"),
                written=data.get("written"), quarantined=data.get("quarantined"),
                failed_checks=dict(data.get("failed_checks") or {}),
                seconds=_seconds(data),
                validation_file=str(ref.relative_to(root)) if ref else None,
                profile=data.get("profile"),
                batch_warnings=tuple(data.get("batch_warnings") or ()),
            ))
        for stem, ref in sorted(results.items()):
            if (folder / f"{stem}.json").exists():
                continue
            # GX results without a manifest: the batch gate failed, publish never ran, or
            # the run was killed after its swaps and before its manifest (its rows are
            # live: they carry its run id).
            summary = _read_json(ref).get("summary", {})
            failures = tuple(summary.get("batch_failures") or ())
            counts = summary.get("counts") or {}
            live = None if failures else live_rows(
                lake_uri, outlet, day, str(summary.get("run_id", stem)), storage)
            runs.append(RunRecord(
                outlet=outlet, day=day, run_id=str(summary.get("run_id", stem)),
                status="failed" if failures else "published" if live else "unpublished",
                finished_at=_mtime_iso(ref), discovered=None,
                fetch_failed=counts.get("fetch_failed", 0) if counts else None,
                written=live[0] if live else None, quarantined=live[1] if live else None,
                failed_checks=dict(summary.get("failed_checks") or {}),
                batch_failures=failures, seconds=summary.get("seconds"),
                validation_file=str(ref.relative_to(root)),
                profile=summary.get("profile"),
            ))
    runs.sort(key=lambda r: (r.finished_at, r.outlet, r.day))
    return runs


def live_rows(lake_uri: str, outlet: str, day: str, run_id: str,
              storage: Mapping[str, str] | None = None) -> tuple[int, int] | None:
    """(articles, quarantined) rows of the outlet-day's live partitions that ``run_id``
    wrote, or None when neither partition holds a row of it."""
    s3 = s3_storage(storage) if lake.is_s3(lake_uri) else None
    found = []
    for zone in ("articles", "quarantine"):
        location = lake.join(lake.partition_uri(lake_uri, zone, outlet, dt.date.fromisoformat(day)),
                             lake.PARQUET_FILE)
        if not lake.exists(location, s3):
            found.append(0)
            continue
        fs, path = lake.filesystem(location, s3)
        ids = pq.read_table(path, columns=["run_id"], filesystem=fs).column("run_id")
        found.append(sum(1 for value in ids.to_pylist() if value == run_id))
    return (found[0], found[1]) if any(found) else None


def partition_rows(lake_uri: str, zone: str,
                   storage: Mapping[str, str] | None = None) -> dict[tuple[str, str], int]:
    """Rows per (outlet, date) partition of a zone, from the Parquet footers."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    if lake.is_s3(lake_uri):  # footers read in place: a few KB a partition
        import pyarrow.fs as pafs

        fs, base = lake.filesystem(lake.join(lake_uri, zone), s3_storage(storage))
        if fs.get_file_info(base).type == pafs.FileType.NotFound:
            return {}
        for info in fs.get_file_info(pafs.FileSelector(base, recursive=True)):
            parts = info.path.split("/")
            if info.is_file and info.base_name.endswith(".parquet") and len(parts) >= 3:
                key = (parts[-3].removeprefix("outlet="), parts[-2].removeprefix("date="))
                counts[key] += pq.read_metadata(info.path, filesystem=fs).num_rows
        return dict(counts)
    for path in (local_root(lake_uri) / zone).glob("outlet=*/date=*/*.parquet"):
        key = (path.parent.parent.name.removeprefix("outlet="),
               path.parent.name.removeprefix("date="))
        counts[key] += pq.read_metadata(path).num_rows
    return dict(counts)


def day_stats(lake_uri: str, runs: list[RunRecord],
              storage: Mapping[str, str] | None = None) -> dict[tuple[str, str], DayStats]:
    """What each outlet-day holds now: rows from the partitions, fetch failures from the
    newest published manifest (the run that wrote those partitions)."""
    stats: dict[tuple[str, str], DayStats] = defaultdict(DayStats)
    for key, n in partition_rows(lake_uri, "articles", storage).items():
        stats[key].articles = n
    for key, n in partition_rows(lake_uri, "quarantine", storage).items():
        stats[key].quarantined = n
    for run in runs:  # oldest first: the newest published run wins
        if run.status == "published":
            stats[(run.outlet, run.day)].fetch_failed = run.fetch_failed or 0
    return dict(stats)


def day_window(keys: Iterable[tuple[str, str]], days: int) -> list[dt.date]:
    """Consecutive dates ending at the newest date in ``keys``, at most ``days`` of them."""
    dates = sorted({dt.date.fromisoformat(d) for _, d in keys})
    if not dates:
        return []
    first = max(dates[0], dates[-1] - dt.timedelta(days=days - 1))
    return [first + dt.timedelta(days=i) for i in range((dates[-1] - first).days + 1)]




def coverage_series(runs: list[RunRecord], outlet: str,
                    in_window: set[dt.date]) -> dict[str, dict[dt.date, float]]:
    """Per field (``newslake.drift.FIELDS``), the share of the day's parsed rows that have
    it, from the newest run of each day that kept a profile (a failed run's too: a
    redesign that fails the drift checks still shows)."""
    from newslake.drift import FIELDS

    series: dict[str, dict[dt.date, float]] = {f: {} for f in FIELDS}
    for run in runs:  # oldest first: the newest run of a day wins
        day = dt.date.fromisoformat(run.day)
        if run.outlet != outlet or day not in in_window or not run.profile:
            continue
        coverage = run.profile.get("coverage") or {}
        for name in FIELDS:
            if isinstance(coverage.get(name), int | float):
                series[name][day] = float(coverage[name])
    return series


