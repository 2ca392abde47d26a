"""Tests whose prerequisite (a browser, a database server) lives outside the venv."""

from __future__ import annotations

import pytest


def needs(missing: str | None) -> None:
    """Fail a test whose prerequisite is missing, naming it: ``make test`` installs every
    one (``scripts/system-deps.sh``), so a missing one is a broken setup, never a pass."""
    if missing is not None:
        pytest.fail(f"prerequisite missing: {missing} (make test installs it: "
                    "scripts/system-deps.sh, as root)")
