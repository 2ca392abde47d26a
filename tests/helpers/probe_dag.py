"""A small probe DAG run by ``dag.test()`` in a subprocess with an Airflow home of its own
(its own DAG folder and SQLite DB), so that the test session's DB and bundle stay
untouched and the probe sees only the environment the test gives it (Airflow reads
connections, Variables and ``[openlineage]`` settings from it at start-up).

    done = run_probe_dag(tmp_path, SOURCE, "my_probe", env)
    assert "PROBE [('publish', 'success')]" in done.stdout

The subprocess prints ``PROBE`` and the sorted (task_id, state) pairs of the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

_RUN = """
import os, sys
from pathlib import Path
from newslake.airflow_env import airflow_env, migrate_db
home, dag_id = Path(sys.argv[1]), sys.argv[2]
os.environ.update(airflow_env(home, str(home / "lake"), {
    "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
}))
migrate_db(dict(os.environ))
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=str(home / "dags"))
assert bag.import_errors == {}, bag.import_errors
run = bag.get_dag(dag_id).test()
print("PROBE", sorted((ti.task_id, str(ti.state)) for ti in run.get_task_instances()))
"""


def environment(without: tuple[str, ...]) -> dict[str, str]:
    """This process's environment minus the variables whose names start with one of the
    prefixes ``without``."""
    return {k: v for k, v in os.environ.items() if not k.startswith(without)}


def run_probe_dag(home: Path, source: str, dag_id: str, env: Mapping[str, str],
                  timeout: float = 360) -> subprocess.CompletedProcess[str]:
    """Write ``source`` as ``home/dags/probe.py`` and run DAG ``dag_id`` of it once."""
    (home / "dags").mkdir(parents=True, exist_ok=True)
    (home / "dags" / "probe.py").write_text(source)
    return subprocess.run([sys.executable, "-c", _RUN, str(home), dag_id], env=dict(env),
                          capture_output=True, text=True, timeout=timeout)
