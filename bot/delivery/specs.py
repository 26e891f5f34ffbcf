"""Outbox specs: what a delivery is to say, as typed models, one per kind.

A delivery names what happened and the ids needed to render it, never the text: the
text is made when it is sent, in the reader's language and time zone of that moment.
Services write specs (`write_spec`, through `bot.delivery.outbox.enqueue`), the worker
reads them back (`read_spec`) and hands the model to the renderer of its kind.

The stored JSON stays as compact as it always was: every field keeps the short key it
was first written under (`t`, `case`, `fam`, `a`, `on`, `to`, ...) as its alias, absent
optional fields are left out, and keys are sorted. So rows written before these models
existed load unchanged, and new rows look the same as old ones. Fields are read and
written by their readable names in Python (`validate_by_name`, pydantic's successor to
`populate_by_name`); the aliases are only the storage's.

A new kind is a model here, a tagged member of both unions below (`DigestItem`, what a
reader's digest may gather, and `Spec`), and a renderer for its `kind` in
bot/presentation (its module's KINDS, wired in screens.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


# A moment, stored as whole Unix seconds (as specs always stored it); read as aware UTC.
UnixTime = Annotated[dt.datetime, PlainSerializer(_epoch, return_type=int)]


class SpecBase(BaseModel):
    """What every kind shares: its name under `t`, and whether it may wait for a digest."""

    model_config = ConfigDict(
        frozen=True,  # hashable: renderers key their caches by it
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
    )

    kind: str = Field(alias="t")
    # False: sent as soon as it is due, even to readers who chose a daily or weekly
    # digest (a call to act, a card to post in time). Absent (None) means it may wait.
    digest: bool | None = Field(default=None, alias="digest")

    @property
    def digestible(self) -> bool:
        """Whether the worker may hold it for a reader who chose a digest."""
        return self.digest is not False


# ---------------------------------------------------------------------- case alerts


class UpdateSpec(SpecBase):
    """A published case update: a status change, news, an urgent action or further
    information on one. Its text is the update's, picked in the reader's language."""

    kind: Literal["update"] = Field(default="update", alias="t")
    case_id: int = Field(alias="case")
    update_id: int = Field(alias="update")
    # Family-only news: rendered only for a reader who is in the family at send time.
    family_only: bool = Field(default=False, alias="fam")
    new_status: str | None = Field(default=None, alias="new")  # a status change's new status
    action_kind: Literal["action", "info"] | None = Field(default=None, alias="kind")
    deadline: UnixTime | None = Field(default=None, alias="until")  # an urgent action's


class ActionReminderSpec(SpecBase):
    """An urgent action ends soon, to a reader who has not marked it done."""

    kind: Literal["action_reminder"] = Field(default="action_reminder", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    case_id: int = Field(alias="case")
    update_id: int = Field(alias="update")
    deadline: UnixTime = Field(alias="until")


class StatusSpec(SpecBase):
    """A status change named by its statuses alone (before updates carried their own
    text; still rendered, and the delivery benchmark writes it)."""

    kind: Literal["status"] = Field(default="status", alias="t")
    case_id: int = Field(alias="case")
    old_status: str | None = Field(default=None, alias="old")
    new_status: str = Field(alias="new")


class HearingReminderSpec(SpecBase):
    """A hearing comes up. The hearing's start is kept, so that a reminder of a moved
    hearing's old time renders nothing."""

    kind: Literal["reminder"] = Field(default="reminder", alias="t")
    hearing_id: int = Field(alias="hearing")
    starts_at: UnixTime = Field(alias="at")
    lead: str | None = Field(default=None, alias="lead")  # "24h", "2h": which reminder


class HearingCancelledSpec(SpecBase):
    """A hearing those reminded of it may be planning to attend was cancelled."""

    kind: Literal["hearing_cancelled"] = Field(default="hearing_cancelled", alias="t")
    case_id: int = Field(alias="case")
    starts_at: UnixTime = Field(alias="at")  # when it was to be
    court: str = Field(default="", alias="court")
    court_timezone: str | None = Field(default=None, alias="tz")


