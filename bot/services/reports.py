"""Reports: what relatives send to the campaign and the inaccuracies supporters point out
on case cards, and their moderation.

A report's text and attachment are stored only sealed, and never logged. Editors read
them in a queue; the sender stays a row id to them, never a Telegram identity. What the
sender is told afterwards (that it was read, a private answer) goes through the outbox,
and an answer's text sits in the outbox only sealed as well.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from bot.delivery.outbox import enqueue
from bot.delivery.specs import ReportAnswerSpec, ReportReadSpec
from bot.services import staff
from bot.services.updates import clean_text
from db.models import Report, ReportKind, ReportStatus
from db.repositories import reports as repo
from db.repositories import updates as updates_repo
from db.types import utcnow

MAX_TEXT = 3000
MAX_CAPTION = 1000  # Telegram's caption limit is 1024; leave room for nothing surprising
MAX_ANSWER = 2000
# A supporter's note on a mistake in a case card: short, and text only.
MAX_INACCURACY = 1000
DAILY_LIMIT = 10
QUEUE_SIZE = 20
# An answered report stays in the queue until an editor publishes or archives it: the
# answer to the relative is often not the end of what the news calls for.
WAITING = (ReportStatus.NEW, ReportStatus.READ, ReportStatus.ANSWERED)
ATTACHMENT_TYPES = frozenset({"photo", "document"})
MAX_FILE_ID = 200

BODY_LABEL = b"report-body"
ATTACHMENT_LABEL = b"report-attachment"
ANSWER_LABEL = b"report-answer"


class ReportError(ValueError):
    """A report or an answer that cannot be taken; `reason` says which rule it breaks."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    type: str  # photo | document
    file_id: str


@dataclass(frozen=True)
class Opened:
    """A report as an editor reads it."""

    report: Report
    text: str
    attachment: Attachment | None
    first_read: bool


# ---------------------------------------------------------------- sending


async def may_report(session: AsyncSession, person_id: int | None) -> bool:
    """Whether the person may use /report: a family member of at least one case."""
    return person_id is not None and await repo.is_family_anywhere(session, person_id)


async def family_cases(session: AsyncSession, person_id: int) -> list[int]:
    """The cases a relative may report on."""
    return await repo.family_case_ids(session, person_id)


async def may_report_on(session: AsyncSession, person_id: int, case_id: int) -> bool:
    """Whether the person is (still) family of this case: checked at every step, since
    a button may be old or forged."""
    return await updates_repo.is_family(session, case_id, person_id)


async def over_daily_limit(session: AsyncSession, person_id: int) -> bool:
    """Whether the person has sent DAILY_LIMIT reports in the last 24 hours."""
    since = utcnow() - dt.timedelta(days=1)
    return await repo.sent_since(session, person_id, since) >= DAILY_LIMIT


def text_limit(attachment: Attachment | None) -> int:
    """How long the text may be: a caption with an attachment, a message without."""
    return MAX_CAPTION if attachment is not None else MAX_TEXT


async def submit(
    session: AsyncSession,
    cipher: IdentityCipher,
    person_id: int,
    case_id: int,
    text: str,
    attachment: Attachment | None,
    kind: str = ReportKind.FAMILY,
) -> Report:
    """Store a report, sealed, in the caller's transaction.

    Raises ReportError: "family" if a family report's sender is not family of the case,
    "limit" past the daily limit, "empty" without text or attachment, "long" past the
    text limit, "attachment" for a malformed attachment.
    """
    text = clean_text(text)
    if kind == ReportKind.FAMILY and not await may_report_on(session, person_id, case_id):
        raise ReportError("family")
    if await over_daily_limit(session, person_id):
        raise ReportError("limit")
    if attachment is not None and (
        attachment.type not in ATTACHMENT_TYPES
        or not attachment.file_id
        or len(attachment.file_id) > MAX_FILE_ID
    ):
        raise ReportError("attachment")
    if kind == ReportKind.INACCURACY and attachment is not None:
        raise ReportError("attachment")
    if not text and attachment is None:
        raise ReportError("empty")
    limit = MAX_INACCURACY if kind == ReportKind.INACCURACY else text_limit(attachment)
    if len(text) > limit:
        raise ReportError("long")
    sealed_attachment = None
    if attachment is not None:
        blob = json.dumps({"type": attachment.type, "file_id": attachment.file_id})
        sealed_attachment = cipher.seal(blob.encode(), ATTACHMENT_LABEL)
    return await repo.add(
        session,
        Report(
            kind=ReportKind(kind),
            case_id=case_id,
            person_id=person_id,
            body=cipher.seal(text.encode(), BODY_LABEL),
            attachment=sealed_attachment,
            status=ReportStatus.NEW,
        ),
    )


