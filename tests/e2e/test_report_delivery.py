"""A family report over real HTTP, through the bot's own entry point and delivery engine:
a relative reports, an editor opens it and answers, and the relative is told both, each
once, protected and set to delete itself as their own settings ask."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.crypto import IdentityCipher
from bot.services import identity, staff
from db.models import Delivery, DeliveryState, FamilyMember
from db.repositories import cases as cases_repo
from tests.e2e.conftest import running_bot
from tests.e2e.talk import eventually, from_bot, say, tap


async def test_a_relative_hears_back_from_the_campaign_team(settings, storage, small_cases):
    async with running_bot(settings, storage) as live:
        emu = live.emulator
        cipher = IdentityCipher(settings.key_bytes)
        editor = emu.add_user("en", first_name="Dilnoza")
        mother = emu.add_user("en", first_name="Mother")
        async with storage.sessionmaker() as session, session.begin():
            await staff.grant(session, cipher, editor.id, "editor", "cli", "en")
            case = await cases_repo.by_slug(session, "test-detained")
            assert case is not None and case.id is not None
            person = await identity.ensure(session, cipher, mother.id, "en")
            assert person.id is not None
            person.autodelete_hours = 6
            session.add(FamilyMember(person_id=person.id, case_id=case.id))

        prompt = await say(emu, mother, "/report")
        assert "Send what you want the campaign to know" in prompt.text
        thanks = await say(emu, mother, "The hearing is moved to <Friday> & he is ill.")
        assert "Thank you" in thanks.text

        queue = await say(emu, editor, "/reports")
        assert "Alisher Testov" in queue.text and queue.protect_content
        opened = await tap(emu, editor, "#1")
        assert "The hearing is moved to <Friday> & he is ill." in opened.text
        assert str(mother.id) not in opened.text and "Mother" not in opened.text
        assert opened.protect_content  # an edit of the protected list
        await tap(emu, editor, "Answer privately")
        sent = await say(emu, editor, "Thank you, we <will> call the lawyer today.")
        assert "on its way" in sent.text

        def told() -> list[str]:
            return [m.text for m in from_bot(emu, mother)][2:]

        await eventually(lambda: len(told()) == 2)
        # Two messages to one chat: the worker's per-chat pacing may send them either way.
        [read] = [t for t in told() if "has read your message" in t]
        [answer] = [t for t in told() if "reply from the campaign team" in t]
        assert read.startswith("📬 The campaign team has read your message.")
        assert answer.startswith("✉️ A reply from the campaign team")
        assert "Thank you, we <will> call the lawyer today." in answer
        for text in (read, answer):
            assert "Testov" not in text and "Dilnoza" not in text
        assert all(m.protect_content for m in from_bot(emu, mother)[2:])

        async def family_rows() -> list[Delivery]:
            async with storage.sessionmaker() as session:
                rows = (await session.execute(select(Delivery))).scalars().all()
            return [d for d in rows if d.person_id == person.id]

        # The worker records results a moment after sending.
        for _ in range(200):
            family = await family_rows()
            if all(d.state == DeliveryState.SENT for d in family):
                break
            await asyncio.sleep(0.05)
        assert sorted(json.loads(d.spec)["t"] for d in family) == ["report_answer", "report_read"]
        assert all(d.state == DeliveryState.SENT for d in family)
        assert all(d.delete_at is not None for d in family)  # her own auto-delete setting
