"""A supporter's journey as a person would walk it, over real HTTP."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from db.models import AddressWait, Follow, LetterAction, Person
from tests.e2e.conftest import Live


async def test_supporter_journey(live: Live, storage):
    emu = live.emulator
    user = emu.add_user("en")
    await emu.send_text(user, "/start")
    welcome = await emu.next_message(user)
    assert "Welcome to Umid" in welcome.text

    await emu.send_text(user, "/language")
    await emu.next_message(user)
    await emu.press(user, "Русский")
    changed = await emu.next_message(user)
    assert "Umid" in changed.text and "Welcome" not in changed.text
    menu = emu.commands_for(user.language_code, user.id)
    assert menu and all(c["description"] for c in menu)

    await emu.press(user, "📂")
    page = await emu.next_message(user)
    assert page.buttons()
    await emu.press(user, "›")
    await emu.next_message(user)
    await emu.press(user, "🇺🇿")
    card = await emu.next_message(user)
    assert "🇺🇿" in card.text

    await emu.press(user, "⭐")
    followed = await emu.next_message(user)
    assert "🔕" in " ".join(b["text"] for b in followed.buttons())

    await emu.press(user, "✉️")
    await emu.next_message(user)
    await emu.press(user, "💌")
    letter = await emu.next_message(user)
    assert "«" in " ".join(b["text"] for b in letter.buttons())
    # The real cases have no safe address: the supporter asks to be told when a card can go.
    await emu.press(user, "🔔")
    asked = await emu.next_message(user)
    assert asked.message_id == letter.message_id  # the same message, its button changed
    assert "🔕" in " ".join(b["text"] for b in asked.buttons())

    await emu.send_text(user, "/forget")
    await emu.next_message(user)
    await emu.press(user, "🗑")
    await emu.next_message(user)
    async with storage.sessionmaker() as session:
        for model in (Person, Follow, LetterAction, AddressWait):
            count = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            assert count == 0


async def test_search_with_html_in_it_is_escaped(live: Live):
    emu = live.emulator
    user = emu.add_user("en")
    await emu.send_text(user, "<b>Tadzhimuratov</b> & <i>")
    reply = await emu.next_message(user)
    assert "Nothing found" in reply.text or "Tadzhimuratov" in reply.text


async def test_bot_rides_out_server_errors_and_dropped_connections(live: Live):
    emu = live.emulator
    user = emu.add_user("en")
    emu.faults.methods = {"sendmessage"}
    emu.faults.server_errors = 1
    emu.faults.drops = 1
    await emu.send_text(user, "/help")
    reply = await emu.next_message(user, timeout=15)
    assert "/cases" in reply.text


async def test_bot_waits_out_a_flood_limit(live: Live):
    emu = live.emulator
    user = emu.add_user("en")
    emu.faults.methods = {"sendmessage"}
    emu.faults.too_many = 1
    emu.faults.retry_after = 1
    await emu.send_text(user, "/help")
    reply = await emu.next_message(user, timeout=15)
    assert "/cases" in reply.text


async def test_a_blocked_user_does_not_stop_the_bot(live: Live):
    emu = live.emulator
    blocked, other = emu.add_user("en"), emu.add_user("en")
    await emu.send_text(blocked, "/start")
    await emu.next_message(blocked)
    emu.block(blocked)
    await emu.send_text(blocked, "/help")
    await emu.send_text(other, "/help")
    reply = await emu.next_message(other)
    assert "/cases" in reply.text
    for _ in range(100):  # the two updates are handled concurrently
        if emu.problems:
            break
        await asyncio.sleep(0.02)
    assert emu.problems == ["sendMessage: Forbidden: bot was blocked by the user"]
    emu.problems.clear()
