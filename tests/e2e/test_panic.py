"""The panic command against the emulator over real HTTP: afterwards no bot message the
bot could still delete is left in the chat, alerts from the outbox included."""

from __future__ import annotations

import asyncio
import datetime as dt

from bot.client import build_bot
from bot.crypto import IdentityCipher
from bot.scheduler import Planner
from bot.services import updates
from db.repositories import cases as cases_repo
from db.types import utcnow
from tests.e2e.conftest import Live


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
    for _ in range(200):  # delivered by the running worker
        if any("Свидание" in m.text for m in emu.messages(user) if m.from_bot):
            break
        await asyncio.sleep(0.05)
    assert any("Свидание" in m.text for m in emu.messages(user) if m.from_bot)
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
        for _ in range(100):
            if emu.messages(user) == [notice]:
                break
            await planner.deletions()
            await asyncio.sleep(0.05)
        assert emu.messages(user) == [notice]
        # The note deletes itself too (once the handler has committed its end); then
        # nothing at all is left.
        for _ in range(100):
            if await planner.deletions(utcnow() + dt.timedelta(minutes=3)):
                break
            await asyncio.sleep(0.05)
    finally:
        await bot.session.close()
    assert emu.messages(user) == []
