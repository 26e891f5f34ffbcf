"""A standalone local Bot API server: python -m bot.emulator [--port N] [--strict] ..."""

from __future__ import annotations

import argparse
import asyncio

from bot.emulator.core import Emulator
from bot.emulator.server import serve


async def _main(args: argparse.Namespace) -> None:
    emulator = Emulator(
        flood_limit=args.flood_limit,
        strict=args.strict,
        open_chats=args.open_chats,
        keep_messages=not args.lean,
    )
    if args.token:
        emulator.token = args.token
        emulator.bot_id = int(args.token.split(":", 1)[0])
    server = await serve(emulator, args.port, with_page=not args.no_page)
    print(f"{server.url} {emulator.token}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.emulator")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="")
    parser.add_argument("--flood-limit", type=int, default=30)
    parser.add_argument(
        "--strict", action="store_true", help="no slack over the flood limit; edits count too"
    )
    parser.add_argument("--open-chats", action="store_true", help="any chat id has started the bot")
    parser.add_argument("--lean", action="store_true", help="count sent messages, keep none")
    parser.add_argument("--no-page", action="store_true", help="no sandbox page")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
