"""The lake on a real S3-compatible server (SeaweedFS ``weed mini`` on loopback).

Library level: partitions, manifests, replacement atomicity. Airflow level: one outlet-day
through ``dag.test()`` with the credentials in an Airflow connection, read back with
pyarrow, pandas, DuckDB (httpfs from the ``duckdb-extension-httpfs`` package) and Polars;
a rerun leaves the same rows and the same objects.
"""

from __future__ import annotations

import datetime as dt
import gzip
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pytest
from helpers.clock import TODAY, days_ago
from helpers.dags import load_dag, run_day

from demo_site import catalog
from newslake import lake
from newslake.errors import NewslakeError
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

pytestmark = pytest.mark.timeout(120)

DAY = dt.date(2025, 3, 17)


def _article(n: int) -> dict[str, object]:
    return Article(
        url=f"https://example.org/a/{n}",
        title=f"Headline {n}",
        body=f"Body of article {n}. " * 30,
        published_at=dt.datetime(2025, 3, 17, n % 24, tzinfo=dt.UTC),
        outlet="example",
        fetched_url=f"https://example.org/a/{n}",
        authors=["Ann Author"],
        fetched_at=dt.datetime(2025, 3, 18, 1, tzinfo=dt.UTC),
        parser="generic@1",
        run_id="run-1",
    ).to_row()


def _table(numbers: range) -> pa.Table:
    return rows_to_table([_article(n) for n in numbers], ARTICLE_FILE_SCHEMA)


def _objects(location: str, storage: dict[str, str]) -> list[str]:
    """Every object under ``location``, relative to it (directory entries left out)."""
    fs, root = lake.filesystem(location, storage)
    return sorted(i.path[len(root) + 1 :] for i in lake.list_files(location, storage))


def _titles(lake_uri: str, storage: dict[str, str] | None = None) -> set[str]:
    articles = lake.dataset(lake_uri, "articles", storage)
    assert articles is not None
    return set(articles.to_table(columns=["title"]).column("title").to_pylist())


