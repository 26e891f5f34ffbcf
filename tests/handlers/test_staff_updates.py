"""/update through the real dispatcher: news in two languages, a release, family-only news,
going back, stopping half-way, an overlong text, HTML typed by mistake, people without
the role, forged buttons; and a status change by import taking the very same path."""

from __future__ import annotations

import json

import pytest
from aiogram.methods import EditMessageText
from sqlalchemy import select
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.delivery.specs import read_spec
from bot.i18n import make_i18n
from bot.presentation.alert_views import AlertRenderer
from bot.presentation.callbacks import UpdateCb
from bot.services import case_files, identity, staff
from db.models import AuditEntry, Case, CaseUpdate, CaseUpdateText, Delivery, FamilyMember
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from tests.conftest import SMALL_CASES
from tests.support import Driver, Person, check_html, reader_for

UNKNOWN = "I do not know this command. Send /help to see what I can do."
STALE = "This button is no longer valid."


async def staff_member(storage, settings, tg_id: int = 9_300_000_001, role: str = "editor"):
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def readers(
    storage, settings, tg_ids: list[int], *, locale: str = "en", follow: bool = True,
    family: bool = False,
) -> list[int]:  # fmt: skip
    """People (by row id) who follow test-detained and/or are family of it."""
    cipher = IdentityCipher(settings.key_bytes)
    out = []
    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None and case.id is not None
        for tg_id in tg_ids:
            person = await identity.ensure(s, cipher, tg_id, locale)
            assert person.id is not None
            if follow:
                await follows_repo.add(s, person.id, case.id)
            if family:
                s.add(FamilyMember(person_id=person.id, case_id=case.id))
            out.append(person.id)
    return out


async def rows(storage, model, *order):
    async with storage.sessionmaker() as s:
        return list((await s.execute(select(model).order_by(*order))).scalars())


async def the_case(storage, slug: str = "test-detained") -> Case:
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, slug)
        assert case is not None
        return case


async def render(
    storage, delivery: Delivery, *, discreet: bool | None = None, person_id: int | None = None,
    spec: str | None = None,
):  # fmt: skip
    """What the worker's renderer makes of a delivery for its recipient (or another person,
    or another spec, as a forger would have it)."""
    reader = await reader_for(storage, delivery, person_id=person_id, discreet=discreet)
    renderer = AlertRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    return await renderer(read_spec(spec or delivery.spec), reader)


async def news_until_preview(driver: Driver, person: Person, text: str = "A lawyer visited him."):
    await driver.send(person, "/update Testov")
    await driver.press(person, "News")
    await driver.press(person, "English")
    await driver.send(person, text)
    await driver.press(person, "Continue")
    return await driver.press(person, "Followers and family")


