"""Tables. No names, usernames or phone numbers of people are stored anywhere.

A person is a row found by a keyed HMAC of their Telegram id; the id itself is kept
only encrypted, for sending. Everything that belongs to a person references people.id,
so forgetting a person is deleting rows by that key.
"""

import datetime as dt
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from db.types import EnumText, UTCDateTime, utcnow


class CaseStatus(StrEnum):
    DETAINED = "detained"
    ON_TRIAL = "on_trial"
    SENTENCED = "sentenced"
    RELEASED = "released"
    ACQUITTED = "acquitted"
    IN_EXILE = "in_exile"
    DECEASED = "deceased"


class Visibility(StrEnum):
    PUBLIC = "public"
    HIDDEN = "hidden"
    ARCHIVED = "archived"


class LetterKind(StrEnum):
    CARD = "card"
    APPEAL = "appeal"


class DeliveryMode(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


class HearingKind(StrEnum):
    TRIAL = "trial"
    APPEAL = "appeal"
    CASSATION = "cassation"
    PAROLE = "parole"
    OTHER = "other"


class UpdateKind(StrEnum):
    STATUS = "status"  # the case's status changed (released, sentenced, ...)
    NEWS = "news"  # anything else worth telling: a transfer, a visit, a statement
    ACTION = "action"  # an urgent action: a call to act before a deadline
    INFO = "info"  # further information on an urgent action, for those who took part


class BroadcastStatus(StrEnum):
    AWAITING = "awaiting"  # waits for a second staff member's approval
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Audience(StrEnum):
    ALL = "all"  # every active supporter
    CASES = "cases"  # followers of chosen cases (value: comma-separated case ids)
    COUNTRY = "country"  # followers of a country's cases (value: ISO code)
    LANGUAGE = "language"  # people who read the bot in a language (value: locale)
    FAMILY = "family"  # family members of a case (value: case id)


class HearingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def _fk(target: str) -> Column[int]:
    return Column(Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, index=True)


class Person(SQLModel, table=True):
    __tablename__ = "people"

    id: int | None = Field(default=None, primary_key=True)
    tg_index: bytes = Field(sa_column=Column(LargeBinary(32), unique=True, nullable=False))
    tg_cipher: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    locale: str = Field(max_length=8)
    timezone: str = Field(default="UTC", max_length=64)
    quiet_from: int | None = Field(default=None, ge=0, le=23)
    quiet_to: int | None = Field(default=None, ge=0, le=23)
    delivery: DeliveryMode = Field(default=DeliveryMode.INSTANT, sa_type=EnumText(DeliveryMode, 8))
    digest_hour: int = Field(default=9, ge=0, le=23)
    discreet: bool = False
    protect_content: bool = True
    active: bool = True
    # Alerts are deleted by the bot this many hours after sending (None: kept).
    autodelete_hours: int | None = Field(default=None, ge=1, le=47)
    # When the person became unreachable (blocked the bot); retention drops them later.
    inactive_since: dt.date | None = None
    # Day precision only: enough for retention, too coarse to match against Telegram logs.
    created_on: dt.date = Field(default_factory=lambda: utcnow().date())
    # The person's own panic word, if they set one: a salted digest of it, sealed with a
    # key from DATA_KEY (never the word), so that a key rotation can carry it.
    panic_seal: bytes | None = Field(default=None, sa_column=Column(LargeBinary(96)))
    # A word set before panic_seal existed: a keyed hash no rotation can carry.
    panic_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32)))
    # Birthday-card prompts for every prisoner, not only the cases the person follows.
    birthday_prompts: bool = False
    # Whether /start has greeted them: a record made for them (a staff grant, a family
    # link) is not a visit, and their first /start is a welcome, not a "welcome back".
    greeted: bool = False


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    country: str = Field(max_length=2, index=True)
    status: CaseStatus = Field(index=True, sa_type=EnumText(CaseStatus, 16))
    detained_on: dt.date | None = None
    accepts_letters: bool = True
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=EnumText(Visibility, 8))
    authority_locale: str = Field(max_length=8)
    authority_address: str = Field(sa_column=Column(Text, nullable=False))
    prison_address: str | None = Field(default=None, sa_column=Column(Text))
    # Names in every script folded to one skeleton, so a Cyrillic or Latin query finds them.
    search_key: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Telegram's file id of the case's photo, as uploaded to this bot by an editor.
    photo: str | None = Field(default=None, max_length=200)
    # Facts that make a letter arrive and a card land on the right day.
    born_on: dt.date | None = None
    release_expected_on: dt.date | None = None
    # The language the facility requires letters to be written in (a locale), if any.
    letter_locale: str | None = Field(default=None, max_length=8)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class CaseText(SQLModel, table=True):
    __tablename__ = "case_texts"

    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    locale: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=200)
    summary: str | None = Field(default=None, sa_column=Column(Text))
    charges: str | None = Field(default=None, sa_column=Column(Text))
    sentence: str | None = Field(default=None, sa_column=Column(Text))
    place_of_detention: str | None = Field(default=None, sa_column=Column(Text))
    authority: str = Field(sa_column=Column(Text, nullable=False))
    salutation: str = Field(sa_column=Column(Text, nullable=False))
    # The facility's letter rules (what is forbidden, enclose a stamped envelope, size).
    letter_rules: str | None = Field(default=None, sa_column=Column(Text))
    # What the person welcomes hearing about: interests, topics.
    topics: str | None = Field(default=None, sa_column=Column(Text))


