"""The shipped letter templates reach a database that already has older ones: a corrected
wording replaces the stored one, a variant the file dropped goes, and a second start
changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from bot.services import templates
from db.models import LetterKind, LetterTemplate


async def stored(session) -> dict[tuple[str, int, str], str]:
    rows = (await session.execute(select(LetterTemplate))).scalars()
    return {(str(t.kind), t.variant, t.locale): t.body for t in rows}


async def test_a_corrected_template_replaces_the_stored_one(session):
    await templates.sync(session)
    await session.commit()
    shipped = await stored(session)
    key = (LetterKind.APPEAL.value, 1, "ru")
    row = await session.get(LetterTemplate, (LetterKind.APPEAL, 1, "ru"))
    assert row is not None
    row.body = "{salutation}\n\nСтарая формулировка: чтобы этот человек был освобождён."
    session.add(LetterTemplate(kind=LetterKind.CARD, variant=99, locale="ru", body="{name}"))
    await session.commit()

    assert await templates.sync(session) == 2
    await session.commit()
    assert await stored(session) == shipped
    assert "этот человек" not in shipped[key]
    assert await templates.sync(session) == 0