async def test_news_in_two_languages_reaches_each_follower_once(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    followers = await readers(storage, settings, [9_300_000_101, 9_300_000_102, 9_300_000_103])
    await readers(storage, settings, [9_300_000_104], follow=False)  # follows nothing

    screen = await driver.send(editor, "/update Testov")
    assert "Update: Alisher Testov" in screen.text and "Detained" in screen.text
    await driver.press(editor, "News")
    prompt = await driver.press(editor, "English")
    assert "in English" in prompt.text and "at most 3,000 characters" in prompt.text
    more = await driver.send(editor, "A lawyer visited him & he is well.")
    assert "Written so far in: English" in more.text
    await driver.press(editor, "Another language")
    await driver.press(editor, "Русский")
    await driver.send(editor, "Адвокат навестил его.")
    await driver.press(editor, "Continue")
    preview = await driver.press(editor, "Followers and family")
    assert "A follower who reads the bot in English will receive" in preview.text
    assert "Alisher Testov\n📰 News about the case\nA lawyer visited him & he is well." in (
        preview.text
    )
    assert "Адвокат" not in preview.text  # the English reader's version only
    assert "Written in: English, Русский" in preview.text
    assert "It will go to 3 people" in preview.text
    assert await rows(storage, CaseUpdate) == []  # nothing before "Publish"

    done = await driver.press(editor, "Publish")
    assert "Published. It is on its way to 3 people" in done.text
    [update] = await rows(storage, CaseUpdate)
    assert (update.kind, update.family_only, update.new_status) == ("news", False, None)
    texts = {t.locale: t.text for t in await rows(storage, CaseUpdateText)}
    assert texts == {"en": "A lawyer visited him & he is well.", "ru": "Адвокат навестил его."}
    deliveries = await rows(storage, Delivery, col(Delivery.id))
    assert sorted(d.person_id for d in deliveries) == sorted(followers)
    assert {d.dedupe_key for d in deliveries} == {f"update:{update.id}:{p}" for p in followers}
    assert (await the_case(storage)).status == "detained"
    audit = await rows(storage, AuditEntry)
    assert [(a.action, a.target) for a in audit][-1] == ("case.update", "case:test-detained")

    rendered = await render(storage, deliveries[0])
    assert rendered is not None and "A lawyer visited him &amp; he is well." in rendered.text
    # The supporter's card shows the latest public news, escaped, in their language.
    card = await driver.send(Person(id=9_300_000_101), "/case Testov")
    assert "Latest news" in card.text and "A lawyer visited him & he is well." in card.text
    card_ru = await driver.send(Person(id=9_300_000_110, language_code="ru"), "/case Testov")
    assert "Адвокат навестил его." in card_ru.text


async def test_a_release_changes_the_case_and_alerts_followers_once(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    followers = await readers(storage, settings, [9_300_000_201, 9_300_000_202])
    await driver.send(editor, "/update test-detained")
    choices = await driver.press(editor, "Status change")
    labels = choices.labels()
    assert not any("Detained" in label for label in labels)
    assert any("Released" in label for label in labels)
    await driver.press(editor, "Released")
    preview = await driver.press(editor, "Skip the note")
    assert "Released! Thank you to everyone who wrote letters" in preview.text
    assert "No note" in preview.text and "It will go to 2 people" in preview.text
    await driver.press(editor, "Publish")

    case = await the_case(storage)
    assert case.status == "released"
    [update] = await rows(storage, CaseUpdate)
    assert (update.kind, update.old_status, update.new_status) == ("status", "detained", "released")
    assert await rows(storage, CaseUpdateText) == []
    deliveries = await rows(storage, Delivery)
    assert sorted(d.person_id for d in deliveries) == sorted(followers)
    assert all(json.loads(d.spec)["new"] == "released" for d in deliveries)
    assert ("case.status", "case:test-detained") in [
        (a.action, a.target) for a in await rows(storage, AuditEntry)
    ]
    rendered = await render(storage, deliveries[0])
    assert rendered is not None and "Alisher Testov" in rendered.text
    assert "Released!" in rendered.text

    # The same status is no longer offered, and a stale "Released" button changes nothing.
    await driver.send(editor, "/update Testov")
    again = await driver.press(editor, "Status change")
    assert not any("Released" in label for label in again.labels())
    forged = await driver.callback(editor, UpdateCb(action="status", value="released").pack())
    assert "has this status already" in forged.notices[0]
    assert len(await rows(storage, Delivery)) == 2


async def test_a_status_note_in_the_readers_language(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_211], locale="ru")
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Status change")
    await driver.press(editor, "Sentenced")
    await driver.press(editor, "Русский")
    await driver.send(editor, "Приговор: 7 лет.")
    preview = await driver.press(editor, "Continue")
    # An English reader falls back to the Russian note (the configured chain).
    assert "Приговор: 7 лет." in preview.text and "The court has passed a sentence" in preview.text
    await driver.press(editor, "Publish")
    [delivery] = await rows(storage, Delivery)
    rendered = await render(storage, delivery)
    assert rendered is not None
    assert "Алишер Тестов" in rendered.text and "Приговор: 7 лет." in rendered.text


async def test_family_only_news_reaches_the_family_alone(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    [follower] = await readers(storage, settings, [9_300_000_301])
    [relative] = await readers(storage, settings, [9_300_000_302], follow=False, family=True)
    [both] = await readers(storage, settings, [9_300_000_303], family=True)

    await driver.send(editor, "/update Testov")
    await driver.press(editor, "News")
    await driver.press(editor, "English")
    await driver.send(editor, "The family may visit on Friday.")
    await driver.press(editor, "Continue")
    preview = await driver.press(editor, "The family only")
    assert "👪 For the family" in preview.text and "It will go to 2 family members" in preview.text
    await driver.press(editor, "Publish")

    [update] = await rows(storage, CaseUpdate)
    assert update.family_only
    deliveries = await rows(storage, Delivery)
    assert sorted(d.person_id for d in deliveries) == sorted([relative, both])
    for delivery in deliveries:
        rendered = await render(storage, delivery)
        assert rendered is not None
        assert "👪 For the family" in rendered.text and "visit on Friday" in rendered.text
    # Never rendered for anyone outside the family, even with the spec in hand.
    assert await render(storage, deliveries[0], person_id=follower) is None
    # A relative who left the family before it was sent does not get it either.
    async with storage.sessionmaker() as s, s.begin():
        row = await s.get(FamilyMember, (both, update.case_id))
        await s.delete(row)
    gone = next(d for d in deliveries if d.person_id == both)
    assert await render(storage, gone) is None
    # Supporters' card does not show family news.
    card = await driver.send(Person(id=9_300_000_301), "/case Testov")
    assert "Friday" not in card.text and "Latest news" not in card.text


async def test_status_changes_are_not_family_only(storage, settings, small_cases):
    from bot.services import updates

    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, "test-detained")
        assert case is not None
        with pytest.raises(updates.UpdateError):
            await updates.publish(
                s, case, "status", {}, family_only=True, new_status="released", actor="test"
            )
        with pytest.raises(updates.UpdateError):
            await updates.publish(s, case, "news", {"en": "x" * 3001}, actor="test")
        with pytest.raises(updates.UpdateError):
            await updates.publish(s, case, "news", {}, actor="test")
    assert await rows(storage, CaseUpdate) == [] and await rows(storage, Delivery) == []


async def test_going_back(driver: Driver, storage, settings, small_cases):
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_401], family=True)
    await news_until_preview(driver, editor)
    assert "Who should receive it" in (await driver.press(editor, "Back")).text
    assert "Written so far in: English" in (await driver.press(editor, "Back")).text
    assert "Send the news in English" in (await driver.press(editor, "Back")).text
    assert "In which language" in (await driver.press(editor, "Back")).text
    assert "Update: Alisher Testov" in (await driver.press(editor, "Back")).text
    # From the top again, and now a change of mind at the end: the family only.
    await driver.press(editor, "News")
    await driver.press(editor, "English")
    await driver.send(editor, "First version.")
    await driver.press(editor, "Back")  # retype it
    await driver.send(editor, "Second version.")
    await driver.press(editor, "Continue")
    await driver.press(editor, "Followers and family")
    await driver.press(editor, "Back")
    preview = await driver.press(editor, "The family only")
    assert "Second version." in preview.text and "First version." not in preview.text
    assert "For the family" in preview.text
    await driver.press(editor, "Publish")
    [update] = await rows(storage, CaseUpdate)
    assert update.family_only
    assert [t.text for t in await rows(storage, CaseUpdateText)] == ["Second version."]
    # Back from the choice of a status returns to the choice of kind.
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Status change")
    assert "Update: Alisher Testov" in (await driver.press(editor, "Back")).text


