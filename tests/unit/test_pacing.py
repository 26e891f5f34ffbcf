"""The send budget: even global spacing, interactive ahead of bulk, a chat's short burst,
a shared pause on 429, and replies that are never dropped silently."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendChatAction, SendMessage

from bot.pacing import Lane, Limits, LocalBudget, PacedRequests, ReplyLost, prepaced
from bot.pacing.gcra import Book, Verdict
from bot.retry import RetryMiddleware

LIMITS = Limits(rate=30.0, chat_interval=1.0, chat_burst=3)
STEP = LIMITS.interval(False)


def test_bulk_is_evenly_spaced():
    book = Book(LIMITS)
    assert book.decide(0.0, Lane.BULK, 1) == (Verdict.GO, 0.0)
    # The next slot may be taken one interval ahead, to be asleep and ready for it...
    verdict, wait = book.decide(0.0, Lane.BULK, 2)
    assert verdict is Verdict.GO and wait == pytest.approx(STEP)
    # ... but no further: bulk never holds slots a reply could use.
    verdict, wait = book.decide(0.0, Lane.BULK, 3)
    assert verdict is Verdict.BUSY and wait == pytest.approx(STEP)
    verdict, wait = book.decide(STEP, Lane.BULK, 3)
    assert verdict is Verdict.GO and wait == pytest.approx(STEP)


def test_interactive_is_queued_ahead_of_bulk():
    book = Book(LIMITS)
    waits = [book.decide(0.0, Lane.INTERACTIVE, chat) for chat in (1, 2, 3)]
    assert [v for v, _ in waits] == [Verdict.GO] * 3
    assert [w for _, w in waits] == pytest.approx([0.0, STEP, 2 * STEP])
    # Bulk gets nothing until the queued replies' slots are (all but) used...
    verdict, wait = book.decide(0.0, Lane.BULK, 4)
    assert verdict is Verdict.BUSY and wait == pytest.approx(2 * STEP)
    # ... and a reply that arrives while bulk waits still goes first.
    verdict, wait = book.decide(STEP, Lane.INTERACTIVE, 5)
    assert verdict is Verdict.GO and wait == pytest.approx(2 * STEP)
    assert book.decide(2 * STEP, Lane.BULK, 4)[0] is Verdict.BUSY
    verdict, wait = book.decide(3 * STEP, Lane.BULK, 4)
    assert verdict is Verdict.GO and wait == pytest.approx(STEP)


def test_a_chat_gets_a_short_burst_then_one_a_second():
    book = Book(LIMITS)
    now = 0.0
    for _ in range(3):  # a reply, its edit, one more
        verdict, wait = book.decide(now, Lane.INTERACTIVE, 7)
        assert verdict is Verdict.GO
        now += wait
    # The fourth waits for the chat's turn, reserving it, without holding a global slot.
    verdict, wait = book.decide(now, Lane.INTERACTIVE, 7)
    assert verdict is Verdict.CHAT_TURN and wait == pytest.approx(1.0 - now, abs=1e-6)
    assert book.decide(now + STEP, Lane.BULK, 8)[0] is Verdict.GO  # other chats go on
    # An alert for that chat is told to come later and reserves nothing.
    verdict, later = book.decide(now + 2 * STEP, Lane.BULK, 7)
    assert verdict is Verdict.CHAT_BUSY and later > 1.0
    # When the turn comes, the reply asks for a global slot only.
    assert book.decide(1.0, Lane.INTERACTIVE, None)[0] is Verdict.GO


def test_a_pause_stops_both_lanes():
    book = Book(LIMITS)
    book.pause(0.0, 5.0)
    for lane in Lane:
        verdict, wait = book.decide(1.0, lane, 1)
        assert verdict is Verdict.BUSY and wait == pytest.approx(4.0)
    assert book.decide(5.0, Lane.BULK, 1)[0] is Verdict.GO


def test_a_reply_that_cannot_go_in_time_reserves_nothing():
    book = Book(LIMITS)
    for chat in range(30):
        book.decide(0.0, Lane.INTERACTIVE, chat)
    verdict, wait = book.decide(0.0, Lane.INTERACTIVE, 99, max_wait=0.5)
    assert verdict is Verdict.TOO_LATE and wait > 0.5
    assert book.decide(0.0, Lane.INTERACTIVE, 100)[1] == pytest.approx(30 * STEP)


def test_no_second_ever_holds_more_than_the_rate():
    """Both lanes, many chats, late timers: the grants never exceed the rate in any one
    second, and the rate is kept (timer lateness does not add up)."""
    rng = random.Random(12)
    book = Book(LIMITS)
    starts: list[float] = []
    now = 0.0
    # Bulk asks again as soon as told, a little late each time; replies come at random.
    next_reply = rng.expovariate(10.0)
    while now < 60.0:
        if next_reply <= now:
            verdict, wait = book.decide(next_reply, Lane.INTERACTIVE, rng.randrange(10**6))
            assert verdict is Verdict.GO
            starts.append(next_reply + wait)
            next_reply += rng.expovariate(10.0)
            continue
        verdict, wait = book.decide(now, Lane.BULK, rng.randrange(10**6))
        if verdict is Verdict.GO:
            starts.append(now + wait)
        now += wait + rng.uniform(0.0, 0.002)
    starts.sort()
    worst = max(sum(1 for t in starts[i : i + 40] if t < s + 1.0) for i, s in enumerate(starts))
    assert worst <= 30
    in_minute = sum(1 for t in starts if t < 60.0)
    assert in_minute >= 0.99 * 30 * 60


def test_idle_chats_are_forgotten():
    book = Book(LIMITS)
    for chat in range(1000):
        book.decide(float(chat) * STEP, Lane.INTERACTIVE, chat)
    book.forget_idle_chats(1000.0)
    assert book.chats == {}


async def test_a_reply_past_its_deadline_is_counted_and_raised():
    budget = LocalBudget(LIMITS)
    await budget.pause(30.0)
    loop = asyncio.get_running_loop()
    with pytest.raises(ReplyLost):
        await budget.interactive(1, deadline=loop.time() + 1.0)
    assert budget.stats.lost_replies == 1


async def test_bulk_tells_when_a_chat_had_its_share():
    budget = LocalBudget(Limits(rate=1000.0, chat_interval=1.0, chat_burst=1))
    loop = asyncio.get_running_loop()
    await budget.interactive(5, deadline=loop.time() + 5)
    later = await budget.bulk(5)
    assert 0.9 < later <= 1.0
    assert await budget.bulk(6) == 0.0


class StrictLocal(LocalBudget):
    """As a budget shared with other processes judges lateness (their sends are unseen)."""

    @property
    def late_tolerance(self) -> float:
        return 0.005


async def test_a_slot_woken_too_late_for_is_given_up_for_a_new_one():
    budget = StrictLocal(Limits(rate=10.0, margin=0.01))
    loop = asyncio.get_running_loop()
    await budget.interactive(1, deadline=loop.time() + 5)  # the next slot is 0.1 s away

    async def busy_loop() -> None:
        time.sleep(0.2)  # noqa: ASYNC251 - a handler hogging the event loop, on purpose

    hog = asyncio.create_task(busy_loop())
    await budget.interactive(2, deadline=loop.time() + 5)
    await hog
    assert budget.stats.late == 1 and budget.stats.interactive == 2


# ---------------------------------------------------------------- the request middleware


class FakeApi:
    """make_request for the middlewares: answers from a script of outcomes."""

    def __init__(self, *outcomes: Exception | str) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self, bot, method):
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def through(middleware: Any, api: FakeApi, method: Any) -> Any:
    """A request through one middleware, as aiogram's session would make it."""
    return await middleware(api, None, method)


