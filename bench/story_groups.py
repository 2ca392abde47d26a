"""Issue 19: story groups — their quality on the demo newsroom, their cost at scale.

**Quality.** The demo newsroom's articles of UTC days ``--first`` … ``--last`` (all four
outlets; the catalog's text, as the pages serve it) are signed with
``newslake.stories.minhash`` and grouped day by day with ``newslake.stories.group``
(window ``--window`` days), at every threshold of a curve. The groups are compared with
the true ones (``demo_site.syndication.story_groups``: each wire story with its Bayside
and Metro copies, each republished Metro story with its source; every other article,
the same-topic decoys included, is a story of its own): pairwise precision and recall
(a pair of articles is predicted when they share a ``story_id``, true when they share a
true group). The threshold in the middle of the run of thresholds with the best F1 is
printed, with recall by kind of copy.

**Scale.** A day of ``--articles`` synthetic articles against windows of 1, 2, 3, 5 and 7
days: signatures written as the zone lays them out (``--outlets`` outlets), then
``newslake.stories.build_day`` (reads the window's signatures, groups, writes the day) in
a child process per window — seconds and peak RSS. The synthetic signatures are what
MinHash gives: random values for unrelated texts; ``--copy-share`` of a day's articles
are copies of an earlier article with a fifth of their values redrawn (Jaccard ≈ 0.8).
Also the cost of signing real bodies (ms an article, demo newsroom text).

    .venv/bin/python bench/story_groups.py [--first 2026-05-01 --last 2026-05-28]
        [--articles 50000] [--outlets 100] [--windows 1,2,3,5,7] [--skip-scale]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from _common import peak_rss_mib, report

from newslake import stories

THRESHOLDS = [round(t, 2) for t in np.arange(0.1, 0.96, 0.05)]
OUTLETS = ("demo_bayside_press", "demo_metro_ledger", "demo_dnipro_visti", "demo_harbor_wire")
SCALE_DAY = dt.date(2025, 1, 10)


# --------------------------------------------------------------------------- quality


def _demo_days(first: dt.date, last: dt.date) -> tuple[dict[dt.date, list[tuple[str, pa.Table]]],
                                                       float, int]:
    """Signature tables of the demo's good articles by UTC day; ms per article signed."""
    from demo_site import catalog

    days: dict[dt.date, list[tuple[str, pa.Table]]] = {}
    signed, started = 0, time.perf_counter()
    day = first
    while day <= last:
        for outlet in OUTLETS:
            good = [a for a in catalog.articles_for(outlet, day) if a.is_article_ok]
            rows = pa.table({
                "article_id": [a.path for a in good], "url": [a.path for a in good],
                "title": [a.title for a in good],
                "published_at": pa.array([a.published_at for a in good],
                                         pa.timestamp("us", tz="UTC")),
                "content_hash": [""] * len(good), "body": [a.body for a in good]})
            days.setdefault(day, []).append((outlet, stories.signature_table(rows)))
            signed += len(good)
        day += dt.timedelta(days=1)
    return days, (time.perf_counter() - started) * 1000 / max(signed, 1), signed


def _group_all(days: dict[dt.date, list[tuple[str, pa.Table]]], window: int,
               threshold: float) -> dict[str, str]:
    """article (path) → story_id, every day grouped in order as the DAG does."""
    story: dict[str, str] = {}
    earlier: dict[str, stories.Earlier] = {}
    for day in sorted(days):
        span = [day - dt.timedelta(days=k) for k in range(window - 1, -1, -1)]
        tables = [(o, t, d == day) for d in span for o, t in days.get(d, [])]
        rows = stories.group(stories.Window.of(tables), earlier, threshold)
        stamps = rows.column("first_published_at").cast(pa.int64()).to_pylist()
        for aid, sid, first_outlet, stamp in zip(
                rows.column("article_id").to_pylist(), rows.column("story_id").to_pylist(),
                rows.column("first_outlet").to_pylist(), stamps, strict=True):
            story[aid] = sid
            earlier[aid] = stories.Earlier(sid, first_outlet, stamp)
    return story


