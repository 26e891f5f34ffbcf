"""A person's side of a conversation with the running bot, for the end-to-end tests."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from bot.emulator import EmulatedMessage, EmulatedUser, Emulator

# Generous: these bound only a failing run, and a loaded two-core machine is slow.
ANSWER_TIMEOUT = 20.0


async def say(emu: Emulator, user: EmulatedUser, text: str) -> EmulatedMessage:
    """Send a message; the bot's next new or edited message."""
    emu.skip_pending(user)
    await emu.send_text(user, text)
    return await emu.next_message(user, timeout=ANSWER_TIMEOUT)


async def tap(emu: Emulator, user: EmulatedUser, label: str) -> EmulatedMessage:
    """Press the newest button whose label holds `label`; the bot's next message."""
    emu.skip_pending(user)
    await emu.press(user, label)
    return await emu.next_message(user, timeout=ANSWER_TIMEOUT)


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 40.0,
    what: str = "did not happen in time",
) -> None:
    """Wait until `check()` holds (what the delivery worker sends arrives in its time);
    `check` may read the database, as an async function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        held = check()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        assert loop.time() < deadline, what
        await asyncio.sleep(0.05)


def from_bot(emu: Emulator, user: EmulatedUser) -> list[EmulatedMessage]:
    """Every message the bot sent this person, deleted ones included."""
    return [m for m in emu.messages(user, include_deleted=True) if m.from_bot]


def has_button(emu: Emulator, user: EmulatedUser, label: str) -> bool:
    """Whether a visible message in the chat has a button whose label holds `label`."""
    return any(label in b.get("text", "") for m in emu.messages(user) for b in m.buttons())
