"""Settings from the environment (and a .env file), validated once at start-up."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import re
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES: tuple[str, ...] = ("en", "ru", "kk", "ky", "tg", "tk", "uz", "uz_Cyrl")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/umid.sqlite3"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable in one line."""


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def decode_data_key(raw: str) -> bytes:
    """Decode a DATA_KEY (url-safe base64 of 32 random bytes) or raise ValueError."""
    text = raw.strip()
    # The decoder itself would skip characters outside the alphabet: a mistyped key could
    # still decode to 32 bytes.
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text):
        raise ValueError("must be url-safe base64 (run: python -m bot keys generate)")
    try:
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be url-safe base64 (run: python -m bot keys generate)") from exc
    if len(key) != 32:
        raise ValueError("must decode to 32 bytes (run: python -m bot keys generate)")
    if key == bytes(32):
        raise ValueError("must be random, not all zeros (run: python -m bot keys generate)")
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = DEFAULT_DATABASE_URL
    # Connections each process keeps open to PostgreSQL; with several instances, their
    # sum must stay under the server's max_connections. SQLite keeps its own four. At
    # least 5: starting takes three at once (the migration lock, the migration, the key
    # check) and the scheduler's leader keeps one.
    database_pool_size: int = Field(default=15, ge=5, le=200)
    redis_url: str | None = None
    data_key: SecretStr | None = None
    # Only while rotating: `python -m bot keys rotate` moves everything to this key.
    new_data_key: SecretStr | None = None
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    # "text": one line per record for a person reading; "json": JSON lines for a collector.
    log_format: Literal["text", "json"] = "text"
    default_locale: str = "en"
    fallback_locales: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["ru", "en"])
    webhook_url: str | None = None
    # Checked as settings load, with WEBHOOK_URL: not after the bot's startup work.
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # /healthz, /readyz and /metrics: on the webhook server's port in webhook mode; in
    # polling mode (and for `python -m bot worker`) on this port of their own, 0 for none.
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=0, ge=0, le=65535)
    # Only this instance calls setWebhook at start; the others serve the same URL behind
    # the proxy. None of them deletes the webhook when it stops.
    webhook_register: bool = True
    delivery_rate: float = Field(default=30.0, gt=0, le=1000)
    paid_broadcasts: bool = False
    paid_delivery_rate: float = Field(default=1000.0, gt=0, le=1000)
    # The send budget (bot/pacing): after a short burst, one message per interval in a
    # chat; a reply that finds no slot within the deadline is logged and counted as lost;
    # while Redis is away, replies are paced by each process alone at the fallback rate.
    # The margin keeps the pace that much under the rate (0.01: 1%), so that requests
    # arriving unevenly cannot exceed Telegram's limit in any one second.
    send_margin: float = Field(default=0.01, ge=0, le=1)
    chat_send_interval: float = Field(default=1.0, gt=0, le=60)
    chat_send_burst: int = Field(default=3, ge=1, le=20)
    reply_deadline_seconds: float = Field(default=60.0, gt=0, le=600)
    send_fallback_rate: float = Field(default=8.0, gt=0, le=1000)
    reminder_leads: str = "24h,2h"
    # A broadcast to all supporters, or to more people than this, needs a second staff
    # member's approval before it goes out.
    broadcast_approval_threshold: int = Field(default=1000, ge=1)
    delivery_lease_seconds: int = Field(default=120, ge=1)
    inactive_retention_days: int = Field(default=180, ge=1)
    outbox_retention_days: int = Field(default=30, ge=1)
    throttle_rate: float = Field(default=2.0, gt=0)
    throttle_burst: int = Field(default=8, ge=1)

    @field_validator("bot_token", "redis_url", "webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            left, sep, right = value.get_secret_value().partition(":")
            if not (sep and left.isdigit() and right):
                raise ValueError("must look like 123456:ABC... as given by @BotFather")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError(
                    "must be set when WEBHOOK_URL is set: 1 to 256 characters A-Z a-z 0-9 _ -"
                )
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError(
                "must be 1 to 256 characters, only A-Z a-z 0-9 _ and - (Telegram's rule)"
            )
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _db_shape(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be sqlite+aiosqlite:///PATH or postgresql+asyncpg://...")
        return value

    @field_validator("data_key", "new_data_key")
    @classmethod
    def _key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip():
            decode_data_key(value.get_secret_value())
            return value
        return None

    @field_validator("admin_ids", "fallback_locales", mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("reminder_leads")
    @classmethod
    def _leads(cls, value: str) -> str:
        for part in filter(None, (p.strip().lower() for p in value.split(","))):
            if part[-1:] not in {"d", "h", "m"} or not part[:-1].replace(".", "", 1).isdigit():
                raise ValueError("must be like 24h,2h (units d, h, m)")
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("fallback_locales")
    @classmethod
    def _locales(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SUPPORTED_LOCALES]
        if unknown:
            raise ValueError(f"unknown locale {unknown[0]!r}; use {', '.join(SUPPORTED_LOCALES)}")
        return value

    @property
    def key_bytes(self) -> bytes:
        """The decoded DATA_KEY; ConfigError when it is not set."""
        if self.data_key is None:
            raise ConfigError(
                "DATA_KEY is not set: run `python -m bot keys generate` and put the "
                "result in .env as DATA_KEY=..."
            )
        return decode_data_key(self.data_key.get_secret_value())

    @property
    def new_key_bytes(self) -> bytes:
        """The decoded NEW_DATA_KEY; ConfigError when it is not set."""
        if self.new_data_key is None:
            raise ConfigError(
                "NEW_DATA_KEY is not set: run `python -m bot keys generate` and give the "
                "result as NEW_DATA_KEY=... to `python -m bot keys rotate`"
            )
        return decode_data_key(self.new_data_key.get_secret_value())

    @property
    def delivery_lease(self) -> dt.timedelta:
        """How long a worker holds the deliveries it claimed (DELIVERY_LEASE_SECONDS)."""
        return dt.timedelta(seconds=self.delivery_lease_seconds)

    @property
    def token(self) -> str:
        """The bot token; ConfigError that says what to do when it is missing."""
        if self.bot_token is None:
            raise ConfigError(
                "BOT_TOKEN is not set: create a bot with @BotFather in Telegram, then put "
                "BOT_TOKEN=123456:ABC... in .env (see .env.example) and run again"
            )
        return self.bot_token.get_secret_value()


def load_settings(**overrides: Any) -> Settings:
    """Read settings; any invalid variable becomes a one-line ConfigError naming it."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {msg}") from None
