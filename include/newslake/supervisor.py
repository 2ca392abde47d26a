"""Child processes started, watched and stopped by their PIDs.

    sup = Supervisor(log_dir, stop_timeout=30)
    sup.spawn("api-server", ["airflow", "api-server"], env=env, cwd=home)
    sup.check_alive()          # SupervisorError naming the child and its log tail
    sup.stop()                 # SIGTERM, SIGKILL after the timeout, then what they started

Each child runs in a session and process group of its own, with stdout and stderr in
``<log_dir>/<name>.log``. ``stop()`` sends the child's stop signal (to its group, or only
to its PID), waits, then SIGKILLs the group and every descendant seen so far, and reaps.
Under ``setpriv --pdeathsig`` (util-linux) the kernel also sends SIGTERM to a child whose
starting thread dies without stopping it; ``start_watchdog()`` adds a small process
(``python -m newslake.supervisor --watchdog HOME``) that stops whatever is left of the
children, SIGKILL included, if this process dies without doing it (SIGKILL).

``run_lines`` runs one command to its end with a deadline, handing each line it prints
to a callback. The module knows nothing of Airflow: ``airflow_stack`` and the test
helpers (tests/helpers/services.py, browser.py, s3server.py) use it.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"


class SupervisorError(RuntimeError):
    """A child process exited, or did not stop."""


def free_port(host: str = HOST) -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def alive(proc: Any) -> bool:
    """Whether a ``psutil.Process`` still runs (a zombie does not)."""
    import psutil

    try:
        return bool(proc.is_running()) and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@dataclass
class Child:
    """One started process: ``proc.pid`` is also its process group and session id."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    stop_signal: signal.Signals = signal.SIGTERM
    signal_group: bool = True  # the stop signal goes to the whole group, not only the PID

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def owned_processes(groups: Collection[int], home: str | None = None, marker: str = "",
                    home_var: str = "") -> list[Any]:
    """Live processes (psutil.Process, never this one) in one of ``groups``; with ``home``
    also those whose command line holds ``marker`` and that run in ``home`` or name it in
    the environment variable ``home_var`` (children that left the group by starting a
    session of their own inherit the cwd; setproctitle can hide the environment)."""
    import psutil

    found = []
    for p in psutil.process_iter():
        try:
            if p.pid == os.getpid():
                continue
            if os.getpgid(p.pid) in groups or (
                home is not None and marker in " ".join(p.cmdline()) and (
                    p.cwd() == home or (home_var and p.environ().get(home_var) == home))
            ):
                found.append(p)
        except (OSError, psutil.Error):
            continue
    return found


