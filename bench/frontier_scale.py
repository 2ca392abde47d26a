"""Polling at scale: N synthetic feeds on loopback, one simulated day of poll_frontier.

    .venv/bin/python bench/frontier_scale.py [--feeds 1000] [--shard-size 50] [--processes 2]
                                             [--airflow] [--no-day]

A loopback server serves N feeds of their latest ten items (ETag, 304) at rates from one
item every 20 minutes to one a day, on a clock this script sets. Each 10-minute tick of
a simulated day polls every shard as ``poll_frontier``'s mapped tasks do
(``frontier.poll_configs``), ``--processes`` shards at a time in worker processes (the DAG
runs four mapped tasks at a time; 2 here, one a core). Measured: wall time, requests,
polls, URLs recorded against the URLs published, peak RSS of this process (the loopback
server) and of the largest worker. With ``--airflow`` one real ``poll_frontier`` run goes
through ``DAG.test()`` on a fresh SQLite metadata DB, and its rows per table are
counted: the day's DAG runs, task instances and rows are that times 144, beside a DAG
per outlet every 30 minutes (48 runs an outlet a day, one task each; its rows per run
estimated from the same per-run and per-task-instance counts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "include"), str(HERE.parent / "plugins")]

from _common import peak_rss_mib, report  # noqa: E402

DAY = dt.date(2026, 6, 15)
TICK = dt.timedelta(minutes=10)
# Minutes between two items of feed i: busy wires to a daily column.
RATES = (20, 45, 90, 180, 360, 720, 1440)


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def feed_items(feed: int, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    """The ten latest items of ``feed`` at ``now``: (number, publication time)."""
    every = dt.timedelta(minutes=RATES[feed % len(RATES)])
    offset = dt.timedelta(minutes=feed % 17)
    epoch = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + offset
    last = math.floor((now - epoch) / every)
    return [(k, epoch + k * every) for k in range(last, max(-1, last - 10), -1)]


def feed_xml(base: str, feed: int, now: dt.datetime) -> bytes:
    items = "".join(
        f"<item><title>Item {k}</title><link>{base}/f/{feed}/item-{k}</link>"
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate></item>"
        for k, when in feed_items(feed, now)
    )
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed {feed}</title>"
            f"{items}</channel></rss>").encode()


def serve(clock: Callable[[], dt.datetime]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://{self.headers.get('Host')}"
            if self.path == "/robots.txt":
                self._send(200, b"User-agent: *\nAllow: /\n", "text/plain", None)
                return
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "f" or parts[2] != "feed.xml":
                self._send(404, b"", "text/plain", None)
                return
            body = feed_xml(base, int(parts[1]), clock())
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, etag)
            else:
                self._send(200, body, "application/rss+xml", etag)

        def _send(self, status: int, body: bytes, kind: str | None, etag: str | None) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def write_configs(folder: Path, base: str, feeds: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(feeds):
        path = folder / f"feed_{i:05d}.yaml"
        path.write_text(
            f"id: feed_{i:05d}\nname: Feed {i}\nbase_url: {base}/f/{i}/\nlanguage: en\n"
            f"start_date: 2024-01-01\ndiscovery:\n  - type: rss\n    url: {base}/f/{i}/feed.xml\n"
            "politeness: {requests_per_second: 50, allow_private_addresses: [127.0.0.1/32]}\n"
        )
        paths.append(str(path))
    return paths


def poll_shard(shard: list[str], lake: str, now: dt.datetime) -> list[dict[str, Any]]:
    """One mapped ``poll`` task's work (in a worker process)."""
    from newslake import frontier

    return frontier.poll_configs(shard, lake, now, workers=4)


