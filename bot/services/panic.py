"""The panic command: clear the chat of every message Telegram still lets the bot delete
(in a private chat: its own and the person's, for 48 hours).

Telegram lets a bot delete messages in a private chat for 48 hours, so ids are kept that
long and no longer (db/repositories/sent.py). A person may set a panic word of their
own to do the same without typing a telling command. Only a salted digest of the word
is kept, sealed with a key from DATA_KEY: without the key a dump shows nothing to try
words against, and a rotation of the key re-seals it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os

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


PANIC_LABEL = b"panic-word"
_SALT = 16


def _digest(salt: bytes, word: str) -> bytes:
    return hashlib.sha256(salt + _normalised(word).encode()).digest()


def seal_word(cipher: IdentityCipher, word: str) -> bytes:
    """What is stored of a panic word: a salted digest, sealed."""
    salt = os.urandom(_SALT)
    return cipher.seal(salt + _digest(salt, word), PANIC_LABEL)


def legacy_hash(cipher: IdentityCipher, word: str) -> bytes:
    """How a word set before sealed words (migration 0010) was kept."""
    return cipher.secret_hash(_normalised(word), "panic-word")


def has_word(person: Person) -> bool:
    return person.panic_seal is not None or person.panic_hash is not None


def valid_word(word: str) -> bool:
    """A word or short phrase, not a command, that will not occur by accident in a search."""
    word = _normalised(word)
    return 3 <= len(word) <= MAX_WORD and not word.startswith("/")


async def set_word(
    session: AsyncSession, cipher: IdentityCipher, person: Person, word: str | None
) -> None:
    """Set (or with None remove) the person's panic word; only its sealed digest is kept."""
    assert person.id is not None
    value = seal_word(cipher, word) if word is not None else None
    await people_repo.set_fields(session, person.id, panic_seal=value, panic_hash=None)
    person.panic_seal, person.panic_hash = value, None


def is_panic_word(cipher: IdentityCipher, person: Person | None, text: str | None) -> bool:
    """Whether `text` is the person's panic word."""
    if person is None or not text or len(text) > MAX_WORD * 2:
        return False
    if person.panic_seal is not None:
        try:
            kept = cipher.unseal(person.panic_seal, PANIC_LABEL)
        except ValueError:
            return False
        salt, digest = kept[:_SALT], kept[_SALT:]
        return hmac.compare_digest(_digest(salt, text), digest)
    if person.panic_hash is not None:
        return hmac.compare_digest(legacy_hash(cipher, text), person.panic_hash)
    return False


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
    # Alerts on their way first. Marking them holds their rows (a lock on PostgreSQL, the
    # write lock on SQLite) until this commits, so a worker that records one as sent
    # waits and keeps the mark, and it is deleted as it arrives; one recorded before is
    # among the ids read next. Read first, an alert recorded in between was forgotten
    # below without being deleted.
    if person_id is not None:
        await outbox_repo.delete_on_arrival(session, person_id, now, in_flight)
    ids = await repo.deletable(session, chat_index, person_id, now - WINDOW)
    await repo.forget_chat(session, chat_index, person_id)
    return ids


async def remember_many(session: AsyncSession, messages: list[tuple[bytes, int]]) -> None:
    """Messages of chats (keyed index, id), the person's and the bot's, seen just now."""
    await repo.record_many(session, messages, utcnow())


async def remember(
    session: AsyncSession,
    chat_index: bytes,
    message_id: int,
    *,
    lifetime: dt.timedelta | None = None,
) -> None:
    """A message sent in this chat, by the bot or the person; with `lifetime`, the bot
    deletes it by itself that long after (the panic notice; a discreet reader's alert)."""
    now = utcnow()
    delete_at = now + lifetime if lifetime is not None else None
    await repo.record(session, chat_index, message_id, now, delete_at)
    if delete_at is not None:
        # Recorded already if an earlier part of the update wrote it: give it its end.
        await repo.set_delete_at(session, chat_index, message_id, delete_at)
