"""The letter checker through the real dispatcher: /check with and without a case, the
button under a card, the language the facility requires, overlong and non-text drafts,
deleting the draft from the chat, /checkwords for editors (list, add, remove, audited)
and for nobody else; and the proof that a draft never reaches the database, the log or
the dialogue's state."""

from __future__ import annotations

import logging
import math

from aiogram.methods import DeleteMessage, SendMessage
from sqlalchemy import select, text, update
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.presentation.callbacks import CheckCb, CheckTermsCb, LetterCb
from bot.services import letter_check as lc
from bot.services import staff
from db.engine import checkpoint
from db.models import AuditEntry, Case, CheckTerm
from db.repositories import cases as cases_repo
from tests.handlers.test_no_identity_on_disk import database_bytes
from tests.support import Driver, Person

UNKNOWN = "I do not know this command. Send /help to see what I can do."
STALE = "This button is no longer valid."
TRIAL_RU = (
    "Дорогой Алишер! Мы все были на суде, приговор несправедлив, судья не слушал. Этот "
    "режим боится правды, скоро снова выйдем на митинг. Держись!"
)
WARM_EN = (
    "Dear Alisher, autumn has come to our town, the leaves are golden and I am reading a "
    "wonderful book about the mountains. We think of you every day. With love, Anna."
)


async def case_id(storage, slug: str = "test-detained") -> int:
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, slug)
        assert case is not None and case.id is not None
        return case.id


async def require_language(storage, locale: str | None) -> None:
    async with storage.sessionmaker() as s, s.begin():
        await s.execute(
            update(Case).where(col(Case.slug) == "test-detained").values(letter_locale=locale)
        )


async def editor(storage, settings, tg_id: int = 9_400_000_001, role: str = "editor") -> Person:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), tg_id, role, "test", "en")
    return Person(id=tg_id)


async def test_check_without_a_case(driver: Driver, small_cases):
    person = Person(id=7_100_000_001, language_code="ru")
    prompt = await driver.send(person, "/check")
    assert "</" not in prompt.text and "4" in prompt.text
    assert any(label.startswith("✖") for label in prompt.labels())
    result = await driver.send(person, TRIAL_RU)
    shown = result.text
    for word in ("суде, судья", "приговор", "режим", "митинг"):
        assert word in shown
    # Advice in the draft's language comes with each word.
    assert "распорядок" in shown
    assert "⛔" in shown
    # No case: no language to compare; the dialogue is over, so the next text is a search.
    assert "🌐" not in shown
    labels = result.labels()
    assert any(label.startswith("🔎") for label in labels)
    assert any(label.startswith("🧹") for label in labels)
    assert any(label.startswith("«") for label in labels)
    after = await driver.send(person, "Testov")
    assert "приговор" not in after.text


async def test_a_warm_draft_passes_with_a_reminder(driver: Driver, small_cases):
    person = Person(id=7_100_000_002)
    await driver.send(person, "/check")
    result = await driver.send(person, WARM_EN)
    assert result.text.startswith("✅ Nothing stood out.")
    assert "Prison staff read every letter" in result.text


async def test_check_with_the_draft_in_the_command(driver: Driver, small_cases):
    person = Person(id=7_100_000_003)
    result = await driver.send(person, "/check We all went to the protest against the regime.")
    assert "protest" in result.text and "regime" in result.text


async def test_the_button_under_a_card_checks_the_language_the_facility_requires(
    driver: Driver, small_cases, storage
):
    await require_language(storage, "uz")
    cid = await case_id(storage)
    person = Person(id=7_100_000_004)
    card = await driver.callback(person, LetterCb(action="show", id=cid, kind="card").pack())
    assert any(label.startswith("🔎") for label in card.labels())
    prompt = await driver.press(person, "🔎")
    # A new message: the card's text above stays there to be copied.
    assert [
        type(c).__name__ for c in prompt.calls if not type(c).__name__.startswith("Answer")
    ] == ["SendMessage"]
    assert "Alisher Testov" in prompt.text
    assert "The facility accepts letters in Uzbek." in prompt.text
    result = await driver.send(person, TRIAL_RU)
    assert "🌐" in result.text
    assert "letters in Uzbek, and your draft seems to be in Russian" in result.text
    assert "приговор" in result.text
    back = [data for label, data in result.buttons if label.startswith("«")]
    assert back == [LetterCb(action="show", id=cid, kind="card").pack()]
    # The same draft in Uzbek raises no language note.
    await driver.press(person, "🔎 Check another draft")
    uzbek = await driver.send(
        person, "Hurmatli Alisher! Sizni har kuni o‘ylayman, bu yil kuz juda chiroyli."
    )
    assert uzbek.text.startswith("✅")


