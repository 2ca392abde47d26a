"""Airflow 3 on SQLite: what three processes writing one file need, and the bugs they meet.

A local stack (``airflow_stack``) runs the api-server, the scheduler and the dag-processor
on one SQLite file. What that takes, each measured on this project's demo:

- ``sqlite_url``: wait up to 60 s for a lock, not 5 s; not WAL (there a read transaction
  that turns into a write fails at once with "database is locked" when another process
  wrote meanwhile).
- ``backfill_busy``: a backfill creation that met a locked DB (or a backfill still open)
  is asked for again; ``READ_RETRIES``: so is a read answered with a 5xx.
- ``SchedulerWatch``: a backfill creation rolled back under the scheduler crashes its loop
  (``ObjectDeletedError``); the scheduler then exits, or hangs alive without a heartbeat.
  The watch says when to start it again.

A team stack on Postgres (docker-compose.yaml) meets none of these; the workarounds then
cost nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import requests

# A read answered 5xx (a locked DB) is asked again this many times, a second apart.
READ_RETRIES = 3
# A scheduler that crashed or hung is restarted this many times a stack, then reported.
MAX_SCHEDULER_RESTARTS = 3
# Until a restarted scheduler has heartbeated once, the health endpoint still reports the
# old one's stale heartbeat: no stall is judged for this long (it starts in ~10 s when idle).
SCHEDULER_START_GRACE_S = 120.0


def sqlite_url(db: Path) -> str:
    """The SQLAlchemy URL of the metadata DB ``db``, waiting up to 60 s for a lock."""
    return f"sqlite:///{db}?timeout=60"


def backfill_busy(response: requests.Response) -> bool:
    """A backfill creation to ask for again: another backfill is still open (409), or the
    metadata DB was locked (503, or 500 "Database error" when the lock came first)."""
    if response.status_code in (409, 503):
        return True
    return response.status_code == 500 and '"Database error"' in response.text


class SchedulerWatch:
    """When to start the scheduler again: it exited, or (Airflow 3.3.2 on SQLite, see the
    module) it has been reported unhealthy for ``stall_timeout`` seconds while alive; at
    most ``max_restarts`` times, then the exit is for the caller to report."""

    def __init__(self, stall_timeout: float, max_restarts: int = MAX_SCHEDULER_RESTARTS,
                 start_grace: float = SCHEDULER_START_GRACE_S) -> None:
        self.stall_timeout = stall_timeout
        self.max_restarts = max_restarts
        self.start_grace = start_grace
        self.restarts = 0
        self._stalled_since: float | None = None
        self._starting_until: float | None = None  # a restarted scheduler's grace period

    def verdict(self, exit_code: int | None,
                status: Callable[[], str | None] | None) -> str | None:
        """Why the scheduler must be started again now, or None. ``exit_code``: the
        process's, None while it runs; ``status``: its health ("healthy", "unhealthy";
        None: no answer), or None not to judge stalls now."""
        if self.restarts >= self.max_restarts:
            return None
        if exit_code is not None:
            return f"exited with {exit_code}"
        if status is None:
            return None
        stalled = self._unhealthy_for(status())
        if stalled < self.stall_timeout:
            return None
        return f"is alive but reported unhealthy for {stalled:.0f}s"

    def restarted(self) -> None:
        self._stalled_since = None
        self._starting_until = time.monotonic() + self.start_grace
        self.restarts += 1

    def _unhealthy_for(self, status: str | None) -> float:
        """Seconds the scheduler has been reported unhealthy in a row (0: healthy, or no
        answer)."""
        if status is None:
            return 0.0
        if status != "unhealthy":
            self._stalled_since = self._starting_until = None
            return 0.0
        now = time.monotonic()
        if self._starting_until is not None and now < self._starting_until:
            return 0.0  # restarted and not heartbeating yet: starting, not stalled
        if self._stalled_since is None:
            self._stalled_since = now
        return now - self._stalled_since
