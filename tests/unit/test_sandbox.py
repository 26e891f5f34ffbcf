"""The sandbox seeds what a newcomer needs to try every role, the family's included."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot import sandbox
from bot.crypto import IdentityCipher
from bot.emulator.page import PERSONAS
from db.models import Hearing, Person, StaffMember
from db.repositories import cases as cases_repo
from db.repositories import people
from db.repositories import staff as staff_repo
from db.repositories import updates as updates_repo


def own_file(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}"


async def test_staff_personas_have_their_roles(settings, tmp_path: Path):
    running, bot_settings, storage = await sandbox.start(settings, 0, own_file(tmp_path))
    try:
        await sandbox.seed(storage, IdentityCipher(bot_settings.key_bytes))  # twice: no harm
        cipher = IdentityCipher(bot_settings.key_bytes)
        async with storage.sessionmaker() as session:
            for persona in PERSONAS:
                person = await people.by_index(session, cipher.index(persona.user_id))
                role = (
                    await staff_repo.role_of(session, person.id) if person and person.id else None
                )
                assert role == (None if persona.role in {"supporter", "family"} else persona.role)
                if persona.role == "family":
                    # A relative of the hearing case, quiet as a relative's chat is.
                    assert person is not None and person.id is not None
                    case = await cases_repo.by_slug(session, sandbox.DEMO_HEARING_CASE)
                    assert case is not None and case.id is not None
                    assert await updates_repo.is_family(session, case.id, person.id)
                    assert person.discreet and person.autodelete_hours == 24
    finally:
        await storage.engine.dispose()
        await running.stop()


async def test_a_sandbox_beside_real_data_never_touches_it(
    settings, storage, small_cases, tmp_path
):
    """DATABASE_URL (and REDIS_URL) name real data: the sandbox keeps to its own file."""
    real = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    async def counts() -> tuple[int, int, int]:
        async with storage.sessionmaker() as session:
            return (
                await session.scalar(select(func.count()).select_from(StaffMember)) or 0,
                await session.scalar(select(func.count()).select_from(Hearing)) or 0,
                await session.scalar(select(func.count()).select_from(Person)) or 0,
            )

    before = await counts()
    running, bot_settings, sandbox_storage = await sandbox.start(real, 0, own_file(tmp_path))
    try:
        assert bot_settings.database_url == own_file(tmp_path)
        assert bot_settings.redis_url is None
        async with sandbox_storage.sessionmaker() as session:
            staffed = await session.scalar(select(func.count()).select_from(StaffMember))
        assert staffed  # the personas' roles went to the sandbox's own file...
    finally:
        await sandbox_storage.engine.dispose()
        await running.stop()
    assert await counts() == before  # ... and nothing into the real database


def test_the_sandbox_file_is_its_own_whatever_database_url_says(settings):
    shaped = sandbox.sandbox_settings(settings, "http://127.0.0.1:1", "1:T")
    assert shaped.database_url == sandbox.SANDBOX_DATABASE_URL != settings.database_url
