"""Family reports and their moderation, through the real dispatcher: a relative's /report
(text with HTML and emoji, a photo, a document, two cases to choose from, limits,
stopping), the editors' /reports queue (opening, answering privately, making a case
update, archiving), the messages the relative gets back (rendered by the worker's
renderer), forged buttons, and /forget taking the reports with it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto
from sqlalchemy import select, text
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.delivery.specs import read_spec
from bot.i18n import make_i18n
from bot.presentation.callbacks import FamilyReportCb, ReportCb
from bot.presentation.family_views import FamilyRenderer
from bot.services import identity, reports, staff
from db.models import (
    AuditEntry,
    CaseUpdate,
    CaseUpdateText,
    Delivery,
    FamilyMember,
    Report,
    ReportKind,
    ReportStatus,
)
from db.models import Person as PersonRow
from db.repositories import cases as cases_repo
from tests.support import Driver, Person, check_html, reader_for

UNKNOWN = "I do not know this command. Send /help to see what I can do."
STALE = "This button is no longer valid."
PROMPT = "Send what you want the campaign to know"
TYPED = "<b>Hearing</b> moved to 12 May & he is 🙏 well <script>x</script> 👨‍👩‍👧"


async def staff_member(
    storage, settings, tg_id: int = 9_400_000_001, role: str = "editor", name: str = "Dilnoza"
) -> Person:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id, first_name=name)


async def case_id(storage, slug: str) -> int:
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, slug)
        assert case is not None and case.id is not None
        return case.id


async def relative(
    storage, settings, tg_id: int, slugs: tuple[str, ...] = ("test-detained",), locale="en"
) -> tuple[Person, int]:
    """A family member of the cases `slugs`: the driver's person and their row id."""
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        person = await identity.ensure(s, cipher, tg_id, locale)
        assert person.id is not None
        for slug in slugs:
            case = await cases_repo.by_slug(s, slug)
            assert case is not None and case.id is not None
            s.add(FamilyMember(person_id=person.id, case_id=case.id))
        return Person(id=tg_id, first_name="Relative"), person.id


async def rows(storage, model, *order):
    async with storage.sessionmaker() as s:
        return list((await s.execute(select(model).order_by(*order))).scalars())


async def report_deliveries(storage) -> list[Delivery]:
    return [d for d in await rows(storage, Delivery, col(Delivery.id)) if "report" in d.spec]


async def report_audit(storage) -> list[tuple[str, str | None]]:
    entries = await rows(storage, AuditEntry, col(AuditEntry.id))
    return [(a.action, a.target) for a in entries if a.action.startswith("report.")]


async def render(storage, settings, delivery: Delivery, *, person_id: int | None = None):
    """What the delivery worker's renderer makes of a delivery for its recipient (or for
    someone else, as a forger would have it)."""
    reader = await reader_for(storage, delivery, person_id=person_id)
    renderer = FamilyRenderer(storage.sessionmaker, make_i18n(), IdentityCipher(settings.key_bytes))
    return await renderer(read_spec(delivery.spec), reader)


async def file_report(storage, settings, person_id: int, slug: str, body: str, **fields) -> int:
    """A report stored as the service stores it, with `fields` (created_at, status) set after."""
    cipher = IdentityCipher(settings.key_bytes)
    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, slug)
        assert case is not None and case.id is not None
        kind = fields.pop("kind", ReportKind.FAMILY)
        report = await reports.submit(s, cipher, person_id, case.id, body, None, kind)
        for key, value in fields.items():
            setattr(report, key, value)
        assert report.id is not None
        return report.id


async def sent_report(driver: Driver, who: Person, body: str = TYPED) -> None:
    prompt = await driver.send(who, "/report")
    assert PROMPT in prompt.text
    done = await driver.send(who, body)
    assert "Thank you" in done.text


# ---------------------------------------------------------------- the relative's side


