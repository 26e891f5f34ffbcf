"""Planning jobs on APScheduler. They only plan: turn due hearings, digests and retention
work into outbox rows or deletions; start scheduled broadcasts and keep their progress
messages current. Every job is idempotent (dedupe keys, look-back
windows), so a restart, a late run or a second instance does no harm.

Jobs are interval jobs registered at start with fixed ids; their state lives in the
database, not in the scheduler, so nothing is lost when the process stops. Misfire
grace is unlimited and runs coalesce: after an outage each job runs once, at once,
instead of being dropped (APScheduler's default grace of one second would drop it).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.delivery.monitor import BroadcastMonitor
from bot.delivery.outbox import enqueue, enqueued
from bot.delivery.specs import DigestItem, DigestSpec, UnreadableSpec, read_spec
from bot.delivery.worker import DeliveryWorker
from bot.services import alerts, families, invitations, panic, prompts, staff
from config import Settings
from db.models import Delivery, DeliveryMode, DeliveryState, Person
from db.repositories import outbox as outbox_repo
from db.repositories import people as people_repo
from db.repositories import sent as sent_repo
from db.types import utcnow

log = logging.getLogger(__name__)


def digest_key(person: Person, now: dt.datetime) -> str | None:
    """The key of the reader's digest for the period (day or week) that `now` falls in, if
    the digest's time has come: from the digest hour of each day for daily readers, of
    each Monday for weekly ones (so the local date names the period in both cases)."""
    local = now.astimezone(ZoneInfo(person.timezone))
    weekly = person.delivery == DeliveryMode.WEEKLY
    if local.hour < person.digest_hour or (weekly and local.weekday() != 0):
        return None
    return f"digest:{local.date().isoformat()}"


def _digest_items(held: list[Delivery]) -> tuple[list[DigestItem], list[int]]:
    """The held alerts' specs, for a digest, and the ids of those that no longer read as
    any kind (logged by kind, and settled apart, so none is dropped silently)."""
    items: list[DigestItem] = []
    unreadable: list[int] = []
    for delivery in held:
        left_out: list[str] = []
        try:
            spec = read_spec(delivery.spec, left_out=left_out)
        except UnreadableSpec as exc:
            left_out.append(exc.kind)
            if delivery.id:
                unreadable.append(delivery.id)
        else:
            # Digests are never held themselves; were one, its items would go on.
            items.extend(spec.items if isinstance(spec, DigestSpec) else [spec])
        for kind in left_out:
            log.warning("a held delivery's spec of kind %r no longer reads; left out", kind)
    return items, unreadable


class Planner:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        cipher: IdentityCipher,
        worker: DeliveryWorker | None = None,
        monitor: BroadcastMonitor | None = None,
    ) -> None:
        self.settings = settings
        self.monitor = monitor
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.cipher = cipher
        self.worker = worker
        self.leads = alerts.parse_leads(settings.reminder_leads)

    def _wake(self) -> None:
        if self.worker is not None:
            self.worker.wake()

    async def reminders(self, now: dt.datetime | None = None) -> int:
        """Hearing reminders and urgent actions' reminders whose moment has come."""
        now = now or utcnow()
        async with self.sessionmaker() as session, session.begin():
            added = await alerts.plan_reminders(session, now, self.leads)
            added += await alerts.plan_action_reminders(session, now)
        if added:
            log.info("planned %d reminders", added)
            self._wake()
        return added

    async def broadcasts(self, now: dt.datetime | None = None) -> None:
        """Scheduled broadcasts whose time has come, and the live progress messages."""
        if self.monitor is not None:
            await self.monitor.tick(now)

    async def digests(self, now: dt.datetime | None = None) -> int:
        """Gather held alerts into one message for people whose digest time has come.

        A reader gets at most one digest a period (a day, or a week for weekly readers):
        the period is in the digest's dedupe key, so the database itself refuses a second
        one, however often the job runs or however many instances run it. Alerts held after
        the period's digest was made stay held for the next period's digest; held rows are
        marked as gathered only when their digest row was really written.
        """
        now = now or utcnow()
        made = 0
        async with self.sessionmaker() as session, session.begin():
            for person_id in await outbox_repo.held_people(session):
                person = await session.get(Person, person_id)
                if person is None or not person.active:
                    continue
                key = digest_key(person, now)
                if key is None or await enqueued(session, key, person_id):
                    continue
                held = await outbox_repo.held_for(session, person_id)
                if not held:
                    continue
                items, unreadable = _digest_items(held)
                added = 0
                if items:
                    added = await enqueue(
                        session,
                        person_ids=[person_id],
                        spec=DigestSpec(items=tuple(items)),
                        batch="digest",
                        key=key,
                        urgent=True,
                    )
                    if not added:
                        # Another run made this period's digest meanwhile: these wait for
                        # the next.
                        continue
                made += added
                gathered = [d.id for d in held if d.id and d.id not in unreadable]
                await outbox_repo.settle(
                    session, gathered, state=DeliveryState.SKIPPED, error="in_digest"
                )
                if unreadable:
                    await outbox_repo.settle(
                        session, unreadable, state=DeliveryState.SKIPPED, error="unreadable"
                    )
        if made:
            self._wake()
        return made

    async def prompts(self, now: dt.datetime | None = None) -> int:
        """Birthday and release prompts, each held in the outbox until 10:00 in its
        reader's time zone."""
        async with self.sessionmaker() as session, session.begin():
            made = await prompts.plan(session, now or utcnow())
        if made:
            self._wake()
        return made

    async def deletions(self, now: dt.datetime | None = None) -> int:
        """Delete alerts whose person asked for them to disappear after some hours, and
        the notes that delete themselves (the panic notice)."""
        done = 0
        async with self.sessionmaker() as session:
            notes = await sent_repo.due(session, now or utcnow(), 500)
        for chat_index, message_id, blob in notes:
            done += await self._delete(blob, message_id)
            async with self.sessionmaker() as session, session.begin():
                await sent_repo.drop(session, chat_index, message_id)
        async with self.sessionmaker() as session:
            due = await outbox_repo.due_deletions(session, now or utcnow(), 500)
        for delivery_id, message_id, blob in due:
            done += await self._delete(blob, message_id)
            async with self.sessionmaker() as session, session.begin():
                await outbox_repo.forget_message(session, delivery_id)
        return done

    async def _delete(self, blob: bytes, message_id: int) -> bool:
        """Delete one message; gone already or too old is not an error worth more."""
        try:
            await self.bot.delete_message(self.cipher.decrypt_id(blob), message_id)
        except TelegramAPIError as exc:
            log.info("could not delete a message: %s", type(exc).__name__)
            return False
        return True

    async def retention(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """Purge settled outbox rows, old failed join attempts and invitations that ran
        out, and forget people who blocked the bot long ago."""
        now = now or utcnow()
        async with self.sessionmaker() as session, session.begin():
            attempts = await families.purge_attempts(session, now)
            if attempts:
                log.info("purged %d old join attempts", attempts)
            invites = await invitations.purge(session, now)
            if invites:
                log.info("purged %d invitations that ran out", invites)
            # Telegram lets a bot delete a message for 48 hours: ids are kept no longer.
            await sent_repo.expire(session, now - panic.WINDOW)
            purged = await outbox_repo.purge(
                session, now - dt.timedelta(days=self.settings.outbox_retention_days)
            )
            cutoff = (now - dt.timedelta(days=self.settings.inactive_retention_days)).date()
            gone = await people_repo.inactive_before(session, cutoff)
            for person_id in gone:
                await staff.departed(session, self.cipher, person_id)
                await people_repo.delete_everything(session, person_id)
        return purged, len(gone)


def build_scheduler(planner: Planner) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now = dt.datetime.now(dt.UTC)
    jobs = (
        ("reminders", planner.reminders, 60),
        ("broadcasts", planner.broadcasts, 5),
        ("digests", planner.digests, 300),
        ("prompts", planner.prompts, 3600),
        ("deletions", planner.deletions, 10),
        ("retention", planner.retention, 6 * 3600),
    )
    for job_id, func, seconds in jobs:
        scheduler.add_job(
            func, "interval", seconds=seconds, id=job_id, replace_existing=True, next_run_time=now
        )
    return scheduler
