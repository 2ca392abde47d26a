"""Stories, not copies: near-duplicate and syndicated articles grouped across outlets and days.

Two zones, both derived from ``articles/`` (ingest never waits for them)::

    <lake>/signatures/outlet=<id>/date=<D>/src-<size>-<mtime>.parquet  one MinHash per article
    <lake>/stories/date=<D>/part-00000.parquet                         every article of day D
    <lake>/_stories/date=<D>.json                                      how that file was built

**Signatures** (``build_signatures``): each article's body, NFKC-normalised, lower-cased and
cut into overlapping ``SHINGLE_WORDS``-word shingles, is summarised by a ``NUM_PERM``-value
MinHash (``datasketch``). They are computed once per article partition and kept, with the
few columns a story row needs (url, title, published_at), so grouping a day never reads
article bodies. The file's name records the articles partition it was computed from
(size and modification second, as ``newslake.compact`` fingerprints it): listing the two
zones tells which signatures are stale, without opening a file.

**Stories** (``build_stories``): an article belongs to the story of the *earliest* earlier
article (``published_at``, then ``article_id``) whose estimated Jaccard similarity to it is
at least ``threshold``, among the articles of its day and the ``window_days - 1`` days
before it (all outlets; candidates found by MinHash LSH, then checked on the signatures).
With no such article it is an ``original`` and starts a story whose ``story_id`` is its own
``article_id``. So:

- a ``story_id`` is the ``article_id`` of the story's first article, and an article's
  ``story_id`` depends only on articles published *before* it: later days never change
  the rows of earlier days (they may only join their stories);
- a day's rows are a function of the signatures of its window and of the story rows of
  the window's earlier days. Its manifest records both (signature file names, digests of
  the earlier days' rows) and the parameters; ``build_stories`` walks the days in order and
  rebuilds exactly those whose inputs differ. A backfill of day D (new articles, a rerun)
  rebuilds D, then the following days whose window holds D, then any later day whose
  earlier days' rows changed in turn. Rebuilding with unchanged inputs writes the same
  rows, and each day is replaced whole (``lake.publish_file``), so reruns are idempotent.

``similarity`` is the estimated Jaccard similarity to the story's first article (1.0 for
the original; null when the first article is older than the window, a chain of copies).
``kind`` is ``original``, ``near_identical`` (similarity at least ``NEAR_IDENTICAL``) or
``shares_text``. ``matched_article_id`` is the earlier article it matched directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import time
import unicodedata
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import regex
from datasketch import MinHash, MinHashLSH

from newslake import compact, lake
from newslake.errors import NewslakeError
from newslake.lake import Storage

log = logging.getLogger(__name__)

SIGNATURES = "signatures"
ZONE = "stories"
MANIFEST_ZONE = "_stories"
FILE = lake.PARQUET_FILE
# MinHash parameters. Changing any of them makes every signature incomparable with the
# old ones: delete the signatures/ zone (it is rebuilt from articles/) when you do.
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
SHINGLE_WORDS = 5
# Defaults, overridable per call (the DAG reads Airflow Variables). THRESHOLD comes from
# bench/story_groups.py's precision/recall curve on the demo newsroom's syndicated copies.
WINDOW_DAYS = 3
THRESHOLD = 0.5
NEAR_IDENTICAL = 0.9
# LSH finds candidates above a lower threshold than the one they must then pass: band
# collisions are probabilistic, and a candidate costs only one comparison of signatures.
LSH_MARGIN = 0.15
# Days (re)built by one call: more stale days are built by the next call.
MAX_DAYS = 400
KINDS = ("original", "near_identical", "shares_text")

_WORD_RE = regex.compile(r"\w+")
_SIG_NAME = re.compile(r"^src-(\d+)-(\d+)\.parquet$")
_DATE_DIR = re.compile(r"date=(\d{4}-\d{2}-\d{2})$")
_OUTLET_DIR = re.compile(r"outlet=([^/]+)$")

SIGNATURE_SCHEMA = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("published_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("content_hash", pa.string(), nullable=False),
    pa.field("shingles", pa.int32(), nullable=False),
    pa.field("minhash", pa.list_(pa.uint32(), NUM_PERM), nullable=False),
])

STORY_SCHEMA = pa.schema([
    pa.field("article_id", pa.string(), nullable=False),
    pa.field("outlet", pa.string(), nullable=False),
    pa.field("url", pa.string(), nullable=False),
    pa.field("title", pa.string(), nullable=False),
    pa.field("published_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("story_id", pa.string(), nullable=False),
    pa.field("first_outlet", pa.string(), nullable=False),
    pa.field("first_published_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("similarity", pa.float32()),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("matched_article_id", pa.string()),
])


# --------------------------------------------------------------------------- signatures


def shingles(body: str, words: int = SHINGLE_WORDS) -> set[bytes]:
    """The body's overlapping ``words``-word shingles (NFKC, lower case, words only)."""
    tokens = _WORD_RE.findall(unicodedata.normalize("NFKC", body).lower())
    if len(tokens) <= words:
        return {" ".join(tokens).encode("utf-8")} if tokens else set()
    return {" ".join(tokens[i:i + words]).encode("utf-8")
            for i in range(len(tokens) - words + 1)}


