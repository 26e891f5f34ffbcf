"""/broadcast through the real dispatcher: composing with mistakes on the way, approval by
a second staff member, scheduling, and pause, resume and cancel while it goes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from aiogram.methods import AnswerCallbackQuery, SendPhoto
from sqlalchemy import select, update
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.delivery.monitor import BroadcastMonitor
from bot.i18n import make_i18n
from bot.presentation.broadcast_views import progress_message
from bot.presentation.callbacks import BroadcastCb
from bot.services import identity, staff
from db.models import Broadcast, BroadcastVersion, Case, Delivery
from db.repositories import follows as follows_repo
from tests.support import Driver, Person, Reply

UNKNOWN = "I do not know this command"


async def member(storage, settings, tg_id: int, role: str) -> Person:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def followers(storage, settings, slug: str, ids: range, locale: str = "en") -> None:
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        case = (await s.execute(select(Case).where(col(Case.slug) == slug))).scalar_one()
        for tg_id in ids:
            person = await identity.ensure(s, cipher, tg_id, locale)
            assert person.id is not None and case.id is not None
            await follows_repo.add(s, person.id, case.id)


async def rows(storage, model):
    async with storage.sessionmaker() as s:
        return list((await s.execute(select(model))).scalars())


async def deliveries(storage, batch_prefix: str = "broadcast:") -> list[Delivery]:
    return [d for d in await rows(storage, Delivery) if d.batch.startswith(batch_prefix)]


async def compose_to_case(driver: Driver, person: Person, *, photo: bool = False) -> None:
    await driver.send(person, "/broadcast")
    await driver.press(person, "Followers of chosen cases")
    await driver.send(person, "test-detained")
    await driver.press(person, "Continue")
    if photo:
        attached = await driver.send_raw(
            person,
            photo=[{"file_id": "PHOTO-1", "file_unique_id": "u1", "width": 90, "height": 90}],
        )
        # The upload is acknowledged, not just followed by the next question.
        assert "The photo is attached" in attached.text
    else:
        await driver.press(person, "No photo")


async def ready_now_to_case(driver: Driver, person: Person, text: str) -> Reply:
    """A text to the followers of test-detained, in English, without photo or buttons,
    to go at once; the confirmation screen."""
    await compose_to_case(driver, person)
    await driver.press(person, "English")
    await driver.send(person, text)
    await driver.press(person, "No buttons")
    await driver.press(person, "Continue")
    return await driver.press(person, "Now")


async def send_now_to_case(driver: Driver, person: Person, text: str) -> Reply:
    """As `ready_now_to_case`, then sent; the answer to "Send"."""
    await ready_now_to_case(driver, person, text)
    return await driver.press(person, "✅ Send")


async def test_compose_with_mistakes_and_send_now(driver: Driver, storage, settings, small_cases):
    author = await member(storage, settings, 9_300_000_001, "broadcaster")
    await followers(storage, settings, "test-detained", range(9_300_100_000, 9_300_100_005))
    await followers(storage, settings, "test-detained", range(9_300_200_000, 9_300_200_003), "ru")
    await compose_to_case(driver, author, photo=True)
    await driver.press(author, "Русский")
    too_long = await driver.send(author, "я" * 1025)  # a caption holds 1024
    assert "too long" in too_long.text
    # Bold as the composer formatted it; the tag typed by mistake stays characters.
    await driver.send_raw(
        author,
        text="Пишите письма <b>сегодня</b>",
        entities=[{"type": "bold", "offset": 0, "length": 6}],
    )
    bad = await driver.send(author, "Sign it: example.org")
    assert "could not read" in bad.text
    await driver.send(author, "Подписать | https://example.org/petition")
    versions = await driver.press(author, "Another language")
    assert "Which language" in versions.text
    await driver.press(author, "English")
    await driver.send(author, "Write letters today")
    back = await driver.press(author, "« Back")  # from buttons back to the text
    assert "Send the text in English" in back.text
    await driver.send(author, "Write letters <i>today</i> & now")
    await driver.press(author, "No buttons")
    await driver.press(author, "Continue")
    confirm = await driver.press(author, "Now")
    assert "Recipients now: 8" in confirm.text and "Alisher Testov" in confirm.text
    assert "must approve" not in confirm.text
    preview = await driver.press(author, "Preview")
    photos = [c for c in preview.calls if isinstance(c, SendPhoto)]
    assert len(photos) == 2 and photos[0].photo == "PHOTO-1"
    assert "<b>Пишите</b> письма &lt;b&gt;сегодня&lt;/b&gt;" in [p.caption for p in photos]
    assert "Write letters &lt;i&gt;today&lt;/i&gt; &amp; now" in [p.caption for p in photos]
    sent = await driver.press(author, "✅ Send")
    assert "on its way" in sent.text and "Sent: 0 of 8" in sent.text
    queued = await deliveries(storage)
    assert len(queued) == 8 and len({d.person_id for d in queued}) == 8
    assert json.loads(queued[0].spec) == {"t": "broadcast", "id": 1, "digest": False}
    [broadcast] = await rows(storage, Broadcast)
    assert broadcast.status == "sending" and broadcast.progress_message_id is not None
    stored = {v.locale: v for v in await rows(storage, BroadcastVersion)}
    assert json.loads(stored["ru"].buttons) == [["Подписать", "https://example.org/petition"]]


@pytest.mark.parametrize("how", ["/cancel", "stop"])
async def test_stopping_halfway_sends_nothing(driver: Driver, storage, settings, small_cases, how):
    author = await member(storage, settings, 9_300_000_010, "broadcaster")
    await compose_to_case(driver, author)
    await driver.press(author, "English")
    reply = (
        await driver.send(author, "/cancel")
        if how == "/cancel"
        else await driver.press(author, "Stop")
    )
    assert "Nothing was sent" in reply.text
    assert await rows(storage, Broadcast) == [] and await deliveries(storage) == []


async def test_everyone_needs_a_second_staff_member(driver: Driver, storage, settings, small_cases):
    author = await member(storage, settings, 9_300_000_020, "broadcaster")
    second = await member(storage, settings, 9_300_000_021, "admin")
    await followers(storage, settings, "test-released", range(9_300_300_000, 9_300_300_004))
    await driver.send(author, "/broadcast")
    await driver.press(author, "Everyone")
    await driver.press(author, "No photo")
    await driver.press(author, "English")
    await driver.send(author, "A day of action")
    await driver.press(author, "No buttons")
    await driver.press(author, "Continue")
    confirm = await driver.press(author, "Now")
    assert "must approve" in confirm.text
    waiting = await driver.press(author, "Ask for approval")
    assert "waits for a second staff member" in waiting.text
    assert {d.batch for d in await deliveries(storage)} == {"broadcast:1:approval"}
    asked = await deliveries(storage, "broadcast:1:approval")
    assert len(asked) == 1  # the other admin; never the author

    own = await driver.callback(author, "bc:approve:1:")
    assert "someone other than its author" in own.notices[0]
    assert (await rows(storage, Broadcast))[0].status == "awaiting"
    review = await driver.callback(second, "bc:review:1:")
    assert "A day of action" in review.text and "Recipients now" in review.text
    approved = await driver.press(second, "Approve")
    assert "on its way" in approved.text
    [broadcast] = await rows(storage, Broadcast)
    assert broadcast.status == "sending" and broadcast.approved_by is not None
    sent = await deliveries(storage, "broadcast:1")
    assert len([d for d in sent if d.batch == "broadcast:1"]) == broadcast.recipients >= 6
    assert len(await deliveries(storage, "broadcast:1:review")) == 1  # the author is told
    again = await driver.callback(second, "bc:approve:1:")
    assert "no longer waiting" in again.notices[0]


async def test_scheduled_broadcast_starts_at_its_time(
    driver: Driver, storage, settings, small_cases
):
    author = await member(storage, settings, 9_300_000_030, "broadcaster")
    await followers(storage, settings, "test-detained", range(9_300_400_000, 9_300_400_003))
    await compose_to_case(driver, author)
    await driver.press(author, "English")
    await driver.send(author, "Tomorrow we write")
    await driver.press(author, "No buttons")
    await driver.press(author, "Continue")
    await driver.press(author, "At a set time")
    assert "not a date" in (await driver.send(author, "tomorrow evening")).text
    assert "has passed" in (await driver.send(author, "2020-01-01 10:00")).text
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    confirm = await driver.send(author, later.strftime("%Y-%m-%d %H:%M"))
    assert "Recipients now: 3" in confirm.text
    scheduled = await driver.press(author, "Send")
    assert "is scheduled for" in scheduled.text
    assert (await rows(storage, Broadcast))[0].status == "scheduled"
    assert await deliveries(storage) == []

    monitor = BroadcastMonitor(
        storage.sessionmaker,
        driver.bot,
        IdentityCipher(settings.key_bytes),
        make_i18n(),
        progress_message,
    )
    await monitor.tick(dt.datetime.now(dt.UTC))
    assert await deliveries(storage) == []  # not yet
    before = len(driver.session.calls)
    await monitor.tick(later + dt.timedelta(minutes=1))
    assert len(await deliveries(storage)) == 3
    [broadcast] = await rows(storage, Broadcast)
    assert broadcast.status == "sending" and broadcast.progress_message_id is not None
    posted = [c for c in driver.session.calls[before:] if hasattr(c, "text")]
    assert any("Sent: 0 of 3" in (getattr(c, "text", "") or "") for c in posted)
    # No progress since: the next tick edits nothing (Telegram refuses an identical edit).
    before = len(driver.session.calls)
    await monitor.tick()
    assert driver.session.calls[before:] == []

    # Everyone got it: the next tick writes the final report and closes the broadcast.
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(Delivery).values(state="sent", sent_at=dt.datetime.now(dt.UTC)))
    before = len(driver.session.calls)
    await monitor.tick()
    edits = [getattr(c, "text", "") for c in driver.session.calls[before:]]
    assert any("Delivered: 3" in (t or "") for t in edits)
    assert (await rows(storage, Broadcast))[0].status == "done"


async def test_pause_resume_and_cancel(driver: Driver, storage, settings, small_cases):
    author = await member(storage, settings, 9_300_000_040, "broadcaster")
    await followers(storage, settings, "test-detained", range(9_300_500_000, 9_300_500_004))
    await send_now_to_case(driver, author, "Call the prosecutor")
    paused = await driver.press(author, "Pause")
    assert "paused" in paused.text and "Resume" in paused.labels()[0]
    assert {d.state for d in await deliveries(storage)} == {"paused"}
    resumed = await driver.press(author, "Resume")
    assert "sending" in resumed.text
    assert {d.state for d in await deliveries(storage)} == {"pending"}
    await driver.press(author, "Cancel")
    cancelled = await driver.press(author, "Yes, cancel")
    assert "cancelled" in cancelled.text and "Not sent, cancelled: 4" in cancelled.text
    assert {d.last_error for d in await deliveries(storage)} == {"cancelled"}
    late = await driver.callback(author, "bc:resume:1:")
    assert "no longer valid" in late.notices[0]
    assert {d.state for d in await deliveries(storage)} == {"skipped"}


@pytest.mark.parametrize("role", [None, "editor"])
async def test_not_for_supporters_or_editors(driver: Driver, storage, settings, small_cases, role):
    person = (
        await member(storage, settings, 9_300_000_050, role) if role else Person(id=9_300_000_050)
    )
    assert UNKNOWN in (await driver.send(person, "/broadcast")).text
    for data in ("bc:aud:0:all", "bc:approve:1:", "bc:pause:1:", "bc:review:1:"):
        reply = await driver.callback(person, data)
        answers = [c for c in reply.calls if isinstance(c, AnswerCallbackQuery)]
        assert len(answers) == 1 and len(reply.calls) == 1
        assert "no longer valid" in (answers[0].text or "")


async def test_show_opens_a_broadcast_only_for_its_readers_while_it_stands(
    driver: Driver, storage, settings, small_cases
):
    from bot.presentation.callbacks import ShowBroadcastCb
    from bot.services import broadcasts
    from db.models import DeliveryState
    from db.models import Person as PersonRow

    author = await member(storage, settings, 9_300_000_050, "broadcaster")
    await followers(storage, settings, "test-detained", range(9_300_500_000, 9_300_500_003))
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(PersonRow).values(discreet=True))
    await compose_to_case(driver, author)
    await driver.press(author, "English")
    await driver.send(author, "Alisher Testov needs letters")
    await driver.press(author, "No buttons")
    await driver.press(author, "Continue")
    confirm = await driver.press(author, "Now")
    assert "3 of them read in discreet mode" in confirm.text
    assert "There is a new message from the campaign team." in confirm.text
    await driver.press(author, "✅ Send")
    [broadcast] = await rows(storage, Broadcast)
    assert broadcast.id is not None
    show = ShowBroadcastCb(id=broadcast.id).pack()
    reader, stranger = Person(id=9_300_500_000), Person(id=9_300_600_000)
    gone = "This message is no longer available"

    # On its way (a worker records "sent" a moment after Telegram took it), then sent.
    assert "Alisher Testov needs letters" in (await driver.callback(reader, show)).text
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(Delivery).values(state=DeliveryState.SENT))
    opened = await driver.callback(reader, show)
    assert "Alisher Testov needs letters" in opened.text
    assert gone in (await driver.callback(stranger, show)).notices[0]  # forged: never sent
    async with storage.sessionmaker() as s, s.begin():
        row = await s.get(Broadcast, broadcast.id)
        assert row is not None
        await broadcasts.cancel(s, row, "test")
    assert gone in (await driver.callback(reader, show)).notices[0]


async def test_back_follows_the_way_the_dialogue_came(
    driver: Driver, storage, settings, small_cases
):
    """The audience branches (chosen cases, a country, everyone) and so does the time (now,
    or a set time): Back returns the way the composer came, not a fixed way."""
    author = await member(storage, settings, 9_300_000_060, "broadcaster")
    await driver.send(author, "/broadcast")
    assert "Which case?" in (await driver.press(author, "Followers of chosen cases")).text
    assert "Chosen: Alisher Testov" in (await driver.send(author, "test-detained")).text
    assert "Send a photo" in (await driver.press(author, "Continue")).text
    skipped = await driver.press(author, "No photo")
    assert "Which language" in skipped.text and "photo is attached" not in skipped.text
    chosen = await driver.press(author, "« Back")  # from the language step to the photo
    assert "Send a photo" in chosen.text
    chosen = await driver.press(author, "« Back")
    assert "Chosen: Alisher Testov" in chosen.text and "Continue" in " ".join(chosen.labels())
    first = await driver.press(author, "« Back")
    assert "Who should receive it?" in first.text and "« Back" not in first.labels()

    await driver.press(author, "Followers of a country's cases")
    await driver.press(author, "Uzbekistan")
    assert "Which country?" in (await driver.press(author, "« Back")).text
    assert "Who should receive it?" in (await driver.press(author, "« Back")).text

    await driver.press(author, "Everyone")  # no step between the audience and the photo
    assert "Who should receive it?" in (await driver.press(author, "« Back")).text
    await driver.press(author, "Everyone")
    await driver.press(author, "No photo")
    await driver.press(author, "English")
    await driver.send(author, "A day of action")
    versions = await driver.press(author, "No buttons")
    assert "Versions so far: English" in versions.text
    await driver.press(author, "Another language")
    assert "Versions so far" in (await driver.press(author, "« Back")).text
    await driver.press(author, "Continue")
    await driver.press(author, "At a set time")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    await driver.send(author, later.strftime("%Y-%m-%d %H:%M"))
    assert "Send the date and time" in (await driver.press(author, "« Back")).text
    assert "When should it go out?" in (await driver.press(author, "« Back")).text
    await driver.press(author, "Now")
    when = await driver.press(author, "« Back")  # now: no time step on the way back
    assert "When should it go out?" in when.text
    assert "Versions so far: English" in (await driver.press(author, "« Back")).text
    # A written version leaves the way back: from the versions to the photo.
    assert "Send a photo" in (await driver.press(author, "« Back")).text
    assert await rows(storage, Broadcast) == []


async def test_a_stale_stop_does_not_say_nothing_was_sent(
    driver: Driver, storage, settings, small_cases
):
    author = await member(storage, settings, 9_300_000_070, "broadcaster")
    await followers(storage, settings, "test-detained", range(9_300_700_000, 9_300_700_002))
    assert "on its way" in (await send_now_to_case(driver, author, "Write today")).text
    # The case question, above, still has its Stop; the broadcast went all the same.
    older = next(
        m
        for m in driver.emulator.messages(driver.user(author))
        if m.from_bot and any("Stop" in b.get("text", "") for b in m.buttons())
    )
    stop = next(b["callback_data"] for b in older.buttons() if "Stop" in b["text"])
    reply = await driver.callback(author, stop, older)
    assert reply.notices == [
        "This broadcast was already submitted. The staff menu's list of broadcasts shows "
        "where it is."
    ]
    assert reply.texts == []
    assert (await rows(storage, Broadcast))[0].status == "sending"


async def test_a_broadcast_to_nobody_cannot_be_sent_now(
    driver: Driver, storage, settings, small_cases
):
    """With no follower, the confirmation said 'Recipients now: 0' and still offered Send;
    the progress then read 'Sent: 0 of 0' until the monitor closed it."""
    author = await member(storage, settings, 9_300_000_080, "broadcaster")
    ready = await ready_now_to_case(driver, author, "Write today")
    assert "Recipients now: 0" in ready.text and "Nobody would receive it now" in ready.text
    assert not any("Send" in label for label in ready.labels())
    forged = await driver.callback(author, BroadcastCb(action="submit").pack())
    assert forged.notices == ["Nobody would receive it now. Nothing was sent."]
    assert await rows(storage, Broadcast) == []