async def test_a_report_with_html_and_emoji_is_sealed_and_shown_escaped(
    driver: Driver, storage, settings, small_cases
):
    mother, mother_id = await relative(storage, settings, 9_400_000_101)
    prompt = await driver.send(mother, "/report")
    assert PROMPT in prompt.text and "About: Alisher Testov" in prompt.text
    assert "3,000 characters" in prompt.text and "1,000 characters" in prompt.text
    done = await driver.send(mother, TYPED)
    assert "editors" in done.text and "/forget" in done.text and "read it" in done.text

    [report] = await rows(storage, Report)
    assert (report.kind, report.status, report.person_id, report.attachment) == (
        "family", "new", mother_id, None,
    )  # fmt: skip
    assert report.case_id == await case_id(storage, "test-detained")
    cipher = IdentityCipher(settings.key_bytes)
    assert reports.text_of(cipher, report) == TYPED
    async with storage.sessionmaker() as s:
        raw = (await s.execute(text("SELECT body FROM reports"))).scalar_one()
    assert TYPED.encode() not in bytes(raw) and b"Hearing" not in bytes(raw)
    # The dialogue is over: the next text is a search, not a second report.
    assert "Nothing found" in (await driver.send(mother, "moved to 12 May")).text
    assert len(await rows(storage, Report)) == 1

    editor = await staff_member(storage, settings)
    queue = await driver.send(editor, "/reports")
    assert "Reports waiting: 1" in queue.text and "Alisher Testov" in queue.text
    assert "from the family" in queue.text and "🆕" in queue.text and "📎" not in queue.text
    [listing] = [c for c in queue.calls if isinstance(c, SendMessage)]
    assert listing.protect_content is True
    opened = await driver.press(editor, f"#{report.id}")
    assert TYPED in opened.text  # exactly what was typed, as characters
    [raw_view] = [c.text for c in opened.calls if isinstance(c, EditMessageText)]
    assert "&lt;b&gt;Hearing&lt;/b&gt; moved to 12 May &amp; he is 🙏" in (raw_view or "")
    assert check_html(raw_view or "") is None
    # Nothing about the sender: no Telegram id, no name, no hash.
    assert str(mother.id) not in opened.text and "Relative" not in opened.text
    assert staff.actor_of(cipher, mother_id) not in opened.text
    assert {"✍️ Answer privately", "📰 Make a case update", "🗄 Archive"} <= set(opened.labels())


async def test_a_photo_and_a_document_reach_the_editor_protected(
    driver: Driver, storage, settings, small_cases
):
    brother, _ = await relative(storage, settings, 9_400_000_201)
    await driver.send(brother, "/report")
    photo = [
        {"file_id": "SMALL", "file_unique_id": "s1", "width": 90, "height": 90},
        {"file_id": "PHOTO-LARGE", "file_unique_id": "l1", "width": 900, "height": 900},
    ]
    done = await driver.send_raw(brother, photo=photo, caption="The transfer order <b>")
    assert "Thank you" in done.text
    await driver.send(brother, "/report")
    document = {"file_id": "DOC-1", "file_unique_id": "d1", "file_name": "verdict.pdf"}
    assert "Thank you" in (await driver.send_raw(brother, document=document)).text

    cipher = IdentityCipher(settings.key_bytes)
    first, second = await rows(storage, Report, col(Report.id))
    assert reports.attachment_of(cipher, first) == reports.Attachment("photo", "PHOTO-LARGE")
    assert reports.text_of(cipher, first) == "The transfer order <b>"
    assert reports.attachment_of(cipher, second) == reports.Attachment("document", "DOC-1")
    assert reports.text_of(cipher, second) == ""
    assert first.attachment is not None and b"PHOTO-LARGE" not in first.attachment

    editor = await staff_member(storage, settings)
    queue = await driver.send(editor, "/reports")
    assert queue.text.count("📎 attachment") == 2
    opened = await driver.press(editor, f"#{first.id}")
    assert "A photo is attached" in opened.text and "The transfer order <b>" in opened.text
    [sent_photo] = [c for c in opened.calls if isinstance(c, SendPhoto)]
    assert (sent_photo.photo, sent_photo.protect_content) == ("PHOTO-LARGE", True)
    assert f"Attached to report #{first.id}" in (sent_photo.caption or "")
    await driver.press(editor, "All reports")
    opened = await driver.press(editor, f"#{second.id}")
    assert "A document is attached" in opened.text and "No text, only the attachment" in (
        opened.text
    )
    [sent_document] = [c for c in opened.calls if isinstance(c, SendDocument)]
    assert (sent_document.document, sent_document.protect_content) == ("DOC-1", True)


