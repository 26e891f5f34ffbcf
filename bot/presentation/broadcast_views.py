"""How broadcasts read: the message itself (the same for the preview and for readers),
the approval request, the live progress message and the final report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.specs import ApprovalSpec, BroadcastSpec, ReviewedSpec, Spec
from bot.delivery.ttl_cache import TtlCache
from bot.delivery.worker import Reader, Rendered
from bot.i18n import LANGUAGE_NAMES
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import BroadcastCb, ShowBroadcastCb
from bot.services import broadcasts
from bot.services.broadcasts import Report, Version, pick_version
from bot.services.cases import fallback_chain
from db.models import Audience, Broadcast, BroadcastStatus, BroadcastVersion

KINDS = ("broadcast", "approval", "reviewed")


def message(version: Version, photo: str | None) -> Rendered:
    """A broadcast exactly as a reader gets it: text (or caption), photo and link buttons."""
    markup = None
    if version.buttons:
        kb = InlineKeyboardBuilder()
        for label, url in version.buttons:
            kb.button(text=label, url=url)
        kb.adjust(1)
        markup = kb.as_markup()
    return Rendered(version.text, markup, photo)


def discreet_notice(broadcast_id: int) -> Rendered:
    """What a reader in discreet mode gets instead of a broadcast: a notice that names
    nobody, and a button that shows the message when they choose to read it. Staff write
    broadcasts freely, names included; no filter could take every name out reliably."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📖 Show the message"), callback_data=ShowBroadcastCb(id=broadcast_id))
    return Rendered(_("📣 There is a new message from the campaign team."), kb.as_markup())


def version_of(row: BroadcastVersion) -> Version:
    return Version(row.text, [(str(a), str(b)) for a, b in json.loads(row.buttons)])


def audience_phrase(audience: str, value: str, names: Sequence[str] = ()) -> str:
    """Who a broadcast goes to, in words; `names` are the chosen cases' names."""
    if audience == Audience.ALL:
        return _("all supporters")
    if audience == Audience.COUNTRY:
        return _("followers of cases in {country}").format(country=views.country_name(value))
    if audience == Audience.LANGUAGE:
        return _("people who read the bot in {language}").format(
            language=LANGUAGE_NAMES.get(value, value)
        )
    listed = ", ".join(escape(n) for n in names)
    if audience == Audience.FAMILY:
        return _("family members of {name}").format(name=listed)
    return _("followers of {names}").format(names=listed)


def status_label(status: str) -> str:
    labels: dict[str, str] = {
        BroadcastStatus.AWAITING: _("waiting for approval"),
        BroadcastStatus.SCHEDULED: _("scheduled"),
        BroadcastStatus.SENDING: _("sending"),
        BroadcastStatus.PAUSED: _("paused"),
        BroadcastStatus.DONE: _("finished"),
        BroadcastStatus.CANCELLED: _("cancelled"),
        BroadcastStatus.REJECTED: _("not approved"),
    }
    return labels.get(status, status)


def _duration(seconds: float) -> str:
    return format_timedelta(
        dt.timedelta(seconds=max(seconds, 1.0)),
        threshold=1.1,
        format="short",
        locale=get_i18n().current_locale,
    )


def progress_text(broadcast_id: int, report: Report) -> str:
    """The staff member's live view: counts and pace, never who."""
    head = _("📣 <b>Broadcast #{id}</b>: {status}").format(
        id=broadcast_id, status=status_label(report.status)
    )
    if report.finished:
        lines = [
            head,
            _("Delivered: {count}").format(count=views.number(report.delivered)),
            _("Blocked the bot or left Telegram: {count}").format(
                count=views.number(report.unreachable)
            ),
            _("Failed: {count}").format(count=views.number(report.failed)),
        ]
        if report.cancelled:
            lines.append(
                _("Not sent, cancelled: {count}").format(count=views.number(report.cancelled))
            )
        return "\n".join(lines)
    lines = [
        head,
        _("Sent: {sent} of {total}").format(
            sent=views.number(report.delivered), total=views.number(report.recipients)
        ),
        _("Failed: {count}").format(count=views.number(report.failed + report.unreachable)),
        _("Left: {count}").format(count=views.number(report.left)),
        _("Rate: {rate} per second").format(rate=f"{report.rate:.1f}"),
    ]
    if report.eta_seconds is not None and report.status == BroadcastStatus.SENDING:
        lines.append(
            _("Time left: about {duration}").format(duration=_duration(report.eta_seconds))
        )
    return "\n".join(lines)


