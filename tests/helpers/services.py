"""Throwaway Postgres and Redis servers on 127.0.0.1, for tests of the team stack's shape.

    with ThrowawayPostgres(tmp_dir) as pg:     # initdb + postgres, trust auth on loopback
        pg.url                                 # postgresql+psycopg2://airflow@127.0.0.1:<port>/airflow
    with ThrowawayRedis(tmp_dir) as redis:     # redis-server, no persistence
        redis.url                              # redis://127.0.0.1:<port>/0

Each server is one child process started by this module (``postgres`` itself, not
``pg_ctl``; ``redis-server`` in the foreground), in a session of its own, on a port chosen
free at start-up (another try on a new port if it was taken meanwhile), with its data and
its log in the given folder, under the library's process supervisor
(``newslake.supervisor``). ``stop()`` ends it by its PID: SIGINT (Postgres' fast
shutdown) or SIGTERM (Redis), SIGKILL after a timeout to the server and whatever it had
forked that is still there (Postgres' backends), and waits for all of it. Under ``setpriv``
(util-linux) the kernel also sends SIGTERM to the server if the test process dies without
stopping it.

As root, Postgres runs as the ``postgres`` OS user (it refuses to run as root), with its
cluster in a folder of its own under the system temp dir (which that user can reach),
removed when the server is left. ``missing()`` says why these servers cannot run here (no
binaries, no such user), or None.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from newslake.supervisor import HOST, Supervisor, free_port, port_open


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<v>/bin`` holding initdb and postgres, or PATH's."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(Path(d).parent.name) if Path(d).parent.name.isdigit() else 0)
    for d in reversed(dirs):
        if (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    return None


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def missing() -> str | None:
    """Why the throwaway servers cannot run on this machine, or None if they can."""
    reasons = []
    if postgres_bin_dir() is None:
        reasons.append("no Postgres binaries (initdb, postgres)")
    if redis_binary() is None:
        reasons.append("no redis-server")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            reasons.append("running as root and there is no 'postgres' OS user to run Postgres")
    if reasons:
        return "; ".join(reasons) + " (scripts/system-deps.sh installs them when run as root)"
    return None


class _Server:
    """One server process: started with retries on a fresh port, stopped by its PID
    (through ``newslake.supervisor.Supervisor``)."""

    name = "server"
    stop_signal = signal.SIGTERM

    def __init__(self, base_dir: Path, start_timeout: float = 60.0, stop_timeout: float = 20.0):
        self.base_dir = Path(base_dir)
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.supervisor = Supervisor(self.base_dir, stop_timeout=stop_timeout)
        self.port = 0
        self._starting = False  # stop() between two tries keeps the prepared data

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        child = self.supervisor.child(self.name)
        return child.proc if child else None

    @property
    def log_path(self) -> Path:
        return self.base_dir / f"{self.name}.log"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # Subclasses: the command, the Popen keyword arguments, and the readiness probe.
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _popen_kwargs(self) -> dict[str, Any]:
        return {}

    def _ready(self) -> bool:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Once, before the first start."""

    def start(self) -> Self:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        last = ""
        self._starting = True
        try:
            for _ in range(3):  # the free port may be taken between choosing and binding it
                self.port = free_port()
                if self._start_once():
                    return self
                last = self.log_tail()
                self.stop()
        finally:
            self._starting = False
        raise RuntimeError(f"{self.name} did not start on 127.0.0.1; last log:\n{last}")

    def _start_once(self) -> bool:
        # The stop signal goes to the server's PID only: it stops its own workers.
        child = self.supervisor.spawn(self.name, self._command(), cwd=self.base_dir,
                                      stop_signal=self.stop_signal, signal_group=False,
                                      **self._popen_kwargs())
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if child.proc.poll() is not None:
                return False
            if port_open(self.port, timeout=0.2):
                try:
                    if self._ready():
                        self.supervisor.remember()  # what it forked so far
                        return True
                except Exception:  # noqa: BLE001, S110 - not ready yet
                    pass
            time.sleep(0.2)
        return False

    def stop(self) -> None:
        """The stop signal, SIGKILL after ``stop_timeout``; then whatever it forked that is
        still there. Idempotent."""
        self.supervisor.stop()

    def processes(self) -> list[Any]:
        """The server and what it forked (psutil.Process), as seen now."""
        return self.supervisor.processes()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ThrowawayPostgres(_Server):
    """A fresh cluster (``initdb``, trust auth) served on 127.0.0.1 only; DB ``airflow``."""

    name = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: roll back, disconnect, stop
    user = "airflow"
    database = "airflow"

    def __init__(self, base_dir: Path, start_timeout: float = 60.0, stop_timeout: float = 20.0):
        super().__init__(base_dir, start_timeout, stop_timeout)
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("no Postgres binaries (initdb, postgres)")
        self.bin_dir = bin_dir
        self.cluster_dir: Path | None = None  # data and socket; made by _prepare
        self._owner: pwd.struct_passwd | None = (
            pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        )

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@{HOST}:{self.port}/{self.database}"

    def _popen_kwargs(self) -> dict[str, Any]:
        if self._owner is None:
            return {}
        return {"user": self._owner.pw_uid, "group": self._owner.pw_gid, "extra_groups": []}

    @property
    def data_dir(self) -> Path:
        assert self.cluster_dir is not None
        return self.cluster_dir / "data"

    def _prepare(self) -> None:
        if self.cluster_dir is not None:
            return
        # Not under base_dir: pytest's temp folders are private to this user (0700).
        self.cluster_dir = Path(tempfile.mkdtemp(prefix="newslake-test-pg-"))
        if self._owner is not None:
            os.chown(self.cluster_dir, self._owner.pw_uid, self._owner.pw_gid)
        result = subprocess.run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user,
             "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            capture_output=True, text=True, timeout=120, check=False, cwd=self.cluster_dir,
            **self._popen_kwargs(),
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")

    def _command(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"), "-D", str(self.data_dir),
            "-p", str(self.port), "-k", str(self.cluster_dir),
            "-c", f"listen_addresses={HOST}",
            # Throwaway data: no durability needed, which makes it much faster.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=200", "-c", "logging_collector=off",
        ]

    def _ready(self) -> bool:
        import psycopg2

        conn = psycopg2.connect(host=HOST, port=self.port, user=self.user, dbname="postgres",
                                connect_timeout=2)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()
        return True

    def stop(self) -> None:
        super().stop()
        if self.proc is None and self.cluster_dir is not None and not self._starting:
            shutil.rmtree(self.cluster_dir, ignore_errors=True)
            self.cluster_dir = None


class ThrowawayRedis(_Server):
    """``redis-server`` on 127.0.0.1, in memory only (no RDB snapshots, no AOF)."""

    name = "redis"

    def __init__(self, base_dir: Path, start_timeout: float = 30.0, stop_timeout: float = 20.0):
        super().__init__(base_dir, start_timeout, stop_timeout)
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("no redis-server")
        self.binary = binary

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def _command(self) -> list[str]:
        return [
            self.binary, "--port", str(self.port), "--bind", HOST, "--protected-mode", "yes",
            "--save", "", "--appendonly", "no", "--dir", str(self.base_dir),
            "--daemonize", "no",
        ]

    def _ready(self) -> bool:
        import redis

        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=2,
                             socket_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
