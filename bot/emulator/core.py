"""The emulator's state and the Bot API methods the bot uses, with Telegram's own refusals.

One `Emulator` holds users, private chats, messages, files, pending updates and command
menus. The HTTP server (server.py) turns requests into `call()`; tests and the sandbox
page act as people through `send_text()`, `send_file()`, `press()`, `block()` and
`next_event()`.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
import mimetypes
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from bot.emulator import spec, telegram_html

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_TEXT = 200
DELETE_WINDOW = 48 * 3600
SEND_METHODS = {"sendmessage", "sendphoto", "senddocument", "copymessage"}
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
# The Bot API's file limits: a photo the bot sends, any file it sends, a file it downloads.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
# Telegram keeps a photo as JPEGs of these longest sides (and the original's, up to the
# last): a bot gets them all, smallest first, and usually takes the last.
PHOTO_SIDES = (90, 320, 800, 1280, 2560)
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


class BotApiError(Exception):
    """A refusal, with the status code and description the real server gives."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(text: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {text}")


@dataclass
class EmulatedUser:
    id: int
    first_name: str
    language_code: str | None
    started: bool = False
    blocked: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart request, as it arrived."""

    data: bytes
    file_name: str
    mime_type: str

    def __repr__(self) -> str:  # calls are logged and kept: not the bytes
        return f"Upload({self.file_name!r}, {self.mime_type}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class StoredFile:
    """A file on the emulator's "servers": what a file_id stands for."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)
    mime_type: str
    file_name: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        """As a PhotoSize."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }

    def document(self) -> dict[str, Any]:
        """As a Document."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "mime_type": self.mime_type,
            "file_size": self.size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        return data


@dataclass
class EmulatedMessage:
    chat_id: int
    message_id: int
    from_bot: bool
    text: str
    page_html: str
    date: float
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"  # text | photo | document
    protect_content: bool = False
    edited: bool = False
    deleted: bool = False
    # The person's formatting (MessageEntity objects): of the text, or of the caption.
    entities: list[dict[str, Any]] | None = None
    # The Bot API fields of its file: {"photo": [PhotoSize...]} or {"document": Document}.
    media: dict[str, Any] | None = None

    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def file_ids(self) -> set[str]:
        """The files this message shows (every size of a photo)."""
        media = self.media or {}
        ids = {str(size.get("file_id")) for size in media.get("photo", [])}
        if "document" in media:
            ids.add(str(media["document"].get("file_id")))
        return ids

    def page(self) -> dict[str, Any]:
        """What the sandbox page needs to draw the message."""
        data: dict[str, Any] = {
            "id": self.message_id,
            "from_bot": self.from_bot,
            "html": self.page_html,
            "kind": self.kind,
            "date": int(self.date),
            "edited": self.edited,
            "deleted": self.deleted,
            "protect": self.protect_content,
            "keyboard": (self.reply_markup or {}).get("inline_keyboard", []),
        }
        media = self.media or {}
        if media.get("photo"):
            data["photo"] = media["photo"][-1]
        if media.get("document"):
            data["document"] = media["document"]
        return data


def form_params(fields: Mapping[str, str], uploads: Mapping[str, Upload]) -> dict[str, Any]:
    """The parameters of a multipart request: its text fields, and its files.

    A file sent beside the parameters is named in one of them as attach://<field>; a file
    may also be a parameter itself. Either way the parameter holds the Upload."""
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if key in uploads:
            continue
        attached = value.removeprefix("attach://") if value.startswith("attach://") else ""
        params[key] = uploads.get(attached, value)
    for key, upload in uploads.items():
        if f"attach://{key}" not in fields.values():
            params[key] = upload
    return params


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback_url(url: str) -> bool:
    """Whether an http(s) URL points at this machine."""
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and (parts.hostname or "") in LOOPBACK_HOSTS


@dataclass
class Event:
    """Something a person would notice in their chat."""

    kind: str  # message | edit | delete | answer | commands
    chat_id: int
    message: EmulatedMessage | None = None
    text: str | None = None
    show_alert: bool = False


@dataclass
class Faults:
    """Failures to inject, each for the next N calls (of `methods`, or of any method)."""

    latency: float = 0.0
    too_many: int = 0
    retry_after: int = 1
    server_errors: int = 0
    drops: int = 0
    methods: set[str] | None = None

    def applies(self, method: str) -> bool:
        return self.methods is None or method in self.methods


