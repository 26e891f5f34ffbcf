"""Letters that reach people: the facts a case carries (date of birth, whether letters
arrive, the language and rules of the facility, what to talk about) in the letter prompt
and on the card, the printable PDF, the case file, and /editcase setting them."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import yaml
from aiogram.methods import AnswerCallbackQuery, SendDocument
from aiogram.types import BufferedInputFile
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import LetterCb
from bot.services import case_files, staff
from bot.services.case_rules import ADDRESS_LIMIT, TEXT_LIMITS
from bot.storage import Storage
from db.models import Case, CaseText
from tests.support import Driver, Person

CASES = """
version: 1
cases:
  - slug: farhod-namunov
    country: uz
    status: sentenced
    detained_on: 2022-07-01
    born_on: 1980-05-12
    release_expected_on: 2099-07-01
    letter_locale: ru
    authority:
      language: ru
      address: |
        Генеральная прокуратура Республики Узбекистан
        ул. Гулямова, 66
        100047 Ташкент
    prison_address: |
      Учреждение УЯ-64/21
      Навоийская область, Узбекистан
    text:
      en:
        name: Farhod Namunov
        authority: Prosecutor General of the Republic of Uzbekistan
        salutation: "Dear Prosecutor General,"
        letter_rules: One sheet at most, no photos. Enclose a stamped envelope.
        topics: Chess, poetry, <news> & the garden.
      ru:
        name: Фарход Намунов
        authority: Генеральному прокурору Республики Узбекистан
        salutation: "Уважаемый Генеральный прокурор!"
        letter_rules: Не больше одного листа, без фотографий. Вложите конверт с маркой.
        topics: Шахматы, поэзия, новости сада.
      kk:
        name: Фарход Намунов
        authority: Өзбекстан Республикасының Бас прокурорына
        salutation: "Құрметті Бас прокурор!"
  - slug: bahrom-silent
    country: tj
    status: detained
    accepts_letters: false
    authority:
      language: tg
      address: Душанбе, Тоҷикистон
    text:
      en:
        name: Bahrom Silent
        authority: Prosecutor General of Tajikistan
        salutation: "Dear Prosecutor General,"
        letter_rules: Never shown while letters do not arrive.
  - slug: hidden-namunov
    country: uz
    status: detained
    visibility: hidden
    authority:
      language: ru
      address: Ташкент
    prison_address: Учреждение 64/1, Ташкент
    text:
      en:
        name: Hidden Namunov
        authority: Prosecutor General
        salutation: "Dear Prosecutor General,"
