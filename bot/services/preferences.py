"""A person's settings: language, time zone, quiet hours, delivery, discreet mode."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import SUPPORTED_LOCALES
from db.models import DeliveryMode, Person
from db.repositories import people

# Offered as buttons; a curated list keeps the keyboard short and the values valid.
TIMEZONES: tuple[str, ...] = (
    "Asia/Almaty",
    "Asia/Aqtobe",
    "Asia/Bishkek",
    "Asia/Dushanbe",
    "Asia/Ashgabat",
    "Asia/Tashkent",
    "Asia/Samarkand",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "UTC",
)
QUIET_PRESETS: tuple[tuple[int, int] | None, ...] = (None, (22, 8), (23, 7), (0, 9), (21, 9))
DIGEST_HOURS: tuple[int, ...] = (8, 12, 18, 21)
# Telegram lets a bot delete its messages for 48 hours, so every choice stays under it.
AUTODELETE_HOURS: tuple[int | None, ...] = (None, 1, 6, 24, 47)


async def _set(session: AsyncSession, person: Person, **fields: object) -> None:
    assert person.id is not None
    await people.set_fields(session, person.id, **fields)
    for key, value in fields.items():
        setattr(person, key, value)


async def set_locale(session: AsyncSession, person: Person, locale: str) -> bool:
    """Change the interface language; False for a locale we do not have."""
    if locale not in SUPPORTED_LOCALES:
        return False
    await _set(session, person, locale=locale)
    return True


async def set_timezone(session: AsyncSession, person: Person, tz: str) -> bool:
    """Change the time zone to one of TIMEZONES."""
    if tz not in TIMEZONES:
        return False
    await _set(session, person, timezone=tz)
    return True


async def set_quiet_hours(session: AsyncSession, person: Person, preset: int) -> bool:
    """Apply one of QUIET_PRESETS by its index (0 turns quiet hours off)."""
    if not 0 <= preset < len(QUIET_PRESETS):
        return False
    hours = QUIET_PRESETS[preset]
    await _set(
        session,
        person,
        quiet_from=hours[0] if hours else None,
        quiet_to=hours[1] if hours else None,
    )
    return True


def quiet_preset(person: Person) -> int:
    """Index of the person's quiet hours in QUIET_PRESETS."""
    hours = (
        (person.quiet_from, person.quiet_to)
        if person.quiet_from is not None and person.quiet_to is not None
        else None
    )
    return QUIET_PRESETS.index(hours) if hours in QUIET_PRESETS else 0


async def set_delivery(session: AsyncSession, person: Person, mode: str) -> bool:
    """Instant alerts or a daily or weekly digest."""
    if mode not in {m.value for m in DeliveryMode}:
        return False
    await _set(session, person, delivery=mode)
    return True


async def set_digest_hour(session: AsyncSession, person: Person, hour: int) -> bool:
    """The local hour at which digests arrive."""
    if hour not in DIGEST_HOURS:
        return False
    await _set(session, person, digest_hour=hour)
    return True


async def toggle(session: AsyncSession, person: Person, flag: str) -> bool:
    """Flip discreet mode, protected content or birthday prompts for every prisoner."""
    if flag not in {"discreet", "protect_content", "birthday_prompts"}:
        return False
    await _set(session, person, **{flag: not getattr(person, flag)})
    return True


async def set_autodelete(session: AsyncSession, person: Person, hours: int | None) -> bool:
    """Delete alerts this many hours after they arrive (None keeps them)."""
    if hours not in AUTODELETE_HOURS:
        return False
    await _set(session, person, autodelete_hours=hours)
    return True


# The one-tap "safest" choice: alerts that vanish within a day, unless the person chose
# a shorter time already.
SAFEST_AUTODELETE = 24


def is_safest(person: Person) -> bool:
    """Whether every protection is on: discreet, protected, deleted within a day."""
    return (
        person.discreet
        and person.protect_content
        and person.autodelete_hours is not None
        and person.autodelete_hours <= SAFEST_AUTODELETE
    )


async def make_safest(session: AsyncSession, person: Person) -> None:
    """Turn on every protection at once, keeping a shorter auto-delete time if chosen."""
    hours = person.autodelete_hours
    if hours is None or hours > SAFEST_AUTODELETE:
        hours = SAFEST_AUTODELETE
    await _set(session, person, discreet=True, protect_content=True, autodelete_hours=hours)
