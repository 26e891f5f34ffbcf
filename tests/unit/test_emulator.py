"""The emulator refuses what Telegram refuses, with Telegram's words: over real HTTP, and
in-process through EmulatorSession (what the handler tests use), alike."""

from __future__ import annotations

import asyncio
import base64
import io
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
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web
from PIL import Image

from bot import commands
from bot.emulator import Emulator, telegram_html
from bot.emulator.page import LANGUAGES, PERSONAS, persona_label, spoken_language
from bot.emulator.server import RunningEmulator, serve
from bot.emulator.session import EmulatorSession
from bot.i18n import make_i18n
from bot.json_session import JsonBodySession


@pytest.fixture
async def served() -> AsyncIterator[tuple[Emulator, RunningEmulator, Bot]]:
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=False)
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    yield emulator, server, bot
    await bot.session.close()
    await server.stop()


@pytest.fixture(params=["http", "http, JSON bodies", "in-process"])
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Emulator, Bot]]:
    """A bot and its emulator, over HTTP (aiogram's forms, or the JSON bodies the bot
    sends) or through the in-process session: every test that takes this fixture holds
    for all three, so the transports cannot drift apart."""
    emulator = Emulator()
    server = None
    if request.param.startswith("http"):
        server = await serve(emulator, 0, with_page=False)
        api = TelegramAPIServer.from_base(server.url)
        session = JsonBodySession if "JSON" in request.param else AiohttpSession
        bot = Bot(emulator.token, session=session(api=api))
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


def png(width: int = 2, height: int = 2, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


async def test_multipart_upload_with_caption(telegram):
    """An uploaded photo is kept as Telegram keeps one (JPEGs of a few sizes, the largest
    last), and its file_id sends it again, to anyone, as a photo only."""
    emulator, bot = telegram
    user = await started(emulator)
    photo = BufferedInputFile(png(1000, 500), filename="a.png")
    sent = await bot.send_photo(user.id, photo, caption="<b>caption</b>", parse_mode="HTML")
    assert sent.caption == "caption"
    assert emulator.messages(user)[-1].kind == "photo"
    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 45),
        (320, 160),
        (800, 400),
        (1000, 500),
    ]
    assert all(p.file_size for p in sent.photo)
    other = await started(emulator)
    again = await bot.send_photo(other.id, sent.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_document(other.id, sent.photo[-1].file_id)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user.id, BufferedInputFile(b"\x89PNG fake", filename="b.png"))
    emulator.problems.clear()


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


# ------------------------------------------------------------------ the sandbox composer


def delivered(emulator: Emulator) -> Message:
    """The one message the bot was handed, as aiogram reads it."""
    (update,) = emulator.take_updates()
    return Message.model_validate(update["message"])


async def test_entities_count_utf16_code_units_for_cyrillic_and_emoji():
    emulator = Emulator()
    user = emulator.add_user("ru")
    # "👋" is one character in Python and two UTF-16 code units in the Bot API.
    text = "Привет 👋 мир\nи 🇰🇿 друзья"
    assert telegram_html.utf16_length(text) == len(text) + 3  # 👋, and 🇰 🇿
    bold = {"type": "bold", "offset": 10, "length": 3}  # "мир"
    italic = {"type": "italic", "offset": 16, "length": 11}  # "🇰🇿 друзья", all of it
    inner = {"type": "bold", "offset": 21, "length": 6}  # "друзья", inside the italic
    sent = await emulator.send_text(user, text, [italic, inner, bold])
    message = delivered(emulator)
    assert message.text == text
    assert message.entities is not None
    assert [e.type for e in message.entities] == ["bold", "italic", "bold"]
    assert message.html_text == "Привет 👋 <b>мир</b>\nи <i>🇰🇿 <b>друзья</b></i>"
    assert sent.page_html == message.html_text  # the page shows what the bot gets

    # A command keeps its own entity beside the person's formatting.
    await emulator.send_text(user, "/check **", [{"type": "italic", "offset": 7, "length": 2}])
    entities = delivered(emulator).entities or []
    assert [(e.type, e.offset, e.length) for e in entities] == [
        ("bot_command", 0, 6),
        ("italic", 7, 2),
    ]


@pytest.mark.parametrize(
    ("entity", "reason"),
    [
        ({"type": "bold", "offset": 8, "length": 1}, "outside"),  # half of 👋
        ({"type": "bold", "offset": 0, "length": 99}, "outside"),
        ({"type": "bold", "offset": 0, "length": 0}, "outside"),
        ({"type": "text_link", "offset": 0, "length": 2}, "unsupported"),
        ({"type": "bold", "offset": "0", "length": 2}, "integers"),
    ],
)
async def test_entities_no_client_would_send_are_refused(entity, reason):
    emulator = Emulator()
    user = emulator.add_user("ru")
    with pytest.raises(ValueError, match=reason):
        await emulator.send_text(user, "Привет 👋", [entity])
    overlapping = [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "italic", "offset": 2, "length": 4},
    ]
    with pytest.raises(ValueError, match="overlap"):
        await emulator.send_text(user, "Привет 👋", overlapping)
    assert emulator.take_updates() == []


