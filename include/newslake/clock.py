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


def days_between(first: dt.date, last: dt.date, *, max_days: int | None = None) -> list[dt.date]:
    """Every day of ``[first, last]``, both included; ValueError when ``last`` is before
    ``first`` or (``max_days``) the range holds more days than that."""
    if last < first:
        raise ValueError(f"day range {first} … {last}: the last day is before the first")
    count = (last - first).days + 1
    if max_days is not None and count > max_days:
        raise ValueError(f"day range {first} … {last}: {count} days > {max_days}")
    return [first + dt.timedelta(days=n) for n in range(count)]
