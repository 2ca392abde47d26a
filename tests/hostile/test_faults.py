"""Faults: a writer killed with SIGKILL mid-replacement, and a crash between the Parquet
and the manifest followed by a retry. Afterwards a partition is the old one or the new
one, never a mix, and a rerun completes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from conftest import Ledger
from helpers.clock import days_ago

from newslake import lake, pipeline
from newslake.config import load_outlets

pytestmark = pytest.mark.timeout(240)
DAY = dt.date(2025, 3, 17)
WRITER = """
import datetime as dt, sys
from pathlib import Path
from newslake import lake
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table
root, version = sys.argv[1], 0
start = dt.datetime(2025, 3, 17, tzinfo=dt.UTC)
while True:
    version += 1
    rows = [Article(url=f"https://f.example/{i}", title="t" * 5, body="b " * 50,
                    published_at=start + dt.timedelta(minutes=i), outlet="fault",
                    fetched_url=f"https://f.example/{i}", fetched_at=start, parser="generic@1",
                    run_id=f"v{version}").to_row() for i in range(2000)]
    # the staging folder name repeats across attempts, as a retried Airflow run's does,
    # so a file a killed attempt left half-written there is met again
    staged = Path(root) / "_staging" / f"v{version}" / lake.PARQUET_FILE
    lake.write_parquet(rows_to_table(rows, ARTICLE_FILE_SCHEMA), staged)
    lake.publish_partition(root, "articles", "fault", dt.date(2025, 3, 17), str(staged))
    print(version, flush=True)
"""


def _versions(root: Path) -> set[str]:
    table = ds.dataset(str(root / "articles"), partitioning="hive").to_table(columns=["run_id"])
    assert table.num_rows == 2000, "never a partial partition"
    return set(table.column("run_id").to_pylist())


def test_sigkill_during_partition_replacement_leaves_old_or_new(
    tmp_path: Path, ledger: Ledger
) -> None:
    # what an earlier attempt killed inside write_parquet leaves in the staging folder
    leftover = tmp_path / "_staging" / "v1" / f".{lake.PARQUET_FILE}.killed.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"PAR1 half a file")
    for attempt in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            proc.stdout.readline()  # at least one version is published
            time.sleep(0.05 + 0.13 * attempt)  # land the kill at different moments
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stdout:
                proc.stdout.close()
        versions = _versions(tmp_path)
        assert len(versions) == 1, f"a mix of versions after SIGKILL: {versions}"
        target = Path(lake.partition_uri(str(tmp_path), "articles", "fault", DAY))
        assert [p.name for p in target.iterdir()] == [lake.PARQUET_FILE]
    ledger.record("fault: SIGKILL during partition replacement (4 times)", "row")


def test_crash_between_parquet_and_manifest_then_retry(
    demo_site: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    outlet = load_outlets()["demo_metro_ledger"]
    day = days_ago(2)
    spec = pipeline.RunSpec(outlet, day, "crashy-run", str(tmp_path / "lake"))
    found = pipeline.discover_step(spec)
    fetched = [pipeline.fetch_step(spec, c) for c in found["chunks"]]
    validated = pipeline.validate_step(spec, [pipeline.parse_step(spec, f) for f in fetched])

    real_write_json = lake.write_json

    def crash_on_manifest(path: Path, data: object, *args: object, **kwargs: object) -> None:
        if "_runs" in str(path) and not str(path).endswith(".validation.json"):
            raise OSError("disk went away between the Parquet and the manifest")
        real_write_json(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lake, "write_json", crash_on_manifest)
    with pytest.raises(OSError):
        pipeline.publish_step(spec, validated, fetched, found["discovery"])
    monkeypatch.setattr(lake, "write_json", real_write_json)

    # What Airflow's retry does: the same inputs again, from XCom.
    manifest = pipeline.publish_step(spec, validated, fetched, found["discovery"])
    rows = ds.dataset(str(tmp_path / "lake" / "articles"), partitioning="hive").to_table()
    ids = rows.column("article_id").to_pylist()
    assert len(ids) == len(set(ids)) == manifest["written"] > 0
    assert len(lake.list_manifest_uris(spec.lake, outlet.id, day)) == 1
    assert json.loads(lake.read_bytes(lake.list_manifest_uris(spec.lake, outlet.id, day)[0]))[
        "written"] == len(ids)
    ledger.record("fault: crash between Parquet and manifest, then retry", "row")


def test_s3_store_stopped_mid_run_fails_clearly_and_a_retry_completes(
    demo_site: str, tmp_path: Path, ledger: Ledger
) -> None:
    """The store goes away between parse and validate: the task fails with an error that
    says so; once the store is back, the retry (the same step again) completes, and the
    lake holds each article once."""
    from helpers.s3server import SeaweedS3

    outlet = load_outlets()["demo_metro_ledger"]
    day = days_ago(4)
    with SeaweedS3(tmp_path / "s3") as server:
        spec = pipeline.RunSpec(outlet, day, "s3-fault", f"s3://{server.bucket}/fault",
                                storage=server.storage)
        found = pipeline.discover_step(spec)
        fetched = [pipeline.fetch_step(spec, c) for c in found["chunks"]]
        stats = [pipeline.parse_step(spec, f) for f in fetched]
        server.stop()
        with pytest.raises(OSError) as failure:  # fails, not hangs: the test has a timeout
            pipeline.validate_step(spec, stats)
        assert "connect" in str(failure.value).lower() or "network" in str(failure.value).lower()
        server.start()  # same ports, same data
        manifest = pipeline.publish_step(spec, pipeline.validate_step(spec, stats), fetched,
                                         found["discovery"])
        table = lake.dataset(spec.lake, "articles", spec.storage)
        assert table is not None
        ids = table.to_table(columns=["article_id"]).column("article_id").to_pylist()
        assert len(ids) == len(set(ids)) == manifest["written"] > 0
    ledger.record("fault: S3 store stopped mid-run, restarted, retried", "row")
