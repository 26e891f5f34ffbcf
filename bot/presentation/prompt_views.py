"""How letter prompts read: a transfer's new address to past card writers, a birthday a
week ahead, a release that is near. Rendered at send time in the reader's language.

Each is checked against the case as it is when sent: a prompt overtaken by events (moved
again, released early, a corrected date) renders nothing rather than something wrong.
Discreet readers get no name and no address in the message; the button opens them.
"""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.specs import BirthdaySpec, ReleaseSoonSpec, Spec, TransferSpec
from bot.delivery.ttl_cache import TtlCache
from bot.delivery.worker import Reader, Rendered
from bot.presentation import views
from bot.presentation.buttons import InlineKeyboardBuilder
from bot.presentation.callbacks import CaseCb, LetterCb
from bot.services import cases, letters
from bot.services.cases import fallback_chain, pick_text, pick_value
from bot.services.transfers import address_tag
from db.models import Case, CaseText, LetterKind, Visibility

KINDS = ("transfer", "birthday", "release_soon")


def _write_card(case_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("💌 Write a card"),
        callback_data=LetterCb(action="show", id=case_id, kind=LetterKind.CARD),
    )
    kb.button(text=_("Open the case"), callback_data=CaseCb(action="view", id=case_id))
    kb.adjust(1)
    return kb.as_markup()


def transfer_text(name: str, address: str, place: str | None, first: bool = False) -> str:
    lines = [
        f"<b>{escape(name)}</b>",
        _("✉️ A card can now be sent. This is the address for letters:")
        if first
        else _("🚚 Has been moved. Letters should now go to this address:"),
        "",
        escape(address),
    ]
    if place:
        lines.append(escape(place))
    if not first:
        lines += ["", _("Letters sent to the old address may not reach them.")]
    return "\n".join(lines)


def birthday_text(name: str, day: str) -> str:
    return "\n".join(
        [
            f"<b>{escape(name)}</b>",
            _(
                "🎂 Their birthday is on {date}, a week from now. A card that arrives in time "
                "tells them they are remembered."
            ).format(date=day),
        ]
    )


def release_text(name: str, day: str) -> str:
    return "\n".join(
        [
            f"<b>{escape(name)}</b>",
            _(
                "🕊 Their release is expected on {date}. Write a welcome-home note, so that "
                "words of support are waiting for them."
            ).format(date=day),
        ]
    )


class PromptRenderer:
    """Renders transfer, birthday and release_soon specs for the delivery worker."""

    TTL = 30.0

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], i18n: I18n, fallbacks: list[str]
    ) -> None:
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.fallbacks = fallbacks
        self._cases: TtlCache[int, tuple[Case | None, dict[str, CaseText]]] = TtlCache(self.TTL)

    async def _case(
        self, case_id: int, fresh: bool = False
    ) -> tuple[Case | None, dict[str, CaseText]]:
        # A birthday prompt may go to thousands of followers within a minute; an address
        # is read fresh, since one moment old it may already be the wrong prison.
        async def load() -> tuple[Case | None, dict[str, CaseText]]:
            async with self.sessionmaker() as session:
                case = await cases.by_id(session, case_id)
                texts = await cases.texts_for(session, case_id)
            return case, texts

        return await self._cases.get(case_id, load, fresh=fresh)

    async def __call__(self, spec: Spec, reader: Reader) -> Rendered | None:
        """The prompt for this reader; None when events overtook it (moved again,
        released early, a corrected date) or the case is no longer public."""
        if not isinstance(spec, TransferSpec | BirthdaySpec | ReleaseSoonSpec):
            return None
        case, texts = await self._case(spec.case_id, fresh=isinstance(spec, TransferSpec))
        if case is None or case.id is None or not texts:
            return None
        if case.visibility != Visibility.PUBLIC:
            return None
        writable = LetterKind.CARD in letters.kinds_for(case)
        chain = fallback_chain(reader.locale, self.fallbacks)
        name = pick_text(texts, chain).name
        with self.i18n.context(), self.i18n.use_locale(reader.locale):
            markup = _write_card(case.id)
            if isinstance(spec, TransferSpec):
                if not case.prison_address or address_tag(case.prison_address) != spec.address_tag:
                    return None  # moved again since: that notice has the address
                if not writable:
                    return None  # released, or letters no longer reach them
                if reader.discreet:
                    return Rendered(
                        _("✉️ A card can now be sent to someone you asked about.")
                        if spec.first
                        else _("🚚 The address for letters to someone you wrote to has changed."),
                        markup,
                    )
                place = pick_value(texts, chain, "place_of_detention")
                text = transfer_text(name, case.prison_address, place, bool(spec.first))
                return Rendered(text, markup)
            day = spec.day
            if not writable:
                return None  # released, or letters no longer reach them
            if isinstance(spec, BirthdaySpec):
                born = case.born_on
                if born is None or (born.month, born.day) != (day.month, day.day):
                    return None
                if reader.discreet:
                    # Not "a case you follow": those who asked for every birthday get it too.
                    return Rendered(_("🎂 A birthday is coming up. Open to write a card."), markup)
                return Rendered(birthday_text(name, views.day_month(day)), markup)
            if case.release_expected_on != day:
                return None
            if reader.discreet:
                return Rendered(_("🕊 A release is expected soon in a case you follow."), markup)
            return Rendered(release_text(name, views.long_date(day)), markup)
