"""One DAG per outlet config, and one import error per config that does not load; the
outlets' ``newslake://articles/<outlet>`` Assets that the downstream DAGs listen to.

Shared by the ingest, reparse, compact and stories DAG files (``plugins/`` is on
``sys.path`` in Airflow).
A file in ``include/outlets/`` that fails to load (a misspelled time zone, an unknown
key) must break only its own outlet's DAGs: every other outlet keeps being scheduled.
Its DAG id is still claimed, by a stand-in whose ``validate`` raises the
``ConfigError`` (file and key): the DagBag then records it under the DAG file as an
import error, which the UI lists, and bags the other DAGs of the file as usual.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from airflow.sdk import DAG, Asset

from newslake.config import Outlet, load_outlets_apart
from newslake.errors import ConfigError


def article_asset(outlet_id: str) -> Asset:
    """The Asset an outlet's ingest and reparse runs emit when they publish an outlet-day."""
    return Asset(f"newslake://articles/{outlet_id}")


def article_assets() -> list[Asset]:
    """Every loading outlet's articles Asset (a config that does not load has none: its
    DAGs are not scheduled, so it publishes nothing)."""
    outlets, _ = load_outlets_apart()
    return [article_asset(outlet_id) for outlet_id in outlets]


def _broken_dag(dag_id: str, error: ConfigError) -> DAG:
    dag = DAG(dag_id=dag_id, schedule=None, tags=["newslake", "broken"],
              description="outlet config does not load", doc_md=str(error))

    def validate() -> None:
        raise error

    dag.validate = validate  # type: ignore[method-assign]
    return dag


def outlet_dags(kind: str, build: Callable[[Outlet], DAG]) -> dict[str, DAG]:
    """``<kind>_<outlet id>`` → its DAG, for every outlet config; a config that does not
    load gets a stand-in that fails the DagBag's validation with the config's error.

    The DagBag keys import errors by DAG file, one message a file, so each stand-in
    raises the errors of every broken config (a second would hide the first)."""
    outlets, broken = load_outlets_apart()
    dags = {f"{kind}_{outlet.id}": build(outlet) for outlet in outlets.values()}
    if broken:
        error = ConfigError("outlet configs that do not load (their DAGs are not scheduled):\n"
                            + "\n".join(str(e) for e in broken.values()))
        for path in broken:
            stem = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem)
            dags.setdefault(f"{kind}_{stem}", _broken_dag(f"{kind}_{stem}", error))
    return dags