async def test_attachments_reach_the_bot_in_the_bot_apis_shape(telegram):
    """What a person attaches on the page: a picture as a photo, anything else as a
    document; getFile and the download give the bot back the stored bytes."""
    emulator, bot = telegram
    user = await started(emulator)
    emulator.take_updates()
    await emulator.send_file(
        user,
        png(640, 480),
        "transfer.png",
        "image/png",
        "Передача **",
        [{"type": "bold", "offset": 0, "length": 8}],
    )
    message = delivered(emulator)
    assert message.caption == "Передача **" and message.caption_entities is not None
    assert message.photo is not None
    assert [(p.width, p.height) for p in message.photo] == [(90, 68), (320, 240), (640, 480)]
    largest = message.photo[-1]
    assert largest.file_size and largest.file_unique_id
    file = await bot.get_file(largest.file_id)
    assert file.file_size == largest.file_size and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None
    with Image.open(downloaded) as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 480))

    pdf = b"%PDF-1.4\n% a verdict\n%%EOF\n"
    await emulator.send_file(user, pdf, "приговор.pdf", "application/pdf")
    document = delivered(emulator).document
    assert document is not None
    assert (document.file_name, document.mime_type, document.file_size) == (
        "приговор.pdf",
        "application/pdf",
        len(pdf),
    )
    file = await bot.get_file(document.file_id)
    downloaded = await bot.download_file(file.file_path or "")
    assert downloaded is not None and downloaded.read() == pdf
    # A picture that is not one goes as a file, as Telegram would take it.
    await emulator.send_file(user, b"not a picture", "x.png", "image/png")
    assert delivered(emulator).document is not None
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("made-up")
    emulator.problems.clear()


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[Emulator, RunningEmulator, Bot, aiohttp.ClientSession]]:
    """The emulator with its page, a bot on it, and a browser-like client."""
    emulator = Emulator()
    server = await serve(emulator, 0, with_page=True)
    bot = Bot(emulator.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.url)))
    async with aiohttp.ClientSession(base_url=server.url) as http:
        yield emulator, server, bot, http
    await bot.session.close()
    await server.stop()


async def test_the_page_serves_a_chats_files_to_that_chat_only(sandbox):
    emulator, _, bot, http = sandbox
    alice, bob = PERSONAS[0], PERSONAS[1]
    upload = {"name": "p.png", "type": "image/png", "data": base64.b64encode(png()).decode()}
    async with http.post(
        "/api/send", json={"persona": alice.key, "text": "caption", "file": upload}
    ) as r:
        assert r.status == 200
    async with http.get("/api/chat", params={"persona": alice.key}) as r:
        (shown,) = (await r.json())["messages"]
    assert shown["kind"] == "photo" and shown["photo"]["available"] and shown["html"] == "caption"
    photo_id = shown["photo"]["file_id"]
    async with http.get("/api/file", params={"persona": alice.key, "file_id": photo_id}) as r:
        assert r.status == 200 and r.content_type == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    # Bob's chat shows no such file, so his page cannot fetch it.
    async with http.get("/api/file", params={"persona": bob.key, "file_id": photo_id}) as r:
        assert r.status == 404

    # The bot's letter PDF: a document bubble, opened in the browser under its name.
    alice_id = alice.user_id
    await bot.send_document(alice_id, BufferedInputFile(b"%PDF-1.4 letter", filename="letter.pdf"))
    async with http.get("/api/chat", params={"persona": alice.key}) as r:
        document = (await r.json())["messages"][-1]["document"]
    assert (document["file_name"], document["mime_type"], document["file_size"]) == (
        "letter.pdf",
        "application/pdf",
        15,
    )
    query = {"persona": alice.key, "file_id": document["file_id"]}
    async with http.get("/api/file", params=query) as r:
        assert r.status == 200 and r.content_type == "application/pdf"
        assert r.headers["Content-Disposition"].startswith('inline; filename="letter.pdf"')
        assert await r.read() == b"%PDF-1.4 letter"
    # Once the bot deletes the message, the file is no longer the chat's to show.
    await bot.delete_message(alice_id, emulator.messages(emulator.users[alice_id])[-1].message_id)
    async with http.get("/api/file", params=query) as r:
        assert r.status == 404

    # A file the browser could run (HTML) is downloaded, never shown on the page's origin.
    page = {"name": "x.html", "type": "text/html", "data": base64.b64encode(b"<script>").decode()}
    async with http.post("/api/send", json={"persona": bob.key, "file": page}) as r:
        assert r.status == 200
    html_id = emulator.messages(emulator.users[bob.user_id])[-1].file_ids().pop()
    async with http.get("/api/file", params={"persona": bob.key, "file_id": html_id}) as r:
        assert r.headers["Content-Disposition"].startswith("attachment;")

    big = {
        "name": "big.bin",
        "type": "",
        "data": base64.b64encode(b"0" * (10 * 2**20 + 1)).decode(),
    }
    async with http.post("/api/send", json={"persona": bob.key, "file": big}) as r:
        assert r.status == 413 and "10 MB" in await r.text()


