"""The ``newslake`` command: demo, backfill, run, reparse, outlets, report, datadocs."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import shutil
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newslake import clock
from newslake.settings import PROJECT_ROOT, default_lake

if TYPE_CHECKING:
    from newslake.airflow_api import AirflowClient, BackfillResult, ProgressCallback, RunClock
    from newslake.airflow_stack import AirflowStack
    from newslake.config import Outlet

DEMO_DAYS = 14
DEMO_POLL_DAYS = 2  # 17 poll runs beside the ingest backfills; each more day is 8 more


def _keep_running(airflow: Any) -> None:
    """Hold the stack up for the user's browser until Ctrl-C (a dead component raises)."""
    print(f"Airflow stays up at {airflow.ui_url}: press Ctrl-C to stop it.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            airflow.check_alive()
            time.sleep(1.0)


def _print_lake(lake_uri: str, ids: list[str], days: list[dt.date]) -> None:
    from newslake import summary

    print()
    print(summary.format_table(summary.latest_manifests(lake_uri, ids, days)))
    print(f"\nduplicate article_ids in the lake: {summary.duplicate_article_ids(lake_uri)}")
    print(f"lake: {lake_uri}")
    print("query it, e.g. with DuckDB:")
    print(
        f"  .venv/bin/python -c \"import duckdb; print(duckdb.sql(\\\"SELECT outlet, date, "
        f"count(*) AS articles FROM read_parquet('{lake_uri}/articles/**/*.parquet', "
        f"hive_partitioning=true) GROUP BY ALL ORDER BY ALL\\\"))\""
    )


WIRE = "demo_harbor_wire"
POLL_DAG = "poll_frontier"
# The demo's history is polled every 3 hours, not every 10 minutes: the wire publishes at
# most three stories an hour and its feed lists ten, so a poll every 3 hours misses none
# (at most 3 + 3 + 3 + 1 new between two ticks), and a day costs 8 poll runs, not 144.
DEMO_POLL_SCHEDULE = "0 */3 * * *"


def demo_polls(airflow: AirflowClient, wire_clock: RunClock, outlets: list[str],
               first: dt.date, last: dt.date, *, timeout: float,
               on_progress: ProgressCallback | None = None) -> BackfillResult:
    """``poll_frontier`` backfilled for ``outlets`` at every tick of its schedule from
    ``first`` 00:00 to ``last`` + 1 00:00 (the tick that sees the end of ``last``), one
    run at a time, while ``wire_clock`` (an ``airflow_api.RunClock``) makes the demo
    newsroom answer each poll as it was at the run's logical date. Then the clock is
    pinned to "now" again, for the ingest. The ``BackfillResult`` (``runs``: every run)."""
    end = last + dt.timedelta(days=1)
    wire_clock.follow(airflow)
    try:
        created = airflow.start_backfill(POLL_DAG, first, end, reprocess="completed",
                                         max_active_runs=1, timeout=timeout,
                                         conf={"outlets": outlets}, every_run=True)
        return airflow.wait_for_backfill(created, first, end, timeout=timeout,
                                         on_progress=on_progress, every_run=True)
    finally:
        wire_clock.stop_following()


def _start_airflow(stack: contextlib.ExitStack, home: Path, lake_uri: str, port: int,
                   parallelism: int, extra: dict[str, str]) -> AirflowStack:
    """The local Airflow of ``newslake demo`` and ``newslake backfill``, up, in ``stack``."""
    from newslake.airflow_stack import AirflowStack

    print(f"starting Airflow (api-server, scheduler, dag-processor; LocalExecutor on "
          f"SQLite) in {home}, logs in {home / 'logs'} …", flush=True)
    airflow = stack.enter_context(AirflowStack(home, lake_uri, port=port, extra_env=extra,
                                               parallelism=parallelism))
    print(f"Airflow UI: {airflow.ui_url} (login: {airflow.login}) — watch the runs there",
          flush=True)
    return airflow


def _wire_landed(lake_uri: str, base_url: str, days: list[dt.date]) -> tuple[int, int]:
    """(articles of the wire's good stories of ``days`` in the lake, good stories it still
    serves: one a day is taken down two days later, before a first ingest can fetch it)."""
    import duckdb

    from demo_site import catalog

    now = clock.utc_now()
    good = {a.url(base_url) for d in days for a in catalog.articles_for(WIRE, d)
            if a.is_article_ok and (catalog.wire_takedown_at(a) or now) >= now}
    root = Path(lake_uri) / "articles" / f"outlet={WIRE}"
    files = [str(root / f"date={d}") for d in days if (root / f"date={d}").exists()]
    if not files:
        return 0, len(good)
    urls = {r[0] for r in duckdb.sql(
        "SELECT url FROM read_parquet(" + repr([f + "/*.parquet" for f in files]) + ")"
    ).fetchall()}
    return len(urls & good), len(good)


def cmd_demo(args: argparse.Namespace) -> int:
    """The demo newsroom's last days, backfilled through a real local Airflow."""
    from demo_site.render_wire import PREFIX as WIRE_PREFIX
    from demo_site.server import DemoNewsroom
    from newslake.airflow_api import RunClock, StackError
    from newslake.config import load_outlets

    lake_uri = str(Path(args.lake).resolve())
    home = Path(args.airflow_home or PROJECT_ROOT / (".airflow-quick" if args.quick
                                                      else ".airflow")).resolve()
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    today = clock.utc_today()
    days = clock.days_between(today - dt.timedelta(days=args.days),
                              today - dt.timedelta(days=1))
    # The Harbor Wire lists only its latest ten stories: a past day of it can only be
    # ingested from what poll_frontier recorded while the day went on. Its polled days
    # (the last --poll-days) are polled first, then ingested; the others are not run.
    ids = [o.id for o in load_outlets().values() if o.demo and o.id != WIRE]
    if args.quick:
        return _demo_quick(args, lake_uri, home, ids, days)
    poll_days = days[-args.poll_days:] if args.poll_days > 0 else []
    started = time.monotonic()
    states: dict[str, dict[dt.date, str]] = {}
    failed_polls: list[str] = []
    # The wire's clock follows the running poll's logical date during the polls (and is
    # "now" otherwise); every other outlet is served at "now" (NEWSLAKE_NOW when set).
    wire_clock = RunClock(POLL_DAG, clock.utc_now)
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(DemoNewsroom(
            port=args.site_port, clock=clock.utc_now, clocks={WIRE_PREFIX + "/": wire_clock}))
        shown = ids + [WIRE] if poll_days else ids
        print(f"demo newsroom serving {len(shown)} outlets at {site.base_url}")
        try:
            airflow = _start_airflow(stack, home, lake_uri, args.port, args.parallelism, {
                "NEWSLAKE_DEMO_URL": site.base_url, "NEWSLAKE_POLL_SCHEDULE": DEMO_POLL_SCHEDULE})

            def ingest(outlet_id: str, first: dt.date, last: dt.date) -> dict[str, Any]:
                # "completed": a second demo refreshes every day (and proves it adds no rows).
                return airflow.start_backfill(
                    f"ingest_{outlet_id}", first, last, reprocess="completed",
                    max_active_runs=args.parallelism, timeout=args.timeout)

            backfills = {outlet_id: ingest(outlet_id, days[0], days[-1]) for outlet_id in ids}
            print(f"backfilling {days[0]} … {days[-1]} ({len(days)} days) for "
                  f"{', '.join(ids)}:", flush=True)
            if poll_days:
                print(f"polling {WIRE} with {POLL_DAG} every 3 hours of {poll_days[0]} … "
                      f"{poll_days[-1]} (the newsroom's wire at each run's logical date), "
                      "beside those backfills:", flush=True)

                def polled(done: int, total: int, _: object) -> None:
                    print(f"  {POLL_DAG}: runs done {done} of {total} "
                          f"[{time.monotonic() - started:.0f}s]", flush=True)

                polls = demo_polls(airflow, wire_clock, [WIRE], poll_days[0], poll_days[-1],
                                   timeout=args.timeout, on_progress=polled)
                failed_polls = [r["logical_date"] for r in polls.runs
                                if r.get("state") != "success"]
                print(f"then ingesting {WIRE} for {poll_days[0]} … {poll_days[-1]} from "
                      "what the polls recorded:", flush=True)
                backfills[WIRE] = ingest(WIRE, poll_days[0], poll_days[-1])
            for outlet_id, backfill in backfills.items():
                def progress(done: int, total: int, _: object, name: str = outlet_id) -> None:
                    print(f"  ingest_{name}: runs done {done} of {total} "
                          f"[{time.monotonic() - started:.0f}s]", flush=True)

                first = poll_days[0] if outlet_id == WIRE else days[0]
                result = airflow.wait_for_backfill(
                    backfill, first, days[-1], timeout=args.timeout, on_progress=progress
                )
                states[outlet_id] = dict(result.states)
            if args.keep_running:
                _keep_running(airflow)
        except StackError as exc:
            print(f"demo failed: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: stopping Airflow and the demo newsroom …", file=sys.stderr)
            return 130
        base_url = site.base_url
    _print_lake(lake_uri, list(states), days)
    if poll_days:
        landed, good = _wire_landed(lake_uri, base_url, poll_days)
        print(f"{WIRE}: {landed} of the {good} articles it published on {poll_days[0]} … "
              f"{poll_days[-1]} (and still serves) are in the lake (its feed lists only "
              f"the latest ten: {POLL_DAG} recorded the rest while the days went on)")
    print(f"finished in {time.monotonic() - started:.0f}s; Airflow and the demo newsroom are "
          f"stopped (metadata DB and logs: {home}).")
    failed = [(o, d, st) for o, by_day in states.items() for d, st in by_day.items()
              if st != "success"]
    for outlet_id, day, state in failed:
        print(f"FAILED: ingest_{outlet_id} {day}: {state}", file=sys.stderr)
    for logical_date in failed_polls:
        print(f"FAILED: {POLL_DAG} {logical_date}", file=sys.stderr)
    return 1 if failed or failed_polls else 0


def _demo_quick(args: argparse.Namespace, lake_uri: str, home: Path, ids: list[str],
                days: list[dt.date]) -> int:
    """The same days through ``DAG.test()`` in one process: no scheduler, ~3x faster."""
    from demo_site.server import DemoNewsroom
    from newslake import airflow_env, airflow_local

    started = time.monotonic()
    with DemoNewsroom(port=args.site_port, clock=clock.utc_now) as site:
        env = airflow_env.airflow_env(home, lake_uri, {"NEWSLAKE_DEMO_URL": site.base_url})
        print(f"demo newsroom serving {len(ids)} outlets at {site.base_url}")
        print(f"Airflow metadata DB: {home / 'airflow.db'} (migrating…)", flush=True)
        airflow_env.migrate_db(env)
        print(f"ingesting {days[0]} … {days[-1]} for {', '.join(ids)} with DAG.test():",
              flush=True)
        results = airflow_local.run_days(env, ids, days)
    _print_lake(lake_uri, ids, days)
    print(f"finished in {time.monotonic() - started:.0f}s; the demo newsroom is stopped.")
    failed = [r for r in results if r["state"] != "success"]
    for r in failed:
        print(f"FAILED: ingest_{r['outlet']} {r['date']}: {r['failed_tasks']}", file=sys.stderr)
    return 1 if failed else 0


def iso_day(value: str) -> dt.date:
    """A day option's value (argparse ``type``): a bad one is a usage error naming the
    option, not a traceback."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a day (YYYY-MM-DD)") from None


def _outlet(outlets: dict[str, Outlet], outlet_id: str) -> Outlet:
    from newslake.errors import ConfigError

    if outlet_id not in outlets:
        raise ConfigError(f"unknown outlet {outlet_id!r}; known: {', '.join(sorted(outlets))}")
    return outlets[outlet_id]


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def new_run_id(kind: str) -> str:
    """A run id of its own: two runs started in the same second (or microsecond) must not
    share a staging folder, so the time is followed by a random part."""
    return f"{kind}__{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:8]}"


def cmd_run(args: argparse.Namespace) -> int:
    """One outlet-day through the library directly, without Airflow (debugging, bench)."""
    from newslake.config import load_outlets
    from newslake.errors import NewslakeError
    from newslake.pipeline import RunSpec, run_day

    day: dt.date = args.date
    run_id = args.run_id or new_run_id("cli")
    try:
        outlet = _outlet(load_outlets(), args.outlet)
        manifest = run_day(RunSpec(outlet=outlet, day=day, run_id=run_id, lake=args.lake))
    except NewslakeError as exc:  # a bad config, a rejected batch: said in one line
        print(f"newslake run: {_one_line(exc)}", file=sys.stderr)
        return 1
    print(f"{outlet.id} {day}: {manifest['written']} articles, "
          f"{manifest['quarantined']} quarantined")
    return 0


def cmd_reparse(args: argparse.Namespace) -> int:
    """Rebuild articles/ and quarantine/ of an outlet's days from the raw zone, no fetching;
    with ``--older-than``, only the days holding rows by an older parser."""
    from newslake.config import load_outlets
    from newslake.errors import NewslakeError
    from newslake.reparse import MAX_DAYS, older_than_label, raw_days, reparse_selected

    if args.date_from is None and (args.older_than is None or args.date_to is not None):
        print("newslake reparse: --from is required (it may be left out only with "
              "--older-than and no --to: every day of the raw zone)", file=sys.stderr)
        return 2
    run_id = args.run_id or new_run_id("reparse")
    try:
        outlet = _outlet(load_outlets(), args.outlet)
        threshold = None
        if args.older_than is not None:
            threshold = older_than_label(args.older_than, outlet)
        if args.date_from is None:
            days = raw_days(args.lake, outlet)
            span = "the raw zone"
        else:
            first, last = args.date_from, args.date_to or args.date_from
            days = clock.days_between(first, last, max_days=MAX_DAYS)
            span = f"{first} … {last}"
        manifests = reparse_selected(outlet, days, args.lake, run_id, older_than=threshold)
    except (NewslakeError, ValueError) as exc:  # a bad config, label or date, a rejected batch
        print(f"newslake reparse: {_one_line(exc)}", file=sys.stderr)
        return 1
    for m in manifests:
        print(f"{outlet.id} {m['date']}: {m['written']} articles, {m['quarantined']} "
              f"quarantined (from {len(m['reparse']['raw_files'])} WARC files)")
    if threshold is not None:
        print(f"{len(manifests)} days of {outlet.id} in {span} held rows older than "
              f"{threshold}: reparsed")
        return 0
    if not manifests:
        print(f"no raw WARC files for {outlet.id} in {span} under {args.lake}",
              file=sys.stderr)
        return 1
    return 0


def cmd_outlets_add(args: argparse.Namespace) -> int:
    """Find an outlet's sources, profile a sample of its articles, write a YAML proposal."""
    from newslake.config import default_outlets_dir
    from newslake.errors import NewslakeError
    from newslake.onboard.proposal import format_proposal, propose, write_proposal

    try:
        proposal = propose(args.url, outlet_id=args.id, sample=args.sample,
                           allow_private=args.allow_private, requests_per_second=args.rate,
                           today=clock.utc_today())
        print(format_proposal(proposal))
        out = Path(args.out) if args.out else default_outlets_dir() / f"{proposal.outlet_id}.yaml"
        path = write_proposal(proposal, out, force=args.force)
    except NewslakeError as exc:
        print(f"newslake outlets add: {exc}", file=sys.stderr)
        return 2
    print(f"\nwrote {path}: edit it, then `newslake outlets check {proposal.outlet_id}`")
    return 0


def cmd_outlets_check(args: argparse.Namespace) -> int:
    """A dry run of one outlet-day: exit 1 when the outlet would not publish."""
    from newslake.config import load_outlets
    from newslake.errors import NewslakeError
    from newslake.onboard.check import dry_run, format_check

    try:
        outlet = _outlet(load_outlets(), args.outlet)
        day = (args.date if args.date
               else clock.utc_today() - dt.timedelta(days=1))
        report = dry_run(outlet, day, args.sample)
    except (NewslakeError, ValueError) as exc:
        print(f"newslake outlets check: {exc}", file=sys.stderr)
        return 2
    print(format_check(report))
    return 0 if report.would_publish else 1


def cmd_outlets(args: argparse.Namespace) -> int:
    from newslake.config import load_outlets

    for outlet in load_outlets().values():
        kind = "demo" if outlet.demo else ("internet" if outlet.requires_internet else "")
        print(f"{outlet.id:<24} {kind:<8} {outlet.base_url}")
    return 0


def _lake_storage(args: argparse.Namespace) -> dict[str, str] | None:
    """S3 options from the Airflow connection ``--conn-id`` (the one the DAGs use), or None:
    the environment's (``newslake.settings.storage_from_env``)."""
    if not args.conn_id:
        return None
    from newslake.airflow_local import connection_storage

    return connection_storage(args.conn_id)


def cmd_report(args: argparse.Namespace) -> int:
    """One self-contained HTML page of the lake's runs, counts and failures."""
    from newslake.errors import NewslakeError
    from newslake.report import write_report

    try:
        path = write_report(args.lake, args.out, days=args.days, runs_limit=args.runs,
                            storage=_lake_storage(args))
    except NewslakeError as exc:
        print(f"newslake report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {path.resolve()}")
    return 0


def cmd_datadocs(args: argparse.Namespace) -> int:
    """Browsable HTML of the Great Expectations results kept in ``_runs/``."""
    from newslake.datadocs import build_datadocs
    from newslake.errors import NewslakeError

    try:
        index = build_datadocs(args.lake, args.out, _lake_storage(args))
    except NewslakeError as exc:
        print(f"newslake datadocs: {exc}", file=sys.stderr)
        return 2
    print(f"data docs: {index.resolve()}")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Backfill an outlet's days through a real local Airflow (api-server, scheduler, …)."""
    from newslake import summary
    from newslake.airflow_api import StackError
    from newslake.config import load_outlets
    from newslake.errors import ConfigError

    try:
        outlet = _outlet(load_outlets(), args.outlet)
    except ConfigError as exc:
        print(f"newslake backfill: {exc}", file=sys.stderr)
        return 2
    first: dt.date = args.date_from
    last: dt.date = args.date_to or args.date_from
    today = clock.utc_today()
    problem = None
    if first > last:
        problem = f"--from {first} is after --to {last}"
    elif last >= today:
        problem = (f"--to {last} is not over yet (UTC): the last day a backfill can run is "
                   f"{today - dt.timedelta(days=1)}")
    elif first < outlet.start_date:
        problem = f"--from {first} is before the outlet's start_date {outlet.start_date}"
    if problem:
        print(problem, file=sys.stderr)
        return 2
    days = clock.days_between(first, last)
    dag_id = f"ingest_{outlet.id}"
    lake_uri = args.lake if "://" in args.lake else str(Path(args.lake).resolve())
    home = Path(args.airflow_home).resolve()
    reprocess = "completed" if args.rerun else "failed"
    started = time.monotonic()

    def progress(done: int, total: int, states: dict[dt.date, str]) -> None:
        counts: dict[str, int] = {}
        for state in states.values():
            counts[state] = counts.get(state, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(f"  runs done: {done} of {total} ({detail}) "
              f"[{time.monotonic() - started:.0f}s]", flush=True)

    with contextlib.ExitStack() as stack:
        extra: dict[str, str] = {}
        if args.demo:
            from demo_site.server import DemoNewsroom

            site = stack.enter_context(DemoNewsroom(port=0, clock=clock.utc_now))
            extra["NEWSLAKE_DEMO_URL"] = site.base_url
            print(f"demo newsroom serving at {site.base_url}")
        elif outlet.demo:
            print("note: a demo outlet needs the demo newsroom: add --demo, or serve it with "
                  "`python -m demo_site --port 8765`", file=sys.stderr)
        try:
            airflow = _start_airflow(stack, home, lake_uri, args.port, args.parallelism, extra)
            what = "rerunning every day" if args.rerun else "skipping days already done"
            print(f"backfill of {dag_id}: data intervals {first} … {last} "
                  f"({len(days)} runs, {what}):", flush=True)
            result = airflow.backfill(
                dag_id, first, last, reprocess=reprocess, max_active_runs=args.parallelism,
                timeout=args.timeout, on_progress=progress,
                on_resume=lambda b: print(
                    f"first finishing backfill {b['id']} ({b['from_date'][:10]} … "
                    f"{b['to_date'][:10]}) that an interrupted run left unfinished:",
                    flush=True),
            )
            if args.keep_running:
                _keep_running(airflow)
        except StackError as exc:
            print(f"backfill failed: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted: stopping Airflow and its processes …", file=sys.stderr)
            return 130
    print()
    for day in days:
        print(f"  {day}: {result.states.get(day, 'no run')}")
    print()
    print(summary.format_table(summary.latest_manifests(lake_uri, [outlet.id], days)))
    print(f"\nduplicate article_ids in the lake: {summary.duplicate_article_ids(lake_uri)}")
    print(f"lake: {lake_uri}")
    print(f"Airflow home (metadata DB, logs): {home}; stopped. "
          f"finished in {time.monotonic() - started:.0f}s")
    failed = [d for d in days if result.states.get(d) != "success"]
    if failed:
        print(f"FAILED days: {', '.join(map(str, failed))}; task logs under {home / 'logs'}",
              file=sys.stderr)
        return 1
    return 0


CONN_ID_HELP = ("read an s3:// lake with this Airflow connection's credentials and endpoint "
                "(the one the DAGs use, e.g. newslake_s3); default: the environment")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newslake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="ingest the bundled demo newsroom through Airflow")
    demo.add_argument("--days", type=int, default=DEMO_DAYS, help="how many past days")
    demo.add_argument("--poll-days", type=int, default=DEMO_POLL_DAYS,
                      help=f"the last days of those that {POLL_DAG} polls and the Harbor "
                           "Wire is ingested for (0: leave the wire out)")
    demo.add_argument("--lake", default=default_lake())
    demo.add_argument("--airflow-home", default=None,
                      help="default .airflow/ (.airflow-quick/ with --quick)")
    demo.add_argument("--port", type=int, default=8793,
                      help="Airflow api-server/UI port (0: any free)")
    demo.add_argument("--site-port", type=int, default=0,
                      help="demo newsroom port (0: any free)")
    demo.add_argument("--parallelism", type=int, default=3,
                      help="tasks and runs at once per DAG")
    demo.add_argument("--timeout", type=float, default=1800.0, help="seconds per backfill")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep Airflow up after the backfills, until Ctrl-C")
    demo.add_argument("--quick", action="store_true",
                      help="run each day with DAG.test() in one process (no scheduler)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty Airflow DB")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="one outlet-day through the library, without Airflow")
    run.add_argument("--outlet", required=True)
    run.add_argument("--date", required=True, type=iso_day, help="the day, YYYY-MM-DD")
    run.add_argument("--lake", default=default_lake())
    run.add_argument("--run-id")
    run.set_defaults(func=cmd_run)

    reparse = sub.add_parser("reparse", help="re-parse outlet-days from the raw zone (no fetch)")
    reparse.add_argument("--outlet", required=True)
    reparse.add_argument("--from", dest="date_from", type=iso_day,
                         help="first day YYYY-MM-DD (required unless --older-than)")
    reparse.add_argument("--to", dest="date_to", type=iso_day,
                         help="last day, inclusive (default: --from)")
    reparse.add_argument(
        "--older-than", metavar="LABEL",
        help="only days whose partitions hold rows by an older parser than LABEL "
             "(generic@N: parsing code before N; rules:<outlet>@R[.N]: also the outlet's "
             "rules before R; current: what this code and the outlet's YAML write now); "
             "without --from/--to: every day of the outlet's raw zone")
    reparse.add_argument("--lake", default=default_lake())
    reparse.add_argument("--run-id")
    reparse.set_defaults(func=cmd_reparse)

    outlets = sub.add_parser("outlets", help="list, add and check outlet configs")
    outlets.set_defaults(func=cmd_outlets)
    outlet_sub = outlets.add_subparsers(dest="outlets_command")
    outlet_sub.add_parser("list", help="list the outlet configs").set_defaults(func=cmd_outlets)
    add = outlet_sub.add_parser(
        "add", help="find an outlet's sources from its home page and propose a YAML config")
    add.add_argument("url", help="the outlet's home page")
    add.add_argument("--id", help="outlet id, [a-z0-9_]+ (default: from the host name)")
    add.add_argument("--out", help="where to write the YAML (default: the outlets folder)")
    add.add_argument("--sample", type=int, default=15, help="recent articles to parse")
    add.add_argument("--allow-private", action="store_true",
                     help="allow loopback/private addresses (a site on your own network)")
    add.add_argument("--rate", type=float, default=1.0, help="requests per second")
    add.add_argument("--force", action="store_true", help="overwrite an existing file")
    add.set_defaults(func=cmd_outlets_add)
    check = outlet_sub.add_parser(
        "check", help="dry run of one outlet-day; writes nothing to the lake")
    check.add_argument("outlet")
    check.add_argument("--date", type=iso_day,
                       help="the day, YYYY-MM-DD (default: yesterday, UTC)")
    check.add_argument("--sample", type=int, help="fetch only this many discovered URLs")
    check.set_defaults(func=cmd_outlets_check)

    backfill = sub.add_parser(
        "backfill", help="backfill an outlet's days through a real local Airflow scheduler")
    backfill.add_argument("--outlet", required=True)
    backfill.add_argument("--from", dest="date_from", required=True, type=iso_day,
                          help="first day YYYY-MM-DD (data interval [D, D+1) UTC)")
    backfill.add_argument("--to", dest="date_to", type=iso_day,
                          help="last day, inclusive (default: --from)")
    backfill.add_argument("--lake", default=default_lake())
    backfill.add_argument("--airflow-home", default=str(PROJECT_ROOT / ".airflow-backfill"))
    backfill.add_argument("--port", type=int, default=8793,
                          help="Airflow api-server/UI port (0: any free port)")
    backfill.add_argument("--rerun", action="store_true",
                          help="rerun days already done (default: only missing/failed days)")
    backfill.add_argument("--demo", action="store_true", help="serve the demo newsroom too")
    backfill.add_argument("--parallelism", type=int, default=2,
                          help="tasks at once (LocalExecutor) and runs at once")
    backfill.add_argument("--timeout", type=float, default=3 * 3600,
                          help="seconds to wait for the runs")
    backfill.add_argument("--keep-running", action="store_true",
                          help="keep Airflow (and its UI) up after the backfill, until Ctrl-C")
    backfill.set_defaults(func=cmd_backfill)

    report = sub.add_parser("report", help="write one self-contained HTML report of the lake")
    report.add_argument("--lake", default=default_lake())
    report.add_argument("--out", default="report.html")
    report.add_argument("--days", type=int, default=60, help="days shown in the charts")
    report.add_argument("--runs", type=int, default=50, help="rows in the latest-runs table")
    report.add_argument("--conn-id", help=CONN_ID_HELP)
    report.set_defaults(func=cmd_report)

    datadocs = sub.add_parser("datadocs", help="HTML pages of the kept validation results")
    datadocs.add_argument("--lake", default=default_lake())
    datadocs.add_argument("--out", default="datadocs", help="output folder")
    datadocs.add_argument("--conn-id", help=CONN_ID_HELP)
    datadocs.set_defaults(func=cmd_datadocs)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
