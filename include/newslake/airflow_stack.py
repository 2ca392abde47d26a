"""A real local Airflow: api-server, scheduler and dag-processor as child processes.

``newslake backfill``, ``newslake demo`` and the stack tests use it to run history through
Airflow's own scheduler (``LocalExecutor`` on SQLite), as a team's deployment would,
instead of ``DAG.test()``. It drives Airflow only through subprocesses and its REST API:
nothing here imports Airflow, and the domain modules never import this one.

    with AirflowStack(home, lake, port=8793, extra_env={...}) as stack:
        result = stack.backfill("ingest_demo_bayside_press", first, last)

The parts, one module each: the environment (``airflow_env``), the processes
(``supervisor``: each component in its own session and process group, its log in
``<home>/logs/<component>.log``, stopped by PID with SIGTERM then SIGKILL, a watchdog
process for when this one is SIGKILLed), the REST client the stack is
(``airflow_api.AirflowClient``: DAGs, runs, backfills) and what SQLite needs
(``sqlite_quirks``: a scheduler that crashed or hung is started again). Leaving the
``with`` block (normally, on an exception, on Ctrl-C or on SIGTERM/SIGHUP) stops every
component.

The stack runs no scheduled runs (``[scheduler] use_job_schedule = False``) and creates
DAGs paused: it only runs what it is asked to (backfills), so unpausing a DAG does not
start its latest daily run behind the backfill's back.

By default the metadata DB is SQLite in ``home`` and the executor the ``LocalExecutor``.
The team stack's shape (docker-compose.yaml) runs natively too: ``database_url`` (e.g.
``postgresql+psycopg2://…``) replaces SQLite, and ``executor="CeleryExecutor"`` with a
``broker_url`` (e.g. ``redis://127.0.0.1:6379/0``) adds an ``airflow celery worker``
component (``worker_concurrency`` task processes) that runs the tasks the scheduler queues
on the broker; Celery keeps its results in the metadata DB (``db+<database_url>``).
"""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import requests

from newslake.airflow_api import AirflowClient, StackError
from newslake.airflow_env import DEFAULT_PORT, airflow_bin, migrate_db, stack_env
from newslake.sqlite_quirks import SchedulerWatch
from newslake.supervisor import HOST, Child, Supervisor, SupervisorError, free_port, port_open

log = logging.getLogger(__name__)


