"""The environment of a local Airflow: its settings as variables, its paths, its DB.

``airflow_env`` is what ``DAG.test()`` runs need (``airflow_local``): SQLite in ``home``,
the DAGs and plugins of this project, the lake. ``stack_env`` adds what the services of a
running stack (``airflow_stack``) need to find each other: the API server's address, one
JWT secret, the executor, the metadata DB and the broker. Nothing here imports Airflow.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from newslake.settings import PROJECT_ROOT
from newslake.sqlite_quirks import sqlite_url
from newslake.supervisor import HOST, free_port

DEFAULT_PORT = 8793
EXECUTORS = ("LocalExecutor", "CeleryExecutor")


def airflow_env(home: Path, lake: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a local Airflow: SQLite DB in ``home``, DAGs from this project."""
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "NEWSLAKE_LAKE": lake,
            "AIRFLOW_VAR_NEWSLAKE_LAKE": lake,
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
    )
    env.update(extra or {})
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def migrate_db(env: dict[str, str], timeout: float = 300) -> None:
    """Create or upgrade the metadata DB (idempotent; ~5 s on SQLite)."""
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def stack_env(
    home: Path,
    lake: str,
    port: int,
    extra: dict[str, str] | None = None,
    *,
    parallelism: int = 2,
    use_schedule: bool = False,
    executor: str = "LocalExecutor",
    database_url: str | None = None,
    broker_url: str | None = None,
    worker_concurrency: int = 2,
) -> dict[str, str]:
    """``airflow_env`` plus what the services need to find each other.

    ``database_url``: the metadata DB's SQLAlchemy URL (default: SQLite in ``home``).
    ``executor``: ``LocalExecutor`` or ``CeleryExecutor``; the latter needs ``broker_url``.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, not {executor!r}")
    if executor == "CeleryExecutor" and not broker_url:
        raise ValueError("the CeleryExecutor needs a broker_url (e.g. redis://127.0.0.1:6379/0)")
    base_url = f"http://{HOST}:{port}"
    venv_bin = str(Path(sys.executable).parent)
    env = airflow_env(home, lake)
    env.update(
        {
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(use_schedule),
            # Local, loopback-only stack: everybody is admin, no login form.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            # One secret shared by the token issuer (scheduler) and the validator (api-server).
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlite_url(home / "airflow.db"),
            # The scheduler's log server defaults to 8793 too: give it a port of its own.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    if database_url:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url
    if executor == "CeleryExecutor":
        assert broker_url is not None
        db_url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                # As docker-compose.yaml: task states in the metadata DB, not the broker.
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url.split("?", 1)[0],
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            }
        )
    env.update(extra or {})
    return env