def test_locations_and_storage_options(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lake.lake_uri("s3://bucket/some/prefix/") == "s3://bucket/some/prefix"
    assert lake.partition_uri("s3://b/p", "articles", "x", DAY) == (
        "s3://b/p/articles/outlet=x/date=2025-03-17"
    )
    assert lake.manifest_uri("s3://b/p", "x", DAY, "manual__2025-03-18T00:00:00+00:00") == (
        "s3://b/p/_runs/outlet=x/date=2025-03-17/manual__2025-03-18T00_00_00_00_00.json"
    )
    with pytest.raises(NewslakeError, match="location-based"):
        lake.lake_root("s3://b/p")  # the one Path function: local lakes only
    with pytest.raises(NewslakeError):
        lake.lake_uri("gs://b/p")

    monkeypatch.setenv("NEWSLAKE_S3_ENDPOINT", "http://127.0.0.1:1234")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert lake.storage_options(None) == {
        "endpoint_url": "http://127.0.0.1:1234", "access_key_id": "k",
        "secret_access_key": "s", "region": "eu-west-3",
    }
    assert lake.storage_options({"region": "x"}) == {"region": "x"}, "given options win"
    fs, path = lake.filesystem("s3://bucket/key", None)
    assert isinstance(fs, pafs.S3FileSystem) and path == "bucket/key"
    assert fs.region == "eu-west-3"
    with pytest.raises(NewslakeError, match="unknown storage options"):
        lake.storage_options({"endpoint": "x"})


def test_partition_on_s3_is_one_object_replaced_whole(s3_server: Any, s3_lake: str) -> None:
    storage = s3_server.storage
    staging = lake.staging_uri(s3_lake, "example", DAY, "run-1")
    staged = lake.join(staging, "out", "articles", lake.PARQUET_FILE)
    lake.write_parquet(_table(range(1, 4)), staged, storage=storage)
    lake.publish_partition(s3_lake, "articles", "example", DAY, staged, storage)
    assert _titles(s3_lake, storage) == {"Headline 1", "Headline 2", "Headline 3"}

    # A partition left by another layout (several files) is replaced by the one object.
    extra = lake.join(lake.partition_uri(s3_lake, "articles", "example", DAY), "old-1.parquet")
    lake.write_parquet(_table(range(7, 8)), extra, storage=storage)
    lake.write_parquet(_table(range(4, 6)), staged, storage=storage)
    lake.publish_partition(s3_lake, "articles", "example", DAY, staged, storage)
    lake.remove_tree(staging, storage)
    assert _titles(s3_lake, storage) == {"Headline 4", "Headline 5"}
    assert _objects(s3_lake, storage) == [
        f"articles/outlet=example/date=2025-03-17/{lake.PARQUET_FILE}"
    ]

    with pytest.raises(NewslakeError, match="one file named"):
        lake.publish_partition(s3_lake, "raw", "example", DAY, staged, storage)


def test_manifests_and_json_on_s3(s3_server: Any, s3_lake: str) -> None:
    storage = s3_server.storage
    assert lake.list_manifest_uris(s3_lake, "example", DAY, storage) == []
    for run in ("run-a", "run-b"):
        lake.write_json(lake.manifest_uri(s3_lake, "example", DAY, run), {"run": run}, storage)
        lake.write_json(lake.validation_uri(s3_lake, "example", DAY, run), {}, storage)
    found = lake.list_manifest_uris(s3_lake, "example", DAY, storage)
    assert [lake.read_json(u, storage)["run"] for u in found] == ["run-a", "run-b"]
    assert lake.exists(found[0], storage)


def _replace_while_reading(lake_uri: str, storage: dict[str, str] | None, restage: bool) -> None:
    """Swap two versions of a partition in a thread while reading it in a loop."""
    versions = {"old": range(1, 40), "new": range(100, 103)}
    expected = {k: {f"Headline {n}" for n in v} for k, v in versions.items()}
    staged = {
        k: lake.join(lake.staging_uri(lake_uri, "example", DAY, k), "out", "articles",
                     lake.PARQUET_FILE)
        for k in versions
    }
    tables = {k: _table(v) for k, v in versions.items()}
    for key in versions:
        lake.write_parquet(tables[key], staged[key], storage=storage)
    lake.publish_partition(lake_uri, "articles", "example", DAY, staged["old"], storage)
    stop = threading.Event()
    swaps = 0
    errors: list[BaseException] = []

    def swap() -> None:
        nonlocal swaps
        try:
            while not stop.is_set():
                for key in ("new", "old"):
                    stop.wait(0.02)  # hold each version a moment: clean reads of both
                    if restage:  # a local publish moves the staged folder into place
                        lake.write_parquet(tables[key], staged[key], storage=storage)
                    lake.publish_partition(lake_uri, "articles", "example", DAY, staged[key],
                                           storage)
                    swaps += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=swap)
    thread.start()
    seen: dict[str, int] = {"old": 0, "new": 0, "torn": 0}
    try:
        while swaps < 40 or min(seen["old"], seen["new"]) < 3:
            try:
                titles = _titles(lake_uri, storage)
            except (OSError, pa.ArrowInvalid):
                # S3 only: the object changed between the reader's requests (listing size,
                # footer, pages). The read fails; it never returns rows of both versions.
                seen["torn"] += 1
                continue
            match = [k for k, v in expected.items() if titles == v]
            assert match, f"a mix or a gap: {sorted(titles)}"
            seen[match[0]] += 1
            assert sum(seen.values()) < 5000, (swaps, seen)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert seen["old"] and seen["new"]
    if not lake.is_s3(lake_uri):
        assert seen["torn"] == 0, "a local reader's open file keeps its inode: never torn"
    print(f"{lake_uri}: {swaps} replacements, reads: {seen}")


def test_readers_never_see_a_mix_on_s3(s3_server: Any, s3_lake: str) -> None:
    _replace_while_reading(s3_lake, s3_server.storage, restage=False)


def test_readers_never_see_a_mix_locally(tmp_path: Path) -> None:
    _replace_while_reading(str(tmp_path / "lake"), None, restage=True)


# --------------------------------------------------------------------------- through Airflow


def _day_with_bad_case(key: str) -> dt.date:
    today = TODAY
    for back in range(2, 30):
        day = today - dt.timedelta(days=back)
        if any(not a.is_article_ok for a in catalog.articles_for(key, day)):
            return day
    raise AssertionError("the demo newsroom has no bad case in the last 4 weeks")