@pytest.mark.parametrize("who", ["supporter", "editor", "former relative"])
async def test_report_is_an_unknown_command_to_anyone_but_family(
    driver: Driver, storage, settings, small_cases, who
):
    if who == "supporter":
        person = Person(id=9_400_000_301)
        await driver.send(person, "/follow Testov")
    elif who == "editor":
        person = await staff_member(storage, settings, 9_400_000_302)
    else:
        person, person_id = await relative(storage, settings, 9_400_000_303)
        assert PROMPT in (await driver.send(person, "/report")).text
        await driver.send(person, "/cancel")
        async with storage.sessionmaker() as s, s.begin():
            row = await s.get(FamilyMember, (person_id, await case_id(storage, "test-detained")))
            await s.delete(row)
    reply = await driver.send(person, "/report")
    assert reply.texts == [UNKNOWN]
    forged = await driver.callback(
        person, FamilyReportCb(action="case", case=await case_id(storage, "test-detained")).pack()
    )
    assert forged.notices == [STALE] and forged.texts == []
    assert await rows(storage, Report) == []


async def test_a_relative_of_two_cases_chooses_by_buttons(
    driver: Driver, storage, settings, small_cases
):
    sister, _ = await relative(storage, settings, 9_400_000_401, ("test-detained", "test-released"))
    choice = await driver.send(sister, "/report")
    assert "Which case" in choice.text
    assert {"Alisher Testov", "Bermet Freeova"} <= set(choice.labels())
    prompt = await driver.press(sister, "Bermet Freeova")
    assert PROMPT in prompt.text and "About: Bermet Freeova" in prompt.text
    again = await driver.press(sister, "Back")
    assert "Which case" in again.text
    await driver.press(sister, "Alisher Testov")
    # A forged button for a case she is not family of changes nothing.
    forged = await driver.callback(
        sister, FamilyReportCb(action="case", case=await case_id(storage, "test-hidden")).pack()
    )
    assert forged.notices == [STALE]
    await driver.send(sister, "He was moved to Zangiota.")
    [report] = await rows(storage, Report)
    assert report.case_id == await case_id(storage, "test-detained")


async def test_limits_wrong_content_and_stopping(driver: Driver, storage, settings, small_cases):
    father, father_id = await relative(storage, settings, 9_400_000_501)
    await driver.send(father, "/report")
    refused = await driver.send(father, "x" * 3001)
    assert "3,001 characters" in refused.text and "at most 3,000" in refused.text
    sticker = {"file_id": "ST", "file_unique_id": "st", "type": "regular", "width": 512,
               "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    assert (
        "a text, one photo or one document" in (await driver.send_raw(father, sticker=sticker)).text
    )
    photo = [{"file_id": "P", "file_unique_id": "p", "width": 90, "height": 90}]
    long_caption = await driver.send_raw(father, photo=photo, caption="y" * 1001)
    assert "caption has 1,001 characters" in long_caption.text
    album = await driver.send_raw(father, photo=photo, media_group_id="album-1")
    assert "one photo or document at a time" in album.text
    assert await rows(storage, Report) == []
    await driver.send(father, "x" * 3000)
    assert len(await rows(storage, Report)) == 1

    # Stopping, by button or /cancel, sends nothing.
    await driver.send(father, "/report")
    assert "Nothing was sent" in (await driver.press(father, "Stop")).text
    await driver.send(father, "/report")
    assert "Nothing was sent" in (await driver.send(father, "/cancel")).text
    assert len(await rows(storage, Report)) == 1

    # At most ten a day; the eleventh is declined kindly, before anything is typed.
    for n in range(9):
        await file_report(storage, settings, father_id, "test-detained", f"note {n}")
    declined = await driver.send(father, "/report")
    assert "up to 10 messages a day" in declined.text and PROMPT not in declined.text
    assert "Nothing found" in (await driver.send(father, "one more thing")).text
    assert len(await rows(storage, Report)) == 10
    # Reports older than a day no longer count.
    async with storage.sessionmaker() as s, s.begin():
        for report in (await s.execute(select(Report))).scalars():
            report.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    assert PROMPT in (await driver.send(father, "/report")).text


