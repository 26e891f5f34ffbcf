"""A strict flood limit in a process of its own, in front of the emulator.

Telegram's servers judge the rate by when requests reach them, on a clock that does not
stop for the benchmark's own work. The emulator shares its process with the simulated
people, so its clock sometimes stalls for a few milliseconds, and requests that queued
meanwhile look simultaneous. This gate does nothing but count: messages and edits (what
Telegram limits), at most LIMIT in any one second, no slack; the rest gets Telegram's
429. Everything is passed through to the emulator unchanged.

    python -m benchmarks.flood_gate --upstream http://127.0.0.1:PORT [--limit 30]

prints its own base URL; GET /stats answers {"passed": N, "refused": N}.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import deque

import aiohttp
from aiohttp import web


def counted(method: str) -> bool:
    name = method.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "edit", "copy", "forward")) or name == "stoppoll"


async def main(upstream: str, limit: int) -> None:
    arrivals: deque[float] = deque()
    figures = {"passed": 0, "refused": 0}
    client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))

    async def relay(request: web.Request) -> web.StreamResponse:
        if counted(request.match_info["method"]):
            now = time.monotonic()
            while arrivals and now - arrivals[0] >= 1.0:
                arrivals.popleft()
            if len(arrivals) >= limit:
                figures["refused"] += 1
                return web.json_response(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests: retry after 1",
                        "parameters": {"retry_after": 1},
                    },
                    status=429,
                )
            arrivals.append(now)
            figures["passed"] += 1
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with client.request(
            request.method, upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            return web.Response(
                body=await answer.read(), status=answer.status, content_type="application/json"
            )

    async def stats(_: web.Request) -> web.StreamResponse:
        return web.json_response(figures)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/stats", stats)
    app.router.add_route("*", "/bot{token}/{method}", relay)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"http://127.0.0.1:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await client.close()
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flood_gate")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--limit", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.upstream.rstrip("/"), args.limit))
