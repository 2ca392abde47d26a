"""The lake: locations, Parquet/JSON/WARC I/O and atomic partition replacement.

Layout (the contract in docs/lake.md)::

    <lake>/articles/outlet=<id>/date=<YYYY-MM-DD>/part-00000.parquet
    <lake>/quarantine/outlet=<id>/date=<YYYY-MM-DD>/part-00000.parquet
    <lake>/raw/outlet=<id>/date=<YYYY-MM-DD>/responses.warc.gz
    <lake>/revisions/outlet=<id>/date=<YYYY-MM-DD>/part-00000.parquet   earlier versions
    <lake>/_runs/outlet=<id>/date=<YYYY-MM-DD>/<run>.json
    <lake>/_staging/outlet=<id>/<YYYY-MM-DD>/<run>/…      scratch space of running runs

``<lake>`` is a local folder (or ``file://`` URI) or ``s3://bucket/prefix``. Every zone
partition is exactly one object with a fixed name, so that replacing a partition is one
atomic step on both kinds of store (see ``publish_partition``).

One API: the ``*_uri`` functions and the I/O helpers (``read_json``, ``write_parquet``,
``upload`` …) take and return *locations*: plain strings that are a local path or an
``s3://`` URI, plus optional ``storage`` options (``newslake.settings.STORAGE_KEYS``; from
the environment when not given). They work on both kinds of lake. Only ``lake_root``
gives a ``Path``: the folder of a local lake (an ``s3://`` lake raises
``NewslakeError``), for a caller that needs a folder as such.

Every writer makes its file appear whole or not at all (``_written_aside``: locally
written beside it under a hidden name and renamed into place; on S3 one upload, visible
only once complete).

Partition columns (``outlet``, ``date``) live in the path only: a file that also carried
``outlet`` would make pandas/pyarrow refuse to merge the two (string vs dictionary).

I/O goes through ``pyarrow.fs`` (``LocalFileSystem`` / ``S3FileSystem``): pyarrow is
already the Parquet writer, and its S3 client needs no extra package (docs/decisions.md).
Streams are always opened with ``compression=None``: pyarrow's default ("detect") would
silently gunzip a ``.warc.gz`` on read and gzip it again on write.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import functools
import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from newslake.errors import NewslakeError
from newslake.record import ARTICLE_FILE_SCHEMA, QUARANTINE_FILE_SCHEMA
from newslake.settings import STORAGE_KEYS, storage_from_env

ZONES = ("articles", "quarantine", "raw")
# Earlier versions of articles whose body changed: written only for days that have any.
REVISIONS = "revisions"
# The earlier article ids of articles whose canonical URL moved: only for days that have any.
ALIASES = "aliases"
# Row groups of 64k rows: a day of an outlet is usually one group, and a big backfill
# partition still gets min/max statistics fine-grained enough to prune by time.
ROW_GROUP_SIZE = 64 * 1024
# ... and at most about this many bytes in memory (bodies make rows large)
ROW_GROUP_BYTES = 64 * 1024 * 1024
PARQUET_FILE = "part-00000.parquet"
# The raw zone partition: the fetch chunks' WARCs concatenated. Every record is its own
# gzip member, so the concatenation is itself a valid WARC file.
RAW_FILE = "responses.warc.gz"
ZONE_FILES = {"articles": PARQUET_FILE, "quarantine": PARQUET_FILE, "raw": RAW_FILE,
              REVISIONS: PARQUET_FILE, ALIASES: PARQUET_FILE}
S3_SCHEME = "s3://"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
_COPY_BUFFER = 1024 * 1024

Location = str | os.PathLike[str]
Storage = Mapping[str, str] | None


# --------------------------------------------------------------------------- locations


def is_s3(location: Location) -> bool:
    return os.fspath(location).startswith(S3_SCHEME)


def lake_uri(lake: str) -> str:
    """The lake's root location, normalised: ``s3://bucket/prefix`` or an absolute path."""
    if is_s3(lake):
        rest = lake[len(S3_SCHEME) :].strip("/")
        if not rest or rest.startswith("/"):
            raise NewslakeError(f"lake {lake!r}: an s3:// lake needs a bucket")
        return S3_SCHEME + rest
    if "://" in lake and not lake.startswith("file://"):
        raise NewslakeError(f"lake {lake!r}: only local folders and s3:// lakes are supported")
    return str(Path(lake.removeprefix("file://")).resolve())


