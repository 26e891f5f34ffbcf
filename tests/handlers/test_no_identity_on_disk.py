"""A dump of the database names nobody: known ids never reach the file in any encoding,
and /forget removes even the encrypted traces."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from bot.crypto import IdentityCipher
from db.engine import checkpoint
from db.models import Person as PersonRow
from tests.support import Driver, Person

IDS = [7_311_122_233, 5_000_000_017, 123_456_789]


def encodings(tg_id: int) -> list[bytes]:
    text = str(tg_id)
    forms = [
        text.encode(),
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
        f"{tg_id:x}".encode(),
        f"{tg_id:X}".encode(),
        base64.b64encode(text.encode()).rstrip(b"="),
    ]
    for size in (4, 6, 8):
        if tg_id < 1 << (8 * size):
            forms.append(tg_id.to_bytes(size, "big"))
            forms.append(tg_id.to_bytes(size, "little"))
    forms.append(float(tg_id).hex().encode())
    import struct

    forms.append(struct.pack(">d", float(tg_id)))
    forms.append(struct.pack("<d", float(tg_id)))
    return forms


def database_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    for suffix in ("-wal", "-journal", "-shm"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data


async def journey(driver: Driver, person: Person) -> None:
    await driver.send(person, "/start")
    await driver.send(person, "/follow Testov")
    await driver.send(person, "/letter Testov")
    await driver.press(person, "card")
    await driver.press(person, "I sent it")
    await driver.send(person, "/settings")
    await driver.press(person, "🛡")
    await driver.press(person, "🙈")
    await driver.send(person, "/language")
    await driver.press(person, "Русский")


async def test_ids_never_reach_the_database_file(
    driver, small_cases, storage, settings, sqlite_file
):
    people = [Person(id=i, language_code="en") for i in IDS]
    for person in people:
        await journey(driver, person)
    async with storage.sessionmaker() as s:
        assert len((await s.execute(select(PersonRow))).scalars().all()) == len(IDS)
    # Read both before and after the WAL is folded in: neither may hold an id.
    for stage in ("wal", "checkpointed"):
        if stage == "checkpointed":
            await checkpoint(storage.engine)
        raw = database_bytes(sqlite_file)
        for tg_id in IDS:
            for form in encodings(tg_id):
                assert form not in raw, f"{stage}: id {tg_id} found as {form!r}"


async def test_forget_leaves_no_trace_in_the_file(
    driver, small_cases, storage, settings, sqlite_file
):
    cipher = IdentityCipher(settings.key_bytes)
    leaving, staying = Person(id=IDS[0]), Person(id=IDS[1])
    await journey(driver, leaving)
    await journey(driver, staying)
    async with storage.sessionmaker() as s:
        row = (
            await s.execute(
                select(PersonRow).where(col(PersonRow.tg_index) == cipher.index(leaving.id))
            )
        ).scalar_one()
        traces = [row.tg_index, row.tg_cipher]
    await driver.send(leaving, "/forget")
    await driver.press(leaving, "🗑")
    raw = database_bytes(sqlite_file)
    for trace in traces:
        assert trace not in raw
    async with storage.sessionmaker() as s:
        rows = (await s.execute(select(PersonRow))).scalars().all()
        assert [cipher.decrypt_id(r.tg_cipher) for r in rows] == [staying.id]
