"""CallbackData factories: short prefixes, typed fields, always well within 64 bytes.

Callback data comes from the client and may be forged: handlers re-check everything
(visibility of the case, the person's own rows) and never use it for authorisation.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Forged numbers must fail validation here, not reach a 32-bit database column.
DbId = Annotated[int, Field(ge=0, le=2**31 - 1)]
Small = Annotated[int, Field(ge=-1000, le=1000)]


class MenuCb(CallbackData, prefix="m"):
    to: str  # start | cases | my | letter | me | settings | privacy | language | help


class LangCb(CallbackData, prefix="lg"):
    locale: str


class ListCb(CallbackData, prefix="cl"):
    country: str = ""
    status: str = ""
    page: Small = 0


class FilterCb(CallbackData, prefix="cf"):
    what: str  # country | status
    country: str = ""
    status: str = ""


class CaseCb(CallbackData, prefix="c"):
    # view | follow | unfollow | letter | photo | wrong (report an inaccuracy) | wrong-stop
    action: str
    id: DbId


class LetterCb(CallbackData, prefix="lt"):
    action: str  # show (variant 0: any) | next | orig | sent | pdf
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
    # menu | tz | quiet | delivery | hour | discreet | protect | birthdays | safest | panic
    field: str
    value: str = ""


class ForgetCb(CallbackData, prefix="fg"):
    confirm: bool


class StaffCb(CallbackData, prefix="sf"):
    action: str  # list | revoke | audit | stats | invite-<role>
    person: DbId = 0


class HearingCb(CallbackData, prefix="hg"):
    action: str  # start | new | move | cancel | kind | save | back | stop
    case: DbId = 0
    hearing: DbId = 0
    value: str = ""


class BroadcastCb(CallbackData, prefix="bc"):
    # composing: new | aud | val | cases-done | photo-skip | lang | btn-skip | ver-more | ver-done
    # | now | later | preview | submit | back | stop; approval: list | review | approve
    # | reject; while sending: pause | resume | cancel | cancel-yes | show
    action: str
    id: DbId = 0
    value: str = ""


class UpdateCb(CallbackData, prefix="up"):
    # kind | status | lang | more | next (continue, or skip the note) | aud | publish | back | stop
    action: str
    case: DbId = 0
    value: str = ""


class CaseEditCb(CallbackData, prefix="ce"):
    # new | find (from /admin); pick | skip | slug | save | back | stop (the /newcase and
    # add-language steps);
    # view | fields | field | set | clear | lang | photo | unphoto | vis (the editor view)
    action: str
    case: DbId = 0
    field: str = ""
    locale: str = ""
    value: str = ""


class FamilyReportCb(CallbackData, prefix="fr"):
    action: str  # case (the case to report on) | back | stop
    case: DbId = 0


class ReportCb(CallbackData, prefix="rp"):
    # list | open | answer | update | archive | stop (the answer dialogue)
    action: str
    id: DbId = 0


class FamilyCb(CallbackData, prefix="fm"):
    # invite (a case chosen among several) | list | unlink (asks) | unlink-yes
    action: str
    case: DbId = 0
    # A family member's short keyed tag, never an id.
    who: Annotated[str, Field(max_length=16, pattern=r"^[0-9a-f]*$")] = ""


class InviteCb(CallbackData, prefix="iv"):
    """Pending invitations: list | cancel. An invitation is named by its kind and the first
    16 hex digits of its code's hash (never the code, which is not stored)."""

    action: str
    kind: Annotated[str, Field(pattern=r"^(staff|family)?$")] = ""
    ref: Annotated[str, Field(max_length=16, pattern=r"^[0-9a-f]*$")] = ""


class CheckCb(CallbackData, prefix="ck"):
    # again (check another draft; case 0: none) | stop | wipe (delete the pasted draft's
    # message from the person's own chat)
    action: str
    case: DbId = 0
    msg: DbId = 0


class CheckTermsCb(CallbackData, prefix="ckw"):
    locale: Annotated[str, Field(max_length=8, pattern=r"^[A-Za-z_]*$")]
    page: Small = 0


class ShowBroadcastCb(CallbackData, prefix="bs"):
    """Under the neutral notice a discreet reader gets instead of a broadcast: show it."""

    id: DbId
