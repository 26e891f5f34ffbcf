"""Two status changes of one case that overlap: the one that commits first wins, the other
is refused and writes nothing, so each reader hears of one change, not of two.

The interleaving is forced, not hoped for: both sides read the case before either
writes, the first publishes and commits, then the second publishes with its stale copy
(as two editors would, or `cases import` in another process beside /update)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.crypto import IdentityCipher
from bot.services import case_files, identity, updates
from bot.storage import Storage
from config import Settings
from db.models import Case, CaseUpdate, Delivery
from db.repositories import cases as cases_repo
from db.repositories import follows as follows_repo
from tests.conftest import SMALL_CASES

SLUG = "test-detained"  # detained in cases_small.yaml


async def followers(storage: Storage, settings: Settings, n: int) -> list[int]:
    cipher = IdentityCipher(settings.key_bytes)
    out = []
    async with storage.sessionmaker() as s, s.begin():
        case = await cases_repo.by_slug(s, SLUG)
        assert case is not None and case.id is not None
        for i in range(n):
            person = await identity.ensure(s, cipher, 9_500_000_001 + i, "en")
            assert person.id is not None
            await follows_repo.add(s, person.id, case.id)
            out.append(person.id)
    return out


async def load(session: AsyncSession) -> Case:
    case = await cases_repo.by_slug(session, SLUG)
    assert case is not None and case.status == "detained"
    return case


async def outcome(storage: Storage) -> tuple[str, list[CaseUpdate], list[Delivery]]:
    """The case's status, its updates and the alerts queued, as committed."""
    async with storage.sessionmaker() as s:
        case = await cases_repo.by_slug(s, SLUG)
        assert case is not None
        published = (await s.execute(select(CaseUpdate).order_by(col(CaseUpdate.id)))).scalars()
        queued = (await s.execute(select(Delivery).order_by(col(Delivery.id)))).scalars()
        return case.status, list(published), list(queued)


async def refused(publishing: Awaitable[object]) -> bool:
    """Whether publishing was refused (the outcome is asserted first, so that a failure
    shows what a second publication wrote)."""
    try:
        await publishing
    except updates.UpdateError:
        return True
    return False


def written(published: list[CaseUpdate], queued: list[Delivery]) -> list[tuple[Any, ...]]:
    """Each update as (old status, new status, author, alerts queued for it)."""
    alerts = Counter(json.loads(d.spec)["update"] for d in queued)
    return [(u.old_status, u.new_status, u.author, alerts[u.id]) for u in published]


async def only_change(storage: Storage, people: list[int], new: str, author: str) -> None:
    """The case went from detained to `new` once, by `author`, and each follower was
    told once (the outcome is asserted before whether the other side was refused, so a
    failure shows what a second publication wrote)."""
    status, published, queued = await outcome(storage)
    assert written(published, queued) == [("detained", new, author, 3)]
    assert status == new
    [update] = published
    assert (update.old_status, update.new_status, update.author) == ("detained", new, author)
    one_alert_each(queued, people, update)


def one_alert_each(queued: list[Delivery], people: list[int], update: CaseUpdate) -> None:
    assert Counter(d.person_id for d in queued) == Counter(people)
    assert {json.loads(d.spec)["update"] for d in queued} == {update.id}


@pytest.mark.parametrize("second_wants", ["released", "sentenced"])
async def test_the_second_of_two_editors_is_refused(
    storage: Storage, settings: Settings, small_cases: Any, second_wants: str
) -> None:
    people = await followers(storage, settings, 3)
    async with storage.sessionmaker() as first, storage.sessionmaker() as second:
        mine, theirs = await load(first), await load(second)  # both see "detained"
        await updates.publish(first, mine, "status", {}, new_status="released", actor="a")
        await first.commit()
        assert mine.status == "released"  # the object published with is not left stale
        lost = await refused(
            updates.publish(second, theirs, "status", {}, new_status=second_wants, actor="b")
        )
        if lost:
            await second.rollback()
        else:
            await second.commit()

    await only_change(storage, people, "released", "a")
    assert lost


async def test_news_on_a_stale_case_still_goes_out(
    storage: Storage, settings: Settings, small_cases: Any
) -> None:
    """Only a status change depends on the status it was read with: news does not."""
    people = await followers(storage, settings, 2)
    async with storage.sessionmaker() as first, storage.sessionmaker() as second:
        mine, theirs = await load(first), await load(second)
        await updates.publish(first, mine, "status", {}, new_status="released", actor="a")
        await first.commit()
        await updates.publish(second, theirs, "news", {"en": "A visit was allowed."}, actor="b")
        await second.commit()

    status, published, queued = await outcome(storage)
    assert status == "released"
    assert [(u.kind, u.new_status) for u in published] == [("status", "released"), ("news", None)]
    assert Counter(d.person_id for d in queued) == Counter(people * 2)


async def test_an_import_that_lost_the_race_writes_nothing(
    storage: Storage, settings: Settings, small_cases: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cases import` reads every case, then an editor's status change commits, then the
    import would publish the file's status over it: the import fails whole instead."""
    people = await followers(storage, settings, 3)
    real = cases_repo.all_slugs

    async def then_an_editor_publishes(session: AsyncSession) -> dict[str, Case]:
        loaded = await real(session)
        async with storage.sessionmaker() as editor, editor.begin():
            case = await load(editor)
            await updates.publish(editor, case, "status", {}, new_status="sentenced", actor="ed")
        return loaded

    monkeypatch.setattr(cases_repo, "all_slugs", then_an_editor_publishes)
    released = SMALL_CASES.read_text(encoding="utf-8").replace(
        "status: detained\n    detained_on", "status: released\n    detained_on"
    )

    async def run_import() -> None:
        async with storage.sessionmaker() as s, s.begin():
            await case_files.apply(s, case_files.parse(released))

    lost = await refused(run_import())

    await only_change(storage, people, "sentenced", "ed")
    assert lost
