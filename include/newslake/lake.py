"""The lake: partition paths, Parquet writing and atomic partition replacement.

Layout (DESIGN.md contract)::

    <lake>/articles/outlet=<id>/date=<YYYY-MM-DD>/*.parquet
    <lake>/quarantine/outlet=<id>/date=<YYYY-MM-DD>/*.parquet
    <lake>/raw/outlet=<id>/date=<YYYY-MM-DD>/*.warc.gz
    <lake>/_runs/outlet=<id>/date=<YYYY-MM-DD>/<run>.json

Partition columns (``outlet``, ``date``) live in the path only: a file that also carried
``outlet`` would make pandas/pyarrow refuse to merge the two (string vs dictionary).

Only local lakes are implemented; ``s3://`` lakes are planned (issue 7).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from newslake.errors import NewslakeError

ZONES = ("articles", "quarantine", "raw")
# Row groups of 64k rows: a day of an outlet is usually one group, and a big backfill
# partition still gets min/max statistics fine-grained enough to prune by time.
ROW_GROUP_SIZE = 64 * 1024
PARQUET_FILE = "part-00000.parquet"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def lake_root(lake: str) -> Path:
    if "://" in lake and not lake.startswith("file://"):
        raise NewslakeError(f"lake {lake!r}: only local lakes are supported so far")
    return Path(lake.removeprefix("file://")).resolve()


def partition_dir(lake: str, zone: str, outlet: str, day: dt.date) -> Path:
    return lake_root(lake) / zone / f"outlet={outlet}" / f"date={day.isoformat()}"


def manifest_path(lake: str, outlet: str, day: dt.date, run_id: str) -> Path:
    return (
        lake_root(lake) / "_runs" / f"outlet={outlet}" / f"date={day.isoformat()}"
        / f"{safe_name(run_id)}.json"
    )


def validation_path(lake: str, outlet: str, day: dt.date, run_id: str) -> Path:
    """The Great Expectations results of a run, beside its manifest."""
    manifest = manifest_path(lake, outlet, day, run_id)
    return manifest.with_name(manifest.stem + ".validation.json")


def list_manifests(lake: str, outlet: str, day: dt.date) -> list[Path]:
    """The run manifests of an outlet-day, oldest first."""
    folder = lake_root(lake) / "_runs" / f"outlet={outlet}" / f"date={day.isoformat()}"
    found = [p for p in folder.glob("*.json") if not p.name.endswith(".validation.json")]
    return sorted(found, key=lambda p: p.stat().st_mtime)


def safe_name(text: str) -> str:
    """A run id as a file name: Airflow run ids carry ':' and '+'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def staging_dir(lake: str, outlet: str, day: dt.date, run_id: str) -> Path:
    """Scratch space of one run, inside the lake so that publishing is a rename."""
    return lake_root(lake) / "_staging" / f"outlet={outlet}" / day.isoformat() / safe_name(run_id)


def write_parquet(table: pa.Table, path: Path, sort_by: str | None = "published_at") -> None:
    """Write one zstd Parquet file with statistics, rows sorted by ``sort_by``."""
    if sort_by and sort_by in table.column_names and table.num_rows:
        table = table.sort_by([(sort_by, "ascending"), ("url", "ascending")]
                              if "url" in table.column_names else [(sort_by, "ascending")])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(
        table, tmp, compression="zstd", write_statistics=True, row_group_size=ROW_GROUP_SIZE
    )
    os.replace(tmp, path)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2). False when unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def replace_partition(new_dir: Path, target: Path) -> None:
    """Make ``new_dir`` the partition ``target``; readers see old or new, never a mix.

    When ``target`` exists the two directories are exchanged in one syscall, then the
    old contents are deleted. ``new_dir`` must be on the same filesystem (the staging
    area lives inside the lake for that reason).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.replace(new_dir, target)
        return
    if _exchange(new_dir, target):
        shutil.rmtree(new_dir)
        return
    # Fallback without renameat2: a short window where the partition is absent, never mixed.
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
    os.replace(target, old)
    os.replace(new_dir, target)
    shutil.rmtree(old)


def remove_partition(target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex}")
        os.replace(target, old)
        shutil.rmtree(old)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    os.replace(tmp, path)
