"""The send budget's arithmetic: GCRA (the generic cell rate algorithm) with two lanes.

One decision per request, shared by the in-memory budget and mirrored line by line by
the Redis script (`redis_budget.py`), so that one process and many behave alike.

- Global: every send takes the next slot of an evenly spaced schedule (`interval` apart).
  An interactive request reserves its slot even if it lies in the future, so a person who
  just wrote is queued ahead of everything bulk; a bulk request takes a slot only when it
  is the next one (at most one interval ahead, so that it can be asleep and ready when
  the slot comes), so bulk gets what the interactive lane leaves.
- Per chat: GCRA with a small burst (a reply and its edit go together), then one message
  per `chat_interval`. A bulk request for a chat that had its share is told to come back
  later and reserves nothing; an interactive one reserves its turn in the chat first and
  asks for its global slot when that turn comes (a chat's wait never holds global slots).
- A pause (Telegram's retry_after) stops both lanes.

A slot may be taken up to `CATCH_UP` of an interval late without moving the schedule:
timer lateness would otherwise add up and lower the rate. What it catches up is taken
from the margin, so it stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Lane(StrEnum):
    INTERACTIVE = "interactive"  # an answer to a person who just wrote or pressed a button
    BULK = "bulk"  # the outbox: alerts, broadcasts, progress messages


class Verdict(IntEnum):
    BUSY = 0  # nothing reserved; ask again after `wait` (paused, or bulk behind the queue)
    GO = 1  # granted: send after `wait`
    CHAT_TURN = 2  # interactive: the chat's turn is reserved at `wait`; then ask for a slot
    CHAT_BUSY = 3  # bulk: the chat had its share; deliver it `wait` later
    TOO_LATE = 4  # interactive: the earliest slot is beyond the caller's deadline


CATCH_UP = 0.05
EPSILON = 0.001  # a millisecond: "now" for float comparisons


@dataclass(frozen=True)
class Limits:
    rate: float  # global sends per second
    paid_rate: float = 1000.0  # paid broadcasts (allow_paid_broadcast), their own schedule
    chat_interval: float = 1.0  # one message per second in a chat, after the burst
    chat_burst: int = 3
    # Slots are spaced a hair wider than the rate's own spacing, so that requests that
    # arrive up to `margin` seconds unevenly (jitter on the way, a busy event loop) cannot
    # put rate + 1 into Telegram's one-second window. The rate kept is 1 / (1 + margin).
    margin: float = 0.01

    @property
    def window(self) -> float:
        return 1.0 + self.margin

    def interval(self, paid: bool) -> float:
        return self.window / (self.paid_rate if paid else self.rate)

    @property
    def chat_tolerance(self) -> float:
        return (self.chat_burst - 1) * self.chat_interval


@dataclass
class Book:
    """The schedule as one process keeps it (the Redis script keeps the same in keys)."""

    limits: Limits
    tat: dict[bool, float] = field(default_factory=dict)  # paid? -> next free slot
    chats: dict[int | str, float] = field(default_factory=dict)  # chat -> its next turn
    paused_until: float = 0.0

    def pause(self, now: float, seconds: float) -> None:
        self.paused_until = max(self.paused_until, now + seconds)

    def decide(
        self,
        now: float,
        lane: Lane,
        chat: int | str | None,
        *,
        paid: bool = False,
        max_wait: float = float("inf"),
    ) -> tuple[Verdict, float]:
        """One request's verdict and how long to wait; reserves what the verdict grants."""
        if now < self.paused_until:
            return Verdict.BUSY, self.paused_until - now
        interval = self.limits.interval(paid)
        slot = max(self.tat.get(paid, 0.0), now - CATCH_UP * interval)
        if lane is Lane.BULK and slot > now + interval + EPSILON:
            return Verdict.BUSY, slot - interval - now
        turn = 0.0
        if chat is not None:
            turn = self.chats.get(chat, 0.0)
            ready = max(now, turn - self.limits.chat_tolerance)
            if ready > now + EPSILON:
                if lane is Lane.BULK:
                    return Verdict.CHAT_BUSY, ready - now
                if ready - now > max_wait:
                    return Verdict.TOO_LATE, ready - now
                self.chats[chat] = max(turn, ready) + self.limits.chat_interval
                return Verdict.CHAT_TURN, ready - now
        wait = max(0.0, slot - now)
        if wait > max_wait:
            return Verdict.TOO_LATE, wait
        if chat is not None:
            self.chats[chat] = max(turn, now) + self.limits.chat_interval
        self.tat[paid] = slot + interval
        return Verdict.GO, wait

    def forget_idle_chats(self, now: float) -> None:
        """Chats whose turn has passed hold no state worth keeping: memory stays bounded."""
        self.chats = {chat: turn for chat, turn in self.chats.items() if turn > now}