def _duckdb_on_s3(storage: dict[str, str]) -> Any:
    """A DuckDB connection that reads s3:// (httpfs from duckdb-extension-httpfs)."""
    import duckdb
    import duckdb_extension_httpfs

    ext = next(Path(duckdb_extension_httpfs.__file__).parent.glob(
        f"extensions/v{duckdb.__version__}/httpfs.duckdb_extension"))
    con = duckdb.connect()
    con.load_extension(str(ext))
    endpoint = storage["endpoint_url"].split("://", 1)
    con.execute(
        "CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, "
        "URL_STYLE 'path', USE_SSL ?)",
        [storage["access_key_id"], storage["secret_access_key"], storage["region"],
         endpoint[1], endpoint[0] == "https"],
    )
    return con


def test_outlet_day_on_s3_through_airflow(
    airflow_db: Path, demo_site: str, s3_server: Any, airflow_s3_lake: str,
) -> None:
    storage, s3_lake = s3_server.storage, airflow_s3_lake
    lake._s3_filesystem.cache_clear()
    outlet_id = "demo_metro_ledger"
    day = _day_with_bad_case(outlet_id)
    dag = load_dag(f"ingest_{outlet_id}")
    run_day(dag, day)

    published = catalog.articles_for(outlet_id, day)
    good = {a.url(demo_site): a for a in published if a.is_article_ok}
    bad = {a.url(demo_site) for a in published if not a.is_article_ok}
    articles = lake.dataset(s3_lake, "articles", storage)
    assert articles is not None
    rows = articles.to_table().to_pylist()
    assert {r["url"] for r in rows} == set(good)
    for row in rows:
        assert row["title"] == good[row["url"]].title
        assert row["body"] == good[row["url"]].body
        assert (row["outlet"], row["date"]) == (outlet_id, day.isoformat())
    quarantine = lake.dataset(s3_lake, "quarantine", storage)
    assert quarantine is not None
    assert set(quarantine.to_table().column("url").to_pylist()) == bad

    part = f"outlet={outlet_id}/date={day.isoformat()}"
    first_objects = _objects(s3_lake, storage)
    run_objects = [o for o in first_objects if o.startswith("_runs/")]
    assert [o for o in first_objects if not o.startswith("_runs/")] == [
        f"articles/{part}/{lake.PARQUET_FILE}", f"quarantine/{part}/{lake.PARQUET_FILE}",
        f"raw/{part}/{lake.RAW_FILE}",
    ], "one object a partition, nothing left in _staging"
    assert len(run_objects) == 2, run_objects  # the manifest and the GX results
    manifests = lake.list_manifest_uris(s3_lake, outlet_id, day, storage)
    manifest = lake.read_json(manifests[0], storage)
    assert manifest["written"] == len(rows) and manifest["quarantined"] == len(bad)

    # The raw zone's one WARC holds every response and reads back.
    from newslake.raw import read_warc

    raw = lake.join(lake.partition_uri(s3_lake, "raw", outlet_id, day), lake.RAW_FILE)
    assert gzip.decompress(lake.read_bytes(raw, storage)).startswith(b"WARC/1.1"), (
        "gzip per record, not a plain or doubly gzipped file"
    )
    with lake.local_copy(raw, storage) as local:
        assert len(list(read_warc(local))) == manifest["fetched"]

    # Analysts' readers, as in docs/lake.md.
    import pandas as pd
    import polars as pl

    fs, root = lake.filesystem(s3_lake, storage)
    frame = pd.read_parquet(f"{root}/articles", filesystem=fs)
    assert set(frame["url"]) == set(good) and str(frame["published_at"].dt.tz) == "UTC"
    con = _duckdb_on_s3(storage)
    counts = con.execute(
        f"SELECT outlet, date, count(*) FROM read_parquet('{s3_lake}/articles/**/*.parquet', "
        "hive_partitioning=true) GROUP BY ALL"
    ).fetchall()
    assert [(o, str(d), n) for o, d, n in counts] == [(outlet_id, day.isoformat(), len(rows))]
    polars_frame = pl.scan_parquet(
        f"{s3_lake}/articles/**/*.parquet", hive_partitioning=True,
        storage_options={
            "aws_endpoint_url": storage["endpoint_url"], "aws_region": storage["region"],
            "aws_access_key_id": storage["access_key_id"],
            "aws_secret_access_key": storage["secret_access_key"], "aws_allow_http": "true",
        },
    ).select("url", "outlet").collect()
    assert set(polars_frame["url"]) == set(good)
    assert set(polars_frame["outlet"]) == {outlet_id}

    # A rerun: the same rows, the same objects (plus its own manifest and GX results).
    run_day(dag, day)
    strip = ("fetched_at", "run_id")
    again = lake.dataset(s3_lake, "articles", storage)
    assert again is not None
    key = lambda r: r["article_id"]  # noqa: E731
    assert [{k: v for k, v in r.items() if k not in strip}
            for r in sorted(again.to_table().to_pylist(), key=key)] == [
        {k: v for k, v in r.items() if k not in strip} for r in sorted(rows, key=key)
    ]
    second_objects = _objects(s3_lake, storage)
    assert [o for o in second_objects if not o.startswith("_runs/")] == [
        o for o in first_objects if not o.startswith("_runs/")
    ]
    assert len([o for o in second_objects if o.startswith("_runs/")]) == 4
    assert len(lake.list_manifest_uris(s3_lake, outlet_id, day, storage)) == 2


