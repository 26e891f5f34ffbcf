"""Writing deliveries: called by services inside the transaction that causes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.specs import Spec, write_spec
from db.models import DeliveryState
from db.repositories import outbox as repo
from db.types import utcnow

CHUNK = 1000


def dedupe_key(key: str, person_id: int) -> str:
    return f"{key}:{person_id}"


async def enqueued(session: AsyncSession, key: str, person_id: int) -> bool:
    """Whether the person's delivery under `key` was written already (sent or not)."""
    return await repo.exists(session, dedupe_key(key, person_id))


async def enqueue(
    session: AsyncSession,
    *,
    person_ids: Iterable[int],
    spec: Spec,
    batch: str,
    key: str,
    urgent: bool = False,
    paid: bool = False,
    not_before: dt.datetime | None = None,
    awaiting_send: bool = False,
) -> int:
    """One delivery per person, deduplicated by `key:<person>`; returns how many are new.

    The spec is one of bot.delivery.specs' models, stored as `write_spec` writes it: the
    worker reads it back typed, and renders it for each reader when it is sent.

    `awaiting_send` writes them dormant (skipped): follow-ups released only if the
    withdrawn delivery they follow is sent after all (repo.release_follow_ups)."""
    now = utcnow()
    body = write_spec(spec)
    added = 0
    chunk: list[dict[str, Any]] = []
    for person_id in person_ids:
        chunk.append(
            {
                "dedupe_key": dedupe_key(key, person_id),
                "person_id": person_id,
                "batch": batch,
                "spec": body,
                "urgent": urgent,
                "paid": paid,
                "state": DeliveryState.SKIPPED if awaiting_send else DeliveryState.PENDING,
                "last_error": repo.AWAITS_SEND if awaiting_send else None,
                "attempts": 0,
                "next_attempt_at": not_before or now,
                "created_at": now,
            }
        )
        if len(chunk) >= CHUNK:
            added += await repo.add_many(session, chunk)
            chunk = []
    added += await repo.add_many(session, chunk)
    return added


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]
    rate: float  # messages per second over the last minute
    left: int

    @property
    def eta_seconds(self) -> float | None:
        return self.left / self.rate if self.rate > 0 else None


async def progress(session: AsyncSession, batch: str) -> Progress:
    """Counts by state, the recent rate and what is left, for a staff progress message."""
    counts = await repo.counts(session, batch)
    recent = await repo.sent_between(session, batch, utcnow() - dt.timedelta(seconds=60))
    left = counts.get(DeliveryState.PENDING, 0) + counts.get(DeliveryState.HELD, 0)
    return Progress(counts=counts, rate=recent / 60.0, left=left)
