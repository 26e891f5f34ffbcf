"""Broadcasts: a message to an audience, approved where it must be, sent only through the
outbox, paused, resumed or cancelled while it goes, and reported on at the end.

A broadcast is written once it is confirmed; the composing happens in the staff member's
dialogue. Its text is rendered per reader at send time, from the version in the reader's
language or the nearest one in the fallback chain.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.outbox import dedupe_key, enqueue, progress
from bot.delivery.specs import ApprovalSpec, BroadcastSpec, ReviewedSpec
from bot.services import cases, dates, staff
from db.models import Audience, Broadcast, BroadcastStatus, BroadcastVersion, StaffRole
from db.repositories import broadcasts as repo
from db.repositories import outbox as outbox_repo
from db.types import utcnow

MAX_TEXT = 4096  # Telegram's limit for a message
MAX_CAPTION = 1024  # and for a photo's caption
MAX_BUTTONS = 6
MAX_LABEL = 64
MAX_URL = 512
MAX_CASES = 10  # in one broadcast to followers of chosen cases
APPROVERS = (StaffRole.ADMIN, StaffRole.BROADCASTER)
UNREACHABLE = {"blocked", "chat_not_found", "inactive"}
_BUTTON_LINE = re.compile(r"^(?P<label>.+?)\s*\|\s*(?P<url>\S+)$")


class BroadcastError(ValueError):
    """A broadcast that cannot go out as asked; `reason` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Version:
    text: str  # Telegram HTML, as the composer's formatting produced it
    buttons: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Draft:
    """What the composer has put together so far: kept in the /broadcast dialogue (inside
    its pydantic draft) until it is confirmed, then stored by `submit`."""

    audience: str
    audience_value: str = ""
    photo: str | None = None
    versions: dict[str, Version] = field(default_factory=dict)
    send_at: dt.datetime | None = None  # None: now


def choose_case(draft: Draft, case_id: int) -> None:
    """Add a case to the draft's audience: a family audience is one case's (a new choice
    replaces it), followers may be of several (at most MAX_CASES)."""
    chosen = [] if draft.audience == Audience.FAMILY else draft.audience_value.split(",")
    chosen = [part for part in chosen if part]
    if str(case_id) not in chosen:
        chosen.append(str(case_id))
    draft.audience_value = ",".join(chosen[:MAX_CASES])


def parse_buttons(text: str) -> list[tuple[str, str]]:
    """Lines of `Label | https://link` as link buttons; raises BroadcastError when wrong."""
    buttons: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _BUTTON_LINE.match(line)
        if match is None:
            raise BroadcastError("button_format")
        label, url = match["label"].strip(), match["url"]
        parts = urlsplit(url)
        if parts.scheme not in {"https", "http", "tg"} or not (parts.netloc or parts.path):
            raise BroadcastError("button_url")
        if len(label) > MAX_LABEL or len(url) > MAX_URL:
            raise BroadcastError("button_length")
        buttons.append((label, url))
    if len(buttons) > MAX_BUTTONS:
        raise BroadcastError("button_count")
    return buttons


def text_limit(with_photo: bool) -> int:
    """How long a version may be: a photo's caption holds less than a message."""
    return MAX_CAPTION if with_photo else MAX_TEXT


def check_text(visible_length: int, with_photo: bool) -> None:
    """Refuse a text Telegram would refuse (the limit is on the text a reader sees)."""
    limit = text_limit(with_photo)
    if visible_length == 0:
        raise BroadcastError("empty")
    if visible_length > limit:
        raise BroadcastError("too_long")


def send_time(text: str, zone: str, now: dt.datetime | None = None) -> dt.datetime:
    """The moment a composer wrote ("12.03.2025 18:00", or ISO) in their time zone, in
    UTC; BroadcastError "format" when it is not one, "past" when it has passed."""
    local = dates.parse_moment(text)
    if local is None:
        raise BroadcastError("format")
    at = local.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
    if at <= (now or utcnow()):
        raise BroadcastError("past")
    return at


def needs_approval(audience: str, recipients: int, threshold: int) -> bool:
    """To everyone, or to more people than the threshold: a second staff member approves."""
    return audience == Audience.ALL or recipients > threshold


async def audience_size(session: AsyncSession, draft: Draft) -> int:
    """How many people the draft would reach now (a count, never who)."""
    return await repo.audience_size(session, draft.audience, draft.audience_value)