def flood(method, seconds: int = 1) -> TelegramRetryAfter:
    return TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=seconds)


async def test_a_reply_waits_out_floods_and_is_delivered():
    budget = LocalBudget(Limits(rate=1000.0, chat_burst=10))
    method = SendMessage(chat_id=1, text="hi")
    # Six flood waits in a row would have exhausted the old retry limit of four.
    api = FakeApi(*(flood(method, 0) for _ in range(6)))
    paced = PacedRequests(budget, Lane.INTERACTIVE, deadline=30.0)
    assert await through(paced, api, method) == "ok"
    assert api.calls == 7 and budget.stats.paused == 6 and budget.stats.lost_replies == 0


async def test_a_flood_pauses_the_bulk_lane_too():
    budget = LocalBudget(Limits(rate=1000.0))
    method = SendMessage(chat_id=1, text="hi")
    paced = PacedRequests(budget, Lane.INTERACTIVE, deadline=30.0)
    await through(paced, FakeApi(flood(method, 1)), method)
    verdict, _ = budget.book.decide(asyncio.get_running_loop().time(), Lane.BULK, 2)
    # The reply went after the pause, so the pause is over now; it was set for both lanes.
    assert budget.stats.paused == 1 and verdict is Verdict.GO


async def test_a_reply_that_misses_its_deadline_is_not_silent(caplog):
    budget = LocalBudget(Limits(rate=1000.0))
    await budget.pause(60.0)
    paced = PacedRequests(budget, Lane.INTERACTIVE, deadline=0.2)
    api = FakeApi()
    with pytest.raises(ReplyLost):
        await through(paced, api, SendMessage(chat_id=1, text="hi"))
    assert api.calls == 0 and budget.stats.lost_replies == 1
    assert "reply lost: sendMessage" in caplog.text


