"""Logging that holds nothing personal, at any level.

Database drivers and SQLAlchemy log every statement, and at DEBUG its values: who joined
which family, who followed whom and when. Logs outlive /forget, so those loggers never go
below WARNING, whatever LOG_LEVEL says.
"""

from __future__ import annotations

import logging

# Never below WARNING: SQL text and values.
SILENT = ("sqlalchemy", "aiosqlite", "asyncpg")
# Chatty at INFO: alembic on every start, APScheduler on every run of the jobs (the
# broadcasts job runs every five seconds).
CHATTY = ("alembic", "apscheduler.executors.default")


def configure(level: str | int) -> None:
    """The process's logging: one line per record, and the libraries above kept quiet."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_libraries()


def quiet_libraries() -> None:
    """Hold the libraries that would log SQL (and the chatty ones) at WARNING or above."""
    floor = max(logging.WARNING, logging.root.level)
    for name in (*SILENT, *CHATTY):
        logging.getLogger(name).setLevel(floor)
