"""Re-parse history from the raw zone: no network, only the WARC files an ingest kept.

``reparse_day`` rebuilds ``articles/``, ``quarantine/`` and a run manifest in ``_runs/`` for
one outlet-day from ``<lake>/raw/outlet=<id>/date=<D>/*.warc.gz``: the WARC files take the
place of what ``fetch_step`` would have returned, then ``parse_step``, ``validate_step`` and
``publish_step`` run exactly as in an ingest. The same responses through the same parser
give the same rows (``run_id`` aside); a better parser gives better rows for old days.

- The raw partition ends up as it was, byte for byte: the files are snapshotted into the
  run's staging area (hard links on a local lake, server-side copies on S3; a concurrent
  swap of the partition cannot change what is parsed), and ``publish_step`` republishes
  them (it concatenates a partition's WARCs into its one raw file: a partition written by
  an ingest has one, so it comes back identical; an older many-file partition is merged).
- Any lake ``newslake.lake`` supports: local or ``s3://`` (pass ``storage``).
- Discovery counts come from the raw zone: ``discovered`` is the number of responses (and
  recorded failures) in the WARC files, one per URL the ingest tried.
- The manifest says where the rows came from: ``reparse.raw_files`` and ``raw_records``.
- No file stands in for a step that did not run: the snapshots are handed to
  ``parse_step`` as ``steps.RawChunk`` values, and ``publish_step`` gets a
  ``steps.Discovery`` counted from the raw zone.
- A day without raw files is skipped (logged, nothing written): there is nothing to parse.
- A damaged raw file (cut short, flipped bytes, empty, not a WARC) fails the day with
  ``DamagedWarcError`` naming the file and the offset; one cut exactly between two records
  reads as a shorter WARC, and ``publish_step`` refuses what it would drop (``ShrinkError``).
  Either way the day's partitions stay as they were.

Bringing history up to date after a parser change: ``days_older_than`` picks the days
whose ``articles/`` or ``quarantine/`` partition holds a row made by an older parser than
a label (``newslake.parse.version``: ``generic@2`` means "parsing code before 2", any body
path; ``rules:<outlet>@R`` also "the outlet's rules before R"; ``current`` what this code
and the outlet's YAML write now). A page the parser refused (``parse:*`` quarantine row)
counts too: refusals record the label of the parser that refused the page, and those
written before they did (no ``parser``) count as version 1. Fetch failures were not parsed
and do not count.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs

from newslake import lake, source_dates
from newslake.clock import days_between
from newslake.config import Outlet
from newslake.frontier import frontier_candidates
from newslake.lake import Storage
from newslake.parse.version import GENERIC, ParserLabel, current_label, read_label
from newslake.pipeline import (
    RunSpec,
    collect_stale_staging,
    parse_step,
    publish_step,
    validate_step,
)
from newslake.steps import Discovery, RawChunk

log = logging.getLogger(__name__)

# Airflow's default max_map_length is 1024 mapped tasks; a longer range is split by hand.
MAX_DAYS = 1000

CURRENT = "current"
# Rows written before parse refusals recorded their parser: the only code there was then.
UNLABELLED_REFUSAL = ParserLabel(GENERIC, 1)
_DATE_DIR_RE = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})(?:/|$)")


def older_than_label(text: str, outlet: Outlet) -> ParserLabel:
    """The value of ``--older-than``: a parser label or ``current``; ValueError else."""
    return current_label(outlet) if text.strip() == CURRENT else read_label(text)


def day_parsers(
    lake_uri: str, outlet: Outlet, day: dt.date, storage: Storage = None
) -> set[ParserLabel]:
    """The parsers that made the rows of the day's ``articles/`` and ``quarantine/``
    partitions (refusals without a label: ``UNLABELLED_REFUSAL``)."""
    found: set[ParserLabel] = set()
    for zone in ("articles", "quarantine"):
        location = lake.join(lake.partition_uri(lake_uri, zone, outlet.id, day),
                             lake.PARQUET_FILE)
        if not lake.exists(location, storage):
            continue
        wanted = ["parser", "failed_checks"] if zone == "quarantine" else ["parser"]
        rows = lake.read_parquet(location, storage=storage, columns=wanted).to_pylist()
        for row in rows:
            if row["parser"]:
                try:
                    found.add(read_label(row["parser"]))
                except ValueError as exc:
                    raise ValueError(f"{location}: {exc}") from exc
            elif any(c.startswith("parse:") for c in row.get("failed_checks") or ()):
                found.add(UNLABELLED_REFUSAL)
    return found


def raw_days(lake_uri: str, outlet: Outlet, storage: Storage = None) -> list[dt.date]:
    """The days the raw zone holds WARC files for, oldest first."""
    folder = lake.join(lake.zone_uri(lake_uri, "raw"), f"outlet={outlet.id}")
    days = {dt.date.fromisoformat(m[1]) for info in lake.list_files(folder, storage)
            if info.base_name.endswith(".warc.gz")
            and (m := _DATE_DIR_RE.search(info.path.replace(os.sep, "/")))}
    return sorted(days)


def days_older_than(
    outlet: Outlet, days: list[dt.date], lake_uri: str, threshold: ParserLabel,
    *, storage: Storage = None,
) -> list[dt.date]:
    """Those of ``days`` whose partitions hold a row by an older parser than
    ``threshold``."""
    chosen = []
    for day in days:
        older = sorted(str(p) for p in day_parsers(lake_uri, outlet, day, storage)
                       if p.is_older_than(threshold))
        if older:
            log.info("%s %s: rows by %s, older than %s", outlet.id, day, ", ".join(older),
                     threshold)
            chosen.append(day)
    return chosen


def _raw_files(lake_uri: str, outlet: Outlet, day: dt.date, storage: Storage) -> list[str]:
    """The WARC files of the raw partition (locations), in name order."""
    folder = lake.partition_uri(lake_uri, "raw", outlet.id, day)
    found = [i for i in lake.list_files(folder, storage)
             if i.base_name.endswith(".warc.gz") and not i.base_name.startswith(".")]
    return [lake.join(folder, i.base_name) for i in sorted(found, key=lambda i: i.base_name)]


def _snapshot(files: list[str], folder: str, storage: Storage) -> list[str]:
    """The raw files as of now, in the run's staging: hard links on a local lake (no copy),
    server-side copies on S3. Parsing and publishing then use the same bytes even if the
    partition is swapped meanwhile, and the rows' ``raw_ref`` names the published file."""
    copies = []
    for source in files:
        target = lake.join(folder, source.rstrip("/").rsplit("/", 1)[-1])
        fs, source_path = lake.filesystem(source, storage)
        _, target_path = lake.filesystem(target, storage)
        if isinstance(fs, pafs.LocalFileSystem):
            Path(target_path).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source_path, target_path)
            except OSError:
                shutil.copy2(source_path, target_path)
        else:
            fs.copy_file(source_path, target_path)
        copies.append(target)
    return copies


