"""The staff console over real HTTP, as a campaign team would use it: an admin invites an
editor and a broadcaster, the editor schedules a hearing and publishes a release, the
broadcaster composes a broadcast to the case's followers, a second staff member approves
it, and every follower receives it exactly once, in their own language."""

from __future__ import annotations

import datetime as dt
import re

from bot.crypto import IdentityCipher
from bot.services import identity, staff
from db.models import Broadcast, Hearing
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from tests.e2e.conftest import running_bot
from tests.e2e.talk import eventually, from_bot, say, tap

SLUG = "erzhan-elshibayev"


async def test_a_campaign_team_at_work(settings, storage, demo_cases):
    async with running_bot(settings, storage, broadcast_approval_threshold=2) as live:
        emu = live.emulator
        cipher = IdentityCipher(settings.key_bytes)
        admin, editor, broadcaster = (emu.add_user("en") for _ in range(3))
        readers = [emu.add_user(code) for code in ("en", "ru", "uz", "kk")]
        async with storage.sessionmaker() as session, session.begin():
            await staff.grant(session, cipher, admin.id, "admin", "cli", "en")
            case = await cases_repo.by_slug(session, SLUG)
            assert case is not None and case.id is not None
            for reader in readers:
                reader.started = True
                person = await identity.ensure(
                    session, cipher, reader.id, reader.language_code or "en"
                )
                assert person.id is not None
                await follows_repo.add(session, person.id, case.id)

        # The admin invites an editor and a broadcaster; each link works once.
        for newcomer, role in ((editor, "editor"), (broadcaster, "broadcaster")):
            invite = await say(emu, admin, f"/invite {role}")
            code = re.search(r"start=(inv-[\w-]+)", invite.text)
            assert code, invite.text
            welcome = await say(emu, newcomer, f"/start {code.group(1)}")
            assert f"Your role: {role}" in welcome.text
            again = await say(emu, emu.add_user("en"), f"/start {code.group(1)}")
            assert "not valid" in again.text

        # The editor schedules a hearing.
        await say(emu, editor, f"/hearing {SLUG}")
        await tap(emu, editor, "Schedule a hearing")
        day = (dt.date.today() + dt.timedelta(days=20)).isoformat()
        await say(emu, editor, day)
        await say(emu, editor, "10:30")
        await say(emu, editor, "Almaty City Court")
        await tap(emu, editor, "Appeal")
        saved = await tap(emu, editor, "Save")
        assert "The hearing is scheduled" in saved.text or "Almaty City Court" in saved.text
        async with storage.sessionmaker() as session:
            assert await session.get(Hearing, 1) is not None

        # ... and publishes the release: every follower hears it once, in their language.
        await say(emu, editor, f"/update {SLUG}")
        await tap(emu, editor, "Status change")
        await tap(emu, editor, "Released")
        await tap(emu, editor, "Skip the note")
        await tap(emu, editor, "Publish")
        await eventually(lambda: all(len(from_bot(emu, r)) == 1 for r in readers))
        assert "Released" in from_bot(emu, readers[0])[0].text
        assert "Released" not in from_bot(emu, readers[1])[0].text  # Russian reads Russian

        # The broadcaster writes to the case's followers, in English and Russian.
        await say(emu, broadcaster, "/broadcast")
        await tap(emu, broadcaster, "Followers of chosen cases")
        await say(emu, broadcaster, SLUG)
        await tap(emu, broadcaster, "Continue")
        await tap(emu, broadcaster, "No photo")
        await tap(emu, broadcaster, "English")
        await say(emu, broadcaster, "Thank you: <welcome home> letters work")
        await say(emu, broadcaster, "Send a card | https://example.org/card")
        await tap(emu, broadcaster, "Another language")
        await tap(emu, broadcaster, "Русский")
        await say(emu, broadcaster, "Спасибо: письма работают")
        await tap(emu, broadcaster, "No buttons")
        await tap(emu, broadcaster, "Continue")
        confirm = await tap(emu, broadcaster, "Now")
        assert "Recipients now: 4" in confirm.text and "must approve" in confirm.text
        waiting = await tap(emu, broadcaster, "Ask for approval")
        assert "waits for a second staff member" in waiting.text

        # The admin is asked through the bot, reviews the preview, and approves.
        await eventually(lambda: any("waits for" in m.text for m in from_bot(emu, admin)))
        emu.skip_pending(admin)
        await emu.press(admin, "Review")
        await eventually(lambda: any("Approve" in str(m.buttons()) for m in from_bot(emu, admin)))
        previews = [m.text for m in from_bot(emu, admin)]
        assert "Thank you: <welcome home> letters work" in previews  # escaped, shown literally
        approved = await tap(emu, admin, "Approve")
        assert "on its way" in approved.text

        expected = {
            "en": "Thank you: <welcome home> letters work",
            "ru": "Спасибо: письма работают",
            "uz": "Спасибо: письма работают",  # no Uzbek version: the fallback chain
            "kk": "Спасибо: письма работают",
        }
        await eventually(lambda: all(len(from_bot(emu, r)) == 2 for r in readers))
        await live.settled()  # nothing more is on its way: exactly once
        for reader in readers:
            got = from_bot(emu, reader)
            assert len(got) == 2 and got[1].text == expected[str(reader.language_code)]
        assert from_bot(emu, readers[0])[1].buttons()[0]["url"] == "https://example.org/card"

        # The author's progress message ends as the report; the broadcast is recorded as
        # done just after the report is shown (a report lost on the way is made again).
        await eventually(lambda: any("Delivered: 4" in m.text for m in from_bot(emu, broadcaster)))

        async def done() -> bool:
            async with storage.sessionmaker() as session:
                broadcast = await session.get(Broadcast, 1)
                return broadcast is not None and broadcast.status == "done"

        await eventually(done)
