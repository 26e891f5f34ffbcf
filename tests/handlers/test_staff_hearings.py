"""/hearing through the real dispatcher: schedule, move, cancel, and every way to go
wrong on the way (bad and past dates, overlong or HTML court names, back, stop)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import identity, staff
from db.models import Delivery, DeliveryState, Hearing
from tests.support import Driver, Person

FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
FUTURE2 = (dt.date.today() + dt.timedelta(days=40)).isoformat()


async def editor(storage, settings, tg_id: int = 9_200_000_001) -> Person:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, "editor", "test", "en")
    return Person(id=tg_id)


async def hearings_of(storage) -> list[Hearing]:
    async with storage.sessionmaker() as s:
        return list((await s.execute(select(Hearing).order_by(col(Hearing.id)))).scalars())


async def test_schedule_with_mistakes_on_the_way(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing")
    screen = await driver.send(person, "Testov")
    assert "Hearings: Alisher Testov" in screen.text
    await driver.press(person, "➕")
    assert "not a date" in (await driver.send(person, "10 December")).text
    assert "has passed" in (await driver.send(person, "01.01.2001")).text
    # Day first with dots, as people in the region write it.
    regional = dt.date.fromisoformat(FUTURE).strftime("%d.%m.%Y")
    assert "The time" in (await driver.send(person, regional)).text
    assert "not a time" in (await driver.send(person, "25:99")).text
    await driver.send(person, "10:30")
    assert "at most 300" in (await driver.send(person, "x" * 301)).text
    await driver.send(person, "<b>Court</b> & Co")
    kinds = await driver.press(person, "« Back")  # back to the court step
    assert "Which court" in kinds.text
    await driver.send(person, "<b>Court</b> & Co")
    confirm = await driver.press(person, "Appeal")
    assert "<b>Court</b> & Co" in confirm.text  # escaped, shown literally
    await driver.press(person, "Save")
    rows = await hearings_of(storage)
    assert len(rows) == 2 and rows[-1].court == "<b>Court</b> & Co" and rows[-1].kind == "appeal"
    assert rows[-1].starts_at.astimezone(dt.timezone(dt.timedelta(hours=5))).hour == 10


@pytest.mark.parametrize("how", ["/cancel", "stop"])
async def test_stopping_halfway_changes_nothing(
    driver: Driver, storage, settings, small_cases, how
):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "➕")
    await driver.send(person, FUTURE)
    reply = (
        await driver.send(person, "/cancel")
        if how == "/cancel"
        else await driver.press(person, "Stop")
    )
    assert "Nothing was changed" in reply.text
    assert len(await hearings_of(storage)) == 1
    after = await driver.send(person, "11:00")  # no dialogue any more: a plain search
    assert "Nothing found" in after.text


async def test_move_and_cancel_tell_those_reminded(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    async with storage.sessionmaker() as s, s.begin():
        hearing = (await s.execute(select(Hearing))).scalars().one()
        follower = await identity.ensure(s, IdentityCipher(settings.key_bytes), 9_200_000_099, "en")
        s.add(
            Delivery(
                dedupe_key="r1",
                person_id=follower.id or 0,
                batch=f"hearing:{hearing.id}",
                spec="{}",
                state=DeliveryState.SENT,
            )
        )
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "Move")
    await driver.send(person, FUTURE2)
    await driver.send(person, "09:00")
    await driver.press(person, "Save")
    rows = await hearings_of(storage)
    assert rows[0].starts_at.date().isoformat() == FUTURE2
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "Cancel")
    await driver.press(person, "Save")
    assert (await hearings_of(storage))[0].status == "cancelled"
    async with storage.sessionmaker() as s:
        notices = [
            d.spec for d in (await s.execute(select(Delivery))).scalars() if d.dedupe_key != "r1"
        ]
    assert any('"hearing_moved"' in n for n in notices) and any(
        '"hearing_cancelled"' in n for n in notices
    )


async def test_supporters_cannot_reach_it(driver: Driver, small_cases):
    reply = await driver.send(Person(id=9_200_000_050), "/hearing Testov")
    assert "I do not know this command" in reply.text
    forged = await driver.callback(Person(id=9_200_000_050), "hg:new:1:0:")
    assert "no longer valid" in forged.notices[0]


async def test_a_hidden_case_can_have_a_hearing(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    screen = await driver.send(person, "/hearing test-hidden")
    assert "Hearings: Hidden Person" in screen.text


async def test_a_command_mid_dialogue_is_a_command(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "➕")
    stats = await driver.send(person, "/stats")
    assert "Statistics" in stats.text and "not a date" not in stats.text
    assert "The time" in (await driver.send(person, FUTURE)).text  # still at the date step


async def test_back_follows_the_way_the_dialogue_came(
    driver: Driver, storage, settings, small_cases
):
    """Moving a hearing skips the court and the kind: Back from the confirmation returns to
    the time, then to the date, which has no Back (the dialogue began there)."""
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "Move")
    await driver.send(person, FUTURE2)
    await driver.send(person, "09:00")
    time_again = await driver.press(person, "« Back")
    assert "court's local time" in time_again.text
    day_again = await driver.press(person, "« Back")
    assert "Pick the day of the hearing" in day_again.text
    assert "« Back" not in day_again.labels()
    await driver.send(person, FUTURE2)
    await driver.send(person, "09:30")
    await driver.press(person, "Save")
    assert (await hearings_of(storage))[0].starts_at.strftime("%M") == "30"


def _days(reply_or_buttons: list[tuple[str, str]]) -> dict[str, str]:
    """The picker's day buttons: label -> callback data."""
    return {label: data for label, data in reply_or_buttons if data.startswith("hg:day:")}


