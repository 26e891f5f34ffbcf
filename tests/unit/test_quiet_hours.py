"""Quiet hours on the reader's wall clock: across midnight, and on the nights the clocks
change."""

from __future__ import annotations

import datetime as dt

from bot.delivery.quiet import quiet_until

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_span_across_midnight():
    # Almaty is UTC+5 all year.
    assert quiet_until(22, 7, "Asia/Almaty", at("2026-12-06T18:30")) == at("2026-12-07T02:00")
    assert quiet_until(22, 7, "Asia/Almaty", at("2026-12-06T01:59")) == at("2026-12-06T02:00")
    assert quiet_until(22, 7, "Asia/Almaty", at("2026-12-06T02:00")) is None
    assert quiet_until(22, 7, "Asia/Almaty", at("2026-12-06T16:59")) is None


def test_a_span_within_a_day_and_no_span():
    assert quiet_until(13, 15, "Asia/Tashkent", at("2026-12-06T08:10")) == at("2026-12-06T10:00")
    assert quiet_until(13, 15, "Asia/Tashkent", at("2026-12-06T10:00")) is None
    assert quiet_until(None, 7, "Asia/Tashkent", at("2026-12-06T01:00")) is None
    assert quiet_until(5, 5, "Asia/Tashkent", at("2026-12-06T00:00")) is None


def test_the_night_clocks_go_forward():
    # Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST. Quiet until 07:00 CEST.
    assert quiet_until(22, 7, "Europe/Berlin", at("2026-03-28T23:30")) == at("2026-03-29T05:00")
    # Quiet until 2 o'clock, which does not exist that night: the moment after the gap.
    assert quiet_until(22, 2, "Europe/Berlin", at("2026-03-28T23:30")) == at("2026-03-29T01:00")


def test_the_night_clocks_go_back():
    # Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET. Quiet until 07:00 CET.
    assert quiet_until(22, 7, "Europe/Berlin", at("2026-10-24T22:30")) == at("2026-10-25T06:00")
    # Until 2 o'clock, which comes twice: the first time.
    assert quiet_until(22, 2, "Europe/Berlin", at("2026-10-24T22:30")) == at("2026-10-25T00:00")
    # In the first of the two 02:xx hours, quiet until 3 lasts through both.
    assert quiet_until(22, 3, "Europe/Berlin", at("2026-10-25T00:30")) == at("2026-10-25T02:00")
    assert quiet_until(22, 3, "Europe/Berlin", at("2026-10-25T01:30")) == at("2026-10-25T02:00")
