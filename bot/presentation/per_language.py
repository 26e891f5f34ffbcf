"""Keyboards that depend on nothing but the reader's language, built once per language.

Each button is a pydantic model validated as it is made, and so is the markup around
them: the menu's eight buttons cost a light screen such as /start or /help more CPU than
the rest of its answer. A keyboard made from gettext's labels and fixed callback data
is the same for every reader of a language, and nothing changes a markup once made, so
one copy serves them all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import ParamSpec, TypeVar

from aiogram.utils.i18n import I18n

P = ParamSpec("P")
T = TypeVar("T")


def per_language(make: Callable[P, T]) -> Callable[P, T]:
    """`make`, called once per language of the current update (and per its arguments,
    which must be few and hashable); outside an update's language it is simply called."""
    made: dict[tuple[str, tuple[Hashable, ...], tuple[tuple[str, Hashable], ...]], T] = {}

    @functools.wraps(make)
    def kept(*args: P.args, **kwargs: P.kwargs) -> T:
        i18n = I18n.get_current(no_error=True)
        if i18n is None:
            return make(*args, **kwargs)
        key = (i18n.current_locale, tuple(args), tuple(sorted(kwargs.items())))
        if key not in made:
            made[key] = make(*args, **kwargs)
        return made[key]

    return kept
