"""DAG integrity: every outlet config gives one importable, well-formed DAG."""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
from pathlib import Path

import pytest

from newslake.config import load_outlets
from newslake.settings import PROJECT_ROOT


def _load_bag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


def test_one_dag_per_outlet_without_errors_or_deprecations(airflow_db: object) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = _load_bag()
    assert bag.import_errors == {}
    ours = [
        w for w in caught
        if issubclass(w.category, DeprecationWarning) and str(PROJECT_ROOT) in str(w.filename)
        and ".venv" not in str(w.filename)
    ]
    assert ours == [], [str(w.message) for w in ours]
    expected = {f"{kind}_{o}" for o in load_outlets() for kind in ("ingest", "reparse")}
    assert set(bag.dag_ids) == expected | {"poll_frontier", "compact_corpus", "revisit",
                                           "group_stories"}


def test_dags_are_wired_as_designed(airflow_db: object) -> None:
    bag = _load_bag()
    for dag_id in bag.dag_ids:
        dag = bag.get_dag(dag_id)
        assert dag.doc_md and "newslake" in dag.tags
        assert not dag.catchup
        for task in dag.tasks:
            assert task.retries >= 1, (dag_id, task.task_id)
            # A hung task (a hostile page, a stuck connection) must not hold a slot for ever.
            assert task.execution_timeout is not None, (dag_id, task.task_id)
            assert task.execution_timeout <= dt.timedelta(hours=3), (dag_id, task.task_id)
        if dag_id == "poll_frontier":
            assert type(dag.timetable).__name__ == "CronTriggerTimetable"
            assert set(dag.task_ids) == {"plan", "poll", "report"}
            assert dag.max_active_runs == 1
            for task in dag.tasks:  # every run ends well before the next 10-minute tick
                assert task.execution_timeout is not None, task.task_id
                assert task.execution_timeout <= dt.timedelta(minutes=9), task.task_id
            assert [a.uri.rstrip("/") for a in dag.get_task("report").outlets] == [
                "newslake://frontier"]
            continue
        if dag_id == "revisit":  # tests/test_revisit.py
            assert type(dag.timetable).__name__ == "CronTriggerTimetable"
            assert set(dag.task_ids) == {"plan", "revisit", "report"}
            assert dag.max_active_runs == 1
            assert [a.uri.rstrip("/") for a in dag.get_task("report").outlets] == [
                "newslake://revisions"]
            continue
        if dag_id.startswith("reparse_"):
            assert "reparse" in dag.tags
            assert type(dag.timetable).__name__ == "NullTimetable"
            assert set(dag.task_ids) == {"plan", "reparse"}
            assert {"from", "to"} <= set(dag.params)
            continue
        if dag_id in ("compact_corpus", "group_stories"):  # tests/test_*_dag.py
            assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
            continue
        assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
        assert set(dag.task_ids) == {"discover", "fetch", "parse", "validate", "publish"}
        assert dag.get_task("fetch").downstream_task_ids == {"parse", "publish"}
        assert dag.get_task("validate").downstream_task_ids == {"publish"}
        assert dag.default_args.get("on_failure_callback") is not None
        assert dag.get_task("fetch").max_active_tis_per_dag == 1, "politeness per outlet"


def test_dag_file_imports_only_light_modules() -> None:
    """Parsing must not pull in the heavy parts: they belong inside the tasks."""
    import subprocess
    import sys

    code = (
        "import sys, runpy; runpy.run_path('dags/ingest.py'); runpy.run_path('dags/reparse.py');"
        "runpy.run_path('dags/poll.py'); runpy.run_path('dags/compact.py');"
        "runpy.run_path('dags/stories.py');"
        "heavy = [m for m in ('great_expectations', 'pandas', 'pyarrow', 'trafilatura', "
        "'newslake.pipeline', 'newslake.reparse', 'newslake.frontier', 'newslake.stories', "
        "'datasketch', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120, check=True,
    )
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout


def test_discover_is_told_airflows_mapping_limit(
    airflow_db: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover makes at most ``[core] max_map_length`` chunks: the DAG reads the limit
    from Airflow's config when the task runs and passes it down as a plain int."""
    discover = _load_bag().get_dag("ingest_demo_metro_ledger").get_task("discover")
    max_map_length = discover.python_callable.__globals__["_max_map_length"]
    assert max_map_length() == 1024
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "7")
    assert max_map_length() == 7


def test_one_bad_outlet_file_breaks_only_its_own_dags(
    airflow_db: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A misspelled time zone in one outlet YAML: an import error naming the file and the
    key (one per DAG file, as the UI lists them), and every other outlet's DAGs load."""
    outlets = tmp_path / "outlets"
    outlets.mkdir()
    shipped = PROJECT_ROOT / "include" / "outlets"
    for name in ("demo_bayside_press.yaml", "demo_metro_ledger.yaml"):
        shutil.copy(shipped / name, outlets / name)
    bad = outlets / "demo_dnipro_visti.yaml"
    bad.write_text((shipped / bad.name).read_text().replace("Europe/Kyiv", "Europe/Kyjiw"))
    monkeypatch.setenv("NEWSLAKE_OUTLETS_DIR", str(outlets))

    bag = _load_bag()
    assert set(bag.dag_ids) == {f"{kind}_{o}" for kind in ("ingest", "reparse")
                                for o in ("demo_bayside_press", "demo_metro_ledger")} | {
        "poll_frontier", "compact_corpus", "revisit", "group_stories"}  # one DAG each
    assert {Path(f).name for f in bag.import_errors} == {"ingest.py", "reparse.py"}
    for message in bag.import_errors.values():
        assert f"{bad}: timezone: unknown time zone 'Europe/Kyjiw'" in message, message
