"""The supporter's journey through the real dispatcher, asserting on Bot API calls."""

from __future__ import annotations

import datetime as dt

from aiogram.methods import SendMessage

from bot.services import updates
from db.repositories import cases as cases_repo
from db.types import utcnow
from tests.support import Driver, Person


async def test_start_greets_in_telegram_language_and_offers_menu(driver: Driver, small_cases):
    person = Person(id=7_100_000_001, language_code="en")
    reply = await driver.send(person, "/start")
    assert "Welcome to Umid" in reply.text
    assert "encrypted" in reply.text
    assert any("Browse cases" in label for label in reply.labels())


async def test_browse_open_follow_unfollow_by_buttons(driver: Driver, small_cases):
    person = Person(id=7_100_000_002)
    await driver.send(person, "/start")
    reply = await driver.press(person, "Browse cases")
    labels = reply.labels()
    assert any("Alisher Testov" in label for label in labels)
    assert not any("Hidden Person" in label for label in labels)
    card = await driver.press(person, "Alisher Testov")
    assert "Alisher Testov" in card.text
    assert "<defending> people & speaking out" in card.text  # escaped, then shown literally
    assert "Tashkent City Court" in card.text
    followed = await driver.press(person, "Follow")
    assert "You now follow this case" in followed.notices[0]
    assert "1 follower" in followed.text
    # The first follow set the reader's time zone, and asks with one tap whether it is right.
    assert "Is that where you are?" in followed.texts[-1]
    await driver.press(person, "That is right")
    again = await driver.callback(person, driver.button(person, "Unfollow"))
    assert "no longer follow" in again.notices[0]
    assert "0 followers" in again.text


async def test_follow_by_command_and_mycases(driver: Driver, small_cases):
    person = Person(id=7_100_000_003)
    reply = await driver.send(person, "/follow Testov")
    assert "You now follow this case" in reply.text
    mine = await driver.send(person, "/mycases")
    assert any("Alisher Testov" in label for label in mine.labels())
    await driver.send(person, "/unfollow Testov")
    mine = await driver.send(person, "/mycases")
    assert "do not follow any case" in mine.text


async def test_search_finds_latin_name_from_cyrillic_query(driver: Driver, small_cases):
    person = Person(id=7_100_000_004, language_code="ru")
    reply = await driver.send(person, "Тестов")
    assert "Алишер Тестов" in reply.text
    reply = await driver.send(person, "/case alisher testov")
    assert "Алишер Тестов" in reply.text


async def test_hidden_case_is_never_found_or_shown(driver: Driver, small_cases):
    person = Person(id=7_100_000_005)
    reply = await driver.send(person, "/case Hidden Person")
    assert "Hidden Person" not in reply.text.replace("“Hidden Person”", "")
    reply = await driver.send(person, "/case test-hidden")
    assert "Nothing found" in reply.text


async def test_letter_card_then_sent_counts_once(driver: Driver, small_cases):
    person = Person(id=7_100_000_006)
    reply = await driver.send(person, "/letter Testov")
    assert any("card" in label for label in reply.labels())
    card = await driver.press(person, "card")
    assert "Учреждение 64/1" in card.text
    assert "Never write" in card.text
    assert "Alisher Testov" in card.text
    first = await driver.press(person, "I sent it")
    assert "1 letter sent so far" in first.notices[0]
    second = await driver.press(person, "Recorded")
    assert "already recorded" in second.notices[0]
    other = Person(id=7_100_000_007)
    await driver.send(other, "/letter Testov")
    await driver.press(other, "card")
    third = await driver.press(other, "I sent it")
    assert "2 letters sent so far" in third.notices[0]


async def test_appeal_offered_in_authority_language(driver: Driver, small_cases):
    person = Person(id=7_100_000_008)
    await driver.send(person, "/letter Testov")
    appeal = await driver.press(person, "appeal")
    assert "Prosecutor General of the Republic of Uzbekistan" in appeal.text
    assert "Dear Prosecutor General," in appeal.text
    original = await driver.press(person, "Русский")
    assert "Генеральному прокурору Республики Узбекистан" in original.text
    assert "Уважаемый Генеральный прокурор!" in original.text
    back = await driver.press(person, "In my language")
    assert "Dear Prosecutor General," in back.text


async def test_another_version_cycles_templates(driver: Driver, small_cases):
    person = Person(id=7_100_000_009)
    await driver.send(person, "/letter Testov")
    first = await driver.press(person, "card")
    seen = {first.text}
    for _ in range(2):
        seen.add((await driver.press(person, "Another version")).text)
    assert len(seen) == 3


async def test_no_letters_for_released_person(driver: Driver, small_cases):
    person = Person(id=7_100_000_010)
    reply = await driver.send(person, "/letter Freeova")
    assert "not receiving letters" in reply.text


