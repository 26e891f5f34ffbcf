"""The /stats chart: drawn for nothing at all, for every script the bot speaks, and read
back as an image."""

from __future__ import annotations

import datetime as dt
import io
from functools import partial

from babel.dates import format_date
from babel.numbers import format_decimal
from PIL import Image, ImageDraw, ImageFont

from bot.services import stats_chart
from bot.services.stats_chart import CaseBar, ChartWords, WeekPoint

TODAY = dt.date(2026, 11, 27)  # a Friday
WORDS = ChartWords(
    title_weeks="Хаттар мен жазылулар апта бойынша",
    title_cases="Ishlar boʻyicha xatlar va obunalar",
    letters="Хаттар",
    follows="Obunalar",
    week_label=partial(format_date, format="d MMM", locale="kk"),
    number=partial(format_decimal, locale="kk"),
)
NAMES = [
    "Алишер Тестов",
    "Әлібек Қоңырбаев Ұлықбекұлы, Һәмидов Іңкәр Ғұмыр Өтегенқызы Үмітқызы",
    "Oʻktam Gʻulomov",
    "Ňurmuhammet Žumaýew",
    "Ўткир Ҳамроқулов",
    "Зарина Гөзәлова",
]
# Pixel rows of the two panels' plotting areas, below their titles and legends.
WEEK_BARS = (0, 70, stats_chart.WIDTH, 440)
CASE_BARS = (0, 510, stats_chart.WIDTH, stats_chart.HEIGHT)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (stats_chart.WIDTH, stats_chart.HEIGHT)
    return image.convert("RGB")


def colours(image: Image.Image, box: tuple[int, int, int, int]) -> set[object]:
    found = image.crop(box).getcolors(maxcolors=1 << 20)
    assert found is not None
    return {colour for _count, colour in found}


def test_week_series_fills_the_last_twelve_mondays():
    letters = {dt.date(2026, 11, 23): 5, dt.date(2026, 9, 7): 2, dt.date(2026, 8, 31): 99}
    follows = {dt.date(2026, 10, 12): 1}
    series = stats_chart.week_series(letters, follows, TODAY)
    assert [p.week for p in series] == [
        dt.date(2026, 9, 7) + dt.timedelta(weeks=i) for i in range(12)
    ]
    assert all(p.week.weekday() == 0 for p in series)
    assert series[0] == WeekPoint(dt.date(2026, 9, 7), letters=2, follows=0)
    assert series[5] == WeekPoint(dt.date(2026, 10, 12), letters=0, follows=1)
    assert series[-1] == WeekPoint(dt.date(2026, 11, 23), letters=5, follows=0)
    assert sum(p.letters for p in series) == 7  # the week before the twelve is not shown


def test_week_series_on_a_monday_ends_with_that_day():
    monday = dt.date(2026, 11, 23)
    series = stats_chart.week_series({}, {}, monday, weeks=3)
    assert [p.week for p in series] == [dt.date(2026, 11, 9), dt.date(2026, 11, 16), monday]


def test_all_zeros_and_no_cases():
    image = opened(stats_chart.render(stats_chart.week_series({}, {}, TODAY), [], WORDS))
    drawn = colours(image, WEEK_BARS) | colours(image, CASE_BARS)
    assert stats_chart.LETTERS_COLOUR not in drawn
    assert stats_chart.FOLLOWS_COLOUR not in drawn
    assert stats_chart.INK in colours(image, (0, 0, stats_chart.WIDTH, 70))  # the title


def test_no_weeks_at_all():
    opened(stats_chart.render([], [CaseBar("Алишер Тестов", follows=0, letters=0)], WORDS))


def test_names_in_every_script_and_bars_drawn():
    weeks = stats_chart.week_series(
        {dt.date(2026, 11, 16): 12_345, dt.date(2026, 11, 23): 3},
        {dt.date(2026, 9, 7): 40},
        TODAY,
    )
    cases = [CaseBar(name, follows=3 * i, letters=1000 - i) for i, name in enumerate(NAMES)]
    cases += [CaseBar(f"Case {i}", follows=i, letters=0) for i in range(10)]  # only 10 drawn
    image = opened(stats_chart.render(weeks, cases, WORDS))
    for box in (WEEK_BARS, CASE_BARS):
        drawn = colours(image, box)
        assert stats_chart.LETTERS_COLOUR in drawn
        assert stats_chart.FOLLOWS_COLOUR in drawn


def test_the_font_has_every_letter():
    font = ImageFont.truetype(str(stats_chart._REGULAR), 24)

    def glyph(ch: str) -> bytes:
        image = Image.new("L", (48, 48))
        ImageDraw.Draw(image).text((8, 8), ch, font=font, fill=255)
        return image.tobytes()

    missing = glyph("\ue000")  # a private-use code point: the font's empty box
    letters = {ch for text in [*NAMES, WORDS.title_weeks, WORDS.title_cases] for ch in text}
    assert [ch for ch in sorted(letters) if not ch.isspace() and glyph(ch) == missing] == []


def test_long_names_end_with_an_ellipsis():
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = ImageFont.truetype(str(stats_chart._REGULAR), 17)
    cut = stats_chart._fit(draw, NAMES[1], font, 300)
    assert cut.endswith("…") and NAMES[1].startswith(cut[:-1])
    assert draw.textlength(cut, font=font) <= 300
    assert stats_chart._fit(draw, NAMES[0], font, 300) == NAMES[0]


def test_ticks_are_round():
    assert stats_chart._ticks(0) == [0, 1]
    assert stats_chart._ticks(3) == [0, 1, 2, 3]
    assert stats_chart._ticks(7) == [0, 2, 4, 6, 8]
    assert stats_chart._ticks(12_345) == [0, 5000, 10_000, 15_000]