@dataclass
class _Callback:
    id: str
    user_id: int
    message: EmulatedMessage | None
    data: str
    answered: bool = False


@dataclass
class Emulator:
    """A Telegram Bot API server in one object. Not thread-safe; one event loop."""

    token: str = "1000000001:SANDBOX-TOKEN"  # noqa: S105 - the emulator's own, not a secret
    bot_name: str = "Umid"
    bot_username: str = "umid_sandbox_bot"
    flood_limit: int = 30
    paid_flood_limit: int = 1000
    # Telegram's limits are "about" 30 and 1000 a second. A strict window would also
    # refuse a sender that is on pace but whose requests this process handled late (a
    # pause for garbage collection), so a little over the limit is let through, no more.
    flood_tolerance: float = 0.1
    # Strict: no slack at all, and edits count as sends do (Telegram limits both). For the
    # send budget's tests and benchmarks, which must stay under the limit, not near it.
    strict: bool = False
    strict_unknown_parameters: bool = True
    # Benchmarks: any positive chat id is a person who started the bot, and sent
    # messages are counted but not kept, so the emulator's own memory stays flat.
    open_chats: bool = False
    keep_messages: bool = True
    faults: Faults = field(default_factory=Faults)
    users: dict[int, EmulatedUser] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    # setMyDescription and setMyShortDescription, by language code ("" for everyone else).
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":", 1)[0])
        self._messages: dict[int, list[EmulatedMessage]] = {}
        self._events: dict[int, list[Event]] = {}
        self._seen: dict[int, int] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._callbacks: dict[str, _Callback] = {}
        self._files: dict[str, StoredFile] = {}  # by file_id
        self._file_paths: dict[str, StoredFile] = {}
        self._photos: dict[str, list[StoredFile]] = {}  # any size's file_id: every size
        self._file_numbers = itertools.count(1)
        self._changed = asyncio.Condition()  # updates for getUpdates
        # What the bot did, per chat: a waiter wakes for its own chat only (with many
        # people waiting at once, waking all of them for every message cost the emulator
        # more than the bot's work).
        self._chat_changed: dict[int, asyncio.Condition] = {}
        self._sent: deque[float] = deque()
        self._skew = 0.0
        self._listeners: set[asyncio.Queue[Event]] = set()
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self.webhook_sender: Any = None  # set by the server: async (url, secret, update) -> None
        # Webhook posts that failed and had to be sent again, as Telegram would retry them.
        self.webhook_retries = 0
        self.closing = False
        self.sent_count = 0
        self.flood_refusals = 0  # 429s answered because of the flood limit
        # When each accepted send arrived (monotonic), to check pacing from outside.
        self.send_times: list[float] = []

    @property
    def pending_update_count(self) -> int:
        """Updates the bot has not confirmed yet (as getWebhookInfo reports them)."""
        return len(self._updates)

    # ---------------------------------------------------------------- time

    def now(self) -> float:
        return time.time() + self._skew

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (to test the 48-hour deletion limit)."""
        self._skew += seconds

    # ---------------------------------------------------------------- people

    def add_user(
        self,
        language_code: str | None = "en",
        first_name: str = "Supporter",
        user_id: int | None = None,
    ) -> EmulatedUser:
        """A Telegram account that may start the bot; ids are stable and distinct."""
        uid = user_id if user_id is not None else 700_000_000 + len(self.users) + 1
        user = EmulatedUser(uid, first_name, language_code)
        self.users[uid] = user
        self._messages.setdefault(uid, [])
        self._events.setdefault(uid, [])
        self._seen.setdefault(uid, 0)
        return user

    def block(self, user: EmulatedUser) -> None:
        user.blocked = True

    def unblock(self, user: EmulatedUser) -> None:
        user.blocked = False

    def messages(
        self, user: EmulatedUser, *, include_deleted: bool = False
    ) -> list[EmulatedMessage]:
        """The chat as the person sees it, oldest first."""
        return [m for m in self._messages.get(user.id, []) if include_deleted or not m.deleted]

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _chat_json(self, user: EmulatedUser) -> dict[str, Any]:
        return {"id": user.id, "type": "private", "first_name": user.first_name}

    def message_json(self, msg: EmulatedMessage) -> dict[str, Any]:
        """The message as the Bot API gives it (a Message object)."""
        user = self.users[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": int(msg.date),
            "chat": self._chat_json(user),
            "from": self.me() if msg.from_bot else user.as_json(),
        }
        entities = list(msg.entities or [])
        if msg.kind == "text":
            data["text"] = msg.text
            if msg.text.startswith("/") and not msg.from_bot:
                length = telegram_html.utf16_length(msg.text.split()[0])
                entities.insert(0, {"type": "bot_command", "offset": 0, "length": length})
            if entities:
                data["entities"] = entities
        else:
            data.update(msg.media or self._stand_in_media(msg.kind, None, msg.message_id))
            if msg.text:
                data["caption"] = msg.text
            if entities:
                data["caption_entities"] = entities
        if msg.edited:
            data["edit_date"] = int(self.now())
        if msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        if msg.protect_content:
            data["has_protected_content"] = True
        return data

    async def send_text(
        self, user: EmulatedUser, text: str, entities: list[dict[str, Any]] | None = None
    ) -> EmulatedMessage:
        """The person types `text` and sends it, with their bold and italic as `entities`
        (offsets in UTF-16 code units, as the Bot API counts them); ValueError for
        entities no Telegram client would send."""
        return await self._incoming(user, "text", text, None, entities)

    async def send_file(
        self,
        user: EmulatedUser,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str = "",
        caption_entities: list[dict[str, Any]] | None = None,
    ) -> EmulatedMessage:
        """The person attaches a file: a picture goes as a photo (Telegram keeps it as
        JPEGs of several sizes), anything else as a document, with the caption."""
        if len(caption) > MAX_CAPTION:
            raise ValueError("the caption is too long")
        media: dict[str, Any] | None = None
        if mime_type in PHOTO_TYPES:
            try:
                media = {"photo": [f.photo_size() for f in self._store_photo(data)]}
            except BotApiError:
                media = None  # not a picture after all: it goes as a file
        if media is None:
            media = {"document": self._store_document(data, file_name, mime_type).document()}
        kind = "photo" if "photo" in media else "document"
        return await self._incoming(user, kind, caption, None, caption_entities, media)

    async def send_message(self, user: EmulatedUser, content: dict[str, Any]) -> EmulatedMessage:
        """The person sends a message of any kind: `content` holds its Bot API fields other
        than the ids, date, chat and sender (a photo with a caption, a document, a
        location, a part of an album...), and the bot gets exactly those.

        Handler tests send what the page cannot (a relative's photo of a transfer order);
        the message is kept in the chat like typed text, so the bot's copies and
        deletions of it meet what Telegram would have."""
        kind = "photo" if "photo" in content else "document" if "document" in content else "text"
        shown = content.get("text") if kind == "text" else content.get("caption")
        media: dict[str, Any] = {k: content[k] for k in ("photo", "document") if k in content}
        return await self._incoming(user, kind, str(shown or ""), content, None, media or None)

    async def _incoming(
        self,
        user: EmulatedUser,
        kind: str,
        text: str,
        content: dict[str, Any] | None,
        entities: list[dict[str, Any]] | None = None,
        media: dict[str, Any] | None = None,
    ) -> EmulatedMessage:
        page_html = telegram_html.plain(text).page_html
        if entities:
            entities = telegram_html.check_entities(text, entities)
            page_html = telegram_html.entities_html(text, entities)
        user.started = True
        msg = EmulatedMessage(
            chat_id=user.id,
            message_id=self._next_message_id(user.id),
            from_bot=False,
            text=text,
            page_html=page_html,
            date=self.now(),
            kind=kind,
            entities=entities or None,
            media=media,
        )
        self._messages[user.id].append(msg)
        await self._emit(Event("message", user.id, msg))
        message = self.message_json(msg)
        if content is not None:
            envelope = {k: message[k] for k in ("message_id", "date", "chat", "from")}
            message = {**envelope, **content}
        await self._deliver({"message": message})
        return msg

    async def send_sticker(self, user: EmulatedUser) -> None:
        """The person sends a sticker (something that is not text)."""
        user.started = True
        mid = self._next_message_id(user.id)
        message = {
            "message_id": mid,
            "date": int(self.now()),
            "chat": self._chat_json(user),
            "from": user.as_json(),
            "sticker": {
                "file_id": "sticker",
                "file_unique_id": "s",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
        await self._deliver({"message": message})

    def find_button(
        self, user: EmulatedUser, label: str, message: EmulatedMessage | None = None
    ) -> tuple[EmulatedMessage, dict[str, Any]]:
        """The newest visible bot message with a button whose label contains `label`."""
        candidates = [message] if message else reversed(self.messages(user))
        for msg in candidates:
            if not msg.from_bot:
                continue
            for button in msg.buttons():
                if label in button.get("text", ""):
                    return msg, button
        shown = [b.get("text") for m in self.messages(user) for b in m.buttons()]
        raise LookupError(f"no button with {label!r}; buttons shown: {shown}")

    async def press(
        self, user: EmulatedUser, label: str, message: EmulatedMessage | None = None
    ) -> str:
        """The person presses an inline button; returns the callback query id."""
        msg, button = self.find_button(user, label, message)
        return await self.press_data(user, msg, button["callback_data"])

    async def press_data(self, user: EmulatedUser, msg: EmulatedMessage | None, data: str) -> str:
        """The person's client sends a callback query with `data` from `msg`.

        `data` need not be on any button, and `msg` may be None: a modified client can
        send what it likes, and the bot must take callback data as untrusted (the
        handler tests forge both)."""
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}"
        self._callbacks[query_id] = _Callback(query_id, user.id, msg, data)
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.as_json(),
            "chat_instance": str(user.id),
            "data": data,
        }
        if msg is not None:
            query["message"] = self.message_json(msg)
        await self._deliver({"callback_query": query})
        return query_id

    def callback_answered(self, query_id: str) -> bool:
        return self._callbacks[query_id].answered

    async def next_event(
        self, user: EmulatedUser, kinds: tuple[str, ...] = ("message", "edit"), timeout: float = 5.0
    ) -> Event:
        """Wait for what the bot does next in this person's chat (messages and edits by default)."""
        deadline = asyncio.get_running_loop().time() + timeout
        changed = self._chat_changed.setdefault(user.id, asyncio.Condition())
        async with changed:
            while True:
                events = self._events[user.id]
                while self._seen[user.id] < len(events):
                    event = events[self._seen[user.id]]
                    self._seen[user.id] += 1
                    if event.kind in kinds and (event.message is None or event.message.from_bot):
                        return event
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise TimeoutError(f"the bot did not answer within {timeout}s")
                try:
                    await asyncio.wait_for(changed.wait(), left)
                except TimeoutError:
                    continue

    async def next_message(self, user: EmulatedUser, timeout: float = 5.0) -> EmulatedMessage:
        """The bot's next new or edited message in this chat."""
        event = await self.next_event(user, ("message", "edit"), timeout)
        assert event.message is not None
        return event.message

    def take_updates(self) -> list[dict[str, Any]]:
        """Every pending update, handed over and forgotten, as getUpdates with the next
        offset would: for a bot in this process that is fed directly (tests/support.py's
        Driver feeds them to the Dispatcher one by one, to see what each one caused)."""
        updates = list(self._updates)
        self._updates.clear()
        return updates

    def skip_pending(self, user: EmulatedUser) -> None:
        """Forget events not yet read, so the next wait sees only what comes after now."""
        self._seen[user.id] = len(self._events[user.id])

    async def close(self) -> None:
        """End waiting long polls and event streams, so the server can stop at once."""
        self.closing = True
        for queue in list(self._listeners):
            if not queue.full():
                queue.put_nowait(Event("close", 0))
        async with self._changed:
            self._changed.notify_all()
        for changed in list(self._chat_changed.values()):
            async with changed:
                changed.notify_all()

    # ---------------------------------------------------------------- files

    def file(self, file_id: str) -> StoredFile | None:
        """The stored file a file_id stands for, if the emulator issued it."""
        return self._files.get(file_id)

    def file_at(self, file_path: str) -> StoredFile | None:
        """The stored file at a getFile path (what /file/bot<token>/<path> serves)."""
        return self._file_paths.get(file_path)

    def _new_file(
        self,
        data: bytes,
        mime_type: str,
        folder: str,
        extension: str,
        file_name: str | None = None,
        size: tuple[int, int] = (0, 0),
    ) -> StoredFile:
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=f"{folder.rstrip('s')}{number}",
            file_unique_id=f"U{number}",
            file_path=f"{folder}/file_{number}{extension}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
            width=size[0],
            height=size[1],
        )
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _store_photo(self, data: bytes) -> list[StoredFile]:
        """A picture as Telegram keeps a photo: JPEGs of a few sizes, the largest last."""
        if len(data) > MAX_PHOTO_BYTES:
            raise BotApiError(413, "Request Entity Too Large")
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                # Checked before decoding: a small file can claim an enormous picture.
                if width + height > 10_000 or max(width, height) > 20 * min(width, height):
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
                rgba = image.convert("RGBA")
        except (OSError, ValueError, Image.DecompressionBombError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        picture = Image.new("RGB", rgba.size, "white")
        picture.paste(rgba, mask=rgba.getchannel("A"))
        longest = max(width, height)
        sides = [s for s in PHOTO_SIDES[:-1] if s < longest] + [min(longest, PHOTO_SIDES[-1])]
        sizes: list[StoredFile] = []
        for side in sides:
            scaled = picture
            if side < longest:
                shape = (
                    max(1, round(width * side / longest)),
                    max(1, round(height * side / longest)),
                )
                scaled = picture.resize(shape, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            scaled.save(out, "JPEG", quality=87)
            sizes.append(
                self._new_file(out.getvalue(), "image/jpeg", "photos", ".jpg", None, scaled.size)
            )
        for stored in sizes:
            self._photos[stored.file_id] = sizes
        return sizes

    def _store_document(self, data: bytes, file_name: str, mime_type: str) -> StoredFile:
        if len(data) > MAX_DOCUMENT_BYTES:
            raise BotApiError(413, "Request Entity Too Large")
        # A client that says only "bytes" (aiogram's uploads do) leaves the type to
        # Telegram, which goes by the name.
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        suffix = file_name.rpartition(".")[2] if "." in file_name else ""
        extension = (
            f".{suffix}" if suffix.isascii() and suffix.isalnum() and len(suffix) <= 8 else ""
        )
        return self._new_file(data, mime_type, "documents", extension, file_name or None)

    def _media(self, value: Any, kind: str) -> dict[str, Any]:
        """The Bot API fields of the file a bot sends as `kind`: an upload is stored, a
        file_id the emulator issued stands for its file."""
        if isinstance(value, Upload):
            if kind == "photo":
                return {"photo": [f.photo_size() for f in self._store_photo(value.data)]}
            stored = self._store_document(value.data, value.file_name, value.mime_type)
            return {"document": stored.document()}
        file_id = str(value)
        if file_id in self._photos:
            if kind != "photo":
                raise bad_request("type of file mismatch")
            return {"photo": [f.photo_size() for f in self._photos[file_id]]}
        stored_file = self._files.get(file_id)
        if stored_file is not None:
            if kind != "document":
                raise bad_request("type of file mismatch")
            return {"document": stored_file.document()}
        # A file_id the emulator never issued (the handler tests make them up for what a
        # person "sent"), or a URL: taken on trust, with nothing to show or download.
        return self._stand_in_media(kind, file_id, next(self._file_numbers))

    @staticmethod
    def _stand_in_media(kind: str, file_id: str | None, number: int) -> dict[str, Any]:
        if kind == "photo":
            size = {"file_id": file_id or f"photo-{number}", "file_unique_id": f"p{number}"}
            return {"photo": [{**size, "width": 640, "height": 480}]}
        return {"document": {"file_id": file_id or f"doc-{number}", "file_unique_id": f"d{number}"}}

    def description_for(self, language_code: str | None) -> str:
        """The description Telegram shows in an empty chat: the one for the person's
        language, else the one for everyone (setMyDescription keys by two letters)."""
        lang = (language_code or "")[:2]
        return self.descriptions.get(lang) or self.descriptions.get("", "")

    # ---------------------------------------------------------------- page events

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._listeners.discard(queue)

    async def _emit(self, event: Event) -> None:
        if event.chat_id in self._events:
            self._events[event.chat_id].append(event)
        for queue in list(self._listeners):
            if not queue.full():
                queue.put_nowait(event)
        changed = self._chat_changed.get(event.chat_id)
        if changed is not None:
            async with changed:
                changed.notify_all()

    # ---------------------------------------------------------------- updates

    async def _deliver(self, payload: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **payload}
        if self.webhook_url and self.webhook_sender is not None:
            task = asyncio.create_task(
                self.webhook_sender(self.webhook_url, self.webhook_secret, update)
            )
            self._webhook_tasks.add(task)
            task.add_done_callback(self._webhook_tasks.discard)
            return
        self._updates.append(update)
        async with self._changed:
            self._changed.notify_all()

    async def _get_updates(self, offset: int, limit: int, timeout: float) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        while self._updates and offset and self._updates[0]["update_id"] < offset:
            self._updates.popleft()
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates)), timeout
                    )
                except TimeoutError:
                    return []
        return list(itertools.islice(self._updates, 0, max(1, min(limit or 100, 100))))

    # ---------------------------------------------------------------- the Bot API

    def me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def commands_for(
        self, language_code: str | None, chat_id: int | None = None
    ) -> list[dict[str, str]]:
        """The command menu Telegram would show: chat scope, then language, then default."""
        lang = (language_code or "")[:2]
        for key in ((f"chat:{chat_id}", ""), ("default", lang), ("default", "")):
            if key in self.commands:
                return self.commands[key]
        return []

    async def respond(
        self, token: str, method: str, raw: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """One Bot API request answered as Telegram answers it: the HTTP status and the
        JSON body, `{"ok": true, "result": ...}` or the refusal in Telegram's words.

        The HTTP server (server.py) and the in-process session (session.py) both answer
        through here, so a bot hears the same whether or not a socket is between them. A
        dropped connection (an injected fault) comes out as ConnectionResetError, for
        each transport to act out its own way."""
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        try:
            result = await self.call(method, raw)
        except BotApiError as exc:
            return exc.code, exc.payload()
        except ValueError:
            return 400, bad_request("can't parse request").payload()
        return 200, {"ok": True, "result": result}

    async def call(self, method: str, raw: dict[str, Any]) -> Any:
        """Run one Bot API method with raw parameters; BotApiError on refusal."""
        name = method.lower()
        known = spec.methods().get(name)
        if known is None:
            self._problem(f"{method}: unknown method")
            raise BotApiError(404, "Not Found: method not found")
        params = self._coerce(known, raw)
        self.calls.append((known.name, params))
        await self._inject(name)
        handler = getattr(self, f"_m_{name}", None)
        if handler is None:
            self._problem(f"{known.name}: not implemented by the emulator")
            raise bad_request(f"method {known.name} is not supported by the local emulator")
        try:
            return await handler(params)
        except BotApiError as exc:
            if exc.code != 429:
                self._problem(f"{known.name}: {exc.description}")
            raise

    def _problem(self, text: str) -> None:
        log.warning("emulator refused: %s", text)
        self.problems.append(text)

    def _coerce(self, method: spec.Method, raw: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, value in raw.items():
            param = method.params.get(key)
            if param is None:
                if self.strict_unknown_parameters:
                    self._problem(f"{method.name}: unknown parameter {key!r}")
                continue
            if isinstance(value, str) and not param.is_string:
                try:
                    value = json.loads(value)
                except ValueError:
                    if "String" not in param.types:
                        raise bad_request(f"can't parse {key}") from None
            params[key] = value
        for name, param in method.params.items():
            if param.required and name not in params:
                raise bad_request(f"{name} is empty" if name != "text" else "message text is empty")
        return params

    async def _inject(self, name: str) -> None:
        faults = self.faults
        if not faults.applies(name):
            return
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.drops:
            faults.drops -= 1
            raise ConnectionResetError("injected dropped connection")
        if faults.server_errors:
            faults.server_errors -= 1
            raise BotApiError(502, "Bad Gateway")
        if faults.too_many:
            faults.too_many -= 1
            raise BotApiError(
                429, f"Too Many Requests: retry after {faults.retry_after}", faults.retry_after
            )

    def _chat(self, chat_id: Any) -> EmulatedUser:
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        user = self.users.get(cid)
        if user is None and self.open_chats and cid > 0:
            user = self.add_user(None, "Reader", cid)
            user.started = True
        if user is None or not user.started:
            raise bad_request("chat not found")
        if user.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _flood(self, *, paid: bool) -> None:
        now = time.monotonic()
        while self._sent and now - self._sent[0] >= 1.0:
            self._sent.popleft()
        limit = self.paid_flood_limit if paid else self.flood_limit
        if len(self._sent) >= limit * (1 + (0.0 if self.strict else self.flood_tolerance)):
            self.flood_refusals += 1
            raise BotApiError(429, "Too Many Requests: retry after 1", 1)
        self._sent.append(now)
        self.send_times.append(now)

    def _render(
        self, text: Any, parse_mode: Any, limit: int, *, caption: bool = False
    ) -> telegram_html.Parsed:
        text = "" if text is None else str(text)
        mode = (parse_mode or "").upper()
        parsed = telegram_html.parse(text) if mode == "HTML" else telegram_html.plain(text)
        if parsed.error:
            raise bad_request(f"can't parse entities: {parsed.error}")
        if not caption and not parsed.text.strip():
            raise bad_request("message text is empty")
        if len(parsed.text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        return parsed

    def _markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # reply keyboards are accepted and not drawn
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list):
            raise bad_request(
                'can\'t parse inline keyboard button: field "inline_keyboard" must be an Array'
            )
        for row in rows:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise bad_request("BUTTON_TEXT_INVALID")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
                if data is None and not any(
                    k in button
                    for k in ("url", "web_app", "login_url", "switch_inline_query", "copy_text")
                ):
                    raise bad_request("BUTTON_TYPE_INVALID")
        return markup

    def _stored(self, chat_id: Any, message_id: Any) -> EmulatedMessage:
        user = self._chat(chat_id)
        for msg in self._messages[user.id]:
            if msg.message_id == int(message_id) and msg.from_bot:
                if msg.deleted:
                    break
                return msg
        raise bad_request("message to edit not found")

    async def _new_bot_message(
        self,
        user: EmulatedUser,
        parsed: telegram_html.Parsed,
        params: dict[str, Any],
        kind: str = "text",
        media: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        msg = EmulatedMessage(
            chat_id=user.id,
            message_id=self._next_message_id(user.id),
            from_bot=True,
            text=parsed.text,
            page_html=parsed.page_html,
            date=self.now(),
            reply_markup=self._markup(params.get("reply_markup")),
            kind=kind,
            protect_content=bool(params.get("protect_content")),
            media=media,
            entities=entities,
        )
        self.sent_count += 1
        if not self.keep_messages:
            return self.message_json(msg)
        self._messages[user.id].append(msg)
        await self._emit(Event("message", user.id, msg))
        return self.message_json(msg)

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return self.me()

    async def _m_logout(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        return await self._get_updates(
            int(params.get("offset") or 0),
            int(params.get("limit") or 100),
            float(params.get("timeout") or 0),
        )

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        # The emulator holds what people type in the sandbox: it delivers it to this
        # machine only, never to an address a web page may have slipped in.
        if url and not is_loopback_url(url):
            raise bad_request("bad webhook: the local emulator delivers to this machine only")
        self.webhook_url = url
        self.webhook_secret = str(params.get("secret_token") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        self.webhook_secret = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        lang = str(params.get("language_code") or "")
        if scope.get("type") == "chat":
            return (f"chat:{scope.get('chat_id')}", "")
        return (str(scope.get("type", "default")), lang)

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params["commands"]
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be an array of at most 100 BotCommand")
        for cmd in commands:
            name, desc = str(cmd.get("command", "")), str(cmd.get("description", ""))
            if not (1 <= len(name) <= 32 and name.replace("_", "").isalnum() and name.islower()):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params)
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        if key[0].startswith("chat:"):
            await self._emit(Event("commands", int(key[0][5:])))
        return True

    async def _m_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(self._scope_key(params), None)
        return True

    async def _m_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(self._scope_key(params), [])

    @staticmethod
    def _set_text(store: dict[str, str], params: dict[str, Any], key: str, limit: int) -> bool:
        text = str(params.get(key) or "")
        if len(text) > limit:
            raise bad_request(f"{key} is too long")
        lang = str(params.get("language_code") or "")
        if text:
            store[lang] = text
        else:  # an empty one removes the language's own, as the Bot API says
            store.pop(lang, None)
        return True

    async def _m_setmydescription(self, params: dict[str, Any]) -> Any:
        return self._set_text(self.descriptions, params, "description", MAX_DESCRIPTION)

    async def _m_getmydescription(self, params: dict[str, Any]) -> Any:
        lang = str(params.get("language_code") or "")
        return {"description": self.descriptions.get(lang, "")}

    async def _m_setmyshortdescription(self, params: dict[str, Any]) -> Any:
        return self._set_text(
            self.short_descriptions, params, "short_description", MAX_SHORT_DESCRIPTION
        )

    async def _m_getmyshortdescription(self, params: dict[str, Any]) -> Any:
        lang = str(params.get("language_code") or "")
        return {"short_description": self.short_descriptions.get(lang, "")}

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        stored = self._files.get(str(params["file_id"]))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        self._chat(params["chat_id"])
        return True

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        user = self._chat(params["chat_id"])
        parsed = self._render(params.get("text"), params.get("parse_mode"), MAX_TEXT)
        self._markup(params.get("reply_markup"))
        self._flood(paid=bool(params.get("allow_paid_broadcast")))
        return await self._new_bot_message(user, parsed, params)

    async def _send_media(self, params: dict[str, Any], kind: str) -> Any:
        user = self._chat(params["chat_id"])
        parsed = self._render(
            params.get("caption"), params.get("parse_mode"), MAX_CAPTION, caption=True
        )
        self._markup(params.get("reply_markup"))
        media = self._media(params[kind], kind)
        self._flood(paid=bool(params.get("allow_paid_broadcast")))
        return await self._new_bot_message(user, parsed, params, kind=kind, media=media)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "photo")

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        return await self._send_media(params, "document")

    async def _m_copymessage(self, params: dict[str, Any]) -> Any:
        target = self._chat(params["chat_id"])
        source_user = self.users.get(int(params["from_chat_id"]))
        source = None
        if source_user is not None:
            source = next(
                (
                    m
                    for m in self._messages[source_user.id]
                    if m.message_id == int(params["message_id"]) and not m.deleted
                ),
                None,
            )
        if source is None:
            raise bad_request("message to copy not found")
        self._flood(paid=bool(params.get("allow_paid_broadcast")))
        parsed = telegram_html.Parsed(source.text, source.page_html, None)
        entities = source.entities
        if "caption" in params:
            parsed = self._render(
                params.get("caption"), params.get("parse_mode"), MAX_CAPTION, caption=True
            )
            entities = None
        message = await self._new_bot_message(
            target, parsed, params, kind=source.kind, media=source.media, entities=entities
        )
        return {"message_id": message["message_id"]}

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the local emulator")
        if self.strict:
            self._flood(paid=False)
        msg = self._stored(params.get("chat_id"), params.get("message_id"))
        parsed = self._render(params.get("text"), params.get("parse_mode"), MAX_TEXT)
        markup = self._markup(params.get("reply_markup"))
        if msg.page_html == parsed.page_html and msg.reply_markup == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.text, msg.page_html, msg.reply_markup, msg.edited = (
            parsed.text,
            parsed.page_html,
            markup,
            True,
        )
        await self._emit(Event("edit", msg.chat_id, msg))
        return self.message_json(msg)

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        if self.strict:
            self._flood(paid=False)
        msg = self._stored(params.get("chat_id"), params.get("message_id"))
        markup = self._markup(params.get("reply_markup"))
        if msg.reply_markup == markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        msg.reply_markup, msg.edited = markup, True
        await self._emit(Event("edit", msg.chat_id, msg))
        return self.message_json(msg)

    async def _delete(self, chat_id: Any, message_id: int) -> None:
        user = self.users.get(int(chat_id))
        if user is None:
            raise bad_request("chat not found")
        msg = next((m for m in self._messages[user.id] if m.message_id == message_id), None)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        if self.now() - msg.date > DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        msg.deleted = True
        await self._emit(Event("delete", user.id, msg))

    async def _m_deletemessage(self, params: dict[str, Any]) -> Any:
        await self._delete(params["chat_id"], int(params["message_id"]))
        return True

    async def _m_deletemessages(self, params: dict[str, Any]) -> Any:
        ids = params["message_ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be an array of 1-100 integers")
        deleted = False
        for mid in ids:
            try:
                await self._delete(params["chat_id"], int(mid))
                deleted = True
            except BotApiError:
                continue  # Telegram skips what it cannot delete
        if not deleted:
            raise bad_request("message to delete not found")
        return True

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query = self._callbacks.get(str(params["callback_query_id"]))
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        await self._emit(
            Event(
                "answer",
                query.user_id,
                text=str(text) if text else None,
                show_alert=bool(params.get("show_alert")),
            )
        )
        return True
