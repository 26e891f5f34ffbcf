"""The one-screen safety explanation in /settings and its one-tap "every protection"."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Person as PersonRow
from tests.support import Driver, Person


async def person_row(storage) -> PersonRow:
    async with storage.sessionmaker() as s:
        row: PersonRow = (await s.execute(select(PersonRow))).scalars().one()
        return row


async def test_why_and_every_protection_in_one_tap(driver: Driver, storage):
    person = Person(id=9_800_000_001)
    await driver.send(person, "/settings")
    safety = await driver.press(person, "Safety")
    assert "Panic word: none" in safety.text and "Turn on every protection" in " ".join(
        safety.labels()
    )
    # A shorter auto-delete time chosen before is kept.
    # A state, not an order: "Keep alerts" there read as a command.
    chooser = await driver.press(person, "🗑 Auto-delete: off")
    assert "Keep alerts" in " ".join(chooser.labels())
    await driver.callback(person, "st:autodelete:6")
    row = await person_row(storage)
    assert row.autodelete_hours == 6 and not row.discreet and row.protect_content

    why = await driver.press(person, "Why these settings")
    for part in ("phones are searched", "Discreet mode", "Protected messages", "/panic"):
        assert part in why.text
    assert "Every protection is on" not in why.text
    done = await driver.press(person, "Turn on every protection")
    assert "Every protection is on" in done.text and "Saved." in done.notices
    assert not any("Turn on" in label for label in done.labels())
    row = await person_row(storage)
    assert (row.discreet, row.protect_content, row.autodelete_hours) == (True, True, 6)

    back = await driver.press(person, "« Safety")
    assert "Discreet mode: on" in back.text
    assert not any("Turn on" in label for label in back.labels())
    main = await driver.press(person, "« Settings")
    assert "Your settings" in main.text and "Auto-delete: after 6 hours" in main.text


async def test_every_protection_sets_a_day_when_alerts_were_kept(driver: Driver, storage):
    person = Person(id=9_800_000_002, language_code="ru")
    await driver.send(person, "/settings")
    await driver.callback(person, "st:menu:why")
    await driver.callback(person, "st:safest:")
    row = await person_row(storage)
    assert (row.discreet, row.protect_content, row.autodelete_hours) == (True, True, 24)
