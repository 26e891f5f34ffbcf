"""Birthday and release prompts: who is asked (followers, and for birthdays also those
who opted in for every prisoner), when (10:00 where each reader lives, once), and that a
prompt overtaken by events renders nothing."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from sqlalchemy import update
from sqlmodel import col

from bot.delivery.specs import read_spec
from bot.i18n import make_i18n
from bot.presentation.prompt_views import PromptRenderer
from bot.services import prompts
from db.models import Case, Delivery
from db.models import Person as PersonRow
from tests.handlers.test_reports import rows
from tests.support import Driver, Person, reader_for

NOW = dt.datetime(2027, 3, 1, 6, 0, tzinfo=dt.UTC)


def test_a_leap_day_birthday_and_ten_oclock_in_the_readers_zone():
    assert prompts.birthday_in(2027, dt.date(1980, 2, 29)) == dt.date(2027, 2, 28)
    assert prompts.birthday_in(2028, dt.date(1980, 2, 29)) == dt.date(2028, 2, 29)
    assert prompts.local_moment(dt.date(2027, 3, 1), "Asia/Tashkent") == dt.datetime(
        2027, 3, 1, 5, 0, tzinfo=dt.UTC
    )
    # A zone the database no longer knows falls back to UTC rather than failing.
    assert prompts.local_moment(dt.date(2027, 3, 1), "Nowhere/Else").hour == 10


async def prompt_rows(storage) -> list[Delivery]:
    return [
        d
        for d in await rows(storage, Delivery, col(Delivery.id))
        if json.loads(d.spec)["t"] in {"birthday", "release_soon"}
    ]


async def test_who_is_prompted_and_when(driver: Driver, storage, small_cases):
    follower, everyone, other = (Person(id=9_910_000_001 + i) for i in range(3))
    await driver.send(follower, "/follow Testov")
    await driver.send(everyone, "/settings")
    await driver.press(everyone, "Alerts")
    toggled = await driver.press(everyone, "All birthdays: off")
    assert "All birthdays: on" in " ".join(toggled.labels())
    await driver.send(other, "/start")
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(PersonRow).values(timezone="Asia/Tashkent"))
        await s.execute(
            update(Case)
            .where(col(Case.slug) == "test-detained")
            .values(born_on=dt.date(1990, 3, 8), release_expected_on=dt.date(2027, 3, 8))
        )
        assert await prompts.plan(s, NOW) == 3
        assert await prompts.plan(s, NOW + dt.timedelta(hours=1)) == 0
    made = await prompt_rows(storage)
    kinds = sorted(json.loads(d.spec)["t"] for d in made)
    assert kinds == ["birthday", "birthday", "release_soon"]
    # 10:00 in Tashkent on 1 March, a week before both dates.
    assert {d.next_attempt_at for d in made} == {dt.datetime(2027, 3, 1, 5, tzinfo=dt.UTC)}

    renderer = PromptRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    [release] = [d for d in made if "release_soon" in d.spec]
    reader = await reader_for(storage, release)
    shown = await renderer(read_spec(release.spec), reader)
    assert shown is not None and "welcome-home note" in shown.text
    assert "March 8, 2027" in shown.text and "Alisher Testov" in shown.text
    # A discreet reader sees no name; nor "a case you follow", which not all of them do.
    [birthday, *_] = [d for d in made if '"birthday"' in d.spec]
    quiet = await renderer(read_spec(birthday.spec), replace(reader, discreet=True))
    assert quiet is not None and "birthday is coming up" in quiet.text
    assert "Testov" not in quiet.text and "follow" not in quiet.text
    # Released early: the prompt is overtaken and says nothing.
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(Case).where(col(Case.slug) == "test-detained").values(status="released")
        )
    fresh = PromptRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    assert await fresh(read_spec(release.spec), reader) is None