_PERMUTATIONS: Any = None


def minhash(body: str) -> tuple[np.ndarray, int]:
    """The body's MinHash values (``NUM_PERM`` uint32) and its number of shingles."""
    global _PERMUTATIONS
    if _PERMUTATIONS is None:  # drawn once: every signature uses the same permutations
        _PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    found = shingles(body)
    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_PERMUTATIONS)
    sketch.update_batch(sorted(found))
    return np.asarray(sketch.hashvalues, dtype=np.uint32), len(found)


def signature_table(rows: pa.Table) -> pa.Table:
    """Signature rows of article rows (columns article_id, url, title, published_at,
    content_hash, body), in ``article_id`` order."""
    rows = rows.sort_by("article_id")
    values = np.empty((rows.num_rows, NUM_PERM), dtype=np.uint32)
    counts = []
    for i, body in enumerate(rows.column("body").to_pylist()):
        values[i], count = minhash(body or "")
        counts.append(count)
    flat = pa.array(values.reshape(-1), pa.uint32())
    return pa.Table.from_arrays(
        [rows.column("article_id"), rows.column("url"), rows.column("title"),
         rows.column("published_at"), rows.column("content_hash"),
         pa.array(counts, pa.int32()), pa.FixedSizeListArray.from_arrays(flat, NUM_PERM)],
        schema=SIGNATURE_SCHEMA)


def _name(fingerprint: str) -> str:
    size, mtime = fingerprint.split(":")
    return f"src-{size}-{mtime}.parquet"


def _walk(zone_uri: str, storage: Storage) -> dict[dt.date, dict[str, pafs.FileInfo]]:
    found: dict[dt.date, dict[str, pafs.FileInfo]] = {}
    for info in lake.list_files(zone_uri, storage):
        parts = info.path.rstrip("/").split("/")
        if len(parts) < 3 or info.base_name.startswith("."):
            continue
        day_match, outlet_match = _DATE_DIR.search(parts[-2]), _OUTLET_DIR.search(parts[-3])
        if day_match and outlet_match:
            day = dt.date.fromisoformat(day_match.group(1))
            found.setdefault(day, {})[outlet_match.group(1)] = info
    return found


def signature_partitions(lake_uri: str, storage: Storage = None) -> dict[dt.date, dict[str, str]]:
    """Every signatures partition: day → outlet → the articles fingerprint it was built
    from (its file name). One listing of the zone."""
    found: dict[dt.date, dict[str, str]] = {}
    for day, outlets in _walk(lake.zone_uri(lake_uri, SIGNATURES), storage).items():
        for outlet, info in outlets.items():
            m = _SIG_NAME.match(info.base_name)
            found.setdefault(day, {})[outlet] = f"{m.group(1)}:{m.group(2)}" if m else "?"
    return found


