"""The tests' frozen clock: every test is a function of the commit, not of the day it runs.

``NOW`` is the demo newsroom's "now" and the CLI's (``NEWSLAKE_NOW``, set by conftest);
``TODAY`` its UTC date. Days the tests ingest are counted back from it. The pipeline's own
timestamps (``fetched_at``, run times) stay real; a pinned day only has to lie in the past.
"""

from __future__ import annotations

import datetime as dt

NOW = dt.datetime(2026, 6, 20, 6, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)
