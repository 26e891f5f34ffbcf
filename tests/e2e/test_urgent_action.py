"""An urgent action against the emulator: followers get it with "I did it"; one reminder
goes before the deadline to those who have not marked it done; further information goes
to those who did, and to nobody else."""

from __future__ import annotations

import datetime as dt

from bot.services import actions, alerts, updates
from db.repositories import cases as cases_repo
from db.types import utcnow
from tests.e2e.conftest import Live
from tests.e2e.talk import eventually, from_bot, say, tap

CALL = "Write to the Prosecutor General before the appeal hearing <today>."
INFO = "The appeal court heard the case; letters were read out in court."


async def test_an_urgent_action_its_reminder_and_its_follow_up(live: Live, storage):
    emu = live.emulator
    acting, waiting = emu.add_user("en"), emu.add_user("en")
    for user in (acting, waiting):
        await say(emu, user, "/follow erzhan-elshibayev")
    start = utcnow()
    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "erzhan-elshibayev")
        assert case is not None
        await updates.publish(
            session, case, "action", {"en": CALL}, actor="t",
            deadline=start + dt.timedelta(hours=30),
        )  # fmt: skip

    def seen(user, mark: str) -> list[str]:
        return [m.page_html for m in from_bot(emu, user) if mark in m.text]

    await eventually(lambda: bool(seen(acting, "Urgent action")) and bool(seen(waiting, "Urgent")))
    [call] = seen(acting, "Urgent action")
    assert "&lt;today&gt;" in call and "please act by" in call
    emu.skip_pending(acting)
    thanked = await tap(emu, acting, "I did it")
    assert "Done — thank you" in str(thanked.reply_markup)

    async def remind(hours: float) -> int:
        # The planner's own step, at a moment of the test's choosing.
        async with storage.sessionmaker() as session, session.begin():
            return await alerts.plan_action_reminders(session, start + dt.timedelta(hours=hours))

    # Thirty hours given: the reminder is due half-way, fifteen hours on.
    assert await remind(14) == 0
    assert await remind(16) == 1  # the one who has not acted
    assert await remind(17) == 0  # once only
    assert await remind(31) == 0  # past the deadline
    await eventually(lambda: bool(seen(waiting, "Reminder")))
    assert "there is still time" in seen(waiting, "Reminder")[0]

    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "erzhan-elshibayev")
        assert case is not None and case.id is not None
        action = await actions.latest(session, case.id)
        await updates.publish(
            session,
            case,
            "info",
            {"en": INFO},
            actor="t",
            action=action,
        )
    await eventually(lambda: bool(seen(acting, "Further information")))
    assert "letters were read out" in seen(acting, "Further information")[0]
    await live.settled()
    assert seen(acting, "Reminder") == [] and seen(waiting, "Further information") == []
