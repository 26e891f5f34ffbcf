"""The printable letter: an A4 PDF with the letter on the first page and the envelope on
the second, made in memory and never written to disk.

The envelope carries the address exactly as staff stored it, in its own script (Cyrillic
for most facilities in the region): the post reads it as written, so it is never
transliterated or reflowed into another form. DejaVu Sans (shipped in bot/data/fonts with
its licence) covers the Latin and Cyrillic letters of every language Umid speaks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos

from bot.services.letters import LetterPrompt
from db.models import LetterKind

FONTS_DIR = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT = "DejaVu"
_REGULAR = FONTS_DIR / "DejaVuSans.ttf"
_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"

# Millimetres. An A4 page; the envelope frame is C6 (114 × 162), which A4 letters fit
# folded twice and which fits across a portrait page.
_MARGIN = 20.0
_PAGE_WIDTH = 210.0
_ENVELOPE_W = 162.0
_ENVELOPE_H = 114.0
_ADDRESS_W = 92.0
_LINE = 6.5


@dataclass(frozen=True)
class EnvelopeWords:
    """What the envelope page tells the writer, already in the reader's language."""

    title: str
    copy_exactly: str
    return_address: str
    rules_title: str


@dataclass(frozen=True)
class PrintableLetter:
    """Everything the PDF shows; plain text, nothing of it is HTML."""

    body: str
    dated: str
    # An appeal names its addressee at the head of the letter, as formal letters do.
    addressee: str | None
    # The envelope: who (a card's recipient line) and where, exactly as stored.
    recipient: str | None
    address: str | None
    # The facility's rules, for the writer: printed beside the envelope, not in the letter.
    letter_rules: str | None
    language: str
    words: EnvelopeWords


def printable(prompt: LetterPrompt, today: dt.date, words: EnvelopeWords) -> PrintableLetter:
    """The letter the supporter is looking at, dated `today` in the letter's own language.

    That language is the reader's, unless they chose the authorities' (or the facility's)
    language for the letter: then the date is written the way the letter is.
    """
    return PrintableLetter(
        body=prompt.body.strip(),
        dated=format_date(today, "long", locale=prompt.locale),
        addressee=prompt.text.authority if prompt.kind is LetterKind.APPEAL else None,
        recipient=prompt.recipient,
        address=prompt.address,
        letter_rules=prompt.letter_rules,
        language=prompt.locale,
        words=words,
    )


# The document's name as the chat shows it and as a phone's downloads keep it: the same
# neutral name for every letter, so that a search of the phone finds no prisoner's name.
FILE_NAME = "letter.pdf"


def render(letter: PrintableLetter) -> bytes:
    """The PDF itself. Synchronous and CPU-bound (font subsetting): see `make`."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    pdf.add_font(FONT, "", str(_REGULAR))
    pdf.add_font(FONT, "B", str(_BOLD))
    pdf.set_lang(letter.language.replace("_", "-"))
    # The day only: a file found on a searched phone should say as little as possible.
    pdf.set_creation_date(dt.datetime.combine(dt.date.today(), dt.time(), tzinfo=dt.UTC))
    pdf.set_creator("Umid")
    _letter_page(pdf, letter)
    if letter.address:
        _envelope_page(pdf, letter, letter.address)
    return bytes(pdf.output())


async def make(letter: PrintableLetter) -> bytes:
    """`render` in a worker thread, so the bot keeps answering while fonts are subset."""
    return await asyncio.to_thread(render, letter)


def _letter_page(pdf: FPDF, letter: PrintableLetter) -> None:
    pdf.add_page()
    pdf.set_font(FONT, size=11)
    if letter.addressee:
        pdf.set_x(_PAGE_WIDTH - _MARGIN - _ADDRESS_W)
        pdf.multi_cell(_ADDRESS_W, _LINE, letter.addressee, align=Align.L, new_x=XPos.LMARGIN)
        pdf.ln(4)
    pdf.cell(0, _LINE, letter.dated, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(10)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(0, 7.5, letter.body, align=Align.L, new_x=XPos.LMARGIN)


def _envelope_page(pdf: FPDF, letter: PrintableLetter, address: str) -> None:
    words = letter.words
    pdf.add_page()
    pdf.set_font(FONT, "B", size=14)
    pdf.cell(0, 8, words.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 5.5, words.copy_exactly, align=Align.L, new_x=XPos.LMARGIN)
    pdf.ln(1)
    pdf.multi_cell(0, 5.5, words.return_address, align=Align.L, new_x=XPos.LMARGIN)
    pdf.ln(6)

    # The recipient block sits low on the right, as the post expects; the frame grows
    # when a long address needs it.
    needed = _height(pdf, address, "")
    if letter.recipient:
        needed += _height(pdf, letter.recipient, "B")
    height = max(_ENVELOPE_H, needed + 52.0)
    left, top = (_PAGE_WIDTH - _ENVELOPE_W) / 2, pdf.get_y()
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(left, top, _ENVELOPE_W, height)
    # Blank lines for the return address, top left.
    pdf.set_line_width(0.2)
    for row in range(3):
        y = top + 14.0 + row * 8.0
        pdf.line(left + 8.0, y, left + 74.0, y)
    # The stamp's place, top right.
    pdf.rect(left + _ENVELOPE_W - 28.0, top + 6.0, 22.0, 26.0)

    x = left + _ENVELOPE_W - _ADDRESS_W - 8.0
    pdf.set_xy(x, top + height - needed - 10.0)
    if letter.recipient:
        pdf.set_font(FONT, "B", size=12)
        pdf.multi_cell(_ADDRESS_W, _LINE, letter.recipient, align=Align.L, new_x=XPos.LEFT)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(_ADDRESS_W, _LINE, address, align=Align.L, new_x=XPos.LEFT)

    pdf.set_xy(_MARGIN, top + height + 8.0)
    if letter.letter_rules:
        pdf.set_font(FONT, "B", size=11)
        pdf.multi_cell(0, 6, words.rules_title, align=Align.L, new_x=XPos.LMARGIN)
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(0, 5.5, letter.letter_rules, align=Align.L, new_x=XPos.LMARGIN)


def _height(pdf: FPDF, text: str, style: str) -> float:
    """How tall `text` is in the address column, measured without drawing it."""
    pdf.set_font(FONT, style, size=12)
    height = pdf.multi_cell(
        _ADDRESS_W, _LINE, text, align=Align.L, dry_run=True, output=MethodReturnValue.HEIGHT
    )
    assert isinstance(height, float | int)
    return float(height)
