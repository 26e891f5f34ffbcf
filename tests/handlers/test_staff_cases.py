"""/newcase and /editcase through the real dispatcher: a whole new case, every way to go
wrong on the way, edits, languages, the photo, visibility, and who may do any of it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import AnswerCallbackQuery, SendPhoto
from sqlalchemy import func, select
from sqlmodel import col

from bot.app import build_dispatcher
from bot.crypto import IdentityCipher
from bot.services import staff
from bot.storage import Storage
from db.models import AuditEntry, Case, CaseText
from tests.support import Driver, Person, RecordingSession, make_bot

UNKNOWN = "I do not know this command"
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
SUPPORTER = Person(id=9_300_000_050)


async def staff_member(storage, settings, role: str = "editor", tg_id: int = 9_300_000_001):
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def case_by_slug(storage: Storage, slug: str) -> Case:
    async with storage.sessionmaker() as s:
        return (await s.execute(select(Case).where(col(Case.slug) == slug))).scalar_one()


async def texts_of(storage, slug: str) -> dict[str, CaseText]:
    async with storage.sessionmaker() as s:
        rows = await s.execute(
            select(CaseText)
            .join(Case, col(Case.id) == col(CaseText.case_id))
            .where(col(Case.slug) == slug)
        )
        return {t.locale: t for t in rows.scalars()}


async def count_cases(storage) -> int:
    async with storage.sessionmaker() as s:
        return int((await s.execute(select(func.count()).select_from(Case))).scalar_one())


async def audit_actions(storage) -> list[tuple[str, str | None]]:
    async with storage.sessionmaker() as s:
        rows = await s.execute(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [(a.action, a.target) for a in rows.scalars()]


async def supporter_list(driver: Driver) -> list[str]:
    return (await driver.send(SUPPORTER, "/cases")).labels()


async def walk_to_name(driver: Driver, person: Person) -> None:
    assert "which country" in (await driver.send(person, "/newcase")).text
    assert "first version" in (await driver.press(person, "Uzbekistan")).text
    assert "full name" in (await driver.press(person, "English")).text


async def finish_new_case(driver: Driver, person: Person, name: str = "Zafar Rahimov") -> str:
    """From the name step to the confirm screen; returns the confirm screen's text."""
    slug_step = await driver.send(person, name)
    assert "short name for the case" in slug_step.text
    return await finish_from_slug(driver, person)


async def finish_from_slug(driver: Driver, person: Person) -> str:
    """From the slug step (taking the suggestion) to the confirm screen."""
    await driver.press(person, "Use:")
    return await finish_from_summary(driver, person)


async def finish_from_summary(driver: Driver, person: Person) -> str:
    """From the summary step to the confirm screen."""
    await fill_to_authority_locale(driver, person)
    await driver.press(person, "Русский")
    await driver.press(person, "Skip")  # prison address
    await driver.send(person, "2021-03-15")
    return (await driver.press(person, "Yes")).text


async def fill_to_authority_locale(driver: Driver, person: Person) -> None:
    """From the summary step to the authority's language."""
    await driver.send(person, "A blogger who wrote about <forced labour> & cotton.")
    await driver.press(person, "Skip")  # charges
    await driver.send(person, "Prosecutor General of the Republic of Uzbekistan")
    await driver.send(person, "Dear Prosecutor General,")
    await driver.send(person, "Tashkent, Gulyamov st. 66")


