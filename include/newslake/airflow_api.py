"""A client of Airflow's REST API (``/api/v2``): DAGs, runs, and backfills.

    client = AirflowClient("http://127.0.0.1:8793")
    created = client.start_backfill("ingest_demo_bayside_press", first, last)
    result = client.wait_for_backfill(created, first, last, on_progress=...)
    # or both at once: client.backfill(dag_id, first, last)

``newslake backfill`` and ``newslake demo`` go through ``start_backfill`` and
``wait_for_backfill`` (``AirflowStack`` is a client of its own api-server). Days are UTC
dates: a backfill of first … last makes the runs whose data interval starts at midnight of
each. Nothing here imports Airflow; the SQLite retries come from ``sqlite_quirks``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from newslake.sqlite_quirks import READ_RETRIES, backfill_busy

TERMINAL_STATES = frozenset({"success", "failed"})
# Unpausing a DAG is sent at most this many times (no answer in time, or a 5xx).
UNPAUSE_TRIES = 3
REPROCESS = ("none", "failed", "completed")

ProgressCallback = Callable[[int, int, dict[dt.date, str]], None]


class StackError(RuntimeError):
    """The local Airflow did not start, died, or refused a request."""


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass
class BackfillResult:
    """What a backfill did: its id and the state of the run of each day (data-interval start)."""

    backfill_id: int
    dag_id: str
    states: dict[dt.date, str]
    seconds: float
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.states) and all(s == "success" for s in self.states.values())


class AirflowClient:
    """Calls to one api-server. ``check_alive`` and ``mind_scheduler`` run between polls
    and retries: a subclass that runs the server (``AirflowStack``) watches it there."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = requests.Session()

    # -- hooks for whoever runs the server --------------------------------------------------
    def check_alive(self) -> None:
        """Raise ``StackError`` when the server's processes have died (here: nothing)."""

    def mind_scheduler(self, *, stalls: bool = True) -> None:
        """Start a dead or stalled scheduler again (here: nothing)."""

    def server_log(self) -> str:
        """The api-server's recent log, to explain a bare error id (here: none)."""
        return ""

    def log_hint(self, component: str) -> str:
        """Where ``component``'s log is, for an error message (here: unknown)."""
        return ""

    # -- requests ---------------------------------------------------------------------------
    def authenticate(self, token: str) -> None:
        """Send ``token`` (from ``/auth/token``) with every later API request."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._http.close()

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to ``/api/v2``; raises ``StackError`` with the server's answer on 4xx/5xx."""
        kwargs.setdefault("timeout", 30)
        url = f"{self.base_url}/api/v2{path}"
        response = self._request(method, url, **kwargs)
        for _ in range(READ_RETRIES):  # a read that met a locked SQLite DB: ask again
            if method != "GET" or response.status_code < 500:
                break
            time.sleep(1.0)
            response = self._request(method, url, **kwargs)
        if response.status_code >= 400:
            raise StackError(f"{method} {path}: HTTP {response.status_code}: "
                             f"{response.text}{self._server_error(response)}")
        return response.json() if response.content else None

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A read that times out on a busy machine is asked again (it changes nothing);
        a write, or a read that still gets no answer, fails as a ``StackError``."""
        tries = 3 if method == "GET" else 1
        for attempt in range(1, tries + 1):
            try:
                return self._http.request(method, url, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt == tries:
                    raise StackError(f"{method} {url}: no answer from the api-server after "
                                     f"{attempt} tries ({type(exc).__name__}: {exc})") from exc
                self.check_alive()
        raise AssertionError("unreachable")

    def _server_error(self, response: requests.Response) -> str:
        """For an answer that only points at an error id in the api-server's log: those
        log lines (the statement and traceback), so the error says what broke."""
        import re

        found = re.search(r"look for ID (\w+)", response.text)
        if not found:
            return ""
        text = self.server_log()
        at = text.find(f"Error with id {found.group(1)}")
        return f"\napi-server log:\n{text[at:at + 4000]}" if at >= 0 else ""

    def health(self) -> dict[str, Any]:
        return dict(self.api("GET", "/monitor/health", timeout=5))

    # -- DAGs and runs ----------------------------------------------------------------------
    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict[str, Any]:
        """Wait until the dag-processor has serialized ``dag_id``; raise on its import errors."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                dag = self.api("GET", f"/dags/{dag_id}")
                self.api("GET", f"/dags/{dag_id}/details")  # 404 until serialized
                return dict(dag)
            except StackError:
                errors = self.api("GET", "/importErrors").get("import_errors", [])
                if errors:
                    raise StackError(f"DAG import errors: {errors}") from None
            time.sleep(1.0)
        raise StackError(f"{dag_id} not serialized after {timeout:.0f}s"
                         f"{self.log_hint('dag-processor')}")

    def unpause(self, dag_id: str, timeout: float = 30.0) -> None:
        """Unpause ``dag_id``. A write, but setting ``is_paused`` twice does no harm: a
        request that gets no answer in ``timeout`` seconds (a busy SQLite DB, say on a
        home an earlier run left) or a 5xx is sent again, ``UNPAUSE_TRIES`` times in all,
        a second apart; then ``StackError`` says what the last try got."""
        path = f"/dags/{dag_id}"
        last = ""
        for attempt in range(1, UNPAUSE_TRIES + 1):
            if attempt > 1:
                self.check_alive()
                time.sleep(1.0)
            try:
                response = self._http.patch(f"{self.base_url}/api/v2{path}",
                                            json={"is_paused": False}, timeout=timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"no answer in {timeout:g} s ({type(exc).__name__})"
                continue
            if response.status_code < 400:
                return
            answer = (f"HTTP {response.status_code}: {response.text}"
                      f"{self._server_error(response)}")
            if response.status_code < 500:  # refused: asking again changes nothing
                raise StackError(f"could not unpause {dag_id}: PATCH {path}: {answer}")
            last = answer
        raise StackError(
            f"could not unpause {dag_id}: PATCH {path}, {UNPAUSE_TRIES} tries, the last got "
            f"{last}. Run the command again, or unpause the DAG in the Airflow UI first")

    def dag_runs(self, dag_id: str, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
        """The runs whose logical date (= data-interval start) is in first … last."""
        params = {
            "logical_date_gte": midnight(first).isoformat(),
            "logical_date_lte": midnight(last).isoformat(),
            "limit": 1000,
            "order_by": "logical_date",
        }
        return list(self.api("GET", f"/dags/{dag_id}/dagRuns", params=params)["dag_runs"])

    def running_logical_dates(self, dag_id: str,
                              session: requests.Session | None = None) -> list[dt.datetime]:
        """The logical dates of the DAG's runs that are running now (``session``: one of
        the caller's own, for a caller in another thread)."""
        url = f"{self.base_url}/api/v2/dags/{dag_id}/dagRuns"
        response = (session or self._http).get(
            url, params={"state": "running", "limit": "100"}, timeout=60)
        if response.status_code >= 400:
            raise StackError(f"GET {url}: HTTP {response.status_code}: {response.text}")
        return sorted(_instant(r["logical_date"]) for r in response.json()["dag_runs"]
                      if r.get("logical_date"))

    # -- backfills --------------------------------------------------------------------------
    def dry_run(self, dag_id: str, first: dt.date, last: dt.date,
                reprocess: str = "none") -> list[dict[str, Any]]:
        body = _backfill_body(dag_id, first, last, reprocess, 1)
        return list(self.api("POST", "/backfills/dry_run", json=body)["backfills"])

    def create_backfill(
        self, dag_id: str, first: dt.date, last: dt.date, reprocess: str = "none",
        max_active_runs: int = 2, busy_timeout: float = 90.0,
        conf: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST /api/v2/backfills for the runs whose logical dates lie in first … last
        (midnight to midnight, both included; ``conf``: every run's ``dag_run.conf``).

        Airflow allows one unfinished backfill per DAG, and the scheduler marks a backfill
        complete only every 30 s: while the previous one is not marked yet (HTTP 409), retry.
        On SQLite a concurrent writer can make the creation fail with HTTP 503 ("database
        is locked"); Airflow then removes the partial backfill, so that is retried too. A
        lock met before that point (Airflow reads the DAG's version first) comes back as a
        bare HTTP 500 "Database error", nothing created: retried as well.
        """
        body = _backfill_body(dag_id, first, last, reprocess, max_active_runs)
        if conf:
            body["dag_run_conf"] = conf
        deadline = time.monotonic() + busy_timeout
        while True:
            # Only an exit here: no health request between creation attempts, which
            # already contend for a busy SQLite database.
            self.mind_scheduler(stalls=False)
            self.check_alive()
            response = self._http.post(f"{self.base_url}/api/v2/backfills", json=body, timeout=60)
            if backfill_busy(response) and time.monotonic() < deadline:
                time.sleep(2.0)
                continue
            if response.status_code >= 400:
                raise StackError(f"POST /backfills: HTTP {response.status_code}: "
                                 f"{response.text}{self._server_error(response)}")
            return dict(response.json())

    def wait_for_backfill(
        self, backfill: dict[str, Any], first: dt.date, last: dt.date,
        timeout: float = 3600.0, on_progress: ProgressCallback | None = None,
        every_run: bool = False,
    ) -> BackfillResult:
        """Poll until every run of first … last has finished; report (done, total, states).

        ``states`` holds the newest run of each day; ``every_run`` (a DAG with several
        runs a day, such as ``poll_frontier``) counts done and total in runs instead and
        waits for each of them, not only each day's newest."""
        dag_id, backfill_id = backfill["dag_id"], int(backfill["id"])
        started = time.monotonic()
        deadline = started + timeout
        seen: tuple[int, int] | None = None
        while True:
            self.mind_scheduler()
            self.check_alive()
            runs = self.dag_runs(dag_id, first, last)
            states = _states(runs)
            counted = [str(r.get("state")) for r in runs] if every_run else list(states.values())
            done = sum(1 for s in counted if s in TERMINAL_STATES)
            if on_progress and (done, len(counted)) != seen:
                on_progress(done, len(counted), states)
            seen = (done, len(counted))
            # Every run finished is what matters; Airflow marks the backfill itself complete
            # up to 30 s later (create_backfill waits for that when it has to).
            if counted and done == len(counted):
                return BackfillResult(backfill_id, dag_id, states,
                                      time.monotonic() - started, runs)
            if time.monotonic() > deadline:
                raise StackError(
                    f"backfill {backfill_id} of {dag_id} not complete after {timeout:.0f}s: "
                    f"{done} of {len(counted)} runs done{self.log_hint('scheduler')}"
                )
            time.sleep(2.0)

    def unfinished_backfills(self, dag_id: str) -> list[dict[str, Any]]:
        listed = self.api("GET", "/backfills", params={"dag_id": dag_id, "limit": 100})
        return [b for b in listed["backfills"] if not b.get("completed_at")]

    def resume_unfinished(
        self, dag_id: str, timeout: float = 3600.0,
        on_progress: ProgressCallback | None = None,
        on_resume: Callable[[dict[str, Any]], None] | None = None,
        every_run: bool = False,
    ) -> list[BackfillResult]:
        """Let a backfill that an interrupted stack left unfinished run to its end.

        Its runs are still queued or running in the metadata DB; the new scheduler resets
        the orphaned task instances and carries on. Airflow allows one unfinished backfill
        per DAG, so a new one can only start after it.
        """
        results = []
        for old in self.unfinished_backfills(dag_id):
            first, last = _day(old["from_date"]), _day(old["to_date"])
            runs = self.dag_runs(dag_id, first, last)
            counted = ([str(r.get("state")) for r in runs] if every_run
                       else list(_states(runs).values()))
            if all(s in TERMINAL_STATES for s in counted):
                continue  # done; Airflow marks it complete within 30 s
            if on_resume:
                on_resume(old)
            if old.get("is_paused"):
                self.api("PUT", f"/backfills/{old['id']}/unpause")
            results.append(self.wait_for_backfill(old, first, last, timeout, on_progress,
                                                  every_run))
        return results

    def start_backfill(
        self, dag_id: str, first: dt.date, last: dt.date, *, reprocess: str = "none",
        max_active_runs: int = 2, timeout: float = 3600.0,
        conf: dict[str, Any] | None = None, every_run: bool = False,
        on_progress: ProgressCallback | None = None,
        on_resume: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Start a backfill of first … last (data-interval starts); its description, for
        ``wait_for_backfill``. The DAG is waited for (serialized) and unpaused; a backfill
        of it that an interrupted stack left unfinished runs to its end first
        (``resume_unfinished``, reported to ``on_resume`` and ``on_progress``): Airflow
        allows one at a time."""
        self.wait_for_dag(dag_id)
        self.unpause(dag_id)
        self.resume_unfinished(dag_id, timeout, on_progress, on_resume, every_run)
        return self.create_backfill(dag_id, first, last, reprocess, max_active_runs,
                                    conf=conf)

    def backfill(
        self, dag_id: str, first: dt.date, last: dt.date, *, reprocess: str = "none",
        max_active_runs: int = 2, timeout: float = 3600.0,
        on_progress: ProgressCallback | None = None,
        on_resume: Callable[[dict[str, Any]], None] | None = None,
    ) -> BackfillResult:
        """``start_backfill``, then ``wait_for_backfill``."""
        created = self.start_backfill(dag_id, first, last, reprocess=reprocess,
                                      max_active_runs=max_active_runs, timeout=timeout,
                                      on_progress=on_progress, on_resume=on_resume)
        return self.wait_for_backfill(created, first, last, timeout, on_progress)


def _backfill_body(dag_id: str, first: dt.date, last: dt.date, reprocess: str,
                   max_active_runs: int) -> dict[str, Any]:
    if reprocess not in REPROCESS:
        raise ValueError(f"reprocess must be one of {REPROCESS}, not {reprocess!r}")
    if first > last:
        raise ValueError(f"first day {first} is after last day {last}")
    # For a data-interval timetable the logical date is the interval's start, and the
    # backfill takes the runs whose logical date lies in [from_date, to_date], both
    # inclusive, and whose interval has ended: midnight of first … midnight of last.
    return {
        "dag_id": dag_id,
        "from_date": midnight(first).isoformat(),
        "to_date": midnight(last).isoformat(),
        "reprocess_behavior": reprocess,
        "max_active_runs": max_active_runs,
    }


def _instant(timestamp: str) -> dt.datetime:
    """An API timestamp (``2026-01-02T03:00:00Z``) as an aware UTC ``datetime``."""
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(dt.UTC)


def _day(timestamp: str) -> dt.date:
    """The UTC date of an API timestamp (``2026-01-02T00:00:00Z``)."""
    return _instant(timestamp).date()


def _states(runs: list[dict[str, Any]]) -> dict[dt.date, str]:
    """The state of the newest run of each day, keyed by its data-interval start (UTC)."""
    states: dict[dt.date, str] = {}
    for run in sorted(runs, key=lambda r: r.get("run_after") or ""):
        start = run.get("data_interval_start") or run.get("logical_date")
        if start:
            states[_day(start)] = str(run.get("state"))
    return states


class RunClock:
    """A clock that follows a DAG's running run: its logical date while one runs, else
    ``fallback()``. The demo newsroom's wire lives on it while ``poll_frontier`` is
    backfilled (one run at a time), so each poll sees the feed as it was at the poll's
    logical date; ``stop_following`` pins it to ``fallback`` (the ingest's "now").

    It is called from the newsroom's request threads: it has its own HTTP session and
    lock. Two runs running at once make the time ambiguous: that raises (the newsroom
    answers 500 and the poll backs off, visibly), it is never guessed.
    """

    def __init__(self, dag_id: str, fallback: Callable[[], dt.datetime]) -> None:
        self.dag_id, self.fallback = dag_id, fallback
        self._client: AirflowClient | None = None
        self._lock = threading.Lock()
        self._session = requests.Session()

    def follow(self, client: AirflowClient) -> None:
        self._client = client

    def stop_following(self) -> None:
        with self._lock:
            self._client = None
            self._session.close()

    def __call__(self) -> dt.datetime:
        with self._lock:
            if self._client is None:
                return self.fallback()
            running = self._client.running_logical_dates(self.dag_id, self._session)
        if len(running) > 1:
            raise StackError(f"{len(running)} runs of {self.dag_id} are running: no one time")
        return running[0] if running else self.fallback()
