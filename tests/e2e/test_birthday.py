"""A birthday prompt against the emulator: a week before the birthday it reaches each
follower at 10:00 in their own time zone, not before, and not to anyone else."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import col

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.scheduler import Planner
from db.models import Case, Delivery, Person
from db.types import utcnow
from tests.e2e.conftest import Live
from tests.e2e.talk import eventually, from_bot, say

# Zones at most four hours apart, east to west, so that at any moment it is between
# 10:00 and 14:00 in one of them.
ZONES = [
    "Pacific/Kiritimati",  # +14
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Europe/Moscow",
    "Europe/London",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Denver",
    "Pacific/Honolulu",  # -10, the same clock as Kiritimati a day later
    "Etc/GMT+12",  # -12: the last place on Earth where a date begins
]


def just_past_ten(now: dt.datetime) -> tuple[str, dt.date]:
    """The easternmost zone where it is now between 10:00 and 14:00, and its date there."""
    for zone in ZONES:
        local = now.astimezone(ZoneInfo(zone))
        if 10 <= local.hour < 14:
            return zone, local.date()
    raise AssertionError("the zones leave a gap")


def ten_on(day: dt.date, zone: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


async def test_a_birthday_prompt_at_ten_in_each_readers_zone(live: Live, storage):
    emu = live.emulator
    now = utcnow()
    east, prompt_day = just_past_ten(now)
    # Where 10:00 on that date comes last: at least eight hours from now.
    west = max(ZONES, key=lambda zone: ten_on(prompt_day, zone))
    assert ten_on(prompt_day, west) > now
    birthday = prompt_day + dt.timedelta(days=7)

    early, late, stranger = emu.add_user("en"), emu.add_user("ru"), emu.add_user("en")
    for user in (early, late):
        await say(emu, user, "/follow erzhan-elshibayev")
    await say(emu, stranger, "/follow valijon-kalonov")
    async with storage.sessionmaker() as session, session.begin():
        people = list((await session.execute(select(Person).order_by(col(Person.id)))).scalars())
        assert len(people) == 3
        for person, zone in zip(people, (east, west, east), strict=True):
            await session.execute(
                update(Person).where(col(Person.id) == person.id).values(timezone=zone)
            )
        await session.execute(
            update(Case)
            .where(col(Case.slug) == "erzhan-elshibayev")
            .values(born_on=birthday.replace(year=1985))
        )

    bot = build_bot(live.settings, remember=False)
    planner = Planner(
        live.settings, storage.sessionmaker, bot, IdentityCipher(live.settings.key_bytes)
    )
    try:
        assert await planner.prompts() == 2
        assert await planner.prompts() == 0  # the next hour's run changes nothing
    finally:
        await bot.session.close()

    def cake(user) -> list[str]:
        return [m.text for m in from_bot(emu, user) if "🎂" in m.text]

    await eventually(lambda: bool(cake(early)))
    [prompt] = cake(early)
    assert "Erzhan Elshibayev" in prompt and "a week from now" in prompt
    assert f"{birthday.day} " in prompt  # "12 March": the day, in the reader's language
    assert cake(late) == [] and cake(stranger) == []

    async with storage.sessionmaker() as session:
        rows = list((await session.execute(select(Delivery))).scalars())
    moments = {
        p.timezone: d.next_attempt_at
        for d in rows
        if json.loads(d.spec)["t"] == "birthday"
        for p in people
        if p.id == d.person_id
    }
    # The one in the west waits, in the outbox, for 10:00 where they are.
    assert moments[west] == ten_on(prompt_day, west)
    [waiting] = [d for d in rows if d.next_attempt_at == ten_on(prompt_day, west)]
    assert waiting.state == "pending"
