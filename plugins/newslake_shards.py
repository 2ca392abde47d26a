"""The shard-and-report skeleton that ``poll_frontier`` and ``revisit`` share.

Both DAGs are plan (the outlet config files cut into shards) → one task mapped over the
shards → report (the shards' small reports added into one total). The DAG files keep
their own tasks, timeouts and Assets; this module holds the three steps they had written
twice: the run's clock, the plan and the sum. DAG-parse light: it imports only
``airflow.sdk`` at top level (``plugins/`` is on ``sys.path`` in Airflow).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context


def run_time() -> dt.datetime:
    """The run's logical date (its cron tick); a manual run without one: now
    (``NEWSLAKE_NOW`` when set, as for the demo newsroom)."""
    from newslake.clock import utc_now

    context = get_current_context()
    when = context.get("logical_date") or context.get("data_interval_end")
    return when if when is not None else utc_now()


def outlet_shards(dag_id: str, size: int, wanted: Iterable[str] = ()) -> list[list[str]]:
    """The outlet config files (``newslake.config.default_outlets_dir``) cut into shards of
    ``size`` (``newslake.frontier.shards``: a stable outlet-to-shard mapping). With
    ``wanted`` outlet ids, only theirs; an id without a config is an error naming it."""
    from newslake.config import default_outlets_dir
    from newslake.frontier import shards

    folder = default_outlets_dir()
    paths = [str(p) for p in folder.glob("*.yaml")]
    chosen = set(wanted)
    if chosen:
        unknown = sorted(chosen - {Path(p).stem for p in paths})
        if unknown:
            raise ValueError(f"{dag_id}: no config for outlet(s) {unknown} in {folder}")
        paths = [p for p in paths if Path(p).stem in chosen]
    return shards(paths, size)


def add_up(shard_reports: Sequence[dict[str, Any] | None], *, counts: Sequence[str] = (),
           mappings: Sequence[str] = (), lists: Sequence[str] = ()) -> dict[str, Any]:
    """One total of the mapped shards' reports: ``shards`` (how many reported; a shard
    that failed or was skipped reports nothing), each of ``counts`` summed, each of
    ``mappings`` merged, each of ``lists`` concatenated in shard order."""
    done = [s for s in shard_reports if s]
    return {
        "shards": len(done),
        **{key: sum(s[key] for s in done) for key in counts},
        **{key: {k: v for s in done for k, v in s[key].items()} for key in mappings},
        **{key: [item for s in done for item in s[key]] for key in lists},
    }
