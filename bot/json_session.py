"""aiogram's HTTP session, sending each call as one JSON body instead of a form.

aiogram posts every call as a form: each field is JSON-encoded on its own, then the form
is URL-encoded (or, with a file, written as multipart). On a bot answering hundreds of
updates a second, that was a tenth of its busy time (benchmarks/speed.py's profile).
The Bot API takes application/json as well, so a call without files goes as one
`json.dumps` of the prepared fields; a call with a file still goes as aiogram's form.

A message sent or edited comes back whole, with the entities of its formatting and its
keyboard: what the bot has just sent. Reading them into pydantic models took as long as
the rest of the answer (a card's keyboard and bold text, about 0.1 ms), and the bot reads
only a sent message's id and chat. So the Message a call returns lacks `entities`,
`caption_entities`, `reply_markup` and `link_preview_options`; everything else is read as
aiogram reads it, and refusals raise aiogram's own errors.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aiogram import __version__ as aiogram_version
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response
from aiohttp import ClientError, ClientSession, ClientTimeout, TraceConfig
from aiohttp.hdrs import USER_AGENT
from aiohttp.http import SERVER_SOFTWARE
from pydantic import ValidationError

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import TelegramType
    from aiogram.types import InputFile

JSON = {"Content-Type": "application/json"}
# What a sent message repeats of the call that sent it.
ECHOED = ("entities", "caption_entities", "reply_markup", "link_preview_options")


class JsonBodySession(AiohttpSession):
    """An AiohttpSession that sends calls without files as a JSON body.

    `trace_configs` are aiohttp's request hooks, for every call (the send budget's
    departure gate among them)."""

    def __init__(self, *, trace_configs: list[TraceConfig] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trace_configs = list(trace_configs or ())

    async def create_session(self) -> ClientSession:
        """aiogram's own session, with the trace configs."""
        if self._should_reset_connector:
            await self.close()
        if self._session is None or self._session.closed:
            self._session = ClientSession(
                connector=self._connector_type(**self._connector_init),
                headers={USER_AGENT: f"{SERVER_SOFTWARE} aiogram/{aiogram_version}"},
                trace_configs=self.trace_configs or None,
            )
            self._should_reset_connector = False
        return self._session

    def build_json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's fields as a JSON body, or None when it carries a file.

        Fields are prepared exactly as aiogram prepares them for its form (defaults of
        the bot filled in, None and empty text left out), only not encoded one by one."""
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is None or prepared == "":
                continue
            fields[key] = prepared
        if files:
            return None
        return self.json_dumps(fields).encode()

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        """aiogram's reading of an answer, without the parts of a sent message that only
        repeat the call. Anything but a well-formed success is left to aiogram, which
        raises the error it always raises."""
        if HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(content)
                result = answer.get("result") if answer.get("ok") is True else None
                if isinstance(result, dict) and "message_id" in result:
                    for key in ECHOED:
                        result.pop(key, None)
                response_type = Response[method.__returning__]  # type: ignore[name-defined]
                response: Response[TelegramType] = response_type.model_validate(
                    answer, context={"bot": bot}
                )
            except (ValueError, AttributeError, ValidationError):
                pass  # not JSON, not an object, or not the shape it should be
            else:
                if response.ok:
                    return response
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        body = self.build_json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        # The same errors as aiogram's own session raises, so that retries and the
        # delivery worker see no difference.
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            raise TelegramNetworkError(
                method=method, message=f"{type(exc).__name__}: {exc}"
            ) from exc
        response = self.check_response(
            bot=bot, method=method, status_code=resp.status, content=raw_result
        )
        return cast("TelegramType", response.result)
