"""The sandbox page: a chat with the bot as Telegram would show it, for any persona."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.emulator.core import EmulatedUser, Emulator, Event

STATIC = Path(__file__).resolve().parent / "static"


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


def _user(request: web.Request, key: str | None) -> tuple[Emulator, EmulatedUser]:
    from bot.emulator.server import EMULATOR_KEY

    emulator = request.app[EMULATOR_KEY]
    persona = _BY_KEY.get(key or "")
    if persona is None:
        raise web.HTTPNotFound(text="unknown persona")
    user = emulator.users.get(persona.user_id)
    if user is None:
        user = emulator.add_user(
            persona.language_code, persona.label.split(" · ")[0], persona.user_id
        )
    return emulator, user


async def index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def personas(request: web.Request) -> web.StreamResponse:
    return web.json_response([{"key": p.key, "label": p.label, "role": p.role} for p in PERSONAS])


async def chat(request: web.Request) -> web.StreamResponse:
    emulator, user = _user(request, request.query.get("persona"))
    return web.json_response(
        {
            "messages": [m.page() for m in emulator.messages(user)],
            "commands": emulator.commands_for(user.language_code, user.id),
            "bot": emulator.bot_name,
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
    data = await _body(request)
    emulator, user = _user(request, data.get("persona"))
    text = str(data.get("text", ""))[:4096]
    if not text.strip():
        raise web.HTTPBadRequest(text="empty message")
    await emulator.send_text(user, text)
    return web.json_response({"ok": True})


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


def _event_json(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"type": event.kind}
    if event.message is not None:
        out["message"] = event.message.page()
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
            payload = json.dumps(_event_json(event), ensure_ascii=False)
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
    app.router.add_static("/static/", STATIC)
