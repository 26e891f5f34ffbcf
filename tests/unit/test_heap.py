"""The long-running processes leave what they were built of out of later collections."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from bot import __main__ as cli
from bot import heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """The test process's heap as it was: frozen objects are never freed."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settle_collects_first_then_freezes_what_is_alive(unfrozen: None) -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    alive = Node()
    del garbage
    assert gc.get_freeze_count() == 0

    heap.settle()

    assert gone() is None  # not frozen in for good
    assert gc.get_freeze_count() > 0
    # What was alive is out of reach of the collector: no generation holds it.
    assert not any(alive is obj for obj in gc.get_objects())


def test_the_bot_settles_its_heap_once_started(monkeypatch: pytest.MonkeyPatch) -> None:
    given: dict[str, Any] = {}

    async def run(settings: object, **kwargs: Any) -> None:
        given.update(kwargs)

    monkeypatch.setattr("bot.runner.run", run)
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdefGhIJKlmnoPQRstuVWxyz0123456789")
    monkeypatch.setenv("DATA_KEY", "a" * 43)

    assert cli.main(["run"]) == 0
    assert given["started"] is heap.settle
