"""What time it is: the real UTC clock, or the one ``NEWSLAKE_NOW`` sets.

``NEWSLAKE_NOW`` (an ISO 8601 time; a date means its midnight UTC) freezes "now" for the
demo newsroom and for the CLI's "last N finished days", so a demo or a test run gives the
same lake on any day. The pipeline's own timestamps (``fetched_at``, run times) stay real.
"""

from __future__ import annotations

import datetime as dt
import os

from newslake.errors import ConfigError

NOW_VARIABLE = "NEWSLAKE_NOW"


def utc_now() -> dt.datetime:
    """The frozen time from ``NEWSLAKE_NOW`` if set, else the real UTC time."""
    frozen = os.environ.get(NOW_VARIABLE, "").strip()
    if not frozen:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(frozen)
    except ValueError as exc:
        raise ConfigError(f"{NOW_VARIABLE}={frozen!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def utc_today() -> dt.date:
    return utc_now().date()