# ---------------------------------------------------------------- the editors' side


async def test_the_queue_lists_waiting_reports_oldest_first(
    driver: Driver, storage, settings, small_cases
):
    _, mother_id = await relative(storage, settings, 9_400_000_601)
    _, uncle_id = await relative(storage, settings, 9_400_000_602, ("test-released",))
    now = dt.datetime.now(dt.UTC)
    newest = await file_report(storage, settings, mother_id, "test-detained", "a",
                               created_at=now - dt.timedelta(hours=1))  # fmt: skip
    oldest = await file_report(storage, settings, uncle_id, "test-released", "b",
                               created_at=now - dt.timedelta(hours=5))  # fmt: skip
    read = await file_report(storage, settings, mother_id, "test-detained", "c",
                             created_at=now - dt.timedelta(hours=3), status="read")  # fmt: skip
    inaccuracy = await file_report(storage, settings, mother_id, "test-released", "d",
                                   created_at=now - dt.timedelta(hours=2),
                                   kind=ReportKind.INACCURACY)  # fmt: skip
    done = {}
    for status in ("answered", "published", "archived"):
        done[status] = await file_report(
            storage, settings, mother_id, "test-detained", status, status=status
        )

    editor = await staff_member(storage, settings)
    queue = await driver.send(editor, "/reports")
    # An answered report waits until it is published or archived.
    assert "Reports waiting: 5" in queue.text
    assert [label.split(" · ")[0] for label in queue.labels()] == [
        f"#{oldest}", f"#{read}", f"#{inaccuracy}", f"#{newest}", f"#{done['answered']}",
    ]  # fmt: skip
    lines = {line.split(" · ")[0].removeprefix("🆕 "): line for line in queue.text.splitlines()}
    assert "Bermet Freeova" in lines[f"#{oldest}"] and "from the family" in lines[f"#{oldest}"]
    assert "an inaccuracy" in lines[f"#{inaccuracy}"]
    assert lines[f"#{oldest}"].startswith("🆕") and not lines[f"#{read}"].startswith("🆕")
    # Hours and minutes in the editor's own zone.
    async with storage.sessionmaker() as s:
        when = (await s.get(Report, oldest)).created_at
    assert f"{when:%-I}:{when:%M}" in lines[f"#{oldest}"]
    # An admin sees the same queue.
    admin = await staff_member(storage, settings, 9_400_000_603, "admin")
    assert "Reports waiting: 5" in (await driver.send(admin, "/reports")).text


async def test_the_queue_shows_at_most_twenty(driver: Driver, storage, settings, small_cases):
    cipher = IdentityCipher(settings.key_bytes)
    _, person_id = await relative(storage, settings, 9_400_000_651)
    detained = await case_id(storage, "test-detained")
    async with storage.sessionmaker() as s, s.begin():
        for _ in range(22):
            s.add(Report(kind=ReportKind.FAMILY, case_id=detained, person_id=person_id,
                         body=cipher.seal(b"n", reports.BODY_LABEL)))  # fmt: skip
    editor = await staff_member(storage, settings)
    queue = await driver.send(editor, "/reports")
    assert "Reports waiting: 22" in queue.text and "The oldest 20 are listed" in queue.text
    assert len(queue.labels()) == 20
    empty_editor = await staff_member(storage, settings, 9_400_000_652)
    async with storage.sessionmaker() as s, s.begin():
        for report in (await s.execute(select(Report))).scalars():
            report.status = ReportStatus.ARCHIVED
    assert "No reports are waiting" in (await driver.send(empty_editor, "/reports")).text


