"""Two staff decisions on one broadcast that overlap, or a staff cancel and the monitor
starting a scheduled broadcast: the broadcast's row decides which came first, and the
other is refused (or, for a cancel that comes second, stops what was queued).

Each interleaving is forced, not hoped for, in one of two ways:

- "after": the second read the broadcast before the first committed, and acts on that
  stale copy (a staff member on the review screen while another presses the button);
- "inside": the first is inside its transaction, about to write to the outbox, when the
  second starts; the second runs until it finishes or asks to write the broadcast's row.
  Only from there may the first go on: when the row is locked, the second waits for the
  first to commit, and waiting for the second to finish would never end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.delivery import outbox
from bot.services import broadcasts, identity
from bot.services.broadcasts import BroadcastError, Draft, Version
from bot.storage import Storage
from config import Settings
from db.models import Audience, AuditEntry, Broadcast, BroadcastStatus, Delivery, DeliveryState
from db.repositories import broadcasts as repo
from db.types import utcnow

# An operation on a broadcast read in `session`: returns when done, raises BroadcastError
# when refused.
Act = Callable[[AsyncSession, Broadcast], Awaitable[object]]


@dataclass(frozen=True)
class People:
    author: int
    first: int  # two other staff members, who approve or decline
    second: int
    everyone: int  # how many a broadcast to everyone reaches


async def people(storage: Storage, settings: Settings) -> People:
    cipher = IdentityCipher(settings.key_bytes)
    ids = []
    async with storage.sessionmaker() as s, s.begin():
        for i in range(6):
            person = await identity.ensure(s, cipher, 9_600_000_001 + i, "en")
            assert person.id is not None
            ids.append(person.id)
    return People(ids[0], ids[1], ids[2], len(ids))


async def submitted(storage: Storage, author: int, *, scheduled: bool = False) -> int:
    """A broadcast to everyone, waiting for approval; or one to the English readers set
    for an hour from now (under the threshold, so scheduled without approval)."""
    if scheduled:
        draft = Draft(
            audience=Audience.LANGUAGE,
            audience_value="en",
            versions={"en": Version("Hello")},
            send_at=utcnow() + dt.timedelta(hours=1),
        )
    else:
        draft = Draft(audience=Audience.ALL, versions={"en": Version("Hello")})
    async with storage.sessionmaker() as s, s.begin():
        done = await broadcasts.submit(
            s, draft, author_id=author, actor="author", threshold=1000, paid=False
        )
    assert done.broadcast.id is not None
    expected = BroadcastStatus.SCHEDULED if scheduled else BroadcastStatus.AWAITING
    assert done.broadcast.status == expected
    return done.broadcast.id


@dataclass(frozen=True)
class Outcome:
    status: str
    recipients: int
    queued: Counter[str]  # the audience's deliveries by state
    audit: list[str]  # actions on the broadcast, in order


async def outcome(storage: Storage, broadcast_id: int) -> Outcome:
    """What was committed."""
    async with storage.sessionmaker() as s:
        broadcast = await s.get(Broadcast, broadcast_id)
        assert broadcast is not None
        rows = await s.execute(
            select(col(Delivery.state)).where(col(Delivery.batch) == repo.batch_of(broadcast_id))
        )
        actions = await s.execute(
            select(col(AuditEntry.action))
            .where(col(AuditEntry.target) == f"broadcast:{broadcast_id}")
            .order_by(col(AuditEntry.id))
        )
        return Outcome(
            broadcast.status, broadcast.recipients, Counter(rows.scalars()), list(actions.scalars())
        )


def approve(who: int) -> Act:
    async def act(session: AsyncSession, broadcast: Broadcast) -> object:
        return await broadcasts.approve(
            session, broadcast, approver_id=who, actor=f"staff{who}", paid=False
        )

    return act


def reject(who: int) -> Act:
    async def act(session: AsyncSession, broadcast: Broadcast) -> None:
        await broadcasts.reject(session, broadcast, approver_id=who, actor=f"staff{who}")

    return act


async def cancel(session: AsyncSession, broadcast: Broadcast) -> None:
    await broadcasts.cancel(session, broadcast, "staff")


async def attempt(session: AsyncSession, broadcast: Broadcast, act: Act) -> str:
    """ "ok" when the operation was done and committed, else the reason it was refused."""
    try:
        await act(session, broadcast)
    except BroadcastError as exc:
        await session.rollback()
        return exc.reason
    await session.commit()
    return "ok"


async def in_own_session(storage: Storage, broadcast_id: int, act: Act) -> str:
    async with storage.sessionmaker() as s:
        broadcast = await broadcasts.by_id(s, broadcast_id)
        assert broadcast is not None
        return await attempt(s, broadcast, act)


class Inside:
    """Starts `second` when the first operation first writes to the outbox (by then it
    has decided what to do), and lets the first go on once the second has finished or
    has asked to write the broadcast's row (see the module's docstring)."""

    def __init__(self, storage: Storage, second: Callable[[], Coroutine[Any, Any, str]]):
        self.storage = storage
        self.second = second
        self.task: asyncio.Task[str] | None = None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = outbox.enqueue  # what the service module calls by that name

        async def enqueue(session: AsyncSession, **kwargs: Any) -> int:
            if self.task is None:
                await self._run_second()
            return await original(session, **kwargs)

        monkeypatch.setattr(broadcasts, "enqueue", enqueue)

    async def _run_second(self) -> None:
        asked = asyncio.Event()

        def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            # Runs in the task that executes the statement (SQLAlchemy's greenlet).
            if asyncio.current_task() is self.task and statement.lstrip().upper().startswith(
                "UPDATE BROADCASTS"
            ):
                asked.set()

        engine = self.storage.engine.sync_engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            self.task = asyncio.create_task(self.second())
            waiting = asyncio.create_task(asked.wait())
            await asyncio.wait({self.task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        finally:
            event.remove(engine, "before_cursor_execute", seen)

    async def result(self) -> str:
        assert self.task is not None, "the first operation never wrote to the outbox"
        return await self.task


async def race(
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
    broadcast_id: int,
    first: Act,
    second: Act,
    when: str,
) -> tuple[str, str]:
    """Both operations on one broadcast, interleaved as `when` says; what each returned."""
    if when == "after":
        async with storage.sessionmaker() as one, storage.sessionmaker() as two:
            mine = await broadcasts.by_id(one, broadcast_id)
            theirs = await broadcasts.by_id(two, broadcast_id)
            assert mine is not None and theirs is not None
            return await attempt(one, mine, first), await attempt(two, theirs, second)
    inside = Inside(storage, lambda: in_own_session(storage, broadcast_id, second))
    inside.install(monkeypatch)
    got = await in_own_session(storage, broadcast_id, first)
    return got, await inside.result()


WHEN = ["after", "inside"]


@pytest.mark.parametrize("when", WHEN)
@pytest.mark.parametrize("winner", ["approve", "reject"])
async def test_approve_and_reject_only_one_wins(
    storage: Storage,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    winner: str,
    when: str,
) -> None:
    """Whichever decision comes first stands; the other is refused as no longer waiting.
    A declined broadcast puts nothing in the outbox for its audience."""
    cast = await people(storage, settings)
    bid = await submitted(storage, cast.author)
    yes, no = approve(cast.first), reject(cast.second)
    first, second = (yes, no) if winner == "approve" else (no, yes)

    results = await race(storage, monkeypatch, bid, first, second, when)

    got = await outcome(storage, bid)
    if winner == "approve":
        assert (got.status, got.recipients) == (BroadcastStatus.SENDING, cast.everyone)
        assert got.queued == Counter({DeliveryState.PENDING: cast.everyone})
        assert got.audit == ["broadcast.submit", "broadcast.approve"]
    else:
        assert got.status == BroadcastStatus.REJECTED
        assert got.queued == Counter()
        assert got.audit == ["broadcast.submit", "broadcast.reject"]
    assert results == ("ok", "not_awaiting")


@pytest.mark.parametrize("when", WHEN)
async def test_two_approvals_start_it_once(
    storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The second approval is refused: one audit entry, one delivery per person, and the
    count of recipients is the first approval's (not the nothing a second start adds)."""
    cast = await people(storage, settings)
    bid = await submitted(storage, cast.author)

    results = await race(storage, monkeypatch, bid, approve(cast.first), approve(cast.second), when)

    got = await outcome(storage, bid)
    assert (got.status, got.recipients) == (BroadcastStatus.SENDING, cast.everyone)
    assert got.queued == Counter({DeliveryState.PENDING: cast.everyone})
    assert got.audit == ["broadcast.submit", "broadcast.approve"]
    assert results == ("ok", "not_awaiting")


