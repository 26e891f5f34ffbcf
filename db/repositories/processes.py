"""Running processes, as each last said it was alive."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import RunningProcess
from db.repositories.upsert import insert_for


async def beat(session: AsyncSession, process_id: str, now: dt.datetime) -> None:
    stmt: Any = insert_for(session, RunningProcess).values(id=process_id, seen_at=now)
    stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={"seen_at": now})
    await session.execute(stmt)


async def leave(session: AsyncSession, process_id: str) -> None:
    await session.execute(delete(RunningProcess).where(col(RunningProcess.id) == process_id))


async def seen_since(session: AsyncSession, since: dt.datetime) -> int:
    query = select(func.count()).where(col(RunningProcess.seen_at) >= since)
    return int((await session.execute(query)).scalar_one())
