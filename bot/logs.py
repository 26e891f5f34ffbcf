"""Logging that holds nothing personal, at any level.

Database drivers and SQLAlchemy log every statement, and at DEBUG its values: who joined
which family, who followed whom and when. Logs outlive /forget, so those loggers never go
below WARNING, whatever LOG_LEVEL says.

LOG_FORMAT=json writes one JSON object a line for a log collector, with a fixed set of
fields. Nothing else of the record goes in: `extra={...}` attributes, and whatever a
library hangs on its records, could carry an id or a message's text.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, Literal

# Never below WARNING: SQL text and values.
SILENT = ("sqlalchemy", "aiosqlite", "asyncpg")
# Chatty at INFO: alembic on every start, APScheduler on every job it adds and every
# run (the broadcasts job runs every five seconds), aiogram on every update, fontTools
# about seventy lines for every letter PDF. An operator's INFO is the bot's own: that it
# started, where, and what went wrong.
CHATTY = ("alembic", "apscheduler", "aiogram.event", "fontTools")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

Format = Literal["text", "json"]


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (ISO 8601, UTC), level, logger, msg, and exc when the
    record carries a traceback. Only these: never the record's other attributes."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        traces = []
        if record.exc_info:
            traces.append(self.formatException(record.exc_info))
        elif record.exc_text:
            traces.append(record.exc_text)
        if record.stack_info:
            traces.append(self.formatStack(record.stack_info))
        if traces:
            entry["exc"] = "\n".join(traces)
        # json.dumps escapes newlines: a multi-line message or traceback stays one line.
        return json.dumps(entry, ensure_ascii=False)


def formatter(fmt: Format = "text") -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str | int, fmt: Format = "text", stream: IO[str] | None = None) -> None:
    """The process's logging: one line per record (text, or JSON lines) on standard error
    (or `stream`), and the libraries above kept quiet. Like logging.basicConfig, leaves a
    root logger that already has handlers as it is."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
    quiet_libraries()


def quiet_libraries() -> None:
    """Hold the libraries that would log SQL at WARNING or above, and the chatty ones too
    unless DEBUG was asked for."""
    floor = max(logging.WARNING, logging.root.level)
    for name in SILENT:
        logging.getLogger(name).setLevel(floor)
    chatty = floor if logging.root.level >= logging.INFO else logging.root.level
    for name in CHATTY:
        logging.getLogger(name).setLevel(chatty)
