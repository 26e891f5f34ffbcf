"""The panic command against the emulator over real HTTP: afterwards no bot message the
bot could still delete is left in the chat, alerts from the outbox included."""

from __future__ import annotations

import datetime as dt

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.scheduler import Planner
from bot.services import updates
from db.repositories import cases as cases_repo
from db.types import utcnow
from tests.e2e.conftest import Live
from tests.e2e.talk import eventually


async def test_panic_leaves_no_deletable_bot_message(live: Live, storage):
    emu = live.emulator
    user = emu.add_user("ru")
    await emu.send_text(user, "/start")
    await emu.next_message(user)
    await emu.send_text(user, "/follow erzhan-elshibayev")
    await emu.next_message(user)
    await emu.send_text(user, "/mycases")
    await emu.next_message(user)
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "erzhan-elshibayev")
        assert case is not None
        await updates.publish(
            session,
            case,
            "news",
            {"ru": "Свидание разрешили"},
            actor="t",
        )
    await eventually(  # delivered by the running worker
        lambda: any("Свидание" in m.text for m in emu.messages(user) if m.from_bot)
    )
    bot_messages = [m for m in emu.messages(user) if m.from_bot]
    assert len(bot_messages) >= 4

    emu.skip_pending(user)
    await emu.send_text(user, "/panic")
    notice = await emu.next_message(user)
    assert "/forget" in notice.text
    bot = build_bot(live.settings, remember=False)
    planner = Planner(
        live.settings, storage.sessionmaker, bot, IdentityCipher(live.settings.key_bytes)
    )
    try:
        # The /panic itself and every earlier message are gone; an alert whose sending was
        # recorded only after the panic goes with the scheduler's next deletions run.
        async def only_the_notice() -> bool:
            if emu.messages(user) == [notice]:
                return True
            await planner.deletions()
            return False

        await eventually(only_the_notice, what="a deletable bot message was left")

        # The note deletes itself too (once the handler has committed its end); then
        # nothing at all is left.
        async def notice_gone() -> bool:
            return bool(await planner.deletions(utcnow() + dt.timedelta(minutes=3)))

        await eventually(notice_gone, what="the note did not delete itself")
    finally:
        await bot.session.close()
    assert emu.messages(user) == []
