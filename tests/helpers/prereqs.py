"""Tests whose prerequisite (a browser, a database server) may be missing."""

from __future__ import annotations

import os

import pytest


def needs(missing: str | None) -> None:
    """Skip a test whose prerequisite is missing — except under ``make test`` (and CI),
    which installs every prerequisite and sets NEWSLAKE_REQUIRE_ALL: there a missing one
    is a broken setup, and the test fails instead of passing unseen."""
    if missing is None:
        return
    if os.environ.get("NEWSLAKE_REQUIRE_ALL"):
        pytest.fail(f"prerequisite missing under make test: {missing}")
    pytest.skip(missing)
