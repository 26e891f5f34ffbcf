"""Redis keys for dialogue state that name nobody: chat and user ids are keyed hashes."""

from __future__ import annotations

from typing import Literal

from aiogram.fsm.storage.base import KeyBuilder, StorageKey

from bot.crypto import IdentityCipher

PREFIX = "umid:fsm"


def chat_part(cipher: IdentityCipher, chat_id: int) -> str:
    """How a chat id appears in a key name."""
    return cipher.secret_hash(str(chat_id), "fsm-chat").hex()[:32]


def user_part(cipher: IdentityCipher, user_id: int) -> str:
    """How a user id appears in a key name."""
    return cipher.secret_hash(str(user_id), "fsm-user").hex()[:32]


class HashedKeyBuilder(KeyBuilder):
    """Like aiogram's default key layout, with ids replaced by HMACs from DATA_KEY, so a
    copy of Redis does not list who is in the middle of what."""

    def __init__(self, cipher: IdentityCipher, prefix: str = PREFIX) -> None:
        self.cipher = cipher
        self.prefix = prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        parts = [
            self.prefix,
            str(key.bot_id),
            chat_part(self.cipher, key.chat_id),
            user_part(self.cipher, key.user_id),
        ]
        if key.thread_id:
            parts.append(str(key.thread_id))
        parts.append(key.destiny)
        if part:
            parts.append(part)
        return ":".join(parts)
