"""The outbox: durable deliveries, claimed in batches and settled one by one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Delivery, DeliveryState, Person
from db.types import utcnow


def _insert_ignoring_duplicates(session: AsyncSession) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING in the engine's own dialect."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt: Insert = module.insert(Delivery).on_conflict_do_nothing(index_elements=["dedupe_key"])
    return stmt


async def add_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert deliveries; ones whose dedupe key exists already are silently kept as they are."""
    if not rows:
        return 0
    # RETURNING counts what was really inserted, the same way on both engines.
    stmt = _insert_ignoring_duplicates(session).returning(col(Delivery.id))
    return len((await session.scalars(stmt, list(rows))).all())


async def exists(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether a delivery with this dedupe key was written already (in any state)."""
    row = await session.execute(
        select(col(Delivery.id)).where(col(Delivery.dedupe_key) == dedupe_key).limit(1)
    )
    return row.first() is not None


async def addressed(session: AsyncSession, dedupe_key: str) -> bool:
    """Whether the delivery with this dedupe key reached its reader or is on its way
    (sent, waiting, or leased by a worker this very moment)."""
    row = await session.execute(
        select(col(Delivery.id))
        .where(
            col(Delivery.dedupe_key) == dedupe_key,
            col(Delivery.state).in_(
                [DeliveryState.PENDING, DeliveryState.PAUSED, DeliveryState.SENT]
            ),
        )
        .limit(1)
    )
    return row.first() is not None


@dataclass(frozen=True)
class Claimed:
    id: int
    person_id: int
    spec: str
    urgent: bool
    paid: bool
    attempts: int
    tg_cipher: bytes
    locale: str
    timezone: str
    quiet_from: int | None
    quiet_to: int | None
    delivery: str
    discreet: bool
    protect_content: bool
    autodelete_hours: int | None
    leased_until: dt.datetime


async def claim(
    session: AsyncSession, now: dt.datetime, limit: int, lease: dt.timedelta
) -> list[Claimed]:
    """Take up to `limit` due deliveries of active people and lease them for a while.

    Picking and leasing are one statement. On SQLite the driver begins a transaction only
    at the first write, so a read followed by an update let two workers lease the same
    rows. On PostgreSQL the picked rows are locked with SKIP LOCKED, so several workers
    share the outbox without waiting for each other. A lease that expires (a worker died)
    makes the row due again.
    """
    due = (
        select(col(Delivery.id))
        .where(col(Delivery.state) == DeliveryState.PENDING, col(Delivery.next_attempt_at) <= now)
        .order_by(col(Delivery.urgent).desc(), col(Delivery.next_attempt_at), col(Delivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    leased = await session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(due))
        .values(next_attempt_at=now + lease)
        .returning(col(Delivery.id))
    )
    ids = list(leased.scalars())
    if not ids:
        return []
    rows = await session.execute(
        select(
            col(Delivery.id),
            col(Delivery.person_id),
            col(Delivery.spec),
            col(Delivery.urgent),
            col(Delivery.paid),
            col(Delivery.attempts),
            col(Person.tg_cipher),
            col(Person.locale),
            col(Person.timezone),
            col(Person.quiet_from),
            col(Person.quiet_to),
            col(Person.delivery),
            col(Person.discreet),
            col(Person.protect_content),
            col(Person.autodelete_hours),
            col(Person.active),
        )
        .join(Person, col(Person.id) == col(Delivery.person_id))
        .where(col(Delivery.id).in_(ids))
        .order_by(col(Delivery.urgent).desc(), col(Delivery.id))
    )
    out: list[Claimed] = []
    inactive: list[int] = []
    for row in rows.all():
        *fields, active = row
        if not active:
            inactive.append(row[0])
            continue
        out.append(Claimed(*fields, leased_until=now + lease))  # type: ignore[misc]
    if inactive:
        await settle(session, inactive, state=DeliveryState.SKIPPED, error="inactive")
    return out


async def settle(
    session: AsyncSession,
    ids: Sequence[int],
    *,
    state: DeliveryState,
    error: str | None = None,
    sent_at: dt.datetime | None = None,
) -> None:
    await session.execute(
        update(Delivery)
        .where(col(Delivery.id).in_(list(ids)))
        .values(state=state.value, last_error=error, sent_at=sent_at)
    )


async def hold(session: AsyncSession, delivery_id: int) -> None:
    await session.execute(
        update(Delivery).where(col(Delivery.id) == delivery_id).values(state=DeliveryState.HELD)
    )


async def deactivate(session: AsyncSession, person_id: int, today: dt.date) -> None:
    """The person blocked the bot: no more sending, and their queued deliveries are dropped."""
    await session.execute(
        update(Person).where(col(Person.id) == person_id).values(active=False, inactive_since=today)
    )
    await session.execute(
        update(Delivery)
        .where(
            col(Delivery.person_id) == person_id,
            col(Delivery.state).in_([DeliveryState.PENDING, DeliveryState.HELD]),
        )
        .values(state=DeliveryState.SKIPPED, last_error="inactive")
    )


async def counts(session: AsyncSession, batch: str) -> dict[str, int]:
    rows = await session.execute(
        select(col(Delivery.state), func.count())
        .where(col(Delivery.batch) == batch)
        .group_by(col(Delivery.state))
    )
    return {state: int(n) for state, n in rows.all()}


async def sent_between(session: AsyncSession, batch: str, since: dt.datetime) -> int:
    q = (
        select(func.count())
        .select_from(Delivery)
        .where(col(Delivery.batch) == batch, col(Delivery.sent_at) >= since)
    )
    return int((await session.execute(q)).scalar_one())


async def held_people(session: AsyncSession) -> list[int]:
    rows = await session.execute(
        select(col(Delivery.person_id)).where(col(Delivery.state) == DeliveryState.HELD).distinct()
    )
    return list(rows.scalars())


async def held_for(session: AsyncSession, person_id: int) -> list[Delivery]:
    rows = await session.execute(
        select(Delivery)
        .where(col(Delivery.person_id) == person_id, col(Delivery.state) == DeliveryState.HELD)
        .order_by(col(Delivery.id))
    )
    return list(rows.scalars())


async def due_deletions(
    session: AsyncSession, now: dt.datetime, limit: int
) -> list[tuple[int, int, bytes]]:
    rows = await session.execute(
        select(col(Delivery.id), col(Delivery.message_id), col(Person.tg_cipher))
        .join(Person, col(Person.id) == col(Delivery.person_id))
        .where(col(Delivery.delete_at) <= now, col(Delivery.message_id).is_not(None))
        .limit(limit)
    )
    return [(int(i), int(m), bytes(c)) for i, m, c in rows.all()]


async def delete_on_arrival(
    session: AsyncSession, person_id: int, now: dt.datetime, within: dt.timedelta
) -> None:
    """Deliveries to the person that are on their way (leased by a worker, or due within
    `within`) are to be deleted as soon as they are sent: a panic must not be undone by
    an alert that was in flight at that moment."""
    await session.execute(
        update(Delivery)
        .where(
            col(Delivery.person_id) == person_id,
            col(Delivery.state) == DeliveryState.PENDING,
            col(Delivery.next_attempt_at) <= now + within,
        )
        .values(delete_at=now)
    )


async def forget_message(session: AsyncSession, delivery_id: int) -> None:
    await session.execute(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(message_id=None, delete_at=None)
    )


async def purge(session: AsyncSession, before: dt.datetime) -> int:
    """Settled deliveries older than `before`, whose messages need no more care."""
    result = await session.execute(
        delete(Delivery).where(
            col(Delivery.state).in_(
                [DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.SKIPPED]
            ),
            col(Delivery.created_at) < before,
            col(Delivery.message_id).is_(None),
        )
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


async def sent_in_batch(session: AsyncSession, batch: str) -> list[int]:
    """People who already received something from this batch (to tell them of a change)."""
    rows = await session.execute(
        select(col(Delivery.person_id))
        .where(col(Delivery.batch) == batch, col(Delivery.state) == DeliveryState.SENT)
        .distinct()
    )
    return list(rows.scalars())


# A withdrawn delivery keeps this as its error; sent anyway (it was in a worker's hands),
# it keeps it as SENT too, so that what depends on it can tell (see mark_sent_many).
WITHDRAWN = "withdrawn"
# A follow-up (a hearing's change notice) written dormant: it goes only if the withdrawn
# delivery it follows is sent after all. Never released, it stays skipped.
AWAITS_SEND = "awaits_send"


def follow_ups_of(batch: str) -> str:
    """The batch of the follow-ups to a batch's deliveries (a hearing's change notices)."""
    return f"{batch}:change"


async def withdraw_in_flight(session: AsyncSession, batch: str) -> list[int]:
    """Withdraw the batch's pending or held deliveries (they no longer apply: a moved or
    cancelled hearing), and return the people whose delivery was withdrawn: a worker may
    hold it leased in memory and send it anyway. In one statement, so a row a worker
    records as sent meanwhile is either withdrawn and returned here, or left alone (and
    sent, for `sent_in_batch`)."""
    result = await session.execute(
        update(Delivery)
        .where(
            col(Delivery.batch) == batch,
            col(Delivery.state).in_([DeliveryState.PENDING, DeliveryState.HELD]),
        )
        .values(state=DeliveryState.SKIPPED, last_error=WITHDRAWN)
        # Every withdrawn row's person: RETURNING cannot tell a held row from a leased one,
        # and a follow-up of a row that is never sent is simply never released.
        .returning(col(Delivery.person_id))
    )
    return sorted(set(result.scalars()))


async def release_follow_ups(session: AsyncSession, sent_ids: Sequence[int]) -> int:
    """Dormant follow-ups of deliveries among `sent_ids` that were withdrawn and then sent
    (a reminder in flight when its hearing was cancelled) become due now.

    Only follow-ups written after the delivery was (by its withdrawal, or a later one):
    the notice of an earlier change the person was never reminded of stays dormant."""
    if not sent_ids:
        return 0
    late = await session.execute(
        select(col(Delivery.person_id), col(Delivery.batch), col(Delivery.created_at)).where(
            col(Delivery.id).in_(list(sent_ids)),
            col(Delivery.state) == DeliveryState.SENT,
            col(Delivery.last_error) == WITHDRAWN,
        )
    )
    released = 0
    now = utcnow()
    for person_id, batch, created_at in late.all():
        result = await session.execute(
            update(Delivery)
            .where(
                col(Delivery.person_id) == person_id,
                col(Delivery.batch) == follow_ups_of(batch),
                col(Delivery.state) == DeliveryState.SKIPPED,
                col(Delivery.last_error) == AWAITS_SEND,
                col(Delivery.created_at) >= created_at,
            )
            .values(state=DeliveryState.PENDING, last_error=None, next_attempt_at=now)
        )
        released += int(cast(CursorResult[Any], result).rowcount or 0)
    return released


async def has_due(session: AsyncSession, before: dt.datetime) -> bool:
    """Whether anything is to be sent (or is leased, by a worker that died) before then."""
    q = (
        select(col(Delivery.id))
        .where(
            col(Delivery.state) == DeliveryState.PENDING,
            col(Delivery.next_attempt_at) <= before,
        )
        .limit(1)
    )
    return (await session.execute(q)).first() is not None


async def has_pending(session: AsyncSession) -> bool:
    """Whether anything is still to be sent, now or later."""
    q = select(col(Delivery.id)).where(col(Delivery.state) == DeliveryState.PENDING).limit(1)
    return (await session.execute(q)).first() is not None


async def message_ids_of(session: AsyncSession, person_id: int) -> list[int]:
    """Telegram message ids of alerts sent to the person that the bot may still delete."""
    rows = await session.execute(
        select(col(Delivery.message_id)).where(
            col(Delivery.person_id) == person_id, col(Delivery.message_id).is_not(None)
        )
    )
    return [m for m in rows.scalars() if m is not None]


_T = Delivery.__table__  # type: ignore[attr-defined]
# Built once: statements executed for many rows at a time by the worker's writer.
_MARK_SENT = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        state=DeliveryState.SENT,
        sent_at=bindparam("b_at"),
        message_id=bindparam("b_mid"),
        # A panic while the message was in flight has already set when it goes.
        delete_at=func.coalesce(_T.c.delete_at, bindparam("b_del", type_=_T.c.delete_at.type)),
        # A row withdrawn while in flight is still recorded as sent (its message is out,
        # and may have to be deleted), but keeps its mark: its follow-ups go after it.
        # Evaluated on the row as the update finds it: on PostgreSQL a withdrawal that
        # commits while this waits for the row is seen.
        last_error=case((_T.c.last_error == WITHDRAWN, WITHDRAWN), else_=None),
        attempts=_T.c.attempts + 1,
    )
)
_RESCHEDULE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(
        next_attempt_at=bindparam("b_at"),
        last_error=bindparam("b_err"),
        attempts=_T.c.attempts + bindparam("b_inc"),
    )
)
_FAIL = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(state=DeliveryState.FAILED, last_error=bindparam("b_err"), attempts=_T.c.attempts + 1)
)


async def mark_sent_many(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """(id, sent_at, message_id, delete_at) for each sent delivery. Follow-ups waiting on
    one that had been withdrawn meanwhile (see release_follow_ups) are released with it."""
    await session.execute(
        _MARK_SENT,
        [
            {"b_id": i, "b_at": at, "b_mid": mid, "b_del": delete_at}
            for i, at, mid, delete_at in rows
        ],
    )
    # After the update, in its transaction: the rows are settled as this writer left them.
    await release_follow_ups(session, [row[0] for row in rows])


async def reschedule_many(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """(id, next attempt, error code, whether it counts as an attempt) for each row."""
    await session.execute(
        _RESCHEDULE,
        [{"b_id": i, "b_at": at, "b_err": err, "b_inc": int(count)} for i, at, err, count in rows],
    )


async def fail_many(session: AsyncSession, rows: Sequence[tuple[Any, ...]]) -> None:
    """(id, error code) for each delivery that will not be tried again."""
    await session.execute(_FAIL, [{"b_id": i, "b_err": err} for i, err in rows])


async def depth(session: AsyncSession, states: Sequence[DeliveryState]) -> dict[str, int]:
    """Rows in each of `states` across every batch (the state leads ix_outbox_due)."""
    rows = await session.execute(
        select(col(Delivery.state), func.count())
        .where(col(Delivery.state).in_(list(states)))
        .group_by(col(Delivery.state))
    )
    return {str(state): int(n) for state, n in rows.all()}
