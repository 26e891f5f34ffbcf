"""Dates as staff in the region write them: day first with dots, or ISO; nothing that
could mean two different days."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.services.dates import parse_day, parse_moment, parse_time


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("12.03.2025", dt.date(2025, 3, 12)),
        ("2.3.2025", dt.date(2025, 3, 2)),
        (" 12.03.2025. ", dt.date(2025, 3, 12)),
        ("2025-03-12", dt.date(2025, 3, 12)),
        ("12/03/2025", None),
        ("03.12.25", None),
        ("31.02.2025", None),
        ("2025-13-01", None),
        ("1741737600", None),
        ("next friday", None),
    ],
)
def test_days(typed: str, day: dt.date | None) -> None:
    assert parse_day(typed) == day


def test_times_and_moments() -> None:
    assert parse_time("9:30") == dt.time(9, 30)
    assert parse_time("18.00") == dt.time(18, 0)
    assert parse_time("24:00") is None
    assert parse_moment("12.03.2025 18:00") == dt.datetime(2025, 3, 12, 18, 0)
    assert parse_moment("2025-03-12 9:05") == dt.datetime(2025, 3, 12, 9, 5)
    assert parse_moment("12.03.2025") is None
    assert parse_moment("12.03.2025 18:00 UTC") is None
