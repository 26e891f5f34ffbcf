"""The pending-invitations service: references are hash prefixes found on the primary key,
an ambiguous one cancels nothing, and each role cancels only what it may."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.services import invitations
from bot.services.invitations import Kind, Outcome
from db.models import StaffInvite, StaffRole
from db.types import utcnow


def invite(code_hash: bytes, *, hours: int = 24, used: bool = False) -> StaffInvite:
    return StaffInvite(
        code_hash=code_hash,
        role=StaffRole.EDITOR,
        expires_at=utcnow() + dt.timedelta(hours=hours),
        used=used,
        created_by="someone",
    )


def test_prefix_range_bounds_every_hash_with_the_prefix():
    assert invitations._prefix_range("00000000000000ff") == (
        bytes.fromhex("00000000000000ff"),
        bytes.fromhex("0000000000000100"),
    )
    assert invitations._prefix_range("ffffffffffffffff") == (bytes.fromhex("ff" * 8), None)


def test_kinds_by_role():
    assert invitations.kinds_for("admin") == {Kind.STAFF, Kind.FAMILY}
    assert invitations.kinds_for("editor") == {Kind.FAMILY}
    assert invitations.kinds_for("broadcaster") == set()
    assert invitations.kinds_for(None) == set()


async def test_a_reference_two_invitations_share_cancels_neither(storage):
    shared = bytes.fromhex("ab" * 8)
    async with storage.sessionmaker() as s, s.begin():
        s.add_all([invite(shared + b"\x01" * 24), invite(shared + b"\x02" * 24)])
    async with storage.sessionmaker() as s, s.begin():
        assert await invitations.cancel(s, "admin", "staff", "ab" * 8, "admin1") is (
            Outcome.AMBIGUOUS
        )
    async with storage.sessionmaker() as s:
        assert [i.used for i in (await s.execute(select(StaffInvite))).scalars()] == [False, False]


async def test_neighbours_and_edges_of_the_prefix_are_told_apart(storage):
    top = bytes.fromhex("ff" * 8) + b"\x00" * 24
    below = bytes.fromhex("ff" * 7 + "fe") + b"\xff" * 24
    async with storage.sessionmaker() as s, s.begin():
        s.add_all([invite(top), invite(below)])
    async with storage.sessionmaker() as s, s.begin():
        assert await invitations.cancel(s, "admin", "staff", "ff" * 8, "a") is Outcome.CANCELLED
        assert await invitations.cancel(s, "admin", "staff", "ff" * 8, "a") is Outcome.SPENT
        assert await invitations.cancel(s, "admin", "staff", "ff" * 7 + "fe", "a") is (
            Outcome.CANCELLED
        )


async def test_roles_refs_and_kinds_are_checked(storage):
    code_hash = bytes.fromhex("12" * 32)
    async with storage.sessionmaker() as s, s.begin():
        s.add(invite(code_hash))
    ref = invitations.ref_of(code_hash)
    async with storage.sessionmaker() as s, s.begin():
        for role in ("editor", "broadcaster", None):
            assert await invitations.cancel(s, role, "staff", ref, "x") is Outcome.FORBIDDEN
        assert await invitations.cancel(s, "admin", "other", ref, "x") is Outcome.FORBIDDEN
        assert await invitations.cancel(s, "admin", "staff", "12", "x") is Outcome.UNKNOWN
        assert await invitations.cancel(s, "admin", "staff", "XYZ" * 5 + "z", "x") is (
            Outcome.UNKNOWN
        )
        assert await invitations.cancel(s, "admin", "family", ref, "x") is Outcome.UNKNOWN
        assert await invitations.pending(s, "editor", "x", ["en"]) == []
        [listed] = await invitations.pending(s, "admin", "someone", ["en"])
        assert (listed.kind, listed.ref, listed.role, listed.mine) == (
            Kind.STAFF,
            ref,
            "editor",
            True,
        )
        assert await invitations.cancel(s, "admin", "staff", ref, "x") is Outcome.CANCELLED
        assert await invitations.pending(s, "admin", "someone", ["en"]) == []
