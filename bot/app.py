"""Factories that wire the application together. No module-level bot, engine or session."""

from __future__ import annotations

import datetime as dt
import logging

from aiogram import Dispatcher, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot.crypto import IdentityCipher
from bot.fsm_memory import TidyEventIsolation, TidyMemoryStorage
from bot.i18n import make_i18n
from bot.inline_filters import run_filters_inline
from bot.metrics import Metrics
from bot.middlewares.db import DbSessionMiddleware
from bot.middlewares.identity import IdentityMiddleware, VisitorI18nMiddleware
from bot.middlewares.metrics import UpdateMetrics
from bot.middlewares.sent import SentBatch, SentLog
from bot.middlewares.throttle import ThrottleMiddleware, TokenBuckets
from bot.outage import PatientDispatcher, not_an_outage
from bot.pacing import ReplyLost
from bot.services.cases import CARD_TABLES, CardFacts
from bot.services.known_people import KnownPeople
from bot.storage import Storage
from config import Settings
from db.changes import on_commit_of_writes
from handlers import fallback, family, supporter
from handlers.dialog import stale_buttons
from handlers.family import report as family_report
from handlers.family.report import ReportForm
from handlers.filters import EVERY_ROLE, StaffOrFamily
from handlers.staff import access as staff_access
from handlers.staff import broadcast_compose as staff_broadcast_compose
from handlers.staff import broadcast_control as staff_broadcast_control
from handlers.staff import broadcast_review as staff_broadcast_review
from handlers.staff import check_terms as staff_check_terms
from handlers.staff import edit_case as staff_edit_case
from handlers.staff import edit_field as staff_edit_field
from handlers.staff import families as staff_families
from handlers.staff import hearings as staff_hearings
from handlers.staff import invitations as staff_invitations
from handlers.staff import new_case as staff_new_case
from handlers.staff import reports as staff_reports
from handlers.staff import stats as staff_stats
from handlers.staff import updates as staff_updates
from handlers.supporter import panic as panic_handlers
from handlers.supporter.panic import PanicWordMiddleware

log = logging.getLogger(__name__)
FSM_TTL = dt.timedelta(days=2)
LOCK_TTL = 10


def build_fsm_storage(settings: Settings) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        from bot.fsm_keys import HashedKeyBuilder

        keys = HashedKeyBuilder(IdentityCipher(settings.key_bytes))
        # A dialogue left half-way does not stay in Redis for ever.
        return RedisStorage.from_url(
            settings.redis_url, key_builder=keys, state_ttl=FSM_TTL, data_ttl=FSM_TTL
        )
    return TidyMemoryStorage()


def build_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """One update at a time per person, so two quick presses cannot both read a dialogue
    step before either has written it; across instances when the state is in Redis."""
    create = getattr(storage, "create_isolation", None)  # RedisStorage has one
    # The lock ends by itself after LOCK_TTL: a Redis blip while it was being released
    # leaves it in Redis, and the person's next updates wait for it (aiogram's 60 s is a
    # minute of silence). Handlers take milliseconds; 10 s is ample.
    if create is None:
        return TidyEventIsolation()
    isolation: BaseEventIsolation = create(lock_kwargs={"timeout": LOCK_TTL})
    return isolation


async def on_error(event: ErrorEvent) -> bool:
    """Log the failure without anything personal and stop a pressed button from spinning."""
    update = event.update
    if isinstance(event.exception, ReplyLost):
        return True  # logged and counted where it was given up
    if isinstance(event.exception, TelegramForbiddenError):
        # The person blocked the bot between their message and our answer: nothing to fix.
        log.info("reply not delivered: the recipient has blocked the bot")
        return True
    log.error(
        "handler failed: %s on %s update",
        type(event.exception).__name__,
        update.event_type,
        exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
    )
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:
            log.debug("could not answer the failed callback")
    return True


