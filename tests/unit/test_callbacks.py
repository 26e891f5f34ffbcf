"""Callback data: every filter in the real dispatcher names only values its factory can
carry, so a typo in a filter is a failing test rather than a button that does nothing;
and a forged value fails validation before any handler sees it."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import get_args, get_origin

import pytest
from aiogram import Dispatcher, Router
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from magic_filter import MagicFilter
from magic_filter.operations import (
    CallOperation,
    CombinationOperation,
    ComparatorOperation,
    FunctionOperation,
    GetAttributeOperation,
)
from magic_filter.util import and_op
from pydantic import ValidationError

from bot.app import build_dispatcher
from bot.presentation.callbacks import CaseCb, StaffCb


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def _callback_filters(dp: Dispatcher) -> Iterator[CallbackQueryFilter]:
    for router in _routers(dp):
        for observer in (router.callback_query, router.message):
            for handler in observer.handlers:
                for f in handler.filters or ():
                    if isinstance(f.callback, CallbackQueryFilter):
                        yield f.callback


def _choices(factory: type[CallbackData], field: str) -> frozenset[str] | None:
    annotation = factory.model_fields[field].annotation
    if get_origin(annotation) is None or not get_args(annotation):
        return None
    args = get_args(annotation)
    return frozenset(args) if all(isinstance(a, str) for a in args) else None


Named = tuple[str, set[str], str | None]


def _named(rule: MagicFilter) -> list[Named] | None:
    """The fields a rule reads, each with the constants it compares it with and a prefix
    it asks for; None for a rule of another shape (which this test then cannot read)."""
    ops = list(rule._operations)
    named: list[Named] = []
    last = ops[-1] if ops else None
    if isinstance(last, CombinationOperation) and last.combinator is and_op:
        ops.pop()
        right = _named(last.right)
        if right is None:
            return None
        named += right
    if not ops or not isinstance(ops[0], GetAttributeOperation):
        return None
    field = ops[0].name
    rest = ops[1:]
    if len(rest) == 1 and isinstance(rest[0], ComparatorOperation):
        if rest[0].comparator is not operator.eq:
            return None
        return [*named, (field, {rest[0].right}, None)]
    if len(rest) == 1 and isinstance(rest[0], FunctionOperation):
        (values,) = rest[0].args
        return [*named, (field, set(values), None)]
    if (
        len(rest) == 2
        and isinstance(rest[0], GetAttributeOperation)
        and rest[0].name == "startswith"
        and isinstance(rest[1], CallOperation)
    ):
        return [*named, (field, set(), rest[1].args[0])]
    return None


async def test_every_filter_names_values_its_factory_can_carry(settings, storage) -> None:
    dp = build_dispatcher(settings, storage)
    checked = 0
    for f in _callback_filters(dp):
        if f.rule is None:
            continue
        named = _named(f.rule)
        assert named is not None, f"a rule this test cannot read: {f}"
        for field, values, prefix in named:
            choices = _choices(f.callback_data, field)
            if choices is None:
                # A free field (an invitation's kind, say) has a pattern, not a list.
                assert field != "action", f"{f.callback_data.__name__}.action is not a Literal"
                continue
            assert values <= choices, (f.callback_data.__name__, values - choices)
            if prefix is not None:
                assert any(c.startswith(prefix) for c in choices), (f.callback_data, prefix)
            checked += 1
    # Dozens of buttons are matched by their action; an empty walk would prove nothing.
    assert checked > 50


@pytest.mark.parametrize(
    ("factory", "data"),
    [(CaseCb, "c:destroy:1"), (StaffCb, "sf:invite-owner:0"), (CaseCb, "c:view:-1")],
)
def test_a_forged_value_fails_validation(factory: type[CallbackData], data: str) -> None:
    with pytest.raises(ValidationError):
        factory.unpack(data)
