"""Finding processes a stopped stack may have left behind (zombies count as gone: PID 1
in this sandbox does not reap orphans)."""

from __future__ import annotations

import os
from collections.abc import Callable

import psutil

from newslake.supervisor import alive

__all__ = ["alive", "strays"]


def strays(belongs: Callable[[psutil.Process, str], bool]) -> list[tuple[int, list[str]]]:
    """Live processes (not this one) for which ``belongs(proc, cmdline)`` is true."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.pid == os.getpid():
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if belongs(proc, " ".join(proc.info["cmdline"] or [])):
                found.append((proc.pid, proc.info["cmdline"]))
        except psutil.Error:
            continue
    return found
