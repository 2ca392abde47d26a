"""OpenLineage, turned on by configuration only: Airflow's OpenLineage provider is installed
and stays off until a transport is configured; with ``[openlineage] transport`` set to the
file transport, a DAG run by ``dag.test()`` writes its run and task events to a file.

What the events carry for the lake (docs/decisions.md, "OpenLineage"): an Asset whose URI
has an OpenLineage converter (``file://`` from the common-io provider, ``s3://`` from the
Amazon one) becomes an output dataset; newslake's own ``newslake://`` Assets have none and
are left out of the events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE_DAG = """
import datetime as dt
from airflow.sdk import DAG, Asset, task

with DAG("newslake_lineage_probe", schedule=None,
         start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)):
    @task(outlets=[Asset("newslake://articles/probe"),
                   Asset("file:///lake/articles/outlet=probe")])
    def publish():
        return 1

    publish()
"""
PROBE_RUN = """
import os, sys
from pathlib import Path
from newslake.airflow_local import airflow_env, migrate_db
home = Path(sys.argv[1])
os.environ.update(airflow_env(home, str(home / "lake"), {
    "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
}))
migrate_db(dict(os.environ))
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=str(home / "dags"))
assert bag.import_errors == {}, bag.import_errors
run = bag.get_dag("newslake_lineage_probe").test()
print("PROBE", sorted((ti.task_id, str(ti.state)) for ti in run.get_task_instances()))
"""


@pytest.mark.timeout(420)
def test_openlineage_events_from_configuration_alone(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "probe.py").write_text(PROBE_DAG)
    events_file = tmp_path / "events.jsonl"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW__OPENLINEAGE__", "OPENLINEAGE_"))}
    env.update({
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events_file), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "newslake-test",
    })
    done = subprocess.run([sys.executable, "-c", PROBE_RUN, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=360)
    assert "PROBE [('publish', 'success')]" in done.stdout, (done.stdout + done.stderr)[-3000:]

    events = [json.loads(line) for line in events_file.read_text().splitlines()]
    seen = {(e["eventType"], e["job"]["name"]) for e in events}
    assert {("START", "newslake_lineage_probe.publish"),
            ("COMPLETE", "newslake_lineage_probe.publish"),
            ("COMPLETE", "newslake_lineage_probe")} <= seen
    assert {e["job"]["namespace"] for e in events} == {"newslake-test"}
    (complete,) = [e for e in events if e["eventType"] == "COMPLETE"
                   and e["job"]["name"] == "newslake_lineage_probe.publish"]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [
        ("file", "/lake/articles/outlet=probe")]


def test_openlineage_is_off_without_a_transport() -> None:
    # The test session configures no transport: the provider's listener stays disabled.
    from airflow.providers.openlineage.conf import is_disabled

    assert not any(k.startswith(("AIRFLOW__OPENLINEAGE__", "OPENLINEAGE_")) for k in os.environ)
    assert is_disabled()