@pytest.mark.timeout(180)
def test_report_datadocs_and_reparse_work_on_the_s3_lake(
    s3_server: Any, s3_lake: str, demo_site: str, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """What works on a local lake works on S3: report, Data Docs, reparse from raw/."""

    from newslake.config import load_outlets
    from newslake.datadocs import build_datadocs
    from newslake.pipeline import RunSpec, run_day
    from newslake.reparse import reparse_day
    from newslake.report import build_report

    storage = s3_server.storage
    monkeypatch.setenv("NEWSLAKE_S3_ENDPOINT", storage["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", storage["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", storage["secret_access_key"])
    monkeypatch.setenv("AWS_REGION", storage["region"])
    outlet = load_outlets()["demo_metro_ledger"]
    day = days_ago(3)
    manifest = run_day(RunSpec(outlet, day, "s3-report-run", s3_lake, storage=storage))
    before = _titles(s3_lake, storage)

    page = build_report(s3_lake)
    assert "s3-report-run" in page and s3_lake in page
    assert f">{manifest['written']}<" in page
    index = build_datadocs(s3_lake, tmp_path / "docs").read_text()
    assert "s3-report-run" in index

    reparsed = reparse_day(outlet, day, s3_lake, "s3-reparse-run", storage=storage)
    assert reparsed is not None and reparsed["written"] == manifest["written"]
    assert _titles(s3_lake, storage) == before


@pytest.mark.timeout(240)
def test_report_and_datadocs_read_the_lake_through_the_dags_airflow_connection(
    s3_server: Any, airflow_s3_lake: str, airflow_db: Path, demo_site: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--conn-id``: the lake's keys and endpoint come from the Airflow connection the DAGs
    use, none from the environment: one made in the UI (stored in the metadata DB) and one
    set as ``AIRFLOW_CONN_…`` (``airflow_s3_lake``)."""
    import json

    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    from newslake.cli import main as cli_main
    from newslake.config import load_outlets
    from newslake.pipeline import RunSpec, run_day

    storage = s3_server.storage
    outlet = load_outlets()["demo_metro_ledger"]
    manifest = run_day(RunSpec(outlet, days_ago(3), "conn-report-run", airflow_s3_lake,
                               storage=storage))
    with create_session() as session:
        session.add(Connection(
            conn_id="newslake_s3_ui", conn_type="aws", login=storage["access_key_id"],
            password=storage["secret_access_key"],
            extra=json.dumps({"endpoint_url": storage["endpoint_url"],
                              "region_name": storage["region"]})))
    try:
        # Data Docs first: it mirrors _runs/ from S3 (a process keeps one mirror per lake).
        code = cli_main(["datadocs", "--lake", airflow_s3_lake, "--conn-id", "newslake_s3_ui",
                         "--out", str(tmp_path / "docs")])
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "newslake_s3_ui").delete()
    assert code == 0, capsys.readouterr().err
    assert "conn-report-run" in (tmp_path / "docs" / "index.html").read_text()

    # The report counts rows from the partitions' footers, read on S3 at each call.
    code = cli_main(["report", "--lake", airflow_s3_lake, "--conn-id", "newslake_s3_test",
                     "--out", str(tmp_path / "report.html")])
    assert code == 0, capsys.readouterr().err
    page = (tmp_path / "report.html").read_text()
    assert "conn-report-run" in page and f">{manifest['written']}<" in page

    capsys.readouterr()
    code = cli_main(["report", "--lake", airflow_s3_lake, "--conn-id", "newslake_s3_typo",
                     "--out", str(tmp_path / "other.html")])
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "other.html").exists()
    assert err.startswith("newslake report: Airflow connection 'newslake_s3_typo' not found"), err