def progress_markup(broadcast_id: int, status: str) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    if status == BroadcastStatus.SENDING:
        kb.button(text=_("⏸ Pause"), callback_data=BroadcastCb(action="pause", id=broadcast_id))
    elif status == BroadcastStatus.PAUSED:
        kb.button(text=_("▶️ Resume"), callback_data=BroadcastCb(action="resume", id=broadcast_id))
    else:
        return None
    kb.button(text=_("⏹ Cancel"), callback_data=BroadcastCb(action="cancel", id=broadcast_id))
    kb.adjust(2)
    return kb.as_markup()


def progress_message(broadcast_id: int, report: Report) -> Rendered:
    return Rendered(
        progress_text(broadcast_id, report), progress_markup(broadcast_id, report.status)
    )


class BroadcastRenderer:
    """Renders broadcasts and the messages about them for the delivery worker."""

    TTL = 5.0  # short: a cancelled broadcast should stop rendering soon

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], i18n: I18n, fallbacks: list[str]
    ) -> None:
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.fallbacks = fallbacks
        self._cache: TtlCache[int, tuple[Broadcast | None, dict[str, BroadcastVersion]]] = TtlCache(
            self.TTL, 256
        )

    async def _load(
        self, broadcast_id: int, *, fresh: bool = False
    ) -> tuple[Broadcast | None, dict[str, BroadcastVersion]]:
        async def load() -> tuple[Broadcast | None, dict[str, BroadcastVersion]]:
            async with self.sessionmaker() as session:
                broadcast = await broadcasts.by_id(session, broadcast_id)
                versions = await broadcasts.versions_of(session, broadcast_id) if broadcast else {}
            return broadcast, versions

        return await self._cache.get(broadcast_id, load, fresh=fresh)

    async def __call__(self, spec: Spec, reader: Reader) -> Rendered | None:
        """A broadcast for this reader, or a message about one to staff; None when it no
        longer applies (cancelled, or approved by someone else already)."""
        if isinstance(spec, BroadcastSpec):
            broadcast, versions = await self._load(spec.broadcast_id)
            live = {BroadcastStatus.SENDING, BroadcastStatus.PAUSED}
            if broadcast is not None and broadcast.status not in live:
                # Cached while it waited for approval, perhaps: look again before dropping.
                broadcast, versions = await self._load(spec.broadcast_id, fresh=True)
            # A paused broadcast's in-flight messages still go; a cancelled one's do not.
            if broadcast is None or not versions or broadcast.status not in live:
                return None
            if reader.discreet:
                with self.i18n.context(), self.i18n.use_locale(reader.locale):
                    return discreet_notice(broadcast.id or 0)
            chain = fallback_chain(reader.locale, self.fallbacks)
            return message(version_of(pick_version(versions, chain)), broadcast.photo)
        if not isinstance(spec, ApprovalSpec | ReviewedSpec):
            return None
        with self.i18n.context(), self.i18n.use_locale(reader.locale):
            broadcast, _versions = await self._load(spec.broadcast_id)
            if broadcast is None or broadcast.id is None:
                return None
            if isinstance(spec, ApprovalSpec):
                if broadcast.status != BroadcastStatus.AWAITING:
                    return None  # someone approved or declined it already
                kb = InlineKeyboardBuilder()
                kb.button(
                    text=_("🔎 Review"), callback_data=BroadcastCb(action="review", id=broadcast.id)
                )
                text = ngettext(
                    "🗳 Broadcast #{id} to {count} person waits for a second staff member's "
                    "approval.",
                    "🗳 Broadcast #{id} to {count} people waits for a second staff member's "
                    "approval.",
                    broadcast.recipients,
                ).format(id=broadcast.id, count=views.number(broadcast.recipients))
                return Rendered(text, kb.as_markup())
            if spec.approved:
                return Rendered(_("✅ Broadcast #{id} was approved.").format(id=broadcast.id))
            return Rendered(
                _("❌ Broadcast #{id} was not approved; it will not be sent.").format(
                    id=broadcast.id
                )
            )
