"""Test doubles: the emulator in this process as the bot's Telegram, recording every call,
and a small driver that plays a person pressing buttons through the real Dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions, Message, Update

from bot.crypto import IdentityCipher
from bot.delivery.worker import Reader
from bot.emulator import EmulatedMessage, EmulatedUser, Emulator, telegram_html
from bot.emulator.session import EmulatorSession
from bot.storage import Storage
from db.models import Delivery
from db.models import Person as PersonRow

TOKEN = "42:TEST"


def check_html(text: str) -> str | None:
    """None if Telegram would accept `text` with parse_mode HTML, else the reason: the
    emulator's own checker, so tests and the bot's Telegram never disagree."""
    return telegram_html.parse(text).error


def visible_text(text: str | None) -> str:
    """What a person reads of `text` sent with parse_mode HTML."""
    return telegram_html.parse(text or "").text


def telegram() -> Emulator:
    """The Telegram of the handler tests: the emulator, with the bot's name and token.

    Its flood limit is lifted: a test plays minutes of a person's tapping in
    milliseconds, which no person can, so a 429 here would say nothing about the bot.
    Pacing is the send budget's to keep, and its tests run against the real limit."""
    return Emulator(
        token=TOKEN,
        bot_name="Umid",
        bot_username="umid_bot",
        flood_limit=1_000_000,
        paid_flood_limit=1_000_000,
    )


class RecordingSession(EmulatorSession):
    """The emulator answers every call (with Telegram's refusals and message ids); each
    call is kept in `calls`, its answer in `results` (None if refused), each refusal in
    `errors`."""

    def __init__(self, emulator: Emulator | None = None) -> None:
        super().__init__(emulator or telegram())
        self.calls: list[TelegramMethod[Any]] = []
        self.results: list[Any] = []
        self.errors: list[str] = []

    @property
    def messages(self) -> dict[tuple[int, int], Message]:
        """Every message of every chat, the people's and the bot's, deleted ones too,
        by (chat id, message id), as it stands now."""
        out: dict[tuple[int, int], Message] = {}
        for user in self.emulator.users.values():
            for msg in self.emulator.messages(user, include_deleted=True):
                shown = Message.model_validate(self.emulator.message_json(msg))
                out[(msg.chat_id, msg.message_id)] = shown
        return out

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        index = len(self.calls)
        self.calls.append(method)
        self.results.append(None)
        try:
            result = await super().make_request(bot, method, timeout)
        except TelegramAPIError as exc:
            self.errors.append(f"{type(method).__name__}: {exc.message}")
            raise
        self.results[index] = result
        return result


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
    """Plays people talking to the bot through the real dispatcher.

    What a person does goes through the session's emulator, as it would through
    Telegram: the person's account is made and started the first time they act, their
    messages take the chat's next message id, and a pressed button is a callback query the
    emulator knows, so answering it twice is refused as Telegram refuses it. The updates
    that come of it are fed to the dispatcher one by one, and each answer gathers the
    calls the bot made meanwhile."""

    dp: Dispatcher
    bot: Bot
    session: RecordingSession
    # The message each chat last got a keyboard on, sent or edited (chat id -> message id).
    last_keyboard: dict[int, int] = field(default_factory=dict)

    @property
    def emulator(self) -> Emulator:
        return self.session.emulator

    def user(self, person: Person) -> EmulatedUser:
        """The person's Telegram account, made on first use as one that started the bot
        (no one else can write to it or press its buttons), named as the Person is now."""
        user = self.emulator.users.get(person.id)
        if user is None:
            user = self.emulator.add_user(person.language_code, person.first_name, person.id)
            user.started = True
        user.language_code, user.first_name = person.language_code, person.first_name
        return user

    async def _pump(self) -> Reply:
        """Feed the dispatcher what the emulator holds for the bot, and the bot's answer."""
        before = len(self.session.calls)
        for update in self.emulator.take_updates():
            await self.dp.feed_update(
                self.bot, Update.model_validate(update, context={"bot": self.bot})
            )
        await self.settled()
        return self._reply(before)

    async def settled(self) -> None:
        """Wait until the message ids the updates gathered are in the database."""
        await self.dp["sent_batch"].flush()

    async def _feed(self, update: dict[str, Any]) -> Reply:
        """Feed an update made by hand (one Telegram would send from elsewhere, such as a
        group chat), past the emulator."""
        before = len(self.session.calls)
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )
        await self.settled()
        return self._reply(before)

    def _reply(self, before: int) -> Reply:
        calls = self.session.calls[before:]
        for call, result in zip(calls, self.session.results[before:], strict=True):
            keyboard = isinstance(getattr(call, "reply_markup", None), InlineKeyboardMarkup)
            kinds = SendMessage | SendPhoto | EditMessageText | EditMessageReplyMarkup
            if keyboard and isinstance(call, kinds) and isinstance(result, Message):
                self.last_keyboard[result.chat.id] = result.message_id
        return Reply(calls)

    async def send(self, person: Person, text: str) -> Reply:
        await self.emulator.send_text(self.user(person), text)
        return await self._pump()

    async def send_raw(self, person: Person, **content: Any) -> Reply:
        await self.emulator.send_message(self.user(person), content)
        return await self._pump()

    def keyboard(self, person: Person) -> EmulatedMessage | None:
        """The message the person last got a keyboard on, as it stands now; if that one
        has lost its buttons since (a question answered), the newest that has some, as the
        person would look up the chat for them."""
        shown = self.last_keyboard.get(person.id)
        messages = [m for m in self.emulator.messages(self.user(person)) if m.from_bot]
        last = next((m for m in messages if m.message_id == shown), None)
        if last is None or last.buttons():
            return last
        return next((m for m in reversed(messages) if m.buttons()), last)

    async def callback(
        self, person: Person, data: str, message: EmulatedMessage | None = None
    ) -> Reply:
        """The person's client sends `data` from `message` (by default the last keyboard
        shown): data on no button, or from no message, is what a forger would send."""
        await self.emulator.press_data(self.user(person), message or self.keyboard(person), data)
        return await self._pump()

    def button(self, person: Person, label_part: str) -> str:
        message = self.keyboard(person)
        assert message is not None and message.buttons(), "no keyboard shown"
        for b in message.buttons():
            if label_part in b.get("text", ""):
                return str(b.get("callback_data") or "")
        labels = [b.get("text") for b in message.buttons()]
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
        token=session.emulator.token,
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
