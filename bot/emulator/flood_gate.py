"""A strict flood limit in a process of its own, in front of the emulator.

Telegram's servers judge the rate by when requests reach them, on a clock that does not
stop for anyone else's work. An emulator that shares its process with the bot, the tests
or a benchmark's simulated people sometimes stalls for a few milliseconds, and requests
that queued meanwhile look simultaneous. This gate does nothing but count: messages and edits (what
Telegram limits), at most LIMIT in any one second, no slack; the rest gets Telegram's
429. Everything is passed through to the emulator unchanged.

    python -m bot.emulator.flood_gate --upstream http://127.0.0.1:PORT [--limit 30]

prints its own base URL; GET /stats answers {"passed": N, "refused": N}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import aiohttp
from aiohttp import web


def start(upstream: str, limit: int = 30) -> tuple[subprocess.Popen[str], str]:
    """A gate in front of `upstream`, in a process of its own, and its base URL.

    With FLOOD_GATE_LOG=FILE in the environment it journals every arrival there."""
    journal = ["--log", os.environ["FLOOD_GATE_LOG"]] if os.environ.get("FLOOD_GATE_LOG") else []
    gate = subprocess.Popen(
        [sys.executable, "-m", "bot.emulator.flood_gate", "--upstream", upstream,
         "--limit", str(limit), *journal],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert gate.stdout is not None
    return gate, gate.stdout.readline().strip()


async def figures(url: str) -> dict[str, int]:
    """How many counted requests the gate let through, and how many it refused."""
    async with aiohttp.ClientSession() as client, client.get(f"{url}/stats") as answer:
        return dict(await answer.json())


def counted(method: str) -> bool:
    name = method.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "edit", "copy", "forward")) or name == "stoppoll"


async def main(upstream: str, limit: int, log: str | None) -> None:
    arrivals: deque[float] = deque()
    # For studying a run: arrival time, method, the sender's port (one per process's
    # connection), and whether it was let through.
    journal: list[tuple[float, str, int, bool]] = []
    figures = {"passed": 0, "refused": 0}
    # A connection of its own for every relayed call: a pooled one the emulator has just
    # closed fails after the call may have been handled, and the bot, seeing an error,
    # sends the message again (a duplicate alert in the spike test, 2 runs in 6).
    client = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=600),
        connector=aiohttp.TCPConnector(force_close=True),
    )

    async def relay(request: web.Request) -> web.StreamResponse:
        if counted(request.match_info["method"]):
            now = time.monotonic()
            while arrivals and now - arrivals[0] >= 1.0:
                arrivals.popleft()
            peer = request.transport.get_extra_info("peername") if request.transport else None
            if log:
                port = peer[1] if peer else 0
                journal.append((now, request.match_info["method"], port, len(arrivals) < limit))
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
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        if log:
            with open(log, "w") as out:  # noqa: ASYNC230 - once, at the end
                for line in journal:
                    out.write(" ".join(map(str, line)) + "\n")
        await client.close()
        await runner.cleanup()


if __name__ == "__main__":
    # Telegram's servers do not share our CPUs: on a small machine busy with the bot's
    # processes, the gate must not wait for a core, or its clock is as late as it waits.
    with contextlib.suppress(OSError):
        os.nice(-10)
    parser = argparse.ArgumentParser(prog="python -m bot.emulator.flood_gate")
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--log", help="write each counted arrival to this file at the end")
    args = parser.parse_args()
    asyncio.run(main(args.upstream.rstrip("/"), args.limit, args.log))
