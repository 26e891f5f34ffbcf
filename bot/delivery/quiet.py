"""Quiet hours: when an alert that arrives during a person's quiet hours may go."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def quiet_until(
    start: int | None, end: int | None, timezone: str, now: dt.datetime
) -> dt.datetime | None:
    """The end of the quiet hours `now` falls in (UTC), or None when it is not quiet.

    Hours are the person's local wall clock; a span such as 22 to 7 runs across midnight.
    On a night the clocks change, the end is the first moment the wall clock shows it
    (a 2 o'clock that is skipped becomes the 3 o'clock that follows)."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    hour = local.hour
    quiet = start <= hour < end if start < end else hour >= start or hour < end
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + dt.timedelta(days=1)
    # fold=0: the first of a doubled hour; a skipped hour maps to the moment after the gap.
    return dt.datetime.combine(day, dt.time(end), tzinfo=local.tzinfo).astimezone(dt.UTC)
