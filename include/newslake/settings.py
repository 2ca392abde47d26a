"""Where things are: the lake URI, its storage options and the outlets folder.

In Airflow the lake comes from the Variable ``newslake_lake`` (set it in the UI, or as
``AIRFLOW_VAR_NEWSLAKE_LAKE``); outside Airflow from ``NEWSLAKE_LAKE``. Both default to
``lake/`` in the project folder, which is what the demo uses.

An ``s3://bucket/prefix`` lake needs storage options (endpoint, credentials, region). In
Airflow they come from a connection (``plugins/newslake_storage.py``); outside Airflow from
the environment (``storage_from_env``) or, for ``newslake report/datadocs --conn-id``, from
the same Airflow connection the DAGs use (``storage_from_connection``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The storage option keys that ``newslake.lake`` understands (all plain strings).
STORAGE_KEYS = ("endpoint_url", "access_key_id", "secret_access_key", "session_token", "region")


def storage_from_connection(login: str | None, password: str | None,
                            extra: Mapping[str, Any]) -> dict[str, str]:
    """S3 storage options from an Airflow ``aws`` connection's fields: login/password =
    key/secret (or the extras ``aws_access_key_id``/``aws_secret_access_key``), extras
    ``aws_session_token``, ``endpoint_url`` and ``region_name``. Unset fields are left out."""
    found = {
        "access_key_id": login or extra.get("aws_access_key_id"),
        "secret_access_key": password or extra.get("aws_secret_access_key"),
        "session_token": extra.get("aws_session_token"),
        "endpoint_url": extra.get("endpoint_url"),
        "region": extra.get("region_name"),
    }
    return {k: str(v) for k, v in found.items() if v}


def default_lake() -> str:
    return os.environ.get("NEWSLAKE_LAKE") or str(PROJECT_ROOT / "lake")


def storage_from_env() -> dict[str, str]:
    """S3 storage options from the environment, for runs outside Airflow.

    ``NEWSLAKE_S3_ENDPOINT`` (e.g. ``http://127.0.0.1:8333``; empty means AWS itself),
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN`` and
    ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``). Unset variables are left out.
    """
    env = os.environ
    found = {
        "endpoint_url": env.get("NEWSLAKE_S3_ENDPOINT") or env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL"),
        "access_key_id": env.get("AWS_ACCESS_KEY_ID"),
        "secret_access_key": env.get("AWS_SECRET_ACCESS_KEY"),
        "session_token": env.get("AWS_SESSION_TOKEN"),
        "region": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
    }
    return {k: v for k, v in found.items() if v}
