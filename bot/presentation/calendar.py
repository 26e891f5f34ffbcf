"""A month of days as buttons: the date picker of the dialogues that ask for a day.

Typing a date stays possible (bot/services/dates.py reads 10.12.2026 and 2026-12-10);
the picker saves an editor on a phone from getting the format or the weekday wrong.
Week days and month names come from Babel in the reader's language, and the week starts
where that language starts it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import get_i18n
from babel import Locale
from babel.dates import format_date

from bot.presentation.buttons import InlineKeyboardBuilder

# How far ahead the picker pages: hearings are set weeks or months ahead, not years.
MONTHS_AHEAD = 24
# A cell that is not a day one can pick. Telegram refuses a button whose text is blank.
_EMPTY = "·"

Make = Callable[[str, str], CallbackData]


def month_of(value: str) -> dt.date | None:
    """The first day of the month a "month" button names ("2026-12"), or None if forged."""
    try:
        year, month = (int(part) for part in value.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        return None


def day_of(value: str) -> dt.date | None:
    """The day a "day" button names ("2026-12-10"), or None if forged."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_keyboard(month: dt.date, *, earliest: dt.date, make: Make) -> InlineKeyboardBuilder:
    """The days of `month` from `earliest` on as buttons `make("day", "YYYY-MM-DD")`, under
    a header that pages with `make("month", "YYYY-MM")`. Cells that pick nothing (the
    weekday names, the month's name, days before `earliest`) send `make("noop", "")`,
    which the dialogue answers quietly."""
    first = earliest.replace(day=1)
    last = _shift(first, MONTHS_AHEAD)
    # Held to the months the picker shows (a forged month may ask for any).
    month = min(max(month.replace(day=1), first), last)
    locale = Locale.parse(get_i18n().current_locale)
    kb = InlineKeyboardBuilder()

    def noop(text: str) -> None:
        kb.button(text=text, callback_data=make("noop", ""))

    previous, following = _shift(month, -1), _shift(month, 1)
    if month > first:
        kb.button(text="‹", callback_data=make("month", previous.isoformat()[:7]))
    else:
        noop(_EMPTY)
    label = format_date(month, "LLLL y", locale=locale)
    noop(label[:1].upper() + label[1:])
    if month < last:
        kb.button(text="›", callback_data=make("month", following.isoformat()[:7]))
    else:
        noop(_EMPTY)

    start = locale.first_week_day
    names = locale.days["stand-alone"]["short"]
    for offset in range(7):
        noop(str(names[(start + offset) % 7]))
    weeks = calendar.Calendar(firstweekday=start).monthdatescalendar(month.year, month.month)
    for week in weeks:
        for day in week:
            if day.month != month.month or day < earliest:
                noop(_EMPTY)
            else:
                kb.button(text=str(day.day), callback_data=make("day", day.isoformat()))
    kb.adjust(3, *([7] * (len(weeks) + 1)))
    return kb
