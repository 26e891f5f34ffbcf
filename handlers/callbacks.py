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
    to: str  # start | cases | my | letter | settings | privacy | language | help


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
    action: str  # view | follow | unfollow | letter
    id: DbId


class LetterCb(CallbackData, prefix="lt"):
    action: str  # show (variant 0: any) | next | orig | sent
    id: DbId
    kind: str
    variant: Small = 0
    orig: bool = False  # the appeal is shown in the authorities' language


class SetCb(CallbackData, prefix="st"):
    field: str  # menu | tz | quiet | delivery | hour | discreet | protect
    value: str = ""


class ForgetCb(CallbackData, prefix="fg"):
    confirm: bool


class StaffCb(CallbackData, prefix="sf"):
    action: str  # list | revoke | audit | invite-<role>
    person: DbId = 0


class HearingCb(CallbackData, prefix="hg"):
    action: str  # new | move | cancel | kind | save | back | stop
    case: DbId = 0
    hearing: DbId = 0
    value: str = ""


class BroadcastCb(CallbackData, prefix="bc"):
    # composing: aud | val | cases-done | photo-skip | lang | btn-skip | ver-more | ver-done
    # | now | later | preview | submit | back | stop; approval: list | review | approve
    # | reject; while sending: pause | resume | cancel | cancel-yes | show
    action: str
    id: DbId = 0
    value: str = ""