class Supervisor:
    """Named children, each in its own session, with their logs in ``log_dir``.

    ``home``, ``marker``, ``home_var``: how to recognise descendants that left their
    child's process group (see ``owned_processes``); they are stopped with the rest.
    """

    def __init__(self, log_dir: Path, *, stop_timeout: float = 30.0, home: Path | None = None,
                 marker: str = "", home_var: str = "") -> None:
        self.log_dir = Path(log_dir)
        self.stop_timeout = stop_timeout
        self.home = str(home) if home is not None else None
        self.marker, self.home_var = marker, home_var
        self.children: list[Child] = []
        self._known: dict[int, Any] = {}  # pid -> psutil.Process, every process seen
        self._commands: dict[str, tuple[list[str], dict[str, Any]]] = {}
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._old_handlers: dict[int, Any] = {}

    # -- starting ---------------------------------------------------------------------------
    def spawn(self, name: str, cmd: list[str], *, env: dict[str, str] | None = None,
              cwd: Path | str | None = None, stop_signal: signal.Signals = signal.SIGTERM,
              signal_group: bool = True, **popen: Any) -> Child:
        """Start ``cmd`` as the child ``name`` (log ``<log_dir>/<name>.log``, appended)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        full = list(cmd)
        setpriv = shutil.which("setpriv")
        # Popen from the main thread: the parent-death signal fires when that thread exits.
        if setpriv and threading.current_thread() is threading.main_thread():
            full = [setpriv, "--pdeathsig", "TERM", "--", *full]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                full, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=cwd, start_new_session=True, **popen,
            )
        child = Child(name, proc, log_path, stop_signal, signal_group)
        self.children.append(child)
        self._commands[name] = (list(cmd), {"env": env, "cwd": cwd, "stop_signal": stop_signal,
                                            "signal_group": signal_group, **popen})
        self._tell_watchdog(str(proc.pid))
        self.remember()
        return child

    def child(self, name: str) -> Child | None:
        return next((c for c in self.children if c.name == name), None)

    def check_alive(self) -> None:
        """Raise ``SupervisorError`` (with its log tail) for a child that has exited."""
        for c in self.children:
            if c.proc.poll() is not None:
                raise SupervisorError(f"{c.name} exited with {c.proc.returncode}; "
                                      f"log {c.log_path}:\n{c.log_tail()}")

    # -- knowing what runs ------------------------------------------------------------------
    def remember(self) -> None:
        """Record every process of the children: themselves, their descendants, their
        groups, and (with ``home``) what left the groups."""
        import psutil

        def keep(proc: Any) -> None:
            old = self._known.get(proc.pid)
            if old is None or not alive(old):  # new, or a reused pid
                self._known[proc.pid] = proc

        groups = set()
        for c in self.children:
            groups.add(c.pid)
            try:
                parent = psutil.Process(c.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    keep(p)
            except psutil.Error:
                continue
        if self.home is None:
            return
        # Never this process, its ancestors (a shell started in home) or the watchdog.
        mine = {os.getpid(), *(a.pid for a in psutil.Process().parents())}
        if self._watchdog is not None:
            mine.add(self._watchdog.pid)
        for p in owned_processes(groups, self.home, self.marker, self.home_var):
            if p.pid not in mine:
                keep(p)

    def processes(self) -> list[Any]:
        """Every process of the children seen so far that is still alive (psutil.Process)."""
        self.remember()
        return [p for p in self._known.values() if alive(p)]

    def _members(self, children: list[Child]) -> list[Any]:
        """The known processes of ``children``: their groups and their descendants."""
        import psutil

        groups = {c.pid for c in children}
        found = []
        for p in self._known.values():
            try:
                if os.getpgid(p.pid) in groups or any(a.pid in groups for a in p.parents()):
                    found.append(p)
            except (OSError, psutil.Error):
                continue
        return found

    # -- stopping ---------------------------------------------------------------------------
    def _signal(self, sig: signal.Signals, children: list[Child], *, kill: bool = False) -> None:
        """``sig`` to ``children``: to the group and the known members of a group child (of
        every child: ``kill``), to the PID only of a child that stops its own workers."""
        import psutil

        for c in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if c.signal_group or kill:
                    os.killpg(c.pid, sig)
                else:
                    os.kill(c.pid, sig)
        grouped = [c for c in children if c.signal_group or kill]
        if not grouped:
            return
        # All of them: everything seen, descendants that left the groups too.
        everything = len(grouped) == len(self.children)
        for p in list(self._known.values()) if everything else self._members(grouped):
            with contextlib.suppress(psutil.Error):
                if alive(p):
                    p.send_signal(sig)

    def _ask_to_stop(self, children: list[Child]) -> None:
        """Each child's own stop signal."""
        for sig in {c.stop_signal for c in children}:
            self._signal(sig, [c for c in children if c.stop_signal == sig])

    def _wait_gone(self, timeout: float, children: list[Child] | None = None) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            for c in self.children:
                c.proc.poll()  # reap, so that a dead child is not a zombie
            self.remember()  # processes started while stopping
            if children is None:
                left = [p for p in self._known.values() if alive(p)]
            else:
                left = [c for c in children if c.proc.poll() is None]
                left += [p for p in self._members(children) if alive(p)]
            if not left:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def stop_child(self, name: str, timeout: float | None = None) -> None:
        """Stop one child and its processes (stop signal, SIGKILL after ``timeout``)."""
        c = self.child(name)
        if c is None:
            raise SupervisorError(f"no child {name}")
        self.remember()
        self._signal(signal.SIGCONT, [c], kill=True)  # a stopped process cannot act on TERM
        self._ask_to_stop([c])
        if not self._wait_gone(self.stop_timeout if timeout is None else timeout, [c]):
            self._signal(signal.SIGKILL, [c], kill=True)
            self._wait_gone(10.0, [c])
        with contextlib.suppress(Exception):
            c.proc.wait(timeout=5)
        self.children.remove(c)

    def restart(self, name: str) -> Child:
        """Stop one child (its whole process group) and start it again, same command."""
        cmd, kwargs = self._commands[name]
        self.stop_child(name)
        return self.spawn(name, cmd, **kwargs)

    def stop(self, *, last: Collection[str] = ()) -> bool:
        """Stop every child and everything it started; the children named in ``last`` get
        their stop signal once the others are gone (or a third of the timeout is left).
        Whatever still runs at the timeout is SIGKILLed. Idempotent; True when all
        stopped without SIGKILL. Ctrl-C is ignored meanwhile (a second one would leave
        orphans)."""
        if not self.children:
            self.stop_watchdog()
            return True
        old_int = None
        if threading.current_thread() is threading.main_thread():
            old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            deadline = time.monotonic() + self.stop_timeout
            self.remember()
            first = [c for c in self.children if c.name not in last]
            if len(first) < len(self.children):
                self._ask_to_stop(first)
                self._wait_gone(max(1.0, (deadline - time.monotonic()) * 2 / 3), first)
                self.remember()
            self._ask_to_stop(self.children)
            clean = self._wait_gone(max(1.0, deadline - time.monotonic()))
            if not clean:
                self.remember()
                self._signal(signal.SIGKILL, self.children, kill=True)
                self._wait_gone(10.0)
            for c in self.children:
                with contextlib.suppress(Exception):
                    c.proc.wait(timeout=5)
            self.children = []
            self.stop_watchdog()
            return clean
        finally:
            if old_int is not None:
                signal.signal(signal.SIGINT, old_int)

    # -- when this process dies -------------------------------------------------------------
    def start_watchdog(self, env: dict[str, str] | None = None) -> None:
        """A small process that stops the children if this one dies without doing it
        (SIGKILL). It reads process-group ids from a pipe; end of file without "done"
        means that this process is gone. Needs ``home`` (what it matches besides groups)."""
        if self.home is None:
            raise SupervisorError("a watchdog needs the supervisor's home")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "watchdog.log", "ab") as log:
            self._watchdog = subprocess.Popen(
                [sys.executable, "-m", "newslake.supervisor", f"--watchdog={self.home}",
                 f"--marker={self.marker}", f"--home-var={self.home_var}",
                 f"--stop-timeout={self.stop_timeout}"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True, env=env,
            )
        for c in self.children:
            self._tell_watchdog(str(c.pid))

    def _tell_watchdog(self, line: str) -> None:
        if self._watchdog is not None and self._watchdog.stdin is not None:
            with contextlib.suppress(OSError):
                self._watchdog.stdin.write(line.encode() + b"\n")
                self._watchdog.stdin.flush()

    def stop_watchdog(self) -> None:
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

    def install_signal_handlers(self, stop: Callable[[], object] | None = None) -> None:
        """SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, so that a ``with``
        block unwinds and stops the children; ``stop`` also runs at interpreter exit."""
        if stop is not None:
            atexit.register(stop)
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[sig] = signal.signal(sig, handler)

    def restore_signal_handlers(self, stop: Callable[[], object] | None = None) -> None:
        if stop is not None:
            with contextlib.suppress(Exception):
                atexit.unregister(stop)
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, old in self._old_handlers.items():
            signal.signal(sig, old)
        self._old_handlers = {}


def run_lines(cmd: list[str], env: dict[str, str] | None, timeout: float,
              on_line: Callable[[str], None], what: str = "") -> None:
    """Run ``cmd`` to its end; hand each line it prints to ``on_line``. A timer kills the
    child at the deadline even when it prints nothing (a stuck run): ``TimeoutError``; a
    non-zero exit: ``SupervisorError`` with its stderr's tail. stderr goes to a temporary
    file: a pipe nobody reads would block a chatty child. ``what``: the child's name in
    errors (default: its program's)."""
    what = what or Path(cmd[0]).name
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            proc.kill()

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                on_line(line)
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if expired.is_set():
            raise TimeoutError(f"{what} did not finish within {timeout:.0f}s "
                               "(child killed)")
        if proc.returncode != 0:
            stderr.seek(0)
            raise SupervisorError(
                f"{what} exited with {proc.returncode}:\n{stderr.read()[-5000:]}")


def _watchdog(home: str, marker: str, home_var: str, stop_timeout: float) -> int:
    """Body of the watchdog process (see ``Supervisor.start_watchdog``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    groups: set[int] = set()
    for line in sys.stdin:
        if line.strip() == "done":
            return 0
        if line.strip().isdigit():
            groups.add(int(line))
    print(f"{dt.datetime.now(dt.UTC):%FT%TZ} parent gone: stopping the processes of {home}",
          file=sys.stderr, flush=True)
    for sig, wait in ((signal.SIGTERM, stop_timeout), (signal.SIGKILL, 10.0)):
        targets = owned_processes(groups, home, marker, home_var)
        for p in targets:
            with contextlib.suppress(Exception):
                p.send_signal(sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(alive(p) for p in targets):
            time.sleep(0.5)
        if not any(alive(p) for p in owned_processes(groups, home, marker, home_var)):
            break
    return 0


if __name__ == "__main__":
    import argparse

    _parser = argparse.ArgumentParser(description="watchdog of a Supervisor's children")
    _parser.add_argument("--watchdog", required=True, metavar="HOME")
    _parser.add_argument("--marker", default="")
    _parser.add_argument("--home-var", default="")
    _parser.add_argument("--stop-timeout", type=float, default=30.0)
    _args = _parser.parse_args()
    sys.exit(_watchdog(_args.watchdog, _args.marker, _args.home_var, _args.stop_timeout))
