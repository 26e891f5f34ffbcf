"""A family's channel over real HTTP: an editor invites a relative, the relative joins and
reports (HTML and emoji in it), the editor reads and answers privately and publishes it
as an update, followers receive it, and the relative's /forget leaves nothing of them
in the database file."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import func, select, text

from bot.crypto import IdentityCipher
from bot.emulator import EmulatedUser, Emulator
from bot.services import identity, staff
from db.models import FamilyMember, Report
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from tests.e2e.conftest import running_bot
from tests.e2e.talk import eventually, from_bot, has_button, say, tap

SLUG = "erzhan-elshibayev"
REPORT = "<b>Свидание</b> разрешили 🙏 5 декабря, передайте всем спасибо"


def texts(emu: Emulator, user: EmulatedUser) -> list[str]:
    return [m.text for m in from_bot(emu, user)]


async def test_a_family_channel_end_to_end(settings, storage, sqlite_file: Path, demo_cases):
    async with running_bot(settings, storage) as live:
        emu = live.emulator
        cipher = IdentityCipher(settings.key_bytes)
        editor, relative = emu.add_user("en"), emu.add_user("ru")
        followers = [emu.add_user(code) for code in ("en", "ru")]
        async with storage.sessionmaker() as session, session.begin():
            await staff.grant(session, cipher, editor.id, "editor", "cli", "en")
            case = await cases_repo.by_slug(session, SLUG)
            assert case is not None and case.id is not None
            for follower in followers:
                follower.started = True
                person = await identity.ensure(session, cipher, follower.id, "en")
                assert person.id is not None
                await follows_repo.add(session, person.id, case.id)

        invite = await say(emu, editor, f"/invite family {SLUG}")
        code = re.search(r"start=(fam-[\w-]+)", invite.text)
        assert code, invite.text
        joined = await say(emu, relative, f"/start {code.group(1)}")
        assert "Ержан" in joined.text or "Erzhan" in joined.text

        await say(emu, relative, "/report")
        thanks = await say(emu, relative, REPORT)
        assert "💛" in thanks.text
        async with storage.sessionmaker() as session:
            sealed = (await session.execute(select(Report))).scalars().one()
            assert "Свидание".encode() not in sealed.body

        listing = await say(emu, editor, "/reports")
        assert "#1" in listing.text
        opened = await tap(emu, editor, "#1")
        assert REPORT in opened.text  # escaped on the way, so shown exactly as typed
        await eventually(lambda: len(texts(emu, relative)) >= 3)  # "your report was read"

        await tap(emu, editor, "Answer privately")
        await say(emu, editor, "Спасибо, мы на связи")
        await eventually(lambda: any("Спасибо, мы на связи" in t for t in texts(emu, relative)))

        await say(emu, editor, "/reports")
        await tap(emu, editor, "#1")
        await tap(emu, editor, "Make a case update")
        await tap(emu, editor, "Continue")
        await tap(emu, editor, "Followers and family")
        await tap(emu, editor, "Publish")

        def got_it(f: EmulatedUser) -> bool:
            return any("Свидание" in t for t in texts(emu, f))

        await eventually(lambda: all(got_it(f) for f in followers))
        await live.settled()  # nothing more is on its way: exactly once
        for follower in followers:
            assert sum("Свидание" in t for t in texts(emu, follower)) == 1

        # The relative leaves: nothing of them stays, not even in the file's free pages.
        # The family's own copy of the update may land just before the answer to /forget.
        await emu.send_text(relative, "/forget")
        await eventually(lambda: has_button(emu, relative, "🗑"))
        await tap(emu, relative, "🗑")
        async with storage.sessionmaker() as session:
            for model in (FamilyMember, Report):
                count = await session.scalar(select(func.count()).select_from(model))
                assert count == 0
            await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        wal = sqlite_file.with_name(sqlite_file.name + "-wal")
        raw = await asyncio.to_thread(sqlite_file.read_bytes)
        raw += await asyncio.to_thread(wal.read_bytes) if wal.exists() else b""
        assert cipher.index(relative.id) not in raw
