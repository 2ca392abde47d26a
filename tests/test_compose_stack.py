"""docker-compose.yaml run service by service without Docker, then used as a team would.

The compose binary interpolates docker-compose.yaml with a ``.env`` made as docs/operating.md
says (``.env.example`` copied, every secret generated). Each service then starts natively
with its own command and environment (tests/helpers/compose.py): container hosts and
ports become free loopback ports, container paths folders of this run, named volumes
folders the services share. Postgres and Redis are the throwaway servers of
tests/helpers/services.py (their images' only settings are the user and DB names), the S3
store is ``weed`` with the compose file's arguments and credentials, ``airflow-init`` runs
to completion, and the long-running Airflow services are an ``AirflowStack`` built from
their commands. Every healthcheck of the file is run too, against the running service.

Then as a user: a token from ``/auth/token`` with the admin from ``.env``, a login in
headless Chromium, one demo outlet-day backfilled, its rows read back from the S3 lake.
Not shown here: the official image's entrypoint and bundled providers (docs/operating.md).

Test-only settings, beside the port mapping: the demo newsroom's URL and clock, and no
scheduled runs (only the triggered day runs: the demo's clock is frozen in the past).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
import requests
from helpers.clock import days_ago
from helpers.compose import ComposeWeed, NativeContainers, compose_config, run_healthcheck
from helpers.prereqs import needs
from helpers.processes import alive, strays

from demo_site import catalog
from newslake import lake as lakes
from newslake.airflow_stack import AirflowStack
from newslake.settings import PROJECT_ROOT
from newslake.supervisor import free_port

pytestmark = pytest.mark.timeout(900)

OUTLET = "demo_metro_ledger"
DAG_ID = f"ingest_{OUTLET}"
INFRA = ("postgres", "redis", "s3")
INIT = "airflow-init"


def team_env_file(path: Path) -> dict[str, str]:
    """``.env.example`` copied with every secret generated, as docs/operating.md tells a team."""
    values: dict[str, str] = {}
    for line in (PROJECT_ROOT / ".env.example").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        if any(word in key for word in ("PASSWORD", "SECRET")):
            value = secrets.token_hex(24)
        values[key] = value
    values["AIRFLOW_UID"] = str(os.getuid())
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values


def _log_server_ports() -> dict[str, str]:
    return {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())}


@pytest.fixture(scope="module")
def compose_day() -> dt.date:
    return days_ago(5)


@pytest.fixture(scope="module")
def compose_run(demo_site: str, compose_day: dt.date) -> Iterator[dict[str, Any]]:
    from helpers.browser import Browser
    from helpers.browser import missing as no_browser
    from helpers.services import ThrowawayPostgres, ThrowawayRedis, missing

    why = missing() or no_browser()
    needs(f"cannot run the compose stack here: {why}" if why else None)
    home = Path(tempfile.mkdtemp(prefix="newslake-test-compose-"))
    env_file = home / ".env"
    dotenv = team_env_file(env_file)
    config = compose_config(env_file)
    native = NativeContainers(home, config)
    services = config["services"]
    found: dict[str, Any] = {"dotenv": dotenv, "config": config, "health": {}, "timings": {}}
    started = time.monotonic()

    def lap(name: str) -> None:
        found["timings"][name] = round(time.monotonic() - started, 1)

    try:
        with contextlib.ExitStack() as stack:
            pg_env = services["postgres"]["environment"]
            pg = ThrowawayPostgres(home / "postgres")
            pg.user, pg.database = pg_env["POSTGRES_USER"], pg_env["POSTGRES_DB"]
            stack.enter_context(pg)
            native.map_port("postgres", 5432, pg.port)
            redis = stack.enter_context(ThrowawayRedis(home / "redis"))
            native.map_port("redis", 6379, redis.port)
            s3 = stack.enter_context(ComposeWeed(native, "s3"))
            found["infra_processes"] = [*pg.processes(), *redis.processes(), *s3.processes()]
            found["cluster_dir"] = pg.cluster_dir
            pg_health = native.environment("postgres", {"PGHOST": "127.0.0.1",
                                                        "PGPORT": str(pg.port)})
            found["health"]["postgres"] = run_healthcheck(native, "postgres", pg_health)
            found["health"]["s3"] = run_healthcheck(native, "s3", native.environment("s3"))
            lap("infra_up")

            api_port = free_port()
            native.map_port("airflow-apiserver", 8080, api_port)
            extra = {
                **_log_server_ports(),
                "NEWSLAKE_DEMO_URL": demo_site,
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            }
            envs = {name: native.environment(name, extra) for name in services
                    if native.is_airflow(name)}
            envs["airflow-apiserver"].update({"AIRFLOW__API__HOST": "127.0.0.1",
                                              "AIRFLOW__API__PORT": str(api_port)})
            found["init"] = subprocess.run(
                native.command(INIT), env=envs[INIT], cwd=native.root(INIT),
                capture_output=True, text=True, timeout=600, check=False,
            )
            assert found["init"].returncode == 0, found["init"].stdout + found["init"].stderr
            lap("init_done")
            storage = {"endpoint_url": f"http://127.0.0.1:{s3.port}",
                       "access_key_id": dotenv["S3_ACCESS_KEY"],
                       "secret_access_key": dotenv["S3_SECRET_KEY"], "region": "us-east-1"}
            found["storage"] = storage
            fs, _ = lakes.filesystem(dotenv["NEWSLAKE_LAKE"], storage)
            found["buckets_after_init"] = [i.path for i in fs.get_file_info(
                pafs.FileSelector(""))]

            components = {name: native.command(name) for name in envs if name != INIT}
            by_component = {"-".join(cmd[1:]): name for name, cmd in components.items()}
            airflow = AirflowStack(
                home / "stack", dotenv["NEWSLAKE_LAKE"], port=api_port,
                executor="CeleryExecutor", env=envs["airflow-apiserver"], migrate=False,
                components=tuple((c, tuple(cmd[1:])) for c, cmd in
                                 ((c, components[n]) for c, n in by_component.items())),
                component_env={c: envs[n] for c, n in by_component.items()},
            )
            found["components"] = by_component
            with airflow:
                lap("airflow_up")
                base = airflow.base_url
                admin = (dotenv["AIRFLOW_ADMIN_USER"], dotenv["AIRFLOW_ADMIN_PASSWORD"])
                found["wrong_password"] = requests.post(
                    f"{base}/auth/token", json={"username": admin[0], "password": "wrong"},
                    timeout=30).status_code
                found["unauthenticated"] = requests.get(f"{base}/api/v2/dags",
                                                        timeout=30).status_code
                token = requests.post(f"{base}/auth/token", timeout=30,
                                      json={"username": admin[0], "password": admin[1]})
                token.raise_for_status()
                airflow.authenticate(token.json()["access_token"])
                airflow.wait_for_dag(DAG_ID)
                with ThreadPoolExecutor(len(components)) as pool:  # each is one CLI run
                    checks = {n: pool.submit(run_healthcheck, native, n, envs[n])
                              for n in components}
                found["health"].update({n: f.result() for n, f in checks.items()})
                lap("healthchecks")
                with Browser(home) as browser:
                    browser.open(f"{base}/")
                    browser.wait_for("document.querySelector('input[name=username]')")
                    browser.type_into("input[name=username]", admin[0])
                    browser.type_into("input[name=password]", admin[1])
                    browser.evaluate("document.querySelector('button[type=submit]').click()")
                    # Logged in once the login form has sent the browser on to the UI.
                    browser.wait_for("!location.pathname.startsWith('/auth')"
                                     " && !document.querySelector('input[name=password]')"
                                     " && document.body.innerText.includes('Dags')", 120)
                    browser.open(f"{base}/dags")
                    browser.wait_for(f"document.body.innerText.includes('{DAG_ID}')", 120)
                    found["ui_dags"] = browser.text()
                lap("browser_login")
                airflow.unpause(DAG_ID)
                found["result"] = airflow.backfill(DAG_ID, compose_day, compose_day,
                                                   timeout=420)
                lap("backfilled")
                found["rows"] = _articles(dotenv["NEWSLAKE_LAKE"], storage)
                found["processes"] = airflow.processes()
                found["stack_home"] = str(airflow.home)
            lap("all_down")
        print("compose stack timings (s since start): " + ", ".join(
            f"{k} {v}" for k, v in found["timings"].items()))
        found["home"] = str(home)
        yield found
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _articles(lake: str, storage: dict[str, str]) -> list[dict[str, Any]]:
    fs, path = lakes.filesystem(f"{lake}/articles", storage)
    return list(ds.dataset(path, filesystem=fs, partitioning="hive").to_table().to_pylist())


def test_every_service_starts_and_passes_its_healthcheck(compose_run: dict[str, Any]) -> None:
    health = compose_run["health"]
    expected = {"postgres", "s3"} | {n for n in compose_run["config"]["services"]
                                     if n.startswith("airflow-") and n != INIT}
    assert set(health) == expected
    failed = {name: (r.returncode, r.stdout[-500:], r.stderr[-500:])
              for name, r in health.items() if r.returncode != 0}
    assert not failed, failed
    assert set(compose_run["components"]) == {
        "api-server", "scheduler", "dag-processor", "triggerer", "celery-worker"}


def test_init_creates_the_admin_and_the_lake_bucket(compose_run: dict[str, Any]) -> None:
    out = compose_run["init"].stdout
    assert f"UI admin '{compose_run['dotenv']['AIRFLOW_ADMIN_USER']}'" in out
    bucket = compose_run["dotenv"]["NEWSLAKE_LAKE"].removeprefix("s3://").split("/")[0]
    assert bucket in compose_run["buckets_after_init"]


def test_the_admin_from_env_logs_in_and_nobody_else(compose_run: dict[str, Any]) -> None:
    assert compose_run["wrong_password"] == 401
    assert compose_run["unauthenticated"] == 401
    assert DAG_ID in compose_run["ui_dags"]


def test_a_triggered_day_lands_in_the_s3_lake(
    compose_run: dict[str, Any], demo_site: str, compose_day: dt.date
) -> None:
    result = compose_run["result"]
    assert result.ok, result.states
    rows = compose_run["rows"]
    good = {a.url(demo_site) for a in catalog.articles_for(OUTLET, compose_day)
            if a.is_article_ok}
    assert good
    assert {r["url"] for r in rows} == good
    assert {(str(r["date"]), r["outlet"]) for r in rows} == {(compose_day.isoformat(), OUTLET)}


def test_nothing_is_left_running(compose_run: dict[str, Any]) -> None:
    seen = [*compose_run["processes"], *compose_run["infra_processes"]]
    assert len(seen) >= 8
    assert not [" ".join(p.cmdline()) for p in seen if alive(p)]
    home = compose_run["home"]
    left = strays(lambda proc, cmdline: home in cmdline or proc.cwd().startswith(home))
    assert not left, left
