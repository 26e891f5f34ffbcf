import re

import pytest

from config import ConfigError, load_settings
from tests.conftest import ROOT


def test_defaults_need_nothing(monkeypatch):
    for var in ("DATABASE_URL", "TELEGRAM_API_URL", "FALLBACK_LOCALES"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings(_env_file=None)
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.telegram_api_url == "https://api.telegram.org"
    assert s.fallback_locales == ["ru", "en"]


@pytest.mark.parametrize(
    ("field", "value", "name"),
    [
        ("bot_token", "not-a-token", "BOT_TOKEN"),
        ("data_key", "tooshort", "DATA_KEY"),
        ("data_key", "A" * 43, "DATA_KEY"),  # all zeros
        ("data_key", "!" + "b" * 42, "DATA_KEY"),  # outside url-safe base64
        ("admin_ids", "12,abc", "ADMIN_IDS"),
        ("database_url", "mysql://x", "DATABASE_URL"),
        ("telegram_api_url", "ftp://x", "TELEGRAM_API_URL"),
        ("log_level", "LOUD", "LOG_LEVEL"),
        ("fallback_locales", "ru,xx", "FALLBACK_LOCALES"),
        ("default_locale", "fr", "DEFAULT_LOCALE"),
        ("webhook_secret", "has spaces in it", "WEBHOOK_SECRET"),
        ("webhook_secret", "секрет", "WEBHOOK_SECRET"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(field, value, name):
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **{field: value})
    message = str(err.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("ADMIN_IDS", "1, 2,3")
    monkeypatch.setenv("FALLBACK_LOCALES", "kk,ru")
    s = load_settings(_env_file=None)
    assert s.admin_ids == [1, 2, 3]
    assert s.fallback_locales == ["kk", "ru"]


def test_missing_token_and_key_say_what_to_do(monkeypatch):
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.delenv("DATA_KEY", raising=False)
    s = load_settings(_env_file=None)
    with pytest.raises(ConfigError, match=r"BOT_TOKEN is not set.*@BotFather"):
        _ = s.token
    with pytest.raises(ConfigError, match="keys generate"):
        _ = s.key_bytes


def test_a_webhook_without_its_secret_stops_at_once():
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, webhook_url="https://bot.example.org", webhook_secret="")
    assert str(err.value).startswith("WEBHOOK_SECRET: must be set when WEBHOOK_URL is set")
    fine = load_settings(
        _env_file=None, webhook_url="https://bot.example.org", webhook_secret="a-Good_secret9"
    )
    assert fine.webhook_secret is not None


def test_env_example_names_every_setting():
    from config.settings import Settings

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"(?m)^#?\s*([A-Z][A-Z0-9_]+)=", example))
    assert {field.upper() for field in Settings.model_fields} - named == set()