async def test_bulk_requests_raise_floods_for_the_outbox_to_retry():
    budget = LocalBudget(Limits(rate=1000.0))
    method = EditMessageText(chat_id=1, message_id=2, text="progress")
    paced = PacedRequests(budget, Lane.BULK)
    with pytest.raises(TelegramRetryAfter):
        await through(paced, FakeApi(flood(method, 0)), method)
    assert budget.stats.paused == 1 and budget.stats.bulk == 1
    with prepaced(), pytest.raises(TelegramRetryAfter):
        await through(paced, FakeApi(flood(method, 0)), method)
    assert budget.stats.paused == 2 and budget.stats.bulk == 1  # held its slot already


async def test_what_is_not_a_message_is_not_paced():
    budget = LocalBudget(Limits(rate=1000.0))
    await budget.pause(60.0)
    paced = PacedRequests(budget, Lane.INTERACTIVE, deadline=0.1)
    for method in (
        SendChatAction(chat_id=1, action="typing"),
        AnswerCallbackQuery(callback_query_id="1"),
    ):
        assert await through(paced, FakeApi(), method) == "ok"


async def test_retry_middleware_retries_server_errors_then_gives_up():
    method = SendMessage(chat_id=1, text="hi")
    retry = RetryMiddleware(attempts=3, base_delay=0.0)
    server_error = TelegramServerError(method=method, message="Bad Gateway")
    api = FakeApi(server_error, server_error)
    assert await through(retry, api, method) == "ok"
    assert api.calls == 3
    api = FakeApi(server_error, server_error, server_error)
    with pytest.raises(TelegramServerError):
        await through(retry, api, method)
    assert api.calls == 3


async def test_retry_middleware_leaves_floods_to_the_pacer():
    method = SendMessage(chat_id=1, text="hi")
    api = FakeApi(flood(method, 1))
    with pytest.raises(TelegramRetryAfter):
        await through(RetryMiddleware(attempts=3, base_delay=0.0), api, method)
    assert api.calls == 1


async def test_no_wait_shorter_than_the_loop_can_time_is_slept(monkeypatch):
    # asyncio's selector wakes in whole milliseconds: a shorter sleep lasts longer than
    # asked, and at 1000 a second each such sleep pushed the next send later.
    budget = LocalBudget(Limits(rate=1000.0, chat_burst=10**6))
    slept: list[float] = []
    sleep = asyncio.sleep

    async def timed(delay: float, *args: Any) -> Any:
        slept.append(delay)
        return await sleep(delay, *args)

    monkeypatch.setattr(asyncio, "sleep", timed)
    deadline = asyncio.get_running_loop().time() + 60
    for chat in range(200):
        await budget.interactive(chat, deadline=deadline)
        await budget.depart()
    assert slept and min(slept) > 0.001
    assert len(budget._left[False]) == 200  # every one went, none twice
