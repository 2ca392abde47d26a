"""One reparse DAG per outlet config in include/outlets/: ``reparse_<outlet_id>``.

Triggered by hand with the params ``from`` and ``to`` (UTC days, inclusive): rebuilds
``articles/``, ``quarantine/`` and a run manifest for each day from the raw zone (the WARC
files the ingest kept), without fetching. For a better parser, a fixed outlet rule or a
new validation suite over history. ``older_than`` (a parser label such as ``generic@2``,
or ``current``) keeps only the days whose partitions hold rows by an older parser.
``plan`` → ``reparse`` (mapped, one task per day).
Only light modules are imported here: the library is imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Param, get_current_context, task
from newslake_outlets import article_asset, outlet_dags  # plugins/: on sys.path in Airflow
from newslake_storage import lake_storage, lake_uri

from newslake.config import Outlet

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "newslake",
    # A reparse reads local files: a failure is mostly a parser or validation problem that
    # a retry will not fix, so one quick retry (for a full disk, a killed worker) is enough.
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=1),
    # One day's reparse (parse, validate, publish) of a big day; plan takes seconds.
    "execution_timeout": dt.timedelta(hours=2),
}
# Parsing is CPU-bound: a few days at once per run, not the whole range.
PARALLEL_DAYS = 4


def _doc(outlet: Outlet) -> str:
    return (
        f"### Reparse {outlet.name} (`{outlet.id}`)\n\n"
        "Trigger with `from` and `to` (YYYY-MM-DD, inclusive, UTC days). For each day, the "
        f"WARC files in `raw/outlet={outlet.id}/date=D/` are parsed, validated and published "
        f"again: `articles/` and `quarantine/` of `outlet={outlet.id}/date=D` are replaced, "
        f"`raw/` stays as it is and `_runs/outlet={outlet.id}/date=D/<run>.json` records the "
        "reparse. No request is sent. Days without raw files are skipped.\n"
        "CLI equivalent: `newslake reparse --outlet "
        f"{outlet.id} --from D1 --to D2`. Config: `{outlet.source_path}`.\n\n"
        "`older_than` (optional): only the days whose partitions hold rows by an older "
        "parser than this label: `generic@N` (parsing code before N), `rules:<outlet>@R` "
        "(also the outlet's rules before R) or `current` (what the code and the outlet's "
        "YAML write now). CLI: `--older-than`."
    )


def build_dag(outlet: Outlet) -> DAG:
    with DAG(
        dag_id=f"reparse_{outlet.id}",
        description=f"Re-parse {outlet.name} from the raw zone, without fetching",
        schedule=None,
        start_date=dt.datetime.combine(outlet.start_date, dt.time(), tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,  # two reparses of the same days would race for the partitions
        default_args=DEFAULT_ARGS,
        tags=["newslake", "reparse"],
        doc_md=_doc(outlet),
        params={
            "from": Param(type="string", format="date", title="First day (UTC)"),
            "to": Param(type="string", format="date", title="Last day (UTC), inclusive"),
            "older_than": Param(
                "", type="string", title="Only days with rows older than (parser label)",
                description="generic@N, rules:<outlet>@R[.N] or current; empty: every day"),
        },
    ) as dag:

        @task
        def plan() -> list[str]:
            from newslake.clock import days_between
            from newslake.reparse import MAX_DAYS, days_older_than, older_than_label

            params = get_current_context()["params"]
            first = dt.date.fromisoformat(str(params["from"]))
            last = dt.date.fromisoformat(str(params["to"]))
            days = days_between(first, last, max_days=MAX_DAYS)
            if params.get("older_than"):
                lake = lake_uri()
                days = days_older_than(
                    outlet, days, lake, older_than_label(str(params["older_than"]), outlet),
                    storage=lake_storage(lake))
            return [day.isoformat() for day in days]

        @task(
            multiple_outputs=False,
            max_active_tis_per_dagrun=PARALLEL_DAYS,
            outlets=[article_asset(outlet.id)],
        )
        def reparse(day: str) -> dict[str, Any]:
            from newslake.reparse import reparse_day

            run_id = get_current_context()["run_id"]
            lake = lake_uri()
            manifest = reparse_day(outlet, dt.date.fromisoformat(day), lake, run_id,
                                   storage=lake_storage(lake))
            if manifest is None:
                return {"date": day, "skipped": "no raw files"}
            return {"date": day, "written": manifest["written"],
                    "quarantined": manifest["quarantined"]}

        reparse.expand(day=plan())
    return dag


# One bad outlet file breaks only its own DAGs (an import error naming file and key).
globals().update(outlet_dags("reparse", build_dag))
