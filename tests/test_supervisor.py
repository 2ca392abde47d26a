"""The process supervisor of the local Airflow and of the test servers (newslake.supervisor).

Real child processes (small Python programs) are started, stopped by their PIDs, killed
when they ignore SIGTERM, restarted, and left behind by a parent that is SIGKILLed: the
watchdog must stop them then.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from newslake.supervisor import Supervisor, SupervisorError, alive, run_lines

pytestmark = pytest.mark.timeout(90)

PY = sys.executable
# A child that says it is up, then sleeps; IGNORE_TERM: one that ignores SIGTERM.
SLEEPER = "import time; print('up', flush=True); time.sleep(600)"
IGNORE_TERM = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
               "print('up', flush=True); time.sleep(600)")
# A child that forks a grandchild in a session of its own (as Airflow's task runners do).
FORKS_AWAY = (
    "import subprocess, sys, time; "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', 'marker-x'],"
    " start_new_session=True); print(p.pid, flush=True); time.sleep(600)"
)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition()`` until true; fail naming ``what`` at the (generous) deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {timeout:.0f}s: {what}")
        time.sleep(0.1)


def logged(sup: Supervisor, name: str, text: str) -> bool:
    child = sup.child(name)
    return child is not None and text in child.log_tail()


def test_a_child_runs_in_its_own_session_logs_to_its_file_and_is_stopped_by_pid(
    tmp_path: Path
) -> None:
    sup = Supervisor(tmp_path / "logs", stop_timeout=10)
    child = sup.spawn("sleeper", [PY, "-c", SLEEPER])
    try:
        wait_until(lambda: logged(sup, "sleeper", "up"), "the child logged 'up'")
        assert os.getpgid(child.pid) == child.pid != os.getpgid(0), "its own process group"
        assert (tmp_path / "logs" / "sleeper.log").read_text().strip() == "up"
        seen = sup.processes()
        assert [p.pid for p in seen] == [child.pid]
        sup.check_alive()
    finally:
        clean = sup.stop()
    assert clean, "SIGTERM was enough"
    assert child.proc.returncode == -signal.SIGTERM
    assert not [p for p in seen if alive(p)]
    assert sup.children == [] and sup.stop(), "stop() again does nothing"


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, stop_timeout=1.0)
    child = sup.spawn("stubborn", [PY, "-c", IGNORE_TERM])
    wait_until(lambda: logged(sup, "stubborn", "up"), "the handler is installed")
    assert not sup.stop(), "it needed SIGKILL"
    assert child.proc.returncode == -signal.SIGKILL


def test_what_a_child_started_in_a_session_of_its_own_is_stopped_with_it(
    tmp_path: Path
) -> None:
    """Known by the supervisor's home (its cwd, which it inherits) and the marker."""
    sup = Supervisor(tmp_path / "logs", stop_timeout=5, home=tmp_path, marker="marker-x")
    sup.spawn("parent", [PY, "-c", FORKS_AWAY], cwd=tmp_path)
    log = tmp_path / "logs" / "parent.log"
    wait_until(lambda: log.read_text().strip().isdigit(), "the grandchild was started")
    grandchild = psutil.Process(int(log.read_text()))
    assert os.getpgid(grandchild.pid) == grandchild.pid, "it left the child's group"
    assert grandchild.pid in [p.pid for p in sup.processes()]
    sup.stop()
    assert not alive(grandchild)


def test_an_exited_child_is_reported_with_its_log_and_can_be_restarted(
    tmp_path: Path
) -> None:
    sup = Supervisor(tmp_path, stop_timeout=5)
    try:
        first = sup.spawn("flaky", [PY, "-c", "print('oops', flush=True); raise SystemExit(3)"])
        first.proc.wait(timeout=30)
        with pytest.raises(SupervisorError, match=r"flaky exited with 3; log .*\n.*oops"):
            sup.check_alive()
        sup.stop_child("flaky")
        sleeper = sup.spawn("sleeper", [PY, "-c", SLEEPER])
        again = sup.restart("sleeper")
        assert again.pid != sleeper.pid and sleeper.proc.poll() is not None
        assert [c.name for c in sup.children] == ["sleeper"]
        sup.check_alive()
    finally:
        sup.stop()
    assert again.proc.poll() is not None


WATCHED = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from newslake.supervisor import Supervisor

    home = Path(sys.argv[1])
    sup = Supervisor(home / "logs", stop_timeout=1.0, home=home, marker="-c")
    sup.start_watchdog()
    child = sup.spawn("stubborn", [sys.executable, "-c", sys.argv[2]], cwd=home)
    print(child.pid, flush=True)
    time.sleep(600)
""")


def test_the_watchdog_stops_the_children_of_a_parent_killed_with_sigkill(
    tmp_path: Path
) -> None:
    """No ``stop()`` runs: the parent is SIGKILLed. The child ignores SIGTERM (so the
    kernel's parent-death signal does not end it): the watchdog's SIGKILL must."""
    parent = subprocess.Popen([PY, "-c", WATCHED, str(tmp_path), IGNORE_TERM],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert parent.stdout is not None
        child = psutil.Process(int(parent.stdout.readline()))
        wait_until(lambda: "up" in (tmp_path / "logs" / "stubborn.log").read_text(),
                   "the child ignores SIGTERM")
        parent.kill()
        parent.wait(timeout=30)
        wait_until(lambda: not alive(child), "the watchdog killed the child")
        log = (tmp_path / "logs" / "watchdog.log").read_text()
        assert "parent gone" in log
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=30)


def test_a_run_is_killed_at_its_deadline_though_it_prints_nothing() -> None:
    lines: list[str] = []
    code = "print('first', flush=True); import time; time.sleep(600)"
    with pytest.raises(TimeoutError, match="sleepy did not finish within 1s"):
        run_lines([PY, "-c", code], None, 1.0, lines.append, what="sleepy")
    assert lines == ["first\n"]
    with pytest.raises(SupervisorError, match="exited with 2:\n.*bad"):
        run_lines([PY, "-c", "import sys; print('bad', file=sys.stderr); sys.exit(2)"],
                  None, 30.0, lines.append)