class AirflowStack(AirflowClient):
    """api-server + scheduler + dag-processor on SQLite in ``home``, as a context manager.

    With ``executor="CeleryExecutor"`` (and ``broker_url``) also an ``airflow celery
    worker``; with ``database_url`` the metadata DB is that one instead of SQLite.
    """

    COMPONENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("api-server", ("api-server", "--workers", "1")),
        ("scheduler", ("scheduler",)),
        ("dag-processor", ("dag-processor",)),
    )

    def __init__(
        self,
        home: Path,
        lake: str,
        port: int = DEFAULT_PORT,
        extra_env: dict[str, str] | None = None,
        *,
        parallelism: int = 2,
        use_schedule: bool = False,
        start_timeout: float = 240.0,
        stop_timeout: float = 30.0,
        executor: str = "LocalExecutor",
        database_url: str | None = None,
        broker_url: str | None = None,
        worker_concurrency: int = 2,
        scheduler_stall_timeout: float = 90.0,
        env: dict[str, str] | None = None,
        components: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
        component_env: dict[str, dict[str, str]] | None = None,
        migrate: bool = True,
    ) -> None:
        """``env``, ``components``, ``component_env`` (a component's own environment
        instead of ``env``) and ``migrate=False``: a stack whose environments and commands
        come from elsewhere (docker-compose.yaml in tests/test_compose_stack.py), its DB
        already migrated; the other settings then only name the port and executor."""
        self.home = Path(home).resolve()
        self.lake = lake
        self.port = port or free_port()  # 0: any free port
        super().__init__(f"http://{HOST}:{self.port}")
        self.executor = executor
        self.env = env if env is not None else stack_env(
            self.home, lake, self.port, extra_env, parallelism=parallelism,
            use_schedule=use_schedule, executor=executor, database_url=database_url,
            broker_url=broker_url, worker_concurrency=worker_concurrency,
        )
        self.component_args: tuple[tuple[str, tuple[str, ...]], ...] = self.COMPONENTS
        if executor == "CeleryExecutor":
            self.component_args += (
                ("celery-worker", ("celery", "worker", "--concurrency", str(worker_concurrency))),
            )
        if components is not None:
            self.component_args = components
        self.migrate = migrate
        self.component_env = component_env or {}
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        # Task processes start sessions of their own: they are known by running in home
        # (the components' cwd) or naming it in AIRFLOW_HOME.
        self.supervisor = Supervisor(self.log_dir, stop_timeout=stop_timeout, home=self.home,
                                     marker="airflow", home_var="AIRFLOW_HOME")
        self.watch = SchedulerWatch(scheduler_stall_timeout)
        self._lock: IO[str] | None = None

    # -- where ----------------------------------------------------------------------------
    @property
    def ui_url(self) -> str:
        return f"{self.base_url}/"

    @property
    def login(self) -> str:
        return "none needed: simple auth manager with all users admin (loopback only)"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def components(self) -> list[Child]:
        """The running components (``name``, ``proc``, ``log_path``)."""
        return self.supervisor.children

    @property
    def scheduler_restarts(self) -> int:
        return self.watch.restarts

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> AirflowStack:
        self.supervisor.install_signal_handlers(self.stop)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Migrate the DB, start the components, wait until the health endpoint is green."""
        if port_open(self.port):
            raise StackError(f"port {self.port} is in use on {HOST}: pick another with --port")
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.home / "stack.lock", "w")  # noqa: SIM115 (held while up)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise StackError(f"another Airflow stack is running in {self.home}") from None
        if self.migrate:
            migrate_db(self.env)
        self.supervisor.start_watchdog(self.env)
        started = time.monotonic()
        for name, args in self.component_args:
            self.supervisor.spawn(name, [airflow_bin(), *args],
                                  env=self.component_env.get(name, self.env), cwd=self.home)
        self.wait_healthy(self.start_timeout)
        if self.executor == "CeleryExecutor":
            self.wait_worker_ready(max(10.0, self.start_timeout - (time.monotonic() - started)))

    def stop(self) -> None:
        """Stop every component and everything it started: SIGTERM, then SIGKILL. Idempotent.

        The scheduler's task processes report to the api-server while they stop, so the
        api-server goes last."""
        try:
            if self.supervisor.children:
                self.supervisor.stop(last=("api-server",))
                self.close()
            else:
                self.supervisor.stop_watchdog()
        finally:
            self.supervisor.restore_signal_handlers(self.stop)
            if self._lock is not None:
                self._lock.close()  # releases the flock
                self._lock = None

    def processes(self) -> list[Any]:
        """Every process of the stack seen so far that is still alive (psutil.Process)."""
        return self.supervisor.processes()

    def restart(self, name: str) -> None:
        """Stop one component (its whole process group) and start it again."""
        if self.supervisor.child(name) is None:
            raise StackError(f"no {name} in this stack")
        self.supervisor.restart(name)

    # -- watching (the hooks of AirflowClient) ----------------------------------------------
    def check_alive(self) -> None:
        """Raise ``StackError`` for a component that exited; a scheduler that exited is
        first started again (``mind_scheduler``: the SQLite crash can come between any
        two calls, e.g. while a DAG is waited for)."""
        self.mind_scheduler(stalls=False)
        try:
            self.supervisor.check_alive()
        except SupervisorError as exc:
            raise StackError(f"airflow {exc}") from None

    def mind_scheduler(self, *, stalls: bool = True) -> None:
        """Start the scheduler again when it has exited, or (``stalls``) when it is alive
        but has been reported unhealthy for ``scheduler_stall_timeout`` seconds; up to
        ``MAX_SCHEDULER_RESTARTS`` times a stack (then ``check_alive`` reports an exit).
        Why: ``sqlite_quirks``."""
        comp = self.supervisor.child("scheduler")
        if comp is None:
            return
        why = self.watch.verdict(comp.proc.poll(), self._scheduler_status if stalls else None)
        if why is None:
            return
        log.warning("the scheduler %s: starting it again (log %s)", why, comp.log_path)
        self.restart("scheduler")
        self.watch.restarted()

    def _scheduler_status(self) -> str | None:
        try:
            return self.health().get("scheduler", {}).get("status")
        except (requests.RequestException, StackError):
            return None

    def server_log(self) -> str:
        server = self.supervisor.child("api-server")
        return server.log_tail(400_000) if server else ""

    def log_hint(self, component: str) -> str:
        return f"; {component} log {self.log_dir / f'{component}.log'}"

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                last = self.health()
            except (requests.RequestException, StackError) as exc:
                last = exc
            else:
                parts = ("metadatabase", "scheduler", "dag_processor")
                if all((last.get(p) or {}).get("status") == "healthy" for p in parts):
                    return
            time.sleep(1.0)
        raise StackError(f"Airflow not healthy after {timeout:.0f}s; last answer: {last}")

    def wait_worker_ready(self, timeout: float) -> None:
        """Wait until the Celery worker has connected to the broker (its log says "ready")."""
        worker = self.supervisor.child("celery-worker")
        if worker is None:
            raise StackError("no celery-worker in this stack")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if " ready." in worker.log_tail(200_000):
                return
            time.sleep(0.5)
        raise StackError(f"the Celery worker is not ready after {timeout:.0f}s; log "
                         f"{worker.log_path}:\n{worker.log_tail()}")
