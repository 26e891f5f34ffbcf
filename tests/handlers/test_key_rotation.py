"""Rotating DATA_KEY: everyone is reached as before with the new key, nothing is left on
the old one, an interrupted rotation finishes when run again, and the bot does not start
half-way."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import build_dispatcher
from bot.crypto import IdentityCipher, generate_key
from bot.delivery.specs import ReportAnswerSpec, read_spec
from bot.services import families, identity, key_check, panic, reports, staff, updates
from bot.services.key_rotation import RotationError, rotate
from bot.storage import Storage, prepare
from config import ConfigError, Settings
from db.models import (
    AuditEntry,
    CaseUpdate,
    Delivery,
    JoinAttempt,
    Report,
    SentMessage,
    StaffInvite,
)
from db.models import Person as PersonRow
from db.repositories import cases as cases_repo
from db.repositories import key_check as key_check_repo
from db.repositories import key_rotation as key_rotation_repo
from db.repositories import staff as staff_repo
from tests.support import Driver, Person, RecordingSession, make_bot

FAMILY_LINK = re.compile(r"start=fam-([\w-]+)")
STAFF_LINK = re.compile(r"start=inv-([\w-]+)")
ROOT = Path(__file__).resolve().parents[2]

ADMIN, EDITOR, SUPPORTER, RELATIVE, STRANGER, NEWCOMER = (
    Person(id=9_500_000_000 + n) for n in range(1, 7)
)


class Interrupted(Exception):
    pass


def with_key(settings: Settings, key: str) -> Settings:
    return settings.model_copy(update={"data_key": SecretStr(key)})


def driver_for(settings: Settings, storage: Storage) -> Driver:
    recording = RecordingSession()
    bot = make_bot(recording, IdentityCipher(settings.key_bytes))
    return Driver(dp=build_dispatcher(settings, storage), bot=bot, session=recording)


async def grant(storage: Storage, settings: Settings, person: Person, role: str) -> None:
    async with storage.sessionmaker() as s, s.begin():
        await staff.grant(s, IdentityCipher(settings.key_bytes), person.id, role, "cli", "en")


async def everything_a_campaign_keeps(driver: Driver, storage: Storage, settings: Settings) -> str:
    """Staff, a follower with a panic word, a relative with a report and its answer, a
    stranger's and a supporter's wrong codes, and a pending staff invitation (returned)."""
    await grant(storage, settings, ADMIN, "admin")
    await grant(storage, settings, EDITOR, "editor")
    assert "Alisher Testov" in (await driver.send(SUPPORTER, "/follow Testov")).text
    await driver.send(SUPPORTER, "/settings")
    await driver.press(SUPPORTER, "Safety")
    await driver.press(SUPPORTER, "Panic word")
    await driver.press(SUPPORTER, "Set a word")
    await driver.send(SUPPORTER, "blue kettle")
    found = FAMILY_LINK.search((await driver.send(EDITOR, "/invite family test-detained")).text)
    assert found
    await driver.send(RELATIVE, f"/start fam-{found.group(1)}")
    await driver.send(RELATIVE, "/report")
    assert "Thank you" in (await driver.send(RELATIVE, "He was moved to Zangiota.")).text
    await driver.send(STRANGER, "/join not-a-code")
    await driver.send(SUPPORTER, "/join not-a-code-either")
    async with storage.sessionmaker() as s, s.begin():
        [report] = (await s.execute(select(Report))).scalars().all()
        assert report.id is not None
        actor = staff.actor_of(IdentityCipher(settings.key_bytes), 1)
        assert await reports.answer(
            s, IdentityCipher(settings.key_bytes), report.id, "Thank you, we know.", actor
        )
    async with storage.sessionmaker() as s, s.begin():
        editor = await identity.lookup(s, IdentityCipher(settings.key_bytes), EDITOR.id)
        case = await cases_repo.by_slug(s, "test-detained")
        assert editor is not None and editor.id is not None and case is not None
        author = staff.actor_of(IdentityCipher(settings.key_bytes), editor.id)
        await updates.publish(s, case, "news", {"en": "A visit was allowed."}, actor=author)
    pending = STAFF_LINK.search((await driver.send(ADMIN, "/invite editor")).text)
    assert pending
    return pending.group(1)


async def test_after_a_rotation_the_new_key_reaches_everyone_and_the_old_one_nothing(
    driver: Driver, storage: Storage, settings: Settings, small_cases
):
    pending_code = await everything_a_campaign_keeps(driver, storage, settings)
    old = IdentityCipher(settings.key_bytes)
    new_key = generate_key()
    new = IdentityCipher(with_key(settings, new_key).key_bytes)
    async with storage.sessionmaker() as s:
        people_before = int(await s.scalar(select(func.count()).select_from(PersonRow)) or 0)
        attempts_before = len((await s.execute(select(JoinAttempt))).scalars().all())
    assert attempts_before == 2

    # Interrupted after its first batch of people: the bot refuses to start half-way,
    # and another new key is refused too.
    def stop(_line: str) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        await rotate(storage.sessionmaker, old, new, batch=2, progress=stop)
    for key in (settings.data_key, SecretStr(new_key)):
        assert key is not None
        with pytest.raises(ConfigError) as refused:
            await prepare(with_key(settings, key.get_secret_value()))
        assert str(refused.value) == key_check.UNDER_WAY
    with pytest.raises(RotationError, match="another key is under way"):
        await rotate(storage.sessionmaker, old, IdentityCipher(os.urandom(32)))

    done = await rotate(storage.sessionmaker, old, new, batch=2)
    assert done.resumed and done.people == 2  # of four: the first batch had moved two
    assert (done.attempts_carried, done.attempts_dropped) == (1, 1)  # the stranger's goes
    assert (await rotate(storage.sessionmaker, old, new)).already_done

    with pytest.raises(ConfigError) as refused:
        await prepare(settings)
    assert str(refused.value).startswith("DATA_KEY: not the key this database was made with")
    rotated = with_key(settings, new_key)
    storage = await prepare(rotated)
    try:
        await exactly_one_key(storage, old, new)
        after = driver_for(rotated, storage)
        # Everyone is known: no new person rows, roles, follows, family and panic word hold.
        followed = await after.send(SUPPORTER, "/mycases")
        assert any("Alisher Testov" in label for label in followed.labels())
        assert "/forget" in (await after.send(SUPPORTER, "Blue Kettle")).text
        assert "Reports waiting: 1" in (await after.send(EDITOR, "/reports")).text
        assert "Alisher Testov" in (await after.send(RELATIVE, "/report")).text
        await after.send(RELATIVE, "/cancel")
        assert "start=inv-" in (await after.send(ADMIN, "/invite broadcaster")).text
        # An invitation made before the rotation still works, and its maker can revoke it.
        await after.send(NEWCOMER, f"/start inv-{pending_code}")
        async with storage.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(PersonRow)) == (
                people_before + 1
            )
            newcomer = await identity.lookup(s, new, NEWCOMER.id)
            assert newcomer is not None and newcomer.id is not None
            assert await staff_repo.role_of(s, newcomer.id) == "editor"
    finally:
        await storage.engine.dispose()


async def exactly_one_key(storage: Storage, old: IdentityCipher, new: IdentityCipher) -> None:
    """Every identity, seal and keyed value is the new key's; none is the old key's."""
    async with storage.sessionmaker() as s:
        people = list((await s.execute(select(PersonRow))).scalars())
        ids = {p.id: new.decrypt_id(p.tg_cipher) for p in people}
        for person in people:
            with pytest.raises(ValueError):
                old.decrypt_id(person.tg_cipher)
            assert person.tg_index == new.index(ids[person.id])
            if person.panic_seal is not None:
                with pytest.raises(ValueError):
                    old.unseal(person.panic_seal, panic.PANIC_LABEL)
        for report in (await s.execute(select(Report))).scalars():
            assert reports.text_of(new, report) == "He was moved to Zangiota."
            with pytest.raises(ValueError):
                reports.text_of(old, report)
        stored = [
            d.spec
            for d in (await s.execute(select(Delivery))).scalars()
            if "report_answer" in d.spec
        ]
        answers = [a for a in map(read_spec, stored) if isinstance(a, ReportAnswerSpec)]
        assert [reports.unseal_answer(new, a) for a in answers] == ["Thank you, we know."]
        assert reports.unseal_answer(old, answers[0]) is None
        assert base64.b64decode(json.loads(stored[0])["a"])  # still the form renderers read

        actors_new = {staff.actor_of(new, i) for i in ids}
        actors_old = {staff.actor_of(old, i) for i in ids}
        audit = list((await s.execute(select(AuditEntry))).scalars())
        assert {a.actor for a in audit} & actors_old == set()
        assert {a.actor for a in audit if a.action == "staff.invite"} <= actors_new
        grants = [a.target or "" for a in audit if a.action == "staff.grant"]
        assert grants and all(t.split(":")[1] in actors_new for t in grants)
        authors = {u.author for u in (await s.execute(select(CaseUpdate))).scalars()}
        assert authors and authors <= actors_new
        makers = {i.created_by for i in (await s.execute(select(StaffInvite))).scalars()}
        assert makers and makers <= actors_new

        whos = {a.who for a in (await s.execute(select(JoinAttempt))).scalars()}
        assert whos == {families.attempt_key(new, SUPPORTER.id)}
        chats = {m.chat_index for m in (await s.execute(select(SentMessage))).scalars()}
        assert chats and chats <= {new.index(tg_id) for tg_id in ids.values()}


async def test_a_rotation_refuses_the_wrong_current_key_and_the_same_key(storage, settings):
    old = IdentityCipher(settings.key_bytes)
    with pytest.raises(RotationError, match="same key"):
        await rotate(storage.sessionmaker, old, IdentityCipher(settings.key_bytes))
    stranger = IdentityCipher(os.urandom(32))
    with pytest.raises(RotationError, match=r"^DATA_KEY: not the key"):
        await rotate(storage.sessionmaker, stranger, IdentityCipher(os.urandom(32)))
    async with storage.sessionmaker() as s:
        assert await key_check_repo.stored(s) == old.fingerprint()  # nothing changed


def test_the_command_line_rotates_and_says_what_to_do_next(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATA_KEY") and k != "REDIS_URL"}
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    old_key, new_key = generate_key(), generate_key()
    env.update(DATABASE_URL=database, DATA_KEY=old_key, BOT_TOKEN="42:TEST")

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT), **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("db", "upgrade").returncode == 0
    missing = cli("keys", "rotate")
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("Configuration error: NEW_DATA_KEY is not set")
    same = cli("keys", "rotate", NEW_DATA_KEY=old_key)
    assert (same.returncode, same.stderr.strip()) == (
        2,
        "Key rotation: NEW_DATA_KEY is the same key as DATA_KEY; nothing was changed",
    )
    done = cli("keys", "rotate", NEW_DATA_KEY=new_key)
    assert done.returncode == 0, done.stderr
    assert "Now put NEW_DATA_KEY's value in DATA_KEY" in done.stdout
    assert "Traceback" not in done.stderr
    assert cli("db", "upgrade").returncode == 2  # the old key no longer opens it
    assert cli("db", "upgrade", DATA_KEY=new_key).returncode == 0


REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
async def test_a_dialogue_half_way_in_redis_continues_under_the_new_key(storage, settings):
    from aiogram.fsm.storage.base import StorageKey
    from aiogram.fsm.storage.redis import RedisStorage
    from redis.asyncio import Redis

    from bot.fsm_keys import HashedKeyBuilder

    old, new = IdentityCipher(settings.key_bytes), IdentityCipher(os.urandom(32))
    async with storage.sessionmaker() as s, s.begin():
        await identity.ensure(s, old, SUPPORTER.id, "en")
    prefix = f"umid:fsm-rotation-{os.urandom(6).hex()}"  # this test's keys alone
    redis = Redis.from_url(str(REDIS_URL))
    before = RedisStorage(
        redis, key_builder=HashedKeyBuilder(old, prefix=prefix), state_ttl=3600, data_ttl=3600
    )
    after = RedisStorage(redis, key_builder=HashedKeyBuilder(new, prefix=prefix))
    known, stranger = (
        StorageKey(bot_id=42, chat_id=p.id, user_id=p.id) for p in (SUPPORTER, STRANGER)
    )
    try:
        for key in (known, stranger):
            await before.set_state(key, "report:text")
            await before.set_data(key, {"case": 7})
        done = await rotate(storage.sessionmaker, old, new, redis=redis, fsm_prefix=prefix)
        assert (done.dialogue_keys_carried, done.dialogue_keys_dropped) == (2, 2)
        assert await after.get_state(known) == "report:text"
        assert await after.get_data(known) == {"case": 7}
        assert await after.get_state(stranger) is None  # nobody known: dropped
        assert await before.get_state(known) is None
        ttls = [await redis.ttl(name) for name in await redis.keys(f"{prefix}:*")]
        assert len(ttls) == 2 and all(0 < ttl <= 3600 for ttl in ttls)  # expiry kept
    finally:
        names = await redis.keys(f"{prefix}:*")
        if names:
            await redis.delete(*names)
        await redis.aclose()


async def test_a_rotation_stopped_just_before_its_end_keeps_everything_when_run_again(
    driver: Driver, storage: Storage, settings: Settings, small_cases, monkeypatch
):
    await everything_a_campaign_keeps(driver, storage, settings)
    old, new = IdentityCipher(settings.key_bytes), IdentityCipher(os.urandom(32))
    finish = key_rotation_repo.finish

    async def fail_once(*args, **kwargs):
        monkeypatch.setattr(key_rotation_repo, "finish", finish)
        raise Interrupted

    monkeypatch.setattr(key_rotation_repo, "finish", fail_once)
    with pytest.raises(Interrupted):
        await rotate(storage.sessionmaker, old, new)
    async with storage.sessionmaker() as s:
        messages = await s.scalar(select(func.count()).select_from(SentMessage))
    done = await rotate(storage.sessionmaker, old, new)
    assert done.resumed
    assert (done.attempts_dropped, done.message_chats_dropped, done.invitation_makers) == (0, 0, 0)
    async with storage.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(SentMessage)) == messages
    await exactly_one_key(storage, old, new)


async def test_a_rotation_refuses_while_a_bot_or_worker_is_running(storage, settings):
    from bot.services import processes

    old, new = IdentityCipher(settings.key_bytes), IdentityCipher(os.urandom(32))
    async with storage.sessionmaker() as s, s.begin():
        await processes.beat(s, "a-running-bot")
    with pytest.raises(RotationError, match="stop every instance and worker first"):
        await rotate(storage.sessionmaker, old, new)
    async with storage.sessionmaker() as s:
        assert await key_rotation_repo.state(s) is None  # nothing was changed
    async with storage.sessionmaker() as s, s.begin():
        await processes.leave(s, "a-running-bot")
    assert not (await rotate(storage.sessionmaker, old, new)).already_done
