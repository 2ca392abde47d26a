"""Where the lake is and how to reach it, from Airflow's Variables and Connections.

Shared by the ingest and reparse DAGs (``plugins/`` is on ``sys.path`` in Airflow). The
library gets plain strings: it never imports Airflow.
"""

from __future__ import annotations

from airflow.sdk import BaseHook, Variable
from airflow.sdk.exceptions import AirflowNotFoundException


def lake_uri() -> str:
    """The Variable ``newslake_lake``, else ``NEWSLAKE_LAKE``, else ``./lake``."""
    from newslake.settings import default_lake

    return str(Variable.get("newslake_lake", default=None) or default_lake())


def lake_storage(lake: str) -> dict[str, str]:
    """S3 options for an ``s3://`` lake from the connection named by the Variable
    ``newslake_lake_conn_id`` (default ``newslake_s3``; type aws: login/password =
    key/secret, extras ``endpoint_url`` and ``region_name``; see
    ``newslake.settings.storage_from_connection``, which ``newslake report --conn-id``
    shares). Without that connection the library falls back to the environment
    (``newslake.settings.storage_from_env``)."""
    if not lake.startswith("s3://"):
        return {}
    conn_id = Variable.get("newslake_lake_conn_id", default=None) or "newslake_s3"
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return {}
    from newslake.settings import storage_from_connection

    return storage_from_connection(conn.login, conn.password, conn.extra_dejson)
