"""Publishing case updates: a status change or news, public or for the family alone.

An update, the case's new status and the alerts to every reader are written in one
transaction, so the change and its alerts land together or not at all. This is the
only path by which a status change reaches people: the YAML import uses it too.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.services import alerts, staff
from bot.services.cases import pick_text
from config.settings import SUPPORTED_LOCALES
from db.models import Case, CaseStatus, CaseUpdate, UpdateKind
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from db.repositories import updates as repo
from db.types import utcnow

MAX_TEXT = 3000
KINDS = frozenset(k.value for k in UpdateKind)
STATUSES = frozenset(s.value for s in CaseStatus)


class UpdateError(ValueError):
    """An update that cannot be published; the message says which rule it breaks."""


def clean_text(text: str) -> str:
    """What an editor typed, as it is stored: plain text, trimmed, without control
    characters other than line breaks and tabs (joiners inside emoji are kept)."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return kept.strip()


def pick_note(texts: Mapping[str, str], chain: Sequence[str]) -> str | None:
    """The update's text in the first language of `chain` that has one, else in any
    language it was written in; None when it has no text at all."""
    return pick_text(texts, chain) if texts else None


def _check(case: Case, kind: str, texts: Mapping[str, str], family_only: bool,
           new_status: str | None) -> None:  # fmt: skip
    if kind not in KINDS:
        raise UpdateError(f"unknown kind {kind!r}")
    for locale, text in texts.items():
        if locale not in SUPPORTED_LOCALES:
            raise UpdateError(f"unknown locale {locale!r}")
        if not text or len(text) > MAX_TEXT:
            raise UpdateError(f"a text must have 1 to {MAX_TEXT} characters")
    if kind != UpdateKind.STATUS:
        if new_status is not None:
            raise UpdateError("only a status change changes the status")
        if not texts:
            raise UpdateError(f"{kind} needs a text")
        if kind != UpdateKind.NEWS and family_only:
            raise UpdateError("an urgent action and its follow-up go to their own readers")
        return
    if new_status not in STATUSES:
        raise UpdateError(f"unknown status {new_status!r}")
    if new_status == case.status:
        raise UpdateError("the case has this status already")
    if family_only:
        # The card shows the status to everyone at once, so telling only the family
        # would leave followers the last to know what anyone can read.
        raise UpdateError("a status change is public")


async def publish(
    session: AsyncSession,
    case: Case,
    kind: str,
    texts: Mapping[str, str],
    *,
    family_only: bool = False,
    new_status: str | None = None,
    actor: str,
    deadline: dt.datetime | None = None,
    action: CaseUpdate | None = None,
) -> CaseUpdate:
    """Publish an update in the caller's transaction and return it.

    For a status change (`kind` "status", `new_status` set, texts an optional note) the
    case takes the new status. An urgent action (`kind` "action") needs a `deadline`
    ahead; further information (`kind` "info") names the `action` of this case it
    follows up. The alerts go to the case's followers and family, to the family alone
    for family-only news, and to those who did the action for further information,
    deduplicated by the update's id. Raises UpdateError for anything the rules do not
    allow, and for a status change if the case's status is no longer `case.status` (another
    editor or an import changed it since `case` was read); nothing is written then.
    """
    cleaned = {locale: clean_text(text) for locale, text in texts.items()}
    _check(case, kind, cleaned, family_only, new_status)
    assert case.id is not None
    if kind == UpdateKind.ACTION:
        if deadline is None or deadline <= utcnow():
            raise UpdateError("an urgent action needs a deadline ahead")
    elif deadline is not None:
        raise UpdateError("only an urgent action has a deadline")
    if kind == UpdateKind.INFO:
        if action is None or action.case_id != case.id or action.kind != UpdateKind.ACTION:
            raise UpdateError("further information follows an urgent action of this case")
    elif action is not None:
        raise UpdateError("only further information follows an action")
    status = kind == UpdateKind.STATUS
    old_status = case.status
    if status:
        assert new_status is not None
        now = utcnow()
        # `case` was read earlier, maybe long before (an editor's dialogue, an import's
        # first read), and another editor or process may have changed its status since.
        # So the change is made only if the status is still the one read, in one statement
        # that is this publication's first write: what follows is written only by the one
        # that made the change (the other waits for the lock on SQLite, for the row on
        # PostgreSQL, and finds no row), and no reader hears of two changes.
        if not await cases_repo.change_status(
            session, case.id, old_status, CaseStatus(new_status), now
        ):
            raise UpdateError(
                f"case {case.slug} has changed since it was read: its status is no longer "
                f"{old_status}"
            )
        # The row was written by that statement: the loaded copy takes what it holds now,
        # as unchanged, so that no second UPDATE writes it again at the next flush.
        set_committed_value(case, "status", CaseStatus(new_status))
        set_committed_value(case, "updated_at", now)
    update = await repo.add(
        session,
        CaseUpdate(
            case_id=case.id,
            kind=UpdateKind(kind),
            old_status=old_status if status else None,
            new_status=CaseStatus(new_status) if status and new_status else None,
            family_only=family_only,
            author=actor,
            deadline=deadline,
            action_id=action.id if action is not None else None,
        ),
        cleaned,
    )
    await alerts.case_update(session, case, update)
    audit: dict[str, str] = {UpdateKind.STATUS: "case.status", UpdateKind.ACTION: "case.action"}
    await staff.audit(session, actor, audit.get(kind, "case.update"), f"case:{case.slug}")
    return update


async def recipients(
    session: AsyncSession, case_id: int, family_only: bool, action_id: int | None = None
) -> int:
    """How many people an update would reach now: a count, never who. Further information
    on an action (`action_id`) reaches those who did it."""
    if action_id is not None:
        return len(await repo.takers(session, action_id))
    if family_only:
        return len(await follows_repo.family_ids(session, case_id))
    return len(await follows_repo.reader_ids(session, case_id))


async def texts_of(session: AsyncSession, update_id: int) -> dict[str, str]:
    """An update's text in every language it was written in."""
    return await repo.texts(session, update_id)


async def of_case(session: AsyncSession, case_id: int) -> list[CaseUpdate]:
    """A case's updates, oldest first."""
    return await repo.of_case(session, case_id)


async def has_taken(session: AsyncSession, update_id: int, person_id: int) -> bool:
    """Whether the person marked this urgent action done."""
    return await repo.has_taken(session, update_id, person_id)


async def by_id(session: AsyncSession, update_id: int) -> CaseUpdate | None:
    """A published update (an urgent action, say), whatever its case's visibility."""
    return await repo.by_id(session, update_id)
