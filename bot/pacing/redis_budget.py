"""The send budget shared by every process and instance through Redis.

The decision of `gcra.Book.decide` runs as one Lua script, atomically, on Redis's own
clock (TIME), so processes on several machines agree on the schedule without locks.
Keys hold the next free slot, the pause and each chat's next turn, in microseconds;
a chat is named by a keyed hash, never by its id.

If Redis goes away, bulk sending pauses (the outbox keeps every delivery), replies go on
at a conservative rate kept in this process, one line is logged, and every call after a
second tries Redis again, so the budget recovers by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.pacing.budget import LocalBudget, SendBudget
from bot.pacing.gcra import CATCH_UP, EPSILON, Lane, Limits, Verdict

log = logging.getLogger(__name__)

_DECIDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < paused then return {0, paused - now} end
local interactive = ARGV[1] == '1'
local interval = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[5])
local eps = tonumber(ARGV[8])
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'),
                      now - math.floor(tonumber(ARGV[7]) * interval))
if (not interactive) and slot > now + interval + eps then
  return {0, slot - interval - now}
end
local has_chat = ARGV[6] == '1'
local turn = 0
if has_chat then
  turn = tonumber(redis.call('GET', KEYS[3]) or '0')
  local ready = math.max(now, turn - tonumber(ARGV[4]))
  if ready > now + eps then
    if not interactive then return {3, ready - now} end
    if ready - now > max_wait then return {4, ready - now} end
    local next_turn = math.max(turn, ready) + tonumber(ARGV[3])
    redis.call('SET', KEYS[3], string.format('%d', next_turn),
               'PX', math.floor((next_turn - now) / 1000) + 1000)
    return {2, ready - now}
  end
end
local wait = math.max(0, slot - now)
if wait > max_wait then return {4, wait} end
if has_chat then
  local next_turn = math.max(turn, now) + tonumber(ARGV[3])
  redis.call('SET', KEYS[3], string.format('%d', next_turn),
             'PX', math.floor((next_turn - now) / 1000) + 1000)
end
local next_slot = slot + interval
redis.call('SET', KEYS[1], string.format('%d', next_slot),
           'PX', math.floor((next_slot - now) / 1000) + 60000)
return {1, wait}
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > paused then
  redis.call('SET', KEYS[1], string.format('%d', until_),
             'PX', math.floor((until_ - now) / 1000) + 1000)
end
return 1
"""

_US = 1_000_000
# Microseconds stand for "no deadline" (Lua numbers are doubles: keep it exact).
_NO_DEADLINE = 10**15


class RedisBudget(SendBudget):
    """The schedule in Redis, shared by every process that sends for this bot token."""

    RETRY_EVERY = 1.0  # seconds between attempts to reach Redis again when it is away
    BULK_PROBE = 1.0  # how long bulk sending waits before asking again while Redis is away

    def __init__(
        self,
        redis: Redis,
        limits: Limits,
        *,
        bot_id: int,
        chat_key: Callable[[int], str],
        fallback_rate: float,
    ) -> None:
        super().__init__(limits)
        self.redis = redis
        self.chat_key = chat_key
        prefix = f"umid:budget:{{{bot_id}}}"  # one hash slot: the script's keys go together
        self._slot_keys = {False: f"{prefix}:slot", True: f"{prefix}:paid"}
        self._pause_key = f"{prefix}:pause"
        self._chat_prefix = f"{prefix}:chat:"
        self._decide_script = redis.register_script(_DECIDE)
        self._pause_script = redis.register_script(_PAUSE)
        self.fallback = LocalBudget(
            Limits(rate=fallback_rate, paid_rate=fallback_rate,
                   chat_interval=limits.chat_interval, chat_burst=limits.chat_burst)
        )  # fmt: skip
        self._away_since: float | None = None
        self._retry_at = 0.0

    @property
    def degraded(self) -> bool:
        """Whether Redis is away and this process paces on its own."""
        return self._away_since is not None

    async def _decide(
        self, lane: Lane, chat: int | None, *, paid: bool, max_wait: float
    ) -> tuple[Verdict, float]:
        now = time.monotonic()
        if self._away_since is not None and now < self._retry_at:
            return await self._without_redis(lane, chat, max_wait=max_wait)
        keys = [self._slot_keys[paid], self._pause_key]
        if chat is not None:
            keys.append(self._chat_prefix + self.chat_key(chat))
        args: list[Any] = [
            1 if lane is Lane.INTERACTIVE else 0,
            round(self.limits.interval(paid) * _US),
            round(self.limits.chat_interval * _US),
            round(self.limits.chat_tolerance * _US),
            min(_NO_DEADLINE, round(max_wait * _US)) if max_wait != float("inf") else _NO_DEADLINE,
            1 if chat is not None else 0,
            CATCH_UP,
            round(EPSILON * _US),
        ]
        try:
            verdict, wait = await self._decide_script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._went_away(exc)
            return await self._without_redis(lane, chat, max_wait=max_wait)
        self._came_back()
        return Verdict(int(verdict)), int(wait) / _US

    async def _without_redis(
        self, lane: Lane, chat: int | None, *, max_wait: float
    ) -> tuple[Verdict, float]:
        if lane is Lane.BULK:
            return Verdict.BUSY, self.BULK_PROBE
        return await self.fallback._decide(lane, chat, paid=False, max_wait=max_wait)

    def _went_away(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + self.RETRY_EVERY
        if self._away_since is None:
            self._away_since = now
            log.warning(
                "send budget: Redis unreachable (%s); bulk sending paused, replies paced "
                "by this process at %.0f/s until it is back",
                type(exc).__name__,
                self.fallback.limits.rate,
            )

    def _came_back(self) -> None:
        if self._away_since is not None:
            log.warning(
                "send budget: Redis is back after %.0f s; shared pacing resumed",
                time.monotonic() - self._away_since,
            )
            self._away_since = None

    async def pause(self, seconds: float) -> None:
        self.stats.paused += 1
        await self.fallback.pause(seconds)
        try:
            await self._pause_script(keys=[self._pause_key], args=[round(seconds * _US)])
        except (RedisError, OSError) as exc:
            self._went_away(exc)

    async def close(self) -> None:
        await self.redis.aclose()