async def test_opening_marks_read_and_tells_the_relative_once(
    driver: Driver, storage, settings, small_cases
):
    mother, mother_id = await relative(storage, settings, 9_400_000_701)
    await sent_report(driver, mother)
    editor = await staff_member(storage, settings)
    second_editor = await staff_member(storage, settings, 9_400_000_702)
    await driver.send(editor, "/reports")
    first = await driver.press(editor, "#1")
    assert "Status: read" in first.text
    [report] = await rows(storage, Report)
    assert report.status == "read" and report.read_at is not None
    read_at = report.read_at
    await driver.press(editor, "All reports")
    await driver.press(editor, "#1")
    await driver.send(second_editor, "/reports")
    await driver.press(second_editor, "#1")

    [delivery] = await report_deliveries(storage)
    assert delivery.person_id == mother_id and not delivery.urgent
    assert json.loads(delivery.spec) == {"t": "report_read", "report": report.id, "digest": False}
    [report] = await rows(storage, Report)
    assert report.read_at == read_at
    assert await report_audit(storage) == [("report.read", f"report:{report.id}")] * 3
    # The queue still lists it (read, not yet dealt with), without the "new" mark.
    queue = await driver.send(editor, "/reports")
    assert "#1" in queue.text and "🆕" not in queue.text

    rendered = await render(storage, settings, delivery)
    assert rendered is not None and "The campaign team has read your message" in rendered.text
    for secret in ("Alisher", "Testov", "Hearing", "Dilnoza"):
        assert secret not in rendered.text
    assert check_html(rendered.text) is None
    # Rendered for nobody else, even with the spec in hand.
    _, stranger_id = await relative(storage, settings, 9_400_000_703)
    assert await render(storage, settings, delivery, person_id=stranger_id) is None


async def test_answering_privately(driver: Driver, storage, settings, small_cases):
    mother, mother_id = await relative(storage, settings, 9_400_000_801)
    await sent_report(driver, mother)
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    ask = await driver.press(editor, "Answer privately")
    assert "at most 2,000 characters" in ask.text and "campaign team" in ask.text
    refused = await driver.send(editor, "z" * 2001)
    assert "2,001 characters" in refused.text
    # Back to the report and in again; a command typed meanwhile is a command.
    assert "Report #1" in (await driver.press(editor, "Back")).text
    await driver.press(editor, "Answer privately")
    assert "Reports waiting" in (await driver.send(editor, "/reports")).text
    await driver.press(editor, "#1")
    await driver.press(editor, "Answer privately")
    answer = "Thank you. <b>We</b> will call the lawyer & write soon 🙏"
    sent = await driver.send(editor, answer)
    assert "on its way" in sent.text
    [confirmation] = [c for c in sent.calls if isinstance(c, SendMessage)]
    assert confirmation.protect_content is True  # its button leads back to the reports

    [read, answered] = await report_deliveries(storage)
    assert json.loads(read.spec)["t"] == "report_read"
    assert answered.person_id == mother_id and not answered.urgent
    spec = json.loads(answered.spec)
    assert set(spec) == {"t", "report", "a", "digest"} and spec["t"] == "report_answer"
    assert "lawyer" not in answered.spec and "Thank you" not in answered.spec
    [report] = await rows(storage, Report)
    assert report.status == "answered"
    assert ("report.answer", f"report:{report.id}") in await report_audit(storage)
    audit_text = " ".join(f"{a.action} {a.target}" for a in await rows(storage, AuditEntry))
    assert "lawyer" not in audit_text and "Hearing" not in audit_text

    rendered = await render(storage, settings, answered)
    assert rendered is not None
    first_line = rendered.text.splitlines()[0]
    assert "A reply from the campaign team" in first_line and "Testov" not in rendered.text
    assert "Thank you. &lt;b&gt;We&lt;/b&gt; will call the lawyer &amp; write soon 🙏" in (
        rendered.text
    )
    assert "Dilnoza" not in rendered.text and check_html(rendered.text) is None
    # A tampered spec renders nothing rather than something else.
    forged = answered.model_copy(update={"spec": json.dumps({**spec, "a": spec["a"][:-8]})})
    assert await render(storage, settings, forged) is None
    _, stranger_id = await relative(storage, settings, 9_400_000_802)
    assert await render(storage, settings, answered, person_id=stranger_id) is None
    # An answered report stays in the queue until it is published or archived.
    assert "Reports waiting: 1" in (await driver.send(editor, "/reports")).text


