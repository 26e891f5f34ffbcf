"""Global pacing: sends start evenly spaced (1/rate apart, no bursts), no more than `rate`
start in any sliding window, and a pause that every sender honours after Telegram says
"retry after".

Even spacing matters: a burst of `rate` requests leaves the process together but
arrives spread out, and the next second's first request can then land in the same
server-side window as the burst's last ones.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque


class RateLimiter:
    # A hair over one second, so that jitter on the way to Telegram cannot squeeze
    # rate + 1 requests into the server's own one-second window.
    WINDOW = 1.01

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Stop all sending for `seconds` (Telegram's retry_after)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                slot = max(self._next, now)
                if now < slot:
                    await asyncio.sleep(slot - now)
                    continue
                while self._starts and now - self._starts[0] >= self.WINDOW:
                    self._starts.popleft()
                if len(self._starts) < self.rate:
                    self._starts.append(now)
                    # From the planned slot, not from when the sleep ended: timer lateness
                    # would otherwise add up and lower the rate.
                    self._next = max(self._next, now - 0.5 / self.rate) + 1.0 / self.rate
                    return
                await asyncio.sleep(self.WINDOW - (now - self._starts[0]))