async def test_a_cancel_while_the_monitor_starts_it_stops_everything(
    storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel that lands while the monitor is starting a scheduled broadcast (after it
    found the broadcast due, before it committed) is not lost: the broadcast ends
    cancelled with nothing left to send, whichever of the two took the row first."""
    cast = await people(storage, settings)
    bid = await submitted(storage, cast.author, scheduled=True)
    async with storage.sessionmaker() as s:
        scheduled = await s.get(Broadcast, bid)
        assert scheduled is not None
        due = scheduled.send_at
    inside = Inside(storage, lambda: in_own_session(storage, bid, cancel))
    inside.install(monkeypatch)

    async with storage.sessionmaker() as s, s.begin():
        started = await broadcasts.start_due(s, due, paid=False)
    cancelled = await inside.result()

    got = await outcome(storage, bid)
    assert got.status == BroadcastStatus.CANCELLED
    assert got.queued[DeliveryState.PENDING] == 0
    assert cancelled == "ok"
    # Here the monitor took the row first, so the cancel came second and stopped the rows
    # it had queued; had the cancel come first, nothing would have been queued at all.
    assert started == [bid]
    assert got.queued == Counter({DeliveryState.SKIPPED: cast.everyone})


async def test_a_cancel_is_not_turned_into_done(storage: Storage, settings: Settings) -> None:
    """The monitor read a sending broadcast with nothing left, then a cancel committed
    (while the monitor was showing its report): finishing does not overwrite it."""
    cast = await people(storage, settings)
    bid = await submitted(storage, cast.author)
    assert await in_own_session(storage, bid, approve(cast.first)) == "ok"
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(Delivery).values(state=DeliveryState.SENT))

    async with storage.sessionmaker() as monitor, monitor.begin():
        seen = await broadcasts.by_id(monitor, bid)
        assert seen is not None and seen.status == BroadcastStatus.SENDING
        assert await in_own_session(storage, bid, cancel) == "ok"
        finished = await broadcasts.finish_if_done(monitor, seen, 0)

    assert not finished
    assert (await outcome(storage, bid)).status == BroadcastStatus.CANCELLED


@pytest.mark.parametrize("action", ["pause", "resume"])
async def test_pause_or_resume_does_not_undo_a_cancel(
    storage: Storage, settings: Settings, action: str
) -> None:
    """Pause or resume pressed on a screen read before a cancel committed is refused."""
    cast = await people(storage, settings)
    bid = await submitted(storage, cast.author)
    assert await in_own_session(storage, bid, approve(cast.first)) == "ok"
    if action == "resume":

        async def pause(session: AsyncSession, broadcast: Broadcast) -> None:
            await broadcasts.pause(session, broadcast, "staff")

        assert await in_own_session(storage, bid, pause) == "ok"
    act = broadcasts.pause if action == "pause" else broadcasts.resume

    async def stale(session: AsyncSession, broadcast: Broadcast) -> None:
        await act(session, broadcast, "staff")

    async with storage.sessionmaker() as s:
        seen = await broadcasts.by_id(s, bid)
        assert seen is not None
        assert await in_own_session(storage, bid, cancel) == "ok"
        result = await attempt(s, seen, stale)

    got = await outcome(storage, bid)
    assert got.status == BroadcastStatus.CANCELLED
    assert got.queued == Counter({DeliveryState.SKIPPED: cast.everyone})
    assert result == ("not_sending" if action == "pause" else "not_paused")
