"""The /stats chart: letters and follows per week and per case, as a PNG made in memory.

Only counts and case names go in, so the picture names no supporter. It is drawn with
Pillow and the shipped DejaVu fonts (Latin, Cyrillic and the Kazakh, Turkmen and Uzbek
letters all included). `render` is synchronous and CPU-bound: call it through
`asyncio.to_thread`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONTS_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
_REGULAR = FONTS_DIR / "DejaVuSans.ttf"
_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"

WIDTH = 1200
HEIGHT = 900
WEEKS = 12
MAX_CASES = 10

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (222, 226, 230)
LETTERS_COLOUR = (46, 109, 181)
FOLLOWS_COLOUR = (224, 138, 30)

_MARGIN = 30
_ELLIPSIS = "…"


@dataclass(frozen=True)
class WeekPoint:
    week: dt.date  # the Monday the week starts on
    letters: int
    follows: int


@dataclass(frozen=True)
class CaseBar:
    name: str
    follows: int
    letters: int


def _plain_number(value: int) -> str:
    return str(value)


@dataclass(frozen=True)
class ChartWords:
    """Everything the chart writes, already in the reader's language."""

    title_weeks: str
    title_cases: str
    letters: str
    follows: str
    week_label: Callable[[dt.date], str]
    # Counts written the reader's way (Babel); plain digits if the caller has no locale.
    number: Callable[[int], str] = _plain_number


@dataclass(frozen=True)
class _Fonts:
    title: ImageFont.FreeTypeFont
    label: ImageFont.FreeTypeFont
    small: ImageFont.FreeTypeFont


