"""The team stack's executor, natively: CeleryExecutor, Redis broker, Postgres metadata DB.

docker-compose.yaml runs Airflow with the CeleryExecutor, Postgres and Redis; there is no
Docker engine here, so the same parts run as local processes: a throwaway Postgres
cluster and a Redis server on free loopback ports (tests/helpers/services.py), and an
``AirflowStack`` with api-server, scheduler, dag-processor and ``airflow celery worker``
(2 task processes) against them. One day of a demo outlet is backfilled through the
scheduler; the lake must hold exactly the newsroom's good articles of that day, every task
must have gone through the Celery worker, and once everything is stopped no process of
the stack, of Postgres or of Redis may be left.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers.clock import days_ago
from helpers.prereqs import needs
from helpers.processes import alive, strays

from demo_site import catalog
from newslake.airflow_stack import AirflowStack
from newslake.supervisor import free_port

pytestmark = pytest.mark.timeout(600)

OUTLET = "demo_metro_ledger"
DAG_ID = f"ingest_{OUTLET}"


@pytest.fixture(scope="module")
def celery_day() -> dt.date:
    """A finished UTC day, not the latest one (no scheduled run is due for it)."""
    return days_ago(4)


@pytest.fixture(scope="module")
def celery_run(demo_site: str, celery_day: dt.date) -> Iterator[dict[str, Any]]:
    """Postgres + Redis + the Celery stack; backfill one day; stop everything; hand results.

    Teardown runs in reverse order of start (stack, Redis, Postgres) whatever failed."""
    from helpers.services import ThrowawayPostgres, ThrowawayRedis, missing

    why = missing()
    needs(f"cannot run Postgres and Redis here: {why}" if why else None)
    home = Path(tempfile.mkdtemp(prefix="newslake-test-celery-"))
    lake = str(home / "lake")
    found: dict[str, Any] = {"home": home, "lake": lake, "timings": {}}
    timings: dict[str, float] = found["timings"]
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as services:
            pg = services.enter_context(ThrowawayPostgres(home / "postgres"))
            redis = services.enter_context(ThrowawayRedis(home / "redis"))
            found["service_processes"] = [*pg.processes(), *redis.processes()]
            found["cluster_dir"] = pg.cluster_dir
            timings["services_up"] = time.monotonic() - started
            with AirflowStack(
                home / "airflow", lake, port=free_port(),
                extra_env={"NEWSLAKE_DEMO_URL": demo_site}, parallelism=2,
                executor="CeleryExecutor", database_url=pg.url, broker_url=redis.url,
                worker_concurrency=2,
            ) as stack:
                timings["stack_up"] = time.monotonic() - started
                found["env"] = {k: v for k, v in stack.env.items() if k.startswith("AIRFLOW__")}
                stack.wait_for_dag(DAG_ID)
                stack.unpause(DAG_ID)
                found["result"] = stack.backfill(DAG_ID, celery_day, celery_day, timeout=360)
                timings["backfilled"] = time.monotonic() - started
                runs = found["result"].runs
                found["tis"] = [
                    ti
                    for run in runs
                    for ti in stack.api(
                        "GET", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances",
                        params={"limit": 1000},
                    )["task_instances"]
                ]
                found["worker_log"] = (stack.log_dir / "celery-worker.log").read_text(
                    errors="replace")
                found["scheduler_log"] = (stack.log_dir / "scheduler.log").read_text(
                    errors="replace")
                found["processes"] = stack.processes()
                found["airflow_home"] = str(stack.home)
            timings["stack_down"] = time.monotonic() - started
        timings["all_down"] = time.monotonic() - started
        print("celery stack timings (s since start): "
              + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        yield found
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_backfill_on_celery_and_postgres_succeeds(celery_run: dict[str, Any],
                                                  celery_day: dt.date) -> None:
    env = celery_run["env"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://127.0.0.1:")
    result = celery_run["result"]
    assert result.ok, result.states
    assert list(result.states) == [celery_day]
    assert [r["run_type"] for r in result.runs] == ["backfill"]


def test_every_task_ran_on_the_celery_worker(celery_run: dict[str, Any]) -> None:
    tis = celery_run["tis"]
    names = {ti["task_id"] for ti in tis}
    assert {"discover", "fetch", "parse", "validate", "publish"} <= names, names
    assert all(ti["state"] == "success" for ti in tis), [(t["task_id"], t["state"]) for t in tis]
    # The scheduler hands each task instance to Celery; the worker logs each workload it runs.
    log = celery_run["worker_log"]
    ran = re.findall(r"Executing workload in Celery: .*?task_id='([^']+)'", log)
    assert len(ran) >= len(tis), (len(ran), len(tis), log[-3000:])
    assert set(ran) == names
    assert "CeleryExecutor" in celery_run["scheduler_log"]
    assert "LocalExecutor" not in celery_run["scheduler_log"]


def test_the_day_holds_the_newsrooms_good_articles(
    celery_run: dict[str, Any], demo_site: str, celery_day: dt.date
) -> None:
    rows = duckdb.sql(
        f"SELECT article_id, url, CAST(date AS VARCHAR) AS date, outlet "
        f"FROM read_parquet('{celery_run['lake']}/articles/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    good = {a.url(demo_site) for a in catalog.articles_for(OUTLET, celery_day) if a.is_article_ok}
    assert good, f"the demo newsroom publishes on {celery_day}"
    assert {r[1] for r in rows} == good
    assert len(rows) == len({r[0] for r in rows}) == len(good)
    assert {(r[2], r[3]) for r in rows} == {(celery_day.isoformat(), OUTLET)}


def test_no_process_is_left(celery_run: dict[str, Any]) -> None:
    seen = celery_run["processes"]
    names = " ".join(" ".join(p.cmdline()) for p in seen if alive(p))
    assert not names, f"still running after the stack stopped: {names}"
    assert len(seen) >= 4, "the stack's processes were recorded"
    services = celery_run["service_processes"]
    assert len(services) >= 2
    assert not [p.pid for p in services if alive(p)], "Postgres or Redis still runs"
    assert not Path(celery_run["cluster_dir"]).exists(), "the Postgres cluster was removed"
    home, root = celery_run["airflow_home"], str(celery_run["home"])
    cluster = str(celery_run["cluster_dir"])
    left_behind = strays(
        lambda proc, cmdline: proc.cwd().startswith(root) or cluster in cmdline
        or proc.environ().get("AIRFLOW_HOME") == home
    )
    assert not left_behind, f"processes of the stopped stack still run: {left_behind}"
