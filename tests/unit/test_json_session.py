"""What the bot's HTTP session puts on the wire: a call without files as one JSON body,
with the bot's defaults filled in as aiogram fills them for its form; a call with a file
as aiogram's multipart form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.json_session import JsonBodySession

MESSAGE = {"message_id": 7, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "hi"}
# A sent message as Telegram returns it: with the formatting and the keyboard just sent.
ECHOING = {
    **MESSAGE,
    "entities": [{"type": "bold", "offset": 0, "length": 2}],
    "reply_markup": {"inline_keyboard": [[{"text": "Menu", "callback_data": "menu"}]]},
    "link_preview_options": {"is_disabled": True},
}


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            form = await request.post()
            fields = {key: str(value) if isinstance(value, str) else "<file>"
                      for key, value in form.items()}  # fmt: skip
        self.seen.append((method, request.content_type, fields))
        if fields.get("text") == "refuse":
            body = {"ok": False, "error_code": 400, "description": "Bad Request: refused"}
            return web.json_response(body, status=400)
        if fields.get("text") == "refuse with 200":
            body = {"ok": False, "error_code": 400, "description": "Bad Request: odd"}
            return web.json_response(body)
        if fields.get("text") == "garbled":
            return web.Response(text="<html>proxy error</html>")
        if fields.get("text") == "no chat":
            return web.json_response({"ok": True, "result": {"message_id": 1, "date": 1}})
        if method == "answerCallbackQuery":
            return web.json_response({"ok": True, "result": True})
        return web.json_response({"ok": True, "result": ECHOING})


@pytest.fixture
async def wire() -> AsyncIterator[tuple[Recorder, Bot]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    session = JsonBodySession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot("1:T", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield recorder, bot
    await bot.session.close()
    await runner.cleanup()


async def test_a_call_without_files_is_one_json_body(wire: tuple[Recorder, Bot]):
    recorder, bot = wire
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="c:1")]]
    )
    message = await bot.send_message(42, "hi", reply_markup=markup, disable_notification=False)
    assert message.message_id == 7 and message.chat.id == 42
    method, content_type, fields = recorder.seen[-1]
    assert (method, content_type) == ("sendMessage", "application/json")
    assert fields == {
        "chat_id": 42,
        "text": "hi",
        "parse_mode": "HTML",  # the bot's default, filled in as for a form
        "disable_notification": False,  # False is said, not left out
        "reply_markup": {"inline_keyboard": [[{"text": "Open", "callback_data": "c:1"}]]},
    }


async def test_a_call_with_a_file_is_a_form(wire: tuple[Recorder, Bot]):
    recorder, bot = wire
    await bot.send_document(42, BufferedInputFile(b"%PDF-", "letter.pdf"), caption="c")
    method, content_type, fields = recorder.seen[-1]
    assert (method, content_type) == ("sendDocument", "multipart/form-data")
    assert fields["chat_id"] == "42" and fields["caption"] == "c"
    attached = str(fields["document"]).removeprefix("attach://")
    assert fields[attached] == "<file>"


async def test_telegram_refusals_read_as_before(wire: tuple[Recorder, Bot]):
    _, bot = wire
    with pytest.raises(TelegramBadRequest, match="refused"):
        await bot.send_message(42, "refuse")


async def test_a_sent_message_comes_back_without_what_the_call_repeats(
    wire: tuple[Recorder, Bot],
):
    _, bot = wire
    sent = await bot.send_message(42, "<b>hi</b>")
    assert (sent.message_id, sent.chat.id, sent.text) == (7, 42, "hi")
    assert sent.entities is None and sent.reply_markup is None
    assert sent.link_preview_options is None
    assert await bot.answer_callback_query("1") is True


async def test_answers_that_are_not_a_success_raise_aiogram_s_errors(
    wire: tuple[Recorder, Bot],
):
    _, bot = wire
    with pytest.raises(TelegramAPIError, match="odd"):
        await bot.send_message(42, "refuse with 200")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(42, "garbled")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(42, "no chat")