@pytest.mark.parametrize("how", ["/cancel", "stop"])
async def test_stopping_halfway_changes_nothing(
    driver: Driver, storage, settings, small_cases, how
):
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_501])
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Status change")
    await driver.press(editor, "Released")
    await driver.press(editor, "English")
    await driver.send(editor, "Free at last.")
    reply = (
        await driver.send(editor, "/cancel")
        if how == "/cancel"
        else await driver.press(editor, "Stop")
    )
    assert "Nothing was changed" in reply.text
    assert (await the_case(storage)).status == "detained"
    assert await rows(storage, CaseUpdate) == [] and await rows(storage, Delivery) == []
    assert not any(a.action.startswith("case.") for a in await rows(storage, AuditEntry))
    after = await driver.send(editor, "Free at last.")  # no dialogue any more: a plain search
    assert "Nothing found" in after.text


async def test_an_overlong_text_is_refused(driver: Driver, storage, settings, small_cases):
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "News")
    await driver.press(editor, "English")
    refused = await driver.send(editor, "x" * 3001)
    assert "3,001 characters" in refused.text and "at most 3,000" in refused.text
    assert "Send the news in English" in refused.text  # still at the same step
    more = await driver.send(editor, "x" * 3000)
    assert "Written so far in: English" in more.text
    await driver.press(editor, "Continue")
    preview = await driver.press(editor, "Followers and family")
    assert "x" * 3000 in preview.text