def stale_signatures(lake_uri: str, storage: Storage = None) -> list[tuple[str, dt.date]]:
    """(outlet, day) of the articles partitions without up-to-date signatures, and of the
    signatures left without articles (their removal), oldest day first."""
    articles = compact.source_partitions(lake_uri, storage)
    built = signature_partitions(lake_uri, storage)
    stale = {(outlet, day) for day, outlets in articles.items()
             for outlet, fp in outlets.items() if built.get(day, {}).get(outlet) != fp}
    stale |= {(outlet, day) for day, outlets in built.items()
              for outlet in outlets if outlet not in articles.get(day, {})}
    return sorted(stale, key=lambda od: (od[1], od[0]))


def build_signatures(lake_uri: str, outlet: str, day: dt.date,
                     storage: Storage = None) -> dict[str, Any]:
    """(Re)compute the signatures of one articles partition and replace its signatures
    partition atomically; remove it when the articles partition is gone."""
    source = lake.join(lake.partition_uri(lake_uri, "articles", outlet, day), lake.PARQUET_FILE)
    target_dir = lake.partition_uri(lake_uri, SIGNATURES, outlet, day)
    fs, path = lake.filesystem(source, storage)
    info = fs.get_file_info(path)
    if info.type != pafs.FileType.File:
        lake.remove_tree(target_dir, storage)
        return {"outlet": outlet, "date": day.isoformat(), "rows": 0, "removed": True}
    fingerprint = f"{info.size}:{(info.mtime_ns or 0) // 1_000_000_000}"
    rows = lake.read_parquet(source, storage=storage, columns=[
        "article_id", "url", "title", "published_at", "content_hash", "body"])
    table = signature_table(rows)
    staging = lake.join(lake.lake_uri(lake_uri), "_staging", SIGNATURES, outlet,
                        day.isoformat(), uuid.uuid4().hex)
    try:
        staged = lake.join(staging, _name(fingerprint))
        lake.write_parquet(table, staged, sort_by=None, storage=storage)
        lake.publish_file(staged, target_dir, storage)
    finally:
        lake.remove_tree(staging, storage)
        if not lake.is_s3(staging):  # and its day and outlet folders, once unused
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(staging))
                os.rmdir(os.path.dirname(os.path.dirname(staging)))
    return {"outlet": outlet, "date": day.isoformat(), "rows": table.num_rows, "removed": False}


def _read_signatures(lake_uri: str, day: dt.date, outlets: dict[str, str],
                     storage: Storage) -> Iterator[tuple[str, pa.Table]]:
    """The day's signature partitions, one outlet at a time (never all in memory)."""
    for outlet, fingerprint in sorted(outlets.items()):
        uri = lake.join(lake.partition_uri(lake_uri, SIGNATURES, outlet, day), _name(fingerprint))
        yield outlet, lake.read_parquet(uri, schema=SIGNATURE_SCHEMA, storage=storage)


# --------------------------------------------------------------------------- grouping


@dataclass(frozen=True)
class Window:
    """The signatures of a day's window, all outlets, one row each (arrays in step).
    ``url`` and ``title`` are kept for the grouped day's rows only (None elsewhere)."""

    article_id: list[str]
    outlet: list[str]
    url: list[str | None]
    title: list[str | None]
    published_us: np.ndarray  # int64 microseconds since the epoch, UTC
    values: np.ndarray  # (rows, NUM_PERM) uint32
    today: np.ndarray  # bool: the row belongs to the day being grouped

    @classmethod
    def of(cls, tables: Iterable[tuple[str, pa.Table, bool]]) -> Window:
        """``tables``: (outlet, signature rows, is the grouped day) triples, consumed one
        at a time: only their signatures (as one matrix) and ids are kept."""
        ids: list[str] = []
        outlets: list[str] = []
        urls: list[str | None] = []
        titles: list[str | None] = []
        stamps, blocks, today = [], [], []
        for outlet, table, is_today in tables:
            n = table.num_rows
            ids += table.column("article_id").to_pylist()
            outlets += [outlet] * n
            urls += table.column("url").to_pylist() if is_today else [None] * n
            titles += table.column("title").to_pylist() if is_today else [None] * n
            stamps.append(table.column("published_at").cast(pa.int64()).to_numpy())
            flat = table.column("minhash").combine_chunks().flatten().to_numpy()
            blocks.append(np.asarray(flat, dtype=np.uint32).reshape(n, NUM_PERM))
            today.append(np.full(n, is_today))
        values = np.empty((sum(len(b) for b in blocks), NUM_PERM), np.uint32)
        at = 0
        while blocks:  # into one matrix, each block freed once copied
            block = blocks.pop(0)
            values[at:at + len(block)] = block
            at += len(block)
        return cls(ids, outlets, urls, titles,
                   np.concatenate(stamps) if stamps else np.empty(0, np.int64), values,
                   np.concatenate(today) if today else np.empty(0, bool))


