"""Alerts: what a change means for followers, written to the outbox in the same transaction.

Specs name what happened and carry the ids needed to render it later, in each reader's
language at the moment of sending. Dedupe keys make every producer safe to run twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.delivery.outbox import enqueue
from bot.delivery.specs import (
    ActionReminderSpec,
    HearingCancelledSpec,
    HearingMovedSpec,
    HearingReminderSpec,
    UpdateSpec,
)
from db.models import Case, CaseUpdate, Hearing, HearingStatus, UpdateKind
from db.repositories import follows as follows_repo
from db.repositories import outbox as outbox_repo
from db.repositories import updates as updates_repo

# A reminder this close to the hearing goes out even in quiet hours.
URGENT_LEAD = dt.timedelta(hours=6)
# Reminders missed while the bot was down are still sent if the hearing is ahead.
LOOKBACK = dt.timedelta(hours=12)
# An urgent action's reminder comes a day before its deadline.
ACTION_REMINDER_LEAD = dt.timedelta(hours=24)


def parse_leads(text: str) -> list[dt.timedelta]:
    """'24h,2h,30m' -> lead times, longest first."""
    leads = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        unit = part[-1]
        value = float(part[:-1])
        seconds = value * {"d": 86400, "h": 3600, "m": 60}[unit]
        leads.append(dt.timedelta(seconds=seconds))
    return sorted(leads, reverse=True)


def lead_label(lead: dt.timedelta) -> str:
    minutes = int(lead.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def hearing_batch(hearing_id: int) -> str:
    return f"hearing:{hearing_id}"


async def case_update(session: AsyncSession, case: Case, update: CaseUpdate) -> int:
    """One alert per reader of a published case update (a status change or news): its
    followers and family members, or for a family-only update the family alone.

    The spec names the update, so its text is picked in each reader's language at send time.
    """
    assert case.id is not None and update.id is not None
    if update.kind == UpdateKind.INFO:
        assert update.action_id is not None
        people = await updates_repo.takers(session, update.action_id)
    elif update.family_only:
        people = await follows_repo.family_ids(session, case.id)
    else:
        people = await follows_repo.reader_ids(session, case.id)
    action: Literal["action", "info"] | None = None
    if update.kind == UpdateKind.ACTION:
        action = "action"
    elif update.kind == UpdateKind.INFO:
        action = "info"
    spec = UpdateSpec(
        case_id=case.id,
        update_id=update.id,
        family_only=update.family_only,
        new_status=update.new_status if update.kind == UpdateKind.STATUS else None,
        action_kind=action,
        # A call to act has a deadline: it does not wait for a digest.
        digest=False if action is not None else None,
        deadline=update.deadline,
    )
    return await enqueue(
        session,
        person_ids=people,
        spec=spec,
        batch=f"case:{case.id}:{update.kind}",
        key=f"update:{update.id}",
    )


async def plan_reminders(
    session: AsyncSession, now: dt.datetime, leads: Sequence[dt.timedelta]
) -> int:
    """Enqueue the reminders whose moment has come, for every scheduled future hearing.

    The key holds the hearing's start, so a moved hearing is reminded of anew, and the
    reminders of its old time no longer render (see the renderer's check).
    """
    if not leads:
        return 0
    horizon = now + max(leads)
    rows = await session.execute(
        select(Hearing).where(
            col(Hearing.status) == HearingStatus.SCHEDULED,
            col(Hearing.starts_at) > now,
            col(Hearing.starts_at) <= horizon,
        )
    )
    added = 0
    for hearing in rows.scalars():
        assert hearing.id is not None
        stamp = int(hearing.starts_at.timestamp())
        for lead in leads:
            moment = hearing.starts_at - lead
            if not (moment <= now and now - moment <= LOOKBACK):
                continue
            label = lead_label(lead)
            added += await enqueue(
                session,
                person_ids=await follows_repo.reader_ids(session, hearing.case_id),
                spec=HearingReminderSpec(
                    hearing_id=hearing.id, starts_at=hearing.starts_at, lead=label
                ),
                batch=hearing_batch(hearing.id),
                key=f"hearing:{hearing.id}:{stamp}:reminder:{label}",
                urgent=lead <= URGENT_LEAD,
            )
    return added


async def hearing_withdrawn(
    session: AsyncSession, hearing: Hearing, *, moved_to: dt.datetime | None
) -> int:
    """A hearing was cancelled or moved: unsent reminders are withdrawn, and those already
    reminded are told (urgent: they may be planning to go).

    A withdrawn reminder may be in a worker's hands (leased, rendered, even sent and not
    yet recorded), and so reach its reader after all. Its reader's notice is written too,
    dormant: recording that reminder as sent releases it (outbox.release_follow_ups). So
    whoever the reminder reaches is told, once (the dedupe key), and nobody else."""
    assert hearing.id is not None
    batch = hearing_batch(hearing.id)
    in_flight = await outbox_repo.withdraw_in_flight(session, batch)
    # Read after the withdrawal: a reminder recorded as sent before it is here, one
    # recorded after it was withdrawn and is among `in_flight`.
    reminded = await outbox_repo.sent_in_batch(session, batch)
    spec: HearingMovedSpec | HearingCancelledSpec
    if moved_to is not None:
        spec = HearingMovedSpec(
            case_id=hearing.case_id,
            starts_at=hearing.starts_at,
            moved_to=moved_to,
            court=hearing.court,
            court_timezone=hearing.timezone,
        )
    else:
        spec = HearingCancelledSpec(
            case_id=hearing.case_id,
            starts_at=hearing.starts_at,
            court=hearing.court,
            court_timezone=hearing.timezone,
        )
    was = int(hearing.starts_at.timestamp())
    to = int(moved_to.timestamp()) if moved_to is not None else 0
    key = f"{batch}:{spec.kind}:{was}:{to}"
    added = await enqueue(
        session,
        person_ids=reminded,
        spec=spec,
        batch=outbox_repo.follow_ups_of(batch),
        key=key,
        urgent=True,
    )
    told = set(reminded)
    # Dormant for the rest: their reminder may never go (the worker may find it obsolete,
    # or fail to send it); recording it as sent releases their notice.
    await enqueue(
        session,
        person_ids=[p for p in in_flight if p not in told],
        spec=spec,
        batch=outbox_repo.follow_ups_of(batch),
        key=key,
        urgent=True,
        awaiting_send=True,
    )
    return added


def action_reminder_moment(action: CaseUpdate) -> dt.datetime:
    """When an urgent action's one reminder is due: a day before its deadline, or half-way
    there for an action given less than two days."""
    assert action.deadline is not None
    halfway = action.created_at + (action.deadline - action.created_at) / 2
    return max(action.deadline - ACTION_REMINDER_LEAD, halfway)


async def plan_action_reminders(session: AsyncSession, now: dt.datetime) -> int:
    """One reminder per urgent action, before its deadline, to the readers who have not
    marked it done."""
    added = 0
    for action in await updates_repo.actions_ending(session, now, now + ACTION_REMINDER_LEAD):
        if action.id is None or action_reminder_moment(action) > now:
            continue
        done = set(await updates_repo.takers(session, action.id))
        everyone = await follows_repo.reader_ids(session, action.case_id)
        readers = [p for p in everyone if p not in done]
        assert action.deadline is not None
        added += await enqueue(
            session,
            person_ids=readers,
            spec=ActionReminderSpec(
                case_id=action.case_id, update_id=action.id, deadline=action.deadline
            ),
            batch=f"case:{action.case_id}:action",
            key=f"action:{action.id}:reminder",
        )
    return added