async def test_no_language_note_when_the_facility_requires_none(
    driver: Driver, small_cases, storage
):
    await require_language(storage, None)
    cid = await case_id(storage)
    person = Person(id=7_100_000_005)
    await driver.callback(person, LetterCb(action="check", id=cid, kind="card").pack())
    result = await driver.send(person, WARM_EN)
    assert result.text.startswith("✅")


async def test_forged_check_buttons(driver: Driver, small_cases, storage):
    person = Person(id=7_100_000_006)
    cid = await case_id(storage)
    appeal = await driver.callback(person, LetterCb(action="check", id=cid, kind="appeal").pack())
    assert appeal.notices == [STALE]
    hidden = await case_id(storage, "test-hidden")
    for forged in (
        LetterCb(action="check", id=hidden, kind="card").pack(),
        CheckCb(action="again", case=hidden).pack(),
        LetterCb(action="check", id=2**31 - 1, kind="card").pack(),
    ):
        reply = await driver.callback(person, forged)
        assert reply.notices == ["This person is not receiving letters now."]
    # Nothing was started: text is a search again.
    after = await driver.send(person, "Testov")
    assert "Nothing stood out" not in after.text


async def test_overlong_non_text_stop_and_cancel(driver: Driver, small_cases):
    person = Person(id=7_100_000_007)
    await driver.send(person, "/check")
    too_long = await driver.send(person, "Привет! " * 600)
    assert "more than 4" in too_long.text
    # Still waiting for a draft: a shorter one is checked.
    photo = await driver.send_raw(
        person, photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    )
    assert "Please paste the text" in photo.text
    result = await driver.send(person, "Мы были на суде.")
    assert "суде" in result.text
    await driver.send(person, "/check")
    stopped = await driver.send(person, "/cancel")
    assert stopped.text.startswith("Stopped.")
    await driver.send(person, "/check")
    pressed = await driver.press(person, "✖")
    assert pressed.text.startswith("Stopped.")
    after = await driver.send(person, "Мы были на суде.")
    assert "⛔" not in after.text


async def test_a_long_draft_is_told_kindly(driver: Driver, small_cases):
    person = Person(id=7_100_000_008)
    await driver.send(person, "/check")
    result = await driver.send(person, (WARM_EN + " ") * 15)
    assert "📏" in result.text and "handwritten pages" in result.text
    assert "Thank you for having so much to say" in result.text


async def test_the_draft_can_be_deleted_from_the_chat(driver: Driver, small_cases):
    person = Person(id=7_100_000_009)
    await driver.send(person, "/check")
    await driver.send(person, WARM_EN)
    wipe = driver.button(person, "🧹")
    unpacked = CheckCb.unpack(wipe)
    wiped = await driver.press(person, "🧹")
    deletes = [c for c in wiped.calls if isinstance(c, DeleteMessage)]
    assert [(int(d.chat_id), d.message_id) for d in deletes] == [(person.id, unpacked.msg)]
    assert wiped.notices == ["Your draft is deleted from this chat."]
    assert not any(label.startswith("🧹") for label in wiped.labels())


async def test_html_in_a_draft_and_in_advice_is_escaped(
    driver: Driver, small_cases, storage, settings
):
    staffer = await editor(storage, settings)
    added = await driver.send(
        staffer, "/checkwords add en <b>march | censor | Not <i>this</i> & not that"
    )
    assert "Added" in added.text
    person = Person(id=7_100_000_010)
    await driver.send(person, "/check")
    result = await driver.send(person, "We will <b>march</b> again & <script>alert(1)</script>")
    sent = [c for c in result.calls if isinstance(c, SendMessage)][-1]
    assert "<script>" not in sent.text and "&lt;i&gt;this&lt;/i&gt;" in sent.text
    assert "Not <i>this</i> & not that" in result.text