async def test_new_case_is_created_hidden_and_published(driver: Driver, storage, settings):
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    confirm = await finish_new_case(driver, person)
    assert "hidden" in confirm and "/update" in confirm
    assert "Zafar Rahimov" in confirm and "<forced labour> & cotton" in confirm
    assert await count_cases(storage) == 0  # nothing is written before Save
    saved = await driver.press(person, "Save")
    assert "saved" in saved.notices[0] and "Hidden" in saved.text

    case = await case_by_slug(storage, "zafar-rahimov")
    assert (case.country, case.visibility, case.status) == ("uz", "hidden", "detained")
    assert case.detained_on == dt.date(2021, 3, 15) and case.accepts_letters
    assert case.authority_locale == "ru" and case.prison_address is None
    assert "zafar rahimov" in case.search_key
    text = (await texts_of(storage, "zafar-rahimov"))["en"]
    assert text.summary == "A blogger who wrote about <forced labour> & cotton."
    assert text.charges is None and text.salutation == "Dear Prosecutor General,"
    case_actions = [a for a in await audit_actions(storage) if a[0].startswith("case.")]
    assert case_actions == [("case.create", "case:zafar-rahimov")]

    assert not any("Zafar" in label for label in await supporter_list(driver))
    assert "Nothing found" in (await driver.send(SUPPORTER, "/case Rahimov")).text

    published = await driver.press(person, "Publish")
    assert "public" in published.notices[0]
    assert any("Zafar Rahimov" in label for label in await supporter_list(driver))
    card = await driver.send(SUPPORTER, "/case Rahimov")
    assert "<forced labour> & cotton" in card.text
    assert ("case.visibility", "case:zafar-rahimov") in await audit_actions(storage)


class JsonStorage(MemoryStorage):
    """Holds dialogue data as Redis does: only what survives JSON."""

    async def set_data(self, key: StorageKey, data: Any) -> None:
        await super().set_data(key, json.loads(json.dumps(data)))


async def test_dialogues_keep_only_json_in_state(settings, storage, small_cases):
    recording = RecordingSession()
    driver = Driver(
        dp=build_dispatcher(settings, storage, fsm_storage=JsonStorage()),
        bot=make_bot(recording),
        session=recording,
    )
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    await finish_new_case(driver, person)
    await driver.press(person, "Save")
    await driver.press(person, "Add a language")
    await driver.press(person, "Русский")
    for answer in ["Зафар Рахимов", None, None, "Генеральному прокурору", "Уважаемый!"]:
        await (driver.send(person, answer) if answer else driver.press(person, "Skip"))
    await driver.press(person, "Save")
    await driver.press(person, "Edit a field")
    await driver.press(person, "Date of detention")
    await driver.send(person, "2021-03-16")
    case = await case_by_slug(storage, "zafar-rahimov")
    assert case.detained_on == dt.date(2021, 3, 16)
    assert (await texts_of(storage, "zafar-rahimov"))["ru"].name == "Зафар Рахимов"
    assert recording.errors == []


async def test_back_goes_one_step_back(driver: Driver, storage, settings):
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    await driver.send(person, "Zafar Rahimov")
    back = await driver.press(person, "« Back")
    assert "full name" in back.text and "Now: Zafar Rahimov" in back.text
    slug_step = await driver.send(person, "Алишер Тестов")
    assert "Use: alisher-testov" in slug_step.labels()
    assert "short account" in (await driver.send(person, "alisher-t")).text
    again = await driver.press(person, "« Back")
    assert "short name for the case" in again.text and "Now: alisher-t" in again.text
    confirm = await finish_from_slug(driver, person)
    back_from_confirm = await driver.press(person, "« Back")
    assert "receive letters" in back_from_confirm.text
    await driver.press(person, "No")
    await driver.press(person, "Save")
    case = await case_by_slug(storage, "alisher-testov")
    assert "Алишер Тестов" in confirm
    assert not case.accepts_letters


async def test_back_follows_the_trail_across_choices_and_skipped_steps(
    driver: Driver, storage, settings, small_cases
):
    """Back from a text step after a choice returns to the choice, then to the text before
    it. A language version asks only the text steps: Back from its confirmation returns
    to the salutation (the steps it does not ask are never visited), and from its first
    step to the case it was begun from."""
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    await driver.send(person, "Zafar Rahimov")
    await driver.press(person, "Use:")
    await fill_to_authority_locale(driver, person)
    prison = await driver.press(person, "Русский")
    assert "prison's postal address" in prison.text
    choice = await driver.press(person, "« Back")
    assert "does this authority work" in choice.text and "Русский" in choice.labels()
    address = await driver.press(person, "« Back")
    assert "as it goes on the envelope" in address.text
    assert "Now: Tashkent, Gulyamov st. 66" in address.text

    await driver.send(person, "/editcase Freeova")
    await driver.press(person, "Add a language")
    await driver.press(person, "Қазақша")
    await driver.send(person, "Бермет Фриева")
    await driver.press(person, "Skip")  # summary
    await driver.press(person, "Skip")  # charges
    await driver.send(person, "Қырғыз Республикасының Бас прокуроры")
    await driver.send(person, "Құрметті Бас прокурор!")
    salutation = await driver.press(person, "« Back")
    assert "How does an appeal begin" in salutation.text
    assert "Now: Құрметті Бас прокурор!" in salutation.text
    assert "To whom do appeals go" in (await driver.press(person, "« Back")).text
    assert "The charges" in (await driver.press(person, "« Back")).text
    assert "short account" in (await driver.press(person, "« Back")).text
    first = await driver.press(person, "« Back")
    assert "New language version: Қазақша" in first.text and "Now: Бермет Фриева" in first.text
    view = await driver.press(person, "« Back")
    assert "Bermet Freeova" in view.text and "🌐 Add a language" in view.labels()
    assert "kk" not in await texts_of(storage, "test-released")