async def test_language_change_persists_and_registers_chat_commands(driver: Driver, small_cases):
    person = Person(id=7_100_000_011, language_code="en")
    await driver.send(person, "/language")
    changed = await driver.press(person, "Қазақша")
    assert "Umid" in changed.text
    assert any(type(c).__name__ == "SetMyCommands" for c in changed.calls)
    again = await driver.send(person, "/help")
    assert "/cases" in again.text
    assert "What I can do" not in again.text  # now in Kazakh


async def test_settings_change_and_persist(driver: Driver, small_cases):
    person = Person(id=7_100_000_012, language_code="ky")
    reply = await driver.send(person, "/settings")
    assert "Asia/Bishkek" not in reply.text  # a readable name, not the tz id
    await driver.press(person, "🔔")
    await driver.press(person, "🌙")
    alerts = await driver.press(person, "22:00")
    assert "22:00" in alerts.text and "🌙" in " ".join(alerts.labels())  # back on the group
    await driver.send(person, "/settings")
    await driver.press(person, "🛡")
    safety = await driver.press(person, "🙈")
    assert "🙈" in safety.text and "🆘" in " ".join(safety.labels())
    reply = await driver.send(person, "/settings")
    assert "22:00" in reply.text
    assert "🙈" in reply.text


async def test_forget_removes_follows_and_person(driver: Driver, small_cases, storage):
    from sqlalchemy import func, select, update

    from db.models import Follow, LetterAction, LetterCount
    from db.models import Person as PersonRow

    person = Person(id=7_100_000_013)
    await driver.send(person, "/follow Testov")
    await driver.send(person, "/letter Testov")
    await driver.press(person, "card")
    await driver.press(person, "I sent it")
    # Recorded 31 days ago, before the window the picker compares: counted for good.
    month_ago = utcnow().date() - dt.timedelta(days=31)
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(update(LetterAction).values(created_on=month_ago))
        await s.execute(update(LetterCount).values(day=month_ago))
    await driver.send(person, "/forget")
    cancel = await driver.press(person, "Cancel")
    assert "Nothing was deleted" in cancel.text
    await driver.send(person, "/forget")
    done = await driver.press(person, "Yes, delete")
    assert "deleted" in done.text
    async with storage.sessionmaker() as s:
        for model in (PersonRow, Follow, LetterAction):
            assert (await s.execute(select(func.count()).select_from(model))).scalar_one() == 0
        kept = (await s.execute(select(func.sum(LetterCount.count)))).scalar_one()
        assert kept == 1  # the anonymous counter stays


async def test_i_sent_it_and_forget_over_and_over_do_not_move_the_count(
    driver: Driver, small_cases
):
    """One person cannot raise a case's count, nor steer the picker, by recording a
    letter and forgetting themselves, again and again."""
    person = Person(id=7_100_000_016)
    for _round in range(10):
        await driver.send(person, "/letter Testov")
        await driver.press(person, "card")
        recorded = await driver.press(person, "I sent it")
        assert "1 letter sent so far" in recorded.notices[0]
        await driver.send(person, "/forget")
        assert "deleted" in (await driver.press(person, "Yes, delete")).text
    other = Person(id=7_100_000_017)
    await driver.send(other, "/letter Testov")
    await driver.press(other, "card")
    assert "1 letter sent so far" in (await driver.press(other, "I sent it")).notices[0]


async def test_commands_sent_are_all_answered(driver: Driver, small_cases):
    person = Person(id=7_100_000_014)
    for command in ["/start", "/help", "/cases", "/case", "/follow", "/unfollow", "/mycases",
                    "/letter", "/settings", "/language", "/privacy", "/forget"]:  # fmt: skip
        reply = await driver.send(person, command)
        assert any(isinstance(c, SendMessage) for c in reply.calls), command


async def test_filters_and_pages(driver: Driver, demo_cases):
    person = Person(id=7_100_000_020)
    page = await driver.send(person, "/cases")
    assert "14 cases" in page.text
    assert "1/2" in page.labels()
    second = await driver.press(person, "›")
    assert "2/2" in second.labels()
    await driver.press(person, "🌍")
    tajik = await driver.press(person, "🇹🇯")
    assert "4 cases" in tajik.text and all("🇹🇯" in label for label in tajik.labels()[:4])
    await driver.press(person, "🏷")
    released = await driver.press(person, "Released")
    assert "No cases match" in released.text  # no released case in Tajikistan
    await driver.press(person, "🌍")
    everywhere = await driver.press(person, "All countries")
    assert "1 case" in everywhere.text and "Ishenbekov" in " ".join(everywhere.labels())


async def test_deep_link_opens_a_case(driver: Driver, demo_cases):
    reply = await driver.send(Person(id=7_100_000_021), "/start case-dauletmurat-tadzhimuratov")
    assert "Dauletmurat Tadzhimuratov" in reply.text
    assert "Welcome" not in reply.text