@dataclass(frozen=True)
class Earlier:
    """What a story row of an earlier day says about an article."""

    story_id: str
    first_outlet: str
    first_published_us: int


def bands(threshold: float) -> tuple[int, int]:
    """(bands, rows per band) for an LSH at ``threshold``: datasketch's choice, which
    weighs false positives and false negatives equally (``MinHashLSH`` ``b`` and ``r``)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return int(lsh.b), int(lsh.r)


def candidate_pairs(values: np.ndarray, today: np.ndarray, rank: np.ndarray,
                    threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(later, earlier) row pairs that share a whole LSH band, ``later`` in ``today``.

    The banding of datasketch's ``MinHashLSH`` (same bands), done with numpy over the
    window's signature matrix: its index holds Python bytes per band and row, which took
    minutes and over 2 GiB for a 150k-article window (bench/story_groups.py)."""
    b, r = bands(max(0.05, threshold - LSH_MARGIN))
    later: list[np.ndarray] = []
    earlier: list[np.ndarray] = []
    for band in range(b):
        cols = values[:, band * r:(band + 1) * r].astype(np.uint64)
        key = np.zeros(len(values), np.uint64)
        for c in range(r):  # FNV-style mixing of the band's values into one 64-bit key
            key = (key * np.uint64(0x100000001B3)) ^ cols[:, c]
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        sizes = np.diff(np.r_[starts, len(order)])
        pairs = starts[sizes == 2]  # most shared bands are one pair: done as arrays
        x, y = order[pairs], order[pairs + 1]
        first_later = rank[x] > rank[y]
        a, c = np.where(first_later, x, y), np.where(first_later, y, x)
        keep = today[a]
        later.append(a[keep])
        earlier.append(c[keep])
        for start, size in zip(starts[sizes > 2], sizes[sizes > 2], strict=True):
            members = order[start:start + size]
            members = members[np.argsort(rank[members])]
            for k in range(1, size):
                if today[members[k]]:
                    later.append(np.full(k, members[k]))
                    earlier.append(members[:k])
    if not later:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pairs = np.unique(np.stack([np.concatenate(later), np.concatenate(earlier)]), axis=1)
    return pairs[0].astype(np.int64), pairs[1].astype(np.int64)


def similarities(values: np.ndarray, a: np.ndarray, b: np.ndarray,
                 chunk: int = 65536) -> np.ndarray:
    """Estimated Jaccard similarity of rows ``a[k]`` and ``b[k]`` (share of equal values)."""
    out = np.empty(len(a), np.float64)
    for start in range(0, len(a), chunk):
        sl = slice(start, start + chunk)
        out[sl] = (values[a[sl]] == values[b[sl]]).mean(axis=1)
    return out


