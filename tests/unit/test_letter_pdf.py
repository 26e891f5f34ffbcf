"""The printable letter: the PDF is opened again and read, as a printer would get it."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from babel.dates import format_date
from pypdf import PdfReader

from bot.services import case_files, letter_pdf, letters
from bot.services import templates as templates_service
from db.models import Case, LetterKind
from db.repositories import cases as cases_repo

CASES = """
version: 1
cases:
  - slug: pdf-case
    country: kz
    status: sentenced
    born_on: 1981-03-09
    letter_locale: ru
    authority:
      language: ru
      address: |
        Генеральная прокуратура Республики Казахстан
        пр. Мәңгілік Ел, 14
        010000 Астана
    prison_address: |
      Учреждение ЕЦ-166/18
      Жамбылская область, Казахстан
    text:
      en:
        name: Nurlan Printov
        authority: Prosecutor General of the Republic of Kazakhstan
        salutation: "Dear Prosecutor General,"
        letter_rules: Two sheets at most. Enclose a stamped envelope.
      ru:
        name: Нурлан Принтов
        authority: Генеральному прокурору Республики Казахстан
        salutation: "Уважаемый Генеральный прокурор!"
"""
WORDS = letter_pdf.EnvelopeWords(
    title="Envelope",
    copy_exactly="Copy the address exactly.",
    return_address="Add a return address.",
    rules_title="The facility's rules for letters:",
)
TODAY = dt.date(2026, 11, 27)


def read(data: bytes) -> tuple[int, str]:
    """Pages, and the text of them all with runs of white space made one space (a long
    line the PDF wrapped reads the same as the line itself)."""
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
async def case(session) -> Case:
    await case_files.apply(session, case_files.parse(CASES))
    await templates_service.sync(session)
    await session.commit()
    found = await cases_repo.by_slug(session, "pdf-case")
    assert found is not None
    return found


async def prompt_for(session, case: Case, kind: LetterKind, chain: list[str], **kw):
    assert case.id is not None
    prompt = await letters.prompt(
        session, case_id=case.id, kind=kind, chain=chain, person=None, variant=1, **kw
    )
    assert prompt is not None
    return prompt


async def test_card_pdf_has_the_cyrillic_address_the_date_and_the_letter(session, case):
    prompt = await prompt_for(session, case, LetterKind.CARD, ["en", "ru"])
    data = await letter_pdf.make(letter_pdf.printable(prompt, TODAY, WORDS))
    assert data.startswith(b"%PDF-")
    pages, text = read(data)
    assert pages == 2  # the letter, then the envelope
    for line in ("Учреждение ЕЦ-166/18", "Жамбылская область, Казахстан"):
        assert line in text
    # The envelope names the person as the facility does, with the date of birth it asks for.
    assert "Нурлан Принтов, 09.03.1981" in text
    assert format_date(TODAY, "long", locale="en") in text  # November 27, 2026
    assert flat(prompt.body.splitlines()[0]) in text
    assert "Nurlan Printov" in text
    assert "Two sheets at most. Enclose a stamped envelope." in text
    assert "Add a return address." in text
    assert letter_pdf.FILE_NAME == "letter.pdf"  # no name for a phone search to find


async def test_appeal_in_the_authorities_language_is_dated_in_it(session, case):
    prompt = await prompt_for(session, case, LetterKind.APPEAL, ["en", "ru"], original=True)
    assert prompt.locale == "ru"
    _, text = read(letter_pdf.render(letter_pdf.printable(prompt, TODAY, WORDS)))
    assert "Генеральная прокуратура Республики Казахстан" in text
    assert "пр. Мәңгілік Ел, 14" in text  # Kazakh letters in a Russian address
    assert "Генеральному прокурору Республики Казахстан" in text  # the head of the letter
    assert flat(format_date(TODAY, "long", locale="ru")) in text  # 27 ноября 2026 г.
    assert "Уважаемый Генеральный прокурор!" in text
    # An appeal goes to an office: no person's name or birth date on its envelope.
    assert "09.03.1981" not in text


async def test_every_language_of_every_template_prints_without_missing_letters(
    session, case, caplog
):
    caplog.set_level(logging.WARNING, logger="fpdf")
    for kind in LetterKind:
        for locale in ("en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl"):
            prompt = await prompt_for(session, case, kind, [locale])
            assert prompt.locale == locale
            _, text = read(letter_pdf.render(letter_pdf.printable(prompt, TODAY, WORDS)))
            for line in prompt.body.splitlines():
                assert flat(line) in text, (kind, locale, line)
            assert flat(format_date(TODAY, "long", locale=locale)) in text
    missing = [r.getMessage() for r in caplog.records if "missing" in r.getMessage()]
    assert missing == []


async def test_without_an_address_there_is_no_envelope_page(session, case):
    prompt = await prompt_for(session, case, LetterKind.CARD, ["en"])
    letter = letter_pdf.printable(prompt, TODAY, WORDS)
    bare = letter_pdf.PrintableLetter(
        body=letter.body,
        dated=letter.dated,
        addressee=None,
        recipient=None,
        address=None,
        letter_rules=None,
        language="en",
        words=WORDS,
    )
    pages, text = read(letter_pdf.render(bare))
    assert pages == 1 and "Envelope" not in text


async def test_a_long_address_grows_the_envelope_and_stays_whole(session, case):
    prompt = await prompt_for(session, case, LetterKind.CARD, ["ru"])
    long_address = "\n".join(f"Строка адреса номер {n}, улица Длинная" for n in range(14))
    letter = letter_pdf.printable(prompt, TODAY, WORDS)
    longer = letter_pdf.PrintableLetter(**{**letter.__dict__, "address": long_address})
    pages, text = read(letter_pdf.render(longer))
    assert pages == 2
    for n in range(14):
        assert f"Строка адреса номер {n}, улица Длинная" in text
