"""A real local Airflow: api-server, scheduler and dag-processor as child processes.

``newslake backfill`` and the backfill test use it to run history through Airflow's own
scheduler (``LocalExecutor`` on SQLite), as a team's deployment would, instead of
``DAG.test()``. Like ``airflow_local``, it drives Airflow only through subprocesses and
its REST API (``/api/v2``): nothing here imports Airflow, and the domain modules never
import this one.

    with AirflowStack(home, lake, port=8793, extra_env={...}) as stack:
        stack.wait_for_dag("ingest_demo_bayside_press")
        stack.unpause("ingest_demo_bayside_press")
        result = stack.backfill("ingest_demo_bayside_press", first, last)

Each component runs in its own session and process group, with its log in
``<home>/logs/<component>.log``; leaving the ``with`` block (normally, on an exception,
on Ctrl-C or on SIGTERM/SIGHUP) stops every group with SIGTERM, then SIGKILL after a
timeout, and reaps them. If this process dies without cleaning up (SIGKILL), each
component gets SIGTERM from the kernel (``setpriv --pdeathsig``, when util-linux has it)
and a watchdog process (``python -m newslake.airflow_stack --watchdog HOME``) stops
whatever is left of the stack, SIGKILL included.

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

import atexit
import contextlib
import datetime as dt
import fcntl
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any

import requests

from newslake.airflow_local import airflow_bin, airflow_env, migrate_db

log = logging.getLogger(__name__)
# A scheduler that crashed or hung is restarted this many times a stack, then reported.
MAX_SCHEDULER_RESTARTS = 3
# Until a restarted scheduler has heartbeated once, the health endpoint still reports the
# old one's stale heartbeat: no stall is judged for this long (it starts in ~10 s when idle).
SCHEDULER_START_GRACE_S = 120.0
DEFAULT_PORT = 8793
HOST = "127.0.0.1"
EXECUTORS = ("LocalExecutor", "CeleryExecutor")
TERMINAL_STATES = frozenset({"success", "failed"})
REPROCESS = ("none", "failed", "completed")

ProgressCallback = Callable[[int, int, dict[dt.date, str]], None]


class StackError(RuntimeError):
    """The local Airflow did not start, died, or refused a request."""


def free_port(host: str = HOST) -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def stack_env(
    home: Path,
    lake: str,
    port: int,
    extra: dict[str, str] | None = None,
    *,
    parallelism: int = 2,
    use_schedule: bool = False,
    executor: str = "LocalExecutor",
    database_url: str | None = None,
    broker_url: str | None = None,
    worker_concurrency: int = 2,
) -> dict[str, str]:
    """``airflow_local.airflow_env`` plus what the services need to find each other.

    ``database_url``: the metadata DB's SQLAlchemy URL (default: SQLite in ``home``).
    ``executor``: ``LocalExecutor`` or ``CeleryExecutor``; the latter needs ``broker_url``.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {EXECUTORS}, not {executor!r}")
    if executor == "CeleryExecutor" and not broker_url:
        raise ValueError("the CeleryExecutor needs a broker_url (e.g. redis://127.0.0.1:6379/0)")
    base_url = f"http://{HOST}:{port}"
    venv_bin = str(Path(sys.executable).parent)
    env = airflow_env(home, lake)
    env.update(
        {
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(use_schedule),
            # Local, loopback-only stack: everybody is admin, no login form.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__HOST": HOST,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            # One secret shared by the token issuer (scheduler) and the validator (api-server).
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            # Three processes write to one SQLite file: wait for a lock up to 60 s, not 5 s.
            # (Not WAL: there a read transaction that turns into a write fails at once with
            # "database is locked" when another process wrote meanwhile; measured.)
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
            # The scheduler's log server defaults to 8793 too: give it a port of its own.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
    )
    if database_url:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url
    if executor == "CeleryExecutor":
        assert broker_url is not None
        db_url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                # As docker-compose.yaml: task states in the metadata DB, not the broker.
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url.split("?", 1)[0],
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            }
        )
    env.update(extra or {})
    return env


@dataclass
class Component:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


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


