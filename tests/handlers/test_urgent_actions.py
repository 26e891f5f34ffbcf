"""Urgent actions through the real dispatcher: the editor's dialogue (the call, the
deadline and its mistakes, the preview), "I did it" (once, forged buttons refused), the
reminder sparing those who acted, and further information reaching them alone."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel import col

from bot.presentation.callbacks import ActionCb
from bot.services import actions, alerts, updates
from db.models import ActionTaken, CaseUpdate, Delivery
from db.types import utcnow
from tests.handlers.test_staff_updates import readers, render, rows, staff_member, the_case
from tests.support import Driver, Person

CALL = "Write to the Prosecutor General: ask for his release <now>."


def in_days(days: int) -> str:
    # The court of test-detained is in Tashkent; a date well ahead is ahead there too.
    return (utcnow() + dt.timedelta(days=days)).date().isoformat()


async def test_the_editor_publishes_an_action_and_its_follow_up(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    acting_tg, waiting_tg = 9_920_000_001, 9_920_000_002
    acting, waiting = await readers(storage, settings, [acting_tg, waiting_tg])

    kinds = await driver.send(editor, "/update Testov")
    assert "Urgent action" in " ".join(kinds.labels())
    assert "Further information" not in " ".join(kinds.labels())  # no action yet
    await driver.press(editor, "Urgent action")
    asked = await driver.press(editor, "English")
    assert "call to act in English" in asked.text
    when = await driver.send(editor, CALL)
    assert "Written so far in: English" in when.text
    deadline = await driver.press(editor, "Continue")
    assert "By when must people act" in deadline.text and "Tashkent" in deadline.text
    assert "10.12.2026 18:00" in (await driver.send(editor, "next friday")).text
    assert "too soon" in (await driver.send(editor, "2020-01-01")).text
    assert "more than 90 days" in (await driver.send(editor, in_days(120))).text
    preview = await driver.send(editor, in_days(10))
    assert "Urgent action" in preview.text and "please act by" in preview.text
    assert "ask for his release <now>." in preview.text and "It will go to 2 people" in preview.text
    done = await driver.press(editor, "Publish")
    assert "on its way to 2 people" in done.text

    [action] = await rows(storage, CaseUpdate)
    assert action.kind == "action" and action.deadline is not None
    local = action.deadline.astimezone(dt.timezone(dt.timedelta(hours=5)))
    assert (local.date().isoformat(), local.hour, local.minute) == (in_days(10), 23, 59)
    calls = await rows(storage, Delivery, col(Delivery.id))
    assert sorted(d.person_id for d in calls) == sorted([acting, waiting])
    spec = json.loads(calls[0].spec)
    assert spec["kind"] == "action" and spec["digest"] is False
    shown = await render(storage, calls[0])
    assert shown is not None and "&lt;now&gt;" in shown.text
    assert "I did it" in str(shown.markup)
    quiet = await render(storage, calls[0], discreet=True)
    assert quiet is not None and "Testov" not in quiet.text and "Prosecutor" not in quiet.text

    # One supporter did it; pressing twice counts once; a forged id does nothing.
    button = ActionCb(id=action.id or 0).pack()
    first = await driver.callback(Person(id=acting_tg), button)
    assert "you will hear it here" in first.notices[0]
    again = await driver.callback(Person(id=acting_tg), button)
    assert "already marked it done" in again.notices[0]
    forged = await driver.callback(Person(id=acting_tg), ActionCb(id=99_999).pack())
    assert "no longer valid" in forged.notices[0]
    assert len(await rows(storage, ActionTaken)) == 1
    me = await driver.send(Person(id=acting_tg), "/me")
    assert "You took part in 1 urgent action." in me.text

    # The reminder, due a day before the deadline, goes to the other one only.
    assert action.deadline is not None
    async with storage.sessionmaker() as s, s.begin():
        moment = alerts.action_reminder_moment(action)
        assert moment == action.deadline - dt.timedelta(hours=24)
        assert await alerts.plan_action_reminders(s, moment + dt.timedelta(minutes=1)) == 1
    [reminder] = [d for d in await rows(storage, Delivery) if "action_reminder" in d.spec]
    assert reminder.person_id == waiting
    shown = await render(storage, reminder)
    assert shown is not None and "Reminder" in shown.text
    # Marked done in the meantime: the reminder is not sent after all.
    await driver.callback(Person(id=waiting_tg), button)
    assert await render(storage, reminder) is None

    async with storage.sessionmaker() as s:
        assert await actions.latest(s, action.case_id) is not None
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Further information")
    await driver.press(editor, "English")
    await driver.send(editor, "The prosecutor answered: the case is under review.")
    preview = await driver.press(editor, "Continue")
    assert "Further information" in preview.text and "2 people who did the action" in preview.text
    await driver.press(editor, "Publish")
    info = [d for d in await rows(storage, Delivery) if '"kind":"info"' in d.spec]
    assert sorted(d.person_id for d in info) == sorted([acting, waiting])


async def test_the_case_card_shows_an_open_action(driver: Driver, storage, settings, small_cases):
    case = await the_case(storage)
    async with storage.sessionmaker() as s, s.begin():
        await updates.publish(
            s, case, "action", {"en": CALL}, actor="t",
            deadline=utcnow() + dt.timedelta(days=3),
        )  # fmt: skip
    supporter = Person(id=9_920_000_011)
    card = await driver.send(supporter, "/case Testov")
    assert "Urgent action, until" in card.text and "ask for his release" in card.text
    assert "Latest news" not in card.text  # the call is not news
    pressed = await driver.press(supporter, "I did the urgent action")
    assert "you will hear it here" in pressed.notices[0]
    assert "You did it. Thank you!" in pressed.text
    assert not any("I did the urgent action" in label for label in pressed.labels())
    assert len(await rows(storage, ActionTaken)) == 1

    # Past the deadline the card no longer shows it.
    async with storage.sessionmaker() as s, s.begin():
        action = (await rows(storage, CaseUpdate))[0]
        action.deadline = utcnow() - dt.timedelta(minutes=1)
        s.add(action)
    assert "Urgent action" not in (await driver.send(supporter, "/case Testov")).text
