"""The sandbox page: a chat with the bot as Telegram would show it, for any persona."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.emulator.core import MAX_TEXT, EmulatedMessage, EmulatedUser, Emulator, Event

STATIC = Path(__file__).resolve().parent / "static"
# What a person may attach on the page. (Telegram takes far larger files; the sandbox
# keeps everything in memory.)
MAX_UPLOAD = 10 * 1024 * 1024
# Opened in the browser's own viewer; anything else is downloaded, never rendered on the
# page's origin (an HTML or SVG file would run its scripts there).
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
_MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    language_code: str
    user_id: int
    role: str = "supporter"


PERSONAS: tuple[Persona, ...] = (
    Persona("supporter-en", "Supporter · English", "en", 910_000_001),
    Persona("supporter-ru", "Сторонник · Русский", "ru", 910_000_002),
    Persona("supporter-kk", "Қолдаушы · Қазақша", "kk", 910_000_003),
    Persona("supporter-ky", "Колдоочу · Кыргызча", "ky", 910_000_004),
    Persona("supporter-tg", "Ҷонибдор · Тоҷикӣ", "tg", 910_000_005),
    Persona("supporter-tk", "Goldaýjy · Türkmençe", "tk", 910_000_006),
    Persona("supporter-uz", "Tarafdor · Oʻzbekcha", "uz", 910_000_007),
    Persona("supporter-uz_Cyrl", "Тарафдор · Ўзбекча", "uz-Cyrl", 910_000_008),
    # Staff roles are granted to these ids when the sandbox starts (bot/sandbox.py), so
    # the staff console can be tried too: a broadcast to everyone needs two of them.
    Persona("staff-admin", "Admin · English", "en", 910_000_101, "admin"),
    Persona("staff-editor", "Редактор · Русский", "ru", 910_000_102, "editor"),
    Persona("staff-broadcaster", "Broadcaster · English", "en", 910_000_103, "broadcaster"),
    # A relative of the sandbox's hearing case (bot/sandbox.py), to try /report.
    Persona("family-ru", "Родственница · Русский", "ru", 910_000_201, "family"),
)
_BY_KEY = {p.key: p for p in PERSONAS}
# Each language a persona can speak, by its Telegram language code, and its name.
LANGUAGES = {p.language_code: p.label.split(" · ")[1] for p in PERSONAS if p.role == "supporter"}


def spoken_language(emulator: Emulator, chat_id: int) -> str | None:
    """The language the bot speaks in this chat, read from the command menu it set for
    the chat; None while it has set none, or where the menu cannot say.

    The bot keeps its language choice in its own database, which the emulator cannot
    read, and its messages are no reliable sign (a case card names other languages). But
    the bot sets a chat's own menu (setMyCommands, scope chat) in the person's language
    whenever it changes, and it gave Telegram the same menu for each language code at
    start (setMyCommands, language_code). The chat's menu is in the language whose
    menu, as Telegram would show it to a person of that language, shares the most
    commands and descriptions with it. On a tie (Uzbek in Latin and in Cyrillic share
    the code "uz", so one list), the language that list was set for wins. A menu that
    matches no list is in a language the bot could give Telegram no list of its own for:
    if exactly one language is in that place (Uzbek in Cyrillic), that one."""
    menu = emulator.commands.get((f"chat:{chat_id}", ""))
    if not menu:
        return None

    def pairs(commands: list[dict[str, str]]) -> set[tuple[str, str]]:
        return {(c["command"], c["description"]) for c in commands}

    chat = pairs(menu)
    scores = {code: len(chat & pairs(emulator.commands_for(code))) for code in LANGUAGES}
    best = max(scores.values())
    if best:
        tied = [code for code, score in scores.items() if score == best]
        own = [code for code in tied if ("default", code) in emulator.commands]
        return (own or tied)[0]
    default = emulator.commands.get(("default", ""))
    borrowed = [
        code
        for code in LANGUAGES
        if ("default", code) not in emulator.commands
        and emulator.commands_for(code) not in ([], default)
    ]
    return borrowed[0] if len(borrowed) == 1 else None


def persona_label(emulator: Emulator, persona: Persona) -> str:
    """The persona's label with the language the bot now speaks to them: their role as
    it was, the language as the chat's menu says ("?" where it cannot say)."""
    if (f"chat:{persona.user_id}", "") not in emulator.commands:
        # No menu of the chat's own yet (or no more, after /forget): the bot speaks the
        # language the person's Telegram reports.
        return persona.label
    spoken = spoken_language(emulator, persona.user_id)
    if spoken == persona.language_code:
        return persona.label
    return f"{persona.label.split(' · ')[0]} · {LANGUAGES.get(spoken or '', '?')}"


def _persona(key: Any) -> Persona:
    persona = _BY_KEY.get(str(key or ""))
    if persona is None:
        raise web.HTTPNotFound(text="unknown persona")
    return persona


def _user(request: web.Request, key: str | None) -> tuple[Emulator, EmulatedUser]:
    from bot.emulator.server import EMULATOR_KEY

    emulator = request.app[EMULATOR_KEY]
    persona = _persona(key)
    user = emulator.users.get(persona.user_id)
    if user is None:
        user = emulator.add_user(
            persona.language_code, persona.label.split(" · ")[0], persona.user_id
        )
    return emulator, user


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def personas(request: web.Request) -> web.StreamResponse:
    from bot.emulator.server import EMULATOR_KEY

    emulator = request.app[EMULATOR_KEY]
    return web.json_response(
        [{"key": p.key, "label": persona_label(emulator, p), "role": p.role} for p in PERSONAS]
    )


