"""Rotating DATA_KEY: every identity, keyed index, keyed hash and sealed blob moves from the
current key to a new one, and the database ends on exactly one key.

Shaped like Rails' key rotation and Tink's keysets, with the difference that nothing is
left on the old key: while rotating, both keys are known, and every value is read under
whichever key it authenticates with and written under the new one. Keyed hashes cannot
be read back, so they are recomputed from the id they were made from (a person's id is
decrypted first), or, for the audit log's short hashes of people no longer here,
re-hashed under the new key so that the entries of one person still go together.

The work goes in batches, each committed with its progress, so an interrupted rotation is
finished by running it again with the same keys. While it is under way the bot refuses
to start (`key_check`). What cannot be carried is dropped and counted:
- a panic word set before panic words were sealed (only a keyed hash of it exists);
- join attempts and panic-command message ids of people with no row (strangers), and
  half-finished dialogues of such people in Redis: all of them short-lived by design.
Invitation codes are stored under an unkeyed hash and need nothing (see `code_digest`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

if TYPE_CHECKING:
    from redis.asyncio import Redis

from bot.crypto import IdentityCipher
from bot.delivery.specs import ReportAnswerSpec, UnreadableSpec, read_spec, write_spec
from bot.fsm_keys import PREFIX as FSM_PREFIX
from bot.fsm_keys import chat_part, user_part
from bot.services import processes
from bot.services.families import attempt_key
from bot.services.panic import PANIC_LABEL
from bot.services.reports import ANSWER_LABEL, ATTACHMENT_LABEL, BODY_LABEL
from bot.services.staff import actor_of
from db.models import Delivery, JoinAttempt, Person, Report, SentMessage
from db.repositories import invites as invites_repo
from db.repositories import key_check as key_check_repo
from db.repositories import key_rotation as repo

BATCH = 500
Row = TypeVar("Row", bound=tuple[Any, ...])
T = TypeVar("T", str, bytes)
# Audit actors that name no person.
_FIXED_ACTORS = frozenset({"cli", "config"})
# Audit targets that carry a person's short hash: "<role>:<hash>" and "<role>:<hash>:...".
_TARGET_WITH_ACTOR = re.compile(r"^(admin|editor|broadcaster):([0-9a-f]{10})(:.*)?$")
# An invitation whose maker is gone: nobody can revoke them any more, the code still works.
GONE = "gone"


class RotationError(Exception):
    """A rotation that cannot start; the message is one line for the operator."""


@dataclass
class Rotated:
    """What a rotation did, in counts (it names nobody)."""

    already_done: bool = False
    resumed: bool = False
    people: int = 0
    panic_words: int = 0
    old_panic_words_dropped: int = 0
    reports: int = 0
    answers: int = 0
    staff_marks: int = 0
    invitation_makers: int = 0
    attempts_carried: int = 0
    attempts_dropped: int = 0
    message_chats_carried: int = 0
    message_chats_dropped: int = 0
    dialogue_keys_carried: int = 0
    dialogue_keys_dropped: int = 0

    def lines(self) -> list[str]:
        return [f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self)[2:]]


@dataclass
class _Maps:
    """Old keyed values of the people still here, and their new ones."""

    actors: dict[str, str] = field(default_factory=dict)
    attempts: dict[bytes, bytes] = field(default_factory=dict)
    chats: dict[bytes, bytes] = field(default_factory=dict)
    fsm_chats: dict[str, str] = field(default_factory=dict)
    fsm_users: dict[str, str] = field(default_factory=dict)


class _Keys:
    def __init__(self, old: IdentityCipher, new: IdentityCipher) -> None:
        self.old, self.new = old, new

    def reseal(self, blob: bytes, label: bytes) -> bytes | None:
        """The blob under the new key, or None if it is on the new key already."""
        try:
            self.new.unseal(blob, label)
            return None
        except ValueError:
            return self.new.seal(self.old.unseal(blob, label), label)


async def rotate(
    sessionmaker: async_sessionmaker[AsyncSession],
    old: IdentityCipher,
    new: IdentityCipher,
    *,
    redis: Redis | None = None,
    fsm_prefix: str = FSM_PREFIX,
    batch: int = BATCH,
    progress: Callable[[str], None] = lambda _line: None,
) -> Rotated:
    """Move the database (and Redis's dialogue keys, if given) from `old` to `new`.

    Safe to run again after an interruption, with the same two keys. Raises RotationError
    when the keys do not fit the database: `old` is not its key, a rotation to another
    key is under way, or the two keys are the same."""
    done = Rotated()
    if hmac.compare_digest(old.fingerprint(), new.fingerprint()):
        raise RotationError("NEW_DATA_KEY is the same key as DATA_KEY; nothing was changed")
    async with sessionmaker() as session, session.begin():
        if alive := await processes.running(session):
            raise RotationError(
                f"{alive} bot or worker process(es) said they were running within the last "
                f"{int(processes.GONE_AFTER.total_seconds())} s; stop every instance and "
                "worker first. Nothing was changed"
            )
        known = await key_check_repo.stored(session)
        under_way = await repo.state(session)
        if (
            under_way is None
            and known is not None
            and hmac.compare_digest(known, new.fingerprint())
        ):
            done.already_done = True
            return done
        if known is not None and not hmac.compare_digest(known, old.fingerprint()):
            raise RotationError(
                "DATA_KEY: not the key this database was made with; nothing was changed"
            )
        if under_way is not None:
            if not hmac.compare_digest(under_way.fingerprint, new.fingerprint()):
                raise RotationError(
                    "NEW_DATA_KEY: a rotation to another key is under way; run it again with "
                    "that key"
                )
            done.resumed = True
        else:
            await repo.begin(session, new.fingerprint())
    keys = _Keys(old, new)
    fsm_parts = await _dialogue_parts(redis, fsm_prefix) if redis is not None else set()
    maps = await _people(sessionmaker, keys, fsm_parts, batch, done, progress)
    await _reports(sessionmaker, keys, batch, done)
    await _answers(sessionmaker, keys, batch, done)
    await _actors(sessionmaker, keys, maps, batch, done)
    async with sessionmaker() as session, session.begin():
        await _invitations(session, maps, done)
        await _keyed_rows(session, maps, done)
    if redis is not None:
        await _dialogues(redis, fsm_prefix, maps, done)
    async with sessionmaker() as session, session.begin():
        await repo.finish(session, new.fingerprint())
    progress("done: the database is on NEW_DATA_KEY")
    return done


async def _in_batches(
    sessionmaker: async_sessionmaker[AsyncSession],
    fetch: Callable[[AsyncSession, int], Awaitable[Sequence[Row]]],
    change: Callable[[Row], dict[str, Any] | None],
    write: Callable[[AsyncSession, list[dict[str, Any]], int], Awaitable[None]],
    *,
    after: int = 0,
    committed: Callable[[], None] = lambda: None,
) -> None:
    """Rows after `after` in the order of their id (each row's first field), a batch to a
    transaction: the changes of a batch are written, with how far it went, together;
    `committed` is told after each."""
    while True:
        async with sessionmaker() as session, session.begin():
            rows = await fetch(session, after)
            if not rows:
                return
            after = int(rows[-1][0])
            await write(session, [c for row in rows if (c := change(row)) is not None], after)
        committed()


async def _people(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: _Keys,
    fsm_parts: set[str],
    batch: int,
    done: Rotated,
    progress: Callable[[str], None],
) -> _Maps:
    """Re-encrypt every person's id and panic word, re-index them, and collect what the
    other tables need to follow (their keyed values can only be made from the id)."""
    maps = _Maps()
    async with sessionmaker() as session:
        # Only values that are stored need a mapping; these sets stay small.
        wanted = _Wanted(
            actors=await invites_repo.makers(session)
            | _audit_hashes(await repo.actor_names(session)),
            attempts=await repo.attempt_senders(session),
            chats=await repo.message_chats(session),
            fsm=fsm_parts,
        )

    def move(row: tuple[int, bytes, bytes | None, bool]) -> dict[str, Any] | None:
        person_id, blob, seal, old_hash = row
        try:
            tg_id, moved = keys.new.decrypt_id(blob), False
        except ValueError:
            tg_id, moved = keys.old.decrypt_id(blob), True
        _follow(keys, maps, person_id, tg_id, wanted)
        change: dict[str, Any] = {}
        if moved:
            change["tg_index"] = keys.new.index(tg_id)
            change["tg_cipher"] = keys.new.encrypt_id(tg_id)
        if seal is not None and (resealed := keys.reseal(seal, PANIC_LABEL)) is not None:
            change["panic_seal"] = resealed
            done.panic_words += 1
        if old_hash:
            change["panic_hash"] = None
            done.old_panic_words_dropped += 1
        return {"id": person_id, **change} if change else None

    async def write(session: AsyncSession, changes: list[dict[str, Any]], _after: int) -> None:
        await repo.rewrite(session, Person, changes)
        done.people += len(changes)

    await _in_batches(
        sessionmaker,
        lambda session, after: repo.people(session, after, batch),
        move,
        write,
        committed=lambda: progress(f"people: {done.people} moved so far"),
    )
    return maps


@dataclass
class _Wanted:
    """Old keyed values that are stored somewhere, so need their new ones."""

    actors: set[str]
    attempts: set[bytes]
    chats: set[bytes]
    fsm: set[str]


def _audit_hashes(names: set[str]) -> set[str]:
    found = {n for n in names if n not in _FIXED_ACTORS}
    return found | {m.group(2) for n in names if (m := _TARGET_WITH_ACTOR.match(n))}


def _pair(mapping: dict[T, T], stored: set[T], old: T, new: T) -> None:
    """Map `old` to `new` when either is stored: an old value is to be carried, and a new
    one (a rotation run again after this part was done) is to be kept, not dropped."""
    if old in stored or new in stored:
        mapping[old] = new


def _follow(keys: _Keys, maps: _Maps, person_id: int, tg_id: int, wanted: _Wanted) -> None:
    old, new = keys.old, keys.new
    _pair(maps.actors, wanted.actors, actor_of(old, person_id), actor_of(new, person_id))
    _pair(maps.attempts, wanted.attempts, attempt_key(old, tg_id), attempt_key(new, tg_id))
    _pair(maps.chats, wanted.chats, old.index(tg_id), new.index(tg_id))
    _pair(maps.fsm_chats, wanted.fsm, chat_part(old, tg_id), chat_part(new, tg_id))
    _pair(maps.fsm_users, wanted.fsm, user_part(old, tg_id), user_part(new, tg_id))


async def _reports(
    sessionmaker: async_sessionmaker[AsyncSession], keys: _Keys, batch: int, done: Rotated
) -> None:
    def reseal(row: tuple[int, bytes, bytes | None]) -> dict[str, Any] | None:
        report_id, body, attachment = row
        change: dict[str, Any] = {}
        if (sealed := keys.reseal(body, BODY_LABEL)) is not None:
            change["body"] = sealed
        if attachment is not None and (sealed := keys.reseal(attachment, ATTACHMENT_LABEL)):
            change["attachment"] = sealed
        return {"id": report_id, **change} if change else None

    async def write(session: AsyncSession, changes: list[dict[str, Any]], _after: int) -> None:
        await repo.rewrite(session, Report, changes)
        done.reports += len(changes)

    await _in_batches(
        sessionmaker, lambda session, after: repo.reports(session, after, batch), reseal, write
    )


async def _answers(
    sessionmaker: async_sessionmaker[AsyncSession], keys: _Keys, batch: int, done: Rotated
) -> None:
    """Answers to reports wait in the outbox sealed (see reports.answer)."""

    def reseal(row: tuple[int, str]) -> dict[str, Any] | None:
        delivery_id, text = row
        try:
            spec = read_spec(text)
        except UnreadableSpec:
            return None  # the worker skips it as unreadable; nothing sealed to carry
        if not isinstance(spec, ReportAnswerSpec):
            return None  # another kind that only mentions the name
        try:
            blob = base64.b64decode(spec.sealed_answer, validate=True)
            sealed = keys.reseal(blob, ANSWER_LABEL)
        except (ValueError, binascii.Error):
            return None  # not an answer that ever authenticated: it renders as nothing
        if sealed is None:
            return None
        resealed = spec.model_copy(update={"sealed_answer": base64.b64encode(sealed).decode()})
        return {"id": delivery_id, "spec": write_spec(resealed)}

    async def write(session: AsyncSession, changes: list[dict[str, Any]], _after: int) -> None:
        await repo.rewrite(session, Delivery, changes)
        done.answers += len(changes)

    await _in_batches(
        sessionmaker,
        lambda session, after: repo.deliveries_of(session, '"report_answer"', after, batch),
        reseal,
        write,
    )


async def _actors(
    sessionmaker: async_sessionmaker[AsyncSession],
    keys: _Keys,
    maps: _Maps,
    batch: int,
    done: Rotated,
) -> None:
    """Carry the short hashes that name staff (the audit log, broadcasts' authors and
    approvers, updates' authors). A short hash does not say which key made it, so each
    table's progress is kept and every row is rewritten exactly once. The hash of a
    person no longer here is re-hashed under the new key, so that their entries still go
    together."""

    def carried(actor: str) -> str:
        if actor in _FIXED_ACTORS:
            return actor
        return maps.actors.get(actor) or keys.new.log_hash(f"former:{actor}")

    def carry_value(column: str, value: str | None) -> str | None:
        if value is None:
            return None
        if column != "target":
            return carried(value)
        if found := _TARGET_WITH_ACTOR.match(value):
            role, hashed, rest = found.groups()
            return f"{role}:{carried(hashed)}{rest or ''}"
        return value

    for table, (_model, columns, _progress) in repo.ACTOR_TABLES.items():

        def carry(row: tuple[Any, ...], columns: tuple[str, ...] = columns) -> dict[str, Any]:
            carried_row = {c: carry_value(c, v) for c, v in zip(columns, row[1:], strict=True)}
            return {"id": row[0], **carried_row}

        async def write(
            session: AsyncSession, changes: list[dict[str, Any]], after: int, table: str = table
        ) -> None:
            await repo.rewrite_actors(session, table, changes, after)
            done.staff_marks += len(changes)

        async def fetch(
            session: AsyncSession, after: int, table: str = table
        ) -> list[tuple[Any, ...]]:
            return await repo.actor_rows(session, table, after, batch)

        async with sessionmaker() as session:
            begun = await repo.carried_through(session, table)
        await _in_batches(sessionmaker, fetch, carry, write, after=begun)


async def _invitations(session: AsyncSession, maps: _Maps, done: Rotated) -> None:
    new_values = set(maps.actors.values())
    renamed: dict[str, str] = {}
    for maker in await invites_repo.makers(session):
        if maker in _FIXED_ACTORS or maker == GONE or maker in new_values:
            continue
        renamed[maker] = maps.actors.get(maker, GONE)
    await repo.rename_creators(session, renamed)
    done.invitation_makers = len(renamed)


async def _keyed_rows(session: AsyncSession, maps: _Maps, done: Rotated) -> None:
    """Join attempts and the panic command's message ids, keyed by an id's hash."""
    carried_attempts, dropped = _split(await repo.attempt_senders(session), maps.attempts)
    done.attempts_carried = await repo.rename(session, JoinAttempt, "who", carried_attempts)
    done.attempts_dropped = await repo.drop(session, JoinAttempt, "who", dropped)
    carried_chats, dropped = _split(await repo.message_chats(session), maps.chats)
    done.message_chats_carried = await repo.rename(
        session, SentMessage, "chat_index", carried_chats
    )
    done.message_chats_dropped = await repo.drop(session, SentMessage, "chat_index", dropped)


def _split(
    stored: set[bytes], mapping: dict[bytes, bytes]
) -> tuple[dict[bytes, bytes], set[bytes]]:
    """(old values with their new ones, values nobody here made); new values are left."""
    new_values = set(mapping.values())
    carried = {v: mapping[v] for v in stored if v in mapping}
    dropped = {v for v in stored if v not in mapping and v not in new_values}
    return carried, dropped


async def _dialogue_keys(redis: Redis, prefix: str) -> list[list[str]]:
    """Dialogue keys (umid:fsm:<bot>:<chat>:<user>:<destiny>...), split into their parts."""
    found = []
    async for raw in redis.scan_iter(match=f"{prefix}:*", count=1000):
        parts = (raw.decode() if isinstance(raw, bytes) else str(raw)).split(":")
        if len(parts) >= 6:
            found.append(parts)
    return found


async def _dialogue_parts(redis: Redis, prefix: str) -> set[str]:
    return {part for parts in await _dialogue_keys(redis, prefix) for part in parts[3:5]}


async def _dialogues(redis: Redis, prefix: str, maps: _Maps, done: Rotated) -> None:
    """Rename dialogue keys to the new key's hashes; drop those of nobody known."""
    new_chats, new_users = set(maps.fsm_chats.values()), set(maps.fsm_users.values())
    for parts in await _dialogue_keys(redis, prefix):
        name = ":".join(parts)
        chat, user = parts[3], parts[4]
        if chat in new_chats and user in new_users:
            continue
        if chat in maps.fsm_chats and user in maps.fsm_users:
            parts[3], parts[4] = maps.fsm_chats[chat], maps.fsm_users[user]
            await redis.rename(name, ":".join(parts))
            done.dialogue_keys_carried += 1
        else:
            await redis.delete(name)
            done.dialogue_keys_dropped += 1