class HearingMovedSpec(SpecBase):
    """A hearing those reminded of it may be planning to attend was moved."""

    kind: Literal["hearing_moved"] = Field(default="hearing_moved", alias="t")
    case_id: int = Field(alias="case")
    starts_at: UnixTime = Field(alias="at")  # when it was to be
    moved_to: UnixTime = Field(alias="to")
    court: str = Field(default="", alias="court")
    court_timezone: str | None = Field(default=None, alias="tz")


# ---------------------------------------------------------------------- letter prompts


class TransferSpec(SpecBase):
    """A prisoner's address for letters changed, to those who wrote a card, or became
    known (`first`), to those too who asked to be told. The tag of the new address makes
    a notice overtaken by a later move render nothing."""

    kind: Literal["transfer"] = Field(default="transfer", alias="t")
    case_id: int = Field(alias="case")
    address_tag: str = Field(alias="addr")
    # True for the first address; left out otherwise, so older rows read back unchanged.
    first: bool | None = Field(default=None, alias="new")

    @property
    def digestible(self) -> bool:
        """Never held for a digest: the next letter needs the new address, which a digest
        line does not carry (stored rows without `digest` included)."""
        return False


class BirthdaySpec(SpecBase):
    """A prisoner's birthday is a week away: time to post a card."""

    kind: Literal["birthday"] = Field(default="birthday", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    case_id: int = Field(alias="case")
    day: dt.date = Field(alias="on")


class ReleaseSoonSpec(SpecBase):
    """A prisoner's release is near: time for a welcome-home note."""

    kind: Literal["release_soon"] = Field(default="release_soon", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    case_id: int = Field(alias="case")
    day: dt.date = Field(alias="on")


# ---------------------------------------------------------------------- broadcasts


class BroadcastSpec(SpecBase):
    """A broadcast, as its reader gets it (or the discreet notice of it)."""

    kind: Literal["broadcast"] = Field(default="broadcast", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    broadcast_id: int = Field(alias="id")


class ApprovalSpec(SpecBase):
    """A broadcast waits for a second staff member's approval, to those who may give it."""

    kind: Literal["approval"] = Field(default="approval", alias="t")
    broadcast_id: int = Field(alias="broadcast")


class ReviewedSpec(SpecBase):
    """A broadcast was approved or declined, to its author."""

    kind: Literal["reviewed"] = Field(default="reviewed", alias="t")
    broadcast_id: int = Field(alias="broadcast")
    approved: bool = Field(alias="ok")


# ---------------------------------------------------------------------- reports


class ReportReadSpec(SpecBase):
    """The campaign read a report, to its sender."""

    kind: Literal["report_read"] = Field(default="report_read", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    report_id: int = Field(alias="report")


class ReportAnswerSpec(SpecBase):
    """A private answer to a report, to its sender. The answer waits in the outbox only
    sealed (base64 of the sealed bytes; see bot.services.reports.answer)."""

    kind: Literal["report_answer"] = Field(default="report_answer", alias="t")
    digest: bool | None = Field(default=False, alias="digest")
    report_id: int = Field(alias="report")
    sealed_answer: str = Field(alias="a")


# ---------------------------------------------------------------------- digests


def _stored_kind(value: Any) -> Any:
    # The kind is stored under "t". Not looked up by its field name: "kind" is a key of
    # its own in an update's spec (an urgent action's kind).
    if isinstance(value, dict):
        return value.get("t")
    return getattr(value, "kind", None)


# Every kind but a digest, each tagged with the name it is stored under.
_Single = (
    Annotated[UpdateSpec, Tag("update")]
    | Annotated[ActionReminderSpec, Tag("action_reminder")]
    | Annotated[StatusSpec, Tag("status")]
    | Annotated[HearingReminderSpec, Tag("reminder")]
    | Annotated[HearingCancelledSpec, Tag("hearing_cancelled")]
    | Annotated[HearingMovedSpec, Tag("hearing_moved")]
    | Annotated[TransferSpec, Tag("transfer")]
    | Annotated[BirthdaySpec, Tag("birthday")]
    | Annotated[ReleaseSoonSpec, Tag("release_soon")]
    | Annotated[BroadcastSpec, Tag("broadcast")]
    | Annotated[ApprovalSpec, Tag("approval")]
    | Annotated[ReviewedSpec, Tag("reviewed")]
    | Annotated[ReportReadSpec, Tag("report_read")]
    | Annotated[ReportAnswerSpec, Tag("report_answer")]
)
# What a reader's digest may gather: any kind but a digest.
DigestItem = Annotated[_Single, Discriminator(_stored_kind)]
_ITEM: TypeAdapter[DigestItem] = TypeAdapter(DigestItem)


class DigestSpec(SpecBase):
    """A day's or a week's held alerts in one message, each item a spec of its own."""

    kind: Literal["digest"] = Field(default="digest", alias="t")
    items: tuple[DigestItem, ...] = Field(alias="items")

    @property
    def digestible(self) -> bool:
        return False  # a digest is not gathered into the next one

    @field_validator("items", mode="before")
    @classmethod
    def _readable_items(cls, items: Any, info: ValidationInfo) -> Any:
        # One item that no longer reads (a kind since retired) costs that item, not the
        # digest: it is left out, and its kind is reported to whoever reads the spec.
        if not isinstance(items, list | tuple):
            return items
        kept: list[Any] = []
        left_out = info.context.get("left_out") if isinstance(info.context, dict) else None
        for item in items:
            try:
                kept.append(_ITEM.validate_python(item))
            except ValidationError:
                if isinstance(left_out, list):
                    left_out.append(kind_in(item))
        return kept


# Every kind: what a delivery's spec reads as.
Spec = Annotated[_Single | Annotated[DigestSpec, Tag("digest")], Discriminator(_stored_kind)]
_SPEC: TypeAdapter[Spec] = TypeAdapter(Spec)

# Every kind there is, by the name it is stored under.
KINDS: tuple[str, ...] = tuple(
    model.model_fields["kind"].default
    for model in (
        UpdateSpec,
        ActionReminderSpec,
        StatusSpec,
        HearingReminderSpec,
        HearingCancelledSpec,
        HearingMovedSpec,
        TransferSpec,
        BirthdaySpec,
        ReleaseSoonSpec,
        BroadcastSpec,
        ApprovalSpec,
        ReviewedSpec,
        ReportReadSpec,
        ReportAnswerSpec,
        DigestSpec,
    )
)


class UnreadableSpec(ValueError):
    """A stored spec that no longer reads as any kind: a kind since retired, or a row
    damaged. `kind` is its `t` when that looks like a kind's name, else "?": it is all
    that may be logged of it (a spec carries ids and sealed text)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unreadable spec of kind {kind!r}")
        self.kind = kind


_KIND_NAME = re.compile(r"[a-z][a-z_]{0,31}")


def kind_in(raw: object) -> str:
    """The kind a raw spec (a dict, or its JSON) claims, safe to log; "?" when there is
    none that looks like one."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except ValueError:
            return "?"
    kind = raw.get("t") if isinstance(raw, dict) else getattr(raw, "kind", None)
    return kind if isinstance(kind, str) and _KIND_NAME.fullmatch(kind) else "?"


def write_spec(spec: Spec) -> str:
    """The spec as the outbox stores it: compact JSON under the short keys, absent
    fields left out, keys sorted (what rows have always held, byte for byte)."""
    body = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def read_spec(text: str | bytes, *, left_out: list[str] | None = None) -> Spec:
    """A stored spec as its model, for the worker (and anyone reading the outbox).

    Raises UnreadableSpec when it reads as no kind. Items of a digest that no longer
    read are dropped from it, and their kinds appended to `left_out` if given: the
    caller counts and logs them, so nothing is lost silently."""
    try:
        return _SPEC.validate_json(text, context={"left_out": left_out})
    except ValidationError:
        # Not chained: pydantic's error quotes the input, and the input is not for logs.
        raise UnreadableSpec(kind_in(text)) from None
