""" "Report an inaccuracy" under a case card, through the real dispatcher: the supporter's
note is stored sealed, joins the editors' queue as an inaccuracy, is answered privately
without a word about /report, and leads the editor to correct the card."""

from __future__ import annotations

from aiogram.methods import EditMessageText

from bot.crypto import IdentityCipher
from bot.services import reports
from db.models import Report, ReportKind
from tests.handlers.test_reports import (
    case_id,
    render,
    report_deliveries,
    rows,
    staff_member,
)
from tests.support import Driver, Person

NOTE = "The sentence is <b>7 years</b>, not 5 & the appeal was on 3 May 🙏"


async def open_card(driver: Driver, who: Person) -> None:
    await driver.send(who, "/case test-detained")


async def test_a_supporter_points_out_an_inaccuracy(
    driver: Driver, storage, settings, sqlite_file, small_cases
):
    supporter = Person(id=9_600_000_001)
    await open_card(driver, supporter)
    ask = await driver.press(supporter, "Report an inaccuracy")
    assert "What is wrong or out of date" in ask.text and "Alisher Testov" in ask.text
    refused = await driver.send(supporter, "x" * (reports.MAX_INACCURACY + 1))
    assert "longer than 1,000 characters" in refused.text
    photo = await driver.send_raw(
        supporter, photo=[{"file_id": "P", "file_unique_id": "u", "width": 1, "height": 1}]
    )
    assert "in a text message" in photo.text
    done = await driver.send(supporter, NOTE)
    assert "The editors will check it" in done.text
    assert "Back to the case" in " ".join(done.labels())

    [report] = await rows(storage, Report)
    assert report.kind == ReportKind.INACCURACY and report.attachment is None
    assert b"7 years" not in sqlite_file.read_bytes()  # sealed at rest
    assert reports.text_of(IdentityCipher(settings.key_bytes), report) == NOTE

    # The dialogue is over: the next text is a search again, not a second note.
    await driver.send(supporter, "Testov")
    assert len(await rows(storage, Report)) == 1

    editor = await staff_member(storage, settings)
    listing = await driver.send(editor, "/reports")
    assert "an inaccuracy" in listing.text
    opened = await driver.press(editor, "#1")
    [screen] = [c for c in opened.calls if isinstance(c, EditMessageText)]
    assert "&lt;b&gt;7 years&lt;/b&gt;, not 5 &amp; the appeal" in (screen.text or "")
    assert "Correct the case" in " ".join(opened.labels())
    assert "Make a case update" not in " ".join(opened.labels())
    fix = await driver.press(editor, "Correct the case")
    assert "Alisher Testov" in fix.text  # the editor's view of the case

    await driver.send(editor, "/reports")
    await driver.press(editor, "#1")
    await driver.press(editor, "Answer privately")
    await driver.send(editor, "Thank you, corrected.")
    answered = [d for d in await report_deliveries(storage) if "report_answer" in d.spec]
    assert len(answered) == 1
    rendered = await render(storage, settings, answered[0])
    assert rendered is not None and "Thank you, corrected." in rendered.text
    assert "/report" not in rendered.text and "keep the cases accurate" in rendered.text


async def test_stop_hidden_cases_and_the_daily_limit(
    driver: Driver, storage, settings, small_cases
):
    supporter = Person(id=9_600_000_002)
    await open_card(driver, supporter)
    await driver.press(supporter, "Report an inaccuracy")
    stopped = await driver.press(supporter, "Stop")
    assert "Alisher Testov" in stopped.text  # back on the card
    await driver.send(supporter, "nothing to report")
    assert await rows(storage, Report) == []

    # A forged button for a hidden case does nothing.
    hidden = await case_id(storage, "test-hidden")
    forged = await driver.callback(supporter, f"c:wrong:{hidden}")
    assert "not available" in " ".join(forged.notices)

    for i in range(reports.DAILY_LIMIT):
        await open_card(driver, supporter)
        await driver.press(supporter, "Report an inaccuracy")
        await driver.send(supporter, f"note {i}")
    await open_card(driver, supporter)
    limited = await driver.press(supporter, "Report an inaccuracy")
    assert "up to 10 messages a day" in " ".join(limited.notices)
    assert len(await rows(storage, Report)) == reports.DAILY_LIMIT
    assert {r.kind for r in await rows(storage, Report)} == {ReportKind.INACCURACY}
