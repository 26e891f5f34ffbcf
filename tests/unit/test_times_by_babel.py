"""No hand-built times: every time and date a person sees is formatted by Babel for their
locale. "Quiet from 22:00" was put together by hand, and read the same in English, where
a clock says 10:00 PM."""

from __future__ import annotations

import re
from pathlib import Path

from aiogram.utils.i18n import I18n

from bot.i18n import make_i18n
from bot.presentation import views

ROOT = Path(__file__).resolve().parent.parent.parent
# Code that builds what a person reads.
SHOWN = [ROOT / "bot" / "presentation", ROOT / "bot" / "services", ROOT / "handlers"]
# A strftime pattern, a zero-padded hour, or a placeholder followed by ":00".
HAND_BUILT = re.compile(r"""%[dmyYHIMp]|:02d\}|\}:00|strftime\("%[^z]""")
# Where a fixed form is meant, and why.
ALLOWED = {
    # The envelope's date of birth is written day.month.year whatever the reader's
    # language: the post and the prisons of the region read it that way.
    ("bot/services/letters.py", "{case.born_on:%d.%m.%Y}"),
}


def test_no_time_or_date_is_put_together_by_hand():
    found = []
    for folder in SHOWN:
        for path in sorted(folder.rglob("*.py")):
            name = str(path.relative_to(ROOT))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if HAND_BUILT.search(line) and not any(
                    name == where and what in line for where, what in ALLOWED
                ):
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_quiet_hours_read_the_readers_way():
    i18n: I18n = make_i18n()
    with i18n.context():
        with i18n.use_locale("en"):
            english = views.quiet_label((22, 8))
        with i18n.use_locale("ru"):
            russian = views.quiet_label((22, 8))
    assert "10:00\u202fPM" in english or "10:00 PM" in english, english
    assert "8:00\u202fAM" in english or "8:00 AM" in english, english
    assert "22:00" in russian and "08:00" in russian and "PM" not in russian