class Hearing(SQLModel, table=True):
    __tablename__ = "hearings"
    __table_args__ = (Index("ix_hearings_case_starts", "case_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=_fk("cases.id"))
    starts_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    timezone: str = Field(max_length=64)
    court: str = Field(sa_column=Column(Text, nullable=False))
    kind: HearingKind = Field(default=HearingKind.TRIAL, sa_type=EnumText(HearingKind, 16))
    status: HearingStatus = Field(
        default=HearingStatus.SCHEDULED, sa_type=EnumText(HearingStatus, 16)
    )
    updated_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Follow(SQLModel, table=True):
    __tablename__ = "follows"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    )
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_on: dt.date = Field(default_factory=lambda: utcnow().date())


class LetterTemplate(SQLModel, table=True):
    __tablename__ = "letter_templates"

    kind: LetterKind = Field(primary_key=True, sa_type=EnumText(LetterKind, 8))
    variant: int = Field(primary_key=True)
    locale: str = Field(primary_key=True, max_length=8)
    body: str = Field(sa_column=Column(Text, nullable=False))


class LetterAction(SQLModel, table=True):
    """That a person recorded sending a letter: once per person, case and kind."""

    __tablename__ = "letter_actions"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    )
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    kind: LetterKind = Field(primary_key=True, sa_type=EnumText(LetterKind, 8))
    created_on: dt.date = Field(default_factory=lambda: utcnow().date())


class AddressWait(SQLModel, table=True):
    """A supporter asked to be told when a card can be sent to someone whose safe postal
    address is not known yet; the row goes once they have been told (or on /forget)."""

    __tablename__ = "address_waits"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    )
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_on: dt.date = Field(default_factory=lambda: utcnow().date())


class LetterCount(SQLModel, table=True):
    """Anonymous letters per case, kind and day; survives the person's /forget."""

    __tablename__ = "letter_counts"

    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: LetterKind = Field(primary_key=True, sa_type=EnumText(LetterKind, 8))
    day: dt.date = Field(primary_key=True)
    count: int = Field(default=0)


