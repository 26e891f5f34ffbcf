import os

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.app import build_fsm_storage
from config import load_settings

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_memory_storage_by_default():
    assert isinstance(build_fsm_storage(load_settings(_env_file=None, redis_url="")), MemoryStorage)


@pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
async def test_redis_storage_when_configured():
    from aiogram.fsm.storage.redis import RedisStorage

    from bot.crypto import generate_key

    storage = build_fsm_storage(
        load_settings(_env_file=None, redis_url=REDIS_URL, data_key=generate_key())
    )
    assert isinstance(storage, RedisStorage)
    key = StorageKey(bot_id=42, chat_id=734_512_981, user_id=734_512_981)
    try:
        await storage.set_state(key, "dialogue:step")
        assert await storage.get_state(key) == "dialogue:step"
        names = [
            k.decode() if isinstance(k, bytes) else k
            for k in await storage.redis.keys("umid:fsm:*")
        ]
        assert names and not any("734512981" in n for n in names)
        # A dialogue left half-way expires instead of staying for ever.
        ttls = [await storage.redis.ttl(name) for name in names]
        assert all(0 < ttl <= 2 * 86400 for ttl in ttls), ttls
        await storage.set_state(key, None)
    finally:
        await storage.close()