async def test_html_typed_by_mistake_is_shown_not_interpreted(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_601])
    typed = "<b>Free</b> & <script>alert(1)</script> <i>soon"
    preview = await news_until_preview(driver, editor, typed)
    assert typed in preview.text  # what the editor sees is what they typed
    [raw] = [c.text for c in preview.calls if isinstance(c, EditMessageText)]
    assert "&lt;b&gt;Free&lt;/b&gt; &amp; &lt;script&gt;" in (raw or "")
    await driver.press(editor, "Publish")
    [delivery] = await rows(storage, Delivery)
    rendered = await render(storage, delivery)
    assert rendered is not None
    assert "&lt;b&gt;Free&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; &lt;i&gt;soon" in (
        rendered.text
    )
    assert check_html(rendered.text) is None
    items = [json.loads(delivery.spec)]
    digest = await render(storage, delivery, spec=json.dumps({"t": "digest", "items": items}))
    assert digest is not None and "&lt;b&gt;Free" in digest.text
    assert check_html(digest.text) is None


async def test_discreet_readers_get_no_name(driver: Driver, storage, settings, small_cases):
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_651])
    preview = await news_until_preview(driver, editor, "Testov was moved to Zangiota.")
    assert "In discreet mode: 🔔 There is news about a case you follow." in preview.text
    await driver.press(editor, "Publish")
    [delivery] = await rows(storage, Delivery)
    rendered = await render(storage, delivery, discreet=True)
    assert rendered is not None
    assert "Testov" not in rendered.text and "Alisher" not in rendered.text