class AirflowStack:
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
        self.components: list[Component] = []
        self._known: dict[int, Any] = {}  # pid -> psutil.Process, every process seen
        self._old_handlers: dict[int, Any] = {}
        self._http = requests.Session()
        self._lock: IO[str] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self.scheduler_stall_timeout = scheduler_stall_timeout
        self._stalled_since: float | None = None
        self._starting_until: float | None = None  # a restarted scheduler's grace period
        self.scheduler_restarts = 0

    # -- where ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"{self.base_url}/"

    @property
    def login(self) -> str:
        return "none needed: simple auth manager with all users admin (loopback only)"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> AirflowStack:
        self._install_signal_handlers()
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
        if port_in_use(self.port):
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
        atexit.register(self.stop)
        if self.migrate:
            migrate_db(self.env)
        self._start_watchdog()
        started = time.monotonic()
        for name, args in self.component_args:
            self._spawn(name, args)
        self.wait_healthy(self.start_timeout)
        if self.executor == "CeleryExecutor":
            self.wait_worker_ready(max(10.0, self.start_timeout - (time.monotonic() - started)))

    def _spawn(self, name: str, args: tuple[str, ...]) -> None:
        log_path = self.log_dir / f"{name}.log"
        cmd = [airflow_bin(), *args]
        setpriv = shutil.which("setpriv")
        # Popen from the main thread: the parent-death signal fires when that thread exits.
        if setpriv and threading.current_thread() is threading.main_thread():
            cmd = [setpriv, "--pdeathsig", "TERM", "--", *cmd]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                cmd, env=self.component_env.get(name, self.env), stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT, cwd=self.home, start_new_session=True,
            )
        self.components.append(Component(name, proc, log_path))
        self._tell_watchdog(str(proc.pid))
        self._remember()

    def _start_watchdog(self) -> None:
        """A small process that stops the stack if this one dies without doing it (SIGKILL).

        It reads process-group ids from a pipe; end of file without "done" means that this
        process is gone, and it stops the groups and the stack's other Airflow processes.
        """
        self._watchdog = subprocess.Popen(
            [sys.executable, "-m", "newslake.airflow_stack", "--watchdog", str(self.home),
             "--stop-timeout", str(self.stop_timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=open(self.log_dir / "watchdog.log", "ab"),  # noqa: SIM115 (child's)
            start_new_session=True, env=self.env,
        )

    def _tell_watchdog(self, line: str) -> None:
        if self._watchdog is not None and self._watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                self._watchdog.stdin.write(line.encode() + b"\n")
                self._watchdog.stdin.flush()

    def _stop_watchdog(self) -> None:
        if self._watchdog is None:
            return
        self._tell_watchdog("done")
        with contextlib.suppress(OSError):
            if self._watchdog.stdin is not None:
                self._watchdog.stdin.close()
        try:
            self._watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._watchdog.kill()
            self._watchdog.wait()
        self._watchdog = None

    def stop(self) -> None:
        """Stop every component and everything it started: SIGTERM, then SIGKILL. Idempotent."""
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if not self.components:
            self._stop_watchdog()
            self._restore_signal_handlers()
            self._unlock()
            return
        # Ignore Ctrl-C while tearing down, so that a second one cannot leave orphans.
        old_int = None
        if threading.current_thread() is threading.main_thread():
            old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            # The scheduler's task processes report to the api-server while they stop, so
            # the api-server goes last; whatever has not exited after the timeout is killed.
            deadline = time.monotonic() + self.stop_timeout
            self._remember()
            workers = [c for c in self.components if c.name != "api-server"]
            self._signal_all(signal.SIGTERM, workers)
            self._wait_gone(max(1.0, (deadline - time.monotonic()) * 2 / 3), workers)
            self._remember()
            self._signal_all(signal.SIGTERM, self.components)
            if not self._wait_gone(max(1.0, deadline - time.monotonic())):
                self._remember()
                self._signal_all(signal.SIGKILL, self.components)
                self._wait_gone(10.0)
            for comp in self.components:
                with contextlib.suppress(Exception):
                    comp.proc.wait(timeout=5)
            self.components = []
            self._http.close()
            self._stop_watchdog()
        finally:
            if old_int is not None:
                signal.signal(signal.SIGINT, old_int)
            self._restore_signal_handlers()
            self._unlock()

    def _unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # releases the flock
            self._lock = None

    def _remember(self) -> None:
        """Record every process of the stack: the components, their descendants, their groups."""
        import psutil

        def keep(proc: Any) -> None:
            old = self._known.get(proc.pid)
            if old is None or not _alive(old):  # new, or a reused pid
                self._known[proc.pid] = proc

        groups = set()
        for comp in self.components:
            groups.add(comp.proc.pid)  # start_new_session: pid == pgid == sid
            try:
                parent = psutil.Process(comp.proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    keep(p)
            except psutil.Error:
                continue
        # Also what left the groups and lost its parent: task processes start sessions of
        # their own. Never this process, its ancestors (a shell started in home) or the
        # watchdog.
        mine = {os.getpid(), *(a.pid for a in psutil.Process().parents())}
        if self._watchdog is not None:
            mine.add(self._watchdog.pid)
        for p in _stack_processes(str(self.home), groups):
            if p.pid not in mine:
                keep(p)

    def processes(self) -> list[Any]:
        """Every process of the stack seen so far that is still alive (psutil.Process)."""
        self._remember()
        return [p for p in self._known.values() if _alive(p)]

    def _members(self, components: list[Component]) -> list[Any]:
        """The known processes of ``components``: their groups and their descendants."""
        import psutil

        groups = {c.proc.pid for c in components}
        found = []
        for p in self._known.values():
            try:
                if os.getpgid(p.pid) in groups or any(
                    a.pid in groups for a in p.parents()
                ):
                    found.append(p)
            except (OSError, psutil.Error):
                continue
        return found

    def mind_scheduler(self, *, stalls: bool = True) -> None:
        """Start the scheduler again when it has exited, or (``stalls``) when it is alive
        but has been reported unhealthy for ``scheduler_stall_timeout`` seconds; up to
        ``MAX_SCHEDULER_RESTARTS`` times a stack (then ``check_alive`` reports an exit).

        Airflow 3.3.2 on SQLite: a backfill creation that met a locked database is rolled
        back while the scheduler reads its runs, and the scheduler loop fails
        (``ObjectDeletedError``). Either the process exits, or it logs "Exception when
        executing SchedulerJob._run_scheduler_loop" and waits for its executor for ever:
        alive, no heartbeat, runs never move. A new scheduler resets the orphaned tasks
        and carries on."""
        comp = self._component("scheduler")
        if comp is None or self.scheduler_restarts >= MAX_SCHEDULER_RESTARTS:
            return
        if comp.proc.poll() is not None:
            why = f"exited with {comp.proc.returncode}"
        elif not stalls:
            return
        else:
            stalled = self._unhealthy_for()
            if stalled < self.scheduler_stall_timeout:
                return
            why = f"is alive but reported unhealthy for {stalled:.0f}s"
        log.warning("the scheduler %s: starting it again (log %s)", why, comp.log_path)
        self.restart("scheduler")
        self._stalled_since = None
        self._starting_until = time.monotonic() + SCHEDULER_START_GRACE_S
        self.scheduler_restarts += 1

    def _unhealthy_for(self) -> float:
        """Seconds the scheduler has been reported unhealthy in a row (0: healthy, or the
        api-server did not answer)."""
        try:
            status = self.health().get("scheduler", {}).get("status")
        except (requests.RequestException, StackError):
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

    def _component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def restart(self, name: str) -> None:
        """Stop one component (its whole process group) and start it again."""
        comp = self._component(name)
        if comp is None:
            raise StackError(f"no {name} in this stack")
        self._remember()
        self._signal_all(signal.SIGCONT, [comp])  # a stopped process cannot act on TERM
        self._signal_all(signal.SIGTERM, [comp])
        if not self._wait_gone(self.stop_timeout, [comp]):
            self._signal_all(signal.SIGKILL, [comp])
            self._wait_gone(10.0, [comp])
        with contextlib.suppress(Exception):
            comp.proc.wait(timeout=5)
        self.components.remove(comp)
        self._spawn(name, dict(self.component_args)[name])

    def _signal_all(self, sig: signal.Signals, components: list[Component]) -> None:
        import psutil

        members = self._members(components)
        for comp in components:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(comp.proc.pid, sig)
        if len(components) == len(self.components):
            members = list(self._known.values())  # everything, descendants that left too
        for p in members:
            with contextlib.suppress(psutil.Error):
                if _alive(p):
                    p.send_signal(sig)

    def _wait_gone(self, timeout: float, components: list[Component] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            for comp in self.components:
                comp.proc.poll()  # reap, so that a dead component is not a zombie
            self._remember()  # processes started while stopping
            if components is None:
                alive = [p for p in self._known.values() if _alive(p)]
            else:
                alive = [c for c in components if c.proc.poll() is None]
                alive += [p for p in self._members(components) if _alive(p)]
            if not alive:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, handler)

    def _restore_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers = {}

    def check_alive(self) -> None:
        for comp in self.components:
            if comp.proc.poll() is not None:
                raise StackError(
                    f"airflow {comp.name} exited with {comp.proc.returncode}; "
                    f"log {comp.log_path}:\n{comp.log_tail()}"
                )

    # -- REST -------------------------------------------------------------------------------
    def authenticate(self, token: str) -> None:
        """Send ``token`` (from ``/auth/token``) with every later API request."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call to ``/api/v2``; raises ``StackError`` with the server's answer on 4xx/5xx."""
        kwargs.setdefault("timeout", 30)
        url = f"{self.base_url}/api/v2{path}"
        response = self._request(method, url, **kwargs)
        for _ in range(3):  # a read that met a locked SQLite DB: ask again
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
        found = re.search(r"look for ID (\w+)", response.text)
        server = self._component("api-server")
        if not found or server is None:
            return ""
        text = server.log_tail(400_000)
        at = text.find(f"Error with id {found.group(1)}")
        return f"\napi-server log ({server.log_path}):\n{text[at:at + 4000]}" if at >= 0 else ""

    def health(self) -> dict[str, Any]:
        return dict(self.api("GET", "/monitor/health", timeout=5))

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
        worker = next(c for c in self.components if c.name == "celery-worker")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if " ready." in worker.log_tail(200_000):
                return
            time.sleep(0.5)
        raise StackError(f"the Celery worker is not ready after {timeout:.0f}s; log "
                         f"{worker.log_path}:\n{worker.log_tail()}")

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
        raise StackError(f"{dag_id} not serialized after {timeout:.0f}s (dag-processor log: "
                         f"{self.log_dir / 'dag-processor.log'})")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

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
                    f"{done} of {len(counted)} runs done; scheduler log "
                    f"{self.log_dir / 'scheduler.log'}"
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

    def backfill(
        self, dag_id: str, first: dt.date, last: dt.date, *, reprocess: str = "none",
        max_active_runs: int = 2, timeout: float = 3600.0,
        on_progress: ProgressCallback | None = None,
    ) -> BackfillResult:
        """Create a backfill of first … last (data-interval starts) and wait for it.

        An unfinished backfill of the DAG (left by an interrupted stack) runs to its end
        first (``resume_unfinished``): Airflow allows one at a time.
        """
        self.resume_unfinished(dag_id, timeout, on_progress)
        created = self.create_backfill(dag_id, first, last, reprocess, max_active_runs)
        return self.wait_for_backfill(created, first, last, timeout, on_progress)


def _alive(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def backfill_busy(response: requests.Response) -> bool:
    """A backfill creation to ask for again: another backfill is still open (409), or the
    metadata DB was locked (503, or 500 "Database error" when the lock came first)."""
    if response.status_code in (409, 503):
        return True
    return response.status_code == 500 and '"Database error"' in response.text


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
        self._stack: AirflowStack | None = None
        self._lock = threading.Lock()
        self._session = requests.Session()

    def follow(self, stack: AirflowStack) -> None:
        self._stack = stack

    def stop_following(self) -> None:
        with self._lock:
            self._stack = None
            self._session.close()

    def __call__(self) -> dt.datetime:
        with self._lock:
            if self._stack is None:
                return self.fallback()
            running = self._stack.running_logical_dates(self.dag_id, self._session)
        if len(running) > 1:
            raise StackError(f"{len(running)} runs of {self.dag_id} are running: no one time")
        return running[0] if running else self.fallback()


def _states(runs: list[dict[str, Any]]) -> dict[dt.date, str]:
    """The state of the newest run of each day, keyed by its data-interval start (UTC)."""
    states: dict[dt.date, str] = {}
    for run in sorted(runs, key=lambda r: r.get("run_after") or ""):
        start = run.get("data_interval_start") or run.get("logical_date")
        if start:
            states[_day(start)] = str(run.get("state"))
    return states


def days_between(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for i in range((last - first).days + 1):
        yield first + dt.timedelta(days=i)


def _stack_processes(home: str, groups: set[int]) -> list[Any]:
    """Airflow processes of the stack in ``home`` (psutil.Process), but this one.

    Those in its process groups, and Airflow processes that run in ``home`` (the
    components' cwd, which their children inherit) or name it in their environment
    (unreadable once setproctitle has rewritten a process title).
    """
    import psutil

    found = []
    for p in psutil.process_iter():
        try:
            if p.pid == os.getpid():
                continue
            if os.getpgid(p.pid) in groups or ("airflow" in " ".join(p.cmdline()) and (
                p.cwd() == home or p.environ().get("AIRFLOW_HOME") == home
            )):
                found.append(p)
        except (OSError, psutil.Error):
            continue
    return found


def _watchdog(home: str, stop_timeout: float) -> int:
    """Body of the watchdog process (see ``AirflowStack._start_watchdog``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        if line.strip() == "done":
            return 0
        if line.strip().isdigit():
            groups.add(int(line))
    print(f"{dt.datetime.now(dt.UTC):%FT%TZ} parent gone: stopping the stack in {home}",
          file=sys.stderr, flush=True)
    for sig, wait in ((signal.SIGTERM, stop_timeout), (signal.SIGKILL, 10.0)):
        targets = _stack_processes(home, groups)
        for p in targets:
            with contextlib.suppress(Exception):
                p.send_signal(sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(_alive(p) for p in targets):
            time.sleep(0.5)
        if not any(_alive(p) for p in _stack_processes(home, groups)):
            break
    return 0


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(description="watchdog of a local Airflow stack")
    _parser.add_argument("--watchdog", required=True, metavar="HOME")
    _parser.add_argument("--stop-timeout", type=float, default=30.0)
    _args = _parser.parse_args()
    sys.exit(_watchdog(_args.watchdog, _args.stop_timeout))