def simulate_day(paths: list[str], lake: str, clock: Clock, shard_size: int,
                 base: str, processes: int = 2) -> dict[str, Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from newslake import frontier

    start = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
    totals = {"polls": 0, "requests": 0, "new_urls": 0, "errors": 0}
    tick_seconds = []
    shards = frontier.shards(paths, shard_size)
    started = time.perf_counter()
    clock.now = start
    # fork: the workers start with this process's imports; the server's threads stay here.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        # The day's ticks and the next day's first three (the ingest of the day starts 00:30).
        while clock.now <= start + dt.timedelta(days=1, minutes=30):
            tick = time.perf_counter()
            now = clock.now
            for results in pool.map(poll_shard, shards, [lake] * len(shards),
                                    [now] * len(shards)):
                for result in results:
                    totals["polls"] += int(result.get("polled", 0))
                    totals["requests"] += int(result.get("requests", 0))
                    totals["new_urls"] += int(result.get("new_urls", 0))
                    totals["errors"] += len(result.get("errors", [])) + ("error" in result)
            tick_seconds.append(time.perf_counter() - tick)
            if len(tick_seconds) % 12 == 0:
                print(f"  {now:%H:%M}: {len(tick_seconds)} ticks, {totals['polls']} polls, "
                      f"{time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
            clock.now += TICK
    wall = time.perf_counter() - started
    # Every item published during the day, and how many of them the frontier recorded.
    published = recorded = 0
    for i in range(len(paths)):
        day_items = {f"{base}/f/{i}/item-{k}"
                     for k in _items_between(i, start, start + dt.timedelta(days=1))}
        rows = frontier.frontier_rows(lake, f"feed_{i:05d}", DAY)
        published += len(day_items)
        recorded += len(day_items & set(rows.column("url").to_pylist()))
    import resource

    return {
        "feeds": len(paths), "processes": processes, "ticks": len(tick_seconds),
        "wall_s": round(wall, 1),
        "worker_peak_rss_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "tick_s_median": round(sorted(tick_seconds)[len(tick_seconds) // 2], 2),
        "tick_s_max": round(max(tick_seconds), 2), **totals,
        "published_in_day": published, "recorded_of_those": recorded,
        "polls_per_feed_per_day": round(totals["polls"] / len(paths), 1),
        "requests_per_s": round(totals["requests"] / 86400, 3),
    }


def _items_between(feed: int, start: dt.datetime, end: dt.datetime) -> list[int]:
    """The numbers of the items ``feed`` publishes in ``[start, end)``."""
    every = dt.timedelta(minutes=RATES[feed % len(RATES)])
    epoch = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=feed % 17)
    first, last = math.ceil((start - epoch) / every), math.floor((end - epoch) / every)
    return [k for k in range(first, last + 1) if start <= epoch + k * every < end]


def airflow_run(outlets: Path, lake: str, clock: Clock, home: Path) -> dict[str, Any]:
    """poll_frontier through DAG.test() on a fresh DB, twice (the first run also stores the
    DAG); the rows per table that the second run added."""
    from newslake.airflow_env import airflow_env, migrate_db

    dags = home / "dags"  # the poll DAG alone: not N ingest and N reparse DAGs to store
    dags.mkdir(parents=True)
    shutil.copy(HERE.parent / "dags" / "poll.py", dags / "poll.py")
    env = airflow_env(home, lake, {"NEWSLAKE_OUTLETS_DIR": str(outlets),
                                   "AIRFLOW__CORE__DAGS_FOLDER": str(dags)})
    os.environ.update(env)
    migrate_db(dict(os.environ))
    db = home / "airflow.db"

    def counts() -> dict[str, int]:
        with sqlite3.connect(db) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(dags)).get_dag("poll_frontier")
    started = time.perf_counter()
    first = dag.test(logical_date=clock.now)  # every outlet's first poll
    first_wall = time.perf_counter() - started
    before = counts()
    clock.now += TICK
    started = time.perf_counter()
    dag_run = dag.test(logical_date=clock.now)  # a usual run: few outlets due
    wall = time.perf_counter() - started
    after = counts()
    grown = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
    tis = len(dag_run.get_task_instances())
    return {"state": [str(first.state), str(dag_run.state)],
            "first_run_wall_s": round(first_wall, 1), "wall_s": round(wall, 1),
            "task_instances": tis,
            "rows_per_run": grown, "rows_per_run_total": sum(grown.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--shard-size", type=int, default=50)
    parser.add_argument("--processes", type=int, default=2,
                        help="shards polled at once, each in a worker process")
    parser.add_argument("--airflow", action="store_true")
    parser.add_argument("--no-day", action="store_true",
                        help="skip the simulated day (with --airflow: only the one real run)")
    args = parser.parse_args()

    clock = Clock(dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC))
    server, base = serve(clock)
    tmp = Path(tempfile.mkdtemp(prefix="bench-frontier-scale-"))
    try:
        paths = write_configs(tmp / "outlets", base, args.feeds)
        figures: dict[str, Any] = {"feeds": args.feeds, "shard_size": args.shard_size}
        if not args.no_day:
            figures["day"] = simulate_day(paths, str(tmp / "lake"), clock, args.shard_size,
                                         base, args.processes)
            figures["peak_rss_mib"] = round(peak_rss_mib(), 1)
        shards = math.ceil(args.feeds / args.shard_size)
        figures["design"] = {
            "sharded": {"dag_runs_per_day": 144, "task_instances_per_day": 144 * (shards + 2)},
            "dag_per_outlet_every_30_min": {"dag_runs_per_day": 48 * args.feeds,
                                            "task_instances_per_day": 48 * args.feeds},
        }
        if args.airflow:
            os.environ["NEWSLAKE_POLL_SHARD_SIZE"] = str(args.shard_size)
            clock.now = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
            run = airflow_run(tmp / "outlets", str(tmp / "lake-airflow"), clock, tmp / "af")
            rows = run["rows_per_run"]
            # A one-task run of a DAG per outlet: its dag_run row, the rows a task instance
            # adds here (itself, its log lines, its rendered fields) and one XCom.
            per_ti = sum(rows.get(t, 0) for t in ("task_instance", "log",
                                                   "rendered_task_instance_fields"))
            per_outlet_run = 1 + per_ti / run["task_instances"] + 1
            figures["airflow_run"] = run
            figures["design"]["sharded"]["db_rows_per_day"] = 144 * run["rows_per_run_total"]
            figures["design"]["dag_per_outlet_every_30_min"]["db_rows_per_day_estimate"] = (
                round(48 * args.feeds * per_outlet_run))
        report(f"frontier_scale_{args.feeds}{'_airflow' if args.airflow else ''}", figures)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