async def discreet_size(session: AsyncSession, draft: Draft) -> int:
    """How many of them are in discreet mode, and so get a notice without the message."""
    return await repo.discreet_size(session, draft.audience, draft.audience_value)


async def case_names(session: AsyncSession, draft: Draft, chain: Sequence[str]) -> list[str]:
    """The names of the cases a broadcast to chosen cases or to a case's family is about,
    in the first language of `chain` that has one (for the composer and the approver)."""
    if draft.audience not in {Audience.CASES, Audience.FAMILY}:
        return []
    names = []
    for part in draft.audience_value.split(","):
        if part:
            texts = await cases.texts_for(session, int(part))
            if texts:
                names.append(cases.pick_text(texts, chain).name)
    return names


@dataclass(frozen=True)
class Submitted:
    broadcast: Broadcast
    recipients: int
    awaiting_approval: bool
    started: bool


async def submit(
    session: AsyncSession,
    draft: Draft,
    *,
    author_id: int,
    actor: str,
    threshold: int,
    paid: bool,
) -> Submitted:
    """Store a confirmed broadcast. It waits for approval where that is needed; otherwise
    it starts now (written to the outbox in this transaction) or at its scheduled time."""
    if not draft.versions:
        raise BroadcastError("no_version")
    now = utcnow()
    if draft.send_at is not None and draft.send_at <= now - dt.timedelta(minutes=1):
        raise BroadcastError("past")
    count = await audience_size(session, draft)
    approval = needs_approval(draft.audience, count, threshold)
    broadcast = await repo.add(
        session,
        Broadcast(
            author_id=author_id,
            author=actor,
            audience=Audience(draft.audience),
            audience_value=draft.audience_value,
            photo=draft.photo,
            status=BroadcastStatus.AWAITING if approval else BroadcastStatus.SCHEDULED,
            send_at=draft.send_at or now,
            recipients=count,
        ),
        {
            locale: (v.text, json.dumps(v.buttons, ensure_ascii=False))
            for locale, v in draft.versions.items()
        },
    )
    assert broadcast.id is not None
    await staff.audit(session, actor, "broadcast.submit", f"broadcast:{broadcast.id}")
    started = False
    if approval:
        await enqueue(
            session,
            person_ids=await repo.approver_ids(session, APPROVERS, exclude=author_id),
            spec=ApprovalSpec(broadcast_id=broadcast.id),
            batch=f"{repo.batch_of(broadcast.id)}:approval",
            key=f"{repo.batch_of(broadcast.id)}:approval",
            urgent=True,
        )
    elif broadcast.send_at <= now:
        await start(session, broadcast, paid=paid)
        started = True
    return Submitted(broadcast, count, approval, started)


async def start(session: AsyncSession, broadcast: Broadcast, *, paid: bool) -> int:
    """Write one delivery per person of the audience as it is now; returns how many.

    For a broadcast made in this transaction, or one this transaction has moved to
    sending (so nobody else can have changed its status meanwhile)."""
    assert broadcast.id is not None
    people = await repo.audience_ids(session, broadcast.audience, broadcast.audience_value)
    added = await enqueue(
        session,
        person_ids=people,
        # Not gathered into digests (its `digest` is False): a campaign action is for now,
        # not for Monday.
        spec=BroadcastSpec(broadcast_id=broadcast.id),
        batch=repo.batch_of(broadcast.id),
        key=repo.batch_of(broadcast.id),
        paid=paid,
    )
    broadcast.status = BroadcastStatus.SENDING
    broadcast.recipients = added
    await session.flush()
    return added


async def approve(
    session: AsyncSession, broadcast: Broadcast, *, approver_id: int, actor: str, paid: bool
) -> bool:
    """A second staff member approves; True if it started sending now. Of two decisions
    made at once (another approval, a refusal, a cancel) only the first to reach the
    database counts: the other is refused as "not_awaiting"."""
    _check_decision(broadcast, approver_id)
    starts = broadcast.send_at <= utcnow()
    to = BroadcastStatus.SENDING if starts else BroadcastStatus.SCHEDULED
    if not await _moved(session, broadcast, [BroadcastStatus.AWAITING], to, approved_by=actor):
        raise BroadcastError("not_awaiting")
    await staff.audit(session, actor, "broadcast.approve", f"broadcast:{broadcast.id}")
    await _tell_author(session, broadcast, approved=True)
    if starts:
        await start(session, broadcast, paid=paid)
    return starts


