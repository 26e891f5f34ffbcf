"""Test doubles: a Bot API session that records calls and refuses what Telegram refuses,
and a small driver that plays a person pressing buttons through the real Dispatcher."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update, User

from bot.crypto import IdentityCipher
from bot.delivery.worker import Reader
from bot.storage import Storage
from db.models import Delivery
from db.models import Person as PersonRow

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip


class _TelegramHtml(HTMLParser):
    """Approximates Telegram's HTML parser: known tags only, properly nested, valid entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = f'unexpected end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self.error = f"unsupported entity &{name};"


def check_html(text: str) -> str | None:
    """None if Telegram would accept `text` with parse_mode HTML, else the reason."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'unclosed tag "{parser.stack[-1]}"'
    if parser.error is None and ("<" in _strip_tags(text)):
        parser.error = "stray <"
    return parser.error


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?>", "", text)


def visible_text(text: str | None) -> str:
    import html

    return html.unescape(_strip_tags(text or ""))


class RecordingSession(BaseSession):
    """Records every Bot API call; refuses, as Telegram would, what is malformed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.errors: list[str] = []
        self._ids = itertools.count(1000)
        self._answered: set[str] = set()
        self.messages: dict[tuple[int, int], Message] = {}

    async def close(self) -> None:
        return None

    def stream_content(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _refuse(self, method: TelegramMethod[Any], reason: str) -> None:
        self.errors.append(f"{type(method).__name__}: {reason}")
        raise TelegramBadRequest(method=method, message=f"Bad Request: {reason}")

    def _check_text(self, method: Any, text: str | None) -> None:
        text = text or ""
        parse_mode = method.parse_mode
        html = isinstance(parse_mode, Default) or parse_mode == "HTML"
        shown = visible_text(text) if html else text
        if not shown.strip():
            self._refuse(method, "message text is empty")
        if len(shown) > 4096:
            self._refuse(method, "message is too long")
        if html and (problem := check_html(text)):
            self._refuse(method, f"can't parse entities: {problem}")

    def _check_markup(self, method: Any, markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for button in row:
                    if button.callback_data is not None and len(button.callback_data.encode()) > 64:
                        self._refuse(method, "BUTTON_DATA_INVALID")
                    if not button.text.strip():
                        self._refuse(method, "button text is empty")

    def _message(self, bot: Bot, chat_id: int, message_id: int, method: Any) -> Message:
        msg = Message(
            message_id=message_id,
            date=dt.datetime.now(dt.UTC),
            chat=Chat(id=chat_id, type="private"),
            from_user=User(id=bot.id, is_bot=True, first_name="Umid"),
            text=visible_text(method.text) if getattr(method, "text", None) else None,
            reply_markup=getattr(method, "reply_markup", None),
        )
        self.messages[(chat_id, message_id)] = msg
        return msg

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,
    ) -> Any:
        self.calls.append(method)
        if isinstance(method, GetMe):
            return User(id=bot.id, is_bot=True, first_name="Umid", username="umid_bot")
        if isinstance(method, SendMessage):
            self._check_text(method, method.text)
            self._check_markup(method, method.reply_markup)
            return self._message(bot, int(method.chat_id), next(self._ids), method)
        if isinstance(method, SendPhoto | SendDocument):
            if method.caption is not None:
                html = isinstance(method.parse_mode, Default) or method.parse_mode == "HTML"
                shown = visible_text(method.caption) if html else method.caption
                if len(shown) > 1024:
                    self._refuse(method, "message caption is too long")
                if html and (problem := check_html(method.caption)):
                    self._refuse(method, f"can't parse entities: {problem}")
            self._check_markup(method, method.reply_markup)
            return self._message(bot, int(method.chat_id), next(self._ids), method)
        if isinstance(method, EditMessageText):
            self._check_text(method, method.text)
            self._check_markup(method, method.reply_markup)
            assert method.chat_id is not None and method.message_id is not None
            key = (int(method.chat_id), method.message_id)
            old = self.messages.get(key)
            if old is None:
                self._refuse(method, "message to edit not found")
            assert old is not None
            if old.text == visible_text(method.text) and old.reply_markup == method.reply_markup:
                self._refuse(method, "message is not modified")
            return self._message(bot, key[0], key[1], method)
        if isinstance(method, EditMessageReplyMarkup):
            self._check_markup(method, method.reply_markup)
            assert method.chat_id is not None and method.message_id is not None
            key = (int(method.chat_id), method.message_id)
            old = self.messages[key]
            updated = old.model_copy(update={"reply_markup": method.reply_markup})
            self.messages[key] = updated
            return updated
        if isinstance(method, AnswerCallbackQuery):
            if method.callback_query_id in self._answered:
                self._refuse(
                    method, "query is too old and response timeout expired or query ID is invalid"
                )
            self._answered.add(method.callback_query_id)
            if method.text is not None and len(method.text) > 200:
                self._refuse(method, "MESSAGE_TOO_LONG")
            return True
        return True


@dataclass
class Person:
    id: int
    language_code: str | None = "en"
    first_name: str = "Supporter"

    def user(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Reply:
    """What the bot did in answer to one update."""

    calls: list[TelegramMethod[Any]]

    @property
    def texts(self) -> list[str]:
        out = []
        for call in self.calls:
            if isinstance(call, SendMessage | EditMessageText):
                out.append(visible_text(call.text))
            elif isinstance(call, SendPhoto) and call.caption:
                out.append(visible_text(call.caption))
        return out

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def notices(self) -> list[str]:
        return [c.text or "" for c in self.calls if isinstance(c, AnswerCallbackQuery)]

    @property
    def buttons(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for call in self.calls:
            markup = getattr(call, "reply_markup", None)
            if isinstance(markup, InlineKeyboardMarkup):
                out.extend(
                    (b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row
                )
        return out

    def labels(self) -> list[str]:
        return [label for label, _ in self.buttons]


@dataclass
class Driver:
    """Plays people talking to the bot through the real dispatcher."""

    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _msg_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    last_keyboard: dict[int, Message] = field(default_factory=dict)

    async def _feed(self, update: dict[str, Any]) -> Reply:
        before = len(self.session.calls)
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )
        reply = Reply(self.session.calls[before:])
        for call in reply.calls:
            if isinstance(call, SendMessage | SendPhoto | EditMessageText | EditMessageReplyMarkup):
                chat_id = int(call.chat_id) if call.chat_id is not None else 0
                if isinstance(call.reply_markup, InlineKeyboardMarkup):
                    sent = isinstance(call, SendMessage | SendPhoto)
                    mid = None if sent else call.message_id  # type: ignore[union-attr]
                    if mid is None:
                        mid = max(k[1] for k in self.session.messages if k[0] == chat_id)
                    self.last_keyboard[chat_id] = self.session.messages[(chat_id, mid)]
        return reply

    def _message(self, person: Person, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._msg_ids),
            "date": int(dt.datetime.now(dt.UTC).timestamp()),
            "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
            "from": person.user(),
            **content,
        }

    async def send(self, person: Person, text: str) -> Reply:
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._feed({"update_id": next(self._update_ids),
                                 "message": self._message(person, **content)})  # fmt: skip

    async def send_raw(self, person: Person, **content: Any) -> Reply:
        return await self._feed({"update_id": next(self._update_ids),
                                 "message": self._message(person, **content)})  # fmt: skip

    async def callback(self, person: Person, data: str, message: Message | None = None) -> Reply:
        message = message or self.last_keyboard.get(person.id)
        payload: dict[str, Any] = {
            "id": f"cb{next(self._update_ids)}",
            "from": person.user(),
            "chat_instance": "ci",
            "data": data,
        }
        if message is not None:
            payload["message"] = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        return await self._feed({"update_id": next(self._update_ids), "callback_query": payload})

    def button(self, person: Person, label_part: str) -> str:
        message = self.last_keyboard.get(person.id)
        assert message is not None and message.reply_markup is not None, "no keyboard shown"
        for row in message.reply_markup.inline_keyboard:
            for b in row:
                if label_part in b.text:
                    return b.callback_data or ""
        labels = [b.text for row in message.reply_markup.inline_keyboard for b in row]
        raise AssertionError(f"no button with {label_part!r} in {labels}")

    async def press(self, person: Person, label_part: str) -> Reply:
        return await self.callback(person, self.button(person, label_part))


def make_bot(session: RecordingSession, cipher: IdentityCipher | None = None) -> Bot:
    """A Bot on the recording session with the request middlewares build_bot gives it."""
    from aiogram.enums import ParseMode

    from bot.middlewares.db import CommitBeforeRequest
    from bot.middlewares.sent import RememberSent

    session.middleware(CommitBeforeRequest())
    if cipher is not None:
        session.middleware(RememberSent(cipher))
    return Bot(
        token="42:TEST",
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
        ),
    )


async def reader_for(
    storage: Storage,
    delivery: Delivery,
    *,
    person_id: int | None = None,
    discreet: bool | None = None,
) -> Reader:
    """A delivery's reader as the worker hands it to a renderer: its recipient, or
    another person, as a forger would have it."""
    async with storage.sessionmaker() as s:
        person = await s.get(PersonRow, person_id or delivery.person_id)
    assert person is not None and person.id is not None
    return Reader(
        person_id=person.id,
        locale=person.locale,
        timezone=person.timezone,
        discreet=person.discreet if discreet is None else discreet,
    )
