"""Nothing personal in the logs at any level: not at DEBUG either, where the database
libraries would write every statement and its values."""

from __future__ import annotations

import logging

import pytest

from bot import logs
from tests.support import Driver, Person


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture):
    """LOG_LEVEL=DEBUG as the bot sets it up; the libraries' own levels restored after."""
    names = (*logs.SILENT, *logs.CHATTY)
    saved = {name: logging.getLogger(name).level for name in names}
    caplog.set_level(logging.DEBUG)
    logs.quiet_libraries()
    yield caplog
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


async def test_debug_logs_hold_no_sql_and_no_values(driver: Driver, small_cases, debug_logs):
    person = Person(id=7_455_123_987)
    await driver.send(person, "/start")
    await driver.send(person, "/follow test-detained")
    await driver.send(person, "/report Their lawyer was not let in")
    text = debug_logs.text
    assert debug_logs.records  # DEBUG logging is on and something was logged
    for tell in ("SELECT", "INSERT", "UPDATE ", "follows", str(person.id), "lawyer"):
        assert tell not in text, tell
    loud = {r.name for r in debug_logs.records if r.name.startswith(logs.SILENT)}
    assert loud == set()


async def test_logs_hold_no_ids_or_text(driver: Driver, small_cases, caplog):
    caplog.set_level(logging.DEBUG)
    person = Person(id=8_123_456_789)
    for text in ("/start", "/follow Testov", "my secret words", "/forget"):
        await driver.send(person, text)
    await driver.press(person, "🗑")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "8123456789" not in logged
    assert "secret words" not in logged
