"""Dates and times as staff in the region write them: 12.03.2025 as well as 2025-03-12.

Day first with dots is how Russian, Kazakh, Kyrgyz, Tajik, Turkmen and Uzbek write a
date; ISO stays accepted for those used to it. Slashes are not: 03/12/2025 is the 3rd of
December in one habit and the 12th of March in another, and a hearing on the wrong day
is worse than a question asked again.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_day(text: str) -> dt.date | None:
    """The date in `text` (12.03.2025, 2025-03-12), or None if it is not one."""
    text = text.strip().rstrip(".")
    if (iso := _ISO.match(text)) is not None:
        year, month, day = (int(part) for part in iso.groups())
    elif (dotted := _DOTTED.match(text)) is not None:
        day, month, year = (int(part) for part in dotted.groups())
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_time(text: str) -> dt.time | None:
    """The time of day in `text` (18:00, 9:30, 18.00), or None."""
    found = _TIME.match(text.strip())
    if found is None:
        return None
    hour, minute = (int(part) for part in found.groups())
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_moment(text: str) -> dt.datetime | None:
    """A date and a time of day ("12.03.2025 18:00"), naive: in whatever zone the
    question named. None if it is not both."""
    parts = text.split()
    if len(parts) != 2:
        return None
    day, at = parse_day(parts[0]), parse_time(parts[1])
    if day is None or at is None:
        return None
    return dt.datetime.combine(day, at)
