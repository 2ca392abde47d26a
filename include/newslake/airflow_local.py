"""Runs of a local Airflow through ``DAG.test()``, for ``newslake demo --quick``, the
benchmarks and the tests (its environment: ``airflow_env``).

Only the command line and the tests use it; the domain modules never import it. Runs go
through ``DAG.test()`` in one child process, so Airflow itself builds the data interval,
maps the tasks, passes XComs and records every task instance in its metadata DB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from newslake.supervisor import run_lines


def run_days(
    env: dict[str, str],
    outlet_ids: list[str],
    days: list[dt.date],
    timeout: float = 3600,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run each (outlet, day) through ``DAG.test()`` in one child process; return results."""
    cmd = [
        sys.executable, "-m", "newslake.airflow_local",
        "--outlets", ",".join(outlet_ids),
        "--days", ",".join(d.isoformat() for d in days),
    ]
    total = len(outlet_ids) * len(days)
    results: list[dict[str, Any]] = []

    def report(result: dict[str, Any]) -> None:
        results.append(result)
        if progress:
            print(
                f"  [{len(results)}/{total}] ingest_{result['outlet']} "
                f"{result['date']}: {result['state']} ({result['seconds']:.1f}s)",
                flush=True,
            )

    collect_results(cmd, env, timeout, report)
    return results


def collect_results(
    cmd: list[str], env: dict[str, str], timeout: float,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Run ``cmd``; hand each JSON line it prints to ``on_result``. The child is killed at
    the deadline even when it prints nothing (a stuck run): ``TimeoutError``; a failed
    child: ``SupervisorError`` (a ``RuntimeError``) with its stderr (``supervisor.run_lines``)."""

    def on_line(line: str) -> None:
        if line.startswith("{"):
            on_result(json.loads(line))

    run_lines(cmd, env, timeout, on_line, what="Airflow runner")


def connection_storage(conn_id: str) -> dict[str, str]:
    """S3 options from an Airflow connection, as the DAGs read it
    (``plugins/newslake_storage.py``): for ``newslake report/datadocs --conn-id``.

    Airflow resolves the id here as its own CLI does (``airflow connections get``): the
    configured secrets backend, ``AIRFLOW_CONN_<ID>`` variables, then the metadata DB of
    this environment's Airflow configuration (a connection made in the UI)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    from newslake.errors import NewslakeError
    from newslake.settings import storage_from_connection

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException as exc:
        raise NewslakeError(
            f"Airflow connection {conn_id!r} not found (secrets backend, AIRFLOW_CONN_"
            f"{conn_id.upper()}, or the metadata DB at [database] sql_alchemy_conn)") from exc
    return storage_from_connection(conn.login, conn.password, conn.extra_dejson)


def manual_run_after(day: dt.date) -> dt.datetime:
    """The logical date of a manual run (``DAG.test()``) whose interval is [D, D+1) UTC:
    a data-interval timetable gives a run at D+1 00:00 the interval that just ended."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _child(outlet_ids: list[str], days: list[dt.date]) -> int:
    """Inside the child: load the DAGs, then one ``dag.test()`` per outlet-day."""
    import logging

    from airflow.dag_processing.dagbag import DagBag

    logging.getLogger("airflow").setLevel(logging.WARNING)
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    for outlet_id in outlet_ids:
        dag = bag.get_dag(f"ingest_{outlet_id}")
        if dag is None:
            raise RuntimeError(f"no DAG ingest_{outlet_id}; known: {sorted(bag.dag_ids)}")
        for day in days:
            started = time.monotonic()
            dag_run = dag.test(logical_date=manual_run_after(day))
            failed = [
                ti.task_id for ti in dag_run.get_task_instances() if ti.state == "failed"
            ]
            print(
                json.dumps(
                    {
                        "outlet": outlet_id,
                        "date": day.isoformat(),
                        "run_id": dag_run.run_id,
                        "state": str(dag_run.state),
                        "failed_tasks": failed,
                        "seconds": round(time.monotonic() - started, 2),
                    }
                ),
                flush=True,
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outlets", required=True)
    parser.add_argument("--days", required=True)
    args = parser.parse_args(argv)
    days = [dt.date.fromisoformat(d) for d in args.days.split(",")]
    return _child(args.outlets.split(","), days)


if __name__ == "__main__":
    sys.exit(main())
