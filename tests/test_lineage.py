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
from pathlib import Path

import pytest
from helpers.probe_dag import environment, run_probe_dag

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
@pytest.mark.timeout(420)
def test_openlineage_events_from_configuration_alone(tmp_path: Path) -> None:
    events_file = tmp_path / "events.jsonl"
    env = {**environment(without=("AIRFLOW__OPENLINEAGE__", "OPENLINEAGE_")),
           "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
               {"type": "file", "log_file_path": str(events_file), "append": True}),
           "AIRFLOW__OPENLINEAGE__NAMESPACE": "newslake-test"}
    done = run_probe_dag(tmp_path, PROBE_DAG, "newslake_lineage_probe", env)
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