def monday_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s week: weeks are counted Monday to Sunday, as in ISO 8601."""
    return day - dt.timedelta(days=day.weekday())


def week_series(
    per_week_letters: Mapping[dt.date, int],
    per_week_follows: Mapping[dt.date, int],
    today: dt.date,
    weeks: int = WEEKS,
) -> list[WeekPoint]:
    """The last `weeks` weeks, oldest first, ending with this week; a week without data
    counts zero, so a quiet week shows as a gap rather than disappearing."""
    this_week = monday_of(today)
    mondays = [this_week - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    return [
        WeekPoint(week=m, letters=per_week_letters.get(m, 0), follows=per_week_follows.get(m, 0))
        for m in mondays
    ]


def render(weeks: Sequence[WeekPoint], cases: Sequence[CaseBar], words: ChartWords) -> bytes:
    """The chart as PNG bytes, WIDTH × HEIGHT: per week on top, per case (the first
    MAX_CASES of `cases`, in the order given) below. Pure and synchronous."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts = _Fonts(
        title=ImageFont.truetype(str(_BOLD), 24),
        label=ImageFont.truetype(str(_REGULAR), 17),
        small=ImageFont.truetype(str(_REGULAR), 14),
    )
    _weeks_panel(draw, fonts, weeks, words, top=0, bottom=430)
    draw.line([(_MARGIN, 445), (WIDTH - _MARGIN, 445)], fill=GRID, width=2)
    _cases_panel(draw, fonts, cases[:MAX_CASES], words, top=455, bottom=HEIGHT)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _ticks(top: int) -> list[int]:
    """Round tick values from 0 to at least `top`, at most five of them: steps of 1, 2 or
    5 times a power of ten, so the axis reads at a glance. Never an empty scale."""
    top = max(top, 1)
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step * 4 >= top:
                count = -(-top // (m * step))
                return [i * m * step for i in range(count + 1)]
        step *= 10


def _title_and_legend(
    draw: ImageDraw.ImageDraw, fonts: _Fonts, title: str, words: ChartWords, y: int
) -> None:
    legend = [(words.letters, LETTERS_COLOUR), (words.follows, FOLLOWS_COLOUR)]
    swatch, gap = 16, 24
    legend_width = sum(swatch + 8 + draw.textlength(text, font=fonts.label) for text, _ in legend)
    legend_width += gap * (len(legend) - 1)
    x = WIDTH - _MARGIN - legend_width
    title_room = x - _MARGIN - gap
    draw.text((_MARGIN, y), _fit(draw, title, fonts.title, title_room), font=fonts.title, fill=INK)
    for text, colour in legend:
        draw.rectangle([(x, y + 6), (x + swatch, y + 6 + swatch)], fill=colour)
        x += swatch + 8
        draw.text((x, y + 4), text, font=fonts.label, fill=INK)
        x += draw.textlength(text, font=fonts.label) + gap


def _weeks_panel(
    draw: ImageDraw.ImageDraw,
    fonts: _Fonts,
    weeks: Sequence[WeekPoint],
    words: ChartWords,
    top: int,
    bottom: int,
) -> None:
    _title_and_legend(draw, fonts, words.title_weeks, words, top + 18)
    ticks = _ticks(max((max(p.letters, p.follows) for p in weeks), default=0))
    tick_labels = [words.number(t) for t in ticks]
    axis_width = max(draw.textlength(label, font=fonts.small) for label in tick_labels)
    left = _MARGIN + int(axis_width) + 10
    right = WIDTH - _MARGIN
    plot_top, plot_bottom = top + 80, bottom - 40
    scale = (plot_bottom - plot_top) / ticks[-1]
    for value, label in zip(ticks, tick_labels, strict=True):
        y = plot_bottom - round(value * scale)
        draw.line([(left, y), (right, y)], fill=GRID if value else MUTED, width=1)
        draw.text((left - 8, y), label, font=fonts.small, fill=MUTED, anchor="rm")
    if not weeks:
        return
    slot = (right - left) / len(weeks)
    bar = max(2, int(slot * 0.34))
    for i, point in enumerate(weeks):
        centre = left + slot * (i + 0.5)
        for offset, value, colour in (
            (-bar, point.letters, LETTERS_COLOUR),
            (0, point.follows, FOLLOWS_COLOUR),
        ):
            if value > 0:
                x0 = round(centre + offset)
                # At least a pixel tall: a small count next to a large one stays visible.
                height = max(1, round(value * scale))
                draw.rectangle(
                    [(x0, plot_bottom - height), (x0 + bar - 1, plot_bottom)], fill=colour
                )
        label = _fit(draw, words.week_label(point.week), fonts.small, int(slot) - 4)
        draw.text((centre, plot_bottom + 8), label, font=fonts.small, fill=MUTED, anchor="mt")


def _cases_panel(
    draw: ImageDraw.ImageDraw,
    fonts: _Fonts,
    cases: Sequence[CaseBar],
    words: ChartWords,
    top: int,
    bottom: int,
) -> None:
    _title_and_legend(draw, fonts, words.title_cases, words, top + 12)
    rows_top = top + 62
    # Rows are as tall as ten would be, so two cases look like two rows of the same chart.
    row = (bottom - _MARGIN - rows_top) // MAX_CASES
    name_width = 300
    left = _MARGIN + name_width + 12
    numbers = [words.number(n) for c in cases for n in (c.letters, c.follows)]
    value_room = max((draw.textlength(n, font=fonts.small) for n in numbers), default=0) + 12
    length = WIDTH - _MARGIN - value_room - left
    most = max((max(c.letters, c.follows) for c in cases), default=0)
    scale = length / max(most, 1)
    bar = max(2, (row - 6) // 2)
    if cases:
        draw.line([(left, rows_top), (left, rows_top + row * len(cases))], fill=MUTED, width=1)
    for i, case in enumerate(cases):
        y = rows_top + i * row + 2
        name = _fit(draw, case.name, fonts.label, name_width)
        draw.text((_MARGIN, y + bar + 1), name, font=fonts.label, fill=INK, anchor="lm")
        for j, (value, colour) in enumerate(
            ((case.letters, LETTERS_COLOUR), (case.follows, FOLLOWS_COLOUR))
        ):
            y0 = y + j * (bar + 2)
            end = left + (max(1, round(value * scale)) if value > 0 else 0)
            if value > 0:
                draw.rectangle([(left + 1, y0), (end, y0 + bar - 1)], fill=colour)
            draw.text(
                (end + 6, y0 + bar / 2),
                words.number(value),
                font=fonts.small,
                fill=INK,
                anchor="lm",
            )


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, room: float) -> str:
    """`text`, or as much of it as fits in `room` pixels followed by an ellipsis."""
    if draw.textlength(text, font=font) <= room:
        return text
    for end in range(len(text) - 1, 0, -1):
        shorter = text[:end].rstrip() + _ELLIPSIS
        if draw.textlength(shorter, font=font) <= room:
            return shorter
    return _ELLIPSIS