async def test_stopping_an_answer_sends_nothing(driver: Driver, storage, settings, small_cases):
    mother, _ = await relative(storage, settings, 9_400_000_851)
    await sent_report(driver, mother)
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    await driver.press(editor, "Answer privately")
    assert "Nothing was sent" in (await driver.send(editor, "/cancel")).text
    await driver.press(editor, "All reports")
    await driver.press(editor, "#1")
    await driver.press(editor, "Answer privately")
    assert "Nothing was sent" in (await driver.press(editor, "Stop")).text
    assert "Nothing found" in (await driver.send(editor, "We will call")).text
    assert [json.loads(d.spec)["t"] for d in await report_deliveries(storage)] == ["report_read"]
    assert (await rows(storage, Report))[0].status == "read"


async def test_archiving_takes_it_off_the_list(driver: Driver, storage, settings, small_cases):
    mother, _ = await relative(storage, settings, 9_400_000_901)
    await sent_report(driver, mother)
    await sent_report(driver, mother, "Second")
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    archived = await driver.press(editor, "Archive")
    assert archived.notices == ["Archived."]
    assert "Reports waiting: 1" in archived.text and "#2" in archived.text
    assert "#1" not in archived.labels()[0]
    [first, _second] = await rows(storage, Report, col(Report.id))
    assert first.status == "archived"
    assert await report_audit(storage) == [
        ("report.read", f"report:{first.id}"), ("report.archive", f"report:{first.id}"),
    ]  # fmt: skip


async def test_a_report_becomes_a_case_update(driver: Driver, storage, settings, small_cases):
    mother, mother_id = await relative(storage, settings, 9_400_000_951)
    body = "He was moved to colony 64/1 <on Monday> & is allowed visits."
    await sent_report(driver, mother, body)
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    prefilled = await driver.press(editor, "Make a case update")
    assert "Update: Alisher Testov" in prefilled.text
    assert "News, written in English from the report" in prefilled.text
    assert body in prefilled.text and "put them at risk" in prefilled.text
    # Back is the text step: a new text replaces the relative's words.
    assert "Send the news in English" in (await driver.press(editor, "Back")).text
    edited = "He was moved to colony 64/1 and is allowed visits."
    more = await driver.send(editor, edited)
    assert "Written so far in: English" in more.text
    await driver.press(editor, "Continue")
    preview = await driver.press(editor, "The family only")
    assert edited in preview.text and "It will go to 1 family member" in preview.text
    assert (await rows(storage, Report))[0].status == "read"  # nothing before Publish
    await driver.press(editor, "Publish")

    [update] = await rows(storage, CaseUpdate)
    assert update.family_only and update.kind == "news"
    assert [t.text for t in await rows(storage, CaseUpdateText)] == [edited]
    [report] = await rows(storage, Report)
    assert report.status == "published"
    assert ("report.update", f"report:{report.id}") in await report_audit(storage)
    alerts = [d for d in await rows(storage, Delivery) if json.loads(d.spec)["t"] == "update"]
    assert [d.person_id for d in alerts] == [mother_id]
    assert "No reports are waiting" in (await driver.send(editor, "/reports")).text


async def test_the_prefilled_text_is_published_as_it_stands(
    driver: Driver, storage, settings, small_cases
):
    mother, _ = await relative(storage, settings, 9_400_000_961)
    await sent_report(driver, mother, TYPED)
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    await driver.press(editor, "Make a case update")
    await driver.press(editor, "Continue")
    preview = await driver.press(editor, "Followers and family")
    assert TYPED in preview.text
    await driver.press(editor, "Publish")
    assert [t.text for t in await rows(storage, CaseUpdateText)] == [TYPED]
    assert (await rows(storage, Report))[0].status == "published"


