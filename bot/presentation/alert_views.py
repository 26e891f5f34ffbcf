"""How alerts read: rendered at send time in the reader's language and time zone.

Discreet readers get no prisoner's name in the message at all, so neither the
notification preview nor a glance at the chat list shows it; a button opens the case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.specs import (
    ActionReminderSpec,
    DigestItem,
    DigestSpec,
    HearingCancelledSpec,
    HearingMovedSpec,
    HearingReminderSpec,
    Spec,
    StatusSpec,
    UpdateSpec,
)
from bot.delivery.ttl_cache import TtlCache
from bot.delivery.worker import Reader, Rendered
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import ActionCb, CaseCb, MenuCb
from bot.services import cases, families, hearings, reports, updates
from bot.services.cases import fallback_chain, pick_text
from bot.services.updates import pick_note
from bot.storage import Storage
from db.changes import on_commit_of_writes
from db.models import CaseStatus, CaseText, Hearing, HearingStatus, UpdateKind


def _status_sentence(status: str) -> str:
    sentences: dict[str, str] = {
        CaseStatus.RELEASED: _("🕊 Released! Thank you to everyone who wrote letters and spoke up."),
        CaseStatus.ACQUITTED: _("✅ Acquitted by the court. Thank you for standing with them."),
        CaseStatus.SENTENCED: _(
            "🔒 The court has passed a sentence. Letters matter even more now."
        ),
        CaseStatus.ON_TRIAL: _("⚖️ The trial has begun. We will tell you about hearings."),
        CaseStatus.DETAINED: _("⛓ In detention now. Please stand with them."),
        CaseStatus.IN_EXILE: _("🧳 Now living in exile."),
        CaseStatus.DECEASED: _("🕯 With deep sorrow: they died in custody."),
    }
    return sentences.get(status, views.status_label(status))


def update_parts(new_status: str | None, note: str | None, family_only: bool) -> tuple[str, str]:
    """(headline, details) of a case update in the current language.

    The headline is the status sentence, or a news heading, marked when the update is for
    the family alone; the details are the editor's text, escaped: it is plain text, and
    HTML typed in it is shown, never interpreted.
    """
    headline = _status_sentence(new_status) if new_status else _("📰 News about the case")
    if family_only:
        headline = "\n".join([_("👪 For the family"), headline])
    return headline, escape(note or "")


def update_discreet() -> str:
    """A case update as a reader in discreet mode sees it: no name, no details."""
    return _("🔔 There is news about a case you follow.")


def alert_text(name: str, headline: str, body: str) -> str:
    """An alert as a reader who is not in discreet mode sees it."""
    return f"<b>{escape(name)}</b>\n{headline}\n{body}".rstrip()


# The kinds this renderer shows; the delivery engine's default for the rest, too.
KINDS = (
    "update",
    "action_reminder",
    "status",
    "reminder",
    "hearing_cancelled",
    "hearing_moved",
    "digest",
)

# An action's deadline where none was stored (never, since actions have one): as before.
_EPOCH = dt.datetime.fromtimestamp(0, dt.UTC)


def _per_reader(spec: Spec) -> bool:
    """Whether rendering depends on who reads: family news, an action's reminder."""
    items = spec.items if isinstance(spec, DigestSpec) else (spec,)
    return any(
        isinstance(item, ActionReminderSpec) or (isinstance(item, UpdateSpec) and item.family_only)
        for item in items
    )