# ---------------------------------------------------------------- moderation


async def queue(session: AsyncSession, limit: int = QUEUE_SIZE) -> tuple[list[Report], int]:
    """The reports waiting for an editor (new and read), oldest first, and their count."""
    return await repo.waiting(session, WAITING, limit)


def text_of(cipher: IdentityCipher, report: Report) -> str:
    return cipher.unseal(report.body, BODY_LABEL).decode()


def attachment_of(cipher: IdentityCipher, report: Report) -> Attachment | None:
    if report.attachment is None:
        return None
    data = json.loads(cipher.unseal(report.attachment, ATTACHMENT_LABEL))
    return Attachment(type=str(data["type"]), file_id=str(data["file_id"]))


async def exists(session: AsyncSession, report_id: int) -> bool:
    """Whether the report is still there (its sender may have used /forget)."""
    return await repo.by_id(session, report_id) is not None


async def find(
    session: AsyncSession, cipher: IdentityCipher, report_id: int
) -> tuple[Report, str] | None:
    """A report and its text, for an editor who already opened it; None if it is gone."""
    report = await repo.by_id(session, report_id)
    if report is None:
        return None
    return report, text_of(cipher, report)


def _batch(report_id: int) -> str:
    return f"report:{report_id}"


async def open_report(
    session: AsyncSession, cipher: IdentityCipher, report_id: int, actor: str
) -> Opened | None:
    """An editor opens a report: its content unsealed, or None if it is gone.

    The first opening marks it read and tells the sender so (through the outbox, once,
    without any of the content); every opening is audited.
    """
    report = await repo.by_id(session, report_id)
    if report is None or report.id is None:
        return None
    first = await repo.mark_read(session, report.id, utcnow())
    if first:
        await enqueue(
            session,
            person_ids=[report.person_id],
            spec=ReportReadSpec(report_id=report.id),
            batch=_batch(report.id),
            key=f"{_batch(report.id)}:read",
        )
        await session.refresh(report)
    await staff.audit(session, actor, "report.read", _batch(report.id))
    return Opened(report, text_of(cipher, report), attachment_of(cipher, report), first)


async def answer(
    session: AsyncSession, cipher: IdentityCipher, report_id: int, text: str, actor: str
) -> bool:
    """Send the sender a private answer from "the campaign team"; False if the report is
    gone. The answer travels sealed in the delivery's spec and is opened only to render
    it. Raises ReportError ("empty", "long") for a text outside the limits."""
    text = clean_text(text)
    if not text:
        raise ReportError("empty")
    if len(text) > MAX_ANSWER:
        raise ReportError("long")
    report = await repo.by_id(session, report_id)
    if report is None or report.id is None:
        return False
    sealed = base64.b64encode(cipher.seal(text.encode(), ANSWER_LABEL)).decode()
    # Each answer is its own message; the moment makes its key unique.
    stamp = int(utcnow().timestamp() * 1_000_000)
    await enqueue(
        session,
        person_ids=[report.person_id],
        spec=ReportAnswerSpec(report_id=report.id, sealed_answer=sealed),
        batch=_batch(report.id),
        key=f"{_batch(report.id)}:answer:{stamp}",
    )
    await repo.set_status(session, report.id, ReportStatus.ANSWERED)
    await staff.audit(session, actor, "report.answer", _batch(report.id))
    return True


def unseal_answer(cipher: IdentityCipher, spec: ReportAnswerSpec) -> str | None:
    """The answer a report_answer spec carries, or None if it does not authenticate."""
    try:
        blob = base64.b64decode(spec.sealed_answer, validate=True)
        return cipher.unseal(blob, ANSWER_LABEL).decode()
    except (ValueError, binascii.Error):
        return None


async def archive(session: AsyncSession, report_id: int, actor: str) -> bool:
    """Take a report out of the queue; False if it is gone."""
    if not await repo.set_status(session, report_id, ReportStatus.ARCHIVED):
        return False
    await staff.audit(session, actor, "report.archive", _batch(report_id))
    return True


async def published(session: AsyncSession, report_id: int, case_id: int, actor: str) -> bool:
    """A case update made from the report was published: the report leaves the queue.
    Only a report on that very case is touched; False otherwise (or if it is gone)."""
    report = await repo.by_id(session, report_id)
    if report is None or report.id is None or report.case_id != case_id:
        return False
    await repo.set_status(session, report.id, ReportStatus.PUBLISHED)
    await staff.audit(session, actor, "report.update", _batch(report.id))
    return True


async def for_renderer(session: AsyncSession, report_id: int, person_id: int) -> Report | None:
    """The report a message to its sender is about; None if it is gone or not theirs."""
    report = await repo.by_id(session, report_id)
    if report is None or report.person_id != person_id:
        return None
    return report