async def test_a_photo_only_report_or_a_hidden_case(driver: Driver, storage, settings, small_cases):
    cousin, _ = await relative(storage, settings, 9_400_000_971)
    hidden, _ = await relative(storage, settings, 9_400_000_972, ("test-hidden",))
    await driver.send(cousin, "/report")
    photo = [{"file_id": "P", "file_unique_id": "p", "width": 90, "height": 90}]
    await driver.send_raw(cousin, photo=photo)
    await sent_report(driver, hidden, "News of a hidden case")
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    # Nothing to prefill: the dialogue asks for the language of the text.
    assert "In which language" in (await driver.press(editor, "Make a case update")).text
    await driver.send(editor, "/reports")
    await driver.press(editor, "#2")
    refused = await driver.press(editor, "Make a case update")
    assert refused.notices == ["This case is not public, so it cannot have a case update."]
    assert [r.status for r in await rows(storage, Report, col(Report.id))] == ["read", "read"]


@pytest.mark.parametrize("role", [None, "broadcaster", "relative"])
async def test_forged_report_buttons_do_nothing_but_answer(
    driver: Driver, storage, settings, small_cases, role
):
    mother, _ = await relative(storage, settings, 9_400_001_001)
    await sent_report(driver, mother)
    if role == "broadcaster":
        person = await staff_member(storage, settings, 9_400_001_002, role)
    elif role == "relative":
        person = mother
    else:
        person = Person(id=9_400_001_003)
    for action in ("list", "open", "answer", "update", "archive", "stop"):
        reply = await driver.callback(person, ReportCb(action=action, id=1).pack())
        assert reply.notices == [STALE], action
        assert reply.texts == [] and not any(
            isinstance(c, SendPhoto | SendDocument) for c in reply.calls
        )
    reply = await driver.send(person, "/reports")
    assert reply.texts == [UNKNOWN]
    [report] = await rows(storage, Report)
    assert report.status == "new" and report.read_at is None
    assert await report_deliveries(storage) == [] and await report_audit(storage) == []
    # No dialogue was begun: plain text is still a search.
    assert "Nothing found" in (await driver.send(person, "We will call")).text


async def test_forget_takes_the_reports_out_of_the_queue(
    driver: Driver, storage, settings, small_cases
):
    mother, mother_id = await relative(storage, settings, 9_400_001_101)
    father, _ = await relative(storage, settings, 9_400_001_102)
    await sent_report(driver, mother, "First")
    await sent_report(driver, mother, "Second")
    await sent_report(driver, father, "His own")
    editor = await staff_member(storage, settings)
    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")  # read: a delivery for her waits in the outbox
    queue = await driver.send(editor, "/reports")
    assert "Reports waiting: 3" in queue.text

    await driver.send(mother, "/forget")
    assert "deleted" in (await driver.press(mother, "Yes, delete")).text
    async with storage.sessionmaker() as s:
        left = list((await s.execute(select(Report))).scalars())
        assert await s.get(PersonRow, mother_id) is None
        assert (await s.execute(select(FamilyMember).where(
            col(FamilyMember.person_id) == mother_id))).first() is None  # fmt: skip
    assert [r.id for r in left] == [3]
    assert all(d.person_id != mother_id for d in await rows(storage, Delivery))
    queue = await driver.send(editor, "/reports")
    assert "Reports waiting: 1" in queue.text and "#3" in queue.text
    # Her report's old button finds nothing, and says so.
    gone = await driver.callback(editor, ReportCb(action="open", id=2).pack())
    assert "no longer exists" in gone.notices[0]
    assert (await driver.send(mother, "/report")).texts == [UNKNOWN]


async def test_a_relative_finds_report_in_start_and_the_menu(
    driver: Driver, storage, settings, small_cases
):
    mother, _ = await relative(storage, settings, 9_400_001_201)
    start = await driver.send(mother, "/start")
    assert "news of your relative with /report" in start.text
    assert start.labels()[0] == "📨 Send news of your relative"
    begun = await driver.press(mother, "Send news of your relative")
    reported = await driver.send(mother, "/report")
    assert begun.text == reported.text and "Alisher Testov" in begun.text
    # A supporter sees neither.
    supporter = await driver.send(Person(id=9_400_001_202), "/start")
    assert "/report" not in supporter.text
    assert "Send news of your relative" not in " ".join(supporter.labels())
    forged = await driver.callback(Person(id=9_400_001_202), "fr:start:0")
    assert forged.notices == [STALE]