def reparse_day(
    outlet: Outlet, day: dt.date, lake_uri: str, run_id: str, *, storage: Storage = None
) -> dict[str, Any] | None:
    """Rebuild one outlet-day from its raw partition; return the run manifest, or None
    when the day has no raw files. Raises what ``validate_step`` raises on a failed batch.
    ``storage``: the options of an ``s3://`` lake (see ``RunSpec.storage``)."""
    raw = _raw_files(lake_uri, outlet, day, storage)
    if not raw:
        log.warning("no raw WARC files for %s on %s: nothing to reparse", outlet.id, day)
        return None
    spec = RunSpec(outlet=outlet, day=day, run_id=run_id, lake=lake_uri,
                   storage=dict(storage or {}))
    # A retry starts from a clean slate, as an ingest does.
    lake.remove_tree(spec.staging_uri, storage)
    collect_stale_staging(spec)
    try:
        return _reparse_staged(spec, raw)
    except BaseException:  # a rejected batch, a kill: its staging goes (a retry redoes it)
        lake.remove_tree(spec.staging_uri, storage)
        raise


def _reparse_staged(spec: RunSpec, raw: list[str]) -> dict[str, Any]:
    outlet, day, lake_uri, storage = spec.outlet, spec.day, spec.lake, spec.storage
    started = time.monotonic()
    inputs = _snapshot(raw, lake.join(spec.staging_uri, "raw"), storage)
    # The discovery dates undated pages took at ingest: from the published rows, then
    # the frontier's (the feeds have moved on; no request is sent).
    dates = source_dates.merged(
        source_dates.from_partition(lake_uri, outlet.id, day, storage),
        source_dates.from_discovered(frontier_candidates(lake_uri, outlet, day, storage)))
    dates_path = lake.join(spec.staging_uri, "dates.json")
    source_dates.write(dates_path, dates, storage)
    snapshot_s = round(time.monotonic() - started, 3)  # the "discover" of a reparse
    # Each snapshot is parsed as a fetch chunk would be: its rows name the day's raw file
    # (publish makes it of the snapshots), a damaged record is reported in the file it
    # is a copy of.
    chunks = [
        RawChunk(warc=path, raw_ref=lake.raw_ref(outlet.id, day),
                 dates=dates_path, source=source, seconds=0.0)
        for path, source in zip(inputs, raw, strict=True)]
    # A damaged raw file fails here, named, before anything is published.
    parsed = [parse_step(spec, chunk) for chunk in chunks]
    records = sum(p["counts"].get("responses", 0) for p in parsed)
    # Here the raw zone is the discovery: one URL a record.
    discovery = Discovery(discovered=records, listed=records, carried_forward=0,
                          chunks=len(inputs), errors=[],
                          counts={"raw_records": records, "raw_files": len(inputs)},
                          seconds=snapshot_s)
    validated = validate_step(spec, parsed)
    manifest = publish_step(spec, validated, chunks, discovery, extra={
        "reparse": {"raw_files": [_name(path) for path in raw], "raw_records": records}})
    log.info(
        "reparsed %s %s from %d WARC files (%d records): %d articles, %d quarantined",
        outlet.id, day, len(inputs), records, manifest["written"], manifest["quarantined"],
    )
    return manifest


def _name(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def reparse_days(
    outlet: Outlet,
    first_day: dt.date,
    last_day: dt.date,
    lake_uri: str,
    run_id: str,
    *,
    storage: Storage = None,
    older_than: ParserLabel | None = None,
) -> list[dict[str, Any]]:
    """Rebuild every day of ``[first_day, last_day]`` that has raw files, oldest first
    (only those holding rows older than ``older_than``, when given); return their run
    manifests. Stops at the first day whose batch fails validation."""
    days = days_between(first_day, last_day, max_days=MAX_DAYS)
    return reparse_selected(outlet, days, lake_uri, run_id,
                            storage=storage, older_than=older_than)


def reparse_selected(
    outlet: Outlet,
    days: list[dt.date],
    lake_uri: str,
    run_id: str,
    *,
    storage: Storage = None,
    older_than: ParserLabel | None = None,
) -> list[dict[str, Any]]:
    """``reparse_days`` over a list of days (``raw_days`` for all of an outlet's)."""
    if older_than is not None:
        days = days_older_than(outlet, days, lake_uri, older_than, storage=storage)
    manifests = []
    for day in sorted(days):
        manifest = reparse_day(outlet, day, lake_uri, run_id, storage=storage)
        if manifest is not None:
            manifests.append(manifest)
    return manifests
