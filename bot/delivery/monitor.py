"""Broadcasts on their way: start the scheduled ones when their time comes, and keep
one message in the author's chat up to date (sent, failed, left, rate, time left) until
the final report.

Runs as a scheduler job on the leader only, so one instance edits each progress message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.delivery.worker import DeliveryWorker, Rendered
from bot.services import broadcasts
from db.models import Broadcast, BroadcastStatus, Person
from db.repositories import broadcasts as repo
from db.types import utcnow

log = logging.getLogger(__name__)

# broadcast id, report -> the progress message (rendered in the current i18n locale)
ProgressView = Callable[[int, broadcasts.Report], Rendered]


class BroadcastMonitor:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        cipher: IdentityCipher,
        i18n: I18n,
        view: ProgressView,
        *,
        paid: bool = False,
        worker: DeliveryWorker | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bot = bot
        self.cipher = cipher
        self.i18n = i18n
        self.view = view
        self.paid = paid
        self.worker = worker
        # What this process last showed in each progress message: a tick with no progress
        # (a paused broadcast, a slow one) edits nothing, rather than sending Telegram an
        # identical text it refuses as "not modified" every five seconds.
        self._shown: dict[int, tuple[int, str]] = {}

    async def tick(self, now: dt.datetime | None = None) -> None:
        """Start what is due, then bring every live progress message up to date."""
        async with self.sessionmaker() as session, session.begin():
            started = await broadcasts.start_due(session, now or utcnow(), paid=self.paid)
        if started:
            log.info("started %d scheduled broadcasts", len(started))
            if self.worker is not None:
                self.worker.wake()
        async with self.sessionmaker() as session:
            live = await repo.with_status(
                session, [BroadcastStatus.SENDING, BroadcastStatus.PAUSED], limit=50
            )
        for broadcast in live:
            assert broadcast.id is not None
            try:
                await self.update(broadcast.id)
            except TelegramAPIError as exc:
                # Telegram is unreachable or refuses: the next tick tries again.
                log.info("progress of a broadcast not updated: %s", type(exc).__name__)

    async def update(self, broadcast_id: int) -> None:
        """One progress update; the final report when nothing is left to send."""
        async with self.sessionmaker() as session, session.begin():
            broadcast = await session.get(Broadcast, broadcast_id)
            if broadcast is None:
                return
            report = await broadcasts.report(session, broadcast)
            done = broadcast.status == BroadcastStatus.SENDING and report.left == 0
            if done:
                report = dataclasses.replace(report, status=BroadcastStatus.DONE)
            author = await session.get(Person, broadcast.author_id) if broadcast.author_id else None
            if author is not None and author.active:
                with self.i18n.context(), self.i18n.use_locale(author.locale):
                    rendered = self.view(broadcast_id, report)
                # Shown before it is recorded as done: a report lost to a network error is
                # simply made again on the next tick.
                await self._show(broadcast, author, rendered)
            if done:
                await broadcasts.finish_if_done(session, broadcast, report.left)
                self._shown.pop(broadcast_id, None)

    async def _show(self, broadcast: Broadcast, author: Person, rendered: Rendered) -> None:
        assert broadcast.id is not None
        chat_id = self.cipher.decrypt_id(author.tg_cipher)
        markup = rendered.markup.model_dump_json() if rendered.markup is not None else ""
        content = rendered.text + markup
        shown = (broadcast.progress_message_id or 0, content)
        if broadcast.progress_message_id is not None:
            if self._shown.get(broadcast.id) == shown:
                return
            try:
                await self.bot.edit_message_text(
                    rendered.text,
                    chat_id=chat_id,
                    message_id=broadcast.progress_message_id,
                    reply_markup=rendered.markup,
                )
                self._shown[broadcast.id] = shown
                return
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    self._shown[broadcast.id] = shown
                    return
                # The message was deleted (by the author, or by auto-deletion): post anew.
        sent = await self.bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)
        broadcast.progress_message_id = sent.message_id
        self._shown[broadcast.id] = (sent.message_id, content)
