"""The emulator refuses what Telegram refuses, with Telegram's words: over real HTTP, and
in-process through EmulatorSession (what the handler tests use), alike."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.emulator import Emulator
from bot.emulator.page import PERSONAS
from bot.emulator.server import RunningEmulator, serve
from bot.emulator.session import EmulatorSession


@pytest.fixture
async def served() -> AsyncIterator[tuple[Emulator, RunningEmulator, Bot]]:
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=False)
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield emulator, server, bot
    await bot.session.close()
    await server.stop()


@pytest.fixture(params=["http", "in-process"])
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Emulator, Bot]]:
    """A bot and its emulator, over HTTP or through the in-process session: every test
    that takes this fixture holds for both, so the two transports cannot drift apart."""
    emulator = Emulator()
    server = None
    if request.param == "http":
        server = await serve(emulator, 0, with_page=False)
        api = TelegramAPIServer.from_base(server.url)
        bot = Bot(emulator.token, session=AiohttpSession(api=api))
    else:
        bot = Bot(emulator.token, session=EmulatorSession(emulator))
    yield emulator, bot
    await bot.session.close()
    if server is not None:
        await server.stop()


async def started(emulator: Emulator, language: str = "en"):
    user = emulator.add_user(language)
    await emulator.send_text(user, "/start")
    return user


async def test_text_limits_and_html(telegram):
    emulator, bot = telegram
    user = await started(emulator)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.id, "   ")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(user.id, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(user.id, "<script>x</script>", parse_mode="HTML")
    ok = await bot.send_message(user.id, "<b>4096</b> " + "x" * 4091, parse_mode="HTML")
    assert ok.message_id


async def test_callback_data_limit(telegram):
    emulator, bot = telegram
    user = await started(emulator)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="b", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "hi", reply_markup=markup)


async def test_unknown_and_blocked_chats(telegram):
    emulator, bot = telegram
    never = emulator.add_user("en")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(never.id, "hi")
    user = await started(emulator)
    emulator.block(user)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user.id, "hi")


async def test_edit_delete_and_answer_rules(telegram):
    emulator, bot = telegram
    user = await started(emulator)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="go", callback_data="go")]]
    )
    sent = await bot.send_message(user.id, "hello", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "hello", chat_id=user.id, message_id=sent.message_id, reply_markup=markup
        )
    query = await emulator.press(user, "go")
    assert await bot.answer_callback_query(query, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query)
    assert await bot.delete_message(user.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=user.id, message_id=sent.message_id)
    old = await bot.send_message(user.id, "old")
    emulator.advance(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="can't be deleted"):
        await bot.delete_message(user.id, old.message_id)


async def test_flood_limit_and_paid_broadcast(telegram):
    emulator, bot = telegram
    users = [await started(emulator) for _ in range(40)]
    with pytest.raises(TelegramRetryAfter) as err:
        for user in users:
            await bot.send_message(user.id, "news")
    assert err.value.retry_after >= 1
    await asyncio.sleep(1.05)
    for user in users:
        await bot.send_message(user.id, "paid news", allow_paid_broadcast=True)


async def test_strict_mode_has_no_slack_and_counts_edits(telegram):
    emulator, bot = telegram
    emulator.strict, emulator.flood_limit = True, 10
    user = await started(emulator)
    first = await bot.send_message(user.id, "one")
    for i in range(8):
        await bot.send_message(user.id, f"more {i}")
    await bot.edit_message_text("one, edited", chat_id=user.id, message_id=first.message_id)
    # The 11th in a second, message or edit, is refused: 10 is the limit, not "about 10".
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(user.id, "over")
    with pytest.raises(TelegramRetryAfter):
        await bot.edit_message_text("again", chat_id=user.id, message_id=first.message_id)
    assert emulator.flood_refusals == 2
    assert emulator.problems == []  # a flood refusal is Telegram's answer, not a bot error


async def test_faults_and_tokens_reach_the_bot_as_aiogram_errors(telegram):
    emulator, bot = telegram
    user = await started(emulator)
    emulator.faults.server_errors = 1
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(user.id, "hi")
    emulator.faults.drops = 1
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(user.id, "hi")
    stranger = Bot("1:WRONG", session=bot.session)
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()


async def test_message_ids_are_the_chats_own(telegram):
    """In a private chat the person's messages and the bot's take turns at one counter."""
    emulator, bot = telegram
    user = await started(emulator)  # /start is message 1
    assert (await bot.send_message(user.id, "welcome")).message_id == 2
    await emulator.send_message(user, {"location": {"latitude": 41.3, "longitude": 69.2}})
    assert (await bot.send_message(user.id, "noted")).message_id == 4
    other = await started(emulator)
    assert (await bot.send_message(other.id, "welcome")).message_id == 2


async def test_unknown_method_and_parameter_are_reported(served):
    emulator, server, _ = served
    user = await started(emulator)
    async with aiohttp.ClientSession() as http:
        base = f"{server.url}/bot{emulator.token}"
        async with http.post(f"{base}/sendTelepathy", json={}) as r:
            assert (
                r.status == 404 and (await r.json())["description"] == "Not Found: method not found"
            )
        async with http.post(
            f"{base}/sendMessage", json={"chat_id": user.id, "text": "hi", "colour": "red"}
        ) as r:
            assert (await r.json())["ok"] is True
        async with http.post(
            f"{base}/sendMessage", data={"chat_id": str(user.id), "text": "form"}
        ) as r:
            assert (await r.json())["result"]["text"] == "form"
        async with http.post(f"{server.url}/bot1:wrong/getMe") as r:
            assert r.status == 401
    assert "sendTelepathy: unknown method" in emulator.problems
    assert "sendMessage: unknown parameter 'colour'" in emulator.problems


async def test_multipart_upload_with_caption(telegram):
    emulator, bot = telegram
    user = await started(emulator)
    photo = BufferedInputFile(b"\x89PNG fake", filename="a.png")
    sent = await bot.send_photo(user.id, photo, caption="<b>caption</b>", parse_mode="HTML")
    assert sent.caption == "caption"
    assert emulator.messages(user)[-1].kind == "photo"


async def test_long_polling_wakes_on_a_new_update(telegram):
    emulator, bot = telegram
    user = emulator.add_user("en")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    await emulator.send_text(user, "/start")
    updates = await asyncio.wait_for(poll, 2)
    assert updates[0].message.text == "/start"
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == []


async def test_webhook_delivery_carries_the_secret(served):
    emulator, _, bot = served
    received: list[tuple[str, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        with pytest.raises(Exception, match="Conflict"):
            await bot.get_updates()
        await emulator.send_text(emulator.add_user("en"), "/start")
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.02)
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "/start"
    finally:
        await runner.cleanup()
    emulator.problems.clear()


async def test_the_sandbox_answers_this_machine_only():
    """Other web pages open in the same browser reach neither the page's API nor the Bot
    API: not by a foreign Host (DNS rebinding), not by a cross-origin form or text POST,
    and the webhook can point at this machine only."""
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=True)
    persona = PERSONAS[0].key
    try:
        async with aiohttp.ClientSession() as http:
            api = f"{server.url}/api/send"
            text = json.dumps({"persona": persona, "text": "/start"})
            async with http.post(api, data=text, headers={"Content-Type": "text/plain"}) as r:
                assert r.status == 415
            chat = f"{server.url}/api/chat?persona={persona}"
            async with http.get(chat, headers={"Host": "rebound.example:8765"}) as r:
                assert r.status == 403
            hook = f"{server.url}/bot{emulator.token}/setWebhook"
            form = {"url": "http://127.0.0.1:9/hook"}
            async with http.post(hook, data=form, headers={"Origin": "https://evil.example"}) as r:
                assert r.status == 403
            async with http.post(hook, data={"url": "https://evil.example/hook"}) as r:
                assert r.status == 400 and emulator.webhook_url == ""
            # An image or a link on another page: no Origin, but a GET, and the browser
            # says where it comes from.
            send = f"{server.url}/bot{emulator.token}/sendMessage?chat_id=1&text=forged"
            async with http.get(send) as r:
                assert r.status == 405
            cross = {"Sec-Fetch-Site": "cross-site"}
            async with http.post(hook, data={"url": "http://127.0.0.1:9/x"}, headers=cross) as r:
                assert r.status == 403 and emulator.webhook_url == ""
            # The page itself, and programs on this machine, work as before.
            same = {"Origin": server.url}
            async with http.post(
                api, json={"persona": persona, "text": "/start"}, headers=same
            ) as r:
                assert r.status == 200
            async with http.post(hook, data={"url": "http://127.0.0.1:9/hook"}) as r:
                assert r.status == 200 and emulator.webhook_url == "http://127.0.0.1:9/hook"
    finally:
        await server.stop()
