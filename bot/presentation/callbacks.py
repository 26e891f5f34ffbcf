"""CallbackData factories: short prefixes, typed fields, always well within 64 bytes.

Callback data comes from the client and may be forged: handlers re-check everything
(visibility of the case, the person's own rows) and never use it for authorisation.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Forged numbers must fail validation here, not reach a 32-bit database column.
DbId = Annotated[int, Field(ge=0, le=2**31 - 1)]
Small = Annotated[int, Field(ge=-1000, le=1000)]


# The values each factory's action (or field) takes: a typo in a button or a filter is a
# type error (or fails tests/unit/test_callbacks.py), and a forged value fails validation
# before any handler sees it.
# here: a button that only shows where the reader is (a page indicator), answered quietly
MenuTo = Literal[
    "start",
    "cases",
    "my",
    "letter",
    "me",
    "settings",
    "privacy",
    "language",
    "help",
    "forget",
    "here",
]
# wrong: report an inaccuracy; wrong-stop: leave that note unsent
CaseAction = Literal["view", "follow", "unfollow", "letter", "photo", "wrong", "wrong-stop"]
# show (variant 0: any) | next | orig | sent | pdf | check (the draft checker)
LetterAction = Literal["show", "next", "orig", "sent", "pdf", "check", "wait", "unwait"]
SettingField = Literal[
    "menu",
    "tz",
    "quiet",
    "delivery",
    "hour",
    "discreet",
    "protect",
    "birthdays",
    "safest",
    "panic",
    "autodelete",
    "zone-ok",
]
StaffAction = Literal[
    "list", "revoke", "audit", "stats", "invite-editor", "invite-broadcaster", "invite-admin"
]
# day, month: the date picker (bot/presentation/calendar.py); noop: its cells that pick
# nothing, answered quietly; court: one of the country's courts (bot/data/courts.yaml)
HearingAction = Literal[
    "start",
    "new",
    "move",
    "cancel",
    "kind",
    "save",
    "back",
    "stop",
    "day",
    "month",
    "noop",
    "court",
]
BroadcastAction = Literal[
    # composing
    "new",
    "aud",
    "val",
    "cases-done",
    "photo-skip",
    "lang",
    "btn-skip",
    "ver-more",
    "ver-done",
    "now",
    "later",
    "preview",
    "submit",
    "back",
    "stop",
    # approval
    "list",
    "review",
    "approve",
    "reject",
    # while sending
    "pause",
    "resume",
    "cancel",
    "cancel-yes",
    "show",
]
# next: continue, or skip the note
UpdateAction = Literal[
    "start", "kind", "status", "lang", "more", "next", "aud", "publish", "back", "stop"
]
CaseEditAction = Literal[
    # from /admin
    "new",
    "find",
    # the /newcase and add-language steps
    "pick",
    "skip",
    "slug",
    "save",
    "back",
    "stop",
    # the editor view
    "view",
    "fields",
    "field",
    "set",
    "clear",
    "lang",
    "photo",
    "unphoto",
    "vis",
]
# invite (a case chosen among several) | list | unlink (asks) | unlink-yes
FamilyAction = Literal["invite", "list", "unlink", "unlink-yes"]
# list | open | answer | update | archive; back | stop (the answer dialogue)
ReportAction = Literal["list", "open", "answer", "update", "archive", "back", "stop"]


class MenuCb(CallbackData, prefix="m"):
    to: MenuTo


class LangCb(CallbackData, prefix="lg"):
    locale: str


class ListCb(CallbackData, prefix="cl"):
    country: str = ""
    status: str = ""
    page: Small = 0


class FilterCb(CallbackData, prefix="cf"):
    what: Literal["country", "status"]
    country: str = ""
    status: str = ""


class CaseCb(CallbackData, prefix="c"):
    action: CaseAction
    id: DbId


class LetterCb(CallbackData, prefix="lt"):
    action: LetterAction
    id: DbId
    kind: str
    variant: Small = 0
    orig: bool = False  # the appeal is shown in the authorities' language


class NeedCb(CallbackData, prefix="nd"):
    """ "Write to someone who needs it"; `skip` is the case offered just before."""

    skip: DbId = 0


class ActionCb(CallbackData, prefix="ua"):
    """ "I did it" under an urgent action (or on its case's card); `id` is the action's
    update id."""

    id: DbId
    card: bool = False


class SetCb(CallbackData, prefix="st"):
    field: SettingField
    value: str = ""


class ForgetCb(CallbackData, prefix="fg"):
    confirm: bool


class StaffCb(CallbackData, prefix="sf"):
    action: StaffAction
    person: DbId = 0


class HearingCb(CallbackData, prefix="hg"):
    action: HearingAction
    case: DbId = 0
    hearing: DbId = 0
    value: str = ""


class BroadcastCb(CallbackData, prefix="bc"):
    action: BroadcastAction
    id: DbId = 0
    value: str = ""


class UpdateCb(CallbackData, prefix="up"):
    action: UpdateAction
    case: DbId = 0
    value: str = ""


class CaseEditCb(CallbackData, prefix="ce"):
    action: CaseEditAction
    case: DbId = 0
    field: str = ""
    locale: str = ""
    value: str = ""


class FamilyReportCb(CallbackData, prefix="fr"):
    action: Literal["start", "case", "back", "stop"]
    case: DbId = 0


class ReportCb(CallbackData, prefix="rp"):
    action: ReportAction
    id: DbId = 0


class FamilyCb(CallbackData, prefix="fm"):
    action: FamilyAction
    case: DbId = 0
    # A family member's short keyed tag, never an id.
    who: Annotated[str, Field(max_length=16, pattern=r"^[0-9a-f]*$")] = ""


class InviteCb(CallbackData, prefix="iv"):
    """Pending invitations: list | cancel. An invitation is named by its kind and the first
    16 hex digits of its code's hash (never the code, which is not stored)."""

    action: Literal["list", "cancel"]
    kind: Annotated[str, Field(pattern=r"^(staff|family)?$")] = ""
    ref: Annotated[str, Field(max_length=16, pattern=r"^[0-9a-f]*$")] = ""


class CheckCb(CallbackData, prefix="ck"):
    # again (check another draft; case 0: none) | stop | wipe (delete the pasted draft's
    # message from the person's own chat)
    action: Literal["again", "stop", "wipe"]
    case: DbId = 0
    msg: DbId = 0


class CheckTermsCb(CallbackData, prefix="ckw"):
    locale: Annotated[str, Field(max_length=8, pattern=r"^[A-Za-z_]*$")]
    page: Small = 0


class ShowBroadcastCb(CallbackData, prefix="bs"):
    """Under the neutral notice a discreet reader gets instead of a broadcast: show it."""

    id: DbId