def lake_root(lake: str) -> Path:
    """The root folder of a local lake."""
    root = lake_uri(lake)
    if is_s3(root):
        raise NewslakeError(
            f"lake {lake!r} is on S3: use the location-based functions (lake.*_uri, "
            "lake.read_json, lake.list_manifest_uris …) instead of local paths"
        )
    return Path(root)


def join(location: Location, *parts: str) -> str:
    """``location`` / ``parts``, for a local path or an ``s3://`` URI."""
    base = os.fspath(location)
    if is_s3(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(base, *parts)


def _partition_parts(zone: str, outlet: str, day: dt.date) -> tuple[str, str, str]:
    return zone, f"outlet={outlet}", f"date={day.isoformat()}"


def raw_ref(outlet: str, day: dt.date, name: str = RAW_FILE) -> str:
    """What a row's ``raw_ref`` says: the raw file holding its response, relative to the
    lake's root (``raw/outlet=<id>/date=<D>/responses.warc.gz``), ``/``-separated on any
    lake."""
    return "/".join((*_partition_parts("raw", outlet, day), name))


def safe_name(text: str) -> str:
    """A run id as a file name: Airflow run ids carry ':' and '+'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def zone_uri(lake: str, zone: str) -> str:
    return join(lake_uri(lake), zone)


def partition_uri(lake: str, zone: str, outlet: str, day: dt.date) -> str:
    return join(lake_uri(lake), *_partition_parts(zone, outlet, day))


def runs_uri(lake: str, outlet: str, day: dt.date) -> str:
    return partition_uri(lake, "_runs", outlet, day)


def manifest_uri(lake: str, outlet: str, day: dt.date, run_id: str) -> str:
    return join(runs_uri(lake, outlet, day), f"{safe_name(run_id)}.json")


def validation_uri(lake: str, outlet: str, day: dt.date, run_id: str) -> str:
    """The Great Expectations results of a run, beside its manifest."""
    return join(runs_uri(lake, outlet, day), f"{safe_name(run_id)}.validation.json")


def staging_uri(lake: str, outlet: str, day: dt.date, run_id: str) -> str:
    """Scratch space of one run, inside the lake: shared by mapped tasks on any worker,
    and on the same filesystem as the partitions (a local publish is a rename)."""
    return join(lake_uri(lake), "_staging", f"outlet={outlet}", day.isoformat(), safe_name(run_id))


# --------------------------------------------------------------------------- filesystems


def storage_options(storage: Storage = None) -> dict[str, str]:
    """The storage options to use: ``storage`` when given, else the environment's."""
    chosen = dict(storage) if storage else storage_from_env()
    unknown = set(chosen) - set(STORAGE_KEYS)
    if unknown:
        raise NewslakeError(f"unknown storage options {sorted(unknown)}; known: {STORAGE_KEYS}")
    return {k: v for k, v in chosen.items() if v}


@functools.lru_cache(maxsize=16)
def _s3_filesystem(options: tuple[tuple[str, str], ...],
                   allow_bucket_creation: bool = False) -> pafs.S3FileSystem:
    opts = dict(options)
    kwargs: dict[str, Any] = {
        "region": opts.get("region") or "us-east-1",
        "connect_timeout": 10,
        "request_timeout": 60,
        "allow_bucket_creation": allow_bucket_creation,
    }
    if opts.get("access_key_id") and opts.get("secret_access_key"):
        kwargs["access_key"] = opts["access_key_id"]
        kwargs["secret_key"] = opts["secret_access_key"]
        if opts.get("session_token"):
            kwargs["session_token"] = opts["session_token"]
    endpoint = opts.get("endpoint_url")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme or "https"
    return pafs.S3FileSystem(**kwargs)


def filesystem(location: Location, storage: Storage = None) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem of ``location`` and the path inside it.

    ``s3://bucket/key`` → (``S3FileSystem``, ``bucket/key``); anything else → the local
    filesystem and an absolute path. Readers can use the pair directly, e.g.
    ``ds.dataset(path, filesystem=fs, partitioning="hive")``.
    """
    text = os.fspath(location)
    if is_s3(text):
        options = tuple(sorted(storage_options(storage).items()))
        return _s3_filesystem(options), text[len(S3_SCHEME) :].rstrip("/")
    return pafs.LocalFileSystem(), str(Path(text.removeprefix("file://")).resolve())


def ensure_bucket(location: Location, storage: Storage = None) -> str | None:
    """Create the bucket of an ``s3://bucket/…`` location unless it exists (the team
    stack's init step). The bucket's name, or None for a local location."""
    text = os.fspath(location)
    if not is_s3(text):
        return None
    bucket = text[len(S3_SCHEME):].split("/", 1)[0]
    fs = _s3_filesystem(tuple(sorted(storage_options(storage).items())), True)
    if fs.get_file_info(bucket).type == pafs.FileType.NotFound:
        fs.create_dir(bucket)
    return bucket


def _location(fs: pafs.FileSystem, path: str) -> str:
    return S3_SCHEME + path if isinstance(fs, pafs.S3FileSystem) else path


# --------------------------------------------------------------------------- I/O


def exists(location: Location, storage: Storage = None) -> bool:
    fs, path = filesystem(location, storage)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def read_bytes(location: Location, storage: Storage = None) -> bytes:
    fs, path = filesystem(location, storage)
    with fs.open_input_stream(path, compression=None) as stream:
        return bytes(stream.read())


def read_json(location: Location, storage: Storage = None) -> Any:
    return json.loads(read_bytes(location, storage))


@contextlib.contextmanager
def _written_aside(
    location: Location, storage: Storage = None
) -> Iterator[tuple[pafs.FileSystem, str]]:
    """The filesystem and path to write ``location`` at, so that it appears whole or not
    at all: readers see the old content or the new, never a part.

    Local: a hidden temporary file beside it (``.<name>.<uuid>.tmp``, same folder so the
    same filesystem), renamed into place when the block ends, removed when it raises.
    S3: the key itself (an upload is visible only once complete)."""
    fs, path = filesystem(location, storage)
    if not isinstance(fs, pafs.LocalFileSystem):
        yield fs, path
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield fs, str(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)


def write_bytes(location: Location, data: bytes, storage: Storage = None) -> None:
    """Write one file/object whole (``_written_aside``)."""
    with (_written_aside(location, storage) as (fs, path),
          fs.open_output_stream(path, compression=None) as out):
        out.write(data)


def write_json(path: Location, data: Any, storage: Storage = None) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    write_bytes(path, text.encode("utf-8"), storage)


def write_parquet(
    table: pa.Table, path: Location, sort_by: str | None = "published_at",
    storage: Storage = None,
) -> None:
    """Write one zstd Parquet file with statistics, rows sorted by ``sort_by``.

    On S3 the object is uploaded whole; no directory marker objects are created."""
    if sort_by and sort_by in table.column_names and table.num_rows:
        table = table.sort_by([(sort_by, "ascending"), ("url", "ascending")]
                              if "url" in table.column_names else [(sort_by, "ascending")])
    groups = (table.slice(start, ROW_GROUP_SIZE)
              for start in range(0, table.num_rows, ROW_GROUP_SIZE))
    write_parquet_groups(groups, table.schema, path, storage)


def write_parquet_groups(
    groups: Iterable[pa.Table], schema: pa.Schema, path: Location, storage: Storage = None
) -> None:
    """Write ``groups`` (each cast to ``schema``) as the row groups of one zstd Parquet
    file with statistics, in order: a day's rows need never be in memory at once. The
    file appears whole or not at all (``_written_aside``); on S3 no directory marker
    objects are created."""
    with (_written_aside(path, storage) as (fs, where),
          pq.ParquetWriter(where, schema, filesystem=fs, compression="zstd",
                           write_statistics=True) as writer):
        for rows in groups:
            writer.write_table(rows.cast(schema), max(1, rows.num_rows))


def rows_per_group(rows: int, total_bytes: int) -> int:
    """Rows a row group holds: ``ROW_GROUP_SIZE``, fewer when rows are large (bodies), so
    that a group stays near ``ROW_GROUP_BYTES`` in memory."""
    if not rows or not total_bytes:
        return ROW_GROUP_SIZE
    return max(1, min(ROW_GROUP_SIZE, ROW_GROUP_BYTES * rows // total_bytes))


def read_parquet(
    location: Location, schema: pa.Schema | None = None, storage: Storage = None,
    columns: list[str] | None = None, rows_with: tuple[str, list[str]] | None = None,
) -> pa.Table:
    """One Parquet file (``columns`` only, when given); ``rows_with=(column, values)``
    keeps the rows whose ``column`` is one of ``values``, filtered a batch at a time while
    the file is read (never whole in memory)."""
    fs, path = filesystem(location, storage)
    filters = [(rows_with[0], "in", rows_with[1])] if rows_with else None
    return pq.read_table(path, schema=schema, filesystem=fs, columns=columns,
                         filters=filters)


def parquet_schema(location: Location, storage: Storage = None) -> pa.Schema:
    """The schema of one Parquet file, from its footer."""
    fs, path = filesystem(location, storage)
    return pq.read_schema(path, filesystem=fs)


def upload(local_path: Location, location: Location, storage: Storage = None) -> None:
    """Put a local file at ``location`` whole (``_written_aside``)."""
    fs, path = filesystem(location, storage)
    if isinstance(fs, pafs.LocalFileSystem) and Path(local_path).resolve() == Path(path):
        return
    with _written_aside(location, storage) as (fs, where):
        if isinstance(fs, pafs.LocalFileSystem):
            shutil.copyfile(local_path, where)
            return
        with open(local_path, "rb") as src, fs.open_output_stream(where, compression=None) as out:
            shutil.copyfileobj(src, out, _COPY_BUFFER)


@contextlib.contextmanager
def local_copy(location: Location, storage: Storage = None, suffix: str = "") -> Iterator[str]:
    """A local path holding ``location``'s bytes: the file itself when local, else a
    downloaded temporary file, removed on exit."""
    fs, path = filesystem(location, storage)
    if isinstance(fs, pafs.LocalFileSystem):
        yield path
        return
    handle, tmp = tempfile.mkstemp(prefix="newslake-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out, fs.open_input_stream(path, compression=None) as src:
            shutil.copyfileobj(src, out, _COPY_BUFFER)
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def concatenate(sources: list[str], target: Location, storage: Storage = None) -> int:
    """Write the bytes of ``sources`` one after the other to ``target``, whole
    (``_written_aside``); return its size."""
    size = 0
    with (_written_aside(target, storage) as (fs, path),
          fs.open_output_stream(path, compression=None) as out):
        for source in sources:
            src_fs, src_path = filesystem(source, storage)
            with src_fs.open_input_stream(src_path, compression=None) as src:
                while chunk := src.read(_COPY_BUFFER):
                    out.write(chunk)
                    size += len(chunk)
    return size


def remove_tree(location: Location, storage: Storage = None) -> None:
    """Delete a folder / every object under a prefix; missing is fine."""
    fs, path = filesystem(location, storage)
    if isinstance(fs, pafs.LocalFileSystem):
        shutil.rmtree(path, ignore_errors=True)
        return
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_dir(path)


def list_files(location: Location, storage: Storage = None) -> list[pafs.FileInfo]:
    """The files (objects) under ``location``, recursively; none when it is missing."""
    fs, path = filesystem(location, storage)
    selector = pafs.FileSelector(path, recursive=True, allow_not_found=True)
    return [i for i in fs.get_file_info(selector) if i.type == pafs.FileType.File]


def list_manifest_uris(lake: str, outlet: str, day: dt.date, storage: Storage = None) -> list[str]:
    """The run manifests of an outlet-day (locations), oldest first. Any kind of lake."""
    folder = runs_uri(lake, outlet, day)
    fs, _ = filesystem(folder, storage)
    found = [
        i for i in list_files(folder, storage)
        if i.base_name.endswith(".json") and not i.base_name.endswith(".validation.json")
        and not i.base_name.startswith(".")
    ]
    found.sort(key=lambda i: (i.mtime_ns or 0, i.base_name))
    return [_location(fs, i.path) for i in found]


ZONE_SCHEMAS = {"articles": ARTICLE_FILE_SCHEMA, "quarantine": QUARANTINE_FILE_SCHEMA}


def dataset(lake: str, zone: str = "articles", storage: Storage = None) -> ds.Dataset | None:
    """A zone of the lake as a Hive-partitioned pyarrow dataset; None while it is empty."""
    fs, path = filesystem(zone_uri(lake, zone), storage)
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        return None
    # The record's current columns, whatever the first file found holds: files written
    # under an older schema_version lack newer columns, which read as null.
    file_schema = ZONE_SCHEMAS.get(zone)
    schema = None
    if file_schema is not None:
        schema = pa.schema([*file_schema, pa.field("outlet", pa.string()),
                            pa.field("date", pa.string())])
    return ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive", schema=schema)


# --------------------------------------------------------------------------- publishing


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


def _replace_dir(new_dir: Path, target: Path) -> None:
    """Make the folder ``new_dir`` the partition folder ``target`` (all of it: callers
    stage exactly the partition's one file there); readers see old or new, never a mix.

    When ``target`` exists the two directories are exchanged in one syscall, then the
    old contents are deleted. ``new_dir`` must be on the same filesystem
    (``publish_partition`` makes it so). Local lakes only.

    When a rename fails, the old partition is where it was: the fallback (no renameat2)
    moves it aside, and back again if the new folder cannot take its place.
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
    try:
        os.replace(new_dir, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old)


def _same_filesystem(a: Path, b: Path) -> bool:
    return os.stat(a).st_dev == os.stat(b).st_dev


def publish_partition(
    lake: str, zone: str, outlet: str, day: dt.date, staged_file: str, storage: Storage = None
) -> str:
    """Make the one staged file the partition ``zone/outlet=…/date=…``; return its location.

    Local: the staged file is hard-linked into a fresh folder beside it, which is exchanged
    with the partition folder in one ``renameat2`` call. When the zone is on another
    filesystem than the staging area (e.g. ``raw/`` a symlink to another disk), the folder
    is made beside the partition instead (a hidden ``.date=….publish-<id>``) and the file
    copied there, so the exchange is still one rename on one filesystem; a publish that
    fails leaves the old partition in place and removes its folder. S3: the staged object
    is copied server-side onto the partition's fixed object name (one CopyObject: the key
    holds the old bytes or the new, never a part), then any other object under the
    partition prefix is deleted (only a partition written by another layout has any).
    Either way the staged file stays where it is, so a retried publish (crash before the
    manifest) works.
    """
    name = ZONE_FILES[zone]
    if os.path.basename(staged_file) != name:
        raise NewslakeError(f"a {zone} partition is one file named {name}, not {staged_file}")
    return publish_file(staged_file, partition_uri(lake, zone, outlet, day), storage)


def publish_file(staged_file: str, target_dir: str, storage: Storage = None) -> str:
    """Make the one staged file the only file of the folder ``target_dir`` (same name),
    atomically as ``publish_partition`` describes; return its location. Any kind of lake."""
    name = os.path.basename(staged_file)
    target = join(target_dir, name)
    fs, target_path = filesystem(target, storage)
    if isinstance(fs, pafs.LocalFileSystem):
        staged = Path(staged_file).resolve()
        partition = Path(target_dir)
        partition.parent.mkdir(parents=True, exist_ok=True)
        if _same_filesystem(staged.parent, partition.parent):
            swap = staged.parent.with_name(f".publish-{uuid.uuid4().hex}")
        else:
            swap = partition.with_name(f".{partition.name}.publish-{uuid.uuid4().hex}")
        swap.mkdir(parents=True)
        try:
            try:
                os.link(staged, swap / name)
            except OSError:  # no hard links here: a copy, on the partition's filesystem
                shutil.copyfile(staged, swap / name)
            _replace_dir(swap, partition)
        except BaseException:
            shutil.rmtree(swap, ignore_errors=True)
            raise
        return target
    src_fs, src_path = filesystem(staged_file, storage)
    if src_fs is not fs:
        raise NewslakeError(f"{staged_file} is not in the same store as {target}")
    fs.copy_file(src_path, target_path)
    for info in list_files(target_dir, storage):
        if info.path != target_path:
            fs.delete_file(info.path)
    return target


def collect_stale_staging(
    lake: str, outlet: str, *, older_than_s: float, keep: str = "",
    storage: Storage = None, now: float | None = None,
) -> list[str]:
    """Remove the staging of an outlet's runs whose files are all older than
    ``older_than_s`` seconds (a killed run, a failed run nobody retries), except the run
    staged at ``keep``; return the removed locations. Any kind of lake (file times are the
    store's: mtime locally, LastModified on S3)."""
    root = join(lake_uri(lake), "_staging", f"outlet={outlet}")
    fs, base = filesystem(root, storage)
    _, kept = filesystem(keep, storage) if keep else (fs, "")
    newest: dict[str, int] = {}
    for info in list_files(root, storage):
        day_run = info.path[len(base):].strip("/").split("/")[:2]
        if len(day_run) == 2:  # <day>/<run>/...
            run_path = "/".join([base, *day_run])
            newest[run_path] = max(newest.get(run_path, 0), info.mtime_ns or 0)
    cutoff_ns = int(((time.time() if now is None else now) - older_than_s) * 1e9)
    removed = []
    for run_path, mtime_ns in sorted(newest.items()):
        if run_path != kept and mtime_ns < cutoff_ns:
            location = _location(fs, run_path)
            remove_tree(location, storage)
            removed.append(location)
            if isinstance(fs, pafs.LocalFileSystem):  # an emptied day folder goes too
                with contextlib.suppress(OSError):
                    Path(run_path).parent.rmdir()
    return removed