async def test_a_slug_taken_before_save_returns_to_its_step(driver: Driver, storage, settings):
    """Another editor saves the same slug while this one confirms: Save returns to the
    slug step with the reason, and Back from there still goes the way the dialogue came."""
    person = await staff_member(storage, settings)
    other = await staff_member(storage, settings, tg_id=9_300_000_002)
    for editor in (person, other):
        await walk_to_name(driver, editor)
        await finish_new_case(driver, editor)
    await driver.press(other, "Save")
    again = await driver.press(person, "Save")
    assert "already has this slug" in again.notices[0]
    assert "short name for the case" in again.text and "Now: zafar-rahimov" in again.text
    assert "full name" in (await driver.press(person, "« Back")).text
    slug_step = await driver.send(person, "Zafar Rahimov")
    assert not any(label.startswith("Use:") for label in slug_step.labels())
    await driver.send(person, "zafar-rahimov-2")
    await finish_from_summary(driver, person)
    saved = await driver.press(person, "Save")
    assert "saved" in saved.notices[0] and "zafar-rahimov-2" in saved.text
    assert await count_cases(storage) == 2


@pytest.mark.parametrize("how", ["/cancel", "stop"])
async def test_stopping_halfway_leaves_nothing(driver: Driver, storage, settings, how):
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    await driver.send(person, "Zafar Rahimov")
    await driver.press(person, "Use:")
    reply = (
        await driver.send(person, "/cancel")
        if how == "/cancel"
        else await driver.press(person, "Stop")
    )
    assert "Nothing was changed" in reply.text
    assert await count_cases(storage) == 0
    after = await driver.send(person, "Some summary")  # no dialogue any more: a plain search
    assert "Nothing found" in after.text


async def test_bad_dates_long_texts_and_taken_slugs_repeat_the_step(
    driver: Driver, storage, settings, small_cases
):
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    too_long = await driver.send(person, "x" * 201)
    assert "too long" in too_long.text and "200" in too_long.text
    await driver.send(person, "Zafar Rahimov")
    assert "already has this slug" in (await driver.send(person, "test-detained")).text
    assert "small Latin letters" in (await driver.send(person, "Zafar Rahimov")).text
    summary = await driver.send(person, "zafar")
    assert "short account" in summary.text
    refused = await driver.send(person, "y" * 2001)
    assert "too long" in refused.text and "2,000" in refused.text
    await driver.send(person, "y" * 2000)
    await driver.press(person, "Skip")
    await driver.send(person, "Prosecutor General")
    await driver.send(person, "Dear Prosecutor General,")
    await driver.send(person, "Tashkent")
    await driver.press(person, "Русский")
    await driver.press(person, "Skip")
    assert "not a date" in (await driver.send(person, "15/03/2021")).text  # day or month?
    assert "not a date" in (await driver.send(person, "2021-02-30")).text
    assert "not a date" in (await driver.send(person, "30.02.2021")).text
    assert "in the future" in (await driver.send(person, FUTURE)).text
    confirm = await driver.press(person, "Skip")
    assert "receive letters" in confirm.text
    await driver.press(person, "Yes")
    await driver.press(person, "Save")
    text = (await texts_of(storage, "zafar"))["en"]
    assert text.summary == "y" * 2000
    assert (await case_by_slug(storage, "zafar")).detained_on is None


