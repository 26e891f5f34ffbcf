"""A local Telegram Bot API server: for the sandbox, the end-to-end tests and benchmarks."""

from bot.emulator.core import EmulatedMessage, EmulatedUser, Emulator

__all__ = ["EmulatedMessage", "EmulatedUser", "Emulator"]
