"""The ``newslake`` command: ``demo``, ``run``, ``outlets``."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import shutil
import sys
import time
from pathlib import Path

from newslake.settings import PROJECT_ROOT, default_lake

DEMO_DAYS = 14


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def cmd_demo(args: argparse.Namespace) -> int:
    from demo_site.server import DemoNewsroom
    from newslake import airflow_local, summary
    from newslake.config import load_outlets

    lake_uri = str(Path(args.lake).resolve())
    home = Path(args.airflow_home).resolve()
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    today = dt.datetime.now(dt.UTC).date()
    days = _days(today - dt.timedelta(days=args.days), today - dt.timedelta(days=1))
    started = time.monotonic()
    with DemoNewsroom(port=args.port) as site:
        env = airflow_local.airflow_env(home, lake_uri, {"NEWSLAKE_DEMO_URL": site.base_url})
        outlets = [o for o in load_outlets().values() if o.demo]
        ids = [o.id for o in outlets]
        print(f"demo newsroom serving {len(ids)} outlets at {site.base_url}")
        print(f"Airflow metadata DB: {home / 'airflow.db'} (migrating…)", flush=True)
        airflow_local.migrate_db(env)
        print(f"ingesting {days[0]} … {days[-1]} for {', '.join(ids)} through Airflow:", flush=True)
        results = airflow_local.run_days(env, ids, days)
    failed = [r for r in results if r["state"] != "success"]
    print()
    print(summary.format_table(summary.latest_manifests(lake_uri, ids, days)))
    dupes = summary.duplicate_article_ids(lake_uri)
    print(f"\nduplicate article_ids in the lake: {dupes}")
    print(f"lake: {lake_uri}")
    print("query it, e.g. with DuckDB:")
    print(
        f"  .venv/bin/python -c \"import duckdb; print(duckdb.sql(\\\"SELECT outlet, date, "
        f"count(*) AS articles FROM read_parquet('{lake_uri}/articles/**/*.parquet', "
        f"hive_partitioning=true) GROUP BY ALL ORDER BY ALL\\\"))\""
    )
    print(f"finished in {time.monotonic() - started:.0f}s; the demo newsroom is stopped.")
    if failed:
        for r in failed:
            print(f"FAILED: ingest_{r['outlet']} {r['date']}: {r['failed_tasks']}", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """One outlet-day through the library directly, without Airflow (debugging, bench)."""
    from newslake.config import load_outlets
    from newslake.pipeline import RunSpec, run_day

    outlet = load_outlets()[args.outlet]
    day = dt.date.fromisoformat(args.date)
    run_id = args.run_id or f"cli__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    manifest = run_day(RunSpec(outlet=outlet, day=day, run_id=run_id, lake=args.lake))
    print(f"{outlet.id} {day}: {manifest['written']} articles, "
          f"{manifest['quarantined']} quarantined")
    return 0


def cmd_outlets(args: argparse.Namespace) -> int:
    from newslake.config import load_outlets

    for outlet in load_outlets().values():
        kind = "demo" if outlet.demo else ("internet" if outlet.requires_internet else "")
        print(f"{outlet.id:<24} {kind:<8} {outlet.base_url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newslake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="ingest the bundled demo newsroom through Airflow")
    demo.add_argument("--days", type=int, default=DEMO_DAYS, help="how many past days")
    demo.add_argument("--lake", default=default_lake())
    demo.add_argument("--airflow-home", default=str(PROJECT_ROOT / ".airflow"))
    demo.add_argument("--port", type=int, default=0, help="demo newsroom port (0: any free)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty Airflow DB")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="one outlet-day through the library, without Airflow")
    run.add_argument("--outlet", required=True)
    run.add_argument("--date", required=True)
    run.add_argument("--lake", default=default_lake())
    run.add_argument("--run-id")
    run.set_defaults(func=cmd_run)

    outlets = sub.add_parser("outlets", help="list the outlet configs")
    outlets.set_defaults(func=cmd_outlets)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