async def test_html_typed_by_mistake_is_stored_verbatim_and_shown_escaped(
    driver: Driver, storage, settings
):
    person = await staff_member(storage, settings)
    await walk_to_name(driver, person)
    typed = "<b>Zafar</b> & <i>Rahimov"  # unbalanced: would break Telegram's parser
    confirm = await finish_new_case(driver, person, typed)
    assert typed in confirm  # the visible text shows the tags: they were escaped
    saved = await driver.press(person, "Save")
    assert typed in saved.text
    texts = await texts_of(storage, "b-zafar-b-i-rahimov")
    assert texts["en"].name == typed


async def test_editcase_renames_and_search_finds_the_new_name(
    driver: Driver, storage, settings, small_cases
):
    person = await staff_member(storage, settings)
    ask = await driver.send(person, "/editcase")
    assert "Which case" in ask.text
    view = await driver.send(person, "Testov")
    assert "Alisher Testov" in view.text and "Русский: Алишер Тестов" in view.text
    await driver.press(person, "Edit a field")
    languages = await driver.press(person, "Name")
    assert "Which language version" in languages.text
    prompt = await driver.press(person, "Русский")
    assert "Now: Алишер Тестов" in prompt.text
    saved = await driver.send(person, "Алишер Свободов")
    assert "Saved." in saved.texts[0] and "Русский: Алишер Свободов" in saved.text
    assert (await texts_of(storage, "test-detained"))["ru"].name == "Алишер Свободов"
    found = await driver.send(SUPPORTER, "/case Svobodov")
    assert "Alisher Testov" in found.text  # the card, in the supporter's language
    assert ("case.edit", "case:test-detained") in await audit_actions(storage)

    # Case-level fields: a date typed, a choice pressed, an optional field cleared.
    await driver.press(person, "Edit a field")
    await driver.press(person, "Date of detention")
    assert "in the future" in (await driver.send(person, FUTURE)).text
    await driver.send(person, "2022-07-02")
    await driver.press(person, "Edit a field")
    await driver.press(person, "Accepts letters")
    await driver.press(person, "No")
    await driver.press(person, "Edit a field")
    await driver.press(person, "Prison address")
    await driver.press(person, "Clear")
    case = await case_by_slug(storage, "test-detained")
    assert case.detained_on == dt.date(2022, 7, 2)
    assert not case.accepts_letters and case.prison_address is None
    assert case.status == "detained"  # untouched: status changes go through /update


async def test_editors_find_hidden_cases(driver: Driver, storage, settings, small_cases):
    person = await staff_member(storage, settings)
    assert "Nothing found" in (await driver.send(SUPPORTER, "/case Hidden Person")).text
    view = await driver.send(person, "/editcase Hidden Person")
    assert "Hidden Person" in view.text and "Hidden: supporters do not see it" in view.text
    assert "/update" in view.text
    by_slug = await driver.send(person, "/editcase test-hidden")
    assert "Hidden Person" in by_slug.text


async def test_adding_a_language(driver: Driver, storage, settings, small_cases):
    person = await staff_member(storage, settings)
    await driver.send(person, "/editcase Freeova")
    choose = await driver.press(person, "Add a language")
    assert "Қазақша" in choose.labels() and "English" not in choose.labels()
    step = await driver.press(person, "Қазақша")
    assert "New language version: Қазақша" in step.text
    await driver.send(person, "Бермет Фриева")
    await driver.press(person, "Skip")
    await driver.press(person, "Skip")
    await driver.send(person, "Қырғыз Республикасының Бас прокуроры")
    confirm = await driver.send(person, "Құрметті Бас прокурор!")
    assert "Бермет Фриева" in confirm.text
    saved = await driver.press(person, "Save")
    assert "Қазақша version is added" in saved.notices[0]
    assert "Қазақша: Бермет Фриева" in saved.text
    texts = await texts_of(storage, "test-released")
    assert texts["kk"].name == "Бермет Фриева" and texts["kk"].summary is None
    reader = Person(id=9_300_000_060, language_code="kk")
    card = await driver.send(reader, "/case Фриева")
    assert "Бермет Фриева" in card.text


