"""One send budget per bot token, for replies and the outbox alike (see gcra.py)."""

from __future__ import annotations

from bot.crypto import IdentityCipher
from bot.pacing.budget import BudgetStats, LocalBudget, ReplyLost, SendBudget
from bot.pacing.gcra import Lane, Limits
from bot.pacing.middleware import PacedRequests, departure_trace, prepaced
from config import Settings

__all__ = [
    "BudgetStats",
    "Lane",
    "Limits",
    "LocalBudget",
    "PacedRequests",
    "ReplyLost",
    "SendBudget",
    "build_budget",
    "departure_trace",
    "prepaced",
]


def limits_from(settings: Settings) -> Limits:
    return Limits(
        rate=settings.delivery_rate,
        paid_rate=(
            settings.paid_delivery_rate if settings.paid_broadcasts else settings.delivery_rate
        ),
        chat_interval=settings.chat_send_interval,
        chat_burst=settings.chat_send_burst,
        margin=settings.send_margin,
    )


def build_budget(settings: Settings) -> SendBudget:
    """In this process's memory; in Redis, shared, when REDIS_URL is set."""
    limits = limits_from(settings)
    if not settings.redis_url:
        return LocalBudget(limits)
    from redis.asyncio import Redis

    from bot.pacing.redis_budget import RedisBudget

    cipher = IdentityCipher(settings.key_bytes)
    redis = Redis.from_url(settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return RedisBudget(
        redis,
        limits,
        bot_id=int(settings.token.split(":", 1)[0]),
        chat_key=lambda chat: cipher.index(chat).hex()[:20],
        fallback_rate=settings.send_fallback_rate,
    )