def members_only(staff: Router, relatives: Router) -> Router:
    """The staff's and the relatives' routers under one that lets only them in (and
    someone midway through a relative's report). A supporter's update, which is most
    updates, passes both with one check instead of a visit to each."""
    group = Router(name="members")
    members = StaffOrFamily(*ReportForm.__all_states_names__)
    group.message.filter(members)
    group.callback_query.filter(members)
    group.include_routers(staff, relatives)
    return group


def staff_only(*routers: Router) -> Router:
    """The staff's routers under one that lets only staff in. Each keeps its own role
    filters; this spares everyone else's updates a visit to each of them (aiogram wraps
    every router's middlewares for every update it visits)."""
    group = Router(name="staff")
    group.message.filter(EVERY_ROLE)
    group.callback_query.filter(EVERY_ROLE)
    group.include_routers(*routers)
    return group


def build_dispatcher(
    settings: Settings,
    storage: Storage,
    *,
    cipher: IdentityCipher | None = None,
    i18n: I18n | None = None,
    fsm_storage: BaseStorage | None = None,
    metrics: Metrics | None = None,
) -> Dispatcher:
    """The dispatcher with every middleware and router; dependencies go in as workflow data."""
    cipher = cipher or IdentityCipher(settings.key_bytes)
    i18n = i18n or make_i18n(settings.default_locale)
    fsm = fsm_storage or build_fsm_storage(settings)
    dp = PatientDispatcher(storage=fsm, events_isolation=build_isolation(fsm))
    dp["settings"] = settings
    dp["cipher"] = cipher
    dp["engine"] = storage.engine
    if metrics is not None:
        # First: its time includes every other middleware's.
        dp.update.outer_middleware(UpdateMetrics(metrics))
    dp.update.outer_middleware(
        ThrottleMiddleware(TokenBuckets(settings.throttle_rate, settings.throttle_burst))
    )
    dp.update.outer_middleware(DbSessionMiddleware(storage.sessionmaker))
    card_facts = CardFacts()
    dp["card_facts"] = card_facts
    stop_watching = on_commit_of_writes(storage.engine, CARD_TABLES, card_facts.clear)
    dp.shutdown.register(stop_watching)
    sent_batch = SentBatch(storage.sessionmaker)
    dp["sent_batch"] = sent_batch
    dp.shutdown.register(sent_batch.close)
    dp.update.outer_middleware(SentLog(sent_batch))
    # Several instances (Redis configured) would not hear of each other's writes to the
    # people they keep: there every update reads its sender's row.
    known = None if settings.redis_url else KnownPeople()
    if known is not None:
        dp.shutdown.register(known.watch(storage.engine))
    dp.update.outer_middleware(IdentityMiddleware(cipher, settings, known))
    VisitorI18nMiddleware(i18n).setup(dp)
    dp.message.outer_middleware(PanicWordMiddleware())
    dp.errors.register(on_error, not_an_outage)
    dp.include_routers(
        # First: /panic must work in the middle of any dialogue.
        panic_handlers.router(),
        # The invitation links are for people who are not family or staff yet, and must
        # not reach the supporter's /start.
        family.router(),
        staff_access.join_router(),
        members_only(
            staff_only(
                # First in the group: "/invite family" is the families' router's, not
                # the admins' "/invite" (staff_access, last in the group).
                staff_families.router(),
                staff_invitations.router(),
                staff_hearings.router(),
                staff_new_case.router(),
                staff_edit_case.router(),
                staff_edit_field.router(),
                staff_updates.router(),
                staff_reports.router(),
                staff_stats.router(),
                staff_broadcast_compose.router(),
                staff_broadcast_review.router(),
                staff_broadcast_control.router(),
                staff_check_terms.router(),
                staff_access.router(),
            ),
            family_report.router(),
        ),
        *supporter.routers(),
        stale_buttons(
            [
                staff_hearings.dialog,
                staff_new_case.dialog,
                staff_edit_case.dialog,
                staff_edit_field.dialog,
                staff_updates.dialog,
                staff_reports.dialog,
                staff_broadcast_compose.dialog,
            ]
        ),
        fallback.router(),
    )
    run_filters_inline(dp)
    return dp