async def test_checkwords_for_editors(driver: Driver, small_cases, storage, settings):
    staffer = await editor(storage, settings)
    russian = sorted((t for t in lc.load_seed() if t.locale == "ru"), key=lambda t: t.term)
    pages = math.ceil(len(russian) / 10)
    summary = await driver.send(staffer, "/checkwords")
    assert f"Русский (ru): {len(russian)}" in summary.text
    listing = await driver.send(staffer, "/checkwords RU")
    assert f"page 1 of {pages}" in listing.text
    first = russian[0]
    label = {"censor": "⛔ censor", "risk": "⚠️ risk", "ok": "✓ exception"}[first.reason]
    assert f"{first.term} — {label}" in listing.text
    page2 = await driver.press(staffer, "›")
    assert f"page 2 of {pages}" in page2.text
    added = await driver.send(
        staffer, "/checkwords add ru Этап | censor | Не пишите об этапе, пишите о книгах."
    )
    assert "Added to the Русский list: этап" in added.text
    changed = await driver.send(staffer, "/checkwords add ru этап | risk | Иначе.")
    assert "Changed" in changed.text
    async with storage.sessionmaker() as s:
        row = await s.get(CheckTerm, ("ru", "этап"))
        assert row is not None and (row.reason, row.advice) == ("risk", "Иначе.")
    person = Person(id=7_100_000_011, language_code="ru")
    await driver.send(person, "/check")
    flagged = await driver.send(person, "Привет! Как прошёл этап? Я думаю о тебе.")
    assert "Иначе." in flagged.text and "⚠️" in flagged.text
    removed = await driver.send(staffer, "/checkwords remove ru этап")
    assert "Removed" in removed.text
    again = await driver.send(staffer, "/checkwords remove ru этап")
    assert "has no" in again.text
    for bad, answer in [
        ("/checkwords add xx term | censor | a", "Unknown language"),
        ("/checkwords add ru term | maybe | a", "censor, risk or ok"),
        ("/checkwords add ru x | censor | a", "2 to 100"),
        ("/checkwords add ru term", "/checkwords add"),
        ("/checkwords xx", "Unknown language"),
    ]:
        assert answer in (await driver.send(staffer, bad)).text, bad
    async with storage.sessionmaker() as s:
        audit = (await s.execute(select(AuditEntry).order_by(col(AuditEntry.id)))).scalars()
        actions = [(a.action, a.target) for a in audit if a.action.startswith("check_terms")]
    assert actions == [
        ("check_terms.add", "ru:этап"),
        ("check_terms.add", "ru:этап"),
        ("check_terms.remove", "ru:этап"),
    ]


async def test_checkwords_is_unknown_to_everyone_else(
    driver: Driver, small_cases, storage, settings
):
    supporter = Person(id=7_100_000_012)
    broadcaster = await editor(storage, settings, 9_400_000_002, "broadcaster")
    for who in (supporter, broadcaster):
        for command in ("/checkwords", "/checkwords ru", "/checkwords add ru x1 | censor | a"):
            assert (await driver.send(who, command)).text == UNKNOWN
        forged = await driver.callback(who, CheckTermsCb(locale="ru", page=1).pack())
        assert forged.notices == [STALE]
    async with storage.sessionmaker() as s:
        assert await s.get(CheckTerm, ("ru", "x1")) is None


async def test_a_draft_never_reaches_the_database_the_log_or_the_state(
    driver: Driver, small_cases, storage, sqlite_file, caplog
):
    caplog.set_level(logging.DEBUG)
    phrase = "Quokka-Zebra-7731"
    draft = f"Дорогой Алишер! {phrase} — приговор несправедлив, режим падёт. Обнимаю."
    await require_language(storage, "uz")
    cid = await case_id(storage)
    person = Person(id=7_100_000_013)
    await driver.callback(person, LetterCb(action="check", id=cid, kind="card").pack())
    fsm = driver.dp.fsm.storage
    result = await driver.send(person, draft)
    assert "приговор" in result.text  # it was checked
    assert phrase not in result.text  # and not even echoed back whole
    # The dialogue's state held the case id only, and is gone.
    held = repr(getattr(fsm, "storage", None))
    assert "MemoryStorageRecord" in held and phrase not in held
    await driver.send(person, f"/check {phrase} суд")
    assert phrase not in repr(getattr(fsm, "storage", None))
    # The log, at DEBUG, for every logger (aiogram's updates, SQLAlchemy, ours).
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert caplog.records, "the log was captured"
    assert phrase not in logged and "несправедлив" not in logged
    # Every row of every table, read through SQL...
    async with storage.sessionmaker() as s:
        tables = (
            await s.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
        ).scalars()
        dump: list[str] = []
        for table in list(tables):
            # The names come from sqlite_master itself.
            rows = (await s.execute(text(f'SELECT * FROM "{table}"'))).all()  # noqa: S608
            dump.extend(repr(tuple(row)) for row in rows)
    everything = "\n".join(dump)
    assert "Alisher Testov" in everything  # the dump reads the data that is there
    assert phrase not in everything and "несправедлив" not in everything
    # ...and the file's bytes, before and after the WAL is folded in.
    for stage in ("wal", "checkpointed"):
        if stage == "checkpointed":
            await checkpoint(storage.engine)
        raw = database_bytes(sqlite_file)
        assert b"Alisher Testov" in raw
        for form in (phrase.encode(), phrase.encode("utf-16-le"), "несправедлив".encode()):
            assert form not in raw, stage
