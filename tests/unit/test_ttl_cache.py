"""The renderers' short cache: one load for many readers at once, no failure kept."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.delivery.ttl_cache import TtlCache


class Loader:
    """A load that counts its calls and finishes when the test lets it."""

    def __init__(self, value: str = "case text", *, fail: bool = False) -> None:
        self.value = value
        self.fail = fail
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        await self.release.wait()
        if self.fail:
            raise RuntimeError("database went away")
        return self.value


async def test_sixteen_concurrent_gets_of_one_key_make_one_load():
    cache: TtlCache[int, str] = TtlCache(30.0)
    load = Loader()
    gets = [asyncio.create_task(cache.get(7, load)) for _ in range(16)]
    await asyncio.sleep(0)
    load.release.set()
    assert await asyncio.gather(*gets) == ["case text"] * 16
    assert load.calls == 1
    # Kept afterwards as before: a later get loads nothing.
    assert await cache.get(7, load) == "case text" and load.calls == 1


async def test_fresh_callers_share_the_load_under_way_and_other_keys_load_apart():
    cache: TtlCache[int, str] = TtlCache(30.0)
    load = Loader()
    other = Loader("other case")
    gets = [asyncio.create_task(cache.get(7, load, fresh=i % 2 == 0)) for i in range(4)]
    elsewhere = asyncio.create_task(cache.get(8, other))
    await asyncio.sleep(0)
    load.release.set()
    other.release.set()
    assert await asyncio.gather(*gets) == ["case text"] * 4
    assert await elsewhere == "other case"
    assert (load.calls, other.calls) == (1, 1)
    # Once it is in, `fresh` loads again, as it always did.
    assert await cache.get(7, load, fresh=True) == "case text" and load.calls == 2


async def test_a_failed_load_reaches_every_waiter_and_is_not_kept():
    cache: TtlCache[int, str] = TtlCache(30.0)
    broken = Loader(fail=True)
    gets = [asyncio.create_task(cache.get(7, broken)) for _ in range(16)]
    await asyncio.sleep(0)
    broken.release.set()
    results = await asyncio.gather(*gets, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert broken.calls == 1
    # The next reader loads anew, and gets the value.
    good = Loader()
    good.release.set()
    assert await cache.get(7, good) == "case text" and good.calls == 1


async def test_a_cancelled_reader_does_not_cancel_the_load_the_others_wait_for():
    cache: TtlCache[int, str] = TtlCache(30.0)
    load = Loader()
    first = asyncio.create_task(cache.get(7, load))
    await asyncio.sleep(0)
    second = asyncio.create_task(cache.get(7, load))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    load.release.set()
    assert await second == "case text"
    assert load.calls == 1


async def test_a_failure_nobody_waits_for_any_more_is_not_reported_as_lost(caplog):
    cache: TtlCache[int, str] = TtlCache(30.0)
    broken = Loader(fail=True)
    waiter = asyncio.create_task(cache.get(7, broken))
    await asyncio.sleep(0)
    waiter.cancel()
    broken.release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
    again = Loader()
    again.release.set()
    assert await cache.get(7, again) == "case text"


async def test_a_load_under_way_when_cleared_answers_its_waiters_but_is_not_kept():
    cache: TtlCache[int, str] = TtlCache(30.0)
    old = Loader("before the edit")
    waiting = asyncio.create_task(cache.get(7, old))
    await asyncio.sleep(0)
    cache.clear()  # the load may have read what has just changed
    old.release.set()
    assert await waiting == "before the edit"
    new = Loader("after the edit")
    new.release.set()
    assert await cache.get(7, new) == "after the edit" and new.calls == 1


async def test_peek_tells_a_kept_none_from_nothing_kept():
    cache: TtlCache[str, int | None] = TtlCache(60)
    assert cache.peek("a") is None
    assert await cache.get("a", _value(None)) is None
    assert cache.peek("a") == (None,)
    aged: TtlCache[str, int | None] = TtlCache(0)
    await aged.get("a", _value(1))
    assert aged.peek("a") is None


def _value(value: int | None) -> Callable[[], Awaitable[int | None]]:
    async def load() -> int | None:
        return value

    return load
