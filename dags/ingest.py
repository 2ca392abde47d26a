"""One ingest DAG per outlet config in include/outlets/: ``ingest_<outlet_id>``.

discover → fetch (mapped over chunks of URLs) → parse (mapped) → validate → publish,
each handing the next a small typed value through XCom (``newslake.steps``).
The run for the data interval [D, D+1) UTC owns the partition ``date=D`` of its outlet
and replaces it whole, so retries, reruns and backfills never add rows twice; they never
lose one either (every URL the partition holds is tried again; see ``newslake.pipeline``).
Only light modules are imported here: the library is imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, get_current_context, task
from newslake_callbacks import (  # plugins/: on sys.path in Airflow
    emit_run_stats,
    on_failure,
    on_warning,
)
from newslake_outlets import article_asset, outlet_dags
from newslake_storage import lake_storage, lake_uri

from newslake.config import Outlet
from newslake.steps import Chunk, Discovery, Fetched, Parsed, Validated

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    "retries": 2,
    # Five minutes lets a rate-limited or briefly down outlet recover between attempts.
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "on_failure_callback": on_failure,  # logs one line; mails/Slacks when configured
    # No task may hold a worker slot for ever (a hostile page, a stuck connection): each
    # attempt is killed after this, and retried. fetch has its own (below).
    "execution_timeout": dt.timedelta(hours=1),
}
# A fetch chunk: up to a few hundred URLs (a day near max_map_length) at the outlet's
# rate, with retries and per-request timeouts.
FETCH_TIMEOUT = dt.timedelta(hours=3)
# The XCom key of discover's figures (newslake.steps.Discovery), beside its chunks.
DISCOVERY_KEY = "discovery"


def _run_spec(outlet: Outlet) -> Any:
    from newslake.pipeline import RunSpec

    context = get_current_context()
    start = context["data_interval_start"]
    if start is None:
        raise ValueError("this DAG needs a data interval: run it on its timetable or a backfill")
    lake = lake_uri()
    storage = lake_storage(lake)
    return RunSpec(
        outlet=outlet, day=start.date(), run_id=context["run_id"], lake=lake, storage=storage
    )


def _max_map_length() -> int:
    """Airflow's limit on one mapped task's length (``[core] max_map_length``, 1024 by
    default): discover makes at most that many fetch chunks."""
    from airflow.sdk import conf

    return conf.getint("core", "max_map_length")


def _doc(outlet: Outlet) -> str:
    sources = ", ".join(s.type for s in outlet.discovery) or "none"
    network = "needs internet" if outlet.requires_internet else "no internet needed"
    return (
        f"### Ingest {outlet.name} (`{outlet.id}`)\n\n"
        f"Base URL {outlet.base_url} · language `{outlet.language}` · timezone "
        f"`{outlet.timezone}` · discovery: {sources} · {network}.\n\n"
        "The run for [D, D+1) UTC replaces `articles/`, `quarantine/` and `raw/` partitions "
        f"`outlet={outlet.id}/date=D` and writes `_runs/outlet={outlet.id}/date=D/<run>.json`.\n"
        f"Config: `{outlet.source_path}`."
    )


def build_dag(outlet: Outlet) -> DAG:
    with DAG(
        dag_id=f"ingest_{outlet.id}",
        description=f"Ingest {outlet.name} into the lake, one partition a day",
        schedule=CronDataIntervalTimetable(outlet.cron, timezone="UTC"),
        start_date=dt.datetime.combine(outlet.start_date, dt.time(), tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=4,
        default_args=DEFAULT_ARGS,
        tags=["newslake", "ingest", "demo" if outlet.demo else "outlet"],
        doc_md=_doc(outlet),
    ) as dag:

        # Each task returns a small typed value (newslake.steps: locations and counts) that
        # XCom hands the next; discover's figures go to publish under their own key.
        @task(multiple_outputs=False)
        def discover() -> list[Chunk]:
            from newslake.pipeline import discover_step

            found = discover_step(_run_spec(outlet), max_chunks=_max_map_length())
            get_current_context()["ti"].xcom_push(DISCOVERY_KEY, found["discovery"])
            return found["chunks"]

        # One fetch task of an outlet at a time, across runs and workers: the outlet's
        # requests_per_second and concurrency (threads inside the task) then hold for the
        # whole outlet, however many chunks and backfill days run in parallel.
        @task(multiple_outputs=False, max_active_tis_per_dag=1, execution_timeout=FETCH_TIMEOUT)
        def fetch(chunk: Chunk) -> Fetched:
            from newslake.pipeline import fetch_step

            return fetch_step(_run_spec(outlet), chunk)

        @task(multiple_outputs=False)
        def parse(raw: Fetched) -> Parsed:
            from newslake.pipeline import parse_step

            return parse_step(_run_spec(outlet), raw)

        @task(multiple_outputs=False)
        def validate(parsed: list[Parsed]) -> Validated:
            from airflow.sdk.exceptions import AirflowFailException

            from newslake.pipeline import validate_step
            from newslake.validate import BatchValidationError, CheckCouldNotRunError

            try:
                return validate_step(_run_spec(outlet), list(parsed))
            except CheckCouldNotRunError:
                raise  # the checks did not run (a broken install, a full disk): retry
            except BatchValidationError as exc:
                # The same rows fail the same checks on every attempt: fail without retries.
                raise AirflowFailException(str(exc)) from exc

        @task(multiple_outputs=False, outlets=[article_asset(outlet.id)])
        def publish(validated: Validated, fetched: list[Fetched],
                    discovery: Discovery) -> dict[str, Any]:
            from airflow.sdk.exceptions import AirflowFailException

            from newslake.errors import ShrinkError
            from newslake.pipeline import publish_step

            try:
                manifest = publish_step(_run_spec(outlet), validated, list(fetched), discovery)
            except ShrinkError as exc:  # the same rows would leave again: no retry
                raise AirflowFailException(str(exc)) from exc
            emit_run_stats(manifest)
            if manifest.get("batch_warnings"):  # checks set to warn: published, but said so
                on_warning(get_current_context(), manifest["batch_warnings"])
            return manifest

        chunks = discover()
        fetched = fetch.expand(chunk=chunks)
        parsed = parse.expand(raw=fetched)
        publish(validate(parsed), fetched, chunks[DISCOVERY_KEY])  # type: ignore[arg-type,index]
    return dag


# One bad outlet file breaks only its own DAGs (an import error naming file and key).
globals().update(outlet_dags("ingest", build_dag))