def _pairs(groups: list[set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in groups for a, b in itertools.combinations(sorted(g), 2)}


def quality(first: dt.date, last: dt.date, window: int) -> dict[str, Any]:
    from demo_site import syndication

    days, ms_per_article, signed = _demo_days(first, last)
    universe = {aid for tables in days.values() for _, t in tables
                for aid in t.column("article_id").to_pylist()}
    truth = [set(g) & universe for g in syndication.story_groups(
        first - dt.timedelta(days=2), last + dt.timedelta(days=1))]
    truth = [g for g in truth if len(g) > 1]
    true_pairs = _pairs(truth)
    kinds: dict[tuple[str, str], str] = {}
    for d in range((last - first).days + 3):
        for key in (syndication.BAYSIDE, syndication.METRO):
            for c in syndication.copies(key, first - dt.timedelta(days=1) + dt.timedelta(d)):
                pair = tuple(sorted((c.source_path, c.copy_path)))
                kinds[(pair[0], pair[1])] = c.how.split(" (")[0] + (
                    f" ({key.split('_')[1]})" if c.how.startswith("wire") else "")
    curve: list[dict[str, Any]] = []
    for threshold in THRESHOLDS:
        story = _group_all(days, window, threshold)
        groups: dict[str, set[str]] = {}
        for aid, sid in story.items():
            groups.setdefault(sid, set()).add(aid)
        predicted = _pairs(list(groups.values()))
        tp = len(predicted & true_pairs)
        precision = tp / len(predicted) if predicted else 1.0
        recall = tp / len(true_pairs) if true_pairs else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        by_kind: dict[str, list[int]] = {}
        for pair, how in kinds.items():
            if pair[0] in universe and pair[1] in universe:
                hit = by_kind.setdefault(how, [0, 0])
                hit[1] += 1
                hit[0] += pair in predicted
        curve.append({"threshold": threshold, "precision": round(precision, 3),
                      "recall": round(recall, 3), "f1": round(f1, 3),
                      "predicted_pairs": len(predicted), "true_pairs": len(true_pairs),
                      "direct_recall": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())}})
    top = max(float(c["f1"]) for c in curve)  # the middle of the best plateau: margin both ways
    plateau = [c for c in curve if c["f1"] == top]
    best = plateau[(len(plateau) - 1) // 2]
    return {"days": f"{first}..{last}", "articles": len(universe), "true_groups": len(truth),
            "window_days": window, "curve": curve, "best": best,
            "sign_ms_per_article": round(ms_per_article, 2), "signed": signed}


# --------------------------------------------------------------------------- scale


def _synthetic(lake_uri: str, articles: int, outlets: int, window: int, share: float) -> None:
    """Signature partitions of ``window`` days ending on SCALE_DAY, ``articles`` a day."""
    from newslake import lake

    rng = np.random.default_rng(19)
    pool = np.empty((0, stories.NUM_PERM), np.uint32)
    for k in range(window - 1, -1, -1):
        day = SCALE_DAY - dt.timedelta(days=k)
        values = rng.integers(0, 2**32, (articles, stories.NUM_PERM), dtype=np.uint32)
        copies = int(articles * share)
        if copies:
            source = np.vstack([pool, values[:articles - copies]])
            values[articles - copies:] = source[rng.integers(0, len(source), copies)]
            redraw = rng.random((copies, stories.NUM_PERM)) < 0.2
            values[articles - copies:][redraw] = rng.integers(0, 2**32, int(redraw.sum()),
                                                               dtype=np.uint32)
        pool = np.vstack([pool, values])
        start = np.datetime64(day.isoformat(), "us").astype(np.int64)
        stamps = np.sort(start + rng.integers(0, 86_400_000_000, articles))
        per = -(-articles // outlets)
        for o in range(outlets):
            sl = slice(o * per, min((o + 1) * per, articles))
            n = sl.stop - sl.start
            if n <= 0:
                continue
            ids = [f"{day}-{o}-{i}" for i in range(n)]
            table = pa.Table.from_arrays([
                pa.array(ids), pa.array([f"https://o{o}.example/{i}" for i in ids]),
                pa.array([f"Title {i}" for i in ids]),
                pa.array(stamps[sl], pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                pa.array([""] * n), pa.array([300] * n, pa.int32()),
                pa.FixedSizeListArray.from_arrays(
                    pa.array(values[sl].reshape(-1), pa.uint32()), stories.NUM_PERM)],
                schema=stories.SIGNATURE_SCHEMA)
            target = lake.join(lake.partition_uri(lake_uri, stories.SIGNATURES, f"o{o:04d}", day),
                               "src-1-1.parquet")
            lake.write_parquet(table, target, sort_by=None)


def _peak_rss_of_this_program_mib() -> float:
    """VmHWM: the peak RSS of this program since its exec. ``ru_maxrss`` is not reset by
    exec on Linux: a child would report its parent's peak when that was larger."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return peak_rss_mib()


def _scale_child(lake_uri: str, window: int) -> None:
    signatures = stories.signature_partitions(lake_uri)
    started = time.perf_counter()
    rows = stories.build_day(lake_uri, SCALE_DAY, signatures, window, stories.THRESHOLD)
    seconds = time.perf_counter() - started
    kinds = rows.column("kind").to_pylist()
    print(json.dumps({"window_days": window, "seconds": round(seconds, 2),
                      "peak_rss_mib": round(_peak_rss_of_this_program_mib(), 1),
                      "rows": rows.num_rows,
                      "copies": len(kinds) - kinds.count("original")}))


def scale(articles: int, outlets: int, windows: list[int], share: float) -> list[dict[str, Any]]:
    found = []
    with tempfile.TemporaryDirectory(prefix="stories-bench-") as root:
        lake_uri = str(Path(root) / "lake")
        _synthetic(lake_uri, articles, outlets, max(windows), share)
        for window in windows:
            out = subprocess.run([sys.executable, __file__, "--scale-child", lake_uri,
                                  "--window", str(window)], check=True, capture_output=True,
                                 text=True).stdout
            found.append(json.loads(out.strip().splitlines()[-1]))
            print(found[-1], flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2026, 5, 1))
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2026, 5, 28))
    parser.add_argument("--window", type=int, default=stories.WINDOW_DAYS)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--outlets", type=int, default=100)
    parser.add_argument("--windows", default="1,2,3,5,7")
    parser.add_argument("--copy-share", type=float, default=0.1)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--scale-child", metavar="LAKE")
    args = parser.parse_args()
    if args.scale_child:
        _scale_child(args.scale_child, args.window)
        return
    figures: dict[str, Any] = {}
    if not args.skip_quality:
        figures["quality"] = q = quality(args.first, args.last, args.window)
        for point in q["curve"]:
            print(f"threshold {point['threshold']:.2f}  precision {point['precision']:.3f}  "
                  f"recall {point['recall']:.3f}  F1 {point['f1']:.3f}  "
                  f"{point['direct_recall']}", flush=True)
        print(f"best F1 at {q['best']['threshold']}; signing: "
              f"{q['sign_ms_per_article']} ms an article ({q['signed']} articles)", flush=True)
    if not args.skip_scale:
        figures["scale"] = {"articles_per_day": args.articles, "outlets": args.outlets,
                            "copy_share": args.copy_share, "threshold": stories.THRESHOLD,
                            "windows": scale(args.articles, args.outlets,
                                             [int(w) for w in args.windows.split(",")],
                                             args.copy_share)}
    report("stories", figures)


if __name__ == "__main__":
    main()
