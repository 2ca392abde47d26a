"""The demo Harbor Wire on a clock the test sets, and what the wire tests read back: the
scaffolding that the revisit and frontier DAG tests share.

    clock = Clock(AFTER_MIDNIGHT)
    with newsroom(clock, monkeypatch) as site:      # NEWSLAKE_DEMO_URL points at it
        monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(shipped_configs(tmp_path / "o", WIRE)))
        ...
        clock.now = later                            # the newsroom moves on
        total = report_of(without_retries(load_dag("revisit")).test(logical_date=later))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pytest

from demo_site.server import DemoNewsroom
from newslake import lake as lakeio
from newslake.settings import PROJECT_ROOT

WIRE = "demo_harbor_wire"


@dataclass
class Clock:
    """A clock the test moves by setting ``now``."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


def shipped_configs(folder: Path, *outlet_ids: str) -> Path:
    """``folder``, made, holding copies of the shipped configs of ``outlet_ids``."""
    folder.mkdir(parents=True, exist_ok=True)
    for outlet_id in outlet_ids:
        name = f"{outlet_id}.yaml"
        (folder / name).write_text((PROJECT_ROOT / "include" / "outlets" / name).read_text())
    return folder


@contextmanager
def newsroom(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoNewsroom]:
    """The demo newsroom on a free loopback port, on ``clock``; the outlet configs point
    at it (``NEWSLAKE_DEMO_URL``) while it runs."""
    with DemoNewsroom(port=0, clock=clock) as site:
        monkeypatch.setenv("NEWSLAKE_DEMO_URL", site.base_url)
        yield site


def zone_rows(lake: str, zone: str) -> list[dict[str, Any]]:
    """Every row of a zone of a local lake, by URL then revision; [] when it is empty."""
    path = Path(lake) / zone
    if not path.exists():
        return []
    rows = ds.dataset(str(path), partitioning="hive").to_table().to_pylist()
    return sorted(rows, key=lambda r: (r["url"], r.get("revision") or 0))


def latest_manifest(lake: str, outlet: str, day: dt.date) -> dict[str, Any]:
    """The newest run manifest of an outlet-day."""
    return dict(lakeio.read_json(lakeio.list_manifest_uris(lake, outlet, day)[-1]))


def without_retries(dag: Any) -> Any:
    """``dag`` with no task retried: a failure shows in the run at once."""
    for task in dag.tasks:
        task.retries = 0
    return dag


def report_of(dag_run: Any) -> dict[str, Any]:
    """What the run's ``report`` task returned (its XCom)."""
    report = next(ti for ti in dag_run.get_task_instances() if ti.task_id == "report")
    return dict(report.xcom_pull(task_ids="report"))
