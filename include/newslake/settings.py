"""Where things are: the lake URI and the outlets folder, from the environment.

In Airflow the lake comes from the Variable ``newslake_lake`` (set it in the UI, or as
``AIRFLOW_VAR_NEWSLAKE_LAKE``); outside Airflow from ``NEWSLAKE_LAKE``. Both default to
``lake/`` in the project folder, which is what the demo uses.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def default_lake() -> str:
    return os.environ.get("NEWSLAKE_LAKE") or str(PROJECT_ROOT / "lake")
