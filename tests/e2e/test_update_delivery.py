"""Case updates through the delivery engine against the emulator: each reader gets one
message, in their own language, and a discreet reader's message names nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.crypto import IdentityCipher
from bot.emulator import Emulator
from bot.emulator.server import serve
from bot.services import updates
from bot.storage import Storage
from config import Settings
from db.repositories import cases as cases_repo
from tests.e2e.test_delivery import Env, received


@pytest.fixture
async def env(settings: Settings, storage: Storage, small_cases) -> AsyncIterator[Env]:
    emulator = Emulator(flood_limit=30)
    server = await serve(emulator, 0, with_page=False)
    bot_settings = settings.model_copy(
        update={"bot_token": SecretStr(emulator.token), "telegram_api_url": server.url}
    )
    env = Env(emulator, server, bot_settings, storage, IdentityCipher(settings.key_bytes))
    yield env
    for bot in env.bots:
        await bot.session.close()
    await server.stop()


async def publish(env: Env, kind: str, texts: dict[str, str], new: str | None = None) -> None:
    async with env.storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "test-detained")
        assert case is not None
        await updates.publish(session, case, kind, texts, new_status=new, actor="test")


async def test_news_reaches_each_reader_once_in_their_language(env: Env):
    [ru] = await env.followers(1, language="ru")
    [uz] = await env.followers(1, language="uz")
    [discreet] = await env.followers(1, discreet=True)
    await publish(
        env,
        "news",
        {"ru": "Адвоката допустили к нему.", "uz": "Advokat unga kirishga ruxsat oldi."},
    )
    await env.worker().run(until_idle=True)
    await env.worker().run(until_idle=True)  # nothing is left to send twice

    [to_ru] = received(env.emulator, ru)
    assert "Алишер Тестов" in to_ru and "Адвоката допустили к нему." in to_ru
    assert "Advokat" not in to_ru
    [to_uz] = received(env.emulator, uz)
    assert "Advokat unga kirishga ruxsat oldi." in to_uz and "Адвоката" not in to_uz
    [to_discreet] = received(env.emulator, discreet)
    assert "Testov" not in to_discreet and "Тестов" not in to_discreet
    assert "Адвоката" not in to_discreet
    assert env.emulator.problems == []


async def test_a_release_with_a_note_reads_as_good_news(env: Env):
    [en] = await env.followers(1, language="en")
    [ru] = await env.followers(1, language="ru")
    await publish(env, "status", {"en": "He is home with his family."}, new="released")
    await env.worker().run(until_idle=True)
    [to_en] = received(env.emulator, en)
    assert "Alisher Testov" in to_en and "Released!" in to_en
    assert "He is home with his family." in to_en
    [to_ru] = received(env.emulator, ru)
    # The note falls back to the only language it was written in.
    assert "Алишер Тестов" in to_ru and "He is home with his family." in to_ru
