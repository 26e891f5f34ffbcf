"""The panic command: clear the chat of every message Telegram still lets the bot delete
(in a private chat: its own and the person's, for 48 hours).

Telegram lets a bot delete messages in a private chat for 48 hours, so ids are kept that
long and no longer (db/repositories/sent.py). A person may set a panic word of their
own, stored only as a keyed hash, to do the same without typing a telling command.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import IdentityCipher
from db.models import Person
from db.repositories import outbox as outbox_repo
from db.repositories import people as people_repo
from db.repositories import sent as repo
from db.types import utcnow

WINDOW = dt.timedelta(hours=48)
MAX_WORD = 50
# The notice that offers /forget deletes itself too, soon.
NOTICE_LIFETIME = dt.timedelta(minutes=2)


def _normalised(word: str) -> str:
    return " ".join(word.split()).casefold()


def word_hash(cipher: IdentityCipher, word: str) -> bytes:
    return cipher.secret_hash(_normalised(word), "panic-word")


def valid_word(word: str) -> bool:
    """A word or short phrase, not a command, that will not occur by accident in a search."""
    word = _normalised(word)
    return 3 <= len(word) <= MAX_WORD and not word.startswith("/")


async def set_word(
    session: AsyncSession, cipher: IdentityCipher, person: Person, word: str | None
) -> None:
    """Set (or with None remove) the person's panic word; only its keyed hash is kept."""
    assert person.id is not None
    value = word_hash(cipher, word) if word is not None else None
    await people_repo.set_fields(session, person.id, panic_hash=value)
    person.panic_hash = value


def is_panic_word(cipher: IdentityCipher, person: Person | None, text: str | None) -> bool:
    if person is None or person.panic_hash is None or not text or len(text) > MAX_WORD * 2:
        return False
    return word_hash(cipher, text) == person.panic_hash


async def take_deletable(
    session: AsyncSession,
    chat_index: bytes,
    person: Person | None,
    in_flight: dt.timedelta,
) -> list[int]:
    """Every bot message in the chat that can still be deleted; they are forgotten at once,
    since they are about to be deleted. Alerts on their way at this moment are marked to
    be deleted as they arrive (the scheduler's deletions job does it within seconds).

    `in_flight` is the delivery lease in force (DELIVERY_LEASE_SECONDS): an alert a worker
    leased up to that long ago may still land after the panic."""
    person_id = person.id if person is not None else None
    now = utcnow()
    ids = await repo.deletable(session, chat_index, person_id, now - WINDOW)
    await repo.forget_chat(session, chat_index, person_id)
    if person_id is not None:
        await outbox_repo.delete_on_arrival(session, person_id, now, in_flight)
    return ids


async def remember_many(session: AsyncSession, messages: list[tuple[bytes, int]]) -> None:
    """Messages of chats (keyed index, id), the person's and the bot's, seen just now."""
    await repo.record_many(session, messages, utcnow())


async def remember(
    session: AsyncSession, chat_index: bytes, message_id: int, *, self_destruct: bool = False
) -> None:
    """A message sent in this chat, by the bot or the person (the panic notice is made to
    delete itself)."""
    now = utcnow()
    delete_at = now + NOTICE_LIFETIME if self_destruct else None
    await repo.record(session, chat_index, message_id, now, delete_at)
    if self_destruct:
        # Recorded already if an earlier part of the update wrote it: give it its end.
        await repo.set_delete_at(session, chat_index, message_id, delete_at)
