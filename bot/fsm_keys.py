"""Redis keys for dialogue state that name nobody: chat and user ids are keyed hashes."""

from __future__ import annotations

from typing import Literal

from aiogram.fsm.storage.base import KeyBuilder, StorageKey

from bot.crypto import IdentityCipher


class HashedKeyBuilder(KeyBuilder):
    """Like aiogram's default key layout, with ids replaced by HMACs from DATA_KEY, so a
    copy of Redis does not list who is in the middle of what."""

    def __init__(self, cipher: IdentityCipher, prefix: str = "umid:fsm") -> None:
        self.cipher = cipher
        self.prefix = prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        parts = [
            self.prefix,
            str(key.bot_id),
            self.cipher.secret_hash(str(key.chat_id), "fsm-chat").hex()[:32],
            self.cipher.secret_hash(str(key.user_id), "fsm-user").hex()[:32],
        ]
        if key.thread_id:
            parts.append(str(key.thread_id))
        parts.append(key.destiny)
        if part:
            parts.append(part)
        return ":".join(parts)
