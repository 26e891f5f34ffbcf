"""Bad input of every kind: a short localised answer or silence, never a traceback,
never another person's data."""

from __future__ import annotations

import os
import random

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage

from bot.presentation.callbacks import CaseCb, LetterCb, ListCb, SetCb
from tests.support import Driver, Person


async def test_unknown_command_gets_a_localised_answer(driver: Driver, small_cases):
    reply = await driver.send(Person(id=1, language_code="ru"), "/definitely_not_a_command")
    assert reply.texts and "/help" in reply.text
    assert "do not know" not in reply.text  # answered in Russian


@pytest.mark.parametrize(
    "text",
    [
        "x" * 5000,
        "/case " + "Ж" * 3000,
        "\u202e\u200b\x00\x07 <b>bold</b> & <script>",
        "🙂" * 100,
        "' OR 1=1 --",
        "%_%",
    ],
)
async def test_odd_text_is_answered_safely(driver: Driver, small_cases, text: str):
    reply = await driver.send(Person(id=2), text)
    assert reply.texts
    assert "Hidden Person" not in reply.text


async def test_random_bytes_as_text(driver: Driver, small_cases):
    rng = random.Random(7)
    person = Person(id=3)
    for _ in range(20):
        raw = os.urandom(rng.randint(1, 300)).decode("utf-8", errors="replace")
        reply = await driver.send(person, raw)
        assert reply.texts


async def test_like_wildcards_do_not_match_everything(driver: Driver, small_cases):
    reply = await driver.send(Person(id=4), "%%")
    assert "Alisher" not in reply.text


async def test_user_typed_html_is_escaped(driver: Driver, small_cases):
    reply = await driver.send(Person(id=5), "<i>nobody</i> & co")
    sent = next(c for c in reply.calls if isinstance(c, SendMessage))
    assert "&lt;i&gt;nobody&lt;/i&gt; &amp; co" in sent.text


@pytest.mark.parametrize(
    "data",
    [
        CaseCb(action="view", id=999_999).pack(),
        CaseCb(action="follow", id=3).pack(),  # the hidden case's id
        "c:destroy:1",  # no such action
        LetterCb(action="show", id=1, kind="bomb").pack(),
        LetterCb(action="sent", id=2, kind="card").pack(),  # released: no letters
        ListCb(country="'; drop", status="x", page=-5).pack(),
        SetCb(field="tz", value="Mars/Olympus").pack(),
        SetCb(field="quiet", value="99").pack(),
        "c:view:not-a-number",
        "c:view:1099511627776",  # beyond a 32-bit id column
        "st:quiet:²",  # a digit to str.isdigit, not to int()
        "st:autodelete:99999",
        "garbage",
        "",
    ],
)
async def test_forged_callback_data_does_nothing_harmful(driver: Driver, small_cases, data: str):
    person = Person(id=6)
    await driver.send(person, "/start")
    reply = await driver.callback(person, data)
    answers = [c for c in reply.calls if isinstance(c, AnswerCallbackQuery)]
    assert len(answers) == 1  # the spinner stops exactly once
    assert "Hidden Person" not in reply.text


async def test_follow_pressed_twice_is_harmless(driver: Driver, small_cases):
    person = Person(id=7)
    await driver.send(person, "/case Testov")
    follow = driver.button(person, "Follow")
    first = await driver.callback(person, follow)
    second = await driver.callback(person, follow)
    assert "You now follow" in first.notices[0]
    assert "already follow" in second.notices[0]
    assert "1 follower" in second.text or not second.texts


async def test_stickers_and_media_get_a_short_answer(driver: Driver, small_cases):
    person = Person(id=8)
    sticker = {"file_id": "s", "file_unique_id": "u", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    reply = await driver.send_raw(person, sticker=sticker)
    assert "only read text" in reply.text
    reply = await driver.send_raw(person, location={"latitude": 41.3, "longitude": 69.2})
    assert "only read text" in reply.text


async def test_flood_is_throttled(settings, storage, small_cases):
    from bot.app import build_dispatcher
    from tests.support import RecordingSession, make_bot

    strict = settings.model_copy(update={"throttle_rate": 0.001, "throttle_burst": 3})
    recording = RecordingSession()
    driver = Driver(
        dp=build_dispatcher(strict, storage), bot=make_bot(recording), session=recording
    )
    person = Person(id=9)
    answered = [bool((await driver.send(person, "🙂")).texts) for _ in range(10)]
    assert answered == [True] * 3 + [False] * 7
    other = await driver.send(Person(id=10), "/help")
    assert other.texts


async def test_group_chats_are_ignored(driver: Driver, small_cases):
    update = {
        "update_id": 10_000,
        "message": {
            "message_id": 1, "date": 0, "text": "/start",
            "chat": {"id": -100123, "type": "supergroup", "title": "g"},
            "from": {"id": 11, "is_bot": False, "first_name": "A"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }  # fmt: skip
    reply = await driver._feed(update)
    assert reply.calls == []


async def test_a_person_sees_only_their_own_follows(driver: Driver, small_cases):
    alice, bob = Person(id=12), Person(id=13)
    await driver.send(alice, "/follow Testov")
    mine = await driver.send(bob, "/mycases")
    assert "do not follow any case" in mine.text
