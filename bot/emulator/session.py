"""An aiogram session that talks to an Emulator in this process: no HTTP, no socket.

The handler tests feed updates through the real Dispatcher and need a Telegram that
answers each call at once, with Telegram's refusals and message ids; a benchmark or a
demo may want the same without a port. Rather than a second fake with checks of its own,
the session hands every method to the emulator through `Emulator.respond`, the very
entry the HTTP server uses, and decodes the answer with aiogram's own `check_response`.
So a refusal reaches the bot as the same TelegramBadRequest, TelegramForbiddenError or
TelegramRetryAfter it would get over HTTP, and there is one HTML checker, one set of
limits and one idea of a chat's message ids.

    emulator = Emulator()
    bot = Bot(emulator.token, session=EmulatorSession(emulator))
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InputFile

from bot.emulator.core import Emulator, Upload, form_params

if TYPE_CHECKING:
    from aiogram import Bot


class EmulatorSession(BaseSession):
    """Every Bot API call answered by `emulator`, exactly as over HTTP."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    async def params(self, bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
        """The method's parameters as the HTTP session would post them (aiogram's own
        serialisation: defaults filled in, objects as JSON, empty values left out), as the
        server reads them back from the form, files and all."""
        fields: dict[str, str] = {}
        files: dict[str, InputFile] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                fields[key] = str(prepared)
        uploads: dict[str, Upload] = {}
        for key, file in files.items():
            data = b"".join([chunk async for chunk in file.read(bot)])
            # As aiohttp posts it: a file part with no type of its own.
            uploads[key] = Upload(data, file.filename or key, "application/octet-stream")
        return form_params(fields, uploads)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        params = await self.params(bot, method)
        answer = self.emulator.respond(bot.token, method.__api_method__, params)
        try:
            status, body = await asyncio.wait_for(
                answer, self.timeout if timeout is None else timeout
            )
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ConnectionResetError as exc:  # an injected dropped connection
            raise TelegramNetworkError(method=method, message=f"ClientOSError: {exc}") from exc
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=self.json_dumps(body)
        )
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """A download (Bot.download_file) of /file/bot<token>/<path>, from the emulator's
        store; FileNotFoundError where the HTTP server answers 404."""
        _, _, rest = url.partition("/file/bot")
        token, _, path = rest.partition("/")
        stored = self.emulator.file_at(path) if token == self.emulator.token else None
        if stored is None:
            raise FileNotFoundError(f"404 Not Found: {url}")
        for start in range(0, max(stored.size, 1), chunk_size):
            yield stored.data[start : start + chunk_size]

    async def close(self) -> None:
        """Nothing to close: no connection was opened."""
