from __future__ import annotations

import datetime as dt
import errno
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from newslake import lake
from newslake.dayrows import DayRows
from newslake.record import ARTICLE_FILE_SCHEMA, Article, rows_to_table

DAY = dt.date(2025, 3, 17)


def _article(n: int, hour: int) -> dict[str, object]:
    article = Article(
        url=f"https://example.org/a/{n}",
        title=f"Headline {n}",
        body=f"Body of article {n}. " * 30,
        published_at=dt.datetime(2025, 3, 17, hour, tzinfo=dt.UTC),
        outlet="example",
        fetched_url=f"https://example.org/a/{n}?utm_source=x",
        authors=["Ann Author"],
        fetched_at=dt.datetime(2025, 3, 18, 1, tzinfo=dt.UTC),
        parser="generic@1",
        run_id="run-1",
    )
    return article.to_row()


def _publish(lake_uri: str, rows: list[dict[str, object]], tmp: Path) -> Path:
    staged = tmp / f"staged-{len(rows)}" / lake.PARQUET_FILE
    lake.write_parquet(rows_to_table(rows, ARTICLE_FILE_SCHEMA), staged)
    lake.publish_partition(lake_uri, "articles", "example", DAY, str(staged))
    return Path(lake.partition_uri(lake_uri, "articles", "example", DAY))


def test_partition_reads_back_with_every_reader(tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    _publish(lake_uri, [_article(2, 15), _article(1, 9), _article(3, 12)], tmp_path)
    root = f"{lake_uri}/articles"

    table = ds.dataset(root, partitioning="hive").to_table()
    assert table.num_rows == 3
    assert table.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("outlet").to_pylist() == ["example"] * 3
    hours = [t.hour for t in table.column("published_at").to_pylist()]
    assert hours == [9, 12, 15], "rows are sorted by published_at inside a partition"

    frame = pd.read_parquet(root)
    assert list(frame["title"]) == ["Headline 1", "Headline 3", "Headline 2"]
    assert str(frame["published_at"].dt.tz) == "UTC"

    count = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true) "
        "WHERE outlet = 'example' AND date = DATE '2025-03-17'"
    ).fetchall()
    assert count == [(3,)]

    meta = pq.ParquetFile(next(Path(root).rglob("*.parquet"))).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert meta.row_group(0).column(0).statistics is not None