async def test_uzbek_latin_spelling_finds_russian_transcription(driver: Driver, demo_cases):
    person = Person(id=7_100_000_022, language_code="uz")
    for query in ("Tajimuratov", "Таджимуратов", "tadzhimuratov"):
        reply = await driver.send(person, query)
        assert "Tajimuratov" in reply.text or "Tadzhimuratov" in reply.text, query


async def test_counts_are_written_the_readers_way(driver: Driver, small_cases, storage):
    import datetime as dt

    from db.models import LetterCount, LetterKind

    async with storage.sessionmaker() as s, s.begin():
        s.add(LetterCount(case_id=1, kind=LetterKind.CARD, day=dt.date(2026, 1, 1), count=12345))
    english = await driver.send(Person(id=7_100_000_030, language_code="en"), "/case Testov")
    russian = await driver.send(Person(id=7_100_000_031, language_code="ru"), "/case Testov")
    assert "12,345" in english.text
    assert "12\xa0345" in russian.text


async def test_forget_clears_the_dialogue_in_the_middle_of_which_it_came(driver: Driver):
    from aiogram.fsm.storage.base import StorageKey

    person = Person(id=7_100_000_099)
    await driver.send(person, "/check")  # the letter checker waits for a draft
    key = StorageKey(bot_id=driver.bot.id, chat_id=person.id, user_id=person.id)
    storage = driver.dp.fsm.storage
    assert await storage.get_state(key) is not None
    await driver.send(person, "/forget")
    await driver.press(person, "Yes, delete")
    assert await storage.get_state(key) is None
    assert await storage.get_data(key) == {}


async def test_time_zones_are_a_city_and_its_offset_in_the_readers_language(
    driver: Driver, small_cases
):
    person = Person(id=7_100_000_031, language_code="ru")
    await driver.send(person, "/settings")
    await driver.press(person, "🔔")
    zones = await driver.press(person, "🕒")
    labels = [b.get("text", "") for b in driver.keyboard(person).buttons()]  # type: ignore[union-attr]
    assert any(label.startswith("Ташкент (UTC+05:00)") for label in labels), labels
    assert "летнее время" not in zones.text + " ".join(labels)


async def test_a_first_follow_sets_the_zone_of_the_cases_courts_once(
    driver: Driver, storage, settings, small_cases
):
    reader = Person(id=7_100_000_032, language_code="en")  # began on UTC
    reply = await driver.send(reader, "/follow Testov")
    assert "Times are now shown for Tashkent (UTC+05:00)" in reply.text
    second = await driver.send(reader, "/follow Freeova")  # a case in Kyrgyzstan
    assert "Times are now shown" not in second.text
    settings_screen = await driver.send(reader, "/settings")
    assert "Tashkent (UTC+05:00)" in settings_screen.text
    local = Person(id=7_100_000_033, language_code="kk")  # began on Almaty time: kept
    assert "Times are now shown" not in (await driver.send(local, "/follow Testov")).text


async def test_the_adopted_zone_is_confirmed_or_changed_with_one_tap(
    driver: Driver, storage, settings, small_cases
):
    keeps, moves = Person(id=7_100_000_034), Person(id=7_100_000_035)
    note = await driver.send(keeps, "/follow Testov")
    assert "Tashkent (UTC+05:00). Is that where you are?" in note.text
    kept = await driver.press(keeps, "That is right")
    assert kept.notices == ["Saved."]
    assert "Times are shown for Tashkent (UTC+05:00)" in kept.text and kept.labels() == []

    await driver.send(moves, "/follow Testov")
    choice = await driver.press(moves, "Another zone")
    assert "Choose your time zone" in choice.text
    chosen = await driver.press(moves, "Berlin")
    assert "Saved." in chosen.notices
    assert "Berlin" in (await driver.send(moves, "/settings")).text


async def test_text_in_a_fallback_language_is_marked(
    driver: Driver, storage, settings, small_cases
):
    # Alisher Testov is described in English and Russian only.
    kazakh = await driver.send(Person(id=7_100_000_041, language_code="kk"), "/case Testov")
    assert "Алишер Тестов" in kazakh.text
    assert "орыс" in kazakh.text.lower()  # "shown in Russian", in Kazakh
    english = await driver.send(Person(id=7_100_000_042), "/case Testov")
    assert "Shown in" not in english.text

    async with storage.sessionmaker() as session, session.begin():
        case = await cases_repo.by_slug(session, "test-detained")
        assert case is not None
        await updates.publish(session, case, "news", {"ru": "Адвокат навестил его."}, actor="t")
    news = await driver.send(Person(id=7_100_000_043), "/case Testov")
    assert "Latest news</b>" not in news.text
    assert "written in Russian:" in news.text and "Адвокат навестил его." in news.text
    russian = await driver.send(Person(id=7_100_000_044, language_code="ru"), "/case Testov")
    assert "Адвокат навестил его." in russian.text and "написано" not in russian.text.lower()