"""


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.fixture
async def fact_cases(storage: Storage) -> None:
    async with storage.sessionmaker() as s, s.begin():
        await case_files.apply(s, case_files.parse(CASES))


async def case_id(storage: Storage, slug: str) -> int:
    async with storage.sessionmaker() as s:
        case = (await s.execute(select(Case).where(col(Case.slug) == slug))).scalar_one()
        assert case.id is not None
        return case.id


def documents(reply) -> list[SendDocument]:
    return [c for c in reply.calls if isinstance(c, SendDocument)]


def pdf_text(call: SendDocument) -> str:
    assert isinstance(call.document, BufferedInputFile)
    reader = PdfReader(io.BytesIO(call.document.data))
    return " ".join("\n".join(p.extract_text() for p in reader.pages).split())


async def test_card_prompt_shows_the_facts_in_the_readers_language(driver: Driver, fact_cases):
    person = Person(id=7_300_000_001)
    await driver.send(person, "/letter Namunov")
    card = await driver.press(person, "card")
    text = card.text
    age = age_on(dt.date(1980, 5, 12), dt.datetime.now(dt.UTC).date())
    assert f"Born May 12, 1980 ({age} years old)" in text
    # The address says letters arrive; the card itself said it already.
    assert "Letters reach this person." not in text
    assert "Language of letters: Russian. The facility hands over only letters" in text
    assert "One sheet at most, no photos. Enclose a stamped envelope." in text
    assert "What you can talk about:\nChess, poetry, <news> & the garden." in text
    # The envelope: the name as the facility writes it, the date of birth, the address.
    assert "Фарход Намунов, 12.05.1980\nУчреждение УЯ-64/21\nНавоийская область" in text
    assert "Не больше одного листа" not in text  # the reader's language comes first

    # The card in the language the facility requires; the rules stay in the reader's.
    russian = await driver.press(person, "✍️ The text in")
    assert "Фарход Намунов!" in russian.text  # the Russian template, with the Russian name
    assert "One sheet at most" in russian.text
    assert "🌐 In my language" in russian.labels()
    back = await driver.press(person, "In my language")
    assert "A card for Farhod Namunov" in back.text and "Фарход Намунов!" not in back.text


async def test_a_version_without_rules_falls_back_to_russian(driver: Driver, fact_cases):
    reader = Person(id=7_300_000_002, language_code="kk")
    await driver.send(reader, "/letter Намунов")
    card = await driver.press(reader, "💌")
    assert "Не больше одного листа, без фотографий. Вложите конверт с маркой." in card.text
    assert "Шахматы, поэзия, новости сада." in card.text
    assert "орыс тілі" in card.text  # Russian, named in Kazakh
    assert "One sheet at most" not in card.text


async def test_case_card_shows_birth_release_and_what_letters_need(driver: Driver, fact_cases):
    person = Person(id=7_300_000_003)
    card = await driver.send(person, "/case farhod-namunov")
    assert "Born May 12, 1980" in card.text and "years old" in card.text
    assert "Expected release: July 1, 2099" in card.text
    assert "Letters reach this person." in card.text
    assert "Language of letters: Russian" in card.text
    assert "The facility's rules for letters:" in card.text
    assert "Chess, poetry, <news> & the garden." in card.text

    silent = await driver.send(person, "/case bahrom-silent")
    assert "Letters do not reach this person now." in silent.text
    assert "Never shown while letters do not arrive." not in silent.text
    appeal = await driver.send(person, "/letter Bahrom Silent")
    assert "💌" not in " ".join(appeal.labels())  # no card where letters do not arrive


async def test_printable_letter_is_a_protected_pdf_with_the_address(
    driver: Driver, fact_cases, storage
):
    person = Person(id=7_300_000_004, language_code="ru")
    await driver.send(person, "/letter Намунов")
    await driver.press(person, "💌")
    reply = await driver.press(person, "🖨")
    [doc] = documents(reply)
    assert doc.protect_content is False  # it has to be saved to be printed
    assert isinstance(doc.document, BufferedInputFile)
    assert doc.document.filename == "letter.pdf"  # no name for a phone search to find
    assert doc.chat_id == person.id
    text = pdf_text(doc)
    assert "Учреждение УЯ-64/21" in text and "Навоийская область, Узбекистан" in text
    assert "Фарход Намунов, 12.05.1980" in text
    today = dt.datetime.now(dt.UTC).date()
    dates = {" ".join(format_date(today + dt.timedelta(days=d), "long", locale="ru").split())
             for d in (-1, 0, 1)}  # fmt: skip
    assert any(date in text for date in dates)  # the reader's day, whatever their zone
    assert "Вложите конверт с маркой." in text
    answered = [c for c in reply.calls if isinstance(c, AnswerCallbackQuery)]
    assert len(answered) == 1

    # An appeal prints too, its address being the authority's.
    await driver.send(person, "/letter Намунов")
    await driver.press(person, "📜")
    [appeal] = documents(await driver.press(person, "🖨"))
    appeal_text = pdf_text(appeal)
    assert "Генеральная прокуратура Республики Узбекистан" in appeal_text
    assert "100047 Ташкент" in appeal_text


async def test_no_pdf_for_hidden_cases_or_cards_that_cannot_arrive(
    driver: Driver, fact_cases, storage
):
    person = Person(id=7_300_000_005)
    await driver.send(person, "/start")
    hidden = await case_id(storage, "hidden-namunov")
    silent = await case_id(storage, "bahrom-silent")
    for forged in (
        LetterCb(action="pdf", id=hidden, kind="card", variant=1),
        LetterCb(action="pdf", id=silent, kind="card", variant=1),
        LetterCb(action="pdf", id=silent, kind="poem", variant=1),
    ):
        reply = await driver.callback(person, forged.pack())
        assert documents(reply) == []
        assert reply.notices and reply.notices[0]


async def test_case_file_round_trip_keeps_the_letter_facts(session):
    await case_files.apply(session, case_files.parse(CASES))
    await session.commit()
    exported = await case_files.export(session)
    assert "born_on: 1980-05-12" in exported
    assert "release_expected_on: 2099-07-01" in exported
    assert "letter_locale: ru" in exported
    assert "Вложите конверт с маркой." in exported and "Chess, poetry" in exported
    again = await case_files.apply(session, case_files.parse(exported))
    await session.commit()
    assert again.created == [] and again.updated == []
    assert await case_files.export(session) == exported

    changed = exported.replace("topics: Шахматы, поэзия, новости сада.", "topics: Шахматы.")
    report = await case_files.apply(session, case_files.parse(changed))
    await session.commit()
    assert report.updated == ["farhod-namunov"]


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            CASES.replace("born_on: 1980-05-12", "born_on: 2999-01-01"),
            "cases.yaml:8: cases[0].born_on: the date of birth is in the future",
        ),
        (
            CASES.replace("born_on: 1980-05-12", "born_on: 1850-01-01"),
            "cases.yaml:8: cases[0].born_on: the date of birth is before 1900",
        ),
        (
            CASES.replace("letter_locale: ru", "letter_locale: fr"),
            "cases.yaml:10: cases[0].letter_locale: Input should be",
        ),
        (
            CASES.replace("topics: Шахматы, поэзия, новости сада.", "topics: " + "ш" * 501),
            "cases.yaml:32: cases[0].text.ru.topics: String should have at most 500",
        ),
    ],
)
def test_case_file_refuses_impossible_letter_facts(broken: str, problem: str):
    with pytest.raises(case_files.CaseFileError) as err:
        case_files.parse(broken, "cases.yaml")
    assert str(err.value).startswith(problem), str(err.value)


async def staff_member(storage, settings, tg_id: int = 9_300_000_101) -> Person:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, "editor", "test", "en")
    return Person(id=tg_id)


async def test_editcase_sets_the_letter_facts(driver: Driver, storage, settings, fact_cases):
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/editcase farhod-namunov")
    await driver.press(editor, "Edit a field")
    choose = await driver.press(editor, "Facility's letter rules")
    assert "Which language version" in choose.text
    ask = await driver.press(editor, "Қазақша")
    assert "At most 800 characters" in ask.text
    assert "too long" in (await driver.send(editor, "х" * 801)).text
    saved = await driver.send(editor, "Бір парақтан аспасын. Маркасы бар конверт салыңыз.")
    assert "Saved." in saved.texts[0]
    assert "Facility's letter rules: English, Русский, Қазақша" in saved.text

    await driver.press(editor, "Edit a field")
    await driver.press(editor, "Date of birth")
    assert "in the future" in (await driver.send(editor, "2999-01-01")).text
    assert "not a date of birth" in (await driver.send(editor, "12/05/1980")).text
    await driver.send(editor, "31.01.1979")  # day first with dots, as written in the region
    await driver.press(editor, "Edit a field")
    languages = await driver.press(editor, "Language of letters")
    assert "✓ Русский" in languages.labels()
    await driver.press(editor, "Clear")
    await driver.press(editor, "Edit a field")
    await driver.press(editor, "Expected release")
    view = await driver.send(editor, "2031-02-28")
    assert "Expected release: February 28, 2031" in view.text

    async with storage.sessionmaker() as s:
        case = (
            await s.execute(select(Case).where(col(Case.slug) == "farhod-namunov"))
        ).scalar_one()
        kk = await s.get(CaseText, (case.id, "kk"))
    assert case.born_on == dt.date(1979, 1, 31) and case.letter_locale is None
    assert case.release_expected_on == dt.date(2031, 2, 28)
    assert kk is not None and kk.letter_rules is not None
    assert kk.letter_rules.startswith("Бір парақтан аспасын.")

    reader = Person(id=7_300_000_006, language_code="kk")
    await driver.send(reader, "/letter Намунов")
    card = await driver.press(reader, "💌")
    assert "Бір парақтан аспасын. Маркасы бар конверт салыңыз." in card.text
    assert "Фарход Намунов, 31.01.1979" in card.text
    assert "орыс тілі" not in card.text  # any language reaches the person now


async def test_the_longest_case_still_fits_in_a_message(driver: Driver, storage):
    """Every text at its limit: the card and the prompt cut the rules and topics rather
    than go past what Telegram accepts (the recording session refuses over 4096)."""

    def longest(field: str) -> str:
        return "ж" * (TEXT_LIMITS[field] - 2) + " &"

    text = {
        field: longest(field)
        for field in (
            "name", "summary", "charges", "sentence", "place_of_detention", "authority",
            "salutation", "letter_rules", "topics",
        )
    }  # fmt: skip
    source = {
        "version": 1,
        "cases": [
            {
                "slug": "longest-case",
                "country": "kz",
                "status": "sentenced",
                "born_on": "1970-01-01",
                "release_expected_on": "2099-01-01",
                "letter_locale": "ru",
                "authority": {"language": "ru", "address": "а" * ADDRESS_LIMIT},
                "prison_address": "б" * ADDRESS_LIMIT,
                "text": {"en": text},
            }
        ],
    }
    async with storage.sessionmaker() as s, s.begin():
        await case_files.apply(s, case_files.parse(yaml.safe_dump(source, allow_unicode=True)))
    person = Person(id=7_300_000_007)
    card = await driver.send(person, "/case longest-case")
    assert "The facility's rules for letters:" in card.text
    await driver.send(person, "/letter longest-case")
    prompt = await driver.press(person, "💌")
    assert "The facility's rules for letters:" in prompt.text
    assert "What you can talk about:" in prompt.text
    assert all(len(t) <= 4096 for t in prompt.texts)
    [doc] = documents(await driver.press(person, "🖨"))
    assert "б" * 30 in pdf_text(doc)  # the address, wrapped at the envelope's width