async def reject(
    session: AsyncSession, broadcast: Broadcast, *, approver_id: int, actor: str
) -> None:
    """A second staff member declines; nothing is sent and the author is told. Refused as
    "not_awaiting" when another decision reached the database first."""
    _check_decision(broadcast, approver_id)
    rejected = BroadcastStatus.REJECTED
    if not await _moved(
        session, broadcast, [BroadcastStatus.AWAITING], rejected, finished_at=utcnow()
    ):
        raise BroadcastError("not_awaiting")
    await staff.audit(session, actor, "broadcast.reject", f"broadcast:{broadcast.id}")
    await _tell_author(session, broadcast, approved=False)


def _check_decision(broadcast: Broadcast, approver_id: int) -> None:
    """What the loaded copy can refuse already, in the order the staff are told: a
    broadcast never goes back to awaiting, so a copy that says it left is right (one that
    says it still waits may be stale: the status change itself decides)."""
    if broadcast.status != BroadcastStatus.AWAITING:
        raise BroadcastError("not_awaiting")
    if broadcast.author_id == approver_id:
        raise BroadcastError("own")


async def _moved(
    session: AsyncSession,
    broadcast: Broadcast,
    from_: Sequence[BroadcastStatus],
    to: BroadcastStatus,
    **fields: object,
) -> bool:
    """Move the broadcast from one of `from_` to `to` as the database has it, not as the
    caller's copy says; whether it moved. It is the first write of the operation, so
    that on SQLite the rest runs under the write lock it takes, and on PostgreSQL under
    the row lock; a competing change waits, then finds the status moved on."""
    assert broadcast.id is not None
    if not await repo.transition(session, broadcast.id, from_, to, **fields):
        return False
    # The copy was read before the row was locked: bring it up to the row as it is now.
    await session.refresh(broadcast)
    return True


async def _tell_author(session: AsyncSession, broadcast: Broadcast, *, approved: bool) -> None:
    if broadcast.author_id is None:
        return
    assert broadcast.id is not None
    await enqueue(
        session,
        person_ids=[broadcast.author_id],
        spec=ReviewedSpec(broadcast_id=broadcast.id, approved=approved),
        batch=f"{repo.batch_of(broadcast.id)}:review",
        key=f"{repo.batch_of(broadcast.id)}:review",
        urgent=True,
    )


async def pause(session: AsyncSession, broadcast: Broadcast, actor: str) -> None:
    """Stop handing out the rest; what a worker holds already still goes (at most a batch).
    "not_sending" when it is not sending (any more)."""
    paused = BroadcastStatus.PAUSED
    if not await _moved(session, broadcast, [BroadcastStatus.SENDING], paused):
        raise BroadcastError("not_sending")
    assert broadcast.id is not None
    await repo.pause_deliveries(session, repo.batch_of(broadcast.id))
    await staff.audit(session, actor, "broadcast.pause", f"broadcast:{broadcast.id}")


async def resume(session: AsyncSession, broadcast: Broadcast, actor: str) -> None:
    """Go on from where it paused; nobody gets it twice (the dedupe keys stay).
    "not_paused" when it is not paused (any more)."""
    sending = BroadcastStatus.SENDING
    if not await _moved(session, broadcast, [BroadcastStatus.PAUSED], sending):
        raise BroadcastError("not_paused")
    assert broadcast.id is not None
    await repo.resume_deliveries(session, repo.batch_of(broadcast.id), utcnow())
    await staff.audit(session, actor, "broadcast.resume", f"broadcast:{broadcast.id}")


async def cancel(session: AsyncSession, broadcast: Broadcast, actor: str) -> None:
    """Drop whatever has not gone yet; a broadcast waiting or scheduled never starts.
    "finished" when it is done, declined or cancelled already."""
    active = [
        BroadcastStatus.AWAITING,
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.SENDING,
        BroadcastStatus.PAUSED,
    ]
    cancelled = BroadcastStatus.CANCELLED
    # The status first: an approval or the monitor starting it that comes later finds it
    # cancelled and queues nothing; one that came first has committed its deliveries
    # (we waited for its lock), and they are stopped below.
    if not await _moved(session, broadcast, active, cancelled, finished_at=utcnow()):
        raise BroadcastError("finished")
    assert broadcast.id is not None
    await repo.cancel_deliveries(session, repo.batch_of(broadcast.id))
    await staff.audit(session, actor, "broadcast.cancel", f"broadcast:{broadcast.id}")


