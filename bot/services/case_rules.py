"""What a case may hold. One set of rules for the YAML import and the editors' dialogue,
so a case made in Telegram always exports and imports again, and the reverse.

The rules are pydantic types: the import's models are built from them, and `check`
validates one value against the very same type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from config.settings import SUPPORTED_LOCALES
from db.types import utcnow

Locale = Literal["en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl"]
Country = Literal["kz", "kg", "tj", "tm", "uz"]
COUNTRIES: tuple[str, ...] = get_args(Country)
LOCALES: tuple[str, ...] = get_args(Locale)
assert LOCALES == SUPPORTED_LOCALES, "case languages must be the bot's languages"

# Readers fall back to Russian, then English (FALLBACK_LOCALES): every case needs one.
BASE_LOCALES: tuple[str, ...] = ("en", "ru")

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
SLUG_MAX = 64

# Per-language text: the longest each field may be.
TEXT_LIMITS: dict[str, int] = {
    "name": 200,
    "summary": 2000,
    "charges": 500,
    "sentence": 300,
    "place_of_detention": 300,
    "authority": 300,
    "salutation": 200,
    # The facility's letter rules and what the person welcomes hearing about: shown whole
    # in the letter prompt and printed with the envelope, so kept to a screenful.
    "letter_rules": 800,
    "topics": 500,
}
REQUIRED_TEXT: frozenset[str] = frozenset({"name", "authority", "salutation"})
ADDRESS_LIMIT = 600
PHOTO_ID_LIMIT = 200

# Courts in the region are five or six hours ahead of UTC: their "today" may be UTC's
# tomorrow, and a detention dated by the court's calendar must not be refused for that.
_DATE_SLACK = dt.timedelta(days=1)
# Nobody held today was born before this; an earlier year is a typing mistake.
_EARLIEST_BIRTH = dt.date(1900, 1, 1)


def limited(limit: int) -> StringConstraints:
    """A required text of at most `limit` characters, spaces at either end removed."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)


def _not_future(day: dt.date) -> dt.date:
    if day > utcnow().date() + _DATE_SLACK:
        raise PydanticCustomError("date_in_future", "the date of detention is in the future")
    return day


def _plausible_birth(day: dt.date) -> dt.date:
    if day > utcnow().date() + _DATE_SLACK:
        raise PydanticCustomError("date_in_future", "the date of birth is in the future")
    if day < _EARLIEST_BIRTH:
        raise PydanticCustomError("date_too_early", "the date of birth is before 1900")
    return day


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Name = Annotated[str, limited(TEXT_LIMITS["name"])]
Summary = Annotated[str, limited(TEXT_LIMITS["summary"])]
Charges = Annotated[str, limited(TEXT_LIMITS["charges"])]
Sentence = Annotated[str, limited(TEXT_LIMITS["sentence"])]
Place = Annotated[str, limited(TEXT_LIMITS["place_of_detention"])]
Authority = Annotated[str, limited(TEXT_LIMITS["authority"])]
Salutation = Annotated[str, limited(TEXT_LIMITS["salutation"])]
LetterRules = Annotated[str, limited(TEXT_LIMITS["letter_rules"])]
Topics = Annotated[str, limited(TEXT_LIMITS["topics"])]
Address = Annotated[str, limited(ADDRESS_LIMIT)]
DetainedOn = Annotated[dt.date, AfterValidator(_not_future)]
BornOn = Annotated[dt.date, AfterValidator(_plausible_birth)]

TEXT_FIELDS: tuple[str, ...] = tuple(TEXT_LIMITS)
# Fields of the case itself that editors may change; the country is fixed at creation
# and the status changes only through /update, which tells followers.
CASE_FIELDS: tuple[str, ...] = (
    "detained_on",
    "accepts_letters",
    "authority_locale",
    "authority_address",
    "prison_address",
    "born_on",
    "release_expected_on",
    "letter_locale",
)
OPTIONAL_CASE_FIELDS: frozenset[str] = frozenset(
    {"detained_on", "prison_address", "born_on", "release_expected_on", "letter_locale"}
)
DATE_FIELDS: frozenset[str] = frozenset({"detained_on", "born_on", "release_expected_on"})

_TYPES: dict[str, Any] = {
    "slug": Slug,
    "country": Country,
    "locale": Locale,
    "name": Name,
    "summary": Summary,
    "charges": Charges,
    "sentence": Sentence,
    "place_of_detention": Place,
    "authority": Authority,
    "salutation": Salutation,
    "letter_rules": LetterRules,
    "topics": Topics,
    "authority_locale": Locale,
    "authority_address": Address,
    "prison_address": Address,
    "detained_on": DetainedOn,
    "accepts_letters": bool,
    "born_on": BornOn,
    # A release date may be past (a sentence extended) or far ahead: any real date.
    "release_expected_on": dt.date,
    "letter_locale": Locale,
}


class Problem(StrEnum):
    REQUIRED = "required"  # empty, or only spaces, where a value is needed
    TOO_LONG = "too_long"
    INVALID = "invalid"  # not a slug, date, known country or language
    FUTURE = "future"
    TAKEN = "taken"  # the slug belongs to another case
    EXISTS = "exists"  # that language version is already there


class RuleError(ValueError):
    """A value a case may not hold: which field, what is wrong, and the limit if any."""

    def __init__(self, field: str, problem: Problem, limit: int | None = None) -> None:
        super().__init__(f"{field}: {problem.value}")
        self.field = field
        self.problem = problem
        self.limit = limit


def limit_of(field: str) -> int | None:
    """The longest a text field may be, or None for fields that are not free text."""
    if field in TEXT_LIMITS:
        return TEXT_LIMITS[field]
    if field in {"authority_address", "prison_address"}:
        return ADDRESS_LIMIT
    return None


def is_optional(field: str) -> bool:
    """Whether a field may be left empty (and so cleared by an editor)."""
    return field in OPTIONAL_CASE_FIELDS or (field in TEXT_LIMITS and field not in REQUIRED_TEXT)


@cache
def _adapter(field: str) -> TypeAdapter[Any]:
    return TypeAdapter(_TYPES[field])


def check(field: str, value: Any) -> Any:
    """`value` as the case will hold it (stripped, parsed), or RuleError.

    None is accepted for optional fields only. A blank text is refused even there, as
    the import refuses it: leaving a field out is how it is left empty.
    """
    if field not in _TYPES:
        raise RuleError(field, Problem.INVALID)
    if value is None:
        if is_optional(field):
            return None
        raise RuleError(field, Problem.REQUIRED)
    try:
        return _adapter(field).validate_python(value)
    except ValidationError as exc:
        kind = exc.errors()[0]["type"]
        if kind == "string_too_long":
            raise RuleError(field, Problem.TOO_LONG, limit_of(field)) from None
        if kind == "string_too_short":
            raise RuleError(field, Problem.REQUIRED) from None
        if kind == "date_in_future":
            raise RuleError(field, Problem.FUTURE) from None
        raise RuleError(field, Problem.INVALID) from None


def has_base_text(locales: Iterable[str]) -> bool:
    """Whether a case's language versions include one every reader can fall back to."""
    return any(loc in BASE_LOCALES for loc in locales)