class DeliveryState(StrEnum):
    PENDING = "pending"
    HELD = "held"  # waits for the person's digest
    PAUSED = "paused"  # its broadcast is paused by staff
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Delivery(SQLModel, table=True):
    """One message to one person, written with the change that causes it.

    `spec` says what to render (a JSON object naming the alert and its ids), never the
    text itself: the text is made at send time, in the reader's language of that moment.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_batch_state", "batch", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    person_id: int = Field(sa_column=_fk("people.id"))
    batch: str = Field(max_length=100)
    spec: str = Field(sa_column=Column(Text, nullable=False))
    urgent: bool = False
    paid: bool = False
    state: DeliveryState = Field(default=DeliveryState.PENDING, sa_type=EnumText(DeliveryState, 8))
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_error: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    message_id: int | None = None
    delete_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))


class StaffRole(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    BROADCASTER = "broadcaster"


class StaffMember(SQLModel, table=True):
    """A staff role bound to a person (and so to a numeric Telegram id, never a username)."""

    __tablename__ = "staff"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    )
    role: StaffRole = Field(sa_type=EnumText(StaffRole, 16))
    granted_on: dt.date = Field(default_factory=lambda: utcnow().date())


class StaffInvite(SQLModel, table=True):
    """A single-use invitation; only a hash of its code is stored."""

    __tablename__ = "staff_invites"

    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    role: StaffRole = Field(sa_type=EnumText(StaffRole, 16))
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used: bool = False
    created_by: str = Field(max_length=16)


class AuditEntry(SQLModel, table=True):
    """Who did what, when: the actor as a short keyed hash, never an id."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(max_length=16)
    action: str = Field(max_length=40)
    target: str | None = Field(default=None, max_length=100)


class FamilyMember(SQLModel, table=True):
    """A relative joined to a case. Never shown to supporters, not even as a count."""

    __tablename__ = "family_members"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    )
    case_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    joined_on: dt.date = Field(default_factory=lambda: utcnow().date())


class CaseUpdate(SQLModel, table=True):
    """A published update on a case: a status change or news, public or family-only."""

    __tablename__ = "case_updates"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(sa_column=_fk("cases.id"))
    kind: UpdateKind = Field(sa_type=EnumText(UpdateKind, 8))
    # For a status change: the status before and after.
    old_status: CaseStatus | None = Field(default=None, sa_type=EnumText(CaseStatus, 16))
    new_status: CaseStatus | None = Field(default=None, sa_type=EnumText(CaseStatus, 16))
    family_only: bool = False
    author: str = Field(max_length=16)
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # An urgent action's deadline.
    deadline: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Further information: the urgent action it follows up.
    action_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("case_updates.id", ondelete="CASCADE"), index=True),
    )


class ActionTaken(SQLModel, table=True):
    """That a person marked an urgent action done: for its one reminder (not to them) and
    its further information (to them alone). Goes with the person's /forget."""

    __tablename__ = "actions_taken"

    update_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("case_updates.id", ondelete="CASCADE"), primary_key=True
        )
    )
    person_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_on: dt.date = Field(default_factory=lambda: utcnow().date())


class CaseUpdateText(SQLModel, table=True):
    __tablename__ = "case_update_texts"

    update_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("case_updates.id", ondelete="CASCADE"), primary_key=True
        )
    )
    locale: str = Field(primary_key=True, max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))


class Broadcast(SQLModel, table=True):
    """A message to an audience, sent only through the outbox (batch `broadcast:<id>`)."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    # The author's person row: approval must come from someone else, and the live
    # progress message goes to the author's chat. Kept when the author leaves.
    author_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
    )
    author: str = Field(max_length=16)
    approved_by: str | None = Field(default=None, max_length=16)
    audience: Audience = Field(sa_type=EnumText(Audience, 16))
    audience_value: str = Field(default="", max_length=200)
    photo: str | None = Field(default=None, max_length=200)
    status: BroadcastStatus = Field(index=True, sa_type=EnumText(BroadcastStatus, 16))
    send_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recipients: int = 0
    progress_message_id: int | None = None
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    finished_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class BroadcastVersion(SQLModel, table=True):
    """The broadcast in one language: Telegram HTML and link buttons (JSON [[label, url]])."""

    __tablename__ = "broadcast_versions"

    broadcast_id: int = Field(
        sa_column=Column(Integer, ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True)
    )
    locale: str = Field(primary_key=True, max_length=8)
    text: str = Field(sa_column=Column(Text, nullable=False))
    buttons: str = Field(default="[]", sa_column=Column(Text, nullable=False))


class FamilyInvite(SQLModel, table=True):
    """A single-use invitation for a prisoner's relative; only a hash of the code."""

    __tablename__ = "family_invites"

    code_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    case_id: int = Field(sa_column=_fk("cases.id"))
    expires_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used: bool = False
    created_by: str = Field(max_length=16)


