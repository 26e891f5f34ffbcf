"""A hearing cancelled while its reminders are in a worker's hands: whoever the reminder
reaches is told of the cancellation, exactly once; nobody else is.

The interleavings are forced, not waited for: the cancellation commits from inside a
step of the worker (after the claim, around the render, or before the results are
recorded), as it would when staff cancel from another process at that moment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from bot.delivery.specs import HearingReminderSpec, Spec
from bot.delivery.worker import Reader, Rendered, Renderer
from bot.emulator import EmulatedUser
from bot.scheduler import Planner
from bot.services import hearings
from db.models import Delivery, DeliveryState, Hearing
from db.types import utcnow
from tests.e2e.test_delivery import Env, env, received

__all__ = ["env"]  # the fixture, imported for its tests here

CANCELLED = "❌"


async def _planned(env: Env, count: int) -> tuple[list[EmulatedUser], Planner]:
    """`count` followers, and a hearing whose 2-hour reminders are now planned for them."""
    users = await env.followers(count)
    async with env.storage.sessionmaker() as session, session.begin():
        hearing = (await session.execute(select(Hearing))).scalars().one()
        hearing.starts_at = utcnow() + dt.timedelta(hours=1, minutes=50)
    planner = Planner(env.settings, env.storage.sessionmaker, env.bulk_bot()[0], env.cipher)
    assert await planner.reminders() == count
    return users, planner


async def _cancel(env: Env) -> None:
    async with env.storage.sessionmaker() as session, session.begin():
        hearing = (await session.execute(select(Hearing))).scalars().one()
        await hearings.cancel(session, hearing, "test")


def _cancel_around(
    env: Env, render: Renderer, *, before_first: bool
) -> Callable[[Spec, Reader], Awaitable[Rendered | None]]:
    """The renderer, with the hearing cancelled (and committed) during its first call:
    before that render, or after it and before the message goes."""
    done = False

    async def wrapped(spec: Spec, reader: Reader) -> Rendered | None:
        nonlocal done
        if done or spec.kind != "reminder":
            return await render(spec, reader)
        done = True
        if before_first:
            await _cancel(env)
            return await render(spec, reader)
        rendered = await render(spec, reader)
        await _cancel(env)
        return rendered

    return wrapped


def _check_told_once_if_reminded(env: Env, users: list[EmulatedUser]) -> tuple[int, int]:
    """Each user got either nothing, or the reminder followed by one cancellation notice.
    Returns (reminded, told)."""
    reminded = told = 0
    for user in users:
        texts = received(env.emulator, user)
        notices = [t for t in texts if CANCELLED in t]
        reminders = [t for t in texts if CANCELLED not in t]
        assert len(reminders) <= 1, texts
        if reminders:
            reminded += 1
            assert len(notices) == 1, f"reminded of a cancelled hearing, never told: {texts}"
            assert texts.index(reminders[0]) < texts.index(notices[0])
        else:
            assert notices == [], f"told of a cancellation without a reminder: {texts}"
        told += len(notices)
    return reminded, told


async def _outbox(env: Env) -> list[tuple[str, str, str | None]]:
    async with env.storage.sessionmaker() as session:
        rows = await session.execute(
            select(col(Delivery.batch), col(Delivery.state), col(Delivery.last_error))
        )
        return [(b, str(s), e) for b, s, e in rows.all()]


async def test_a_reminder_rendered_before_the_cancel_and_sent_after_is_followed_by_the_notice(
    env: Env,
):
    # One sender, so the first reminder is rendered and the cancellation commits before any
    # other is rendered; every reminder is leased (in flight) when the withdrawal commits.
    users, planner = await _planned(env, 4)
    worker = env.worker(senders=1)
    worker.render = _cancel_around(env, worker.render, before_first=False)
    await worker.run(until_idle=True)

    reminded, told = _check_told_once_if_reminded(env, users)
    assert reminded >= 1 and told == reminded
    # Rendered after the cancellation committed in this process: the others render nothing.
    assert reminded == 1
    assert not [row for row in await _outbox(env) if row[1] == DeliveryState.PENDING]
    await planner.bot.session.close()


async def test_reminders_sent_but_not_yet_recorded_when_the_cancel_commits(env: Env):
    # Every reminder reached Telegram; the cancellation commits before the worker records
    # any of them, so at the withdrawal they are all leased, none sent.
    users, planner = await _planned(env, 5)
    worker = env.worker(senders=8, flush_every=0.2)
    apply = worker._apply
    cancelled = False

    async def cancel_then_apply(ops: list[tuple[str, tuple[Any, ...]]]) -> None:
        nonlocal cancelled
        if not cancelled and any(op == "sent" for op, _ in ops):
            cancelled = True
            await _cancel(env)
        await apply(ops)

    worker._apply = cancel_then_apply  # type: ignore[method-assign]
    await worker.run(until_idle=True)
    assert cancelled

    reminded, told = _check_told_once_if_reminded(env, users)
    assert reminded == told == 5
    await planner.bot.session.close()


async def test_a_cancel_after_the_claim_and_before_any_render_sends_nothing(env: Env):
    # The hearing was read (and kept) by an earlier render; the cancellation commits after
    # the claim and before these reminders render: none goes, and so no notice either.
    users, planner = await _planned(env, 3)
    worker = env.worker(senders=1)
    async with env.storage.sessionmaker() as session:
        hearing = (await session.execute(select(Hearing))).scalars().one()
        starts = hearing.starts_at
        assert hearing.id is not None
    warm = await worker.render(
        HearingReminderSpec(hearing_id=hearing.id, starts_at=starts, lead="2h"),
        Reader(person_id=0, locale="en", timezone="UTC", discreet=False),
    )
    assert warm is not None
    worker.render = _cancel_around(env, worker.render, before_first=True)
    await worker.run(until_idle=True)

    assert _check_told_once_if_reminded(env, users) == (0, 0)
    assert all(received(env.emulator, user) == [] for user in users)
    await planner.bot.session.close()
