"""The webhook endpoint: the secret header in constant time as bytes, and a request that
is not an update refused with a 400 that logs nothing of its content."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiogram.methods import SendMessage
from aiohttp import ClientSession, web

from bot.app import build_dispatcher
from bot.crypto import IdentityCipher
from bot.webhook import SECRET_HEADER, GuardedRequestHandler
from tests.support import RecordingSession, make_bot

SECRET = "right-secret_123"
PERSON = 7_600_000_001


@dataclass
class Hook:
    url: str
    port: int
    handler: GuardedRequestHandler
    session: RecordingSession


@pytest.fixture
async def hook(settings, storage) -> AsyncIterator[Hook]:
    session = RecordingSession()
    # The person whose updates are posted has started the bot, so it may answer them.
    session.emulator.add_user("en", "S", PERSON).started = True
    bot = make_bot(session, IdentityCipher(settings.key_bytes))
    handler = GuardedRequestHandler(
        dispatcher=build_dispatcher(settings, storage), bot=bot, secret_token=SECRET
    )
    app = web.Application()
    handler.register(app, path="/webhook")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Hook(f"http://127.0.0.1:{port}/webhook", port, handler, session)
    await runner.cleanup()


def update(text: str) -> dict[str, object]:
    person = {"id": PERSON, "is_bot": False, "first_name": "S", "language_code": "en"}
    return {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": PERSON, "type": "private", "first_name": "S"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def post(hook: Hook, body: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with ClientSession() as http, http.post(hook.url, data=body, headers=headers) as r:
        return r.status


async def test_an_update_with_the_secret_is_handled(hook: Hook):
    assert await post(hook, json.dumps(update("/help")).encode()) == 200
    await asyncio.gather(*hook.handler._background_feed_update_tasks)
    assert any(isinstance(call, SendMessage) for call in hook.session.calls)
    assert hook.session.errors == []


async def test_without_the_right_secret_nothing_is_handled(hook: Hook):
    body = json.dumps(update("/help")).encode()
    assert await post(hook, body, secret=None) == 401
    assert await post(hook, body, secret="wrong") == 401
    assert hook.session.calls == []


async def test_a_secret_header_outside_ascii_is_refused_not_an_error(hook: Hook):
    body = json.dumps(update("/help")).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", hook.port)
    writer.write(
        b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + SECRET_HEADER.encode()
        + ": секрет\r\n".encode()
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"401"


async def test_what_is_not_an_update_is_refused_and_not_logged(
    hook: Hook, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    assert await post(hook, b"{not json: private words") == 400
    forged = update("/help")
    forged["message"]["chat"]["id"] = "private words"  # type: ignore[index]
    assert await post(hook, json.dumps(forged).encode()) == 400
    assert await post(hook, b'["private words"]') == 400
    assert await post(hook, b"[" * 200_000) == 400  # deeper than the parser goes
    await asyncio.gather(*hook.handler._background_feed_update_tasks)
    assert "private words" not in caplog.text
    assert hook.session.calls == []