def _message_json(emulator: Emulator, message: EmulatedMessage) -> dict[str, Any]:
    """What the page draws, and whether each file can be shown: a file_id the emulator
    never issued (a test's stand-in) has no content."""
    data = message.page()
    for kind in ("photo", "document"):
        if kind in data:
            data[kind] = {
                **data[kind],
                "available": emulator.file(data[kind]["file_id"]) is not None,
            }
    return data


async def chat(request: web.Request) -> web.StreamResponse:
    emulator, user = _user(request, request.query.get("persona"))
    return web.json_response(
        {
            "messages": [_message_json(emulator, m) for m in emulator.messages(user)],
            "commands": emulator.commands_for(user.language_code, user.id),
            "bot": emulator.bot_name,
            "description": emulator.description_for(user.language_code),
            "label": persona_label(emulator, _persona(request.query.get("persona"))),
        }
    )


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON expected") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return data


async def send(request: web.Request) -> web.StreamResponse:
    """What the person typed, with its bold and italic as entities, and a file if they
    attached one (as base64: the page's API takes JSON only, see server.py)."""
    data = await _body(request)
    emulator, user = _user(request, data.get("persona"))
    text = str(data.get("text", ""))
    entities = data.get("entities") or None
    if entities is not None and not (
        isinstance(entities, list) and all(isinstance(e, dict) for e in entities)
    ):
        raise web.HTTPBadRequest(text="entities must be a list of MessageEntity objects")
    attached = data.get("file")
    try:
        if isinstance(attached, dict):
            upload = _upload(attached)
            await emulator.send_file(user, upload[0], upload[1], upload[2], text, entities)
        else:
            if not text.strip():
                raise web.HTTPBadRequest(text="empty message")
            if len(text) > MAX_TEXT:
                raise web.HTTPBadRequest(text=f"A message has at most {MAX_TEXT} characters.")
            await emulator.send_text(user, text, entities)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response({"ok": True})


def _upload(attached: dict[str, Any]) -> tuple[bytes, str, str]:
    """The bytes, name and type of an attached file; refused over MAX_UPLOAD."""
    try:
        raw = base64.b64decode(str(attached.get("data", "")), validate=True)
    except (binascii.Error, ValueError):
        raise web.HTTPBadRequest(text="the file is not base64") from None
    if len(raw) > MAX_UPLOAD:
        raise web.HTTPRequestEntityTooLarge(
            MAX_UPLOAD, len(raw), text=f"Files of up to {MAX_UPLOAD // 2**20} MB can be sent here."
        )
    if not raw:
        raise web.HTTPBadRequest(text="the file is empty")
    name = str(attached.get("name") or "file").replace("/", "_").replace("\\", "_")[:255]
    mime = str(attached.get("type") or "")
    return raw, name, mime if _MIME.match(mime) else "application/octet-stream"


async def file(request: web.Request) -> web.StreamResponse:
    """A file shown in this persona's chat, for the page to show or download: only a
    file some message of this chat carries, so one persona cannot read another's."""
    emulator, user = _user(request, request.query.get("persona"))
    file_id = request.query.get("file_id", "")
    shown = any(file_id in m.file_ids() for m in emulator.messages(user))
    stored = emulator.file(file_id) if shown else None
    if stored is None:
        raise web.HTTPNotFound(text="no such file in this chat")
    name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = "inline" if stored.mime_type in INLINE_TYPES else "attachment"
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type,
        headers={
            "Content-Disposition": (
                f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def press(request: web.Request) -> web.StreamResponse:
    data = await _body(request)
    emulator, user = _user(request, data.get("persona"))
    message = next(
        (m for m in emulator.messages(user) if m.message_id == data.get("message_id")), None
    )
    if message is None or not any(
        b.get("callback_data") == data.get("data") for b in message.buttons()
    ):
        raise web.HTTPBadRequest(text="no such button")
    await emulator.press_data(user, message, str(data["data"]))
    return web.json_response({"ok": True})


def _event_json(emulator: Emulator, event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"type": event.kind}
    if event.message is not None:
        out["message"] = _message_json(emulator, event.message)
    if event.text:
        out["text"] = event.text
        out["alert"] = event.show_alert
    return out


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: new messages, edits, deletions and toasts, as they happen."""
    emulator, user = _user(request, request.query.get("persona"))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = emulator.subscribe()
    try:
        await response.write(b": connected\n\n")
        while True:
            event = await queue.get()
            if event.kind == "close":
                break
            if event.chat_id != user.id:
                continue
            payload = json.dumps(_event_json(emulator, event), ensure_ascii=False)
            await response.write(f"data: {payload}\n\n".encode())
    except (ConnectionResetError, RuntimeError):
        pass
    finally:
        emulator.unsubscribe(queue)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_get("/api/personas", personas)
    app.router.add_get("/api/chat", chat)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/press", press)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/file", file)
    app.router.add_static("/static/", STATIC)