async def test_photo_attached_shown_protected_and_removed(
    driver: Driver, storage, settings, small_cases
):
    person = await staff_member(storage, settings)
    await driver.send(person, "/editcase Freeova")
    ask = await driver.press(person, "Photo")
    assert "Send the photo" in ask.text and "Remove" not in " ".join(ask.labels())
    assert "Please send a photo" in (await driver.send(person, "here it is")).text
    sizes = [
        {"file_id": "small-id", "file_unique_id": "s1", "width": 90, "height": 90},
        {"file_id": "large-id", "file_unique_id": "l1", "width": 800, "height": 800},
    ]
    saved = await driver.send_raw(person, photo=sizes)
    assert "The photo is saved." in saved.texts[0] and "Photo: yes" in saved.text
    case = await case_by_slug(storage, "test-released")
    assert case.photo == "large-id"
    assert ("case.photo", "case:test-released") in await audit_actions(storage)

    card = await driver.send(SUPPORTER, "/case Freeova")
    assert "📷 Photo" in card.labels()
    shown = await driver.press(SUPPORTER, "📷 Photo")
    photos = [c for c in shown.calls if isinstance(c, SendPhoto)]
    assert len(photos) == 1 and photos[0].photo == "large-id" and photos[0].protect_content
    assert "Bermet Freeova" in (photos[0].caption or "")

    await driver.send(person, "/editcase Freeova")
    await driver.press(person, "Photo")
    removed = await driver.press(person, "Remove the photo")
    assert "removed" in removed.notices[0] and "Photo: none" in removed.text
    assert (await case_by_slug(storage, "test-released")).photo is None
    card = await driver.send(SUPPORTER, "/case Freeova")
    assert "📷 Photo" not in card.labels()
    stale = await driver.callback(SUPPORTER, f"c:photo:{case.id}")
    assert not any(isinstance(c, SendPhoto) for c in stale.calls)
    assert "not available" in stale.notices[0]


@pytest.mark.parametrize("label", ["Hide", "Archive"])
async def test_hidden_and_archived_cases_leave_supporters(
    driver: Driver, storage, settings, small_cases, label
):
    person = await staff_member(storage, settings)
    case = await case_by_slug(storage, "test-released")
    assert any("Bermet Freeova" in x for x in await supporter_list(driver))
    await driver.send(SUPPORTER, "/follow Freeova")
    await driver.send(person, "/editcase Freeova")
    done = await driver.press(person, label)
    assert "supporters" in done.notices[0]
    assert (await case_by_slug(storage, "test-released")).visibility in {
        "hidden",
        "archived",
    }
    assert not any("Bermet Freeova" in x for x in await supporter_list(driver))
    assert "Nothing found" in (await driver.send(SUPPORTER, "/case Freeova")).text
    assert "Bermet" not in (await driver.send(SUPPORTER, "/mycases")).text
    card = await driver.callback(SUPPORTER, f"c:view:{case.id}")
    assert "not available" in card.notices[0]


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_others_get_the_unknown_command_answer(
    driver: Driver, storage, settings, small_cases, role
):
    person = (
        await staff_member(storage, settings, role, 9_300_000_070)
        if role
        else Person(id=9_300_000_070)
    )
    for command in ["/newcase", "/editcase", "/editcase Freeova", "/editcase test-hidden"]:
        reply = await driver.send(person, command)
        assert reply.texts == ["I do not know this command. Send /help to see what I can do."], (
            command
        )
    hidden = await case_by_slug(storage, "test-hidden")
    for data in [
        f"ce:vis:{hidden.id}:::public",
        f"ce:view:{hidden.id}:::",
        f"ce:photo:{hidden.id}:::",
        "ce:pick::country::uz",
        "ce:save::::",
    ]:
        reply = await driver.callback(person, data)
        assert [type(c) for c in reply.calls] == [AnswerCallbackQuery], data
        assert "no longer valid" in reply.notices[0]
    assert (await case_by_slug(storage, "test-hidden")).visibility == "hidden"
    assert await count_cases(storage) == 3