async def test_the_day_can_be_picked_from_a_month(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    screen = await driver.press(person, "➕")
    today = dt.date.today()
    assert "Pick the day" in screen.text
    # The month's name, the weekdays from Monday, and no day before today to pick.
    labels = screen.labels()
    assert today.strftime("%B %Y") in labels and labels[3:10] == [
        "Mo",
        "Tu",
        "We",
        "Th",
        "Fr",
        "Sa",
        "Su",
    ]
    days = _days(screen.buttons)
    assert str(today.day) in days and all(int(label) >= today.day for label in days)
    # A weekday's name answers quietly and changes nothing.
    quiet = await driver.press(person, "We")
    assert quiet.notices == [""] and not quiet.texts
    # Two months on, then back one: the picker pages, and never before this month.
    await driver.press(person, "›")
    ahead = await driver.press(person, "›")
    ahead = await driver.press(person, "‹")
    month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert month.strftime("%B %Y") in ahead.labels()
    assert _days(ahead.buttons)["15"] == f"hg:day:0:0:{month.replace(day=15).isoformat()}"
    asked = await driver.callback(person, _days(ahead.buttons)["15"])
    assert "The time" in asked.text
    # Back returns to the month of the day picked.
    again = await driver.press(person, "« Back")
    assert month.strftime("%B %Y") in again.labels()
    await driver.callback(person, _days(again.buttons)["15"])
    await driver.send(person, "10:30")
    await driver.send(person, "Tashkent City Court")
    await driver.press(person, "Appeal")
    await driver.press(person, "Save")
    assert (await hearings_of(storage))[-1].starts_at.date() == month.replace(day=15)


async def test_a_forged_or_past_day_is_refused(driver: Driver, storage, settings, small_cases):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "➕")
    for data in ("hg:day:0:0:2001-01-01", "hg:day:0:0:tomorrow", "hg:month:0:0:13-2026"):
        reply = await driver.callback(person, data)
        assert "no longer valid" in reply.notices[0]
    # Paging far beyond what the picker offers stops at its last month.
    far = await driver.callback(person, "hg:month:0:0:2999-01")
    assert "›" not in far.labels()
    assert len(await hearings_of(storage)) == 1


async def test_a_court_of_the_list_reads_in_each_readers_language(
    driver: Driver, storage, settings, small_cases
):
    person = await editor(storage, settings)
    await driver.send(person, "/hearing Testov")
    await driver.press(person, "➕")
    await driver.send(person, FUTURE)
    listed = await driver.send(person, "10:30")
    # The courts of the case's country (Uzbekistan), its highest first, and no other's.
    labels = listed.labels()
    assert "Which court? Pick it" in listed.text
    assert labels[0] == "Supreme Court of the Republic of Uzbekistan"
    assert "Tashkent City Court" in labels and "Bishkek City Court" not in labels
    # A court of another country, forged, is refused.
    forged = await driver.callback(person, "hg:court:0:0:kg-bishkek-city")
    assert "no longer valid" in forged.notices[0]
    await driver.press(person, "Tashkent City Court")
    confirm = await driver.press(person, "Appeal")
    assert "Tashkent City Court" in confirm.text
    await driver.press(person, "Save")
    assert (await hearings_of(storage))[-1].court == "court:uz-tashkent-city"

    # Editors who read Russian and Uzbek read the court in their own language.
    for n, (language, court) in enumerate(
        (("ru", "Ташкентский городской суд"), ("uz", "Toshkent shahar sudi"))
    ):
        reader = Person(id=9_200_000_061 + n, language_code=language)
        async with storage.sessionmaker() as s, s.begin():
            cipher = IdentityCipher(settings.key_bytes)
            await staff.grant(s, cipher, reader.id, "editor", "test", language)
        screen = await driver.send(reader, "/hearing Testov")
        line = next(x for x in screen.text.splitlines() if x.startswith("📅") and "10:30" in x)
        assert court in line and "Tashkent City Court" not in line, line
