"""LOG_FORMAT: text lines for a person reading, JSON lines for a collector; in JSON, only
the fixed fields, never what a record carries besides (an `extra` could hold an id)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from bot import logs
from bot.crypto import generate_key
from tests.test_cli import run_cli

FIELDS = {"ts", "level", "logger", "msg"}


@contextlib.contextmanager
def configured(level: str, fmt: logs.Format) -> Iterator[io.StringIO]:
    """logs.configure on a root logger without handlers, writing to a StringIO; the root
    logger and the libraries' levels are as they were afterwards (pytest's handlers too)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    names = (*logs.SILENT, *logs.CHATTY)
    saved_levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    root.handlers = []
    try:
        logs.configure(level, fmt, stream=stream)
        yield stream
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        for name, lvl in saved_levels.items():
            logging.getLogger(name).setLevel(lvl)


def json_lines(stream: io.StringIO) -> list[dict[str, str]]:
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]


def test_json_lines_hold_the_fields():
    with configured("INFO", "json") as stream:
        log = logging.getLogger("bot.some_area")
        log.info("sent %d of %d", 3, 10)
        log.warning("two\nlines")
        log.debug("below the level")
    entries = json_lines(stream)
    assert len(entries) == 2  # the multi-line message is one line too
    for entry in entries:
        assert set(entry) == FIELDS
        assert entry["logger"] == "bot.some_area"
        ts = datetime.fromisoformat(entry["ts"])
        assert ts.utcoffset() == timedelta(0)
    assert [(e["level"], e["msg"]) for e in entries] == [
        ("INFO", "sent 3 of 10"),
        ("WARNING", "two\nlines"),
    ]


def test_json_carries_the_traceback_in_exc():
    with configured("INFO", "json") as stream:
        try:
            raise ValueError("the send failed")
        except ValueError:
            logging.getLogger("bot.delivery").exception("delivery failed")
    (entry,) = json_lines(stream)
    assert set(entry) == FIELDS | {"exc"}
    assert entry["level"] == "ERROR" and entry["msg"] == "delivery failed"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "ValueError: the send failed" in entry["exc"]


def test_json_leaves_out_extra_attributes():
    with configured("INFO", "json") as stream:
        logging.getLogger("bot.x").info(
            "followed", extra={"tg_id": 8_123_456_789, "text": "my secret words"}
        )
    (entry,) = json_lines(stream)
    assert set(entry) == FIELDS
    out = stream.getvalue()
    assert "8123456789" not in out and "secret words" not in out
    assert "tg_id" not in out


def test_json_keeps_the_libraries_quiet():
    with configured("DEBUG", "json") as stream:
        logging.getLogger("sqlalchemy.engine.Engine").info("SELECT secret FROM people")
        logging.getLogger("bot.x").debug("ours at DEBUG")
        assert logging.getLogger("sqlalchemy").level == logging.WARNING
    assert [e["msg"] for e in json_lines(stream)] == ["ours at DEBUG"]


def test_text_format_is_unchanged():
    with configured("INFO", "text") as stream:
        logging.getLogger("bot.x").info("hello %s", "there")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("bot.x").exception("failed")
    lines = stream.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    assert re.fullmatch(rf"{stamp} INFO bot\.x: hello there", lines[0])
    assert re.fullmatch(rf"{stamp} ERROR bot\.x: failed", lines[1])
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"


def test_the_cli_writes_json_lines_with_log_format_json(tmp_path: Path):
    env = {
        "DATA_KEY": generate_key(),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'umid.sqlite3'}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    result = run_cli("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert any(": added " in e["msg"] for e in entries)  # the templates, on a new db
    assert all(set(e) == FIELDS for e in entries)


def test_at_info_an_operator_sees_the_bot_not_every_update_job_or_font():
    with configured("INFO", "text"):
        for name in ("aiogram.event", "apscheduler.scheduler", "fontTools.subset", "alembic"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
        assert logging.getLogger("bot.runner").getEffectiveLevel() == logging.INFO
    with configured("DEBUG", "text"):
        assert logging.getLogger("aiogram.event").getEffectiveLevel() == logging.DEBUG
        assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() == logging.WARNING