def _open_case(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Open the case"), callback_data=CaseCb(action="view", id=case_id))
    return kb.as_markup()


def action_buttons(update_id: int, case_id: int, done: bool = False) -> InlineKeyboardMarkup:
    """Under an urgent action: "I did it" (or its thanks, once pressed) and the case."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Done — thank you") if done else _("✅ I did it"),
        callback_data=ActionCb(id=update_id),
    )
    kb.button(text=_("Open the case"), callback_data=CaseCb(action="view", id=case_id))
    kb.adjust(1)
    return kb.as_markup()


def action_headline(kind: str, until: str) -> str:
    """The first line of an urgent action or its further information; `until` is the
    deadline, already formatted for the reader."""
    if kind == UpdateKind.ACTION:
        return _("🚨 <b>Urgent action</b>: please act by {when}.").format(when=until)
    return _("ℹ️ <b>Further information</b> on the urgent action you took part in.")


def relative_discreet(spec: Spec) -> str | None:
    """The discreet line for a relative of the case: "your relative's case", never "a
    case you follow" of their own family member. None where the generic line fits."""
    if isinstance(spec, UpdateSpec) and spec.action_kind is not None:
        if spec.action_kind == "action":
            return _("🚨 An urgent action for your relative's case.")
        return None
    if isinstance(spec, UpdateSpec | StatusSpec):
        return _("🔔 There is news about your relative's case.")
    if isinstance(spec, ActionReminderSpec):
        return _("⏳ An urgent action on your relative's case ends soon.")
    if isinstance(spec, HearingReminderSpec):
        return _("⏰ A hearing in your relative's case is coming up.")
    if isinstance(spec, HearingCancelledSpec | HearingMovedSpec):
        return _("📅 A hearing in your relative's case has changed.")
    return None


def action_discreet(kind: str) -> str:
    if kind == UpdateKind.ACTION:
        return _("🚨 An urgent action for a case you follow.")
    return _("ℹ️ News of an urgent action you took part in.")


def _my_cases() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⭐ My cases"), callback_data=MenuCb(to="my"))
    return kb.as_markup()


class AlertRenderer:
    """Renders outbox specs; case text and hearings are cached briefly across recipients."""

    TTL = 30.0

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], i18n: I18n, fallbacks: list[str]
    ) -> None:
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.fallbacks = fallbacks
        self._texts: TtlCache[int, dict[str, CaseText]] = TtlCache(self.TTL)
        self._hearings: TtlCache[int, Hearing | None] = TtlCache(self.TTL)
        self._updates: TtlCache[int, dict[str, str]] = TtlCache(self.TTL)
        self._families: TtlCache[int, frozenset[int]] = TtlCache(self.TTL)
        self._rendered: TtlCache[tuple[Spec, str, str, bool, int], Rendered | None] = TtlCache(
            self.TTL, 4096
        )

    @classmethod
    def watching(cls, storage: Storage, i18n: I18n, fallbacks: list[str]) -> AlertRenderer:
        """A renderer that forgets its hearings whenever a write to them commits in this
        process (for as long as the engine: one set of renderers per process)."""
        renderer = cls(storage.sessionmaker, i18n, fallbacks)
        on_commit_of_writes(storage.engine, ["hearings"], renderer.forget_hearings, inserts=False)
        return renderer

    def forget_hearings(self) -> None:
        """A write to the hearings has committed: forget them, and what was rendered of
        them. A hearing cancelled or moved here must stop its reminders at once, not after
        the time-to-live (a reminder rendered from the kept hearing would go out after the
        withdrawal). Changes made by other processes are bounded by the time-to-live, and
        whoever such a reminder reaches is sent the change notice after it."""
        self._hearings.clear()
        self._rendered.clear()

    async def _case_texts(self, case_id: int) -> dict[str, CaseText]:
        async def load() -> dict[str, CaseText]:
            async with self.sessionmaker() as session:
                return await cases.texts_for(session, case_id)

        return await self._texts.get(case_id, load)

    async def _hearing(self, hearing_id: int) -> Hearing | None:
        async def load() -> Hearing | None:
            async with self.sessionmaker() as session:
                return await hearings.by_id(session, hearing_id)

        return await self._hearings.get(hearing_id, load)

    async def _update_texts(self, update_id: int) -> dict[str, str]:
        async def load() -> dict[str, str]:
            async with self.sessionmaker() as session:
                return await updates.texts_of(session, update_id)

        return await self._updates.get(update_id, load)

    async def _note(self, update_id: int, reader: Reader) -> str | None:
        texts = await self._update_texts(update_id)
        return pick_note(texts, fallback_chain(reader.locale, self.fallbacks))

    async def _has_acted(self, update_id: int, person_id: int) -> bool:
        # Not cached: pressing "I did it" a minute ago must spare the reminder.
        async with self.sessionmaker() as session:
            return await updates.has_taken(session, update_id, person_id)

    async def _family(self, case_id: int) -> frozenset[int]:
        # Cached: only the wording depends on it, and a relative who joined a moment ago
        # may get the supporters' wording once.
        async def load() -> frozenset[int]:
            async with self.sessionmaker() as session:
                return await families.members_of(session, case_id)

        return await self._families.get(case_id, load)

    async def _in_family(self, case_id: int, person_id: int) -> bool:
        # Not cached: a relative who joined a moment ago must not miss the family's news.
        async with self.sessionmaker() as session:
            return await reports.may_report_on(session, person_id, case_id)

    async def _name(self, case_id: int, locale: str) -> str | None:
        texts = await self._case_texts(case_id)
        if not texts:
            return None
        return pick_text(texts, fallback_chain(locale, self.fallbacks)).name

    async def __call__(self, spec: Spec, reader: Reader) -> Rendered | None:
        """The alert for this reader; None when it no longer applies (a hearing moved
        since, an action already taken, family news for someone outside the family)."""
        # Thousands of readers share a handful of (language, zone, discretion) versions;
        # family-only news is checked for each reader, so it is kept per reader.
        # A discreet line names no case, so it says whether the case is the reader's own
        # relative's: that too depends on who reads.
        gate = reader.person_id if _per_reader(spec) or reader.discreet else 0
        key = (spec, reader.locale, reader.timezone, reader.discreet, gate)
        return await self._rendered.get(key, lambda: self._render(spec, reader))

    async def _render(self, spec: Spec, reader: Reader) -> Rendered | None:
        with self.i18n.context(), self.i18n.use_locale(reader.locale):
            if isinstance(spec, DigestSpec):
                return await self._digest(spec.items, reader)
            line = await self._line(spec, reader)
            if line is None:
                return None
            case_id, headline, body, discreet_text = line
            markup = _open_case(case_id)
            if isinstance(spec, ActionReminderSpec) or (
                isinstance(spec, UpdateSpec) and spec.action_kind == "action"
            ):
                markup = action_buttons(spec.update_id, case_id)
            if reader.discreet:
                relative = relative_discreet(spec)
                if relative is not None and reader.person_id in await self._family(case_id):
                    discreet_text = relative
                return Rendered(discreet_text, markup)
            name = await self._name(case_id, reader.locale) or ""
            return Rendered(alert_text(name, headline, body), markup)

    async def _line(self, spec: DigestItem, reader: Reader) -> tuple[int, str, str, str] | None:
        """(case id, headline, details, the discreet version) for one alert."""
        if isinstance(spec, UpdateSpec):
            case_id = spec.case_id
            if spec.family_only and not await self._in_family(case_id, reader.person_id):
                return None  # family news never reaches anyone outside the family
            note = await self._note(spec.update_id, reader)
            if spec.new_status is None and note is None:
                return None  # news whose case (and so the news) was deleted since
            if spec.action_kind is not None:
                until = views.moment(spec.deadline or _EPOCH, reader.timezone)
                return (
                    case_id,
                    action_headline(spec.action_kind, until),
                    escape(note or ""),
                    action_discreet(spec.action_kind),
                )
            headline, body = update_parts(spec.new_status, note, spec.family_only)
            return case_id, headline, body, update_discreet()
        if isinstance(spec, ActionReminderSpec):
            if await self._has_acted(spec.update_id, reader.person_id):
                return None  # marked done since the reminder was planned
            note = await self._note(spec.update_id, reader)
            if note is None:
                return None
            return (
                spec.case_id,
                _(
                    "⏳ Reminder: the urgent action ends {when}. If you have not acted yet, "
                    "there is still time."
                ).format(when=views.moment(spec.deadline, reader.timezone)),
                escape(note),
                _("⏳ An urgent action on a case you follow ends soon."),
            )
        if isinstance(spec, StatusSpec):
            return (
                spec.case_id,
                _status_sentence(spec.new_status),
                "",
                _("🔔 There is news about a case you follow."),
            )
        if isinstance(spec, HearingReminderSpec):
            hearing = await self._hearing(spec.hearing_id)
            if (
                hearing is None
                or hearing.status != HearingStatus.SCHEDULED
                or int(hearing.starts_at.timestamp()) != int(spec.starts_at.timestamp())
            ):
                return None  # cancelled or moved since: the change notice says so
            return (
                hearing.case_id,
                _("⏰ Hearing reminder"),
                views.hearing_line(hearing, reader.timezone),
                _("⏰ A hearing in a case you follow is coming up."),
            )
        if isinstance(spec, HearingCancelledSpec | HearingMovedSpec):
            when = views.moment(spec.starts_at, reader.timezone)
            if isinstance(spec, HearingCancelledSpec):
                headline = _("❌ The hearing set for {when} has been cancelled.").format(when=when)
            else:
                headline = _("📅 The hearing set for {when} has been moved to {new_when}.").format(
                    when=when, new_when=views.moment(spec.moved_to, reader.timezone)
                )
            return (
                spec.case_id,
                headline,
                views.court_name(spec.court),
                _("📅 A hearing in a case you follow has changed."),
            )
        return None

    async def _discreet_digest(self, case_ids: Sequence[int], reader: Reader) -> str:
        """A digest's one discreet line: a relative's own family member is not "a case
        you follow"."""
        count = len(case_ids)
        cases_in = set(case_ids)
        own = {c for c in cases_in if reader.person_id in await self._family(c)}
        if own and own == cases_in:
            text = ngettext(
                "📬 {count} update on your relative's case.",
                "📬 {count} updates on your relative's case.",
                count,
            )
        elif own:
            text = ngettext(
                "📬 {count} update on your relative's case and the cases you follow.",
                "📬 {count} updates on your relative's case and the cases you follow.",
                count,
            )
        else:
            text = ngettext(
                "📬 {count} update on the cases you follow.",
                "📬 {count} updates on the cases you follow.",
                count,
            )
        return text.format(count=views.number(count))

    async def _digest(self, items: Sequence[DigestItem], reader: Reader) -> Rendered | None:
        lines: list[str] = []
        case_ids: list[int] = []
        for item in items:
            line = await self._line(item, reader)
            if line is None:
                continue
            case_id, headline, _body, _discreet = line
            case_ids.append(case_id)
            name = await self._name(case_id, reader.locale) or ""
            lines.append(f"• <b>{escape(name)}</b> — {headline}")
            if isinstance(item, UpdateSpec) and (note := await self._note(item.update_id, reader)):
                lines.append(views.snippet(note, 200))
        if not lines:
            return None
        if reader.discreet:
            return Rendered(await self._discreet_digest(case_ids, reader), _my_cases())
        header = _("📬 <b>Your digest</b>")
        return Rendered("\n".join([header, "", *lines]), _my_cases())
