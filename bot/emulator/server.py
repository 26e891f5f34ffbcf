"""HTTP for the emulator: the Bot API at /bot{token}/{method}, webhook delivery, the page."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.core import (
    LOOPBACK_HOSTS,
    BotApiError,
    Emulator,
    Upload,
    bad_request,
    form_params,
    is_loopback_url,
)

log = logging.getLogger(__name__)
EMULATOR_KEY = web.AppKey("emulator", Emulator)


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise BotApiError(400, "Bad Request: request body must be a JSON object")
        params.update(body)
        return params
    form = await request.post()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    uploads = {
        key: Upload(value.file.read(), value.filename, value.content_type)
        for key, value in form.items()
        if isinstance(value, web.FileField)
    }
    params.update(form_params(fields, uploads))
    return params


async def bot_api(request: web.Request) -> web.StreamResponse:
    emulator = request.app[EMULATOR_KEY]
    token, method = request.match_info["token"], request.match_info["method"]
    try:
        params = await _params(request) if token == emulator.token else {}
    except BotApiError as exc:
        return web.json_response(exc.payload(), status=exc.code)
    except ValueError:  # json.JSONDecodeError among them
        return web.json_response(bad_request("can't parse request").payload(), status=400)
    try:
        status, body = await emulator.respond(token, method, params)
    except ConnectionResetError:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)
    return web.json_response(body, status=status)


async def download(request: web.Request) -> web.StreamResponse:
    """A file by the path getFile gave, as https://api.telegram.org/file/bot<token>/<path>."""
    emulator = request.app[EMULATOR_KEY]
    stored = None
    if request.match_info["token"] == emulator.token:
        stored = emulator.file_at(request.match_info["path"])
    if stored is None:
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    return web.Response(body=stored.data, content_type=stored.mime_type)


def make_webhook_sender(
    session_holder: dict[str, aiohttp.ClientSession], emulator: Emulator
) -> Any:
    async def send(url: str, secret: str, update: dict[str, Any]) -> None:
        session = session_holder.get("session")
        if session is None or session.closed:
            session = session_holder["session"] = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        # Telegram retries a failing webhook; a few quick attempts are enough here.
        for attempt in range(5):
            try:
                async with session.post(url, json=update, headers=headers) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            emulator.webhook_retries += 1
            await asyncio.sleep(0.2 * (attempt + 1))
        log.warning("webhook delivery failed for update %s", update["update_id"])

    return send


@web.middleware
async def this_machine_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """The sandbox's page and Bot API answer this machine's own pages and programs only.

    Bound to loopback, they were still reachable from any web page open in the same
    browser: by a foreign Host name that resolves to 127.0.0.1 (DNS rebinding), or by a
    cross-origin form or text/plain POST, which needs no preflight, or by an image or a
    link, which send no Origin at all. A request must name a loopback host, come from no
    other origin nor another site (a browser says so in Sec-Fetch-Site), call the Bot API
    by POST only (as every client does), and post to the page's API only as JSON (which a
    foreign page cannot send without a preflight this server never answers)."""
    host = request.host.rsplit(":", 1)[0].strip("[]") if request.host else ""
    if host not in LOOPBACK_HOSTS:
        raise web.HTTPForbidden(text="this machine only")
    origin = request.headers.get("Origin")
    if origin is not None and not is_loopback_url(origin):
        raise web.HTTPForbidden(text="this machine only")
    if request.headers.get("Sec-Fetch-Site", "none") not in {"same-origin", "none"}:
        raise web.HTTPForbidden(text="this machine only")
    if request.path.startswith("/bot") and request.method != "POST":
        raise web.HTTPMethodNotAllowed(request.method, ["POST"])
    if (
        request.method == "POST"
        and request.path.startswith("/api/")
        and request.content_type != "application/json"
    ):
        raise web.HTTPUnsupportedMediaType(text="JSON expected")
    response: web.StreamResponse = await handler(request)
    return response


def build_app(emulator: Emulator, *, with_page: bool = True) -> web.Application:
    """The aiohttp application: Bot API routes and, for the sandbox, the page."""
    app = web.Application(client_max_size=60 * 1024 * 1024, middlewares=[this_machine_only])
    app[EMULATOR_KEY] = emulator
    holder: dict[str, aiohttp.ClientSession] = {}
    emulator.webhook_sender = make_webhook_sender(holder, emulator)

    async def close_session(_: web.Application) -> None:
        if holder.get("session"):
            await holder["session"].close()

    app.on_cleanup.append(close_session)
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", download)
    if with_page:
        from bot.emulator import page

        page.add_routes(app)
    return app


class RunningEmulator:
    """An emulator served on 127.0.0.1; `url` is what TELEGRAM_API_URL should be."""

    def __init__(self, emulator: Emulator, runner: web.AppRunner, port: int) -> None:
        self.emulator = emulator
        self.runner = runner
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.emulator.close()
        await self.runner.cleanup()


async def serve(
    emulator: Emulator, port: int = 0, *, with_page: bool = True, host: str = "127.0.0.1"
) -> RunningEmulator:
    """Start serving; port 0 picks a free one."""
    # In-flight long polls end at close(); a short grace period is all shutdown needs.
    runner = web.AppRunner(
        build_app(emulator, with_page=with_page), access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    actual = sockets[0].getsockname()[1] if sockets else port
    return RunningEmulator(emulator, runner, int(actual))
