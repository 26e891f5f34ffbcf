"""/stats: counts for every staff role, nothing for anyone else, and never a person."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import BufferedInputFile
from PIL import Image
from sqlalchemy import select
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import identity, staff, stats_chart
from db.models import Case, Delivery, DeliveryState, Follow, LetterCount, LetterKind
from db.repositories import stats as repo
from tests.support import Driver, Person, Reply


@pytest.mark.parametrize("role", [None, "broadcaster", "editor", "admin"])
async def test_stats(driver: Driver, storage, settings, small_cases, role):
    for i in range(3):
        await driver.send(Person(id=9_300_000_100 + i, language_code="kk"), "/follow Testov")
    viewer = Person(id=9_300_000_001)
    if role:
        async with storage.sessionmaker() as s, s.begin():
            await staff.grant(s, IdentityCipher(settings.key_bytes), viewer.id, role, "test", "en")
    reply = await driver.send(viewer, "/stats")
    if role is None:
        assert "I do not know this command" in reply.text
        return
    assert "Supporters: 4" in reply.text  # three followers and the viewer
    assert "Қазақша: 3" in reply.text
    assert "Alisher Testov: 3 · 0" in reply.text
    assert "9300000" not in reply.text


async def test_alerts_and_broadcasts_are_counted_apart(driver: Driver, storage, settings):
    admin = Person(id=9_300_000_201)
    async with storage.sessionmaker() as s, s.begin():
        cipher = IdentityCipher(settings.key_bytes)
        person = await staff.grant(s, cipher, admin.id, "admin", "test", "en")
        for i, (batch, state) in enumerate(
            [
                ("case:1:status", "sent"),
                ("case:1:status", "failed"),
                ("broadcast:7", "sent"),
                ("broadcast:7", "sent"),
                ("broadcast:7:approval", "sent"),  # a note to staff, neither of the two
            ]
        ):
            s.add(
                Delivery(
                    dedupe_key=f"k{i}",
                    person_id=person.id or 0,
                    batch=batch,
                    spec="{}",
                    state=DeliveryState(state),
                )
            )
    reply = await driver.send(admin, "/stats")
    assert "Alerts in the last 30 days: 1 delivered, 1 not delivered." in reply.text
    assert "Broadcasts in the last 30 days: 2 delivered, 0 not delivered." in reply.text


def _photos(reply: Reply) -> list[bytes]:
    out = []
    for call in reply.calls:
        if isinstance(call, SendPhoto):
            assert isinstance(call.photo, BufferedInputFile)
            out.append(call.photo.data)
    return out


def _assert_chart(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size == (stats_chart.WIDTH, stats_chart.HEIGHT) == (1200, 900)


async def test_stats_sends_a_chart(driver: Driver, storage, settings, small_cases):
    for i in range(2):
        await driver.send(Person(id=9_300_000_300 + i, language_code="ru"), "/follow Testov")
    editor = Person(id=9_300_000_320)
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), editor.id, "editor", "test", "kk")
    reply = await driver.send(editor, "/stats")
    assert "Статистика" in reply.text  # the text comes first, in Kazakh, then the picture
    assert isinstance(reply.calls[0], SendMessage)
    [chart] = _photos(reply)
    _assert_chart(chart)
    assert b"9300000" not in chart

    await driver.send(editor, "/admin")
    pressed = await driver.press(editor, "📊")
    [again] = _photos(pressed)
    _assert_chart(again)


async def test_letters_and_follows_are_counted_per_week(storage, settings, small_cases):
    today = dt.date(2026, 11, 27)  # a Friday
    since = dt.date(2026, 9, 7)  # the Monday eleven weeks before this week's
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        ids = (await s.execute(select(col(Case.id)).order_by(col(Case.id)))).scalars().all()
        first, second = ids[:2]
        p1 = (await identity.ensure(s, cipher, 9_300_000_401, "en")).id or 0
        p2 = (await identity.ensure(s, cipher, 9_300_000_402, "ru")).id or 0
        s.add_all(
            [
                LetterCount(
                    case_id=first, kind=LetterKind.CARD, day=dt.date(2026, 9, 6), count=100
                ),
                LetterCount(case_id=first, kind=LetterKind.CARD, day=dt.date(2026, 9, 7), count=2),
                LetterCount(
                    case_id=first, kind=LetterKind.APPEAL, day=dt.date(2026, 9, 13), count=3
                ),
                LetterCount(case_id=second, kind=LetterKind.CARD, day=dt.date(2026, 9, 9), count=4),
                LetterCount(
                    case_id=first, kind=LetterKind.CARD, day=dt.date(2026, 11, 24), count=5
                ),
                Follow(person_id=p1, case_id=first, created_on=dt.date(2026, 9, 6)),
                Follow(person_id=p1, case_id=second, created_on=dt.date(2026, 9, 8)),
                Follow(person_id=p2, case_id=first, created_on=dt.date(2026, 9, 12)),
                Follow(person_id=p2, case_id=second, created_on=today),
            ]
        )
    async with storage.sessionmaker() as s:
        letters = await repo.letters_per_week(s, since)
        follows = await repo.follows_per_week(s, since)
    # The Sunday before `since` (100 letters, one follow) is left out.
    assert letters == {dt.date(2026, 9, 7): 9, dt.date(2026, 11, 23): 5}
    assert follows == {dt.date(2026, 9, 7): 2, dt.date(2026, 11, 23): 1}

    series = stats_chart.week_series(letters, follows, today)
    assert len(series) == 12
    assert series[0].week == since and series[-1].week == dt.date(2026, 11, 23)
    assert [p.letters for p in series] == [9] + [0] * 10 + [5]
    assert [p.follows for p in series] == [2] + [0] * 10 + [1]


async def test_no_letters_and_no_follows_count_nothing(session):
    since = dt.date(2026, 9, 7)
    assert await repo.letters_per_week(session, since) == {}
    assert await repo.follows_per_week(session, since) == {}