async def test_a_discreet_relative_reads_of_their_relatives_case(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    [follower] = await readers(storage, settings, [9_300_000_661])
    [relative] = await readers(storage, settings, [9_300_000_662], follow=False, family=True)
    await news_until_preview(driver, editor, "Testov was moved to Zangiota.")
    await driver.press(editor, "Publish")
    by_person = {d.person_id: d for d in await rows(storage, Delivery)}
    # One renderer for both, as the worker has: the relative's line is not shared.
    renderer = AlertRenderer(storage.sessionmaker, make_i18n(), ["ru", "en"])
    theirs, ours = [
        await renderer(read_spec(d.spec), await reader_for(storage, d, discreet=True))
        for d in (by_person[relative], by_person[follower])
    ]
    assert theirs is not None and ours is not None
    assert theirs.text == "🔔 There is news about your relative's case."
    assert ours.text == "🔔 There is news about a case you follow."
    # In a digest too.
    theirs, ours = [
        await renderer(
            read_spec(json.dumps({"t": "digest", "items": [json.loads(d.spec)] * 2})),
            await reader_for(storage, d, discreet=True),
        )
        for d in (by_person[relative], by_person[follower])
    ]
    assert theirs is not None and ours is not None
    assert theirs.text == "📬 2 updates on your relative's case."
    assert ours.text == "📬 2 updates on the cases you follow."


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_without_the_role_update_is_an_unknown_command(
    driver: Driver, storage, settings, small_cases, role
):
    person = (
        await staff_member(storage, settings, 9_300_000_701, role)
        if role
        else Person(id=9_300_000_702)
    )
    for text in ("/update", "/update Testov"):
        reply = await driver.send(person, text)
        assert reply.texts == [UNKNOWN]


@pytest.mark.parametrize("role", [None, "broadcaster"])
async def test_forged_buttons_do_nothing_but_answer(
    driver: Driver, storage, settings, small_cases, role
):
    await readers(storage, settings, [9_300_000_801])
    person = (
        await staff_member(storage, settings, 9_300_000_802, role)
        if role
        else Person(id=9_300_000_803)
    )
    case = await the_case(storage)
    for data in (
        UpdateCb(action="kind", case=case.id or 0, value="status").pack(),
        UpdateCb(action="status", value="released").pack(),
        UpdateCb(action="aud", value="family").pack(),
        UpdateCb(action="publish").pack(),
        "up:publish:99999999999999:x",
    ):
        reply = await driver.callback(person, data)
        assert reply.notices == [STALE]
        assert reply.texts == []
    assert (await the_case(storage)).status == "detained"
    assert await rows(storage, CaseUpdate) == [] and await rows(storage, Delivery) == []
    # No dialogue was begun: plain text is still a search.
    assert "Nothing found" in (await driver.send(person, "Free at last.")).text


async def test_an_import_takes_the_same_path_as_the_dialogue(
    driver: Driver, storage, settings, small_cases
):
    editor = await staff_member(storage, settings)
    followers = await readers(storage, settings, [9_300_000_901, 9_300_000_902])
    released = SMALL_CASES.read_text(encoding="utf-8").replace(
        "status: detained\n    detained_on", "status: released\n    detained_on"
    )
    async with storage.sessionmaker() as s, s.begin():
        report = await case_files.apply(s, case_files.parse(released))
    assert report.status_changes == [("test-detained", "detained", "released")]
    # Back in detention, through the dialogue.
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Status change")
    await driver.press(editor, "Detained")
    await driver.press(editor, "Skip the note")
    await driver.press(editor, "Publish")

    imported, typed = await rows(storage, CaseUpdate, col(CaseUpdate.id))
    assert (imported.kind, imported.old_status, imported.new_status) == (
        "status", "detained", "released",
    )  # fmt: skip
    assert (typed.kind, typed.old_status, typed.new_status) == ("status", "released", "detained")
    assert imported.author == "cli" and not imported.family_only and not typed.family_only
    deliveries = await rows(storage, Delivery, col(Delivery.id))
    by_update: dict[int, list[Delivery]] = {}
    for d in deliveries:
        by_update.setdefault(json.loads(d.spec)["update"], []).append(d)
    assert sorted(by_update) == [imported.id, typed.id]
    for update, new in ((imported, "released"), (typed, "detained")):
        batch = by_update[update.id or 0]
        assert sorted(d.person_id for d in batch) == sorted(followers)
        assert {d.batch for d in batch} == {f"case:{update.case_id}:status"}
        assert {d.dedupe_key for d in batch} == {f"update:{update.id}:{p}" for p in followers}
        assert {d.spec for d in batch} == {
            json.dumps(
                {"case": update.case_id, "fam": False, "new": new, "t": "update",
                 "update": update.id},
                separators=(",", ":"), sort_keys=True,
            )
        }  # fmt: skip
    actions = [(a.actor, a.action) for a in await rows(storage, AuditEntry, col(AuditEntry.id))]
    assert ("cli", "case.status") in actions
    # Importing the same file again is no change: no update, no alert.
    async with storage.sessionmaker() as s, s.begin():
        await case_files.apply(s, case_files.parse(released))
    assert len(await rows(storage, CaseUpdate)) == 3  # the file said "released" again
    assert (await the_case(storage)).status == "released"
    async with storage.sessionmaker() as s, s.begin():
        again = await case_files.apply(s, case_files.parse(released))
    assert again.status_changes == [] and len(await rows(storage, CaseUpdate)) == 3


async def test_a_button_left_on_a_published_update_says_what_happened(
    driver: Driver, storage, settings, small_cases
):
    """A Stop (or Publish) pressed on a screen of an update already published says it went
    out and to how many, not that nothing changed; an older screen of a dialogue still
    under way says to use the latest one."""
    editor = await staff_member(storage, settings)
    await readers(storage, settings, [9_300_000_301, 9_300_000_302])
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "News")
    await driver.press(editor, "English")
    written = await driver.send(editor, "A lawyer visited him.")
    older = driver.keyboard(editor)  # "Written so far", with Stop: a message of its own
    stop = driver.button(editor, "Stop")
    assert "Written so far" in written.text

    early = await driver.callback(editor, UpdateCb(action="publish").pack(), older)
    assert early.notices == [
        "This is an earlier screen of the form you are filling in: use the latest."
    ]
    await driver.press(editor, "Continue")
    await driver.press(editor, "Followers and family")
    done = await driver.press(editor, "Publish")
    assert "on its way to 2 people" in done.text

    late = await driver.callback(editor, stop, older)
    assert late.notices == ["This update was already published: it went to 2 people."]
    assert late.texts == [] and len(await rows(storage, CaseUpdate)) == 1
    again = await driver.callback(editor, UpdateCb(action="publish").pack(), older)
    assert "already published" in again.notices[0]
    assert len(await rows(storage, CaseUpdate)) == 1

    # Stopped, the same button says so; a new dialogue keeps the old ending until its own.
    await driver.send(editor, "/update Testov")
    await driver.press(editor, "Stop")
    stale = await driver.callback(editor, stop, older)
    assert stale.notices == ["This form was stopped earlier, and nothing was changed then."]
