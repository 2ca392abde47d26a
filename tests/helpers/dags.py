"""The project's DAGs inside the test process, run with ``DAG.test()``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from newslake.airflow_local import manual_run_after
from newslake.settings import PROJECT_ROOT


def load_dag(dag_id: str) -> Any:
    """``dag_id`` from a fresh DagBag of ``dags/``, which must import without errors."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)


def assert_succeeded(dag_run: Any) -> Any:
    assert str(dag_run.state) == "success", [
        (ti.task_id, ti.map_index, ti.state) for ti in dag_run.get_task_instances()
    ]
    return dag_run


def run_day(dag: Any, day: dt.date) -> Any:
    """The run for the interval [day, day+1) UTC; it must succeed."""
    return assert_succeeded(dag.test(logical_date=manual_run_after(day)))