class JoinAttempt(SQLModel, table=True):
    """A wrong, used or expired code someone tried: counted to stop guessing. The sender
    is a keyed hash (not a person row: a stranger guessing codes has none)."""

    __tablename__ = "join_attempts"
    __table_args__ = (Index("ix_join_attempts_who_at", "who", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    who: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReportKind(StrEnum):
    FAMILY = "family"  # news from a relative
    INACCURACY = "inaccuracy"  # a supporter points out a mistake on a case card


class ReportStatus(StrEnum):
    NEW = "new"
    READ = "read"
    ANSWERED = "answered"
    PUBLISHED = "published"  # turned into a case update
    ARCHIVED = "archived"


class Report(SQLModel, table=True):
    """Something a person sent to the campaign, waiting in the editors' moderation queue.

    The text and any attachment are stored only sealed (authenticated encryption with a
    key from DATA_KEY); the sender is a person row, so /forget takes their reports too.
    """

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_status_case", "status", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ReportKind = Field(sa_type=EnumText(ReportKind, 16))
    case_id: int = Field(sa_column=_fk("cases.id"))
    person_id: int = Field(sa_column=_fk("people.id"))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Sealed JSON {"type": "photo" | "document", "file_id": ...}, if something was attached.
    attachment: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    status: ReportStatus = Field(default=ReportStatus.NEW, sa_type=EnumText(ReportStatus, 16))
    created_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    read_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CheckTerm(SQLModel, table=True):
    """A word or phrase the letter checker points out, per language; editors keep the list.

    `reason` says why: the censor is likely to stop the letter, or it could put the
    prisoner at risk. `advice` is what to write instead (in the same language)."""

    __tablename__ = "check_terms"

    locale: str = Field(primary_key=True, max_length=8)
    term: str = Field(primary_key=True, max_length=100)
    reason: str = Field(max_length=16)
    advice: str | None = Field(default=None, sa_column=Column(Text))
    # A country's own events and organisations: checked only in drafts to its facilities
    # (and where the facility is not known). None: every country.
    country: str | None = Field(default=None, max_length=2)


class CheckTermSeed(SQLModel, table=True):
    """Which version of its shipped list (bot/data/check_terms/) a language has had,
    so that terms a newer version adds reach a bot whose editors keep their own list."""

    __tablename__ = "check_term_seeds"

    locale: str = Field(primary_key=True, max_length=8)
    version: int


class SentMessage(SQLModel, table=True):
    """A message the bot sent in answer to a person, kept only while Telegram lets the bot
    delete it (48 hours), so the panic command can. The chat is the person's keyed index
    (the same HMAC as people.tg_index), never an id."""

    __tablename__ = "sent_messages"

    chat_index: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    message_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    sent_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    # When the bot deletes it by itself (the panic notice), if ever.
    delete_at: dt.datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))


class KeyCheck(SQLModel, table=True):
    """A keyed hash that tells whether DATA_KEY is the key this database was made with.

    Derived from the key with a purpose of its own: it reveals nothing of the key."""

    __tablename__ = "key_check"

    id: int = Field(default=1, primary_key=True)
    fingerprint: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class KeyRotation(SQLModel, table=True):
    """A rotation of DATA_KEY under way: the new key's fingerprint, and how far the tables
    that name staff by a short keyed hash have been carried (such a hash cannot tell
    which key made it, so each row is rewritten exactly once).

    While this row exists the bot does not start; `python -m bot keys rotate` finishes."""

    __tablename__ = "key_rotation"

    id: int = Field(default=1, primary_key=True)
    fingerprint: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    audit_done: int = 0
    broadcasts_done: int = 0
    updates_done: int = 0


class RunningProcess(SQLModel, table=True):
    """A bot or worker process that is running, as it last said (every few seconds), so
    that a key rotation refuses to start under it. A process that stops cleanly removes
    its row; a killed one's row simply grows old."""

    __tablename__ = "running_processes"

    id: str = Field(primary_key=True, max_length=32)
    seen_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
