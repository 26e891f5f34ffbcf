"""Locales: which exist, what they are called, and how Telegram's codes map onto them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import SUPPORTED_LOCALES

if TYPE_CHECKING:
    from aiogram.utils.i18n import I18n

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"

# Each language named in itself, so a person finds theirs whatever the current one is.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ru": "Русский",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "tg": "Тоҷикӣ",
    "tk": "Türkmençe",
    "uz": "Oʻzbekcha",
    "uz_Cyrl": "Ўзбекча",
}

# Babel locale identifiers for dates, numbers and territory names.
BABEL_LOCALES: dict[str, str] = {loc: loc for loc in SUPPORTED_LOCALES}

# A sensible first time zone for a new person, by language; they can change it in /settings.
DEFAULT_TIMEZONES: dict[str, str] = {
    "kk": "Asia/Almaty",
    "ky": "Asia/Bishkek",
    "tg": "Asia/Dushanbe",
    "tk": "Asia/Ashgabat",
    "uz": "Asia/Tashkent",
    "uz_Cyrl": "Asia/Tashkent",
    "ru": "Europe/Moscow",
    "en": "UTC",
}


def make_i18n(default_locale: str = "en") -> I18n:
    # Imported here: the CLI's data commands use this module and should not pay for aiogram.
    from aiogram.utils.i18n import I18n

    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def locale_from_telegram(language_code: str | None, default: str) -> str:
    """Map Telegram's IETF code (`uz`, `en-US`, `kk`) to one of our locales."""
    if not language_code:
        return default
    code = language_code.replace("_", "-").lower()
    if code.startswith("uz") and "cyrl" in code:
        return "uz_Cyrl"
    base = code.split("-", 1)[0]
    return base if base in SUPPORTED_LOCALES else default


def telegram_language_code(locale: str) -> str | None:
    """The two-letter code under which setMyCommands registers a locale's commands.

    Telegram keys command lists by ISO 639-1 language only, so Uzbek Cyrillic shares
    Uzbek's list and English is the default list (no code).
    """
    if locale == "en":
        return None
    if locale == "uz_Cyrl":
        return None
    return locale