async def start_due(session: AsyncSession, now: dt.datetime, *, paid: bool) -> list[int]:
    """Scheduled broadcasts whose time has come: written to the outbox. Idempotent.

    They are claimed (moved to sending) before anything is queued, so a cancel either
    came first and they are not claimed, or comes after and stops what was queued."""
    started = []
    for broadcast in await repo.claim_due(session, now):
        assert broadcast.id is not None
        await start(session, broadcast, paid=paid)
        started.append(broadcast.id)
    return started


@dataclass(frozen=True)
class Report:
    """Where a broadcast stands: for the live progress message and the final report."""

    status: str
    recipients: int
    delivered: int
    unreachable: int
    failed: int
    cancelled: int
    left: int
    rate: float
    eta_seconds: float | None

    @property
    def finished(self) -> bool:
        return self.status in {BroadcastStatus.DONE, BroadcastStatus.CANCELLED}


async def versions_of(session: AsyncSession, broadcast_id: int) -> dict[str, BroadcastVersion]:
    """A broadcast's text in each of its languages."""
    return await repo.versions(session, broadcast_id)


async def unfinished(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts waiting for approval, scheduled, sending or paused."""
    return await repo.with_status(
        session,
        [
            BroadcastStatus.AWAITING,
            BroadcastStatus.SCHEDULED,
            BroadcastStatus.SENDING,
            BroadcastStatus.PAUSED,
        ],
    )


async def by_id(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """A broadcast in any state (staff screens check the role)."""
    return await repo.by_id(session, broadcast_id)


async def report(session: AsyncSession, broadcast: Broadcast) -> Report:
    """Counts only, never who: delivered, unreachable, failed, still to go, and the pace."""
    assert broadcast.id is not None
    await session.flush()  # a change of status made just before counts
    batch = repo.batch_of(broadcast.id)
    outcome = await repo.outcome(session, batch)
    now = await progress(session, batch)
    paused = sum(n for (state, _e), n in outcome.items() if state == "paused")

    def total(state: str, errors: set[str] | None = None, exclude: bool = False) -> int:
        return sum(
            n
            for (s, e), n in outcome.items()
            if s == state and (errors is None or (e in errors) != exclude)
        )

    return Report(
        status=broadcast.status,
        recipients=broadcast.recipients,
        delivered=total("sent"),
        unreachable=total("skipped", UNREACHABLE),
        failed=total("failed") + total("skipped", UNREACHABLE | {"cancelled"}, exclude=True),
        cancelled=total("skipped", {"cancelled"}),
        left=now.left + paused,
        rate=now.rate,
        eta_seconds=now.eta_seconds,
    )


async def finish_if_done(session: AsyncSession, broadcast: Broadcast, left: int) -> bool:
    """Mark a sending broadcast done once nothing is left; True when it just finished.
    Only if it is still sending: a pause or cancel made since `broadcast` was read stays."""
    if broadcast.status != BroadcastStatus.SENDING or left > 0:
        return False
    done = BroadcastStatus.DONE
    sending = [BroadcastStatus.SENDING]
    return await _moved(session, broadcast, sending, done, finished_at=utcnow())


# A broadcast a reader may still open: not one that was cancelled or never went out.
_STANDING = {
    BroadcastStatus.SENDING,
    BroadcastStatus.PAUSED,
    BroadcastStatus.DONE,
}


async def for_reader(
    session: AsyncSession, broadcast_id: int, person_id: int
) -> tuple[Broadcast, dict[str, BroadcastVersion]] | None:
    """A broadcast with its versions, as a reader in discreet mode opens it from the
    neutral notice they got instead: only someone it is addressed to, and only while it
    stands (not cancelled). None otherwise, so a forged button shows nothing."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.id is None or broadcast.status not in _STANDING:
        return None
    # Sent, or on its way: a worker records "sent" a moment after Telegram took the
    # message, and the reader may press at once.
    key = dedupe_key(repo.batch_of(broadcast.id), person_id)
    if not await outbox_repo.addressed(session, key):
        return None
    versions = await repo.versions(session, broadcast.id)
    return (broadcast, versions) if versions else None


def pick_version(
    versions: Mapping[str, BroadcastVersion], chain: Sequence[str]
) -> BroadcastVersion:
    """The reader's language, else the next in the fallback chain, else the first by code."""
    for locale in chain:
        if locale in versions:
            return versions[locale]
    return next(iter(sorted(versions.values(), key=lambda v: v.locale)))