async def test_the_page_sends_formatting_as_entities(sandbox):
    emulator, _, _, http = sandbox
    persona = PERSONAS[1]
    body = {
        "persona": persona.key,
        "text": "Улица Мира, 5\nкв. 😀 12",
        "entities": [{"type": "italic", "offset": 18, "length": 5}],
    }
    async with http.post("/api/send", json=body) as r:
        assert r.status == 200
    message = delivered(emulator)
    assert message.html_text == "Улица Мира, 5\nкв. <i>😀 12</i>"
    body["entities"] = [{"type": "bold", "offset": 19, "length": 1}]  # half of 😀
    async with http.post("/api/send", json=body) as r:
        assert r.status == 400 and "outside the text" in await r.text()


async def test_an_empty_chat_shows_the_description_for_the_persons_language(sandbox):
    emulator, _, bot, http = sandbox
    english, russian = PERSONAS[0], PERSONAS[1]

    async def description(persona: Any) -> str:
        async with http.get("/api/chat", params={"persona": persona.key}) as r:
            state = await r.json()
        assert state["messages"] == []
        return str(state["description"])

    assert await description(english) == ""
    await bot.set_my_description("Letters to prisoners of conscience.")
    await bot.set_my_description("Письма узникам совести.", language_code="ru")
    assert await description(english) == "Letters to prisoners of conscience."
    assert await description(russian) == "Письма узникам совести."
    assert (await bot.get_my_description(language_code="ru")).description.startswith("Письма")
    await bot.set_my_description("", language_code="ru")  # removes Russian's own
    assert await description(russian) == "Letters to prisoners of conscience."
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.set_my_description("x" * 513)
    emulator.problems.clear()


async def test_the_persona_label_follows_the_language_the_bot_speaks(telegram):
    """The bot's real menus, in every language it has: a chat's own menu names its
    language, Uzbek in Cyrillic included (it can have no menu of its own in Telegram)."""
    emulator, bot = telegram
    i18n = make_i18n()
    await commands.register(bot, i18n)
    english, kazakh, uzbek, cyrillic = (
        next(p for p in PERSONAS if p.key == key)
        for key in ("supporter-en", "supporter-kk", "supporter-uz", "supporter-uz_Cyrl")
    )
    for persona in PERSONAS:
        user = emulator.add_user(persona.language_code, "P", persona.user_id)
        user.started = True
        assert persona_label(emulator, persona) == persona.label  # no menu of its own yet
    for persona in PERSONAS:
        for code in LANGUAGES:
            await commands.register_for_chat(
                bot, i18n, persona.user_id, code.replace("-", "_"), role=None
            )
            assert spoken_language(emulator, persona.user_id) == code
    await commands.register_for_chat(bot, i18n, english.user_id, "kk")
    assert persona_label(emulator, english) == "Supporter · Қазақша"
    await commands.register_for_chat(bot, i18n, kazakh.user_id, "en")
    assert persona_label(emulator, kazakh) == "Қолдаушы · English"
    await commands.register_for_chat(bot, i18n, cyrillic.user_id, "uz")
    assert persona_label(emulator, cyrillic) == "Тарафдор · Oʻzbekcha"
    await commands.register_for_chat(bot, i18n, uzbek.user_id, "uz_Cyrl")
    assert persona_label(emulator, uzbek) == "Tarafdor · Ўзбекча"
    # A staff menu (more commands, the same language) still reads as its language.
    await commands.register_for_chat(bot, i18n, english.user_id, "ru", role="admin")
    assert persona_label(emulator, english) == "Supporter · Русский"
    # With no menu for any language to compare, the label says it cannot tell.
    bare = Emulator()
    bare.users[kazakh.user_id] = emulator.users[kazakh.user_id]
    bare.commands[(f"chat:{kazakh.user_id}", "")] = [{"command": "start", "description": "Go"}]
    assert persona_label(bare, kazakh) == "Қолдаушы · ?"


def test_a_quote_on_the_page_keeps_one_blank_line_on_each_side():
    """A quote is a block, which breaks the line itself: the page drew the letter prompt
    with two blank lines under the quoted letter. The text Telegram gives is unchanged."""
    parsed = telegram_html.parse(
        "Copy it:\n\n<blockquote>Dear friend,\nhello</blockquote>\n\nWrite"
    )
    assert parsed.page_html == "Copy it:\n<blockquote>Dear friend,\nhello</blockquote>\nWrite"
    assert parsed.text == "Copy it:\n\nDear friend,\nhello\n\nWrite"
