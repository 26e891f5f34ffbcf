"""Run the dispatcher's plain-function filters on the event loop, not in threads.

aiogram cannot know whether a filter written as a plain function blocks, so it runs each
one in the default thread pool (`asyncio.to_thread`). A magic filter (`F.text == ...`)
and a bare `State` are such functions: pure, and a few microseconds long. An update
reaches its handler past dozens of them, and a thread hop for each (a pool hand-off, two
wake-ups of the loop, the GIL changing hands) cost more than the rest of the update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def handlers_of(router: Router) -> Iterator[HandlerObject]:
    """Every handler of the router and its sub-routers, with each observer's own
    (router-level) filters as one more handler, the way aiogram keeps them."""
    for each in _routers(router):
        for observer in each.observers.values():
            # Router-level filters (`router.message.filter(...)`) live in the observer's
            # own handler; aiogram has no public accessor for it.
            own: HandlerObject | None = getattr(observer, "_handler", None)
            if own is not None:
                yield own
            yield from observer.handlers


def _inline(function: Callable[..., Any]) -> Callable[..., Any]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return run


def run_filters_inline(router: Router) -> None:
    """Make every synchronous filter under `router` run on the loop."""
    for handler in handlers_of(router):
        for item in handler.filters or ():
            if isinstance(item, FilterObject) and not item.awaitable:
                item.callback = _inline(item.callback)
                item.awaitable = True