def group(window: Window, earlier: dict[str, Earlier], threshold: float = THRESHOLD) -> pa.Table:
    """The story rows of the window's ``today`` rows (``STORY_SCHEMA``, in published
    order). ``earlier``: the story rows of the window's earlier days, by article_id."""
    n = len(window.article_id)
    # Published order with a deterministic tie-break: the rank is the "earlier than".
    order = pc.sort_indices(
        pa.table({"p": window.published_us, "id": window.article_id}),
        sort_keys=[("p", "ascending"), ("id", "ascending")]).to_numpy().tolist()
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    later, before = candidate_pairs(window.values, window.today, rank, threshold)
    sims = similarities(window.values, later, before)
    passing = sims >= threshold
    later, before = later[passing], before[passing]
    parents: dict[int, int] = {}
    for i, j in zip(later.tolist(), before.tolist(), strict=True):
        if i not in parents or rank[j] < rank[parents[i]]:
            parents[i] = j
    index = {aid: i for i, aid in enumerate(window.article_id)}
    assigned: dict[int, Earlier] = {}
    out: dict[str, list[Any]] = {name: [] for name in STORY_SCHEMA.names}
    for i in order:
        if not window.today[i]:
            continue
        parent = parents.get(i)
        if parent is None:
            story = Earlier(window.article_id[i], window.outlet[i], int(window.published_us[i]))
            similarity: float | None = 1.0
            kind = "original"
        else:
            pid = window.article_id[parent]
            story = assigned.get(parent) or earlier.get(pid) or Earlier(
                pid, window.outlet[parent], int(window.published_us[parent]))
            first = index.get(story.story_id)
            similarity = (None if first is None else
                          float((window.values[first] == window.values[i]).mean()))
            direct = float((window.values[parent] == window.values[i]).mean())
            kind = ("near_identical" if (similarity if similarity is not None else direct)
                    >= NEAR_IDENTICAL else "shares_text")
        assigned[i] = story
        out["article_id"].append(window.article_id[i])
        out["outlet"].append(window.outlet[i])
        out["url"].append(window.url[i])
        out["title"].append(window.title[i])
        out["published_at"].append(int(window.published_us[i]))
        out["story_id"].append(story.story_id)
        out["first_outlet"].append(story.first_outlet)
        out["first_published_at"].append(story.first_published_us)
        out["similarity"].append(similarity)
        out["kind"].append(kind)
        out["matched_article_id"].append(None if parent is None else window.article_id[parent])
    columns = []
    for field in STORY_SCHEMA:
        values = out[field.name]
        if pa.types.is_timestamp(field.type):
            columns.append(pa.array(values, pa.int64()).cast(field.type))
        else:
            columns.append(pa.array(values, field.type))
    return pa.Table.from_arrays(columns, schema=STORY_SCHEMA)


def digest(table: pa.Table) -> str:
    """A digest of a day's story rows, independent of file bytes and row order."""
    h = hashlib.sha256()
    rows = zip(table.column("article_id").to_pylist(), table.column("story_id").to_pylist(),
               table.column("kind").to_pylist(), table.column("similarity").to_pylist(),
               strict=True)
    for article_id, story_id, kind, sim in sorted(rows):
        h.update(f"{article_id}\t{story_id}\t{kind}\t{sim}\n".encode())
    return h.hexdigest()


# --------------------------------------------------------------------------- the zone


def day_uri(lake_uri: str, day: dt.date) -> str:
    return lake.join(lake.lake_uri(lake_uri), ZONE, f"date={day.isoformat()}")


def manifest_uri(lake_uri: str, day: dt.date) -> str:
    return lake.join(lake.lake_uri(lake_uri), MANIFEST_ZONE, f"date={day.isoformat()}.json")


def read_day(lake_uri: str, day: dt.date, storage: Storage = None) -> pa.Table:
    """The story rows of a day (empty when it has none)."""
    uri = lake.join(day_uri(lake_uri, day), FILE)
    if not lake.exists(uri, storage):
        return STORY_SCHEMA.empty_table()
    return lake.read_parquet(uri, schema=STORY_SCHEMA, storage=storage)


def _window_days(day: dt.date, window_days: int) -> list[dt.date]:
    return [day - dt.timedelta(days=k) for k in range(window_days - 1, -1, -1)]


def _built_days(lake_uri: str, storage: Storage) -> set[dt.date]:
    return {dt.date.fromisoformat(m.group(1))
            for info in lake.list_files(lake.zone_uri(lake_uri, MANIFEST_ZONE), storage)
            if (m := re.match(r"date=(\d{4}-\d{2}-\d{2})\.json$", info.base_name))}


def _earlier(lake_uri: str, days: Iterable[dt.date], storage: Storage) -> dict[str, Earlier]:
    found: dict[str, Earlier] = {}
    for day in days:
        table = read_day(lake_uri, day, storage)
        stamps = table.column("first_published_at").cast(pa.int64()).to_pylist()
        for aid, sid, first_outlet, stamp in zip(
                table.column("article_id").to_pylist(), table.column("story_id").to_pylist(),
                table.column("first_outlet").to_pylist(), stamps, strict=True):
            found[aid] = Earlier(sid, first_outlet, stamp)
    return found


