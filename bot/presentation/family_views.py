"""How the campaign's messages to someone who sent a report read: that it was read, and a
private answer. Rendered at send time in the reader's language and time zone.

Discreet by nature: no prisoner's name, no case, nothing from the report itself, so a
notification preview or a glance at a searched phone says little. An answer names no
staff member either: it comes from "the campaign team".
"""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.crypto import IdentityCipher
from bot.delivery.specs import ReportAnswerSpec, ReportReadSpec, Spec
from bot.delivery.worker import Reader, Rendered
from bot.presentation import views
from bot.services import reports
from db.models import ReportKind

KINDS = ("report_read", "report_answer")


def read_text(sent: str) -> str:
    """The note that a report was read; `sent` is when it was sent, already formatted."""
    return "\n".join(
        [
            _("📬 The campaign team has read your message."),
            _("It was the one you sent on {when}. Thank you for trusting us with it.").format(
                when=sent
            ),
        ]
    )


def answer_text(sent: str, answer: str, family: bool = True) -> str:
    """A private answer; `answer` is plain text as the editor typed it, escaped here.
    A relative is reminded of /report; a supporter who pointed out an inaccuracy is not
    offered a command that is not theirs."""
    closing = (
        _("You can write to us again with /report.")
        if family
        else _("Thank you for helping keep the cases accurate.")
    )
    return "\n".join(
        [
            _("✉️ <b>A reply from the campaign team</b>"),
            _("To your message of {when}:").format(when=sent),
            "",
            escape(answer),
            "",
            closing,
        ]
    )


class FamilyRenderer:
    """Renders report_read and report_answer specs for the delivery worker."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        i18n: I18n,
        cipher: IdentityCipher,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.i18n = i18n
        self.cipher = cipher

    async def __call__(self, spec: Spec, reader: Reader) -> Rendered | None:
        """The note or answer for the report's sender; None when the report is gone or
        the reader is not its sender (a spec is never trusted to say whose it is)."""
        if not isinstance(spec, ReportReadSpec | ReportAnswerSpec):
            return None
        async with self.sessionmaker() as session:
            # Not cached: one message per report, and a report may be deleted meanwhile.
            report = await reports.for_renderer(session, spec.report_id, reader.person_id)
        if report is None:
            return None  # deleted since (/forget), or a spec that is not the reader's
        with self.i18n.context(), self.i18n.use_locale(reader.locale):
            sent = views.moment(report.created_at, reader.timezone)
            if isinstance(spec, ReportReadSpec):
                return Rendered(read_text(sent))
            answer = reports.unseal_answer(self.cipher, spec)
            if not answer:
                return None
            family = report.kind == ReportKind.FAMILY
            return Rendered(answer_text(sent, answer, family))