def test_replacing_a_partition_leaves_only_the_new_rows(tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    target = _publish(lake_uri, [_article(1, 9), _article(2, 10)], tmp_path)
    _publish(lake_uri, [_article(3, 11)], tmp_path)
    assert [p.name for p in target.iterdir()] == [lake.PARQUET_FILE]
    titles = ds.dataset(f"{lake_uri}/articles", partitioning="hive").to_table().column("title")
    assert titles.to_pylist() == ["Headline 3"]
    leftovers = [p.name for p in target.parent.iterdir() if p.name != target.name]
    assert leftovers == []


def test_exchange_is_atomic_and_supported_here(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("from a")
    (b / "x").write_text("from b")
    assert lake._exchange(a, b), "renameat2(RENAME_EXCHANGE) should work on Linux"
    assert (b / "x").read_text() == "from a" and (a / "x").read_text() == "from b"


def test_run_ids_become_safe_file_names() -> None:
    name = lake.safe_name("manual__2025-03-18T00:00:00+00:00")
    assert "/" not in name and ":" not in name and "+" not in name


def test_publish_partition_locally_replaces_a_multi_file_partition(tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    target = _publish(lake_uri, [_article(1, 9)], tmp_path)
    (target / "old-chunk.parquet").write_bytes(b"left by an older layout")
    staged = lake.join(lake.staging_uri(lake_uri, "example", DAY, "run-2"), "out", "articles",
                       lake.PARQUET_FILE)
    lake.write_parquet(rows_to_table([_article(2, 10)], ARTICLE_FILE_SCHEMA), staged)
    placed = lake.publish_partition(lake_uri, "articles", "example", DAY, staged)
    assert placed == str(target / lake.PARQUET_FILE)
    assert [p.name for p in target.iterdir()] == [lake.PARQUET_FILE]
    assert Path(staged).exists(), "the staged file stays: a retried publish still works"
    lake.publish_partition(lake_uri, "articles", "example", DAY, staged)
    assert [p.name for p in target.iterdir()] == [lake.PARQUET_FILE]
    assert not [p for p in Path(staged).parent.parent.iterdir() if p.name.startswith(".")]


def test_raw_partition_is_one_concatenated_warc(tmp_path: Path) -> None:
    from newslake.fetch import FetchResult
    from newslake.raw import read_warc, write_warc

    def result(n: int) -> FetchResult:
        return FetchResult(
            url=f"https://example.org/{n}", final_url=f"https://example.org/{n}", status=200,
            headers={"Content-Type": "text/html"}, body=f"<p>{n}</p>".encode(),
            fetched_at=dt.datetime(2025, 3, 17, tzinfo=dt.UTC), error=None, attempts=1,
            elapsed_s=0.1,
        )

    chunks = []
    for n in range(3):
        path = tmp_path / f"{n:05d}.warc.gz"
        write_warc(path, [result(2 * n), result(2 * n + 1)])
        chunks.append(str(path))
    joined = tmp_path / lake.RAW_FILE
    size = lake.concatenate(chunks, str(joined))
    assert size == joined.stat().st_size == sum(Path(c).stat().st_size for c in chunks)
    assert [r.url for r in read_warc(joined)] == [f"https://example.org/{n}" for n in range(6)]
    # Per chunk: warcinfo + 2 x (request, response); every record its own gzip member.
    assert gzip.decompress(joined.read_bytes()).count(b"WARC/1.1\r\n") == 3 * 5


def test_manifests_are_listed_oldest_first(tmp_path: Path) -> None:
    lake_uri = str(tmp_path / "lake")
    for n, run in enumerate(("b-run", "a-run")):
        path = Path(lake.manifest_uri(lake_uri, "example", DAY, run))
        lake.write_json(path, {"run": run})
        lake.write_json(lake.validation_uri(lake_uri, "example", DAY, run), {})
        os.utime(path, (1_700_000_000 + n, 1_700_000_000 + n))
    found = lake.list_manifest_uris(lake_uri, "example", DAY)
    assert [Path(p).stem for p in found] == ["b-run", "a-run"], "oldest first, no GX results"
    assert lake.read_json(lake.list_manifest_uris(lake_uri, "example", DAY)[0]) == {"run": "b-run"}


def test_rows_written_in_order_a_row_group_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """validate_step writes the day's good rows straight from the parsed chunk files, in
    the order asked for, in row groups bounded in bytes (bodies make rows large)."""
    paths = []
    for i in range(5):  # five chunks, as a day's parsed files give
        path = tmp_path / "parsed" / f"{i:05d}.parquet"
        lake.write_parquet(pa.table({"n": [i * 10 + j for j in range(10)],
                                     "body": [f"{i * 10 + j:04d}" * 250 for j in range(10)]}),
                           path, sort_by=None)
        paths.append(str(path))
    schema = pa.schema([("n", pa.int64()), ("body", pa.string())])
    rows = DayRows.read(paths, schema)
    order = sorted(range(50), key=lambda i: (-i % 7, i))
    monkeypatch.setattr(lake, "ROW_GROUP_BYTES", 12_000)  # about 12 rows a group
    lake.write_parquet_groups(rows.row_groups(order), schema, tmp_path / "part-00000.parquet")
    written = pq.ParquetFile(tmp_path / "part-00000.parquet")
    table = written.read()
    assert table.column("n").to_pylist() == order
    assert table.column("body").to_pylist() == [f"{n:04d}" * 250 for n in order]
    assert written.metadata.num_row_groups == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parsed", "part-00000.parquet"]


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder on another filesystem than ``tmp_path`` (the tmpfs /dev/shm)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.fail("prerequisite missing: a tmpfs at /dev/shm on another filesystem than "
                    "the test's tmp_path (Debian mounts one; a container may need --shm-size)")
    folder = Path(tempfile.mkdtemp(prefix="newslake-test-", dir=shm))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_replace_dir_keeps_the_old_partition_when_the_new_one_cannot_move_in(
    tmp_path: Path, other_filesystem: Path
) -> None:
    """The fallback (no renameat2 across filesystems) moves the old partition aside; when
    the new folder then cannot take its place (EXDEV), the old one comes back."""
    target = tmp_path / "raw" / "outlet=x" / "date=2025-03-17"
    target.mkdir(parents=True)
    (target / lake.RAW_FILE).write_bytes(b"old")
    new = other_filesystem / "new"
    new.mkdir()
    (new / lake.RAW_FILE).write_bytes(b"new")

    with pytest.raises(OSError) as failure:
        lake._replace_dir(new, target)
    assert failure.value.errno == errno.EXDEV
    assert (target / lake.RAW_FILE).read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name], "nothing aside"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("zone", ["raw", "articles"])
def test_a_zone_on_another_filesystem_keeps_its_partitions(
    tmp_path: Path, other_filesystem: Path, zone: str
) -> None:
    """``<zone>/`` a symlink to another filesystem: a first run and a rerun publish every
    zone and the manifest, and leave no hidden folders behind."""
    from helpers.smallsite import SmallSite

    from newslake.pipeline import RunSpec, run_day
    from newslake.raw import read_warc

    lake_dir = tmp_path / "lake"
    lake_dir.mkdir()
    (other_filesystem / zone).mkdir()
    (lake_dir / zone).symlink_to(other_filesystem / zone)
    with SmallSite(DAY) as site:
        url = site.publish("/news/council-expands-bike-lanes", "Council expands bike lanes")
        outlet = site.outlet()
        for run in ("first", "rerun"):
            manifest = run_day(RunSpec(outlet, DAY, run, str(lake_dir)))
            assert manifest["written"] == 1
            raw = Path(lake.partition_uri(str(lake_dir), "raw", outlet.id, DAY)) / lake.RAW_FILE
            assert [r.url for r in read_warc(raw)] == [url]
            rows = ds.dataset(str(lake_dir / "articles"), partitioning="hive").to_table()
            assert rows.column("url").to_pylist() == [url]
            assert len(lake.list_manifest_uris(str(lake_dir), outlet.id, DAY)) == (
                1 if run == "first" else 2)
    partitions = other_filesystem / zone / f"outlet={outlet.id}"
    assert [p.name for p in partitions.iterdir()] == [f"date={DAY}"]
