"""Count updates by type and time their handling, for /metrics. The type is all that is
recorded of an update: never who sent it or what it said."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError

from bot.metrics import Metrics


def _kind(event: TelegramObject) -> str:
    try:
        return event.event_type if isinstance(event, Update) else "other"
    except UpdateTypeLookupError:
        return "other"


class UpdateMetrics(BaseMiddleware):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = _kind(event)
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            self.metrics.updates.labels(type=kind).inc()
            self.metrics.handler_seconds.labels(type=kind).observe(time.perf_counter() - started)