def build_day(lake_uri: str, day: dt.date, signatures: dict[dt.date, dict[str, str]],
              window_days: int, threshold: float, storage: Storage = None) -> pa.Table:
    """Group one day against its window and replace ``stories/date=<day>`` atomically;
    the rows written. ``signatures``: ``signature_partitions``' answer."""
    days = _window_days(day, window_days)
    tables = ((outlet, table, d == day) for d in days
              for outlet, table in _read_signatures(lake_uri, d, signatures.get(d, {}), storage))
    rows = group(Window.of(tables), _earlier(lake_uri, days[:-1], storage), threshold)
    staging = lake.join(lake.lake_uri(lake_uri), "_staging", ZONE, day.isoformat(),
                        uuid.uuid4().hex)
    try:
        staged = lake.join(staging, FILE)
        lake.write_parquet(rows, staged, sort_by="published_at", storage=storage)
        lake.publish_file(staged, day_uri(lake_uri, day), storage)
    finally:
        lake.remove_tree(staging, storage)
        if not lake.is_s3(staging):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(staging))
    return rows


def build_stories(lake_uri: str, storage: Storage = None, *, window_days: int = WINDOW_DAYS,
                  threshold: float = THRESHOLD, max_days: int = MAX_DAYS) -> list[dict[str, Any]]:
    """Bring ``stories/`` up to date with ``signatures/``, oldest day first; the
    manifests of the days rebuilt or removed (at most ``max_days``; the rest next call)."""
    if window_days < 1 or not 0 < threshold <= 1:
        raise NewslakeError(f"stories: window_days {window_days} must be ≥ 1 and threshold "
                            f"{threshold} in (0, 1]")
    signatures = signature_partitions(lake_uri, storage)
    bad = sorted(f"{o}/{d}" for d, outlets in signatures.items()
                 for o, fp in outlets.items() if fp == "?")
    if bad:
        raise NewslakeError(f"signatures/ partitions with an unexpected file name: {bad}")
    params = {"window_days": window_days, "threshold": threshold, "num_perm": NUM_PERM,
              "seed": SEED, "scheme": SCHEME, "shingle_words": SHINGLE_WORDS}
    digests: dict[dt.date, str] = {}
    done: list[dict[str, Any]] = []
    for day in sorted(set(signatures) | _built_days(lake_uri, storage)):
        uri = manifest_uri(lake_uri, day)
        recorded = lake.read_json(uri, storage) if lake.exists(uri, storage) else None
        if day not in signatures:  # no articles any more: the day goes
            lake.remove_tree(day_uri(lake_uri, day), storage)
            fs, path = lake.filesystem(uri, storage)
            if fs.get_file_info(path).type == pafs.FileType.File:
                fs.delete_file(path)
            done.append({"date": day.isoformat(), "rows": 0, "removed": True})
            continue
        window = _window_days(day, window_days)
        inputs = {
            "params": params,
            "signatures": {f"{d.isoformat()}/{o}": fp for d in window
                           for o, fp in sorted(signatures.get(d, {}).items())},
            "earlier": {d.isoformat(): digests[d] for d in window[:-1] if d in digests},
        }
        if recorded is not None and recorded.get("inputs") == inputs:
            digests[day] = recorded["digest"]
            continue
        if len(done) >= max_days:
            break
        started = time.monotonic()
        rows = build_day(lake_uri, day, signatures, window_days, threshold, storage)
        kinds = rows.column("kind").to_pylist()
        manifest = {
            "date": day.isoformat(),
            "built_at": dt.datetime.now(dt.UTC).isoformat(),
            "inputs": inputs,
            "digest": digest(rows),
            "rows": rows.num_rows,
            "originals": kinds.count("original"),
            "copies": rows.num_rows - kinds.count("original"),
            "seconds": round(time.monotonic() - started, 3),
        }
        lake.write_json(uri, manifest, storage)
        digests[day] = manifest["digest"]
        log.info("stories %s: %d articles, %d copies in %.1f s", day, manifest["rows"],
                 manifest["copies"], manifest["seconds"])
        done.append(manifest)
    return done
